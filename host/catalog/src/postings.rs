//! Posting lists: the entities that have one value of one key.

use roaring::RoaringBitmap;

/// Dense entity id inside one running catalog (not persisted).
pub type Id = u32;

/// How many ids a [`Postings::Few`] holds before it becomes a bitmap.
const FEW: usize = 8;
/// Marks an unused slot of a `Few` list (ids are dense from 0; never reached).
const EMPTY: Id = Id::MAX;

/// The entities that have one value, sized to how many share it.
///
/// Most values (names, descriptions, the refs in inverse relations) belong to
/// a single entity, so that id is kept inline; two ids still fit inline; up to
/// [`FEW`] sit in one small sorted array (an API provided by five components);
/// only more than that allocate a roaring bitmap, which costs three heap
/// blocks and ~100 bytes even for two ids. The enum stays 16 bytes, so value
/// maps keep small nodes.
#[derive(Debug, Clone)]
pub enum Postings {
    One(Id),
    Two(Id, Id),
    /// Sorted ids, unused slots [`EMPTY`] at the end; at least three used.
    Few(Box<[Id; FEW]>),
    /// More than [`FEW`] ids.
    Many(Box<RoaringBitmap>),
}

impl Postings {
    pub fn insert(&mut self, id: Id) {
        debug_assert!(id != EMPTY);
        match self {
            Postings::One(one) if *one == id => {}
            Postings::One(one) => {
                let one = *one;
                *self = Postings::Two(one.min(id), one.max(id));
            }
            Postings::Two(a, b) if *a == id || *b == id => {}
            Postings::Two(a, b) => {
                let mut few = [EMPTY; FEW];
                few[..3].copy_from_slice(&[*a, *b, id]);
                few[..3].sort_unstable();
                *self = Postings::Few(Box::new(few));
            }
            Postings::Few(few) => {
                let len = few_len(few);
                let Err(at) = few[..len].binary_search(&id) else {
                    return;
                };
                if len < FEW {
                    few.copy_within(at..len, at + 1);
                    few[at] = id;
                } else {
                    let mut ids: RoaringBitmap = few.iter().copied().collect();
                    ids.insert(id);
                    *self = Postings::Many(Box::new(ids));
                }
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
            Postings::Two(a, b) => {
                if *a == id {
                    *self = Postings::One(*b);
                } else if *b == id {
                    *self = Postings::One(*a);
                }
                false
            }
            Postings::Few(few) => {
                let len = few_len(few);
                if let Ok(at) = few[..len].binary_search(&id) {
                    few.copy_within(at + 1..len, at);
                    few[len - 1] = EMPTY;
                    if len - 1 == 2 {
                        *self = Postings::Two(few[0], few[1]);
                    }
                }
                false
            }
            Postings::Many(ids) => {
                ids.remove(id);
                if ids.len() <= FEW as u64 {
                    *self = Postings::from_bitmap(std::mem::take(ids));
                    return self.is_empty();
                }
                false
            }
        }
    }

    /// A bitmap as postings (`Many` may hold none: callers check `is_empty`).
    pub fn from_bitmap(ids: RoaringBitmap) -> Postings {
        let mut iter = ids.iter();
        match ids.len() {
            1 => Postings::One(iter.next().expect("one id")),
            2 => Postings::Two(iter.next().expect("two"), iter.next().expect("two")),
            3..=8 => {
                let mut few = [EMPTY; FEW];
                for (slot, id) in few.iter_mut().zip(iter) {
                    *slot = id;
                }
                Postings::Few(Box::new(few))
            }
            _ => Postings::Many(Box::new(ids)),
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            Postings::One(_) => 1,
            Postings::Two(..) => 2,
            Postings::Few(few) => few_len(few) as u64,
            Postings::Many(ids) => ids.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[cfg(test)]
    pub fn contains(&self, id: Id) -> bool {
        match self {
            Postings::One(one) => *one == id,
            Postings::Two(a, b) => *a == id || *b == id,
            Postings::Few(few) => few[..few_len(few)].binary_search(&id).is_ok(),
            Postings::Many(ids) => ids.contains(id),
        }
    }

    /// The ids in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = Id> + '_ {
        let (inline, few, many): ([Id; 2], &[Id], _) = match self {
            Postings::One(id) => ([*id, EMPTY], &[], None),
            Postings::Two(a, b) => ([*a, *b], &[], None),
            Postings::Few(few) => ([EMPTY; 2], &few[..few_len(few)], None),
            Postings::Many(ids) => ([EMPTY; 2], &[], Some(ids.iter())),
        };
        inline
            .into_iter()
            .filter(|&id| id != EMPTY)
            .chain(few.iter().copied())
            .chain(many.into_iter().flatten())
    }

    /// `acc |= self`.
    pub fn add_to(&self, acc: &mut RoaringBitmap) {
        match self {
            Postings::Many(ids) => *acc |= &**ids,
            small => {
                for id in small.iter() {
                    acc.insert(id);
                }
            }
        }
    }

    pub fn to_bitmap(&self) -> RoaringBitmap {
        match self {
            Postings::Many(ids) => (**ids).clone(),
            small => small.iter().collect(),
        }
    }

    pub fn intersection_len(&self, set: &RoaringBitmap) -> u64 {
        match self {
            Postings::Many(ids) => ids.intersection_len(set),
            small => small.iter().filter(|id| set.contains(*id)).count() as u64,
        }
    }
}

fn few_len(few: &[Id; FEW]) -> usize {
    few.iter().position(|&id| id == EMPTY).unwrap_or(FEW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_from_inline_to_a_bitmap_and_shrinks_back() {
        let mut p = Postings::One(7);
        p.insert(7);
        assert!(
            matches!(p, Postings::One(7)),
            "the same id twice stays inline"
        );
        p.insert(3);
        assert!(matches!(p, Postings::Two(3, 7)));
        p.insert(5);
        assert!(matches!(p, Postings::Few(_)));
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![3, 5, 7]);
        for id in [20, 11, 1, 9, 15] {
            p.insert(id);
        }
        assert!(matches!(p, Postings::Few(_)), "eight ids still fit");
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            vec![1, 3, 5, 7, 9, 11, 15, 20]
        );
        p.insert(2);
        assert!(matches!(p, Postings::Many(_)));
        assert_eq!(p.len(), 9);
        let set: RoaringBitmap = [3, 9, 100].into_iter().collect();
        assert_eq!(p.intersection_len(&set), 2);
        let mut acc = RoaringBitmap::new();
        p.add_to(&mut acc);
        assert_eq!(acc.len(), 9);
        assert!(!p.remove(2));
        assert!(matches!(p, Postings::Few(_)), "back to the small form");
        for id in [1, 3, 5, 9, 11, 15] {
            assert!(!p.remove(id));
            assert!(!p.contains(id));
        }
        assert!(matches!(p, Postings::Two(7, 20)));
        assert!(!p.remove(42), "an absent id changes nothing");
        assert!(!p.remove(20));
        assert!(matches!(p, Postings::One(7)));
        assert!(p.remove(7), "now empty: the caller drops the entry");
        for n in 1..=12u32 {
            let ids: RoaringBitmap = (0..n).map(|i| i * 3).collect();
            let p = Postings::from_bitmap(ids.clone());
            assert_eq!(p.to_bitmap(), ids);
            assert_eq!(p.len(), u64::from(n));
            assert!(p.contains(3 * (n - 1)) && !p.contains(1));
        }
    }
}
