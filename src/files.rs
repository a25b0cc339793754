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
    bytes.iter().position(|&b| b == 0)
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
    use std::io::Read as _;
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| ReadError::plain(format!("cannot read: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| ReadError::plain(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(ReadError::plain(format!(
            "{}: not read (only regular files are)",
            crate::discover::special_kind(meta.file_type())
        )));
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(ReadError::plain(format!(
            "file too large ({} bytes, the limit is {MAX_FILE_SIZE})",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::plain(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(ReadError::plain(format!(
            "file too large (the limit is {MAX_FILE_SIZE} bytes)"
        )));
    }
    decode(bytes)
}

/// Replace the content of `path` by `new`, atomically: a temporary file in the same folder, fsync,
/// permissions (and, when possible, ownership) copied, then rename. Refuses when the file no longer
/// holds `original` (it changed since it was read). A symbolic link is written through to its target.
///
/// # Errors
/// Any I/O error, or a concurrent modification.
pub fn write_atomic(path: &Path, original: &str, new: &str) -> std::io::Result<()> {
    let target = fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let meta = fs::metadata(&target)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".dockharden-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(new.as_bytes())?;
    tmp.as_file().sync_all()?;
    fs::set_permissions(tmp.path(), meta.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        // Keep the owner when we may (as root); otherwise the file is ours anyway.
        let _ = std::os::unix::fs::chown(tmp.path(), Some(meta.uid()), Some(meta.gid()));
    }
    let current = fs::read(&target)?;
    if current != original.as_bytes() {
        return Err(std::io::Error::other(
            "the file changed since it was read; not overwritten",
        ));
    }
    tmp.persist(&target).map_err(|e| e.error)?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
