//! Reading a file a user named (`-c`, `--secret-file`, a saved plan, a seed, the ledger):
//! a regular file only, at most a given size. A FIFO would block the run forever, a
//! device like `/dev/zero` would never end, and a huge file would exhaust memory; each is
//! an error that says so, before anything is read.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The bytes of the regular file at `path`, or an error when it is not a regular file
/// (following symbolic links) or holds more than `max` bytes.
pub fn read(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    // /proc and /sys hold "regular" files of size 0 whose content is the process's
    // environment (secrets), memory maps and the like: never a file a user meant.
    if let Ok(real) = std::fs::canonicalize(path)
        && ["/proc", "/sys", "/dev"]
            .iter()
            .any(|p| real.starts_with(p))
    {
        return Err(io::Error::other(
            "a file of the system (/proc, /sys, /dev), not a file of yours: give the path of a file",
        ));
    }
    // The type is checked on what was opened, so the path cannot change in between; the
    // open does not block on a FIFO (O_NONBLOCK; no effect on a regular file).
    let file = open_nonblocking(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other(
            "not a regular file (a directory, a FIFO or a device): give the path of a file",
        ));
    }
    if meta.len() > max {
        return Err(too_large(max));
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        // It grew between the size check and the read.
        return Err(too_large(max));
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// [`read`] as UTF-8 text.
pub fn read_to_string(path: &Path, max: u64) -> io::Result<String> {
    String::from_utf8(read(path, max)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn too_large(max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("larger than {max} bytes, the most tagsync reads from such a file"),
    )
}

/// Sizes: a secret is one short line; the other files hold at most a 10000-tag corp.
pub const SECRET_FILE_MAX: u64 = 64 * 1024;
/// A ledger, a saved plan, a seed or an apps file.
pub const STATE_FILE_MAX: u64 = 64 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_and_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"hello").unwrap();
        assert_eq!(read(&f, 5).unwrap(), b"hello");
        let e = read(&f, 4).unwrap_err();
        assert!(e.to_string().contains("larger than 4 bytes"), "{e}");
        let e = read(dir.path(), 100).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        #[cfg(unix)]
        {
            let e = read(Path::new("/dev/zero"), 100).unwrap_err();
            assert!(e.to_string().contains("not a file of yours"), "{e}");
        }
        #[cfg(target_os = "linux")]
        {
            // A link to the process's environment: refused, never read.
            let link = dir.path().join("env.yaml");
            std::os::unix::fs::symlink("/proc/self/environ", &link).unwrap();
            let e = read(&link, 1 << 20).unwrap_err();
            assert!(e.to_string().contains("not a file of yours"), "{e}");
        }
    }

    /// A FIFO swapped in after the type check: opening it does not wait for a writer,
    /// and the check on what was opened refuses it.
    #[cfg(unix)]
    #[test]
    fn opening_a_fifo_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let file = open_nonblocking(&fifo).expect("opened without a writer");
        assert!(!file.metadata().unwrap().is_file());
    }
}
