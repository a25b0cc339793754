//! Edit builders: minimal, lossless [`Edit`]s on the original text in the file's own style.
//!
//! Every builder keeps every byte it does not have to touch. New block content takes the
//! indentation of its surroundings ([`Mapping::indent_unit`], [`Mapping::sequence_indent`],
//! [`Sequence::item_gap`]), the file's line ending and preferred quote. A builder that cannot edit
//! losslessly returns an error rather than guessing.

use super::fragment::{Fragment, Layout, Rendered};
use super::model::{
    block_lines_end, block_scalar_keeps, deep_end, Entry, FileData, Item, Mapping, Node, NodeId,
    ParentData, Scalar, Sequence,
};
use super::scalar::{double_quoted, is_plain_safe, single_quoted, string_scalar, ScalarStyle};
use super::YamlError;
use crate::edit::Edit;
use crate::text::TextRange;

fn eol(file: &FileData) -> &'static str {
    crate::text::line_ending(&file.text)
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

/// Insert `lines` (full lines, without line breaks) as new lines at `at`, a line start or the end
/// of a text whose last line has no line break.
fn insert_lines(file: &FileData, at: usize, lines: &[String]) -> Edit {
    let nl = eol(file);
    // (One string built in place: rules insert entries into every service and container.)
    let len: usize = lines.iter().map(String::len).sum::<usize>() + nl.len() * lines.len().max(1);
    let mut text = String::with_capacity(len);
    let at_unterminated_end =
        at == file.text.len() && !file.text.is_empty() && !file.text.ends_with('\n');
    if at_unterminated_end {
        text.push_str(nl);
    }
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            text.push_str(nl);
        }
        text.push_str(line);
    }
    if !at_unterminated_end {
        text.push_str(nl);
    }
    Edit::insert(at, text)
}

/// Delete whole lines `range` (a line start to a line start or the end of the text). When they are
/// the last lines and the text has no final line break, the line break before them goes instead, so
/// the text still ends without one.
fn delete_lines(file: &FileData, range: TextRange) -> Edit {
    let text = &file.text;
    if range.end == text.len() && !text.ends_with('\n') && range.start > 0 {
        let mut start = range.start;
        if text.as_bytes()[start - 1] == b'\n' {
            start -= 1;
            if start > 0 && text.as_bytes()[start - 1] == b'\r' {
                start -= 1;
            }
        }
        return Edit::delete(TextRange::new(start, range.end));
    }
    Edit::delete(range)
}

/// Where the value of `node`'s parent slot can be written on the key / dash line: after the node's
/// anchor and tag if any, else after the `:` or `-`.
fn slot_point(file: &FileData, node: NodeId) -> Option<usize> {
    let d = &file.nodes[node];
    if let Some(end) = d.props_end() {
        return Some(end);
    }
    match d.parent {
        ParentData::EntryValue(e) => {
            let e = &file.entries[e];
            Some(e.colon.map_or(e.key_range.end, |c| c.end))
        }
        ParentData::Item(i) => file.items[i].dash.map(|r| r.end),
        _ => None,
    }
}

impl Mapping {
    fn layout(&self) -> Layout {
        let file = &self.0.file;
        Layout {
            unit: self.indent_unit(),
            seq_indent: self.sequence_indent(),
            item_gap: file.item_gap(),
        }
    }

