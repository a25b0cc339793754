use crate::declare_transform;
use crate::dockerfile::shell_lex::{
    self, append_cleanup, covers_path, mount_targets, run_script, run_texts, spells,
    spells_ignoring_case, ShWord, SimpleCommand,
};
use crate::dockerfile::syntax::{Args, Dockerfile, Instruction};
use crate::dockerfile::{dockerfile, Reach, StageGraph};
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::knowledge::missing_relied_on_recommends;
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags a `RUN` of the shipped image whose `apt-get install` (or `apt install`) lacks
    /// `--no-install-recommends`, or that runs `apt-get update` without removing
    /// `/var/lib/apt/lists` in the same `RUN`. One finding per `RUN`; the fix adds the flag right
    /// after each `install` and appends ` && rm -rf /var/lib/apt/lists/*` to the command.
    ///
    /// ## Why is this bad?
    /// Recommended packages and stale package lists add tens of megabytes of software nobody asked for to the image, and every extra package is attack surface and CVE noise.
    ///
    /// Files deleted in a later `RUN` still live in the earlier layer, so the lists must be removed
    /// in the `RUN` that downloaded them.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y curl ca-certificates
    /// ```
    /// becomes
    /// ```dockerfile
    /// RUN apt-get update && apt-get install --no-install-recommends -y curl ca-certificates && rm -rf /var/lib/apt/lists/*
    /// ```
    /// In a `RUN <<EOF` script that uses `set -e`, the cleanup becomes the last line of the script.
    ///
    /// ## Fix safety
    /// Safe, with these exceptions and limits:
    /// - Unsafe when an installed package is known to rely on one of its recommendations (`curl`,
    ///   `wget`, `git` and `python3` on `ca-certificates`, `gcc` on `libc6-dev`, `python3-pip` on
    ///   `build-essential`/`python3-dev`, ...: `knowledge::APT_RELIED_ON_RECOMMENDS`) that is not
    ///   installed explicitly, or when a package name comes from a variable; and when a later `RUN`
    ///   runs a script (`./setup.sh`) that might install packages without `apt-get update`.
    /// - The cleanup is only asked for in a `RUN` that runs `apt-get update` (the lists of an
    ///   earlier layer cannot be shrunk from a later one), and not when a later `RUN` of the stage
    ///   (or of a stage built `FROM` it) installs packages without its own `apt-get update`:
    ///   removing the lists would break that `RUN`.
    /// - No cleanup is asked for when the `RUN` mounts `/var/lib/apt` or `/var/lib/apt/lists`
    ///   (`--mount=type=cache,target=/var/lib/apt`): the lists are then not in the layer, and
    ///   removing them would defeat the cache.
    /// - The flag is not asked for when recommends are decided otherwise: `--install-recommends`,
    ///   `-o APT::Install-Recommends=...`, or an earlier instruction that writes
    ///   `APT::Install-Recommends` or copies into `/etc/apt/apt.conf.d`.
    /// - A command that ends in `&&`, `|`, `&`, `exit` or an unclosed quote gets the flag but no
    ///   cleanup. `RUN <<EOF` scripts without `set -e` get ` && rm ...` on their last command, so a
    ///   failing install still fails the build.
    /// - Only the final stage and the stages it is built `FROM` are checked (builder stages are
    ///   thrown away). Not checked: the exec form, `sh -c '...'` strings, heredocs fed to other
    ///   programs, `ONBUILD`, `aptitude`. Never in Windows files: an `escape` directive with `` ` ``,
    ///   a Windows base image, or a `SHELL` switching to PowerShell or cmd.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use minimal base images" / "Remove package managers and unnecessary tools from
    /// production images". hadolint DL3015 (`--no-install-recommends`) and DL3009 (delete the apt
    /// lists), trivy AVD-DS-0029.
    pub struct AptGetInstallHygiene => "DF010", "apt-get-install-hygiene", Dockerfile, Always;
}

const FLAG: &str = "--no-install-recommends";
const CLEANUP: &str = "rm -rf /var/lib/apt/lists/*";

/// `apt-get`/`apt` options that take a separate argument.
const APT_OPTIONS_WITH_ARG: &[&str] = &[
    "-o",
    "-c",
    "-t",
    "-a",
    "--option",
    "--config-file",
    "--target-release",
    "--default-release",
    "--host-architecture",
];

