//! Sign-in with OpenID Connect: the authorization-code flow with PKCE,
//! `state` and `nonce`, on the `openidconnect` crate.
//!
//! [`SignIn::begin`] makes the provider's authorization URL and remembers,
//! under its `state`, what the callback will need (the PKCE verifier, the
//! nonce, where to land, and a random binding the browser holds in a
//! cookie). [`SignIn::finish`] takes that record back exactly once, checks
//! the binding, exchanges the code, and verifies the ID token: its
//! signature against the provider's JWKS, its issuer, audience, expiry and
//! nonce. A token signed with a key the cached JWKS lacks makes the JWKS be
//! fetched again (at most once every [`JWKS_REFRESH_EVERY`]; concurrent
//! sign-ins share one fetch), so a provider's key rotation needs no restart.
//!
//! Which catalog User a verified sign-in is, is the server's business (it
//! has the catalog): this module answers with the claims.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
};
use portal_config::{ProviderConfig, SignInRule};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a started sign-in may take before its callback is refused.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(600);
/// Sign-ins waiting for their callback, at most (the oldest is dropped):
/// a flood of `start` requests costs bounded memory.
const MAX_PENDING: usize = 10_000;
/// The JWKS is fetched again for an unknown key at most this often (a
/// sign-in that needs it sooner waits for it).
pub const JWKS_REFRESH_EVERY: Duration = Duration::from_secs(1);
/// Discovery is retried after a failure at most this often.
const DISCOVERY_RETRY: Duration = Duration::from_secs(5);
/// The signature algorithms an ID token may use. Symmetric ones (keyed by
/// the client secret) are not accepted, nor `none`.
const ALGORITHMS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// A provider's configuration that cannot be used (the message names it).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// A client as discovery makes it: an authorization endpoint, a token
/// endpoint if the provider has one.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in failed. The messages are shown to the person signing in:
/// they name the cause and never carry a token or a secret.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("there is no sign-in provider `{0}`")]
    UnknownProvider(String),
    #[error(
        "the page to return to must be a path on this portal (starting with one `/`), not `{0}`"
    )]
    BadRedirect(String),
    #[error("cannot reach the sign-in provider `{provider}` at {issuer}: {reason}")]
    Discovery {
        provider: String,
        issuer: String,
        reason: String,
    },
    #[error(
        "this sign-in was not started here, was already used, or took longer than 10 minutes: start again"
    )]
    UnknownState,
    #[error("this sign-in was started in another browser: start again")]
    WrongBrowser,
    #[error("the sign-in provider refused: {0}")]
    Provider(String),
    #[error("the sign-in provider's token endpoint failed: {0}")]
    TokenExchange(String),
    #[error("the sign-in provider sent no ID token")]
    NoIdToken,
    #[error("the ID token was refused: {0}")]
    InvalidIdToken(String),
}

/// A verified sign-in: who the provider says this is.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Every claim of the ID token (verified), for the sign-in rule and the
    /// policy's `claim` conditions.
    pub claims: BTreeMap<String, Value>,
    /// Where to land afterwards (a local path).
    pub redirect: String,
}

impl Verified {
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// A started sign-in, waiting for its callback.
struct Pending {
    provider: String,
    verifier: PkceCodeVerifier,
    nonce: Nonce,
    redirect: String,
    /// The value of the browser's binding cookie.
    binding: String,
    started: Instant,
}

/// What [`SignIn::begin`] gives the server: where to send the browser, and
/// the binding cookie to set.
pub struct Started {
    pub authorize_url: String,
    pub binding: String,
}

/// One configured provider.
pub struct Provider {
    pub id: String,
    pub title: String,
    pub sign_in: SignInRule,
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    scopes: Vec<String>,
    redirect: RedirectUrl,
    /// Discovered on first use (a provider that is down at start does not
    /// stop the portal), with its JWKS.
    metadata: tokio::sync::Mutex<Discovered>,
}

#[derive(Default)]
struct Discovered {
    metadata: Option<Arc<CoreProviderMetadata>>,
    jwks_fetched: Option<Instant>,
    failed: Option<(Instant, String)>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("id", &self.id)
            .field("issuer", &self.issuer.as_str())
            .finish_non_exhaustive()
    }
}

