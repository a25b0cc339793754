//! What the image-level Dockerfile rules (DF002 runs-as-root, DF004 missing-healthcheck, DF009
//! full-base-image) need to know about a file: the final stage, the chain of stages it is built on
//! (`FROM build` continues stage `build`), the external image at the root of that chain (resolved
//! through the `ARG` defaults declared before the first `FROM`), its family, the effective `USER`, and
//! the packages its `RUN` instructions install and remove.
//!
//! Everything here is derived from the parsed document; nothing searches the raw text.

use std::collections::BTreeMap;

use crate::dockerfile::syntax::{Args, Dockerfile, Instruction, NodeKind, Stage};
use crate::edit::Edit;
use crate::knowledge::{self, Family, ImageName};

/// What a stage is built on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    /// `FROM scratch`.
    Scratch,
    /// An earlier stage (index into [`Analysis::stages`]).
    Stage(usize),
    /// An external image, after `ARG` expansion.
    Image(ImageName),
    /// A templated reference the `ARG` defaults do not resolve (as written).
    Unresolved(String),
}

/// The effective user of a stage at its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum User {
    /// Root: set by the `USER` instruction at this index in [`Dockerfile::instructions`], or (None)
    /// inherited from a base that runs as root (or whose user is not known to be non-root).
    Root(Option<usize>),
    /// A non-root user (`USER app`, `USER 1000:1000`) or a base known to run as non-root.
    NonRoot,
    /// `USER $VAR`: cannot be judged statically.
    Unknown,
}

/// A package installed by a `RUN` instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// The package name, version pin removed (`curl=7.88.1-10` → `curl`).
    pub name: String,
    /// `apt-get`, `apk`, `dnf`, `yum` or `microdnf` (`apt` and `aptitude` count as `apt-get`).
    pub manager: &'static str,
    /// The instruction (index in [`Dockerfile::instructions`]) that installs it.
    pub instruction: usize,
    /// `apk add --virtual NAME`: the virtual package it belongs to.
    group: Option<String>,
    /// Marked automatically installed by `apt-mark auto` in the same RUN.
    auto: bool,
}

/// The analysis of one Dockerfile.
pub struct Analysis<'a> {
    pub df: &'a Dockerfile,
    pub stages: Vec<Stage>,
    /// What each stage is built on (same order as [`Analysis::stages`]).
    pub bases: Vec<Base>,
}

impl<'a> Analysis<'a> {
    #[must_use]
    pub fn new(df: &'a Dockerfile) -> Self {
        Self::new_with_args(df, &BTreeMap::new())
    }

    /// [`Analysis::new`] with build arguments (`--build-arg`, compose `build.args`) that override the
    /// defaults of the global `ARG`s they name.
    #[must_use]
    pub fn new_with_args(df: &'a Dockerfile, build_args: &BTreeMap<String, String>) -> Self {
        let stages = df.stages();
        let mut args = global_args(df);
        for (k, v) in build_args {
            if args.contains_key(k) || declares_global_arg(df, k) {
                args.insert(k.clone(), v.clone());
            }
        }
        let mut bases = Vec::with_capacity(stages.len());
        for (n, stage) in stages.iter().enumerate() {
            let from = &df.instructions[stage.from];
            let base = match from.from_image_text() {
                None => Base::Unresolved(String::new()),
                Some(image) => match expand(image, &args) {
                    None => Base::Unresolved(image.to_owned()),
                    Some(text) => {
                        let earlier = stages[..n].iter().rposition(|s| {
                            s.name
                                .as_deref()
                                .is_some_and(|name| name.eq_ignore_ascii_case(&text))
                        });
                        match earlier {
                            Some(i) => Base::Stage(i),
                            None if text.eq_ignore_ascii_case("scratch") => Base::Scratch,
                            None => Base::Image(ImageName::parse(&text)),
                        }
                    }
                },
            };
            bases.push(base);
        }
        Self { df, stages, bases }
    }

    /// The last stage (the image that `docker build` produces without `--target`).
    #[must_use]
    pub fn final_stage(&self) -> Option<usize> {
        self.stages.len().checked_sub(1)
    }

    /// `stage` and the stages it is built on, `stage` first.
    #[must_use]
    pub fn chain(&self, stage: usize) -> Vec<usize> {
        let mut out = vec![stage];
        let mut cur = stage;
        while let Base::Stage(prev) = self.bases[cur] {
            out.push(prev);
            cur = prev;
        }
        out
    }

    /// The external base at the root of `stage`'s chain.
    #[must_use]
    pub fn root_base(&self, stage: usize) -> &Base {
        let root = *self.chain(stage).last().expect("a chain is never empty");
        &self.bases[root]
    }

    /// The index (in [`Analysis::stages`]) of the first stage of `stage`'s chain: its FROM names the
    /// external image.
    #[must_use]
    pub fn root_stage(&self, stage: usize) -> usize {
        *self.chain(stage).last().expect("a chain is never empty")
    }

