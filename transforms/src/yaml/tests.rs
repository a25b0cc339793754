//! Tests of navigation and the edit builders. Every edit test checks the exact output, that it
//! re-parses, and that the semantic difference is exactly the intended path.

use super::*;
use crate::edit::Edit;

/// Apply non-overlapping edits to `text`.
fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    for w in sorted.windows(2) {
        assert!(
            !w[0].range.overlaps(w[1].range),
            "overlapping edits {:?} {:?}",
            w[0],
            w[1]
        );
    }
    let mut out = text.to_owned();
    for e in sorted.iter().rev() {
        out.replace_range(e.range.start..e.range.end, &e.replacement);
    }
    out
}

fn p(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// Apply `edits`, compare with `expected`, re-parse, and check the semantic diff is `changed`
/// (document index, key path).
#[track_caller]
fn check(input: &str, edits: &[Edit], expected: &str, changed: &[(usize, &[&str])]) {
    let out = apply(input, edits);
    assert_eq!(
        out, expected,
        "\n--- got ---\n{out}\n--- expected ---\n{expected}"
    );
    parse(&out).unwrap_or_else(|e| panic!("output does not parse: {e:?}\n{out}"));
    let before = semantic(input).expect("input loads");
    let after = semantic(&out).unwrap_or_else(|e| panic!("output does not load: {e:?}\n{out}"));
    let diff = semantic_diff(&before, &after);
    let want: Vec<(usize, Vec<String>)> = changed.iter().map(|(d, k)| (*d, p(k))).collect();
    assert_eq!(diff, want, "semantic diff\n{out}");
}

fn root(t: &str) -> Node {
    parse(t).unwrap().documents()[0].root()
}

fn map_at(t: &str, path: &[&str]) -> Mapping {
    root(t).path(path).unwrap().as_mapping().unwrap().clone()
}

fn seq_at(t: &str, path: &[&str]) -> Sequence {
    root(t).path(path).unwrap().as_sequence().unwrap().clone()
}

fn entry_at(t: &str, path: &[&str], key: &str) -> Entry {
    let m = if path.is_empty() {
        root(t).as_mapping().unwrap().clone()
    } else {
        map_at(t, path)
    };
    m.get(key).unwrap()
}

const COMPOSE: &str = "\
# top comment
services:
  web:
    image: nginx:1.25   # pinned
    # ports exposed
    ports:
      - \"80:80\"
      - \"443:443\"
    environment:
      A: 1
      # end of env
  # between services
  db:
    image: postgres
# trailing comment
";

// ---------------------------------------------------------------------------------------------
// Navigation

#[test]
fn navigation_ranges() {
    let t = COMPOSE;
    let f = parse(t).unwrap();
    assert_eq!(f.documents().len(), 1);
    let r = f.documents()[0].root();
    let web = r.path(&["services", "web"]).unwrap();
    let web = web.as_mapping().unwrap();
    assert!(!web.is_flow());
    assert_eq!(web.indent(), 4);
    let keys: Vec<String> = web.entries().iter().map(|e| e.key().to_owned()).collect();
    assert_eq!(keys, ["image", "ports", "environment"]);
    let image = web.get("image").unwrap();
    assert_eq!(image.key_range().slice(t), "image");
    assert_eq!(image.range().slice(t), "image: nginx:1.25");
    assert_eq!(
        image.line_range().slice(t),
        "    image: nginx:1.25   # pinned\n"
    );
    let v = image.value();
    assert_eq!(v.as_str(), Some("nginx:1.25"));
    assert_eq!(v.as_scalar().unwrap().style(), ScalarStyle::Plain);
    let ports = web.get("ports").unwrap();
    assert_eq!(
        ports.line_range().slice(t),
        "    ports:\n      - \"80:80\"\n      - \"443:443\"\n"
    );
    let s = ports.value();
    let s = s.as_sequence().unwrap();
    assert_eq!(s.indent(), 6);
    assert_eq!(s.len(), 2);
    let first = s.get(0).unwrap();
    assert_eq!(first.range().slice(t), "- \"80:80\"");
    assert_eq!(first.line_range().slice(t), "      - \"80:80\"\n");
    assert_eq!(first.value().as_str(), Some("80:80"));
    assert_eq!(first.value().range().slice(t), "\"80:80\"");
    assert_eq!(
        first.value().as_scalar().unwrap().style(),
        ScalarStyle::Double
    );
    // The deeper comment after `A: 1` belongs to the environment entry's lines.
    let env = web.get("environment").unwrap();
    assert_eq!(
        env.line_range().slice(t),
        "    environment:\n      A: 1\n      # end of env\n"
    );
    assert_eq!(
        r.path(&["services", "web", "ports", "1"]).unwrap().as_str(),
        Some("443:443")
    );
    assert!(r.path(&["services", "web", "ports", "2"]).is_none());
    assert!(r.path(&["services", "nope"]).is_none());
    // Parent links.
    match first.value().parent() {
        Parent::Item(i) => assert_eq!(i.index(), 0),
        other => panic!("{other:?}"),
    }
    match r.parent() {
        Parent::Document(d) => assert_eq!(d.index(), 0),
        other => panic!("{other:?}"),
    }
    // Innermost node at an offset.
    let at = t.find("postgres").unwrap() + 2;
    let nodes = f.nodes_at(at);
    assert_eq!(nodes.last().unwrap().as_str(), Some("postgres"));
}

#[test]
fn null_values_and_explicit_nulls() {
    let t = "a:\nb: ~\nc: null\nd: &x\ne:\n  - \n  -\n";
    let r = root(t);
    let a = r.path(&["a"]).unwrap();
    assert!(matches!(a, Node::Null(_)));
    assert!(a.range().is_empty());
    assert_eq!(a.range().start, 2);
    let b = r.path(&["b"]).unwrap();
    assert!(b.as_scalar().unwrap().is_null() && b.is_null());
    assert!(r.path(&["c"]).unwrap().is_null());
    let d = r.path(&["d"]).unwrap();
    assert!(matches!(d, Node::Null(_)));
    assert_eq!(d.anchor().as_deref(), Some("x"));
    let e = r.path(&["e"]).unwrap();
    let e = e.as_sequence().unwrap();
    assert_eq!(e.len(), 2);
    assert!(matches!(e.get(0).unwrap().value(), Node::Null(_)));
    assert_eq!(e.get(1).unwrap().range().slice(t), "-");
}

#[test]
fn scalars_are_decoded() {
    let t = "a: \"x\\ty\\u00e9\"\nb: 'it''s'\nc: |\n  l1\n  l2\nd: >-\n  f1\n  f2\ne: plain\n  folded\nf: !!str 5\n";
    let r = root(t);
    assert_eq!(r.path(&["a"]).unwrap().as_str(), Some("x\ty\u{e9}"));
    assert_eq!(r.path(&["b"]).unwrap().as_str(), Some("it's"));
    let c = r.path(&["c"]).unwrap();
    assert_eq!(c.as_str(), Some("l1\nl2\n"));
    assert_eq!(c.as_scalar().unwrap().style(), ScalarStyle::Literal);
    assert_eq!(c.range().slice(t), "|\n  l1\n  l2");
    let d = r.path(&["d"]).unwrap();
    assert_eq!(d.as_str(), Some("f1 f2"));
    assert_eq!(d.as_scalar().unwrap().style(), ScalarStyle::Folded);
    assert_eq!(r.path(&["e"]).unwrap().as_str(), Some("plain folded"));
    let f = r.path(&["f"]).unwrap();
    assert_eq!(f.tag().as_deref(), Some("!!str"));
    assert_eq!(f.as_str(), Some("5"));
    assert_eq!(f.full_range().slice(t), "!!str 5");
}

#[test]
fn merge_keys_and_aliases() {
    let t = "\
x-a: &a
  restart: always
  user: \"1000\"
x-b: &b
  <<: *a
  read_only: true
services:
  web:
    <<: [*b, {extra: 1}]
    user: root
  db:
    <<: *a
  ref: *a
";
    let r = root(t);
    let web = r.path(&["services", "web"]).unwrap();
    let web = web.as_mapping().unwrap();
    let (e, o) = web.get_merged("user").unwrap();
    assert_eq!(o, Origin::Own);
    assert_eq!(e.value().as_str(), Some("root"));
    let (e, o) = web.get_merged("read_only").unwrap();
    assert_eq!(o, Origin::Anchor("b".into()));
    assert_eq!(e.mapping().anchor().as_deref(), Some("b"));
    // Through *b's own merge of *a: still reported as coming from *b (what this mapping names).
    let (e, o) = web.get_merged("restart").unwrap();
    assert_eq!(o, Origin::Anchor("b".into()));
    assert_eq!(e.value().as_str(), Some("always"));
    let (_, o) = web.get_merged("extra").unwrap();
    assert_eq!(o, Origin::InlineMerge);
    assert!(web.get_merged("nope").is_none());
    assert!(web.get("restart").is_none());
    let keys: Vec<(String, Origin)> = web
        .merged_entries()
        .into_iter()
        .map(|(e, o)| (e.key().to_owned(), o))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("user".into(), Origin::Own),
            ("read_only".into(), Origin::Anchor("b".into())),
            ("restart".into(), Origin::Anchor("b".into())),
            ("extra".into(), Origin::InlineMerge),
        ]
    );
    assert_eq!(
        r.path(&["services", "db", "user"]).unwrap().as_str(),
        Some("1000")
    );
    // Aliases resolve to the anchored node; paths follow them.
    let alias = r.path(&["services"]).unwrap();
    let alias = alias.as_mapping().unwrap().get("ref").unwrap().value();
    let target = alias.as_alias().unwrap().target().unwrap();
    assert_eq!(target.anchor().as_deref(), Some("a"));
    assert_eq!(
        r.path(&["services", "ref", "restart"]).unwrap().as_str(),
        Some("always")
    );
    let doc = parse(t).unwrap().documents()[0].clone();
    assert_eq!(doc.anchors().len(), 2);
    assert!(doc.anchor("b").is_some());
    // An anchor redefined later: an alias refers to the closest one before it.
    let t2 = "a: &x 1\nb: *x\nc: &x 2\nd: *x\n";
    let r2 = root(t2);
    assert_eq!(r2.path(&["b"]).unwrap().as_str(), Some("1"));
    assert_eq!(r2.path(&["d"]).unwrap().as_str(), Some("2"));
    // An alias to an undefined anchor is a syntax error.
    let e = parse("a: 1\nb: *nope\n").unwrap_err();
    assert_eq!(e.range.start, 8);
}

