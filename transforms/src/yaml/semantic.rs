//! The semantic view: what a YAML file means, one JSON value per document, from `serde-saphyr`
//! (merge keys applied, aliases expanded under budgets). Used to verify that a fixed file differs
//! from the input only where the applied fixes say.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Budget, DuplicateKeyPolicy, MergeKeyPolicy, NonFiniteFloatPolicy, Options};

use super::limits::Expansion;
use super::model::{FileData, KindData};
use super::{YamlError, MAX_NESTING_DEPTH};
use crate::text::{LineIndex, TextRange};

/// Options for `serde-saphyr`. What aliases may cost is decided before loading, by the size they
/// expand to ([`super::limits::expansion`]); the loader's own budgets are set above that, as a
/// second line of defence that real files never reach. Its alias/anchor ratio heuristic is off:
/// real compose files use one anchor (`x-logging: &logging`) in every service.
pub(crate) fn options(text_len: usize, expansion: &Expansion) -> Options {
    let nodes = usize::try_from(
        expansion
            .own_nodes
            .saturating_add(expansion.node_limit())
            .saturating_add(1024),
    )
    .unwrap_or(usize::MAX);
    let bytes = text_len
        .saturating_add(usize::try_from(super::limits::MIN_ALIAS_BYTES).unwrap_or(usize::MAX))
        .saturating_mul(2);
    let mut budget = Budget::default();
    budget.max_depth = MAX_NESTING_DEPTH;
    budget.max_nodes = nodes;
    budget.max_events = nodes.saturating_mul(4);
    budget.max_aliases = usize::MAX;
    budget.max_anchors = usize::MAX;
    budget.max_documents = usize::MAX;
    budget.max_merge_keys = usize::MAX;
    budget.enforce_alias_anchor_ratio = false;
    budget.max_recorded_anchor_events = nodes.saturating_mul(4);
    budget.max_recorded_anchor_bytes = bytes;
    budget.max_reader_input_bytes = Some(super::MAX_INPUT_BYTES);
    budget.max_total_scalar_bytes = bytes;
    let mut o = Options::default();
    o.budget = Some(budget);
    o.alias_limits.max_total_replayed_events = nodes.saturating_mul(4);
    o.alias_limits.max_replay_stack_depth = 64;
    // A repeated key: the last one wins, as in the navigation model (`Mapping::get`) and PyYAML.
    o.duplicate_keys = DuplicateKeyPolicy::LastWins;
    o.merge_keys = MergeKeyPolicy::Merge;
    o.with_snippet = false;
    // YAML 1.2 core schema: only `true` / `false` are booleans (a key `y` stays "y").
    o.strict_booleans = true;
    o.non_finite_float_policy = NonFiniteFloatPolicy::PassThrough;
    o
}

/// The meaning of every document of `text`, in order (an empty document is `null`), with `<<` merge
/// keys applied and aliases expanded: what [`super::parse`] loads, one value per document of the
/// navigation model. Mapping keys that are not strings are written as strings
/// (`1` → `"1"`, `true` → `"true"`, `null` → `"null"`, a collection as its JSON text); NaN and
/// infinities become the strings `".nan"`, `".inf"`, `"-.inf"`; binary values their bytes as an
/// array; a `!!timestamp` its text.
///
/// # Errors
/// The text is not valid YAML or exceeds a limit (size, depth, what aliases expand to: a
/// "billion laughs" alias bomb is rejected before anything is expanded). The error is located.
pub fn semantic(text: &str) -> Result<Vec<Value>, YamlError> {
    let file = super::parse(text)?;
    Ok(file.values()?.iter().map(|v| Value::clone(v)).collect())
}

/// What loading a file whose load was deferred needs.
pub(crate) struct Deferred {
    pub expansion: Expansion,
    pub deep: bool,
}

/// The values of a file whose load was deferred by [`super::parse`] (none for a fragment).
pub(crate) fn load_deferred(file: &FileData) -> Result<Vec<Arc<Value>>, YamlError> {
    match &file.deferred {
        Some(d) => load(file, &d.expansion, None, d.deep).map(|(v, _)| v),
        None => Ok(Vec::new()),
    }
}

