use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::{Fix, SemanticPath};
use crate::registry::{Check, Context};
use crate::scripts::ci::{github_jobs, gitlab_jobs, step_label};
use crate::scripts::fragment::{Cmd, Fragment};
use crate::scripts::ScriptFile;
use crate::source::FileKind;
use crate::yaml::{Item, Mapping, Node};

declare_transform! {
    /// ## What it does
    /// Flags a pipeline that builds or pushes a container image and scans none: a GitHub Actions
    /// job with `docker/build-push-action`, `redhat-actions/buildah-build`, or a `run:` step with
    /// `docker build`/`docker buildx build`/`docker push`/`podman build`/`buildah bud`/kaniko's
    /// `/kaniko/executor`; a GitLab CI job whose script does the same. A scan anywhere in the
    /// file counts (Trivy, Grype, Docker Scout, Snyk, Anchore, GitLab's container scanning
    /// template or job). For GitHub Actions, the fix inserts a scan step of the configured
    /// scanner right after the build step, failing the job on HIGH and CRITICAL findings.
    ///
    /// ## Why is this bad?
    /// An image that is never scanned ships the vulnerabilities of its base image and packages to production unnoticed; a scan in the pipeline that builds it stops the release before the image is deployed.
    ///
    /// ## Example
    /// ```yaml
    /// steps:
    ///   - uses: docker/build-push-action@v6
    ///     with:
    ///       push: true
    ///       tags: ghcr.io/acme/app:1.4
    /// ```
    /// gets, after the build step:
    /// ```yaml
    ///   - name: Scan the image for vulnerabilities
    ///     uses: aquasecurity/trivy-action@<pinned commit>
    ///     with:
    ///       image-ref: 'ghcr.io/acme/app:1.4'
    ///       severity: HIGH,CRITICAL
    ///       exit-code: '1'
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe (the job then fails on HIGH and CRITICAL vulnerabilities), and applied only when the
    /// scanner's action is pinned in the configuration (`[options.pipelines] scan-action =
    /// "aquasecurity/trivy-action@<sha>"`) and the image the build produces is known: a literal
    /// tag, a `${{ }}` expression (`docker/metadata-action` outputs are read through
    /// `fromJSON(steps.<id>.outputs.json).tags[0]`), and for `build-push-action` an image that is
    /// pushed or loaded (`push: true` / `load: true`). Otherwise the step is a display-only
    /// suggestion (`<pin>`, `<image>` placeholders). GitLab CI pipelines are reported with the
    /// job to add in the message (no edit: the stage and registry credentials are the project's).
    ///
    /// ## Options
    /// `[options.pipelines]`: `scanner` (`trivy`, `grype` or `docker-scout`; default `trivy`),
    /// `scan-action` (the scanner's GitHub action, pinned with `@<commit sha>`).
    ///
    /// ## References
    /// Guideline: "Scan images for vulnerabilities before deployment". CIS Docker Benchmark v1.7
    /// 4.4 (scan and rebuild images to include security patches); OWASP Docker Security Cheat
    /// Sheet, rule 9 (integrate container scanning tools in the CI/CD pipeline).
    pub struct MissingImageScan => "DR015", "missing-image-scan", group Ci, Sometimes;
}

/// What a step or script line does with images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Build,
    Scan,
}

const SCAN_ACTIONS: &[&str] = &[
    "aquasecurity/trivy-action",
    "anchore/scan-action",
    "docker/scout-action",
    "snyk/actions/docker",
    "azure/container-scan",
    "crazy-max/ghaction-container-scan",
    "sysdiglabs/scan-action",
    "lacework/lw-scanner-action",
];

const BUILD_ACTIONS: &[&str] = &[
    "docker/build-push-action",
    "redhat-actions/buildah-build",
    "redhat-actions/push-to-registry",
    "docker/bake-action",
];

fn action_role(uses: &str) -> Option<Role> {
    let name = uses.split('@').next().unwrap_or(uses).to_ascii_lowercase();
    if SCAN_ACTIONS.iter().any(|a| name.starts_with(a)) {
        Some(Role::Scan)
    } else if BUILD_ACTIONS.iter().any(|a| name == *a) {
        Some(Role::Build)
    } else {
        None
    }
}

