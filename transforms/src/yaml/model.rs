//! The navigation model: documents, mappings, sequences and scalars with byte ranges into the
//! original text, built once from the CST.
//!
//! Views ([`Node`], [`Mapping`], [`Entry`], ...) are cheap handles (`Arc` + index) into the parsed
//! file: they can be cloned, stored in findings and sent between threads, and they know the text, so
//! the edit builders need no extra arguments.

use std::fmt;
use std::sync::Arc;

use yaml_edit::SyntaxKind as K;

use super::cst::{Cst, ElemId};
use super::scalar::ScalarStyle;
use super::YamlError;
use crate::text::{LineIndex, TextRange};

pub(crate) type NodeId = usize;
pub(crate) type EntryId = usize;
pub(crate) type ItemId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParentData {
    Document(usize),
    EntryValue(EntryId),
    EntryKey(EntryId),
    Item(ItemId),
}

#[derive(Clone, Debug)]
pub(crate) enum KindData {
    Mapping {
        flow: bool,
        entries: Vec<EntryId>,
    },
    Sequence {
        flow: bool,
        items: Vec<ItemId>,
    },
    Scalar {
        style: ScalarStyle,
        value: String,
        /// `null` / `~` written out (an absent value is [`KindData::Null`]).
        null: bool,
    },
    Alias {
        name: String,
        /// The anchored node it refers to (the last `&name` that starts before it in the
        /// document), resolved once after building.
        target: Option<NodeId>,
    },
    Null,
}

/// An anchor or tag: its text (the anchor without `&`) and range. Boxed: most nodes have none.
pub(crate) type Prop = Option<Box<(String, TextRange)>>;

#[derive(Clone, Debug)]
pub(crate) struct NodeData {
    pub kind: KindData,
    /// The content: quotes of a scalar included, anchor and tag excluded. Block scalars end at the
    /// last non-blank byte of their body; block collections at the last byte of their last value.
    pub range: TextRange,
    pub anchor: Prop,
    pub tag: Prop,
    /// End of the CST node (a block scalar's includes its trailing line breaks and blank lines).
    pub cst_end: usize,
    pub doc: usize,
    pub parent: ParentData,
}

impl NodeData {
    /// Start of the node including its properties (anchor, tag).
    pub fn full_start(&self) -> usize {
        let mut s = self.range.start;
        if let Some((_, r)) = self.anchor.as_deref() {
            s = s.min(r.start);
        }
        if let Some((_, r)) = self.tag.as_deref() {
            s = s.min(r.start);
        }
        s
    }

    /// End of the properties (anchor, tag) if any.
    pub fn props_end(&self) -> Option<usize> {
        let a = self.anchor.as_deref().map(|(_, r)| r.end);
        let t = self.tag.as_deref().map(|(_, r)| r.end);
        a.max(t)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct EntryData {
    pub mapping: NodeId,
    pub index: usize,
    pub key: String,
    pub key_node: NodeId,
    pub key_range: TextRange,
    pub colon: Option<TextRange>,
    pub value: NodeId,
    pub range: TextRange,
    pub merge: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct ItemData {
    pub sequence: NodeId,
    pub index: usize,
    pub value: NodeId,
    pub dash: Option<TextRange>,
    pub range: TextRange,
}

#[derive(Clone, Debug)]
pub(crate) struct DocData {
    pub range: TextRange,
    pub root: NodeId,
    /// Anchors in document order.
    pub anchors: Vec<(String, NodeId)>,
    /// Aliases by anchor name, each list in document order (filled after building).
    pub aliases: std::collections::HashMap<String, Vec<NodeId>>,
}

pub(crate) struct FileData {
    pub text: String,
    pub line_index: LineIndex,
    pub nodes: Vec<NodeData>,
    pub entries: Vec<EntryData>,
    pub items: Vec<ItemData>,
    pub docs: Vec<DocData>,
    /// Every comment token.
    pub comments: Vec<TextRange>,
    pub stats: std::sync::OnceLock<super::style::Stats>,
    /// The meaning of each document (see [`super::semantic`]); empty for value fragments. Loaded
    /// by the parse, or on first use when the parse proved it loads without building it
    /// ([`super::semantic::loads_as_parsed`]): `deferred` says how.
    pub values: std::sync::OnceLock<Result<Vec<std::sync::Arc<serde_json::Value>>, YamlError>>,
    pub deferred: Option<super::semantic::Deferred>,
}

impl FileData {
    /// 0-based column (in characters) of `offset`; a BOM takes no column.
    pub fn column(&self, offset: usize) -> usize {
        let line = self.line_index.line_of(offset);
        let start = self.line_index.line_start(line);
        let before = &self.text[start..offset];
        if before.is_ascii() {
            // One column per byte (a BOM is not ASCII).
            return before.len();
        }
        before.chars().filter(|&c| c != '\u{feff}').count()
    }

    pub fn line_start_of(&self, offset: usize) -> usize {
        self.line_index.line_start(self.line_index.line_of(offset))
    }

    /// Whether only indentation (spaces, tabs, a BOM) precedes `offset` on its line.
    pub fn first_on_line(&self, offset: usize) -> bool {
        self.text[self.line_start_of(offset)..offset]
            .chars()
            .all(|c| c == ' ' || c == '\t' || c == '\u{feff}')
    }

    /// The offset just after the line break ending the line that contains `offset` (or the end of
    /// the text).
    pub fn next_line_start(&self, offset: usize) -> usize {
        self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |i| offset + i + 1)
    }
}

// ---------------------------------------------------------------------------------------------
// Building

struct Builder<'a> {
    cst: &'a Cst,
    text: &'a str,
    nodes: Vec<NodeData>,
    entries: Vec<EntryData>,
    items: Vec<ItemData>,
    docs: Vec<DocData>,
    comments: Vec<TextRange>,
    doc: usize,
}

pub(crate) fn build(text: &str, cst: &Cst) -> Result<FileData, YamlError> {
    let mut b = Builder {
        cst,
        text,
        nodes: Vec::new(),
        entries: Vec::new(),
        items: Vec::new(),
        docs: Vec::new(),
        comments: Vec::new(),
        doc: 0,
    };
    let (mut entries, mut items, mut documents) = (0, 0, 0);
    for e in &cst.elems {
        match e.kind {
            K::COMMENT => b.comments.push(e.range),
            K::ERROR => return Err(YamlError::new("YAML syntax error", e.range)),
            K::MAPPING_ENTRY => entries += 1,
            K::SEQUENCE_ENTRY => items += 1,
            K::DOCUMENT => documents += 1,
            _ => {}
        }
    }
    // Capacity: a node per key, per value, per item and per document's root, and a little more
    // (at most 3% more over the corpora: flow pairs, nodes of complex keys). Without the margin a
    // sixth of the files copied their nodes once more at the very end.
    b.entries.reserve(entries);
    b.items.reserve(items);
    let nodes = 2 * entries + items + documents + 1;
    b.nodes.reserve(nodes + nodes / 16);
    for child in cst.children(cst.root()) {
        if cst.kind(child) == K::DOCUMENT {
            b.document(child)?;
        }
    }
    duplicate_keys(text, &b.nodes, &b.entries)?;
    resolve_aliases(&mut b.nodes, &mut b.docs);
    Ok(FileData {
        text: text.to_owned(),
        line_index: LineIndex::new(text),
        nodes: b.nodes,
        entries: b.entries,
        items: b.items,
        docs: b.docs,
        comments: b.comments,
        stats: std::sync::OnceLock::new(),
        values: std::sync::OnceLock::new(),
        deferred: None,
    })
}

/// Resolve every alias to its anchored node in one pass: node ids are in document order (a node
/// before its content, keys before values), so the anchors seen so far in the same document are
/// the ones an alias may refer to, the last of a name winning. An alias inside the node it names
/// resolves to that node (a recursive alias, which the loader refuses).
///
/// Also indexes each document's aliases by name, so that "who uses this anchor" is a look-up.
fn resolve_aliases(nodes: &mut [NodeData], docs: &mut [DocData]) {
    let mut seen: std::collections::HashMap<String, NodeId> = std::collections::HashMap::new();
    let mut doc = usize::MAX;
    for (id, node) in nodes.iter_mut().enumerate() {
        if node.doc != doc {
            doc = node.doc;
            seen.clear();
        }
        if let Some((name, _)) = node.anchor.as_deref() {
            seen.insert(name.clone(), id);
        }
        if let KindData::Alias { name, target } = &mut node.kind {
            *target = seen.get(name.as_str()).copied();
            if let Some(d) = docs.get_mut(doc) {
                d.aliases.entry(name.clone()).or_default().push(id);
            }
        }
    }
}

/// A mapping with the same key twice is an error, located at the first copy: YAML forbids it,
/// Compose (compose-go) and Kubernetes (strict field validation) reject the file, and other readers
/// silently keep one copy, so fixing either copy could leave the other in force. Keys are compared
/// by value (`a`, `"a"` and `'a'` are one key); merge keys (`<<`) may repeat.
fn duplicate_keys(text: &str, nodes: &[NodeData], entries: &[EntryData]) -> Result<(), YamlError> {
    // Sorted by mapping and key (no hashing of every key; no worst case either): the repeat
    // reported is the first one in document order, with the copy before it.
    let mut keyed: Vec<(NodeId, &str, usize)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.merge && matches!(nodes[e.key_node].kind, KindData::Scalar { .. }))
        .map(|(i, e)| (e.mapping, e.key.as_str(), i))
        .collect();
    keyed.sort_unstable();
    let repeat = keyed
        .windows(2)
        .filter(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1))
        .map(|w| (w[1].2, w[0].2))
        .min();
    if let Some((again, first)) = repeat {
        let (e, first) = (&entries[again], &entries[first]);
        let line = LineIndex::new(text).line_of(e.key_range.start) + 1;
        return Err(YamlError::new(
            format!(
                "duplicate key `{}` (again on line {line}): Compose and Kubernetes reject a mapping with a repeated key; remove one copy",
                e.key
            ),
            first.key_range,
        ));
    }
    Ok(())
}

