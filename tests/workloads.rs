//! Real-world workloads: compose services, Dockerfiles and Kubernetes pods as people write them, each
//! run through the whole pipeline (every rule, Unsafe fixes on) with expectations about what the fixed
//! output gives the image, and the upstream evidence that justifies them.
//!
//! A case is one file under `golden/workloads/<kind>/`: a compose file (`*.yaml` with `services:`), a
//! Dockerfile (`*.Dockerfile`) or a Kubernetes manifest (`*.yaml` with `apiVersion`/`kind`). Beside
//! it, optionally: `<case>.ctx/` (the `.env` and the `build:` contexts the lookup reads; for a
//! Dockerfile, its build context) and `<case>.toml` (the `[options]` table and `[[images]]` entries of
//! `.dockharden.toml`, as in the golden harness).
//!
//! The case starts with a header of comment lines:
//!
//! ```text
//! # workload: one line saying what this is
//! # expect: services.db.cap_add ⊇ [CHOWN, SETUID]; services.db.user absent
//! # expect (known-defect): services.db.security_opt ⊇ [no-new-privileges:true]
//! # known-defect: DC003 refuses no-new-privileges for an entrypoint that switches users with gosu
//! # evidence: docker-library/postgres 17/bookworm/docker-entrypoint.sh#L336-L339
//! # pending: k8s
//! ```
//!
//! `expect:` lines hold assertions (several per line, separated by `;`):
//!
//! - `PATH = VALUE`, `PATH != VALUE` (VALUE is JSON, else a plain string);
//! - `PATH ⊇ [a, b]` (a list holding all of them), `PATH ∌ [a, b]` (none of them), `PATH ⊆ [a, b]`
//!   (nothing else); on a mapping (`environment:`) the members are its keys and `KEY=value`;
//! - `PATH absent`, `PATH exists`, `PATH unchanged` (the same value as in the input);
//! - `PATH has TEXT`, `PATH has no TEXT` (some / no key or string below PATH contains TEXT);
//! - `fix of CODE [on PATH] is STATE`, STATE one of `applied` (the finding was there and is gone),
//!   `display-only` (the finding stays with a suggestion that is not applied), `no-fix` (the finding
//!   stays without any fix), `not-applied` (either of the two), `absent` (no such finding before or
//!   after);
//! - `file unchanged` (the output is byte-identical).
//!
//! PATH: compose and Kubernetes paths are keys of the YAML's meaning (`services.web.tmpfs`); a
//! Kubernetes path starts with `Kind/name` to pick the document, and `[key=value]` picks the item of a
//! list whose `key` is `value` (`Pod/vllm.spec.containers[name=vllm].securityContext`). Dockerfile
//! paths: `final.USER`, `final.FROM`, `final.RUN` (a list), `stages[build].USER`, `instructions` (every
//! logical line), with keywords as written upper-case; a single-valued keyword (`USER`, `FROM`,
//! `CMD`, `ENTRYPOINT`, `HEALTHCHECK`, `WORKDIR`) is its last value in the stage.
//!
//! `evidence:` lines (at least one) cite what justifies the expectations and are checked:
//! `OWNER/REPO FILE#Lx[-Ly]` must be an evidence item of the built-in knowledge base (what
//! `dockharden explain-image` prints); `build FILE#Lx[-Ly]` a file of the case's build context that has
//! those lines; `unknown IMAGE` an image the knowledge base does not know (the expectation is then
//! that nothing runtime-changing is applied); `config IMAGE` an `[[images]]` entry of the case's toml.
//!
//! `known-defect:` marks a real defect of the tool: the expectations tagged `expect (known-defect):`
//! are allowed to fail (they are listed), and must fail: one that passes means the defect is fixed
//! and the tag has to go. `pending: <reason>` (Kubernetes cases while the Kubernetes rules change)
//! reports failing expectations without failing. The invariants hold for every case: the fix loop
//! converges, the output parses, no applicable fix is left over, fixing again changes nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dockharden_transforms::engine::{Engine, FixOutcome, FixPolicy};
use dockharden_transforms::fix::Applicability;
use dockharden_transforms::knowledge::ImageName;
use dockharden_transforms::registry;
use dockharden_transforms::settings::{NoResolver, Settings};
use dockharden_transforms::source::{self, FileKind};
use dockharden_transforms::text::TextRange;
use dockharden_transforms::Finding;
use serde_json::Value;

use crate::golden::{case_files, golden_root, load_settings};

/// The least number of cases the suite must hold (issue 9, item 7).
const MIN_CASES: usize = 80;

pub fn workloads_root() -> PathBuf {
    golden_root().join("workloads")
}

