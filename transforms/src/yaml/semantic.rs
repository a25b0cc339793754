//! The semantic view: what a YAML file means, one JSON value per document, from `serde-saphyr`
//! (merge keys applied, aliases expanded under budgets). Used to verify that a fixed file differs
//! from the input only where the applied fixes say.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::{Budget, DuplicateKeyPolicy, MergeKeyPolicy, NonFiniteFloatPolicy, Options};

use super::{limits, YamlError, MAX_NESTING_DEPTH};
use crate::text::{LineIndex, TextRange};

/// Budgets for `serde-saphyr`: generous for real compose / Kubernetes files (the largest CRDs have
/// tens of thousands of nodes), small enough that an alias bomb fails fast.
fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_NESTING_DEPTH;
    budget.max_nodes = 500_000;
    budget.max_events = 2_000_000;
    budget.max_aliases = 20_000;
    budget.max_anchors = 20_000;
    budget.max_documents = 10_000;
    budget.max_reader_input_bytes = Some(super::MAX_INPUT_BYTES);
    budget.max_total_scalar_bytes = 4 * super::MAX_INPUT_BYTES;
    let mut o = Options::default();
    o.budget = Some(budget);
    o.alias_limits.max_total_replayed_events = 250_000;
    o.alias_limits.max_replay_stack_depth = 32;
    o.duplicate_keys = DuplicateKeyPolicy::Error;
    o.merge_keys = MergeKeyPolicy::Merge;
    o.with_snippet = false;
    // YAML 1.2 core schema: only `true` / `false` are booleans (a key `y` stays "y").
    o.strict_booleans = true;
    o.non_finite_float_policy = NonFiniteFloatPolicy::PassThrough;
    o
}

/// The meaning of every document of `text`, in order (an empty document is `null`), with `<<` merge
/// keys applied and aliases expanded. Mapping keys that are not strings are written as strings
/// (`1` → `"1"`, `true` → `"true"`, `null` → `"null"`, a collection as its JSON text); NaN and
/// infinities become the strings `".nan"`, `".inf"`, `"-.inf"`; binary values their bytes as an array.
///
/// # Errors
/// The text is not valid YAML, has a duplicate key, or exceeds a limit (size, depth, nodes, aliases:
/// a "billion laughs" alias bomb is rejected quickly). The error is located.
pub fn semantic(text: &str) -> Result<Vec<Value>, YamlError> {
    limits::check(text)?;
    // No content at all (empty, blank, comments only): no document, as in the CST. serde-saphyr
    // would report one null document.
    if text
        .trim_start_matches('\u{feff}')
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Vec::new());
    }
    // Deserialization recurses per nesting level (tens of KiB per level in a debug build), so it
    // runs on a thread with a stack sized for MAX_NESTING_DEPTH levels whatever the caller's stack
    // (test threads have 2 MiB). The stack is reserved, not committed, until used.
    let run = || -> Result<Vec<Value>, YamlError> {
        let docs: Docs = serde_saphyr::from_str_multiple_with_options(text, options())
            .map_err(|e| located(text, &e))?;
        Ok(docs.0)
    };
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
    })
}

/// Stack for the semantic loader thread.
const SEMANTIC_STACK_BYTES: usize = 64 * 1024 * 1024;

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

fn diff(a: &Value, b: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match (a, b) {
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
        assert!(!e.message.is_empty());
        // The CST does not expand aliases: parsing is fine.
        assert!(super::super::parse(&t).is_ok());
    }

    #[test]
    fn errors_are_located() {
        let t = "a: 1\nb: [1, 2\nc: 3\n";
        let e = semantic(t).unwrap_err();
        assert!(e.range.start > 0, "{e:?}");
        let e = semantic("a: 1\na: 2\n").unwrap_err();
        assert!(e.message.to_lowercase().contains("duplicate"), "{e:?}");
        assert_eq!(crate::text::line_col("a: 1\na: 2\n", e.range.start).line, 2);
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
    }
}