#[test]
fn documents_and_ranges() {
    let t = "# lead\n---\na: 1\n---\n- x\n...\n--- |\n  text\n";
    let f = parse(t).unwrap();
    let docs = f.documents();
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[0].root().path(&["a"]).unwrap().as_str(), Some("1"));
    assert!(docs[1].root().as_sequence().is_some());
    assert_eq!(docs[2].root().as_str(), Some("text\n"));
    assert_eq!(semantic(t).unwrap().len(), 3);
    let empty = parse("").unwrap();
    assert!(empty.documents().is_empty());
    let comments = parse("# c\n\n").unwrap();
    assert!(comments.documents().is_empty());
    let only_marker = parse("---\n").unwrap();
    assert_eq!(only_marker.documents().len(), 1);
    assert!(matches!(only_marker.documents()[0].root(), Node::Null(_)));
}

#[test]
fn reparse_loads_only_the_documents_whose_text_changed() {
    let mut t = String::new();
    for i in 0..20 {
        t += &format!("---\nk: {i}\n");
    }
    let f = parse(&t).unwrap();
    assert_eq!(f.values().unwrap().len(), 20);
    let edited = t.replacen("k: 5\n", "k: 5\nnew: true\n", 1);
    let (g, loaded) = reparse(&edited, &f).unwrap();
    assert_eq!(loaded, vec![5]);
    assert_eq!(g.values().unwrap()[5]["new"], true);
    assert_eq!(g.values().unwrap()[6]["k"], 6);
    // Unchanged documents share their value with the previous parse.
    assert!(std::sync::Arc::ptr_eq(
        &f.values().unwrap()[7],
        &g.values().unwrap()[7]
    ));
    // A document added: everything is loaded.
    let (h, loaded) = reparse(&format!("{edited}---\nk: 20\n"), &g).unwrap();
    assert_eq!(loaded.len(), 21);
    assert_eq!(h.values().unwrap()[20]["k"], 20);
    // Errors of the new text are located in it.
    let e = reparse(&edited.replacen("k: 9\n", "k: [9\n", 1), &g).unwrap_err();
    assert!(
        edited[..e.range.start].matches("---").count() >= 10,
        "{e:?}"
    );
}

