//! A `docker run` / `docker create` / `podman run` (and `nerdctl`) command read into flags and an
//! image, with the place of every word in the file, and the edits a person would make: flags
//! inserted before the image (on a line of their own when the command puts its flags on
//! continuation lines), a flag removed with its value (its whole line when it has one).
//!
//! The flags that take a value are Docker's and Podman's own lists: an unknown flag written
//! without `=value` makes the rest of the command unreadable (is the next word its value or the
//! image?), and so does an expansion that may hold flags (`$OPTS`, `"$@"`). Such a command is
//! reported, never edited, for what it lacks.

use crate::edit::Edit;
use crate::text::TextRange;

use super::fragment::{resolve, Cmd, Fragment, Nesting, Word};

/// Flags that take a value (long names, `docker run --help` and `podman run --help`).
const VALUE_FLAGS: &[&str] = &[
    "add-host",
    "annotation",
    "arch",
    "attach",
    "authfile",
    "blkio-weight",
    "blkio-weight-device",
    "cap-add",
    "cap-drop",
    "cert-dir",
    "cgroup-conf",
    "cgroup-parent",
    "cgroupns",
    "cgroups",
    "chrootdirs",
    "cidfile",
    "conmon-pidfile",
    "cpu-count",
    "cpu-percent",
    "cpu-period",
    "cpu-quota",
    "cpu-rt-period",
    "cpu-rt-runtime",
    "cpu-shares",
    "cpus",
    "cpuset-cpus",
    "cpuset-mems",
    "creds",
    "decryption-key",
    "detach-keys",
    "device",
    "device-cgroup-rule",
    "device-read-bps",
    "device-read-iops",
    "device-write-bps",
    "device-write-iops",
    "dns",
    "dns-option",
    "dns-search",
    "domainname",
    "entrypoint",
    "env",
    "env-file",
    "env-merge",
    "expose",
    "gidmap",
    "gpus",
    "group-add",
    "group-entry",
    "health-cmd",
    "health-interval",
    "health-log-destination",
    "health-max-log-count",
    "health-max-log-size",
    "health-on-failure",
    "health-retries",
    "health-start-interval",
    "health-start-period",
    "health-startup-cmd",
    "health-startup-interval",
    "health-startup-retries",
    "health-startup-success",
    "health-startup-timeout",
    "health-timeout",
    "hostname",
    "hosts-file",
    "hostuser",
    "image-volume",
    "init-path",
    "io-maxbandwidth",
    "io-maxiops",
    "ip",
    "ip6",
    "ipc",
    "isolation",
    "kernel-memory",
    "label",
    "label-file",
    "link",
    "link-local-ip",
    "log-driver",
    "log-opt",
    "mac-address",
    "memory",
    "memory-reservation",
    "memory-swap",
    "memory-swappiness",
    "mount",
    "name",
    "network",
    "network-alias",
    "oom-score-adj",
    "os",
    "passwd-entry",
    "personality",
    "pid",
    "pidfile",
    "pids-limit",
    "platform",
    "pod",
    "pod-id-file",
    "preserve-fd",
    "preserve-fds",
    "publish",
    "pull",
    "rdt-class",
    "requires",
    "restart",
    "retry",
    "retry-delay",
    "runtime",
    "sdnotify",
    "seccomp-policy",
    "secret",
    "security-opt",
    "shm-size",
    "shm-size-systemd",
    "stop-signal",
    "stop-timeout",
    "storage-opt",
    "subgidname",
    "subuidname",
    "sysctl",
    "systemd",
    "timeout",
    "tmpfs",
    "tz",
    "uidmap",
    "ulimit",
    "umask",
    "unsetenv",
    "user",
    "userns",
    "uts",
    "variant",
    "volume",
    "volume-driver",
    "volumes-from",
    "workdir",
];

/// Flags without a value (`--rm`, or `--rm=true`).
const BOOL_FLAGS: &[&str] = &[
    "detach",
    "disable-content-trust",
    "env-host",
    "help",
    "http-proxy",
    "init",
    "interactive",
    "no-healthcheck",
    "no-hostname",
    "no-hosts",
    "oom-kill-disable",
    "passwd",
    "privileged",
    "publish-all",
    "quiet",
    "read-only",
    "read-only-tmpfs",
    "replace",
    "rm",
    "rmi",
    "rootfs",
    "sig-proxy",
    "tls-verify",
    "tty",
    "unsetenv-all",
    "use-api-socket",
];

