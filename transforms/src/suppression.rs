//! Inline suppressions: our own (`# dockharden: ignore=DC003`, `# dockharden: ignore-file=DF004`) and
//! the ones people already wrote for other tools (hadolint, checkov, trivy, KICS), mapped to our codes.
//!
//! A line suppression applies to findings that start on the comment's own line or on the next line
//! that is not a comment. A `dockharden` suppression that suppresses nothing is itself a finding
//! (`X001 unused-suppression`).

use crate::codes::UnknownCode;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::text::{LineIndex, TextRange};

/// Code and name of the meta rule reported for unused suppressions.
pub const UNUSED_CODE: &str = "X001";
pub const UNUSED_NAME: &str = "unused-suppression";
/// Documentation of X001, shown by `dockharden explain X001`.
pub const UNUSED_DOCS: &str = "## What it does
Reports a `# dockharden: ignore=CODE` comment that suppresses nothing.

## Why is this bad?
A stale suppression hides the next real finding at that place and misleads readers.

## Example
```dockerfile
# dockharden: ignore=DF001
COPY . /app
```

## Fix safety
Safe: the comment (or the unused codes in it) is removed; nothing else changes.

## Options
None.

## References
ruff's RUF100 (unused-noqa).
";

/// Foreign rule ids → our codes. Only ids whose meaning matches one of our rules are listed.
const FOREIGN: &[(&str, &[&str])] = &[
    // hadolint
    ("DL3002", &["DF002"]),
    ("DL3006", &["DF003"]),
    ("DL3007", &["DF003"]),
    ("DL3020", &["DF001"]),
    ("DL3015", &["DF010"]),
    ("DL3009", &["DF010"]),
    ("DL3019", &["DF011"]),
    // checkov (Dockerfile)
    ("CKV_DOCKER_1", &["DF007"]),
    ("CKV_DOCKER_2", &["DF004"]),
    ("CKV_DOCKER_3", &["DF002"]),
    ("CKV_DOCKER_4", &["DF001"]),
    ("CKV_DOCKER_7", &["DF003"]),
    ("CKV_DOCKER_8", &["DF002"]),
    ("CKV_DOCKER_9", &["DF010"]),
    // checkov (Kubernetes)
    ("CKV_K8S_10", &["K8S009"]),
    ("CKV_K8S_11", &["K8S009"]),
    ("CKV_K8S_12", &["K8S009"]),
    ("CKV_K8S_13", &["K8S009"]),
    ("CKV_K8S_14", &["K8S010"]),
    ("CKV_K8S_16", &["K8S002"]),
    ("CKV_K8S_17", &["K8S007"]),
    ("CKV_K8S_18", &["K8S007"]),
    ("CKV_K8S_19", &["K8S007"]),
    ("CKV_K8S_20", &["K8S001"]),
    ("CKV_K8S_22", &["K8S005"]),
    ("CKV_K8S_23", &["K8S004"]),
    ("CKV_K8S_27", &["K8S008"]),
    ("CKV_K8S_28", &["K8S003"]),
    ("CKV_K8S_31", &["K8S006"]),
    ("CKV_K8S_37", &["K8S003"]),
    ("CKV_K8S_38", &["K8S012"]),
    ("CKV_K8S_40", &["K8S004"]),
    // trivy (misconfiguration ids)
    ("AVD-DS-0001", &["DF003"]),
    ("AVD-DS-0002", &["DF002"]),
    ("AVD-DS-0004", &["DF007"]),
    ("AVD-DS-0005", &["DF001"]),
    ("AVD-DS-0025", &["DF011"]),
    ("AVD-DS-0026", &["DF004"]),
    ("AVD-DS-0029", &["DF010"]),
    ("AVD-DS-0031", &["DF005"]),
    ("AVD-KSV-0001", &["K8S001"]),
    ("AVD-KSV-0003", &["K8S003"]),
    ("AVD-KSV-0006", &["K8S008"]),
    ("AVD-KSV-0008", &["K8S007"]),
    ("AVD-KSV-0009", &["K8S007"]),
    ("AVD-KSV-0010", &["K8S007"]),
    ("AVD-KSV-0011", &["K8S009"]),
    ("AVD-KSV-0012", &["K8S004"]),
    ("AVD-KSV-0013", &["K8S010"]),
    ("AVD-KSV-0014", &["K8S005"]),
    ("AVD-KSV-0017", &["K8S002"]),
    ("AVD-KSV-0018", &["K8S009"]),
];