/// Whether every document of `file` is proven to load (see [`load`]) without building its value,
/// so that checking can skip the loader: the text has no tag, alias or merge key (the loader's
/// only refusals beyond syntax: an unsupported tag or a tagged value it cannot read, a merge of a
/// scalar, a recursive alias), and each document's text is, to the loader's own event parser with
/// the loader's options, valid and exactly one document (as [`load`] requires): proven without
/// the event parser for the common block-style shapes ([`super::certify::certainly_valid`]), else
/// by running it. Anything else is loaded by the parse as before, which also gives the loader's
/// own error.
pub(crate) fn loads_as_parsed(file: &FileData, expansion: &Expansion) -> bool {
    let text = file.text.as_str();
    // (Byte searches over the whole text: every character searched for is ASCII.)
    if memchr::memchr2(b'!', b'*', text.as_bytes()).is_some()
        || memchr::memmem::find(text.as_bytes(), b"<<").is_some()
    {
        return false;
    }
    let mut events = None;
    document_slices(file).iter().all(|r| {
        let src = r.slice(text);
        super::certify::certainly_valid(src)
            || is_one_document(
                src,
                events.get_or_insert_with(|| event_options(&options(text.len(), expansion))),
            )
    })
}

/// Whether `src` is, to the event parser with `events`, valid and exactly one document.
pub(crate) fn is_one_document(src: &str, events: &serde_saphyr::granit_parser::Options) -> bool {
    use serde_saphyr::granit_parser::{Event, Parser};
    let mut documents = 0;
    for event in Parser::new_from_str_with_options(src, events.clone()) {
        match event {
            Err(_) => return false,
            Ok((Event::DocumentStart(..), _)) => documents += 1,
            Ok(_) => {}
        }
    }
    documents == 1
}

/// The options of the event parser that `serde-saphyr` derives from `o` (its
/// `Budget::parser_options`, `Options::parser_options`).
pub(crate) fn event_options(o: &Options) -> serde_saphyr::granit_parser::Options {
    let default_budget = Budget::default();
    let budget = o.budget.as_ref().unwrap_or(&default_budget);
    let mut events = serde_saphyr::granit_parser::Options::default();
    events.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    events.flow_nesting_limit = budget.flow_nesting_limit;
    events.block_nesting_limit = events
        .block_nesting_limit
        .max(budget.max_depth.saturating_add(1));
    events.emit_comments = false;
    events.strict_indentation = o.strict_indentation;
    events.bom_inside_document_as_content = o.bom_inside_document_as_content;
    events
}

/// The value of `src`, the text of one document, built straight from the event parser's events
/// (parsed with `events`, the options `serde-saphyr` parses with), for a document whose meaning
/// needs none of `serde-saphyr`'s deserializer: mappings, sequences and scalars without tag,
/// anchor or alias, no key repeated or not a scalar, no scalar `<<` (a merge key), plain scalars
/// that are certainly a string, `null`, a boolean or a decimal integer ([`simple_plain`]), at
/// most half as deep as the loader's limit. What `serde-saphyr` gives for such a document (tested
/// equal over the corpora and mutants of them), at a fraction of the cost: loading values for
/// verification was a quarter of `fix --unsafe-fixes`. None for anything else, an error
/// included: the caller loads it with `serde-saphyr`, which also gives the error.
fn load_simple(src: &str, events: &serde_saphyr::granit_parser::Options) -> Option<Value> {
    use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
    enum Open {
        Seq(Vec<Value>),
        /// The mapping so far and the key read whose value comes next.
        Map(Map<String, Value>, Option<String>),
    }
    /// Puts a finished value where it belongs: the document's root, the open sequence's next
    /// item, or the value of the open mapping's pending key (a collection as a key: None).
    fn place(open: &mut [Open], root: &mut Option<Value>, v: Value) -> Option<()> {
        match open.last_mut() {
            None => {
                if root.replace(v).is_some() {
                    return None;
                }
            }
            Some(Open::Seq(items)) => items.push(v),
            Some(Open::Map(map, pending)) => {
                let key = pending.take()?;
                if map.insert(key, v).is_some() {
                    return None;
                }
            }
        }
        Some(())
    }
    /// Opens a collection, unless it is anchored, tagged, a key or too deep.
    fn start(open: &mut Vec<Open>, anchor: usize, tagged: bool, new: Open) -> Option<()> {
        let is_key = matches!(open.last(), Some(Open::Map(_, None)));
        if anchor != 0 || tagged || is_key || open.len() >= MAX_NESTING_DEPTH / 2 {
            return None;
        }
        open.push(new);
        Some(())
    }
    let mut open: Vec<Open> = Vec::new();
    let mut root = None;
    let mut documents = 0;
    for event in Parser::new_from_str_with_options(src, events.clone()) {
        match event.ok()?.0 {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return None;
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                // (`<<` as a key merges a mapping in: `serde-saphyr`'s to apply.)
                if value == "<<" {
                    return None;
                }
                let v = if style == ScalarStyle::Plain {
                    simple_plain(&value)?
                } else {
                    Value::String(value.into_owned())
                };
                if let Some(Open::Map(_, pending @ None)) = open.last_mut() {
                    *pending = Some(key_string(v));
                } else {
                    place(&mut open, &mut root, v)?;
                }
            }
            Event::SequenceStart(_, anchor, tag) => {
                start(&mut open, anchor, tag.is_some(), Open::Seq(Vec::new()))?;
            }
            Event::MappingStart(_, anchor, tag) => {
                start(
                    &mut open,
                    anchor,
                    tag.is_some(),
                    Open::Map(Map::new(), None),
                )?;
            }
            Event::SequenceEnd => match open.pop()? {
                Open::Seq(items) => place(&mut open, &mut root, Value::Array(items))?,
                Open::Map(..) => return None,
            },
            Event::MappingEnd => match open.pop()? {
                Open::Map(map, None) => place(&mut open, &mut root, Value::Object(map))?,
                _ => return None,
            },
            _ => return None,
        }
    }
    (documents == 1 && open.is_empty()).then_some(())?;
    root
}