/// Short flags: (letter, long name).
const SHORT: &[(char, &str)] = &[
    ('a', "attach"),
    ('c', "cpu-shares"),
    ('d', "detach"),
    ('e', "env"),
    ('h', "hostname"),
    ('i', "interactive"),
    ('l', "label"),
    ('m', "memory"),
    ('p', "publish"),
    ('P', "publish-all"),
    ('q', "quiet"),
    ('t', "tty"),
    ('u', "user"),
    ('v', "volume"),
    ('w', "workdir"),
];

/// Global options of the CLI before the subcommand that take a value.
const GLOBAL_VALUE: &[&str] = &[
    "-H",
    "--host",
    "-c",
    "--context",
    "--config",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
    "--url",
    "--connection",
    "--root",
    "--runroot",
    "--storage-driver",
    "--storage-opt",
    "--cgroup-manager",
    "--events-backend",
    "--identity",
    "--tmpdir",
    "--namespace",
    "-n",
    "--address",
    "--runtime",
];

/// The canonical long name of a flag (`net` → `network`).
fn canonical(name: &str) -> &str {
    match name {
        "net" => "network",
        "net-alias" => "network-alias",
        "dns-opt" => "dns-option",
        "expose-all" => "publish-all",
        other => other,
    }
}

fn takes_value(name: &str) -> Option<bool> {
    if VALUE_FLAGS.contains(&name) {
        Some(true)
    } else if BOOL_FLAGS.contains(&name) {
        Some(false)
    } else {
        None
    }
}

/// The container engine a command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Docker,
    Podman,
    Nerdctl,
}

impl Tool {
    fn of(program: &str) -> Option<Self> {
        let base = program.rsplit(['/', '\\']).next().unwrap_or(program);
        let base = base.strip_suffix(".exe").unwrap_or(base);
        match base {
            "docker" | "balena-engine" | "balena" => Some(Self::Docker),
            "podman" | "podman-remote" => Some(Self::Podman),
            "nerdctl" => Some(Self::Nerdctl),
            _ => None,
        }
    }

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
            Self::Nerdctl => "nerdctl",
        }
    }
}

/// A flag of the command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// Canonical long name (`volume`, `network`, `privileged`).
    pub name: String,
    /// As written (`-v`, `--volume`, `--net`).
    pub written: String,
    /// The word holding the flag's name.
    pub word: usize,
    /// Several short flags in one word (`-it`): the flag cannot be removed on its own.
    pub in_cluster: bool,
    pub value: Option<FlagValue>,
}

impl Flag {
    /// The value as the CLI reads it (`--rm=false` → `false`); a boolean flag without `=` is
    /// `true`.
    #[must_use]
    pub fn text(&self) -> &str {
        self.value.as_ref().map_or("true", |v| v.text.as_str())
    }

    /// Whether a boolean flag is on (`--privileged`, `--privileged=true`).
    #[must_use]
    pub fn is_on(&self) -> bool {
        matches!(
            self.text().to_ascii_lowercase().as_str(),
            "true" | "1" | "t" | "yes"
        )
    }

    /// The index of the last word of the flag (its value's word, or its own).
    #[must_use]
    pub fn last_word(&self) -> usize {
        self.value.as_ref().map_or(self.word, |v| v.word)
    }
}

/// A flag's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagValue {
    /// Quotes removed (no expansion).
    pub text: String,
    /// The word holding it.
    pub word: usize,
    /// In the flag's own word (`--net=host`, `-vX`), not a word of its own.
    pub inline: bool,
}

/// A `docker run` / `docker create` command.
#[derive(Clone, Debug)]
pub struct DockerRun {
    pub tool: Tool,
    /// `create` rather than `run`.
    pub create: bool,
    pub words: Vec<Word>,
    /// The program word (`docker`).
    pub program: usize,
    /// The subcommand word (`run`, `create`).
    pub sub: usize,
    pub flags: Vec<Flag>,
    /// The image word.
    pub image: Option<usize>,
    /// Why the flags cannot all be known (an expansion that may hold flags, an unknown flag): what
    /// the command lacks cannot be judged with certainty.
    pub opaque: Option<String>,
    /// Why it must not be edited at all (a `sh -c` string, an unterminated quote, ...).
    pub frozen: Option<String>,
    pub nesting: Nesting,
    /// Where to report the command as a whole.
    pub anchor: TextRange,
    /// A value that is only the start of a command (a make variable): what it lacks is not judged.
    pub partial: bool,
}

