//! The contract may only grow within a major version (see `wit/README.md`): every
//! published folder under `wit/` is checked against the previous one of the same
//! major. A changed or removed function or type, a new record field or variant
//! case, or a new export in an existing world fails this test.

use std::path::{Path, PathBuf};
use wit_parser::{InterfaceId, Resolve, Stability, Type, TypeDefKind, TypeId, WorldItem, WorldKey};

fn wit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
}

/// Published versions, oldest first.
fn published() -> Vec<semver::Version> {
    let mut versions: Vec<semver::Version> = std::fs::read_dir(wit_root())
        .unwrap()
        .flatten()
        .filter_map(|e| semver::Version::parse(&e.file_name().to_string_lossy()).ok())
        .collect();
    versions.sort();
    versions
}

/// Everything in `old` that `new` breaks, in words.
fn breaking_changes(old_dir: &Path, new_dir: &Path) -> Vec<String> {
    let mut resolve = Resolve::default();
    let (old, _) = resolve.push_dir(old_dir).expect("old WIT parses");
    let (new, _) = resolve.push_dir(new_dir).expect("new WIT parses");
    let new_version = resolve.packages[new]
        .name
        .version
        .clone()
        .expect("versioned package");
    let mut problems = Vec::new();
    let check = Checker { r: &resolve };

    for (name, &old_iface) in &resolve.packages[old].interfaces {
        let Some(&new_iface) = resolve.packages[new].interfaces.get(name) else {
            problems.push(format!("interface `{name}` was removed"));
            continue;
        };
        let (o, n) = (
            &resolve.interfaces[old_iface],
            &resolve.interfaces[new_iface],
        );
        for (tname, &tid) in &o.types {
            match n.types.get(tname) {
                None => problems.push(format!("type `{name}.{tname}` was removed")),
                Some(&nid) => {
                    if let Err(e) = check.def(tid, nid) {
                        problems.push(format!("type `{name}.{tname}` changed: {e}"));
                    }
                }
            }
        }
        for (fname, f) in &o.functions {
            let Some(nf) = n.functions.get(fname) else {
                problems.push(format!("function `{name}.{fname}` was removed"));
                continue;
            };
            let same_params = f.params.len() == nf.params.len()
                && f.params
                    .iter()
                    .zip(&nf.params)
                    .all(|(a, b)| a.name == b.name && check.ty(&a.ty, &b.ty).is_ok());
            let same_result = match (&f.result, &nf.result) {
                (None, None) => true,
                (Some(a), Some(b)) => check.ty(a, b).is_ok(),
                _ => false,
            };
            if !same_params || !same_result {
                problems.push(format!("function `{name}.{fname}` changed its signature"));
            }
        }
        for (fname, nf) in &n.functions {
            if !o.functions.contains_key(fname) && !since(&nf.stability, &new_version) {
                problems.push(format!(
                    "new function `{name}.{fname}` lacks @since(version = {new_version})"
                ));
            }
        }
    }
    for (wname, &old_world) in &resolve.packages[old].worlds {
        let Some(&new_world) = resolve.packages[new].worlds.get(wname) else {
            problems.push(format!("world `{wname}` was removed"));
            continue;
        };
        let (o, n) = (&resolve.worlds[old_world], &resolve.worlds[new_world]);
        let old_imports = item_names(&resolve, o.imports.iter());
        let new_imports = item_names(&resolve, n.imports.iter());
        let old_exports = item_names(&resolve, o.exports.iter());
        let new_exports = item_names(&resolve, n.exports.iter());
        for import in &old_imports {
            if !new_imports.contains(import) {
                problems.push(format!("world `{wname}` no longer imports `{import}`"));
            }
        }
        if old_exports != new_exports {
            problems.push(format!(
                "world `{wname}` changed its exports from {old_exports:?} to {new_exports:?}: a new required export breaks every existing plugin"
            ));
        }
    }
    problems
}

fn item_names<'a>(
    r: &Resolve,
    items: impl Iterator<Item = (&'a WorldKey, &'a WorldItem)>,
) -> Vec<String> {
    let mut names: Vec<String> = items
        .map(|(key, _)| match key {
            WorldKey::Name(n) => n.clone(),
            WorldKey::Interface(id) => interface_name(r, *id),
        })
        .collect();
    names.sort();
    names
}

fn interface_name(r: &Resolve, id: InterfaceId) -> String {
    r.interfaces[id]
        .name
        .clone()
        .unwrap_or_else(|| "<anonymous>".into())
}

fn since(stability: &Stability, version: &semver::Version) -> bool {
    matches!(stability, Stability::Stable { since, .. } if since == version)
}

struct Checker<'a> {
    r: &'a Resolve,
}

