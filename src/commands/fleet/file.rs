//! The fleet file (`fleet.yaml`): the corps, each with its credentials by reference only
//! and the desired files it takes. Read like the desired-state file: a YAML tree with a
//! place on every value, every problem reported at once with `file:line:column`.
//!
//! The format, every key with an example, is in the README ("Fleet mode") and in
//! `tagsync fleet schema` (`schema.rs`).
//!
//! Paths are relative to the fleet file. A secret written in the file itself (`secret:`,
//! `permanent_code:`, …) is an error: the file is committed to git. The diagnostic never
//! shows the value (its line is shown with the value masked), nor does one of a key it
//! does not know, nor a variable name that is not one.
//!
//! Why one file: every key of every level (file, defaults, suite, corp) is read by the one
//! `Shaper`, which holds the problems, the values to mask and the names seen so far;
//! split, those internals would have to be opened to each sibling.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::desired::load::{options, parse_error};
use crate::desired::node::{Node, Value};
use crate::desired::{Diagnostic, Diagnostics, Pos};

/// The only fleet file version this build reads.
pub const VERSION: i128 = 1;
/// The most corps run at once.
pub const MAX_CONCURRENCY: usize = 256;
/// Largest fleet file read.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Where a secret is: the name of an environment variable, or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    File(PathBuf),
}

/// How a corp's token is obtained, by reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialRef {
    /// `gettoken` with the app's secret (a custom-developed app's: the permanent code).
    Secret(SecretRef),
    /// A third-party app: the suite's token, then the corp's with its permanent code.
    Suite {
        suite_id: String,
        suite_secret: SecretRef,
        suite_ticket: SecretRef,
        permanent_code: SecretRef,
    },
}

/// One corp of the fleet.
#[derive(Debug, Clone)]
pub struct FleetCorp {
    pub id: String,
    pub corp_id: String,
    pub credentials: CredentialRef,
    /// The desired files, merged in order (the defaults' first), resolved against the
    /// fleet file's directory.
    pub files: Vec<PathBuf>,
    pub api_base: Option<String>,
    pub allow_delete: Option<usize>,
    /// Where the corp is written in the fleet file, for messages.
    pub pos: Pos,
}

/// A checked fleet file.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub path: PathBuf,
    pub concurrency: Option<usize>,
    pub corps: Vec<FleetCorp>,
}

/// Keys that would hold a secret in the file itself, and the key to write instead.
const LITERAL_SECRETS: &[(&str, &str)] = &[
    ("secret", "secret_env"),
    ("corp_secret", "secret_env"),
    ("corpsecret", "secret_env"),
    ("permanent_code", "permanent_code_env"),
    ("suite_secret", "secret_env"),
    ("suite_ticket", "ticket_env"),
    ("ticket", "ticket_env"),
    ("access_token", "secret_env"),
    ("token", "secret_env"),
    ("password", "secret_env"),
];

const FILE_KEYS: &[&str] = &["version", "defaults", "corps"];
const DEFAULT_KEYS: &[&str] = &["concurrency", "api_base", "files", "suite"];
const CORP_KEYS: &[&str] = &[
    "id",
    "corp_id",
    "secret_env",
    "secret_file",
    "permanent_code_env",
    "permanent_code_file",
    "suite",
    "files",
    "api_base",
    "allow_delete",
];
const SUITE_KEYS: &[&str] = &[
    "suite_id",
    "secret_env",
    "secret_file",
    "ticket_env",
    "ticket_file",
];