#[test]
fn parse_errors_are_located() {
    for bad in ["a: [1, 2\nb: 3\n", "a: \"unterminated\n", "a: {b: 1\n"] {
        let e = parse(bad).unwrap_err();
        assert!(e.range.end <= bad.len(), "{e:?}");
        assert!(!e.message.is_empty());
    }
}

#[test]
fn deep_input_is_an_error_and_never_overflows() {
    // The default test thread stack (2 MiB) is enough for what the pre-check lets through.
    let n = MAX_NESTING_DEPTH;
    let ok_flow = format!("a: {}{}\n", "[".repeat(n - 2), "]".repeat(n - 2));
    let _ = parse(&ok_flow);
    let ok_block: String = (0..n - 2)
        .map(|i| format!("{}a:\n", " ".repeat(i)))
        .collect();
    let f = parse(&ok_block).unwrap();
    assert!(f.documents()[0].root().as_mapping().is_some());
    let ok_dash = format!("{}a\n", "- ".repeat(n - 2));
    let _ = parse(&ok_dash);
    for deep in [
        format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
        format!("{}a\n", "- ".repeat(100_000)),
        format!("a: {}\n", "{b: ".repeat(100_000)),
        (0..1_000)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect(),
    ] {
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nested deeper"), "{e:?}");
        assert!(semantic(&deep).is_err());
    }
    let big = "a".repeat(MAX_INPUT_BYTES + 1);
    assert!(parse(&big).is_err());
    assert!(semantic(&big).is_err());
}

// ---------------------------------------------------------------------------------------------
// insert_entry

#[test]
fn insert_entry_two_space_with_comments() {
    let t = COMPOSE;
    let web = map_at(t, &["services", "web"]);
    assert_eq!(web.indent_unit(), 2);
    let edits = web.insert_entry("read_only", "true").unwrap();
    // After `A: 1` and the deeper `# end of env`, before `# between services` (less indented).
    let expected = t.replace(
        "      # end of env\n",
        "      # end of env\n    read_only: true\n",
    );
    check(
        t,
        &edits,
        &expected,
        &[(0, &["services", "web", "read_only"])],
    );

    let db = map_at(t, &["services", "db"]);
    let edits = db.insert_entry("cap_drop", "- ALL").unwrap();
    let expected = t.replace(
        "    image: postgres\n",
        "    image: postgres\n    cap_drop:\n      - ALL\n",
    );
    check(
        t,
        &edits,
        &expected,
        &[(0, &["services", "db", "cap_drop"])],
    );

    let services = map_at(t, &["services"]);
    let edits = services.insert_entry("cache", "image: redis").unwrap();
    let expected = t.replace(
        "    image: postgres\n",
        "    image: postgres\n  cache:\n    image: redis\n",
    );
    check(t, &edits, &expected, &[(0, &["services", "cache"])]);
}

#[test]
fn insert_entry_four_space_and_zero_indented_sequences() {
    let t = "services:\n    web:\n        image: x\n        ports:\n        - 80\n";
    let web = map_at(t, &["services", "web"]);
    assert_eq!(web.indent_unit(), 4);
    assert_eq!(web.sequence_indent(), 0);
    let edits = web.insert_entry("cap_drop", "- ALL\n- NET_RAW").unwrap();
    check(
        t,
        &edits,
        "services:\n    web:\n        image: x\n        ports:\n        - 80\n        cap_drop:\n        - ALL\n        - NET_RAW\n",
        &[(0, &["services", "web", "cap_drop"])],
    );
    let edits = web
        .insert_entry("security_opt", "opts:\n  - a\nlevel: 2")
        .unwrap();
    check(
        t,
        &edits,
        "services:\n    web:\n        image: x\n        ports:\n        - 80\n        security_opt:\n            opts:\n            - a\n            level: 2\n",
        &[(0, &["services", "web", "security_opt"])],
    );
    // Indented sequences (4) in a 4-space file.
    let t = "a:\n    b:\n        - 1\n    c: 2\n";
    let a = map_at(t, &["a"]);
    assert_eq!(a.sequence_indent(), 4);
    let edits = a.insert_entry("d", "- x").unwrap();
    check(
        t,
        &edits,
        "a:\n    b:\n        - 1\n    c: 2\n    d:\n        - x\n",
        &[(0, &["a", "d"])],
    );
}

/// The same entry inserted into mappings of different columns and layouts on one thread: the
/// laid-out lines are cached by fragment, key and layout, and each insertion must still get its
/// own indentation (a cache keyed on less would hand the first layout to the others).
#[test]
fn insert_entry_same_fragment_in_different_layouts() {
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "services:\n  web:\n    image: x\n",
            &["services", "web"],
            "services:\n  web:\n    image: x\n    cap_drop:\n      - ALL\n",
        ),
        (
            "services:\n    web:\n        image: x\n        ports:\n        - 80\n",
            &["services", "web"],
            "services:\n    web:\n        image: x\n        ports:\n        - 80\n        cap_drop:\n        - ALL\n",
        ),
        (
            "web:\n  image: x\n",
            &["web"],
            "web:\n  image: x\n  cap_drop:\n    - ALL\n",
        ),
        (
            "services:\n  web:\n    image: x\n",
            &["services"],
            "services:\n  web:\n    image: x\n  cap_drop:\n    - ALL\n",
        ),
    ];
    for _ in 0..2 {
        for (t, path, expected) in cases {
            let m = map_at(t, path);
            let edits = m.insert_entry("cap_drop", "- ALL").unwrap();
            let mut changed = path.to_vec();
            changed.push("cap_drop");
            check(t, &edits, expected, &[(0, &changed)]);
        }
    }
    // A key that needs quoting is part of what is cached.
    let t = "a:\n  b: 1\n";
    let m = map_at(t, &["a"]);
    let plain = m.insert_entry("cap_drop", "- ALL").unwrap();
    check(
        t,
        &plain,
        "a:\n  b: 1\n  cap_drop:\n    - ALL\n",
        &[(0, &["a", "cap_drop"])],
    );
    let quoted = m.insert_entry("on", "- ALL").unwrap();
    check(
        t,
        &quoted,
        "a:\n  b: 1\n  \"on\":\n    - ALL\n",
        &[(0, &["a", "on"])],
    );
}