/// What a command does with images, and the tag a build gives its image.
fn command_role(cmd: &Cmd) -> Option<(Role, Option<String>)> {
    let i = cmd.name_index()?;
    let words: Vec<&str> = cmd.words[i..].iter().map(|w| w.value.as_str()).collect();
    let prog = words[0].rsplit('/').next().unwrap_or(words[0]);
    let args: Vec<&str> = words[1..]
        .iter()
        .copied()
        .filter(|w| !w.starts_with('-'))
        .collect();
    let tag = || {
        words.iter().enumerate().find_map(|(j, w)| {
            if *w == "-t" || *w == "--tag" {
                words.get(j + 1).map(|s| (*s).to_owned())
            } else {
                w.strip_prefix("--tag=").map(str::to_owned)
            }
        })
    };
    match prog {
        "docker" | "podman" | "nerdctl" => match args.as_slice() {
            ["build", ..] | ["image", "build", ..] | ["buildx", "build", ..] => {
                Some((Role::Build, tag()))
            }
            ["push", ..] | ["image", "push", ..] | ["buildx", "bake", ..] => {
                Some((Role::Build, None))
            }
            ["scout", "cves" | "quickview" | "recommendations", ..] => Some((Role::Scan, None)),
            _ => None,
        },
        "buildah" => match args.as_slice() {
            ["bud" | "build" | "build-using-dockerfile", ..] => Some((Role::Build, tag())),
            ["push", ..] => Some((Role::Build, None)),
            _ => None,
        },
        "executor" if words[0].contains("kaniko") => Some((Role::Build, None)),
        "trivy" if matches!(args.first(), Some(&("image" | "i"))) => Some((Role::Scan, None)),
        "grype" => Some((Role::Scan, None)),
        "snyk" if args.first() == Some(&"container") => Some((Role::Scan, None)),
        _ => None,
    }
}

/// The roles of the commands of a fragment, with the first build's tag.
fn fragment_roles(frag: &Fragment) -> (bool, bool, Option<String>) {
    let (mut build, mut scan, mut tag) = (false, false, None);
    for cmd in frag.commands() {
        match command_role(&cmd) {
            Some((Role::Build, t)) => {
                if !build {
                    tag = t;
                }
                build = true;
            }
            Some((Role::Scan, _)) => scan = true,
            None => {}
        }
    }
    (build, scan, tag)
}

fn str_of(m: &Mapping, key: &str) -> Option<String> {
    m.get(key)
        .and_then(|e| e.value().resolve())
        .and_then(|n| n.as_str().map(str::to_owned))
}

/// `s` without its GitHub expressions (`${{ ... }}`), which GitHub replaces before the shell
/// runs and which a `with:` input reads alike.
fn without_expressions(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        match rest[i..].find("}}") {
            Some(j) => rest = &rest[i + j + 2..],
            None => return s.to_owned(),
        }
    }
    out.push_str(rest);
    out
}

fn yaml_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A GitHub step that builds: where it is, and the image it produces (None: not known).
struct BuildStep {
    job: String,
    item: Item,
    label: String,
    image: Result<String, String>,
    /// The step's `uses`/`run` key, where the finding is reported.
    at: crate::text::TextRange,
}

fn github_scans_and_builds(file: &ScriptFile) -> (bool, Vec<BuildStep>) {
    let Some(yaml) = &file.yaml else {
        return (false, Vec::new());
    };
    let mut any_scan = false;
    let mut builds = Vec::new();
    for (name, job) in github_jobs(yaml) {
        if job.get("uses").is_some() {
            // A reusable workflow: what it does is in another file.
            continue;
        }
        let Some(Node::Sequence(steps)) = job.get("steps").and_then(|e| e.value().resolve()) else {
            continue;
        };
        let mut first_build: Option<BuildStep> = None;
        for item in steps.items() {
            let Some(Node::Mapping(step)) = item.value().resolve() else {
                continue;
            };
            let idx = item.index().to_string();
            let label = step_label(&step, item.index());
            if let Some(uses) = str_of(&step, "uses") {
                match action_role(&uses) {
                    Some(Role::Scan) => any_scan = true,
                    Some(Role::Build) if first_build.is_none() => {
                        let with = step
                            .get("with")
                            .and_then(|e| e.value().resolve())
                            .and_then(|n| n.as_mapping().cloned());
                        let image = build_push_image(&uses, with.as_ref(), &steps_ids(&steps));
                        first_build = Some(BuildStep {
                            job: name.clone(),
                            item: item.clone(),
                            label,
                            image,
                            at: step
                                .get("uses")
                                .map(|e| e.key_range())
                                .unwrap_or(item.range()),
                        });
                    }
                    _ => {}
                }
                continue;
            }
            let path = SemanticPath::new(0, ["jobs", name.as_str(), "steps", idx.as_str(), "run"]);
            let Some(frag) = file
                .fragments
                .iter()
                .find(|f| f.yaml_path.as_ref() == Some(&path))
            else {
                continue;
            };
            let (build, scan, tag) = fragment_roles(frag);
            any_scan |= scan;
            if build && first_build.is_none() {
                let image = match tag {
                    Some(t) if !without_expressions(&t).contains('$') => Ok(t),
                    Some(t) => Err(format!(
                        "the tag `{t}` uses shell variables, which a `with:` input cannot read"
                    )),
                    None => Err("the command gives the image no `-t` tag".into()),
                };
                first_build = Some(BuildStep {
                    job: name.clone(),
                    item: item.clone(),
                    label,
                    image,
                    at: step
                        .get("run")
                        .map(|e| e.key_range())
                        .unwrap_or(item.range()),
                });
            }
        }
        builds.extend(first_build);
    }
    (any_scan, builds)
}

