//! Writing a file so that a reader, or a crash, sees the old content or the new, never a
//! part: a temporary file `.<name>.tmp` in the same directory, fsynced, renamed over the
//! target, then the directory fsynced (Unix). On failure the temporary file is removed and
//! the target is untouched. Used by the ledger, saved plans and `export -o`.
//!
//! One fixed temporary name: a run killed mid-write leaves it behind and the next write
//! replaces it. Two processes writing the same path at once must be kept apart by the
//! caller (the ledger's lock does so).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Write `bytes` to `path` atomically (see the module docs). Creates the directory.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, bytes, |f, b| f.write_all(b))
}

/// [`write`] with the write itself given (tests use it to fail half-way).
pub fn write_with(
    path: &Path,
    bytes: &[u8],
    write: impl FnOnce(&mut File, &[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let (dir, name) = dir_and_name(path);
    fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        write(&mut f, bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        #[cfg(unix)]
        File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The directory of `path` (`.` when it has none) and its file name.
pub fn dir_and_name(path: &Path) -> (PathBuf, String) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    (dir, name)
}
