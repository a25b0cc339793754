//! The look-up cache: per registry, repository and tag, the digest served and when it was looked
//! up (and, for `latest`, the version tag found with the same digest); per digest, the facts read
//! from the image config and its entrypoint script (a digest never changes). One JSON file in the user's cache folder:
//! `$DOCKHARDEN_CACHE_DIR`, else `$XDG_CACHE_HOME/dockharden`, else `~/.cache/dockharden`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dockharden_transforms::images::Facts;
use serde::{Deserialize, Serialize};

/// v2: the facts include what the entrypoint script shows (v1 files, from configs alone, are not
/// read: their facts would stand in for a scan that never ran).
const FILE: &str = "registry-v2.json";

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct TagEntry {
    pub digest: String,
    /// Seconds since the Unix epoch.
    pub looked_up: u64,
    /// For `latest`: the most specific version tag with the same digest (None: none has it).
    /// Absent when the tags were not searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_tag: Option<Option<String>>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Cache {
    /// `registry/repository:tag` → entry.
    #[serde(default)]
    pub tags: BTreeMap<String, TagEntry>,
    /// `registry/repository@digest` → facts read from the config.
    #[serde(default)]
    pub facts: BTreeMap<String, Facts>,
    #[serde(skip)]
    path: Option<PathBuf>,
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The cache folder, None when no home is known.
pub fn dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("DOCKHARDEN_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("dockharden")))
        .or_else(|| env("HOME").map(|h| h.join(".cache").join("dockharden")))
}

impl Cache {
    /// Load the cache (empty when missing or unreadable: it is only a cache).
    pub fn load(dir: Option<&Path>) -> Self {
        let Some(d) = dir else {
            return Self::default();
        };
        let path = d.join(FILE);
        let mut c: Self = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        c.path = Some(path);
        c
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Write it back atomically.
    pub fn save(&self) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, serde_json::to_string_pretty(self)?.as_bytes())?;
        tmp.persist(path)?;
        Ok(())
    }
}
