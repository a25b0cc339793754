use crate::declare_transform;
use crate::finding::Finding;
use crate::knowledge::ImageName;
use crate::registry::{Check, Context};
use crate::source::FileKind;

use super::sites;
use crate::scripts::fragment::{Cmd, Fragment, Nesting};

declare_transform! {
    /// ## What it does
    /// Flags a Docker daemon started to listen on plain TCP, in shell scripts, Makefile recipes,
    /// CI scripts, systemd units (`ExecStart=`) and Markdown examples:
    /// - `dockerd -H tcp://…` / `--host tcp://…` / `--host=tcp://…` without `--tlsverify`;
    /// - a Docker-in-Docker container (`docker run … docker:dind`) whose entrypoint is told to
    ///   skip TLS (`-e DOCKER_TLS_CERTDIR=` empty) or is given `-H tcp://…` without
    ///   `--tlsverify` as its command.
    ///
    /// ## Why is this bad?
    /// The Docker API without TLS client authentication has no authentication at all: whoever can reach the port can start a privileged container and owns the host.
    ///
    /// ## Example
    /// ```sh
    /// dockerd -H unix:///var/run/docker.sock -H tcp://0.0.0.0:2375
    /// ```
    /// should become
    /// ```sh
    /// dockerd -H unix:///var/run/docker.sock -H tcp://0.0.0.0:2376 \
    ///   --tlsverify --tlscacert=/etc/docker/ca.pem \
    ///   --tlscert=/etc/docker/server-cert.pem --tlskey=/etc/docker/server-key.pem
    /// ```
    ///
    /// ## Fix safety
    /// No automatic fix: TLS needs a certificate authority, server and client certificates, and
    /// every client configured with them (`DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`); none of that
    /// can be read from the command. A `-H fd://` or `unix://` socket alone is not flagged.
    /// (The GitLab CI form of Docker-in-Docker without TLS is DR014, which can be fixed.)
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT enable TCP Docker daemon socket (`-H tcp://0.0.0.0:XXX`) without TLS".
    /// Docker documentation "Protect the Docker daemon socket"; CIS Docker Benchmark v1.7 2.7
    /// (TLS authentication for the Docker daemon); compose equivalent DC015, Dockerfile DF008,
    /// `daemon.json` DD001.
    pub struct DaemonTcpWithoutTls => "DR013", "docker-daemon-tcp-without-tls", group Scripts, None;
}

/// The `tcp://` hosts a `dockerd` argument list sets, with the index of the word holding each,
/// and whether it turns on TLS verification.
fn tcp_hosts(words: &[String]) -> (Vec<(usize, String)>, bool) {
    let mut hosts = Vec::new();
    let mut verify = false;
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let (value, at) = if w == "-H" || w == "--host" {
            (words.get(i + 1).map(String::as_str), i + 1)
        } else if let Some(v) = w.strip_prefix("--host=").or_else(|| w.strip_prefix("-H=")) {
            (Some(v), i)
        } else if let Some(v) = w.strip_prefix("-H").filter(|v| !v.is_empty()) {
            (Some(v), i)
        } else {
            if w == "--tlsverify" || w == "--tlsverify=true" {
                verify = true;
            } else if w == "--tlsverify=false" {
                verify = false;
            }
            i += 1;
            continue;
        };
        if let Some(v) = value {
            if v.to_ascii_lowercase().starts_with("tcp://") {
                hosts.push((at, v.to_owned()));
            }
        }
        i = at + 1;
    }
    (hosts, verify)
}

fn with_place(frag: &Fragment, kind: FileKind, message: String) -> String {
    if frag.place.is_empty() || kind == FileKind::Shell {
        message
    } else {
        format!("{message} [{}]", frag.place)
    }
}

const WHY: &str = "the Docker API without TLS client authentication lets whoever reaches the port start a privileged container and own the host. Turn on `--tlsverify` with a CA, server certificate and key (port 2376), and give the clients their certificates";

