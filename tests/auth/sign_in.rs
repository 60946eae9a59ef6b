//! Sign-in with OpenID Connect against a real provider (`oidc-provider`
//! from npm, on 127.0.0.1): the whole flow over HTTP as a browser walks
//! it, what is refused on the way (open redirects, a callback from another
//! browser, a replayed callback, a person the catalog does not know, a
//! cross-site sign-out), the provider rotating its keys under a running
//! portal, and secrets kept out of the log. The browser test walks the same
//! flow in Chromium.

use portal_tests::oidc::{Agent, CLIENT_SECRET, OidcProvider, free_port};
use portal_tests::{PortalProcess, wait_for};
use std::path::Path;
use std::time::Duration;

const ORG: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: jane }
spec: { profile: { email: jane@acme.example }, memberOf: [team-a] }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: payments, description: Takes the money }
spec: { type: service, lifecycle: production, owner: team-a }
"#;

/// A provider and a portal that signs in with it.
pub struct SignInSetup {
    pub root: tempfile::TempDir,
    pub provider: Option<OidcProvider>,
    pub provider_port: u16,
    pub portal: PortalProcess,
}

impl SignInSetup {
    pub fn start() -> SignInSetup {
        SignInSetup::start_with(ORG, |_| String::new())
    }

    /// A setup with another organisation, and more of the `auth:` section
    /// (lines indented by two spaces; `extra` gets the test's folder).
    pub fn start_with(org: &str, extra: impl FnOnce(&Path) -> String) -> SignInSetup {
        let root = tempfile::tempdir().unwrap();
        portal_tests::write_file(root.path(), "org.yaml", org);
        let extra = extra(root.path());
        portal_tests::write_file(root.path(), "client-secret", &format!("{CLIENT_SECRET}\n"));
        let portal_port = free_port();
        let provider_port = free_port();
        let portal_url = format!("http://127.0.0.1:{portal_port}");
        let provider = start_provider(root.path(), provider_port, &portal_url, false);
        let yaml = format!(
            r#"server: {{ base_url: "{portal_url}" }}
catalog:
  refresh_interval_seconds: 3600
  locations:
    - {{ type: file, target: {org} }}
auth:
  providers:
    - id: acme
      title: Acme SSO
      issuer: {issuer}
      client_id: portal
      client_secret: {{ file: {secret} }}
{extra}"#,
            org = root.path().join("org.yaml").display(),
            issuer = provider.issuer,
            secret = root.path().join("client-secret").display(),
        );
        let portal = PortalProcess::start_on(&yaml, portal_port).expect("portal starts");
        assert_eq!(portal.url, portal_url);
        SignInSetup {
            root,
            provider: Some(provider),
            provider_port,
            portal,
        }
    }

    pub fn start_url(&self, redirect: &str) -> String {
        format!(
            "{}/api/auth/acme/start?redirect={}",
            self.portal.url,
            urlencode(redirect)
        )
    }

    /// Restarts the provider with a new signing key in front of the old.
    pub fn rotate_keys(&mut self) {
        drop(self.provider.take());
        self.provider = Some(start_provider(
            self.root.path(),
            self.provider_port,
            &self.portal.url,
            true,
        ));
    }
}

