//! Dockerfile syntax and transforms.

pub mod syntax;

pub mod analysis;

pub mod add_instead_of_copy;
pub mod add_url_without_checksum;
pub mod apk_add_without_no_cache;
pub mod apt_get_install_hygiene;
pub mod curl_pipe_shell;
pub mod docker_daemon_tcp_without_tls;
pub mod exposed_admin_port;
pub mod full_base_image;
pub mod missing_healthcheck;
pub mod runs_as_root;
pub mod secret_in_image;
pub mod shell_lex;
pub mod unpinned_base_image;
pub mod verify;

use crate::knowledge::{family_of, Family, ImageName};
use crate::registry::{Context, Transform};
use crate::source::Parsed;
use syntax::{Args, Dockerfile, Stage};

/// The Dockerfile transforms.
#[must_use]
pub fn transforms() -> Vec<&'static dyn Transform> {
    vec![
        &add_instead_of_copy::AddInsteadOfCopy,
        &unpinned_base_image::UnpinnedBaseImage,
        &secret_in_image::SecretInImage,
        &curl_pipe_shell::CurlPipeShell,
        &add_url_without_checksum::AddUrlWithoutChecksum,
        &exposed_admin_port::ExposedAdminPort,
        &docker_daemon_tcp_without_tls::DockerDaemonTcpWithoutTls,
        &apt_get_install_hygiene::AptGetInstallHygiene,
        &apk_add_without_no_cache::ApkAddWithoutNoCache,
        &runs_as_root::RunsAsRoot,
        &missing_healthcheck::MissingHealthcheck,
        &full_base_image::FullBaseImage,
    ]
}

/// The parsed Dockerfile of a context (None for other kinds).
#[must_use]
pub fn dockerfile<'a>(ctx: &Context<'a>) -> Option<&'a syntax::Dockerfile> {
    match ctx.parsed {
        Parsed::Dockerfile(d) => Some(d),
        Parsed::Yaml(_) | Parsed::Script(_) => None,
    }
}

/// `word` in the case style of `like` (all lower-case when `like` is, else upper-case).
#[must_use]
pub fn same_case(word: &str, like: &str) -> String {
    if !like.is_empty() && like.chars().all(|c| !c.is_ascii_uppercase()) {
        word.to_ascii_lowercase()
    } else {
        word.to_ascii_uppercase()
    }
}

/// A per-instruction property folded along the stage graph ([`StageGraph::reach`]).
#[derive(Clone, Debug)]
pub struct Reach {
    starts: Vec<std::ops::Range<usize>>,
    parents: Vec<Option<usize>>,
    /// Per instruction: some instruction of its stage up to it (included) has the property.
    prefix: Vec<bool>,
    /// Per instruction: some instruction of its stage from it (included) on has it.
    suffix: Vec<bool>,
    /// Per stage: some instruction of it or of a stage it is (transitively) built `FROM` has it.
    chain: Vec<bool>,
    /// Per stage: some instruction of a stage (transitively) built `FROM` it has it.
    below: Vec<bool>,
}

impl Reach {
    /// Some instruction of [`StageGraph::instructions_before`]`(stage, index)` has the property.
    #[must_use]
    pub fn any_before(&self, stage: usize, index: usize) -> bool {
        let own = index > self.starts[stage].start && self.prefix[index - 1];
        own || self.parents[stage].is_some_and(|p| self.chain[p])
    }

    /// Some instruction of [`StageGraph::positions_after`]`(stage, index)` has the property.
    #[must_use]
    pub fn any_after(&self, stage: usize, index: usize) -> bool {
        let own = index + 1 < self.starts[stage].end && self.suffix[index + 1];
        own || self.below[stage]
    }
}

/// The stages of a Dockerfile with their `FROM <stage>` links.
#[derive(Clone, Debug)]
pub struct StageGraph {
    pub stages: Vec<Stage>,
    /// For each stage, the earlier stage it is built `FROM` (matched by name, case-insensitively).
    pub parents: Vec<Option<usize>>,
}