/// Every case file, sorted.
fn case_paths() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(kinds) = std::fs::read_dir(workloads_root()) else {
        return out;
    };
    for kind in kinds.flatten() {
        if !kind.path().is_dir() {
            continue;
        }
        let Ok(files) = std::fs::read_dir(kind.path()) else {
            continue;
        };
        for f in files.flatten() {
            let p = f.path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_file() && !name.starts_with('.') && !name.ends_with(".toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn kind_of(path: &Path, text: &str) -> Result<FileKind, String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    if let Some(k) = source::kind_from_name(&name) {
        return Ok(k);
    }
    if source::is_yaml_name(&name) {
        return source::detect_yaml_kind(text)
            .ok_or_else(|| "neither a compose file nor a Kubernetes manifest".to_owned());
    }
    Err("not a case: name it `*.yaml` or `*.Dockerfile`".into())
}

// ---------------------------------------------------------------------------------------------
// The header.

#[derive(Debug, Default)]
struct Header {
    expects: Vec<Expect>,
    evidence: Vec<String>,
    known_defects: Vec<String>,
    pending: Option<String>,
}

#[derive(Debug, Clone)]
struct Expect {
    /// 1-based line of the header.
    line: usize,
    assertion: Assertion,
    source: String,
    defect: bool,
}

/// How many lines the header (the leading comment and blank lines) takes.
fn header_lines(text: &str) -> usize {
    text.lines()
        .take_while(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#')
        })
        .count()
}

fn parse_header(text: &str) -> Result<Header, String> {
    let mut h = Header::default();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        let Some(body) = line.strip_prefix('#') else {
            break;
        };
        let body = body.trim();
        let Some((key, rest)) = body.split_once(':') else {
            continue;
        };
        let key = key.trim();
        if !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-' || c == ' ' || c == '(' || c == ')')
        {
            continue;
        }
        let rest = rest.trim();
        match key {
            "expect" | "expect (known-defect)" => {
                for part in rest.split(';') {
                    let part = part.trim();
                    if part.is_empty() {
                        continue;
                    }
                    let assertion =
                        Assertion::parse(part).map_err(|e| format!("line {}: {e}", n + 1))?;
                    h.expects.push(Expect {
                        line: n + 1,
                        assertion,
                        source: part.to_owned(),
                        defect: key != "expect",
                    });
                }
            }
            "evidence" => h.evidence.push(rest.to_owned()),
            "known-defect" => h.known_defects.push(rest.to_owned()),
            "pending" => h.pending = Some(rest.to_owned()),
            "workload" => {}
            other if other.starts_with("expect") => {
                return Err(format!(
                "line {}: unknown header key `{other}` (use `expect:` or `expect (known-defect):`)",
                n + 1
            ))
            }
            _ => {}
        }
    }
    if h.expects.is_empty() {
        return Err("the header has no `# expect:` line".into());
    }
    if h.evidence.is_empty() {
        return Err("the header has no `# evidence:` line".into());
    }
    let tagged = h.expects.iter().any(|e| e.defect);
    if tagged && h.known_defects.is_empty() {
        return Err(
            "`expect (known-defect):` without a `# known-defect:` line saying what it is".into(),
        );
    }
    if !tagged && !h.known_defects.is_empty() {
        return Err(
            "`# known-defect:` without an `expect (known-defect):` line that shows it".into(),
        );
    }
    Ok(h)
}

// ---------------------------------------------------------------------------------------------
// Assertions.

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq(Value),
    Ne(Value),
    Superset(Vec<Value>),
    Disjoint(Vec<Value>),
    Subset(Vec<Value>),
    Absent,
    Exists,
    Unchanged,
    Has(String),
    HasNo(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FixState {
    Applied,
    DisplayOnly,
    NoFix,
    NotApplied,
    Absent,
}

#[derive(Debug, Clone, PartialEq)]
enum Assertion {
    Path {
        path: String,
        op: Op,
    },
    Fix {
        code: String,
        scope: Option<String>,
        state: FixState,
    },
    FileUnchanged,
}

fn parse_value(s: &str) -> Value {
    let s = s.trim();
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
}

/// `[a, b]` (JSON or bare words).
fn parse_list(s: &str) -> Result<Vec<Value>, String> {
    let s = s.trim();
    if let Ok(Value::Array(a)) = serde_json::from_str::<Value>(s) {
        return Ok(a);
    }
    let inner = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| format!("expected a list `[a, b]`, found `{s}`"))?;
    Ok(inner
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(parse_value)
        .collect())
}

