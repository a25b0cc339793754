//! YAML syntax shared by compose and Kubernetes.
//!
//! Three layers, all on the ORIGINAL text (nothing is ever re-serialized):
//!
//! 1. **Navigation** ([`parse`] → [`YamlFile`] → [`Document`] → [`Node`]): mappings, entries,
//!    sequences, items and scalars with exact byte ranges, anchors, tags, alias resolution
//!    ([`Alias::target`], [`Node::resolve`]), merge keys ([`Mapping::get_merged`]) and key paths
//!    ([`Node::path`]). Built from `yaml-edit`'s lossless CST (see `cst.rs`).
//! 2. **Meaning** ([`semantic`], [`semantic_diff`]): one `serde_json::Value` per document from
//!    `serde-saphyr` with merge keys applied, aliases expanded under budgets, and non-string keys
//!    stringified; used to verify that a fix changed only what it declares.
//! 3. **Edits** (methods on the views, returning [`Edit`](crate::edit::Edit)s): insert an entry,
//!    append an item, remove an entry or item, replace a scalar or a value — minimal, and in the
//!    file's own style (indent step, sequence indentation, line endings, quoting).
//!
//! Hostile input is an error, never a hang or a crash: [`MAX_INPUT_BYTES`] and
//! [`MAX_NESTING_DEPTH`] are checked on the raw text before either parser runs; what aliases expand
//! to (nodes and bytes, merge keys included) is counted on the navigation model before anything is
//! expanded, and refused past `max(250 000 nodes, the file's own)` or `max(16 MiB, the file's
//! size)`; the semantic view then runs under `serde-saphyr` budgets set above those limits.
//!
//! [`parse`] builds both the navigation model and the meaning, one document at a time, so every
//! user of a parsed file (`check` as much as `fix`) applies the same parsing and the same limits.
//! [`reparse`] loads again only the documents an edit changed.
//!
//! # Public API
//!
//! ```text
//! pub const MAX_INPUT_BYTES: usize;  pub const MAX_NESTING_DEPTH: usize;
//! pub struct YamlError { pub message: String, pub range: TextRange }            // Display + Error
//! pub fn parse(text: &str) -> Result<YamlFile, YamlError>;      // navigation model + meaning
//! pub fn reparse(text: &str, previous: &YamlFile) -> Result<(YamlFile, Vec<usize>), YamlError>;
//! pub fn semantic(text: &str) -> Result<Vec<serde_json::Value>, YamlError>;
//! pub fn semantic_diff(a: &[Value], b: &[Value]) -> Vec<(usize, Vec<String>)>;
//! pub fn semantic_diff_one(a: &Value, b: &Value) -> Vec<Vec<String>>;
//!
//! YamlFile: text() documents() document(i) values() line_index() line_ending() has_bom()
//!           comments() nodes_at(offset) indent_unit() sequence_indent() preferred_quote()
//! Document: index() range() root() anchor(name) anchors() resolve_anchor_at(name, offset)
//!           aliases() aliases_named(name)
//! Node = Mapping | Sequence | Scalar | Alias | Null
//!   range() full_range() anchor() anchor_range() tag() text() document() parent() -> Parent
//!   as_mapping() as_sequence() as_scalar() as_alias() as_str() is_null() resolve() path(&[&str])
//! Mapping:  is_flow() is_flow_pair() entries() len() is_empty() get(key)
//!           get_merged(key) -> Option<(Entry, Origin)> merged_entries() merge_sources()
//!           indent() indent_unit() sequence_indent()
//!           insert_entry(key, value_fragment) -> Result<Vec<Edit>, YamlError>
//! Entry:    key() key_range() key_node() colon_range() is_merge() value() range() line_range()
//!           mapping() index() remove() replace_value(fragment)
//! Sequence: is_flow() items() get(i) len() is_empty() indent() item_gap() append_item(fragment)
//! Item:     value() range() dash_range() line_range() sequence() index() remove()
//!           remove_or_parent_entry()
//! Scalar:   value() raw() range() style() is_null() in_flow() replace(new_value) -> Edit
//! Alias:    name() target()            Null: range() (empty: where a value would go)
//! (Mapping, Sequence, Scalar, Alias, Null also have range() anchor() tag() text() as_node()
//!  document() parent().)  Every builder returns Result<Vec<Edit>, YamlError> except
//!  Scalar::replace (always possible).
//! Origin = Own | Anchor(name) | InlineMerge
//! node_reach(node) key_reach(mapping, key) -> Reach { paths, complete }: what an in-place edit
//!           changes through anchors, aliases and merge keys (one answer for every YAML rule)
//! scalar helpers: ScalarStyle, QuoteStyle, is_plain_safe, plain_is_string, string_scalar,
//!                 quoted, single_quoted, double_quoted
//! ```

mod certify;
mod cst;
mod edits;
mod fragment;
mod limits;
mod model;
mod parser;
mod reach;
mod scalar;
mod semantic;
mod style;

#[cfg(test)]
mod tests;

use std::fmt;

use crate::text::TextRange;

