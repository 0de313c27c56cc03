//! The ownership ledger: the ids tagsync created (or adopted), per corp.
//!
//! The API lets an app edit or delete only what it created, and the list call does not say
//! who created what, so tagsync remembers. The executor records every new id right after
//! each successful add and saves at once (atomically), so a crash mid-apply loses none.
//!
//! Decisions:
//! - **Where it lives:** beside the config file, in `.tagsync/ledger-<corp_id>.json`
//!   ([`Ledger::default_path`]); commit it to git with the file so CI and laptops agree.
//!   Characters of the corp id outside `[A-Za-z0-9_-]` become `_` in the file name.
//! - **Format:** JSON `{"format_version": 1, "corp_id": "...", "owned": [ids, sorted]}`;
//!   sorted ids keep git diffs small. Another `format_version` is refused.
//! - A missing file is an empty ledger for the corp; a file for another corp is refused.
//! - **Renames** are recorded too (`renamed: {id: {from, to}}`, a cycle's two halves
//!   merged): give `ledger.history.clone()` to `PlanOptions::history` so that a swap, once
//!   applied, is not swapped back by the next plan. An older ledger without the key reads
//!   as "no renames recorded".
//! - **Atomic save:** write `.<name>.tmp` in the same directory, fsync it, rename it
//!   over the ledger, fsync the directory (Unix). On any failure the temp file is removed
//!   and the old ledger is untouched.
//! - **One writer at a time:** a run that may write the ledger (`plan --apply`, `apply`,
//!   `adopt`) first takes a [`LedgerLock`]: an OS lock on `.<name>.lock` beside it, taken
//!   without waiting. A second such run stops at once with a message naming the holder's
//!   pid, before it reads anything; the OS drops the lock when its holder exits, even by
//!   SIGKILL, so a crash never leaves the ledger locked. Read-only runs (`plan`, `export`)
//!   take no lock: every save is an atomic rename, so they read a whole ledger.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::{History, Owned, StepKind};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub format_version: u32,
    pub corp_id: String,
    pub owned: BTreeSet<String>,
    /// Renames tagsync applied (`"renamed": {id: {from, to}}`), so an applied swap stays
    /// applied: see [`History`].
    #[serde(flatten)]
    pub history: History,
    /// Adds sent whose answer has not been recorded yet (written before each add is sent,
    /// cleared once its ids are recorded). Left over after a crash, they are resolved
    /// against the next snapshot by `apply::claim_pending`, so ownership is never lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingAdd>,
}

/// An add in flight: the tags named `names` are being created in the group `group_id`
/// (or, when `group_id` is `None`, in a new group called `group_name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAdd {
    /// Index of the plan step (to clear it once recorded).
    pub step: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub group_name: String,
    pub names: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot read the ownership ledger {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write the ownership ledger {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("the ownership ledger {path} is not valid JSON ({source}); restore it from git")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "the ownership ledger {path} has format_version {found}; this tagsync reads version {FORMAT_VERSION}"
    )]
    Version { path: PathBuf, found: u32 },
    #[error(
        "the ownership ledger {path} belongs to corp `{found}`, not `{expected}`; check WECOM_CORP_ID or the ledger path"
    )]
    CorpMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error(
        "another tagsync run{} is writing the ownership ledger {path}; wait for it to finish, then run again (two runs at once would each lose the ids the other records)",
        holder.as_ref().map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    Busy {
        path: PathBuf,
        holder: Option<String>,
    },
    #[error("cannot lock the ownership ledger {path} (lock file {lock}): {source}")]
    Lock {
        path: PathBuf,
        lock: PathBuf,
        source: io::Error,
    },
}

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
fn resolved(path: &Path) -> PathBuf {
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

/// The directory of `path` (`.` when it has none) and its file name.
fn dir_and_name(path: &Path) -> (PathBuf, String) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ledger.json".into());
    (dir, name)
}

impl Ledger {
    /// An empty ledger for `corp_id`.
    pub fn new(corp_id: impl Into<String>) -> Self {
        Ledger {
            format_version: FORMAT_VERSION,
            corp_id: corp_id.into(),
            owned: BTreeSet::new(),
            history: History::default(),
            pending: Vec::new(),
        }
    }

    /// `.tagsync/ledger-<corp_id>.json` in the directory of the config file.
    pub fn default_path(config_path: &Path, corp_id: &str) -> PathBuf {
        let safe: String = corp_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let dir = config_path.parent().unwrap_or(Path::new(""));
        dir.join(".tagsync").join(format!("ledger-{safe}.json"))
    }

