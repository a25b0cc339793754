//! A small builder for the multi-edit fixes of the K8S rules: set keys below a mapping (creating
//! the missing levels as one nested entry), replace values, remove entries and list items, append
//! items; then hand back one all-or-nothing list of edits and the semantic paths they change.
//!
//! Two details keep the fixes of one round from corrupting each other:
//! - several insertions at the same offset (keys into one mapping, or into a mapping and its
//!   parent) become one edit, the deeper mapping's lines first;
//! - a fix that inserts into a collection also "locks" the collection's last element with an edit
//!   that rewrites its key (or dash) with the same text. A fix that deletes that element (the only
//!   entry of a `securityContext`, the only volume) overlaps the lock, so the engine defers one of
//!   the two to the next round instead of applying an insertion into a collection that another fix
//!   removes.

use crate::edit::Edit;
use crate::fix::SemanticPath;
use crate::kubernetes::model::editable_node;
use crate::paths::child;
use crate::text::TextRange;
use crate::yaml::{Entry, Mapping, Node, Sequence};

/// Why a fix cannot be built (the finding is then reported without one).
pub type Refusal = String;

struct Insert {
    at: usize,
    /// Column of the collection inserted into: deeper content goes first at a shared offset.
    col: usize,
    seq: usize,
    text: String,
}

/// Edits and declared paths of one fix under construction.
#[derive(Default)]
pub struct Patch {
    inserts: Vec<Insert>,
    edits: Vec<Edit>,
    locks: Vec<Edit>,
    paths: Vec<SemanticPath>,
}

/// A YAML fragment written as a block (a sequence or a mapping) rather than inline.
fn is_block(v: &str) -> bool {
    v.contains('\n')
        || v.starts_with("- ")
        || (!v.starts_with(['{', '[', '"', '\'']) && v.contains(": "))
}

/// The fragment `k1:\n  k2:\n    leaf: v` for the keys still missing and the leaves, two spaces a
/// level (the edit builders re-indent it in the file's style).
#[must_use]
pub fn nest(keys: &[&str], leaves: &[(&str, &str)]) -> String {
    // Written in place, a line at a time (every container of every manifest gets some).
    fn line(out: &mut String, depth: usize, parts: &[&str]) {
        if !out.is_empty() {
            out.push('\n');
        }
        for _ in 0..depth {
            out.push_str("  ");
        }
        for p in parts {
            out.push_str(p);
        }
    }
    let mut out = String::with_capacity(64);
    for (i, k) in keys.iter().enumerate() {
        line(&mut out, i, &[k, ":"]);
    }
    let depth = keys.len();
    for (k, v) in leaves {
        if is_block(v) {
            line(&mut out, depth, &[k, ":"]);
            for l in v.lines() {
                line(&mut out, depth + 1, &[l]);
            }
        } else {
            line(&mut out, depth, &[k, ": ", v]);
        }
    }
    out
}

fn err(e: crate::yaml::YamlError) -> Refusal {
    e.message
}

/// The text of `range`, which lies inside `node`'s content range.
fn slice_in(node: &Node, range: TextRange) -> Option<String> {
    let r = node.range();
    if range.start < r.start || range.end > r.end {
        return None;
    }
    node.text()
        .get(range.start - r.start..range.end - r.start)
        .map(str::to_owned)
}

impl Patch {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock_mapping(&mut self, m: &Mapping) {
        if let Some(last) = m.entries().last() {
            let r = last.key_range();
            if !r.is_empty() {
                if let Some(t) = slice_in(&m.as_node(), r) {
                    self.locks.push(Edit::replace(r, t));
                }
            }
        }
    }

    fn lock_sequence(&mut self, s: &Sequence) {
        if let Some(last) = s.items().last() {
            let r = last.dash_range().unwrap_or_else(|| last.range());
            if !r.is_empty() {
                if let Some(t) = slice_in(&s.as_node(), r) {
                    self.locks.push(Edit::replace(r, t));
                }
            }
        }
    }

    fn push_edits(&mut self, edits: Vec<Edit>, col: usize) {
        for e in edits {
            if e.range.is_empty() {
                let seq = self.inserts.len();
                self.inserts.push(Insert {
                    at: e.range.start,
                    col,
                    seq,
                    text: e.replacement,
                });
            } else {
                self.edits.push(e);
            }
        }
    }