/// What a plain scalar means when that is certain without `serde-saphyr`'s own resolution:
/// `null` (empty, `~`, `null`, `Null`, `NULL`), a boolean (`true`, `True`, `TRUE`, and the same
/// of `false`: YAML 1.2, as `strict_booleans` sets), a decimal integer (digits without a
/// leading zero, up to 18 of them), or a string: text whose first character cannot start a
/// number (not a digit, sign or `.`), or that no integer or float spelling matches: a character
/// none has (`128Mi`, `8080:80`), no digit and no `n`/`N` (`.`, `-c`), or two dots (`127.0.0.1`,
/// `1.38.0`). None for the rest (`0x1F`, `1_000`, `3.8`, `.inf`, `-1`, `007`), which
/// `serde-saphyr` resolves.
fn simple_plain(value: &str) -> Option<Value> {
    let t = value.trim_matches([' ', '\t', '\r', '\n']);
    match t {
        _ if matches!(value, "" | "~" | "null" | "Null" | "NULL") => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let bytes = t.as_bytes();
    if !bytes.is_empty()
        && bytes.len() <= 18
        && bytes.iter().all(u8::is_ascii_digit)
        && (bytes[0] != b'0' || bytes.len() == 1)
    {
        return t.parse::<u64>().ok().map(|n| Value::Number(n.into()));
    }
    let numeric_start = bytes
        .first()
        .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'));
    // Every character of an integer (decimal, `0x`, `0o`, `0b`, with `_`) or float (`1.5e-3`,
    // `.inf`, `.NaN`, `Infinity`) spelling.
    let numeric_char = |b: &u8| {
        b.is_ascii_hexdigit()
            || matches!(
                b,
                b'+' | b'-'
                    | b'.'
                    | b'_'
                    | b'x'
                    | b'X'
                    | b'o'
                    | b'O'
                    | b'i'
                    | b'I'
                    | b'n'
                    | b'N'
                    | b't'
                    | b'T'
                    | b'y'
                    | b'Y'
            )
    };
    // Every number spelling has a digit, or is an infinity or NaN (with an `n` or `N`), and has at
    // most one `.` (`.`, `-c`, `127.0.0.1`, `1.38.0` are strings).
    let no_number = !bytes.iter().all(numeric_char)
        || (!bytes.iter().any(u8::is_ascii_digit)
            && !bytes.iter().any(|b| matches!(b, b'n' | b'N')))
        || bytes.iter().filter(|&&b| b == b'.').count() > 1;
    (value == t && (!numeric_start || no_number)).then(|| Value::String(value.to_owned()))
}

/// Per document, the text the loader reads: from the end of the previous document (so that the
/// directives and comments before `---` come along) to the end of this one; the last one runs to
/// the end of the text.
pub(crate) fn document_slices(file: &FileData) -> Vec<TextRange> {
    let n = file.docs.len();
    (0..n)
        .map(|i| {
            let start = if i == 0 {
                0
            } else {
                file.docs[i - 1].range.end
            };
            let end = if i + 1 == n {
                file.text.len()
            } else {
                file.docs[i].range.end
            };
            TextRange::new(start.min(end), end)
        })
        .collect()
}

/// Load the meaning of every document of `file` (its navigation model is built), one document at a
/// time. A document whose text is byte for byte the same as the same document of `previous` (a
/// re-parse after edits elsewhere) keeps its value without loading. Returns the values and the
/// indexes of the documents that were loaded.
///
/// `deep`: the text nests deep enough (or replays aliases) that the loader needs a large stack.
pub(crate) fn load(
    file: &FileData,
    expansion: &Expansion,
    previous: Option<&FileData>,
    deep: bool,
) -> Result<(Vec<Arc<Value>>, Vec<usize>), YamlError> {
    let text = file.text.as_str();
    let slices = document_slices(file);
    let old_slices = previous
        .and_then(|p| Some((p, p.values.get()?.as_ref().ok()?)))
        .filter(|(p, values)| p.docs.len() == file.docs.len() && values.len() == p.docs.len())
        .map(|(p, values)| ((p, values), document_slices(p)));
    let mut values: Vec<Option<Arc<Value>>> = vec![None; slices.len()];
    let mut todo = Vec::new();
    for (i, r) in slices.iter().enumerate() {
        match &old_slices {
            Some(((p, old_values), old)) if old[i].slice(&p.text) == r.slice(text) => {
                values[i] = Some(old_values[i].clone());
            }
            _ => todo.push(i),
        }
    }
    #[cfg(test)]
    crate::work::add("yaml.documents_loaded", todo.len());
    if todo.is_empty() {
        return Ok((values.into_iter().flatten().collect(), todo));
    }
    let timestamps = timestamp_tags(file);
    let run = || -> Result<Vec<(usize, Value)>, YamlError> {
        // (`Options` holds an `Rc`: made on the thread that uses it.)
        let options = options(text.len(), expansion);
        let events = event_options(&options);
        let mut out = Vec::with_capacity(todo.len());
        for &i in &todo {
            let r = slices[i];
            if let Some(v) = load_simple(r.slice(text), &events) {
                out.push((i, v));
                continue;
            }
            let rewritten;
            let src = if timestamps.iter().any(|t| r.contains_range(*t)) {
                rewritten = as_strings(text, r, &timestamps);
                rewritten.as_str()
            } else {
                r.slice(text)
            };
            let docs: Docs = serde_saphyr::from_str_multiple_with_options(src, options.clone())
                .map_err(|e| {
                    let mut err = located(src, &e);
                    err.range = TextRange::new(err.range.start + r.start, err.range.end + r.start);
                    err
                })?;
            match <[Value; 1]>::try_from(docs.0) {
                Ok([v]) => out.push((i, v)),
                Err(_) => return load_stream(text, &timestamps, &options, file.docs.len()),
            }
        }
        Ok(out)
    };
    // (Aliases replay their anchor's events: nesting the text alone does not show.)
    let aliases = file.docs.iter().any(|d| !d.aliases.is_empty());
    let loaded = if deep || aliases {
        // Deserialization recurses per nesting level (tens of KiB per level in a debug build), so
        // it runs on a thread with a stack sized for MAX_NESTING_DEPTH levels whatever the caller's
        // stack (test threads have 2 MiB). The stack is reserved, not committed, until used.
        std::thread::scope(|scope| {
            match std::thread::Builder::new()
                .name("yaml-semantic".into())
                .stack_size(SEMANTIC_STACK_BYTES)
                .spawn_scoped(scope, run)
            {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    Err(YamlError::new(
                        "internal error: the YAML loader panicked",
                        TextRange::empty(0),
                    ))
                }),
                Err(_) => run(),
            }
        })?
    } else {
        run()?
    };
    if loaded.len() == file.docs.len() {
        todo = (0..file.docs.len()).collect();
    }
    for (i, v) in loaded {
        values[i] = Some(Arc::new(v));
    }
    Ok((values.into_iter().flatten().collect(), todo))
}

