//! The YAML layer against every compose and Kubernetes file of the shared corpus: the CST
//! round-trips, the semantic view loads (templated files may fail, with a located error),
//! navigation agrees with the semantic view and never panics, and the edit builders produce
//! output that re-parses and changes exactly the intended path.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dockharden_transforms::edit::Edit;
use dockharden_transforms::yaml::{self, semantic, semantic_diff, Mapping, Node, Parent, YamlFile};
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

struct CorpusFile {
    kind: String,
    rel: String,
    text: String,
}

fn corpus_files() -> Option<Vec<CorpusFile>> {
    let root = Path::new(CORPUS);
    let sources = std::fs::read_to_string(root.join("SOURCES.tsv")).ok()?;
    let mut out = Vec::new();
    for line in sources.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 || !(cols[0] == "compose" || cols[0] == "k8s") {
            continue;
        }
        let dir = cols[1].replace('/', "__");
        let path: PathBuf = root.join(&dir).join(cols[3]);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{} listed in SOURCES.tsv: {e}", path.display()));
        let text =
            String::from_utf8(bytes).unwrap_or_else(|_| panic!("{} is not UTF-8", path.display()));
        out.push(CorpusFile {
            kind: cols[0].to_owned(),
            rel: format!("{dir}/{}", cols[3]),
            text,
        });
    }
    Some(out)
}

fn templated(text: &str) -> bool {
    text.contains("{{")
}

/// Visit every node of a file through the public API (keys, values, items, merges, ranges) and
/// check basic invariants; returns the number of nodes seen.
fn walk(file: &YamlFile) -> usize {
    let text = file.text();
    let mut count = 0;
    let mut stack: Vec<Node> = file.documents().iter().map(yaml::Document::root).collect();
    for d in file.documents() {
        assert!(d.range().end <= text.len());
        for (name, node) in d.anchors() {
            assert_eq!(node.anchor().as_deref(), Some(name.as_str()));
        }
    }
    while let Some(node) = stack.pop() {
        count += 1;
        let r = node.range();
        assert!(r.start <= r.end && r.end <= text.len(), "{r:?}");
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        let _ = node.full_range();
        let _ = node.resolve();
        let _ = node.parent();
        match &node {
            Node::Mapping(m) => {
                let _ = m.indent();
                let _ = m.indent_unit();
                let _ = m.sequence_indent();
                let _ = m.merged_entries();
                for e in m.entries() {
                    let lr = e.line_range();
                    assert!(
                        lr.start <= e.range().start && e.range().end <= lr.end,
                        "{e:?}"
                    );
                    assert!(
                        e.range().slice(text).starts_with(e.key_range().slice(text))
                            || e.key_range().is_empty()
                            || e.range().slice(text).starts_with('?')
                            || e.key_node().anchor().is_some()
                            || e.key_node().tag().is_some()
                    );
                    assert!(m.get_merged(e.key()).is_some());
                    if !m.is_flow() {
                        assert!(lr.end == text.len() || text[..lr.end].ends_with('\n'));
                    }
                    stack.push(e.key_node());
                    stack.push(e.value());
                }
            }
            Node::Sequence(s) => {
                let _ = s.indent();
                let _ = s.item_gap();
                for i in s.items() {
                    let lr = i.line_range();
                    assert!(lr.start <= i.range().start && i.range().end <= lr.end);
                    stack.push(i.value());
                }
            }
            Node::Scalar(s) => {
                let _ = s.value();
                let _ = s.style();
            }
            Node::Alias(a) => {
                let _ = a.target();
            }
            Node::Null(n) => assert!(n.range().is_empty()),
        }
    }
    count
}

