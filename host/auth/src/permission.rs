//! The actions the portal guards. A policy names them; an unknown name in a
//! policy is an error (a typo must not silently grant or deny nothing).

/// What a permission is about: nothing in particular, or one resource that
/// a conditional decision is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// The permission is allowed or denied as a whole.
    None,
    /// A catalog entity (`kind`, `owner`, labels... can be conditions).
    CatalogEntity,
    /// A template action, by its id (`publish:github`).
    ScaffolderAction,
}

/// One guarded action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub name: &'static str,
    pub resource: ResourceType,
}

macro_rules! permissions {
    ($($ident:ident = $name:literal, $resource:ident;)*) => {
        $(pub const $ident: Permission = Permission { name: $name, resource: ResourceType::$resource };)*
        /// Every permission the portal checks.
        pub const ALL: &[Permission] = &[$($ident),*];
    };
}

permissions! {
    CATALOG_ENTITY_READ = "catalog.entity.read", CatalogEntity;
    CATALOG_ENTITY_DELETE = "catalog.entity.delete", CatalogEntity;
    CATALOG_ENTITY_REFRESH = "catalog.entity.refresh", CatalogEntity;
    CATALOG_ENTITY_VALIDATE = "catalog.entity.validate", None;
    CATALOG_LOCATION_READ = "catalog.location.read", None;
    CATALOG_LOCATION_CREATE = "catalog.location.create", None;
    CATALOG_LOCATION_DELETE = "catalog.location.delete", None;
    CATALOG_LOCATION_ANALYZE = "catalog.location.analyze", None;
    SCAFFOLDER_TASK_CREATE = "scaffolder.task.create", None;
    SCAFFOLDER_TASK_READ = "scaffolder.task.read", None;
    SCAFFOLDER_TASK_CANCEL = "scaffolder.task.cancel", None;
    SCAFFOLDER_ACTION_EXECUTE = "scaffolder.action.execute", ScaffolderAction;
    PLUGIN_READ = "plugin.read", None;
    PLUGIN_PANEL_VIEW = "plugin.panel.view", None;
    PLUGIN_PROVIDER_RUN = "plugin.provider.run", None;
    TECHDOCS_SYNC = "techdocs.sync", None;
    AUDIT_READ = "audit.read", None;
}

/// The permission called `name`.
pub fn by_name(name: &str) -> Option<Permission> {
    ALL.iter().copied().find(|p| p.name == name)
}

/// A permission pattern of a policy or a service token: a name, a prefix
/// ending in `.*` (`catalog.*`), or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    /// Checks that the pattern names at least one known permission.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let pattern = Pattern(text.to_owned());
        if ALL.iter().any(|p| pattern.matches(p)) {
            Ok(pattern)
        } else {
            Err(format!(
                "`{text}` is not a permission (known: {})",
                ALL.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
            ))
        }
    }

    pub fn matches(&self, permission: &Permission) -> bool {
        let p = self.0.as_str();
        p == "*"
            || p == permission.name
            || p.strip_suffix('*')
                .is_some_and(|prefix| prefix.ends_with('.') && permission.name.starts_with(prefix))
    }

    /// Names exactly one permission (no wildcard).
    pub fn is_exact(&self) -> bool {
        !self.0.ends_with('*')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let catalog = Pattern::parse("catalog.*").unwrap();
        assert!(catalog.matches(&CATALOG_ENTITY_READ));
        assert!(!catalog.matches(&SCAFFOLDER_TASK_CREATE));
        assert!(Pattern::parse("*").unwrap().matches(&AUDIT_READ));
        assert!(Pattern::parse("catalog.entity.reed").is_err());
        // `catalog*` is not a prefix pattern: it would also match `catalogue.x`.
        assert!(Pattern::parse("catalog*").is_err());
        assert!(by_name("scaffolder.action.execute").is_some());
    }
}