/// Fallback when a document's text does not load as exactly one document on its own: the whole
/// stream at once, which must then have as many documents as the navigation model.
fn load_stream(
    text: &str,
    timestamps: &[TextRange],
    options: &Options,
    expected: usize,
) -> Result<Vec<(usize, Value)>, YamlError> {
    let rewritten;
    let src = if timestamps.is_empty() {
        text
    } else {
        rewritten = as_strings(text, TextRange::new(0, text.len()), timestamps);
        rewritten.as_str()
    };
    let docs: Docs = serde_saphyr::from_str_multiple_with_options(src, options.clone())
        .map_err(|e| located(src, &e))?;
    if docs.0.len() != expected {
        return Err(YamlError::new(
            format!(
                "internal error: the YAML loader reads {} documents where the syntax tree has {expected}",
                docs.0.len()
            ),
            TextRange::empty(0),
        ));
    }
    Ok(docs.0.into_iter().enumerate().collect())
}

/// The ranges of `!!timestamp` tags (also spelled out as `!<tag:yaml.org,2002:timestamp>`).
fn timestamp_tags(file: &FileData) -> Vec<TextRange> {
    file.nodes
        .iter()
        .filter(|n| matches!(n.kind, KindData::Scalar { .. } | KindData::Null))
        .filter_map(|n| n.tag.as_deref())
        .filter(|(t, _)| t == "!!timestamp" || t == "!<tag:yaml.org,2002:timestamp>")
        .map(|(_, r)| *r)
        .collect()
}