impl Assertion {
    fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "file unchanged" {
            return Ok(Self::FileUnchanged);
        }
        if let Some(rest) = s.strip_prefix("fix of ") {
            let (left, state) = rest
                .rsplit_once(" is ")
                .ok_or_else(|| format!("`fix of CODE [on PATH] is STATE`: {s}"))?;
            let state = match state.trim() {
                "applied" => FixState::Applied,
                "display-only" => FixState::DisplayOnly,
                "no-fix" => FixState::NoFix,
                "not-applied" => FixState::NotApplied,
                "absent" => FixState::Absent,
                other => return Err(format!("unknown fix state `{other}`")),
            };
            let (code, scope) = match left.split_once(" on ") {
                Some((c, p)) => (c.trim(), Some(p.trim().to_owned())),
                None => (left.trim(), None),
            };
            if registry::find(code).is_none() {
                return Err(format!("no rule `{code}`"));
            }
            return Ok(Self::Fix {
                code: code.to_owned(),
                scope,
                state,
            });
        }
        let (path, rest) = s
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("`PATH OP [VALUE]`: {s}"))?;
        let rest = rest.trim();
        let word = |w: &str| rest == w || rest.starts_with(&format!("{w} "));
        let arg = |w: &str| rest[w.len()..].trim().to_owned();
        let op = if word("absent") {
            Op::Absent
        } else if word("exists") {
            Op::Exists
        } else if word("unchanged") {
            Op::Unchanged
        } else if word("has no") {
            Op::HasNo(arg("has no"))
        } else if word("has") {
            Op::Has(arg("has"))
        } else if word("!=") {
            Op::Ne(parse_value(&arg("!=")))
        } else if word("=") {
            Op::Eq(parse_value(&arg("=")))
        } else if word("⊇") {
            Op::Superset(parse_list(&arg("⊇"))?)
        } else if word("∌") {
            Op::Disjoint(parse_list(&arg("∌"))?)
        } else if word("⊆") {
            Op::Subset(parse_list(&arg("⊆"))?)
        } else {
            return Err(format!("unknown operator in `{s}`"));
        };
        if matches!(&op, Op::Has(t) | Op::HasNo(t) if t.is_empty()) {
            return Err(format!("`has` needs a text: {s}"));
        }
        Ok(Self::Path {
            path: path.to_owned(),
            op,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Paths over the meaning of the output.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
    Select(String, String),
    /// `Kind/name`: the Kubernetes document.
    Document(String, String),
}

fn parse_path(path: &str) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut quoted = false;
    for c in path.chars() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => {
                depth += 1;
                cur.push(c);
            }
            ']' if !quoted => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 && !quoted => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    for (n, part) in parts.iter().enumerate() {
        let (name, mut brackets) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part.as_str(), ""),
        };
        if n == 0 && name.contains('/') {
            let (k, m) = name.split_once('/').unwrap();
            segs.push(Seg::Document(k.to_owned(), m.to_owned()));
        } else if !name.is_empty() {
            segs.push(Seg::Key(name.to_owned()));
        }
        while let Some(r) = brackets.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| format!("unclosed `[` in `{path}`"))?;
            let inner = &r[..end];
            brackets = &r[end + 1..];
            if let Some((k, v)) = inner.split_once('=') {
                segs.push(Seg::Select(k.trim().to_owned(), v.trim().to_owned()));
            } else {
                match inner.trim().parse::<usize>() {
                    Ok(i) => segs.push(Seg::Index(i)),
                    // `stages[build]`: a Dockerfile stage by name.
                    Err(_) => segs.push(Seg::Select(inner.trim().to_owned(), String::new())),
                }
            }
        }
        if !brackets.is_empty() {
            return Err(format!("unexpected `{brackets}` in `{path}`"));
        }
    }
    if segs.is_empty() {
        return Err("empty path".into());
    }
    Ok(segs)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The meaning of a file: YAML documents as JSON; a Dockerfile as the model described above.
fn resolve<'v>(root: &'v Value, kind: FileKind, segs: &[Seg]) -> Option<&'v Value> {
    let mut cur = match (kind, segs.first()) {
        (FileKind::Kubernetes, Some(Seg::Document(k, name))) => {
            root.as_array()?.iter().find(|d| {
                d.get("kind").and_then(Value::as_str) == Some(k.as_str())
                    && d.pointer("/metadata/name").and_then(Value::as_str) == Some(name.as_str())
            })?
        }
        (FileKind::Compose, _) => root.as_array()?.first()?,
        _ => root,
    };
    for seg in segs {
        cur = match seg {
            Seg::Document(..) => continue,
            Seg::Key(k) => cur.as_object()?.get(k)?,
            Seg::Index(i) => cur.as_array()?.get(*i)?,
            Seg::Select(k, v) => cur
                .as_array()?
                .iter()
                .find(|item| item.get(k).and_then(scalar_text).is_some_and(|t| t == *v))?,
        };
    }
    Some(cur)
}