fn is_content(kind: K) -> bool {
    matches!(kind, K::MAPPING | K::SEQUENCE | K::SCALAR | K::ALIAS)
}

impl Builder<'_> {
    fn document(&mut self, elem: ElemId) -> Result<(), YamlError> {
        let index = self.docs.len();
        self.doc = index;
        let range = self.cst.range(elem);
        self.docs.push(DocData {
            range,
            root: 0,
            anchors: Vec::new(),
            aliases: std::collections::HashMap::new(),
        });
        // An empty document's null sits after `---` or at the document start.
        let mut empty_at = range.start;
        for c in self.cst.children(elem) {
            if matches!(self.cst.kind(c), K::DOC_START | K::BOM) {
                empty_at = self.cst.range(c).end;
            }
        }
        let cst = self.cst;
        let root = self.slot(cst.children(elem), ParentData::Document(index), empty_at)?;
        self.docs[index].root = root;
        Ok(())
    }

    fn parent_is_flow(&self, parent: ParentData) -> bool {
        let holder = match parent {
            ParentData::Document(_) => return false,
            ParentData::EntryKey(e) | ParentData::EntryValue(e) => self.entries[e].mapping,
            ParentData::Item(i) => self.items[i].sequence,
        };
        matches!(
            self.nodes[holder].kind,
            KindData::Mapping { flow: true, .. } | KindData::Sequence { flow: true, .. }
        )
    }

    fn push_node(&mut self, data: NodeData) -> NodeId {
        self.nodes.push(data);
        self.nodes.len() - 1
    }

    /// Build the node held by a slot (a `VALUE`, `KEY`, `SEQUENCE_ENTRY` or `DOCUMENT`): its
    /// properties and its content, looking through `TAGGED_NODE` wrappers.
    fn slot(
        &mut self,
        children: impl Iterator<Item = ElemId>,
        parent: ParentData,
        empty_at: usize,
    ) -> Result<NodeId, YamlError> {
        let mut anchor = None;
        let mut tag = None;
        let mut content = None;
        let mut props_end = None;
        // The children in order, a `TAGGED_NODE`'s own children in its place (`pending`, empty
        // and unallocated for the untagged slots that are nearly all of them).
        let mut rest = children;
        let mut pending: Vec<ElemId> = Vec::new();
        while let Some(c) = pending.pop().or_else(|| rest.next()) {
            let kind = self.cst.kind(c);
            let range = self.cst.range(c);
            match kind {
                K::ANCHOR => {
                    let name = range.slice(self.text).trim_start_matches('&').to_owned();
                    anchor = Some(Box::new((name, range)));
                    props_end = Some(range.end);
                }
                K::TAG => {
                    tag = Some(Box::new((range.slice(self.text).to_owned(), range)));
                    props_end = Some(range.end);
                }
                K::TAGGED_NODE => {
                    let mut inner: Vec<ElemId> = self.cst.children(c).collect();
                    inner.reverse();
                    pending.extend(inner);
                }
                k if is_content(k) => {
                    content = Some(c);
                    break;
                }
                _ => {}
            }
        }
        let doc = self.doc;
        let id = match content {
            None => {
                let at = props_end.unwrap_or(empty_at);
                self.push_node(NodeData {
                    kind: KindData::Null,
                    range: TextRange::empty(at),
                    anchor: anchor.clone(),
                    tag,
                    cst_end: at,
                    doc,
                    parent,
                })
            }
            Some(c) => match self.cst.kind(c) {
                K::MAPPING => self.mapping(c, parent, anchor.clone(), tag)?,
                K::SEQUENCE => self.sequence(c, parent, anchor.clone(), tag)?,
                K::ALIAS => {
                    let range = self.cst.range(c);
                    let name = range.slice(self.text).trim_start_matches('*').to_owned();
                    self.push_node(NodeData {
                        kind: KindData::Alias { name, target: None },
                        range,
                        anchor: anchor.clone(),
                        tag,
                        cst_end: range.end,
                        doc,
                        parent,
                    })
                }
                _ => self.scalar(c, parent, anchor.clone(), tag),
            },
        };
        if let Some(a) = anchor {
            self.docs[doc].anchors.push((a.0, id));
        }
        Ok(id)
    }

    fn scalar(&mut self, elem: ElemId, parent: ParentData, anchor: Prop, tag: Prop) -> NodeId {
        let cst_range = self.cst.range(elem);
        let raw = cst_range.slice(self.text);
        let doc = self.doc;
        let is_null_token = self.cst.contains_kind(elem, K::NULL);
        if raw.is_empty() {
            let at = cst_range.start;
            return self.push_node(NodeData {
                kind: KindData::Null,
                range: TextRange::empty(at),
                anchor,
                tag,
                cst_end: at,
                doc,
                parent,
            });
        }
        let style = match raw.as_bytes()[0] {
            b'"' => ScalarStyle::Double,
            b'\'' => ScalarStyle::Single,
            b'|' => ScalarStyle::Literal,
            b'>' => ScalarStyle::Folded,
            _ => ScalarStyle::Plain,
        };
        let range = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
            TextRange::new(cst_range.start, cst_range.start + raw.trim_end().len())
        } else {
            cst_range
        };
        let value = super::cst::scalar_value(self.cst, self.text, elem);
        self.push_node(NodeData {
            kind: KindData::Scalar {
                style,
                value,
                null: is_null_token && style == ScalarStyle::Plain,
            },
            range,
            anchor,
            tag,
            cst_end: cst_range.end,
            doc,
            parent,
        })
    }

    fn mapping(
        &mut self,
        elem: ElemId,
        parent: ParentData,
        anchor: Prop,
        tag: Prop,
    ) -> Result<NodeId, YamlError> {
        let cst_range = self.cst.range(elem);
        // A brace-less mapping inside a flow collection (`[a: 1]`) is a flow "pair".
        let flow = self.cst.child(elem, K::LEFT_BRACE).is_some() || self.parent_is_flow(parent);
        let id = self.push_node(NodeData {
            kind: KindData::Mapping {
                flow,
                entries: Vec::new(),
            },
            range: cst_range,
            anchor,
            tag,
            cst_end: cst_range.end,
            doc: self.doc,
            parent,
        });
        let mut entries = Vec::new();
        let cst = self.cst;
        for c in cst.children(elem) {
            if cst.kind(c) != K::MAPPING_ENTRY {
                continue;
            }
            let eid = self.entry(c, id, entries.len())?;
            entries.push(eid);
        }
        let range = if flow {
            cst_range
        } else if let (Some(&first), Some(&last)) = (entries.first(), entries.last()) {
            TextRange::new(
                self.entries[first].range.start,
                self.entries[last].range.end,
            )
        } else {
            TextRange::empty(cst_range.start)
        };
        let node = &mut self.nodes[id];
        node.range = range;
        node.kind = KindData::Mapping { flow, entries };
        Ok(id)
    }

    fn entry(&mut self, elem: ElemId, mapping: NodeId, index: usize) -> Result<EntryId, YamlError> {
        let eid = self.entries.len();
        let cst_range = self.cst.range(elem);
        self.entries.push(EntryData {
            mapping,
            index,
            key: String::new(),
            key_node: 0,
            key_range: TextRange::empty(cst_range.start),
            colon: None,
            value: 0,
            range: cst_range,
            merge: false,
        });
        // The first child of each kind, in one walk of the children.
        let cst = self.cst;
        let (mut question, mut key_elem, mut colon, mut value_elem) = (None, None, None, None);
        for c in cst.children(elem) {
            let first = match cst.kind(c) {
                K::QUESTION => &mut question,
                K::KEY => &mut key_elem,
                K::COLON => &mut colon,
                K::VALUE => &mut value_elem,
                _ => continue,
            };
            first.get_or_insert(c);
        }
        let colon = colon.map(|c| cst.range(c));
        let key_start = question.map_or(cst_range.start, |q| self.cst.range(q).end);
        let key_node = match key_elem {
            Some(k) => {
                let at = cst.range(k).start;
                self.slot(cst.children(k), ParentData::EntryKey(eid), at)?
            }
            None => self.push_node(NodeData {
                kind: KindData::Null,
                range: TextRange::empty(key_start),
                anchor: None,
                tag: None,
                cst_end: key_start,
                doc: self.doc,
                parent: ParentData::EntryKey(eid),
            }),
        };
        let merge = key_elem.is_some_and(|k| self.cst.contains_kind(k, K::MERGE_KEY));
        let key_data = &self.nodes[key_node];
        let key_range = key_data.range;
        let key = match &key_data.kind {
            KindData::Scalar { value, .. } => value.clone(),
            KindData::Null => String::new(),
            _ => key_range.slice(self.text).to_owned(),
        };
        let key_full_start = key_data.full_start();
        let after_key = colon.map_or(key_range.end, |c| c.end);
        let value = match value_elem {
            Some(v) => {
                let at = cst.range(v).start.max(after_key);
                self.slot(cst.children(v), ParentData::EntryValue(eid), at)?
            }
            None => self.push_node(NodeData {
                kind: KindData::Null,
                range: TextRange::empty(after_key),
                anchor: None,
                tag: None,
                cst_end: after_key,
                doc: self.doc,
                parent: ParentData::EntryValue(eid),
            }),
        };
        let start = question.map_or(key_full_start, |q| self.cst.range(q).start);
        let v = &self.nodes[value];
        let end = if matches!(v.kind, KindData::Null) && v.anchor.is_none() && v.tag.is_none() {
            after_key
        } else {
            v.range.end.max(after_key)
        };
        let e = &mut self.entries[eid];
        e.key = key;
        e.key_node = key_node;
        e.key_range = key_range;
        e.colon = colon;
        e.value = value;
        e.range = TextRange::new(start, end.max(start));
        e.merge = merge;
        Ok(eid)
    }

    fn sequence(
        &mut self,
        elem: ElemId,
        parent: ParentData,
        anchor: Prop,
        tag: Prop,
    ) -> Result<NodeId, YamlError> {
        let cst_range = self.cst.range(elem);
        let flow = self.cst.child(elem, K::LEFT_BRACKET).is_some();
        let id = self.push_node(NodeData {
            kind: KindData::Sequence {
                flow,
                items: Vec::new(),
            },
            range: cst_range,
            anchor,
            tag,
            cst_end: cst_range.end,
            doc: self.doc,
            parent,
        });
        let mut items = Vec::new();
        let cst = self.cst;
        for c in cst.children(elem) {
            if cst.kind(c) != K::SEQUENCE_ENTRY {
                continue;
            }
            let iid = self.items.len();
            let dash = cst.child(c, K::DASH).map(|x| cst.range(x));
            let er = self.cst.range(c);
            self.items.push(ItemData {
                sequence: id,
                index: items.len(),
                value: 0,
                dash,
                range: er,
            });
            // The entry's children but its dash (all of them: a value's properties and content).
            let rest = || cst.children(c).filter(|&x| cst.kind(x) != K::DASH);
            let at = dash.map_or(er.start, |d| d.end);
            let value = if cst.child(c, K::MAPPING_ENTRY).is_some()
                && !rest().any(|x| is_content(cst.kind(x)))
            {
                // `[a: 1]`: a single-pair mapping inside a flow sequence. The CST has no MAPPING
                // node for it; we do not model it.
                return Err(YamlError::new(
                    "single-pair mappings inside flow sequences (`[a: 1]`) are not supported",
                    er,
                ));
            } else {
                self.slot(rest(), ParentData::Item(iid), at)?
            };
            let v = &self.nodes[value];
            let start = dash.map_or(v.full_start(), |d| d.start);
            let end = if matches!(v.kind, KindData::Null) && v.anchor.is_none() && v.tag.is_none() {
                dash.map_or(v.range.end, |d| d.end)
            } else {
                v.range.end
            };
            let item = &mut self.items[iid];
            item.value = value;
            item.range = TextRange::new(start, end.max(start));
            items.push(iid);
        }
        let range = if flow {
            cst_range
        } else if let (Some(&first), Some(&last)) = (items.first(), items.last()) {
            TextRange::new(self.items[first].range.start, self.items[last].range.end)
        } else {
            TextRange::empty(cst_range.start)
        };
        let node = &mut self.nodes[id];
        node.range = range;
        node.kind = KindData::Sequence { flow, items };
        Ok(id)
    }
}

