//! `.dockharden.toml`: found upward from each file (nearest wins); `--config` and `--isolated` override.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use dockharden_transforms::settings::Settings;
use serde::Deserialize;

pub const CONFIG_NAME: &str = ".dockharden.toml";

/// The file format. Unknown keys are an error naming the key and the file.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Rules to run (codes or prefixes). Empty = all.
    pub select: Vec<String>,
    /// Rules not to run (codes or prefixes).
    pub ignore: Vec<String>,
    /// Apply Unsafe fixes by default.
    pub unsafe_fixes: Option<bool>,
    /// Look images up in their registries and the local Docker Engine (as `--resolve`) for the
    /// files under this config.
    pub resolve: Option<bool>,
    /// Registries reached over plain HTTP besides the loopback ones (as `--insecure-registry`).
    pub insecure_registries: Vec<String>,
    /// Glob patterns (relative to the config file's folder) of paths to skip.
    pub exclude: Vec<String>,
    /// Per-path overrides: `[[overrides]] paths = ["legacy/**"]  ignore = ["DF004"]`.
    pub overrides: Vec<Override>,
    /// Transform options.
    pub options: Settings,
    /// What the user knows about images (`[[images]]`, the knowledge base's schema): laid over the
    /// built-in knowledge, used by every rule.
    pub images: Vec<toml::Table>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Override {
    pub paths: Vec<String>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

/// A loaded configuration: the file's folder (for relative globs) and its content.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub root: PathBuf,
    pub file: ConfigFile,
    /// The file it was read from (None: defaults).
    pub source: Option<PathBuf>,
    exclude: Option<globset::GlobSet>,
    overrides: Vec<(globset::GlobSet, Override)>,
}

fn build_globs(patterns: &[String], source: &Path) -> Result<globset::GlobSet> {
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        let g = globset::GlobBuilder::new(p)
            .literal_separator(false)
            .build()
            .with_context(|| format!("{}: invalid glob `{p}`", source.display()))?;
        b.add(g);
        // A pattern naming a folder also excludes what is inside it.
        if !p.ends_with("/**") {
            if let Ok(g) = globset::Glob::new(&format!("{}/**", p.trim_end_matches('/'))) {
                b.add(g);
            }
        }
    }
    Ok(b.build()?)
}

impl Config {
    /// Load a config file.
    ///
    /// # Errors
    /// Unreadable file, TOML syntax error, unknown key (all naming the file).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read configuration", path.display()))?;
        let mut file: ConfigFile = toml::from_str(&text).map_err(|e| {
            let loc = e
                .span()
                .map(|s| {
                    let lc = dockharden_transforms::text::line_col(&text, s.start);
                    format!(":{}:{}", lc.line, lc.column)
                })
                .unwrap_or_default();
            anyhow::anyhow!("{}{loc}: {}", path.display(), e.message())
        })?;
        // A typo in a rule list would silently turn rules (or the whole gate) off.
        let rules = |list: &mut Vec<String>, key: &str| -> Result<()> {
            *list = dockharden_transforms::codes::resolve_selectors(list)
                .map_err(|e| anyhow::anyhow!("{}: `{key}`: {e}", path.display()))?;
            Ok(())
        };
        rules(&mut file.select, "select")?;
        rules(&mut file.ignore, "ignore")?;
        for (i, o) in file.overrides.iter_mut().enumerate() {
            rules(&mut o.select, &format!("overrides[{}].select", i + 1))?;
            rules(&mut o.ignore, &format!("overrides[{}].ignore", i + 1))?;
        }
        file.options.images = file
            .images
            .iter()
            .enumerate()
            .map(|(i, t)| {
                dockharden_transforms::images::Entry::from_table(
                    t.clone(),
                    dockharden_transforms::images::Origin::Config,
                    false,
                )
                .map_err(|e| anyhow::anyhow!("{}: images[{}]: {e}", path.display(), i + 1))
            })
            .collect::<Result<_>>()?;
        let root = absolute(path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        let exclude = if file.exclude.is_empty() {
            None
        } else {
            Some(build_globs(&file.exclude, path)?)
        };
        let overrides = file
            .overrides
            .iter()
            .map(|o| Ok((build_globs(&o.paths, path)?, o.clone())))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            root,
            file,
            source: Some(path.to_path_buf()),
            exclude,
            overrides,
        })
    }

    fn relative(&self, path: &Path) -> PathBuf {
        let abs = absolute(path).unwrap_or_else(|_| path.to_path_buf());
        abs.strip_prefix(&self.root)
            .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
    }

    #[must_use]
    pub fn is_excluded(&self, path: &Path) -> bool {
        self.exclude
            .as_ref()
            .is_some_and(|g| g.is_match(self.relative(path)))
    }

    /// The select / ignore lists that apply to `path` (overrides appended).
    #[must_use]
    pub fn rule_lists(&self, path: &Path) -> (Vec<String>, Vec<String>) {
        let mut select = self.file.select.clone();
        let mut ignore = self.file.ignore.clone();
        if self.overrides.is_empty() {
            return (select, ignore);
        }
        let rel = self.relative(path);
        for (g, o) in &self.overrides {
            if g.is_match(&rel) {
                if !o.select.is_empty() {
                    select.clone_from(&o.select);
                }
                ignore.extend(o.ignore.iter().cloned());
            }
        }
        (select, ignore)
    }
}

