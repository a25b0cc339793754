//! Cheap checks on the raw text before any YAML parser sees it, so that hostile input is an error
//! rather than a hang, a stack overflow or an abort.

use super::model::{FileData, KindData, NodeId};
use super::{YamlError, MAX_INPUT_BYTES, MAX_NESTING_DEPTH};
use crate::text::TextRange;

/// Aliases may add this many nodes to a file, or as many as the file itself has if that is more.
pub(crate) const MIN_ALIAS_NODES: u64 = 250_000;

/// Aliases may add this many bytes of scalar text, or as many as the file has if that is more.
pub(crate) const MIN_ALIAS_BYTES: u64 = 16 * 1024 * 1024;

/// How big a file is once its aliases are expanded (merge keys included: `<<: *a` replays `a`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Expansion {
    /// Nodes written in the file (scalars, collections, absent values, aliases).
    pub own_nodes: u64,
    /// Nodes that aliases add when expanded.
    pub alias_nodes: u64,
    /// Bytes of scalar text that aliases add when expanded.
    pub alias_bytes: u64,
}

impl Expansion {
    /// The most nodes aliases may add to this file.
    pub fn node_limit(&self) -> u64 {
        MIN_ALIAS_NODES.max(self.own_nodes)
    }
}

/// Count what the aliases of `file` expand to, without expanding anything: every node's expanded
/// size is computed once, children before parents and an anchored node before the aliases that
/// follow it (a post-order walk per document), so an alias costs one look-up however big its
/// target. Alias bombs ("billion laughs") are refused here by the size they would reach, before the
/// loader replays a single event; files that merely use many aliases are fine.
///
/// # Errors
/// The aliases would add more than `max(250 000, nodes in the file)` nodes or
/// `max(16 MiB, file size)` bytes of text; located at the alias that crosses the limit.
pub(crate) fn expansion(file: &FileData) -> Result<Expansion, YamlError> {
    let n = file.nodes.len();
    let mut out = Expansion {
        own_nodes: n as u64,
        ..Expansion::default()
    };
    // Only aliases add anything (most files have none: nothing to walk).
    if !file
        .nodes
        .iter()
        .any(|node| matches!(node.kind, KindData::Alias { .. }))
    {
        return Ok(out);
    }
    let node_limit = out.node_limit();
    let byte_limit = MIN_ALIAS_BYTES.max(file.text.len() as u64);
    // (nodes, scalar bytes) of each node with its aliases expanded; None until computed.
    let mut size: Vec<Option<(u64, u64)>> = vec![None; n];
    let mut stack: Vec<(NodeId, bool)> = Vec::new();
    let mut children: Vec<NodeId> = Vec::new();
    for doc in &file.docs {
        stack.push((doc.root, false));
        while let Some((id, done)) = stack.pop() {
            let node = &file.nodes[id];
            if !done {
                stack.push((id, true));
                children.clear();
                match &node.kind {
                    KindData::Mapping { entries, .. } => {
                        for &e in entries {
                            children.push(file.entries[e].key_node);
                            children.push(file.entries[e].value);
                        }
                    }
                    KindData::Sequence { items, .. } => {
                        children.extend(items.iter().map(|&i| file.items[i].value));
                    }
                    _ => {}
                }
                stack.extend(children.iter().rev().map(|&c| (c, false)));
                continue;
            }
            let s = match &node.kind {
                KindData::Mapping { entries, .. } => {
                    entries.iter().fold((1u64, 0u64), |acc, &e| {
                        let k = size[file.entries[e].key_node].unwrap_or((1, 0));
                        let v = size[file.entries[e].value].unwrap_or((1, 0));
                        (
                            acc.0.saturating_add(k.0).saturating_add(v.0),
                            acc.1.saturating_add(k.1).saturating_add(v.1),
                        )
                    })
                }
                KindData::Sequence { items, .. } => items.iter().fold((1u64, 0u64), |acc, &i| {
                    let v = size[file.items[i].value].unwrap_or((1, 0));
                    (acc.0.saturating_add(v.0), acc.1.saturating_add(v.1))
                }),
                KindData::Scalar { .. } => (1, node.range.len() as u64),
                KindData::Null => (1, 0),
                KindData::Alias { target, .. } => {
                    // A target not computed yet encloses the alias (a recursive alias): the
                    // loader refuses it, so it counts as itself here.
                    let t = target.and_then(|t| size[t]).unwrap_or((1, 0));
                    out.alias_nodes = out.alias_nodes.saturating_add(t.0);
                    out.alias_bytes = out.alias_bytes.saturating_add(t.1);
                    if out.alias_nodes > node_limit || out.alias_bytes > byte_limit {
                        let what = if out.alias_nodes > node_limit {
                            format!("{node_limit} nodes")
                        } else {
                            format!("{byte_limit} bytes of text")
                        };
                        return Err(YamlError::new(
                            format!(
                                "YAML aliases expand to more than {what} (an alias bomb?); the file is not processed"
                            ),
                            node.range,
                        ));
                    }
                    t
                }
            };
            size[id] = Some(s);
        }
    }
    Ok(out)
}

