//! CI pipelines: the shell scripts of GitHub Actions workflows (`run:` steps, whose shell is `bash`
//! or `sh`) and GitLab CI jobs (`script`, `before_script`, `after_script`), with the place of every
//! byte of each script in the YAML file.
//!
//! A script is a YAML string. Its bytes map back to the file line by line for block scalars
//! (`|`, `>`), plain scalars and quoted scalars without escapes; a string whose decoded text cannot
//! be aligned with the file (escapes such as `\"`, a `''` in single quotes) is read, reported, and
//! never edited.

use std::collections::BTreeMap;

use crate::fix::SemanticPath;
use crate::yaml::{Mapping, Node, Scalar, ScalarStyle, YamlFile};

use super::fragment::{Dialect, Fragment, Segment};

/// The decoded text of a string scalar and where its bytes are in the file (empty when they cannot
/// all be found byte for byte).
#[must_use]
pub fn scalar_segments(text: &str, s: &Scalar) -> (String, Vec<Segment>) {
    let value = s.value().to_owned();
    let range = s.range();
    let raw = range.slice(text);
    // (file offset, content) of each line of the source that carries text.
    let mut lines: Vec<(usize, &str)> = Vec::new();
    match s.style() {
        ScalarStyle::Literal | ScalarStyle::Folded => {
            let Some(header_end) = raw.find('\n') else {
                return (value, Vec::new());
            };
            let header = raw[..header_end].trim_end_matches('\r');
            let explicit: Option<usize> = header
                .chars()
                .find(|c| c.is_ascii_digit())
                .and_then(|c| c.to_digit(10))
                .map(|d| d as usize);
            let mut pos = header_end + 1;
            let mut indent: Option<usize> = None;
            let parent_indent = {
                let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
                text[line_start..range.start].len()
                    - text[line_start..range.start].trim_start().len()
            };
            while pos < raw.len() {
                let end = raw[pos..].find('\n').map_or(raw.len(), |p| pos + p);
                let line = raw[pos..end].trim_end_matches('\r');
                if !line.trim().is_empty() {
                    let lead = line.len() - line.trim_start_matches(' ').len();
                    let ind = *indent.get_or_insert(match explicit {
                        Some(d) => parent_indent + d,
                        None => lead,
                    });
                    if lead < ind {
                        return (value, Vec::new());
                    }
                    lines.push((range.start + pos + ind, &line[ind..]));
                }
                pos = end + 1;
            }
        }
        ScalarStyle::Plain | ScalarStyle::Single | ScalarStyle::Double => {
            let (inner_start, inner) = match s.style() {
                ScalarStyle::Plain => (range.start, raw),
                _ if raw.len() >= 2 => (range.start + 1, &raw[1..raw.len() - 1]),
                _ => return (value, Vec::new()),
            };
            if (s.style() == ScalarStyle::Double && inner.contains('\\'))
                || (s.style() == ScalarStyle::Single && inner.contains("''"))
            {
                return (value, Vec::new());
            }
            let mut pos = 0;
            let multi = inner.contains('\n');
            while pos <= inner.len() {
                let end = inner[pos..].find('\n').map_or(inner.len(), |p| pos + p);
                let line = inner[pos..end].trim_end_matches('\r');
                let (lead, content) = if pos == 0 {
                    (0, line)
                } else {
                    let t = line.trim_start();
                    (line.len() - t.len(), t)
                };
                let content = if multi { content.trim_end() } else { content };
                if !content.is_empty() {
                    lines.push((inner_start + pos + lead, content));
                }
                if end >= inner.len() {
                    break;
                }
                pos = end + 1;
            }
        }
    }
    match align(&value, &lines) {
        Some(segments) => (value, segments),
        None => (value, Vec::new()),
    }
}

/// Find each line's content in the decoded value, in order, with only blanks and line breaks
/// between them.
fn align(value: &str, lines: &[(usize, &str)]) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    let mut pos = 0;
    for (file, content) in lines {
        let mut p = pos;
        loop {
            if value[p..].starts_with(content) {
                break;
            }
            let c = value[p..].chars().next()?;
            if !matches!(c, ' ' | '\n' | '\t') {
                return None;
            }
            p += c.len_utf8();
        }
        out.push(Segment {
            src: p,
            file: *file,
            len: content.len(),
        });
        pos = p + content.len();
    }
    value[pos..]
        .chars()
        .all(|c| matches!(c, ' ' | '\n' | '\t'))
        .then_some(out)
}