// ---------------------------------------------------------------------------------------------
// Public views

/// A parsed YAML file (all its documents) with the original text.
#[derive(Clone)]
pub struct YamlFile {
    pub(crate) data: Arc<FileData>,
}

impl fmt::Debug for YamlFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YamlFile")
            .field("bytes", &self.data.text.len())
            .field("documents", &self.data.docs.len())
            .finish()
    }
}

impl YamlFile {
    pub(crate) fn from_data(data: FileData) -> Self {
        Self {
            data: Arc::new(data),
        }
    }

    /// The original text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.data.text
    }

    /// The meaning of each document, in order (see [`super::semantic`]): one value per
    /// [`YamlFile::documents`] entry. Checking never needs it: a file whose parse proved that it
    /// loads is loaded here, on first use (fix verification).
    ///
    /// # Errors
    /// The loader refuses the file after all (which the parse's proof rules out: the mutation
    /// sweep of `tests/yaml_corpus.rs` checks that it never happens).
    pub fn values(&self) -> Result<&[Arc<serde_json::Value>], YamlError> {
        self.data
            .values
            .get_or_init(|| super::semantic::load_deferred(&self.data))
            .as_ref()
            .map(Vec::as_slice)
            .map_err(Clone::clone)
    }

    /// The documents in order. A file with no content (empty, only comments) has none.
    #[must_use]
    pub fn documents(&self) -> Vec<Document> {
        (0..self.data.docs.len())
            .map(|index| Document {
                file: self.data.clone(),
                index,
            })
            .collect()
    }

    #[must_use]
    pub fn document(&self, index: usize) -> Option<Document> {
        (index < self.data.docs.len()).then(|| Document {
            file: self.data.clone(),
            index,
        })
    }

    #[must_use]
    pub fn line_index(&self) -> &LineIndex {
        &self.data.line_index
    }

    /// `"\r\n"` when the file's first line break is CRLF, else `"\n"`.
    #[must_use]
    pub fn line_ending(&self) -> &'static str {
        crate::text::line_ending(&self.data.text)
    }

    /// Whether the text starts with a UTF-8 byte order mark.
    #[must_use]
    pub fn has_bom(&self) -> bool {
        self.data.text.starts_with('\u{feff}')
    }

    /// Ranges of all comments (`# ...`, without the line break).
    #[must_use]
    pub fn comments(&self) -> &[TextRange] {
        &self.data.comments
    }

    /// The innermost node whose range contains `offset`, with the nodes enclosing it (outermost
    /// first).
    #[must_use]
    pub fn nodes_at(&self, offset: usize) -> Vec<Node> {
        let mut out = Vec::new();
        for doc in self.documents() {
            if !(doc.range().start <= offset && offset <= doc.range().end) {
                continue;
            }
            let mut cur = Some(doc.root());
            while let Some(n) = cur.take() {
                let r = n.range();
                if !(r.start <= offset && offset <= r.end) {
                    break;
                }
                out.push(n.clone());
                cur = match &n {
                    Node::Mapping(m) => m
                        .entries()
                        .into_iter()
                        .find(|e| e.range().start <= offset && offset <= e.range().end)
                        .map(|e| {
                            if e.key_range().start <= offset && offset <= e.key_range().end {
                                e.key_node()
                            } else {
                                e.value()
                            }
                        }),
                    Node::Sequence(s) => s
                        .items()
                        .into_iter()
                        .find(|i| i.range().start <= offset && offset <= i.range().end)
                        .map(|i| i.value()),
                    _ => None,
                };
            }
        }
        out
    }
}

