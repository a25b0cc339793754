use crate::declare_transform;
use crate::dockerfile::shell_lex::{self, is_posix_shell, run_script, shell_script, Script};
use crate::dockerfile::syntax::{Args, Dockerfile, Instruction, KeyValue};
use crate::dockerfile::{dockerfile, StageGraph};
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};
use crate::text::TextRange;

declare_transform! {
    /// ## What it does
    /// Flags a Docker daemon started with a TCP listener without `--tlsverify` (`dockerd -H
    /// tcp://0.0.0.0:2375`, `--host=tcp://...`, in `RUN`, `CMD`, `ENTRYPOINT`, shell or exec form,
    /// also `ENTRYPOINT ["dockerd"]` with the address in `CMD`), clients pointed at a plain-text
    /// daemon (`DOCKER_HOST=tcp://...:2375` in `ENV`, `ARG` or a command), and
    /// `ENV DOCKER_TLS_CERTDIR=""` (which makes the `docker:dind` entrypoint listen on 2375 without
    /// TLS).
    ///
    /// ## Why is this bad?
    /// The Docker API on a TCP port without TLS client verification gives anyone who can reach the port root on the host, with no password.
    ///
    /// `--tls` alone encrypts but accepts any client; only `--tlsverify` with a CA checks who
    /// connects. Locally, the unix socket (`unix:///var/run/docker.sock`) needs no port at all.
    ///
    /// ## Example
    /// ```dockerfile
    /// CMD ["dockerd", "-H", "tcp://0.0.0.0:2375"]
    /// ```
    /// is shown with this suggestion (not applied):
    /// ```dockerfile
    /// CMD ["dockerd", "-H", "tcp://0.0.0.0:2376", "--tlsverify", "--tlscacert=/certs/ca.pem", "--tlscert=/certs/server-cert.pem", "--tlskey=/certs/server-key.pem"]
    /// ```
    /// and `ENV DOCKER_HOST=tcp://docker:2375` with `ENV DOCKER_HOST=tcp://docker:2376
    /// DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=/certs/client`.
    ///
    /// ## Fix safety
    /// Display only: the certificates (and where they come from) are something only a human knows;
    /// the suggestion shows the flags with example paths. Not flagged: a daemon with `--tlsverify`
    /// (or `DOCKER_TLS_VERIFY` set in the stage or the command, which `dockerd` and the client both
    /// honour), `DOCKER_HOST` on port 2376 (the TLS port), addresses built from variables
    /// (`tcp://$HOST:$PORT`), unix sockets and named pipes, and the client flag `docker -H tcp://...`
    /// (only `DOCKER_HOST` is judged for clients). A command inside `sh -c '...'` is reported
    /// without a suggestion. Only the final stage and the stages it is built `FROM` are
    /// checked (a builder stage's daemon or environment does not ship).
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT enable TCP Docker daemon socket (`-H tcp://0.0.0.0:XXX`) without TLS".
    /// CIS Docker Benchmark, "Ensure TLS authentication for Docker daemon is configured".
    pub struct DockerDaemonTcpWithoutTls => "DF008", "docker-daemon-tcp-without-tls", Dockerfile, None;
}

const TLS_PORT: &str = "2376";
const SERVER_CERTS: &[&str] = &[
    "--tlscacert=/certs/ca.pem",
    "--tlscert=/certs/server-cert.pem",
    "--tlskey=/certs/server-key.pem",
];
const CLIENT_TLS: &[&str] = &["DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=/certs/client"];

/// An argument of a command with its place in the file.
#[derive(Clone, Debug)]
struct Arg {
    value: String,
    range: TextRange,
    /// A JSON (exec form) element: a replacement must be JSON elements.
    json: bool,
}

/// `tcp://host:port/...`: (host part, port) when it is a TCP address whose port is known.
fn tcp_address(url: &str) -> Option<(String, Option<String>)> {
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("tcp://").map(|_| &url[6..])?;
    let authority = rest.split('/').next().unwrap_or("");
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (
            authority[..i].to_owned(),
            Some(authority[i + 1..].to_owned()),
        ),
        _ => (authority.to_owned(), None),
    };
    if port
        .as_deref()
        .is_some_and(|p| !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None; // `tcp://host:$PORT`: not judged.
    }
    Some((host, port))
}

