//! Service tokens: configured by their SHA-256 only, compared in constant
//! time, never logged.

use crate::identity::Service;
use crate::permission::Pattern;
use portal_config::ServiceTokenConfig;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The configured tokens.
#[derive(Debug, Clone, Default)]
pub struct ServiceTokens(Vec<(Service, [u8; 32])>);

impl ServiceTokens {
    /// Checks every token's permissions; the error names the token.
    pub fn from_config(tokens: &[ServiceTokenConfig]) -> Result<ServiceTokens, String> {
        tokens
            .iter()
            .map(|t| {
                let permissions = t
                    .permissions
                    .iter()
                    .map(|p| Pattern::parse(p))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("auth.service_tokens `{}`: {e}", t.name))?;
                let mut hash = [0u8; 32];
                hex::decode_to_slice(&t.sha256, &mut hash)
                    .map_err(|e| format!("auth.service_tokens `{}`: sha256: {e}", t.name))?;
                let service = Service {
                    name: t.name.clone(),
                    permissions: permissions.into(),
                };
                Ok((service, hash))
            })
            .collect::<Result<_, _>>()
            .map(ServiceTokens)
    }

    /// The service whose token this is. Every configured hash is compared,
    /// in constant time, so timing tells nothing about which almost matched.
    pub fn verify(&self, token: &str) -> Option<Service> {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for (service, hash) in &self.0 {
            if bool::from(presented.ct_eq(hash)) {
                found = Some(service.clone());
            }
        }
        found
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A new random token and the SHA-256 to configure for it.
pub fn generate() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random number generator works");
    let token = format!("portal_{}", hex::encode(bytes));
    let hash = hash(&token);
    (token, hash)
}

/// The lowercase hex SHA-256 of a token, as `auth.service_tokens[].sha256` wants it.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_by_hash_only() {
        let (token, sha256) = generate();
        let tokens = ServiceTokens::from_config(&[ServiceTokenConfig {
            name: "ci".into(),
            sha256,
            permissions: vec!["catalog.*".into()],
        }])
        .unwrap();
        assert_eq!(tokens.verify(&token).unwrap().name, "ci");
        assert!(tokens.verify(&token[..token.len() - 1]).is_none());
        assert!(tokens.verify("").is_none());
        let err = ServiceTokens::from_config(&[ServiceTokenConfig {
            name: "bad".into(),
            sha256: hash("x"),
            permissions: vec!["catalog.entity.raed".into()],
        }])
        .unwrap_err();
        assert!(
            err.contains("bad") && err.contains("catalog.entity.raed"),
            "{err}"
        );
    }
}