/// One YAML document of a file.
#[derive(Clone)]
pub struct Document {
    pub(crate) file: Arc<FileData>,
    pub(crate) index: usize,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Document({} @ {:?})", self.index, self.range())
    }
}

impl Document {
    fn data(&self) -> &DocData {
        &self.file.docs[self.index]
    }

    /// 0-based position of this document in the file (matches [`super::semantic`]'s index).
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The whole document including `---`, `...` and surrounding comments.
    #[must_use]
    pub fn range(&self) -> TextRange {
        self.data().range
    }

    /// The root node ([`Node::Null`] for an empty document).
    #[must_use]
    pub fn root(&self) -> Node {
        Node::new(self.file.clone(), self.data().root)
    }

    /// The node anchored `&name` that an alias at `offset` refers to: the last anchor of that name
    /// defined before `offset` in this document.
    #[must_use]
    pub fn resolve_anchor_at(&self, name: &str, offset: usize) -> Option<Node> {
        self.data()
            .anchors
            .iter()
            .rev()
            .find(|(n, id)| n == name && self.file.nodes[*id].full_start() < offset)
            .map(|(_, id)| Node::new(self.file.clone(), *id))
    }

    /// The (last) node anchored `&name` in this document.
    #[must_use]
    pub fn anchor(&self, name: &str) -> Option<Node> {
        self.data()
            .anchors
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, id)| Node::new(self.file.clone(), *id))
    }

    /// The aliases `*name` of this document, in document order (merge-key values included). A
    /// look-up, not a walk.
    #[must_use]
    pub fn aliases_named(&self, name: &str) -> Vec<Alias> {
        self.data().aliases.get(name).map_or_else(Vec::new, |ids| {
            ids.iter()
                .map(|&id| {
                    Alias(NodeRef {
                        file: self.file.clone(),
                        id,
                    })
                })
                .collect()
        })
    }

    /// Every alias of this document, in document order.
    #[must_use]
    pub fn aliases(&self) -> Vec<Alias> {
        let mut ids: Vec<NodeId> = self.data().aliases.values().flatten().copied().collect();
        ids.sort_unstable();
        ids.into_iter()
            .map(|id| {
                Alias(NodeRef {
                    file: self.file.clone(),
                    id,
                })
            })
            .collect()
    }

    /// All anchors in document order.
    #[must_use]
    pub fn anchors(&self) -> Vec<(String, Node)> {
        self.data()
            .anchors
            .iter()
            .map(|(n, id)| (n.clone(), Node::new(self.file.clone(), *id)))
            .collect()
    }
}