/// Whether an expansion in flag position (`$DOCKER_OPTS`, `"$@"`) likely holds flags rather than
/// the image.
fn expansion_holds_flags(raw: &str) -> bool {
    let name: String = raw
        .trim_matches(|c| c == '"' || c == '$' || c == '{' || c == '}' || c == '(' || c == ')')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '@' || *c == '*')
        .collect();
    let upper = name.to_ascii_uppercase();
    name == "@"
        || name == "*"
        || upper.contains("OPT")
        || upper.contains("ARG")
        || upper.contains("FLAG")
        || upper.contains("PARAM")
        || upper.contains("EXTRA")
        || raw.contains("[@]")
        || raw.contains("[*]")
}

impl DockerRun {
    /// Read `cmd` (of `frag`) as a container run, when it is one. `docker run --help` is not.
    #[must_use]
    pub fn parse(cmd: &Cmd, frag: &Fragment) -> Option<Self> {
        let prog = cmd.name_index()?;
        let pw = &cmd.words[prog];
        let tool = match Tool::of(&pw.value) {
            Some(t) => t,
            None if pw.value.contains('$') => {
                let v = resolve(&pw.value, &frag.vars, frag.dialect)?;
                Tool::of(v.split_whitespace().next()?)?
            }
            None => return None,
        };
        let words = &cmd.words;
        // Global options, then `run` / `create` / `container run`.
        let mut i = prog + 1;
        while let Some(w) = words.get(i) {
            let v = w.value.as_str();
            if GLOBAL_VALUE.contains(&v) {
                i += 2;
            } else if v.starts_with('-') {
                i += 1;
            } else {
                break;
            }
        }
        let mut sub = i;
        let first = words.get(sub)?.value.as_str();
        let first = if first == "container" {
            sub += 1;
            words.get(sub)?.value.as_str()
        } else {
            first
        };
        let create = match first {
            "run" => false,
            "create" => true,
            _ => return None,
        };
        let mut run = Self {
            tool,
            create,
            words: words.clone(),
            program: prog,
            sub,
            flags: Vec::new(),
            image: None,
            opaque: None,
            frozen: None,
            nesting: cmd.nesting,
            anchor: cmd.anchor,
            partial: frag.partial,
        };
        run.read_flags(sub + 1);
        if run.flags.iter().any(|f| f.name == "help") {
            return None;
        }
        run.frozen = if cmd.nesting == Nesting::ShellString {
            Some("it is inside a `sh -c` string".into())
        } else if let Some(why) = &cmd.uncertain {
            Some(why.clone())
        } else if (!frag.editable && frag.segments.is_empty()) || !cmd.mapped() {
            Some("its text cannot be mapped back to the file byte for byte".into())
        } else {
            None
        };
        Some(run)
    }

