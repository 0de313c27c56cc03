//! The ownership ledger: the state tagsync keeps per corp, beside the desired file.
//!
//! The API lets an app edit or delete only what it created, and the list call does not say
//! who created what, so tagsync remembers. For every id it owns, the ledger also says what
//! that id is in the file ([`Binding`]: the name, order and group it was last applied as),
//! so a rename made in the admin console is drift to undo, not a delete and an add. The
//! executor records every new id right after each successful add and saves at once
//! (atomically), so a crash mid-apply loses none.
//!
//! Decisions:
//! - **Where it lives:** beside the config file, in `.tagsync/ledger-<corp_id>.json`
//!   ([`Ledger::default_path`]); commit it to git with the file so CI and laptops agree.
//!   Characters of the corp id outside `[A-Za-z0-9_-]` become `_` in the file name.
//! - **Format 2:** JSON `{"format_version": 2, "corp_id", "app", "owned": [ids, sorted],
//!   "bindings": {id: {name, group?, order?}}, "renamed": {...}, "pending": [...]}`;
//!   sorted keys keep git diffs small. A format-1 ledger (no `app`, no `bindings`) is read
//!   and upgraded: the first run that writes it saves format 2, its bindings filled in
//!   from the corp where the names still agree with the file. Another version is refused.
//! - **One app per ledger** (`app`): a keyed hash of the app's secret ([`app_fingerprint`],
//!   never the secret). A run with another app's secret is refused before anything is
//!   written ([`Ledger::check_app`]); `tagsync ledger rebind` accepts a rotated secret.
//! - A missing file is an empty ledger for the corp; a file for another corp is refused.
//! - **Renames** are recorded too (`renamed: {id: {from, to}}`, a cycle's two halves
//!   merged), so that a swap, once applied, is not swapped back by the next plan.
//! - **Atomic save:** write `.<name>.tmp` in the same directory, fsync it, rename it
//!   over the ledger, fsync the directory (Unix). On any failure the temp file is removed
//!   and the old ledger is untouched.
//! - **One writer at a time:** a run that may write the ledger (`plan --apply`, `apply`,
//!   `adopt`, `disown`, `ledger rebind`) first takes a [`LedgerLock`]: an OS lock on
//!   `.<name>.lock` beside it, taken without waiting. A second such run stops at once with
//!   a message naming the holder's pid, before it reads anything; the OS drops the lock
//!   when its holder exits, even by SIGKILL, so a crash never leaves the ledger locked.
//!   Read-only runs (`plan`, `export`) take no lock: every save is an atomic rename, so
//!   they read a whole ledger. The lock is keyed on the path (symbolic links followed):
//!   one ledger reached through two hard links is not held against itself (documented).

mod lock;
mod ownership;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};

pub use lock::{LedgerLock, remove_lock_files};
pub use ownership::{Binding, Bindings, History, Owned, Renamed};

use lock::resolved;

/// The format this tagsync writes.
pub const FORMAT_VERSION: u32 = 2;
/// The older format it still reads (and upgrades on the next save).
const FORMAT_VERSION_1: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub format_version: u32,
    pub corp_id: String,
    /// The fingerprint of the app that writes this ledger ([`app_fingerprint`]); `None`
    /// until the first run that writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    pub owned: BTreeSet<String>,
    /// What each owned id was last applied as (ids adopted, or owned before format 2,
    /// may have none until a run binds them).
    #[serde(default)]
    pub bindings: Bindings,
    /// Renames tagsync applied (`"renamed": {id: {from, to}}`), so an applied swap stays
    /// applied: see [`History`].
    #[serde(flatten)]
    pub history: History,
    /// Adds sent whose answer has not been recorded yet (written before each add is sent,
    /// cleared once its ids are recorded). Left over after a crash, they are resolved
    /// against the next snapshot by `apply::claim_pending`, so ownership is never lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingAdd>,
    /// The format the file had when read (not saved; not compared).
    #[serde(skip)]
    pub read_as: ReadAs,
}

/// How a ledger was read: the `format_version` it had on disk (`None`: no file), and
/// whether [`Ledger::check_app`] just recorded an app for a ledger that owns ids without
/// naming one (that app is not known to be the one that made them: a run that writes
/// checks it first). Equal to every other `ReadAs`, so ledgers compare by content.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadAs {
    pub version: Option<u32>,
    pub app_unverified: bool,
}

impl PartialEq for ReadAs {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ReadAs {}

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
    /// The rule group of an add of rule-group tags; `None`: corp tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_id: Option<u64>,
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
        "the ownership ledger {path} has format_version {found}; this tagsync reads versions 1 and {FORMAT_VERSION}"
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
        "the ownership ledger {path} was written by another app than the one whose secret this run uses; nothing was sent and the ledger is unchanged. \
         If WECOM_CORP_SECRET (or --secret-file) is mixed up, use the secret of the app that made the tags; \
         if this is the same app with a rotated secret, run `tagsync ledger rebind` once to accept it"
    )]
    OtherApp { path: PathBuf },
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

/// The fingerprint of an app, as the ledger records it: HMAC-SHA256 keyed with a fixed,
/// public label and the corp id, over `identity` (the app's secret, or for a third-party
/// app its suite id), cut to 128 bits and written in hex. It tells two apps apart and
/// cannot be turned back into the secret.
pub fn app_fingerprint(corp_id: &str, identity: &str) -> String {
    let key = format!("tagsync ledger app fingerprint v1\0{corp_id}");
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()) else {
        // HMAC takes keys of any length; this arm is never taken.
        return String::new();
    };
    mac.update(identity.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("hmac-sha256:{hex}")
}