    fn insert_entry(&mut self, m: &Mapping, key: &str, frag: &str) -> Result<(), Refusal> {
        if m.is_flow()
            && m.is_empty()
            && self
                .inserts
                .iter()
                .any(|i| m.range().contains_range(TextRange::empty(i.at)))
        {
            return Err("cannot add several keys to an empty flow mapping".into());
        }
        let edits = m.insert_entry(key, frag).map_err(err)?;
        self.push_edits(edits, m.indent());
        self.lock_mapping(m);
        Ok(())
    }

    /// Set `leaves` (key, YAML fragment) in the mapping reached from `m` through `prefix`,
    /// creating the missing levels as one nested entry, replacing the values of existing leaves.
    /// `path` is `m`'s semantic path; the topmost created or replaced key of each leaf is declared.
    ///
    /// # Errors
    /// A level is not a mapping, is shared (alias, anchor, merge keys), or cannot be extended
    /// losslessly.
    pub fn set(
        &mut self,
        m: &Mapping,
        path: &SemanticPath,
        prefix: &[&str],
        leaves: &[(&str, &str)],
    ) -> Result<(), Refusal> {
        let mut cur = m.clone();
        let mut cur_path = path.clone();
        for (i, key) in prefix.iter().enumerate() {
            if !editable_node(&cur.as_node()) {
                return Err(format!(
                    "the mapping holding `{key}` is shared (anchor, alias or merge key)"
                ));
            }
            match cur.get(key) {
                None => {
                    self.insert_entry(&cur, key, &nest(&prefix[i + 1..], leaves))?;
                    self.paths.push(child(&cur_path, &[key]));
                    return Ok(());
                }
                Some(entry) => {
                    let v = entry.value();
                    if !editable_node(&v) {
                        return Err(format!("`{key}` is shared (anchor, alias or merge key)"));
                    }
                    match &v {
                        n if n.is_null() => {
                            return self.replace_value(
                                &entry,
                                &nest(&prefix[i + 1..], leaves),
                                child(&cur_path, &[key]),
                            );
                        }
                        Node::Mapping(x) if x.is_empty() => {
                            return self.replace_value(
                                &entry,
                                &nest(&prefix[i + 1..], leaves),
                                child(&cur_path, &[key]),
                            );
                        }
                        Node::Mapping(x) => {
                            cur = x.clone();
                            cur_path = child(&cur_path, &[key]);
                        }
                        _ => return Err(format!("`{key}` is not a mapping")),
                    }
                }
            }
        }
        if !editable_node(&cur.as_node()) {
            return Err("the mapping is shared (anchor, alias or merge key)".into());
        }
        for (k, v) in leaves {
            match cur.get(k) {
                Some(entry) => {
                    if !editable_node(&entry.value()) {
                        return Err(format!("`{k}` is shared (anchor or alias)"));
                    }
                    self.replace_value(&entry, v, child(&cur_path, &[k]))?;
                }
                None => {
                    self.insert_entry(&cur, k, v)?;
                    self.paths.push(child(&cur_path, &[k]));
                }
            }
        }
        Ok(())
    }

    /// Replace an entry's value by a fragment.
    ///
    /// # Errors
    /// The fragment cannot be written there.
    pub fn replace_value(
        &mut self,
        entry: &Entry,
        frag: &str,
        path: SemanticPath,
    ) -> Result<(), Refusal> {
        let edits = entry.replace_value(frag).map_err(err)?;
        // The new value's lines belong inside the entry: deeper than its mapping's keys.
        let col = entry.mapping().indent() + 1;
        self.push_edits(edits, col);
        self.paths.push(path);
        Ok(())
    }

    /// Replace a scalar's value, keeping its quoting style.
    pub fn replace_scalar(
        &mut self,
        scalar: &crate::yaml::Scalar,
        value: &str,
        path: SemanticPath,
    ) {
        self.edits.push(scalar.replace(value));
        self.paths.push(path);
    }