    fn read_flags(&mut self, from: usize) {
        let n = self.words.len();
        let mut i = from;
        while i < n {
            let w = &self.words[i];
            let v = w.value.clone();
            if v == "--" {
                i += 1;
                if i < n {
                    self.image = Some(i);
                }
                return;
            }
            if let Some(long) = v.strip_prefix("--").filter(|l| !l.is_empty()) {
                let (name, inline) = match long.split_once('=') {
                    Some((a, b)) => (a, Some(b.to_owned())),
                    None => (long, None),
                };
                let name = canonical(name).to_owned();
                match (takes_value(&name), inline) {
                    (Some(false), inline) => {
                        self.flags.push(Flag {
                            name,
                            written: format!("--{}", long.split('=').next().unwrap_or(long)),
                            word: i,
                            in_cluster: false,
                            value: inline.map(|t| FlagValue {
                                text: t,
                                word: i,
                                inline: true,
                            }),
                        });
                        i += 1;
                    }
                    (_, Some(t)) => {
                        self.flags.push(Flag {
                            written: format!("--{}", long.split('=').next().unwrap_or(long)),
                            name,
                            word: i,
                            in_cluster: false,
                            value: Some(FlagValue {
                                text: t,
                                word: i,
                                inline: true,
                            }),
                        });
                        i += 1;
                    }
                    (Some(true), None) => {
                        let Some(next) = self.words.get(i + 1) else {
                            self.opaque = Some(format!("`--{name}` has no value"));
                            return;
                        };
                        self.flags.push(Flag {
                            written: format!("--{long}"),
                            name,
                            word: i,
                            in_cluster: false,
                            value: Some(FlagValue {
                                text: next.value.clone(),
                                word: i + 1,
                                inline: false,
                            }),
                        });
                        i += 2;
                    }
                    (None, None) => {
                        self.opaque = Some(format!(
                            "`--{name}` is not a flag dockharden knows (whether a value follows it cannot be told)"
                        ));
                        return;
                    }
                }
                continue;
            }
            if v.starts_with('-') && v.len() > 1 && !w.raw.starts_with('$') {
                let chars: Vec<char> = v[1..].chars().collect();
                let cluster = chars.len() > 1;
                let mut k = 0;
                let mut next_word = i + 1;
                while k < chars.len() {
                    let c = chars[k];
                    let Some((_, long)) = SHORT.iter().find(|(s, _)| *s == c) else {
                        self.opaque = Some(format!(
                            "`-{c}` is not a flag dockharden knows (whether a value follows it cannot be told)"
                        ));
                        return;
                    };
                    if takes_value(long) == Some(true) {
                        let rest: String = chars[k + 1..].iter().collect();
                        let value = if rest.is_empty() {
                            let Some(nw) = self.words.get(i + 1) else {
                                self.opaque = Some(format!("`-{c}` has no value"));
                                return;
                            };
                            next_word = i + 2;
                            FlagValue {
                                text: nw.value.clone(),
                                word: i + 1,
                                inline: false,
                            }
                        } else {
                            FlagValue {
                                text: rest.strip_prefix('=').unwrap_or(&rest).to_owned(),
                                word: i,
                                inline: true,
                            }
                        };
                        self.flags.push(Flag {
                            name: (*long).to_owned(),
                            written: format!("-{c}"),
                            word: i,
                            in_cluster: cluster && k > 0,
                            value: Some(value),
                        });
                        break;
                    }
                    self.flags.push(Flag {
                        name: (*long).to_owned(),
                        written: format!("-{c}"),
                        word: i,
                        in_cluster: cluster,
                        value: None,
                    });
                    k += 1;
                }
                i = next_word;
                continue;
            }
            let quoted_list = w.raw.starts_with('"')
                && (w.raw.contains("$@") || w.raw.contains("${@") || w.raw.contains("[@]"));
            if (w.is_unquoted_expansion() || quoted_list) && expansion_holds_flags(&w.raw) {
                self.opaque = Some(format!("`{}` may hold flags", w.raw));
                i += 1;
                continue;
            }
            self.image = Some(i);
            return;
        }
    }