/// KICS query ids → our codes, only where the query checks what our rule checks. Each id is the
/// `id` of the query's `metadata.json` in Checkmarx/kics (read at the commit named), or of the
/// query table `docs/queries/kubernetes-queries.md` (commit 01a24f116d03).
const KICS: &[(&str, &[&str])] = &[
    // assets/queries/dockerfile/<query>/metadata.json
    ("9513a694-aa0d-41d8-be61-3271e056f36b", &["DF001"]), // add_instead_of_copy (1c74e081c12b)
    ("67fd0c4a-68cf-46d7-8c41-bc9fba7e40ae", &["DF002"]), // last_user_is_root (15256d180c13)
    ("fd54f200-402c-4333-a5a4-36ef6709af2f", &["DF002"]), // missing_user_instruction (01dae530d5f8)
    ("9efb0b2d-89c9-41a3-91ca-dcc0aec911fd", &["DF003"]), // image_version_not_explicit (099b11d040ae)
    ("f45ea400-6bbe-4501-9fc7-1c3d75c32067", &["DF003"]), // image_version_using_latest (1c74e081c12b)
    ("b03a748a-542d-44f4-bb86-9199ab4fd2d5", &["DF004"]), // healthcheck_instruction_missing (1b601f61ee0f)
    ("5907595b-5b6d-4142-b173-dbb0e73fbff8", &["DF007"]), // exposing_port_22 (099b11d040ae)
    ("df746b39-6564-4fed-bf85-e9c44382303c", &["DF010"]), // apt_get_install_lists_were_not_deleted (03440150cd70)
    ("7384dfb2-fcd1-4fbf-91cd-6c44c318c33c", &["DF010"]), // apt_get_not_avoiding_additional_packages (03440150cd70)
    ("ae9c56a6-3ed1-4ac0-9b54-31267f51151d", &["DF011"]), // apk_add_using_local_cache_path (1c74e081c12b)
    // assets/queries/dockerCompose/<query>/metadata.json
    ("d6355c88-1e8d-49e9-b2f2-f8a1ca12c75b", &["DC001"]), // docker_socket_mounted_in_container (1d8b6c5c2185)
    ("ce76b7d0-9e77-464d-b86f-c5c48e03e22d", &["DC002"]), // container_capabilities_unrestricted (1d8b6c5c2185)
    ("27fcc7d6-c49b-46e0-98f1-6c082a6a2750", &["DC003"]), // no_new_privileges_not_set (03440150cd70)
    ("ae5b6871-7f45-42e0-bb4c-ab300c4d2026", &["DC004"]), // privileged_containers_enabled (1106604f8421)
    ("4f31dd9f-2cc3-4751-9b53-67e4af83dac0", &["DC005"]), // host_namespace_is_shared, pid (1d8b6c5c2185)
    ("baa3890f-bed7-46f5-ab8f-1da8fc91c729", &["DC005"]), // shared_host_ipc_namespace (1b2f9a50a515)
    ("8af7162d-6c98-482f-868e-0d33fb675ca8", &["DC005"]), // shared_host_user_namespace (1d8b6c5c2185)
    ("071a71ff-f868-47a4-ac0b-3c59e4ab5443", &["DC006"]), // shared_host_network_namespace (1d8b6c5c2185)
    ("404fde2c-bc4b-4371-9747-7054132ac953", &["DC007"]), // default_seccomp_profile_disabled (03440150cd70)
    ("bb9ac4f7-e13b-423d-a010-c74a1bfbe492", &["DC010"]), // memory_not_limited (1d8b6c5c2185)
    ("6b610c50-99fb-4ef0-a5f3-e312fd945bc3", &["DC010"]), // cpus_not_limited (03440150cd70)
    ("221e0658-cb2a-44e3-b08a-db96a341d6fa", &["DC010"]), // pids_limit_not_set (03440150cd70)
    // docs/queries/kubernetes-queries.md
    ("5572cc5e-1e4c-4113-92a6-7a8a3bd25e6d", &["K8S001"]), // Privilege Escalation Allowed
    ("dd29336b-fe57-445b-a26e-e6aa867ae609", &["K8S002"]), // Container Is Privileged
    ("268ca686-7fb7-4ae9-b129-955a2a89064e", &["K8S003"]), // No Drop Capabilities for Containers
    ("dbbc6705-d541-43b0-b166-dd4be8208b54", &["K8S003"]), // NET_RAW Capabilities Not Being Dropped
    ("cf34805e-3872-4c08-bf92-6ff7bb0cfadb", &["K8S004"]), // Containers Running As Root
    ("a9c2f49d-0671-4fc9-9ece-f4e261e128d0", &["K8S005"]), // Root Container Not Mounted As Read-only
    ("f377b83e-bd07-4f48-a591-60c82b14a78b", &["K8S006"]), // Seccomp Profile Is Not Configured
    ("cd290efd-6c82-4e9d-a698-be12ae31d536", &["K8S007"]), // Shared Host IPC Namespace
    ("302736f4-b16c-41b8-befe-c0baffa0bd9d", &["K8S007"]), // Shared Host PID Namespace
    ("6b6bdfb3-c3ae-44cb-88e4-7405c1ba2c8a", &["K8S007"]), // Shared Host Network Namespace
    ("a6f34658-fdfb-4154-9536-56d516f65828", &["K8S008"]), // Docker Daemon Socket is Exposed to Containers
    ("b14d1bc4-a208-45db-92f0-e21f8e2588e9", &["K8S009"]), // Memory Limits Not Defined
    ("4ac0e2b7-d2d2-4af7-8799-e8de6721ccda", &["K8S009"]), // CPU Limits Not Set
    ("229588ef-8fde-40c8-8756-f4f2b5825ded", &["K8S009"]), // Memory Requests Not Defined
    ("ca469dd4-c736-448f-8ac1-30a642705e0a", &["K8S009"]), // CPU Requests Not Set
    ("583053b7-e632-46f0-b989-f81ff8045385", &["K8S010"]), // Invalid Image (empty or `latest`)
    ("48471392-d4d0-47c0-b135-cdec95eb3eef", &["K8S012"]), // Service Account Token Automount Not Disabled
];