/// The ids of the steps that run `docker/metadata-action`.
fn steps_ids(steps: &crate::yaml::Sequence) -> Vec<String> {
    steps
        .items()
        .iter()
        .filter_map(|i| {
            let Some(Node::Mapping(m)) = i.value().resolve() else {
                return None;
            };
            let uses = str_of(&m, "uses")?;
            uses.to_ascii_lowercase()
                .starts_with("docker/metadata-action@")
                .then(|| str_of(&m, "id"))
                .flatten()
        })
        .collect()
}

/// The image a `docker/build-push-action` step produces where a scanner can read it.
fn build_push_image(
    uses: &str,
    with: Option<&Mapping>,
    meta_ids: &[String],
) -> Result<String, String> {
    if !uses
        .to_ascii_lowercase()
        .starts_with("docker/build-push-action")
    {
        return Err(format!("which image `{uses}` produces is not read"));
    }
    let with = with.ok_or("the step has no `with:` inputs")?;
    let on = |k: &str| str_of(with, k).is_some_and(|v| v == "true");
    if !on("push") && !on("load") {
        return Err(
            "the image is neither pushed nor loaded (`push: true` or `load: true`): a scanner cannot reach it"
                .into(),
        );
    }
    let tags = str_of(with, "tags").ok_or("the step sets no `tags`")?;
    let t = tags.trim();
    for id in meta_ids {
        if t == format!("${{{{ steps.{id}.outputs.tags }}}}") {
            return Ok(format!(
                "${{{{ fromJSON(steps.{id}.outputs.json).tags[0] }}}}"
            ));
        }
    }
    if t.contains("${{") {
        return Err(format!("the tags are the expression `{t}`"));
    }
    t.split([',', '\n'])
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| "the step sets no tag".into())
}

fn scanner_step(scanner: &str, action: &str, image: &str) -> Vec<(usize, String)> {
    let image = yaml_quote(image);
    let name = "- name: Scan the image for vulnerabilities".to_owned();
    let mut out = vec![
        (0, name),
        (1, format!("uses: {action}")),
        (1, "with:".into()),
    ];
    let with: Vec<String> = match scanner {
        "grype" => vec![
            format!("image: {image}"),
            "fail-build: true".into(),
            "severity-cutoff: high".into(),
        ],
        "docker-scout" => vec![
            "command: cves".into(),
            format!("image: {image}"),
            "only-severities: critical,high".into(),
            "exit-code: true".into(),
        ],
        _ => vec![
            format!("image-ref: {image}"),
            "severity: HIGH,CRITICAL".into(),
            "exit-code: '1'".into(),
        ],
    };
    out.extend(with.into_iter().map(|w| (2, w)));
    out
}

fn default_action(scanner: &str) -> &'static str {
    match scanner {
        "grype" => "anchore/scan-action",
        "docker-scout" => "docker/scout-action",
        _ => "aquasecurity/trivy-action",
    }
}

