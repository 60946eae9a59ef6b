//! [`AnyOf`]: a document matches when any clause does; its score is the
//! sum of the matching clauses' scores.
//!
//! A `BooleanQuery` of `Should` clauses does the same through tantivy's
//! buffered union, which scores a window of 4,096 documents ahead at once.
//! That is fast when the union leads, but a word's union is mostly *sought*
//! by an intersection (`component-42`: the rare `42` leads, `component`, in
//! 70,000 names, kinds and prefixes, follows), and every seek past the
//! window scores the next 4,096 documents of every clause, nearly all of
//! them thrown away. This union only moves its clauses to the target and
//! scores the document it lands on.

use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

#[derive(Debug)]
pub struct AnyOf {
    clauses: Vec<Box<dyn Query>>,
}

impl Clone for AnyOf {
    fn clone(&self) -> AnyOf {
        AnyOf {
            clauses: self.clauses.iter().map(|q| q.box_clone()).collect(),
        }
    }
}

impl AnyOf {
    pub fn new(clauses: Vec<Box<dyn Query>>) -> AnyOf {
        AnyOf { clauses }
    }
}

impl Query for AnyOf {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self
            .clauses
            .iter()
            .map(|clause| clause.weight(scoring))
            .collect::<tantivy::Result<_>>()?;
        Ok(Box::new(AnyOfWeight { weights }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for clause in &self.clauses {
            clause.query_terms(visitor);
        }
    }
}

struct AnyOfWeight {
    weights: Vec<Box<dyn Weight>>,
}

impl Weight for AnyOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut scorers = Vec::with_capacity(self.weights.len());
        for weight in &self.weights {
            let scorer = weight.scorer(reader, boost)?;
            if scorer.doc() != TERMINATED {
                scorers.push(scorer);
            }
        }
        Ok(match scorers.len() {
            0 => Box::new(EmptyScorer),
            1 => scorers.pop().expect("one scorer"),
            _ => Box::new(AnyOfScorer::new(scorers)),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        Ok(Explanation::new("any of", scorer.score()))
    }
}

/// The clauses' scorers, each on its own current document (kept beside
/// it, so moving the union reads an array rather than calling each
/// scorer); the union is on the smallest.
struct AnyOfScorer {
    scorers: Vec<Box<dyn Scorer>>,
    docs: Vec<DocId>,
    doc: DocId,
}

impl AnyOfScorer {
    fn new(scorers: Vec<Box<dyn Scorer>>) -> AnyOfScorer {
        let docs = scorers.iter().map(|s| s.doc()).collect();
        let mut union = AnyOfScorer {
            scorers,
            docs,
            doc: TERMINATED,
        };
        union.settle();
        union
    }

    /// Moves to the smallest current document (finished clauses are on
    /// `TERMINATED`, the largest).
    fn settle(&mut self) -> DocId {
        self.doc = self.docs.iter().copied().min().unwrap_or(TERMINATED);
        self.doc
    }
}

impl DocSet for AnyOfScorer {
    fn advance(&mut self) -> DocId {
        let current = self.doc;
        for (doc, scorer) in self.docs.iter_mut().zip(&mut self.scorers) {
            if *doc == current {
                *doc = scorer.advance();
            }
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for (doc, scorer) in self.docs.iter_mut().zip(&mut self.scorers) {
            if *doc < target {
                *doc = scorer.seek(target);
            }
        }
        self.settle()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.scorers
            .iter()
            .map(|s| s.size_hint())
            .fold(0u32, u32::saturating_add)
    }

    fn cost(&self) -> u64 {
        self.scorers.iter().map(|s| s.cost()).sum()
    }
}

impl Scorer for AnyOfScorer {
    fn score(&mut self) -> Score {
        let current = self.doc;
        let mut score = 0.0;
        for (doc, scorer) in self.docs.iter().zip(&mut self.scorers) {
            if *doc == current {
                score += scorer.score();
            }
        }
        score
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    /// Same matches and scores as a `Should` boolean query, led or sought.
    #[test]
    fn matches_and_scores_like_a_boolean_should() {
        let mut schema = Schema::builder();
        let a = schema.add_text_field("a", STRING);
        let b = schema.add_text_field("b", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        for i in 0..10_000u32 {
            let mut doc = TantivyDocument::new();
            doc.add_text(a, if i % 3 == 0 { "x" } else { "y" });
            doc.add_text(b, if i % 1000 == 7 { "rare" } else { "common" });
            if i % 5 == 0 {
                doc.add_text(b, "x");
            }
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let term = |f, t: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f, t),
                IndexRecordOption::WithFreqs,
            ))
        };
        let union = || vec![term(a, "x"), term(b, "x")];
        let should = |qs: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                qs.into_iter().map(|q| (Occur::Should, q)).collect(),
            ))
        };
        let with = |q: Box<dyn Query>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, term(b, "rare")),
                (Occur::Must, q),
            ]))
        };
        for (ours, theirs) in [
            (
                Box::new(AnyOf::new(union())) as Box<dyn Query>,
                should(union()),
            ),
            (with(Box::new(AnyOf::new(union()))), with(should(union()))),
        ] {
            let top = |q: &dyn Query| {
                searcher
                    .search(q, &TopDocs::with_limit(20_000).order_by_score())
                    .unwrap()
            };
            assert_eq!(
                searcher.search(&*ours, &Count).unwrap(),
                searcher.search(&*theirs, &Count).unwrap()
            );
            let (mut x, mut y) = (top(&*ours), top(&*theirs));
            x.sort_by_key(|(_, d)| *d);
            y.sort_by_key(|(_, d)| *d);
            assert_eq!(x.len(), y.len());
            for ((s1, d1), (s2, d2)) in x.iter().zip(&y) {
                assert_eq!(d1, d2);
                assert!((s1 - s2).abs() < 1e-4, "{s1} vs {s2}");
            }
        }
    }
}
