//! The lossless syntax tree as a compact arena that the rest of this module navigates with
//! ordinary recursive code, filled by `yaml-edit`'s parser (copied in [`super::parser`]) through
//! [`Builder`]: one element per node and per token of a kind we use, in pre-order, offsets from
//! token lengths, and every token's text compared with the input at its offset (the tree is proof
//! that it round-trips byte for byte).
//!
//! [`parse_with_yaml_edit`] (tests only) is the path this replaced: `yaml-edit`'s own parse, its
//! rowan green tree copied with an explicit stack; a test compares the two.

use std::collections::HashMap;

#[cfg(test)]
use rowan::NodeOrToken;
use yaml_edit::SyntaxKind;

use super::YamlError;
use crate::text::TextRange;

/// The decoded values' map, keyed by element ids (the builder's own numbers), hashed with
/// foldhash (SipHash's cost was most of a look-up).
pub(crate) type DecodedMap = HashMap<ElemId, String, foldhash::fast::RandomState>;

/// Index of an element in [`Cst::elems`].
pub(crate) type ElemId = usize;

const NONE: u32 = u32::MAX;

/// One node, or one token of a kind we use, of the concrete syntax tree.
#[derive(Clone, Debug)]
pub(crate) struct Elem {
    pub kind: SyntaxKind,
    pub range: TextRange,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
}

/// The whole tree. Element 0 is the `ROOT` (or a synthetic empty root for a file without
/// documents). Trivia and scalar content tokens (whitespace, line breaks, indentation, `STRING`,
/// `INT`, ...) are not kept: nodes carry the ranges.
#[derive(Clone, Debug)]
pub(crate) struct Cst {
    pub elems: Vec<Elem>,
    /// Decoded values of the `SCALAR` nodes whose value is not their raw text (quoted with escapes,
    /// multi-line, block scalars).
    pub decoded: DecodedMap,
}

/// Children of an element.
pub(crate) struct Children<'a> {
    cst: &'a Cst,
    next: u32,
}

impl Iterator for Children<'_> {
    type Item = ElemId;

    fn next(&mut self) -> Option<ElemId> {
        if self.next == NONE {
            return None;
        }
        let id = self.next as usize;
        self.next = self.cst.elems[id].next_sibling;
        Some(id)
    }
}

impl Cst {
    fn empty(len: usize) -> Self {
        Self {
            elems: vec![Elem {
                kind: SyntaxKind::ROOT,
                range: TextRange::new(0, len),
                first_child: NONE,
                last_child: NONE,
                next_sibling: NONE,
            }],
            decoded: DecodedMap::default(),
        }
    }

    #[allow(clippy::unused_self)]
    pub fn root(&self) -> ElemId {
        0
    }

    pub fn kind(&self, id: ElemId) -> SyntaxKind {
        self.elems[id].kind
    }

    pub fn range(&self, id: ElemId) -> TextRange {
        self.elems[id].range
    }

    pub fn children(&self, id: ElemId) -> Children<'_> {
        Children {
            cst: self,
            next: self.elems[id].first_child,
        }
    }

    /// The first child of `kind`.
    pub fn child(&self, id: ElemId, kind: SyntaxKind) -> Option<ElemId> {
        self.children(id).find(|&c| self.kind(c) == kind)
    }

    /// Whether the subtree of `id` contains an element of `kind` (iterative: sibling chains are
    /// followed in place, only the first child of an element that has children is stacked, so
    /// a node whose children are all leaves, a scalar's tokens, allocates nothing).
    pub fn contains_kind(&self, id: ElemId, kind: SyntaxKind) -> bool {
        if self.kind(id) == kind {
            return true;
        }
        let mut stack: Vec<u32> = Vec::new();
        let mut next = self.elems[id].first_child;
        loop {
            while next != NONE {
                let e = &self.elems[next as usize];
                if e.kind == kind {
                    return true;
                }
                if e.first_child != NONE {
                    stack.push(e.first_child);
                }
                next = e.next_sibling;
            }
            match stack.pop() {
                Some(n) => next = n,
                None => return false,
            }
        }
    }
}

