//! Dockerfile syntax and transforms.

pub mod syntax;

pub mod add_instead_of_copy;
pub mod apk_add_without_no_cache;
pub mod apt_get_install_hygiene;
pub mod docker_daemon_tcp_without_tls;
pub mod exposed_admin_port;
pub mod shell_lex;

use crate::knowledge::{family_of, Family, ImageName};
use crate::registry::{Context, Transform};
use crate::source::Parsed;
use syntax::{Args, Dockerfile, Stage};

/// The Dockerfile transforms.
#[must_use]
pub fn transforms() -> Vec<&'static dyn Transform> {
    vec![
        &add_instead_of_copy::AddInsteadOfCopy,
        &exposed_admin_port::ExposedAdminPort,
        &docker_daemon_tcp_without_tls::DockerDaemonTcpWithoutTls,
        &apt_get_install_hygiene::AptGetInstallHygiene,
        &apk_add_without_no_cache::ApkAddWithoutNoCache,
    ]
}

/// The parsed Dockerfile of a context (None for other kinds).
#[must_use]
pub fn dockerfile<'a>(ctx: &Context<'a>) -> Option<&'a syntax::Dockerfile> {
    match ctx.parsed {
        Parsed::Dockerfile(d) => Some(d),
        Parsed::Yaml(_) => None,
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
                let image = df.instructions[st.from].from_image()?;
                stages[..i].iter().rposition(|prev| {
                    prev.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&image.text))
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

    /// The family of the external image at the root of `stage`'s ancestry.
    #[must_use]
    pub fn family(&self, df: &Dockerfile, stage: usize) -> Family {
        let root = self.ancestry(stage)[0];
        df.instructions[self.stages[root].from]
            .from_image()
            .map_or(Family::Unknown, |i| family_of(&ImageName::parse(&i.text)))
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