/// Where a parent holds a node.
#[derive(Clone, Debug)]
pub enum Parent {
    /// The root of a document.
    Document(Document),
    /// The value of a mapping entry.
    EntryValue(Entry),
    /// The key of a mapping entry.
    EntryKey(Entry),
    /// An item of a sequence.
    Item(Item),
}

#[derive(Clone)]
pub(crate) struct NodeRef {
    pub file: Arc<FileData>,
    pub id: NodeId,
}

impl NodeRef {
    pub fn data(&self) -> &NodeData {
        &self.file.nodes[self.id]
    }
}

macro_rules! view {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(pub(crate) NodeRef);

        impl $name {
            /// The content range (quotes included; anchor and tag excluded).
            #[must_use]
            pub fn range(&self) -> TextRange {
                self.0.data().range
            }

            /// The anchor name (`&name` → `name`).
            #[must_use]
            pub fn anchor(&self) -> Option<String> {
                self.0.data().anchor.as_deref().map(|(n, _)| n.clone())
            }

            /// The tag as written (`!!str`, `!custom`).
            #[must_use]
            pub fn tag(&self) -> Option<String> {
                self.0.data().tag.as_deref().map(|(t, _)| t.clone())
            }

            /// This node as a [`Node`].
            #[must_use]
            pub fn as_node(&self) -> Node {
                Node::new(self.0.file.clone(), self.0.id)
            }

            /// The document that holds this node.
            #[must_use]
            pub fn document(&self) -> Document {
                Document { file: self.0.file.clone(), index: self.0.data().doc }
            }

            /// Where this node sits in its parent.
            #[must_use]
            pub fn parent(&self) -> Parent {
                self.as_node().parent()
            }

            /// The text of the content range.
            #[must_use]
            pub fn text(&self) -> &str {
                self.range().slice(&self.0.file.text)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?} {:?})", stringify!($name), self.range(), self.text())
            }
        }
    };
}

view!(
    /// A block (`key: value` lines) or flow (`{a: 1}`) mapping.
    Mapping
);
view!(
    /// A block (`- item` lines) or flow (`[a, b]`) sequence.
    Sequence
);
view!(
    /// A scalar: plain, quoted or a block scalar. `null` and `~` are scalars; an absent value is
    /// [`Null`].
    Scalar
);
view!(
    /// An alias `*name`.
    Alias
);
view!(
    /// An absent value (`key:` with nothing after it, `- ` with nothing, an empty document). Its
    /// range is empty: the position where a value would be written.
    Null
);

/// Any node.
#[derive(Clone, Debug)]
pub enum Node {
    Mapping(Mapping),
    Sequence(Sequence),
    Scalar(Scalar),
    Alias(Alias),
    Null(Null),
}

/// Where an entry found by [`Mapping::get_merged`] comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The mapping's own entry.
    Own,
    /// Merged by `<<: *name` (or `<<: [*name, ...]`); the entry lives in the anchored mapping, which
    /// other mappings may share.
    Anchor(String),
    /// Merged from an inline mapping (`<<: {a: 1}`).
    InlineMerge,
}

/// Cap on alias hops and nested merges followed while resolving (cycles, bombs).
const MAX_RESOLVE_HOPS: usize = 64;

impl Node {
    pub(crate) fn new(file: Arc<FileData>, id: NodeId) -> Self {
        let r = NodeRef { file, id };
        match r.data().kind {
            KindData::Mapping { .. } => Self::Mapping(Mapping(r)),
            KindData::Sequence { .. } => Self::Sequence(Sequence(r)),
            KindData::Scalar { .. } => Self::Scalar(Scalar(r)),
            KindData::Alias { .. } => Self::Alias(Alias(r)),
            KindData::Null => Self::Null(Null(r)),
        }
    }