/// Subcommands that read the package lists.
const LIST_READERS: &[&str] = &[
    "install",
    "reinstall",
    "upgrade",
    "dist-upgrade",
    "full-upgrade",
    "build-dep",
    "source",
    "download",
    "satisfy",
];

/// An `apt-get`/`apt` command: its name word, subcommand word and the words after the name.
struct AptCommand<'c> {
    name: &'c ShWord,
    sub: &'c ShWord,
    args: &'c [ShWord],
    /// Index of `sub` in `args`.
    sub_index: usize,
}

fn apt_command(cmd: &SimpleCommand) -> Option<AptCommand<'_>> {
    let i = cmd.name_index()?;
    let name = &cmd.words[i];
    if !matches!(shell_lex::basename(&name.value), "apt-get" | "apt") {
        return None;
    }
    let args = &cmd.words[i + 1..];
    let mut k = 0;
    while k < args.len() {
        let v = args[k].value.as_str();
        if !v.starts_with('-') {
            return Some(AptCommand {
                name,
                sub: &args[k],
                args,
                sub_index: k,
            });
        }
        k += if APT_OPTIONS_WITH_ARG.contains(&v) {
            2
        } else {
            1
        };
    }
    None
}

/// `-o APT::Install-Recommends=...` in any spelling.
fn is_recommends_option(v: &str) -> bool {
    v.to_ascii_lowercase()
        .trim_start_matches("--option=")
        .trim_start_matches("-o")
        .starts_with("apt::install-recommends")
}

impl AptCommand<'_> {
    /// `-s` and its aliases: nothing is installed.
    fn simulates(&self) -> bool {
        self.args.iter().any(|w| {
            matches!(
                w.value.as_str(),
                "-s" | "--simulate" | "--just-print" | "--dry-run" | "--recon" | "--no-act"
            )
        })
    }

    fn recommends_decided(&self) -> bool {
        self.args.iter().any(|w| {
            w.value == FLAG || w.value == "--install-recommends" || is_recommends_option(&w.value)
        })
    }

    /// The package operands after the subcommand (versions, releases and architectures removed).
    /// None when one comes from a variable or a substitution.
    fn packages(&self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut k = self.sub_index + 1;
        while k < self.args.len() {
            let v = self.args[k].value.as_str();
            if v.starts_with('-') {
                k += if APT_OPTIONS_WITH_ARG.contains(&v) {
                    2
                } else {
                    1
                };
                continue;
            }
            if v.contains(['$', '`']) {
                return None;
            }
            if !v.starts_with(['.', '/']) {
                let end = v.find(['=', ':', '/']).unwrap_or(v.len());
                out.push(v[..end].to_owned());
            }
            k += 1;
        }
        Some(out)
    }
}

/// How a `RUN` uses apt: reads the lists (install, upgrade, apt-cache...) and/or updates them.
#[derive(Debug, Default, PartialEq, Eq)]
struct AptUse {
    reads_lists: bool,
    updates: bool,
    runs_script: bool,
}

fn apt_use(text: &str, ins: &Instruction) -> AptUse {
    #[cfg(test)]
    crate::work::add("df010.apt_use", 1);
    let mut u = AptUse::default();
    for t in run_texts(text, ins) {
        for cmd in &t.commands {
            if let Some(apt) = apt_command(cmd) {
                let sub = apt.sub.value.as_str();
                u.updates |= sub == "update";
                u.reads_lists |= LIST_READERS.contains(&sub);
                continue;
            }
            let Some((name, args)) = cmd.name_and_args() else {
                continue;
            };
            match name {
                "apt-cache" | "aptitude" | "apt-get" | "apt" => u.reads_lists = true,
                _ if name.ends_with(".sh")
                    || cmd.words[cmd.name_index().unwrap_or(0)]
                        .value
                        .starts_with("./") =>
                {
                    u.runs_script = true;
                }
                _ if shell_lex::is_posix_shell(name)
                    && args.first().is_some_and(|a| !a.value.starts_with('-')) =>
                {
                    u.runs_script = true;
                }
                _ => {}
            }
        }
    }
    u
}

