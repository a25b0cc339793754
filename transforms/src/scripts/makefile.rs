//! Makefiles: the recipe lines of rules are shell commands (make passes each logical line, with its
//! `\` continuations, to `sh -c`), and variables may hold the start of a command
//! (`DOCKER_RUN := docker run --rm --privileged`).
//!
//! Lines are read as GNU make reads them: a recipe line starts with a tab after a rule line (blank
//! lines, comments and conditionals in between keep the rule open); `define` ... `endef` blocks
//! are variable values; `NAME := value` (also `=`, `?=`, `+=`, `::=`, `!=`) assigns.

use std::collections::BTreeMap;

use crate::text::TextRange;

use super::fragment::{Dialect, Fragment};

/// The parts of a Makefile that matter here.
pub struct Makefile {
    /// Recipes (one per logical line) and variable values that start a container command.
    pub fragments: Vec<Fragment>,
    /// Everything else, for verification: the non-recipe logical lines as written (comments and
    /// blank lines left out), with a marker where each recipe line is.
    pub skeleton: Vec<String>,
}

/// Logical lines: (start, end without the line break, start of the next).
pub(crate) fn logical_lines(text: &str) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let n = text.len();
    while start < n {
        let line_end = text[i..].find('\n').map_or(n, |p| i + p);
        let content = text[start..line_end].trim_end_matches('\r');
        let trailing = content.len() - content.trim_end_matches('\\').len();
        if trailing % 2 == 1 && line_end < n {
            i = line_end + 1;
            continue;
        }
        let end = start + text[start..line_end].trim_end_matches('\r').len();
        let next = (line_end + 1).min(n);
        out.push((start, end.max(start), next));
        start = next;
        i = next;
        if line_end >= n {
            break;
        }
    }
    out
}

/// A variable assignment: (name, value range).
fn assignment(text: &str, start: usize, end: usize) -> Option<(String, TextRange)> {
    let line = &text[start..end];
    let mut rest = line.trim_start();
    for kw in ["override ", "export ", "private "] {
        if let Some(r) = rest.strip_prefix(kw) {
            rest = r.trim_start();
        }
    }
    let name_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
        .unwrap_or(rest.len());
    if name_len == 0 {
        return None;
    }
    let name = &rest[..name_len];
    let after = rest[name_len..].trim_start();
    let op = [":::=", "::=", ":=", "?=", "+=", "!=", "="]
        .into_iter()
        .find(|op| after.starts_with(op))?;
    let value = after[op.len()..].trim_start();
    let value_start = end - value.len();
    let value_end = start + line.trim_end().len();
    Some((
        name.to_owned(),
        TextRange::new(value_start, value_end.max(value_start)),
    ))
}

/// Whether a rule line (`target: prerequisites`) — a `:` outside `$(...)` that is not part of an
/// assignment operator.
fn is_rule(line: &str) -> bool {
    let mut depth = 0i32;
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' | b'{' => depth += 1,
            b')' | b'}' => depth -= 1,
            b':' if depth == 0 => return b.get(i + 1) != Some(&b'='),
            b'=' if depth == 0 => return false,
            _ => {}
        }
    }
    false
}

const CONDITIONALS: &[&str] = &["ifeq", "ifneq", "ifdef", "ifndef", "else", "endif"];

/// Read a Makefile.
#[must_use]
pub fn parse(text: &str) -> Makefile {
    let mut fragments = Vec::new();
    let mut skeleton = Vec::new();
    let mut vars: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut starts: Vec<(TextRange, bool)> = Vec::new();
    let mut in_rule = false;
    let mut in_define = false;
    for (start, end, _) in logical_lines(text) {
        let line = &text[start..end];
        let trimmed = line.trim_start();
        let first_word = trimmed.split_whitespace().next().unwrap_or("");
        if in_define {
            if first_word == "endef" {
                in_define = false;
            }
            skeleton.push(line.to_owned());
            continue;
        }
        if line.starts_with('\t') && in_rule {
            // Recipe: after the tab, make strips `@`, `-`, `+` (and blanks between them).
            let body = &line[1..];
            let skip = body.len() - body.trim_start_matches(['@', '-', '+', ' ', '\t']).len();
            if body[skip..].trim().is_empty() || body[skip..].starts_with('#') {
                continue;
            }
            starts.push((TextRange::new(start + 1 + skip, end), false));
            skeleton.push("\u{1}recipe".into());
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if CONDITIONALS.contains(&first_word) {
            skeleton.push(line.to_owned());
            continue;
        }
        if first_word == "define" {
            in_define = true;
            in_rule = false;
            skeleton.push(line.to_owned());
            continue;
        }
        if let Some((name, value)) = assignment(text, start, end) {
            in_rule = false;
            let v = value.slice(text).to_owned();
            let entry = vars.entry(name).or_insert_with(|| Some(v.clone()));
            if entry.as_deref() != Some(v.as_str()) {
                *entry = None;
            }
            if v.contains(" run") || v.contains(" create") {
                starts.push((value, true));
                skeleton.push(format!("{}\u{1}value", &text[start..value.start]));
            } else {
                skeleton.push(line.to_owned());
            }
            continue;
        }
        in_rule = is_rule(line);
        skeleton.push(line.to_owned());
    }
    let vars: BTreeMap<String, String> = vars
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    for (range, partial) in starts {
        let mut f = Fragment::identity(text, range, Dialect::Make);
        f.vars.clone_from(&vars);
        f.partial = partial;
        fragments.push(f);
    }
    Makefile {
        fragments,
        skeleton,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_and_variables() {
        let text = "IMAGE ?= nginx:1.27\nRUN := docker run --rm --privileged\n\n.PHONY: up\nup: build\n\t@echo hi\n\t-docker run -d \\\n\t\t$(IMAGE)\n\n# comment\nx = 1\n";
        let m = parse(text);
        let srcs: Vec<&str> = m.fragments.iter().map(|f| f.src.as_str()).collect();
        assert_eq!(
            srcs,
            vec![
                "docker run --rm --privileged",
                "echo hi",
                "docker run -d \\\n\t\t$(IMAGE)"
            ]
        );
        assert!(m.fragments[0].partial);
        assert_eq!(m.fragments[2].vars["IMAGE"], "nginx:1.27");
    }

    #[test]
    fn logical_lines_join_continuations() {
        let t = "a \\\nb\nc\r\nd";
        let l: Vec<&str> = logical_lines(t)
            .iter()
            .map(|(s, e, _)| &t[*s..*e])
            .collect();
        assert_eq!(l, vec!["a \\\nb", "c", "d"]);
    }
}