    /// The instructions of `stage` after its FROM, with their indices, ONBUILD triggers excluded.
    pub fn body(&self, stage: usize) -> impl Iterator<Item = (usize, &'a Instruction)> + '_ {
        let s = &self.stages[stage];
        (s.instructions.start + 1..s.instructions.end).map(|i| (i, &self.df.instructions[i]))
    }

    /// The instructions of the whole chain of `stage`, root stage first, in file order per stage.
    #[must_use]
    pub fn chain_body(&self, stage: usize) -> Vec<(usize, &'a Instruction)> {
        let mut chain = self.chain(stage);
        chain.reverse();
        chain.into_iter().flat_map(|s| self.body(s)).collect()
    }

    /// The family of `stage`: from its root image (knowledge tables, tag), else inferred from what the
    /// chain runs (`apk` → Alpine, `apt-get` → Debian, `dnf`/`yum`/`microdnf` → RHEL, a PowerShell or
    /// cmd SHELL/RUN → Windows).
    #[must_use]
    pub fn family(&self, stage: usize) -> Family {
        let from_image = match self.root_base(stage) {
            Base::Scratch => Family::Scratch,
            Base::Image(image) => knowledge::family_of(image),
            Base::Stage(_) | Base::Unresolved(_) => Family::Unknown,
        };
        if from_image != Family::Unknown {
            return from_image;
        }
        for (_, ins) in self.chain_body(stage) {
            if let Some(f) = inferred_family(ins) {
                return f;
            }
        }
        Family::Unknown
    }

    /// The effective user at the end of `stage` (USER instructions of the stage, else of the stages it
    /// is built on, else the root image's default).
    #[must_use]
    pub fn user(&self, stage: usize) -> User {
        for s in self.chain(stage) {
            let last = self
                .body(s)
                .filter(|(_, i)| i.keyword == "USER")
                .last()
                .and_then(|(n, i)| i.user().map(|(u, _)| (n, u)));
            if let Some((n, u)) = last {
                return classify_user(&u, n);
            }
        }
        match self.root_base(stage) {
            Base::Image(image) if knowledge::runs_as_non_root(image) => User::NonRoot,
            _ => User::Root(None),
        }
    }

    /// The text of the last `USER` of `stage`'s chain (None when the chain sets none).
    #[must_use]
    pub fn user_text(&self, stage: usize) -> Option<String> {
        self.chain(stage).into_iter().find_map(|s| {
            self.body(s)
                .filter(|(_, i)| i.keyword == "USER")
                .last()
                .and_then(|(_, i)| i.user().map(|(u, _)| u))
        })
    }

    /// The packages the chain of `stage` installs and does not remove later, in order.
    #[must_use]
    pub fn packages(&self, stage: usize) -> Vec<Package> {
        let mut kept: Vec<Package> = Vec::new();
        for (n, ins) in self.chain_body(stage) {
            if ins.keyword != "RUN" {
                continue;
            }
            let mut this_run: Vec<Package> = Vec::new();
            for cmd in run_commands(ins) {
                let Some((prog, rest)) = program(cmd) else {
                    continue;
                };
                match package_action(prog, rest) {
                    Some(Action::Install {
                        manager,
                        names,
                        group,
                    }) => this_run.extend(names.into_iter().map(|name| Package {
                        name,
                        manager,
                        instruction: n,
                        group: group.clone(),
                        auto: false,
                    })),
                    Some(Action::Remove {
                        manager,
                        names,
                        auto_remove,
                    }) => {
                        let named = |p: &Package| {
                            names
                                .iter()
                                .any(|x| *x == p.name || p.group.as_deref() == Some(x.as_str()))
                        };
                        this_run.retain(|p| {
                            !(named(p) || (auto_remove && p.auto && p.manager == manager))
                        });
                        kept.retain(|p| !named(p));
                    }
                    // `apt-mark auto` marks what this RUN installed so far as removable by a
                    // later `--auto-remove`; packages installed after it stay manual.
                    Some(Action::MarkAuto) => {
                        for p in &mut this_run {
                            p.auto = true;
                        }
                    }
                    None => {}
                }
            }
            kept.extend(this_run);
        }
        kept
    }

    /// Whether the chain of `stage` installs (and keeps) a package named `name`.
    #[must_use]
    pub fn installs(&self, stage: usize, name: &str) -> bool {
        self.packages(stage).iter().any(|p| p.name == name)
    }

    /// The program names (basenames) the chain of `stage` runs in RUN instructions, in order.
    #[must_use]
    pub fn run_programs(&self, stage: usize) -> Vec<String> {
        self.chain_body(stage)
            .into_iter()
            .filter(|(_, i)| i.keyword == "RUN")
            .flat_map(|(_, i)| run_commands(i))
            .filter_map(|c| program(c).map(|(p, _)| p.to_owned()))
            .collect()
    }

    /// The programs (basenames) the effective ENTRYPOINT and CMD of `stage` start: the first word of
    /// each (the CMD's first word is often the server an entrypoint script execs), and the programs
    /// of a shell form or `sh -c` script.
    #[must_use]
    pub fn start_programs(&self, stage: usize) -> Vec<String> {
        let mut entrypoint = None;
        let mut cmd = None;
        for (_, ins) in self.chain_body(stage) {
            match ins.keyword.as_str() {
                "ENTRYPOINT" => {
                    entrypoint = Some(ins);
                    // Setting ENTRYPOINT resets a CMD inherited or set before it.
                    cmd = None;
                }
                "CMD" => cmd = Some(ins),
                _ => {}
            }
        }
        [entrypoint, cmd]
            .into_iter()
            .flatten()
            .flat_map(|ins| match &ins.args {
                Args::Json(j) => {
                    json_commands(&j.items.iter().map(|i| i.value.as_str()).collect::<Vec<_>>())
                }
                Args::Shell(s) => commands(&s.text),
            })
            .filter_map(|c| program(&c).map(|(p, _)| p.to_owned()))
            .collect()
    }
}

/// A user that a RUN instruction creates (`useradd`, `adduser`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedUser {
    pub name: String,
    /// The numeric uid, when given literally or through an ARG/ENV default.
    pub uid: Option<u32>,
    /// The numeric gid of its primary group, when it can be read (`-g 1000`, or a group created
    /// with an explicit gid in the chain).
    pub gid: Option<u32>,
}