    /// Rename an entry's key (the key text is replaced verbatim).
    pub fn rename_key(
        &mut self,
        entry: &Entry,
        new_key: &str,
        old_path: SemanticPath,
        new_path: SemanticPath,
    ) {
        self.edits.push(Edit::replace(entry.key_range(), new_key));
        self.paths.push(old_path);
        self.paths.push(new_path);
    }

    /// Remove an entry.
    ///
    /// # Errors
    /// The entry cannot be removed losslessly.
    pub fn remove_entry(&mut self, entry: &Entry, path: SemanticPath) -> Result<(), Refusal> {
        let edits = entry.remove().map_err(err)?;
        let col = entry.mapping().indent();
        self.push_edits(edits, col);
        self.paths.push(path);
        Ok(())
    }

    /// Append an item (a fragment) to a sequence.
    ///
    /// # Errors
    /// The fragment cannot be written there.
    pub fn append_item(
        &mut self,
        seq: &Sequence,
        frag: &str,
        path: SemanticPath,
    ) -> Result<(), Refusal> {
        if !editable_node(&seq.as_node()) {
            return Err("the list is shared (anchor or alias)".into());
        }
        if seq.is_flow()
            && seq.is_empty()
            && self
                .inserts
                .iter()
                .any(|i| seq.range().contains_range(TextRange::empty(i.at)))
        {
            return Err("cannot add several items to an empty flow list".into());
        }
        let edits = seq.append_item(frag).map_err(err)?;
        // Items belong inside their entry, even when written at its key's column.
        self.push_edits(edits, seq.indent() + 1);
        self.lock_sequence(seq);
        self.paths.push(path);
        Ok(())
    }

    /// Remove the items at `indexes` of a sequence; when that is every item and the sequence is an
    /// entry's value, the entry goes (`volumes:` with no volume left disappears).
    ///
    /// # Errors
    /// The list is shared or cannot be edited losslessly.
    pub fn remove_items(
        &mut self,
        seq: &Sequence,
        indexes: &[usize],
        path: SemanticPath,
    ) -> Result<(), Refusal> {
        if !editable_node(&seq.as_node()) {
            return Err("the list is shared (anchor or alias)".into());
        }
        let items = seq.items();
        let mut idx: Vec<usize> = indexes
            .iter()
            .copied()
            .filter(|&i| i < items.len())
            .collect();
        idx.sort_unstable();
        idx.dedup();
        if idx.is_empty() {
            return Ok(());
        }
        if idx.len() == items.len() {
            if let crate::yaml::Parent::EntryValue(e) = seq.parent() {
                return self.remove_entry(&e, path);
            }
        }
        if seq.is_flow() {
            // Maximal runs of removed items: a run before the last item goes with the commas after
            // it (up to the next kept item), a run at the end with the comma before it.
            let mut i = 0;
            while i < idx.len() {
                let mut j = i;
                while j + 1 < idx.len() && idx[j + 1] == idx[j] + 1 {
                    j += 1;
                }
                let (first, last) = (idx[i], idx[j]);
                let range = if last + 1 < items.len() {
                    TextRange::new(items[first].range().start, items[last + 1].range().start)
                } else if first > 0 {
                    TextRange::new(items[first - 1].range().end, items[last].range().end)
                } else {
                    return Err("cannot empty a flow list".into());
                };
                self.edits.push(Edit::delete(range));
                i = j + 1;
            }
        } else {
            let mut dels: Vec<Edit> = Vec::new();
            for &i in &idx {
                dels.extend(items[i].remove().map_err(err)?);
            }
            if dels
                .iter()
                .any(|e| e.range.is_empty() || !e.replacement.is_empty())
            {
                return Err("cannot remove these list items losslessly".into());
            }
            dels.sort();
            // Adjacent or overlapping deletions become one.
            let mut merged: Vec<Edit> = Vec::new();
            for d in dels {
                match merged.last_mut() {
                    Some(m) if d.range.start <= m.range.end => {
                        m.range = TextRange::new(m.range.start, m.range.end.max(d.range.end));
                    }
                    _ => merged.push(d),
                }
            }
            self.edits.extend(merged);
        }
        self.paths.push(path);
        Ok(())
    }

