use crate::declare_transform;
use crate::dockerfile::shell_lex::{
    self, append_cleanup, covers_path, mount_targets, run_script, run_texts, Script, ShWord,
    SimpleCommand,
};
use crate::dockerfile::syntax::{Dockerfile, Instruction};
use crate::dockerfile::{dockerfile, Reach, StageGraph};
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags a `RUN` of the shipped image whose `apk add` runs without `--no-cache`, unless the same
    /// `RUN` removes `/var/cache/apk` or mounts a cache there, or the `apk add` uses `--no-network`
    /// (nothing is fetched, so nothing is saved). The fix adds `--no-cache` right after
    /// `add` (other flags such as `--virtual .build-deps` are kept).
    ///
    /// ## Why is this bad?
    /// Without `--no-cache`, the package index that `apk` downloads stays in `/var/cache/apk` and ships in the layer: megabytes that nothing at run time needs.
    ///
    /// `--no-cache` fetches the index for this one command and keeps nothing, so a separate
    /// `apk update` or a `rm -rf /var/cache/apk/*` is not needed.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apk add --update --virtual .build-deps gcc musl-dev
    /// ```
    /// becomes
    /// ```dockerfile
    /// RUN apk add --no-cache --update --virtual .build-deps gcc musl-dev
    /// ```
    ///
    /// ## Fix safety
    /// Safe: `apk add --no-cache` installs the same packages. When the `RUN` also runs `apk update`
    /// (which saves the index whatever `apk add` does), ` && rm -rf /var/cache/apk/*` is appended
    /// too (as the last line of a `RUN <<EOF` script with `set -e`). Unsafe when the `RUN` saves the
    /// index (`apk update`, `-U`, `--update`, `--update-cache`) and a later `RUN` of the stage (or of a stage built
    /// `FROM` it) installs with `apk add` relying on that saved index (no `--no-cache`, no `-U`, no
    /// `apk update`), or runs a script that might: that `RUN` would no longer find the packages.
    /// No finding when the `RUN` mounts `/var/cache/apk` or
    /// `/etc/apk/cache` (`--mount=type=cache,target=/var/cache/apk`: `--no-cache` would defeat the
    /// cache). Only the final stage and the stages it is built `FROM` are checked. Not checked: the
    /// exec form, `sh -c '...'` strings, `ONBUILD`. Never in Windows files: an `escape` directive
    /// with `` ` ``, a Windows base image, or a `SHELL` switching to PowerShell or cmd.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use minimal base images (alpine, distroless) to reduce attack surface". hadolint
    /// DL3019, trivy AVD-DS-0025.
    pub struct ApkAddWithoutNoCache => "DF011", "apk-add-without-no-cache", Dockerfile, Always;
}

/// `apk` options that take a separate argument (global ones and those of `add`).
const APK_OPTIONS_WITH_ARG: &[&str] = &[
    "-X",
    "--repository",
    "-p",
    "--root",
    "--arch",
    "--keys-dir",
    "--repositories-file",
    "--cache-dir",
    "--cache-max-age",
    "--wait",
    "--timeout",
    "-t",
    "--virtual",
];

const CACHE_DIRS: &[&str] = &["/var/cache/apk", "/etc/apk/cache"];
const CLEANUP: &str = "rm -rf /var/cache/apk/*";

/// An `apk` command: the subcommand word and every word after `apk`.
struct ApkCommand<'c> {
    name: &'c ShWord,
    sub: &'c ShWord,
    args: &'c [ShWord],
}

fn apk_command(cmd: &SimpleCommand) -> Option<ApkCommand<'_>> {
    let i = cmd.name_index()?;
    if shell_lex::basename(&cmd.words[i].value) != "apk" {
        return None;
    }
    let args = &cmd.words[i + 1..];
    let mut k = 0;
    while k < args.len() {
        let v = args[k].value.as_str();
        if !v.starts_with('-') {
            return Some(ApkCommand {
                name: &cmd.words[i],
                sub: &args[k],
                args,
            });
        }
        k += if APK_OPTIONS_WITH_ARG.contains(&v) {
            2
        } else {
            1
        };
    }
    None
}

impl ApkCommand<'_> {
    fn has(&self, flags: &[&str]) -> bool {
        self.args.iter().any(|w| flags.contains(&w.value.as_str()))
    }

    /// Nothing is saved: `--no-cache`, or `--no-network` (nothing is fetched, the packages are
    /// already there: docker-library's `apk add --no-network --virtual .rundeps $runDeps`).
    fn no_cache(&self) -> bool {
        self.has(&["--no-cache", "--no-network"])
    }

    fn updates_index(&self) -> bool {
        self.has(&["-U", "--update", "--update-cache"])
            || self.args.iter().any(|w| {
                w.value.len() > 2
                    && w.value.starts_with('-')
                    && !w.value.starts_with("--")
                    && w.value.contains('U')
            })
    }
}