/// Read and check the fleet file at `path`.
pub fn load(path: &Path) -> Result<Fleet, Diagnostics> {
    let name = path.display().to_string();
    let bytes = crate::safe_read::read(path, MAX_FILE_BYTES).map_err(|e| {
        let d = Diagnostic::new(
            format!("cannot read the fleet file {name}: {e}"),
            Pos::NONE,
            "pass -f FILE: a readable fleet file (see README, \"Fleet mode\")",
        );
        Diagnostics::new(&name, "", vec![d])
    })?;
    let src = String::from_utf8_lossy(&bytes);
    let src = src.strip_prefix('\u{FEFF}').unwrap_or(&src);
    let root: Node = serde_saphyr::from_str_with_options(src, options())
        .map_err(|e| Diagnostics::new(&name, src, vec![parse_error(&e, src)]))?;
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut s = Shaper {
        problems: Vec::new(),
        masked: Vec::new(),
        named: Vec::new(),
    };
    let fleet = s.file(&root, &dir);
    if s.problems.is_empty() {
        return Ok(Fleet {
            path: path.to_path_buf(),
            ..fleet
        });
    }
    Err(Diagnostics::new(&name, &mask(src, &s.masked), s.problems))
}

/// `src` with the value after each masked key replaced by `***` (line, column of key),
/// and every line nested under it (more indented, as a block value is) too.
fn mask(src: &str, masked: &[Masked]) -> String {
    let mut under: Option<usize> = None;
    src.lines()
        .enumerate()
        .map(|(i, line)| {
            let indent = line.chars().take_while(|c| *c == ' ').count();
            if under.is_some_and(|u| indent > u || line.trim().is_empty()) {
                return format!("{}***", " ".repeat(indent));
            }
            under = None;
            match masked.iter().find(|m| m.line == i + 1) {
                Some(m) if m.value => {
                    let start: String = line.chars().take(m.column - 1).collect();
                    format!("{start}***")
                }
                Some(m) => {
                    let start: String = line.chars().take(m.column - 1).collect();
                    let key: String = line
                        .chars()
                        .skip(m.column - 1)
                        .take_while(|c| *c != ':')
                        .collect();
                    under = Some(m.column - 1);
                    format!("{start}{key}: ***")
                }
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A place whose value a diagnostic must not show.
struct Masked {
    line: usize,
    column: usize,
    /// `column` is where the value starts (else where its key does).
    value: bool,
}

struct Shaper {
    problems: Vec<Diagnostic>,
    /// Values that may be secrets written in the file.
    masked: Vec<Masked>,
    /// Each corp's label and corp id, and where it is.
    named: Vec<([Option<String>; 2], Pos)>,
}

/// What `defaults:` gives every corp.
#[derive(Default)]
struct Defaults {
    concurrency: Option<usize>,
    api_base: Option<String>,
    files: Vec<PathBuf>,
    suite: Option<Suite>,
}

#[derive(Clone)]
struct Suite {
    suite_id: String,
    secret: SecretRef,
    ticket: SecretRef,
}

fn at(node: &Node) -> Pos {
    let mut pos = node.pos;
    pos.len = pos.len.max(1);
    pos
}

impl Shaper {
    fn error(&mut self, pos: Pos, message: String, help: &str) {
        self.problems.push(Diagnostic::new(message, pos, help));
    }

    fn type_error(&mut self, node: &Node, what: &str, expected: &str) {
        self.problems.push(
            Diagnostic::new(
                format!("{what} must be {expected}, found {}", node.value.kind()),
                at(node),
                format!("write {what} as {expected}"),
            )
            .label("here"),
        );
    }

    /// The known keys of a map (`None`: not a map, reported); unknown, repeated and
    /// literal-secret keys are reported.
    fn map<'n>(
        &mut self,
        node: &'n Node,
        known: &[&str],
        what: &str,
    ) -> Option<Vec<Option<&'n Node>>> {
        let Value::Map(pairs) = &node.value else {
            self.type_error(node, what, "a map");
            return None;
        };
        let mut values = vec![None; known.len()];
        let mut seen: HashMap<String, Pos> = HashMap::new();
        for (key, value) in pairs {
            let Value::Str(word) = &key.value else {
                self.type_error(key, "a key", "text");
                continue;
            };
            if let Some(first) = seen.get(word) {
                self.problems.push(
                    Diagnostic::new(
                        format!("duplicate key `{word}`"),
                        at(key),
                        "remove one of the two entries with this key",
                    )
                    .label("repeated here")
                    .note(*first, "first here"),
                );
                continue;
            }
            seen.insert(word.clone(), at(key));
            if let Some(i) = known.iter().position(|k| k == word) {
                values[i] = Some(value);
            } else if let Some((_, instead)) = LITERAL_SECRETS.iter().find(|(k, _)| k == word) {
                self.masked.push(Masked {
                    line: key.pos.line,
                    column: key.pos.column,
                    value: false,
                });
                self.problems.push(
                    Diagnostic::new(
                        format!("`{word}` would put a secret in the fleet file, which is committed to git"),
                        at(key),
                        format!(
                            "put the secret in an environment variable and name it, `{instead}: NAME`, \
                             or in a file outside the repository, `{}: PATH`",
                            instead.replace("_env", "_file")
                        ),
                    )
                    .label("a secret written here (not shown)"),
                );
            } else {
                // An unknown key's value is never shown: it may be a secret under a name
                // this list does not know (`app_secret:`, `credentials: {…}`).
                self.masked.push(Masked {
                    line: key.pos.line,
                    column: key.pos.column,
                    value: false,
                });
                let list = known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.problems.push(
                    Diagnostic::new(
                        format!("unknown key `{word}` in {what}"),
                        at(key),
                        format!("the keys allowed in {what} are {list}"),
                    )
                    .label("unknown key"),
                );
            }
        }
        Some(values)
    }

    fn text(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Str(_) => {
                self.error(at(node), format!("{what} is empty"), "write a value");
                None
            }
            _ => {
                self.type_error(node, what, "text");
                None
            }
        }
    }

    fn number(&mut self, node: &Node, what: &str, min: i128, max: i128) -> Option<usize> {
        match node.value {
            Value::Int(i) if (min..=max).contains(&i) => usize::try_from(i).ok(),
            _ => {
                self.type_error(node, what, &format!("a whole number from {min} to {max}"));
                None
            }
        }
    }

    fn files(&mut self, node: &Node, dir: &Path) -> Vec<PathBuf> {
        let Value::Seq(items) = &node.value else {
            self.type_error(node, "`files`", "a list of paths");
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|n| self.text(n, "a file"))
            .map(|f| dir.join(f))
            .collect()
    }

    /// An environment variable's name: upper-case letters, digits and `_` (the portable
    /// form). Anything else may be the secret itself written in its place, so it is
    /// refused without being shown, here or later.
    fn env_name(&mut self, node: &Node, what: &str) -> Option<String> {
        let name = match &node.value {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            _ => String::new(),
        };
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            self.masked.push(Masked {
                line: node.pos.line,
                column: node.pos.column.max(1),
                value: true,
            });
            self.error(
                at(node),
                format!(
                    "{what} must name an environment variable (A-Z, 0-9, `_`); the value is not shown, in case it is the secret"
                ),
                "write the variable's name (e.g. `ACME_SECRET`), not its value",
            );
            return None;
        }
        Some(name)
    }

    /// One of `{prefix}_env` / `{prefix}_file` at `env`, `file` of `values`: exactly one.
    fn secret_ref(
        &mut self,
        values: &[Option<&Node>],
        (env, file): (usize, usize),
        prefix: &str,
        dir: &Path,
    ) -> Option<Option<SecretRef>> {
        match (values[env], values[file]) {
            (Some(e), Some(_)) => {
                self.error(
                    at(e),
                    format!("both `{prefix}_env` and `{prefix}_file` are given"),
                    "give one of them",
                );
                None
            }
            (Some(e), None) => {
                let name = self.env_name(e, &format!("`{prefix}_env`"))?;
                Some(Some(SecretRef::Env(name)))
            }
            (None, Some(f)) => {
                let path = self.text(f, &format!("`{prefix}_file`"))?;
                Some(Some(SecretRef::File(dir.join(path))))
            }
            (None, None) => Some(None),
        }
    }

    fn suite(&mut self, node: &Node, dir: &Path) -> Option<Suite> {
        let v = self.map(node, SUITE_KEYS, "a suite")?;
        let suite_id = match v[0] {
            Some(n) => self.text(n, "`suite_id`"),
            None => {
                self.error(
                    at(node),
                    "this suite has no `suite_id`".into(),
                    "add `suite_id:`",
                );
                None
            }
        };
        let secret = self.secret_ref(&v, (1, 2), "secret", dir);
        let ticket = self.secret_ref(&v, (3, 4), "ticket", dir);
        let (Some(suite_id), Some(secret), Some(ticket)) = (suite_id, secret, ticket) else {
            return None;
        };
        match (secret, ticket) {
            (Some(secret), Some(ticket)) => Some(Suite {
                suite_id,
                secret,
                ticket,
            }),
            _ => {
                self.error(
                    at(node),
                    "a suite needs its secret (`secret_env` or `secret_file`) and its ticket (`ticket_env` or `ticket_file`)".into(),
                    "name where the suite secret and the latest suite ticket are",
                );
                None
            }
        }
    }

    fn file(&mut self, root: &Node, dir: &Path) -> Fleet {
        let empty = Fleet {
            path: PathBuf::new(),
            concurrency: None,
            corps: Vec::new(),
        };
        let Some(v) = self.map(root, FILE_KEYS, "the fleet file") else {
            return empty;
        };
        match v[0] {
            None => self.error(Pos::START, "missing `version`".into(), "add `version: 1`"),
            Some(n) if !matches!(n.value, Value::Int(VERSION)) => self.error(
                at(n),
                "unknown fleet file version".into(),
                "this tagsync reads `version: 1`",
            ),
            Some(_) => {}
        }
        let defaults = v[1].map(|n| self.defaults(n, dir)).unwrap_or_default();
        let corps = match v[2] {
            None => {
                self.error(
                    Pos::START,
                    "missing `corps`".into(),
                    "list the corps, one `- id: …` item each",
                );
                Vec::new()
            }
            Some(n) => match &n.value {
                Value::Seq(items) if !items.is_empty() => items
                    .iter()
                    .filter_map(|c| self.corp(c, &defaults, dir))
                    .collect(),
                Value::Seq(_) => {
                    self.error(at(n), "`corps` is empty".into(), "list at least one corp");
                    Vec::new()
                }
                _ => {
                    self.type_error(n, "`corps`", "a list");
                    Vec::new()
                }
            },
        };
        self.unique();
        Fleet {
            concurrency: defaults.concurrency,
            corps,
            ..empty
        }
    }

    fn defaults(&mut self, node: &Node, dir: &Path) -> Defaults {
        let Some(v) = self.map(node, DEFAULT_KEYS, "`defaults`") else {
            return Defaults::default();
        };
        let max = MAX_CONCURRENCY as i128;
        Defaults {
            concurrency: v[0].and_then(|n| self.number(n, "`concurrency`", 1, max)),
            api_base: v[1].and_then(|n| self.api_base(n)),
            files: v[2].map(|n| self.files(n, dir)).unwrap_or_default(),
            suite: v[3].and_then(|n| self.suite(n, dir)),
        }
    }

    fn api_base(&mut self, node: &Node) -> Option<String> {
        let base = self.text(node, "`api_base`")?;
        match crate::remote::parse_api_base(&base) {
            Ok(_) => Some(base),
            Err(e) => {
                let message = crate::sanitize::for_terminal(&e.to_string());
                self.error(
                    at(node),
                    message,
                    "an https URL (plain http only on loopback)",
                );
                None
            }
        }
    }

    fn corp(&mut self, node: &Node, defaults: &Defaults, dir: &Path) -> Option<FleetCorp> {
        let literals = self.masked.len();
        let v = self.map(node, CORP_KEYS, "a corp")?;
        // A secret written in the corp is reported already: no "no credentials" too.
        let literal_secret = self.masked.len() > literals;
        let required = |i: usize, key: &str, s: &mut Self| match v[i] {
            Some(n) => s.text(n, &format!("`{key}`")),
            None => {
                s.error(
                    at(node),
                    format!("this corp has no `{key}`"),
                    &format!("add `{key}:` to the corp"),
                );
                None
            }
        };
        let id = required(0, "id", self);
        let corp_id = required(1, "corp_id", self);
        self.named.push(([id.clone(), corp_id.clone()], at(node)));
        if let (Some(id), Some(n)) = (&id, v[0])
            && !valid_id(id)
        {
            self.error(
                at(n),
                format!("the corp id label `{id}` is not 1 to 64 letters, digits, `-`, `_` or `.`"),
                "the label names the corp in output and sharding: keep it short and plain",
            );
        }
        let secret = self.secret_ref(&v, (2, 3), "secret", dir);
        let code = self.secret_ref(&v, (4, 5), "permanent_code", dir);
        let suite = match v[6] {
            Some(n) => self.suite(n, dir),
            None => defaults.suite.clone(),
        };
        let credentials = match (secret, code) {
            (Some(Some(secret)), Some(None)) => Some(CredentialRef::Secret(secret)),
            (Some(None), Some(Some(code))) => match suite {
                Some(s) => Some(CredentialRef::Suite {
                    suite_id: s.suite_id,
                    suite_secret: s.secret,
                    suite_ticket: s.ticket,
                    permanent_code: code,
                }),
                None => {
                    self.error(
                        at(node),
                        "a permanent code needs a suite (`suite:` in the corp or in `defaults`)"
                            .into(),
                        "a third-party app's corps share its suite: give it once under `defaults`",
                    );
                    None
                }
            },
            (Some(Some(_)), Some(Some(_))) => {
                self.error(
                    at(node),
                    "this corp gives both a secret and a permanent code".into(),
                    "a custom-developed app's permanent code is its secret (`secret_env`); a third-party app's goes with a suite (`permanent_code_env`)",
                );
                None
            }
            (Some(None), Some(None)) if literal_secret => None,
            (Some(None), Some(None)) => {
                self.error(
                    at(node),
                    "this corp has no credentials".into(),
                    "name where its secret is: `secret_env: NAME` or `secret_file: PATH` (or, for a third-party app, `permanent_code_env`)",
                );
                None
            }
            _ => None,
        };
        let mut files = defaults.files.clone();
        files.extend(v[7].map(|n| self.files(n, dir)).unwrap_or_default());
        if files.is_empty() {
            self.error(
                at(node),
                "this corp takes no desired files".into(),
                "give `files:` in the corp or in `defaults`",
            );
        }
        let api_base = match v[8] {
            Some(n) => self.api_base(n),
            None => defaults.api_base.clone(),
        };
        let allow_delete = v[9].and_then(|n| self.number(n, "`allow_delete`", 0, 10_000));
        Some(FleetCorp {
            id: id?,
            corp_id: corp_id?,
            credentials: credentials?,
            files,
            api_base,
            allow_delete,
            pos: at(node),
        })
    }

    /// Labels and corp ids each used once (among every corp written, valid or not).
    fn unique(&mut self) {
        let keys = [
            (
                "the label `{}` is used by two corps",
                "give each corp its own `id`",
            ),
            (
                "the corp `{}` is listed twice",
                "list each corp once: its ledger and lock are its own",
            ),
        ];
        for (k, (message, help)) in keys.into_iter().enumerate() {
            // Corp ids by the ledger file each gets (`ww.d` and `ww_d` would share one).
            let key = |name: &str| match k {
                0 => name.to_owned(),
                _ => crate::ledger::Ledger::default_path(Path::new("fleet.yaml"), name)
                    .display()
                    .to_string(),
            };
            let mut seen: HashMap<String, (&str, Pos)> = HashMap::new();
            for (names, pos) in &self.named {
                let Some(name) = names[k].as_deref() else {
                    continue;
                };
                if let Some((other, first)) = seen.insert(key(name), (name, *pos)) {
                    let message = if other == name {
                        message.replace("{}", name)
                    } else {
                        format!("the corps `{other}` and `{name}` would share one ledger file")
                    };
                    self.problems.push(
                        Diagnostic::new(message, *pos, help)
                            .label("again here")
                            .note(first, "first here"),
                    );
                }
            }
        }
    }
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}