    /// Add `key: value` as the last entry of this mapping. `key` is the key's string (quoted if it
    /// needs to be); `value` a YAML fragment: `""` (null), a scalar or flow collection written as it
    /// should appear (`"[ALL]"`, `"'1000'"`), or a block written with any consistent indentation
    /// (`"- ALL"`, `"drop:\n  - ALL"`), which is laid out in this file's style.
    ///
    /// Block mapping: new lines after the line of the last byte of the last entry's value (and the
    /// comment lines right after it that are indented deeper than the keys), so comments at the
    /// keys' indentation or less stay after the new entry. Flow mapping: `, key: value` after the
    /// last entry (`{}` → `{key: value}`).
    ///
    /// # Errors
    /// `key` is already an own key of the mapping, the mapping is a key itself, or the fragment is
    /// invalid (see [`Fragment`]).
    pub fn insert_entry(&self, key: &str, value: &str) -> Result<Vec<Edit>, YamlError> {
        let file = &self.0.file;
        if matches!(self.0.data().parent, ParentData::EntryKey(_)) {
            return Err(YamlError::new(
                "cannot insert into a mapping that is a key",
                self.range(),
            ));
        }
        if let Some(e) = self.get(key).filter(|e| !e.is_merge()) {
            return Err(YamlError::new(
                format!("the mapping already has the key {key:?}"),
                e.range(),
            ));
        }
        if self.is_flow_pair() {
            return Err(YamlError::new(
                "cannot add an entry to a single-pair mapping inside a flow sequence",
                self.range(),
            ));
        }
        let quote = file.stats().quote;
        if !self.is_flow() {
            return self.insert_block_entry(key, value, quote);
        }
        let frag = Fragment::parse(value)?;
        let key_text = string_scalar(key, quote, true);
        let value_text = match frag.root() {
            Some(root) => frag.flow(&root, quote)?,
            None => "null".to_owned(),
        };
        let elems: Vec<TextRange> = self.entries().iter().map(Entry::range).collect();
        Ok(vec![flow_append(
            file,
            self.range(),
            &elems,
            &format!("{key_text}: {value_text}"),
        )])
    }

    /// [`Mapping::insert_entry`] into a block mapping.
    fn insert_block_entry(
        &self,
        key: &str,
        value: &str,
        quote: super::QuoteStyle,
    ) -> Result<Vec<Edit>, YamlError> {
        let file = &self.0.file;
        let Some(&last) = self.entry_ids().last() else {
            Fragment::parse(value)?;
            return Err(YamlError::new("empty block mapping", self.range()));
        };
        let last = &file.entries[last];
        let col = self.indent();
        let content_end = deep_end(file, last.value).max(last.range.end);
        let at = block_lines_end(file, content_end, col);
        let key_text = string_scalar(key, quote, false);
        let lines = cached_entry_lines(value, col, &key_text, self.layout())?;
        Ok(vec![insert_lines(file, at, &lines)])
    }
}

/// Lines laid out on this thread, by fragment text, key and layout: rules insert the same few
/// entries (`cap_drop: [ALL]`, `runAsNonRoot: true`) at the same few columns in every service or
/// container of every file, and laying a fragment out costs far more than a look-up. Only
/// successes are kept (a hit is a text that parsed and laid out before, with the same result).
/// Bounded: cleared when full.
const ENTRY_LINES_CACHE_ENTRIES: usize = 4096;

thread_local! {
    static ENTRY_LINES: crate::memo::Cache<std::rc::Rc<[String]>> =
        crate::memo::Cache::default();
}

/// [`entry_lines`] of the fragment `value`, parsed (see [`Fragment::parse`]), through
/// [`ENTRY_LINES`].
fn cached_entry_lines(
    value: &str,
    col: usize,
    key_text: &str,
    layout: Layout,
) -> Result<std::rc::Rc<[String]>, YamlError> {
    // Every input of `entry_lines`.
    let cache_key = crate::memo::Key::default()
        .num(col)
        .num(layout.unit)
        .num(layout.seq_indent)
        .num(layout.item_gap)
        .text(key_text)
        .text(value);
    crate::memo::get_or_try(
        &ENTRY_LINES,
        ENTRY_LINES_CACHE_ENTRIES,
        cache_key.bytes(),
        || entry_lines(&Fragment::parse(value)?, col, key_text, layout).map(std::rc::Rc::from),
    )
}

