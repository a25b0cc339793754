//! The files next to the one being checked, for the library's image lookup: a compose file's
//! `.env` and the Dockerfiles of its services' `build:`. Read with the same limits as every input
//! (regular files only, size cap, UTF-8), once per run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use dockharden_transforms::settings::Workspace;

/// What a file will be once this run is over, for files the run fixes itself: a compose file's
/// lookups read the `build:` Dockerfile as the run leaves it (DF002 adds a `USER`, which changes
/// what the service needs), so one run reaches the fixed point a second run would.
pub trait RunView: Sync {
    /// The text `path` (read as `text`) will have after this run; None when the run leaves it as
    /// it is (not one of its files, nothing to fix, or not written).
    fn after_run(&self, path: &Path, text: &str) -> Option<String>;
}

/// Reads files relative to a folder; caches what it read.
pub struct FsWorkspace<'a> {
    dir: PathBuf,
    cache: Mutex<HashMap<PathBuf, Option<String>>>,
    view: Option<&'a dyn RunView>,
}

impl<'a> FsWorkspace<'a> {
    /// Files relative to the folder of `file` (the current directory for a bare name), as `view`
    /// says this run leaves them.
    #[must_use]
    pub fn beside_in_run(file: &Path, view: Option<&'a dyn RunView>) -> Self {
        Self {
            view,
            ..Self::beside(file)
        }
    }

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
            view: None,
        }
    }
}

impl Workspace for FsWorkspace<'_> {
    fn read(&self, path: &str) -> Option<String> {
        // Remote build contexts (git URLs, `https://`) are not files.
        if path.contains("://") || path.starts_with("git@") {
            return None;
        }
        let full = self.dir.join(path);
        if let Some(hit) = self.cache.lock().expect("workspace cache").get(&full) {
            return hit.clone();
        }
        let text = crate::files::read_text_if_readable(&full).map(|t| match self.view {
            Some(v) => v.after_run(&full, &t).unwrap_or(t),
            None => t,
        });
        self.cache
            .lock()
            .expect("workspace cache")
            .insert(full, text.clone());
        text
    }
}