#[test]
fn insert_entry_flow_mappings() {
    let t = "a: {x: 1}\nb: {}\nc: { x: 1 }\nd: {x: 1,}\ne: {\n  x: 1\n}\n";
    let r = root(t);
    let m = |k: &str| r.path(&[k]).unwrap().as_mapping().unwrap().clone();
    check(
        t,
        &m("a").insert_entry("w", "[1, 2]").unwrap(),
        &t.replace("{x: 1}\n", "{x: 1, w: [1, 2]}\n"),
        &[(0, &["a", "w"])],
    );
    check(
        t,
        &m("b").insert_entry("w", "2").unwrap(),
        &t.replace("b: {}", "b: {w: 2}"),
        &[(0, &["b", "w"])],
    );
    check(
        t,
        &m("c").insert_entry("w", "2").unwrap(),
        &t.replace("{ x: 1 }", "{ x: 1, w: 2 }"),
        &[(0, &["c", "w"])],
    );
    check(
        t,
        &m("d").insert_entry("w", "2").unwrap(),
        &t.replace("{x: 1,}", "{x: 1, w: 2,}"),
        &[(0, &["d", "w"])],
    );
    // Two insertions at the same point, joined (as the rules join them), stay separated.
    let mut joined = m("d").insert_entry("w", "2").unwrap();
    let second = m("d").insert_entry("v", "3").unwrap();
    joined[0].replacement.push_str(&second[0].replacement);
    check(
        t,
        &joined,
        &t.replace("{x: 1,}", "{x: 1, w: 2, v: 3,}"),
        &[(0, &["d", "w"]), (0, &["d", "v"])],
    );
    check(
        t,
        &m("e").insert_entry("w", "2").unwrap(),
        &t.replace("  x: 1\n}", "  x: 1,\n  w: 2\n}"),
        &[(0, &["e", "w"])],
    );
    // A block fragment becomes flow; a value flow cannot hold plain is quoted.
    check(
        t,
        &m("a").insert_entry("z", "- p,q\n- r").unwrap(),
        &t.replace("{x: 1}\n", "{x: 1, z: [\"p,q\", r]}\n"),
        &[(0, &["a", "z"])],
    );
}

#[test]
fn insert_entry_crlf_bom_and_no_final_newline() {
    let t = "\u{feff}a: 1\r\nb:\r\n  c: 2\r\n";
    let r = root(t);
    let m = r.as_mapping().unwrap();
    assert_eq!(m.indent(), 0);
    check(
        t,
        &m.insert_entry("d", "- x").unwrap(),
        "\u{feff}a: 1\r\nb:\r\n  c: 2\r\nd:\r\n  - x\r\n",
        &[(0, &["d"])],
    );
    let b = map_at(t, &["b"]);
    check(
        t,
        &b.insert_entry("e", "3").unwrap(),
        "\u{feff}a: 1\r\nb:\r\n  c: 2\r\n  e: 3\r\n",
        &[(0, &["b", "e"])],
    );
    let t = "a: 1\nb:\n  c: 2";
    let b = map_at(t, &["b"]);
    check(
        t,
        &b.insert_entry("d", "3").unwrap(),
        "a: 1\nb:\n  c: 2\n  d: 3",
        &[(0, &["b", "d"])],
    );
    let r = root(t);
    check(
        t,
        &r.as_mapping().unwrap().insert_entry("e", "k: v").unwrap(),
        "a: 1\nb:\n  c: 2\ne:\n  k: v",
        &[(0, &["e"])],
    );
    // A BOM stays when the first entry goes.
    let t = "\u{feff}a: 1\nb: 2\n";
    check(
        t,
        &entry_at(t, &[], "a").remove().unwrap(),
        "\u{feff}b: 2\n",
        &[(0, &["a"])],
    );
    let t = "\u{feff}- a\n";
    let s = root(t);
    check(
        t,
        &s.as_sequence().unwrap().get(0).unwrap().remove().unwrap(),
        "\u{feff}[]\n",
        &[(0, &[])],
    );
    let t = "a: 1 # c";
    check(
        t,
        &root(t)
            .as_mapping()
            .unwrap()
            .insert_entry("b", "2")
            .unwrap(),
        "a: 1 # c\nb: 2",
        &[(0, &["b"])],
    );
}

#[test]
fn insert_entry_after_block_scalars() {
    let t = "svc:\n  cmd: |\n    echo hi\n    # not a comment\n\n  other: 1\n";
    let svc = map_at(t, &["svc"]);
    let _ = svc;
    let cmd_map = "svc:\n  cmd: |\n    echo hi\n    # not a comment\n\nnext: 1\n";
    let m = map_at(cmd_map, &["svc"]);
    check(
        cmd_map,
        &m.insert_entry("user", "nobody").unwrap(),
        "svc:\n  cmd: |\n    echo hi\n    # not a comment\n  user: nobody\n\nnext: 1\n",
        &[(0, &["svc", "user"])],
    );
    let t = "svc:\n  cmd: >-\n    folded\n    text\n";
    check(
        t,
        &map_at(t, &["svc"]).insert_entry("user", "nobody").unwrap(),
        "svc:\n  cmd: >-\n    folded\n    text\n  user: nobody\n",
        &[(0, &["svc", "user"])],
    );
    // Keep chomping: the trailing blank lines are part of the value, the entry goes after them.
    let t = "svc:\n  cmd: |+\n    x\n\n\nnext: 1\n";
    check(
        t,
        &map_at(t, &["svc"]).insert_entry("user", "nobody").unwrap(),
        "svc:\n  cmd: |+\n    x\n\n\n  user: nobody\nnext: 1\n",
        &[(0, &["svc", "user"])],
    );
    // A block scalar value in the fragment.
    let t = "svc:\n  a: 1\n";
    check(
        t,
        &map_at(t, &["svc"])
            .insert_entry("script", "|\n  line 1\n    line 2\n")
            .unwrap(),
        "svc:\n  a: 1\n  script: |\n    line 1\n      line 2\n",
        &[(0, &["svc", "script"])],
    );
}