/// The lines of a new block entry `key: value` at column `col`.
fn entry_lines(
    frag: &Fragment,
    col: usize,
    key_text: &str,
    layout: Layout,
) -> Result<Vec<String>, YamlError> {
    let p = pad(col);
    let rendered = match frag.root() {
        Some(root) => frag.entry_value(&root, col, layout)?,
        None => Rendered::Null,
    };
    Ok(match rendered {
        Rendered::Null => vec![format!("{p}{key_text}:")],
        Rendered::Inline(v) => vec![format!("{p}{key_text}: {v}")],
        Rendered::Block { header, lines } => {
            let mut out = vec![format!("{p}{key_text}:{header}")];
            out.extend(lines);
            out
        }
    })
}

/// Insert `element` as the last element of a flow collection spanning `range` whose elements span
/// `elems`.
fn flow_append(file: &FileData, range: TextRange, elems: &[TextRange], element: &str) -> Edit {
    let text = &file.text;
    let Some(last) = elems.last() else {
        // `{}` / `[ ]`: between the brackets.
        let inner = TextRange::new(
            range.start + 1,
            range.end.saturating_sub(1).max(range.start + 1),
        );
        let ws = inner.slice(text);
        if ws.is_empty() {
            return Edit::insert(inner.start, element.to_owned());
        }
        if ws.contains('\n') {
            return Edit::insert(inner.start, element.to_owned());
        }
        return Edit::replace(inner, format!(" {element} "));
    };
    let nl = eol(file);
    let multiline = file.line_index.line_of(last.start) != file.line_index.line_of(range.start);
    // A trailing comma after the last element?
    let after = &text[last.end..range.end];
    let trailing_comma = after
        .trim_start_matches([' ', '\t', '\r', '\n'])
        .starts_with(',');
    let comma_at = last.end + after.find(',').unwrap_or(0);
    if multiline {
        let indent = pad(file.column(last.start));
        if trailing_comma {
            Edit::insert(comma_at + 1, format!("{nl}{indent}{element},"))
        } else {
            Edit::insert(last.end, format!(",{nl}{indent}{element}"))
        }
    } else if trailing_comma {
        // The trailing comma stays last, as the file writes it; this also keeps several
        // insertions at this point (joined by the rules) separated: ` a, b,`.
        Edit::insert(comma_at + 1, format!(" {element},"))
    } else {
        Edit::insert(last.end, format!(", {element}"))
    }
}

/// Delete element `index` of a flow collection with one adjacent comma.
fn flow_remove(file: &FileData, elems: &[TextRange], index: usize) -> Edit {
    let text = &file.text;
    let r = elems[index];
    if elems.len() == 1 {
        let rest = &text[r.end..];
        let ws = rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
        let end = if rest[ws..].starts_with(',') {
            r.end + ws + 1
        } else {
            r.end
        };
        Edit::delete(TextRange::new(r.start, end))
    } else if index + 1 < elems.len() {
        Edit::delete(TextRange::new(r.start, elems[index + 1].start))
    } else {
        Edit::delete(TextRange::new(elems[index - 1].end, r.end))
    }
}

/// Edits that empty the block collection `node` (whose only element spans `line_range` /
/// `elem_range`) into `{}` / `[]`.
fn empty_block_collection(
    file: &FileData,
    node: NodeId,
    line_range: TextRange,
    elem_range: TextRange,
    empty: &str,
) -> Result<Vec<Edit>, YamlError> {
    let d = &file.nodes[node];
    match d.parent {
        ParentData::EntryKey(_) => Err(YamlError::new(
            "cannot empty a collection that is a key",
            d.range,
        )),
        ParentData::Document(_) => {
            let ends_nl = line_range.slice(&file.text).ends_with('\n');
            Ok(vec![Edit::replace(
                line_range,
                if ends_nl {
                    format!("{empty}{}", eol(file))
                } else {
                    empty.to_owned()
                },
            )])
        }
        ParentData::EntryValue(_) | ParentData::Item(_) => {
            if !file.first_on_line(elem_range.start) {
                // Compact (`- key: v`, `- - a`): the element shares the dash line.
                return Ok(vec![Edit::replace(
                    TextRange::new(
                        elem_range.start,
                        line_content_end(file, line_range, elem_range),
                    ),
                    empty.to_owned(),
                )]);
            }
            let Some(at) = slot_point(file, node) else {
                return Err(YamlError::new(
                    "cannot locate the parent of a collection",
                    d.range,
                ));
            };
            Ok(vec![
                Edit::insert(at, format!(" {empty}")),
                delete_lines(file, line_range),
            ])
        }
    }
}

