//! The files next to the one being checked, for the library's image lookup: a compose file's
//! `.env` and the Dockerfiles of its services' `build:`. Read with the same limits as every input
//! (regular files only, size cap, UTF-8), once per run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use dockharden_transforms::settings::Workspace;

/// Reads files relative to a folder; caches what it read.
pub struct FsWorkspace {
    dir: PathBuf,
    cache: Mutex<HashMap<PathBuf, Option<String>>>,
}

impl FsWorkspace {
    /// Files relative to the folder of `file` (the current directory for a bare name).
    #[must_use]
    pub fn beside(file: &Path) -> Self {
        let dir = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Self {
            dir,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl Workspace for FsWorkspace {
    fn read(&self, path: &str) -> Option<String> {
        // Remote build contexts (git URLs, `https://`) are not files.
        if path.contains("://") || path.starts_with("git@") {
            return None;
        }
        let full = self.dir.join(path);
        if let Some(hit) = self.cache.lock().expect("workspace cache").get(&full) {
            return hit.clone();
        }
        let text = crate::files::read_text(&full).ok();
        self.cache
            .lock()
            .expect("workspace cache")
            .insert(full, text.clone());
        text
    }
}