impl Analysis<'_> {
    /// The variables visible at the end of `stage`: the global `ARG` defaults, then the literal
    /// `ARG`/`ENV` defaults of its chain, in order (each expanded with the ones before it).
    #[must_use]
    pub fn variables(&self, stage: usize) -> BTreeMap<String, String> {
        let mut vars = global_args(self.df);
        for (_, ins) in self.chain_body(stage) {
            if matches!(ins.keyword.as_str(), "ARG" | "ENV") {
                for kv in ins.key_values() {
                    if let Some(v) = kv.value.as_deref().and_then(|v| expand(v, &vars)) {
                        vars.insert(kv.key, v);
                    }
                }
            }
        }
        vars
    }

    /// The users the chain of `stage` creates, in order.
    #[must_use]
    pub fn created_users(&self, stage: usize) -> Vec<CreatedUser> {
        let family = self.family(stage);
        let group_gid = |groups: &BTreeMap<String, Option<u32>>, name: &str| {
            groups
                .get(name)
                .copied()
                .unwrap_or_else(|| knowledge::system_group_gid(family, name))
        };
        let mut vars = global_args(self.df);
        let mut groups: BTreeMap<String, Option<u32>> = BTreeMap::new();
        let mut users = Vec::new();
        for (_, ins) in self.chain_body(stage) {
            match ins.keyword.as_str() {
                "ARG" | "ENV" => {
                    for kv in ins.key_values() {
                        if let Some(v) = kv.value.as_deref().and_then(|v| expand(v, &vars)) {
                            vars.insert(kv.key, v);
                        }
                    }
                }
                "RUN" => {
                    for cmd in run_commands(ins) {
                        let Some((prog, args)) = program(cmd) else {
                            continue;
                        };
                        let number = |v: &str| expand(v, &vars).and_then(|x| x.parse::<u32>().ok());
                        match parse_account_command(prog, args) {
                            Some(Account::Group { name, gid }) => {
                                groups.insert(name, gid.and_then(|g| number(&g)));
                            }
                            Some(Account::User { name, uid, group }) => {
                                let uid = uid.and_then(|u| number(&u));
                                let gid = match group {
                                    Some(g) => number(&g).or_else(|| group_gid(&groups, &g)),
                                    None => groups.get(&name).copied().flatten(),
                                };
                                users.push(CreatedUser { name, uid, gid });
                            }
                            None => {}
                        }
                    }
                }
                _ => {}
            }
        }
        users
    }
}

enum Account {
    Group {
        name: String,
        gid: Option<String>,
    },
    User {
        name: String,
        uid: Option<String>,
        group: Option<String>,
    },
}

/// `groupadd`/`addgroup`/`useradd`/`adduser` (shadow, BusyBox and Debian's adduser).
fn parse_account_command(prog: &str, args: &[String]) -> Option<Account> {
    // Options that take a value (short and long forms of the four tools; `-g` is the GECOS in
    // BusyBox adduser, a group elsewhere).
    const VALUED: &[&str] = &[
        "-u",
        "--uid",
        "-g",
        "--gid",
        "-G",
        "--groups",
        "-d",
        "--home",
        "--home-dir",
        "-h",
        "-s",
        "--shell",
        "-c",
        "--comment",
        "--gecos",
        "-k",
        "--skel",
        "-e",
        "--expiredate",
        "-f",
        "--inactive",
        "-K",
        "--key",
        "-p",
        "--password",
        "-R",
        "--root",
        "-P",
        "--prefix",
        "-b",
        "--base-dir",
        "-Z",
        "--selinux-user",
        "--ingroup",
        "--firstuid",
        "--lastuid",
        "--firstgid",
        "--lastgid",
        "--conf",
        "--add-extra-groups",
    ];
    if !matches!(prog, "useradd" | "adduser" | "groupadd" | "addgroup") {
        return None;
    }
    let busybox_adduser = prog == "adduser" && !args.iter().any(|a| a.starts_with("--"));
    let mut opts: BTreeMap<&str, String> = BTreeMap::new();
    let mut positional: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if let Some((k, v)) = a.split_once('=').filter(|(k, _)| k.starts_with("--")) {
            opts.insert(k, v.to_owned());
        } else if a.starts_with('-') && a.len() > 1 {
            // Short options may be bundled (`-Su 1000`, `-DH`): the value is the rest of the word
            // or the next word when the bundle ends in a valued option.
            if a.starts_with("--") {
                if VALUED.contains(&a) {
                    if let Some(v) = args.get(i + 1) {
                        opts.insert(a, v.clone());
                    }
                    i += 1;
                }
            } else {
                let flags: Vec<char> = a[1..].chars().collect();
                for (k, f) in flags.iter().enumerate() {
                    let key = format!("-{f}");
                    if let Some(&known) = VALUED.iter().find(|v| **v == key) {
                        let rest: String = flags[k + 1..].iter().collect();
                        if rest.is_empty() {
                            if let Some(v) = args.get(i + 1) {
                                opts.insert(known, v.clone());
                            }
                            i += 1;
                        } else {
                            opts.insert(known, rest);
                        }
                        break;
                    }
                }
            }
        } else {
            positional.push(a);
        }
        i += 1;
    }
    let get = |keys: &[&str]| keys.iter().find_map(|k| opts.get(k).cloned());
    match prog {
        "groupadd" => Some(Account::Group {
            name: (*positional.last()?).to_owned(),
            gid: get(&["-g", "--gid"]),
        }),
        "addgroup" => {
            // `addgroup USER GROUP` adds an existing user to a group.
            if positional.len() != 1 {
                return None;
            }
            Some(Account::Group {
                name: positional[0].to_owned(),
                gid: get(&["-g", "--gid"]),
            })
        }
        "useradd" => Some(Account::User {
            name: (*positional.last()?).to_owned(),
            uid: get(&["-u", "--uid"]),
            group: get(&["-g", "--gid"]),
        }),
        _ => {
            let name = (*positional.first()?).to_owned();
            let group = if busybox_adduser {
                get(&["-G"]).or_else(|| positional.get(1).map(|g| (*g).to_owned()))
            } else {
                get(&["--gid", "--ingroup"])
            };
            if !busybox_adduser && positional.len() > 1 {
                // Debian's `adduser USER GROUP` adds an existing user to a group.
                return None;
            }
            Some(Account::User {
                name,
                uid: get(&["-u", "--uid"]),
                group,
            })
        }
    }
}