/// Compare the navigation model with the semantic value: mapping keys (merges applied), sequence
/// lengths, string scalars. Returns a description of the first mismatch.
fn agree(node: &Node, value: &Value, path: &mut Vec<String>, depth: usize) -> Result<(), String> {
    if depth > 200 {
        return Ok(());
    }
    let Some(node) = node.resolve() else {
        return Err(format!("{}: unresolved alias", path.join(".")));
    };
    match (&node, value) {
        (Node::Mapping(m), Value::Object(obj)) => {
            let merged = m.merged_entries();
            if merged.len() != obj.len() {
                return Err(format!(
                    "{}: {} keys in the CST, {} in the semantic view",
                    path.join("."),
                    merged.len(),
                    obj.len()
                ));
            }
            for (e, _) in merged {
                let Some(v) = obj.get(e.key()) else {
                    return Err(format!("{}: key {:?} missing", path.join("."), e.key()));
                };
                path.push(e.key().to_owned());
                agree(&e.value(), v, path, depth + 1)?;
                path.pop();
            }
            Ok(())
        }
        (Node::Sequence(s), Value::Array(arr)) => {
            if s.len() != arr.len() {
                return Err(format!("{}: sequence length", path.join(".")));
            }
            for (i, (item, v)) in s.items().iter().zip(arr).enumerate() {
                path.push(i.to_string());
                agree(&item.value(), v, path, depth + 1)?;
                path.pop();
            }
            Ok(())
        }
        (Node::Scalar(s), Value::String(v)) => {
            if s.value() == v {
                Ok(())
            } else {
                Err(format!(
                    "{}: scalar {:?} decodes to {:?}, semantic {:?}",
                    path.join("."),
                    s.raw(),
                    s.value(),
                    v
                ))
            }
        }
        (Node::Scalar(_), _) | (Node::Null(_), Value::Null) => Ok(()),
        (n, v) => Err(format!(
            "{}: CST {:?} vs semantic {}",
            path.join("."),
            n,
            v.to_string().chars().take(60).collect::<String>()
        )),
    }
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = text.to_owned();
    for e in sorted.iter().rev() {
        out.replace_range(e.range.start..e.range.end, &e.replacement);
    }
    out
}

/// The key path of a node from its document root, or None when it (or an ancestor) is anchored,
/// merged or aliased (edits there legitimately change other paths too) or under a complex key.
fn plain_path(node: &Node) -> Option<Vec<String>> {
    let mut path = Vec::new();
    let mut cur = node.clone();
    loop {
        if cur.anchor().is_some() {
            return None;
        }
        match cur.parent() {
            Parent::Document(_) => break,
            Parent::EntryKey(_) => return None,
            Parent::EntryValue(e) => {
                if e.is_merge() {
                    return None;
                }
                path.push(e.key().to_owned());
                cur = e.mapping().as_node();
            }
            Parent::Item(i) => {
                path.push(i.index().to_string());
                cur = i.sequence().as_node();
            }
        }
    }
    path.reverse();
    Some(path)
}

#[derive(Default)]
struct EditStats {
    tried: usize,
    refused: usize,
    clean: usize,
    failures: Vec<String>,
}

/// Insert a new key into, and remove the last own entry of, a few block mappings per file; append
/// to and remove from a few sequences; check every output.
fn edit_sweep(rel: &str, file: &YamlFile, before: &[Value], stats: &mut EditStats) {
    let text = file.text();
    let mut mappings: Vec<(usize, Mapping)> = Vec::new();
    let mut sequences = Vec::new();
    for d in file.documents() {
        let mut stack = vec![d.root()];
        while let Some(n) = stack.pop() {
            match &n {
                Node::Mapping(m) => {
                    mappings.push((d.index(), m.clone()));
                    stack.extend(m.entries().iter().map(yaml::Entry::value));
                }
                Node::Sequence(s) => {
                    sequences.push((d.index(), s.clone()));
                    stack.extend(s.items().iter().map(yaml::Item::value));
                }
                _ => {}
            }
        }
    }
    // Deterministic sample: the middle and the last (the first is usually the document root).
    let pick = |n: usize| -> Vec<usize> {
        if n == 0 {
            return vec![];
        }
        let mut v = vec![n / 2, n - 1];
        v.dedup();
        v
    };
    let mut run =
        |what: String, doc: usize, path: Vec<String>, edits: Result<Vec<Edit>, yaml::YamlError>| {
            stats.tried += 1;
            let Ok(edits) = edits else {
                stats.refused += 1;
                return;
            };
            let out = apply(text, &edits);
            let fail = |msg: String| format!("{rel}: {what}: {msg}");
            if let Err(e) = yaml::parse(&out) {
                stats
                    .failures
                    .push(fail(format!("output does not parse: {}", e.message)));
                return;
            }
            let after = match semantic(&out) {
                Ok(a) => a,
                Err(e) => {
                    stats
                        .failures
                        .push(fail(format!("output does not load: {}", e.message)));
                    return;
                }
            };
            let diff = semantic_diff(before, &after);
            let ok =
                !diff.is_empty() && diff.iter().all(|(d, p)| *d == doc && p.starts_with(&path));
            if ok {
                stats.clean += 1;
            } else {
                stats.failures.push(fail(format!(
                    "semantic diff {diff:?}, expected under {path:?}"
                )));
            }
        };
    for i in pick(mappings.len()) {
        let (doc, m) = &mappings[i];
        let Some(path) = plain_path(&m.as_node()) else {
            continue;
        };
        let key = "x-dockharden-probe";
        let mut p = path.clone();
        p.push(key.to_owned());
        run(
            format!("insert into {path:?}"),
            *doc,
            p,
            m.insert_entry(key, "- a\n- b"),
        );
        if let Some(last) = m.entries().into_iter().rev().find(|e| !e.is_merge()) {
            if m.merge_sources().is_empty() {
                let mut p = path.clone();
                p.push(last.key().to_owned());
                run(
                    format!("remove {:?} of {path:?}", last.key()),
                    *doc,
                    p,
                    last.remove(),
                );
            }
        }
    }
    for i in pick(sequences.len()) {
        let (doc, s) = &sequences[i];
        let Some(path) = plain_path(&s.as_node()) else {
            continue;
        };
        run(
            format!("append to {path:?}"),
            *doc,
            path.clone(),
            s.append_item("probe"),
        );
        if let Some(first) = s.get(0) {
            run(
                format!("remove item 0 of {path:?}"),
                *doc,
                path.clone(),
                first.remove(),
            );
        }
    }
}

