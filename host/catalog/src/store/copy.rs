//! Copying a catalog from one store to another (`portal store migrate`).

use super::{CatalogStore, ChangeSet, StoreError, StoredItem};

/// Entities per commit into the destination.
const BATCH: usize = 5_000;

/// What a copy moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub entities: usize,
    pub sources: usize,
    pub locations: usize,
}

/// Copies everything `from` holds into `to`, which must be empty (a copy
/// never merges two catalogs). `progress` hears the entities copied so
/// far after each commit. Sources and registered locations go in the
/// first commit, entities in batches after it.
pub fn copy_catalog(
    from: &dyn CatalogStore,
    to: &dyn CatalogStore,
    progress: &mut dyn FnMut(usize),
) -> Result<Copied, StoreError> {
    let mut held = 0usize;
    to.load(&mut |_| held += 1)?;
    if held > 0 {
        return Err(StoreError::Io(format!(
            "the destination already holds {held} records: copy into an empty store"
        )));
    }
    let mut copied = Copied::default();
    let mut batch = ChangeSet::default();
    let mut first = ChangeSet::default();
    let mut error = None;
    from.load(&mut |item| {
        if error.is_some() {
            return;
        }
        match item {
            StoredItem::Entity(e) => {
                batch.put_entities.push(e);
                if batch.put_entities.len() == BATCH {
                    let full = std::mem::take(&mut batch);
                    copied.entities += full.put_entities.len();
                    if let Err(e) = to.commit(&full) {
                        error = Some(e);
                        return;
                    }
                    progress(copied.entities);
                }
            }
            StoredItem::Source(s) => first.put_sources.push(s),
            StoredItem::Location(l) => first.put_locations.push(l),
        }
    })?;
    if let Some(e) = error {
        return Err(e);
    }
    copied.sources = first.put_sources.len();
    copied.locations = first.put_locations.len();
    copied.entities += batch.put_entities.len();
    first.put_entities = batch.put_entities;
    to.commit(&first)?;
    to.flush()?;
    progress(copied.entities);
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;
    use crate::store::conformance::{contents, entity, location, source};

    #[test]
    fn copies_everything_into_an_empty_store_only() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let from = SledStore::open(a.path()).unwrap();
        from.commit(&ChangeSet {
            put_entities: (0..12_000).map(|i| entity(&format!("e{i}"), "s")).collect(),
            put_sources: vec![source("s", 1)],
            put_locations: vec![location("l")],
            ..Default::default()
        })
        .unwrap();
        let to = SledStore::open(b.path()).unwrap();
        let mut seen = Vec::new();
        let copied = copy_catalog(&from, &to, &mut |n| seen.push(n)).unwrap();
        assert_eq!(
            copied,
            Copied {
                entities: 12_000,
                sources: 1,
                locations: 1
            }
        );
        assert_eq!(seen, [5_000, 10_000, 12_000]);
        assert_eq!(contents(&from), contents(&to));
        let e = copy_catalog(&from, &to, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("copy into an empty store"), "{e}");
    }
}
