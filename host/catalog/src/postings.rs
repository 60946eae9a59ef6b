//! Posting lists: the entities that have one value of one key.

use crate::index::Id;
use roaring::RoaringBitmap;

/// The entities that have one value. Most values (names, descriptions, the
/// refs in inverse relations) belong to a single entity, so that id is kept
/// inline; a bitmap is only allocated once a second entity shares the value.
#[derive(Debug, Clone)]
pub enum Postings {
    One(Id),
    Many(Box<RoaringBitmap>),
}

impl Postings {
    pub fn insert(&mut self, id: Id) {
        match self {
            Postings::One(one) if *one == id => {}
            Postings::One(one) => {
                let mut ids = RoaringBitmap::new();
                ids.insert(*one);
                ids.insert(id);
                *self = Postings::Many(Box::new(ids));
            }
            Postings::Many(ids) => {
                ids.insert(id);
            }
        }
    }

    /// Removes `id`; true when no entity is left (the caller drops the entry).
    pub fn remove(&mut self, id: Id) -> bool {
        match self {
            Postings::One(one) => *one == id,
            Postings::Many(ids) => {
                ids.remove(id);
                match ids.len() {
                    0 => true,
                    1 => {
                        let last = ids.min().expect("one id");
                        *self = Postings::One(last);
                        false
                    }
                    _ => false,
                }
            }
        }
    }

    /// A bitmap as postings (`Many` may hold none: callers check `is_empty`).
    pub fn from_bitmap(ids: RoaringBitmap) -> Postings {
        match ids.len() {
            1 => Postings::One(ids.min().expect("one id")),
            _ => Postings::Many(Box::new(ids)),
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            Postings::One(_) => 1,
            Postings::Many(ids) => ids.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, id: Id) -> bool {
        match self {
            Postings::One(one) => *one == id,
            Postings::Many(ids) => ids.contains(id),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Id> + '_ {
        let (one, many) = match self {
            Postings::One(id) => (Some(*id), None),
            Postings::Many(ids) => (None, Some(ids.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// `acc |= self`.
    pub fn add_to(&self, acc: &mut RoaringBitmap) {
        match self {
            Postings::One(id) => {
                acc.insert(*id);
            }
            Postings::Many(ids) => *acc |= &**ids,
        }
    }

    pub fn to_bitmap(&self) -> RoaringBitmap {
        match self {
            Postings::One(id) => std::iter::once(*id).collect(),
            Postings::Many(ids) => (**ids).clone(),
        }
    }

    pub fn intersection_len(&self, set: &RoaringBitmap) -> u64 {
        match self {
            Postings::One(id) => u64::from(set.contains(*id)),
            Postings::Many(ids) => ids.intersection_len(set),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_id_inline_then_a_bitmap_then_back() {
        let mut p = Postings::One(7);
        p.insert(7);
        assert!(
            matches!(p, Postings::One(7)),
            "the same id twice stays inline"
        );
        p.insert(3);
        assert!(matches!(p, Postings::Many(_)));
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![3, 7]);
        let set: RoaringBitmap = [3, 9].into_iter().collect();
        assert_eq!(p.intersection_len(&set), 1);
        let mut acc = RoaringBitmap::new();
        p.add_to(&mut acc);
        assert_eq!(acc.len(), 2);
        assert!(!p.remove(7), "one id left");
        assert!(matches!(p, Postings::One(3)));
        assert!(p.remove(3), "now empty: the caller drops the entry");
        assert_eq!(Postings::from_bitmap(set.clone()).len(), 2);
        assert!(matches!(
            Postings::from_bitmap([5].into_iter().collect()),
            Postings::One(5)
        ));
    }
}