/// Mutate a file (truncate, replace, insert or delete a byte with a YAML indicator) and exercise
/// the parser, navigation and every builder: errors are fine, panics are not.
fn mutation_sweep(text: &str, seed: &mut u64) -> usize {
    let original = yaml::parse(text).ok();
    const BYTES: &[u8] = b"[]{}:-#&*!|>'\"\n ?,\t";
    let mut n = 0;
    for k in 0..4 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let mut t = text.as_bytes().to_vec();
        let r = usize::try_from(*seed >> 33).unwrap_or(0);
        let pos = r % t.len().max(1);
        let b = BYTES[(r >> 7) % BYTES.len()];
        match k {
            0 => t.truncate(pos),
            1 if pos < t.len() => t[pos] = b,
            2 => t.insert(pos.min(t.len()), b),
            _ if pos < t.len() => {
                t.remove(pos);
            }
            _ => {}
        }
        let Ok(t) = String::from_utf8(t) else {
            continue;
        };
        n += 1;
        let parsed = yaml::parse(&t);
        // The fix loop's re-parse (documents whose text did not change keep their values, the
        // syntax pass runs only to name an error) accepts and refuses what the parse does.
        if let Some(original) = &original {
            assert_eq!(
                yaml::reparse(&t, original).map(|_| ()).err(),
                parsed.as_ref().map(|_| ()).err().cloned(),
                "re-parse differs from parse:\n{t}"
            );
        }
        // The syntax pass runs only when loading fails: every text it refuses is still refused,
        // with its error.
        if let Some(e) = yaml::syntax_error(&t) {
            assert_eq!(
                parsed.as_ref().err(),
                Some(&e),
                "mutant accepted or error changed:\n{t}"
            );
        }
        // The parse that loads at once (unsafe fixes) accepts and refuses the same, with the same
        // values.
        let loaded = yaml::parse_loaded(&t);
        assert_eq!(
            loaded.as_ref().map(|_| ()).err(),
            parsed.as_ref().map(|_| ()).err(),
            "loading parse differs from parse:\n{t}"
        );
        if let Ok(f) = parsed {
            // A file whose load the parse deferred (checking skips the loader) loads: the parse
            // refuses exactly what loading every document refuses.
            assert!(
                f.values().is_ok(),
                "parse accepted what does not load:\n{t}"
            );
            assert_eq!(
                loaded.as_ref().ok().and_then(|l| l.values().ok()),
                f.values().ok(),
                "loading parse gives other values:\n{t}"
            );
            walk(&f);
            // The builders on the first nodes of each document (they parse a fragment each).
            for d in f.documents() {
                let mut stack = vec![d.root()];
                let mut budget = 24;
                while let Some(node) = stack.pop() {
                    budget -= 1;
                    if budget == 0 {
                        break;
                    }
                    match &node {
                        Node::Mapping(m) => {
                            let _ = m.insert_entry("zz", "- a\nb: c");
                            for e in m.entries() {
                                let _ = e.remove();
                                let _ = e.replace_value("k: [1]");
                                stack.push(e.value());
                            }
                        }
                        Node::Sequence(s) => {
                            let _ = s.append_item("k: v");
                            for i in s.items() {
                                let _ = i.remove_or_parent_entry();
                                stack.push(i.value());
                            }
                        }
                        Node::Scalar(s) => {
                            let _ = s.replace("new\nvalue");
                        }
                        _ => {}
                    }
                }
            }
        }
        let _ = semantic(&t);
    }
    n
}

