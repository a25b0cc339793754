//! dockharden's parsers, fix engine and transforms. No file system, network or terminal access here:
//! every function takes text and returns findings and edits.

pub mod apply;
pub mod baseline;
pub mod codes;
pub mod compose;
pub mod dockerfile;
pub mod edit;
pub mod engine;
pub mod entrypoint;
pub mod finding;
pub mod fix;
pub mod images;
pub mod knowledge;
pub mod kubernetes;
pub mod needs;
pub mod paths;
pub mod registry;
pub mod scripts;
pub mod session;
pub mod settings;
pub mod severity;
pub mod source;
pub mod suppression;
pub mod text;
pub mod yaml;

pub use edit::Edit;
pub use finding::Finding;
pub use fix::{Applicability, Fix, SemanticPath};
pub use text::{LineCol, LineIndex, TextRange};

/// Bounded per-thread memos of pure computations keyed by text: a rule asks the same question
/// (the same fragment laid out, the same image's facts) for every service, container or stage of
/// every file, and each rayon worker keeps its own answers (no lock).
pub(crate) mod memo {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::thread::LocalKey;

    /// The memos' hasher: fast on long keys (scripts), seeded per process.
    type Hasher = foldhash::fast::RandomState;

    /// The cache type for [`get_or_try`]: declare one per question with `thread_local!`.
    pub(crate) type Cache<V> = RefCell<HashMap<Vec<u8>, V, Hasher>>;

