//! What an emulator starts from: the corp id, the apps (secrets), the seed snapshot, the
//! limits and the faults to inject.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::faults::Faults;
use super::profile::Profile;
use crate::wire;

/// Errors while loading the emulator's files.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a seed snapshot (the get_corp_tag_list answer shape, \
         {{\"tag_group\": [...]}}): {source}"
    )]
    SeedFormat {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "{path} is not an apps file: {detail}\n  = help: its fields are corp_id, apps: \
         [{{name, secret, legacy?, manage_tags?, allowed_ips?}}], suites?: [{{suite_id, \
         suite_secret, suite_ticket, permanent_code, app}}], token_lifetime_secs?, tag_limit?, \
         rate_limit_per_minute?, concurrency_limit?, profile?, callback? (README, \"The apps file\")"
    )]
    AppsFormat {
        path: PathBuf,
        /// The parser's message with its snippet, naming the file.
        detail: String,
    },
    #[error("invalid seed: {0}")]
    InvalidSeed(String),
    #[error("invalid apps: {0}")]
    InvalidApps(String),
}

/// One app of the corp: its secret gets tokens; what it creates it owns.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub name: String,
    pub secret: String,
    /// The legacy "客户联系" system secret: may edit and delete everything.
    #[serde(default)]
    pub legacy: bool,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("legacy", &self.legacy)
            .finish()
    }
}

/// What an app may do besides holding a secret (WeCom's admin-console settings).
/// The default: every tag call, from any IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppAccess {
    /// The "manage corp customer tags" permission: without it add, edit and delete
    /// answer 48002 (list still works).
    pub manage_tags: bool,
    /// The app's trusted IPs (企业可信IP); `None`: any. A tag call from another IP
    /// answers 60020.
    pub allowed_ips: Option<Vec<IpAddr>>,
}

impl Default for AppAccess {
    fn default() -> Self {
        AppAccess {
            manage_tags: true,
            allowed_ips: None,
        }
    }
}

/// A third-party suite installed in the corp: `get_suite_token` with its id, secret and
/// ticket, then `get_corp_token` with the corp's permanent code gives a token of `app`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    pub suite_id: String,
    pub suite_secret: String,
    /// The one valid ticket (WeCom pushes a new one every ten minutes; here it is fixed).
    pub suite_ticket: String,
    /// The corp's permanent code for this suite.
    pub permanent_code: String,
    /// The app of the corp whose token `get_corp_token` gives.
    pub app: String,
}

impl fmt::Debug for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Suite")
            .field("suite_id", &self.suite_id)
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

/// An app as the apps file gives it: the app and its access in one entry.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppEntry {
    pub name: String,
    pub secret: String,
    #[serde(default)]
    pub legacy: bool,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_tags: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_ips: Option<Vec<IpAddr>>,
}

impl fmt::Debug for AppEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppEntry")
            .field("name", &self.name)
            .field("legacy", &self.legacy)
            .field("manage_tags", &self.manage_tags)
            .field("allowed_ips", &self.allowed_ips)
            .finish_non_exhaustive()
    }
}

/// A tag of the seed and dump: the wire shape ([`wire::Tag`], its fields read through
/// `Deref`) plus the app that created it; absent: the admin console (nobody's app).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedTag {
    #[serde(flatten)]
    pub tag: wire::Tag,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A group of the seed and dump: the wire shape ([`wire::TagGroup`] of seed tags, its
/// fields read through `Deref`) plus the app that created it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedGroup {
    /// First in the file, so that a group's owner is not written after its tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(flatten)]
    pub group: wire::TagGroup<SeedTag>,
}

impl std::ops::Deref for SeedTag {
    type Target = wire::Tag;
    fn deref(&self) -> &wire::Tag {
        &self.tag
    }
}

impl std::ops::DerefMut for SeedTag {
    fn deref_mut(&mut self) -> &mut wire::Tag {
        &mut self.tag
    }
}

impl std::ops::Deref for SeedGroup {
    type Target = wire::TagGroup<SeedTag>;
    fn deref(&self) -> &wire::TagGroup<SeedTag> {
        &self.group
    }
}

impl std::ops::DerefMut for SeedGroup {
    fn deref_mut(&mut self) -> &mut wire::TagGroup<SeedTag> {
        &mut self.group
    }
}

impl From<&SeedGroup> for wire::TagGroup {
    fn from(g: &SeedGroup) -> Self {
        wire::TagGroup {
            group_id: g.group_id.clone(),
            group_name: g.group_name.clone(),
            create_time: g.create_time,
            order: g.order,
            deleted: g.deleted,
            strategy_id: g.strategy_id,
            tag: g.tag.iter().map(|t| t.tag.clone()).collect(),
        }
    }
}

/// The seed file: a `get_corp_tag_list` answer (`errcode`/`errmsg` optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SeedFile {
    #[serde(default)]
    pub errcode: i64,
    #[serde(default = "ok_msg")]
    pub errmsg: String,
    pub tag_group: Vec<SeedGroup>,
    /// The corp's customer-contact rule groups (`customer_strategy/get`'s shape); a tag
    /// group with a `strategy_id` is a rule-group tag group of one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strategy: Vec<crate::wire::RuleGroup>,
}