    /// The edits (insertions at one offset merged) and the declared paths.
    ///
    /// # Errors
    /// Two edits of the fix overlap.
    pub fn finish(self) -> Result<(Vec<Edit>, Vec<SemanticPath>), Refusal> {
        let Self {
            mut inserts,
            mut edits,
            locks,
            mut paths,
        } = self;
        inserts.sort_by_key(|i| (i.at, std::cmp::Reverse(i.col), i.seq));
        let mut merged: Vec<Edit> = Vec::new();
        for i in inserts {
            match merged.last_mut() {
                Some(m) if m.range.start == i.at => m.replacement.push_str(&i.text),
                _ => merged.push(Edit::insert(i.at, i.text)),
            }
        }
        edits.extend(merged);
        edits.sort();
        edits.dedup();
        for w in edits.windows(2) {
            if w[0].range.overlaps(w[1].range) {
                return Err("the edits of this fix overlap".into());
            }
        }
        for lock in locks {
            if !edits
                .iter()
                .any(|e| e.range.overlaps(lock.range) || e.range == lock.range)
            {
                edits.push(lock);
            }
        }
        edits.sort();
        edits.dedup();
        if edits.is_empty() {
            return Err("nothing to change".into());
        }
        paths.sort();
        paths.dedup();
        Ok((edits, paths))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines joined as the fragment was first written (a line per `format!`).
    fn nest_by_lines(keys: &[&str], leaves: &[(&str, &str)]) -> String {
        let mut lines = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            lines.push(format!("{}{k}:", "  ".repeat(i)));
        }
        let pad = "  ".repeat(keys.len());
        for (k, v) in leaves {
            if is_block(v) {
                lines.push(format!("{pad}{k}:"));
                for l in v.lines() {
                    lines.push(format!("{pad}  {l}"));
                }
            } else {
                lines.push(format!("{pad}{k}: {v}"));
            }
        }
        lines.join("\n")
    }

    #[test]
    fn nest_writes_the_lines_of_the_fragment() {
        let keys: [&[&str]; 4] = [&[], &["securityContext"], &["a", "b"], &["a", "b", "c"]];
        let leaves: [&[(&str, &str)]; 5] = [
            &[],
            &[("runAsNonRoot", "true")],
            &[("drop", "- ALL"), ("add", "[NET_BIND_SERVICE]")],
            &[("limits", "memory: 512Mi\ncpu: 500m"), ("x", "\"a: b\"")],
            &[("k", "a\n\nb\n")],
        ];
        for k in keys {
            for l in leaves {
                assert_eq!(nest(k, l), nest_by_lines(k, l), "{k:?} {l:?}");
            }
        }
    }
    use crate::apply::apply_fixes;
    use crate::fix::Fix;
    use crate::kubernetes::model::pods;

    fn parse(text: &str) -> crate::yaml::YamlFile {
        crate::yaml::parse(text).unwrap()
    }

    fn apply(text: &str, edits: Vec<Edit>) -> String {
        let fix = Fix::unsafe_("t", edits);
        let r = apply_fixes(text, &[&fix]);
        assert!(r.invalid.is_empty(), "malformed edits");
        crate::yaml::parse(&r.text).expect("the result parses");
        r.text
    }

    fn keys(paths: &[SemanticPath]) -> Vec<String> {
        paths.iter().map(|p| p.keys.join(".")).collect()
    }

    #[test]
    fn creates_missing_levels_as_one_entry() {
        let text = "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: x\n";
        let file = parse(text);
        let pods = pods(&file);
        let containers = pods[0].containers();
        let c = &containers[0];
        let mut p = Patch::new();
        p.set(
            &c.mapping,
            &c.path,
            &["securityContext", "capabilities"],
            &[("drop", "- ALL")],
        )
        .unwrap();
        let (edits, paths) = p.finish().unwrap();
        assert_eq!(keys(&paths), ["spec.containers.0.securityContext"]);
        assert_eq!(
            apply(text, edits),
            "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext:\n      capabilities:\n        drop:\n        - ALL\n"
        );
    }