/// Whether a global `ARG` (before the first `FROM`) named `name` is declared, with or without default.
fn declares_global_arg(df: &Dockerfile, name: &str) -> bool {
    df.instructions
        .iter()
        .take_while(|i| i.keyword != "FROM")
        .filter(|i| i.keyword == "ARG")
        .any(|i| i.key_values().iter().any(|kv| kv.key == name))
}

/// The default values of the `ARG`s declared before the first `FROM` (the only ones `FROM` sees),
/// each expanded with the ones before it.
#[must_use]
pub fn global_args(df: &Dockerfile) -> BTreeMap<String, String> {
    let mut args = BTreeMap::new();
    for ins in &df.instructions {
        if ins.keyword == "FROM" {
            break;
        }
        if ins.keyword != "ARG" {
            continue;
        }
        for kv in ins.key_values() {
            match kv.value.as_deref().and_then(|v| expand(v, &args)) {
                Some(v) => {
                    args.insert(kv.key, v);
                }
                None => {
                    args.remove(&kv.key);
                }
            }
        }
    }
    args
}

/// Expand `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}` and `${NAME+alt}`
/// with `args`. None when a variable without default is not in `args` or the syntax is not one of those.
#[must_use]
pub fn expand(text: &str, args: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let rest = &text[i + 1..];
        if let Some(body) = rest.strip_prefix('{') {
            let end = body.find('}')?;
            let inner = &body[..end];
            let name_len = inner
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(inner.len());
            let (name, op) = inner.split_at(name_len);
            if name.is_empty() {
                return None;
            }
            let value = args.get(name);
            let expanded = match op {
                "" => value?.clone(),
                _ if op.starts_with(":-") => match value {
                    Some(v) if !v.is_empty() => v.clone(),
                    _ => expand(&op[2..], args)?,
                },
                _ if op.starts_with('-') => match value {
                    Some(v) => v.clone(),
                    None => expand(&op[1..], args)?,
                },
                _ if op.starts_with(":+") => match value {
                    Some(v) if !v.is_empty() => expand(&op[2..], args)?,
                    _ => String::new(),
                },
                _ if op.starts_with('+') => match value {
                    Some(_) => expand(&op[1..], args)?,
                    None => String::new(),
                },
                _ => return None,
            };
            out.push_str(&expanded);
            // Skip `{inner}`.
            let skip = 1 + end + 1;
            for _ in 0..rest[..skip].chars().count() {
                chars.next();
            }
        } else {
            let name_len = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            if name_len == 0 {
                return None;
            }
            out.push_str(args.get(&rest[..name_len])?);
            for _ in 0..name_len {
                chars.next();
            }
        }
    }
    Some(out)
}

fn classify_user(user: &str, at: usize) -> User {
    let user = user.trim();
    if user.contains('$') {
        return User::Unknown;
    }
    let name = user.split(':').next().unwrap_or("");
    if name == "root"
        || (!name.is_empty()
            && name.chars().all(|c| c.is_ascii_digit())
            && name.parse::<u64>() == Ok(0))
        || name.eq_ignore_ascii_case("ContainerAdministrator")
    {
        User::Root(Some(at))
    } else {
        User::NonRoot
    }
}

/// The family a single instruction reveals, if any.
fn inferred_family(ins: &Instruction) -> Option<Family> {
    match ins.keyword.as_str() {
        "SHELL" => {
            let Args::Json(j) = &ins.args else {
                return None;
            };
            let first = basename(&j.items.first()?.value).to_ascii_lowercase();
            let first = first.trim_end_matches(".exe");
            matches!(first, "powershell" | "pwsh" | "cmd").then_some(Family::Windows)
        }
        "RUN" => run_commands(ins).iter().find_map(|c| {
            let (prog, _) = program(c)?;
            match prog.to_ascii_lowercase().trim_end_matches(".exe") {
                "apk" => Some(Family::Alpine),
                "apt-get" | "apt" | "dpkg" | "aptitude" => Some(Family::Debian),
                "dnf" | "yum" | "microdnf" | "rpm" => Some(Family::Rhel),
                "powershell" | "pwsh" => Some(Family::Windows),
                _ => None,
            }
        }),
        _ => None,
    }
}

fn basename(word: &str) -> &str {
    // What follows the last slash or backslash (as `rsplit` would give), without a searcher.
    match word.bytes().rposition(|b| b == b'/' || b == b'\\') {
        Some(i) => &word[i + 1..],
        None => word,
    }
}

/// The shell commands a RUN instruction executes (each a list of words, quotes removed): its shell-form
/// text, the bodies of its heredocs when they are shell scripts, or the `sh -c` string of an exec form.
/// Computed once per instruction, whichever rule asks first.
#[must_use]
pub fn run_commands(ins: &Instruction) -> &[Vec<String>] {
    ins.commands.0.get_or_init(|| {
        // The commands are a function of the arguments and the heredoc bodies alone: kept on this
        // thread by those texts (the same `RUN` comes back in the variants of one image and in
        // every round of a fix run).
        let key = match &ins.args {
            Args::Json(j) => j
                .items
                .iter()
                .fold(crate::memo::Key::default().num(0), |k, i| k.text(&i.value)),
            Args::Shell(s) => ins
                .heredocs
                .iter()
                .fold(crate::memo::Key::default().num(1).text(&s.text), |k, h| {
                    k.text(&h.body)
                }),
        };
        crate::memo::get_or_compute_by_text(&RUN_COMMANDS, RUN_COMMANDS_BYTES, key.bytes(), || {
            lex_run_commands(ins).into()
        })
    })
}