fn ok_msg() -> String {
    "ok".into()
}

impl SeedFile {
    pub fn new(tag_group: Vec<SeedGroup>) -> Self {
        SeedFile {
            errcode: 0,
            errmsg: ok_msg(),
            tag_group,
            strategy: Vec::new(),
        }
    }
}

/// A seed or apps file's text (a regular file, bounded).
pub(super) fn read_text(path: &Path) -> Result<String, EmulatorError> {
    let max = crate::safe_read::STATE_FILE_MAX;
    crate::safe_read::read_to_string(path, max).map_err(|source| EmulatorError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Read a seed snapshot (the `get_corp_tag_list` answer shape, optional `owner` fields).
pub fn load_seed(path: &Path) -> Result<Vec<SeedGroup>, EmulatorError> {
    Ok(load_seed_file(path)?.tag_group)
}

/// Read a seed file whole: its tag groups and its rule groups.
pub fn load_seed_file(path: &Path) -> Result<SeedFile, EmulatorError> {
    let text = read_text(path)?;
    serde_json::from_str(&text).map_err(|source| EmulatorError::SeedFormat {
        path: path.to_owned(),
        source,
    })
}

/// The apps file (YAML). Besides the apps it may set the emulator's limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppsFile {
    pub corp_id: String,
    pub apps: Vec<AppEntry>,
    /// Third-party suites installed in the corp.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites: Vec<Suite>,
    /// Token lifetime in seconds (default 7200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime_secs: Option<u64>,
    /// Most live corp tags (default 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_limit: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_limit: Option<usize>,
    /// Where the vendor document is silent: which behaviour to emulate (each key
    /// optional, default the emulator's usual choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Send WeCom's change callbacks here (for `tagsync watch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackTarget>,
}

/// Where the emulator sends its `change_external_tag` callbacks, and with what Token and
/// EncodingAESKey (the admin console's "receive API messages" settings).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CallbackTarget {
    /// An `http://` URL (the emulator is a local test server).
    pub url: String,
    pub token: String,
    /// 43 characters of base64.
    pub aes_key: String,
}

impl fmt::Debug for CallbackTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackTarget")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl AppsFile {
    /// Puts the corp, the apps and any limits of this file into `config`.
    pub fn apply_to(self, config: &mut EmulatorConfig) {
        config.corp_id = self.corp_id;
        config.access.clear();
        config.apps = self
            .apps
            .into_iter()
            .map(|e| {
                let access = AppAccess {
                    manage_tags: e.manage_tags.unwrap_or(true),
                    allowed_ips: e.allowed_ips,
                };
                if access != AppAccess::default() {
                    config.access.insert(e.name.clone(), access);
                }
                App {
                    name: e.name,
                    secret: e.secret,
                    legacy: e.legacy,
                }
            })
            .collect();
        config.suites = self.suites;
        if let Some(secs) = self.token_lifetime_secs {
            config.token_lifetime = Duration::from_secs(secs);
        }
        if let Some(limit) = self.tag_limit {
            config.tag_limit = limit;
        }
        config.rate_limit_per_minute = self.rate_limit_per_minute.or(config.rate_limit_per_minute);
        config.concurrency_limit = self.concurrency_limit.or(config.concurrency_limit);
        if self.callback.is_some() {
            config.callback = self.callback;
        }
        if let Some(profile) = self.profile {
            config.profile = profile;
        }
    }
}

/// Read the apps file (YAML: `corp_id`, `apps: [{name, secret, legacy?, manage_tags?,
/// allowed_ips?}]`, `suites?`, limits).
pub fn load_apps(path: &Path) -> Result<AppsFile, EmulatorError> {
    let text = read_text(path)?;
    serde_saphyr::from_str(&text).map_err(|e| apps_format(path, &e))
}

/// The parser's error about the apps file at `path`.
pub(super) fn apps_format(path: &Path, e: &serde_saphyr::Error) -> EmulatorError {
    // The parser's rendering starts with its own `error: ` and calls the text
    // `<input>`: the message names the file instead.
    let shown = crate::sanitize::for_terminal(&path.display().to_string());
    let rendered = e.to_string();
    let detail = rendered
        .strip_prefix("error: ")
        .unwrap_or(&rendered)
        .replace("<input>", &shown);
    EmulatorError::AppsFormat {
        path: path.to_owned(),
        detail,
    }
}

/// The kinds of call the emulator answers (and can inject faults into): the calls of
/// [`wire`](crate::wire), one list for the client and the emulator.
pub use crate::wire::Call as CallKind;