/// Reject input larger than [`MAX_INPUT_BYTES`] or nested deeper than [`MAX_NESTING_DEPTH`].
///
/// The depth is estimated from the text alone in one linear pass: block nesting is the number of
/// increasing indentation levels of the enclosing lines, plus one for a sequence at its key's column
/// (`key:\n- a`) and one per compact `- ` / `? ` on a line; flow nesting the number of open `[` /
/// `{`. Quoted scalars, comments and block scalar
/// bodies are skipped. The estimate may over-count (a deeply indented multi-line plain scalar) but
/// never misses a real level of block or flow nesting. Returns the deepest nesting seen.
pub(crate) fn check(text: &str) -> Result<usize, YamlError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(YamlError::new(
            format!(
                "file too large for YAML processing ({} bytes, the limit is {MAX_INPUT_BYTES})",
                text.len()
            ),
            TextRange::new(MAX_INPUT_BYTES.min(text.len()), text.len()),
        ));
    }
    Scanner::default().run(text)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Quote {
    Single,
    Double,
}

/// The lines of a block scalar body.
#[derive(Clone, Copy)]
enum BlockBody {
    /// Lines indented more than the line of the header (or blank).
    IndentedPast(usize),
    /// A root block scalar (`--- |`): every line up to the next document marker.
    Root,
}

#[derive(Default)]
struct Scanner {
    /// Enclosing block levels: a column and whether it is a sequence (`-` items) at that column.
    /// Columns never decrease; a zero-indented sequence (`key:\n- a`) sits at its key's column.
    levels: Vec<(usize, bool)>,
    flow: usize,
    quote: Option<Quote>,
    /// Inside a block scalar body: which lines belong to it.
    block_scalar: Option<BlockBody>,
    max_depth: usize,
    /// Scan with [`Scanner::scan_by_bytes`] (the tests' reference).
    #[cfg(test)]
    by_bytes: bool,
}

fn too_deep(at: usize, end: usize) -> YamlError {
    YamlError::new(
        format!("YAML nested deeper than {MAX_NESTING_DEPTH} levels"),
        TextRange::new(at, end),
    )
}

impl Scanner {
    fn depth(&mut self) -> usize {
        let d = self.levels.len() + self.flow;
        self.max_depth = self.max_depth.max(d);
        d
    }

    fn run(mut self, text: &str) -> Result<usize, YamlError> {
        // The lines, each without its line break (`split_inclusive('\n')`, breaks found with
        // memchr).
        let mut line_start = 0;
        let ends = memchr::memchr_iter(b'\n', text.as_bytes())
            .map(|i| i + 1)
            .chain((!text.is_empty() && !text.ends_with('\n')).then_some(text.len()));
        for end in ends {
            let line = text[line_start..end].trim_end_matches(['\n', '\r']);
            self.line(line, line_start)?;
            line_start = end;
        }
        Ok(self.max_depth)
    }

