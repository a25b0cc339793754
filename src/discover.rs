//! Finding the files to process: explicit paths and a gitignore-aware parallel walk of directories.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use dockharden_transforms::source::{is_shell_shebang, is_yaml_name, kind_from_path, FileKind};

/// A file to process. `kind` is None for YAML files whose kind is decided by their content.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    pub kind: Option<FileKind>,
    /// Given on the command line (an undetectable kind is then an error, not a skip).
    pub explicit: bool,
    /// A walked file that is the source of something rendered later: skipped and counted.
    pub template: Option<Template>,
    /// The `values.yaml` of a Helm chart: the chart's folder.
    pub chart: Option<PathBuf>,
    /// The file's canonical path (symbolic links resolved), the key that tells two paths of one
    /// file apart. Computed during the walk without a syscall for a file reached through real
    /// folders (the canonical root joined with the relative path): `realpath` of every file costs
    /// a `readlink` per path component, serially. After de-duplication it is kept only for
    /// Dockerfiles (the run view needs it) and empty otherwise.
    pub canonical: PathBuf,
}

/// The chart folder of a `values.yaml` / `values.yml` directly in a folder with `Chart.yaml`.
fn values_chart(path: &Path, is_chart: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    if name != "values.yaml" && name != "values.yml" {
        return None;
    }
    let dir = path.parent()?;
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    is_chart(dir).then(|| dir.to_path_buf())
}

/// Why a walked file is a template rather than configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Template {
    /// Under `templates/` of a Helm chart (a folder with `Chart.yaml`).
    HelmChart,
    /// Jinja (`{{ }}`, `{% %}`), Go templates or `${{ }}` expressions, by name (`.j2`, `.tmpl`, ...)
    /// or by content (a file that does not parse as what its name says, with template markers).
    Templated,
}

/// File name endings of template sources (`Dockerfile.j2`, `deployment.yaml.tmpl`).
const TEMPLATE_ENDINGS: &[&str] = &[
    ".j2",
    ".jinja",
    ".jinja2",
    ".tmpl",
    ".tpl",
    ".gotmpl",
    ".template",
];

/// Whether a text has template markers: `{{ }}` / `{% %}` (Jinja, Go templates, Helm) or
/// `${{ }}` (GitHub Actions expressions).
#[must_use]
pub fn has_template_markers(text: &str) -> bool {
    (text.contains("{{") && text.contains("}}")) || (text.contains("{%") && text.contains("%}"))
}

/// Finds Helm charts (folders with `Chart.yaml`) for walked files, asking the file system once per
/// folder.
#[derive(Default)]
struct Charts {
    seen: Mutex<std::collections::HashMap<PathBuf, bool>>,
}

impl Charts {
    fn is_chart(&self, dir: &Path) -> bool {
        if let Some(&hit) = self.seen.lock().expect("lock").get(dir) {
            return hit;
        }
        let yes = dir.join("Chart.yaml").is_file();
        self.seen
            .lock()
            .expect("lock")
            .insert(dir.to_path_buf(), yes);
        yes
    }

    /// Whether `path` (under the walked `root`) is in the `templates/` folder of a chart.
    fn in_templates(&self, path: &Path, root: &Path) -> bool {
        // A folder named `templates` on the way is needed: most paths have none.
        let has_name = path
            .as_os_str()
            .as_encoded_bytes()
            .windows(b"templates".len())
            .any(|w| w == b"templates");
        if !has_name {
            return false;
        }
        let mut child: Option<&Path> = None;
        for dir in path.ancestors().skip(1) {
            if !dir.starts_with(root) {
                break;
            }
            if child.is_some_and(|c| c.file_name().is_some_and(|n| n == "templates"))
                && self.is_chart(dir)
            {
                return true;
            }
            child = Some(dir);
        }
        false
    }
}

/// Something found on the way that is reported but not processed.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// What a file that is not a regular file is, for messages ("a FIFO", "a socket", ...).
#[must_use]
pub fn special_kind(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    if ft.is_dir() {
        return "a folder";
    }
    "not a regular file"
}

/// The reason a path that is not a regular file is not read.
fn not_regular(ft: std::fs::FileType) -> String {
    format!(
        "{}, not a regular file: not read",
        special_kind(ft).trim_start_matches("not a regular file")
    )
    .trim_start_matches(", ")
    .to_owned()
}

