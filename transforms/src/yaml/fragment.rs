//! Value fragments for the edit builders: a small YAML text written by a transform (`[ALL]`,
//! `no-new-privileges:true`, `"- ALL\n- NET_RAW"`, `"drop:\n  - ALL"`), parsed, then laid out in the
//! target file's style (indent step, sequence indentation, gap after `-`). Scalars, flow collections
//! and aliases are copied verbatim; only block structure is re-indented.
//!
//! Fragments are written with any consistent indentation; comments in fragments are refused (they
//! could not be placed faithfully), as are multi-line flow scalars and flow collections.

use super::model::{Mapping, Node, Sequence, YamlFile};
use super::scalar::{double_quoted, is_plain_safe, string_scalar, QuoteStyle, ScalarStyle};
use super::YamlError;
use crate::text::TextRange;

/// How new block content is laid out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// Step for a block mapping nested under a key, and for block scalar bodies.
    pub unit: usize,
    /// Offset of a block sequence's `-` from its key's column (0 = `key:\n- a`).
    pub seq_indent: usize,
    /// Column of a mapping item's first key minus its `-` column (`- key` = 2).
    pub item_gap: usize,
}

/// A fragment laid out for a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rendered {
    /// An absent value (`key:` / `-`).
    Null,
    /// Goes on the same line, after `key: ` or `- `.
    Inline(String),
    /// `header` goes right after `key:` / `-` (e.g. ` |-`, ` &a`, or empty); `lines` follow, each
    /// with its full indentation.
    Block { header: String, lines: Vec<String> },
}

pub(crate) struct Fragment {
    file: YamlFile,
}

fn frag_err(message: impl Into<String>) -> YamlError {
    YamlError::new(message, TextRange::empty(0))
}

/// Fragments parsed on this thread, by text: rules build the same few fragments (`[ALL]`,
/// `runAsNonRoot: true`) for every service or container of every round, and a parse costs far more
/// than a look-up. Bounded: cleared when full.
const FRAGMENT_CACHE_ENTRIES: usize = 1024;

thread_local! {
    static FRAGMENTS: crate::memo::Cache<YamlFile> = crate::memo::Cache::default();
}

impl Fragment {
    pub fn parse(text: &str) -> Result<Self, YamlError> {
        crate::memo::get_or_try(&FRAGMENTS, FRAGMENT_CACHE_ENTRIES, text.as_bytes(), || {
            Self::parse_uncached(text).map(|f| f.file)
        })
        .map(|file| Self { file })
    }

    fn parse_uncached(text: &str) -> Result<Self, YamlError> {
        let file = super::parse_fragment(text).map_err(|e| {
            YamlError::new(
                format!("invalid YAML fragment {text:?}: {}", e.message),
                e.range,
            )
        })?;
        if !file.comments().is_empty() {
            return Err(frag_err(format!(
                "YAML fragment {text:?} has a comment; fragments cannot carry comments"
            )));
        }
        if file.documents().len() > 1 {
            return Err(frag_err(format!(
                "YAML fragment {text:?} has several documents"
            )));
        }
        Ok(Self { file })
    }

    pub fn root(&self) -> Option<Node> {
        self.file
            .documents()
            .first()
            .map(super::model::Document::root)
    }

    fn text(&self) -> &str {
        self.file.text()
    }

    /// The anchor and tag in front of a node, as written (`&a !!map`), or "".
    fn props(&self, node: &Node) -> String {
        let full = node.full_range();
        let r = node.range();
        if full.start < r.start {
            self.text()[full.start..r.start].trim().to_owned()
        } else if node.anchor().is_some() || node.tag().is_some() {
            // An absent value with properties: the range is empty at the end of the properties.
            let mut parts = Vec::new();
            if let Some(t) = node.tag() {
                parts.push(t);
            }
            if let Some(a) = node.anchor() {
                parts.push(format!("&{a}"));
            }
            parts.join(" ")
        } else {
            String::new()
        }
    }

    fn with_props(&self, node: &Node, s: &str) -> String {
        let p = self.props(node);
        if p.is_empty() {
            s.to_owned()
        } else if s.is_empty() {
            p
        } else {
            format!("{p} {s}")
        }
    }

    fn single_line(&self, node: &Node, what: &str) -> Result<String, YamlError> {
        let raw = node.range().slice(self.file.text());
        if raw.contains('\n') || raw.contains('\r') {
            return Err(frag_err(format!(
                "multi-line {what} {raw:?} in a YAML fragment is not supported"
            )));
        }
        Ok(raw.to_owned())
    }

    /// Lay out `node` as the value of an entry whose key is at column `col`.
    pub fn entry_value(
        &self,
        node: &Node,
        col: usize,
        layout: Layout,
    ) -> Result<Rendered, YamlError> {
        self.value(node, col, layout, false)
    }

    /// Lay out `node` as an item whose `-` is at column `col` (the text after `- ` on the dash line,
    /// and the lines after it).
    pub fn item_value(
        &self,
        node: &Node,
        col: usize,
        layout: Layout,
    ) -> Result<Rendered, YamlError> {
        self.value(node, col, layout, true)
    }