/// Tokens the model needs; all others are dropped from the copy.
fn kept_token(kind: SyntaxKind) -> bool {
    use SyntaxKind as K;
    matches!(
        kind,
        K::COMMENT
            | K::ANCHOR
            | K::TAG
            | K::DASH
            | K::COLON
            | K::QUESTION
            | K::LEFT_BRACE
            | K::LEFT_BRACKET
            | K::NULL
            | K::MERGE_KEY
            | K::DOC_START
            | K::BOM
            | K::ERROR
    )
}

fn internal(what: &str, at: usize) -> YamlError {
    YamlError::new(
        format!("internal error: the YAML syntax tree does not round-trip this file ({what})"),
        TextRange::empty(at),
    )
}

/// Whether a scalar's raw text is its value (a single-line plain scalar, or a quoted one without
/// escapes or line breaks), so that `yaml-edit`'s decoder need not run.
fn raw_is_value(raw: &str) -> Option<&str> {
    // (Byte loops: every character searched for is ASCII, and scalars are short: a loop costs
    // less than a vector search's set-up.)
    if raw.bytes().any(|b| b == b'\n' || b == b'\r') {
        return None;
    }
    match raw.as_bytes().first() {
        Some(b'"') => {
            let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
            (!inner.bytes().any(|b| b == b'\\' || b == b'"')).then_some(inner)
        }
        Some(b'\'') => {
            let inner = raw.strip_prefix('\'')?.strip_suffix('\'')?;
            (!inner.bytes().any(|b| b == b'\'')).then_some(inner)
        }
        Some(b'|' | b'>') => None,
        _ => Some(raw),
    }
}

/// Check that `text` is YAML with the event parser `serde-saphyr` uses (granit-parser, a
/// non-recursive state machine). `yaml-edit`'s parser is lenient by design (it builds a tree for
/// `a: b: c` or a tab-indented block) and its strict validator rejects constructs every real loader
/// accepts (a flow collection's closing `]` at its key's column, a quoted scalar's continuation line
/// at the key's column; both occur in the corpus), so validity is decided by the loader's parser.
pub(crate) fn check_syntax(text: &str, fragment: bool) -> Result<(), YamlError> {
    use serde_saphyr::granit_parser::{Options, Parser};
    let mut options = Options::default();
    options.flow_nesting_limit = super::MAX_NESTING_DEPTH + 1;
    options.block_nesting_limit = super::MAX_NESTING_DEPTH * 2 + 1;
    options.emit_comments = false;
    // A fragment may refer to anchors of the file it goes into.
    options.emit_unresolved_aliases = fragment;
    for event in Parser::new_from_str_with_options(text, options) {
        if let Err(e) = event {
            let m = e.marker();
            let at = m
                .byte_offset()
                .or_else(|| text.char_indices().nth(m.index()).map(|(i, _)| i))
                .unwrap_or(text.len())
                .min(text.len());
            return Err(YamlError::new(e.info(), TextRange::empty(at)));
        }
    }
    Ok(())
}

/// Parse `text` into the arena with `yaml-edit`'s parser (copied in [`super::parser`], building the
/// arena directly). Errors are syntax errors (see [`check_syntax`]), `yaml-edit`'s parse errors,
/// located, or a tree that does not cover the input token by token (which would be a parser bug).
/// `fragment`: the text is a value fragment for an edit, whose aliases may refer to anchors it does
/// not define. `validate`: run [`check_syntax`] first; a caller that loads every document with
/// `serde-saphyr` afterwards (the same event parser) may skip it and call it only on failure.
///
/// The scalars whose value is not their raw text are decoded as they are built, by
/// `yaml-edit`'s decoder (copied in [`super::parser::decode`]).
pub(crate) fn parse(text: &str, fragment: bool, validate: bool) -> Result<Cst, YamlError> {
    if validate {
        check_syntax(text, fragment)?;
    }
    let (builder, errors) = super::parser::parse(text);
    if let Some(e) = errors.first() {
        return Err(positioned(text, e));
    }
    builder.finish()
}

/// A `yaml-edit` parse error as ours, with its range clamped to the text.
fn positioned(text: &str, e: &yaml_edit::PositionedParseError) -> YamlError {
    let start = (e.range.start as usize).min(text.len());
    let end = (e.range.end as usize).clamp(start, text.len());
    YamlError::new(e.message.clone(), TextRange::new(start, end))
}