pub use model::{
    Alias, Document, Entry, Item, Mapping, Node, Null, Origin, Parent, Scalar, Sequence, YamlFile,
};
pub use reach::{key_reach, node_reach, same_node, unshared, Reach};
pub use scalar::{
    double_quoted, is_plain_safe, plain_is_string, quoted, single_quoted, string_scalar,
    QuoteStyle, ScalarStyle,
};
pub use semantic::{semantic, semantic_diff, semantic_diff_one};

/// Files larger than this are refused (8 MiB).
pub const MAX_INPUT_BYTES: usize = 8 * 1024 * 1024;

/// Block indentation levels plus open flow brackets deeper than this are refused, before any
/// parser runs. `serde-saphyr`'s depth budget for the semantic view is set to the same value.
pub const MAX_NESTING_DEPTH: usize = 128;

/// A located YAML error: a message and the byte range of the text it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub range: TextRange,
}

impl YamlError {
    #[must_use]
    pub fn new(message: impl Into<String>, range: TextRange) -> Self {
        Self {
            message: message.into(),
            range,
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for YamlError {}

/// Parse `text` (all its documents) into the navigation model.
///
/// # Errors
/// The size or nesting limits are exceeded, or the text is not YAML that `yaml-edit` accepts. The
/// error's range points at the problem.
pub fn parse(text: &str) -> Result<YamlFile, YamlError> {
    parse_impl(text, false, false)
}

/// [`parse`], with the values loaded now even when the file is proven to load without them: for
/// a file whose fixes will be verified (their load would come anyway, and proving costs a pass).
///
/// # Errors
/// As [`parse`].
pub fn parse_loaded(text: &str) -> Result<YamlFile, YamlError> {
    parse_impl(text, false, true)
}

/// [`parse`] for value fragments of the edit builders: aliases to anchors the fragment does not
/// define are allowed (they refer to the target file's).
pub(crate) fn parse_fragment(text: &str) -> Result<YamlFile, YamlError> {
    parse_impl(text, true, false)
}

fn parse_impl(text: &str, fragment: bool, load: bool) -> Result<YamlFile, YamlError> {
    let depth = limits::check(text)?;
    if fragment {
        let cst = cst::parse(text, true, true)?;
        return Ok(YamlFile::from_data(model::build(text, &cst)?));
    }
    // Loading every document runs the event parser that decides validity (`cst::check_syntax`),
    // so a file that loads is valid YAML: the separate syntax pass runs only when something
    // failed, so that an invalid file gets the same error as when it ran first.
    // A file proven to load without loading it (most files: no tag, alias or merge key) is loaded
    // only when its values are asked for (fix verification), not to check it.
    let built = (|| {
        let cst = cst::parse(text, false, false)?;
        let mut data = model::build(text, &cst)?;
        let expansion = limits::expansion(&data)?;
        let deep = depth > INLINE_MAX_DEPTH;
        if !load && semantic::loads_as_parsed(&data, &expansion) {
            data.deferred = Some(semantic::Deferred { expansion, deep });
        } else {
            let values = semantic::load(&data, &expansion, None, deep)?.0;
            data.values = std::sync::OnceLock::from(Ok(values));
        }
        Ok(data)
    })();
    named(text, built).map(YamlFile::from_data)
}

/// `result`, whose error, when the text is not valid YAML, is the event parser's syntax error (the
/// error a separate syntax pass run first would give).
fn named<T>(text: &str, result: Result<T, YamlError>) -> Result<T, YamlError> {
    result.or_else(|e| {
        cst::check_syntax(text, false)?;
        Err(e)
    })
}

/// The error the limits or the event parser report for `text`, if any (for tests: [`parse`] must
/// refuse every text this refuses, with this error).
#[doc(hidden)]
#[must_use]
pub fn syntax_error(text: &str) -> Option<YamlError> {
    limits::check(text)
        .err()
        .or_else(|| cst::check_syntax(text, false).err())
}

/// Nesting up to which the loader runs on the caller's stack (a 2 MiB test thread holds about 64
/// levels in a debug build).
const INLINE_MAX_DEPTH: usize = 16;

/// [`parse`] a new version of a file: `text` is `previous`'s text after some edits. The syntax tree
/// is rebuilt (one linear pass), but only the documents whose text changed are loaded again; the
/// others keep their meaning from `previous`. Returns the file and the indexes of the documents
/// that were loaded (every index when the number of documents changed).
///
/// # Errors
/// As [`parse`].
pub fn reparse(text: &str, previous: &YamlFile) -> Result<(YamlFile, Vec<usize>), YamlError> {
    let depth = limits::check(text)?;
    // The documents that did not change keep the values of `previous` (loaded now if its load
    // was deferred: verification compares them anyway).
    previous.values()?;
    // As in `parse_impl`: every document is loaded now or was loaded (or proven to load) from the
    // same text before, which decides validity; the syntax pass runs only to name an error.
    let built = (|| {
        let cst = cst::parse(text, false, false)?;
        let mut data = model::build(text, &cst)?;
        let expansion = limits::expansion(&data)?;
        let (values, loaded) = semantic::load(
            &data,
            &expansion,
            Some(&previous.data),
            depth > INLINE_MAX_DEPTH,
        )?;
        data.values = std::sync::OnceLock::from(Ok(values));
        Ok((data, loaded))
    })();
    named(text, built).map(|(data, loaded)| (YamlFile::from_data(data), loaded))
}