/// `range` of `text` with each timestamp tag in it written as `!!str` padded with spaces to the
/// same length (so offsets, and error locations, stay where they were): `serde-saphyr` refuses
/// to give a timestamp to an untyped visitor, and its text is what the value is compared by.
fn as_strings(text: &str, range: TextRange, timestamps: &[TextRange]) -> String {
    let mut out = range.slice(text).to_owned();
    for t in timestamps.iter().filter(|t| range.contains_range(**t)) {
        let (s, e) = (t.start - range.start, t.end - range.start);
        let pad = (e - s).saturating_sub(5);
        out.replace_range(s..e, &format!("!!str{}", " ".repeat(pad)));
    }
    out
}

/// Stack for the semantic loader thread.
const SEMANTIC_STACK_BYTES: usize = 64 * 1024 * 1024;

/// A message for people for what `serde-saphyr` reports about its budgets (its own text is the
/// `Debug` output of the breach).
fn budget_message(breach: &BudgetBreach) -> String {
    match breach {
        BudgetBreach::Depth { .. } => {
            format!("YAML nested deeper than {MAX_NESTING_DEPTH} levels once aliases are expanded")
        }
        BudgetBreach::Nodes { .. }
        | BudgetBreach::Events { .. }
        | BudgetBreach::RecordedAnchorEvents { .. }
        | BudgetBreach::AliasAnchorRatio { .. }
        | BudgetBreach::Aliases { .. } => {
            "YAML aliases expand to too many nodes (an alias bomb?); the file is not processed"
                .to_owned()
        }
        BudgetBreach::ScalarBytes { .. } | BudgetBreach::RecordedAnchorBytes { .. } => {
            "YAML aliases expand to too much text (an alias bomb?); the file is not processed"
                .to_owned()
        }
        BudgetBreach::InputBytes { .. } => format!(
            "file too large for YAML processing (the limit is {} bytes)",
            super::MAX_INPUT_BYTES
        ),
        _ => "YAML exceeds a processing limit; the file is not processed".to_owned(),
    }
}

fn located(text: &str, e: &serde_saphyr::Error) -> YamlError {
    let offset = e.location().and_then(|loc| {
        if let Some(b) = loc.span().byte_offset() {
            return usize::try_from(b).ok();
        }
        let line = usize::try_from(loc.line()).ok()?.checked_sub(1)?;
        let col = usize::try_from(loc.column()).ok()?.saturating_sub(1);
        let index = LineIndex::new(text);
        if line >= index.line_count() {
            return None;
        }
        let start = index.line_start(line);
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        Some(
            text[start..end]
                .char_indices()
                .nth(col)
                .map_or(end, |(i, _)| start + i),
        )
    });
    let mut offset = offset.unwrap_or(0).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    match e {
        serde_saphyr::Error::Budget { breach, .. } => {
            return YamlError::new(budget_message(breach), TextRange::empty(offset));
        }
        serde_saphyr::Error::AliasReplayLimitExceeded { .. }
        | serde_saphyr::Error::AliasReplayCounterOverflow { .. } => {
            return YamlError::new(
                budget_message(&BudgetBreach::Nodes { nodes: 0 }),
                TextRange::empty(offset),
            );
        }
        serde_saphyr::Error::AliasReplayStackDepthExceeded { .. } => {
            return YamlError::new(
                "YAML aliases nested too deeply (an alias refers to an anchor that holds an alias, 64 times over)",
                TextRange::empty(offset),
            );
        }
        _ => {}
    }
    let message = e.to_string();
    // "error: line 3 column 5: message" → "message" (the range carries the position).
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let message = match message.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") && head.contains(" column ") => rest,
        _ => message,
    };
    let mut message = message.lines().next().unwrap_or(message).trim().to_owned();
    // Drop a trailing " at line N, column M" and library configuration hints.
    if let Some(i) = message.rfind(" at line ") {
        if message[i..].contains(", column ") {
            message.truncate(i);
        }
    }
    if let Some(i) = message.find(", set DuplicateKeyPolicy") {
        message.truncate(i);
    }
    YamlError::new(message, TextRange::empty(offset))
}