/// Bytes of instruction text whose [`run_commands`] are kept per thread.
const RUN_COMMANDS_BYTES: usize = 32 * 1024;

thread_local! {
    static RUN_COMMANDS: crate::memo::TextCache<std::sync::Arc<[Vec<String>]>> =
        crate::memo::TextCache::default();
}

fn lex_run_commands(ins: &Instruction) -> Vec<Vec<String>> {
    match &ins.args {
        Args::Json(j) => {
            json_commands(&j.items.iter().map(|i| i.value.as_str()).collect::<Vec<_>>())
        }
        Args::Shell(s) => {
            let mut out = commands(&s.text);
            // The heredoc bodies are scripts when the command is only the heredoc(s) or a shell.
            let before_heredoc: Vec<&Vec<String>> = out
                .iter()
                .filter(|c| c.iter().any(|w| !w.contains("<<")))
                .collect();
            let shell_body = before_heredoc.is_empty()
                || before_heredoc.iter().all(|c| {
                    c.first()
                        .is_some_and(|w| matches!(basename(w), "sh" | "bash" | "ash" | "dash"))
                });
            if shell_body {
                for h in &ins.heredocs {
                    out.extend(commands(&h.body));
                }
            }
            out
        }
    }
}

/// The commands of an exec form: the script of `sh -c SCRIPT`, else the words themselves.
fn json_commands(words: &[&str]) -> Vec<Vec<String>> {
    match words {
        [sh, c, script, ..]
            if matches!(basename(sh), "sh" | "bash" | "ash" | "dash") && *c == "-c" =>
        {
            commands(script)
        }
        _ => vec![words.iter().map(|w| (*w).to_owned()).collect()],
    }
}

/// Split shell text into simple commands: words with quotes and backslashes removed, split at `&&`,
/// `||`, `;`, `|`, `&`, newlines and parentheses; `#` comments skipped. An approximation of the shell
/// grammar that is good enough to find package-manager calls.
///
/// Runs of plain ASCII bytes, and the insides of quotes up to their end (or next backslash), are
/// copied into the word at once rather than a character at a time (tested to split as the
/// character-at-a-time version, kept in the tests, does).
#[must_use]
pub fn commands(text: &str) -> Vec<Vec<String>> {
    /// A byte that is a word's own character wherever it stands: ASCII and neither a quote, a
    /// backslash, `#`, an operator nor white space (`char::is_whitespace`'s ASCII ones).
    fn plain(b: u8) -> bool {
        b.is_ascii()
            && !matches!(
                b,
                b'\''
                    | b'"'
                    | b'\\'
                    | b'#'
                    | b'&'
                    | b'|'
                    | b';'
                    | b'('
                    | b')'
                    | b'`'
                    | b' '
                    | b'\t'
                    | b'\n'
                    | b'\x0B'
                    | b'\x0C'
                    | b'\r'
            )
    }
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut cmd: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    let end_word = |word: &mut String, in_word: &mut bool, cmd: &mut Vec<String>| {
        if *in_word {
            // A copy of its length; `word` keeps its buffer for the next word.
            cmd.push(word.as_str().to_owned());
            word.clear();
            *in_word = false;
        }
    };
    let end_cmd = |cmd: &mut Vec<String>, out: &mut Vec<Vec<String>>| {
        if !cmd.is_empty() {
            out.push(std::mem::take(cmd));
        }
    };
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|&&b| plain(b)).count();
        if run > 0 {
            in_word = true;
            word.push_str(&text[i..i + run]);
            i += run;
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
        match c {
            '\'' => {
                in_word = true;
                let close = memchr::memchr(b'\'', &bytes[i..]).map_or(bytes.len(), |k| i + k);
                word.push_str(&text[i..close]);
                i = (close + 1).min(bytes.len());
            }
            '"' => {
                in_word = true;
                loop {
                    let Some(k) = memchr::memchr2(b'"', b'\\', &bytes[i..]) else {
                        // Not closed: the rest of the text.
                        word.push_str(&text[i..]);
                        i = bytes.len();
                        break;
                    };
                    word.push_str(&text[i..i + k]);
                    i += k + 1;
                    if bytes[i - 1] == b'"' {
                        break;
                    }
                    // A backslash: the character after it, whatever it is.
                    if let Some(e) = text[i..].chars().next() {
                        word.push(e);
                        i += e.len_utf8();
                    }
                }
            }
            '\\' => match text[i..].chars().next() {
                None => {}
                Some('\n') => i += 1,
                Some('\r') if bytes.get(i + 1) == Some(&b'\n') => i += 2,
                Some(e) => {
                    in_word = true;
                    word.push(e);
                    i += e.len_utf8();
                }
            },
            '#' if !in_word => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |k| i + k + 1);
                end_cmd(&mut cmd, &mut out);
            }
            '&' | '|' | ';' | '\n' | '(' | ')' | '`' => {
                end_word(&mut word, &mut in_word, &mut cmd);
                end_cmd(&mut cmd, &mut out);
            }
            c if c.is_whitespace() => end_word(&mut word, &mut in_word, &mut cmd),
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut cmd);
    end_cmd(&mut cmd, &mut out);
    out
}