/// Builds the arena from the parser's events (nodes opened and closed, tokens in text order),
/// as the copy of `yaml-edit`'s green tree did ([`parse_with_yaml_edit`], kept for tests): one
/// element per node and per kept token, numbered in pre-order, each token's text checked against
/// the input at its offset.
pub(crate) struct Builder<'t> {
    text: &'t str,
    elems: Vec<Elem>,
    /// The nodes open, innermost last.
    open: Vec<ElemId>,
    /// Offset of the next token.
    offset: usize,
    /// Decoded values of the `SCALAR` nodes whose raw text is not their value.
    decoded: DecodedMap,
    /// The `SCALAR` just opened, until the first token after it says whether it opens with a
    /// block scalar header (`|` or `>`): `yaml-edit`'s `is_block_scalar` asks its first token.
    scalar_opened: Option<ElemId>,
    /// The `SCALAR`s whose first token is a `|` or `>`.
    block_scalars: Vec<ElemId>,
    /// Where each `BOM` token ends: a byte order mark takes no column.
    bom_ends: Vec<usize>,
    /// The first inconsistency met (reported by [`Builder::finish`]).
    error: Option<YamlError>,
}

impl<'t> Builder<'t> {
    /// A builder for `text`, lexed into `tokens` tokens. Over the corpora a tree has 0.5 to 1.5
    /// elements per token (1.2 typically), so its vector is sized for 1.5 and grows only beyond
    /// (sized by the text's length, it had grown by doubling in 87% of the texts).
    pub(crate) fn new(text: &'t str, tokens: usize) -> Self {
        Self {
            text,
            elems: Vec::with_capacity(tokens.saturating_add(tokens / 2).saturating_add(8)),
            open: Vec::new(),
            offset: 0,
            decoded: DecodedMap::default(),
            scalar_opened: None,
            block_scalars: Vec::new(),
            bom_ends: Vec::new(),
            error: None,
        }
    }

    fn kind(raw: rowan::SyntaxKind) -> SyntaxKind {
        use rowan::Language as _;
        yaml_edit::Lang::kind_from_raw(raw)
    }

    /// Add an element ending at `end` under the innermost open node (the first is the root).
    fn push(&mut self, kind: SyntaxKind, start: usize, end: usize) -> Option<ElemId> {
        let id = self.elems.len();
        let Some(id32) = u32::try_from(id).ok().filter(|&i| i != NONE) else {
            self.error.get_or_insert_with(|| {
                YamlError::new("too many YAML nodes", TextRange::empty(start))
            });
            return None;
        };
        if let Some(&parent) = self.open.last() {
            let p = &mut self.elems[parent];
            if p.last_child == NONE {
                p.first_child = id32;
            } else {
                let last = p.last_child as usize;
                self.elems[last].next_sibling = id32;
            }
            self.elems[parent].last_child = id32;
        }
        self.elems.push(Elem {
            kind,
            range: TextRange::new(start, end),
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
        });
        Some(id)
    }

    pub(crate) fn start_node(&mut self, kind: rowan::SyntaxKind) {
        let kind = Self::kind(kind);
        if self.open.is_empty() && !self.elems.is_empty() {
            self.error
                .get_or_insert_with(|| internal("a second root", self.offset));
        }
        if let Some(id) = self.push(kind, self.offset, self.offset) {
            self.open.push(id);
            if kind == SyntaxKind::SCALAR {
                self.scalar_opened = Some(id);
            }
        }
    }

    pub(crate) fn finish_node(&mut self) {
        let Some(id) = self.open.pop() else {
            self.error
                .get_or_insert_with(|| internal("a node closed twice", self.offset));
            return;
        };
        let start = self.elems[id].range.start;
        self.elems[id].range = TextRange::new(start, self.offset);
        if self.elems[id].kind != SyntaxKind::SCALAR {
            return;
        }
        if self.scalar_opened == Some(id) {
            // No token: not a block scalar.
            self.scalar_opened = None;
        }
        let raw = &self.text[start..self.offset];
        if raw_is_value(raw).is_some() {
            return;
        }
        let is_block = self.block_scalars.last() == Some(&id);
        let column = if is_block { self.entry_column() } else { 0 };
        let value = super::parser::decode::Scalar::as_string(raw, is_block, column);
        self.decoded.insert(id, value);
    }