/// Collects one value per document: `serde-saphyr` extends the collection once per document, with
/// an empty iterator for a null document, which we keep as `null` so indexes match the CST's.
#[derive(Default)]
struct Docs(Vec<Value>);

impl Extend<Val> for Docs {
    fn extend<I: IntoIterator<Item = Val>>(&mut self, iter: I) {
        let mut any = false;
        for v in iter {
            self.0.push(v.0);
            any = true;
        }
        if !any {
            self.0.push(Value::Null);
        }
    }
}

/// A JSON value deserialized from any YAML node.
struct Val(Value);

impl<'de> de::Deserialize<'de> for Val {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValVisitor).map(Val)
    }
}

struct ValVisitor;

fn float(f: f64) -> Value {
    Number::from_f64(f).map_or_else(
        || {
            Value::String(
                if f.is_nan() {
                    ".nan"
                } else if f > 0.0 {
                    ".inf"
                } else {
                    "-.inf"
                }
                .to_owned(),
            )
        },
        Value::Number,
    )
}

fn key_string(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or_else(
            |_| Value::String(v.to_string()),
            |i| Value::Number(i.into()),
        ))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(u64::try_from(v).map_or_else(
            |_| Value::String(v.to_string()),
            |i| Value::Number(i.into()),
        ))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(float(v))
    }

    fn visit_char<E>(self, v: char) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Array(
            v.iter().map(|&b| Value::Number(b.into())).collect(),
        ))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValVisitor)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Val(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Val(k)) = map.next_key()? {
            let Val(v) = map.next_value()?;
            out.insert(key_string(k), v);
        }
        Ok(Value::Object(out))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // A tagged value `!tag x` offered as an enum: keep the variant name and its content.
        let (Val(tag), variant) = data.variant_seed(ValSeed)?;
        let content = de::VariantAccess::newtype_variant_seed(variant, ValSeed)?;
        let mut m = Map::new();
        m.insert(key_string(tag), content.0);
        Ok(Value::Object(m))
    }
}

struct ValSeed;

impl<'de> DeserializeSeed<'de> for ValSeed {
    type Value = Val;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        d.deserialize_any(ValVisitor).map(Val)
    }
}

/// The deepest key paths where `a` and `b` differ, per document index. Keys of mappings, sequence
/// indexes as decimal strings. A sequence whose length changed is reported at the sequence's own
/// path (its items are not compared); a key present on one side only at that key's path; a document
/// present on one side only as an empty path. Mapping key order does not matter.
#[must_use]
pub fn semantic_diff(a: &[Value], b: &[Value]) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => {
                let mut paths = Vec::new();
                diff(x, y, &mut Vec::new(), &mut paths);
                out.extend(paths.into_iter().map(|p| (i, p)));
            }
            _ => out.push((i, Vec::new())),
        }
    }
    out
}

/// The deepest key paths where two values of one document differ (see [`semantic_diff`]).
#[must_use]
pub fn semantic_diff_one(a: &Value, b: &Value) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    diff(a, b, &mut Vec::new(), &mut paths);
    paths
}