/// What the scripts a `RUN` may execute spell ([`shell_lex::spells`]: a word's value, and a script
/// given to `sh -c`, is its text less quotes, backslashes and line breaks), so that a `RUN` that
/// cannot matter to a question is not lexed for it: every apt command is a word holding `apt`,
/// the apt configuration `APT::Install-Recommends` holds it in any case, a script run is a word
/// holding `sh` (`*.sh` or a shell) or starting with `./`.
#[derive(Clone, Copy, Default)]
struct Spelled {
    apt: bool,
    apt_any_case: bool,
    script: bool,
}

impl Spelled {
    /// For the texts [`run_texts`] lexes: the shell form's text or the exec form's arguments
    /// joined, and the heredoc bodies.
    fn of(text: &str, ins: &Instruction) -> Self {
        let ins = ins.onbuild.as_deref().unwrap_or(ins);
        let joined;
        let mut sources: Vec<&str> = Vec::with_capacity(1 + ins.heredocs.len());
        match &ins.args {
            Args::Json(j) => {
                joined = j
                    .items
                    .iter()
                    .map(|i| i.value.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                sources.push(&joined);
            }
            Args::Shell(a) => sources.push(&a.text),
        }
        for h in &ins.heredocs {
            sources.push(h.body_range.slice(text));
        }
        let any = |word: &str| {
            sources
                .iter()
                .any(|s| spells(s.as_bytes(), word.as_bytes()))
        };
        Self {
            apt: any("apt"),
            apt_any_case: sources
                .iter()
                .any(|s| spells_ignoring_case(s.as_bytes(), b"apt")),
            script: any("sh") || any("./"),
        }
    }
}

/// What the other instructions tell a `RUN`, computed once per file: whether an earlier one
/// configures recommends, and whether a later one reads the apt lists without updating them or runs
/// a script (each a [`Reach`], so every `RUN` asks in constant time); and what each `RUN` spells.
struct RunFacts {
    configures: Reach,
    reads_stale_lists: Reach,
    runs_script: Reach,
    spelled: Vec<Spelled>,
}

impl RunFacts {
    fn new(text: &str, df: &Dockerfile, graph: &StageGraph) -> Self {
        let is_run = |i: &Instruction| {
            i.keyword == "RUN" || i.onbuild.as_ref().is_some_and(|o| o.keyword == "RUN")
        };
        let spelled: Vec<Spelled> = df
            .instructions
            .iter()
            .map(|i| {
                if is_run(i) {
                    Spelled::of(text, i)
                } else {
                    Spelled::default()
                }
            })
            .collect();
        let uses: Vec<AptUse> = df
            .instructions
            .iter()
            .zip(&spelled)
            .map(|(i, sp)| {
                if is_run(i) && (sp.apt || sp.script) {
                    apt_use(text, i)
                } else {
                    AptUse::default()
                }
            })
            .collect();
        let configures: Vec<bool> = df
            .instructions
            .iter()
            .zip(&spelled)
            .map(|(i, sp)| configures_recommends(text, i, sp))
            .collect();
        let stale: Vec<bool> = uses.iter().map(|u| u.reads_lists && !u.updates).collect();
        let script: Vec<bool> = uses.iter().map(|u| u.runs_script).collect();
        Self {
            configures: graph.reach(&configures),
            reads_stale_lists: graph.reach(&stale),
            runs_script: graph.reach(&script),
            spelled,
        }
    }
}

/// The instruction decides recommends for the whole image (apt configuration); `spelled`: what it
/// spells, when it is a `RUN`.
fn configures_recommends(text: &str, ins: &Instruction, spelled: &Spelled) -> bool {
    {
        let ins = ins.onbuild.as_deref().unwrap_or(ins);
        match ins.keyword.as_str() {
            "RUN" if !spelled.apt_any_case => false,
            "RUN" => run_texts(text, ins).iter().any(|t| {
                t.src
                    .to_ascii_lowercase()
                    .contains("apt::install-recommends")
            }),
            "COPY" | "ADD" => {
                let dest = match &ins.args {
                    Args::Json(j) => j.items.last().map(|i| i.value.clone()),
                    Args::Shell(_) => ins.shell_words().last().map(|w| w.value.clone()),
                };
                dest.is_some_and(|d| d.contains("/etc/apt/apt.conf"))
            }
            _ => false,
        }
    }
}

fn has_lists_cleanup(text: &str, ins: &Instruction) -> bool {
    run_texts(text, ins).iter().any(|t| {
        if t.src.contains("/var/lib/apt/lists") {
            return true;
        }
        t.commands.iter().any(|c| {
            // `apt-get dist-clean` (apt 2.7+) removes the lists too.
            apt_command(c).is_some_and(|a| a.sub.value == "dist-clean")
                || c.name_and_args().is_some_and(|(name, args)| {
                    name == "rm"
                        && args.iter().any(|a| {
                            covers_path(a.value.trim_end_matches("/*"), "/var/lib/apt/lists")
                        })
                })
        })
    })
}

#[allow(clippy::too_many_lines)]
fn check_run(
    text: &str,
    df: &Dockerfile,
    cx: &RunFacts,
    stage: usize,
    index: usize,
    findings: &mut Vec<Finding>,
) {
    let ins = &df.instructions[index];
    // Every finding is about an install command: a word holding `apt`.
    if !cx.spelled[index].apt {
        return;
    }
    let Some(script) = run_script(text, ins) else {
        return;
    };
    let mut installs = Vec::new();
    let mut configured_here = false;
    let mut updates = false;
    for cmd in &script.commands {
        match apt_command(cmd) {
            Some(apt) if apt.sub.value == "install" && !apt.simulates() => {
                installs.push((apt, configured_here));
            }
            Some(apt) => updates |= apt.sub.value == "update",
            None => {
                configured_here |= cmd.words.iter().any(|w| {
                    w.value
                        .to_ascii_lowercase()
                        .contains("apt::install-recommends")
                });
            }
        }
    }
    let Some((first, _)) = installs.first() else {
        return;
    };
    let range = script.range(first.name.start, first.sub.end);
    let configured = cx.configures.any_before(stage, index);
    let need_flag: Vec<&AptCommand<'_>> = installs
        .iter()
        .filter(|(a, conf)| !configured && !conf && !a.recommends_decided())
        .map(|(a, _)| a)
        .collect();

    let lists_needed_later = cx.reads_stale_lists.any_after(stage, index);
    let mounted = mount_targets(ins)
        .iter()
        .any(|(_, t)| covers_path(t, "/var/lib/apt/lists"));
    let cleanup = if updates && !mounted && !lists_needed_later && !has_lists_cleanup(text, ins) {
        append_cleanup(&script, CLEANUP)
    } else {
        None
    };
    if need_flag.is_empty() && cleanup.is_none() {
        return;
    }

    let mut unsafe_reasons = Vec::new();
    if !need_flag.is_empty() {
        let mut all = Vec::new();
        let mut opaque = false;
        for (a, _) in &installs {
            match a.packages() {
                Some(p) => all.extend(p),
                None => opaque = true,
            }
        }
        let names: Vec<&str> = all.iter().map(String::as_str).collect();
        let missing = missing_relied_on_recommends(&names);
        if opaque {
            unsafe_reasons.push("a package name comes from a variable".to_owned());
        }
        if !missing.is_empty() {
            let m = missing
                .iter()
                .map(|(p, n)| format!("{p} relies on {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            unsafe_reasons.push(format!("{m}: install it explicitly"));
        }
    }
    if cleanup.is_some() && cx.runs_script.any_after(stage, index) {
        unsafe_reasons.push("a later RUN runs a script that may need the package lists".into());
    }

    let mut edits: Vec<Edit> = need_flag
        .iter()
        .map(|a| Edit::insert(script.offset_after(a.sub.end), format!(" {FLAG}")))
        .collect();
    let tool = shell_lex::basename(&first.name.value).to_owned();
    let (message, title) = match (need_flag.is_empty(), cleanup.is_some()) {
        (false, true) => (
            format!("`{tool} install` without {FLAG}, and the apt lists are left in the layer"),
            format!("Add {FLAG} and remove /var/lib/apt/lists"),
        ),
        (false, false) => (
            format!("`{tool} install` without {FLAG}"),
            format!("Add {FLAG}"),
        ),
        _ => (
            "The apt lists downloaded by `apt-get update` are left in the layer".to_owned(),
            "Remove /var/lib/apt/lists in the same RUN".to_owned(),
        ),
    };
    if let Some(c) = cleanup {
        // After the last word of an `apt-get install` that ends the script, the flag and the
        // cleanup go to the same offset: one insertion, the flag first.
        match edits.iter_mut().find(|e| e.range == c.range) {
            Some(e) => e.replacement.push_str(&c.replacement),
            None => edits.push(c),
        }
    }
    let fix = if unsafe_reasons.is_empty() {
        Fix::safe(title, edits)
    } else {
        Fix::unsafe_(format!("{title} ({})", unsafe_reasons.join("; ")), edits)
    };
    findings.push(
        Finding::new(
            AptGetInstallHygiene::CODE,
            AptGetInstallHygiene::NAME,
            range,
            message,
        )
        .with_fix(fix),
    );
}

fn check_file(text: &str, df: &Dockerfile) -> Vec<Finding> {
    // Every finding is about an `apt-get`/`apt` command: a file that never says `apt` has none
    // (most Dockerfiles; lexing every RUN to learn that was a tenth of `check`).
    if !text.contains("apt") {
        return Vec::new();
    }
    let graph = StageGraph::new(df);
    let mut findings = Vec::new();
    let mut cx = None;
    let posix = graph.posix_shells(df);
    for (s, shipped) in graph.final_chain().into_iter().enumerate() {
        if !shipped || !posix[s] {
            continue;
        }
        for index in graph.stages[s].instructions.clone() {
            if df.instructions[index].keyword == "RUN" {
                let cx = cx.get_or_insert_with(|| RunFacts::new(text, df, &graph));
                check_run(text, df, cx, s, index, &mut findings);
            }
        }
    }
    findings
}

impl Check for AptGetInstallHygiene {
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

    /// A `RUN` left unlexed for a question because of what it spells gets the answer lexing
    /// gives: over every `RUN` of the corpora's Dockerfiles, `golden/` and samples that hide the
    /// words in quotes, escapes, heredocs, `sh -c` and exec form.
    #[test]
    fn what_a_run_spells_decides_only_what_lexing_would() {
        let mut texts: Vec<String> = crate::testing::corpus_files(|p| {
            crate::source::kind_from_path(&p.to_string_lossy())
                == Some(crate::source::FileKind::Dockerfile)
        })
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
        texts.extend(
            [
                "FROM debian\nRUN a\"p\"t-get install x && ./run && b\\\nash -c 'ls'\n",
                "FROM debian\nRUN echo 'APT::Install-Recommends \"0\";' > /etc/apt/apt.conf.d/x\n",
                "FROM debian\nRUN <<EOF\nap\\\nt-get update\nEOF\n",
                "FROM debian\nRUN [\"s\\u0068\", \"-c\", \"apt-get install y\"]\n",
                "FROM debian\nONBUILD RUN apt-get install z\nRUN make\n",
                "FROM debian\nRUN ./configure\nRUN 'ba'sh build\n",
            ]
            .map(str::to_owned),
        );
        let (mut runs, mut skipped) = (0, 0);
        for text in &texts {
            let Ok(df) = parse(text) else {
                continue;
            };
            for ins in &df.instructions {
                let run = ins.onbuild.as_deref().unwrap_or(ins);
                if run.keyword != "RUN" {
                    continue;
                }
                runs += 1;
                let sp = Spelled::of(text, ins);
                if !sp.apt && !sp.script {
                    skipped += 1;
                    assert_eq!(apt_use(text, ins), AptUse::default(), "{text}");
                }
                let all = Spelled {
                    apt_any_case: true,
                    ..sp
                };
                if !sp.apt_any_case {
                    assert!(!configures_recommends(text, ins, &all), "{text}");
                }
                if !sp.apt {
                    let script = run_script(text, run);
                    assert!(
                        script.is_none_or(|s| s.commands.iter().all(|c| apt_command(c).is_none())),
                        "{text}"
                    );
                }
            }
        }
        assert!(runs > 0);
        eprintln!("{skipped} of {runs} RUNs need no lexing for apt_use");
    }

    fn fixed(text: &str) -> String {
        crate::dockerfile::testing::fixed_by(findings, text)
    }

    fn applicability(text: &str) -> Applicability {
        findings(text)[0].fix.as_ref().unwrap().applicability
    }

    /// Scaling by counting work: what later `RUN`s do with apt is worked out once per `RUN`, not
    /// once per pair of `RUN`s (a 6 MB Dockerfile of such lines took hours).
    #[test]
    fn each_run_is_lexed_once_for_what_later_runs_need() {
        let mut text = String::from("FROM debian:12\n");
        for i in 0..300 {
            text += &format!("RUN apt-get update && apt-get install -y p{i}\n");
        }
        crate::work::take("df010.apt_use");
        let found = findings(&text);
        assert_eq!(found.len(), 300);
        let n = crate::work::take("df010.apt_use");
        assert!(n <= 301, "{n} apt_use calls for 300 RUNs");
    }

    #[test]
    fn flag_and_cleanup() {
        assert_eq!(
            fixed("FROM debian\nRUN apt-get update && apt-get install -y ca-certificates\n"),
            "FROM debian\nRUN apt-get update && apt-get install --no-install-recommends -y ca-certificates && rm -rf /var/lib/apt/lists/*\n"
        );
        assert_eq!(
            fixed("FROM debian\nRUN apt-get update; DEBIAN_FRONTEND=noninteractive apt-get -qq install -y \\\n      tini \\\n      jq ;\n"),
            "FROM debian\nRUN apt-get update; DEBIAN_FRONTEND=noninteractive apt-get -qq install --no-install-recommends -y \\\n      tini \\\n      jq && rm -rf /var/lib/apt/lists/* ;\n"
        );
        // Two installs: the flag on each, the cleanup once.
        assert_eq!(
            fixed("FROM debian\nRUN apt-get update && apt-get install -y a && apt install b\n"),
            "FROM debian\nRUN apt-get update && apt-get install --no-install-recommends -y a && apt install --no-install-recommends b && rm -rf /var/lib/apt/lists/*\n"
        );
        // Only the flag: no update here.
        assert_eq!(
            fixed("FROM debian\nRUN apt-get install -y tini\n"),
            "FROM debian\nRUN apt-get install --no-install-recommends -y tini\n"
        );
        // Only the cleanup.
        assert_eq!(
            fixed("FROM debian\nRUN apt-get update && apt-get install --no-install-recommends -y tini > /dev/null # quiet\n"),
            "FROM debian\nRUN apt-get update && apt-get install --no-install-recommends -y tini > /dev/null && rm -rf /var/lib/apt/lists/* # quiet\n"
        );
    }

    /// `apt-get install` as the last word: the flag and the cleanup go to the same offset, as one
    /// edit (two insertions at one offset conflict, which was an internal error).
    #[test]
    fn flag_and_cleanup_at_the_same_place() {
        assert_eq!(
            fixed("FROM debian\nRUN apt-get update && apt-get install\n"),
            "FROM debian\nRUN apt-get update && apt-get install --no-install-recommends && rm -rf /var/lib/apt/lists/*\n"
        );
        assert_eq!(
            fixed("FROM debian\nRUN apt-get update \\\n  && apt-get install "),
            "FROM debian\nRUN apt-get update \\\n  && apt-get install --no-install-recommends && rm -rf /var/lib/apt/lists/* "
        );
    }

    #[test]
    fn edits_land_next_to_continuations() {
        assert_eq!(
            fixed("FROM debian\nRUN apt-get update && apt-get install\\\n  -y tini\\\n"),
            "FROM debian\nRUN apt-get update && apt-get install --no-install-recommends\\\n  -y tini && rm -rf /var/lib/apt/lists/*\\\n"
        );
        assert_eq!(
            fixed("FROM debian\nRUN apt-get update \\\n\n # c\n && apt-get install -y tini \\\n # end\n\nCMD x\n"),
            "FROM debian\nRUN apt-get update \\\n\n # c\n && apt-get install --no-install-recommends -y tini \\\n # end\n\nCMD x && rm -rf /var/lib/apt/lists/*\n"
        );
    }

    #[test]
    fn already_clean() {
        for t in [
            "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends a && rm -rf /var/lib/apt/lists/*\n",
            "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends a \\\n && apt-get clean && rm -rf /var/lib/apt/lists\n",
            "FROM debian\nRUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get -o APT::Install-Recommends=0 install -y a\n",
            "FROM debian\nRUN echo 'APT::Install-Recommends \"0\";' > /etc/apt/apt.conf.d/01\nRUN apt-get install -y a\n",
            "FROM debian AS build\nRUN apt-get update && apt-get install -y gcc\nFROM scratch\nCOPY --from=build /x /x\n",
            "# escape=`\nFROM debian\nRUN apt-get update && apt-get install -y a\n",
            "FROM debian\nSHELL [\"pwsh\", \"-c\"]\nRUN apt-get install -y a\n",
            "FROM debian\nRUN [\"apt-get\", \"install\", \"-y\", \"a\"]\n",
            "FROM debian\nRUN apt-get update && apt-get install -y --install-recommends a && rm -rf /var/lib/apt/lists/*\n",
        ] {
            assert!(findings(t).is_empty(), "{t}");
        }
    }

    #[test]
    fn no_cleanup_when_a_later_run_needs_the_lists() {
        let t = "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends a\nRUN apt-get install -y --no-install-recommends b\n";
        assert!(findings(t).is_empty());
        let t = "FROM debian AS base\nRUN apt-get update && apt-get install -y --no-install-recommends a\nFROM base AS test\nRUN apt-get install -y --no-install-recommends b\nFROM base\n";
        assert!(findings(t).is_empty());
        // A later RUN with its own update does not need them.
        let t = "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends a\nRUN apt-get update && apt-get install -y --no-install-recommends b && rm -rf /var/lib/apt/lists/*\n";
        assert_eq!(findings(t).len(), 1);
    }

    #[test]
    fn heredoc_scripts() {
        assert_eq!(
            fixed("FROM debian\nRUN <<EOF\nset -eux\napt-get update\napt-get install -y tini\nEOF\n"),
            "FROM debian\nRUN <<EOF\nset -eux\napt-get update\napt-get install --no-install-recommends -y tini\nrm -rf /var/lib/apt/lists/*\nEOF\n"
        );
        assert_eq!(
            fixed("FROM debian\nRUN bash <<-EOF\r\n\tapt-get update\r\n\tapt-get install -y tini\r\n\tEOF\r\n"),
            "FROM debian\nRUN bash <<-EOF\r\n\tapt-get update\r\n\tapt-get install --no-install-recommends -y tini && rm -rf /var/lib/apt/lists/*\r\n\tEOF\r\n"
        );
        // A heredoc that is data: the command line is the script.
        assert_eq!(
            fixed("FROM debian\nRUN cat > /etc/x <<EOF && apt-get update && apt-get install -y tini\napt-get install -y nope\nEOF\n"),
            "FROM debian\nRUN cat > /etc/x <<EOF && apt-get update && apt-get install --no-install-recommends -y tini && rm -rf /var/lib/apt/lists/*\napt-get install -y nope\nEOF\n"
        );
        // A python heredoc is not a shell script.
        assert!(findings(
            "FROM debian\nRUN <<EOF\n#!/usr/bin/env python3\napt-get install x\nEOF\n"
        )
        .is_empty());
    }

    #[test]
    fn unsafe_when_recommends_are_relied_on() {
        assert_eq!(
            applicability("FROM debian\nRUN apt-get install -y curl\n"),
            Applicability::Unsafe
        );
        assert_eq!(
            applicability("FROM debian\nRUN apt-get install -y curl ca-certificates\n"),
            Applicability::Safe
        );
        assert_eq!(
            applicability("FROM debian\nRUN apt-get install -y $PKGS\n"),
            Applicability::Unsafe
        );
        assert_eq!(
            applicability("FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends a\nRUN ./setup.sh\n"),
            Applicability::Unsafe
        );
    }

    #[test]
    fn no_cleanup_after_unfinished_commands() {
        assert_eq!(
            fixed("FROM debian\nRUN apt-get update && apt-get install -y tini; exit 0\n"),
            "FROM debian\nRUN apt-get update && apt-get install --no-install-recommends -y tini; exit 0\n"
        );
        assert!(findings("FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends tini &\n").is_empty());
    }
}