/// The caches' hasher: paths are looked up once per file and folder of a walk (SipHash was half
/// of the look-up's instructions); they are the user's own paths, not an attacker's.
type Fast = foldhash::fast::RandomState;

/// Finds the nearest config for each file, caching per folder.
pub struct ConfigResolver {
    fixed: Option<Arc<Config>>,
    isolated: bool,
    /// The config of each folder asked about, by its absolute path's bytes (`Path`'s hash walks
    /// the components; the paths here come from `std::path::absolute` and `Path::parent`, so
    /// they have no `.` component and no repeated separator, and equal bytes are equal paths).
    cache: Mutex<HashMap<std::ffi::OsString, Option<Arc<Config>>, Fast>>,
    /// [`ConfigResolver::for_path`]'s answers by the folder part of the path as given (its bytes):
    /// the files of a walk share a few folders, and making a path absolute and hashing it by
    /// components cost more than the rest of the look-up.
    by_parent: Mutex<HashMap<std::ffi::OsString, Arc<Config>, Fast>>,
    default: Arc<Config>,
}

impl ConfigResolver {
    /// # Errors
    /// `--config FILE` that cannot be loaded.
    pub fn new(config: Option<&Path>, isolated: bool) -> Result<Self> {
        let fixed = match config {
            Some(p) => Some(Arc::new(Config::load(p)?)),
            None => None,
        };
        Ok(Self {
            fixed,
            isolated,
            cache: Mutex::new(HashMap::default()),
            by_parent: Mutex::new(HashMap::default()),
            default: Arc::new(Config::default()),
        })
    }

    /// The config for a file at `path`.
    ///
    /// # Errors
    /// A config file on the way up that is invalid.
    pub fn for_path(&self, path: &Path) -> Result<Arc<Config>> {
        if let Some(c) = &self.fixed {
            return Ok(c.clone());
        }
        if self.isolated {
            return Ok(self.default.clone());
        }
        // The same folder bytes are the same folder (the working directory does not change
        // during a run); a file name is the last component, so what precedes it is the key.
        let parent = folder_bytes(path).or_else(|| path.parent().map(Path::as_os_str));
        if let Some(key) = parent {
            if let Some(c) = self.by_parent.lock().expect("config cache").get(key) {
                return Ok(c.clone());
            }
        }
        let abs = absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
        let config = self.for_dir(&dir)?.unwrap_or_else(|| self.default.clone());
        if let Some(key) = parent {
            self.by_parent
                .lock()
                .expect("config cache")
                .insert(key.to_owned(), config.clone());
        }
        Ok(config)
    }