    pub(crate) fn node_ref(&self) -> &NodeRef {
        match self {
            Self::Mapping(m) => &m.0,
            Self::Sequence(s) => &s.0,
            Self::Scalar(s) => &s.0,
            Self::Alias(a) => &a.0,
            Self::Null(n) => &n.0,
        }
    }

    /// The content range (see the views).
    #[must_use]
    pub fn range(&self) -> TextRange {
        self.node_ref().data().range
    }

    /// The range including the anchor and tag in front of the content.
    #[must_use]
    pub fn full_range(&self) -> TextRange {
        let d = self.node_ref().data();
        TextRange::new(d.full_start(), d.range.end.max(d.full_start()))
    }

    #[must_use]
    pub fn anchor(&self) -> Option<String> {
        self.node_ref()
            .data()
            .anchor
            .as_deref()
            .map(|(n, _)| n.clone())
    }

    #[must_use]
    pub fn anchor_range(&self) -> Option<TextRange> {
        self.node_ref().data().anchor.as_deref().map(|(_, r)| *r)
    }

    #[must_use]
    pub fn tag(&self) -> Option<String> {
        self.node_ref()
            .data()
            .tag
            .as_deref()
            .map(|(t, _)| t.clone())
    }

    #[must_use]
    pub fn document(&self) -> Document {
        Document {
            file: self.node_ref().file.clone(),
            index: self.node_ref().data().doc,
        }
    }

    /// The text of the content range.
    #[must_use]
    pub fn text(&self) -> &str {
        let r = self.node_ref();
        r.data().range.slice(&r.file.text)
    }

    #[must_use]
    pub fn parent(&self) -> Parent {
        let r = self.node_ref();
        let file = r.file.clone();
        match r.data().parent {
            ParentData::Document(index) => Parent::Document(Document { file, index }),
            ParentData::EntryValue(id) => Parent::EntryValue(Entry { file, id }),
            ParentData::EntryKey(id) => Parent::EntryKey(Entry { file, id }),
            ParentData::Item(id) => Parent::Item(Item { file, id }),
        }
    }

    #[must_use]
    pub fn as_mapping(&self) -> Option<&Mapping> {
        match self {
            Self::Mapping(m) => Some(m),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_sequence(&self) -> Option<&Sequence> {
        match self {
            Self::Sequence(s) => Some(s),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Self::Scalar(s) => Some(s),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_alias(&self) -> Option<&Alias> {
        match self {
            Self::Alias(a) => Some(a),
            _ => None,
        }
    }

    /// An absent value, or a `null` / `~` scalar.
    #[must_use]
    pub fn is_null(&self) -> bool {
        match self {
            Self::Null(_) => true,
            Self::Scalar(s) => s.is_null(),
            _ => false,
        }
    }

    /// The decoded string of a scalar.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(Scalar::value)
    }

    /// Follow aliases to the anchored node (itself when not an alias). None for an alias to an
    /// undefined anchor or an alias chain longer than 64 hops.
    #[must_use]
    pub fn resolve(&self) -> Option<Node> {
        let mut cur = self.clone();
        for _ in 0..MAX_RESOLVE_HOPS {
            match cur {
                Self::Alias(a) => cur = a.target()?,
                other => return Some(other),
            }
        }
        None
    }

    /// The node at a key path below this one, following aliases and `<<` merges; sequence indexes
    /// are written as decimal strings: `root.path(&["services", "web", "ports", "0"])`.
    #[must_use]
    pub fn path(&self, keys: &[&str]) -> Option<Node> {
        let mut cur = self.resolve()?;
        for key in keys {
            let next = match &cur {
                Self::Mapping(m) => m.get_merged(key).map(|(e, _)| e.value())?,
                Self::Sequence(s) => s.get(key.parse().ok()?).map(|i| i.value())?,
                _ => return None,
            };
            cur = next.resolve()?;
        }
        Some(cur)
    }
}

/// An entry `key: value` of a mapping.
#[derive(Clone)]
pub struct Entry {
    pub(crate) file: Arc<FileData>,
    pub(crate) id: EntryId,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Entry({:?} {:?})", self.key(), self.range())
    }
}

impl Entry {
    pub(crate) fn data(&self) -> &EntryData {
        &self.file.entries[self.id]
    }

    /// The decoded key (a complex key is its source text; an alias key is `*name`).
    #[must_use]
    pub fn key(&self) -> &str {
        &self.data().key
    }

    /// The key as written (quotes included).
    #[must_use]
    pub fn key_range(&self) -> TextRange {
        self.data().key_range
    }

    #[must_use]
    pub fn key_node(&self) -> Node {
        Node::new(self.file.clone(), self.data().key_node)
    }

    /// The `:` (None for an explicit `? key` without one).
    #[must_use]
    pub fn colon_range(&self) -> Option<TextRange> {
        self.data().colon
    }

    /// Whether this is a merge entry `<<: ...`.
    #[must_use]
    pub fn is_merge(&self) -> bool {
        self.data().merge
    }

    #[must_use]
    pub fn value(&self) -> Node {
        Node::new(self.file.clone(), self.data().value)
    }

    /// Key start (or `?`) to the end of the value's content (the colon for an absent value).
    #[must_use]
    pub fn range(&self) -> TextRange {
        self.data().range
    }

    /// The mapping that holds this entry.
    #[must_use]
    pub fn mapping(&self) -> Mapping {
        Mapping(NodeRef {
            file: self.file.clone(),
            id: self.data().mapping,
        })
    }

    /// 0-based position in its mapping.
    #[must_use]
    pub fn index(&self) -> usize {
        self.data().index
    }

    /// What deleting this entry removes. Block: whole lines, from the start of the key's line
    /// (indentation included) through the line break after the value, with the comment at the end
    /// of that line and the comment lines directly after it that are indented deeper than the key
    /// (a `|+` block scalar's trailing blank lines too). When the key does not start its line (the
    /// first entry of `- key: v`), it starts at the key. Flow: same as [`Entry::range`].
    #[must_use]
    pub fn line_range(&self) -> TextRange {
        let m = self.mapping();
        if m.is_flow() {
            return self.range();
        }
        block_line_range(
            &self.file,
            self.range(),
            self.data().value,
            self.file.column(self.range().start),
        )
    }
}

/// An item of a sequence.
#[derive(Clone)]
pub struct Item {
    pub(crate) file: Arc<FileData>,
    pub(crate) id: ItemId,
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Item({} {:?})", self.index(), self.range())
    }
}

impl Item {
    pub(crate) fn data(&self) -> &ItemData {
        &self.file.items[self.id]
    }

