use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::{Fix, SemanticPath};
use crate::registry::{Check, Context};
use crate::scripts::json::{append_member, Value};

declare_transform! {
    /// ## What it does
    /// Flags a `daemon.json` whose `hosts` include a `tcp://` address while `tlsverify` is not
    /// `true`.
    ///
    /// ## Why is this bad?
    /// The Docker API without TLS client authentication has no authentication at all: whoever can reach the port can start a privileged container and owns the host.
    ///
    /// ## Example
    /// ```json
    /// { "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
    ///   "tls": true, "tlscacert": "/etc/docker/ca.pem",
    ///   "tlscert": "/etc/docker/server.pem", "tlskey": "/etc/docker/server-key.pem" }
    /// ```
    /// gets `"tlsverify": true`.
    ///
    /// ## Fix safety
    /// Unsafe, and only when the daemon already has its certificates (`tlscacert`, `tlscert` and
    /// `tlskey` all set): `tlsverify` then makes it require client certificates signed by that
    /// CA, so clients without one are refused (that is the point). Without the certificates the
    /// fix is a display-only suggestion with placeholder paths: creating a CA and certificates is
    /// a human's job.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT enable TCP Docker daemon socket (`-H tcp://0.0.0.0:XXX`) without TLS".
    /// Docker documentation "Protect the Docker daemon socket"; CIS Docker Benchmark v1.7 2.7;
    /// command-line equivalent DR013.
    pub struct DaemonJsonTcpWithoutTls => "DD001", "daemon-tcp-without-tls", DaemonJson, Sometimes;
}

impl Check for DaemonJsonTcpWithoutTls {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(root) = crate::scripts::script(ctx).and_then(|s| s.json.as_ref()) else {
            return Vec::new();
        };
        let Some(hosts) = root.get("hosts") else {
            return Vec::new();
        };
        let tcp: Vec<&Value> = hosts
            .value
            .items()
            .iter()
            .filter(|v| {
                v.as_str()
                    .is_some_and(|s| s.to_ascii_lowercase().starts_with("tcp://"))
            })
            .collect();
        let verify = root.get("tlsverify");
        if tcp.is_empty() || verify.is_some_and(|m| m.value.as_bool() == Some(true)) {
            return Vec::new();
        }
        let certs = ["tlscacert", "tlscert", "tlskey"]
            .iter()
            .all(|k| root.get(k).is_some_and(|m| m.value.as_str().is_some()));
        let mut message = format!(
            "The daemon listens on {} without `\"tlsverify\": true`: the Docker API without TLS client authentication lets whoever reaches the port start a privileged container and own the host",
            tcp.iter()
                .filter_map(|v| v.as_str())
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let text = ctx.text;
        let (fix, changes) = if certs {
            let edit = match verify {
                Some(m) => Edit::replace(m.value.range, "true"),
                None => append_member(text, root, "tlsverify", "true"),
            };
            message.push_str("; its certificates are configured: require client certificates");
            (
                Fix::unsafe_("Set `\"tlsverify\": true`", vec![edit]),
                vec![SemanticPath::new(0, ["tlsverify"])],
            )
        } else {
            message.push_str(" (display only: create a CA and the server's certificate and key, then set their paths, replacing the placeholders)");
            let mut edits = Vec::new();
            let mut changes = Vec::new();
            let mut add = Vec::new();
            match verify {
                Some(m) => {
                    edits.push(Edit::replace(m.value.range, "true"));
                }
                None => add.push(("tlsverify", "true".to_owned())),
            }
            changes.push(SemanticPath::new(0, ["tlsverify"]));
            for (k, v) in [
                ("tlscacert", "/etc/docker/certs/ca.pem"),
                ("tlscert", "/etc/docker/certs/server-cert.pem"),
                ("tlskey", "/etc/docker/certs/server-key.pem"),
            ] {
                if root.get(k).is_none() {
                    add.push((k, format!("\"{v}\"")));
                    changes.push(SemanticPath::new(0, [k]));
                }
            }
            // One insertion holding every new member, in the object's layout.
            if let Some(((k0, v0), rest)) = add.split_first() {
                let mut e = append_member(text, root, k0, v0);
                let probe = append_member(text, root, "k", "v");
                let sep_and_indent = probe
                    .replacement
                    .split("\"k\"")
                    .next()
                    .unwrap_or(", ")
                    .to_owned();
                let sep = if sep_and_indent.starts_with(',') {
                    sep_and_indent
                } else {
                    format!(",{sep_and_indent}")
                };
                let sep = sep.trim_end_matches(['\r', '\n']).to_owned();
                let sep = if sep == "," { ", ".to_owned() } else { sep };
                let extra: String = rest
                    .iter()
                    .map(|(k, v)| format!("{sep}\"{k}\": {v}"))
                    .collect();
                if root.members().is_empty() {
                    // `{}`: the members go between the braces, before the closing line break.
                    let close = e.replacement.rfind(['\n']).unwrap_or(e.replacement.len());
                    let close = if e.replacement[..close].ends_with('\r') {
                        close - 1
                    } else {
                        close
                    };
                    e.replacement.insert_str(close, &extra);
                } else {
                    e.replacement.push_str(&extra);
                }
                edits.push(e);
            }
            (
                Fix::display_only("Require TLS client authentication", edits),
                changes,
            )
        };
        vec![Finding::new(Self::CODE, Self::NAME, tcp[0].range, message)
            .with_fix(fix.with_changes(changes))]
    }
}