#[test]
fn insert_entry_with_anchors_merges_and_documents() {
    let t = "x-d: &d\n  restart: always\nservices:\n  web:\n    <<: *d\n    image: x\n---\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: b\n";
    let web = map_at(t, &["services", "web"]);
    check(
        t,
        &web.insert_entry("read_only", "true").unwrap(),
        &t.replace("    image: x\n", "    image: x\n    read_only: true\n"),
        &[(0, &["services", "web", "read_only"])],
    );
    // The anchored mapping itself (shared by *d users: both change).
    let d = map_at(t, &["x-d"]);
    check(
        t,
        &d.insert_entry("user", "app").unwrap(),
        &t.replace("  restart: always\n", "  restart: always\n  user: app\n"),
        &[(0, &["x-d", "user"]), (0, &["services", "web", "user"])],
    );
    // Second document; a mapping inside a compact sequence item.
    let f = parse(t).unwrap();
    let doc1 = f.documents()[1].root();
    let c = doc1.path(&["spec", "containers", "0"]).unwrap();
    let c = c.as_mapping().unwrap();
    assert_eq!(c.indent(), 4);
    check(
        t,
        &c.insert_entry("securityContext", "runAsNonRoot: true")
            .unwrap(),
        &format!("{t}    securityContext:\n      runAsNonRoot: true\n"),
        &[(1, &["spec", "containers", "0", "securityContext"])],
    );
    // Existing keys are refused; merged-only keys can be overridden.
    assert!(web.insert_entry("image", "y").is_err());
    check(
        t,
        &web.insert_entry("restart", "\"no\"").unwrap(),
        &t.replace("    image: x\n", "    image: x\n    restart: \"no\"\n"),
        &[(0, &["services", "web", "restart"])],
    );
}

#[test]
fn insert_entry_quotes_keys_that_need_it() {
    let t = "labels:\n  a: '1'\n";
    let m = map_at(t, &["labels"]);
    check(
        t,
        &m.insert_entry("com.example: x", "'y'").unwrap(),
        "labels:\n  a: '1'\n  'com.example: x': 'y'\n",
        &[(0, &["labels", "com.example: x"])],
    );
    check(
        t,
        &m.insert_entry("true", "1").unwrap(),
        "labels:\n  a: '1'\n  'true': 1\n",
        &[(0, &["labels", "true"])],
    );
    assert!(m.insert_entry("x", "a: [").is_err());
    assert!(m.insert_entry("x", "a # comment").is_err());
}

// ---------------------------------------------------------------------------------------------
// remove

#[test]
fn remove_entry_block() {
    let t = COMPOSE;
    // Comment line above `ports` stays.
    check(
        t,
        &entry_at(t, &["services", "web"], "ports").remove().unwrap(),
        &t.replace("    ports:\n      - \"80:80\"\n      - \"443:443\"\n", ""),
        &[(0, &["services", "web", "ports"])],
    );
    // Last entry with a deeper comment: removed together; the less-indented comment stays.
    check(
        t,
        &entry_at(t, &["services", "web"], "environment")
            .remove()
            .unwrap(),
        &t.replace("    environment:\n      A: 1\n      # end of env\n", ""),
        &[(0, &["services", "web", "environment"])],
    );
    check(
        t,
        &entry_at(t, &["services", "web"], "image").remove().unwrap(),
        &t.replace("    image: nginx:1.25   # pinned\n", ""),
        &[(0, &["services", "web", "image"])],
    );
    // The only entry: the mapping becomes `{}`.
    check(
        t,
        &entry_at(t, &["services", "db"], "image").remove().unwrap(),
        &t.replace("  db:\n    image: postgres\n", "  db: {}\n"),
        &[(0, &["services", "db", "image"])],
    );
    // Root entry with a nested block.
    let t2 = "a: 1\nb:\n  c: 2\nd: 3\n";
    check(
        t2,
        &entry_at(t2, &[], "b").remove().unwrap(),
        "a: 1\nd: 3\n",
        &[(0, &["b"])],
    );
    let t3 = "a: 1\n";
    check(
        t3,
        &entry_at(t3, &[], "a").remove().unwrap(),
        "{}\n",
        &[(0, &["a"])],
    );
}

#[test]
fn remove_entry_compact_crlf_and_no_final_newline() {
    let t = "- name: a\n  image: b\n- name: c\n";
    let item0 = root(t).path(&["0"]).unwrap();
    let m = item0.as_mapping().unwrap();
    check(
        t,
        &m.get("name").unwrap().remove().unwrap(),
        "- image: b\n- name: c\n",
        &[(0, &["0", "name"])],
    );
    check(
        t,
        &m.get("image").unwrap().remove().unwrap(),
        "- name: a\n- name: c\n",
        &[(0, &["0", "image"])],
    );
    let item1 = root(t).path(&["1"]).unwrap();
    check(
        t,
        &item1
            .as_mapping()
            .unwrap()
            .get("name")
            .unwrap()
            .remove()
            .unwrap(),
        "- name: a\n  image: b\n- {}\n",
        &[(0, &["1", "name"])],
    );
    // A comment between the compact first entry and the next one survives.
    let t = "- name: a\n  # about image\n  image: b\n";
    let item0 = root(t).path(&["0"]).unwrap();
    check(
        t,
        &item0
            .as_mapping()
            .unwrap()
            .get("name")
            .unwrap()
            .remove()
            .unwrap(),
        "-\n  # about image\n  image: b\n",
        &[(0, &["0", "name"])],
    );
    let t = "a: 1\r\nb: 2\r\nc: 3\r\n";
    check(
        t,
        &entry_at(t, &[], "b").remove().unwrap(),
        "a: 1\r\nc: 3\r\n",
        &[(0, &["b"])],
    );
    let t = "a: 1\nb: 2";
    check(
        t,
        &entry_at(t, &[], "b").remove().unwrap(),
        "a: 1",
        &[(0, &["b"])],
    );
    let t = "a: 1\r\nb:\r\n  c: 2";
    check(
        t,
        &entry_at(t, &["b"], "c").remove().unwrap(),
        "a: 1\r\nb: {}",
        &[(0, &["b", "c"])],
    );
}

