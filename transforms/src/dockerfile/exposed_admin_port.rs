use crate::declare_transform;
use crate::dockerfile::syntax::{Dockerfile, Instruction};
use crate::dockerfile::{dockerfile, StageGraph};
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::knowledge::ADMIN_PORTS;
use crate::registry::{Check, Context};
use crate::text::TextRange;

declare_transform! {
    /// ## What it does
    /// Flags `EXPOSE` of administration ports (22 ssh, 23 telnet, 2375/2376 the Docker daemon, 3389
    /// RDP, 5900 VNC, 5985/5986 WinRM) in the image that is shipped, and removes them from the
    /// `EXPOSE` instruction.
    ///
    /// ## Why is this bad?
    /// An exposed administration port invites remote logins or remote control of the Docker daemon, which is root on the host, instead of `docker exec` and the orchestrator's own tools.
    ///
    /// `EXPOSE` is documentation that tools act on: `docker run -P` publishes every exposed port on
    /// all interfaces, and compose/Kubernetes generators copy them. A container should run one
    /// service; shells are opened with `docker exec` / `kubectl exec`, never with an sshd inside.
    ///
    /// ## Example
    /// ```dockerfile
    /// EXPOSE 80 22/tcp 443
    /// ```
    /// becomes
    /// ```dockerfile
    /// EXPOSE 80 443
    /// ```
    /// An `EXPOSE` whose only ports are administration ports is removed with its line break; a range
    /// that contains one is split around it (`EXPOSE 20-23` becomes `EXPOSE 20-21`).
    ///
    /// ## Fix safety
    /// Unsafe: clients that relied on the published port (an sshd in the container, a remote Docker
    /// client) stop reaching it through `-P` or generated manifests. Continuation lines and the
    /// comments between them are kept; a line whose ports are all removed is deleted, and a
    /// continuation left dangling by that is closed. Ports given through a variable (`EXPOSE
    /// $SSH_PORT`, `${PORT:-22}`) are not judged. Only the final stage and the stages it is built
    /// `FROM` are checked: `EXPOSE` in a builder stage that is only copied from has no effect on the
    /// shipped image (a stage meant to be built with `--target` is not the final one and is not
    /// judged either). `ONBUILD EXPOSE` is left alone (it belongs to the child images). Windows
    /// images are handled like others (3389 and 5985/5986 are their administration ports).
    ///
    /// ## Options
    /// None. The port table is `knowledge::ADMIN_PORTS`.
    ///
    /// ## References
    /// Guideline: "DO NOT expose unnecessary ports in Dockerfiles or container configs" and "never
    /// expose Docker daemon socket". checkov CKV_DOCKER_1 (port 22), trivy AVD-DS-0004 (port 22).
    pub struct ExposedAdminPort => "DF007", "exposed-admin-port", Dockerfile, Always;
}

/// A port word of `EXPOSE`: `22`, `22/tcp`, `20-23/udp`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PortWord {
    lo: u32,
    hi: u32,
    /// `/tcp` as written, or empty.
    proto: String,
}

fn parse_port(word: &str) -> Option<PortWord> {
    let (num, proto) = match word.find('/') {
        Some(i) => (&word[..i], &word[i..]),
        None => (word, ""),
    };
    let parse = |s: &str| -> Option<u32> {
        if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok().filter(|&p| p <= 65535)
    };
    let (lo, hi) = match num.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let p = parse(num)?;
            (p, p)
        }
    };
    if lo > hi || proto.len() > 6 || proto[1.min(proto.len())..].contains(['/', '$']) {
        return None;
    }
    Some(PortWord {
        lo,
        hi,
        proto: proto.to_owned(),
    })
}

fn admin_ports_in(p: &PortWord) -> Vec<(u32, &'static str)> {
    ADMIN_PORTS
        .iter()
        .map(|&(port, what)| (u32::from(port), what))
        .filter(|&(port, _)| p.lo <= port && port <= p.hi)
        .collect()
}

/// What the fix does to one port word.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    Keep,
    Remove,
    /// A range split around the administration ports.
    Replace(String),
}

