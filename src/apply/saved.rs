//! The saved plan (`tagsync plan --out plan.json`, applied later by `tagsync apply`).
//!
//! Versioned JSON (`format_version: 1`) holding the plan, the corp id, the sha256 of the
//! desired file's bytes, and a print of every remote group the plan touches: the group's
//! name and order and each of its tags' id, name and order, with a sha256 over them (the
//! fingerprint of its name, order and membership). When the plan creates groups or
//! renames one, the corp's group names are kept too (they must stay unique).
//!
//! [`check_fresh`] refuses the plan when the file changed or any of that differs now, and
//! says exactly what changed. No secret or token is in the file: only names and ids.
//!
//! Decisions where the spec is silent:
//! - A touched group is the group of any tag the plan adds, edits or deletes, any group
//!   it edits or deletes. Any change inside one (a tag added, renamed, reordered, moved
//!   or deleted by someone else) makes the plan stale, because the plan's order values
//!   and name-safe step order were computed from it.
//! - Groups the plan does not touch may change freely.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plan::{Plan, StepKind, Target};
use crate::remote::{RemoteGroup, Snapshot};

pub const FORMAT_VERSION: u32 = 1;

/// A tag of a touched group as it was when the plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagPrint {
    pub id: String,
    pub name: String,
    pub order: u32,
}

/// A touched group as it was when the plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPrint {
    pub id: String,
    pub name: String,
    pub order: u32,
    pub tags: Vec<TagPrint>,
    /// sha256 (hex) of the name, order and tags above.
    pub sha256: String,
}

/// The corp's group names, kept when the plan adds or renames groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamesPrint {
    /// Sorted.
    pub names: Vec<String>,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format_version: u32,
    pub corp_id: String,
    /// The desired file the plan was made from, as given on the command line (so that
    /// `tagsync apply plan.json` knows which file to check and verify against).
    pub desired_path: PathBuf,
    /// sha256 (hex) of the desired file's bytes.
    pub desired_sha256: String,
    pub plan: Plan,
    pub groups: Vec<GroupPrint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_names: Option<NamesPrint>,
    /// The `--allow-delete` the plan was made with: `tagsync apply` plans again with it
    /// and refuses unless the same steps come out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_delete: Option<usize>,
    /// The `--tag-limit` the plan was made with, when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_limit: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("cannot read the saved plan {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write the saved plan {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path} is not a saved plan ({source}); make one with `tagsync plan --out`")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "{path} has format_version {found}; this tagsync reads version {FORMAT_VERSION}: \
         make the plan again with this version"
    )]
    Version { path: PathBuf, found: u32 },
}

/// Why a saved plan may not be applied. The message lists every change found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct StaleError {
    pub changes: Vec<String>,
}