/// [`commands`] as first written, a character at a time: the reference the faster one is tested
/// against.
#[cfg(test)]
fn commands_by_chars(text: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut cmd: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    let end_word = |word: &mut String, in_word: &mut bool, cmd: &mut Vec<String>| {
        if *in_word {
            // A copy of its length; `word` keeps its buffer for the next word.
            cmd.push(word.as_str().to_owned());
            word.clear();
            *in_word = false;
        }
    };
    let end_cmd = |cmd: &mut Vec<String>, out: &mut Vec<Vec<String>>| {
        if !cmd.is_empty() {
            out.push(std::mem::take(cmd));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    word.push(d);
                }
            }
            '"' => {
                in_word = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                word.push(e);
                            }
                        }
                        _ => word.push(d),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                }
                Some(e) => {
                    in_word = true;
                    word.push(e);
                }
            },
            '#' if !in_word => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                end_cmd(&mut cmd, &mut out);
            }
            '&' | '|' | ';' | '\n' | '(' | ')' | '`' => {
                end_word(&mut word, &mut in_word, &mut cmd);
                end_cmd(&mut cmd, &mut out);
            }
            c if c.is_whitespace() => end_word(&mut word, &mut in_word, &mut cmd),
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut cmd);
    end_cmd(&mut cmd, &mut out);
    out
}

/// The program of a simple command (basename) and its arguments, after leading `NAME=value`
/// assignments and wrappers (`sudo`, `env`, `exec`, `command`, `nice`, `time`).
#[must_use]
pub fn program(cmd: &[String]) -> Option<(&str, &[String])> {
    let mut i = 0;
    while let Some(w) = cmd.get(i) {
        // `NAME=...`: the first byte that is not a name's is a `=`, after at least one.
        let name = w
            .bytes()
            .take_while(|&b| b.is_ascii_alphanumeric() || b == b'_')
            .count();
        let is_assignment = name > 0 && w.as_bytes().get(name) == Some(&b'=');
        if is_assignment
            || matches!(
                w.as_str(),
                "sudo" | "env" | "exec" | "command" | "nice" | "time" | "xargs"
            )
        {
            i += 1;
            // `xargs -r apt-mark auto`: skip the wrapper's own flags too.
            while w == "xargs" && cmd.get(i).is_some_and(|f| f.starts_with('-')) {
                i += 1;
            }
            continue;
        }
        return Some((basename(w), &cmd[i + 1..]));
    }
    None
}

enum Action {
    Install {
        manager: &'static str,
        names: Vec<String>,
        group: Option<String>,
    },
    Remove {
        manager: &'static str,
        names: Vec<String>,
        /// `apt-get purge --auto-remove` / `apt-get autoremove`: with a preceding `apt-mark auto`, every
        /// package this RUN installed goes (the docker-library pattern).
        auto_remove: bool,
    },
    /// `apt-mark auto …`.
    MarkAuto,
}

/// Flags that take a separate value, per package manager.
fn takes_value(manager: &str, flag: &str) -> bool {
    match manager {
        "apt-get" => matches!(flag, "-o" | "-t" | "-c" | "--option" | "--target-release"),
        "apk" => matches!(
            flag,
            "-X" | "--repository"
                | "-t"
                | "--virtual"
                | "-p"
                | "--root"
                | "--arch"
                | "--repositories-file"
        ),
        _ => matches!(
            flag,
            "-c" | "--config"
                | "-x"
                | "--exclude"
                | "--installroot"
                | "--releasever"
                | "--setopt"
                | "--enablerepo"
                | "--disablerepo"
                | "--repo"
                | "--repofrompath"
        ),
    }
}

fn package_action(prog: &str, args: &[String]) -> Option<Action> {
    let manager: &'static str = match prog {
        "apt-get" | "apt" | "aptitude" => "apt-get",
        "apt-mark" => {
            return (args.first().map(String::as_str) == Some("auto")).then_some(Action::MarkAuto);
        }
        "apk" => "apk",
        "dnf" | "dnf5" => "dnf",
        "yum" => "yum",
        "microdnf" => "microdnf",
        _ => return None,
    };
    let mut sub: Option<&str> = None;
    let mut names = Vec::new();
    let mut group = None;
    let mut auto_remove = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a.starts_with('-') {
            if a == "--auto-remove" || a == "--autoremove" {
                auto_remove = true;
            }
            if a.contains('=') {
                if let Some(v) = a.strip_prefix("--virtual=") {
                    group = Some(v.to_owned());
                }
            } else if takes_value(manager, a) {
                if (a == "--virtual" || (manager == "apk" && a == "-t")) && i + 1 < args.len() {
                    group = Some(args[i + 1].clone());
                }
                i += 1;
            }
        } else if sub.is_none() {
            sub = Some(a);
        } else {
            let name = a.split(['=', '>', '<', '~']).next().unwrap_or(a).to_owned();
            if !name.is_empty() && !name.contains('$') && !name.contains('/') {
                names.push(name);
            }
        }
        i += 1;
    }
    match (manager, sub?) {
        ("apk", "add") | (_, "install") => {
            // `apk add --virtual .deps a b`: the virtual name is not a package.
            if let Some(g) = &group {
                names.retain(|n| n != g);
            }
            Some(Action::Install {
                manager,
                names,
                group,
            })
        }
        ("apk", "del") | (_, "remove" | "purge" | "erase") => Some(Action::Remove {
            manager,
            names,
            auto_remove,
        }),
        ("apt-get", "autoremove") => Some(Action::Remove {
            manager,
            names,
            auto_remove: true,
        }),
        _ => None,
    }
}

/// The whitespace before an instruction's keyword on its first line (inserted lines reuse it).
#[must_use]
pub fn indent_of<'t>(text: &'t str, ins: &Instruction) -> &'t str {
    let s = &text[ins.line_start..ins.keyword_range.start];
    if s.chars().all(|c| c == ' ' || c == '\t') {
        s
    } else {
        ""
    }
}

/// The offset where lines that belong before instruction `index` go: the start of the comment lines
/// directly above it (no blank line between), else its own line start.
#[must_use]
pub fn start_with_comments(df: &Dockerfile, index: usize) -> usize {
    let Some(pos) = df
        .nodes
        .iter()
        .position(|n| n.kind == NodeKind::Instruction(index))
    else {
        return df.instructions[index].line_start;
    };
    let mut k = pos;
    while k > 0 && df.nodes[k - 1].kind == NodeKind::Comment {
        k -= 1;
    }
    df.nodes[k].range.start
}