fn start_provider(root: &Path, port: u16, portal_url: &str, rotate: bool) -> OidcProvider {
    OidcProvider::start(
        port,
        &format!("{portal_url}/api/auth/acme/callback"),
        &root.join("provider-keys.json"),
        rotate,
    )
    .expect("the OpenID provider starts")
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs `login` in through the provider and the portal's callback; the
/// agent then holds the session cookie.
pub fn sign_in(setup: &SignInSetup, agent: &mut Agent, login: &str, redirect: &str) -> String {
    let callback = agent
        .walk_provider(&setup.start_url(redirect), &setup.portal.url, login)
        .expect("the provider's sign-in pages");
    let answer = agent.get(&callback).unwrap();
    assert_eq!(
        answer.status,
        303,
        "the callback signs in: {answer:?}\nlog:\n{}",
        setup.portal.log()
    );
    callback
}

#[test]
fn sign_in_with_a_real_provider_and_everything_it_refuses() {
    let mut setup = SignInSetup::start();
    let portal = setup.portal.url.clone();
    // The org is read (checked with a session below); the provider answers.
    let mut agent = Agent::new();

    // Nothing without signing in: pages send you to sign in and back, the
    // API says 401.
    let page = agent
        .get(&format!(
            "{portal}/catalog/default/component/payments?tab=api"
        ))
        .unwrap();
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location.as_deref(),
        Some(&*format!(
            "{portal}/sign-in?redirect=/catalog/default/component/payments%3Ftab%3Dapi"
        ))
    );
    assert_eq!(
        agent
            .get(&format!("{portal}/api/catalog/entities"))
            .unwrap()
            .status,
        401
    );
    let sign_in_page = agent
        .get(&format!("{portal}/sign-in?redirect=/catalog"))
        .unwrap();
    assert_eq!(sign_in_page.status, 200);
    assert!(
        sign_in_page
            .body
            .contains("/api/auth/acme/start?redirect=/catalog")
            && sign_in_page.body.contains("Sign in with Acme SSO"),
        "{}",
        sign_in_page.body
    );
    assert_eq!(
        agent.get(&format!("{portal}/healthcheck")).unwrap().status,
        200
    );

    // Open redirects are refused before the provider is involved.
    for evil in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\r\nSet-Cookie: x=y",
        "evil.example/path",
    ] {
        let answer = agent.get(&setup.start_url(evil)).unwrap();
        assert_eq!(answer.status, 400, "{evil}: {answer:?}");
        assert!(answer.location.is_none(), "{evil}");
        assert!(
            answer.body.contains("must be a path on this portal"),
            "{evil}: {}",
            answer.body
        );
    }

    // Paths that start like a public one but lead elsewhere, sent raw (an
    // HTTP client would normalise the dots away): no data without a session.
    for path in [
        "/api/auth/../catalog/entities",
        "/api/auth/%2e%2e/catalog/entities",
        "/pkg/../api/catalog/entities",
        "/_portal/style.x/../fn/catalog",
        "/sign-in/../api/catalog/entities",
        "/healthcheck/../api/catalog/entities",
    ] {
        let (status, body) = raw_get(&portal, path);
        assert_ne!(status, 200, "{path}: {body}");
        assert!(!body.contains("payments"), "{path}: {body}");
    }

    // A provider's error, or someone posing as one, is shown as text: the
    // callback's `error` reaches the page (and the audit log) escaped.
    let started = agent.get(&setup.start_url("/")).unwrap();
    let state = started
        .location
        .as_deref()
        .and_then(|l| l.split(['?', '&']).find_map(|p| p.strip_prefix("state=")))
        .expect("a state in the authorization URL")
        .to_owned();
    // A closing script tag too: the audit page carries its data into
    // hydration inside a <script>.
    let evil = "</script><img src=x onerror=alert(1)>";
    let answer = agent
        .get(&format!(
            "{portal}/api/auth/acme/callback?state={state}&error={}",
            urlencode(evil)
        ))
        .unwrap();
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(
        answer.body.contains(
            "the sign-in provider refused: &lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        ) && !answer.body.contains("<img"),
        "{}",
        answer.body
    );

    // A callback carried to another browser (login CSRF) is refused.
    let callback = agent
        .walk_provider(&setup.start_url("/catalog"), &portal, "jane")
        .unwrap();
    let mut other = Agent::new();
    let answer = other.get(&callback).unwrap();
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.body.contains("another browser"), "{}", answer.body);
    assert!(
        answer
            .set_cookies
            .iter()
            .all(|c| !c.starts_with("portal_session="))
    );

    // The real sign-in lands on the page asked for, with an HttpOnly,
    // SameSite session cookie.
    let callback = agent
        .walk_provider(
            &setup.start_url("/catalog/default/component/payments"),
            &portal,
            "jane",
        )
        .unwrap();
    let answer = agent.get(&callback).unwrap();
    assert_eq!(answer.status, 303, "{answer:?}\n{}", setup.portal.log());
    assert_eq!(
        answer.location.as_deref(),
        Some(&*format!("{portal}/catalog/default/component/payments"))
    );
    let set = answer
        .set_cookies
        .iter()
        .find(|c| c.starts_with("portal_session="))
        .expect("a session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "served over http: {set}");
    let session = agent.cookie(&portal, "portal_session").unwrap().to_owned();

    // The same callback again (a replayed state) is refused.
    let replay = agent.get(&callback).unwrap();
    assert_eq!(replay.status, 400, "{replay:?}");
    assert!(replay.body.contains("already used"), "{}", replay.body);
    assert_eq!(agent.cookie(&portal, "portal_session"), Some(&*session));

    // Signed in: the API answers, the page shows who, `/me` is jane's page.
    let entities = wait_for(Duration::from_secs(30), || {
        let answer = agent.get(&format!("{portal}/api/catalog/entities")).ok()?;
        (answer.status == 200 && answer.body.contains("payments")).then_some(answer)
    })
    .expect("the signed-in user reads the catalog");
    assert!(entities.body.contains("jane"));
    let me = agent.get(&format!("{portal}/me")).unwrap();
    assert_eq!(
        me.location.as_deref(),
        Some(&*format!("{portal}/catalog/default/user/jane"))
    );
    let page = agent
        .get(&format!("{portal}/catalog/default/component/payments"))
        .unwrap();
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"action="/api/auth/sign-out""#) && page.body.contains(">jane<"),
        "the frame shows the user and a sign-out button"
    );

    // A forged or altered session cookie is nobody.
    let mut forged = Agent::new();
    let mut altered = session.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for value in [altered.as_str(), "abc.def", "x"] {
        forged.set_cookie(&portal, "portal_session", value);
        assert_eq!(
            forged
                .get(&format!("{portal}/api/catalog/entities"))
                .unwrap()
                .status,
            401,
            "{value}"
        );
    }

    // Someone the catalog does not know is refused, and told why.
    let mut stranger = Agent::new();
    let callback = stranger
        .walk_provider(&setup.start_url("/"), &portal, "mallory")
        .unwrap();
    let answer = stranger.get(&callback).unwrap();
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(
        answer
            .body
            .contains("no User in the catalog has the email address mallory@acme.example"),
        "{}",
        answer.body
    );
    assert!(stranger.cookie(&portal, "portal_session").is_none());

    // The provider rotates its signing key; the running portal fetches the
    // new keys when a token names one it lacks.
    setup.rotate_keys();
    let mut again = Agent::new();
    sign_in(&setup, &mut again, "jane", "/catalog");
    assert!(
        setup.portal.log().contains("keys fetched again"),
        "{}",
        setup.portal.log()
    );

    // Sign-out from another site is refused; from the portal it ends the
    // session (the old cookie no longer works anywhere).
    let cross = loopback_post_sign_out(&portal, &session, "https://evil.example");
    assert_eq!(cross, 403);
    assert_eq!(
        agent
            .get(&format!("{portal}/api/catalog/entities"))
            .unwrap()
            .status,
        200
    );
    let out = agent
        .post_form(&format!("{portal}/api/auth/sign-out"), &[])
        .unwrap();
    assert_eq!(out.status, 303, "{out:?}");
    assert_eq!(out.location.as_deref(), Some(&*format!("{portal}/sign-in")));
    assert!(agent.cookie(&portal, "portal_session").is_none());
    let mut replayed = Agent::new();
    replayed.set_cookie(&portal, "portal_session", &session);
    assert_eq!(
        replayed
            .get(&format!("{portal}/api/catalog/entities"))
            .unwrap()
            .status,
        401
    );
    assert_eq!(
        replayed.get(&format!("{portal}/catalog")).unwrap().status,
        303,
        "a page sends a signed-out user to sign in"
    );

    // The audit log has the sign-ins, the refusals and the sign-out; no
    // secret, token or cookie is in the log or the audit.
    let mut admin = Agent::new();
    sign_in(&setup, &mut admin, "jane", "/");
    let audit = admin.get(&format!("{portal}/api/audit")).unwrap();
    assert_eq!(audit.status, 200, "{audit:?}");
    for wanted in [
        "auth.sign-in",
        "user:default/jane",
        "mallory@acme.example",
        "another browser",
        "auth.sign-out",
    ] {
        assert!(audit.body.contains(wanted), "{wanted} in {}", audit.body);
    }
    let page = admin
        .get(&format!(
            "{portal}/audit?action=auth.sign-in&outcome=denied"
        ))
        .unwrap();
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("&lt;img src=x onerror=alert(1)&gt;") && !page.body.contains(evil),
        "the audit page shows a hostile callback's error as text"
    );
    let log = setup.portal.log();
    for secret in [CLIENT_SECRET, session.as_str()] {
        assert!(!log.contains(secret), "a secret is in the log");
        assert!(!audit.body.contains(secret), "a secret is in the audit log");
    }
    let code = callback
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap();
    assert!(!log.contains(code), "an authorization code is in the log");
}