    /// The flags named `name` (canonical long name), in order.
    pub fn flags_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Flag> + 'a {
        self.flags.iter().filter(move |f| f.name == name)
    }

    /// The last value of a flag (the CLI keeps the last for single-valued flags).
    #[must_use]
    pub fn last(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rfind(|f| f.name == name)
    }

    /// Whether a boolean flag is on.
    #[must_use]
    pub fn is_on(&self, name: &str) -> bool {
        self.last(name).is_some_and(Flag::is_on)
    }

    /// The image as written (None when there is none).
    #[must_use]
    pub fn image_word(&self) -> Option<&Word> {
        self.image.map(|i| &self.words[i])
    }

    /// The words after the image (the container's command).
    #[must_use]
    pub fn command_args(&self) -> &[Word] {
        self.image.map_or(&[][..], |i| &self.words[i + 1..])
    }

    /// Whether edits can be made to it.
    #[must_use]
    pub fn editable(&self) -> bool {
        self.frozen.is_none()
    }

    /// Whether what it lacks can be judged: its flags are all known and it has an image.
    #[must_use]
    pub fn complete(&self) -> bool {
        self.opaque.is_none() && self.image.is_some() && !self.partial
    }

    /// Where to report it as a whole: the `run` word, else the command.
    #[must_use]
    pub fn range(&self) -> TextRange {
        self.words[self.sub].file.unwrap_or(self.anchor)
    }

    /// Where to report a flag: its words.
    #[must_use]
    pub fn flag_range(&self, f: &Flag) -> TextRange {
        match (self.words[f.word].file, self.words[f.last_word()].file) {
            (Some(a), Some(b)) => a.cover(b),
            _ => self.anchor,
        }
    }

    /// Whether the command writes long flags' values after `=` (`--net=host`) rather than as the
    /// next word: the style new flags follow.
    #[must_use]
    pub fn uses_equals(&self) -> bool {
        let long: Vec<&Flag> = self
            .flags
            .iter()
            .filter(|f| f.written.starts_with("--") && f.value.is_some())
            .filter(|f| takes_value(&f.name) == Some(true))
            .collect();
        let eq = long
            .iter()
            .filter(|f| f.value.as_ref().is_some_and(|v| v.inline))
            .count();
        !long.is_empty() && eq * 2 > long.len()
    }

    /// A flag as this command would write it: `--cap-drop ALL` or `--cap-drop=ALL`.
    #[must_use]
    pub fn flag_text(&self, name: &str, value: Option<&str>) -> String {
        match value {
            None => format!("--{name}"),
            Some(v) if self.uses_equals() => format!("--{name}={v}"),
            Some(v) => format!("--{name} {v}"),
        }
    }

    /// The edit that inserts `flags` (each already written, e.g. `--cap-drop ALL`) before the image:
    /// each on a line of its own when the image starts a continuation line, else on the image's
    /// line. None when the command cannot be edited.
    #[must_use]
    pub fn insert_before_image(&self, text: &str, flags: &[String]) -> Option<Edit> {
        if !self.editable() || flags.is_empty() {
            return None;
        }
        let at = self.image_word()?.file?.start;
        Some(insert_flags_at(text, at, flags))
    }

    /// The edits that remove a flag and its value (its whole line when it is alone on a
    /// continuation line). None when that cannot be done cleanly.
    #[must_use]
    pub fn remove_flag(&self, text: &str, f: &Flag) -> Option<Edit> {
        if !self.editable() || f.in_cluster || f.word <= self.sub {
            return None;
        }
        let a = self.words[f.word].file?.start;
        let b = self.words[f.last_word()].file?.end;
        Some(remove_words(text, self.words[f.word - 1].file?.end, a, b))
    }

    /// Replace a flag's value by `value` (the flag keeps how it is written).
    #[must_use]
    pub fn replace_value(&self, f: &Flag, value: &str) -> Option<Edit> {
        if !self.editable() {
            return None;
        }
        let v = f.value.as_ref()?;
        let w = &self.words[v.word];
        let r = w.file?;
        if v.inline {
            // `--net=host` / `-vX`: the value is the end of the word, written plainly.
            if w.raw != w.value {
                return None;
            }
            let at = r.end - v.text.len();
            Some(Edit::replace(TextRange::new(at, r.end), value))
        } else {
            Some(Edit::replace(r, value))
        }
    }
}

/// The edit that inserts flags at `at`, the start of a word: on lines of their own when the word
/// starts a continuation line, else before it on its line.
#[must_use]
pub fn insert_flags_at(text: &str, at: usize, flags: &[String]) -> Edit {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..at];
    if line_start > 0 && prefix.chars().all(|c| c == ' ' || c == '\t') {
        let before = &text[..line_start - 1];
        let eol = if before.ends_with('\r') { "\r\n" } else { "\n" };
        let before = before.trim_end_matches('\r');
        let trailing = before.len() - before.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            let lines: String = flags
                .iter()
                .map(|f| format!("{prefix}{f} \\{eol}"))
                .collect();
            return Edit::insert(line_start, lines);
        }
    }
    Edit::insert(at, format!("{} ", flags.join(" ")))
}