    fn for_dir(&self, dir: &Path) -> Result<Option<Arc<Config>>> {
        if let Some(c) = self
            .cache
            .lock()
            .expect("config cache")
            .get(dir.as_os_str())
        {
            return Ok(c.clone());
        }
        let candidate = dir.join(CONFIG_NAME);
        let found = if candidate.is_file() {
            Some(Arc::new(Config::load(&candidate)?))
        } else if let Some(parent) = dir.parent() {
            self.for_dir(parent)?
        } else {
            None
        };
        self.cache
            .lock()
            .expect("config cache")
            .insert(dir.as_os_str().to_owned(), found.clone());
        Ok(found)
    }
}

/// Whether `code` is matched by any of `patterns` (codes or prefixes, case-insensitive; `ALL`).
#[must_use]
pub fn matches_any(code: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| {
        let p = p.trim();
        p.eq_ignore_ascii_case("ALL")
            || (code.len() >= p.len() && code[..p.len()].eq_ignore_ascii_case(p))
    })
}

/// Save one option value into the `[options]` table of a config file (created when missing), keeping
/// the rest of the file byte for byte (toml_edit). `option` is the dotted path used by
/// `Settings::set`; `key` the map key for `pins`.
///
/// # Errors
/// Unreadable or invalid file, or a write error.
pub fn save_option(path: &Path, option: &str, key: Option<&str>, value: &str) -> Result<()> {
    let original = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
    };
    let mut doc: toml_edit::DocumentMut = original
        .as_deref()
        .unwrap_or("")
        .parse()
        .with_context(|| format!("{}: invalid TOML", path.display()))?;
    if let Some(field) = option.strip_prefix("images.") {
        let image = key.ok_or_else(|| anyhow::anyhow!("a fact about an image needs its name"))?;
        save_image_fact(&mut doc, path, field, image, value)?;
        let new = doc.to_string();
        match &original {
            Some(old) => crate::files::write_atomic(path, old, &new)?,
            None => std::fs::write(path, new)?,
        }
        return Ok(());
    }
    // Tables created here are implicit: `[options.limits]` alone, no empty `[options]` above it.
    let implicit = || {
        let mut t = toml_edit::Table::new();
        t.set_implicit(true);
        toml_edit::Item::Table(t)
    };
    let options = doc
        .entry("options")
        .or_insert_with(implicit)
        .as_table_mut()
        .ok_or_else(|| anyhow::anyhow!("{}: `options` is not a table", path.display()))?;
    let mut parts: Vec<&str> = option.split('.').collect();
    if let Some(k) = key {
        parts.push(k);
    }
    let (last, tables) = parts.split_last().expect("non-empty option");
    let mut table = options;
    for t in tables {
        table = table
            .entry(t)
            .or_insert_with(implicit)
            .as_table_mut()
            .ok_or_else(|| anyhow::anyhow!("{}: `{t}` is not a table", path.display()))?;
    }
    let item = match value.parse::<i64>() {
        Ok(n) if matches!(option, "uid" | "gid" | "limits.pids") => toml_edit::value(n),
        _ if option == "healthcheck.command" => {
            let words = dockharden_transforms::settings::command_words(value)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            toml_edit::value(words.into_iter().collect::<toml_edit::Array>())
        }
        _ => toml_edit::value(value),
    };
    table.insert(last, item);
    let new = doc.to_string();
    match &original {
        Some(old) => crate::files::write_atomic(path, old, &new)?,
        None => std::fs::write(path, new)?,
    }
    Ok(())
}