/// Edits that insert `lines` (each without line break) at the END of instruction `ins` (after its line
/// break). When the instruction ends the file without a line break, the text starts with one instead of
/// ending with one. When the file ends inside the instruction's continuation (`RUN npm ci \\` as its
/// last line), the dangling escape character is removed first, which BuildKit reads the same way, so
/// that the new lines are not joined to the instruction. After a heredoc terminator a blank line comes
/// first: BuildKit does not need it, but hadolint's parser rejects an instruction right after `EOF`
/// when it is the last thing in the file.
#[must_use]
pub fn insert_after(text: &str, ins: &Instruction, lines: &[String]) -> Vec<Edit> {
    let eol = crate::text::line_ending(text);
    let at = ins.full_range.end;
    let ends_with_break = text[..at].ends_with('\n');
    let mut out = String::new();
    if !ins.heredocs.is_empty() && ends_with_break {
        out.push_str(eol);
    }
    if ends_with_break {
        for l in lines {
            out.push_str(l);
            out.push_str(eol);
        }
    } else {
        for l in lines {
            out.push_str(eol);
            out.push_str(l);
        }
    }
    let mut edits = Vec::with_capacity(2);
    if let Some(escape) = ins.dangling_escape(text) {
        edits.push(Edit::delete(escape));
    }
    edits.push(Edit::insert(at, out));
    edits
}

/// Why lines cannot be inserted after `ins` with [`insert_after`] (None when they can): the file ends
/// inside an unterminated heredoc of `ins` (they would become part of its body), or inside a
/// continuation of `ins` that removing the dangling escape character does not end.
#[must_use]
pub fn cannot_insert_after(text: &str, ins: &Instruction) -> Option<&'static str> {
    if ins.heredocs.iter().any(|h| !h.terminated) {
        return Some("the file ends inside an unterminated heredoc");
    }
    if !ins.dangling_escape_closes(text) {
        return Some(
            "the file ends in a line continuation that cannot be closed without changing the last instruction",
        );
    }
    None
}