    /// The column of the innermost open collection entry (`yaml-edit`'s `block_parent_column`:
    /// the characters from the start of its line, or from the end of a byte order mark token on
    /// that line, to where it starts), 0 outside any.
    fn entry_column(&self) -> usize {
        let Some(&entry) = self.open.iter().rev().find(|&&e| {
            matches!(
                self.elems[e].kind,
                SyntaxKind::MAPPING_ENTRY | SyntaxKind::SEQUENCE_ENTRY
            )
        }) else {
            return 0;
        };
        let at = self.elems[entry].range.start;
        let line_start = self.text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let from = self
            .bom_ends
            .iter()
            .rev()
            .find(|&&e| e <= at)
            .map_or(line_start, |&e| e.max(line_start));
        self.text[from..at].chars().count()
    }

    pub(crate) fn token(&mut self, kind: rowan::SyntaxKind, t: &str) {
        let start = self.offset;
        // (The parser's tokens are slices of the text: the same address is the same bytes.)
        let in_place = std::ptr::eq(t.as_ptr(), self.text.as_ptr().wrapping_add(start))
            && start + t.len() <= self.text.len();
        if !in_place && self.text.get(start..start + t.len()) != Some(t) {
            self.error
                .get_or_insert_with(|| internal("token text differs from the input", start));
            return;
        }
        self.offset += t.len();
        let kind = Self::kind(kind);
        if let Some(id) = self.scalar_opened.take() {
            if matches!(kind, SyntaxKind::PIPE | SyntaxKind::GREATER) {
                self.block_scalars.push(id);
            }
        }
        if kind == SyntaxKind::BOM {
            self.bom_ends.push(self.offset);
        }
        if kept_token(kind) {
            self.push(kind, start, self.offset);
        }
    }

    /// The arena.
    fn finish(self) -> Result<Cst, YamlError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if !self.open.is_empty() {
            return Err(internal("a node left open", self.offset));
        }
        if self.elems.first().map(|e| e.kind) != Some(SyntaxKind::ROOT) {
            return Err(internal("a document without a root", 0));
        }
        if self.offset != self.text.len() {
            return Err(internal("the tree is shorter than the input", self.offset));
        }
        let cst = Cst {
            elems: self.elems,
            decoded: self.decoded,
        };
        if !cst
            .children(cst.root())
            .any(|c| cst.kind(c) == SyntaxKind::DOCUMENT)
        {
            // No document at all (empty, comments or directives only): a synthetic root.
            return Ok(Cst::empty(self.text.len()));
        }
        Ok(cst)
    }
}