/// For a compact element: the end of its content (the element range end), never past the lines.
fn line_content_end(_file: &FileData, line_range: TextRange, elem_range: TextRange) -> usize {
    elem_range.end.min(line_range.end)
}

impl Entry {
    /// Delete this entry. Block: its whole lines ([`Entry::line_range`]); comment lines above it and
    /// at its indentation after it stay. The first entry of a compact `- key: v` item: from the key
    /// to the next entry's key, giving `- next: ...`. The only entry: the mapping becomes `{}`
    /// (`parent: {}`), so the parent keeps its type. Flow: the entry and one adjacent comma.
    ///
    /// # Errors
    /// The mapping is a key.
    pub fn remove(&self) -> Result<Vec<Edit>, YamlError> {
        let file = &self.file;
        let m = self.mapping();
        let entries = m.entries();
        let index = self.index();
        if m.is_flow_pair() {
            // `[a: 1]` → `[{}]`.
            return Ok(vec![Edit::replace(m.range(), "{}")]);
        }
        if m.is_flow() {
            let elems: Vec<TextRange> = entries.iter().map(Entry::range).collect();
            return Ok(vec![flow_remove(file, &elems, index)]);
        }
        let lr = self.line_range();
        if entries.len() == 1 {
            return empty_block_collection(file, m.0.id, lr, self.range(), "{}");
        }
        if !file.first_on_line(self.range().start) {
            if let Some(next) = entries.get(index + 1) {
                return Ok(vec![compact_first_removal(
                    file,
                    self.range().start,
                    lr,
                    next.range().start,
                )]);
            }
        }
        Ok(vec![delete_lines(file, lr)])
    }