    fn line(&mut self, line: &str, start: usize) -> Result<(), YamlError> {
        let bytes = line.as_bytes();
        // Skip a BOM at the start of the text (or of a document).
        let mut i = if line.starts_with('\u{feff}') { 3 } else { 0 };
        let indent = bytes[i..].iter().take_while(|&&b| b == b' ').count();
        let content = &line[i + indent..];

        if let Some(parent) = self.block_scalar {
            let blank = content.trim_start_matches(['\t', ' ']).is_empty();
            let inside = match parent {
                BlockBody::IndentedPast(p) => indent > p,
                BlockBody::Root => !(line.starts_with("---") || line.starts_with("...")),
            };
            if blank || inside {
                return Ok(());
            }
            self.block_scalar = None;
        }

        if self.quote.is_none() && self.flow == 0 {
            if content.is_empty() || content.starts_with('#') {
                return Ok(());
            }
            if (line.starts_with("---") || line.starts_with("..."))
                && line[3..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == ' ' || c == '\t')
            {
                self.levels.clear();
                if line.starts_with("---") {
                    self.scan(line, start, 3, None)?;
                }
                return Ok(());
            }
            let dash = |r: &str| {
                (r.starts_with('-') || r.starts_with('?'))
                    && r[1..].chars().next().is_none_or(|c| c == ' ' || c == '\t')
            };
            let is_seq = dash(content);
            while self
                .levels
                .last()
                .is_some_and(|&(col, seq)| col > indent || (col == indent && seq && !is_seq))
            {
                self.levels.pop();
            }
            match self.levels.last() {
                Some(&(col, seq)) if col == indent && (seq || !is_seq) => {}
                _ => self.levels.push((indent, is_seq)),
            }
            // Compact nesting: `- - - a`, `? - a`, `- key: v`.
            let mut col = indent;
            let mut rest = content;
            while dash(rest) {
                let after = &rest[1..];
                let spaces = after.len() - after.trim_start_matches([' ', '\t']).len();
                col += 1 + spaces;
                rest = &after[spaces..];
                if rest.is_empty() {
                    break;
                }
                self.levels.push((col, dash(rest)));
            }
            if self.depth() > MAX_NESTING_DEPTH {
                return Err(too_deep(start + i + indent, start + line.len()));
            }
            i = line.len() - rest.len();
            let parent_indent = Some(indent);
            return self.scan(line, start, i, parent_indent);
        }
        self.scan(line, start, i, Some(indent))
    }

    /// Scan the rest of a line from byte `i` for quotes, flow brackets, comments and a block scalar
    /// header at its end.
    fn scan(
        &mut self,
        line: &str,
        start: usize,
        mut i: usize,
        parent_indent: Option<usize>,
    ) -> Result<(), YamlError> {
        let bytes = line.as_bytes();
        // Whether the previous byte allows an indicator to start a token here.
        let mut token_start = line[..i]
            .chars()
            .last()
            .is_none_or(|c| c == ' ' || c == '\t' || c == '\u{feff}');
        let mut last_token_end = i;
        let mut last_token_start = i;
        // A byte that does the same wherever it stands outside quotes: it is (part of) a token,
        // and the next byte does not start one. A run of them is taken at once.
        let plain = |b: u8| {
            !matches!(
                b,
                b'#' | b'"' | b'\'' | b'[' | b'{' | b']' | b'}' | b' ' | b'\t' | b',' | b':'
            )
        };
        #[cfg(test)]
        if self.by_bytes {
            return self.scan_by_bytes(line, start, i, parent_indent);
        }
        while i < bytes.len() {
            match self.quote {
                // Inside quotes only the closing quote and (in double quotes) an escape count.
                Some(Quote::Double) => {
                    let Some(k) = memchr::memchr2(b'\\', b'"', &bytes[i..]) else {
                        i = bytes.len();
                        continue;
                    };
                    i += k;
                    if bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    self.quote = None;
                    last_token_end = i + 1;
                    i += 1;
                    continue;
                }
                Some(Quote::Single) => {
                    let Some(k) = memchr::memchr(b'\'', &bytes[i..]) else {
                        i = bytes.len();
                        continue;
                    };
                    i += k;
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    self.quote = None;
                    last_token_end = i + 1;
                    i += 1;
                    continue;
                }
                None => {}
            }
            let b = bytes[i];
            if plain(b) {
                let end = bytes[i..]
                    .iter()
                    .position(|&c| !plain(c))
                    .map_or(bytes.len(), |k| i + k);
                if token_start {
                    last_token_start = i;
                }
                last_token_end = end;
                token_start = false;
                i = end;
                continue;
            }
            match b {
                b'#' if token_start => break,
                b'"' | b'\'' if token_start => {
                    self.quote = Some(if b == b'"' {
                        Quote::Double
                    } else {
                        Quote::Single
                    });
                    last_token_start = i;
                }
                b'[' | b'{' if token_start || self.flow > 0 => {
                    self.flow += 1;
                    if self.depth() > MAX_NESTING_DEPTH {
                        return Err(too_deep(start + i, start + i + 1));
                    }
                }
                b']' | b'}' if self.flow > 0 => {
                    self.flow -= 1;
                    last_token_end = i + 1;
                }
                b' ' | b'\t' => {}
                _ => {
                    if token_start {
                        last_token_start = i;
                    }
                    last_token_end = i + 1;
                }
            }
            token_start = matches!(b, b' ' | b'\t')
                || (self.flow > 0 && matches!(b, b'[' | b'{' | b',' | b':'));
            i += 1;
        }
        // A block scalar header (`|`, `>-`, `|2+`) as the last token of a block-context line.
        if self.quote.is_none() && self.flow == 0 && last_token_end > last_token_start {
            let token = &line[last_token_start..last_token_end];
            let mut chars = token.chars();
            if matches!(chars.next(), Some('|' | '>'))
                && token.len() <= 3
                && chars.all(|c| c == '+' || c == '-' || c.is_ascii_digit())
            {
                self.block_scalar = Some(match parent_indent {
                    Some(p) if !line.starts_with("---") => BlockBody::IndentedPast(p),
                    _ => BlockBody::Root,
                });
            }
        }
        Ok(())
    }