impl StageGraph {
    #[must_use]
    pub fn new(df: &Dockerfile) -> Self {
        let stages = df.stages();
        let parents = stages
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let image = df.instructions[st.from].from_image_text()?;
                stages[..i].iter().rposition(|prev| {
                    prev.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(image))
                })
            })
            .collect();
        Self { stages, parents }
    }

    /// The stages whose layers end up in the final image: the last stage and the stages it is
    /// (transitively) built `FROM`. Builder stages that are only copied from are not in it.
    #[must_use]
    pub fn final_chain(&self) -> Vec<bool> {
        let mut out = vec![false; self.stages.len()];
        let mut cur = self.stages.len().checked_sub(1);
        while let Some(i) = cur {
            if out[i] {
                break;
            }
            out[i] = true;
            cur = self.parents[i];
        }
        out
    }

    /// `stage` and every stage built (transitively) `FROM` it, in order.
    #[must_use]
    pub fn descendants(&self, stage: usize) -> Vec<usize> {
        let mut inside = vec![false; self.stages.len()];
        inside[stage] = true;
        for i in stage + 1..self.stages.len() {
            if let Some(p) = self.parents[i] {
                inside[i] = inside[p];
            }
        }
        (0..self.stages.len()).filter(|&i| inside[i]).collect()
    }

    /// `stage` and the stages it is built `FROM`, root first.
    #[must_use]
    pub fn ancestry(&self, stage: usize) -> Vec<usize> {
        let mut out = vec![stage];
        let mut cur = self.parents[stage];
        while let Some(i) = cur {
            if out.contains(&i) {
                break;
            }
            out.push(i);
            cur = self.parents[i];
        }
        out.reverse();
        out
    }

    /// The instructions that run after instruction `index` of `stage` on top of its result: the rest
    /// of the stage, then every stage built (transitively) `FROM` it. As (stage, instruction index).
    #[must_use]
    pub fn positions_after(&self, stage: usize, index: usize) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = (index + 1..self.stages[stage].instructions.end)
            .map(|i| (stage, i))
            .collect();
        for d in self.descendants(stage).into_iter().filter(|&d| d != stage) {
            out.extend(self.stages[d].instructions.clone().map(|i| (d, i)));
        }
        out
    }

    /// The instructions of [`StageGraph::positions_after`].
    #[must_use]
    pub fn instructions_after<'d>(
        &self,
        df: &'d Dockerfile,
        stage: usize,
        index: usize,
    ) -> Vec<&'d syntax::Instruction> {
        self.positions_after(stage, index)
            .into_iter()
            .map(|(_, i)| &df.instructions[i])
            .collect()
    }

    /// The instructions that ran before instruction `index` of `stage`: the stages it is built
    /// `FROM`, then the start of the stage.
    #[must_use]
    pub fn instructions_before<'d>(
        &self,
        df: &'d Dockerfile,
        stage: usize,
        index: usize,
    ) -> Vec<&'d syntax::Instruction> {
        let mut out = Vec::new();
        for s in self.ancestry(stage) {
            let r = self.stages[s].instructions.clone();
            let end = if s == stage { index } else { r.end };
            out.extend(&df.instructions[r.start..end]);
        }
        out
    }

    /// Fold a per-instruction property (`flags[i]` for instruction `i`) along the stage graph, so
    /// that "does an instruction before / after this one have it" is answered in constant time,
    /// with the meaning of [`StageGraph::instructions_before`] and
    /// [`StageGraph::positions_after`]. Rules that ask for every instruction stay linear.
    #[must_use]
    pub fn reach(&self, flags: &[bool]) -> Reach {
        let n = self.stages.len();
        let flag = |i: usize| flags.get(i).copied().unwrap_or(false);
        let mut prefix = vec![false; flags.len()];
        let mut suffix = vec![false; flags.len()];
        let mut whole = vec![false; n];
        for (s, st) in self.stages.iter().enumerate() {
            let mut acc = false;
            for i in st.instructions.clone() {
                acc |= flag(i);
                if let Some(p) = prefix.get_mut(i) {
                    *p = acc;
                }
            }
            whole[s] = acc;
            let mut acc = false;
            for i in st.instructions.clone().rev() {
                acc |= flag(i);
                if let Some(p) = suffix.get_mut(i) {
                    *p = acc;
                }
            }
        }
        // Parents are earlier stages: ancestors in stage order, descendants in reverse.
        let mut chain = vec![false; n];
        for s in 0..n {
            chain[s] = whole[s] || self.parents[s].is_some_and(|p| chain[p]);
        }
        let mut below = vec![false; n];
        for s in (0..n).rev() {
            if let Some(p) = self.parents[s] {
                below[p] |= whole[s] || below[s];
            }
        }
        Reach {
            starts: self
                .stages
                .iter()
                .map(|st| st.instructions.clone())
                .collect(),
            parents: self.parents.clone(),
            prefix,
            suffix,
            chain,
            below,
        }
    }

    /// [`StageGraph::runs_posix_shell`] for every stage, in one pass.
    #[must_use]
    pub fn posix_shells(&self, df: &Dockerfile) -> Vec<bool> {
        let n = self.stages.len();
        let mut root = vec![0; n];
        let mut out = vec![false; n];
        for s in 0..n {
            root[s] = self.parents[s].map_or(s, |p| root[p]);
            let own = df.instructions[self.stages[s].instructions.clone()]
                .iter()
                .all(|ins| match (&*ins.keyword, &ins.args) {
                    ("SHELL", Args::Json(j)) => j
                        .items
                        .first()
                        .is_some_and(|i| shell_lex::is_posix_shell(&i.value)),
                    ("SHELL", Args::Shell(_)) => false,
                    _ => true,
                });
            let family = df.instructions[self.stages[root[s]].from]
                .from_image_text()
                .map_or(Family::Unknown, |i| family_of(&ImageName::parse(i)));
            out[s] = df.escape != '`'
                && family != Family::Windows
                && own
                && self.parents[s].is_none_or(|p| out[p]);
        }
        out
    }

    /// The family of the external image at the root of `stage`'s ancestry.
    #[must_use]
    pub fn family(&self, df: &Dockerfile, stage: usize) -> Family {
        let root = self.ancestry(stage)[0];
        df.instructions[self.stages[root].from]
            .from_image_text()
            .map_or(Family::Unknown, |i| family_of(&ImageName::parse(i)))
    }

    /// Whether the shell-form commands of `stage` run in a POSIX shell: not a Windows file (escape
    /// directive `` ` ``) or image, and no `SHELL` switching to another shell (PowerShell, cmd) in the
    /// stage or the stages it is built `FROM`.
    #[must_use]
    pub fn runs_posix_shell(&self, df: &Dockerfile, stage: usize) -> bool {
        if df.escape == '`' || self.family(df, stage) == Family::Windows {
            return false;
        }
        self.ancestry(stage).into_iter().all(|s| {
            df.instructions[self.stages[s].instructions.clone()]
                .iter()
                .all(|ins| match (&*ins.keyword, &ins.args) {
                    ("SHELL", Args::Json(j)) => j
                        .items
                        .first()
                        .is_some_and(|i| shell_lex::is_posix_shell(&i.value)),
                    ("SHELL", Args::Shell(_)) => false,
                    _ => true,
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Engine, EngineError, FixPolicy};
    use crate::fix::Applicability;
    use crate::settings::{NoResolver, Settings};
    use crate::source::FileKind;

    /// Shell operators that follow another operator (`; &&`, `&& &&`) or start a script, in the
    /// shell-form RUN/CMD/ENTRYPOINT of `text`.
    fn bad_operators(text: &str) -> usize {
        let Ok(df) = super::syntax::parse(text) else {
            return 0;
        };
        df.instructions
            .iter()
            .filter(|ins| matches!(ins.keyword.as_str(), "RUN" | "CMD" | "ENTRYPOINT"))
            .filter_map(super::shell_lex::shell_script)
            .map(|script| {
                let toks = &script.lexed.tokens;
                let control = |i: usize| {
                    toks[i].kind == super::shell_lex::TokenKind::Op
                        && matches!(
                            &script.src[toks[i].start..toks[i].end],
                            "&&" | "||" | ";" | "|" | "&"
                        )
                };
                (0..toks.len())
                    .filter(|&i| control(i) && (i == 0 || control(i - 1)))
                    .count()
            })
            .sum()
    }

    /// Random Dockerfiles built from shell and Dockerfile fragments: the shell-aware rules never
    /// panic, and their fixes always parse, converge and are idempotent.
    #[test]
    fn shell_rules_never_break_a_file() {
        const FRAGMENTS: &[&str] = &[
            "FROM debian\n",
            "FROM alpine AS a\n",
            "FROM a\n",
            "RUN ",
            "CMD ",
            "ENTRYPOINT ",
            "EXPOSE ",
            "ENV ",
            "ONBUILD RUN ",
            "apt-get update",
            "apt-get install -y x",
            "apt install y",
            "apk add z",
            "apk update",
            " && ",
            "; ",
            " | ",
            " & ",
            "\\\n",
            "\n",
            "\r\n",
            "# c\n",
            "'",
            "\"",
            "$(",
            ")",
            "`",
            "${A:-b}",
            "<<EOF\n",
            "EOF\n",
            "<<-E\n",
            "\tE\n",
            "set -e\n",
            "22 ",
            "80 ",
            "20-23/tcp ",
            "DOCKER_HOST=tcp://d:2375 ",
            "dockerd -H tcp://0.0.0.0:2375 ",
            "--host=tcp://x ",
            "[\"dockerd\", \"-H\", \"tcp://a\"]",
            "--mount=type=cache,target=/var/lib/apt ",
            "rm -rf /var/lib/apt/lists/*",
            "exit 0",
            "if a; then ",
            "fi",
            "é",
            " ",
        ];
        const SHELL: &[&str] = &[
            "apt-get update",
            "apt-get install -y x",
            "apt install y",
            "apk add z",
            "apk update",
            " && ",
            " && ",
            "; ",
            " | ",
            " & ",
            " || ",
            " \\\n",
            "\n",
            "set -e\n",
            "EOF\n",
            "'",
            "\"",
            "# c",
            "exit 0",
            "if a; then ",
            "; fi",
            "(",
            ")",
            " -y",
            " curl",
        ];
        let settings = Settings::default();
        let engine = Engine {
            transforms: vec![
                &super::exposed_admin_port::ExposedAdminPort,
                &super::docker_daemon_tcp_without_tls::DockerDaemonTcpWithoutTls,
                &super::apt_get_install_hygiene::AptGetInstallHygiene,
                &super::apk_add_without_no_cache::ApkAddWithoutNoCache,
            ],
            settings: &settings,
            resolver: &NoResolver,
            workspace: &crate::settings::NoWorkspace,
            path: None,
            base_services: None,
        };
        let policy = FixPolicy {
            min_applicability: Applicability::Unsafe,
        };
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).unwrap_or(0)
        };
        const KEYWORDS: &[&str] = &[
            "RUN ",
            "RUN ",
            "RUN ",
            "RUN <<EOF\n",
            "CMD ",
            "ENTRYPOINT ",
            "EXPOSE ",
            "ENV ",
            "FROM a AS b\n",
            "ONBUILD RUN ",
        ];
        let mut fixed = 0;
        for _ in 0..6000 {
            let mut text = String::from("FROM debian\n");
            for _ in 0..1 + next(6) {
                let kw = KEYWORDS[next(KEYWORDS.len())];
                text.push_str(kw);
                let pool = if kw.starts_with("RUN") {
                    SHELL
                } else {
                    FRAGMENTS
                };
                for _ in 0..1 + next(8) {
                    text.push_str(pool[next(pool.len())]);
                }
                text.push('\n');
            }
            match engine.fix(FileKind::Dockerfile, &text, policy) {
                Ok(out) => {
                    if out.text != text {
                        fixed += 1;
                        assert!(
                            bad_operators(&out.text) <= bad_operators(&text),
                            "a fix made a dangling shell operator: {text:?} -> {:?}",
                            out.text
                        );
                        let again = engine.fix(FileKind::Dockerfile, &out.text, policy).unwrap();
                        assert_eq!(again.text, out.text, "not idempotent on {text:?}");
                    }
                }
                Err(EngineError::Syntax(_)) => {}
                Err(e @ EngineError::Bug { .. }) => panic!("{e} on {text:?}"),
            }
        }
        assert!(fixed > 300, "only {fixed} files were fixed");
    }
}

/// Helpers for the Dockerfile rules' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::apply::apply_fixes;
    use crate::finding::Finding;
    use crate::fix::Fix;

    /// Apply every fix `findings` offers on `text` (there must be some); the result must be clean.
    pub(crate) fn fixed_by(findings: fn(&str) -> Vec<Finding>, text: &str) -> String {
        let f = findings(text);
        assert!(!f.is_empty(), "no finding in {text}");
        let fixes: Vec<&Fix> = f.iter().filter_map(|f| f.fix.as_ref()).collect();
        let out = apply_fixes(text, &fixes);
        assert!(out.invalid.is_empty());
        assert!(findings(&out.text).is_empty(), "{}", out.text);
        out.text
    }
}
