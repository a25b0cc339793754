//! Verification of a fix by meaning for the script kinds: what the file runs must be what it ran,
//! apart from the container commands the fixes edit.
//!
//! - Outside the shell text (a Makefile's rules and variables, a unit's other settings): the
//!   [`ScriptFile::skeleton`]s must be equal (YAML and JSON are compared on their semantic value by
//!   the engine, with the paths the fixes declare).
//! - Inside: every script is read again; the operators and line breaks between commands and the
//!   here-document bodies must be the same, and so must every command, word for word as written,
//!   except a `docker run` / `docker create` that is still one: the same program, subcommand and
//!   global options, the same image repository, the same container command after the image; only
//!   its flags (and the image's tag or digest) may differ.

use crate::fix::SemanticPath;
use crate::knowledge::ImageName;
use crate::source::FileKind;

use super::docker::DockerRun;
use super::fragment::{masked, Cmd, Fragment};
use super::ScriptFile;

fn first_difference(a: &[String], b: &[String]) -> String {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            return format!("entry {}: `{x}` became `{y}`", i + 1);
        }
    }
    format!("{} entries became {}", a.len(), b.len())
}

/// Check that `after` runs what `before` ran, apart from edited container commands. `changes` are
/// the semantic paths the applied fixes declare (YAML kinds).
///
/// # Errors
/// A description of the first difference.
pub fn verify(
    before: &ScriptFile,
    after: &ScriptFile,
    changes: &[SemanticPath],
) -> Result<(), String> {
    if before.skeleton != after.skeleton {
        return Err(format!(
            "the fix changed the file outside its commands ({})",
            first_difference(&before.skeleton, &after.skeleton)
        ));
    }
    if before.kind.is_yaml() {
        for a in &before.fragments {
            let Some(path) = &a.yaml_path else {
                continue;
            };
            // Under a list the fix restructures (a step inserted): compared as YAML only.
            if changes.iter().any(|c| {
                c.document == path.document
                    && path.keys.len() > c.keys.len()
                    && path.keys.starts_with(&c.keys)
            }) {
                continue;
            }
            let Some(b) = after
                .fragments
                .iter()
                .find(|b| b.yaml_path.as_ref() == Some(path))
            else {
                if changes.iter().any(|c| c == path) {
                    return Err(format!(
                        "the script at `{}` is no longer a string",
                        path.keys.join(".")
                    ));
                }
                continue;
            };
            if a.src != b.src {
                compare(a, b).map_err(|e| format!("`{}`: {e}", path.keys.join(".")))?;
            }
        }
        return Ok(());
    }
    if before.fragments.len() != after.fragments.len() {
        return Err(format!(
            "the fix changed how many command lines the file has ({} became {})",
            before.fragments.len(),
            after.fragments.len()
        ));
    }
    for (a, b) in before.fragments.iter().zip(&after.fragments) {
        if a.src != b.src {
            compare(a, b)?;
        }
    }
    Ok(())
}

/// Line breaks between commands, with runs of them (blank and comment lines) read as one.
fn separators(f: &Fragment) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in f.separators() {
        let s = if s == "\r\n" { "\n".to_owned() } else { s };
        if s == "\n" && out.last().is_some_and(|l| l == "\n") {
            continue;
        }
        out.push(s);
    }
    while out.first().is_some_and(|l| l == "\n") {
        out.remove(0);
    }
    out
}

fn compare(a: &Fragment, b: &Fragment) -> Result<(), String> {
    let (sa, sb) = (separators(a), separators(b));
    if sa != sb {
        return Err(format!(
            "the fix changed the operators, line breaks or here-documents between commands ({})",
            first_difference(&sa, &sb)
        ));
    }
    let (ca, cb) = (a.commands(), b.commands());
    if ca.len() != cb.len() {
        return Err(format!(
            "the fix changed the number of commands ({} became {})",
            ca.len(),
            cb.len()
        ));
    }
    for (x, y) in ca.iter().zip(&cb) {
        compare_cmd(x, a, y, b)?;
    }
    Ok(())
}

fn words(c: &Cmd) -> Vec<String> {
    c.words.iter().map(|w| masked(&w.raw)).collect()
}

