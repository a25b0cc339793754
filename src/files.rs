//! Reading files as text (with limits) and writing them atomically.

use std::fs;
use std::io::Write as _;
use std::path::Path;

/// Files larger than this are refused (an error, not a hang).
pub const MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;

/// Why a file could not be read as text. Line and column are 1-based where known.
#[derive(Debug, Clone)]
pub struct ReadError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl ReadError {
    fn plain(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: None,
            column: None,
        }
    }
}

/// Decode bytes as UTF-8 text, refusing binary content and locating the first invalid byte.
///
/// # Errors
/// Binary (NUL byte) or non-UTF-8 content.
pub fn decode(bytes: Vec<u8>) -> Result<String, ReadError> {
    if let Some(pos) = memchr_nul(&bytes) {
        let (line, column) = locate(&bytes, pos);
        return Err(ReadError {
            message: "binary file (contains a NUL byte); not read as text".into(),
            line: Some(line),
            column: Some(column),
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        let pos = e.utf8_error().valid_up_to();
        let (line, column) = locate(e.as_bytes(), pos);
        ReadError {
            message: "not valid UTF-8; not read as text".into(),
            line: Some(line),
            column: Some(column),
        }
    })
}

fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(0, bytes)
}

fn locate(bytes: &[u8], pos: usize) -> (usize, usize) {
    let before = &bytes[..pos];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// Read a file as text. Only regular files are read: the file is opened without blocking (a FIFO
/// swapped in after discovery would otherwise wait for a writer forever), checked on the open handle,
/// and read up to the size limit (a device such as `/dev/zero` never ends).
///
/// # Errors
/// Unreadable, not a regular file, too large, binary or non-UTF-8.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    read(path).map_err(Refused::into_error)
}

/// [`read_text`] for a caller that only uses the text: nothing is put into words when the file
/// cannot be read (a missing `.env` beside every compose file is common, and an I/O error's
/// message costs more than the failed open).
pub fn read_text_if_readable(path: &Path) -> Option<String> {
    read(path).ok()
}

/// Why [`read`] refused a file, before it is put into words.
enum Refused {
    Io(std::io::Error),
    Special(fs::FileType),
    TooLarge(Option<u64>),
    Text(ReadError),
}

impl Refused {
    fn into_error(self) -> ReadError {
        match self {
            Self::Io(e) => ReadError::plain(format!("cannot read: {e}")),
            Self::Special(t) => ReadError::plain(format!(
                "{}: not read (only regular files are)",
                crate::discover::special_kind(t)
            )),
            Self::TooLarge(Some(len)) => ReadError::plain(format!(
                "file too large ({len} bytes, the limit is {MAX_FILE_SIZE})"
            )),
            Self::TooLarge(None) => ReadError::plain(format!(
                "file too large (the limit is {MAX_FILE_SIZE} bytes)"
            )),
            Self::Text(e) => e,
        }
    }
}

/// [`read_text`]'s work.
fn read(path: &Path) -> Result<String, Refused> {
    use std::io::Read as _;
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(Refused::Io)?;
    let meta = file.metadata().map_err(Refused::Io)?;
    if !meta.is_file() {
        return Err(Refused::Special(meta.file_type()));
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(Refused::TooLarge(Some(meta.len())));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(Refused::Io)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(Refused::TooLarge(None));
    }
    decode(bytes).map_err(Refused::Text)
}

/// How [`write_atomic_with`] may write.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    /// Also write files without write permission and files with several hard links (as editors do
    /// when told to).
    pub force: bool,
}

/// The identity and state of a file, to notice a change between reading it and replacing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