/// The sign-in providers and the sign-ins under way.
pub struct SignIn {
    providers: Vec<Provider>,
    pending: Mutex<HashMap<String, Pending>>,
    http: reqwest::Client,
}

/// The path a provider sends the browser back to, under the portal's URL.
pub fn callback_path(provider: &str) -> String {
    format!("/api/auth/{provider}/callback")
}

impl SignIn {
    /// The configured providers (their secrets read now). `base_url` is the
    /// portal's public URL, for the callback address.
    pub fn new(configs: &[ProviderConfig], base_url: &str) -> Result<SignIn, ConfigError> {
        let base = base_url.trim_end_matches('/');
        let providers = configs
            .iter()
            .map(|c| {
                let secret = c
                    .client_secret
                    .read()
                    .map_err(|e| ConfigError(format!("auth.providers `{}`: {e}", c.id)))?;
                let redirect = RedirectUrl::new(format!("{base}{}", callback_path(&c.id)))
                    .map_err(|e| ConfigError(format!("server.base_url: {e}")))?;
                let issuer = IssuerUrl::new(c.issuer.clone())
                    .map_err(|e| ConfigError(format!("auth.providers `{}`: issuer: {e}", c.id)))?;
                Ok(Provider {
                    id: c.id.clone(),
                    title: c.title.clone().unwrap_or_else(|| c.id.clone()),
                    sign_in: c.sign_in.clone(),
                    issuer,
                    client_id: ClientId::new(c.client_id.clone()),
                    client_secret: ClientSecret::new(secret),
                    scopes: c.scopes.clone(),
                    redirect,
                    metadata: tokio::sync::Mutex::new(Discovered::default()),
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let http = reqwest::Client::builder()
            // A provider's redirect is not followed (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ConfigError(format!("cannot make an HTTP client: {e}")))?;
        Ok(SignIn {
            providers,
            pending: Mutex::new(HashMap::new()),
            http,
        })
    }

    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// A provider by id, discovered, with its client.
    async fn ready(
        &self,
        id: &str,
    ) -> Result<(&Provider, Arc<CoreProviderMetadata>, Client), SignInError> {
        let provider = self
            .provider(id)
            .ok_or_else(|| SignInError::UnknownProvider(id.to_owned()))?;
        let metadata = provider.discover(&self.http).await?;
        let client = CoreClient::from_provider_metadata(
            (*metadata).clone(),
            provider.client_id.clone(),
            Some(provider.client_secret.clone()),
        )
        .set_redirect_uri(provider.redirect.clone());
        Ok((provider, metadata, client))
    }

    /// Starts a sign-in with `provider` that lands on `redirect` (a local
    /// path: anything else is refused, so the portal cannot be made to send
    /// a signed-in user to another site).
    pub async fn begin(&self, provider: &str, redirect: &str) -> Result<Started, SignInError> {
        let redirect = local_redirect(redirect)?;
        let (provider, _, client) = self.ready(provider).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in provider.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let binding = random_token();
        let mut pending = self.pending.lock().unwrap();
        pending.retain(|_, p| p.started.elapsed() < SIGN_IN_TIMEOUT);
        if pending.len() >= MAX_PENDING
            && let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone())
        {
            pending.remove(&oldest);
        }
        pending.insert(
            state.secret().clone(),
            Pending {
                provider: provider.id.clone(),
                verifier,
                nonce,
                redirect,
                binding: binding.clone(),
                started: Instant::now(),
            },
        );
        Ok(Started {
            authorize_url: url.to_string(),
            binding,
        })
    }

    /// Completes a sign-in from the provider's callback: `state` and `code`
    /// (or `error`) from its query, `binding` from the browser's cookie.
    /// A state is taken once: a replayed callback is refused.
    pub async fn finish(
        &self,
        provider: &str,
        state: &str,
        code: Option<&str>,
        error: Option<&str>,
        binding: Option<&str>,
    ) -> Result<Verified, SignInError> {
        let pending = self
            .pending
            .lock()
            .unwrap()
            .remove(state)
            .filter(|p| p.provider == provider && p.started.elapsed() < SIGN_IN_TIMEOUT)
            .ok_or(SignInError::UnknownState)?;
        let same_browser = binding.is_some_and(|b| {
            subtle::ConstantTimeEq::ct_eq(b.as_bytes(), pending.binding.as_bytes()).into()
        });
        if !same_browser {
            return Err(SignInError::WrongBrowser);
        }
        if let Some(error) = error {
            return Err(SignInError::Provider(clip(error)));
        }
        let code = code.ok_or_else(|| SignInError::Provider("no code in the callback".into()))?;
        let (provider, metadata, client) = self.ready(provider).await?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SignInError::TokenExchange(e.to_string()))?
            .set_pkce_verifier(pending.verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| SignInError::TokenExchange(describe_token_error(&e)))?;
        let id_token = token.id_token().ok_or(SignInError::NoIdToken)?.to_string();
        let claims = provider
            .verify(&self.http, metadata, &id_token, &pending.nonce)
            .await?;
        Ok(Verified {
            claims,
            redirect: pending.redirect,
        })
    }
}

impl Provider {
    /// The provider's metadata and keys, discovered once.
    async fn discover(
        &self,
        http: &reqwest::Client,
    ) -> Result<Arc<CoreProviderMetadata>, SignInError> {
        let mut discovered = self.metadata.lock().await;
        if let Some(metadata) = &discovered.metadata {
            return Ok(metadata.clone());
        }
        if let Some((when, reason)) = &discovered.failed
            && when.elapsed() < DISCOVERY_RETRY
        {
            return Err(self.discovery_error(reason.clone()));
        }
        match CoreProviderMetadata::discover_async(self.issuer.clone(), http).await {
            Ok(metadata) => {
                let metadata = Arc::new(metadata);
                discovered.metadata = Some(metadata.clone());
                discovered.jwks_fetched = Some(Instant::now());
                discovered.failed = None;
                tracing::info!(provider = %self.id, issuer = %self.issuer.as_str(), "sign-in provider discovered");
                Ok(metadata)
            }
            Err(e) => {
                let reason = error_chain(&e);
                tracing::warn!(provider = %self.id, issuer = %self.issuer.as_str(), "sign-in provider discovery failed: {reason}");
                discovered.failed = Some((Instant::now(), reason.clone()));
                Err(self.discovery_error(reason))
            }
        }
    }

    fn discovery_error(&self, reason: String) -> SignInError {
        SignInError::Discovery {
            provider: self.id.clone(),
            issuer: self.issuer.to_string(),
            reason,
        }
    }

    /// Verifies an ID token; on a key the JWKS lacks, fetches the JWKS
    /// again (rate-limited) and tries once more.
    async fn verify(
        &self,
        http: &reqwest::Client,
        metadata: Arc<CoreProviderMetadata>,
        id_token: &str,
        nonce: &Nonce,
    ) -> Result<BTreeMap<String, Value>, SignInError> {
        match verify_id_token(&metadata, &self.client_id, id_token, nonce) {
            Err(VerifyError::UnknownKey) => {}
            other => return other.map_err(VerifyError::into_sign_in),
        }
        let refreshed = {
            let mut discovered = self.metadata.lock().await;
            let current = discovered.metadata.clone().unwrap_or(metadata.clone());
            // Another sign-in fetched the keys meanwhile: use those.
            let stale = Arc::ptr_eq(&current, &metadata);
            if stale {
                if let Some(last) = discovered.jwks_fetched {
                    tokio::time::sleep(JWKS_REFRESH_EVERY.saturating_sub(last.elapsed())).await;
                }
                discovered.jwks_fetched = Some(Instant::now());
                match CoreJsonWebKeySet::fetch_async(current.jwks_uri(), http).await {
                    Ok(jwks) => {
                        tracing::info!(provider = %self.id, "sign-in provider's keys fetched again (an unknown key was used)");
                        let updated = Arc::new((*current).clone().set_jwks(jwks));
                        discovered.metadata = Some(updated.clone());
                        updated
                    }
                    Err(e) => {
                        return Err(SignInError::InvalidIdToken(format!(
                            "signed with a key the provider's JWKS lacks, and the JWKS could not be fetched again: {}",
                            error_chain(&e)
                        )));
                    }
                }
            } else {
                current
            }
        };
        verify_id_token(&refreshed, &self.client_id, id_token, nonce)
            .map_err(VerifyError::into_sign_in)
    }
}

/// Why an ID token was refused.
#[derive(Debug)]
pub enum VerifyError {
    /// Signed with a key (`kid`) the JWKS does not have.
    UnknownKey,
    Invalid(String),
}

impl VerifyError {
    fn into_sign_in(self) -> SignInError {
        match self {
            VerifyError::UnknownKey => SignInError::InvalidIdToken(
                "signed with a key the provider does not publish".into(),
            ),
            VerifyError::Invalid(reason) => SignInError::InvalidIdToken(reason),
        }
    }
}

/// Checks an ID token against the provider's metadata (issuer, JWKS) and
/// this client: signature (asymmetric algorithms only), issuer, audience,
/// expiry, issue time and nonce. Answers every claim of the payload.
pub fn verify_id_token(
    metadata: &CoreProviderMetadata,
    client_id: &ClientId,
    id_token: &str,
    nonce: &Nonce,
) -> Result<BTreeMap<String, Value>, VerifyError> {
    let token: openidconnect::core::CoreIdToken = id_token
        .parse()
        .map_err(|e| VerifyError::Invalid(format!("not a signed JWT: {e}")))?;
    let verifier = openidconnect::core::CoreIdTokenVerifier::new_public_client(
        client_id.clone(),
        metadata.issuer().clone(),
        metadata.jwks().clone(),
    )
    .set_allowed_algs(ALGORITHMS);
    match token.claims(&verifier, nonce) {
        Ok(_) => {}
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => return Err(VerifyError::UnknownKey),
        Err(e) => return Err(VerifyError::Invalid(error_chain(&e))),
    }
    // The signature holds: the payload's claims, all of them.
    let payload = id_token
        .split('.')
        .nth(1)
        .and_then(|p| B64.decode(p).ok())
        .and_then(|p| serde_json::from_slice::<BTreeMap<String, Value>>(&p).ok())
        .ok_or_else(|| VerifyError::Invalid("its payload is not a JSON object".into()))?;
    Ok(payload)
}

/// A redirect target that stays on this portal: a path with one leading
/// `/` (not `//host`, not `/\host`, which browsers read as another host),
/// no scheme, no control characters. An empty one is `/`.
pub fn local_redirect(redirect: &str) -> Result<String, SignInError> {
    if redirect.is_empty() {
        return Ok("/".to_owned());
    }
    let bad = || SignInError::BadRedirect(clip(redirect));
    if redirect.len() > 2048
        || !redirect.starts_with('/')
        || redirect.starts_with("//")
        || redirect.starts_with("/\\")
        || redirect.chars().any(|c| c.is_control() || c == '\\')
    {
        return Err(bad());
    }
    Ok(redirect.to_owned())
}

/// 32 random bytes, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random number generator works");
    B64.encode(bytes)
}

fn clip(text: &str) -> String {
    let clipped: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if clipped.len() < text.len() {
        format!("{clipped}…")
    } else {
        clipped
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A token endpoint's error, without its body (which may echo secrets).
fn describe_token_error<RE: std::error::Error + 'static, T: openidconnect::ErrorResponse>(
    e: &openidconnect::RequestTokenError<RE, T>,
) -> String {
    match e {
        openidconnect::RequestTokenError::ServerResponse(response) => clip(&response.to_string()),
        openidconnect::RequestTokenError::Request(e) => error_chain(e),
        openidconnect::RequestTokenError::Parse(e, _) => format!("an unreadable answer: {e}"),
        openidconnect::RequestTokenError::Other(e) => clip(e),
    }
}

#[cfg(test)]
mod tests {
    //! Forged and altered ID tokens, each refused by the same function the
    //! callback uses. Tokens are signed here with test keys; the "provider"
    //! publishes key 1 only.
    use super::*;
    use openidconnect::core::{
        CoreHmacKey, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKey, CoreResponseType,
        CoreRsaPrivateSigningKey, CoreSubjectIdentifierType,
    };
    use openidconnect::{
        Audience, AuthUrl, EmptyAdditionalClaims, EmptyAdditionalProviderMetadata, IssuerUrl,
        JsonWebKeyId, JsonWebKeySetUrl, PrivateSigningKey, ResponseTypes, StandardClaims,
        SubjectIdentifier,
    };

    const ISSUER: &str = "https://sso.acme.example";
    const CLIENT: &str = "portal";

    fn key(n: u8, kid: &str) -> CoreRsaPrivateSigningKey {
        let pem = match n {
            1 => include_str!("testdata/test-key-1.pem"),
            _ => include_str!("testdata/test-key-2.pem"),
        };
        CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.into()))).unwrap()
    }

    fn metadata(published: Vec<CoreJsonWebKey>) -> CoreProviderMetadata {
        CoreProviderMetadata::new(
            IssuerUrl::new(ISSUER.into()).unwrap(),
            AuthUrl::new(format!("{ISSUER}/auth")).unwrap(),
            JsonWebKeySetUrl::new(format!("{ISSUER}/jwks")).unwrap(),
            vec![ResponseTypes::new(vec![CoreResponseType::Code])],
            vec![CoreSubjectIdentifierType::Public],
            vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            EmptyAdditionalProviderMetadata {},
        )
        .set_jwks(CoreJsonWebKeySet::new(published))
    }

    struct Claims {
        issuer: &'static str,
        audience: &'static str,
        expires_in: i64,
        nonce: Option<&'static str>,
    }

    const GOOD: Claims = Claims {
        issuer: ISSUER,
        audience: CLIENT,
        expires_in: 300,
        nonce: Some("the-nonce"),
    };

    fn claims(c: &Claims) -> CoreIdTokenClaims {
        let now = chrono::Utc::now();
        CoreIdTokenClaims::new(
            IssuerUrl::new(c.issuer.into()).unwrap(),
            vec![Audience::new(c.audience.into())],
            now + chrono::Duration::seconds(c.expires_in),
            now - chrono::Duration::seconds(600),
            StandardClaims::new(SubjectIdentifier::new("jane".into())),
            EmptyAdditionalClaims {},
        )
        .set_nonce(c.nonce.map(|n| Nonce::new(n.into())))
    }

    fn sign(c: &Claims, key: &CoreRsaPrivateSigningKey) -> String {
        CoreIdToken::new(
            claims(c),
            key,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            None,
            None,
        )
        .unwrap()
        .to_string()
    }

    fn verify(
        published: &CoreProviderMetadata,
        token: &str,
    ) -> Result<BTreeMap<String, Value>, VerifyError> {
        verify_id_token(
            published,
            &ClientId::new(CLIENT.into()),
            token,
            &Nonce::new("the-nonce".into()),
        )
    }

    fn refused(result: Result<BTreeMap<String, Value>, VerifyError>, why: &str) -> String {
        match result {
            Ok(claims) => panic!("{why}: accepted, with {claims:?}"),
            Err(VerifyError::UnknownKey) => "unknown key".into(),
            Err(VerifyError::Invalid(reason)) => reason,
        }
    }

    #[test]
    fn genuine_tokens_pass_and_forged_ones_are_refused() {
        let provider_key = key(1, "k1");
        let published = metadata(vec![provider_key.as_verification_key()]);

        let claims = verify(&published, &sign(&GOOD, &provider_key)).unwrap();
        assert_eq!(claims["sub"], "jane");
        assert_eq!(claims["iss"], ISSUER);

        // Another key claiming the provider's key id: a wrong signature.
        let reason = refused(
            verify(&published, &sign(&GOOD, &key(2, "k1"))),
            "wrong signature",
        );
        assert!(reason.to_lowercase().contains("signature"), "{reason}");

        // A key the provider does not publish: fetched again, then refused.
        assert!(matches!(
            verify(&published, &sign(&GOOD, &key(2, "k2"))),
            Err(VerifyError::UnknownKey)
        ));

        // One altered byte of the payload.
        let token = sign(&GOOD, &provider_key);
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload: Value = serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
        payload["sub"] = "admin".into();
        parts[1] = B64.encode(serde_json::to_vec(&payload).unwrap());
        let reason = refused(verify(&published, &parts.join(".")), "altered payload");
        assert!(reason.contains("bad signature"), "{reason}");

        // `alg: none`, with and without a signature part.
        let none_header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        for unsigned in [
            format!("{none_header}.{}.", parts[1]),
            format!("{none_header}.{}", parts[1]),
        ] {
            let reason = refused(verify(&published, &unsigned), "alg none");
            assert!(
                reason.contains("No signature") || reason.contains("parts"),
                "{reason}"
            );
        }

        // HS256 keyed by the client secret: a symmetric algorithm, refused.
        let hmac = CoreIdToken::new(
            self::claims(&GOOD),
            &CoreHmacKey::new(b"portal-secret".to_vec()),
            CoreJwsSigningAlgorithm::HmacSha256,
            None,
            None,
        )
        .unwrap()
        .to_string();
        let reason = refused(verify(&published, &hmac), "HS256");
        assert!(
            reason.contains("Disallowed signature algorithm"),
            "{reason}"
        );

        for (claims, why) in [
            (
                Claims {
                    audience: "another-client",
                    ..GOOD
                },
                "audiences: must contain `portal`",
            ),
            (
                Claims {
                    issuer: "https://evil.example",
                    ..GOOD
                },
                "Invalid issuer",
            ),
            (
                Claims {
                    expires_in: -600,
                    ..GOOD
                },
                "ID token expired",
            ),
            (
                Claims {
                    nonce: None,
                    ..GOOD
                },
                "missing nonce claim",
            ),
            (
                Claims {
                    nonce: Some("another-nonce"),
                    ..GOOD
                },
                "nonce mismatch",
            ),
        ] {
            let reason = refused(verify(&published, &sign(&claims, &provider_key)), why);
            assert!(reason.contains(why), "expected `{why}`: {reason}");
        }

        refused(verify(&published, "not a token"), "garbage");
        refused(verify(&published, ""), "empty");
    }

    #[test]
    fn redirects_stay_on_the_portal() {
        assert_eq!(local_redirect("").unwrap(), "/");
        for ok in [
            "/",
            "/catalog?kind=api",
            "/docs/default/component/x/guide/#setup",
        ] {
            assert_eq!(local_redirect(ok).unwrap(), ok);
        }
        for evil in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/ok\\..\\evil",
            "javascript:alert(1)",
            "evil.example",
            "/\r\nSet-Cookie: x=y",
            "/\tx",
        ] {
            assert!(local_redirect(evil).is_err(), "{evil:?}");
        }
        assert!(local_redirect(&format!("/{}", "a".repeat(3000))).is_err());
    }
}