    fn value(
        &self,
        node: &Node,
        col: usize,
        layout: Layout,
        item: bool,
    ) -> Result<Rendered, YamlError> {
        match node {
            Node::Null(_) => {
                let p = self.props(node);
                Ok(if p.is_empty() {
                    Rendered::Null
                } else {
                    Rendered::Inline(p)
                })
            }
            Node::Alias(_) => Ok(Rendered::Inline(node.text().to_owned())),
            Node::Scalar(s) => match s.style() {
                ScalarStyle::Literal | ScalarStyle::Folded => {
                    let (header, lines) = Self::block_scalar(s, col + layout.unit.max(1))?;
                    Ok(Rendered::Block {
                        header: format!(" {}", self.with_props(node, &header)),
                        lines,
                    })
                }
                _ => Ok(Rendered::Inline(
                    self.with_props(node, &self.single_line(node, "scalar")?),
                )),
            },
            Node::Mapping(m) if m.is_flow() => Ok(Rendered::Inline(
                self.with_props(node, &self.single_line(node, "flow mapping")?),
            )),
            Node::Sequence(s) if s.is_flow() => Ok(Rendered::Inline(
                self.with_props(node, &self.single_line(node, "flow sequence")?),
            )),
            Node::Mapping(m) => {
                let props = self.props(node);
                if item && props.is_empty() {
                    // Compact: `- key: v` with the other keys under the first.
                    let inner = col + layout.item_gap.max(2);
                    let mut lines = self.mapping_lines(m, inner, layout)?;
                    compact_first(&mut lines, col, inner);
                    return Ok(Rendered::Block {
                        header: String::new(),
                        lines,
                    });
                }
                let inner = if item {
                    col + layout.item_gap.max(2)
                } else {
                    col + layout.unit.max(1)
                };
                Ok(Rendered::Block {
                    header: space_prefixed(&props),
                    lines: self.mapping_lines(m, inner, layout)?,
                })
            }
            Node::Sequence(s) => {
                let props = self.props(node);
                if item && props.is_empty() {
                    let inner = col + layout.item_gap.max(2);
                    let mut lines = self.sequence_lines(s, inner, layout)?;
                    compact_first(&mut lines, col, inner);
                    return Ok(Rendered::Block {
                        header: String::new(),
                        lines,
                    });
                }
                let inner = if item {
                    col + layout.item_gap.max(2)
                } else {
                    col + layout.seq_indent
                };
                Ok(Rendered::Block {
                    header: space_prefixed(&props),
                    lines: self.sequence_lines(s, inner, layout)?,
                })
            }
        }
    }

    /// The header (`|-`, `>`) and the body lines re-indented to `indent`.
    fn block_scalar(
        s: &super::model::Scalar,
        indent: usize,
    ) -> Result<(String, Vec<String>), YamlError> {
        let raw = s.raw();
        let (header, body) = raw.split_once('\n').unwrap_or((raw, ""));
        let header = header.trim_end_matches('\r').trim();
        if header.chars().any(|c| c.is_ascii_digit()) {
            return Err(frag_err(format!(
                "block scalar indentation indicators ({header:?}) are not supported in YAML fragments"
            )));
        }
        let body_lines: Vec<&str> = body.lines().map(|l| l.trim_end_matches('\r')).collect();
        let base = body_lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches(' ').len())
            .min()
            .unwrap_or(0);
        let lines = body_lines
            .iter()
            .map(|l| {
                if l.trim().is_empty() {
                    String::new()
                } else {
                    format!("{}{}", " ".repeat(indent), &l[base..])
                }
            })
            .collect();
        Ok((header.to_owned(), lines))
    }

    fn key_text(&self, e: &super::model::Entry) -> Result<String, YamlError> {
        let k = e.key_node();
        let raw = k.full_range().slice(self.file.text());
        if raw.contains('\n')
            || matches!(k, Node::Mapping(_) | Node::Sequence(_)) && !raw.starts_with(['[', '{'])
        {
            return Err(frag_err(format!(
                "complex key {raw:?} in a YAML fragment is not supported"
            )));
        }
        Ok(raw.to_owned())
    }

    fn mapping_lines(
        &self,
        m: &Mapping,
        indent: usize,
        layout: Layout,
    ) -> Result<Vec<String>, YamlError> {
        let mut out = Vec::new();
        let pad = " ".repeat(indent);
        for e in m.entries() {
            let key = self.key_text(&e)?;
            match self.entry_value(&e.value(), indent, layout)? {
                Rendered::Null => out.push(format!("{pad}{key}:")),
                Rendered::Inline(v) => out.push(format!("{pad}{key}: {v}")),
                Rendered::Block { header, lines } => {
                    out.push(format!("{pad}{key}:{header}"));
                    out.extend(lines);
                }
            }
        }
        Ok(out)
    }

    fn sequence_lines(
        &self,
        s: &Sequence,
        indent: usize,
        layout: Layout,
    ) -> Result<Vec<String>, YamlError> {
        let mut out = Vec::new();
        let pad = " ".repeat(indent);
        for item in s.items() {
            match self.item_value(&item.value(), indent, layout)? {
                Rendered::Null => out.push(format!("{pad}-")),
                Rendered::Inline(v) => out.push(format!("{pad}- {v}")),
                Rendered::Block { header, lines } if header.is_empty() && !lines.is_empty() => {
                    // Compact block (first line already carries the dash).
                    out.extend(lines);
                }
                Rendered::Block { header, lines } => {
                    out.push(format!("{pad}-{header}"));
                    out.extend(lines);
                }
            }
        }
        Ok(out)
    }

    /// `node` in flow style (for insertion into a flow collection). Block collections are written as
    /// `{k: v}` / `[a, b]`, block scalars and plain scalars that flow context cannot hold as
    /// double-quoted strings.
    pub fn flow(&self, node: &Node, quote: QuoteStyle) -> Result<String, YamlError> {
        let s = match node {
            Node::Null(_) => {
                let p = self.props(node);
                if p.is_empty() {
                    "null".to_owned()
                } else {
                    p
                }
            }
            Node::Alias(_) => node.text().to_owned(),
            Node::Scalar(s) => match s.style() {
                ScalarStyle::Literal | ScalarStyle::Folded => {
                    self.with_props(node, &double_quoted(s.value()))
                }
                ScalarStyle::Plain if !is_plain_safe(s.raw(), true) => {
                    self.with_props(node, &string_scalar(s.value(), quote, true))
                }
                _ => self.with_props(node, &self.single_line(node, "scalar")?),
            },
            Node::Mapping(m) if m.is_flow() => {
                self.with_props(node, &self.single_line(node, "flow mapping")?)
            }
            Node::Sequence(s) if s.is_flow() => {
                self.with_props(node, &self.single_line(node, "flow sequence")?)
            }
            Node::Mapping(m) => {
                let mut parts = Vec::new();
                for e in m.entries() {
                    let k = self.flow(&e.key_node(), quote)?;
                    parts.push(format!("{k}: {}", self.flow(&e.value(), quote)?));
                }
                self.with_props(node, &format!("{{{}}}", parts.join(", ")))
            }
            Node::Sequence(s) => {
                let mut parts = Vec::new();
                for i in s.items() {
                    parts.push(self.flow(&i.value(), quote)?);
                }
                self.with_props(node, &format!("[{}]", parts.join(", ")))
            }
        };
        Ok(s)
    }
}