impl Ledger {
    /// An empty ledger for `corp_id`.
    pub fn new(corp_id: impl Into<String>) -> Self {
        Ledger {
            format_version: FORMAT_VERSION,
            corp_id: corp_id.into(),
            app: None,
            owned: BTreeSet::new(),
            bindings: Bindings::new(),
            history: History::default(),
            pending: Vec::new(),
            read_as: ReadAs::default(),
        }
    }

    /// Whether the file this ledger was read from is in an older format (the next save
    /// upgrades it).
    pub fn needs_upgrade(&self) -> bool {
        self.read_as.version.is_some_and(|v| v != FORMAT_VERSION)
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

    /// Read the ledger of `corp_id` at `path`; a missing file is an empty ledger. A
    /// format-1 ledger is read as format 2 without bindings (saved as format 2).
    pub fn load(path: &Path, corp_id: &str) -> Result<Ledger, LedgerError> {
        let text = match crate::safe_read::read_to_string(path, crate::safe_read::STATE_FILE_MAX) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Ledger::new(corp_id)),
            Err(source) => {
                return Err(LedgerError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let mut ledger: Ledger =
            serde_json::from_str(&text).map_err(|source| LedgerError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        ledger.read_as.version = Some(ledger.format_version);
        match ledger.format_version {
            FORMAT_VERSION => {}
            FORMAT_VERSION_1 => ledger.format_version = FORMAT_VERSION,
            found => {
                return Err(LedgerError::Version {
                    path: path.to_path_buf(),
                    found,
                });
            }
        }
        if ledger.corp_id != corp_id {
            return Err(LedgerError::CorpMismatch {
                path: path.to_path_buf(),
                expected: corp_id.to_string(),
                found: ledger.corp_id,
            });
        }
        // A binding without ownership means nothing; drop any a hand edit left.
        let owned = &ledger.owned;
        ledger.bindings.retain(|id, _| owned.contains(id));
        Ok(ledger)
    }

    /// Check that the app whose fingerprint is `app` may write this ledger: yes when the
    /// ledger records no app yet (it then records this one, saved with the next write)
    /// or the same one; [`LedgerError::OtherApp`] otherwise.
    pub fn check_app(&mut self, app: &str, path: &Path) -> Result<(), LedgerError> {
        match &self.app {
            Some(known) if known != app => Err(LedgerError::OtherApp {
                path: path.to_path_buf(),
            }),
            Some(_) => Ok(()),
            None => {
                self.app = Some(app.to_string());
                self.read_as.app_unverified = !self.owned.is_empty();
                Ok(())
            }
        }
    }

    /// Add ids to the owned set (unbound: what they are in the file is learnt from the
    /// corp on the next run that writes). Returns how many were new.
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

    /// Own `id` and bind it to what it is in the file. Returns whether it was new.
    pub fn record_bound(&mut self, id: &str, binding: Binding) -> bool {
        self.bindings.insert(id.to_string(), binding);
        self.owned.insert(id.to_string())
    }

    /// Record a successful rename: the history, and the binding's name.
    pub fn record_rename(&mut self, id: &str, from: &str, to: &str) {
        self.history.record(id, from, to);
        if let Some(b) = self.bindings.get_mut(id) {
            b.name = to.to_string();
        }
    }

    /// Record a successful reorder in the binding.
    pub fn record_order(&mut self, id: &str, order: u32) {
        if let Some(b) = self.bindings.get_mut(id) {
            b.order = Some(order);
        }
    }

    /// Forget ids: no longer owned (deleted, or disowned), no binding, no history.
    /// Returns how many were owned.
    pub fn forget<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) -> usize {
        let mut n = 0;
        for id in ids {
            n += usize::from(self.owned.remove(id));
            self.bindings.remove(id);
            self.history.renamed.remove(id);
        }
        n
    }

    /// The ids bound as tags of group `group_id` (they go when the group is deleted).
    pub fn tags_bound_to(&self, group_id: &str) -> Vec<String> {
        self.bindings
            .iter()
            .filter(|(_, b)| b.group.as_deref() == Some(group_id))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Set the bindings of owned ids (from the planner's matching, after a verified
    /// apply). Returns how many changed; ids not owned are ignored.
    pub fn bind_all(&mut self, bindings: Bindings) -> usize {
        self.bind_where(bindings, |_, _| true)
    }

    /// Bind owned ids that have no binding, or whose bound name the file has since
    /// accepted a change of (the new binding's name differs): before an apply, so drift
    /// of order stays visible until undone. Returns how many changed.
    pub fn bind_new_names(&mut self, bindings: Bindings) -> usize {
        self.bind_where(bindings, |old, new| old.is_none_or(|o| o.name != new.name))
    }

    fn bind_where(
        &mut self,
        bindings: Bindings,
        when: impl Fn(Option<&Binding>, &Binding) -> bool,
    ) -> usize {
        let mut changed = 0;
        for (id, b) in bindings {
            let old = self.bindings.get(&id);
            if self.owned.contains(&id) && old != Some(&b) && when(old, &b) {
                self.bindings.insert(id, b);
                changed += 1;
            }
        }
        changed
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
        crate::atomic_write::write_with(path, &bytes, write).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

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
        assert!(text.contains("\"format_version\": 2"));
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
        let old = Ledger::load(&path, "wwA").expect("a format-1 ledger reads");
        assert!(old.history.renamed.is_empty() && old.owned.contains("et1"));
        assert_eq!(old.format_version, FORMAT_VERSION, "upgraded in memory");
        assert!(old.bindings.is_empty() && old.app.is_none());
        fs::write(&path, r#"{"format_version":3,"corp_id":"wwA","owned":[]}"#).expect("w");
        assert!(matches!(
            Ledger::load(&path, "wwA"),
            Err(LedgerError::Version { found: 3, .. })
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