impl fmt::Display for StaleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the saved plan is stale, nothing was sent: {}; run `tagsync plan --out` again and review the new plan",
            self.changes.join("; ")
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 (hex) of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Length-prefixed fields, so `("ab","c")` and `("a","bc")` hash differently.
fn fingerprint<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for f in fields {
        h.update((f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    hex(&h.finalize())
}

fn group_print(g: &RemoteGroup) -> GroupPrint {
    let mut tags: Vec<TagPrint> = g
        .tags
        .iter()
        .map(|t| TagPrint {
            id: t.id.clone(),
            name: t.name.clone(),
            order: t.order,
        })
        .collect();
    tags.sort_by(|a, b| a.id.cmp(&b.id));
    let order = g.order.to_string();
    let tag_orders: Vec<String> = tags.iter().map(|t| t.order.to_string()).collect();
    let mut fields = vec![g.id.as_str(), g.name.as_str(), order.as_str()];
    for (t, o) in tags.iter().zip(&tag_orders) {
        fields.extend([t.id.as_str(), t.name.as_str(), o.as_str()]);
    }
    GroupPrint {
        id: g.id.clone(),
        name: g.name.clone(),
        order: g.order,
        sha256: fingerprint(fields),
        tags,
    }
}

fn names_print(remote: &Snapshot) -> NamesPrint {
    let names: BTreeSet<&str> = remote.groups.iter().map(|g| g.name.as_str()).collect();
    NamesPrint {
        sha256: fingerprint(names.iter().copied()),
        names: names.into_iter().map(String::from).collect(),
    }
}

/// Ids of the groups the plan touches, and whether group names matter.
fn touched(plan: &Plan, remote: &Snapshot) -> (BTreeSet<String>, bool) {
    let group_of_tag = |id: &str| {
        remote
            .groups
            .iter()
            .find(|g| g.tags.iter().any(|t| t.id == id))
            .map(|g| g.id.clone())
    };
    let mut groups = BTreeSet::new();
    let mut names = false;
    for s in &plan.steps {
        match &s.kind {
            StepKind::AddGroup { .. } => names = true,
            StepKind::AddTags { group_id, .. } => {
                groups.insert(group_id.clone());
            }
            StepKind::Edit {
                id,
                target: Target::Group,
                to_name,
                ..
            } => {
                groups.insert(id.clone());
                names |= to_name.is_some();
            }
            StepKind::Edit {
                id,
                target: Target::Tag,
                ..
            } => groups.extend(group_of_tag(id)),
            StepKind::Delete { groups: gs, tags } => {
                groups.extend(gs.iter().map(|g| g.id.clone()));
                groups.extend(tags.iter().filter_map(|t| group_of_tag(&t.id)));
            }
        }
    }
    (groups, names)
}

/// Names the plan gives (new groups, new tags, renames), per group id (`None`: a group).
fn names_taken(plan: &Plan) -> Vec<(Option<&str>, &str)> {
    let mut out = Vec::new();
    for s in &plan.steps {
        match &s.kind {
            StepKind::AddGroup { name, .. } => out.push((None, name.as_str())),
            StepKind::AddTags { group_id, tags, .. } => out.extend(
                tags.iter()
                    .map(|t| (Some(group_id.as_str()), t.name.as_str())),
            ),
            StepKind::Edit {
                target: Target::Group,
                to_name: Some(n),
                ..
            } => out.push((None, n.as_str())),
            _ => {}
        }
    }
    out
}

impl SavedPlan {
    /// Everything needed to apply `plan` later, made from the snapshot it was planned on.
    pub fn new(
        plan: Plan,
        corp_id: &str,
        desired_path: &Path,
        desired_bytes: &[u8],
        remote: &Snapshot,
    ) -> Self {
        let (ids, names) = touched(&plan, remote);
        SavedPlan {
            format_version: FORMAT_VERSION,
            corp_id: corp_id.to_string(),
            desired_path: desired_path.to_path_buf(),
            desired_sha256: sha256_hex(desired_bytes),
            groups: remote
                .groups
                .iter()
                .filter(|g| ids.contains(&g.id))
                .map(group_print)
                .collect(),
            group_names: names.then(|| names_print(remote)),
            allow_delete: None,
            tag_limit: None,
            plan,
        }
    }

    /// Write the plan as pretty JSON, atomically ([`crate::atomic_write`]).
    pub fn save(&self, path: &Path) -> Result<(), SavedPlanError> {
        let err = |source| SavedPlanError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut bytes =
            serde_json::to_vec_pretty(self).map_err(|e| err(io::Error::other(e.to_string())))?;
        bytes.push(b'\n');
        crate::atomic_write::write(path, &bytes).map_err(err)
    }

    pub fn load(path: &Path) -> Result<SavedPlan, SavedPlanError> {
        let max = crate::safe_read::STATE_FILE_MAX;
        let text =
            crate::safe_read::read_to_string(path, max).map_err(|source| SavedPlanError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        #[derive(Deserialize)]
        struct Version {
            format_version: u32,
        }
        let parse = |source| SavedPlanError::Parse {
            path: path.to_path_buf(),
            source,
        };
        let v: Version = serde_json::from_str(&text).map_err(parse)?;
        if v.format_version != FORMAT_VERSION {
            return Err(SavedPlanError::Version {
                path: path.to_path_buf(),
                found: v.format_version,
            });
        }
        serde_json::from_str(&text).map_err(parse)
    }
}

/// Refuse `saved` unless the desired file and every remote item it touches are as they
/// were when it was made, and it was made for `corp_id`.
pub fn check_fresh(
    saved: &SavedPlan,
    corp_id: &str,
    desired_bytes: &[u8],
    remote: &Snapshot,
) -> Result<(), StaleError> {
    if saved.corp_id != corp_id {
        // Every item would differ too; the credentials are what to check.
        return Err(StaleError {
            changes: vec![format!(
                "it was made for corp `{}`, but the credentials (WECOM_CORP_ID, or \
                 --emulator) reach corp `{corp_id}`; check them before planning again",
                saved.corp_id
            )],
        });
    }
    let mut changes = Vec::new();
    if sha256_hex(desired_bytes) != saved.desired_sha256 {
        changes.push("the desired file changed since the plan was made".into());
    }
    let taken = names_taken(&saved.plan);
    for old in &saved.groups {
        let Some(now) = remote.groups.iter().find(|g| g.id == old.id) else {
            changes.push(format!(
                "group {:?} ({}) was deleted remotely",
                old.name, old.id
            ));
            continue;
        };
        if group_print(now).sha256 != old.sha256 {
            group_changes(old, now, remote, &taken, &mut changes);
        }
    }
    if let Some(old) = &saved.group_names {
        let now = names_print(remote);
        if now.sha256 != old.sha256 {
            // Renames of touched groups are already reported above.
            let known: BTreeSet<&str> = saved
                .groups
                .iter()
                .flat_map(|g| {
                    let current = remote.groups.iter().find(|r| r.id == g.id);
                    std::iter::once(g.name.as_str()).chain(current.map(|r| r.name.as_str()))
                })
                .collect();
            let fresh = |n: &&String| !known.contains(n.as_str());
            for name in now
                .names
                .iter()
                .filter(fresh)
                .filter(|n| !old.names.contains(n))
            {
                let planned = taken.iter().any(|(g, n)| g.is_none() && n == name);
                changes.push(if planned {
                    format!("a new remote group is named {name:?}, a name the plan gives")
                } else {
                    format!("a new remote group is named {name:?}")
                });
            }
            for name in old
                .names
                .iter()
                .filter(fresh)
                .filter(|n| !now.names.contains(n))
            {
                changes.push(format!("group {name:?} is gone remotely"));
            }
        }
    }
    if changes.is_empty() {
        Ok(())
    } else {
        Err(StaleError { changes })
    }
}

fn group_changes(
    old: &GroupPrint,
    now: &RemoteGroup,
    remote: &Snapshot,
    taken: &[(Option<&str>, &str)],
    out: &mut Vec<String>,
) {
    let g = &old.name;
    if now.name != old.name {
        out.push(format!(
            "group {} was renamed from {:?} to {:?} remotely",
            old.id, old.name, now.name
        ));
    }
    if now.order != old.order {
        out.push(format!(
            "group {g:?} was reordered remotely ({} → {})",
            old.order, now.order
        ));
    }
    for t in &old.tags {
        match now.tags.iter().find(|n| n.id == t.id) {
            Some(n) if n.name != t.name => out.push(format!(
                "tag {} in group {g:?} was renamed from {:?} to {:?} remotely",
                t.id, t.name, n.name
            )),
            Some(n) if n.order != t.order => out.push(format!(
                "tag {:?} in group {g:?} was reordered remotely ({} → {})",
                t.name, t.order, n.order
            )),
            Some(_) => {}
            None => match remote
                .groups
                .iter()
                .find(|o| o.tags.iter().any(|x| x.id == t.id))
            {
                Some(o) => out.push(format!(
                    "tag {:?} ({}) moved from group {g:?} to {:?} remotely",
                    t.name, t.id, o.name
                )),
                None => out.push(format!(
                    "tag {:?} ({}) in group {g:?} was deleted remotely",
                    t.name, t.id
                )),
            },
        }
    }
    for n in now
        .tags
        .iter()
        .filter(|n| !old.tags.iter().any(|t| t.id == n.id))
    {
        let planned = taken
            .iter()
            .any(|(gid, name)| *gid == Some(old.id.as_str()) && *name == n.name);
        out.push(if planned {
            format!(
                "a new remote tag {:?} is in group {g:?}, a name the plan will add",
                n.name
            )
        } else {
            format!("a new remote tag {:?} is in group {g:?}", n.name)
        });
    }
}
