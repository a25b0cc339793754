//! Registry credentials as Docker keeps them: `$DOCKER_CONFIG/config.json` (default
//! `~/.docker/config.json`): `auths` (base64 `auth`, `username`/`password`, `identitytoken`),
//! `credHelpers` (per registry) and `credsStore` (the default helper), both run as
//! `docker-credential-<name> get` with the server address on standard input.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

/// What to authenticate with at one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Anonymous,
    Basic(String, String),
    /// An identity token (`identitytoken`, or a helper's answer with the user `<token>`).
    Token(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::Basic(u, _) => write!(f, "Basic({u}, ***)"),
            Self::Token(_) => f.write_str("Token(***)"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfigJson {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Debug, Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// The Docker client configuration of this user.
#[derive(Debug, Default)]
pub struct DockerConfig {
    config: ConfigJson,
}

/// Docker Hub's names in `auths` and for the helpers.
const HUB_KEYS: &[&str] = &[
    "https://index.docker.io/v1/",
    "index.docker.io",
    "docker.io",
    "registry-1.docker.io",
];

fn is_hub(host: &str) -> bool {
    matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    )
}

/// `https://ghcr.io/v1/` → `ghcr.io`.
fn host_of(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

impl DockerConfig {
    /// Read `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. A missing file is no
    /// credentials; an unreadable or malformed one is an error naming it.
    pub fn load() -> anyhow::Result<Self> {
        let dir = match std::env::var_os("DOCKER_CONFIG") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => match std::env::var_os("HOME") {
                Some(h) => Path::new(&h).join(".docker"),
                None => return Ok(Self::default()),
            },
        };
        Self::from_file(&dir.join("config.json"))
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        let config: ConfigJson = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!("{}: not a Docker client configuration: {e}", path.display())
        })?;
        Ok(Self { config })
    }

    /// The credential for `host` (`ghcr.io`, `localhost:5000`, `docker.io`): a `credHelpers`
    /// entry, else an `auths` entry, else the `credsStore` helper, else anonymous.
    pub fn credential(&self, host: &str) -> Result<Credential, String> {
        let keys: Vec<&str> = if is_hub(host) {
            HUB_KEYS.to_vec()
        } else {
            vec![host]
        };
        let server = if is_hub(host) {
            "https://index.docker.io/v1/"
        } else {
            host
        };
        for (k, helper) in &self.config.cred_helpers {
            if keys.contains(&host_of(k)) || keys.contains(&k.as_str()) {
                return run_helper(helper, server);
            }
        }
        for (k, entry) in &self.config.auths {
            if keys.contains(&k.as_str()) || keys.contains(&host_of(k)) {
                if let Some(c) = entry.credential()? {
                    return Ok(c);
                }
            }
        }
        if let Some(store) = &self.config.creds_store {
            return match run_helper(store, server) {
                Ok(c) => Ok(c),
                // The store has nothing for this registry: anonymous.
                Err(e) if e.contains("credentials not found") => Ok(Credential::Anonymous),
                Err(e) => Err(e),
            };
        }
        Ok(Credential::Anonymous)
    }
}

impl AuthEntry {
    fn credential(&self) -> Result<Option<Credential>, String> {
        if let Some(t) = self.identitytoken.as_deref().filter(|t| !t.is_empty()) {
            return Ok(Some(Credential::Token(t.to_owned())));
        }
        if let Some(a) = self.auth.as_deref().filter(|a| !a.is_empty()) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(a.trim())
                .map_err(|e| {
                    format!("the `auth` value in the Docker configuration is not base64: {e}")
                })?;
            let s = String::from_utf8(bytes).map_err(|_| {
                "the `auth` value in the Docker configuration is not UTF-8".to_owned()
            })?;
            let (u, p) = s
                .split_once(':')
                .ok_or("the `auth` value in the Docker configuration is not `user:password`")?;
            return Ok(Some(Credential::Basic(u.to_owned(), p.to_owned())));
        }
        match (&self.username, &self.password) {
            (Some(u), Some(p)) if !u.is_empty() => {
                Ok(Some(Credential::Basic(u.clone(), p.clone())))
            }
            _ => Ok(None),
        }
    }
}

/// `docker-credential-<helper> get`, the server address on stdin.
fn run_helper(helper: &str, server: &str) -> Result<Credential, String> {
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(format!("credential helper name `{helper}` is not valid"));
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("`{program}` failed: {e}"))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "`{program} get` failed for {server}: {}",
            format!("{} {}", msg.trim(), err.trim()).trim()
        ));
    }
    let a: HelperAnswer = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("`{program} get` gave no credentials: {e}"))?;
    if a.username == "<token>" {
        Ok(Credential::Token(a.secret))
    } else {
        Ok(Credential::Basic(a.username, a.secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        DockerConfig {
            config: serde_json::from_str(json).unwrap(),
        }
    }

    #[test]
    fn auths_entries() {
        let c = config(
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNz"},
                          "ghcr.io": {"username": "me", "password": "pw"},
                          "quay.io": {"identitytoken": "tok"}}}"#,
        );
        assert_eq!(
            c.credential("docker.io").unwrap(),
            Credential::Basic("user".into(), "pass".into())
        );
        assert_eq!(
            c.credential("ghcr.io").unwrap(),
            Credential::Basic("me".into(), "pw".into())
        );
        assert_eq!(
            c.credential("quay.io").unwrap(),
            Credential::Token("tok".into())
        );
        assert_eq!(c.credential("example.com").unwrap(), Credential::Anonymous);
        assert!(config(r#"{"auths": {"x.io": {"auth": "!!"}}}"#)
            .credential("x.io")
            .is_err());
    }

    #[test]
    fn missing_helper_is_an_error_naming_it() {
        let c = config(r#"{"credHelpers": {"x.io": "nonexistent-helper-for-test"}}"#);
        let e = c.credential("x.io").unwrap_err();
        assert!(
            e.contains("docker-credential-nonexistent-helper-for-test"),
            "{e}"
        );
        assert_eq!(c.credential("y.io").unwrap(), Credential::Anonymous);
    }
}