/// Write what an interactive answer states about `image` into its `[[images]]` entry (created when
/// missing), in the knowledge base's schema.
fn save_image_fact(
    doc: &mut toml_edit::DocumentMut,
    path: &Path,
    field: &str,
    image: &str,
    value: &str,
) -> Result<()> {
    let facts = dockharden_transforms::images::fact_from_answer(field, value)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let name = dockharden_transforms::knowledge::ImageName::parse(image).short();
    let tables = doc
        .entry("images")
        .or_insert_with(|| toml_edit::Item::ArrayOfTables(toml_edit::ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or_else(|| anyhow::anyhow!("{}: `images` is not an array of tables", path.display()))?;
    let found = tables.iter().position(|t| {
        t.get("names")
            .and_then(|n| n.as_array())
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(name.as_str())))
    });
    let table = match found {
        Some(i) => tables.get_mut(i).expect("found above"),
        None => {
            let mut t = toml_edit::Table::new();
            let mut names = toml_edit::Array::new();
            names.push(name.as_str());
            t.insert("names", toml_edit::value(names));
            tables.push(t);
            tables.iter_mut().last().expect("just pushed")
        }
    };
    // The facts as TOML, one key at a time (the schema's own spelling).
    let rendered = toml::to_string(&facts)?;
    let parsed: toml_edit::DocumentMut = rendered.parse()?;
    for (k, v) in parsed.iter() {
        table.insert(k, v.clone());
    }
    Ok(())
}

/// The folder part of `path` as given, when its last component is a name: the bytes before the
/// last `/` (empty for a bare name), found without parsing components ([`Path::parent`] gives the
/// same folder; the bytes may differ, as `a//b` gives `a/`, which only makes another cache key).
#[cfg(unix)]
fn folder_bytes(path: &Path) -> Option<&std::ffi::OsStr> {
    use std::os::unix::ffi::OsStrExt as _;
    let bytes = path.as_os_str().as_bytes();
    let (folder, name) = match memchr::memrchr(b'/', bytes) {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (&bytes[..0], bytes),
    };
    if name.is_empty() || name == b"." || name == b".." || (folder.is_empty() && bytes[0] == b'/') {
        return None;
    }
    Some(std::ffi::OsStr::from_bytes(folder))
}

#[cfg(not(unix))]
fn folder_bytes(_: &Path) -> Option<&std::ffi::OsStr> {
    None
}

