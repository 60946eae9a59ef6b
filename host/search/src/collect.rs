//! One pass over the matches: the top page (score, then shorter names and
//! titles first), the total, and facet counts per dimension.
//!
//! tantivy's own `FacetCollector` streams each segment's whole facet
//! dictionary on every query and decodes every counted facet's name, and
//! `TopDocs::tweak_score` reads a fast field per hit: together most of a
//! query's time at 100k documents. What they need from a segment never
//! changes (segments are immutable), so it is derived once per segment
//! ([`SegmentData`]) and kept in a [`SegmentCache`] while the segment lives.

use crate::query::length_bonus;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::schema::Facet;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

/// What a query needs from one segment, derived once.
pub struct SegmentData {
    /// Per document, the offsets of its counted facets in `facet_ords`.
    starts: Vec<u32>,
    /// Per document (flattened), the segment-local ordinals of its facets
    /// in a counted dimension.
    facet_ords: Vec<u32>,
    /// Per ordinal: the dimension (index into the dimensions counted) and
    /// the value; `None` for ordinals of other dimensions.
    facet_values: Vec<Option<(u8, Box<str>)>>,
    /// Per document, the tie-breaking bonus ([`length_bonus`]).
    bonus: Vec<f32>,
    /// How many dimensions are counted.
    dims: usize,
}

impl SegmentData {
    fn derive(reader: &SegmentReader, dims: &[&str]) -> tantivy::Result<SegmentData> {
        let max_doc = reader.max_doc() as usize;
        let facets = reader.facet_reader("facets")?;
        let mut facet_values: Vec<Option<(u8, Box<str>)>> = vec![None; facets.num_facets()];
        let mut stream = facets.facet_dict().stream()?;
        while stream.advance() {
            let Ok(facet) = Facet::from_encoded(stream.key().to_vec()) else {
                continue;
            };
            let path = facet.to_path();
            if path.len() < 2 {
                continue;
            }
            if let Some(dim) = dims.iter().position(|d| *d == path[0])
                && let Some(slot) = facet_values.get_mut(stream.term_ord() as usize)
            {
                *slot = Some((dim as u8, path[path.len() - 1].into()));
            }
        }
        let mut starts = Vec::with_capacity(max_doc + 1);
        let mut facet_ords = Vec::with_capacity(max_doc * 6);
        starts.push(0);
        for doc in 0..max_doc as DocId {
            for ord in facets.facet_ords(doc) {
                if facet_values.get(ord as usize).is_some_and(Option::is_some) {
                    facet_ords.push(ord as u32);
                }
            }
            starts.push(facet_ords.len() as u32);
        }
        facet_ords.shrink_to_fit();
        let lengths = reader
            .fast_fields()
            .u64("length")
            .ok()
            .map(|c| c.first_or_default_col(64));
        let bonus = (0..max_doc as DocId)
            .map(|doc| length_bonus(lengths.as_ref().map_or(64, |l| l.get_val(doc))))
            .collect();
        Ok(SegmentData {
            starts,
            facet_ords,
            facet_values,
            bonus,
            dims: dims.len(),
        })
    }
}

/// [`SegmentData`] of the segments being searched.
pub struct SegmentCache {
    dims: Vec<&'static str>,
    segments: Mutex<HashMap<SegmentId, Arc<SegmentData>>>,
}