impl Checker<'_> {
    fn ty(&self, a: &Type, b: &Type) -> Result<(), String> {
        match (a, b) {
            (Type::Id(x), Type::Id(y)) => self.def(*x, *y),
            (x, y) if x == y => Ok(()),
            (x, y) => Err(format!("{x:?} became {y:?}")),
        }
    }

    fn opt(&self, a: &Option<Type>, b: &Option<Type>) -> Result<(), String> {
        match (a, b) {
            (None, None) => Ok(()),
            (Some(a), Some(b)) => self.ty(a, b),
            _ => Err("a payload was added or removed".into()),
        }
    }

    fn def(&self, x: TypeId, y: TypeId) -> Result<(), String> {
        let (a, b) = (&self.r.types[x], &self.r.types[y]);
        if a.name != b.name {
            return Err(format!("{:?} became {:?}", a.name, b.name));
        }
        match (&a.kind, &b.kind) {
            (TypeDefKind::Record(p), TypeDefKind::Record(q)) => {
                if p.fields.len() != q.fields.len() {
                    return Err(format!(
                        "record fields went from {} to {}",
                        p.fields.len(),
                        q.fields.len()
                    ));
                }
                for (f, g) in p.fields.iter().zip(&q.fields) {
                    if f.name != g.name {
                        return Err(format!("field `{}` became `{}`", f.name, g.name));
                    }
                    self.ty(&f.ty, &g.ty)
                        .map_err(|e| format!("field `{}`: {e}", f.name))?;
                }
                Ok(())
            }
            (TypeDefKind::Variant(p), TypeDefKind::Variant(q)) => {
                if p.cases.len() != q.cases.len() {
                    return Err(format!(
                        "variant cases went from {} to {}",
                        p.cases.len(),
                        q.cases.len()
                    ));
                }
                for (c, d) in p.cases.iter().zip(&q.cases) {
                    if c.name != d.name {
                        return Err(format!("case `{}` became `{}`", c.name, d.name));
                    }
                    self.opt(&c.ty, &d.ty)
                        .map_err(|e| format!("case `{}`: {e}", c.name))?;
                }
                Ok(())
            }
            (TypeDefKind::Enum(p), TypeDefKind::Enum(q)) => {
                let (p, q): (Vec<_>, Vec<_>) = (
                    p.cases.iter().map(|c| &c.name).collect(),
                    q.cases.iter().map(|c| &c.name).collect(),
                );
                if p == q {
                    Ok(())
                } else {
                    Err(format!("enum cases {p:?} became {q:?}"))
                }
            }
            (TypeDefKind::Flags(p), TypeDefKind::Flags(q)) => {
                let (p, q): (Vec<_>, Vec<_>) = (
                    p.flags.iter().map(|c| &c.name).collect(),
                    q.flags.iter().map(|c| &c.name).collect(),
                );
                if p == q {
                    Ok(())
                } else {
                    Err(format!("flags {p:?} became {q:?}"))
                }
            }
            (TypeDefKind::Tuple(p), TypeDefKind::Tuple(q)) => {
                if p.types.len() != q.types.len() {
                    return Err("tuple length changed".into());
                }
                p.types
                    .iter()
                    .zip(&q.types)
                    .try_for_each(|(a, b)| self.ty(a, b))
            }
            (TypeDefKind::Option(p), TypeDefKind::Option(q))
            | (TypeDefKind::List(p), TypeDefKind::List(q))
            | (TypeDefKind::Type(p), TypeDefKind::Type(q)) => self.ty(p, q),
            (TypeDefKind::Result(p), TypeDefKind::Result(q)) => {
                self.opt(&p.ok, &q.ok)?;
                self.opt(&p.err, &q.err)
            }
            (TypeDefKind::Resource, TypeDefKind::Resource) => Ok(()),
            (p, q) => Err(format!("{} became {}", p.as_str(), q.as_str())),
        }
    }
}

#[test]
fn every_published_minor_version_only_adds() {
    let versions = published();
    assert!(
        versions.len() >= 2,
        "expected wit/1.0.0 and a later version, found {versions:?}"
    );
    for pair in versions.windows(2) {
        let (old, new) = (&pair[0], &pair[1]);
        if old.major != new.major {
            continue;
        }
        let problems = breaking_changes(
            &wit_root().join(old.to_string()),
            &wit_root().join(new.to_string()),
        );
        assert!(
            problems.is_empty(),
            "{old} → {new} is not additive:\n  {}",
            problems.join("\n  ")
        );
    }
}

/// The checker itself catches the changes the policy forbids.
#[test]
fn breaking_changes_are_detected() {
    let newest = published().pop().unwrap();
    let base = wit_root().join(newest.to_string());
    let next = semver::Version::new(newest.major, newest.minor + 1, 0);
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "meta.wit",
            "        name: string,\n",
            "        name: string,\n        icon: string,\n",
            "record fields went from",
        ),
        (
            "panel.wit",
            "        row(list<node-id>),\n",
            "        row(list<node-id>),\n        chart(string),\n",
            "variant cases went from",
        ),
        (
            "log.wit",
            "enum level { trace, debug, info, warn, error }",
            "enum level { trace, debug, info, warn, error, fatal }",
            "enum cases",
        ),
        (
            "catalog.wit",
            "limit: u32)",
            "limit: u64)",
            "changed its signature",
        ),
        (
            "worlds.wit",
            "    export panel;\n}\n\n/// A plugin that feeds",
            "    export panel;\n    export entity-provider;\n}\n\n/// A plugin that feeds",
            "changed its exports",
        ),
        (
            "storage.wit",
            "    delete: func(key: string) -> result<_, host-error>;\n",
            "    delete: func(key: string) -> result<_, host-error>;\n    clear: func() -> result<_, host-error>;\n",
            "lacks @since",
        ),
    ];
    for (file, from, to, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(&base).unwrap().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let text = text.replace(&format!("@{newest};"), &format!("@{next};"));
            let text = if entry.file_name() == *file {
                assert!(
                    text.contains(from),
                    "{file} no longer contains {from:?}; update this test"
                );
                text.replacen(from, to, 1)
            } else {
                text
            };
            std::fs::write(dir.path().join(entry.file_name()), text).unwrap();
        }
        let problems = breaking_changes(&base, dir.path());
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "changing {file} ({to:?}) should report {expected:?}, got {problems:?}"
        );
    }
}