/// The model a Dockerfile's paths are read in.
fn dockerfile_model(text: &str) -> Result<Value, String> {
    use dockharden_transforms::dockerfile::syntax::{self, Args};
    let df = syntax::parse(text).map_err(|e| e.message)?;
    let single = [
        "FROM",
        "USER",
        "WORKDIR",
        "ENTRYPOINT",
        "CMD",
        "HEALTHCHECK",
        "SHELL",
        "STOPSIGNAL",
    ];
    let value_of = |i: &syntax::Instruction| -> Value {
        if i.keyword == "FROM" {
            if let Some(img) = i.from_image() {
                return Value::String(img.text);
            }
        }
        let mut v = match &i.args {
            Args::Json(j) => Value::Array(
                j.items
                    .iter()
                    .map(|a| Value::String(a.value.clone()))
                    .collect(),
            ),
            Args::Shell(s) => Value::String(s.text.trim().to_owned()),
        };
        if !i.heredocs.is_empty() {
            let bodies: String = i.heredocs.iter().map(|h| h.body.as_str()).collect();
            if let Value::String(s) = &mut v {
                s.push('\n');
                s.push_str(&bodies);
            }
        }
        v
    };
    let mut stages = Vec::new();
    for st in df.stages() {
        let mut m = serde_json::Map::new();
        if let Some(n) = &st.name {
            m.insert("name".into(), Value::String(n.clone()));
        }
        for i in &df.instructions[st.instructions.clone()] {
            let v = value_of(i);
            if single.contains(&i.keyword.as_str()) {
                m.insert(i.keyword.clone(), v);
            } else {
                m.entry(i.keyword.clone())
                    .or_insert_with(|| Value::Array(Vec::new()))
                    .as_array_mut()
                    .unwrap()
                    .push(v);
            }
        }
        stages.push(Value::Object(m));
    }
    let instructions: Vec<Value> = df
        .instructions
        .iter()
        .map(|i| {
            let mut s = i.logical.text.trim().to_owned();
            for h in &i.heredocs {
                s.push('\n');
                s.push_str(&h.body);
            }
            Value::String(s)
        })
        .collect();
    let mut root = serde_json::Map::new();
    root.insert(
        "final".into(),
        stages.last().cloned().unwrap_or(Value::Null),
    );
    root.insert("stages".into(), Value::Array(stages));
    root.insert("instructions".into(), Value::Array(instructions));
    Ok(Value::Object(root))
}

fn meaning(kind: FileKind, text: &str) -> Result<Value, String> {
    match kind {
        FileKind::Dockerfile => dockerfile_model(text),
        _ => dockharden_transforms::yaml::semantic(text)
            .map(Value::Array)
            .map_err(|e| e.message),
    }
}

/// `[stage]` selects a stage by name in Dockerfile paths (`stages[build]`).
fn dockerfile_segs(segs: Vec<Seg>) -> Vec<Seg> {
    segs.into_iter()
        .map(|s| match s {
            Seg::Select(k, v) if v.is_empty() => Seg::Select("name".into(), k),
            other => other,
        })
        .collect()
}

