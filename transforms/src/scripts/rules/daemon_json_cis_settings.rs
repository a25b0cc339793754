use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::{Fix, SemanticPath};
use crate::registry::{Check, Context};
use crate::scripts::json::append_member;
use crate::text::TextRange;

declare_transform! {
    /// ## What it does
    /// Suggests the daemon settings the CIS Docker Benchmark recommends, one finding per setting
    /// that `daemon.json` leaves out or sets the other way: `"no-new-privileges": true`,
    /// `"icc": false`, `"live-restore": true`, `"userland-proxy": false`.
    ///
    /// ## Why is this bad?
    /// Without them every container may gain privileges through setuid binaries unless its own command says otherwise, containers on the default bridge talk to each other freely, a daemon restart stops every container, and a userland proxy process listens for every published port.
    ///
    /// ## Example
    /// ```json
    /// { "log-driver": "json-file" }
    /// ```
    /// is reported four times; each suggestion adds one member, e.g. `"icc": false`.
    ///
    /// ## Fix safety
    /// Display-only (suggestions; no guessing): each setting changes what every container on the
    /// host can do, and what breaks is not in this file. `no-new-privileges` stops setuid
    /// helpers (`sudo`) and file capabilities (`setcap`) in every container; `icc: false` cuts
    /// containers on the default bridge off from each other (user-defined networks are not
    /// affected); `live-restore` cannot be used with Swarm mode; `userland-proxy: false` relies on
    /// iptables hairpin NAT for connections from the host to published ports.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use `--security-opt=no-new-privileges`", "Avoid default bridge networking".
    /// CIS Docker Benchmark v1.7 2.2 (icc), 2.14 (no-new-privileges), 2.15 (live-restore),
    /// 2.16 (userland-proxy).
    pub struct DaemonJsonCisSettings => "DD002", "daemon-cis-settings", DaemonJson, None;
}

const SETTINGS: &[(&str, bool, &str)] = &[
    (
        "no-new-privileges",
        true,
        "containers can gain privileges through setuid binaries and file capabilities unless each command sets `--security-opt no-new-privileges` (CIS 2.14)",
    ),
    (
        "icc",
        false,
        "containers on the default bridge can reach each other on every port (CIS 2.2)",
    ),
    (
        "live-restore",
        true,
        "a daemon restart or upgrade stops every container (CIS 2.15)",
    ),
    (
        "userland-proxy",
        false,
        "a `docker-proxy` process listens for every published port instead of iptables rules (CIS 2.16)",
    ),
];

impl Check for DaemonJsonCisSettings {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(root) = crate::scripts::script(ctx).and_then(|s| s.json.as_ref()) else {
            return Vec::new();
        };
        if !matches!(root.kind, crate::scripts::json::Kind::Object(_)) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (key, want, why) in SETTINGS {
            let want_text = if *want { "true" } else { "false" };
            let (range, edit, said) = match root.get(key) {
                Some(m) if m.value.as_bool() == Some(*want) => continue,
                Some(m) => (
                    m.value.range,
                    Edit::replace(m.value.range, want_text),
                    format!(
                        "sets `\"{key}\": {}` (recommended: `{want_text}`)",
                        m.value.range.slice(ctx.text)
                    ),
                ),
                None => (
                    TextRange::new(root.range.start, root.range.start + 1),
                    append_member(ctx.text, root, key, want_text),
                    format!("does not set `\"{key}\": {want_text}`"),
                ),
            };
            let message = format!(
                "The daemon configuration {said}: {why} (display only: it changes every container on the host; see `dockharden explain DD002`)"
            );
            out.push(
                Finding::new(Self::CODE, Self::NAME, range, message).with_fix(
                    Fix::display_only(format!("Set `\"{key}\": {want_text}`"), vec![edit])
                        .with_changes(vec![SemanticPath::new(0, [*key])]),
                ),
            );
        }
        out
    }
}