/// Text to insert `lines` at `offset`, the start of a line: each line followed by the file's line break.
#[must_use]
pub fn insert_before(text: &str, lines: &[String]) -> String {
    let eol = crate::text::line_ending(text);
    let mut out = String::new();
    for l in lines {
        out.push_str(l);
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::syntax::parse;

    #[test]
    fn program_skips_assignments_and_wrappers() {
        let words = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        let cases = [
            ("A=1 B_2= sudo env X=y /usr/bin/curl -f", Some("curl")),
            ("=x cmd", Some("=x")),
            ("a-b=1 cmd", Some("a-b=1")),
            ("_=1 xargs -r -0 apt-mark auto", Some("apt-mark")),
            ("é=1 cmd", Some("é=1")),
            ("A=1", None),
        ];
        for (cmd, want) in cases {
            assert_eq!(program(&words(cmd)).map(|(p, _)| p), want, "{cmd}");
        }
    }

    /// What is kept per thread by text (a `RUN`'s commands, its scripts lexed, the hits of
    /// curl-pipe-shell) is what computing it afresh gives: every `RUN` of the corpora and
    /// `golden/`, asked twice over all files (the second time, from the memos, after every other
    /// file's texts went in), against the uncached computations.
    #[test]
    fn what_is_kept_by_text_is_what_computing_it_gives() {
        let texts: Vec<String> = crate::testing::corpus_files(|p| {
            crate::source::kind_from_path(&p.to_string_lossy())
                == Some(crate::source::FileKind::Dockerfile)
        })
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .chain([
            "FROM a\nRUN <<EOF\napt-get install x\nEOF\nRUN [\"sh\", \"-c\", \"curl x | sh\"]\n"
                .to_owned(),
            "FROM a\nRUN <<EOF\napt-get install y\nEOF\nRUN [\"sh\", \"-c\", \"curl y | sh\"]\n"
                .to_owned(),
        ])
        .collect();
        let mut runs = 0;
        for _ in 0..2 {
            for text in &texts {
                let Ok(df) = parse(text) else {
                    continue;
                };
                for ins in df.instructions.iter().filter(|i| i.keyword == "RUN") {
                    runs += 1;
                    assert_eq!(run_commands(ins), &lex_run_commands(ins)[..], "{text}");
                    for t in crate::dockerfile::shell_lex::run_texts(text, ins) {
                        crate::dockerfile::shell_lex::assert_lexed_afresh(&t.src, t);
                    }
                    if let Some(s) = crate::dockerfile::shell_lex::run_script(text, ins) {
                        crate::dockerfile::shell_lex::assert_lexed_afresh(&s.src, &s);
                        crate::dockerfile::curl_pipe_shell::assert_scanned_afresh(&s.src);
                    }
                }
            }
        }
        assert!(runs > 1000, "{runs}");
    }

    /// The lexer splits as the character-at-a-time version did: over pseudo-random texts made of
    /// every character it treats specially (quotes, escapes, `#`, operators, ASCII and Unicode
    /// white space, CR, non-ASCII letters, unclosed quotes and trailing backslashes) and over every
    /// file of the shared corpora and `golden/` (whole texts: RUN scripts, and much else).
    #[test]
    fn commands_split_as_the_character_at_a_time_lexer_did() {
        let pieces = [
            "a", "apt-get", "x=1", "'", "\"", "\\", "#", "&", "&&", "|", ";", "(", ")", "`", " ",
            "\t", "\n", "\r", "\r\n", "\x0B", "\x0C", "\u{a0}", "\u{2003}", "é", "ü-x", "$(",
            "${V}", "\\\n", "\\\r\n", "\\\"", "'\\'", "\"\\\"\"", "# c\n", "\x1C",
        ];
        let mut rng = crate::testing::Lcg::new(0x2545_F491_4F6C_DD1D);
        for _ in 0..20_000 {
            let len = rng.below(12);
            let text: String = (0..len).map(|_| pieces[rng.below(pieces.len())]).collect();
            assert_eq!(commands(&text), commands_by_chars(&text), "{text:?}");
        }
        let files = crate::testing::corpus_files(|_| true);
        for p in &files {
            if let Ok(text) = std::fs::read_to_string(p) {
                assert_eq!(commands(&text), commands_by_chars(&text), "{}", p.display());
            }
        }
        if files.is_empty() {
            eprintln!("no corpus next to the repository: only the generated texts were compared");
        }
    }

    #[test]
    fn expands_args() {
        let mut a = BTreeMap::new();
        a.insert("BASE".to_owned(), "alpine:3.20".to_owned());
        a.insert("V".to_owned(), "3.12".to_owned());
        assert_eq!(expand("$BASE", &a).as_deref(), Some("alpine:3.20"));
        assert_eq!(
            expand("python:${V}-slim", &a).as_deref(),
            Some("python:3.12-slim")
        );
        assert_eq!(expand("${X:-debian}", &a).as_deref(), Some("debian"));
        assert_eq!(expand("${X}", &a), None);
        assert_eq!(expand("$X/app", &a), None);
        assert_eq!(expand("é${V}é", &a).as_deref(), Some("é3.12é"));
    }

    #[test]
    fn splits_commands() {
        assert_eq!(
            commands("a \\\r\n  b\r\nc"),
            vec![vec!["a", "b"], vec!["c"]]
        );
        let c = commands(
            "set -eux; apk add --no-cache --virtual .deps gcc 'make' && apk del .deps # c\nfoo",
        );
        assert_eq!(c[0], ["set", "-eux"]);
        assert_eq!(
            c[1],
            [
                "apk",
                "add",
                "--no-cache",
                "--virtual",
                ".deps",
                "gcc",
                "make"
            ]
        );
        assert_eq!(c[2], ["apk", "del", ".deps"]);
        assert_eq!(c[3], ["foo"]);
    }

    fn analysis_of(text: &str) -> (Dockerfile, usize) {
        let df = parse(text).unwrap();
        let n = df.stages().len() - 1;
        (df, n)
    }

    #[test]
    fn chain_user_family_packages() {
        let (df, last) = analysis_of(
            "ARG BASE=debian:bookworm\nFROM ${BASE} AS build\nRUN apt-get update && apt-get install -y --no-install-recommends curl=7.1 gcc\nUSER app\nFROM build\nRUN apt-get purge -y gcc\n",
        );
        let a = Analysis::new(&df);
        assert_eq!(a.chain(last), vec![1, 0]);
        assert_eq!(a.family(last), Family::Debian);
        assert_eq!(a.user(last), User::NonRoot);
        let names: Vec<String> = a.packages(last).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["curl"]);
    }

    #[test]
    fn docker_library_build_deps_are_removed() {
        let (df, last) = analysis_of(
            "FROM debian:bookworm-slim\nRUN set -eux; savedAptMark=\"$(apt-mark showmanual)\"; apt-get install -y gcc wget; apt-mark auto '.*' > /dev/null; apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false\nRUN apk add --virtual .b make && apk del .b\n",
        );
        let a = Analysis::new(&df);
        assert!(a.packages(last).is_empty());
    }

    #[test]
    fn users() {
        for (u, want) in [
            ("root", User::Root(Some(1))),
            ("0:0", User::Root(Some(1))),
            ("0", User::Root(Some(1))),
            ("root:root", User::Root(Some(1))),
            ("0:root", User::Root(Some(1))),
            ("ContainerAdministrator", User::Root(Some(1))),
            ("app", User::NonRoot),
            ("1000:1000", User::NonRoot),
            ("${APP_UID}", User::Unknown),
        ] {
            let (df, last) = analysis_of(&format!("FROM alpine\nUSER {u}\n"));
            assert_eq!(Analysis::new(&df).user(last), want, "{u}");
        }
        let (df, last) = analysis_of("FROM gcr.io/distroless/static:nonroot\n");
        assert_eq!(Analysis::new(&df).user(last), User::NonRoot);
        let (df, last) = analysis_of("FROM node:20\n");
        assert_eq!(Analysis::new(&df).user(last), User::Root(None));
    }

    #[test]
    fn created_users() {
        let (df, last) = analysis_of(
            "FROM debian\nARG UID=1001\nRUN groupadd -r -g 2000 app && useradd -r -u ${UID} -g app app\nRUN addgroup -S -g 3000 web && adduser -S -D -H -u 3000 -G web web\nRUN useradd -m x\n",
        );
        let users = Analysis::new(&df).created_users(last);
        assert_eq!(
            users,
            vec![
                CreatedUser {
                    name: "app".into(),
                    uid: Some(1001),
                    gid: Some(2000)
                },
                CreatedUser {
                    name: "web".into(),
                    uid: Some(3000),
                    gid: Some(3000)
                },
                CreatedUser {
                    name: "x".into(),
                    uid: None,
                    gid: None
                },
            ]
        );
    }

    #[test]
    fn infers_family_from_run() {
        let (df, last) = analysis_of("FROM foo\nRUN microdnf install -y tar\n");
        assert_eq!(Analysis::new(&df).family(last), Family::Rhel);
        let (df, last) = analysis_of("FROM foo\nSHELL [\"powershell\", \"-Command\"]\n");
        assert_eq!(Analysis::new(&df).family(last), Family::Windows);
        let (df, last) = analysis_of("FROM $X\nRUN echo\n");
        assert_eq!(Analysis::new(&df).family(last), Family::Unknown);
    }
}