impl SegmentCache {
    pub fn new(dims: Vec<&'static str>) -> SegmentCache {
        SegmentCache {
            dims,
            segments: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentData>> {
        let id = reader.segment_id();
        if let Some(data) = self.lock().get(&id) {
            return Ok(data.clone());
        }
        // Derived outside the lock: another query may do the same at the
        // same time; both get an equal answer.
        let data = Arc::new(SegmentData::derive(reader, &self.dims)?);
        self.lock().insert(id, data.clone());
        Ok(data)
    }

    /// Derives the data of `searcher`'s new segments and forgets those no
    /// longer in it (merged away). The writer calls it after each reload,
    /// so a query seldom derives anything itself (only one racing a reload).
    pub fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        let readers = searcher.segment_readers();
        for reader in readers {
            self.get(reader)?;
        }
        let live: Vec<SegmentId> = readers.iter().map(SegmentReader::segment_id).collect();
        self.lock().retain(|id, _| live.contains(id));
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentData>>> {
        self.segments.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A hit, ordered best first: higher score, then the earlier address.
#[derive(Clone, Copy, PartialEq)]
struct Hit {
    score: Score,
    address: DocAddress,
}

impl Eq for Hit {}

impl Ord for Hit {
    /// "Greater" is worse, so a max-heap's top is the worst kept hit.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .partial_cmp(&self.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| self.address.cmp(&other.address))
    }
}

impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The best `keep` hits.
struct Best {
    keep: usize,
    heap: BinaryHeap<Hit>,
}

impl Best {
    fn new(keep: usize) -> Best {
        Best {
            keep,
            heap: BinaryHeap::with_capacity(keep.min(1024) + 1),
        }
    }

    fn push(&mut self, hit: Hit) {
        if self.heap.len() < self.keep {
            self.heap.push(hit);
        } else if let Some(mut worst) = self.heap.peek_mut()
            && hit < *worst
        {
            *worst = hit;
        }
    }
}

/// What [`Matches`] found.
pub struct Found {
    /// The page asked for, best first, with its scores.
    pub page: Vec<(Score, DocAddress)>,
    /// Every match.
    pub total: u64,
    /// Per counted dimension (by index), value → matches, when counted.
    pub facets: Vec<BTreeMap<Box<str>, u64>>,
}

/// The collector: `offset` hits skipped, `limit` kept; facets counted when
/// asked for.
pub struct Matches<'a> {
    pub cache: &'a SegmentCache,
    pub offset: usize,
    pub limit: usize,
    pub count_facets: bool,
}

pub struct SegmentMatches {
    segment: SegmentOrdinal,
    data: Arc<SegmentData>,
    best: Best,
    total: u64,
    /// Per segment-local facet ordinal (empty when not counting).
    counts: Vec<u32>,
}

pub struct SegmentFound {
    hits: Vec<Hit>,
    total: u64,
    facets: Vec<BTreeMap<Box<str>, u64>>,
}

impl Collector for Matches<'_> {
    type Fruit = Found;
    type Child = SegmentMatches;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentMatches> {
        let data = self.cache.get(reader)?;
        let counts = if self.count_facets {
            vec![0; data.facet_values.len()]
        } else {
            Vec::new()
        };
        Ok(SegmentMatches {
            segment,
            data,
            best: Best::new(self.offset + self.limit),
            total: 0,
            counts,
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFound>) -> tantivy::Result<Found> {
        let mut best = Best::new(self.offset + self.limit);
        let mut total = 0;
        let mut facets: Vec<BTreeMap<Box<str>, u64>> = vec![BTreeMap::new(); self.cache.dims.len()];
        for fruit in fruits {
            total += fruit.total;
            for hit in fruit.hits {
                best.push(hit);
            }
            for (dim, values) in fruit.facets.into_iter().enumerate() {
                for (value, count) in values {
                    *facets[dim].entry(value).or_default() += count;
                }
            }
        }
        let mut hits = best.heap.into_vec();
        hits.sort();
        Ok(Found {
            page: hits
                .into_iter()
                .skip(self.offset)
                .map(|h| (h.score, h.address))
                .collect(),
            total,
            facets,
        })
    }
}

impl SegmentCollector for SegmentMatches {
    type Fruit = SegmentFound;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.total += 1;
        let data = &*self.data;
        let score = score + data.bonus.get(doc as usize).copied().unwrap_or(0.0);
        self.best.push(Hit {
            score,
            address: DocAddress::new(self.segment, doc),
        });
        if !self.counts.is_empty() {
            let from = data.starts[doc as usize] as usize;
            let to = data.starts[doc as usize + 1] as usize;
            for &ord in &data.facet_ords[from..to] {
                self.counts[ord as usize] += 1;
            }
        }
    }

    fn harvest(self) -> SegmentFound {
        let mut facets: Vec<BTreeMap<Box<str>, u64>> = vec![BTreeMap::new(); self.data.dims];
        for (ord, &count) in self.counts.iter().enumerate() {
            if count > 0
                && let Some((dim, value)) = &self.data.facet_values[ord]
            {
                *facets[*dim as usize].entry(value.clone()).or_default() += u64::from(count);
            }
        }
        SegmentFound {
            hits: self.best.heap.into_vec(),
            total: self.total,
            facets,
        }
    }
}

/// The `n` most frequent values (then alphabetical).
pub fn top_values(counts: &BTreeMap<Box<str>, u64>, n: usize) -> Vec<(&str, u64)> {
    let mut values: Vec<(&str, u64)> = counts.iter().map(|(v, c)| (&**v, *c)).collect();
    values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    values.truncate(n);
    values
}
