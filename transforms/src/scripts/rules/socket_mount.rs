use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::images::DockerApi;
use crate::knowledge::is_docker_socket;
use crate::registry::{Check, Context};

use super::super::docker::Flag;
use super::{fix_of, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags container commands that mount the Docker daemon socket (`/var/run/docker.sock`,
    /// `/run/docker.sock`, the Windows pipe), in any spelling: `-v /var/run/docker.sock:…`,
    /// `--volume=…`, `--mount type=bind,source=/var/run/docker.sock,target=…` (`src=`, `dst=`
    /// too), read-only or not, and removes the mount.
    ///
    /// ## Why is this bad?
    /// Whoever can talk to the Docker socket controls the host: it can start a privileged container that mounts `/`, and `:ro` does not help (it only stops deleting the socket file).
    ///
    /// ## Example
    /// ```sh
    /// docker run -d \
    ///   -v /var/run/docker.sock:/var/run/docker.sock:ro \
    ///   -v "$PWD/site:/usr/share/nginx/html:ro" \
    ///   nginx:1.27
    /// ```
    /// becomes
    /// ```sh
    /// docker run -d \
    ///   -v "$PWD/site:/usr/share/nginx/html:ro" \
    ///   nginx:1.27
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and decided by what the image is known to do (no guessing): an image the knowledge
    /// base (or `[[images]]`) knows, and that is not a Docker API client, loses the mount. A known
    /// Docker API client (Traefik, Portainer, Watchtower, CI runners, ...) keeps it, and the
    /// finding says what to do: run a filtering proxy (`tecnativa/docker-socket-proxy`) that
    /// allows only the API sections it uses, and point the client at it with its endpoint setting
    /// (`-e DOCKER_HOST=tcp://docker-socket-proxy:2375`). An unknown image gets a display-only
    /// removal. The proxy images themselves are not reported. Commands in `sh -c` strings and
    /// Markdown examples are never edited.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT expose `/var/run/docker.sock` to containers via volume mounts". CIS
    /// Docker Benchmark v1.7 5.31; compose equivalent DC001.
    pub struct DockerSocketMount => "DR002", "docker-socket-mount", group Scripts, Sometimes;
}

/// The host side of a `-v` value, or the `source` of a `--mount` bind, when it is the Docker socket.
#[must_use]
pub fn socket_source(f: &Flag) -> Option<String> {
    let v = f.text();
    let source = match f.name.as_str() {
        "volume" => {
            let s = v.trim();
            if let Some(rest) = s.strip_prefix("//./pipe/") {
                format!("//./pipe/{}", rest.split(':').next().unwrap_or(rest))
            } else if s.starts_with("${") {
                s[..s.find('}').map_or(s.len(), |i| i + 1)].to_owned()
            } else {
                s.split(':').next().unwrap_or(s).to_owned()
            }
        }
        "mount" => {
            let mut ty = None;
            let mut src = None;
            for part in v.split(',') {
                let (k, val) = part.split_once('=').unwrap_or((part, ""));
                match k.trim() {
                    "type" => ty = Some(val.trim().to_owned()),
                    "source" | "src" => src = Some(val.trim().to_owned()),
                    _ => {}
                }
            }
            if ty.as_deref().is_some_and(|t| t != "bind" && t != "npipe") {
                return None;
            }
            src?
        }
        _ => return None,
    };
    let named = is_docker_socket(&source)
        || (source.starts_with("${")
            && (source.contains("docker.sock") || source.contains("docker_engine")));
    named.then_some(source)
}

impl Check for DockerSocketMount {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in sites(ctx) {
            let run = &site.run;
            let mounts: Vec<(&Flag, String)> = run
                .flags
                .iter()
                .filter_map(|f| socket_source(f).map(|s| (f, s)))
                .collect();
            if mounts.is_empty() {
                continue;
            }
            let proxy = site.image_text().is_some_and(|i| {
                crate::knowledge::is_socket_proxy(&crate::knowledge::ImageName::parse(&i))
            });
            if proxy {
                continue;
            }
            let needs = site.needs(ctx);
            for (flag, source) in mounts {
                let range = run.flag_range(flag);
                let mut message = format!(
                    "The container mounts the Docker daemon socket `{source}`: full control of the host, even read-only. Remove it; if the API is needed, use a filtering socket proxy"
                );
                let edit = run.remove_flag(ctx.text, flag);
                let api = needs.facts.as_ref().map(|f| f.docker_api.clone());
                let fix = match api {
                    Some(Some(DockerApi::Client(c))) => {
                        let endpoint = c
                            .endpoint_env
                            .clone()
                            .unwrap_or_else(|| "DOCKER_HOST".into());
                        message.push_str(&format!(
                            "; `{}` is a Docker API client{}: keep the mount until it talks to a filtering proxy instead (`tecnativa/docker-socket-proxy` allowing only {}, reached with `-e {endpoint}=tcp://docker-socket-proxy:2375`)",
                            needs.subject,
                            needs.because(),
                            if c.sections.is_empty() { "the API sections it uses".to_owned() } else { c.sections.join(", ") }
                        ));
                        None
                    }
                    Some(_) => {
                        message.push_str(&format!(
                            " (the image does not use the Docker API{})",
                            needs.because()
                        ));
                        edit.map(|e| {
                            fix_of(
                                Applicability::Unsafe,
                                "Remove the Docker socket mount",
                                vec![e],
                            )
                        })
                    }
                    None => {
                        message.push_str(&format!(
                            " (display only: whether it uses the Docker API is not known: {}; say so with `docker-api` in an `[[images]]` entry of .dockharden.toml, or answer in `fix --interactive`)",
                            needs.unknown.clone().unwrap_or_else(|| "its image is not known".into())
                        ));
                        edit.map(|e| {
                            fix_of(
                                Applicability::DisplayOnly,
                                "Remove the Docker socket mount",
                                vec![e],
                            )
                        })
                    }
                };
                let mut f = report(ctx, &site, (Self::CODE, Self::NAME), range, message, fix);
                if needs.facts.is_none() {
                    if let Some(need) = site.question(
                        &needs,
                        "images.docker-api",
                        format!(
                            "Does `{}` use the Docker API? `no`, or the variable that points it at another endpoint (e.g. DOCKER_HOST)",
                            needs.subject
                        ),
                    ) {
                        f = f.with_need(need);
                    }
                }
                out.push(f);
            }
        }
        out
    }
}