fn item_matches(item: &Value, want: &Value) -> bool {
    if item == want {
        return true;
    }
    match (scalar_text(item), scalar_text(want)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The members of a list (each item) or of a mapping (each entry, as its key or `key=value`), each
/// with the forms an expected item may match.
fn members(v: &Value) -> Option<Vec<Vec<Value>>> {
    match v {
        Value::Array(a) => Some(a.iter().map(|x| vec![x.clone()]).collect()),
        Value::Object(m) => Some(
            m.iter()
                .map(|(k, x)| {
                    let mut forms = vec![Value::String(k.clone())];
                    if let Some(t) = scalar_text(x) {
                        forms.push(Value::String(format!("{k}={t}")));
                    }
                    forms
                })
                .collect(),
        ),
        _ => None,
    }
}

fn contains_text(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Number(_) | Value::Bool(_) => scalar_text(v).is_some_and(|s| s.contains(needle)),
        Value::Array(a) => a.iter().any(|x| contains_text(x, needle)),
        Value::Object(m) => m
            .iter()
            .any(|(k, x)| k.contains(needle) || contains_text(x, needle)),
        Value::Null => false,
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "(absent)".into(), |v| v.to_string())
}

// ---------------------------------------------------------------------------------------------
// Finding scopes: a path in the text of a YAML file.

fn scope_range(text: &str, kind: FileKind, path: &str) -> Result<TextRange, String> {
    use dockharden_transforms::yaml::{self, Node};
    let segs = parse_path(path)?;
    let file = yaml::parse(text).map_err(|e| e.message)?;
    let docs = file.documents();
    let mut segs = segs.as_slice();
    let mut node: Node = match (kind, segs.first()) {
        (FileKind::Kubernetes, Some(Seg::Document(k, name))) => {
            segs = &segs[1..];
            docs.iter()
                .map(dockharden_transforms::yaml::Document::root)
                .find(|r| {
                    r.path(&["kind"])
                        .and_then(|n| n.as_str().map(str::to_owned))
                        .as_deref()
                        == Some(k.as_str())
                        && r.path(&["metadata", "name"])
                            .and_then(|n| n.as_str().map(str::to_owned))
                            .as_deref()
                            == Some(name.as_str())
                })
                .ok_or_else(|| format!("no document {k}/{name}"))?
        }
        _ => docs.first().ok_or("no document")?.root(),
    };
    let mut range = node.full_range();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                let m = node
                    .as_mapping()
                    .ok_or_else(|| format!("`{k}`: not a mapping"))?;
                let e = m.get(k).ok_or_else(|| format!("no key `{k}`"))?;
                range = e.range();
                node = e.value().resolve().unwrap_or_else(|| e.value());
            }
            Seg::Index(i) => {
                let s = node.as_sequence().ok_or("not a sequence")?;
                let it = s.get(*i).ok_or_else(|| format!("no item {i}"))?;
                range = it.range();
                node = it.value();
            }
            Seg::Select(k, v) => {
                let s = node.as_sequence().ok_or("not a sequence")?;
                let it = s
                    .items()
                    .into_iter()
                    .find(|it| {
                        it.value()
                            .path(&[k.as_str()])
                            .and_then(|n| n.as_str().map(str::to_owned))
                            .as_deref()
                            == Some(v.as_str())
                    })
                    .ok_or_else(|| format!("no item with {k}={v}"))?;
                range = it.range();
                node = it.value();
            }
            Seg::Document(..) => return Err("`Kind/name` only at the start".into()),
        }
    }
    Ok(range)
}

fn in_scope(f: &Finding, scope: Option<TextRange>) -> bool {
    scope.is_none_or(|r| f.range.start >= r.start && f.range.start <= r.end)
}

// ---------------------------------------------------------------------------------------------
// Running a case.

struct Run {
    kind: FileKind,
    input: String,
    outcome: FixOutcome,
    before: Vec<Finding>,
    input_meaning: Value,
    output_meaning: Value,
}

fn run(path: &Path, text: &str, kind: FileKind) -> Result<Run, String> {
    let settings: Settings = load_settings(path);
    let files = case_files(path);
    let path_str = path.to_string_lossy().into_owned();
    let engine = Engine {
        transforms: registry::all(),
        settings: &settings,
        resolver: &NoResolver,
        workspace: &files,
        path: Some(&path_str),
        base_services: None,
    };
    let policy = FixPolicy {
        min_applicability: Applicability::Unsafe,
    };
    let before = engine
        .check(kind, text)
        .map_err(|e| format!("does not parse: {}", e.message))?;
    let outcome = engine
        .fix(kind, text, policy)
        .map_err(|e| format!("the fix failed: {e}"))?;
    if outcome.rounds > dockharden_transforms::engine::MAX_ROUNDS {
        return Err(format!("did not converge ({} rounds)", outcome.rounds));
    }
    source::parse(kind, &outcome.text)
        .map_err(|e| format!("the output does not parse: {}", e.message))?;
    let again = engine
        .fix(kind, &outcome.text, policy)
        .map_err(|e| format!("fixing the output failed: {e}"))?;
    if again.text != outcome.text {
        return Err(format!(
            "not idempotent: fixing the output changes it again ({:?})",
            again.applied.iter().map(|a| a.code).collect::<Vec<_>>()
        ));
    }
    let leftover: Vec<String> = outcome
        .remaining
        .iter()
        .filter(|f| {
            f.fix
                .as_ref()
                .is_some_and(|x| x.applicability > Applicability::DisplayOnly)
        })
        .map(|f| format!("{}: {}", f.code, f.message))
        .collect();
    if !leftover.is_empty() {
        return Err(format!(
            "applicable fixes left after the fix loop: {}",
            leftover.join(" | ")
        ));
    }
    let input_meaning = meaning(kind, text)?;
    let output_meaning = meaning(kind, &outcome.text)?;
    Ok(Run {
        kind,
        input: text.to_owned(),
        outcome,
        before,
        input_meaning,
        output_meaning,
    })
}

