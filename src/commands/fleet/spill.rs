//! The corps' rendered output kept on disk until it is printed, not in memory: the
//! summary table comes first and needs every corp, so a fleet's plans wait somewhere;
//! here they wait in an unlinked temporary file (mode 0600 on Unix), so memory grows with
//! the corps in flight, not with the fleet. Only each corp's row stays in memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A corp's text section.
pub const TEXT: usize = 0;
/// A corp's Markdown section: whole, shortened, one line (`MD + level`).
pub const MD: usize = 1;
/// A corp's JSON object.
pub const JSON: usize = 4;
/// The parts kept per corp.
pub const PARTS: usize = 5;

/// The parts of each corp, by index, in one file.
pub struct Spill {
    file: File,
    /// Removed at drop when it could not be removed at once (not Unix).
    path: Option<PathBuf>,
    len: u64,
    spans: Vec<[(u64, usize); PARTS]>,
}

impl Spill {
    /// A store for `n` corps.
    pub fn new(n: usize) -> io::Result<Spill> {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "tagsync-fleet-{}-{nanos}-{}.tmp",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        let path = std::fs::remove_file(&path).err().map(|_| path);
        Ok(Spill {
            file,
            path,
            len: 0,
            spans: vec![[(0, 0); PARTS]; n],
        })
    }

    /// Keep the parts of corp `i` (a later put replaces them).
    pub fn put(&mut self, i: usize, parts: [String; PARTS]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(self.len))?;
        let mut spans = [(0, 0); PARTS];
        for (span, part) in spans.iter_mut().zip(&parts) {
            self.file.write_all(part.as_bytes())?;
            *span = (self.len, part.len());
            self.len += part.len() as u64;
        }
        match self.spans.get_mut(i) {
            Some(s) => *s = spans,
            None => return Err(io::Error::other(format!("no corp #{i}"))),
        }
        Ok(())
    }

    /// Part `which` of corp `i` ("" when none was kept).
    pub fn get(&self, i: usize, which: usize) -> io::Result<String> {
        let Some(&(start, len)) = self.spans.get(i).and_then(|s| s.get(which)) else {
            return Ok(String::new());
        };
        let mut file = &self.file;
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = vec![0; len];
        file.read_exact(&mut bytes)?;
        String::from_utf8(bytes).map_err(io::Error::other)
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_back_by_corp_whatever_the_order_they_were_kept_in() {
        let mut spill = Spill::new(3).unwrap();
        let parts = |s: &str| std::array::from_fn(|k| format!("{s}{k}"));
        spill.put(2, parts("c")).unwrap();
        spill.put(0, parts("甲")).unwrap();
        assert_eq!(spill.get(0, JSON).unwrap(), "甲4");
        assert_eq!(spill.get(2, TEXT).unwrap(), "c0");
        assert_eq!(spill.get(1, MD).unwrap(), "", "never kept");
        assert!(spill.put(3, parts("x")).is_err());
    }
}