/// Whether a walked file is worth reading: its kind from its path, YAML (kind by content), or a
/// file without an extension, which is read if it starts with a shell shebang (see
/// [`shell_script_by_content`]).
fn walk_candidate(path: &Path) -> Option<(Candidate, bool)> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let templated = TEMPLATE_ENDINGS.iter().any(|e| lower.ends_with(e));
    let candidate = |kind| Candidate {
        path: path.to_path_buf(),
        kind,
        explicit: false,
        template: templated.then_some(Template::Templated),
        chart: None,
        canonical: PathBuf::new(),
    };
    if let Some(kind) = path.to_str().and_then(kind_from_path) {
        return Some((candidate(Some(kind)), false));
    }
    if is_yaml_name(name) {
        return Some((candidate(None), false));
    }
    if !name.contains('.') {
        return Some((candidate(Some(FileKind::Shell)), true));
    }
    None
}

/// Whether a regular file without an extension is a shell script: its first line is an `sh` /
/// `bash` shebang (only the first 256 bytes are read).
fn shell_script_by_content(path: &Path) -> bool {
    use std::io::Read as _;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(256);
    if file.take(256).read_to_end(&mut head).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    text.starts_with("#!") && is_shell_shebang(text.lines().next().unwrap_or(""))
}

/// Expand `paths` into candidates (sorted, de-duplicated) and the entries skipped with a reason.
pub fn discover(
    paths: &[PathBuf],
    forced: Option<FileKind>,
    exclude: &(dyn Fn(&Path) -> bool + Sync),
) -> (Vec<Candidate>, Vec<Skipped>) {
    let found = Mutex::new(Vec::new());
    let skipped = Mutex::new(Vec::new());
    let charts = Charts::default();
    // Whether two candidates can name one file: more than one path given, a file given, or a
    // symbolic link followed. Otherwise each walked file has its own canonical path.
    let shared = AtomicBool::new(paths.len() > 1);
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                skipped.lock().expect("lock").push(Skipped {
                    path: root.clone(),
                    reason: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        if !meta.is_file() && !meta.is_dir() {
            // A FIFO, socket or device: reading it could block forever or never end.
            skipped.lock().expect("lock").push(Skipped {
                path: root.clone(),
                reason: not_regular(meta.file_type()),
            });
            continue;
        }
        if meta.is_file() {
            shared.store(true, Ordering::Relaxed);
            let name = root.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let kind = forced.or_else(|| kind_from_path(&root.to_string_lossy()));
            let _ = name;
            found.lock().expect("lock").push(Candidate {
                path: root.clone(),
                kind,
                explicit: true,
                template: None,
                chart: values_chart(root, |d| d.join("Chart.yaml").is_file()),
                canonical: std::fs::canonicalize(root).unwrap_or_else(|_| root.clone()),
            });
            continue;
        }
        let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .follow_links(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build_parallel();
        walker.run(|| {
            let found = &found;
            let skipped = &skipped;
            let canonical_root = &canonical_root;
            let charts = &charts;
            let shared = &shared;
            Box::new(move |entry| {
                let Ok(entry) = entry else {
                    return ignore::WalkState::Continue;
                };
                let Some(ft) = entry.file_type() else {
                    return ignore::WalkState::Continue;
                };
                let path = entry.path();
                if ft.is_dir() {
                    if exclude(path) {
                        return ignore::WalkState::Skip;
                    }
                    return ignore::WalkState::Continue;
                }
                let Some((mut c, sniff)) = walk_candidate(path) else {
                    return ignore::WalkState::Continue;
                };
                if exclude(path) {
                    return ignore::WalkState::Continue;
                }
                if !ft.is_file() && !ft.is_symlink() {
                    skipped.lock().expect("lock").push(Skipped {
                        path: path.to_path_buf(),
                        reason: not_regular(ft),
                    });
                    return ignore::WalkState::Continue;
                }
                let canonical = if ft.is_symlink() {
                    // Follow a link only when its target stays inside the root.
                    match std::fs::canonicalize(path) {
                        Ok(target) if target.starts_with(canonical_root) && target.is_file() => {
                            shared.store(true, Ordering::Relaxed);
                            target
                        }
                        Ok(target) if target.starts_with(canonical_root) => {
                            let what = std::fs::metadata(&target)
                                .map_or("not a regular file", |m| special_kind(m.file_type()));
                            skipped.lock().expect("lock").push(Skipped {
                                path: path.to_path_buf(),
                                reason: format!(
                                    "symbolic link to {what}, not a regular file: not read"
                                ),
                            });
                            return ignore::WalkState::Continue;
                        }
                        Ok(_) | Err(_) => {
                            skipped.lock().expect("lock").push(Skipped {
                                path: path.to_path_buf(),
                                reason: "symbolic link out of the root (or dangling), not followed"
                                    .into(),
                            });
                            return ignore::WalkState::Continue;
                        }
                    }
                } else {
                    // Every folder between the root and this file is a real folder (the walk does
                    // not follow links), so the file's canonical path is the canonical root's.
                    canonical_root.join(path.strip_prefix(root).unwrap_or(path))
                };
                if sniff && forced.is_none() && !(ft.is_file() && shell_script_by_content(path)) {
                    return ignore::WalkState::Continue;
                }
                if let Some(k) = forced {
                    c.kind = Some(k);
                }
                if c.template.is_none() && charts.in_templates(path, root) {
                    c.template = Some(Template::HelmChart);
                }
                c.chart = values_chart(path, |d| charts.is_chart(d));
                c.canonical = canonical;
                found.lock().expect("lock").push(c);
                ignore::WalkState::Continue
            })
        });
    }
    let found = found.into_inner().expect("lock");
    let found = if shared.into_inner() {
        dedup_by_file(found)
    } else {
        distinct_files(found)
    };
    let mut skipped = skipped.into_inner().expect("lock");
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    skipped.dedup_by(|a, b| a.path == b.path);
    (found, skipped)
}

/// One candidate per file: paths that name the same file (`d/Dockerfile` and `./d/Dockerfile`, a
/// symbolic link and its target, a folder walked and a file in it given too) are grouped by their
/// canonical path. The path kept is, in order of preference, one that involves no symbolic link,
/// one given on the command line, the first in path order; it is explicit when any of them was, and
/// takes its kind from the first of them that has one. Sorted by path.
fn dedup_by_file(mut found: Vec<Candidate>) -> Vec<Candidate> {
    // Grouped by canonical path, each group in path order (a stable sort of the sorted list): no
    // map and no list per group, for tens of thousands of files.
    found.sort();
    found.sort_by(|a, b| a.canonical.cmp(&b.canonical));
    let mut out = Vec::with_capacity(found.len());
    let mut group: Vec<Candidate> = Vec::new();
    let mut rest = found.into_iter().peekable();
    while let Some(first) = rest.next() {
        while rest.peek().is_some_and(|c| c.canonical == first.canonical) {
            group.extend(rest.next());
        }
        let mut keep = if group.is_empty() {
            first
        } else {
            group.insert(0, first);
            pick(&mut group)
        };
        group.clear();
        // The canonical path is kept where the run needs it: a Dockerfile's, for the run view.
        if keep.kind != Some(FileKind::Dockerfile) {
            keep.canonical = PathBuf::new();
        }
        out.push(keep);
    }
    out.sort();
    out
}

/// [`dedup_by_file`] of candidates that name distinct files (one folder walked, no symbolic link
/// followed): each is kept, so only the path order is left to make (the paths are distinct, so
/// sorting by path alone gives the candidates' order), sorted on the thread pool, which is idle
/// during the walk.
fn distinct_files(mut found: Vec<Candidate>) -> Vec<Candidate> {
    use rayon::slice::ParallelSliceMut as _;
    found.par_sort_unstable_by(|a, b| walked_order(&a.path, &b.path));
    for c in &mut found {
        if c.kind != Some(FileKind::Dockerfile) {
            c.canonical = PathBuf::new();
        }
    }
    found
}

/// `Path`'s order (component by component) of two paths the walk of one folder gave: the folder's
/// path followed by names, each after one separator. Such paths agree up to their first differing
/// byte; the first path there is the one whose component ends (the path's end, then a separator)
/// or has the smaller byte. That is a byte comparison where a separator sorts below every byte of
/// a name (none is `/`, and none is NUL), without parsing either path into components again for
/// every comparison, as `Path::cmp` does from the first component that differs.
fn walked_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    // A path's end sorts first (0), then a separator (1), then a byte of a name.
    let rank = |p: &[u8]| match p.get(same) {
        None => 0u16,
        Some(&c) if c.is_ascii() && std::path::is_separator(char::from(c)) => 1,
        Some(&c) => u16::from(c) + 2,
    };
    rank(a).cmp(&rank(b))
}

/// The candidate kept of several paths of one file (see [`dedup_by_file`]).
fn pick(group: &mut Vec<Candidate>) -> Candidate {
    let canonical = group[0].canonical.clone();
    let direct = |c: &Candidate| std::path::absolute(&c.path).is_ok_and(|a| a == canonical);
    group.sort_by_key(|c| (!direct(c), !c.explicit));
    let explicit = group.iter().any(|c| c.explicit);
    let kind = group.iter().find_map(|c| c.kind);
    let chart = group.iter().find_map(|c| c.chart.clone());
    let mut keep = group.swap_remove(0);
    keep.explicit = explicit;
    keep.chart = keep.chart.take().or(chart);
    if explicit {
        keep.template = None;
    }
    keep.kind = keep.kind.or(kind);
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                files_under(&e.path(), out);
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }

    /// Without shared files, the sort alone gives what grouping by file gives: over every file of
    /// the shared corpus (each its own canonical path), in the walk's scrambled order.
    #[test]
    fn distinct_files_are_what_grouping_by_file_gives() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let mut paths = Vec::new();
        files_under(&root, &mut paths);
        assert!(paths.len() > 1000, "the shared corpus is missing");
        let canonical_root = std::fs::canonicalize(&root).expect("corpus");
        let found: Vec<Candidate> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| Candidate {
                path: p.clone(),
                kind: kind_from_path(&p.to_string_lossy()),
                explicit: false,
                template: None,
                chart: (i % 7 == 0).then(|| p.parent().unwrap_or(p).to_path_buf()),
                canonical: canonical_root.join(p.strip_prefix(&root).expect("under root")),
            })
            .collect();
        // Scrambled: the walk's threads push in no particular order.
        let mut scrambled: Vec<Candidate> = found.iter().step_by(2).cloned().collect();
        scrambled.extend(found.iter().skip(1).step_by(2).rev().cloned());
        let fast = distinct_files(scrambled.clone());
        assert_eq!(fast, dedup_by_file(scrambled));
        assert!(fast.windows(2).all(|w| w[0].path < w[1].path));
        // A name with a byte below the separator's (`-`, `.`, space) next to a folder of the
        // same start: `a-b` sorts after `a/b` by component, before it by byte.
        let mut sorted = paths.clone();
        sorted.sort();
        let mut walked = scrambled_paths(&paths);
        walked.sort_by(|a, b| walked_order(a, b));
        assert_eq!(walked, sorted);
        assert!(fast
            .iter()
            .any(|c| c.kind == Some(FileKind::Dockerfile) && !c.canonical.as_os_str().is_empty()));
    }

    /// The walk's paths in another order.
    fn scrambled_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = paths.iter().skip(1).step_by(2).cloned().collect();
        out.extend(paths.iter().step_by(2).rev().cloned());
        out
    }

    /// The byte order with separators first is `Path`'s order for walked paths: names with bytes
    /// below and above the separator's, a prefix of another name, non-ASCII, under several roots.
    #[test]
    fn walked_order_is_the_order_of_paths() {
        let names = [
            "a", "a-b", "a.b", "a b", "ab", "a~", "b", "A", "é", "a-", "-", ".a", "a.", "aa",
        ];
        for root in ["r", "./r", "../x/r", "/r", "r/"] {
            let mut paths = vec![PathBuf::from(root).join("z")];
            for n in names {
                paths.push(Path::new(root).join(n));
                for m in names {
                    paths.push(Path::new(root).join(n).join(m));
                    paths.push(Path::new(root).join(n).join(m).join(n));
                }
            }
            let mut sorted = paths.clone();
            sorted.sort();
            sorted.dedup();
            let mut walked = scrambled_paths(&sorted);
            walked.sort_by(|a, b| walked_order(a, b));
            assert_eq!(walked, sorted, "root {root}");
            for a in &sorted {
                for b in &sorted {
                    assert_eq!(walked_order(a, b), a.cmp(b), "{a:?} {b:?}");
                }
            }
        }
    }
}