/// The edit removing the words `a..b` of a command, `prev_end` being the end of the word before
/// them: their whole line when they are alone on a continuation line, else with the blank (and
/// continuation) between them and the word before.
#[must_use]
pub fn remove_words(text: &str, prev_end: usize, a: usize, b: usize) -> Edit {
    let line_start = text[..a].rfind('\n').map_or(0, |i| i + 1);
    let alone_before = line_start > 0
        && line_start > prev_end
        && text[line_start..a].chars().all(|c| c == ' ' || c == '\t');
    let rest = &text[b..];
    let rest_line = &rest[..rest.find('\n').map_or(rest.len(), |i| i + 1)];
    let continued = {
        let t = rest_line
            .trim_end_matches(['\n', '\r'])
            .trim_end_matches([' ', '\t']);
        t.trim_start_matches([' ', '\t']) == "\\"
    };
    if alone_before && continued && rest_line.ends_with('\n') {
        return Edit::delete(TextRange::new(line_start, b + rest_line.len()));
    }
    Edit::delete(TextRange::new(prev_end, b))
}

/// Every container run of a fragment.
#[must_use]
pub fn runs(frag: &Fragment) -> Vec<DockerRun> {
    frag.commands()
        .iter()
        .filter_map(|c| DockerRun::parse(c, frag))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripts::fragment::Dialect;

    fn one(s: &str) -> DockerRun {
        let f = Fragment::identity(s, TextRange::new(0, s.len()), Dialect::Sh);
        let mut r = runs(&f);
        assert_eq!(r.len(), 1, "{s}");
        r.remove(0)
    }

    fn apply(s: &str, e: &Edit) -> String {
        let mut out = s.to_owned();
        out.replace_range(e.range.start..e.range.end, &e.replacement);
        out
    }

    #[test]
    fn flags_and_image() {
        let r = one("sudo docker -H unix:///x container run -it --rm -v /a:/b --net=host -p 80:80 --name web nginx:1.27 nginx -g 'daemon off;'");
        assert_eq!(r.image_word().unwrap().value, "nginx:1.27");
        assert!(r.is_on("rm") && r.is_on("tty") && r.is_on("interactive"));
        assert_eq!(r.last("network").unwrap().text(), "host");
        assert_eq!(r.last("volume").unwrap().text(), "/a:/b");
        assert_eq!(r.command_args().len(), 3);
        assert!(r.complete() && r.editable());
        assert!(DockerRun::parse(
            &Fragment::identity("docker run --help", TextRange::new(0, 17), Dialect::Sh).commands()
                [0],
            &Fragment::identity("docker run --help", TextRange::new(0, 17), Dialect::Sh)
        )
        .is_none());
        let r = one("docker run $DOCKER_OPTS \"$IMAGE\" x");
        assert!(r.opaque.is_some());
        assert_eq!(r.image_word().unwrap().raw, "\"$IMAGE\"");
        let r = one("podman run --frobnicate x y");
        assert!(r.opaque.is_some() && r.image.is_none());
        let r = one("docker run --privileged=false -dp 8080:80 nginx");
        assert!(!r.is_on("privileged"));
        assert_eq!(r.last("publish").unwrap().text(), "8080:80");
    }

    #[test]
    fn insertion_follows_the_continuation_style() {
        let s = "docker run -d \\\n  --name web \\\n  nginx:1.27\n";
        let r = one(s);
        let e = r
            .insert_before_image(s, &[r.flag_text("cap-drop", Some("ALL"))])
            .unwrap();
        assert_eq!(
            apply(s, &e),
            "docker run -d \\\n  --name web \\\n  --cap-drop ALL \\\n  nginx:1.27\n"
        );
        let s = "docker run --net=bridge -d nginx\r\n";
        let r = one(s);
        let e = r
            .insert_before_image(s, &[r.flag_text("cap-drop", Some("ALL"))])
            .unwrap();
        assert_eq!(
            apply(s, &e),
            "docker run --net=bridge -d --cap-drop=ALL nginx\r\n"
        );
    }

    #[test]
    fn removal() {
        let s = "docker run \\\n  --privileged \\\n  -v /var/run/docker.sock:/var/run/docker.sock \\\n  x\n";
        let r = one(s);
        let f = r.last("volume").unwrap();
        assert_eq!(
            apply(s, &r.remove_flag(s, f).unwrap()),
            "docker run \\\n  --privileged \\\n  x\n"
        );
        let s = "docker run --rm --privileged -d x";
        let r = one(s);
        let f = r.last("privileged").unwrap();
        assert_eq!(
            apply(s, &r.remove_flag(s, f).unwrap()),
            "docker run --rm -d x"
        );
    }
}
