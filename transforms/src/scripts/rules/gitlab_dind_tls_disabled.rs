use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::{Fix, SemanticPath};
use crate::registry::{Check, Context};
use crate::text::TextRange;
use crate::yaml::{Mapping, Node, ScalarStyle};

declare_transform! {
    /// ## What it does
    /// Flags the GitLab CI pattern that turns TLS off for Docker-in-Docker:
    /// `DOCKER_TLS_CERTDIR: ""` in a `variables:` mapping (the pipeline's or a job's), usually
    /// with `DOCKER_HOST: tcp://docker:2375`. The fix switches to GitLab's documented TLS setup in
    /// the same mapping: `DOCKER_TLS_CERTDIR: "/certs"` (the `docker:dind` entrypoint then
    /// generates a CA, server and client certificates there), `DOCKER_HOST` on port 2376,
    /// `DOCKER_TLS_VERIFY: 1` and `DOCKER_CERT_PATH: "$DOCKER_TLS_CERTDIR/client"`.
    ///
    /// ## Why is this bad?
    /// With an empty `DOCKER_TLS_CERTDIR` the `docker:dind` service listens on `tcp://0.0.0.0:2375` without any authentication: anything that reaches the service (other services of the job, other jobs on a shared runner network) can start privileged containers on it.
    ///
    /// ## Example
    /// ```yaml
    /// variables:
    ///   DOCKER_HOST: tcp://docker:2375
    ///   DOCKER_TLS_CERTDIR: ""
    /// ```
    /// becomes
    /// ```yaml
    /// variables:
    ///   DOCKER_HOST: tcp://docker:2376
    ///   DOCKER_TLS_CERTDIR: "/certs"
    ///   DOCKER_TLS_VERIFY: 1
    ///   DOCKER_CERT_PATH: "$DOCKER_TLS_CERTDIR/client"
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: the job's runner must share `/certs/client` between the `docker:dind` service and
    /// the job (GitLab.com's hosted runners do; a self-managed Docker executor needs
    /// `volumes = ["/certs/client", "/cache"]` in its `config.toml`, a Kubernetes executor an
    /// `empty_dir` volume on `/certs/client`), which the pipeline file cannot show; the message
    /// says so. The fix is applied only when everything it changes is in the same `variables:`
    /// block mapping and `DOCKER_HOST`, if set there, is a literal `tcp://HOST:2375`; otherwise
    /// (a `DOCKER_HOST` set elsewhere or through a variable, a flow mapping, an existing
    /// `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` with another value) the edit is a display-only
    /// suggestion.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT enable TCP Docker daemon socket (`-H tcp://0.0.0.0:XXX`) without TLS".
    /// GitLab documentation "Use Docker to build Docker images: Docker-in-Docker with TLS
    /// enabled"; the `docker` image's `dockerd-entrypoint.sh` (`DOCKER_TLS_CERTDIR`); compose
    /// equivalent DC015.
    pub struct GitlabDindTlsDisabled => "DR014", "gitlab-dind-tls-disabled", GitlabCi, Sometimes;
}