/// (Tests: the comparison of [`parse`] with the path it replaced.) Parse `text` with `yaml-edit`
/// and copy the tree. Errors are syntax errors (see
/// [`check_syntax`]), `yaml-edit`'s parse errors, located, or a failed lossless round trip (which
/// would be a `yaml-edit` bug).
/// `fragment`: the text is a value fragment for an edit, whose aliases may refer to anchors it does
/// not define. `validate`: run [`check_syntax`] first; a caller that loads every document with
/// `serde-saphyr` afterwards (the same event parser) may skip it and call it only on failure.
///
/// The copy walks rowan's immutable green tree with an explicit stack (each element's parent is
/// the node whose children are being walked): the cursor tree `yaml-edit` hands out is a mutable
/// one, whose walk allocates a cursor per element and recomputes offsets.
#[cfg(test)]
pub(crate) fn parse_with_yaml_edit(
    text: &str,
    fragment: bool,
    validate: bool,
) -> Result<Cst, YamlError> {
    use rowan::ast::AstNode as _;
    use rowan::Language as _;
    if validate {
        check_syntax(text, fragment)?;
    }
    let parsed = yaml_edit::YamlFile::parse(text);
    if let Some(e) = parsed.positioned_errors().first() {
        let start = (e.range.start as usize).min(text.len());
        let end = (e.range.end as usize).clamp(start, text.len());
        return Err(YamlError::new(
            e.message.clone(),
            TextRange::new(start, end),
        ));
    }
    let file = parsed.tree();
    if file.documents().next().is_none() {
        // No document at all (empty, comments or directives only): a synthetic root.
        if file.to_string() != text {
            return Err(internal("no documents", 0));
        }
        return Ok(Cst::empty(text.len()));
    }
    let green = file.syntax().green().into_owned();
    if yaml_edit::Lang::kind_from_raw(green.kind()) != SyntaxKind::ROOT {
        return Err(internal("a document without a root", 0));
    }
    // An immutable tree over the same green nodes, to hand a scalar that needs decoding (with its
    // context: a block scalar's indentation counts from its parent) to `yaml-edit`'s decoder.
    let mut lookup: Option<rowan::SyntaxNode<yaml_edit::Lang>> = None;

    let mut elems: Vec<Elem> = Vec::with_capacity(text.len() / 8);
    let mut decoded = DecodedMap::default();
    elems.push(Elem {
        kind: SyntaxKind::ROOT,
        range: TextRange::new(0, usize::from(green.text_len())),
        first_child: NONE,
        last_child: NONE,
        next_sibling: NONE,
    });
    // Open nodes along the current pre-order path: (arena index, their remaining children).
    let mut stack = vec![(0usize, green.children())];
    // Offset of the next token: tokens come in text order.
    let mut offset = 0usize;
    while let Some((parent_id, children)) = stack.last_mut() {
        let parent_id = *parent_id;
        let Some(child) = children.next() else {
            stack.pop();
            continue;
        };
        let kind = yaml_edit::Lang::kind_from_raw(child.kind());
        let (start, end) = match child {
            NodeOrToken::Node(node) => (offset, offset + usize::from(node.text_len())),
            NodeOrToken::Token(token) => {
                let t = token.text();
                if text.get(offset..offset + t.len()) != Some(t) {
                    return Err(internal("token text differs from the input", offset));
                }
                offset += t.len();
                if !kept_token(kind) {
                    continue;
                }
                (offset - t.len(), offset)
            }
        };
        let id = elems.len();
        let id32 = u32::try_from(id)
            .ok()
            .filter(|&i| i != NONE)
            .ok_or_else(|| YamlError::new("too many YAML nodes", TextRange::empty(start)))?;
        let p = &mut elems[parent_id];
        if p.last_child == NONE {
            p.first_child = id32;
        } else {
            let last = p.last_child as usize;
            elems[last].next_sibling = id32;
        }
        elems[parent_id].last_child = id32;
        elems.push(Elem {
            kind,
            range: TextRange::new(start, end),
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
        });
        if let NodeOrToken::Node(node) = child {
            if kind == SyntaxKind::SCALAR && raw_is_value(&text[start..end]).is_none() {
                let root = lookup.get_or_insert_with(|| rowan::SyntaxNode::new_root(green.clone()));
                if let Some(v) = scalar_node(root, start, end)
                    .and_then(yaml_edit::YamlNode::from_syntax)
                    .and_then(|n| n.as_scalar().map(yaml_edit::Scalar::as_string))
                {
                    decoded.insert(id, v);
                }
            }
            stack.push((id, node.children()));
        }
    }
    if offset != text.len() {
        return Err(internal("the tree is shorter than the input", offset));
    }
    Ok(Cst { elems, decoded })
}

/// The `SCALAR` node that spans `start..end` in the tree of `root`.
#[cfg(test)]
fn scalar_node(
    root: &rowan::SyntaxNode<yaml_edit::Lang>,
    start: usize,
    end: usize,
) -> Option<rowan::SyntaxNode<yaml_edit::Lang>> {
    let range = rowan::TextRange::new(
        rowan::TextSize::try_from(start).ok()?,
        rowan::TextSize::try_from(end).ok()?,
    );
    let covering = root.covering_element(range);
    let first = match covering {
        NodeOrToken::Node(n) => n,
        NodeOrToken::Token(t) => t.parent()?,
    };
    first
        .ancestors()
        .find(|n| n.kind() == SyntaxKind::SCALAR && n.text_range() == range)
}

