//! The file's own style, for new content: indent step, sequence indentation under keys, the gap
//! after `-`, and quotes.

use std::collections::BTreeMap;

use super::model::{FileData, KindData, Mapping, ParentData, Sequence, YamlFile};
use super::scalar::{QuoteStyle, ScalarStyle};

/// Style statistics of a whole file.
#[derive(Clone, Debug)]
pub(crate) struct Stats {
    /// Indent step between a block mapping and a block mapping nested as an entry value.
    pub unit: Option<usize>,
    /// Column of `-` minus the key column, for block sequences that are entry values.
    pub seq_indent: Option<usize>,
    /// Column of a mapping's first key minus the column of its `-`, for `- key: v` items.
    pub item_gap: Option<usize>,
    pub quote: QuoteStyle,
}

fn mode(counts: &BTreeMap<usize, usize>) -> Option<usize> {
    // Highest count; ties go to the smaller value (BTreeMap order, strict >).
    let mut best: Option<(usize, usize)> = None;
    for (&v, &c) in counts {
        if best.is_none_or(|(_, bc)| c > bc) {
            best = Some((v, c));
        }
    }
    best.map(|(v, _)| v)
}

pub(crate) fn stats(file: &FileData) -> Stats {
    let mut units = BTreeMap::new();
    let mut seqs = BTreeMap::new();
    let mut gaps = BTreeMap::new();
    let (mut single, mut double) = (0usize, 0usize);
    for e in &file.entries {
        let m = &file.nodes[e.mapping];
        if !matches!(m.kind, KindData::Mapping { flow: false, .. }) {
            continue;
        }
        let key_col = file.column(e.range.start);
        let v = &file.nodes[e.value];
        match &v.kind {
            KindData::Mapping {
                flow: false,
                entries,
            } if !entries.is_empty() => {
                let col = file.column(v.range.start);
                if col > key_col {
                    *units.entry(col - key_col).or_insert(0) += 1;
                }
            }
            KindData::Sequence { flow: false, items } if !items.is_empty() => {
                let col = file.column(v.range.start);
                if col >= key_col {
                    *seqs.entry(col - key_col).or_insert(0) += 1;
                }
            }
            _ => {}
        }
    }
    for item in &file.items {
        let Some(dash) = item.dash else { continue };
        let v = &file.nodes[item.value];
        if let KindData::Mapping { flow: false, .. } = v.kind {
            if file.line_index.line_of(v.range.start) == file.line_index.line_of(dash.start) {
                let gap = file.column(v.range.start) - file.column(dash.start);
                *gaps.entry(gap).or_insert(0) += 1;
            }
        }
    }
    for n in &file.nodes {
        if let KindData::Scalar { style, .. } = n.kind {
            match style {
                ScalarStyle::Single => single += 1,
                ScalarStyle::Double => double += 1,
                _ => {}
            }
        }
    }
    Stats {
        unit: mode(&units),
        seq_indent: mode(&seqs),
        item_gap: mode(&gaps),
        quote: if single > double {
            QuoteStyle::Single
        } else {
            QuoteStyle::Double
        },
    }
}

/// Default indent step when a file shows none.
pub(crate) const DEFAULT_UNIT: usize = 2;

impl YamlFile {
    /// The indent step the file uses between a block mapping and a nested block mapping (the most
    /// common one), 2 when the file has no nesting.
    #[must_use]
    pub fn indent_unit(&self) -> usize {
        self.data.stats().unit.unwrap_or(DEFAULT_UNIT)
    }

    /// How far block sequences that are entry values are indented past their key: 0 for
    /// `key:\n- a`, usually the indent unit for `key:\n  - a`. The most common one in the file,
    /// else the indent unit.
    #[must_use]
    pub fn sequence_indent(&self) -> usize {
        self.data
            .stats()
            .seq_indent
            .unwrap_or_else(|| self.indent_unit())
    }

    /// The quote character the file uses most (double quotes when tied or none).
    #[must_use]
    pub fn preferred_quote(&self) -> QuoteStyle {
        self.data.stats().quote
    }
}

impl FileData {
    pub(crate) fn stats(&self) -> &Stats {
        self.stats.get_or_init(|| stats(self))
    }

    pub(crate) fn item_gap(&self) -> usize {
        self.stats().item_gap.unwrap_or(2)
    }
}

impl Mapping {
    /// The indent step to use for a block nested under this mapping: the step this mapping's own
    /// nested mappings use, else the step from its parent mapping to it, else the file's.
    #[must_use]
    pub fn indent_unit(&self) -> usize {
        let file = &self.0.file;
        let col = self.indent();
        for &e in self.entry_ids() {
            let v = file.entries[e].value;
            if let KindData::Mapping {
                flow: false,
                entries,
            } = &file.nodes[v].kind
            {
                let indent = entries
                    .first()
                    .map_or(file.nodes[v].range.start, |&f| file.entries[f].range.start);
                let indent = file.column(indent);
                if !entries.is_empty() && indent > col {
                    return indent - col;
                }
            }
        }
        if let ParentData::EntryValue(pe) = self.0.data().parent {
            let pm = &file.entries[pe].mapping;
            if matches!(file.nodes[*pm].kind, KindData::Mapping { flow: false, .. }) {
                let pcol = file.column(file.entries[pe].range.start);
                if col > pcol {
                    return col - pcol;
                }
            }
        }
        file.stats().unit.unwrap_or(DEFAULT_UNIT)
    }

    /// How far to indent a block sequence written as the value of a new entry of this mapping:
    /// as this mapping's own sequence values are, else as the file's are, else by the indent unit.
    #[must_use]
    pub fn sequence_indent(&self) -> usize {
        let file = &self.0.file;
        let col = self.indent();
        for &e in self.entry_ids() {
            let v = file.entries[e].value;
            if let KindData::Sequence { flow: false, items } = &file.nodes[v].kind {
                let indent = items
                    .first()
                    .map_or(file.nodes[v].range.start, |&f| file.items[f].range.start);
                let indent = file.column(indent);
                if !items.is_empty() && indent >= col {
                    return indent - col;
                }
            }
        }
        file.stats()
            .seq_indent
            .unwrap_or_else(|| self.indent_unit())
    }
}

impl Sequence {
    /// Gap between `-` and a mapping item's first key (`- key` → 2, `-   key` → 4): as this
    /// sequence's items have it, else the file's most common, else 2.
    #[must_use]
    pub fn item_gap(&self) -> usize {
        let file = &self.0.file;
        for item in self.items() {
            let (Some(dash), v) = (item.dash_range(), item.value()) else {
                continue;
            };
            if v.as_mapping().is_some_and(|m| !m.is_flow())
                && file.line_index.line_of(v.range().start) == file.line_index.line_of(dash.start)
            {
                return file.column(v.range().start) - file.column(dash.start);
            }
        }
        file.item_gap()
    }
}