    /// Read the ledger of `corp_id` at `path`; a missing file is an empty ledger.
    pub fn load(path: &Path, corp_id: &str) -> Result<Ledger, LedgerError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Ledger::new(corp_id)),
            Err(source) => {
                return Err(LedgerError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let ledger: Ledger = serde_json::from_str(&text).map_err(|source| LedgerError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        if ledger.format_version != FORMAT_VERSION {
            return Err(LedgerError::Version {
                path: path.to_path_buf(),
                found: ledger.format_version,
            });
        }
        if ledger.corp_id != corp_id {
            return Err(LedgerError::CorpMismatch {
                path: path.to_path_buf(),
                expected: corp_id.to_string(),
                found: ledger.corp_id,
            });
        }
        Ok(ledger)
    }

    /// Add ids to the owned set. Returns how many were new.
    pub fn record<I, S>(&mut self, ids: I) -> usize
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ids.into_iter()
            .map(|id| self.owned.insert(id.into()))
            .filter(|&new| new)
            .count()
    }

    /// Record a successful rename (call after every applied edit that renames; an edit
    /// step can be passed whole to [`Ledger::record_step`]).
    pub fn record_rename(&mut self, id: &str, from: &str, to: &str) {
        self.history.record(id, from, to);
    }

    /// Record what a successfully applied step renamed. Ids of added items are not in
    /// the step: pass them to [`Ledger::record`] from the add's answer.
    pub fn record_step(&mut self, kind: &StepKind) {
        self.history.record_step(kind);
    }

    /// What the planner may edit or delete, per this ledger.
    pub fn owned(&self) -> Owned {
        Owned::Ids(self.owned.clone())
    }

    /// Write atomically: temp file in the same directory, fsync, rename.
    pub fn save(&self, path: &Path) -> Result<(), LedgerError> {
        self.save_with(path, |f, bytes| f.write_all(bytes))
    }

    fn save_with(
        &self,
        path: &Path,
        write: impl FnOnce(&mut File, &[u8]) -> io::Result<()>,
    ) -> Result<(), LedgerError> {
        let path = &resolved(path);
        let err = |source| LedgerError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut bytes =
            serde_json::to_vec_pretty(self).map_err(|e| err(io::Error::other(e.to_string())))?;
        bytes.push(b'\n');
        let (dir, name) = dir_and_name(path);
        fs::create_dir_all(&dir).map_err(err)?;
        // One fixed name: a run killed mid-save leaves it behind, and the next save
        // overwrites and renames it away (writers hold the [`LedgerLock`], so one at a time).
        let tmp = dir.join(format!(".{name}.tmp"));
        let result = (|| {
            let mut f = File::create(&tmp)?;
            write(&mut f, &bytes)?;
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
        result.map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_in(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn missing_file_is_an_empty_ledger() {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = Ledger::load(&dir.path().join("nope.json"), "ww1").expect("load");
        assert_eq!(l, Ledger::new("ww1"));
        assert_eq!(l.owned(), Owned::Ids(BTreeSet::new()));
    }

    #[test]
    fn save_then_load_round_trips_without_temp_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = Ledger::default_path(&dir.path().join("tags.yaml"), "ww1");
        let mut l = Ledger::new("ww1");
        assert_eq!(l.record(["etB", "etA", "etB"]), 2);
        l.record_rename("etA", "x", "~~y");
        l.record_rename("etA", "~~y", "y");
        l.save(&path).expect("save");
        assert!(l.history.applied("etA", "x", "y"), "cycle halves merge");
        assert_eq!(Ledger::load(&path, "ww1").expect("load"), l);
        let parent = path.parent().expect("parent");
        assert_eq!(files_in(parent), vec!["ledger-ww1.json".to_string()]);
        let text = fs::read_to_string(&path).expect("read");
        assert!(text.contains("\"format_version\": 1"));
        assert!(text.find("etA") < text.find("etB"), "ids sorted: {text}");
    }

    #[test]
    fn failed_write_keeps_old_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.json");
        let mut l = Ledger::new("ww1");
        l.record(["et1"]);
        l.save(&path).expect("save");
        let before = fs::read(&path).expect("read");
        l.record(["et2"]);
        let res = l.save_with(&path, |f, bytes| {
            f.write_all(&bytes[..bytes.len() / 2])?;
            Err(io::Error::other("disk full"))
        });
        assert!(matches!(res, Err(LedgerError::Write { .. })));
        assert_eq!(fs::read(&path).expect("read"), before);
        assert_eq!(files_in(dir.path()), vec!["ledger.json".to_string()]);
    }

    #[test]
    fn refuses_other_corp_and_other_version_and_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("l.json");
        Ledger::new("wwA").save(&path).expect("save");
        let e = Ledger::load(&path, "wwB").expect_err("mismatch");
        assert!(matches!(e, LedgerError::CorpMismatch { .. }));
        assert!(e.to_string().contains("wwA"));
        fs::write(
            &path,
            r#"{"format_version":1,"corp_id":"wwA","owned":["et1"]}"#,
        )
        .expect("w");
        let old = Ledger::load(&path, "wwA").expect("a ledger without renames reads");
        assert!(old.history.renamed.is_empty() && old.owned.contains("et1"));
        fs::write(&path, r#"{"format_version":2,"corp_id":"wwA","owned":[]}"#).expect("w");
        assert!(matches!(
            Ledger::load(&path, "wwA"),
            Err(LedgerError::Version { found: 2, .. })
        ));
        fs::write(&path, "{not json").expect("w");
        assert!(matches!(
            Ledger::load(&path, "wwA"),
            Err(LedgerError::Parse { .. })
        ));
    }

    #[test]
    fn default_path_is_beside_the_config_and_safe() {
        let p = Ledger::default_path(Path::new("conf/tags.yaml"), "ww/../x");
        assert_eq!(p, Path::new("conf/.tagsync/ledger-ww____x.json"));
        let p = Ledger::default_path(Path::new("tags.yaml"), "ww1");
        assert_eq!(p, Path::new(".tagsync/ledger-ww1.json"));
    }

    #[test]
    fn one_writer_at_a_time_and_no_lock_file_left_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".tagsync").join("ledger-ww1.json");
        let held = LedgerLock::acquire(&path).expect("first");
        let lock = dir.path().join(".tagsync").join(".ledger-ww1.json.lock");
        assert_eq!(
            fs::read_to_string(&lock).expect("lock file"),
            std::process::id().to_string()
        );
        let busy = LedgerLock::acquire(&path).expect_err("second");
        assert!(matches!(busy, LedgerError::Busy { .. }), "{busy:?}");
        let msg = busy.to_string();
        assert!(
            msg.contains(&format!("(pid {})", std::process::id()))
                && msg.contains("ledger-ww1.json"),
            "{msg}"
        );
        // Another ledger in the same directory is not held by it.
        let other = LedgerLock::acquire(&dir.path().join(".tagsync").join("ledger-ww2.json"))
            .expect("another corp's ledger");
        drop(other);
        drop(held);
        assert_eq!(files_in(&dir.path().join(".tagsync")), Vec::<String>::new());
        let again = LedgerLock::acquire(&path).expect("free again");
        Ledger::new("ww1").save(&path).expect("save under the lock");
        drop(again);
        assert_eq!(
            files_in(&dir.path().join(".tagsync")),
            vec!["ledger-ww1.json".to_string()]
        );
    }

    #[cfg(unix)]
    fn is_link(path: &Path) -> bool {
        fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    }

    #[cfg(unix)]
    #[test]
    fn a_ledger_behind_a_symbolic_link_stays_behind_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real").join("ledger.json");
        fs::create_dir_all(real.parent().expect("parent")).expect("mkdir");
        Ledger::new("ww1").save(&real).expect("save");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let lock = LedgerLock::acquire(&link).expect("lock");
        assert!(dir.path().join("real").join(".ledger.json.lock").exists());
        let mut l = Ledger::new("ww1");
        l.record(["etA"]);
        l.save(&link).expect("save through the link");
        drop(lock);
        assert!(is_link(&link), "still a link");
        assert!(
            Ledger::load(&real, "ww1")
                .expect("load")
                .owned
                .contains("etA")
        );
        assert_eq!(
            files_in(dir.path()),
            vec!["link.json".to_string(), "real".to_string()]
        );

        // A link whose target does not exist yet (a relative one): the first save creates
        // the target, and the link stays.
        let dangling = dir.path().join("later.json");
        std::os::unix::fs::symlink("real/new.json", &dangling).expect("symlink");
        let lock = LedgerLock::acquire(&dangling).expect("lock");
        assert!(dir.path().join("real").join(".new.json.lock").exists());
        Ledger::new("ww1").save(&dangling).expect("save");
        drop(lock);
        assert!(is_link(&dangling), "still a link");
        assert!(dir.path().join("real").join("new.json").is_file());
    }
}
