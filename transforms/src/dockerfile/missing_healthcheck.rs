use crate::declare_transform;
use crate::dockerfile::analysis::{
    cannot_insert_after, expand, indent_of, insert_after, insert_before, start_with_comments,
    Analysis, Base,
};
use crate::dockerfile::syntax::Dockerfile;
use crate::dockerfile::{dockerfile, same_case};
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::knowledge::{self, Family, Fetcher};
use crate::registry::{Check, Context};
use crate::settings::Settings;

declare_transform! {
    /// ## What it does
    /// Flags a Dockerfile whose final stage runs a long-running service but has no `HEALTHCHECK`,
    /// and adds one that calls a tool the image has.
    ///
    /// ## Why is this bad?
    /// Without a healthcheck, a hung or deadlocked service still counts as "running": nothing
    /// restarts it and traffic keeps flowing to it.
    ///
    /// A final stage is a service when it (or a stage it is built on) has `EXPOSE`, its base image is
    /// a known server (nginx, httpd, postgres, redis, …), or its `CMD`/`ENTRYPOINT` starts a known
    /// server (`nginx`, `gunicorn`, `uvicorn`, `php-fpm`, `redis-server`, …). Images without `EXPOSE`
    /// and no known server (CLI tools, batch jobs) are not reported. A `HEALTHCHECK` in a stage the
    /// final stage is built on counts, and `HEALTHCHECK NONE` is an explicit opt-out: no finding.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-alpine
    /// COPY app.py /app/
    /// EXPOSE 8000
    /// CMD ["python", "/app/app.py"]
    /// ```
    /// becomes
    /// ```dockerfile
    /// FROM python:3.12-alpine
    /// COPY app.py /app/
    /// EXPOSE 8000
    /// HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["wget", "-q", "--spider", "http://127.0.0.1:8000/"]
    /// CMD ["python", "/app/app.py"]
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: a failing check marks the container unhealthy, and orchestrators (Swarm, compose
    /// `depends_on: condition: service_healthy`) act on it. The check is never a tool the image
    /// lacks: it is `curl -fsS` (preferred) or `wget -q --spider` (exec form), only when the final
    /// stage's chain installs that tool and does not remove it again, or the base image ships it
    /// in that tag (the knowledge base's `http-clients`, by version and variant: nginx's Debian
    /// images got curl only in 1.17.10, `-slim` variants purge what they used; else BusyBox `wget`
    /// in Alpine). A base image that declares its own `HEALTHCHECK` is not flagged (its check is
    /// inherited). It probes `http://127.0.0.1:PORT/PATH` (127.0.0.1 rather than `localhost`, which
    /// BusyBox `wget` may resolve to `::1` first) on the first exposed TCP port that is not known to
    /// speak another protocol (databases, mail, DNS, TLS-only 443/8443, gRPC 50051, FastCGI from
    /// `php-fpm`…), with the path and timings from the options. The line goes before the final
    /// stage's first `CMD`/`ENTRYPOINT` (above the comment lines that belong to it).
    ///
    /// The fix is only shown (display-only, with the line and a `TODO`) when no HTTP client is
    /// known to be in the image (slim, distroless, scratch and Windows images), when no port is
    /// exposed, or when the port is not HTTP; set `healthcheck.command` to make it applicable.
    /// The HTTP path is never guessed: it is the knowledge base's `health-path` when the final
    /// stage keeps its base image's server (no own `CMD`/`ENTRYPOINT`), else `path` from the
    /// options; when neither says it, the check is shown with the path to confirm, and
    /// `fix --interactive` asks for it.
    ///
    /// ## Options
    /// `[options.healthcheck]`: `path` (no default: see above), `interval` (`30s`), `timeout` (`5s`), `retries` (3),
    /// `start-period` (`10s`), and `command` (exec-form words, e.g.
    /// `["/app/server", "healthcheck"]`): when set, it is used as the check for every image.
    ///
    /// ## References
    /// Guideline: "Include HEALTHCHECK instructions for container health monitoring". hadolint has
    /// none; checkov CKV_DOCKER_2, trivy AVD-DS-0026, CIS Docker Benchmark 4.6.
    pub struct MissingHealthcheck => "DF004", "missing-healthcheck", Dockerfile, Sometimes;
}

/// Why the final stage counts as a service, for the message.
fn service_reason(a: &Analysis<'_>, stage: usize, port_words: &[String]) -> Option<String> {
    if let Some(first) = port_words.first() {
        return Some(format!("it exposes {first}"));
    }
    if let Base::Image(image) = a.root_base(stage) {
        if knowledge::is_server(image) {
            return Some(format!("its base image `{}` is a server", image.short()));
        }
    }
    a.start_programs(stage)
        .into_iter()
        .find(|p| is_server_command(p))
        .map(|p| format!("it starts `{p}`"))
}

fn is_server_command(p: &str) -> bool {
    knowledge::SERVER_COMMANDS.contains(&p) || p.starts_with("php-fpm")
}

/// Parse an EXPOSE word: `8080`, `8080/tcp`, `53/udp`, `8000-8010`. Returns (port, tcp?).
fn parse_port(word: &str) -> Option<(u16, bool)> {
    let (num, proto) = match word.split_once('/') {
        Some((n, p)) => (n, p.to_ascii_lowercase()),
        None => (word, "tcp".to_owned()),
    };
    let first = num.split('-').next()?;
    Some((first.parse().ok()?, proto == "tcp"))
}

/// The JSON string literal of `s`.
fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn exec_form(words: &[String]) -> String {
    let inner: Vec<String> = words.iter().map(|w| json(w)).collect();
    format!("[{}]", inner.join(", "))
}

/// The start of the reason given when only the health path is missing.
const UNKNOWN_PATH: &str = "which HTTP path answers when the application is healthy is not known";

/// What the healthcheck calls, or why it cannot be inferred (then the shown command).
fn command(
    a: &Analysis<'_>,
    stage: usize,
    s: &Settings,
    ports: &[(u16, bool)],
) -> Result<Vec<String>, (String, Vec<String>)> {
    if let Some(cmd) = &s.healthcheck.command {
        if !cmd.is_empty() {
            return Ok(cmd.clone());
        }
    }
    let family = a.family(stage);
    let root_image = match a.root_base(stage) {
        Base::Image(i) => Some(i),
        _ => None,
    };
    // The path: the configured one, else the base image's own health path when the image still
    // runs the base's server (no ENTRYPOINT/CMD of its own), else unknown: an application's
    // routes are only its authors' to tell.
    let keeps_base_server = !a
        .chain_body(stage)
        .iter()
        .any(|(_, i)| matches!(i.keyword.as_str(), "CMD" | "ENTRYPOINT"));
    let known_path = s.healthcheck.path.clone().or_else(|| {
        root_image
            .filter(|_| keeps_base_server)
            .and_then(knowledge::built_in_facts)
            .and_then(|f| f.health_path.clone())
    });
    let path_known = known_path.is_some();
    let path = known_path.unwrap_or_else(|| "/".to_owned());
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    // php-fpm speaks FastCGI on 9000: started by the Dockerfile, or kept from a `*-fpm*` base.
    let fastcgi = a
        .start_programs(stage)
        .iter()
        .any(|p| p.starts_with("php-fpm"))
        || root_image.is_some_and(|i| {
            i.tag
                .as_deref()
                .is_some_and(|t| t.to_ascii_lowercase().contains("fpm"))
        });
    let tcp: Vec<u16> = ports
        .iter()
        .filter(|(_, tcp)| *tcp)
        .map(|(p, _)| *p)
        .collect();
    let port = tcp
        .iter()
        .copied()
        .find(|p| knowledge::non_http_port(*p).is_none() && !(fastcgi && *p == 9000));
    let url = |p: Option<u16>| {
        format!(
            "http://127.0.0.1:{}{path}",
            p.map_or_else(|| "TODO-PORT".to_owned(), |p| p.to_string())
        )
    };
    let curl = |p| vec!["curl".into(), "-fsS".into(), url(p)];
    let wget = |p| vec!["wget".into(), "-q".into(), "--spider".into(), url(p)];
    let todo_cmd = vec!["TODO: a command that exits 0 when the service is healthy".to_owned()];
    if matches!(
        family,
        Family::Windows | Family::Distroless | Family::Scratch
    ) {
        let what = match family {
            Family::Windows => "a Windows image",
            Family::Distroless => "a distroless image (no shell, no curl or wget)",
            _ => "a `scratch` image (no tools at all)",
        };
        return Err((
            format!("{what}: set `healthcheck.command` to a check the image can run, such as the program's own health subcommand"),
            todo_cmd,
        ));
    }
    let Some(port) = port else {
        let why = match tcp.first() {
            None => "no TCP port is exposed, so the port to probe is unknown".to_owned(),
            Some(p) if fastcgi && *p == 9000 => {
                "php-fpm's port 9000 speaks FastCGI, not HTTP".to_owned()
            }
            Some(p) => format!(
                "port {p} is {}, not plain HTTP",
                knowledge::non_http_port(*p).unwrap_or("not HTTP")
            ),
        };
        return Err((
            format!("{why}: set `healthcheck.command`"),
            if tcp.is_empty() { curl(None) } else { todo_cmd },
        ));
    };
    let shipped = root_image
        .map(knowledge::shipped_fetchers)
        .unwrap_or_default();
    let has = |f: Fetcher, pkg: &str| shipped.contains(&f) || a.installs(stage, pkg);
    let chosen = if has(Fetcher::Curl, "curl") {
        Some(curl(Some(port)))
    } else if has(Fetcher::Wget, "wget") {
        Some(wget(Some(port)))
    } else {
        None
    };
    if let (Some(cmd), false) = (&chosen, path_known) {
        return Err((
            format!("{UNKNOWN_PATH}: set `path` (or `command`) under `[options.healthcheck]` in .dockharden.toml"),
            cmd.clone(),
        ));
    }
    if let Some(cmd) = chosen {
        Ok(cmd)
    } else {
        Err((
            "no curl or wget is known to be in the image: install one, or set `healthcheck.command`"
                .into(),
            curl(Some(port)),
        ))
    }
}

fn check(text: &str, df: &Dockerfile, s: &Settings) -> Option<Finding> {
    let a = Analysis::new(df);
    let stage = a.final_stage()?;
    let body = a.chain_body(stage);
    if body.iter().any(|(_, i)| i.keyword == "HEALTHCHECK") {
        return None;
    }
    // The base image declares its own HEALTHCHECK, which the image inherits.
    if let Base::Image(image) = a.root_base(stage) {
        if knowledge::built_in_facts(image).and_then(|f| f.healthcheck) == Some(true) {
            return None;
        }
    }
    let expose: Vec<(usize, String)> = body
        .iter()
        .filter(|(_, i)| i.keyword == "EXPOSE")
        .flat_map(|(n, i)| i.expose_ports().into_iter().map(move |(w, _)| (*n, w)))
        .collect();
    let words: Vec<String> = expose.iter().map(|(_, w)| w.clone()).collect();
    let reason = service_reason(&a, stage, &words)?;
    let vars = a.variables(stage);
    let mut ports: Vec<(u16, bool)> = words
        .iter()
        .filter_map(|w| parse_port(&expand(w, &vars)?))
        .collect();
    if ports.is_empty() {
        if let Base::Image(image) = a.root_base(stage) {
            ports.extend(knowledge::default_http_port(image).map(|p| (p, true)));
        }
    }

    let from = &df.instructions[a.stages[stage].from];
    let range = expose
        .iter()
        .find(|(n, _)| a.stages[stage].instructions.contains(n))
        .map_or(from.range, |(n, _)| df.instructions[*n].range);
    let like = from.keyword_range.slice(text);
    let hc = &s.healthcheck;
    let line = |cmd: &[String], indent: &str| {
        format!(
            "{indent}{} --interval={} --timeout={} --start-period={} --retries={} {} {}",
            same_case("HEALTHCHECK", like),
            hc.interval,
            hc.timeout,
            hc.start_period,
            hc.retries,
            same_case("CMD", like),
            exec_form(cmd)
        )
    };
    // Before the first CMD/ENTRYPOINT of the final stage, else after its last instruction.
    let first_start = a
        .body(stage)
        .find(|(_, i)| matches!(i.keyword.as_str(), "CMD" | "ENTRYPOINT"));
    let last = &df.instructions[a.stages[stage].instructions.end - 1];
    let edit = |lines: Vec<String>| match first_start {
        Some((n, _)) => vec![Edit::insert(
            start_with_comments(df, n),
            insert_before(text, &lines),
        )],
        None => insert_after(text, last, &lines),
    };
    let indent = first_start.map_or("", |(_, i)| indent_of(text, i));
    let finding = |extra: String| {
        Finding::new(
            MissingHealthcheck::CODE,
            MissingHealthcheck::NAME,
            range,
            format!("The final stage runs a service ({reason}) but has no HEALTHCHECK{extra}"),
        )
    };
    if let (None, Some(why)) = (first_start, cannot_insert_after(text, last)) {
        // The line would become part of the heredoc's body or of the last instruction.
        return Some(finding(format!(" (not fixed: {why})")));
    }
    Some(match command(&a, stage, s, &ports) {
        Ok(cmd) => {
            let title = format!("Add `HEALTHCHECK … CMD {}`", exec_form(&cmd));
            finding(String::new()).with_fix(Fix::unsafe_(title, edit(vec![line(&cmd, indent)])))
        }
        Err((why, shown)) => {
            let lines = vec![format!("{indent}# TODO: {why}"), line(&shown, indent)];
            let title = if shown.first().is_some_and(|w| w.starts_with("TODO")) {
                "Add a `HEALTHCHECK` (TODO: a command that exits 0 when the service is healthy)"
                    .to_owned()
            } else if why.starts_with(UNKNOWN_PATH) {
                format!(
                    "Add `HEALTHCHECK … CMD {}` (TODO: the path that answers when healthy)",
                    exec_form(&shown)
                )
            } else {
                format!(
                    "Add `HEALTHCHECK … CMD {}` (TODO: make sure the image can run it)",
                    exec_form(&shown)
                )
            };
            let f = finding(format!(" (not fixed automatically: {why})"))
                .with_fix(Fix::display_only(title, edit(lines)));
            if why.starts_with(UNKNOWN_PATH) {
                f.with_need(crate::finding::Need {
                    option: "healthcheck.path",
                    key: None,
                    prompt: "HTTP path that answers 200 when the service is healthy".into(),
                    default: Some("/".into()),
                })
            } else {
                // No command can be inferred: `fix --interactive` asks for one.
                f.with_need(crate::finding::Need {
                    option: "healthcheck.command",
                    key: None,
                    prompt: "Command that exits 0 when the service is healthy, run without a shell (e.g. /app/server healthcheck, or [\"sh\", \"-c\", \"...\"])".into(),
                    default: None,
                })
            }
        }
    })
}

impl Check for MissingHealthcheck {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(df) = dockerfile(ctx) else {
            return Vec::new();
        };
        check(ctx.text, df, ctx.settings).into_iter().collect()
    }
}