#[test]
fn yaml_corpus() {
    let Some(files) = corpus_files() else {
        eprintln!("yaml_corpus: {CORPUS} not found; skipped");
        return;
    };
    let mut parse_time = Duration::ZERO;
    let mut semantic_time = Duration::ZERO;
    let (mut total, mut compose, mut k8s, mut templates, mut bytes) = (0, 0, 0, 0, 0);
    let (mut parsed, mut parse_failed_template, mut loaded, mut load_failed_template) =
        (0, 0, 0, 0);
    let mut nodes = 0;
    let mut failures = Vec::new();
    // Invalid YAML that loaders refuse too (go-yaml: "mapping key already defined").
    let mut duplicate_keys = Vec::new();
    let mut doc_count_mismatch = Vec::new();
    let mut disagreements = Vec::new();
    let mut edits = EditStats::default();
    let (mut mutated, mut seed) = (0, 42u64);
    for f in &files {
        mutated += mutation_sweep(&f.text, &mut seed);
        total += 1;
        bytes += f.text.len();
        if f.kind == "compose" {
            compose += 1;
        } else {
            k8s += 1;
        }
        let tpl = templated(&f.text);
        templates += usize::from(tpl);
        let t0 = Instant::now();
        let result = yaml::parse(&f.text);
        parse_time += t0.elapsed();
        let file = match result {
            Ok(file) => {
                parsed += 1;
                assert_eq!(file.text(), f.text);
                Some(file)
            }
            Err(e) => {
                assert!(
                    e.range.end <= f.text.len(),
                    "{}: error range {:?}",
                    f.rel,
                    e.range
                );
                assert!(
                    !e.message.starts_with("internal error"),
                    "{}: {}",
                    f.rel,
                    e.message
                );
                if tpl {
                    parse_failed_template += 1;
                } else if e.message.starts_with("duplicate key") {
                    // Invalid for Compose and Kubernetes: refused, located at the first copy.
                    duplicate_keys.push(format!("{}: {} at {:?}", f.rel, e.message, e.range));
                } else {
                    failures.push(format!("{}: parse: {} at {:?}", f.rel, e.message, e.range));
                }
                None
            }
        };
        let t0 = Instant::now();
        let sem = semantic(&f.text);
        semantic_time += t0.elapsed();
        let sem = match sem {
            Ok(v) => {
                loaded += 1;
                Some(v)
            }
            Err(e) => {
                assert!(
                    e.range.end <= f.text.len(),
                    "{}: error range {:?}",
                    f.rel,
                    e.range
                );
                if tpl {
                    load_failed_template += 1;
                } else if e.message.contains("duplicate mapping key")
                    || e.message.starts_with("duplicate key")
                {
                    // (`semantic` applies the parser's rules: the navigation model's message.)
                    duplicate_keys.push(format!("{}: {} at {:?}", f.rel, e.message, e.range));
                } else {
                    failures.push(format!(
                        "{}: semantic: {} at {:?}",
                        f.rel, e.message, e.range
                    ));
                }
                None
            }
        };
        if let Some(file) = &file {
            nodes += walk(file);
            if let Some(values) = &sem {
                let docs = file.documents();
                if docs.len() == values.len() {
                    for (d, v) in docs.iter().zip(values) {
                        if let Err(msg) = agree(&d.root(), v, &mut Vec::new(), 0) {
                            disagreements.push(format!("{} doc {}: {msg}", f.rel, d.index()));
                        }
                    }
                    edit_sweep(&f.rel, file, values, &mut edits);
                } else {
                    doc_count_mismatch.push(format!(
                        "{}: {} CST documents, {} semantic",
                        f.rel,
                        docs.len(),
                        values.len()
                    ));
                }
            }
        }
    }
    eprintln!(
        "yaml_corpus: {total} files ({compose} compose, {k8s} k8s; {templates} with `{{{{`), {} KiB",
        bytes / 1024
    );
    eprintln!(
        "  CST: {parsed} parsed and round-tripped, {parse_failed_template} templated files failed (located); {nodes} nodes walked; parse time {parse_time:?}"
    );
    eprintln!(
        "  semantic: {loaded} loaded, {load_failed_template} templated files failed, {} refused for duplicate keys (located); time {semantic_time:?}",
        duplicate_keys.len()
    );
    eprintln!(
        "  CST vs semantic: {} document-count mismatches, {} disagreements",
        doc_count_mismatch.len(),
        disagreements.len()
    );
    eprintln!(
        "  mutation sweep: {mutated} mutated files parsed, walked and edited without a panic"
    );
    eprintln!(
        "  edit sweep: {} edits tried, {} clean, {} refused by the builder, {} bad",
        edits.tried,
        edits.clean,
        edits.refused,
        edits.failures.len()
    );
    for line in failures
        .iter()
        .chain(&duplicate_keys)
        .chain(&doc_count_mismatch)
        .chain(&disagreements)
        .chain(&edits.failures)
        .take(40)
    {
        eprintln!("    {line}");
    }
    assert!(
        failures.is_empty(),
        "non-templated files that fail: {failures:#?}"
    );
    assert!(doc_count_mismatch.is_empty(), "{doc_count_mismatch:#?}");
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    assert!(edits.failures.is_empty(), "{:#?}", edits.failures);
}