/// `std::path::absolute` with the working folder read once per run: it is asked for every file
/// (configs, excludes, overrides), and each `getcwd` is a syscall.
fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    static CWD: std::sync::LazyLock<Option<PathBuf>> =
        std::sync::LazyLock::new(|| std::env::current_dir().ok());
    match &*CWD {
        Some(cwd) if path.is_relative() => std::path::absolute(cwd.join(path)),
        _ => std::path::absolute(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folder read from the bytes is the folder `Path::parent` gives, as a path.
    #[test]
    fn folder_bytes_is_the_parent() {
        let paths = [
            "a/b",
            "x",
            "./x",
            "../shared/corpus/a/Dockerfile",
            "a//b",
            "a/./b",
            "a/../b",
            "/x",
            "/a/b",
            "a/",
            "a/.",
            "a/..",
            ".",
            "..",
            "",
            "/",
            "a/b/",
            "./a/.b",
        ];
        let mut fast = 0;
        for p in paths {
            let path = Path::new(p);
            if let Some(folder) = folder_bytes(path) {
                assert_eq!(Some(Path::new(folder)), path.parent(), "{p}");
                fast += 1;
            }
        }
        assert_eq!(fast, 9);
    }

    /// The files whose text reaches users: rule docs and messages (the sources), rendered messages
    /// (the golden snapshots), the README and the CHANGELOG.
    fn user_facing_texts() -> Vec<(PathBuf, String)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p
                    .extension()
                    .is_some_and(|x| x == "rs" || x == "snap" || x == "md")
                {
                    if let Ok(t) = std::fs::read_to_string(&p) {
                        out.push((p, t));
                    }
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for d in ["src", "transforms/src", "golden"] {
            walk(&root.join(d), &mut out);
        }
        for f in ["README.md", "CHANGELOG.md"] {
            out.push((root.join(f), std::fs::read_to_string(root.join(f)).unwrap()));
        }
        assert!(out.len() > 50, "{} files", out.len());
        out
    }

    fn is_key(w: &str) -> bool {
        !w.is_empty()
            && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            && !w.starts_with('-')
    }

    /// `(table, key)` pairs a text names: `[options.T] key` (one code span), `` `k1`, `k2` ``
    /// right after `[options.T]`: and `` `key` under `[options.T]` ``. Key None: the table alone.
    fn named_keys(text: &str) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(i) = text[from..].find("[options") {
            let at = from + i;
            from = at + 1;
            let Some(close) = text[at..].find(']') else {
                break;
            };
            let table = &text[at + 1..at + close];
            if !table
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '-')
            {
                continue;
            }
            out.push((table.to_owned(), None));
            let after = &text[at + close + 1..];
            // `[options.T] key` / `[options.T] key = value`
            if let Some(rest) = after.strip_prefix(' ') {
                let word: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                    .collect();
                let next = rest[word.len()..].chars().next();
                if is_key(&word) && matches!(next, Some('`' | ' ' | '=')) && word != "in" {
                    let tail = rest[word.len()..].trim_start();
                    if next == Some('`') || tail.starts_with('=') {
                        out.push((table.to_owned(), Some(word)));
                    }
                }
            }
            // `[options.T]`: `k1`, `k2` (... ) — a list of its keys.
            if let Some(list) = after.strip_prefix("`: ") {
                let mut rest = list;
                while let Some(r) = rest.strip_prefix('`') {
                    let Some(end) = r.find('`') else { break };
                    let word = r[..end].split([' ', '=']).next().unwrap_or("");
                    if is_key(word) {
                        out.push((table.to_owned(), Some(word.to_owned())));
                    }
                    rest = r[end + 1..].trim_start_matches([',', ' ']);
                    rest = rest.strip_prefix("and ").unwrap_or(rest);
                    // `(default)` and similar remarks between the keys.
                    if let Some(p) = rest.strip_prefix('(') {
                        rest = p.split_once(')').map_or("", |(_, r)| r);
                        rest = rest.trim_start_matches([',', ' ']);
                    }
                }
            }
            // `key` (or `key2`) under `[options.T]`
            let before = &text[..at];
            if before.ends_with(" under `") {
                let window = &before[before.len().saturating_sub(60)..before.len() - 8];
                let window = window.rsplit(['.', ':', ';']).next().unwrap_or(window);
                for (n, part) in window.split('`').enumerate() {
                    if n % 2 == 1 && is_key(part) {
                        out.push((table.to_owned(), Some(part.to_owned())));
                    }
                }
            }
        }
        out
    }

    /// Whether a configuration with this table (and key) loads: the key may have a wrong value here,
    /// but it must not be unknown.
    fn key_loads(table: &str, key: Option<&str>) -> Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CONFIG_NAME);
        let body = match key {
            Some(k) => format!("[{table}]\n{k} = \"x\"\n"),
            None => format!("[{table}]\n"),
        };
        std::fs::write(&p, &body).unwrap();
        match Config::load(&p) {
            Ok(_) => Ok(()),
            Err(e) if !format!("{e:#}").contains("unknown field") => Ok(()),
            Err(e) => Err(format!("{body:?}: {e:#}")),
        }
    }

    /// Each file gets the config of its nearest folder that has one, asked in any order, by
    /// relative and absolute paths, again and again (the answers are kept per folder).
    #[test]
    fn each_file_gets_the_nearest_config_whatever_the_order_of_the_questions() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join("c")).unwrap();
        std::fs::write(root.join(CONFIG_NAME), "select = [\"DF\"]\n").unwrap();
        std::fs::write(root.join("a/b").join(CONFIG_NAME), "select = [\"DC\"]\n").unwrap();
        let resolver = ConfigResolver::new(None, false).unwrap();
        let select = |p: &Path| resolver.for_path(p).unwrap().file.select.clone();
        for _ in 0..2 {
            assert_eq!(select(&root.join("a/b/Dockerfile")), ["DC"]);
            assert_eq!(select(&root.join("a/Dockerfile")), ["DF"]);
            assert_eq!(select(&root.join("a/b/x/../Dockerfile")), ["DC"]);
            assert_eq!(select(&root.join("c/compose.yaml")), ["DF"]);
            assert_eq!(select(&root.join("a/b/c/compose.yaml")), ["DC"]);
            assert_eq!(select(&root.join("Dockerfile")), ["DF"]);
        }
        let isolated = ConfigResolver::new(None, true).unwrap();
        assert!(isolated
            .for_path(&root.join("a/b/Dockerfile"))
            .unwrap()
            .file
            .select
            .is_empty());
    }

    /// Every configuration key a message, fix title, rule doc, snapshot or the README names loads;
    /// no text names an option table without its `[options.…]` prefix.
    #[test]
    fn every_config_key_named_anywhere_loads() {
        assert!(key_loads("options.pins-x", None).is_err());
        assert!(key_loads("options.limits", Some("memroy")).is_err());
        let mut failures = Vec::new();
        let mut checked = std::collections::BTreeSet::new();
        for (path, text) in user_facing_texts() {
            for (table, key) in named_keys(&text) {
                if checked.insert((table.clone(), key.clone())) {
                    if let Err(e) = key_loads(&table, key.as_deref()) {
                        failures.push(format!("{}: {e}", path.display()));
                    }
                }
            }
            for bare in [
                "pins",
                "limits",
                "kubernetes",
                "healthcheck",
                "capabilities",
            ] {
                let needle = format!("[{bare}]");
                for (i, _) in text.match_indices(&needle) {
                    let prev = text[..i].chars().next_back();
                    if !prev.is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '&') {
                        failures.push(format!("{}: names `{needle}`", path.display()));
                    }
                }
            }
        }
        for must in [
            ("options.pins", None),
            ("options.limits", Some("memory")),
            ("options.limits", Some("cpu-request")),
            ("options.kubernetes", Some("secret-name")),
            ("options.kubernetes", Some("fix-automount")),
            ("options.healthcheck", Some("path")),
        ] {
            assert!(
                checked.contains(&(must.0.to_owned(), must.1.map(str::to_owned))),
                "the scan no longer sees {must:?}: {checked:?}"
            );
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn the_readme_configuration_example_loads() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
                .unwrap();
        let section = readme.split_once("## Configuration").unwrap().1;
        let block = section.split_once("```toml\n").unwrap().1;
        let block = block.split_once("```").unwrap().0;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CONFIG_NAME);
        std::fs::write(&p, block.replace('…', "0")).unwrap();
        Config::load(&p).unwrap();
    }

    #[test]
    fn save_option_keeps_the_rest_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CONFIG_NAME);
        std::fs::write(
            &p,
            "# team settings\nselect = [\"DF\"]  # only Dockerfiles\n\n[options]\ngid = 2000\n",
        )
        .unwrap();
        save_option(&p, "uid", None, "1000").unwrap();
        save_option(&p, "limits.memory", None, "512M").unwrap();
        save_option(&p, "pins", Some("python"), "3.12-slim").unwrap();
        save_option(&p, "healthcheck.command", None, "/app/server health").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains("command = [\"/app/server\", \"health\"]"),
            "{text}"
        );
        assert!(
            text.starts_with("# team settings\nselect = [\"DF\"]  # only Dockerfiles\n"),
            "{text}"
        );
        let c = Config::load(&p).unwrap();
        assert_eq!(c.file.options.uid, 1000);
        assert_eq!(c.file.options.gid, 2000);
        assert_eq!(c.file.options.limits.memory.as_deref(), Some("512M"));
        assert_eq!(c.file.options.pins["python"], "3.12-slim");
        save_option(
            &p,
            "images.cap-add",
            Some("ghcr.io/acme/agent:1.2"),
            "chown, setuid",
        )
        .unwrap();
        save_option(
            &p,
            "images.tmpfs",
            Some("ghcr.io/acme/agent"),
            "/tmp /var/run",
        )
        .unwrap();
        save_option(&p, "images.docker-api", Some("example/other"), "no").unwrap();
        let c = Config::load(&p).unwrap();
        let agent = c
            .file
            .options
            .images
            .iter()
            .find(|e| e.names == ["ghcr.io/acme/agent"])
            .unwrap();
        assert_eq!(
            agent.facts.cap_add.as_deref(),
            Some(&["CHOWN".to_owned(), "SETUID".to_owned()][..])
        );
        assert_eq!(agent.facts.read_only, Some(true));
        assert_eq!(
            agent.facts.tmpfs.as_deref(),
            Some(&["/tmp".to_owned(), "/var/run".to_owned()][..])
        );
        assert_eq!(c.file.images.len(), 2, "one entry per image");
        assert!(std::fs::read_to_string(&p)
            .unwrap()
            .contains("docker-api = false"));
        assert!(save_option(&p, "images.cap-add", Some("x"), "not a cap!").is_err());
        let fresh = dir.path().join("new.toml");
        save_option(&fresh, "kubernetes.secret-name", None, "app").unwrap();
        assert_eq!(
            std::fs::read_to_string(&fresh).unwrap(),
            "[options.kubernetes]\nsecret-name = \"app\"\n"
        );
        let uid = dir.path().join("uid.toml");
        save_option(&uid, "uid", None, "1000").unwrap();
        save_option(&uid, "limits.cpus", None, "0.5").unwrap();
        assert_eq!(
            std::fs::read_to_string(&uid).unwrap(),
            "[options]\nuid = 1000\n\n[options.limits]\ncpus = \"0.5\"\n"
        );
        assert_eq!(
            Config::load(&fresh)
                .unwrap()
                .file
                .options
                .kubernetes
                .secret_name
                .as_deref(),
            Some("app")
        );
    }

    /// The field names a `#[derive(Deserialize)]` struct accepts (serde hands them to
    /// `deserialize_struct`), as the configuration spells them.
    fn fields_of<T: serde::de::DeserializeOwned>() -> Vec<String> {
        #[derive(Debug)]
        struct Fields(Vec<String>);
        impl std::fmt::Display for Fields {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }
        impl std::error::Error for Fields {}
        impl serde::de::Error for Fields {
            fn custom<M: std::fmt::Display>(msg: M) -> Self {
                Self(vec![format!("not a struct: {msg}")])
            }
        }
        struct Introspect;
        impl<'de> serde::Deserializer<'de> for Introspect {
            type Error = Fields;
            fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
                Err(Fields(vec!["not a struct".into()]))
            }
            fn deserialize_struct<V: serde::de::Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Fields> {
                Err(Fields(fields.iter().map(|f| (*f).to_owned()).collect()))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
                byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
                identifier ignored_any
            }
        }
        let Err(Fields(mut fields)) = T::deserialize(Introspect) else {
            panic!("introspection must fail with the field names");
        };
        fields.sort();
        fields
    }

    fn schema() -> serde_json::Value {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/dockharden-config.schema.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The keys an object schema allows (it must allow no others).
    fn schema_keys(schema: &serde_json::Value, pointer: &str) -> Vec<String> {
        let node = schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("no {pointer} in the schema"));
        assert_eq!(
            node["additionalProperties"],
            serde_json::json!(false),
            "{pointer} allows unknown keys, the tool does not"
        );
        let mut keys: Vec<String> = node["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    /// The configuration schema names exactly the keys the configuration types take, table by
    /// table (a key added to the code without the schema, or the other way round, fails here),
    /// and refuses unknown keys everywhere, as loading does.
    #[test]
    fn the_config_schema_has_exactly_the_keys_the_config_takes() {
        use dockharden_transforms::images;
        use dockharden_transforms::settings;
        let s = schema();
        let facts = fields_of::<images::Facts>();
        assert!(facts.len() > 30, "{facts:?}");
        let with = |extra: &[&str]| {
            let mut v = facts.clone();
            v.extend(extra.iter().map(|e| (*e).to_owned()));
            v.sort();
            v
        };
        for (pointer, fields) in [
            ("", fields_of::<ConfigFile>()),
            ("/properties/overrides/items", fields_of::<Override>()),
            ("/definitions/options", fields_of::<Settings>()),
            (
                "/definitions/options/properties/healthcheck",
                fields_of::<settings::HealthcheckOptions>(),
            ),
            (
                "/definitions/options/properties/limits",
                fields_of::<settings::LimitOptions>(),
            ),
            (
                "/definitions/options/properties/kubernetes",
                fields_of::<settings::KubernetesOptions>(),
            ),
            (
                "/definitions/options/properties/pipelines",
                fields_of::<settings::PipelineOptions>(),
            ),
            // `[[images]]` entries: the facts, and what `Entry::from_table` takes itself.
            (
                "/definitions/image",
                with(&["names", "summary", "evidence", "variant"]),
            ),
            (
                "/definitions/image/properties/variant/items",
                with(&["when", "evidence"]),
            ),
            (
                "/definitions/image/properties/variant/items/properties/when",
                fields_of::<images::When>(),
            ),
            (
                "/definitions/evidence/items",
                fields_of::<images::Evidence>(),
            ),
            (
                "/definitions/image/properties/runs-as",
                fields_of::<images::UserId>(),
            ),
            (
                "/definitions/image/properties/writes-when/items",
                fields_of::<images::WritesWhen>(),
            ),
            (
                "/definitions/image/properties/docker-api/oneOf/1",
                fields_of::<images::DockerClient>(),
            ),
            (
                "/definitions/image/properties/privileged-needs",
                fields_of::<images::PrivilegedNeeds>(),
            ),
            (
                "/definitions/image/properties/variant/items/properties/runs-as",
                fields_of::<images::UserId>(),
            ),
        ] {
            assert_eq!(schema_keys(&s, pointer), fields, "schema {pointer:?}");
        }
        // The facts of a variant are the facts of an entry, described the same way.
        for f in &facts {
            assert_eq!(
                s["definitions"]["image"]["properties"][f],
                s["definitions"]["image"]["properties"]["variant"]["items"]["properties"][f],
                "{f}"
            );
        }
    }

    /// Every key of the configuration schema, collected as dotted paths (`options.limits.memory`,
    /// `images.variant.when.versions`).
    fn schema_paths(
        s: &serde_json::Value,
        node: &serde_json::Value,
        at: &str,
        out: &mut Vec<String>,
    ) {
        let node = match node.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => s.pointer(r.trim_start_matches('#')).unwrap(),
            None => node,
        };
        if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
            for (k, v) in props {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                out.push(path.clone());
                schema_paths(s, v, &path, out);
            }
        }
        if let Some(items) = node.get("items") {
            schema_paths(s, items, at, out);
        }
        for alt in node
            .get("oneOf")
            .and_then(|o| o.as_array())
            .into_iter()
            .flatten()
        {
            schema_paths(s, alt, at, out);
        }
    }

    fn value_paths(v: &toml::Value, at: &str, out: &mut std::collections::BTreeSet<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let path = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    out.insert(path.clone());
                    // Map options (image name → value) have free keys.
                    if !matches!(
                        path.as_str(),
                        "options.pins"
                            | "options.capabilities"
                            | "images.read-only-env"
                            | "images.variant.read-only-env"
                    ) {
                        value_paths(v, &path, out);
                    }
                }
            }
            toml::Value::Array(a) => {
                for v in a {
                    value_paths(v, at, out);
                }
            }
            _ => {}
        }
    }

    /// `tests/fixtures/every-key.dockharden.toml` sets every key the schema names (so that
    /// validating it, which `tests/scripts/schema_check.py` does, covers the whole schema) and
    /// loads without error.
    #[test]
    fn the_every_key_fixture_sets_every_key_and_loads() {
        let s = schema();
        let mut keys = Vec::new();
        schema_paths(&s, &s, "", &mut keys);
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/every-key.dockharden.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut set = std::collections::BTreeSet::new();
        let table: toml::Table = toml::from_str(&text).unwrap();
        value_paths(&toml::Value::Table(table), "", &mut set);
        let missing: Vec<&String> = keys.iter().filter(|k| !set.contains(*k)).collect();
        assert!(missing.is_empty(), "the fixture does not set {missing:?}");
        let extra: Vec<&String> = set.iter().filter(|k| !keys.contains(k)).collect();
        assert!(extra.is_empty(), "the schema does not name {extra:?}");
        let c = Config::load(&path).unwrap();
        assert_eq!(c.file.options.images.len(), 1);
        assert_eq!(c.file.options.limits.cpu_request.as_deref(), Some("250m"));
    }
}