/// Check one assertion; Err says what was found instead.
fn check(run: &Run, a: &Assertion) -> Result<(), String> {
    match a {
        Assertion::FileUnchanged => {
            if run.outcome.text == run.input {
                Ok(())
            } else {
                Err(format!(
                    "the file changed (fixes applied: {:?})",
                    run.outcome
                        .applied
                        .iter()
                        .map(|f| f.code)
                        .collect::<Vec<_>>()
                ))
            }
        }
        Assertion::Path { path, op } => {
            let mut segs = parse_path(path)?;
            if run.kind == FileKind::Dockerfile {
                segs = dockerfile_segs(segs);
            }
            let got = resolve(&run.output_meaning, run.kind, &segs);
            let ok = match op {
                Op::Absent => got.is_none(),
                Op::Exists => got.is_some(),
                Op::Unchanged => got == resolve(&run.input_meaning, run.kind, &segs),
                Op::Eq(v) => got.is_some_and(|g| item_matches(g, v)),
                Op::Ne(v) => !got.is_some_and(|g| item_matches(g, v)),
                Op::Superset(want) => got.and_then(members).is_some_and(|items| {
                    want.iter()
                        .all(|w| items.iter().any(|i| i.iter().any(|x| item_matches(x, w))))
                }),
                Op::Disjoint(want) => got.and_then(members).is_none_or(|items| {
                    !want
                        .iter()
                        .any(|w| items.iter().any(|i| i.iter().any(|x| item_matches(x, w))))
                }),
                Op::Subset(want) => got.and_then(members).is_none_or(|items| {
                    items
                        .iter()
                        .all(|i| want.iter().any(|w| i.iter().any(|x| item_matches(x, w))))
                }),
                Op::Has(t) => got.is_some_and(|g| contains_text(g, t)),
                Op::HasNo(t) => !got.is_some_and(|g| contains_text(g, t)),
            };
            if ok {
                Ok(())
            } else if matches!(op, Op::Unchanged) {
                Err(format!(
                    "was {}, now {}",
                    show(resolve(&run.input_meaning, run.kind, &segs)),
                    show(got)
                ))
            } else {
                Err(format!("found {}", show(got)))
            }
        }
        Assertion::Fix { code, scope, state } => {
            let (scope_in, scope_out) = match scope {
                Some(p) if run.kind != FileKind::Dockerfile => (
                    Some(scope_range(&run.input, run.kind, p)?),
                    Some(scope_range(&run.outcome.text, run.kind, p)?),
                ),
                Some(_) => return Err("`on PATH` is for YAML files".into()),
                None => (None, None),
            };
            let before: Vec<&Finding> = run
                .before
                .iter()
                .filter(|f| f.code == code && in_scope(f, scope_in))
                .collect();
            let after: Vec<&Finding> = run
                .outcome
                .remaining
                .iter()
                .filter(|f| f.code == code && in_scope(f, scope_out))
                .collect();
            let describe = |fs: &[&Finding]| -> String {
                if fs.is_empty() {
                    return "none".into();
                }
                fs.iter()
                    .map(|f| {
                        let fix = f
                            .fix
                            .as_ref()
                            .map_or("no fix", |x| x.applicability.as_str());
                        format!("[{fix}] {}", f.message)
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            let display_only = |f: &&Finding| {
                f.fix
                    .as_ref()
                    .is_some_and(|x| x.applicability == Applicability::DisplayOnly)
            };
            let ok = match state {
                FixState::Applied => !before.is_empty() && after.is_empty(),
                FixState::DisplayOnly => !after.is_empty() && after.iter().all(display_only),
                FixState::NoFix => !after.is_empty() && after.iter().all(|f| f.fix.is_none()),
                FixState::NotApplied => !after.is_empty(),
                FixState::Absent => before.is_empty() && after.is_empty(),
            };
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "{code} before the fix: {}; after: {}",
                    describe(&before),
                    describe(&after)
                ))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evidence.

fn normalize_lines(l: &str) -> String {
    l.replace('L', "")
}

fn check_evidence(case: &Path, settings: &Settings, ev: &str) -> Result<(), String> {
    let ev = ev.trim();
    let (head, rest) = ev.split_once(char::is_whitespace).ok_or_else(|| {
        format!(
            "evidence `{ev}`: `REPO FILE#Lx`, `build FILE#Lx`, `unknown IMAGE` or `config IMAGE`"
        )
    })?;
    let rest = rest.trim();
    match head {
        "unknown" => {
            let image = ImageName::parse(rest);
            match dockharden_transforms::images::lookup(&[], &image) {
                None => Ok(()),
                Some(k) => Err(format!(
                    "evidence `{ev}`: the knowledge base knows it (entry {})",
                    k.label()
                )),
            }
        }
        "config" => {
            let short = ImageName::parse(rest).short();
            if settings.images.iter().any(|e| e.names.contains(&short)) {
                Ok(())
            } else {
                Err(format!(
                    "evidence `{ev}`: the case's toml has no `[[images]]` entry for `{short}`"
                ))
            }
        }
        "build" => {
            let (file, lines) = rest
                .split_once("#L")
                .ok_or_else(|| format!("evidence `{ev}`: `build FILE#Lx[-Ly]`"))?;
            let lines = normalize_lines(lines);
            let last: usize = lines
                .rsplit('-')
                .next()
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| format!("evidence `{ev}`: bad line numbers"))?;
            let stem = case.file_stem().unwrap().to_string_lossy().into_owned();
            let ctx = case.with_file_name(format!("{stem}.ctx"));
            let p = if file == "." || file == case.file_name().unwrap().to_string_lossy() {
                case.to_path_buf()
            } else {
                ctx.join(file)
            };
            let text = std::fs::read_to_string(&p)
                .map_err(|e| format!("evidence `{ev}`: {}: {e}", p.display()))?;
            if text.lines().count() < last {
                return Err(format!("evidence `{ev}`: {} has fewer lines", p.display()));
            }
            let first: usize = lines
                .split('-')
                .next()
                .and_then(|x| x.parse().ok())
                .unwrap_or(0);
            if p == case && first <= header_lines(&text) {
                return Err(format!(
                    "evidence `{ev}`: the cited lines are the case's own header"
                ));
            }
            Ok(())
        }
        repo if repo.contains('/') => {
            let (file, lines) = rest
                .split_once("#L")
                .ok_or_else(|| format!("evidence `{ev}`: `OWNER/REPO FILE#Lx[-Ly]`"))?;
            let lines = normalize_lines(lines);
            let all = dockharden_transforms::images::built_in();
            let found = all.iter().any(|e| {
                e.evidence
                    .iter()
                    .chain(e.variants.iter().flat_map(|v| v.evidence.iter()))
                    .any(|x| {
                        x.repo.eq_ignore_ascii_case(repo) && x.file == file && x.lines == lines
                    })
            });
            if found {
                Ok(())
            } else {
                Err(format!(
                    "evidence `{ev}` is not an evidence item of the knowledge base (see `dockharden explain-image`)"
                ))
            }
        }
        _ => Err(format!("evidence `{ev}`: unknown form")),
    }
}

// ---------------------------------------------------------------------------------------------
// The suite.

#[derive(Default)]
struct Report {
    failures: Vec<String>,
    defects: Vec<String>,
    pending: Vec<String>,
    lines: Vec<String>,
}

fn case_name(path: &Path) -> String {
    path.strip_prefix(workloads_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn run_case(path: &Path, report: &mut Report) {
    let name = case_name(path);
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.failures.push(format!("{name}: {e}"));
            return;
        }
    };
    let header = match parse_header(&text) {
        Ok(h) => h,
        Err(e) => {
            report.failures.push(format!("{name}: {e}"));
            return;
        }
    };
    let kind = match kind_of(path, &text) {
        Ok(k) => k,
        Err(e) => {
            report.failures.push(format!("{name}: {e}"));
            return;
        }
    };
    let settings = load_settings(path);
    for ev in &header.evidence {
        if let Err(e) = check_evidence(path, &settings, ev) {
            report.failures.push(format!("{name}: {e}"));
        }
    }
    let run = match run(path, &text, kind) {
        Ok(r) => r,
        Err(e) => {
            report.failures.push(format!("{name}: {e}"));
            return;
        }
    };
    if std::env::var_os("WORKLOADS_SHOW").is_some() {
        let mut s = format!("===== {name}: fixed output\n{}", run.outcome.text);
        for f in &run.outcome.remaining {
            let fix = f
                .fix
                .as_ref()
                .map_or("no fix", |x| x.applicability.as_str());
            let _ = writeln!(s, "  remaining {} [{fix}]: {}", f.code, f.message);
        }
        println!("{s}");
    }
    let mut failed = Vec::new();
    let mut defect_failed = 0;
    let mut defect_passed = Vec::new();
    for e in &header.expects {
        match check(&run, &e.assertion) {
            Ok(()) if e.defect => defect_passed.push(e),
            Ok(()) => {}
            Err(why) => {
                let msg = format!("line {}: `{}`: {why}", e.line, e.source);
                if e.defect {
                    defect_failed += 1;
                    report
                        .lines
                        .push(format!("{name}: known defect shown: {msg}"));
                } else {
                    failed.push(msg);
                }
            }
        }
    }
    for e in defect_passed {
        failed.push(format!(
            "line {}: `{}` is tagged known-defect but holds now: the defect is fixed, untag it (and drop the `# known-defect:` line)",
            e.line, e.source
        ));
    }
    if defect_failed > 0 {
        for d in &header.known_defects {
            report.defects.push(format!("{name}: {d}"));
        }
    }
    if failed.is_empty() {
        report.lines.push(format!("{name}: ok"));
        return;
    }
    if let Some(why) = &header.pending {
        report
            .pending
            .push(format!("{name} (pending: {why}): {}", failed.join("; ")));
        return;
    }
    report.failures.push(format!(
        "{name}:\n    {}\n  --- fixed output ---\n{}",
        failed.join("\n    "),
        run.outcome.text
    ));
}

#[test]
fn workloads() {
    let filter = std::env::var("WORKLOADS_FILTER").ok();
    let paths = case_paths();
    assert!(
        filter.is_some() || paths.len() >= MIN_CASES,
        "golden/workloads holds {} cases; at least {MIN_CASES} are required",
        paths.len()
    );
    let mut report = Report::default();
    for p in &paths {
        if filter.as_deref().is_some_and(|f| !case_name(p).contains(f)) {
            continue;
        }
        run_case(p, &mut report);
    }
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for p in &paths {
        let kind = p
            .parent()
            .and_then(|d| d.file_name())
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        *counts.entry(kind).or_default() += 1;
    }
    println!("workloads: {} cases {counts:?}", paths.len());
    for l in &report.lines {
        println!("  {l}");
    }
    if !report.defects.is_empty() {
        println!("known defects ({}):", report.defects.len());
        for d in &report.defects {
            println!("  {d}");
        }
    }
    if !report.pending.is_empty() {
        println!("pending ({}):", report.pending.len());
        for d in &report.pending {
            println!("  {d}");
        }
    }
    assert!(
        report.failures.is_empty(),
        "{} workload case(s) failed:\n\n{}",
        report.failures.len(),
        report.failures.join("\n\n")
    );
}

/// The assertion language itself: a wrong expectation must fail, a right one pass.
#[test]
fn workloads_assertions_are_checked() {
    let text = "services:\n  db:\n    image: postgres:16\n    volumes:\n      - pg:/var/lib/postgresql/data\nvolumes:\n  pg:\n";
    let path = workloads_root().join("compose").join("(self-test).yaml");
    let r = run(&path, text, FileKind::Compose).expect("runs");
    let ok = |s: &str| check(&r, &Assertion::parse(s).unwrap());
    assert!(ok("services.db.cap_drop ⊇ [ALL]").is_ok());
    assert!(ok("services.db.cap_add ⊇ [CHOWN, SETUID]").is_ok());
    assert!(ok("services.db.cap_add ⊇ [SYS_ADMIN]").is_err());
    assert!(ok("services.db.cap_add ∌ [SYS_ADMIN]").is_ok());
    assert!(ok("services.db.cap_add ⊆ [CHOWN]").is_err());
    assert!(ok("services.db.user absent").is_ok());
    assert!(ok("services.db.user exists").is_err());
    assert!(ok("services.db.read_only = true").is_ok());
    assert!(ok("services.db.read_only = false").is_err());
    assert!(ok("services.db.image unchanged").is_ok());
    assert!(ok("services.db unchanged").is_err());
    assert!(ok("services.db.volumes has pg:").is_ok());
    assert!(ok("services.db.volumes has no pg:").is_err());
    assert!(ok("fix of DC002 on services.db is applied").is_ok());
    assert!(ok("fix of DC002 on services.db is display-only").is_err());
    assert!(ok("fix of DC010 on services.db is display-only").is_ok());
    assert!(ok("fix of DC004 is absent").is_ok());
    assert!(ok("file unchanged").is_err());
    assert!(Assertion::parse("services.db.user maybe").is_err());
    assert!(Assertion::parse("fix of DC999 is applied").is_err());

    let df = "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nCMD [\"node\", \"server.js\"]\n";
    let m = dockerfile_model(df).unwrap();
    let segs = dockerfile_segs(parse_path("final.USER").unwrap());
    assert_eq!(
        resolve(&m, FileKind::Dockerfile, &segs),
        Some(&Value::String("node".into()))
    );
    let segs = dockerfile_segs(parse_path("final.CMD").unwrap());
    assert_eq!(
        resolve(&m, FileKind::Dockerfile, &segs),
        Some(&serde_json::json!(["node", "server.js"]))
    );

    assert!(parse_header("# expect: services.a.user absent\nservices: {}\n").is_err());
    assert!(parse_header("# evidence: unknown x/y\nservices: {}\n").is_err());
    assert!(parse_header(
        "# expect (known-defect): services.a.user absent\n# evidence: unknown x/y\nservices: {}\n"
    )
    .is_err());
}