/// The one edit-reach answer ([`yaml::node_reach`], [`yaml::key_reach`]) against the semantic view
/// on every corpus file that shares nodes through aliases or merge keys: for every mapping, inserting
/// a new key changes exactly the paths `key_reach` names; for every scalar value, replacing it
/// changes exactly the paths `node_reach` names.
#[test]
fn reach_agrees_with_the_semantic_view() {
    // The shared corpus has few files with aliases: the repository's own golden inputs and the
    // generated self-hosted stack (about 140 aliases on 10 anchors) join it.
    let mut files = corpus_files().unwrap_or_default();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![repo.join("golden"), repo.join("tests/fixtures")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    files.push(CorpusFile {
                        kind: "repo".into(),
                        rel: path.strip_prefix(repo).unwrap().display().to_string(),
                        text,
                    });
                }
            }
        }
    }
    let (mut shared_files, mut checked, mut multi, mut incomplete) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.text.contains('*') && f.text.contains('&'))
    {
        let Ok(file) = yaml::parse(&f.text) else {
            continue;
        };
        if file.documents().iter().all(|d| d.aliases().is_empty()) {
            continue;
        }
        shared_files += 1;
        let Ok(before) = semantic(&f.text) else {
            continue;
        };
        let mut nodes = Vec::new();
        for d in file.documents() {
            let mut stack = vec![d.root()];
            while let Some(n) = stack.pop() {
                match &n {
                    Node::Mapping(m) => stack.extend(m.entries().iter().map(yaml::Entry::value)),
                    Node::Sequence(s) => stack.extend(s.items().iter().map(yaml::Item::value)),
                    _ => {}
                }
                nodes.push(n);
            }
        }
        for (i, n) in nodes.iter().enumerate() {
            if yaml::unshared(n) != yaml::node_reach(n).unshared() {
                failures.push(format!(
                    "{}: unshared() disagrees with node_reach() at {:?}",
                    f.rel,
                    yaml_path(n)
                ));
            }
            let (edits, reach, what) = match n {
                Node::Mapping(m) if !m.is_flow_pair() => (
                    m.insert_entry("x-dockharden-probe", "1"),
                    yaml::key_reach(m, "x-dockharden-probe"),
                    "insert into",
                ),
                Node::Scalar(s) if !matches!(n.parent(), Parent::EntryKey(_)) => (
                    Ok(vec![s.replace(&format!("dockharden-probe-{i}"))]),
                    yaml::node_reach(n),
                    "replace",
                ),
                _ => continue,
            };
            let Ok(edits) = edits else {
                continue;
            };
            if !reach.complete {
                incomplete += 1;
                continue;
            }
            let out = apply(&f.text, &edits);
            let Ok(after) = semantic(&out) else {
                continue;
            };
            let mut diff: Vec<(usize, Vec<String>)> = semantic_diff(&before, &after);
            diff.sort();
            let mut want: Vec<(usize, Vec<String>)> = reach
                .paths
                .iter()
                .map(|p| (p.document, p.keys.clone()))
                .collect();
            want.sort();
            checked += 1;
            multi += usize::from(want.len() > 1);
            if diff != want {
                failures.push(format!(
                    "{}: {what} {:?}: semantic diff {diff:?}, reach {want:?}",
                    f.rel,
                    yaml_path(n)
                ));
            }
        }
    }
    eprintln!(
        "reach: {shared_files} files with aliases, {checked} edits checked ({multi} reaching several places), {incomplete} incomplete"
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert!(
        multi > 0,
        "no shared node in the corpus: the test proves nothing"
    );
}

fn yaml_path(n: &Node) -> Vec<String> {
    dockharden_transforms::paths::node_path(n).keys
}