/// Whether `id` is a KICS query id (a UUID) that maps to one of our rules.
#[must_use]
pub fn is_kics(id: &str) -> bool {
    KICS.iter().any(|(k, _)| k.eq_ignore_ascii_case(id.trim()))
}

/// Our codes a foreign id (hadolint, checkov, trivy, KICS) maps to; empty when none.
#[must_use]
pub fn map_foreign(id: &str) -> Vec<String> {
    let id = id.trim();
    let upper = id.to_ascii_uppercase();
    // trivy also accepts the short forms `DS002` / `KSV012`.
    let normalized = if let Some(n) = upper
        .strip_prefix("DS")
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
    {
        format!("AVD-DS-{:0>4}", n)
    } else if let Some(n) = upper
        .strip_prefix("KSV")
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
    {
        format!("AVD-KSV-{:0>4}", n)
    } else {
        upper
    };
    FOREIGN
        .iter()
        .chain(KICS)
        .filter(|(f, _)| f.eq_ignore_ascii_case(&normalized))
        .flat_map(|(_, ours)| ours.iter().map(|s| (*s).to_owned()))
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    /// Line numbers (0-based) the suppression covers.
    Lines(usize, usize),
    File,
}

#[derive(Clone, Debug)]
struct Suppression {
    /// Codes (ours) this suppresses; empty = every code.
    codes: Vec<String>,
    scope: Scope,
    /// Only our own suppressions are reported when unused.
    ours: bool,
    /// The comment's range (from `#` to end of line, without the line break).
    comment: TextRange,
    /// The whole line, when the comment is alone on it.
    full_line: Option<TextRange>,
    /// Our codes as written (foreign ids mapped to ours), for the unused report.
    written: Vec<String>,
    /// Codes of a `dockharden` comment that name no rule: where, and what is wrong.
    unknown: Vec<(TextRange, UnknownCode)>,
}

/// The codes of a `dockharden` suppression: ours, and foreign ids mapped to ours; the unknown ones
/// with their place (`list` starts at byte `start` of the text). The list ends at the first word
/// without a digit after a code: the rest is a reason.
fn our_codes(list: &str, start: usize) -> (Vec<String>, Vec<(TextRange, UnknownCode)>) {
    let mut codes = Vec::new();
    let mut unknown = Vec::new();
    let mut pos = 0;
    for token in list.split([',', ' ']) {
        let at = pos;
        pos += token.len() + 1;
        let lead = token.len() - token.trim_start().len();
        let code = token.trim();
        if code.is_empty() {
            continue;
        }
        // A word without a digit after the codes starts the reason (`ignore=DF002 runs as root`).
        if (!codes.is_empty() || !unknown.is_empty()) && !code.chars().any(|c| c.is_ascii_digit()) {
            break;
        }
        match crate::codes::resolve_code(code) {
            Ok(ours) => {
                for c in ours {
                    if !codes.contains(&c) {
                        codes.push(c);
                    }
                }
            }
            Err(e) => {
                let from = start + at + lead;
                unknown.push((TextRange::new(from, from + code.len()), e));
            }
        }
    }
    (codes, unknown)
}