fn space_prefixed(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" {s}")
    }
}

/// Turn the first line `"<inner spaces>content"` into `"<col spaces>-<gap>content"`.
fn compact_first(lines: &mut [String], col: usize, inner: usize) {
    if let Some(first) = lines.first_mut() {
        let content = first[inner.min(first.len())..].to_owned();
        *first = format!(
            "{}-{}{}",
            " ".repeat(col),
            " ".repeat(inner - col - 1),
            content
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(unit: usize, seq_indent: usize) -> Layout {
        Layout {
            unit,
            seq_indent,
            item_gap: 2,
        }
    }

    fn entry(frag: &str, col: usize, l: Layout) -> Rendered {
        let f = Fragment::parse(frag).unwrap();
        match f.root() {
            Some(root) => f.entry_value(&root, col, l).unwrap(),
            None => Rendered::Null,
        }
    }

    #[test]
    fn inline_values() {
        assert_eq!(
            entry("[ALL]", 2, layout(2, 2)),
            Rendered::Inline("[ALL]".into())
        );
        assert_eq!(
            entry("\"a: b\"", 2, layout(2, 2)),
            Rendered::Inline("\"a: b\"".into())
        );
        assert_eq!(entry("", 2, layout(2, 2)), Rendered::Null);
        assert_eq!(entry("*x", 2, layout(2, 2)), Rendered::Inline("*x".into()));
    }

    #[test]
    fn block_values_take_the_layout() {
        let r = entry("drop:\n  - ALL\nadd: [X]\n", 2, layout(4, 0));
        assert_eq!(
            r,
            Rendered::Block {
                header: String::new(),
                lines: vec![
                    "      drop:".into(),
                    "      - ALL".into(),
                    "      add: [X]".into()
                ],
            }
        );
        let r = entry("- a: 1\n  b: 2\n- c\n", 0, layout(2, 2));
        assert_eq!(
            r,
            Rendered::Block {
                header: String::new(),
                lines: vec!["  - a: 1".into(), "    b: 2".into(), "  - c".into()],
            }
        );
        let r = entry("|-\n  line1\n    line2\n", 4, layout(2, 2));
        assert_eq!(
            r,
            Rendered::Block {
                header: " |-".into(),
                lines: vec!["      line1".into(), "        line2".into()],
            }
        );
    }

    #[test]
    fn flow_conversion() {
        let f = Fragment::parse("a: x,y\nb:\n  - 1\n  - |\n    t\n").unwrap();
        assert_eq!(
            f.flow(&f.root().unwrap(), QuoteStyle::Double).unwrap(),
            "{a: \"x,y\", b: [1, \"t\\n\"]}"
        );
    }

    #[test]
    fn comments_are_refused() {
        assert!(Fragment::parse("a: 1 # c\n").is_err());
    }
}