    #[must_use]
    pub fn value(&self) -> Node {
        Node::new(self.file.clone(), self.data().value)
    }

    /// Block: the dash to the end of the value. Flow: the value (with its anchor/tag).
    #[must_use]
    pub fn range(&self) -> TextRange {
        self.data().range
    }

    /// The `-` of a block item.
    #[must_use]
    pub fn dash_range(&self) -> Option<TextRange> {
        self.data().dash
    }

    #[must_use]
    pub fn sequence(&self) -> Sequence {
        Sequence(NodeRef {
            file: self.file.clone(),
            id: self.data().sequence,
        })
    }

    #[must_use]
    pub fn index(&self) -> usize {
        self.data().index
    }

    /// What deleting this item removes; see [`Entry::line_range`].
    #[must_use]
    pub fn line_range(&self) -> TextRange {
        if self.sequence().is_flow() {
            return self.range();
        }
        block_line_range(
            &self.file,
            self.range(),
            self.data().value,
            self.file.column(self.range().start),
        )
    }
}

/// The end of the "lines" of a block construct whose content ends at `content_end`: the line break
/// after it (unless `content_end` already starts a line, after a `|+` scalar's trailing blank
/// lines), plus following comment-only lines indented deeper than `column`.
pub(crate) fn block_lines_end(file: &FileData, content_end: usize, column: usize) -> usize {
    let text = &file.text;
    let mut end = if content_end > 0 && text.as_bytes()[content_end - 1] == b'\n' {
        content_end
    } else {
        file.next_line_start(content_end)
    };
    while end < text.len() {
        let next = file.next_line_start(end);
        let line = &text[end..next];
        let trimmed = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with('#') && indent > column {
            end = next;
        } else {
            break;
        }
    }
    end
}

/// The end of the last content (recursively) of a node: for a `|+` block scalar its trailing blank
/// lines, else the content end.
pub(crate) fn deep_end(file: &FileData, node: NodeId) -> usize {
    let mut id = node;
    for _ in 0..10_000 {
        let d = &file.nodes[id];
        match &d.kind {
            KindData::Mapping {
                flow: false,
                entries,
            } if !entries.is_empty() => id = file.entries[entries[entries.len() - 1]].value,
            KindData::Sequence { flow: false, items } if !items.is_empty() => {
                id = file.items[items[items.len() - 1]].value;
            }
            KindData::Scalar {
                style: ScalarStyle::Literal | ScalarStyle::Folded,
                ..
            } => {
                return if block_scalar_keeps(file, id) {
                    d.cst_end.max(d.range.end)
                } else {
                    d.range.end
                };
            }
            _ => return d.range.end,
        }
    }
    file.nodes[id].range.end
}

/// Whether a block scalar has the keep chomping indicator (`|+`, `>2+`).
pub(crate) fn block_scalar_keeps(file: &FileData, id: NodeId) -> bool {
    let d = &file.nodes[id];
    let header_end = file
        .next_line_start(d.range.start)
        .min(d.cst_end.max(d.range.end));
    let header = &file.text[d.range.start..header_end];
    header.split('#').next().unwrap_or("").contains('+')
}

fn block_line_range(file: &FileData, range: TextRange, value: NodeId, column: usize) -> TextRange {
    let start = if file.first_on_line(range.start) {
        let s = file.line_start_of(range.start);
        // A byte order mark is not part of the first line's content.
        if s == 0 && file.text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            s
        }
    } else {
        range.start
    };
    let content_end = deep_end(file, value).max(range.end);
    TextRange::new(start, block_lines_end(file, content_end, column))
}

impl Mapping {
    pub(crate) fn entry_ids(&self) -> &[EntryId] {
        match &self.0.data().kind {
            KindData::Mapping { entries, .. } => entries,
            _ => &[],
        }
    }

    /// `{...}` rather than block style (also a brace-less pair inside a flow sequence, `[a: 1]`).
    #[must_use]
    pub fn is_flow(&self) -> bool {
        matches!(self.0.data().kind, KindData::Mapping { flow: true, .. })
    }

    /// A brace-less single pair inside a flow sequence (`[a: 1]`): it cannot gain or lose entries
    /// without changing the sequence.
    #[must_use]
    pub fn is_flow_pair(&self) -> bool {
        self.is_flow() && !self.text().starts_with('{')
    }

    /// The mapping's own entries in order (merge entries `<<` included).
    #[must_use]
    pub fn entries(&self) -> Vec<Entry> {
        self.entry_ids()
            .iter()
            .map(|&id| Entry {
                file: self.0.file.clone(),
                id,
            })
            .collect()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.entry_ids().len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entry_ids().is_empty()
    }