fn mounts_cache(ins: &Instruction) -> bool {
    mount_targets(ins)
        .iter()
        .any(|(_, t)| CACHE_DIRS.iter().any(|d| covers_path(t, d)))
}

/// The `RUN` cleans the apk cache itself.
fn cleans_cache(text: &str, ins: &Instruction) -> bool {
    run_texts(text, ins).iter().any(|t| {
        if CACHE_DIRS.iter().any(|d| t.src.contains(d)) {
            return true;
        }
        t.commands.iter().any(|c| {
            apk_command(c).is_some_and(|a| {
                a.sub.value == "cache"
                    && a.args
                        .iter()
                        .any(|w| matches!(w.value.as_str(), "clean" | "purge"))
            })
        })
    })
}

/// The `apk add` commands of a `RUN`'s editable script that this rule flags (no finding when the
/// `RUN` cleans or mounts the cache).
fn flagged_adds<'s>(text: &str, ins: &Instruction, script: &'s Script<'_>) -> Vec<ApkCommand<'s>> {
    if mounts_cache(ins) || cleans_cache(text, ins) {
        return Vec::new();
    }
    script
        .commands
        .iter()
        .filter_map(apk_command)
        .filter(|a| a.sub.value == "add" && !a.no_cache())
        .collect()
}

/// A later `RUN` that installs from an index saved by an earlier layer, or runs a script. When the
/// `RUN` gets this rule's fix too (`fixed`), the `apk add` commands of its script will not rely on
/// the saved index any more: only those in `sh -c` strings and other heredocs count.
fn relies_on_saved_index(text: &str, ins: &Instruction, fixed: Option<&str>) -> bool {
    if mounts_cache(ins) {
        return false;
    }
    let mut adds_from_saved = false;
    let mut updates = false;
    let mut script = false;
    for t in run_texts(text, ins) {
        let skip_adds = fixed == Some(t.src.as_str());
        for c in &t.commands {
            if let Some(a) = apk_command(c) {
                updates |= a.sub.value == "update";
                adds_from_saved |=
                    !skip_adds && a.sub.value == "add" && !a.no_cache() && !a.updates_index();
            } else if let Some((name, args)) = c.name_and_args() {
                let first = &c.words[c.name_index().unwrap_or(0)].value;
                script |= name.ends_with(".sh")
                    || first.starts_with("./")
                    || (shell_lex::is_posix_shell(name)
                        && args.first().is_some_and(|a| !a.value.starts_with('-')));
            }
        }
    }
    (adds_from_saved && !updates) || script
}

/// Per instruction: a `RUN` that relies on an index saved by an earlier `apk update`, with this
/// rule's own fixes taken into account; folded along the stage graph once per file so that each
/// `RUN` asks about the instructions after it in constant time.
fn relies_on_index(
    text: &str,
    df: &Dockerfile,
    graph: &StageGraph,
    shipped: &[bool],
    posix: &[bool],
) -> Reach {
    let mut flags = vec![false; df.instructions.len()];
    for (s, st) in graph.stages.iter().enumerate() {
        for i in st.instructions.clone() {
            let later = &df.instructions[i];
            if later.keyword != "RUN" && later.onbuild.as_ref().is_none_or(|o| o.keyword != "RUN") {
                continue;
            }
            let later_script = run_script(text, later);
            let fixed = later_script
                .as_ref()
                .filter(|sc| shipped[s] && posix[s] && !flagged_adds(text, later, sc).is_empty());
            flags[i] = relies_on_saved_index(text, later, fixed.map(|sc| sc.src.as_str()));
        }
    }
    graph.reach(&flags)
}

#[allow(clippy::too_many_arguments)]
fn check_run(
    text: &str,
    df: &Dockerfile,
    graph: &StageGraph,
    shipped: &[bool],
    posix: &[bool],
    relies: &mut Option<Reach>,
    stage: usize,
    index: usize,
    findings: &mut Vec<Finding>,
) {
    let ins = &df.instructions[index];
    let Some(script) = run_script(text, ins) else {
        return;
    };
    let adds = flagged_adds(text, ins, &script);
    let Some(first) = adds.first() else {
        return;
    };
    let mut edits: Vec<Edit> = adds
        .iter()
        .map(|a| Edit::insert(script.offset_after(a.sub.end), " --no-cache"))
        .collect();
    // `apk update` saves the index whatever `apk add` does: remove it at the end of the RUN.
    let updates = script
        .commands
        .iter()
        .filter_map(apk_command)
        .any(|a| a.sub.value == "update");
    let cleanup = if updates {
        append_cleanup(&script, CLEANUP)
    } else {
        None
    };
    let mut title = "Add --no-cache to apk add".to_owned();
    if let Some(e) = cleanup {
        edits.push(e);
        title.push_str(" and remove the index saved by apk update");
    }
    let risky = (updates || adds.iter().any(ApkCommand::updates_index))
        && relies
            .get_or_insert_with(|| relies_on_index(text, df, graph, shipped, posix))
            .any_after(stage, index);
    let fix = if risky {
        Fix::unsafe_(
            format!("{title} (a later RUN installs from the package index this one saves)"),
            edits,
        )
    } else {
        Fix::safe(title, edits)
    };
    findings.push(
        Finding::new(
            ApkAddWithoutNoCache::CODE,
            ApkAddWithoutNoCache::NAME,
            script.range(first.name.start, first.sub.end),
            "`apk add` without --no-cache leaves the package index in /var/cache/apk",
        )
        .with_fix(fix),
    );
}

