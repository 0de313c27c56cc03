//! Who tagsync is when it talks to WeCom: credentials read from the environment.
//!
//! Environment variables (credentials come from the environment only, never from a file in git):
//!
//! | variable | app kind | meaning |
//! |---|---|---|
//! | `WECOM_CORP_ID` | all | the corp id (for a third-party app: the authorising corp) |
//! | `WECOM_CORP_SECRET` | self-built, custom-developed | the app secret (custom-developed: the permanent code); `--secret-file` replaces it |
//! | `WECOM_SUITE_ID` | third-party | the suite id; when set, the third-party flow is used |
//! | `WECOM_SUITE_SECRET` | third-party | the suite secret |
//! | `WECOM_SUITE_TICKET` | third-party | the latest suite ticket pushed by WeCom |
//! | `WECOM_PERMANENT_CODE` | third-party | the authorising corp's permanent code |
//!
//! Secret values live in [`Secret`], whose `Debug` and `Display` print `***`.

use std::fmt;
use std::path::Path;

use super::error::ClientError;

pub const ENV_CORP_ID: &str = "WECOM_CORP_ID";
pub const ENV_CORP_SECRET: &str = "WECOM_CORP_SECRET";
pub const ENV_SUITE_ID: &str = "WECOM_SUITE_ID";
pub const ENV_SUITE_SECRET: &str = "WECOM_SUITE_SECRET";
pub const ENV_SUITE_TICKET: &str = "WECOM_SUITE_TICKET";
pub const ENV_PERMANENT_CODE: &str = "WECOM_PERMANENT_CODE";

/// A secret string. It prints as `***` in `Debug` and `Display`; read it with
/// [`Secret::expose`] only where it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself. Use only to build a request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the client obtains an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Self-built or custom-developed app: `gettoken?corpid=…&corpsecret=…`.
    Corp { corp_id: String, secret: Secret },
    /// Third-party app: `get_suite_token`, then `get_corp_token`.
    Suite {
        suite_id: String,
        suite_secret: Secret,
        suite_ticket: Secret,
        auth_corp_id: String,
        permanent_code: Secret,
    },
}

impl Credentials {
    /// Read credentials from the process environment; `secret_file` replaces
    /// `WECOM_CORP_SECRET`.
    pub fn from_env(secret_file: Option<&Path>) -> Result<Self, ClientError> {
        Self::from_lookup(|name| std::env::var(name).ok(), secret_file)
    }