    /// The own entry with this key (the last one if the key is duplicated). `<<` entries are
    /// found only by `get("<<")`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<Entry> {
        self.entry_ids()
            .iter()
            .rev()
            .find(|&&id| self.0.file.entries[id].key == key)
            .map(|&id| Entry {
                file: self.0.file.clone(),
                id,
            })
    }

    /// The entry with this key as YAML merge keys define it: an own entry wins, then the mappings
    /// merged by `<<` in order (earlier ones win), recursively (a merged mapping's own merges).
    #[must_use]
    pub fn get_merged(&self, key: &str) -> Option<(Entry, Origin)> {
        if key == "<<" {
            return self.get(key).map(|e| (e, Origin::Own));
        }
        let (own, merges) = self.own_entry_and_merges(key);
        if let Some(own) = own {
            return Some((own, Origin::Own));
        }
        if !merges {
            return None;
        }
        for (source, origin) in self.merge_sources() {
            if let Some((e, inner)) = source.get_merged_depth(key, 1) {
                let origin = match (origin, inner) {
                    (Origin::InlineMerge, Origin::Anchor(name)) => Origin::Anchor(name),
                    (o, _) => o,
                };
                return Some((e, origin));
            }
        }
        None
    }

    /// The last own, non-merge entry with this key, and when there is none, whether the mapping
    /// has `<<` entries (one pass over the entries: nearly every look-up is of a mapping without
    /// them, whose merge sources need not be listed).
    fn own_entry_and_merges(&self, key: &str) -> (Option<Entry>, bool) {
        let file = &self.0.file;
        let mut merges = false;
        for &id in self.entry_ids().iter().rev() {
            let e = &file.entries[id];
            if e.merge {
                merges = true;
            } else if e.key == key {
                let entry = Entry {
                    file: file.clone(),
                    id,
                };
                return (Some(entry), merges);
            }
        }
        (None, merges)
    }

    fn get_merged_depth(&self, key: &str, depth: usize) -> Option<(Entry, Origin)> {
        let (own, merges) = self.own_entry_and_merges(key);
        if let Some(own) = own {
            return Some((own, Origin::Own));
        }
        if !merges || depth >= MAX_RESOLVE_HOPS {
            return None;
        }
        for (source, origin) in self.merge_sources() {
            if let Some((e, _)) = source.get_merged_depth(key, depth + 1) {
                return Some((e, origin));
            }
        }
        None
    }

    /// The mappings merged into this one by its `<<` entries, in precedence order.
    #[must_use]
    pub fn merge_sources(&self) -> Vec<(Mapping, Origin)> {
        let mut out = Vec::new();
        // (Most mappings have no `<<`: no entry handle is made for the others.)
        let file = &self.0.file;
        for &id in self
            .entry_ids()
            .iter()
            .filter(|&&id| file.entries[id].merge)
        {
            let e = Entry {
                file: file.clone(),
                id,
            };
            let v = e.value();
            let values: Vec<Node> = match &v {
                Node::Sequence(s) => s.items().into_iter().map(|i| i.value()).collect(),
                other => vec![other.clone()],
            };
            for n in values {
                match &n {
                    Node::Alias(a) => {
                        if let Some(Node::Mapping(m)) = a.target().and_then(|t| t.resolve()) {
                            out.push((m, Origin::Anchor(a.name().to_owned())));
                        }
                    }
                    Node::Mapping(m) => out.push((m.clone(), Origin::InlineMerge)),
                    _ => {}
                }
            }
        }
        out
    }

    /// All keys with their entries as merge keys define them (own entries, then merged ones not
    /// overridden), in order of first appearance. `<<` entries themselves are not listed.
    #[must_use]
    pub fn merged_entries(&self) -> Vec<(Entry, Origin)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let own: Vec<Entry> = self
            .entries()
            .into_iter()
            .filter(|e| !e.is_merge())
            .collect();
        for e in own.iter().rev() {
            if seen.insert(e.key().to_owned()) {
                out.push((e.clone(), Origin::Own));
            }
        }
        out.reverse();
        self.collect_merged(&mut seen, &mut out, 0, None);
        out
    }

    fn collect_merged(
        &self,
        seen: &mut std::collections::HashSet<String>,
        out: &mut Vec<(Entry, Origin)>,
        depth: usize,
        outer: Option<&Origin>,
    ) {
        if depth >= MAX_RESOLVE_HOPS {
            return;
        }
        for (source, origin) in self.merge_sources() {
            let origin = match outer {
                Some(o) => o.clone(),
                None => origin,
            };
            for e in source.entries() {
                if !e.is_merge() && seen.insert(e.key().to_owned()) {
                    out.push((e, origin.clone()));
                }
            }
            source.collect_merged(seen, out, depth + 1, Some(&origin));
        }
    }

    /// Column (0-based, in characters) of the keys: the first entry's key column for a block
    /// mapping, the first entry's (or `{`) column for a flow mapping.
    #[must_use]
    pub fn indent(&self) -> usize {
        let start = self
            .entry_ids()
            .first()
            .map_or(self.range().start, |&e| self.0.file.entries[e].range.start);
        self.0.file.column(start)
    }
}

impl Sequence {
    fn item_ids(&self) -> &[ItemId] {
        match &self.0.data().kind {
            KindData::Sequence { items, .. } => items,
            _ => &[],
        }
    }

    #[must_use]
    pub fn is_flow(&self) -> bool {
        matches!(self.0.data().kind, KindData::Sequence { flow: true, .. })
    }

    #[must_use]
    pub fn items(&self) -> Vec<Item> {
        self.item_ids()
            .iter()
            .map(|&id| Item {
                file: self.0.file.clone(),
                id,
            })
            .collect()
    }

    #[must_use]
    pub fn get(&self, index: usize) -> Option<Item> {
        self.item_ids().get(index).map(|&id| Item {
            file: self.0.file.clone(),
            id,
        })
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.item_ids().len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.item_ids().is_empty()
    }

    /// Column of the `-` (block) or of the first item / `[` (flow).
    #[must_use]
    pub fn indent(&self) -> usize {
        let start = self
            .item_ids()
            .first()
            .map_or(self.range().start, |&i| self.0.file.items[i].range.start);
        self.0.file.column(start)
    }
}

impl Scalar {
    /// The decoded value (escapes processed, lines folded, block scalar chomping applied).
    #[must_use]
    pub fn value(&self) -> &str {
        match &self.0.data().kind {
            KindData::Scalar { value, .. } => value,
            _ => "",
        }
    }

    /// The source text (quotes / block header included).
    #[must_use]
    pub fn raw(&self) -> &str {
        self.text()
    }

    #[must_use]
    pub fn style(&self) -> ScalarStyle {
        match &self.0.data().kind {
            KindData::Scalar { style, .. } => *style,
            _ => ScalarStyle::Plain,
        }
    }

    /// A plain `null`, `Null`, `NULL` or `~`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self.0.data().kind, KindData::Scalar { null: true, .. })
    }

    /// Whether the scalar sits inside a flow collection.
    #[must_use]
    pub fn in_flow(&self) -> bool {
        in_flow(&self.0.file, self.0.id)
    }
}

pub(crate) fn in_flow(file: &FileData, id: NodeId) -> bool {
    let parent_node = match file.nodes[id].parent {
        ParentData::Document(_) => return false,
        ParentData::EntryKey(e) | ParentData::EntryValue(e) => file.entries[e].mapping,
        ParentData::Item(i) => file.items[i].sequence,
    };
    matches!(
        file.nodes[parent_node].kind,
        KindData::Mapping { flow: true, .. } | KindData::Sequence { flow: true, .. }
    )
}

impl Alias {
    /// The anchor name (`*name` → `name`).
    #[must_use]
    pub fn name(&self) -> &str {
        match &self.0.data().kind {
            KindData::Alias { name, .. } => name,
            _ => "",
        }
    }

    /// The anchored node this alias refers to (the last `&name` before it in the document).
    #[must_use]
    pub fn target(&self) -> Option<Node> {
        match &self.0.data().kind {
            KindData::Alias {
                target: Some(t), ..
            } => Some(Node::new(self.0.file.clone(), *t)),
            _ => None,
        }
    }
}