impl DaemonTcpWithoutTls {
    fn dockerd(ctx: &Context<'_>, frag: &Fragment, cmd: &Cmd, out: &mut Vec<Finding>) {
        let Some(i) = cmd.name_index() else {
            return;
        };
        let name = &cmd.words[i].value;
        if name.rsplit('/').next() != Some("dockerd") {
            return;
        }
        let args: Vec<String> = cmd.words[i + 1..].iter().map(|w| w.value.clone()).collect();
        let (hosts, verify) = tcp_hosts(&args);
        if verify {
            return;
        }
        for (at, host) in hosts {
            let w = &cmd.words[i + 1 + at];
            let mut message = format!("`dockerd` listens on `{host}` without `--tlsverify`: {WHY}");
            if cmd.nesting == Nesting::ShellString {
                message.push_str(" (in a `sh -c` string)");
            }
            out.push(Finding::new(
                DaemonTcpWithoutTls::CODE,
                DaemonTcpWithoutTls::NAME,
                frag.report_range(w.start, w.end),
                with_place(frag, ctx.kind, message),
            ));
        }
    }
}

impl Check for DaemonTcpWithoutTls {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = crate::scripts::script(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for frag in &file.fragments {
            for cmd in frag.commands() {
                Self::dockerd(ctx, frag, &cmd, &mut out);
            }
        }
        // Docker-in-Docker containers: the image's entrypoint starts dockerd.
        for site in sites(ctx) {
            let Some(image) = site.image_text() else {
                continue;
            };
            let name = ImageName::parse(&image);
            let repo = name.repository.trim_start_matches("library/");
            if repo != "docker" || !name.tag.as_deref().is_some_and(|t| t.contains("dind")) {
                continue;
            }
            let run = &site.run;
            let no_tls = run.flags_named("env").find(|f| {
                let v = f.text();
                v == "DOCKER_TLS_CERTDIR=" || v == "DOCKER_TLS_CERTDIR=\"\""
            });
            if let Some(f) = no_tls {
                out.push(Finding::new(
                    Self::CODE,
                    Self::NAME,
                    run.flag_range(f),
                    with_place(
                        site.frag,
                        ctx.kind,
                        format!(
                            "The Docker-in-Docker container is told to skip TLS (`{}`): its daemon then listens on `tcp://0.0.0.0:2375` without authentication; {WHY}. Leave `DOCKER_TLS_CERTDIR` at `/certs` and share `/certs/client` with the clients",
                            f.text()
                        ),
                    ),
                ));
                continue;
            }
            let args: Vec<String> = run.command_args().iter().map(|w| w.value.clone()).collect();
            let (hosts, verify) = tcp_hosts(&args);
            if verify {
                continue;
            }
            for (at, host) in hosts {
                let w = &run.command_args()[at];
                out.push(Finding::new(
                    Self::CODE,
                    Self::NAME,
                    site.frag.report_range(w.start, w.end),
                    with_place(
                        site.frag,
                        ctx.kind,
                        format!("The Docker-in-Docker daemon listens on `{host}` without `--tlsverify`: {WHY}"),
                    ),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::tcp_hosts;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn hosts_and_verification() {
        let (h, v) = tcp_hosts(&words(
            "-H fd:// -H tcp://0.0.0.0:2375 --host=tcp://[::]:2375",
        ));
        assert_eq!(
            h,
            vec![
                (3, "tcp://0.0.0.0:2375".to_owned()),
                (4, "tcp://[::]:2375".to_owned())
            ]
        );
        assert!(!v);
        let (h, v) = tcp_hosts(&words("--tlsverify -Htcp://0.0.0.0:2376"));
        assert_eq!(h.len(), 1);
        assert!(v);
        let (h, _) = tcp_hosts(&words("-H unix:///var/run/docker.sock --debug"));
        assert!(h.is_empty());
    }
}