/// A GET with the path sent exactly as given (no client normalises it).
fn raw_get(portal: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let authority = portal.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn loopback_post_sign_out(portal: &str, session: &str, origin: &str) -> u16 {
    portal_tests::loopback_client()
        .post(format!("{portal}/api/auth/sign-out"))
        .header("cookie", format!("portal_session={session}"))
        .header("origin", origin)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn sign_in_needs_a_reachable_address_and_a_readable_secret() {
    let root = tempfile::tempdir().unwrap();
    let provider = |secret: &str| {
        format!(
            "auth:\n  providers:\n    - {{ id: acme, issuer: \"http://127.0.0.1:9\", client_id: portal, client_secret: {secret} }}\n"
        )
    };
    // A random port: the provider could not send anyone back.
    let output = std::process::Command::new(portal_tests::portal_bin())
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(root.path().join("data"))
        .arg("--config")
        .arg({
            let path = root.path().join("a.yaml");
            std::fs::write(&path, provider("{ value: s }")).unwrap();
            path
        })
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("set server.base_url"), "{stderr}");

    // A secret from an unset variable: named, not guessed.
    let output = std::process::Command::new(portal_tests::portal_bin())
        .args(["serve", "--data-dir"])
        .arg(root.path().join("data"))
        .arg("--config")
        .arg({
            let path = root.path().join("b.yaml");
            std::fs::write(
                &path,
                format!(
                    "server: {{ base_url: \"http://127.0.0.1:7\" }}\n{}",
                    provider("{ env: PORTAL_TEST_UNSET_SECRET }")
                ),
            )
            .unwrap();
            path
        })
        .env_remove("PORTAL_TEST_UNSET_SECRET")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("auth.providers `acme`")
            && stderr.contains("PORTAL_TEST_UNSET_SECRET is not set"),
        "{stderr}"
    );
}