fn codes_list(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The comment markers [`parse_suppressions`] reads (compared without case).
const MARKERS: [&str; 5] = [
    "dockharden:",
    "hadolint",
    "checkov:skip=",
    "trivy:ignore:",
    "kics-scan",
];

/// Whether some `#` of the text is followed (after blanks) by a suppression marker: a cheap test
/// that lets the many files without one skip the line-by-line parse.
fn may_have_suppressions(text: &str) -> bool {
    // (`memchr_iter` finds the `#`s a vector at a time; `match_indices` went a word at a time.)
    memchr::memchr_iter(b'#', text.as_bytes()).any(|at| {
        let body = text[at + 1..].trim_start();
        MARKERS.iter().any(|m| {
            body.get(..m.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(m))
        })
    })
}

fn parse_suppressions(text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    if !may_have_suppressions(text) {
        return out;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    // For each line, the first line at or after it that is not blank and not a comment (one
    // backwards pass: a long run of comment lines would otherwise be scanned once per comment).
    let mut code_from = vec![lines.len(); lines.len() + 1];
    for n in (0..lines.len()).rev() {
        let t = lines[n].trim();
        code_from[n] = if !t.is_empty() && !t.starts_with('#') {
            n
        } else {
            code_from[n + 1]
        };
    }
    let mut offset = 0;
    for (n, raw) in lines.iter().enumerate() {
        let line_start = offset;
        offset += raw.len() + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let Some(hash) = find_comment(line) else {
            continue;
        };
        let comment_text = &line[hash + 1..];
        let comment = TextRange::new(line_start + hash, line_start + line.len());
        let alone = line[..hash].trim().is_empty();
        let full_line =
            alone.then(|| TextRange::new(line_start, (line_start + raw.len() + 1).min(text.len())));
        let body = comment_text.trim();
        // Applies to the comment's own line (a trailing comment) or the next code line.
        let target = if alone { code_from[n + 1] } else { n };
        let line_scope = Scope::Lines(n, target);
        // Another tool's suppression (hadolint, checkov, trivy, KICS), mapped to our codes.
        let foreign = |codes: Vec<String>, scope: Scope| Suppression {
            codes,
            scope,
            ours: false,
            comment,
            full_line,
            written: Vec::new(),
            unknown: Vec::new(),
        };
        if let Some(rest) = strip_prefix_ci(body, "dockharden:") {
            let rest = rest.trim();
            // Where `rest` starts in the text (the codes are located for errors).
            let rest_at = line_start + offset_in(line, rest);
            let (list, scope, list_at) = if let Some(codes) = rest.strip_prefix("ignore-file=") {
                (Some(codes), Scope::File, rest_at + "ignore-file=".len())
            } else if let Some(codes) = rest.strip_prefix("ignore=") {
                (Some(codes), line_scope, rest_at + "ignore=".len())
            } else if rest == "ignore" {
                (None, line_scope, rest_at)
            } else {
                continue;
            };
            let (codes, mut unknown) =
                list.map_or_else(|| (Vec::new(), Vec::new()), |l| our_codes(l, list_at));
            if list.is_some() && codes.is_empty() && unknown.is_empty() {
                // `ignore=` with nothing after it: an error, not a suppression of everything.
                unknown.push((
                    TextRange::new(list_at, list_at),
                    UnknownCode {
                        given: String::new(),
                        suggestion: None,
                        prefix_only: false,
                    },
                ));
            }
            if list.is_some() && codes.is_empty() {
                // Every code is unknown: a suppression of nothing (the errors stop the file).
                out.push(Suppression {
                    codes: vec![String::new()],
                    scope,
                    ours: true,
                    comment,
                    full_line,
                    written: Vec::new(),
                    unknown,
                });
                continue;
            }
            out.push(Suppression {
                codes: codes.clone(),
                scope,
                ours: true,
                comment,
                full_line,
                written: codes,
                unknown,
            });
        } else if let Some(rest) = strip_prefix_ci(body, "hadolint") {
            // `# hadolint ignore=DL3002,DL3006` applies to the next instruction; `global ignore=` to the file.
            let rest = rest.trim();
            let (scope, rest) = match rest.strip_prefix("global") {
                Some(r) => (Scope::File, r.trim()),
                None => (line_scope, rest),
            };
            if let Some(ids) = rest.strip_prefix("ignore=") {
                let codes: Vec<String> = codes_list(ids)
                    .iter()
                    .flat_map(|id| map_foreign(id))
                    .collect();
                if !codes.is_empty() {
                    out.push(foreign(codes, scope));
                }
            }
        } else if let Some(rest) = strip_prefix_ci(body, "checkov:skip=") {
            // `#checkov:skip=CKV_DOCKER_3:reason`: checkov skips the check for the whole resource,
            // which for our files is the file.
            let id = rest.split(':').next().unwrap_or("");
            let codes = map_foreign(id);
            if !codes.is_empty() {
                out.push(foreign(codes, Scope::File));
            }
        } else if let Some(rest) = strip_prefix_ci(body, "trivy:ignore:") {
            let id = rest.split_whitespace().next().unwrap_or("");
            let codes = map_foreign(id);
            if !codes.is_empty() {
                out.push(foreign(codes, line_scope));
            }
        } else if let Some(rest) = strip_prefix_ci(body, "kics-scan") {
            let rest = rest.trim();
            // Only at the start of the file (no instruction or key above it), as KICS reads it.
            let at_start = || {
                lines[..n].iter().all(|l| {
                    let t = l.trim();
                    t.is_empty() || t.starts_with('#') || t == "---"
                })
            };
            if let Some(ids) = rest.strip_prefix("disable=").filter(|_| at_start()) {
                // `# kics-scan disable=<query id>,...`: those queries' results in this file.
                let codes: Vec<String> = codes_list(ids)
                    .iter()
                    .flat_map(|id| map_foreign(id))
                    .collect();
                if !codes.is_empty() {
                    out.push(foreign(codes, Scope::File));
                }
            } else if rest == "ignore-line" {
                out.push(foreign(Vec::new(), line_scope));
            } else if rest == "ignore" && n < 3 {
                out.push(foreign(Vec::new(), Scope::File));
            } else if rest == "ignore-block" {
                // The block: from the comment to the next line at the same or lower indentation.
                let indent = lines
                    .get(target)
                    .map_or(0, |l| l.len() - l.trim_start().len());
                let mut end = target + 1;
                while end < lines.len() {
                    let l = lines[end].trim_end_matches('\r');
                    if !l.trim().is_empty() && l.len() - l.trim_start().len() <= indent {
                        break;
                    }
                    end += 1;
                }
                out.push(foreign(Vec::new(), Scope::Lines(n, end.saturating_sub(1))));
            }
        }
    }
    out
}

/// The byte offset of `inner`, a slice of `outer`, in `outer`.
fn offset_in(outer: &str, inner: &str) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

/// The codes of `dockharden` suppression comments that name no rule (a typo there would silently
/// keep a finding, or hide every one): where each is, and what is wrong with it.
#[must_use]
pub fn unknown_codes(text: &str) -> Vec<(TextRange, UnknownCode)> {
    if !text.contains('#') {
        return Vec::new();
    }
    parse_suppressions(text)
        .into_iter()
        .flat_map(|s| s.unknown)
        .collect()
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix))
    .then(|| &s[prefix.len()..])
}