#[test]
fn remove_entry_flow() {
    let t = "a: {x: 1, y: 2, z: 3}\nb: {x: 1}\nc: {\n  x: 1,\n  y: 2\n}\n";
    check(
        t,
        &entry_at(t, &["a"], "x").remove().unwrap(),
        &t.replace("{x: 1, y: 2, z: 3}", "{y: 2, z: 3}"),
        &[(0, &["a", "x"])],
    );
    check(
        t,
        &entry_at(t, &["a"], "y").remove().unwrap(),
        &t.replace("{x: 1, y: 2, z: 3}", "{x: 1, z: 3}"),
        &[(0, &["a", "y"])],
    );
    check(
        t,
        &entry_at(t, &["a"], "z").remove().unwrap(),
        &t.replace("{x: 1, y: 2, z: 3}", "{x: 1, y: 2}"),
        &[(0, &["a", "z"])],
    );
    check(
        t,
        &entry_at(t, &["b"], "x").remove().unwrap(),
        &t.replace("{x: 1}", "{}"),
        &[(0, &["b", "x"])],
    );
    check(
        t,
        &entry_at(t, &["c"], "y").remove().unwrap(),
        &t.replace("  x: 1,\n  y: 2\n}", "  x: 1\n}"),
        &[(0, &["c", "y"])],
    );
    check(
        t,
        &entry_at(t, &["c"], "x").remove().unwrap(),
        &t.replace("  x: 1,\n  y: 2\n}", "  y: 2\n}"),
        &[(0, &["c", "x"])],
    );
}

#[test]
fn remove_items() {
    let t = COMPOSE;
    let ports = seq_at(t, &["services", "web", "ports"]);
    check(
        t,
        &ports.get(0).unwrap().remove().unwrap(),
        &t.replace("      - \"80:80\"\n", ""),
        &[(0, &["services", "web", "ports"])],
    );
    check(
        t,
        &ports.get(1).unwrap().remove().unwrap(),
        &t.replace("      - \"443:443\"\n", ""),
        &[(0, &["services", "web", "ports"])],
    );
    // Zero-indented, the only item: `key: []`, or the key goes.
    let t = "a:\n- x\nb: 1\n";
    let s = seq_at(t, &["a"]);
    check(
        t,
        &s.get(0).unwrap().remove().unwrap(),
        "a: []\nb: 1\n",
        &[(0, &["a"])],
    );
    check(
        t,
        &s.get(0).unwrap().remove_or_parent_entry().unwrap(),
        "b: 1\n",
        &[(0, &["a"])],
    );
    // remove_or_parent_entry on a longer sequence removes just the item.
    let t = "a:\n  - x\n  - y\n";
    check(
        t,
        &seq_at(t, &["a"])
            .get(1)
            .unwrap()
            .remove_or_parent_entry()
            .unwrap(),
        "a:\n  - x\n",
        &[(0, &["a"])],
    );
    // Mapping items over several lines, with a comment after.
    let t = "c:\n  - name: a\n    image: b\n  # note\n  - name: c\n";
    check(
        t,
        &seq_at(t, &["c"]).get(0).unwrap().remove().unwrap(),
        "c:\n  # note\n  - name: c\n",
        &[(0, &["c"])],
    );
    // Compact nested sequences.
    let t = "- - a\n  - b\n- c\n";
    let inner = seq_at(t, &["0"]);
    check(
        t,
        &inner.get(0).unwrap().remove().unwrap(),
        "- - b\n- c\n",
        &[(0, &["0"])],
    );
    // Root sequence, last line without line break.
    let t = "- a\n- b";
    let s = root(t);
    let s = s.as_sequence().unwrap();
    check(t, &s.get(1).unwrap().remove().unwrap(), "- a", &[(0, &[])]);
    let t = "- a\n";
    let s = root(t);
    check(
        t,
        &s.as_sequence().unwrap().get(0).unwrap().remove().unwrap(),
        "[]\n",
        &[(0, &[])],
    );
}

#[test]
fn remove_items_flow() {
    let t = "a: [x, y, z]\nb: [x]\nc: [x, y,]\n";
    let a = seq_at(t, &["a"]);
    check(
        t,
        &a.get(0).unwrap().remove().unwrap(),
        &t.replace("[x, y, z]", "[y, z]"),
        &[(0, &["a"])],
    );
    check(
        t,
        &a.get(1).unwrap().remove().unwrap(),
        &t.replace("[x, y, z]", "[x, z]"),
        &[(0, &["a"])],
    );
    check(
        t,
        &a.get(2).unwrap().remove().unwrap(),
        &t.replace("[x, y, z]", "[x, y]"),
        &[(0, &["a"])],
    );
    check(
        t,
        &seq_at(t, &["b"]).get(0).unwrap().remove().unwrap(),
        &t.replace("[x]", "[]"),
        &[(0, &["b"])],
    );
    check(
        t,
        &seq_at(t, &["c"]).get(1).unwrap().remove().unwrap(),
        &t.replace("[x, y,]", "[x,]"),
        &[(0, &["c"])],
    );
    check(
        t,
        &seq_at(t, &["b"])
            .get(0)
            .unwrap()
            .remove_or_parent_entry()
            .unwrap(),
        "a: [x, y, z]\nc: [x, y,]\n",
        &[(0, &["b"])],
    );
}

// ---------------------------------------------------------------------------------------------
// append_item

#[test]
fn append_item_block() {
    let t = COMPOSE;
    let ports = seq_at(t, &["services", "web", "ports"]);
    check(
        t,
        &ports.append_item("\"8080:8080\"").unwrap(),
        &t.replace(
            "      - \"443:443\"\n",
            "      - \"443:443\"\n      - \"8080:8080\"\n",
        ),
        &[(0, &["services", "web", "ports"])],
    );
    // Zero-indented, CRLF, no final newline.
    let t = "cap_add:\r\n- NET_ADMIN\r\nx: 1";
    check(
        t,
        &seq_at(t, &["cap_add"]).append_item("SYS_TIME").unwrap(),
        "cap_add:\r\n- NET_ADMIN\r\n- SYS_TIME\r\nx: 1",
        &[(0, &["cap_add"])],
    );
    let t = "a:\n  - 1";
    check(
        t,
        &seq_at(t, &["a"]).append_item("2").unwrap(),
        "a:\n  - 1\n  - 2",
        &[(0, &["a"])],
    );
    // A mapping item in a 4-space file with `-   key` items.
    let t = "containers:\n    -   name: a\n        image: b\n";
    check(
        t,
        &seq_at(t, &["containers"]).append_item("name: c\nimage: d\nports:\n  - 80").unwrap(),
        "containers:\n    -   name: a\n        image: b\n    -   name: c\n        image: d\n        ports:\n            - 80\n",
        &[(0, &["containers"])],
    );
    // A mapping item with the usual `- key` layout, after a block scalar.
    let t = "c:\n- name: a\n  cmd: |\n    x\n";
    check(
        t,
        &seq_at(t, &["c"]).append_item("name: b").unwrap(),
        "c:\n- name: a\n  cmd: |\n    x\n- name: b\n",
        &[(0, &["c"])],
    );
}