/// A fragment for a string node (None for other nodes).
fn string_fragment(
    text: &str,
    node: &Node,
    path: SemanticPath,
    place: String,
    vars: &BTreeMap<String, String>,
) -> Option<Fragment> {
    let Node::Scalar(s) = node else {
        return None;
    };
    if s.is_null() || node.tag().is_some() {
        return None;
    }
    let (src, segments) = scalar_segments(text, s);
    let editable = !segments.is_empty();
    Some(Fragment {
        src,
        segments,
        editable,
        dialect: Dialect::Sh,
        place,
        yaml_path: Some(path),
        vars: vars.clone(),
        partial: false,
        uncertain: None,
    })
}

/// Literal string values of an `env:` / `variables:` mapping (GitLab's `{ value: x }` form too).
#[must_use]
pub fn literal_vars(node: Option<Node>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(Node::Mapping(m)) = node.and_then(|n| n.resolve()) else {
        return out;
    };
    for e in m.entries() {
        let v = e.value().resolve();
        let value = match &v {
            Some(Node::Scalar(s)) if !s.is_null() => Some(s.value().to_owned()),
            Some(Node::Mapping(inner)) => inner
                .get("value")
                .and_then(|x| x.value().as_str().map(str::to_owned)),
            _ => None,
        };
        if let Some(value) = value {
            if !value.contains("${{") {
                out.insert(e.key().to_owned(), value);
            }
        }
    }
    out
}

fn mapping(node: Option<Node>) -> Option<Mapping> {
    match node?.resolve()? {
        Node::Mapping(m) => Some(m),
        _ => None,
    }
}

fn entry_value(m: &Mapping, key: &str) -> Option<Node> {
    m.get_merged(key).map(|(e, _)| e.value())
}

fn shell_of(m: &Mapping) -> Option<String> {
    entry_value(m, "defaults")
        .and_then(|d| d.path(&["run", "shell"]))
        .and_then(|n| n.as_str().map(str::to_owned))
}

/// Whether a GitHub `shell:` value runs a POSIX shell.
fn posix_shell(shell: &str) -> bool {
    let prog = shell.split_whitespace().next().unwrap_or("");
    matches!(
        prog.rsplit('/').next().unwrap_or(prog),
        "bash" | "sh" | "dash"
    )
}