/// The byte index of a `#` that starts a comment on this line: at the start (after whitespace), or
/// after whitespace outside quotes (YAML trailing comments).
fn find_comment(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') {
        return Some(line.len() - trimmed.len());
    }
    let bytes = line.as_bytes();
    let (mut single, mut double) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'#' if !single
                && !double
                && i > 0
                && (bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') =>
            {
                return Some(i);
            }
            _ => {}
        }
    }
    None
}

fn covers(s: &Suppression, code: &str, line: usize) -> bool {
    #[cfg(test)]
    crate::work::add("suppression.covers", 1);
    let code_ok = s.codes.is_empty() || s.codes.iter().any(|c| c == code);
    code_ok
        && match s.scope {
            Scope::File => true,
            Scope::Lines(a, b) => line == a || line == b || (a < line && line < b),
        }
}

/// Drop suppressed findings and report unused `dockharden` suppressions (for the codes in `active`,
/// the codes that ran on this file).
#[must_use]
pub fn apply(text: &str, active: &[&'static str], findings: Vec<Finding>) -> Vec<Finding> {
    apply_in(text, active, findings, &[])
}

/// [`apply`], where a line suppression anywhere in a construct also covers the findings about the
/// whole construct. `constructs` are `(whole, head)` pairs: a Dockerfile stage and its `FROM`, a
/// compose service block and its key. A finding reported on a head is about the construct:
/// `# dockharden: ignore=DF002` above the `USER` line covers DF002 reported on the stage's `FROM`,
/// while a finding about one instruction or one entry keeps needing its own line.
#[must_use]
pub fn apply_in(
    text: &str,
    active: &[&'static str],
    findings: Vec<Finding>,
    constructs: &[(TextRange, TextRange)],
) -> Vec<Finding> {
    if !text.contains('#') {
        return findings;
    }
    let sups = parse_suppressions(text);
    if sups.is_empty() {
        return findings;
    }
    let index = LineIndex::new(text);
    let mut used = vec![Vec::<String>::new(); sups.len()];
    // Findings in line order against the line suppressions whose lines have started and not
    // ended (a sweep), plus the file-wide ones: no finding is compared with every suppression.
    let lines: Vec<usize> = findings
        .iter()
        .map(|f| index.line_of(f.range.start))
        .collect();
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| lines[i]);
    let file_wide: Vec<usize> = (0..sups.len())
        .filter(|&i| matches!(sups[i].scope, Scope::File))
        .collect();
    let mut spans: Vec<(usize, usize, usize)> = sups
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s.scope {
            Scope::Lines(a, b) => Some((a.min(b), a.max(b), i)),
            Scope::File => None,
        })
        .collect();
    spans.sort_unstable();
    let mut open: std::collections::BTreeSet<(usize, usize)> = std::collections::BTreeSet::new();
    let mut next = 0;
    let mut suppressed = vec![false; findings.len()];
    for &fi in &order {
        let line = lines[fi];
        while next < spans.len() && spans[next].0 <= line {
            open.insert((spans[next].1, spans[next].2));
            next += 1;
        }
        while open.first().is_some_and(|&(end, _)| end < line) {
            open.pop_first();
        }
        let code = findings[fi].code;
        for i in open
            .iter()
            .map(|&(_, i)| i)
            .chain(file_wide.iter().copied())
        {
            if covers(&sups[i], code, line) {
                suppressed[fi] = true;
                used[i].push(code.to_owned());
            }
        }
    }
    // Suppressions of a construct: a line suppression whose target line lies in the construct of a
    // finding not suppressed yet. Looked up by code and target line (no finding meets every
    // suppression).
    if !constructs.is_empty() {
        let mut by_code: std::collections::HashMap<&str, std::collections::BTreeMap<usize, usize>> =
            std::collections::HashMap::new();
        for (i, sup) in sups.iter().enumerate() {
            let Scope::Lines(_, target) = sup.scope else {
                continue;
            };
            let keys: Vec<&str> = if sup.codes.is_empty() {
                vec![""]
            } else {
                sup.codes.iter().map(String::as_str).collect()
            };
            for k in keys {
                by_code.entry(k).or_default().entry(target).or_insert(i);
            }
        }
        let construct_lines: Vec<(usize, usize, usize, usize)> = constructs
            .iter()
            .map(|(whole, head)| {
                (
                    head.start,
                    head.end.max(head.start + 1),
                    index.line_of(whole.start),
                    index.line_of(whole.end.saturating_sub(1).max(whole.start)),
                )
            })
            .collect();
        for (fi, f) in findings.iter().enumerate() {
            if suppressed[fi] {
                continue;
            }
            // The construct whose head the finding is reported on (the smallest).
            let Some(&(_, _, first, last)) = construct_lines
                .iter()
                .filter(|(s, e, _, _)| *s <= f.range.start && f.range.start < *e)
                .min_by_key(|(s, e, _, _)| e - s)
            else {
                continue;
            };
            for key in [f.code, ""] {
                let hit = by_code
                    .get(key)
                    .and_then(|m| m.range(first..=last).next().map(|(_, &i)| i));
                if let Some(i) = hit {
                    suppressed[fi] = true;
                    used[i].push(f.code.to_owned());
                    break;
                }
            }
        }
    }
    let mut kept = Vec::with_capacity(findings.len());
    for (f, gone) in findings.into_iter().zip(&suppressed) {
        if !gone {
            kept.push(f);
        }
    }
    for (s, used) in sups.iter().zip(&used) {
        if !s.ours || !s.unknown.is_empty() {
            continue;
        }
        // Only codes that ran here can be judged unused.
        let unused: Vec<&String> = if s.written.is_empty() {
            if used.is_empty() {
                vec![]
            } else {
                continue;
            }
        } else {
            s.written
                .iter()
                .filter(|c| active.iter().any(|a| a == c) && !used.contains(c))
                .collect()
        };
        let all_unused = if s.written.is_empty() {
            used.is_empty()
        } else {
            unused.len() == s.written.len()
        };
        if !all_unused && unused.is_empty() {
            continue;
        }
        let mut what = if s.written.is_empty() {
            "suppresses nothing".to_owned()
        } else {
            format!(
                "unused suppression of {}",
                unused
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        // Where it would have to go: the line of a finding of that code left in the file.
        for c in &unused {
            if let Some(f) = kept.iter().find(|f| f.code == c.as_str()) {
                let line = index.line_of(f.range.start) + 1;
                what.push_str(&format!(
                    "; {c} is reported at line {line}: put the suppression on that line, on the line before it, or on a line of the same {}",
                    if constructs.is_empty() { "line" } else { "stage, service or manifest" }
                ));
            }
        }
        let mut finding = Finding::new(
            UNUSED_CODE,
            UNUSED_NAME,
            s.comment,
            format!("`dockharden` suppression {what}"),
        );
        if all_unused {
            let range = s.full_line.unwrap_or(s.comment);
            // A trailing comment: also remove the whitespace before it.
            let range = if s.full_line.is_none() {
                let before = &text[..range.start];
                TextRange::new(before.trim_end_matches([' ', '\t']).len(), range.end)
            } else {
                range
            };
            finding = finding.with_fix(Fix::safe(
                "Remove the unused suppression",
                vec![Edit::delete(range)],
            ));
        }
        kept.push(finding);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(code: &'static str, start: usize) -> Finding {
        Finding::new(code, "x", TextRange::new(start, start + 1), "m")
    }

    /// Scaling by counting work: a finding is compared with the suppressions of its lines, not with
    /// every suppression of the file.
    #[test]
    fn findings_meet_only_the_suppressions_of_their_lines() {
        let mut text = String::new();
        let mut found = Vec::new();
        for _ in 0..2_000 {
            found.push(f("DF001", text.len()));
            text += "ADD a b # dockharden: ignore=DF001\n";
        }
        crate::work::take("suppression.covers");
        let out = apply(&text, &["DF001"], found);
        assert!(out.is_empty(), "{out:?}");
        let n = crate::work::take("suppression.covers");
        assert!(n <= 2 * 2_000, "{n} comparisons");
    }

    #[test]
    fn own_line_and_next_line() {
        let text =
            "# dockharden: ignore=DF001\nADD a b\nADD c d # dockharden: ignore=DF001\nADD e f\n";
        let out = apply(
            text,
            &["DF001"],
            vec![f("DF001", 27), f("DF001", 35), f("DF001", 71)],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].range.start, 71);
    }

    #[test]
    fn unused_is_reported_with_fix() {
        let text = "# dockharden: ignore=DF001\nCOPY a b\n";
        let out = apply(text, &["DF001"], vec![]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].code, UNUSED_CODE);
        assert!(out[0].fix.is_some());
    }

    #[test]
    fn foreign_syntaxes() {
        let text = "# hadolint ignore=DL3020\nADD a b\n#trivy:ignore:AVD-DS-0002\nUSER root\n";
        let out = apply(
            text,
            &["DF001", "DF002"],
            vec![f("DF001", 25), f("DF002", 59)],
        );
        assert!(out.is_empty(), "{out:?}");
        let text = "#checkov:skip=CKV_DOCKER_3:no user\nFROM x\n";
        assert!(apply(text, &["DF002"], vec![f("DF002", 36)]).is_empty());
        let text = "a: 1\n# kics-scan ignore-line\nprivileged: true\n";
        assert!(apply(text, &["DC004"], vec![f("DC004", 29)]).is_empty());
    }

    /// Every foreign id maps to rules that exist, and appears once; KICS ids are UUIDs.
    #[test]
    fn foreign_ids_map_to_real_rules() {
        let mut seen = std::collections::BTreeSet::new();
        for (id, ours) in FOREIGN.iter().chain(KICS) {
            assert!(seen.insert(id.to_ascii_uppercase()), "{id} twice");
            assert!(!ours.is_empty(), "{id}");
            for code in *ours {
                assert!(crate::registry::find(code).is_some(), "{id} → {code}");
            }
        }
        for (id, _) in KICS {
            let parts: Vec<usize> = id.split('-').map(str::len).collect();
            assert_eq!(parts, [8, 4, 4, 4, 12], "{id}");
            assert!(
                id.chars()
                    .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "{id}"
            );
        }
    }

    /// `# kics-scan disable=<query ids>` at the start of a file suppresses the rules those queries
    /// map to in the whole file; below the first instruction it is not a KICS command.
    #[test]
    fn kics_disable_at_the_start_of_the_file() {
        let text = "# syntax=docker/dockerfile:1\n# kics-scan disable=fd54f200-402c-4333-a5a4-36ef6709af2f,9513A694-AA0D-41D8-BE61-3271E056F36B\nFROM x\nADD a b\n";
        let at = |needle: &str| text.find(needle).unwrap();
        assert!(apply(
            text,
            &["DF001", "DF002"],
            vec![f("DF002", at("FROM")), f("DF001", at("ADD"))]
        )
        .is_empty());
        // A query that maps to another rule leaves this one reported.
        let other = "# kics-scan disable=b03a748a-542d-44f4-bb86-9199ab4fd2d5\nFROM x\n";
        assert_eq!(apply(other, &["DF002"], vec![f("DF002", 56)]).len(), 1);
        // Not at the start: ignored, as KICS ignores it.
        let late = "FROM x\n# kics-scan disable=fd54f200-402c-4333-a5a4-36ef6709af2f\nUSER root\n";
        assert_eq!(apply(late, &["DF002"], vec![f("DF002", 0)]).len(), 1);
        let yaml = "---\n# kics-scan disable=ae5b6871-7f45-42e0-bb4c-ab300c4d2026\nservices:\n  a:\n    privileged: true\n";
        assert!(apply(
            yaml,
            &["DC004"],
            vec![f("DC004", yaml.find("privileged").unwrap())]
        )
        .is_empty());
    }

    #[test]
    fn unknown_codes_are_located_and_foreign_ids_map() {
        let text = "FROM a\n# dockharden: ignore=DF0O1\nADD a b\n";
        let found = unknown_codes(text);
        assert_eq!(found.len(), 1, "{found:?}");
        let (range, e) = &found[0];
        assert_eq!(&text[range.start..range.end], "DF0O1");
        assert_eq!(e.suggestion.as_ref().unwrap().0, "DF001");
        // Every code unknown: nothing is suppressed.
        assert_eq!(apply(text, &["DF001"], vec![f("DF001", 34)]).len(), 1);
        // A prefix, an empty list and a bare word are errors too; a reason after the codes is not.
        assert!(
            unknown_codes("# dockharden: ignore=DF\nADD a b\n")[0]
                .1
                .prefix_only
        );
        assert_eq!(unknown_codes("# dockharden: ignore=\nADD a b\n").len(), 1);
        assert_eq!(
            unknown_codes("# dockharden: ignore=FOO\nADD a b\n").len(),
            1
        );
        assert!(unknown_codes("# dockharden: ignore=DF001 legacy image\nADD a b\n").is_empty());
        // Trailing comment, case-insensitive marker, foreign id in our comment.
        let text = "USER root # Dockharden: ignore=DL3002\n";
        assert!(unknown_codes(text).is_empty());
        assert!(apply(text, &["DF002"], vec![f("DF002", 0)]).is_empty());
        // Other tools' comments name their own ids: not ours to judge.
        assert!(unknown_codes("# hadolint ignore=DL3008\nRUN x\n").is_empty());
    }

    #[test]
    fn a_suppression_anywhere_in_the_construct_covers_its_findings() {
        // DF002 is reported on FROM; the comment sits above USER of the same stage.
        let text =
            "FROM a\nRUN x\n# dockharden: ignore=DF002,DF001\nUSER root\nFROM b\nUSER root\n";
        let second = text.rfind("FROM").unwrap();
        let stage1 = (TextRange::new(0, second), TextRange::new(0, 7));
        let stage2 = (
            TextRange::new(second, text.len()),
            TextRange::new(second, second + 7),
        );
        let out = apply_in(
            text,
            &["DF001", "DF002"],
            vec![f("DF002", 0), f("DF002", second), f("DF001", 7)],
            &[stage1, stage2],
        );
        // DF001 on `RUN x` is about that instruction, not the stage: the comment does not reach it.
        let left: Vec<(&str, usize)> = out
            .iter()
            .filter(|x| x.code != UNUSED_CODE)
            .map(|x| (x.code, x.range.start))
            .collect();
        assert_eq!(left, [("DF002", second), ("DF001", 7)], "{out:?}");
        // Without constructs, the comment covers only the next line, and says where DF002 is.
        let out = apply(text, &["DF002"], vec![f("DF002", 0)]);
        let unused = out.iter().find(|x| x.code == UNUSED_CODE).unwrap();
        assert!(
            unused.message.contains("DF002 is reported at line 1"),
            "{}",
            unused.message
        );
    }

    #[test]
    fn file_level() {
        let text = "# dockharden: ignore-file=DF004\nFROM a\nEXPOSE 80\n";
        assert!(apply(text, &["DF004"], vec![f("DF004", 32)]).is_empty());
    }

    #[test]
    fn hash_in_quotes_is_not_a_comment() {
        assert_eq!(find_comment("a: \"x # y\""), None);
        assert_eq!(find_comment("a: b # c"), Some(5));
        assert_eq!(find_comment("a: b#c"), None);
    }
}