#[test]
fn append_item_flow() {
    let t = "a: [x, y]\nb: []\nc: [\n  x,\n  y\n]\nd: [x, y,]\n";
    check(
        t,
        &seq_at(t, &["a"]).append_item("z").unwrap(),
        &t.replace("[x, y]\n", "[x, y, z]\n"),
        &[(0, &["a"])],
    );
    check(
        t,
        &seq_at(t, &["b"]).append_item("z").unwrap(),
        &t.replace("[]", "[z]"),
        &[(0, &["b"])],
    );
    check(
        t,
        &seq_at(t, &["c"]).append_item("z").unwrap(),
        &t.replace("  y\n]", "  y,\n  z\n]"),
        &[(0, &["c"])],
    );
    check(
        t,
        &seq_at(t, &["d"]).append_item("z").unwrap(),
        &t.replace("[x, y,]", "[x, y, z,]"),
        &[(0, &["d"])],
    );
    check(
        t,
        &seq_at(t, &["a"]).append_item("k: v").unwrap(),
        &t.replace("[x, y]\n", "[x, y, {k: v}]\n"),
        &[(0, &["a"])],
    );
}

// ---------------------------------------------------------------------------------------------
// replace

#[test]
fn replace_scalars_keep_style() {
    let t = "a: nginx:1.25\nb: 'x'\nc: \"y\"\nd: [p, q]\ne: 'k'\nf: true\n";
    let r = root(t);
    let s = |k: &str| r.path(&[k]).unwrap().as_scalar().unwrap().clone();
    check(
        t,
        &[s("a").replace("nginx:1.26")],
        &t.replace("nginx:1.25", "nginx:1.26"),
        &[(0, &["a"])],
    );
    // Needs quotes: the file prefers single quotes (2 vs 1).
    check(
        t,
        &[s("a").replace("a: b")],
        &t.replace("nginx:1.25", "'a: b'"),
        &[(0, &["a"])],
    );
    check(
        t,
        &[s("b").replace("it's")],
        &t.replace("'x'", "'it''s'"),
        &[(0, &["b"])],
    );
    check(
        t,
        &[s("b").replace("l1\nl2")],
        &t.replace("'x'", "\"l1\\nl2\""),
        &[(0, &["b"])],
    );
    check(
        t,
        &[s("c").replace("say \"hi\"")],
        &t.replace("\"y\"", "\"say \\\"hi\\\"\""),
        &[(0, &["c"])],
    );
    check(
        t,
        &[s("f").replace("false")],
        &t.replace("f: true", "f: false"),
        &[(0, &["f"])],
    );
    // In flow context a comma needs quotes.
    let q = r.path(&["d", "1"]).unwrap().as_scalar().unwrap().clone();
    assert!(q.in_flow());
    check(
        t,
        &[q.replace("r,s")],
        &t.replace("[p, q]", "[p, 'r,s']"),
        &[(0, &["d", "1"])],
    );
}

#[test]
fn replace_block_scalars() {
    let t = "a: | # keep me\n  l1\n  l2\nb: 1\n";
    let s = root(t).path(&["a"]).unwrap().as_scalar().unwrap().clone();
    check(
        t,
        &[s.replace("n1\nn2\n")],
        "a: | # keep me\n  n1\n  n2\nb: 1\n",
        &[(0, &["a"])],
    );
    check(
        t,
        &[s.replace("n1")],
        "a: |- # keep me\n  n1\nb: 1\n",
        &[(0, &["a"])],
    );
    check(
        t,
        &[s.replace("n1\n\n")],
        "a: |+ # keep me\n  n1\n\nb: 1\n",
        &[(0, &["a"])],
    );
    check(
        t,
        &[s.replace(" lead")],
        "a: \" lead\"\nb: 1\n",
        &[(0, &["a"])],
    );
    let t = "a: >-\n    folded\n    text\nb: 1\n";
    let s = root(t).path(&["a"]).unwrap().as_scalar().unwrap().clone();
    check(
        t,
        &[s.replace("one line")],
        "a: >-\n    one line\nb: 1\n",
        &[(0, &["a"])],
    );
    check(
        t,
        &[s.replace("two\nlines")],
        "a: |-\n    two\n    lines\nb: 1\n",
        &[(0, &["a"])],
    );
    let t = "a: |+\n  x\n\n\nb: 1\n";
    let s = root(t).path(&["a"]).unwrap().as_scalar().unwrap().clone();
    check(t, &[s.replace("y\n")], "a: |\n  y\nb: 1\n", &[(0, &["a"])]);
}

#[test]
fn replace_values() {
    let t = "a:\nb: 1 # one\nc:\n  # note\n  x: 1\nd: [1]\ne: &an\n  - 1\nf: |\n  t\ng: 2";
    let e = |k: &str| entry_at(t, &[], k);
    check(
        t,
        &e("a").replace_value("5").unwrap(),
        &t.replacen("a:\n", "a: 5\n", 1),
        &[(0, &["a"])],
    );
    check(
        t,
        &e("a").replace_value("k: v").unwrap(),
        &t.replacen("a:\n", "a:\n  k: v\n", 1),
        &[(0, &["a"])],
    );
    check(
        t,
        &e("b").replace_value("- x").unwrap(),
        &t.replacen("b: 1 # one\n", "b: # one\n  - x\n", 1),
        &[(0, &["b"])],
    );
    // A block value replaced inline: the key line and the comment line before the value stay.
    check(
        t,
        &e("c").replace_value("{}").unwrap(),
        &t.replacen("c:\n  # note\n  x: 1\n", "c: {}\n  # note\n", 1),
        &[(0, &["c", "x"])],
    );
    check(
        t,
        &e("c").replace_value("y: 2").unwrap(),
        &t.replacen("  x: 1\n", "  y: 2\n", 1),
        &[(0, &["c", "x"]), (0, &["c", "y"])],
    );
    check(
        t,
        &e("d").replace_value("").unwrap(),
        &t.replacen("d: [1]", "d:", 1),
        &[(0, &["d"])],
    );
    // The anchor stays.
    check(
        t,
        &e("e").replace_value("[2]").unwrap(),
        &t.replacen("e: &an\n  - 1\n", "e: &an [2]\n", 1),
        &[(0, &["e", "0"])],
    );
    check(
        t,
        &e("f").replace_value("x").unwrap(),
        &t.replacen("f: |\n  t\n", "f: x\n", 1),
        &[(0, &["f"])],
    );
    // Last line without a line break.
    check(
        t,
        &e("g").replace_value("- 3").unwrap(),
        &t.replacen("g: 2", "g:\n  - 3", 1),
        &[(0, &["g"])],
    );
}