/// The decoded value of the `SCALAR` element `id`.
pub(crate) fn scalar_value(cst: &Cst, text: &str, id: ElemId) -> String {
    if let Some(v) = (!cst.decoded.is_empty())
        .then(|| cst.decoded.get(&id))
        .flatten()
    {
        return v.clone();
    }
    let raw = cst.range(id).slice(text);
    raw_is_value(raw).unwrap_or(raw).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two trees are the same: elements, links and decoded values.
    fn same(a: &Cst, b: &Cst) -> bool {
        a.elems.len() == b.elems.len()
            && a.elems.iter().zip(&b.elems).all(|(x, y)| {
                x.kind == y.kind
                    && x.range == y.range
                    && x.first_child == y.first_child
                    && x.last_child == y.last_child
                    && x.next_sibling == y.next_sibling
            })
            && a.decoded == b.decoded
    }

    fn agree(text: &str, what: &str) {
        for fragment in [false, true] {
            match (
                parse(text, fragment, false),
                parse_with_yaml_edit(text, fragment, false),
            ) {
                (Ok(a), Ok(b)) => assert!(same(&a, &b), "{what}: trees differ\n{text}"),
                (Err(a), Err(b)) => assert_eq!(a, b, "{what}\n{text}"),
                (a, b) => panic!("{what}: {:?} vs {:?}\n{text}", a.map(|_| ()), b.map(|_| ())),
            }
        }
    }

    #[test]
    fn contains_kind_finds_what_a_recursive_walk_finds() {
        fn naive(cst: &Cst, id: ElemId, kind: SyntaxKind) -> bool {
            cst.kind(id) == kind || cst.children(id).any(|c| naive(cst, c, kind))
        }
        let text = "a: &x {b: [1, ~, null]}\n<<: *x\nc:\n  - d: \"e\"\n    f: !t |\n      g\n  - \n---\n- [h, {i: }]\n";
        let cst = parse(text, false, false).unwrap();
        let kinds: std::collections::BTreeSet<SyntaxKind> =
            cst.elems.iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&SyntaxKind::NULL) && kinds.contains(&SyntaxKind::MERGE_KEY));
        for id in 0..cst.elems.len() {
            for &k in &kinds {
                assert_eq!(cst.contains_kind(id, k), naive(&cst, id, k), "{id} {k:?}");
            }
        }
    }

    #[test]
    fn the_copied_parser_builds_the_tree_the_green_tree_copy_did() {
        for text in [
            "",
            "# only a comment\n",
            "%YAML 1.2\n---\n",
            "a: 1\n",
            "a:\n  - b\n  - \"c\\td\"\n  - |\n    x\n    y\n",
            "---\na: &x {b: [1, 2]}\n---\nc: *x\n...\n",
            "k: 'it''s'\nl: >-\n  folded\n  text\n",
            "a: b: c\n",
            "[unclosed\n",
            "? complex\n: value\n",
            "\u{feff}a: 1\r\nb: 2\r\n",
            // Scalars to decode: block scalars with indentation indicators (counted from the
            // entry holding them), folding, chomping, quotes, escapes, line breaks of each kind.
            "a:\n  b: |2\n      x\n     y\n  c: >-\n    f\n\n    g\n",
            "- |1\n  x\n-  >2+\n    y\n\n",
            "\u{feff}- >2-\n   a\n   b\n\n",
            "\u{feff}k: |1\n  v\n",
            "x:\n- - |2\n     deep\n",
            "k: 'multi\n  line ''q'''\nl: \"esc \\t \\u00e9\n  next\"\n",
            "k: plain\n  continued\n\n  para\n",
            "? |\n  key\n: v\n",
            "a: |\r\n  x\r\n  y\r\n",
            "a: >\r  x\r  y\r",
            "--- |\n  root\n--- >1\n  r\n",
        ] {
            agree(text, "sample");
        }
    }

    /// Every YAML file of the shared corpora and the golden cases, and for each some mutants
    /// (a byte range deleted, a YAML indicator inserted, a line doubled, at pseudo-random places),
    /// give the same tree or the same error either way.
    #[test]
    fn the_copied_parser_agrees_over_the_corpora_and_mutants() {
        use crate::testing::{corpus_files, is_yaml, mutant, Lcg};
        let files = corpus_files(is_yaml);
        if files.is_empty() {
            eprintln!("skipping: no corpus next to the repository");
            return;
        }
        let mut rng = Lcg::new(0x9E37_79B9_7F4A_7C15);
        let inserts = [
            ":", "- ", "? ", " ", "\n", "\t", "\"", "'", "[", "]", "{", "}", ",", "|", ">", "#",
            "&a ", "*a", "!t ", "---\n", "...\n", "%", "\r", "\u{feff}",
        ];
        let mut n = 0;
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let what = path.display().to_string();
            agree(&text, &what);
            n += 1;
            for _ in 0..4 {
                agree(
                    &mutant(&text, &mut rng, &inserts),
                    &format!("{what} (mutant)"),
                );
            }
        }
        assert!(n > 1000, "only {n} YAML files read");
    }
}