    /// Replace this entry's value by a fragment (see [`Mapping::insert_entry`] for fragments); the
    /// value's anchor and tag stay. Works from and to an absent value, a scalar, a flow or block
    /// collection, a block scalar.
    ///
    /// # Errors
    /// The fragment is invalid.
    pub fn replace_value(&self, value: &str) -> Result<Vec<Edit>, YamlError> {
        let file = &self.file;
        let m = self.mapping();
        let frag = Fragment::parse(value)?;
        let v = self.value();
        let vd = v.node_ref().data();
        let quote = file.stats().quote;
        let colon_end = self.colon_range().map_or(self.key_range().end, |c| c.end);
        let pos = vd.props_end().unwrap_or(colon_end);
        if m.is_flow() {
            let text = match frag.root() {
                Some(root) => frag.flow(&root, quote)?,
                None => "null".to_owned(),
            };
            return Ok(vec![if matches!(v, Node::Null(_)) {
                Edit::insert(pos, format!(" {text}"))
            } else {
                Edit::replace(v.range(), text)
            }]);
        }
        let col = m.indent();
        let rendered = match frag.root() {
            Some(root) => frag.entry_value(&root, col, m.layout())?,
            None => Rendered::Null,
        };
        let nl = eol(file);
        let is_block_value = match &v {
            Node::Mapping(x) => !x.is_flow(),
            Node::Sequence(x) => !x.is_flow(),
            Node::Scalar(s) => matches!(s.style(), ScalarStyle::Literal | ScalarStyle::Folded),
            _ => false,
        };
        if is_block_value {
            let end = deep_end(file, v.node_ref().id).max(v.range().end);
            let value_line = file.line_start_of(v.full_range().start);
            if value_line > pos {
                // The value starts on a later line: keep the key line (and its comment, and the
                // comment lines before the value) and replace the value's lines.
                let lines_end = if file.text.as_bytes()[end - 1] == b'\n' {
                    end
                } else {
                    file.next_line_start(end)
                };
                let old_lines = TextRange::new(value_line, lines_end);
                return Ok(match rendered {
                    Rendered::Null => vec![delete_lines(file, old_lines)],
                    Rendered::Inline(s) => vec![
                        Edit::insert(pos, format!(" {s}")),
                        delete_lines(file, old_lines),
                    ],
                    Rendered::Block { header, lines } => {
                        let tail = if old_lines.slice(&file.text).ends_with('\n') {
                            nl
                        } else {
                            ""
                        };
                        non_empty(vec![
                            Edit::insert(pos, header),
                            Edit::replace(old_lines, format!("{}{tail}", lines.join(nl))),
                        ])
                    }
                });
            }
            // A block scalar whose header is on the key line.
            let keeps_break = file.text.as_bytes()[end - 1] == b'\n';
            let tail = if keeps_break { nl } else { "" };
            let new = match rendered {
                Rendered::Null => String::new(),
                Rendered::Inline(s) => format!(" {s}"),
                Rendered::Block { header, lines } => format!("{header}{nl}{}", lines.join(nl)),
            };
            return Ok(vec![Edit::replace(
                TextRange::new(pos, end),
                format!("{new}{tail}"),
            )]);
        }
        // Absent or inline value.
        let old = if matches!(v, Node::Null(_)) {
            TextRange::empty(pos)
        } else {
            TextRange::new(pos, v.range().end)
        };
        Ok(match rendered {
            Rendered::Null => non_empty(vec![Edit::delete(old)]),
            Rendered::Inline(s) => vec![Edit::replace(old, format!(" {s}"))],
            Rendered::Block { header, lines } => {
                let at = file.next_line_start(old.end);
                let insert = insert_lines(file, at, &lines);
                if at == old.end {
                    // End of a text without a final line break: one edit.
                    vec![Edit::replace(
                        old,
                        format!("{header}{}", insert.replacement),
                    )]
                } else {
                    non_empty(vec![Edit::replace(old, header), insert])
                }
            }
        })
    }
}

/// Drop edits that change nothing (an empty insertion).
fn non_empty(edits: Vec<Edit>) -> Vec<Edit> {
    edits
        .into_iter()
        .filter(|e| !(e.range.is_empty() && e.replacement.is_empty()))
        .collect()
}

/// Remove the first element of a compact collection (`- key: v` / `- - a`) that shares its line
/// with the dash: up to the next element, or, when comments sit between them, just its own lines
/// (leaving `-` alone on its line, the comments and the rest below it).
fn compact_first_removal(file: &FileData, start: usize, lr: TextRange, next_start: usize) -> Edit {
    let between = TextRange::new(start, next_start);
    if file.comments.iter().any(|c| between.contains_range(*c)) {
        // Back over the space after the dash; keep the line break.
        let line = &file.text[..start];
        let ws_start = line.trim_end_matches([' ', '\t']).len();
        let mut end = lr.end;
        let bytes = file.text.as_bytes();
        if end > 0 && bytes[end - 1] == b'\n' {
            end -= 1;
            if end > 0 && bytes[end - 1] == b'\r' {
                end -= 1;
            }
        }
        return Edit::delete(TextRange::new(ws_start, end.max(ws_start)));
    }
    Edit::delete(between)
}