/// Every `variables:` mapping of the pipeline: (document, semantic path, mapping).
fn variables(ctx: &Context<'_>) -> Vec<(usize, Vec<String>, Mapping)> {
    let Some(file) = crate::scripts::script(ctx).and_then(|s| s.yaml.as_ref()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for doc in file.documents() {
        let Some(Node::Mapping(root)) = doc.root().resolve() else {
            continue;
        };
        for e in root.entries() {
            if e.is_merge() {
                continue;
            }
            let key = e.key().to_owned();
            let m = if key == "variables" {
                Some((vec![key.clone()], e.value()))
            } else {
                e.value()
                    .resolve()
                    .and_then(|n| n.as_mapping().and_then(|m| m.get("variables")))
                    .map(|v| (vec![key.clone(), "variables".to_owned()], v.value()))
            };
            if let Some((path, Some(Node::Mapping(vars)))) = m.map(|(p, n)| (p, n.resolve())) {
                out.push((doc.index(), path, vars));
            }
        }
    }
    out
}

fn literal(m: &Mapping, key: &str) -> Option<(crate::yaml::Scalar, String)> {
    let e = m.get(key)?;
    let Node::Scalar(s) = e.value() else {
        return None;
    };
    let v = s.value().to_owned();
    Some((s, v))
}

impl Check for GitlabDindTlsDisabled {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let text = ctx.text;
        for (doc, path, vars) in variables(ctx) {
            let Some(entry) = vars.get("DOCKER_TLS_CERTDIR") else {
                continue;
            };
            let Node::Scalar(certdir) = entry.value() else {
                continue;
            };
            if !certdir.value().is_empty()
                || !matches!(certdir.style(), ScalarStyle::Double | ScalarStyle::Single)
            {
                continue;
            }
            let mut message = format!(
                "`DOCKER_TLS_CERTDIR: \"\"` turns TLS off for Docker-in-Docker: the `docker:dind` service then listens on `tcp://0.0.0.0:2375` without authentication, and anything that reaches it can start privileged containers. Use the TLS setup (`DOCKER_TLS_CERTDIR: \"/certs\"`, port 2376, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`) [`{}`]",
                path.join(".")
            );
            let mut certain = !vars.is_flow();
            let mut edits = vec![certdir.replace("/certs")];
            // DOCKER_HOST: in the same mapping, a literal tcp://HOST:2375.
            match literal(&vars, "DOCKER_HOST") {
                Some((s, v)) => match v.strip_suffix(":2375") {
                    Some(host) if v.starts_with("tcp://") && !v.contains('$') => {
                        edits.push(s.replace(&format!("{host}:2376")));
                    }
                    _ => {
                        certain = false;
                        message.push_str(&format!(
                            "; `DOCKER_HOST` is `{v}`, not a literal `tcp://HOST:2375`: point it at port 2376 yourself"
                        ));
                    }
                },
                None => {
                    if vars.get("DOCKER_HOST").is_some() {
                        certain = false;
                    } else {
                        certain = false;
                        message.push_str(
                            "; `DOCKER_HOST` is not set in this `variables:` block: where the clients connect is not known here (set it to `tcp://docker:2376`)",
                        );
                    }
                }
            }
            // The new variables, on lines of their own after DOCKER_TLS_CERTDIR.
            let mut add = Vec::new();
            for (k, want) in [
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", "\"$DOCKER_TLS_CERTDIR/client\""),
            ] {
                match literal(&vars, k) {
                    None if vars.get(k).is_none() => add.push(format!("{k}: {want}")),
                    Some((_, v)) if v == want.trim_matches('"') => {}
                    _ => {
                        certain = false;
                        message.push_str(&format!("; `{k}` is already set to another value"));
                    }
                }
            }
            if !add.is_empty() && !vars.is_flow() {
                let r = entry.range();
                let line_end = text[r.end..].find('\n').map_or(text.len(), |i| r.end + i);
                let line_end = if text[..line_end].ends_with('\r') {
                    line_end - 1
                } else {
                    line_end
                };
                let ls = text[..r.start].rfind('\n').map_or(0, |i| i + 1);
                let indent = &text[ls..entry.key_range().start];
                if !indent.chars().all(|c| c == ' ') {
                    certain = false;
                }
                let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
                let indent = " ".repeat(indent.len());
                let ins: String = add.iter().map(|a| format!("{eol}{indent}{a}")).collect();
                edits.push(Edit::insert(line_end, ins));
            }
            if vars.is_flow() {
                message.push_str("; the `variables:` mapping is a flow mapping: edit it yourself");
            }
            let keys: Vec<&str> = path.iter().map(String::as_str).collect();
            let change = SemanticPath::new(doc, keys);
            let title = "Use Docker-in-Docker with TLS (`/certs`, port 2376)".to_owned();
            let fix = if certain {
                message.push_str(" (the runner must share `/certs/client` between the `docker:dind` service and the job: GitLab.com's hosted runners do; a self-managed Docker executor needs `volumes = [\"/certs/client\", \"/cache\"]` in config.toml)");
                Fix::unsafe_(title, edits)
            } else {
                Fix::display_only(title, edits)
            };
            out.push(
                Finding::new(
                    Self::CODE,
                    Self::NAME,
                    TextRange::new(entry.key_range().start, certdir.range().end),
                    message,
                )
                .with_fix(fix.with_changes(vec![change])),
            );
        }
        out
    }
}