fn describe(c: &Cmd) -> String {
    let text: Vec<&str> = c.words.iter().map(|w| w.raw.as_str()).collect();
    let t = text.join(" ");
    if t.len() > 80 {
        format!(
            "{}…",
            &t[..t.char_indices().nth(77).map_or(t.len(), |(i, _)| i)]
        )
    } else {
        t
    }
}

fn compare_cmd(x: &Cmd, fa: &Fragment, y: &Cmd, fb: &Fragment) -> Result<(), String> {
    if x.nesting != y.nesting {
        return Err(format!("the command `{}` moved", describe(x)));
    }
    if words(x) == words(y) {
        return Ok(());
    }
    let (Some(r1), Some(r2)) = (DockerRun::parse(x, fa), DockerRun::parse(y, fb)) else {
        return Err(format!(
            "the fix changed the command `{}` (now `{}`), which is not a container command it edits",
            describe(x),
            describe(y)
        ));
    };
    let prefix = |r: &DockerRun| -> Vec<String> {
        r.words[..=r.sub].iter().map(|w| masked(&w.raw)).collect()
    };
    let args = |r: &DockerRun| -> Vec<String> {
        r.command_args().iter().map(|w| masked(&w.raw)).collect()
    };
    let same_image = match (r1.image_word(), r2.image_word()) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.raw == b.raw || {
                let (ia, ib) = (ImageName::parse(&a.value), ImageName::parse(&b.value));
                ia.registry == ib.registry && ia.repository == ib.repository
            }
        }
        _ => false,
    };
    if r1.tool != r2.tool || r1.create != r2.create || prefix(&r1) != prefix(&r2) {
        return Err(format!("the fix changed the program of `{}`", describe(x)));
    }
    if !same_image {
        return Err(format!("the fix changed the image of `{}`", describe(x)));
    }
    if args(&r1) != args(&r2) {
        return Err(format!(
            "the fix changed the container command after the image of `{}`",
            describe(x)
        ));
    }
    Ok(())
}

/// Whether a kind is verified here.
#[must_use]
pub fn applies(kind: FileKind) -> bool {
    !matches!(
        kind,
        FileKind::Dockerfile | FileKind::Compose | FileKind::Kubernetes | FileKind::DaemonJson
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: FileKind, a: &str, b: &str) -> Result<(), String> {
        let before = super::super::parse(kind, a).unwrap();
        let after = super::super::parse(kind, b).unwrap();
        verify(&before, &after, &[])
    }

    #[test]
    fn only_container_flags_may_change() {
        let a = "set -e\ndocker run -d \\\n  nginx:1.27\necho done\n";
        check(
            FileKind::Shell,
            a,
            "set -e\ndocker run -d \\\n  --cap-drop ALL \\\n  nginx:1.27\necho done\n",
        )
        .unwrap();
        // A flag line whose continuation is lost: `nginx` becomes a command of its own.
        assert!(check(
            FileKind::Shell,
            a,
            "set -e\ndocker run -d \\\n  --cap-drop ALL\n  nginx:1.27\necho done\n"
        )
        .is_err());
        // Another command changed.
        assert!(check(
            FileKind::Shell,
            a,
            "set -e\ndocker run -d \\\n  nginx:1.27\necho Done\n"
        )
        .is_err());
        // The container's command changed.
        assert!(check(FileKind::Shell, "docker run x a\n", "docker run x b\n").is_err());
        // A pin keeps the repository.
        check(
            FileKind::Shell,
            "docker run redis\n",
            "docker run redis:7.4\n",
        )
        .unwrap();
        assert!(check(FileKind::Shell, "docker run redis\n", "docker run valkey\n").is_err());
        // Comment lines may go (an unused suppression).
        check(
            FileKind::Shell,
            "a\n# dockharden: ignore=DR001\nb\n",
            "a\nb\n",
        )
        .unwrap();
    }

    #[test]
    fn makefile_rules_are_compared() {
        let a = "up:\n\tdocker run x\n";
        check(FileKind::Makefile, a, "up:\n\tdocker run --rm x\n").unwrap();
        assert!(check(FileKind::Makefile, a, "up: dep\n\tdocker run x\n").is_err());
    }
}