fn diff(a: &Value, b: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match (a, b) {
        // The same keys in the same order, as in every part a fix leaves alone: compared pair by
        // pair, without looking each key up in the other map.
        (Value::Object(x), Value::Object(y))
            if x.len() == y.len() && x.keys().zip(y.keys()).all(|(a, b)| a == b) =>
        {
            for ((k, va), vb) in x.iter().zip(y.values()) {
                path.push(k.clone());
                diff(va, vb, path, out);
                path.pop();
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                path.push(k.clone());
                match y.get(k) {
                    Some(vb) => diff(va, vb, path, out),
                    None => out.push(path.clone()),
                }
                path.pop();
            }
            for k in y.keys() {
                if !x.contains_key(k) {
                    path.push(k.clone());
                    out.push(path.clone());
                    path.pop();
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                path.push(i.to_string());
                diff(va, vb, path, out);
                path.pop();
            }
        }
        _ if a == b => {}
        _ => out.push(path.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `load_simple`, where it gives a value, gives `serde-saphyr`'s: over every document of the
    /// YAML files of the corpora and golden cases, and of pseudo-random mutants of each (bytes
    /// deleted, YAML indicators and numbers inserted, lines doubled), a text `serde-saphyr` refuses
    /// or reads otherwise is never given a value. Most documents of real files are simple.
    #[test]
    fn the_simple_loader_gives_what_serde_saphyr_gives() {
        fn agree(src: &str, what: &str, simple: &mut usize, all: &mut usize) {
            let expansion = Expansion {
                own_nodes: u64::try_from(src.len()).unwrap(),
                alias_nodes: 0,
                alias_bytes: 0,
            };
            let o = options(src.len(), &expansion);
            *all += 1;
            let Some(v) = load_simple(src, &event_options(&o)) else {
                return;
            };
            *simple += 1;
            let docs: Result<Docs, _> = serde_saphyr::from_str_multiple_with_options(src, o);
            match docs {
                Ok(d) => assert_eq!(d.0, vec![v], "{what}: {src:?}"),
                Err(e) => panic!(
                    "{what}: serde-saphyr refuses what the simple loader reads: {e}\n{src:?}"
                ),
            }
        }
        use crate::testing::{corpus_files, is_yaml, mutant, Lcg};
        let files = corpus_files(is_yaml);
        let mut rng = Lcg::new(0x853C_49E6_748F_EA9B);
        let inserts = [
            ":", "- ", " ", "\n", "\t", "\"", "'", "[", "]", "{", "}", ",", "|", ">", "#", "0",
            "1", "-1", "0x1", "1.5", ".", "_", "e", "~", "null", "True", "yes", "1e999", ".inf",
            "007", "08:30", "---\n", "...\n", "\r", "?", "%",
        ];
        let samples = [
            "a: 1\nb: 01\nc: 1_000\nd: 0x1F\ne: 0o7\nf: 0b1\ng: -1\nh: +1\ni: 1.5\nj: 1e3\n",
            "a: .inf\nb: -.inf\nc: .nan\nd: -.nan\ne: inf\nf: NaN\ng: Infinity\nh: 1e999\n",
            "a: true\nb: True\nc: TRUE\nd: tRue\ne: yes\nf: on\ng: y\nh: ~\ni: Null\nj: nULL\nk:\n",
            "1: a\ntrue: b\n~: c\n1.5: d\nnull: e\n\"x\": f\n",
            "1: a\n\"1\": b\n",
            "ports:\n  - 8080:80\n  - 127.0.0.1:53:53/udp\nmem: 128Mi\ncpu: 100m\nv: 1.0.0\n",
            "k: 123456789012345678\nl: 1234567890123456789\nm: 99999999999999999999\n",
            "k: \"q\\tx\"\nl: 'it''s'\nm: |\n  a\n  b\nn: >-\n  c\n  d\no: plain\n  folded\n",
            "[a, {b: c}, [d]]\n",
            "? [a]\n: b\n",
            "a: 1\na: 2\n",
            "",
            "# only a comment\n",
            "---\n",
            "--- a\n--- b\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n<<: {b: 2}\n",
            "a: 1\n<<: [{b: 2}, {c: 3}]\n",
            "a: &x 1\nb: *x\n",
            "a: &x 1\nb: 2\n",
            "a: !!str 1\nb: !!int '2'\n",
        ];
        let (mut simple, mut all) = (0, 0);
        for s in samples {
            agree(s, "sample", &mut simple, &mut all);
        }
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let what = path.display().to_string();
            let mut texts = vec![text.clone()];
            for _ in 0..4 {
                texts.push(mutant(&text, &mut rng, &inserts));
            }
            for t in &texts {
                agree(t, &what, &mut simple, &mut all);
                if let Ok(file) = super::super::parse(t) {
                    for r in document_slices(&file.data) {
                        agree(r.slice(t), &what, &mut simple, &mut all);
                    }
                }
            }
        }
        eprintln!("{simple} of {all} texts loaded by the simple loader");
        if files.is_empty() {
            eprintln!("no corpus next to the repository: only the samples were compared");
        } else {
            assert!(simple * 2 > all, "only {simple} of {all} texts were simple");
        }
    }

    #[test]
    fn documents_keep_their_indexes() {
        let v = semantic("---\n# empty\n---\na: 1\n---\n- x\n").unwrap();
        assert_eq!(v, vec![Value::Null, json!({"a": 1}), json!(["x"])]);
        assert_eq!(semantic("").unwrap(), Vec::<Value>::new());
        assert_eq!(
            semantic("# only a comment\n\n").unwrap(),
            Vec::<Value>::new()
        );
        assert_eq!(semantic("---\n").unwrap(), vec![Value::Null]);
        let v = semantic("# licence header\n---\na: 1\n---\nb: 2\n").unwrap();
        assert_eq!(v, vec![json!({"a": 1}), json!({"b": 2})]);
        assert_eq!(semantic("a: 1\n").unwrap(), vec![json!({"a": 1})]);
    }

    #[test]
    fn merge_keys_and_aliases() {
        let t = "x: &d {a: 1, b: 2}\ny: &e {c: 3}\nz:\n  <<: [*d, *e]\n  b: 9\nw: *e\n";
        let v = semantic(t).unwrap();
        assert_eq!(
            v[0],
            json!({"x": {"a": 1, "b": 2}, "y": {"c": 3}, "z": {"a": 1, "b": 9, "c": 3}, "w": {"c": 3}})
        );
    }

    #[test]
    fn non_string_keys_are_stringified() {
        let v = semantic("1: a\ntrue: b\n~: c\n1.5: d\n").unwrap();
        assert_eq!(
            v[0],
            json!({"1": "a", "true": "b", "null": "c", "1.5": "d"})
        );
        let v = semantic("a: .nan\nb: -.inf\n").unwrap();
        assert_eq!(v[0], json!({"a": ".nan", "b": "-.inf"}));
    }

    #[test]
    fn billion_laughs_is_rejected() {
        let mut t = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let mut prev = 'a';
        for c in 'b'..='i' {
            t += &format!("{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n");
            prev = c;
        }
        let start = std::time::Instant::now();
        let e = semantic(&t).unwrap_err();
        assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
        assert!(e.message.contains("aliases expand to more than"), "{e:?}");
        // Located at the alias that crosses the limit.
        assert!(t[e.range.start..].starts_with('*'), "{e:?}");
        // Parsing applies the same limit (check and fix agree), counted without expanding.
        let e = super::super::parse(&t).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{e:?}");
        assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
    }

    #[test]
    fn errors_are_located() {
        let t = "a: 1\nb: [1, 2\nc: 3\n";
        let e = semantic(t).unwrap_err();
        assert!(e.range.start > 0, "{e:?}");
        // A repeated key is refused, as by the navigation model: one set of rules.
        let e = semantic("a: 1\na: 2\n").unwrap_err();
        assert!(e.message.contains("duplicate key"), "{e:?}");
    }

    #[test]
    fn deep_input_is_an_error_not_a_crash() {
        let n = MAX_NESTING_DEPTH;
        let t = format!("a: {}{}\n", "[".repeat(n - 1), "]".repeat(n - 1));
        // Within the pre-check; either fine or a located budget error, never a crash.
        let _ = semantic(&t);
        let t = format!("a: {}{}\n", "[".repeat(n + 1), "]".repeat(n + 1));
        assert!(semantic(&t).is_err());
        let deep: String = (0..n - 2)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect();
        let _ = semantic(&deep);
    }

    #[test]
    fn diff_paths() {
        let a = vec![
            json!({"s": {"w": {"p": [1, 2], "i": "x", "k": {"z": 1}}}}),
            json!(1),
        ];
        let b = vec![json!({"s": {"w": {"p": [1], "i": "y", "k": {"z": 1, "n": 2}}}})];
        let d = semantic_diff(&a, &b);
        let p = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            d,
            vec![
                (0, p(&["s", "w", "p"])),
                (0, p(&["s", "w", "i"])),
                (0, p(&["s", "w", "k", "n"])),
                (1, vec![]),
            ]
        );
        assert!(semantic_diff(&a, &a).is_empty());
        let c = vec![
            json!({"s": {"w": {"p": [1, 3], "i": "x", "k": {"z": 1}}}}),
            json!(1),
        ];
        assert_eq!(semantic_diff(&a, &c), vec![(0, p(&["s", "w", "p", "1"]))]);
        // Keys in another order are the same mapping; in the same order, pair by pair.
        let r1 = vec![json!({"a": 1, "b": {"c": 2, "d": 4}})];
        let r2 = vec![json!({"b": {"c": 2, "d": 4}, "a": 1})];
        assert!(semantic_diff(&r1, &r2).is_empty());
        let r3 = vec![json!({"b": {"c": 3, "d": 4}, "a": 1})];
        assert_eq!(semantic_diff(&r1, &r3), vec![(0, p(&["b", "c"]))]);
        let r4 = vec![json!({"a": 1, "b": {"c": 2, "e": 4}})];
        assert_eq!(
            semantic_diff(&r1, &r4),
            vec![(0, p(&["b", "d"])), (0, p(&["b", "e"]))]
        );
    }
}