    /// [`Scanner::scan`] as first written, a byte at a time: the reference the faster one is
    /// tested against.
    #[cfg(test)]
    fn scan_by_bytes(
        &mut self,
        line: &str,
        start: usize,
        mut i: usize,
        parent_indent: Option<usize>,
    ) -> Result<(), YamlError> {
        let bytes = line.as_bytes();
        // Whether the previous byte allows an indicator to start a token here.
        let mut token_start = line[..i]
            .chars()
            .last()
            .is_none_or(|c| c == ' ' || c == '\t' || c == '\u{feff}');
        let mut last_token_end = i;
        let mut last_token_start = i;
        while i < bytes.len() {
            let b = bytes[i];
            match self.quote {
                Some(Quote::Double) => {
                    if b == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b == b'"' {
                        self.quote = None;
                        last_token_end = i + 1;
                    }
                    i += 1;
                    continue;
                }
                Some(Quote::Single) => {
                    if b == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        self.quote = None;
                        last_token_end = i + 1;
                    }
                    i += 1;
                    continue;
                }
                None => {}
            }
            match b {
                b'#' if token_start => break,
                b'"' | b'\'' if token_start => {
                    self.quote = Some(if b == b'"' {
                        Quote::Double
                    } else {
                        Quote::Single
                    });
                    last_token_start = i;
                }
                b'[' | b'{' if token_start || self.flow > 0 => {
                    self.flow += 1;
                    if self.depth() > MAX_NESTING_DEPTH {
                        return Err(too_deep(start + i, start + i + 1));
                    }
                }
                b']' | b'}' if self.flow > 0 => {
                    self.flow -= 1;
                    last_token_end = i + 1;
                }
                b' ' | b'\t' => {}
                _ => {
                    if token_start {
                        last_token_start = i;
                    }
                    last_token_end = i + 1;
                }
            }
            token_start = matches!(b, b' ' | b'\t')
                || (self.flow > 0 && matches!(b, b'[' | b'{' | b',' | b':'));
            i += 1;
        }
        // A block scalar header (`|`, `>-`, `|2+`) as the last token of a block-context line.
        if self.quote.is_none() && self.flow == 0 && last_token_end > last_token_start {
            let token = &line[last_token_start..last_token_end];
            let mut chars = token.chars();
            if matches!(chars.next(), Some('|' | '>'))
                && token.len() <= 3
                && chars.all(|c| c == '+' || c == '-' || c.is_ascii_digit())
            {
                self.block_scalar = Some(match parent_indent {
                    Some(p) if !line.starts_with("---") => BlockBody::IndentedPast(p),
                    _ => BlockBody::Root,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan that takes plain runs and quoted text at once gives what the byte-at-a-time scan
    /// gave (the depth, or the same error): over every YAML file of the corpora and `golden/`,
    /// 8 mutants of each, and samples with quotes, escapes, flow collections and comments.
    #[test]
    fn the_fast_scan_agrees_with_the_byte_at_a_time_scan() {
        use crate::testing::{corpus_files, is_yaml, mutant, Lcg};
        let agree = |t: &str| {
            let reference = Scanner {
                by_bytes: true,
                ..Scanner::default()
            };
            assert_eq!(Scanner::default().run(t), reference.run(t), "{t:?}");
        };
        for t in [
            "",
            "a",
            "a: 'x''y' # c\nb: \"q\\\"r\" [\n",
            "a: [b, {c: d}, 'e]', \"f}\"]\n",
            "- \"unclosed\n  more\" : x\n",
            "k: 'a\n  b' # [\n",
            "a: x#y [z\n",
            "a: |\n  [[[\nb: >-\n  {{\n",
            "\u{feff}a: [1,2]\r\nb: 'c'\r\n",
            "a: \"\\",
            "a: {b:'[[[[', c:\"{{\"}\n",
            "a: [x,'[[[[',\"{{\"]\n",
        ] {
            agree(t);
        }
        let inserts = [
            "[", "{", "]", "}", "'", "\"", "\\", "#", " ", ":", ",", "- ", "|", "\n",
        ];
        let mut rng = Lcg::new(0x5851_F42D_4C95_7F2D);
        for p in corpus_files(is_yaml) {
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            agree(&text);
            for _ in 0..8 {
                agree(&mutant(&text, &mut rng, &inserts));
            }
        }
    }

    fn depth_err(text: &str) -> bool {
        check(text).is_err()
    }

    #[test]
    fn accepts_ordinary_yaml() {
        let t = "a:\n  b: [1, {c: d}]\n  e: |\n    x\n        y\n  f: \"[[[[\" # [[[\n- - - a\n";
        assert!(check(t).is_ok());
    }

    #[test]
    fn rejects_deep_flow() {
        let n = MAX_NESTING_DEPTH + 1;
        assert!(depth_err(&format!(
            "a: {}{}\n",
            "[".repeat(n),
            "]".repeat(n)
        )));
        assert!(!depth_err(&format!(
            "a: {}{}\n",
            "[".repeat(n - 2),
            "]".repeat(n - 2)
        )));
        assert!(depth_err(&format!("{}\n", "{a: ".repeat(n))));
    }

    #[test]
    fn rejects_deep_indentation_and_dashes() {
        let n = MAX_NESTING_DEPTH + 1;
        let mut s = String::new();
        for i in 0..n {
            s += &" ".repeat(i);
            s += "a:\n";
        }
        assert!(depth_err(&s));
        assert!(depth_err(&format!("{}a\n", "- ".repeat(n))));
        let ok: String = (0..MAX_NESTING_DEPTH - 1)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect();
        assert!(!depth_err(&ok));
    }

    #[test]
    fn zero_indented_sequences_count() {
        // mapping → sequence → mapping → ... with every sequence at its key's column.
        let mut s = String::new();
        for i in 0..MAX_NESTING_DEPTH / 2 + 2 {
            s += &format!("{}- k{i}:\n", "  ".repeat(i));
        }
        assert!(depth_err(&s));
        assert_eq!(check("a:\n- b:\n  - c: 1\n").unwrap(), 5);
        // (The item scalar counts as a level: an over-estimate by one.)
        assert_eq!(check("a:\n  b: 1\nc:\n- x\nd: 2\n").unwrap(), 3);
    }

    #[test]
    fn block_scalar_bodies_do_not_count() {
        let mut s = String::from("a: |\n");
        for i in 1..400 {
            s += &" ".repeat(i);
            s += "x\n";
        }
        s += "b: 1\n";
        assert!(check(&s).is_ok());
        let mut s = String::from("--- >\n");
        for i in 0..400 {
            s += &" ".repeat(i);
            s += "x\n";
        }
        assert!(check(&s).is_ok());
    }

    #[test]
    fn quotes_and_plain_brackets() {
        let n = MAX_NESTING_DEPTH + 10;
        // Brackets inside quotes, comments and plain scalars are not flow indicators.
        let s = format!(
            "a: \"{}\"\nb: '{}'\nc: x{}\n# {}\n",
            "[".repeat(n),
            "{".repeat(n),
            "[".repeat(n),
            "[".repeat(n)
        );
        assert!(check(&s).is_ok());
    }

    #[test]
    fn size_cap() {
        let s = "a".repeat(MAX_INPUT_BYTES + 1);
        let e = check(&s).unwrap_err();
        assert!(e.message.contains("too large"));
    }
}