/// The pieces of a range left after taking out `admin`.
fn split_range(p: &PortWord, admin: &[(u32, &str)]) -> Action {
    let mut pieces = Vec::new();
    let mut start = p.lo;
    let mut cuts: Vec<u32> = admin.iter().map(|a| a.0).collect();
    cuts.sort_unstable();
    for cut in cuts {
        if cut > start {
            pieces.push((start, cut - 1));
        }
        start = cut + 1;
    }
    if start <= p.hi {
        pieces.push((start, p.hi));
    }
    if pieces.is_empty() {
        return Action::Remove;
    }
    Action::Replace(
        pieces
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    format!("{a}{}", p.proto)
                } else {
                    format!("{a}-{b}{}", p.proto)
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Start of the physical line containing `offset`.
fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// (end of the content without `\r\n`, after the line break) of the physical line containing `offset`.
fn line_end(text: &str, offset: usize) -> (usize, usize) {
    let nl = text[offset..].find('\n').map(|i| offset + i);
    let after = nl.map_or(text.len(), |i| i + 1);
    let mut content = nl.unwrap_or(text.len());
    if content > offset && text.as_bytes()[content - 1] == b'\r' {
        content -= 1;
    }
    (content, after)
}

/// The edits that apply `actions` to the words of `ins` (the keyword counts as a kept word).
fn edits_for(text: &str, ins: &Instruction, words: &[(TextRange, Action)]) -> Vec<Edit> {
    if words.iter().all(|(_, a)| *a == Action::Remove) {
        return vec![Edit::delete(ins.full_range)];
    }
    // Items per physical line; the keyword is a kept item on the first line.
    let mut lines: Vec<(usize, Vec<(TextRange, Action)>)> = vec![(
        line_start(text, ins.keyword_range.start),
        vec![(ins.keyword_range, Action::Keep)],
    )];
    for (r, a) in words {
        let ls = line_start(text, r.start);
        match lines.last_mut() {
            Some((l, items)) if *l == ls => items.push((*r, a.clone())),
            _ => lines.push((ls, vec![(*r, a.clone())])),
        }
    }
    let gone = |items: &[(TextRange, Action)]| items.iter().all(|(_, a)| *a == Action::Remove);
    let last_kept_line = lines
        .iter()
        .rposition(|(_, items)| !gone(items))
        .unwrap_or(0);
    let dangling = last_kept_line + 1 < lines.len();
    let mut edits = Vec::new();
    for (n, (ls, items)) in lines.iter().enumerate() {
        if gone(items) {
            edits.push(Edit::delete(TextRange::new(*ls, line_end(text, *ls).1)));
            continue;
        }
        let first_kept = items
            .iter()
            .position(|(_, a)| *a != Action::Remove)
            .unwrap_or(0);
        let last_kept = items
            .iter()
            .rposition(|(_, a)| *a != Action::Remove)
            .unwrap_or(0);
        for (i, (r, a)) in items.iter().enumerate() {
            match a {
                Action::Keep => {}
                Action::Replace(s) => edits.push(Edit::replace(*r, s.clone())),
                Action::Remove if i < first_kept => {
                    edits.push(Edit::delete(TextRange::new(r.start, items[i + 1].0.start)));
                }
                Action::Remove if n == last_kept_line && dangling && i > last_kept => {}
                Action::Remove => {
                    edits.push(Edit::delete(TextRange::new(items[i - 1].0.end, r.end)));
                }
            }
        }
        if n == last_kept_line && dangling {
            // The lines after this one are deleted: close the continuation here.
            let from = items[last_kept].0.end;
            let (content_end, _) = line_end(text, from);
            edits.push(Edit::delete(TextRange::new(from, content_end)));
        }
    }
    edits
}

fn check_expose(text: &str, ins: &Instruction, findings: &mut Vec<Finding>) {
    let mut words = Vec::new();
    let mut found: Vec<(String, Vec<(u32, &str)>)> = Vec::new();
    let mut first = None;
    for (w, r) in ins.expose_ports() {
        let Some(p) = parse_port(&w) else {
            words.push((r, Action::Keep));
            continue;
        };
        let admin = admin_ports_in(&p);
        if admin.is_empty() {
            words.push((r, Action::Keep));
            continue;
        }
        first.get_or_insert(r);
        let action = if p.lo == p.hi {
            Action::Remove
        } else {
            split_range(&p, &admin)
        };
        found.push((w, admin));
        words.push((r, action));
    }
    let Some(range) = first else {
        return;
    };
    let described = found
        .iter()
        .map(|(w, admin)| {
            let what = admin
                .iter()
                .map(|(p, what)| format!("{p} ({what})"))
                .collect::<Vec<_>>()
                .join(", ");
            if admin.len() == 1 && w.split('/').next() == Some(&admin[0].0.to_string()) {
                what
            } else {
                format!("{w} includes {what}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let all = words.iter().all(|(_, a)| *a == Action::Remove);
    let title = if all {
        "Remove the EXPOSE instruction"
    } else {
        "Remove the administration ports from EXPOSE"
    };
    findings.push(
        Finding::new(
            ExposedAdminPort::CODE,
            ExposedAdminPort::NAME,
            range,
            format!(
                "EXPOSE publishes {}: {described}",
                if found.iter().map(|(_, a)| a.len()).sum::<usize>() > 1 {
                    "administration ports"
                } else {
                    "an administration port"
                }
            ),
        )
        .with_fix(Fix::unsafe_(title, edits_for(text, ins, &words))),
    );
}

fn check_file(text: &str, df: &Dockerfile) -> Vec<Finding> {
    let graph = StageGraph::new(df);
    let mut findings = Vec::new();
    for (stage, shipped) in graph.stages.iter().zip(graph.final_chain()) {
        if !shipped {
            continue;
        }
        for ins in &df.instructions[stage.instructions.clone()] {
            if ins.keyword == "EXPOSE" {
                check_expose(text, ins, &mut findings);
            }
        }
    }
    findings
}

impl Check for ExposedAdminPort {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        dockerfile(ctx).map_or_else(Vec::new, |df| check_file(ctx.text, df))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::apply_fixes;
    use crate::dockerfile::syntax::parse;

    fn fixed(text: &str) -> String {
        let df = parse(text).unwrap();
        let findings = check_file(text, &df);
        let fixes: Vec<&Fix> = findings.iter().filter_map(|f| f.fix.as_ref()).collect();
        let out = apply_fixes(text, &fixes);
        assert!(out.invalid.is_empty());
        let again = parse(&out.text).unwrap();
        assert!(check_file(&out.text, &again).is_empty(), "{}", out.text);
        out.text
    }

    #[test]
    fn ports() {
        assert_eq!(
            parse_port("22/tcp"),
            Some(PortWord {
                lo: 22,
                hi: 22,
                proto: "/tcp".into()
            })
        );
        assert_eq!(parse_port("20-23").map(|p| (p.lo, p.hi)), Some((20, 23)));
        assert_eq!(parse_port("$PORT"), None);
        assert_eq!(parse_port("${PORT:-22}"), None);
        assert_eq!(parse_port("23-20"), None);
        assert_eq!(parse_port("70000"), None);
    }

    #[test]
    fn removes_words() {
        assert_eq!(
            fixed("FROM a\nEXPOSE 80 22 443\n"),
            "FROM a\nEXPOSE 80 443\n"
        );
        assert_eq!(fixed("FROM a\nEXPOSE 22 80\n"), "FROM a\nEXPOSE 80\n");
        assert_eq!(fixed("FROM a\nEXPOSE 80 22\n"), "FROM a\nEXPOSE 80\n");
        assert_eq!(fixed("FROM a\nEXPOSE 22 2375\nCMD x\n"), "FROM a\nCMD x\n");
        assert_eq!(
            fixed("FROM a\nEXPOSE 20-23/tcp 80\n"),
            "FROM a\nEXPOSE 20-21/tcp 80\n"
        );
        assert_eq!(
            fixed("FROM a\nEXPOSE 2370-2380\n"),
            "FROM a\nEXPOSE 2370-2374 2377-2380\n"
        );
        assert_eq!(fixed("FROM a\nEXPOSE 22-23\n"), "FROM a\n");
        assert_eq!(fixed("FROM a\nEXPOSE $P 22\n"), "FROM a\nEXPOSE $P\n");
    }

    #[test]
    fn continuation_lines() {
        assert_eq!(
            fixed("FROM a\nEXPOSE 80 \\\n    22 \\\n    443\n"),
            "FROM a\nEXPOSE 80 \\\n    443\n"
        );
        assert_eq!(
            fixed("FROM a\nEXPOSE 80 \\\n  # ssh\n    22\nCMD x\n"),
            "FROM a\nEXPOSE 80\n  # ssh\nCMD x\n"
        );
        assert_eq!(
            fixed("FROM a\nEXPOSE 80 22 \\\n    23 \\\n    2375\r\nCMD x\n"),
            "FROM a\nEXPOSE 80\nCMD x\n"
        );
        assert_eq!(
            fixed("FROM a\nEXPOSE 22 \\\n    80 22\n"),
            "FROM a\nEXPOSE \\\n    80\n"
        );
        assert_eq!(
            fixed("FROM a\nEXPOSE 8080 \\\n    22 443 \\\n    23\n"),
            "FROM a\nEXPOSE 8080 \\\n    443\n"
        );
        assert_eq!(fixed("FROM a\nEXPOSE 80 \\\n    22"), "FROM a\nEXPOSE 80\n");
    }

    #[test]
    fn builder_stages_are_not_judged() {
        let t = "FROM a AS build\nEXPOSE 22\nFROM b\nCOPY --from=build /x /x\n";
        assert!(check_file(t, &parse(t).unwrap()).is_empty());
        let t = "FROM a AS base\nEXPOSE 22\nFROM base\nCMD x\n";
        assert_eq!(check_file(t, &parse(t).unwrap()).len(), 1);
    }
}