/// Whether a job's `runs-on` names a Windows runner (its default shell is PowerShell).
fn windows_runner(job: &Mapping) -> bool {
    let Some(n) = entry_value(job, "runs-on").and_then(|n| n.resolve()) else {
        return false;
    };
    let texts: Vec<String> = match &n {
        Node::Scalar(s) => vec![s.value().to_owned()],
        Node::Sequence(seq) => seq
            .items()
            .iter()
            .filter_map(|i| i.value().as_str().map(str::to_owned))
            .collect(),
        Node::Mapping(m) => entry_value(m, "labels")
            .and_then(|l| l.as_str().map(|s| vec![s.to_owned()]))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    texts
        .iter()
        .any(|t| t.to_ascii_lowercase().contains("windows"))
}

/// The jobs of a workflow or pipeline: (name, mapping).
#[must_use]
pub fn github_jobs(file: &YamlFile) -> Vec<(String, Mapping)> {
    let Some(doc) = file.documents().into_iter().next() else {
        return Vec::new();
    };
    let Some(jobs) = mapping(doc.root().path(&["jobs"])) else {
        return Vec::new();
    };
    jobs.entries()
        .iter()
        .filter_map(|e| Some((e.key().to_owned(), mapping(Some(e.value()))?)))
        .collect()
}

/// A step's name for messages.
#[must_use]
pub fn step_label(step: &Mapping, index: usize) -> String {
    for k in ["name", "id"] {
        if let Some(v) = entry_value(step, k).and_then(|n| n.as_str().map(str::to_owned)) {
            return format!("step \"{v}\"");
        }
    }
    format!("step {}", index + 1)
}

/// The `run:` scripts of a GitHub Actions workflow.
#[must_use]
pub fn github_fragments(text: &str, file: &YamlFile) -> Vec<Fragment> {
    let mut out = Vec::new();
    let Some(doc) = file.documents().into_iter().next() else {
        return out;
    };
    let Some(root) = mapping(Some(doc.root())) else {
        return out;
    };
    let wf_vars = literal_vars(entry_value(&root, "env"));
    let wf_shell = shell_of(&root);
    for (name, job) in github_jobs(file) {
        let mut vars = wf_vars.clone();
        vars.extend(literal_vars(entry_value(&job, "env")));
        let job_shell = shell_of(&job).or_else(|| wf_shell.clone());
        let windows = windows_runner(&job);
        let Some(Node::Sequence(steps)) = entry_value(&job, "steps").and_then(|n| n.resolve())
        else {
            continue;
        };
        out.extend(container_options(text, &name, &job, &vars));
        for item in steps.items() {
            let Some(step) = mapping(Some(item.value())) else {
                continue;
            };
            let Some(run) = entry_value(&step, "run") else {
                continue;
            };
            let shell = entry_value(&step, "shell")
                .and_then(|n| n.as_str().map(str::to_owned))
                .or_else(|| job_shell.clone());
            let posix = match &shell {
                Some(s) => posix_shell(s),
                None => !windows,
            };
            if !posix {
                continue;
            }
            let mut step_vars = vars.clone();
            step_vars.extend(literal_vars(entry_value(&step, "env")));
            let idx = item.index().to_string();
            let path = SemanticPath::new(0, ["jobs", name.as_str(), "steps", idx.as_str(), "run"]);
            let place = format!("{} of job `{name}`", step_label(&step, item.index()));
            if let Some(f) = string_fragment(text, &run, path, place, &step_vars) {
                out.push(f);
            }
        }
    }
    out
}

/// The `options:` of a job's `container:` and `services:` (GitHub Actions), read as the flags of
/// a `docker create` of the entry's `image:`: a partial container command (the runner adds flags
/// of its own), so only what the options say is judged, never what they lack. The `docker
/// create ` before the options and the image after them are not in the file: nothing is inserted
/// there.
fn container_options(
    text: &str,
    job_name: &str,
    job: &Mapping,
    vars: &BTreeMap<String, String>,
) -> Vec<Fragment> {
    let mut out = Vec::new();
    let mut entries: Vec<(Vec<String>, Mapping, String)> = Vec::new();
    if let Some(c) = mapping(entry_value(job, "container")) {
        entries.push((
            vec!["container".into()],
            c,
            format!("`container` of job `{job_name}`"),
        ));
    }
    if let Some(services) = mapping(entry_value(job, "services")) {
        for e in services.entries() {
            if let Some(m) = mapping(Some(e.value())) {
                entries.push((
                    vec!["services".into(), e.key().to_owned()],
                    m,
                    format!("service `{}` of job `{job_name}`", e.key()),
                ));
            }
        }
    }
    for (keys, m, place) in entries {
        let Some(Node::Scalar(image)) = entry_value(&m, "image").and_then(|n| n.resolve()) else {
            continue;
        };
        let Some(Node::Scalar(options)) = entry_value(&m, "options").and_then(|n| n.resolve())
        else {
            continue;
        };
        if options.is_null() || image.value().contains("${{") {
            continue;
        }
        let (opts, segments) = scalar_segments(text, &options);
        if opts.contains('\n') || opts.contains("${{") {
            // Several lines, or expressions GitHub replaces: not read with certainty.
            continue;
        }
        let prefix = "docker create ";
        let src = format!("{prefix}{opts} {}", image.value());
        let segments: Vec<Segment> = segments
            .iter()
            .map(|sg| Segment {
                src: sg.src + prefix.len(),
                ..*sg
            })
            .collect();
        let editable = !segments.is_empty();
        let mut path: Vec<&str> = vec!["jobs", job_name];
        path.extend(keys.iter().map(String::as_str));
        path.push("options");
        out.push(Fragment {
            src,
            segments,
            editable,
            dialect: Dialect::Sh,
            place: format!("`options` of the {place}"),
            yaml_path: Some(SemanticPath::new(0, path)),
            vars: vars.clone(),
            partial: true,
            uncertain: None,
        });
    }
    out
}

/// GitLab CI keywords that are not jobs at the top level.
pub const GITLAB_GLOBAL_KEYS: &[&str] = &[
    "stages",
    "variables",
    "default",
    "include",
    "workflow",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "types",
    "spec",
];

/// The jobs of a GitLab pipeline (hidden `.templates` included): (name, mapping).
#[must_use]
pub fn gitlab_jobs(file: &YamlFile) -> Vec<(usize, String, Mapping)> {
    let mut out = Vec::new();
    for doc in file.documents() {
        let Some(root) = mapping(Some(doc.root())) else {
            continue;
        };
        for e in root.entries() {
            let k = e.key();
            if GITLAB_GLOBAL_KEYS.contains(&k) || e.is_merge() {
                continue;
            }
            if let Some(m) = mapping(Some(e.value())) {
                out.push((doc.index(), k.to_owned(), m));
            }
        }
    }
    out
}

/// The scripts of a GitLab CI pipeline.
#[must_use]
pub fn gitlab_fragments(text: &str, file: &YamlFile) -> Vec<Fragment> {
    let mut out = Vec::new();
    for doc in file.documents() {
        let Some(root) = mapping(Some(doc.root())) else {
            continue;
        };
        let global = literal_vars(entry_value(&root, "variables"));
        let d = doc.index();
        // Top-level and `default:` scripts.
        for key in ["before_script", "after_script"] {
            if let Some(n) = entry_value(&root, key) {
                push_scripts(text, &n, &[key], d, format!("`{key}`"), &global, &mut out);
            }
            if let Some(n) = entry_value(&root, "default").and_then(|n| n.path(&[key])) {
                push_scripts(
                    text,
                    &n,
                    &["default", key],
                    d,
                    format!("`default.{key}`"),
                    &global,
                    &mut out,
                );
            }
        }
    }
    for (d, name, job) in gitlab_jobs(file) {
        let global = file
            .documents()
            .get(d)
            .and_then(|doc| mapping(Some(doc.root())))
            .map(|root| literal_vars(entry_value(&root, "variables")))
            .unwrap_or_default();
        let mut vars = global;
        vars.extend(literal_vars(entry_value(&job, "variables")));
        for key in ["before_script", "script", "after_script"] {
            let Some((e, origin)) = job.get_merged(key) else {
                continue;
            };
            if origin != crate::yaml::Origin::Own {
                // Inherited through a merge key: it belongs to (and is read in) the anchor's job.
                continue;
            }
            push_scripts(
                text,
                &e.value(),
                &[name.as_str(), key],
                d,
                format!("`{key}` of job `{name}`"),
                &vars,
                &mut out,
            );
        }
    }
    out
}

fn push_scripts(
    text: &str,
    node: &Node,
    path: &[&str],
    doc: usize,
    place: String,
    vars: &BTreeMap<String, String>,
    out: &mut Vec<Fragment>,
) {
    if matches!(node, Node::Alias(_)) {
        return;
    }
    match node {
        Node::Scalar(_) => {
            if let Some(f) = string_fragment(
                text,
                node,
                SemanticPath::new(doc, path.iter().copied()),
                place,
                vars,
            ) {
                out.push(f);
            }
        }
        Node::Sequence(seq) if node.tag().is_none() => {
            for item in seq.items() {
                let idx = item.index().to_string();
                let mut p: Vec<&str> = path.to_vec();
                p.push(&idx);
                let v = item.value();
                match &v {
                    Node::Sequence(inner) if v.tag().is_none() => {
                        for sub in inner.items() {
                            let j = sub.index().to_string();
                            let mut q = p.clone();
                            q.push(&j);
                            if let Some(f) = string_fragment(
                                text,
                                &sub.value(),
                                SemanticPath::new(doc, q.iter().copied()),
                                place.clone(),
                                vars,
                            ) {
                                out.push(f);
                            }
                        }
                    }
                    _ => {
                        if let Some(f) = string_fragment(
                            text,
                            &v,
                            SemanticPath::new(doc, p.iter().copied()),
                            place.clone(),
                            vars,
                        ) {
                            out.push(f);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frags(text: &str, github: bool) -> Vec<Fragment> {
        let f = crate::yaml::parse(text).unwrap();
        if github {
            github_fragments(text, &f)
        } else {
            gitlab_fragments(text, &f)
        }
    }

    #[test]
    fn github_run_steps_map_back() {
        let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - name: Test\n        run: |\n          docker run \\\n            --rm x\n      - run: docker run --privileged y\n      - run: Write-Host hi\n        shell: pwsh\n";
        let f = frags(text, true);
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|x| x.editable));
        let cmd = &f[0].commands()[0];
        let rm = cmd.words.iter().find(|w| w.value == "--rm").unwrap();
        assert_eq!(rm.file.unwrap().slice(text), "--rm");
        let priv_ = &f[1].commands()[0].words[2];
        assert_eq!(priv_.file.unwrap().slice(text), "--privileged");
        assert_eq!(f[1].place, "step 3 of job `a`");
    }

    #[test]
    fn gitlab_scripts() {
        let text = "variables:\n  IMG: nginx:1\nbuild:\n  script:\n    - docker run \"$IMG\"\n    - >\n      docker run\n      --net=host z\n    - \"echo \\\"x\\\"\"\n";
        let f = frags(text, false);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].vars["IMG"], "nginx:1");
        assert!(f[1].editable);
        let host = f[1].commands()[0].words[2].clone();
        assert_eq!(host.file.unwrap().slice(text), "--net=host");
        assert!(!f[2].editable);
    }
}