impl Sequence {
    /// Append an item (a fragment, see [`Mapping::insert_entry`]). Block: a new `- item` line (a
    /// mapping fragment becomes `- key: v` with its other keys under the first) at the `-` column
    /// after the last item's lines. Flow: `, item` after the last item (`[]` → `[item]`).
    ///
    /// # Errors
    /// The fragment is invalid.
    pub fn append_item(&self, item: &str) -> Result<Vec<Edit>, YamlError> {
        let file = &self.0.file;
        let frag = Fragment::parse(item)?;
        let quote = file.stats().quote;
        let items = self.items();
        if self.is_flow() {
            let text = match frag.root() {
                Some(root) => frag.flow(&root, quote)?,
                None => "null".to_owned(),
            };
            let elems: Vec<TextRange> = items.iter().map(Item::range).collect();
            return Ok(vec![flow_append(file, self.range(), &elems, &text)]);
        }
        let Some(last) = items.last() else {
            return Err(YamlError::new("empty block sequence", self.range()));
        };
        let col = self.indent();
        let unit = match self.0.data().parent {
            ParentData::EntryValue(e) => Entry {
                file: file.clone(),
                id: e,
            }
            .mapping()
            .indent_unit(),
            _ => file.stats().unit.unwrap_or(super::style::DEFAULT_UNIT),
        };
        let layout = Layout {
            unit,
            seq_indent: file.stats().seq_indent.unwrap_or(unit),
            item_gap: self.item_gap(),
        };
        let content_end = deep_end(file, last.data().value).max(last.range().end);
        let at = block_lines_end(file, content_end, col);
        let p = pad(col);
        let rendered = match frag.root() {
            Some(root) => frag.item_value(&root, col, layout)?,
            None => Rendered::Null,
        };
        let lines = match rendered {
            Rendered::Null => vec![format!("{p}-")],
            Rendered::Inline(v) => vec![format!("{p}- {v}")],
            Rendered::Block { header, lines } if header.is_empty() && !lines.is_empty() => lines,
            Rendered::Block { header, lines } => {
                let mut out = vec![format!("{p}-{header}")];
                out.extend(lines);
                out
            }
        };
        Ok(vec![insert_lines(file, at, &lines)])
    }
}

impl Item {
    /// Delete this item. Block: its whole lines ([`Item::line_range`]). The first item of a compact
    /// `- - a`: up to the next item. The only item: the sequence becomes `[]` (`key: []`). Flow: the
    /// item and one adjacent comma. See [`Item::remove_or_parent_entry`] to drop the key instead.
    ///
    /// # Errors
    /// The sequence is a key.
    pub fn remove(&self) -> Result<Vec<Edit>, YamlError> {
        let file = &self.file;
        let s = self.sequence();
        let items = s.items();
        let index = self.index();
        if s.is_flow() {
            let elems: Vec<TextRange> = items.iter().map(Item::range).collect();
            return Ok(vec![flow_remove(file, &elems, index)]);
        }
        let lr = self.line_range();
        if items.len() == 1 {
            return empty_block_collection(file, s.0.id, lr, self.range(), "[]");
        }
        if !file.first_on_line(self.range().start) {
            if let Some(next) = items.get(index + 1) {
                return Ok(vec![compact_first_removal(
                    file,
                    self.range().start,
                    lr,
                    next.range().start,
                )]);
            }
        }
        Ok(vec![delete_lines(file, lr)])
    }

    /// Like [`Item::remove`], but when this is the only item of a sequence that is an entry's value,
    /// remove that entry (`key:\n  - x` disappears rather than becoming `key: []`).
    ///
    /// # Errors
    /// See [`Item::remove`] and [`Entry::remove`].
    pub fn remove_or_parent_entry(&self) -> Result<Vec<Edit>, YamlError> {
        let s = self.sequence();
        if s.len() == 1 {
            if let ParentData::EntryValue(e) = s.0.data().parent {
                return Entry {
                    file: self.file.clone(),
                    id: e,
                }
                .remove();
            }
        }
        self.remove()
    }
}