/// Everything an emulator starts from.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub corp_id: String,
    pub apps: Vec<App>,
    pub seed: Vec<SeedGroup>,
    /// The corp's rule groups (from the seed file's `strategy`).
    pub rule_groups: Vec<crate::wire::RuleGroup>,
    pub token_lifetime: Duration,
    /// Most live corp tags (40126 past it).
    pub tag_limit: usize,
    /// Calls per app per minute before 45009; `None`: no limit.
    pub rate_limit_per_minute: Option<u32>,
    /// Calls of one app in flight at once before 45033; `None`: no limit.
    pub concurrency_limit: Option<usize>,
    pub faults: Faults,
    /// Permissions of apps, by app name; an app not listed may do everything.
    pub access: BTreeMap<String, AppAccess>,
    /// Third-party suites installed in the corp.
    pub suites: Vec<Suite>,
    /// Which behaviour to emulate where the vendor document is silent.
    pub profile: Profile,
    /// Change callbacks to send, if any.
    pub callback: Option<CallbackTarget>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            corp_id: "ww-test-corp".into(),
            apps: vec![App {
                name: "tagsync".into(),
                secret: "test-secret".into(),
                legacy: false,
            }],
            seed: Vec::new(),
            rule_groups: Vec::new(),
            token_lifetime: Duration::from_secs(7200),
            tag_limit: crate::wire::limit::CORP_TAGS,
            rate_limit_per_minute: None,
            concurrency_limit: None,
            faults: Faults::none(),
            access: BTreeMap::new(),
            suites: Vec::new(),
            profile: Profile::default(),
            callback: None,
        }
    }
}

impl EmulatorConfig {
    /// Checks that the apps are usable: names and secrets unique and non-empty, at most
    /// one legacy secret.
    pub fn validate_apps(&self) -> Result<(), EmulatorError> {
        let bad = |m: String| Err(EmulatorError::InvalidApps(m));
        if self.apps.is_empty() {
            return bad("no apps: give at least one {name, secret}".into());
        }
        for (i, a) in self.apps.iter().enumerate() {
            if a.name.is_empty() || a.secret.is_empty() {
                return bad(format!("app #{} has an empty name or secret", i + 1));
            }
            if self.apps[..i].iter().any(|b| b.name == a.name) {
                return bad(format!("app name {:?} is used twice", a.name));
            }
            if self.apps[..i].iter().any(|b| b.secret == a.secret) {
                return bad(format!("app {:?} reuses another app's secret", a.name));
            }
        }
        if self.apps.iter().filter(|a| a.legacy).count() > 1 {
            return bad("more than one legacy secret".into());
        }
        let known = |name: &str| self.apps.iter().any(|a| a.name == name);
        if let Some(name) = self.access.keys().find(|n| !known(n)) {
            return bad(format!("access is given for {name:?}, which is no app"));
        }
        for (i, s) in self.suites.iter().enumerate() {
            let fields = [
                &s.suite_id,
                &s.suite_secret,
                &s.suite_ticket,
                &s.permanent_code,
            ];
            if fields.iter().any(|f| f.is_empty()) {
                return bad(format!("suite #{} has an empty field", i + 1));
            }
            if !known(&s.app) {
                return bad(format!(
                    "suite {:?} gives tokens of {:?}, which is no app",
                    s.suite_id, s.app
                ));
            }
            if self.suites[..i].iter().any(|o| o.suite_id == s.suite_id) {
                return bad(format!("suite id {:?} is used twice", s.suite_id));
            }
            if self.suites[..i]
                .iter()
                .any(|o| o.permanent_code == s.permanent_code)
            {
                return bad(format!(
                    "suite {:?} reuses another suite's permanent code",
                    s.suite_id
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_debug_hides_secret() {
        let app = App {
            name: "a".into(),
            secret: "s3cr3t-value".into(),
            legacy: false,
        };
        assert!(!format!("{app:?}").contains("s3cr3t-value"));
        let cfg = EmulatorConfig {
            apps: vec![app],
            ..Default::default()
        };
        assert!(!format!("{cfg:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn apps_file_parses_yaml() {
        let f: AppsFile = serde_saphyr::from_str(
            "corp_id: ww1\napps:\n  - name: a\n    secret: x\n  - name: b\n    secret: y\n    legacy: true\n",
        )
        .unwrap();
        assert_eq!(f.corp_id, "ww1");
        assert_eq!(f.apps.len(), 2);
        assert!(f.apps[1].legacy && !f.apps[0].legacy);
    }

    #[test]
    fn seed_file_accepts_list_answer_with_owner() {
        let f: SeedFile = serde_json::from_str(
            r#"{"errcode":0,"errmsg":"ok","tag_group":[{"group_id":"g","group_name":"G","create_time":1,"order":2,"owner":"tagsync","tag":[{"id":"t","name":"T","create_time":1,"order":0}]}]}"#,
        )
        .unwrap();
        assert_eq!(f.tag_group[0].owner.as_deref(), Some("tagsync"));
        assert_eq!(f.tag_group[0].tag[0].owner, None);
    }

    #[test]
    fn duplicate_secrets_are_rejected() {
        let mut cfg = EmulatorConfig::default();
        cfg.apps.push(App {
            name: "other".into(),
            secret: "test-secret".into(),
            legacy: false,
        });
        assert!(cfg.validate_apps().is_err());
    }
}