fn tls_url(url: &str) -> String {
    let (host, _) = tcp_address(url).unwrap_or_default();
    format!("tcp://{host}:{TLS_PORT}")
}

/// The replacement of `arg` by `words` (as shell words, or JSON elements for the exec form).
fn replace_with(arg: &Arg, words: &[String]) -> Edit {
    let text = if arg.json {
        words
            .iter()
            .map(|w| serde_json::to_string(w).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        words.join(" ")
    };
    Edit::replace(arg.range, text)
}

/// Whether a value of `DOCKER_TLS_VERIFY` turns verification on (the client and `dockerd` only
/// check that it is not empty).
fn verify_on(value: &str) -> bool {
    !value.trim().is_empty()
}

/// The daemon command in `args` (`dockerd`, `docker daemon`, the dind entrypoints), if any: returns
/// the index of its first argument.
fn daemon_args_start(args: &[Arg]) -> Option<usize> {
    let name = shell_lex::basename(&args.first()?.value).to_ascii_lowercase();
    match name.as_str() {
        "dockerd" | "dockerd.exe" | "dockerd-entrypoint.sh" | "dockerd-rootless.sh" => Some(1),
        "dind" => daemon_args_start(&args[1..]).map(|i| i + 1),
        "docker" | "docker.exe" => args
            .iter()
            .skip(1)
            .find(|a| !a.value.starts_with('-'))
            .filter(|a| a.value == "daemon")
            .and_then(|d| {
                args.iter()
                    .position(|a| a.range == d.range && a.value == d.value)
            })
            .map(|i| i + 1),
        _ => None,
    }
}

struct Report {
    range: TextRange,
    message: String,
    /// The suggestion's title.
    title: &'static str,
    edits: Vec<Edit>,
}

const DAEMON_TITLE: &str =
    "Serve the API with TLS on 2376 and --tlsverify (example certificate paths), or use the unix socket";
const CLIENT_TITLE: &str =
    "Use the daemon's TLS port 2376 with DOCKER_TLS_VERIFY=1 (example certificate path)";
const CERTDIR_TITLE: &str =
    "Set DOCKER_TLS_CERTDIR=/certs: the dind entrypoint then generates certificates and serves TLS on 2376";

/// `dockerd ... -H tcp://...` without `--tlsverify`. URLs in `args[..report_from]` only count for
/// their flags (an `ENTRYPOINT` whose `CMD` is checked).
fn check_daemon(args: &[Arg], report_from: usize, tls_env: bool, out: &mut Vec<Report>) {
    let Some(start) = daemon_args_start(args) else {
        return;
    };
    let mut urls: Vec<(usize, &str, String)> = Vec::new();
    let mut verify = tls_env;
    let mut tls_only = false;
    let mut certs = false;
    let mut i = start;
    while i < args.len() {
        let v = args[i].value.as_str();
        let host = if v == "-H" || v == "--host" {
            i += 1;
            args.get(i).map(|a| ("", a.value.as_str()))
        } else if let Some(x) = v.strip_prefix("--host=") {
            Some(("--host=", x))
        } else if let Some(x) = v.strip_prefix("-H=") {
            Some(("-H=", x))
        } else if v.starts_with("-H") && v.len() > 2 {
            Some(("-H", &v[2..]))
        } else {
            match v {
                "--tlsverify" | "--tlsverify=true" | "--tlsverify=1" => verify = true,
                "--tlsverify=false" | "--tlsverify=0" => verify = false,
                "--tls" | "--tls=true" => tls_only = true,
                _ if v.starts_with("--tlscacert") => certs = true,
                _ => {}
            }
            None
        };
        if let Some((prefix, url)) = host {
            if i >= report_from && tcp_address(url).is_some() {
                urls.push((i, prefix, url.to_owned()));
            }
        }
        i += 1;
    }
    if verify || urls.is_empty() {
        return;
    }
    let mut edits = Vec::new();
    for (n, (idx, prefix, url)) in urls.iter().enumerate() {
        let mut words = vec![format!("{prefix}{}", tls_url(url))];
        if n == 0 {
            words.push("--tlsverify".into());
            if !certs {
                words.extend(SERVER_CERTS.iter().map(|s| (*s).to_owned()));
            }
        }
        edits.push(replace_with(&args[*idx], &words));
    }
    let (idx, _, url) = &urls[0];
    let tls_note = if tls_only {
        " (--tls alone accepts any client)"
    } else {
        ""
    };
    out.push(Report {
        range: args[*idx].range,
        message: format!(
            "The Docker daemon listens on {url} without --tlsverify{tls_note}: whoever reaches the port is root on the host"
        ),
        title: DAEMON_TITLE,
        edits,
    });
}

/// `DOCKER_HOST=tcp://...` in an argument (`DOCKER_HOST=... docker ps`, `export`, `env`).
fn check_docker_host_args(args: &[Arg], tls_env: bool, out: &mut Vec<Report>) {
    let verify = tls_env
        || args.iter().any(|a| {
            a.value
                .strip_prefix("DOCKER_TLS_VERIFY=")
                .is_some_and(verify_on)
        });
    if verify {
        return;
    }
    for a in args {
        if let Some(url) = a.value.strip_prefix("DOCKER_HOST=") {
            if let Some(report) = docker_host_report(url, a.range, |words| replace_with(a, words)) {
                out.push(report);
            }
        }
    }
}

fn docker_host_report(
    url: &str,
    range: TextRange,
    edit: impl Fn(&[String]) -> Edit,
) -> Option<Report> {
    let (_, port) = tcp_address(url)?;
    if port.as_deref() == Some(TLS_PORT) {
        return None;
    }
    let mut words = vec![format!("DOCKER_HOST={}", tls_url(url))];
    words.extend(CLIENT_TLS.iter().map(|s| (*s).to_owned()));
    Some(Report {
        range,
        message: format!("DOCKER_HOST={url} talks to the Docker daemon without TLS"),
        title: CLIENT_TITLE,
        edits: vec![edit(&words)],
    })
}

/// Checks the commands of a shell script; `nested` scripts (`sh -c '...'`) get no edits.
fn check_script(
    src: &str,
    range: &dyn Fn(usize, usize) -> TextRange,
    nested: bool,
    tls_env: bool,
    out: &mut Vec<Report>,
) {
    let lexed = shell_lex::lex(src);
    let commands = shell_lex::commands(src, &lexed.tokens);
    let tls_here = tls_env
        || commands.iter().flat_map(|c| &c.words).any(|w| {
            w.value
                .strip_prefix("DOCKER_TLS_VERIFY=")
                .is_some_and(verify_on)
        });
    for cmd in &commands {
        let args: Vec<Arg> = cmd
            .words
            .iter()
            .map(|w| Arg {
                value: w.value.clone(),
                range: range(w.start, w.end),
                json: false,
            })
            .collect();
        let mut found = Vec::new();
        check_docker_host_args(&args, tls_here, &mut found);
        if let Some(i) = cmd.name_index() {
            check_daemon(&args[i..], 0, tls_here, &mut found);
            check_nested(&args[i..], tls_here, &mut found);
        }
        if nested {
            for r in &mut found {
                r.edits.clear();
            }
        }
        out.extend(found);
    }
}

/// `sh -c '<script>'`: the script is checked, reported on the `-c` argument, without edits.
fn check_nested(args: &[Arg], tls_env: bool, out: &mut Vec<Report>) {
    if !args.first().is_some_and(|a| is_posix_shell(&a.value)) {
        return;
    }
    let Some(p) = args.iter().position(|a| a.value == "-c") else {
        return;
    };
    let Some(script) = args.get(p + 1) else {
        return;
    };
    let r = script.range;
    check_script(&script.value, &|_, _| r, true, tls_env, out);
}

fn json_args(ins: &Instruction) -> Vec<Arg> {
    match &ins.args {
        Args::Json(j) => j
            .items
            .iter()
            .map(|i| Arg {
                value: i.value.clone(),
                range: i.range,
                json: true,
            })
            .collect(),
        Args::Shell(_) => Vec::new(),
    }
}

fn check_key_value(kv: &KeyValue, tls_env: bool, out: &mut Vec<Report>) {
    let Some(value) = kv.value.as_deref() else {
        return;
    };
    match kv.key.as_str() {
        "DOCKER_HOST" if !tls_env => {
            out.extend(docker_host_report(value, kv.range, |words| {
                Edit::replace(kv.range, words.join(" "))
            }));
        }
        "DOCKER_TLS_CERTDIR" if value.trim().is_empty() => out.push(Report {
            range: kv.range,
            message: "DOCKER_TLS_CERTDIR is empty: the docker:dind entrypoint then serves the daemon on tcp 2375 without TLS".into(),
            title: CERTDIR_TITLE,
            edits: vec![Edit::replace(kv.range, "DOCKER_TLS_CERTDIR=/certs")],
        }),
        _ => {}
    }
}

/// Whether `bytes` contain `tcp` in any case: each `p` or `P` (found with `memchr2`; far rarer
/// than `t` in text) is tested for the two bytes before it.
fn contains_tcp(bytes: &[u8]) -> bool {
    memchr::memchr2_iter(b'p', b'P', bytes)
        .any(|at| at >= 2 && bytes[at - 2..at].eq_ignore_ascii_case(b"tc"))
}

fn check_file(text: &str, df: &Dockerfile) -> Vec<Finding> {
    // Every finding is about a `tcp://` address (`tcp_address`) or an empty
    // `DOCKER_TLS_CERTDIR`: a file that says neither `tcp` (in any case) nor that name has none.
    if !text.contains("DOCKER_TLS_CERTDIR") && !contains_tcp(text.as_bytes()) {
        return Vec::new();
    }
    let graph = StageGraph::new(df);
    let chain = graph.final_chain();
    let mut reports = Vec::new();
    // The image's ENTRYPOINT (exec form), for a CMD that only gives the daemon's arguments.
    let last = graph.stages.len().checked_sub(1);
    let entrypoint: Vec<Arg> = last
        .map(|l| graph.instructions_before(df, l, graph.stages[l].instructions.end))
        .unwrap_or_default()
        .into_iter()
        .rfind(|i| i.keyword == "ENTRYPOINT")
        .map(json_args)
        .unwrap_or_default();
    // Per stage: DOCKER_TLS_VERIFY is on in it or in a stage it is built FROM (parents are
    // earlier stages: one pass).
    let mut tls: Vec<bool> = Vec::with_capacity(graph.stages.len());
    for (s, st) in graph.stages.iter().enumerate() {
        let own = df.instructions[st.instructions.clone()]
            .iter()
            .flat_map(Instruction::key_values)
            .any(|kv| kv.key == "DOCKER_TLS_VERIFY" && kv.value.as_deref().is_some_and(verify_on));
        tls.push(own || graph.parents[s].is_some_and(|p| tls[p]));
    }
    for (s, shipped) in chain.into_iter().enumerate() {
        if !shipped {
            continue;
        }
        let tls_env = tls[s];
        for ins in &df.instructions[graph.stages[s].instructions.clone()] {
            match ins.keyword.as_str() {
                "ENV" | "ARG" => {
                    let kvs = ins.key_values();
                    let tls_here = tls_env
                        || kvs.iter().any(|kv| {
                            kv.key == "DOCKER_TLS_VERIFY"
                                && kv.value.as_deref().is_some_and(verify_on)
                        });
                    for kv in &kvs {
                        check_key_value(kv, tls_here, &mut reports);
                    }
                }
                "RUN" | "CMD" | "ENTRYPOINT" => match &ins.args {
                    Args::Json(_) => {
                        let own = json_args(ins);
                        let mut found = Vec::new();
                        check_docker_host_args(&own, tls_env, &mut found);
                        check_daemon(&own, 0, tls_env, &mut found);
                        if ins.keyword == "CMD"
                            && daemon_args_start(&own).is_none()
                            && !entrypoint.is_empty()
                        {
                            let mut joined = entrypoint.clone();
                            joined.extend(own.iter().cloned());
                            check_daemon(&joined, entrypoint.len(), tls_env, &mut found);
                        }
                        check_nested(&own, tls_env, &mut found);
                        reports.extend(found);
                    }
                    Args::Shell(_) => {
                        let script: Option<Script<'_>> = if ins.keyword == "RUN" {
                            run_script(text, ins)
                        } else {
                            shell_script(ins)
                        };
                        if let Some(script) = script {
                            check_script(
                                &script.src,
                                &|a, b| script.range(a, b),
                                false,
                                tls_env,
                                &mut reports,
                            );
                        }
                    }
                },
                _ => {}
            }
        }
    }
    reports
        .into_iter()
        .map(|r| {
            let f = Finding::new(
                DockerDaemonTcpWithoutTls::CODE,
                DockerDaemonTcpWithoutTls::NAME,
                r.range,
                r.message,
            );
            if r.edits.is_empty() {
                f
            } else {
                f.with_fix(Fix::display_only(r.title, r.edits))
            }
        })
        .collect()
}