impl MissingImageScan {
    fn github(ctx: &Context<'_>, file: &ScriptFile) -> Vec<Finding> {
        let (any_scan, builds) = github_scans_and_builds(file);
        if any_scan {
            return Vec::new();
        }
        let Some(yaml) = &file.yaml else {
            return Vec::new();
        };
        let text = ctx.text;
        let opts = &ctx.settings.pipelines;
        let scanner = opts.scanner.as_str();
        let known_scanner = matches!(scanner, "trivy" | "grype" | "docker-scout");
        let mut out = Vec::new();
        for b in builds {
            let mut message = format!(
                "Job `{}` builds or pushes an image ({}) and the workflow scans none: its vulnerabilities reach production unnoticed. Scan it after the build, failing on HIGH and CRITICAL findings",
                b.job, b.label
            );
            let (action, pinned) = match &opts.scan_action {
                Some(a) => (a.clone(), a.contains('@')),
                None => (format!("{}@<pin>", default_action(scanner)), false),
            };
            let mut certain = pinned && known_scanner;
            if !known_scanner {
                message.push_str(&format!(
                    " (display only: the configured scanner `{scanner}` is not one of trivy, grype, docker-scout)"
                ));
            } else if !pinned {
                message.push_str(" (display only: no pinned scanner action is configured: set `[options.pipelines] scan-action = \"aquasecurity/trivy-action@<commit sha>\"`)");
            }
            let image = match &b.image {
                Ok(i) => i.clone(),
                Err(why) => {
                    certain = false;
                    message.push_str(&format!(
                        " (display only: the image to scan is not known: {why})"
                    ));
                    "<image>".to_owned()
                }
            };
            // The new item, after the build step, in the sequence's layout.
            let r = b.item.line_range();
            let dash = b.item.dash_range().map_or(r.start, |d| d.start);
            let ls = text[..dash].rfind('\n').map_or(0, |i| i + 1);
            let dash_indent = &text[ls..dash];
            let key_col = match b.item.value().resolve() {
                Some(Node::Mapping(m)) => m
                    .entries()
                    .first()
                    .map(|e| e.key_range().start - ls)
                    .unwrap_or(dash - ls + 2),
                _ => dash - ls + 2,
            };
            if b.item.sequence().is_flow() || !dash_indent.chars().all(|c| c == ' ') {
                out.push(Finding::new(Self::CODE, Self::NAME, b.at, message));
                continue;
            }
            let unit = yaml.indent_unit().max(2);
            let eol = yaml.line_ending();
            let mut ins = String::new();
            if !text[..r.end].ends_with('\n') {
                ins.push_str(eol);
            }
            for (level, line) in scanner_step(scanner, &action, &image) {
                let indent = match level {
                    0 => dash_indent.to_owned(),
                    1 => " ".repeat(key_col),
                    _ => " ".repeat(key_col + unit),
                };
                ins.push_str(&format!("{indent}{line}{eol}"));
            }
            let edit = Edit::insert(r.end, ins);
            let title = format!("Scan the image with {scanner} after {}", b.label);
            let fix = if certain {
                Fix::unsafe_(title, vec![edit])
            } else {
                Fix::display_only(title, vec![edit])
            };
            out.push(
                Finding::new(Self::CODE, Self::NAME, b.at, message).with_fix(fix.with_changes(
                    vec![SemanticPath::new(0, ["jobs", b.job.as_str(), "steps"])],
                )),
            );
        }
        out
    }

    fn gitlab(file: &ScriptFile) -> Vec<Finding> {
        let Some(yaml) = &file.yaml else {
            return Vec::new();
        };
        let text = yaml.text();
        // GitLab's own container scanning: the template, or a job named so.
        if text.contains("Container-Scanning.gitlab-ci.yml")
            || text.contains("Security/Container-Scanning")
        {
            return Vec::new();
        }
        let mut any_scan = false;
        let mut builds = Vec::new();
        for (_, name, job) in gitlab_jobs(yaml) {
            if name == "container_scanning" {
                any_scan = true;
            }
            let mut build = false;
            for frag in &file.fragments {
                let Some(p) = &frag.yaml_path else {
                    continue;
                };
                if p.keys.first() != Some(&name) {
                    continue;
                }
                let (b, s, _) = fragment_roles(frag);
                build |= b;
                any_scan |= s;
            }
            if build && !name.starts_with('.') {
                builds.push((name, job.range()));
            }
        }
        if any_scan {
            return Vec::new();
        }
        builds
            .into_iter()
            .map(|(name, range)| {
                let at = yaml
                    .documents()
                    .iter()
                    .find_map(|d| match d.root().resolve() {
                        Some(Node::Mapping(m)) => m.get(&name).map(|e| e.key_range()),
                        _ => None,
                    })
                    .unwrap_or(crate::text::TextRange::empty(range.start));
                Finding::new(
                    Self::CODE,
                    Self::NAME,
                    at,
                    format!(
                        "Job `{name}` builds or pushes an image and the pipeline scans none: its vulnerabilities reach production unnoticed. Add a scan before the deployment, e.g. `include: - template: Jobs/Container-Scanning.gitlab-ci.yml`, or a job running `trivy image --exit-code 1 --severity HIGH,CRITICAL <image>` in a pinned `aquasec/trivy` image (no automatic fix: the stage order and registry credentials are the project's)"
                    ),
                )
            })
            .collect()
    }
}

impl Check for MissingImageScan {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = crate::scripts::script(ctx) else {
            return Vec::new();
        };
        match ctx.kind {
            FileKind::GithubActions => Self::github(ctx, file),
            FileKind::GitlabCi => Self::gitlab(file),
            _ => Vec::new(),
        }
    }
}