fn check_file(text: &str, df: &Dockerfile) -> Vec<Finding> {
    // Every finding is about an `apk` command: a file that never says `apk` has none.
    if !text.contains("apk") {
        return Vec::new();
    }
    let graph = StageGraph::new(df);
    let mut findings = Vec::new();
    let shipped = graph.final_chain();
    let posix = graph.posix_shells(df);
    let mut relies = None;
    for s in 0..graph.stages.len() {
        if !shipped[s] || !posix[s] {
            continue;
        }
        for index in graph.stages[s].instructions.clone() {
            if df.instructions[index].keyword == "RUN" {
                check_run(
                    text,
                    df,
                    &graph,
                    &shipped,
                    &posix,
                    &mut relies,
                    s,
                    index,
                    &mut findings,
                );
            }
        }
    }
    findings
}

impl Check for ApkAddWithoutNoCache {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        dockerfile(ctx).map_or_else(Vec::new, |df| check_file(ctx.text, df))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::syntax::parse;
    use crate::fix::Applicability;

    fn findings(text: &str) -> Vec<Finding> {
        check_file(text, &parse(text).unwrap())
    }

    fn fixed(text: &str) -> String {
        crate::dockerfile::testing::fixed_by(findings, text)
    }

    #[test]
    fn adds_the_flag() {
        assert_eq!(
            fixed("FROM alpine\nRUN apk add --virtual .build-deps gcc && apk --update add curl\n"),
            "FROM alpine\nRUN apk add --no-cache --virtual .build-deps gcc && apk --update add --no-cache curl\n"
        );
        assert_eq!(
            fixed("FROM alpine\nRUN set -eux; \\\n    apk add \\\n      tini\n"),
            "FROM alpine\nRUN set -eux; \\\n    apk add --no-cache \\\n      tini\n"
        );
    }

    #[test]
    fn apk_update_index_is_removed() {
        assert_eq!(
            fixed("FROM alpine\nRUN apk update && \\\n    apk add bash\n"),
            "FROM alpine\nRUN apk update && \\\n    apk add --no-cache bash && rm -rf /var/cache/apk/*\n"
        );
        assert_eq!(
            fixed("FROM alpine\nRUN <<EOT\nset -e\napk update\napk add bash\nEOT\n"),
            "FROM alpine\nRUN <<EOT\nset -e\napk update\napk add --no-cache bash\nrm -rf /var/cache/apk/*\nEOT\n"
        );
    }

    #[test]
    fn clean_enough() {
        for t in [
            "FROM alpine\nRUN apk add --no-cache tini\n",
            "FROM alpine\nRUN apk --no-cache add tini\n",
            "FROM alpine\nRUN apk add --no-network --virtual .rundeps $runDeps\n",
            "FROM alpine\nRUN apk add --update tini && rm -rf /var/cache/apk/*\n",
            "FROM alpine\nRUN --mount=type=cache,target=/var/cache/apk apk add tini\n",
            "FROM alpine\nRUN --mount=type=cache,target=/etc/apk/cache apk add tini\n",
            "FROM alpine AS b\nRUN apk add gcc\nFROM scratch\n",
            "# escape=`\nFROM alpine\nRUN apk add tini\n",
            "FROM alpine\nRUN apk del tini\n",
        ] {
            assert!(findings(t).is_empty(), "{t}");
        }
    }

    #[test]
    fn unsafe_when_a_later_run_uses_the_saved_index() {
        let t = "FROM alpine\nRUN apk add -U a\nRUN apk add b && rm -rf /var/cache/apk/*\n";
        let f = findings(t);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].fix.as_ref().unwrap().applicability,
            Applicability::Unsafe
        );
        // The later RUN gets --no-cache too: it no longer relies on the saved index.
        let t = "FROM alpine\nRUN apk add -U a\nRUN apk add b\n";
        assert!(findings(t)
            .iter()
            .all(|f| f.fix.as_ref().unwrap().applicability == Applicability::Safe));
        // ... unless it is in a builder stage, which is not fixed.
        let t =
            "FROM alpine AS base\nRUN apk add -U a\nFROM base AS test\nRUN apk add b\nFROM base\n";
        assert_eq!(
            findings(t)[0].fix.as_ref().unwrap().applicability,
            Applicability::Unsafe
        );
        let t = "FROM alpine\nRUN apk add a\nRUN apk add b\n";
        assert!(findings(t)
            .iter()
            .all(|f| f.fix.as_ref().unwrap().applicability == Applicability::Safe));
    }
}
