use crate::declare_transform;
use crate::dockerfile::add_instead_of_copy::is_remote;
use crate::dockerfile::dockerfile;
use crate::dockerfile::syntax::{unquote, Args, Dockerfile, Instruction};
use crate::edit::Edit;
use crate::finding::{mask_secret, Finding};
use crate::fix::Fix;
use crate::registry::{Check, Context};
use crate::text::TextRange;

declare_transform! {
    /// ## What it does
    /// Flags `ADD <http(s) URL>` without `--checksum`, and `ADD <git repository>` that is not pinned to
    /// a commit, with a suggestion that adds the checksum (or the commit).
    ///
    /// ## Why is this bad?
    /// A file fetched by `ADD <url>` is not verified: whatever the server (or anyone in between) returns that day goes into the image.
    ///
    /// `ADD --checksum=sha256:<hex> <url> <dst>` makes the build fail when the download changes. For a
    /// git source (`git@…`, `git://…`, `ssh://…`, `https://….git`), a branch or tag can move; a full
    /// commit id (`https://host/repo.git#<40 hex>`) cannot.
    ///
    /// ## Example
    /// ```dockerfile
    /// ADD https://example.com/tool-1.2.tar.gz /opt/
    /// ```
    /// suggestion:
    /// ```dockerfile
    /// ADD --checksum=sha256:<TODO> https://example.com/tool-1.2.tar.gz /opt/
    /// ```
    ///
    /// ## Fix safety
    /// Display-only: only a human (or the publisher) knows the right checksum or commit; the suggestion
    /// shows where it goes with a `<TODO>` / `<commit-sha>` placeholder. Archives keep `ADD` (the
    /// suggestion never turns a download into `RUN curl`). `ADD --checksum` needs BuildKit (Dockerfile
    /// frontend 1.6 or later) and takes a single HTTP(S) source: an `ADD` with several sources gets the
    /// finding without a suggestion (split it into one `ADD` per URL first). No finding when
    /// `--checksum` is present, or for a git source whose fragment is a full commit id, written or as
    /// the default of the build argument it names (`#${RUNC_COMMIT}`).
    /// User credentials in a URL (`https://user:token@host/…`) are masked in the message.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use COPY instead of ADD when not extracting archives" (its remote half) and "Avoid
    /// curl bashing": verify what is downloaded. Dockerfile reference: `ADD --checksum` and
    /// "Adding a git repository". hadolint DL3020 covers only local files (see DF001).
    pub struct AddUrlWithoutChecksum => "DF012", "add-url-without-checksum", Dockerfile, None;
}

/// Whether a remote source is a git repository (BuildKit's rules, approximated: git transports, or an
/// HTTP(S) URL whose path ends in `.git`).
#[must_use]
pub fn is_git_url(src: &str) -> bool {
    let s = src.to_ascii_lowercase();
    if s.starts_with("git@") || s.starts_with("git://") || s.starts_with("ssh://") {
        return true;
    }
    let path = s.split('#').next().unwrap_or("");
    let path = path.split('?').next().unwrap_or("");
    (s.starts_with("http://") || s.starts_with("https://"))
        && (path.trim_end_matches('/').ends_with(".git"))
}

/// Whether `r` is a full commit id (SHA-1 or SHA-256).
fn is_commit(r: &str) -> bool {
    (r.len() == 40 || r.len() == 64) && r.chars().all(|c| c.is_ascii_hexdigit())
}

/// The `#ref[:subdir]` fragment of a git URL is a full commit id, directly or through the default of
/// a build argument (`#$RUNC_COMMIT` with `ARG RUNC_COMMIT=<40 hex>`): `arg` looks a default up.
fn pinned_git_commit(src: &str, arg: &dyn Fn(&str) -> Option<String>) -> bool {
    let Some((_, frag)) = src.split_once('#') else {
        return false;
    };
    let r = frag.split(':').next().unwrap_or("");
    // BuildKit also accepts `#ref=…,subdir=…` in newer frontends.
    let r = r
        .split(',')
        .find_map(|kv| kv.strip_prefix("ref="))
        .unwrap_or(r);
    if is_commit(r) {
        return true;
    }
    let name = r
        .strip_prefix("${")
        .and_then(|n| n.strip_suffix('}'))
        .or_else(|| r.strip_prefix('$'));
    name.filter(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .and_then(arg)
        .is_some_and(|v| is_commit(&v))
}

/// The default of build argument `name` as seen by instruction `idx`: the nearest `ARG name=…` of
/// its stage, else (after a bare `ARG name` in the stage) the last global one (before the first
/// `FROM`).
fn arg_default(df: &Dockerfile, idx: usize, name: &str) -> Option<String> {
    let mut redeclared = false;
    for ins in df.instructions[..idx].iter().rev() {
        if ins.keyword == "FROM" {
            break;
        }
        if ins.keyword == "ARG" {
            for kv in ins.key_values().into_iter().rev() {
                if kv.key == name {
                    match kv.value {
                        Some(v) => return Some(v),
                        None => redeclared = true,
                    }
                }
            }
        }
    }
    if !redeclared {
        return None;
    }
    df.instructions
        .iter()
        .take_while(|i| i.keyword != "FROM")
        .filter(|i| i.keyword == "ARG")
        .flat_map(Instruction::key_values)
        .filter(|kv| kv.key == name)
        .last()
        .and_then(|kv| kv.value)
}

/// The URL with a password (or token) in its user-info masked.
#[must_use]
pub fn mask_url_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..host_end];
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let masked = match userinfo.split_once(':') {
        Some((user, pass)) => format!("{user}:{}", mask_secret(pass)),
        None => mask_secret(userinfo),
    };
    format!("{scheme}://{masked}@{host}{}", &rest[host_end..])
}