#[test]
fn style_detection() {
    let f = parse(COMPOSE).unwrap();
    assert_eq!(f.indent_unit(), 2);
    assert_eq!(f.sequence_indent(), 2);
    assert_eq!(f.preferred_quote(), QuoteStyle::Double);
    let f = parse("a:\n    b:\n    - 1\n    c: 'x'\n").unwrap();
    assert_eq!(f.indent_unit(), 4);
    assert_eq!(f.sequence_indent(), 0);
    assert_eq!(f.preferred_quote(), QuoteStyle::Single);
    assert_eq!(f.line_ending(), "\n");
    assert_eq!(parse("a: 1\r\n").unwrap().line_ending(), "\r\n");
    assert!(parse("\u{feff}a: 1\n").unwrap().has_bom());
}

#[test]
fn odd_constructs() {
    // Properties on a document root.
    let r = root("&r\na: 1\n");
    assert_eq!(r.anchor().as_deref(), Some("r"));
    let r = root("--- !!map\na: 1\n");
    assert_eq!(r.tag().as_deref(), Some("!!map"));
    assert_eq!(r.path(&["a"]).unwrap().as_str(), Some("1"));
    // Explicit and complex keys.
    let t = "? a\n? [b]\n: x\nc: 1\n";
    let m = root(t);
    let m = m.as_mapping().unwrap();
    assert_eq!(m.len(), 3);
    assert!(matches!(m.get("a").unwrap().value(), Node::Null(_)));
    let b = &m.entries()[1];
    assert_eq!(b.key(), "[b]");
    assert!(b.key_node().as_sequence().is_some());
    assert_eq!(b.value().as_str(), Some("x"));
    // A single-pair mapping in a flow sequence is flow, and cannot grow.
    let t = "a: [b: 1, c]\n";
    let pair = root(t).path(&["a", "0"]).unwrap();
    let pair = pair.as_mapping().unwrap();
    assert!(pair.is_flow() && pair.is_flow_pair());
    assert!(pair.insert_entry("x", "1").is_err());
    check(
        t,
        &pair.get("b").unwrap().remove().unwrap(),
        "a: [{}, c]\n",
        &[(0, &["a", "0", "b"])],
    );
    check(
        t,
        &pair.get("b").unwrap().replace_value("2").unwrap(),
        "a: [b: 2, c]\n",
        &[(0, &["a", "0", "b"])],
    );
    // Tags are reported, not applied: `!!binary` keeps its source text here.
    let b = root("a: !!binary aGVsbG8=\n").path(&["a"]).unwrap();
    assert_eq!(b.tag().as_deref(), Some("!!binary"));
    assert_eq!(b.as_str(), Some("aGVsbG8="));
}

#[test]
fn fragments_may_use_the_files_anchors() {
    let t = "x: &a [1]\nl:\n  - 1\n";
    check(
        t,
        &seq_at(t, &["l"]).append_item("*a").unwrap(),
        "x: &a [1]\nl:\n  - 1\n  - *a\n",
        &[(0, &["l"])],
    );
    let t = "x: &a {k: 1}\ny:\n  z: 1\n";
    check(
        t,
        &map_at(t, &["y"]).insert_entry("w", "*a").unwrap(),
        "x: &a {k: 1}\ny:\n  z: 1\n  w: *a\n",
        &[(0, &["y", "w"])],
    );
}

#[test]
fn edits_stay_inside_their_document() {
    let t = "a: 1\n---\nb: 2\n...\n---\n- x\n";
    let f = parse(t).unwrap();
    let d0 = f.documents()[0].root();
    check(
        t,
        &d0.as_mapping().unwrap().insert_entry("c", "3").unwrap(),
        "a: 1\nc: 3\n---\nb: 2\n...\n---\n- x\n",
        &[(0, &["c"])],
    );
    let d1 = f.documents()[1].root();
    check(
        t,
        &d1.as_mapping().unwrap().insert_entry("c", "3").unwrap(),
        "a: 1\n---\nb: 2\nc: 3\n...\n---\n- x\n",
        &[(1, &["c"])],
    );
    let d2 = f.documents()[2].root();
    check(
        t,
        &d2.as_sequence().unwrap().append_item("y").unwrap(),
        "a: 1\n---\nb: 2\n...\n---\n- x\n- y\n",
        &[(2, &[])],
    );
    check(
        t,
        &d0.as_mapping().unwrap().get("a").unwrap().remove().unwrap(),
        "{}\n---\nb: 2\n...\n---\n- x\n",
        &[(0, &["a"])],
    );
}

/// Checking skips the loader for a file proven to load (no tag, alias or merge key; each document
/// valid to the loader's event parser): its values are loaded on first use and are what loading
/// gives; a file the loader refuses is still refused by the parse, with the loader's error.
#[test]
fn the_load_is_deferred_only_when_proven() {
    let f = parse("a: 1\nb: [x, 'y']\n---\nc: null\n").unwrap();
    assert!(
        f.data.values.get().is_none(),
        "a plain file is not loaded to check it"
    );
    let v = f.values().unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(*v[0], serde_json::json!({"a": 1, "b": ["x", "y"]}));
    assert_eq!(*v[1], serde_json::json!({"c": null}));
    // Tags, merges of scalars and recursive aliases are refused by the loader alone.
    for bad in [
        "a: !!int x\n",
        "a: !!bool yes\n",
        "a:\n  <<: 3\n",
        "a: &x [*x]\n",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} parsed");
    }
    let tagged = parse("a: !!str 1\n").unwrap();
    assert!(
        tagged.data.values.get().is_some(),
        "a tagged file is loaded by the parse"
    );
    assert_eq!(*tagged.values().unwrap()[0], serde_json::json!({"a": "1"}));
}
