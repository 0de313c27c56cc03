//! One writer per ledger: an OS lock on `.<name>.lock` beside the ledger, taken without
//! waiting (see the ledger's module docs), and where a ledger path really points.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::LedgerError;
use crate::atomic_write::dir_and_name;

/// The right to write one ledger, held until dropped (see the module docs).
#[derive(Debug)]
pub struct LedgerLock {
    file: File,
    lock: PathBuf,
    /// The directory, when this lock created it (removed again if still empty).
    made_dir: Option<PathBuf>,
}

impl LedgerLock {
    /// Lock the ledger at `path` for this process, or fail at once with
    /// [`LedgerError::Busy`] when another process holds it.
    pub fn acquire(path: &Path) -> Result<LedgerLock, LedgerError> {
        let path = &resolved(path);
        let (dir, name) = dir_and_name(path);
        let lock = dir.join(format!(".{name}.lock"));
        let err = |source| LedgerError::Lock {
            path: path.to_path_buf(),
            lock: lock.clone(),
            source,
        };
        let made_dir = (!dir.exists()).then(|| dir.clone());
        fs::create_dir_all(&dir).map_err(err)?;
        // The holder removes the file as it lets go; one that opened the file just before
        // that may then lock a removed file, so it checks and opens again.
        for _ in 0..20 {
            let opened = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock);
            let mut file = match opened {
                Ok(f) => f,
                // The directory was removed by a holder letting go (it made it): again.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir_all(&dir).map_err(err)?;
                    continue;
                }
                Err(e) => return Err(err(e)),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    let holder = text.trim();
                    let holder = (!holder.is_empty() && holder.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| holder.to_string());
                    return Err(LedgerError::Busy {
                        path: path.to_path_buf(),
                        holder,
                    });
                }
                Err(TryLockError::Error(e)) => return Err(err(e)),
            }
            if !still_at(&file, &lock) {
                continue;
            }
            let pid = std::process::id().to_string();
            (|| {
                file.set_len(0)?;
                file.rewind()?;
                file.write_all(pid.as_bytes())
            })()
            .map_err(err)?;
            if let Ok(mut held) = HELD.lock() {
                held.push(lock.clone());
            }
            return Ok(LedgerLock {
                file,
                lock,
                made_dir,
            });
        }
        Err(err(io::Error::other(
            "the lock file kept changing under this run",
        )))
    }
}

impl Drop for LedgerLock {
    fn drop(&mut self) {
        // Remove the file while still holding the lock (closing the file releases it), so
        // the lock file is never committed with the ledger.
        let _ = fs::remove_file(&self.lock);
        if let Ok(mut held) = HELD.lock() {
            held.retain(|p| p != &self.lock);
        }
        // A run that wrote nothing leaves no directory behind (fails when not empty).
        if let Some(dir) = &self.made_dir {
            let _ = fs::remove_dir(dir);
        }
        let _ = self.file.unlock();
    }
}

/// The lock files this process holds, for [`remove_lock_files`].
static HELD: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Remove the lock files this process holds, for a process about to exit without
/// unwinding (`std::process::exit` runs no `Drop`). The OS locks go with the process.
pub fn remove_lock_files() {
    if let Ok(held) = HELD.lock() {
        for lock in held.iter() {
            let _ = fs::remove_file(lock);
        }
    }
}

/// `path`, or where it points when it is a symbolic link: the lock goes beside the real
/// file, and a save replaces that file, not the link.
pub(super) fn resolved(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    // A few hops (a chain of links), each read even when its target does not exist yet.
    for _ in 0..8 {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => match fs::read_link(&path) {
                Ok(target) => {
                    path = match path.parent() {
                        Some(dir) => dir.join(target),
                        None => target,
                    };
                }
                Err(_) => break,
            },
            _ => break,
        }
    }
    path
}

/// Whether `file` is still the file at `path` (not removed or replaced meanwhile).
fn still_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        // Elsewhere an open file cannot be removed, so it is still there.
        let _ = (file, path);
        true
    }
}