/// Where the password (or token) of a URL's user-info is written inside `range` (the source word as
/// written, quotes included).
fn url_password_range(text: &str, range: TextRange) -> Option<TextRange> {
    let written = range.slice(text);
    let after_scheme = written.find("://")? + 3;
    let rest = &written[after_scheme..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let start = range.start + after_scheme;
    Some(match userinfo.split_once(':') {
        Some((user, pass)) => {
            TextRange::new(start + user.len() + 1, start + user.len() + 1 + pass.len())
        }
        None => TextRange::new(start, start + userinfo.len()),
    })
}

/// The sources of an ADD (destination excluded) with their ranges, unquoted.
fn sources(ins: &Instruction) -> Vec<(String, TextRange)> {
    let mut all: Vec<(String, TextRange)> = match &ins.args {
        Args::Json(j) => j.items.iter().map(|i| (i.value.clone(), i.range)).collect(),
        Args::Shell(_) => ins
            .shell_words()
            .iter()
            .map(|w| (unquote(&w.value, ins.escape), w.range))
            .collect(),
    };
    all.pop();
    all.retain(|(s, _)| !s.starts_with("<<"));
    all
}

fn check_instruction(
    text: &str,
    df: &Dockerfile,
    idx: usize,
    ins: &Instruction,
    findings: &mut Vec<Finding>,
) {
    if let Some(inner) = &ins.onbuild {
        check_instruction(text, df, idx, inner, findings);
        return;
    }
    if ins.keyword != "ADD" || ins.flag("checksum").is_some() {
        return;
    }
    let srcs = sources(ins);
    let single = srcs.len() == 1;
    for (src, range) in &srcs {
        if !is_remote(src) {
            continue;
        }
        let shown = mask_url_credentials(src);
        let secret = url_password_range(text, *range);
        if is_git_url(src) {
            if pinned_git_commit(src, &|n| arg_default(df, idx, n)) {
                continue;
            }
            let f = Finding::new(
                AddUrlWithoutChecksum::CODE,
                AddUrlWithoutChecksum::NAME,
                *range,
                format!("ADD of git repository `{shown}` is not pinned to a commit: a branch or tag can move"),
            )
            .with_secrets(secret);
            // Suggest `#<commit-sha>` in place of the ref (keeping a `:subdir`), or appended.
            let suggestion = match src.split_once('#') {
                Some((base, frag)) => match frag.split_once(':') {
                    Some((_, sub)) => format!("{base}#<commit-sha>:{sub}"),
                    None => format!("{base}#<commit-sha>"),
                },
                None => format!("{src}#<commit-sha>"),
            };
            let written = range.slice(text);
            let edits = if ins.is_json() {
                vec![Edit::replace(*range, format!("\"{suggestion}\""))]
            } else if written == src {
                vec![Edit::replace(*range, suggestion)]
            } else {
                Vec::new() // quoted or escaped in the file: shown in the title only
            };
            findings.push(f.with_fix(Fix::display_only(
                "Pin the repository to a full commit id (`<url>#<commit-sha>`)",
                edits,
            )));
            continue;
        }
        let f = Finding::new(
            AddUrlWithoutChecksum::CODE,
            AddUrlWithoutChecksum::NAME,
            *range,
            format!("ADD downloads `{shown}` without `--checksum`: the download is not verified"),
        )
        .with_secrets(secret);
        if single {
            findings.push(f.with_fix(Fix::display_only(
                "Add `--checksum=sha256:<TODO>` with the file's SHA-256 (needs BuildKit, Dockerfile frontend 1.6+)",
                vec![Edit::insert(
                    ins.keyword_range.end,
                    " --checksum=sha256:<TODO>",
                )],
            )));
        } else {
            findings.push(f);
        }
    }
}

impl Check for AddUrlWithoutChecksum {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(df) = dockerfile(ctx) else {
            return Vec::new();
        };
        let mut findings = Vec::new();
        for (idx, ins) in df.instructions.iter().enumerate() {
            check_instruction(ctx.text, df, idx, ins, &mut findings);
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_urls() {
        assert!(is_git_url("https://github.com/moby/buildkit.git#v0.10.1"));
        assert!(is_git_url("git@github.com:moby/buildkit.git"));
        assert!(!is_git_url("https://example.com/x.tar.gz"));
        let none = |_: &str| None;
        assert!(pinned_git_commit(
            "https://github.com/a/b.git#0123456789abcdef0123456789abcdef01234567",
            &none
        ));
        assert!(pinned_git_commit(
            "https://github.com/a/b.git#0123456789abcdef0123456789abcdef01234567:sub",
            &none
        ));
        assert!(!pinned_git_commit("https://github.com/a/b.git#main", &none));
        let sha =
            |n: &str| (n == "C").then(|| "0123456789abcdef0123456789abcdef01234567".to_owned());
        assert!(pinned_git_commit("https://github.com/a/b.git#${C}", &sha));
        assert!(pinned_git_commit("https://github.com/a/b.git#$C:sub", &sha));
        assert!(!pinned_git_commit("https://github.com/a/b.git#$D", &sha));
    }

    #[test]
    fn masks_userinfo() {
        assert_eq!(
            mask_url_credentials("https://bob:ghp_abcdefghijklmnop@example.com/x"),
            "https://bob:gh****@example.com/x"
        );
        assert_eq!(
            mask_url_credentials("https://example.com/a@b"),
            "https://example.com/a@b"
        );
    }
}