    /// Like [`Credentials::from_env`] with an explicit variable lookup (for tests and
    /// embedding).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        secret_file: Option<&Path>,
    ) -> Result<Self, ClientError> {
        // Trimmed: a value pasted into a CI secret often ends in a newline, which is never
        // part of a WeCom id or secret (sent as is, it is refused as a wrong secret).
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        // Every variable missing is named at once, not one per run.
        let missing = std::cell::RefCell::new(Vec::new());
        let require = |name: &str, what: &str| {
            get(name).unwrap_or_else(|| {
                missing
                    .borrow_mut()
                    .push((name.to_string(), what.to_string()));
                String::new()
            })
        };
        let corp_id = require(ENV_CORP_ID, "the corp id (企业ID)");
        let credentials = if let Some(suite_id) = get(ENV_SUITE_ID) {
            Credentials::Suite {
                suite_id,
                suite_secret: Secret(require(ENV_SUITE_SECRET, "the suite secret")),
                suite_ticket: Secret(require(ENV_SUITE_TICKET, "the latest suite ticket")),
                auth_corp_id: corp_id,
                permanent_code: Secret(require(
                    ENV_PERMANENT_CODE,
                    "the authorising corp's permanent code",
                )),
            }
        } else {
            let secret = match secret_file {
                Some(path) => read_secret_file(path)?,
                None => Secret(require(
                    ENV_CORP_SECRET,
                    "the app secret (or pass --secret-file)",
                )),
            };
            Credentials::Corp { corp_id, secret }
        };
        let missing = missing.into_inner();
        let message = match missing.as_slice() {
            [] => return Ok(credentials),
            [(name, what)] => format!("{name} is not set: it must hold {what}"),
            all => format!(
                "{} are not set: {}",
                all.iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(" and "),
                all.iter()
                    .map(|(n, w)| format!("{n} must hold {w}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        Err(ClientError::Config { message })
    }

    /// Every secret value, for redaction.
    pub(crate) fn secrets(&self) -> Vec<&Secret> {
        match self {
            Credentials::Corp { secret, .. } => vec![secret],
            Credentials::Suite {
                suite_secret,
                suite_ticket,
                permanent_code,
                ..
            } => vec![suite_secret, suite_ticket, permanent_code],
        }
    }
}

/// The first line of the file, trimmed. The file's content never appears in an error.
fn read_secret_file(path: &Path) -> Result<Secret, ClientError> {
    let text =
        crate::safe_read::read_to_string(path, crate::safe_read::SECRET_FILE_MAX).map_err(|e| {
            ClientError::Config {
                message: format!("cannot read the secret file {}: {e}", path.display()),
            }
        })?;
    let secret = text.lines().next().unwrap_or("").trim();
    if secret.is_empty() {
        return Err(ClientError::Config {
            message: format!(
                "the secret file {} is empty: its first line must hold the app secret",
                path.display()
            ),
        });
    }
    Ok(Secret(secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let c = Credentials::Corp {
            corp_id: "ww1".into(),
            secret: s,
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn every_missing_variable_is_named_at_once() {
        let message = |pairs: &[(&str, &str)]| match Credentials::from_lookup(lookup(pairs), None) {
            Err(ClientError::Config { message }) => message,
            other => panic!("{other:?}"),
        };
        let both = message(&[]);
        assert!(
            both.starts_with("WECOM_CORP_ID and WECOM_CORP_SECRET are not set"),
            "{both}"
        );
        assert!(
            both.contains("WECOM_CORP_SECRET must hold the app secret"),
            "{both}"
        );
        let one = message(&[(ENV_CORP_ID, "ww1")]);
        assert!(one.starts_with("WECOM_CORP_SECRET is not set"), "{one}");
        let suite = message(&[(ENV_SUITE_ID, "s1")]);
        for name in [
            ENV_CORP_ID,
            ENV_SUITE_SECRET,
            ENV_SUITE_TICKET,
            ENV_PERMANENT_CODE,
        ] {
            assert!(suite.contains(name), "{suite}");
        }
    }

    #[test]
    fn corp_credentials_from_env_trimmed_as_a_pasted_ci_secret_needs() {
        for (id, secret) in [("ww1", "sek"), (" ww1\n", "sek\r\n")] {
            let c = Credentials::from_lookup(
                lookup(&[(ENV_CORP_ID, id), (ENV_CORP_SECRET, secret)]),
                None,
            )
            .unwrap();
            assert_eq!(
                c,
                Credentials::Corp {
                    corp_id: "ww1".into(),
                    secret: Secret::new("sek")
                },
                "{id:?} {secret:?}"
            );
        }
    }

    #[test]
    fn missing_secret_names_the_variable() {
        let e = Credentials::from_lookup(lookup(&[(ENV_CORP_ID, "ww1")]), None).unwrap_err();
        assert!(e.to_string().contains(ENV_CORP_SECRET), "{e}");
        let e = Credentials::from_lookup(lookup(&[(ENV_CORP_SECRET, "s")]), None).unwrap_err();
        assert!(e.to_string().contains(ENV_CORP_ID), "{e}");
    }

    #[test]
    fn secret_file_replaces_env_and_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "from-file \n").unwrap();
        let c = Credentials::from_lookup(
            lookup(&[(ENV_CORP_ID, "ww1"), (ENV_CORP_SECRET, "from-env")]),
            Some(&path),
        )
        .unwrap();
        assert_eq!(c.secrets()[0].expose(), "from-file");

        std::fs::write(&path, "\n").unwrap();
        let e = Credentials::from_lookup(lookup(&[(ENV_CORP_ID, "ww1")]), Some(&path)).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }

    #[test]
    fn suite_credentials_need_all_four() {
        let full = [
            (ENV_CORP_ID, "ww1"),
            (ENV_SUITE_ID, "suite"),
            (ENV_SUITE_SECRET, "ss"),
            (ENV_SUITE_TICKET, "tk"),
            (ENV_PERMANENT_CODE, "pc"),
        ];
        let c = Credentials::from_lookup(lookup(&full), None).unwrap();
        assert!(matches!(c, Credentials::Suite { .. }));
        assert_eq!(c.secrets().len(), 3);
        let e = Credentials::from_lookup(lookup(&full[..4]), None).unwrap_err();
        assert!(e.to_string().contains(ENV_PERMANENT_CODE), "{e}");
    }
}