    /// The answer for `key` from `cache`, else `compute`d and kept (cleared first when it holds
    /// `limit` answers). Errors are not kept: the next call computes again.
    pub(crate) fn get_or_try<V: Clone, E>(
        cache: &'static LocalKey<Cache<V>>,
        limit: usize,
        key: &[u8],
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(hit) = cache.with(|c| c.borrow().get(key).cloned()) {
            return Ok(hit);
        }
        let value = compute()?;
        cache.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= limit {
                c.clear();
            }
            c.insert(key.to_owned(), value.clone());
        });
        Ok(value)
    }

    /// [`get_or_try`] for a computation that cannot fail.
    pub(crate) fn get_or_compute<V: Clone>(
        cache: &'static LocalKey<Cache<V>>,
        limit: usize,
        key: &[u8],
        compute: impl FnOnce() -> V,
    ) -> V {
        let Ok(value) =
            get_or_try::<_, std::convert::Infallible>(cache, limit, key, || Ok(compute()));
        value
    }

    /// The cache type for [`get_or_compute_by_text`]: the answers, and the bytes of their keys.
    pub(crate) type TextCache<V> = RefCell<(HashMap<Vec<u8>, V, Hasher>, usize)>;

    /// The answer for the text `key` from `cache`, else `compute`d and kept: for answers about a
    /// script or an instruction, whose text repeats across the variants of one image (generated
    /// Dockerfiles) and across the rounds of a fix run. Bounded by the bytes of the keys kept, as
    /// the answers grow with their text: cleared first when `key` would take it past `max_bytes`;
    /// a key longer than that is not kept.
    pub(crate) fn get_or_compute_by_text<V: Clone>(
        cache: &'static LocalKey<TextCache<V>>,
        max_bytes: usize,
        key: &[u8],
        compute: impl FnOnce() -> V,
    ) -> V {
        if let Some(hit) = cache.with(|c| c.borrow().0.get(key).cloned()) {
            return hit;
        }
        let value = compute();
        if key.len() <= max_bytes {
            cache.with(|c| {
                let mut c = c.borrow_mut();
                if c.1 + key.len() > max_bytes {
                    c.0.clear();
                    c.1 = 0;
                }
                c.1 += key.len();
                c.0.insert(key.to_owned(), value.clone());
            });
        }
        value
    }

    /// A key made of several parts, unambiguous whatever the parts hold: numbers as 8 bytes, texts
    /// with their length first, absent parts as a byte of their own. (Built without the
    /// formatting machinery: a key is built on every look-up.)
    pub(crate) struct Key(Vec<u8>);

    impl Default for Key {
        /// Room for the usual key (a few numbers and short texts) from the start: no regrowing.
        fn default() -> Self {
            Self(Vec::with_capacity(128))
        }
    }

    impl Key {
        pub(crate) fn num(mut self, n: usize) -> Self {
            self.0.extend_from_slice(&(n as u64).to_le_bytes());
            self
        }

        pub(crate) fn text(self, s: &str) -> Self {
            let mut k = self.num(s.len());
            k.0.extend_from_slice(s.as_bytes());
            k
        }

        pub(crate) fn opt(mut self, s: Option<&str>) -> Self {
            match s {
                None => {
                    self.0.push(0);
                    self
                }
                Some(s) => {
                    self.0.push(1);
                    self.text(s)
                }
            }
        }

        pub(crate) fn bytes(&self) -> &[u8] {
            &self.0
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        thread_local! {
            static SQUARES: Cache<u64> = Cache::default();
        }

        #[test]
        fn answers_are_kept_errors_are_not_and_the_cache_is_bounded() {
            let computed = std::cell::Cell::new(0);
            let square = |key: &str, fail: bool| {
                get_or_try(&SQUARES, 3, key.as_bytes(), || {
                    computed.set(computed.get() + 1);
                    if fail {
                        return Err("no");
                    }
                    let n: u64 = key.parse().unwrap();
                    Ok(n * n)
                })
            };
            assert_eq!(square("4", true), Err("no"));
            assert_eq!(square("4", false), Ok(16));
            assert_eq!(square("4", true), Ok(16), "a kept answer");
            assert_eq!(computed.get(), 2);
            for k in ["5", "6", "7"] {
                square(k, false).unwrap();
            }
            assert_eq!(SQUARES.with(|c| c.borrow().len()), 1, "cleared when full");
            assert_eq!(square("4", false), Ok(16));
            assert_eq!(computed.get(), 6, "computed again after the clear");
        }

        thread_local! {
            static LENGTHS: TextCache<usize> = TextCache::default();
        }

        #[test]
        fn text_answers_are_kept_within_the_byte_bound() {
            let computed = std::cell::Cell::new(0);
            let length = |key: &str| {
                get_or_compute_by_text(&LENGTHS, 10, key.as_bytes(), || {
                    computed.set(computed.get() + 1);
                    key.len()
                })
            };
            assert_eq!(length("abcd"), 4);
            assert_eq!(length("abcd"), 4);
            assert_eq!(computed.get(), 1, "a kept answer");
            assert_eq!(length("efgh"), 4);
            assert_eq!(LENGTHS.with(|c| c.borrow().1), 8);
            // 8 + 3 bytes would pass the bound: cleared first.
            assert_eq!(length("ijk"), 3);
            assert_eq!(LENGTHS.with(|c| (c.borrow().0.len(), c.borrow().1)), (1, 3));
            assert_eq!(length("abcd"), 4);
            assert_eq!(computed.get(), 4, "computed again after the clear");
            // Longer than the bound: answered, not kept.
            assert_eq!(length("0123456789ab"), 12);
            assert_eq!(length("0123456789ab"), 12);
            assert_eq!(computed.get(), 6);
            assert_eq!(LENGTHS.with(|c| c.borrow().1), 7);
        }

        #[test]
        fn keys_tell_their_parts_apart() {
            let k = |a: Option<&str>, b: &str, n: usize| Key::default().opt(a).text(b).num(n).0;
            let keys = [
                k(None, "ab", 1),
                k(Some(""), "ab", 1),
                k(Some("a"), "b", 1),
                k(Some("ab"), "", 1),
                k(None, "ab", 2),
                k(None, "ab\u{1}", 1),
            ];
            for (i, a) in keys.iter().enumerate() {
                for b in &keys[i + 1..] {
                    assert_ne!(a, b);
                }
            }
            assert_eq!(k(Some("a"), "b", 1), k(Some("a"), "b", 1));
        }
    }
}

#[cfg(test)]
pub(crate) mod testing;

/// Step counters for the tests that check costs grow linearly with the input: they count work
/// (documents loaded, edits compared, scripts lexed), never time. Compiled into test builds only.
#[cfg(test)]
pub(crate) mod work {
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        static COUNTS: RefCell<HashMap<&'static str, usize>> = RefCell::new(HashMap::new());
    }

    pub(crate) fn add(what: &'static str, n: usize) {
        COUNTS.with(|c| *c.borrow_mut().entry(what).or_insert(0) += n);
    }

    /// The count so far on this thread, reset to zero.
    pub(crate) fn take(what: &'static str) -> usize {
        COUNTS.with(|c| c.borrow_mut().remove(what).unwrap_or(0))
    }
}
