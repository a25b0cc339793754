use crate::declare_transform;
use crate::dockerfile::syntax::{Args, Instruction};
use crate::dockerfile::{dockerfile, same_case};
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags `ADD` instructions whose sources are local files or folders, and replaces them with `COPY`.
    ///
    /// ## Why is this bad?
    /// `ADD` silently extracts local tar archives and fetches URLs; `COPY` does exactly one thing, so the image contains what the Dockerfile says.
    ///
    /// `ADD` is only needed to fetch a URL (prefer `ADD --checksum`, see DF012) or to extract a local
    /// tar archive; for everything else its extra behaviour is a surprise waiting to happen (a file
    /// that happens to be a tarball gets unpacked).
    ///
    /// ## Example
    /// ```dockerfile
    /// ADD app/ /app/
    /// ```
    /// becomes
    /// ```dockerfile
    /// COPY app/ /app/
    /// ```
    ///
    /// ## Fix safety
    /// Safe: for local files and folders that are not archives, `ADD` and `COPY` produce the same
    /// layer. No finding when a source is a URL, a git repository or a local tar archive, or when
    /// `--checksum`, `--keep-git-dir` or `--unpack` is used (those need `ADD`). A source that contains
    /// a variable (`ADD $SRC /dst`) is reported without a fix: it may expand to an archive. `--chown`,
    /// `--chmod`, `--link`, `--exclude` and heredoc sources are kept (COPY supports them). The keyword's
    /// case is kept (`add` becomes `copy`).
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use COPY instead of ADD when not extracting archives". hadolint DL3020,
    /// checkov CKV_DOCKER_4, trivy AVD-DS-0005, CIS Docker Benchmark 4.9.
    pub struct AddInsteadOfCopy => "DF001", "add-instead-of-copy", Dockerfile, Sometimes;
}

/// Sources that only `ADD` handles: remote URLs and git repositories.
#[must_use]
pub fn is_remote(src: &str) -> bool {
    let s = src.to_ascii_lowercase();
    s.starts_with("http://")
        || s.starts_with("https://")
        || s.starts_with("git@")
        || s.starts_with("git://")
        || s.starts_with("ssh://")
}

/// Local archives that `ADD` extracts (tar, optionally gzip/bzip2/xz compressed).
#[must_use]
pub fn is_archive(src: &str) -> bool {
    let s = src.to_ascii_lowercase();
    [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst",
        ".gz", ".bz2", ".xz",
    ]
    .iter()
    .any(|ext| s.ends_with(ext))
}

/// The source operands of an ADD/COPY (every argument but the destination), unquoted.
#[must_use]
pub fn sources(ins: &Instruction) -> Vec<String> {
    let mut all: Vec<String> = match &ins.args {
        Args::Json(j) => j.items.iter().map(|i| i.value.clone()).collect(),
        Args::Shell(_) => ins
            .shell_words()
            .iter()
            .map(|w| crate::dockerfile::syntax::unquote(&w.value, ins.escape))
            .collect(),
    };
    all.pop();
    // Heredoc sources (`ADD <<EOF /dst`) are inline files: local by definition.
    all.retain(|s| !s.starts_with("<<"));
    all
}

fn check_instruction(text: &str, ins: &Instruction, findings: &mut Vec<Finding>) {
    if let Some(inner) = &ins.onbuild {
        check_instruction(text, inner, findings);
        return;
    }
    if ins.keyword != "ADD" {
        return;
    }
    if ["checksum", "keep-git-dir", "unpack"]
        .iter()
        .any(|f| ins.flag(f).is_some())
    {
        return;
    }
    let srcs = sources(ins);
    if srcs.iter().any(|s| is_remote(s) || is_archive(s)) {
        return;
    }
    let written = ins.keyword_range;
    if srcs.iter().any(|s| s.contains('$')) {
        findings.push(Finding::new(
            AddInsteadOfCopy::CODE,
            AddInsteadOfCopy::NAME,
            written,
            "Use COPY instead of ADD for local files (not fixed: a source contains a variable that may expand to an archive or URL)",
        ));
        return;
    }
    findings.push(
        Finding::new(
            AddInsteadOfCopy::CODE,
            AddInsteadOfCopy::NAME,
            written,
            "Use COPY instead of ADD for local files and folders",
        )
        .with_fix(Fix::safe(
            "Replace ADD with COPY",
            vec![Edit::replace(
                written,
                same_case("COPY", written.slice(text)),
            )],
        )),
    );
}

impl Check for AddInsteadOfCopy {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(df) = dockerfile(ctx) else {
            return Vec::new();
        };
        let mut findings = Vec::new();
        for ins in &df.instructions {
            check_instruction(ctx.text, ins, &mut findings);
        }
        findings
    }
}