    #[test]
    fn insertions_at_one_offset_go_deepest_first() {
        // `drop` is the last entry of `capabilities`, which is the last of `securityContext`:
        // the appended item, the new `add` key and the new `readOnlyRootFilesystem` key all go
        // after the same line.
        let text = "kind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext:\n      capabilities:\n        drop:\n        - NET_RAW\n";
        let file = parse(text);
        let pods = pods(&file);
        let containers = pods[0].containers();
        let c = &containers[0];
        let mut p = Patch::new();
        p.set(
            &c.mapping,
            &c.path,
            &["securityContext"],
            &[("readOnlyRootFilesystem", "true")],
        )
        .unwrap();
        let Some(Node::Sequence(drop)) = c.sc(&["capabilities", "drop"]) else {
            panic!("no drop list");
        };
        p.append_item(
            &drop,
            "ALL",
            c.path(&["securityContext", "capabilities", "drop"]),
        )
        .unwrap();
        p.set(
            &c.mapping,
            &c.path,
            &["securityContext", "capabilities"],
            &[("add", "- CHOWN")],
        )
        .unwrap();
        let (edits, _) = p.finish().unwrap();
        assert_eq!(
            apply(text, edits),
            "kind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext:\n      capabilities:\n        drop:\n        - NET_RAW\n        - ALL\n        add:\n        - CHOWN\n      readOnlyRootFilesystem: true\n"
        );
    }

    #[test]
    fn removes_runs_of_flow_items() {
        let text = "l: [s1, a, s2, s3]\nm: [s1, s2, b]\n";
        let file = parse(text);
        let root = file.documents()[0].root();
        let l = root.path(&["l"]).unwrap();
        let m = root.path(&["m"]).unwrap();
        let mut p = Patch::new();
        p.remove_items(
            l.as_sequence().unwrap(),
            &[0, 2, 3],
            SemanticPath::new(0, ["l"]),
        )
        .unwrap();
        p.remove_items(
            m.as_sequence().unwrap(),
            &[1, 0],
            SemanticPath::new(0, ["m"]),
        )
        .unwrap();
        let (edits, paths) = p.finish().unwrap();
        assert_eq!(keys(&paths), ["l", "m"]);
        assert_eq!(apply(text, edits), "l: [a]\nm: [b]\n");
    }

    #[test]
    fn removing_every_item_removes_the_key() {
        let text = "v:\n- a\n- b\nw: 1\n";
        let file = parse(text);
        let v = file.documents()[0].root().path(&["v"]).unwrap();
        let mut p = Patch::new();
        p.remove_items(
            v.as_sequence().unwrap(),
            &[0, 1],
            SemanticPath::new(0, ["v"]),
        )
        .unwrap();
        let (edits, _) = p.finish().unwrap();
        assert_eq!(apply(text, edits), "w: 1\n");
    }

    #[test]
    fn an_insertion_locks_the_last_entry_against_its_removal() {
        // One fix removes the only key of a security context, another adds a key to it: applied
        // together, the context would become `{}` followed by an orphan line.
        let text = "kind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext:\n      privileged: true\n";
        let file = parse(text);
        let pods = pods(&file);
        let containers = pods[0].containers();
        let c = &containers[0];
        let sc = c.security_context().unwrap();
        let mut remove = Patch::new();
        remove
            .remove_entry(
                &sc.get("privileged").unwrap(),
                c.path(&["securityContext", "privileged"]),
            )
            .unwrap();
        let mut insert = Patch::new();
        insert
            .set(
                &c.mapping,
                &c.path,
                &["securityContext"],
                &[("readOnlyRootFilesystem", "true")],
            )
            .unwrap();
        let a = Fix::unsafe_("remove", remove.finish().unwrap().0);
        let b = Fix::unsafe_("insert", insert.finish().unwrap().0);
        let r = apply_fixes(text, &[&a, &b]);
        assert_eq!(r.applied.len(), 1);
        assert_eq!(r.deferred.len(), 1);
        crate::yaml::parse(&r.text).unwrap();
    }

    #[test]
    fn refuses_shared_mappings() {
        let text = "kind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext: &sc\n      runAsUser: 1\n  - name: b\n    securityContext: *sc\n";
        let file = parse(text);
        let pods = pods(&file);
        let containers = pods[0].containers();
        let c = &containers[0];
        let mut p = Patch::new();
        assert!(p
            .set(
                &c.mapping,
                &c.path,
                &["securityContext"],
                &[("readOnlyRootFilesystem", "true")]
            )
            .is_err());
    }
}