impl Scalar {
    /// Replace the value, keeping the style: plain stays plain when the new text can be written
    /// plain (verbatim: `false` stays a boolean, `8080` a number; else it is quoted with the file's
    /// preferred quote), single-quoted stays single-quoted (double when it cannot hold the value),
    /// double-quoted stays double-quoted, a block scalar stays a block scalar with the chomping
    /// indicator the new value needs (a folded one with inner line breaks becomes literal; a value
    /// with a leading space or control characters becomes double-quoted).
    #[must_use]
    pub fn replace(&self, new_value: &str) -> Edit {
        let file = &self.0.file;
        let range = self.range();
        let flow = self.in_flow();
        let quote = file.stats().quote;
        match self.style() {
            ScalarStyle::Plain => {
                if is_plain_safe(new_value, flow) {
                    Edit::replace(range, new_value.to_owned())
                } else {
                    Edit::replace(range, super::scalar::quoted(new_value, quote))
                }
            }
            ScalarStyle::Single => Edit::replace(
                range,
                single_quoted(new_value).unwrap_or_else(|| double_quoted(new_value)),
            ),
            ScalarStyle::Double => Edit::replace(range, double_quoted(new_value)),
            ScalarStyle::Literal | ScalarStyle::Folded => self.replace_block(new_value),
        }
    }

    fn replace_block(&self, v: &str) -> Edit {
        let file = &self.0.file;
        let d = self.0.data();
        let text = &file.text;
        let nl = eol(file);
        let trailing = v.len() - v.trim_end_matches('\n').len();
        let body = &v[..v.len() - trailing];
        let old_keeps = block_scalar_keeps(file, self.0.id);
        let new_keeps = trailing > 1;
        let end = if old_keeps || new_keeps {
            d.cst_end.max(d.range.end)
        } else {
            d.range.end
        };
        let range = TextRange::new(d.range.start, end);
        let needs_quotes = body.is_empty()
            || body.starts_with([' ', '\t'])
            || body
                .split('\n')
                .any(|l| !l.is_empty() && l.trim().is_empty())
            || v.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
            || v.contains('\r');
        if needs_quotes {
            // Keep the line break(s) the old block consumed.
            let tail = if text[..end].ends_with('\n') { nl } else { "" };
            return Edit::replace(range, format!("{}{tail}", double_quoted(v)));
        }
        let style = if self.style() == ScalarStyle::Folded && !body.contains('\n') {
            '>'
        } else {
            '|'
        };
        let chomp = match trailing {
            0 => "-",
            1 => "",
            _ => "+",
        };
        // Keep a comment on the header line.
        let header_line_end = file
            .next_line_start(d.range.start)
            .min(d.range.end.max(d.range.start));
        let header_line = &text[d.range.start..header_line_end.max(d.range.start)];
        let comment = header_line
            .find(" #")
            .or_else(|| header_line.find("\t#"))
            .map(|i| header_line[i..].trim_end().to_owned())
            .unwrap_or_default();
        // Body indentation: the old body's, else the parent's column + the indent unit.
        let old_body_indent = text[d.range.start..d.range.end.max(d.range.start)]
            .lines()
            .skip(1)
            .find(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches(' ').len());
        let indent = old_body_indent.unwrap_or_else(|| {
            let parent_col = match d.parent {
                ParentData::EntryValue(e) | ParentData::EntryKey(e) => {
                    file.column(file.entries[e].range.start)
                }
                ParentData::Item(i) => file.column(file.items[i].range.start),
                ParentData::Document(_) => 0,
            };
            parent_col + file.stats().unit.unwrap_or(super::style::DEFAULT_UNIT)
        });
        let p = pad(indent);
        let lines: Vec<String> = body
            .split('\n')
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{p}{l}")
                }
            })
            .collect();
        let mut out = format!("{style}{chomp}{comment}{nl}{}", lines.join(nl));
        if new_keeps {
            // The body's own line break, then one empty line per extra trailing line break; the
            // range ran through the old trailing blank lines.
            // (At the end of a text without a final line break this adds one: the value needs it.)
            for _ in 0..trailing {
                out.push_str(nl);
            }
        } else if text[..end].ends_with('\n') {
            out.push_str(nl);
        }
        Edit::replace(range, out)
    }
}