impl Check for DockerDaemonTcpWithoutTls {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        dockerfile(ctx).map_or_else(Vec::new, |df| check_file(ctx.text, df))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::syntax::parse;

    fn messages(text: &str) -> Vec<String> {
        check_file(text, &parse(text).unwrap())
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    /// The suggestions, applied, give a file that parses and that the rule is silent on.
    fn suggested(text: &str) -> String {
        let findings = check_file(text, &parse(text).unwrap());
        assert!(!findings.is_empty(), "{text}");
        let fixes: Vec<&Fix> = findings.iter().filter_map(|f| f.fix.as_ref()).collect();
        let out = crate::apply::apply_fixes(text, &fixes);
        assert!(out.invalid.is_empty());
        let again = parse(&out.text).unwrap();
        assert!(check_file(&out.text, &again).is_empty(), "{}", out.text);
        out.text
    }

    #[test]
    fn tcp_is_found_in_any_case_at_any_place() {
        let naive = |b: &[u8]| b.windows(3).any(|w| w.eq_ignore_ascii_case(b"tcp"));
        for text in [
            "",
            "t",
            "tc",
            "tcp",
            "TCP",
            "tCp",
            "xxtcp",
            "tctcp",
            "ttcp",
            "tc\np",
            "tcq",
            "Tc",
            "-H tcP://a",
            "t\u{e9}cp",
            "\u{e9}tcp",
            "tttt",
            "TcTcTcP",
        ] {
            assert_eq!(
                contains_tcp(text.as_bytes()),
                naive(text.as_bytes()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggested("FROM d\nCMD [\"dockerd\", \"-H\", \"tcp://0.0.0.0:2375\"]\n"),
            "FROM d\nCMD [\"dockerd\", \"-H\", \"tcp://0.0.0.0:2376\", \"--tlsverify\", \"--tlscacert=/certs/ca.pem\", \"--tlscert=/certs/server-cert.pem\", \"--tlskey=/certs/server-key.pem\"]\n"
        );
        assert_eq!(
            suggested("FROM d\nRUN dockerd --host=tcp://0.0.0.0 --tls --tlscacert=/c/ca.pem &\n"),
            "FROM d\nRUN dockerd --host=tcp://0.0.0.0:2376 --tlsverify --tls --tlscacert=/c/ca.pem &\n"
        );
        assert_eq!(
            suggested("FROM d\nENTRYPOINT [\"dockerd-entrypoint.sh\"]\nCMD [\"-H\", \"tcp://0.0.0.0:2375\"]\n"),
            "FROM d\nENTRYPOINT [\"dockerd-entrypoint.sh\"]\nCMD [\"-H\", \"tcp://0.0.0.0:2376\", \"--tlsverify\", \"--tlscacert=/certs/ca.pem\", \"--tlscert=/certs/server-cert.pem\", \"--tlskey=/certs/server-key.pem\"]\n"
        );
        assert_eq!(
            suggested("FROM d\nENV DOCKER_HOST tcp://docker:2375\nENV DOCKER_TLS_CERTDIR=\"\"\n"),
            "FROM d\nENV DOCKER_HOST=tcp://docker:2376 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=/certs/client\nENV DOCKER_TLS_CERTDIR=/certs\n"
        );
        assert_eq!(
            suggested("FROM d\nRUN export DOCKER_HOST=tcp://d:2375 && docker ps\n"),
            "FROM d\nRUN export DOCKER_HOST=tcp://d:2376 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=/certs/client && docker ps\n"
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(
            tcp_address("tcp://0.0.0.0:2375"),
            Some(("0.0.0.0".into(), Some("2375".into())))
        );
        assert_eq!(tcp_address("tcp://[::]:2375/x").unwrap().0, "[::]");
        assert_eq!(tcp_address("tcp://docker").unwrap().1, None);
        assert_eq!(tcp_address("tcp://docker:$PORT"), None);
        assert_eq!(tcp_address("unix:///var/run/docker.sock"), None);
        assert_eq!(tls_url("tcp://0.0.0.0:2375"), "tcp://0.0.0.0:2376");
    }

    #[test]
    fn daemon_forms() {
        for t in [
            "FROM docker:dind\nCMD dockerd -H tcp://0.0.0.0:2375\n",
            "FROM docker:dind\nCMD dockerd --host=tcp://0.0.0.0:2375 --tls\n",
            "FROM docker:dind\nCMD [\"dockerd\", \"--host\", \"tcp://0.0.0.0:2375\"]\n",
            "FROM docker:dind\nENTRYPOINT [\"dockerd\"]\nCMD [\"-Htcp://0.0.0.0:2375\"]\n",
            "FROM docker:dind\nCMD [\"sh\", \"-c\", \"exec dockerd -H tcp://0.0.0.0:2375\"]\n",
            "FROM docker:dind\nRUN (dockerd -H=tcp://127.0.0.1:2375 &) && sleep 3\n",
        ] {
            assert_eq!(messages(t).len(), 1, "{t}");
        }
        for t in [
            "FROM docker:dind\nCMD dockerd -H tcp://0.0.0.0:2376 --tlsverify\n",
            "FROM docker:dind\nENV DOCKER_TLS_VERIFY=1\nCMD dockerd -H tcp://0.0.0.0:2376\n",
            "FROM docker:dind\nCMD dockerd -H unix:///var/run/docker.sock\n",
            "FROM docker:dind AS b\nCMD dockerd -H tcp://0.0.0.0:2375\nFROM alpine\n",
        ] {
            assert!(messages(t).is_empty(), "{t}");
        }
    }

    #[test]
    fn docker_host() {
        assert_eq!(
            messages("FROM a\nENV DOCKER_HOST=tcp://docker:2375\n").len(),
            1
        );
        assert_eq!(messages("FROM a\nENV DOCKER_HOST tcp://docker\n").len(), 1);
        assert_eq!(
            messages("FROM a\nRUN DOCKER_HOST=tcp://d:2375 docker ps\n").len(),
            1
        );
        assert!(messages("FROM a\nENV DOCKER_HOST=tcp://docker:2376\n").is_empty());
        assert!(
            messages("FROM a\nENV DOCKER_HOST=tcp://docker:2375 DOCKER_TLS_VERIFY=1\n").is_empty()
        );
        assert!(messages("FROM a\nENV DOCKER_HOST=unix:///run/docker.sock\n").is_empty());
        assert_eq!(
            messages("FROM docker:dind\nENV DOCKER_TLS_CERTDIR=\n").len(),
            1
        );
    }
}