#[cfg(unix)]
fn stamp(meta: &fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt as _;
    Stamp {
        dev: meta.dev(),
        ino: meta.ino(),
        len: meta.len(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
        ctime: (meta.ctime(), meta.ctime_nsec()),
    }
}

#[cfg(not(unix))]
fn stamp(meta: &fs::Metadata) -> Stamp {
    let m = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or((0, 0), |d| {
            (d.as_secs() as i64, i64::from(d.subsec_nanos()))
        });
    Stamp {
        dev: 0,
        ino: 0,
        len: meta.len(),
        mtime: m,
        ctime: m,
    }
}

fn changed_error() -> std::io::Error {
    std::io::Error::other("the file changed since it was read; not overwritten")
}

/// Temporary files are named `.dockharden-<pid>-<random>.tmp`; one left behind by a killed run is
/// removed the next time a file of its folder is written (when its process is gone and it is older
/// than a minute).
const TMP_PREFIX: &str = ".dockharden-";
const TMP_SUFFIX: &str = ".tmp";

fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let Some(rest) = name
            .strip_prefix(TMP_PREFIX)
            .and_then(|r| r.strip_suffix(TMP_SUFFIX))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if pid == std::process::id() as i32 || process_alive(pid) {
            continue;
        }
        let old = e
            .metadata()
            .ok()
            .filter(fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 60);
        if old {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(unix)]
fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_alive(_pid: i32) -> bool {
    true
}

/// Copy the extended attributes (POSIX ACLs included: `system.posix_acl_access`) of `from` to `to`.
#[cfg(target_os = "linux")]
fn copy_xattrs(from: &fs::File, to: &fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd as _;
    let (src, dst) = (from.as_raw_fd(), to.as_raw_fd());
    // SAFETY: plain syscalls on open descriptors with buffers of the given sizes.
    let size = unsafe { libc::flistxattr(src, std::ptr::null_mut(), 0) };
    if size <= 0 {
        return Ok(());
    }
    let mut names = vec![0u8; size as usize];
    let size = unsafe { libc::flistxattr(src, names.as_mut_ptr().cast(), names.len()) };
    if size < 0 {
        return Err(std::io::Error::last_os_error());
    }
    names.truncate(size as usize);
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let cname = std::ffi::CString::new(name).map_err(std::io::Error::other)?;
        let len = unsafe { libc::fgetxattr(src, cname.as_ptr(), std::ptr::null_mut(), 0) };
        if len < 0 {
            continue;
        }
        let mut value = vec![0u8; len as usize];
        let len =
            unsafe { libc::fgetxattr(src, cname.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        if len < 0 {
            continue;
        }
        let r =
            unsafe { libc::fsetxattr(dst, cname.as_ptr(), value.as_ptr().cast(), len as usize, 0) };
        if r != 0 {
            let err = std::io::Error::last_os_error();
            // `security.*` and `trusted.*` need privileges the run may not have; the rest must copy.
            let n = String::from_utf8_lossy(name);
            if !(n.starts_with("security.") || n.starts_with("trusted.")) {
                return Err(std::io::Error::other(format!(
                    "cannot keep the extended attribute `{n}`: {err}"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn copy_xattrs(_from: &fs::File, _to: &fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Swap two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`). None when the system or file
/// system cannot (the caller falls back to a rename).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Option<std::io::Result<()>> {
    use std::os::unix::ffi::OsStrExt as _;
    let ca = std::ffi::CString::new(a.as_os_str().as_bytes()).ok()?;
    let cb = std::ffi::CString::new(b.as_os_str().as_bytes()).ok()?;
    // SAFETY: two NUL-terminated paths relative to the current directory.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        return Some(Ok(()));
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => None,
        _ => Some(Err(err)),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> Option<std::io::Result<()>> {
    None
}

/// Replace the content of `path` by `new`, atomically (see [`write_atomic_with`]).
///
/// # Errors
/// Any I/O error, a refusal, or a concurrent modification.
pub fn write_atomic(path: &Path, original: &str, new: &str) -> std::io::Result<()> {
    write_atomic_with(path, original, new, WriteOptions::default())
}

/// Replace the content of `path` by `new`, atomically: a temporary file in the same folder, written
/// and fsynced, given the original's owner, group, mode (setuid/setgid/sticky bits included) and
/// extended attributes (ACLs included), then swapped in.
///
/// Concurrent edits: the file must still hold `original` and be the same file (device, inode, size,
/// modification and change times) just before the swap. On Linux the swap is an atomic exchange, after
/// which the displaced file is compared with `original` once more: if someone saved the file in the
/// instant between the last check and the swap, their version is put back and nothing is lost (the
/// run reports an error). Elsewhere, a rename follows the last check and that instant stays open.
///
/// Refused unless `options.force`: a file without write permission for its owner (as editors ask
/// before writing one), and a file with several hard links (replacing it would split the links).
/// A symbolic link is written through to its target.
///
/// # Errors
/// Any I/O error, a refusal, or a concurrent modification.
pub fn write_atomic_with(
    path: &Path,
    original: &str,
    new: &str,
    options: WriteOptions,
) -> std::io::Result<()> {
    write_atomic_inner(path, original, new, options, &|_| {})
}

/// [`write_atomic_with`], calling `before_swap` between the last check and the swap (tests use it to
/// save the file in that instant).
fn write_atomic_inner(
    path: &Path,
    original: &str,
    new: &str,
    options: WriteOptions,
    before_swap: &dyn Fn(&Path),
) -> std::io::Result<()> {
    use std::io::Read as _;
    let target = fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let mut current = fs::File::open(&target)?;
    let meta = current.metadata()?;
    let before = stamp(&meta);
    let mut content = Vec::with_capacity(original.len());
    current.read_to_end(&mut content)?;
    if content != original.as_bytes() {
        return Err(changed_error());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if !options.force && meta.nlink() > 1 {
            return Err(std::io::Error::other(format!(
                "the file has {} hard links; replacing it would split them (pass --force-write to write it anyway, as a new file)",
                meta.nlink()
            )));
        }
    }
    if !options.force && meta.permissions().readonly() {
        return Err(std::io::Error::other(
            "the file is read-only; not written (pass --force-write to write it anyway)",
        ));
    }
    remove_stale_temporaries(dir);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TMP_PREFIX}{}-", std::process::id()))
        .suffix(TMP_SUFFIX)
        .tempfile_in(dir)?;
    tmp.write_all(new.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        // Owner first: chown clears the setuid and setgid bits, which the chmod below sets again.
        // Only root may give a file away; otherwise the file is ours anyway.
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
    }
    tmp.as_file().set_permissions(meta.permissions())?;
    copy_xattrs(&current, tmp.as_file())?;
    tmp.as_file().sync_all()?;
    // The last check, as close to the swap as possible.
    let now = fs::metadata(&target)?;
    if stamp(&now) != before {
        return Err(changed_error());
    }
    let tmp_path = tmp.into_temp_path();
    before_swap(&target);
    match exchange(&tmp_path, &target) {
        Some(Ok(())) => {
            // `tmp_path` now holds what was at `target` at the instant of the swap.
            let displaced = fs::read(&tmp_path).unwrap_or_default();
            let same_file = fs::metadata(&tmp_path).is_ok_and(|m| stamp(&m).ino == before.ino);
            if displaced != original.as_bytes() || !same_file {
                // A save landed between the last check and the swap: put it back.
                let back = exchange(&tmp_path, &target);
                let ours_aside = fs::read(&tmp_path).is_ok_and(|b| b == new.as_bytes());
                if matches!(back, Some(Ok(()))) && ours_aside {
                    drop(tmp_path);
                    return Err(std::io::Error::other(
                        "the file was saved by someone else while it was being written; their version was kept, nothing was written",
                    ));
                }
                let kept = tmp_path.keep().map_err(|e| e.error)?;
                return Err(std::io::Error::other(format!(
                    "the file was saved by someone else while it was being written; their version is kept as {}",
                    kept.display()
                )));
            }
            drop(tmp_path); // removes the displaced original
        }
        Some(Err(e)) => return Err(e),
        None => {
            tmp_path.persist(&target).map_err(|e| e.error)?;
        }
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn decode_refuses_nul_and_invalid_utf8_where_they_are() {
        assert_eq!(decode(b"a: 1\n".to_vec()).unwrap(), "a: 1\n");
        let e = decode(b"a\nb\xC3\xA9c\0d".to_vec()).unwrap_err();
        assert!(e.message.starts_with("binary file"), "{}", e.message);
        assert_eq!((e.line, e.column), (Some(2), Some(4)));
        let e = decode(b"x\ny\xFFz".to_vec()).unwrap_err();
        assert!(e.message.starts_with("not valid UTF-8"), "{}", e.message);
        assert_eq!((e.line, e.column), (Some(2), Some(2)));
    }

    #[test]
    fn writes_and_keeps_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(dir.path(), "Dockerfile", "a\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o4751)).unwrap();
        }
        write_atomic(&p, "a\n", "b\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "b\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            // The setuid bit survives the owner being set first.
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
                0o4751
            );
        }
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
    }

    #[test]
    fn a_save_in_the_last_instant_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (file(dir.path(), "a", "a"), file(dir.path(), "b", "b"));
        if exchange(&a, &b).is_none() {
            eprintln!("skipped: this system cannot exchange two paths atomically");
            return;
        }
        let p = file(dir.path(), "compose.yaml", "old\n");
        // An editor saves by renaming its own temporary file over the path, just before the swap.
        let editor = |target: &Path| {
            let t = target.with_file_name(".editor-save");
            fs::write(&t, "theirs\n").unwrap();
            fs::rename(&t, target).unwrap();
        };
        let err = write_atomic_inner(&p, "old\n", "ours\n", WriteOptions::default(), &editor)
            .unwrap_err();
        assert!(err.to_string().contains("saved by someone else"), "{err}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "theirs\n");
        // An in-place save (same inode) in that instant is kept too.
        let p = file(dir.path(), "Dockerfile", "old\n");
        let in_place = |target: &Path| fs::write(target, "theirs too\n").unwrap();
        let err = write_atomic_inner(&p, "old\n", "ours\n", WriteOptions::default(), &in_place)
            .unwrap_err();
        assert!(err.to_string().contains("saved by someone else"), "{err}");
        let kept = fs::read_to_string(&p).unwrap();
        assert_eq!(kept, "theirs too\n");
    }

    #[test]
    fn a_change_after_reading_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(dir.path(), "Dockerfile", "changed\n");
        let err = write_atomic(&p, "old\n", "new\n").unwrap_err();
        assert!(
            err.to_string().contains("changed since it was read"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&p).unwrap(), "changed\n");
    }

    #[cfg(unix)]
    #[test]
    fn read_only_files_and_hard_links_need_force() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let p = file(dir.path(), "Dockerfile", "a\n");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
        let err = write_atomic(&p, "a\n", "b\n").unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
        write_atomic_with(&p, "a\n", "b\n", WriteOptions { force: true }).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "b\n");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o444
        );

        let q = file(dir.path(), "compose.yaml", "x\n");
        fs::hard_link(&q, dir.path().join("link.yaml")).unwrap();
        let err = write_atomic(&q, "x\n", "y\n").unwrap_err();
        assert!(err.to_string().contains("hard links"), "{err}");
        assert_eq!(fs::read_to_string(&q).unwrap(), "x\n");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn extended_attributes_are_kept() {
        use std::os::fd::AsRawFd as _;
        let dir = tempfile::tempdir().unwrap();
        let p = file(dir.path(), "Dockerfile", "a\n");
        let f = fs::File::open(&p).unwrap();
        let name = std::ffi::CString::new("user.dockharden-test").unwrap();
        // SAFETY: a plain syscall on an open descriptor.
        let r =
            unsafe { libc::fsetxattr(f.as_raw_fd(), name.as_ptr(), b"1".as_ptr().cast(), 1, 0) };
        if r != 0 {
            eprintln!("skipped: this file system has no user extended attributes");
            return;
        }
        drop(f);
        write_atomic(&p, "a\n", "b\n").unwrap();
        let f = fs::File::open(&p).unwrap();
        let mut buf = [0u8; 8];
        let n = unsafe {
            libc::fgetxattr(
                f.as_raw_fd(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        assert_eq!(n, 1, "the extended attribute was kept");
        assert_eq!(buf[0], b'1');
    }

    #[test]
    fn stale_temporaries_of_dead_runs_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".dockharden-999999999-abcdef.tmp");
        fs::write(&stale, "left by a killed run").unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let fresh = dir.path().join(".dockharden-999999998-abcdef.tmp");
        fs::write(&fresh, "maybe still being written").unwrap();
        let p = file(dir.path(), "Dockerfile", "a\n");
        write_atomic(&p, "a\n", "b\n").unwrap();
        assert!(!stale.exists());
        assert!(
            fresh.exists(),
            "a recent one may belong to a live run elsewhere"
        );
    }
}