/// In Chromium: open a page, be sent to sign in, sign in at the provider,
/// land on the page asked for with your name in the frame, sign out, and be
/// asked to sign in again.
#[test]
fn sign_in_and_out_in_the_browser() {
    use portal_tests::browser::Browser;
    const WAIT: Duration = Duration::from_secs(30);
    let setup = SignInSetup::start();
    let portal = setup.portal.url.clone();
    let b = Browser::start().expect("chromium and chromedriver");
    let url_starts = |b: &Browser, prefix: &str| -> anyhow::Result<Option<()>> {
        Ok(b.current_url()?.starts_with(prefix).then_some(()))
    };
    let click = |b: &Browser, css: &str| {
        let e = b.wait_for(css, WAIT).unwrap();
        b.click(&e).unwrap();
    };

    b.goto(&format!("{portal}/catalog/default/component/payments"))
        .unwrap();
    b.wait_until("the sign-in page", WAIT, |b| {
        url_starts(b, &format!("{portal}/sign-in"))
    })
    .unwrap();
    click(&b, ".sign-in-providers a");

    // The provider's own login and consent pages.
    b.wait_until("the provider's login page", WAIT, |b| {
        url_starts(b, &setup.provider.as_ref().unwrap().issuer)
    })
    .unwrap();
    let login = b.wait_for("input[name=login]", WAIT).unwrap();
    b.send_keys(&login, "jane").unwrap();
    let password = b.find("input[name=password]").unwrap();
    b.send_keys(&password, "any").unwrap();
    click(&b, "button[type=submit]");
    b.wait_until("the provider's consent page", WAIT, |b| {
        Ok((b.find_all("input[name=login]")?.is_empty()
            && !b.find_all("button[type=submit]")?.is_empty())
        .then_some(()))
    })
    .unwrap();
    click(&b, "button[type=submit]");

    // Back on the page asked for, signed in.
    b.wait_until("the component page", WAIT, |b| {
        Ok(
            (b.current_url()? == format!("{portal}/catalog/default/component/payments")
                && b.body_text()?.contains("Takes the money"))
            .then_some(()),
        )
    })
    .unwrap();
    let viewer = b.find(".viewer a").unwrap();
    assert_eq!(b.text(&viewer).unwrap(), "jane");
    let cookie_visible_to_scripts = b
        .execute("return document.cookie.includes('portal_session');", vec![])
        .unwrap();
    assert_eq!(
        cookie_visible_to_scripts,
        serde_json::Value::Bool(false),
        "HttpOnly"
    );

    click(&b, ".sign-out button");
    b.wait_until("the sign-in page after signing out", WAIT, |b| {
        url_starts(b, &format!("{portal}/sign-in"))
    })
    .unwrap();
    b.goto(&format!("{portal}/catalog")).unwrap();
    b.wait_until("the sign-in page again", WAIT, |b| {
        url_starts(b, &format!("{portal}/sign-in?redirect=/catalog"))
    })
    .unwrap();
}
