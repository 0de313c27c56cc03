//! The client's error type: which call failed, the vendor's code and message, what to do,
//! and a classification the apply layer branches on.
//!
//! No variant holds a URL, a token or a secret: transport errors are stored as text taken
//! from `reqwest::Error::without_url()` and passed through the client's redactor.

use std::time::Duration;

use crate::sanitize::for_terminal;
use crate::wire::errcode;

pub use crate::wire::Call;

/// What kind of failure, for the caller to decide what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Transient (busy, version conflict, frequency/concurrency limit, 5xx, timeout,
    /// dropped connection). The client already retried; the caller may rerun later.
    Retryable,
    /// The access token or the secret behind it was refused.
    Token,
    /// The item was not created by this app (60011, 301002).
    Ownership,
    /// The app or this machine may not call the API (48002, 60020).
    Permission,
    /// The corp's tag limit is reached (40126).
    Limit,
    /// WeCom refused the request itself (40058, 40068, 40071, …).
    InvalidRequest,
    /// The answer was lost after the request was sent: the change may have been made.
    /// The client did not resend it; re-read and continue from what is there.
    Ambiguous,
    /// Bad configuration (credentials, API base): nothing was sent.
    Config,
    /// Anything else: an unexpected answer or an unknown code.
    Fatal,
}

/// Classify a WeCom errcode.
pub fn classify(code: i64) -> ErrorKind {
    match code {
        errcode::SYSTEM_BUSY
        | errcode::DATA_VERSION_CONFLICT
        | errcode::FREQUENCY_LIMIT
        | errcode::CONCURRENCY_LIMIT => ErrorKind::Retryable,
        errcode::INVALID_SECRET
        | errcode::INVALID_ACCESS_TOKEN
        | errcode::ACCESS_TOKEN_EXPIRED
        | errcode::MISSING_ACCESS_TOKEN
        | errcode::INVALID_SUITE_TOKEN
        | errcode::INVALID_PERMANENT_CODE
        | errcode::INVALID_SUITE_TICKET
        | errcode::INVALID_SUITE_ID
        | errcode::SUITE_TOKEN_EXPIRED => ErrorKind::Token,
        errcode::NO_PRIVILEGE | errcode::NO_PRIVILEGE_ALT => ErrorKind::Ownership,
        errcode::API_NOT_PERMITTED | errcode::IP_NOT_TRUSTED => ErrorKind::Permission,
        errcode::TAG_LIMIT => ErrorKind::Limit,
        errcode::INVALID_PARAMETER | errcode::INVALID_TAG_ID | errcode::TAG_NAME_EXISTS => {
            ErrorKind::InvalidRequest
        }
        _ => ErrorKind::Fatal,
    }
}

/// What the user can do about a WeCom errcode answered to `call` (a bad secret means the
/// suite secret when the suite token was asked for).
pub fn hint_for(call: Call, code: i64) -> &'static str {
    match (call, code) {
        (Call::Add | Call::StrategyAdd, errcode::NO_PRIVILEGE | errcode::NO_PRIVILEGE_ALT) => {
            "WeCom refused to add tags into a group this app did not create (the admin \
             console's or another app's): add them in the admin console, or mark the group \
             `managed: false` in the file (docs/emulator-fidelity.md: adds into foreign groups)"
        }
        (
            Call::StrategyList
            | Call::StrategyAdd
            | Call::StrategyEdit
            | Call::StrategyDelete
            | Call::RuleGroups
            | Call::RuleGroup,
            errcode::API_NOT_PERMITTED,
        ) => {
            "this secret may not call the rule-group (客户联系规则组) APIs: since 2023-12-01 the \
             客户联系 system secret may not, and a self-built app needs 客户联系 permission; use \
             such an app's secret, or remove `strategies:` from the file to manage corp tags only"
        }
        (Call::GetSuiteToken, errcode::INVALID_SECRET) => {
            "the suite secret is wrong: check WECOM_SUITE_SECRET. Do not retry in a loop: \
             repeated bad secrets get this IP banned for an hour"
        }
        _ => hint(code),
    }
}

/// What the user can do about a WeCom errcode.
pub fn hint(code: i64) -> &'static str {
    match code {
        errcode::SYSTEM_BUSY => "WeCom is busy; run tagsync again in a few minutes",
        errcode::DATA_VERSION_CONFLICT => {
            "someone else changed the corp's tags at the same time; run tagsync again"
        }
        errcode::INVALID_SECRET => {
            "the corp id or secret is wrong: check WECOM_CORP_ID and WECOM_CORP_SECRET \
             (or --secret-file). Do not retry in a loop: repeated bad secrets get this IP \
             banned for an hour"
        }
        errcode::INVALID_ACCESS_TOKEN | errcode::ACCESS_TOKEN_EXPIRED => {
            "the access token was refused even after a refresh; run tagsync again, and if it \
             persists check that the credentials belong to this corp"
        }
        errcode::MISSING_ACCESS_TOKEN => "the request carried no access token; this is a bug",
        errcode::INVALID_CORPID => {
            "the corp id is wrong: check WECOM_CORP_ID (the 企业ID on the admin console's \
             我的企业 page, starting with `ww`)"
        }
        errcode::INVALID_SUITE_ID => "the suite id is wrong: check WECOM_SUITE_ID",
        errcode::INVALID_SUITE_TICKET => {
            "the suite ticket is wrong or stale: WeCom pushes a new one to the suite's callback \
             every ten minutes; put the latest in WECOM_SUITE_TICKET"
        }
        errcode::INVALID_PERMANENT_CODE => {
            "the permanent code does not belong to this suite and corp: check \
             WECOM_PERMANENT_CODE and WECOM_CORP_ID (the authorising corp)"
        }
        errcode::INVALID_SUITE_TOKEN | errcode::SUITE_TOKEN_EXPIRED => {
            "the suite access token was refused; run tagsync again"
        }
        errcode::INVALID_PARAMETER => {
            "WeCom refused a parameter (too long a name, or a missing field); \
             run `tagsync validate`"
        }
        errcode::INVALID_TAG_ID => {
            "a tag or group id does not exist (changed since it was read?); \
             run `tagsync plan` again"
        }
        errcode::TAG_NAME_EXISTS => {
            "a tag or group of that name already exists; run `tagsync plan` again"
        }
        errcode::TAG_LIMIT => {
            "the corp holds the most tags it may (corp tags and rule-group tags share the \
             quota, other apps' rule-group tags too, which this app cannot see): delete unused \
             tags first; if the corp's limit is below the plan's `--tag-limit` (default 10000; \
             some older corps have 3000), plan again with the right `--tag-limit` so that the \
             plan's own deletes run before its adds"
        }
        errcode::FREQUENCY_LIMIT => {
            "WeCom's frequency limit was hit; wait a minute and run again, or lower the rate"
        }
        errcode::CONCURRENCY_LIMIT => {
            "too many calls at once; lower the concurrency (--parallelism)"
        }
        errcode::API_NOT_PERMITTED => {
            "this app may not call the customer tag API: in the admin console list it under \
             客户联系 → 可调用接口的应用 (or grant it \"manage corp customer tags\")"
        }
        errcode::NO_PRIVILEGE | errcode::NO_PRIVILEGE_ALT => {
            "this app did not create the item, so WeCom lets it neither edit nor delete it; \
             change it in the admin console or leave it unmanaged (if `tagsync adopt` recorded \
             it by mistake, `tagsync disown ID` undoes that)"
        }
        errcode::IP_NOT_TRUSTED => {
            "this machine's IP is not in the app's trusted-IP list (企业可信IP); \
             add it in the admin console"
        }
        _ => {
            "see WeCom's global error code page \
             (https://developer.work.weixin.qq.com/document/path/90313)"
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// WeCom answered with a nonzero errcode. `errmsg` is the vendor's text as received;
    /// the message shows it sanitised for a terminal.
    #[error("{call}: WeCom error {errcode} ({}): {}", for_terminal(errmsg), hint_for(*call, *errcode))]
    Api {
        call: Call,
        errcode: i64,
        errmsg: String,
    },
    /// The request failed in transport (connect, timeout, reset); no answer was read.
    #[error(
        "{call}: {detail}; check the network and the API base (--api-base or WECOM_API_BASE), \
         then run again"
    )]
    Transport {
        call: Call,
        detail: String,
        /// True when the request may have reached the server (it was sent).
        sent: bool,
    },
    /// A non-2xx HTTP status.
    #[error("{call}: HTTP status {status} from the server{}", status_hint(*status))]
    Http { call: Call, status: u16 },
    /// The answer could not be read as the expected JSON.
    #[error(
        "{call}: the answer is not what WeCom sends ({detail}); does the API base \
         (--api-base or WECOM_API_BASE) point at WeCom?"
    )]
    Decode {
        call: Call,
        detail: String,
        /// True when the body was cut short (a lost answer, not a wrong one).
        truncated: bool,
    },
    /// The answer to a change was lost: the change may have been made. Not resent.
    #[error(
        "{call}: the answer was lost ({detail}); the change may have been made, so it was \
         not resent: re-read the corp and continue from what is there"
    )]
    Ambiguous { call: Call, detail: String },
    /// Retries ran out; `last` is the final failure.
    #[error("{last} [gave up after {attempts} attempts in {:.1}s]", elapsed.as_secs_f64())]
    GaveUp {
        attempts: u32,
        elapsed: Duration,
        last: Box<ClientError>,
    },
    /// A request refused before sending: WeCom would reject it.
    #[error("{call} not sent: {reason}")]
    NotSent { call: Call, reason: String },
    /// Bad configuration: nothing was sent.
    #[error("{message}")]
    Config { message: String },
}

fn status_hint(status: u16) -> &'static str {
    if status >= 500 {
        ": the server or a proxy failed; run again later"
    } else {
        ": does the API base (--api-base or WECOM_API_BASE) point at WeCom? It ends before \
         /cgi-bin/, e.g. https://qyapi.weixin.qq.com"
    }
}

impl ClientError {
    /// What went wrong without the advice (for the log line of a retry, where advice to
    /// run again would mislead: tagsync is already retrying).
    pub fn what(&self) -> String {
        match self {
            ClientError::Api {
                call,
                errcode,
                errmsg,
            } => format!("{call}: WeCom error {errcode} ({})", for_terminal(errmsg)),
            ClientError::Transport { call, detail, .. } => format!("{call}: {detail}"),
            ClientError::Http { call, status } => format!("{call}: HTTP status {status}"),
            other => other.to_string(),
        }
    }

    /// Whether the server could not be reached at all, after the retries: a transport
    /// failure (refused, reset, timed out) or retries that gave up on one. Not an answer
    /// WeCom gave (an errcode, an HTTP status), and not a lost answer.
    pub fn unreachable(&self) -> bool {
        match self {
            ClientError::Transport { .. } => true,
            ClientError::GaveUp { last, .. } => last.unreachable(),
            _ => false,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::Api { errcode, .. } => classify(*errcode),
            ClientError::Transport { .. } => ErrorKind::Retryable,
            ClientError::Http { status, .. } if *status >= 500 => ErrorKind::Retryable,
            ClientError::Http { .. } => ErrorKind::Fatal,
            ClientError::Decode { truncated, .. } => {
                if *truncated {
                    ErrorKind::Retryable
                } else {
                    ErrorKind::Fatal
                }
            }
            ClientError::Ambiguous { .. } => ErrorKind::Ambiguous,
            ClientError::GaveUp { last, .. } => last.kind(),
            ClientError::NotSent { .. } => ErrorKind::InvalidRequest,
            ClientError::Config { .. } => ErrorKind::Config,
        }
    }

    /// The call that failed (None for configuration errors).
    pub fn call(&self) -> Option<Call> {
        match self {
            ClientError::Api { call, .. }
            | ClientError::Transport { call, .. }
            | ClientError::Http { call, .. }
            | ClientError::Decode { call, .. }
            | ClientError::Ambiguous { call, .. }
            | ClientError::NotSent { call, .. } => Some(*call),
            ClientError::GaveUp { last, .. } => last.call(),
            ClientError::Config { .. } => None,
        }
    }

    /// The vendor's errcode, when WeCom answered with one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            ClientError::Api { errcode, .. } => Some(*errcode),
            ClientError::GaveUp { last, .. } => last.errcode(),
            _ => None,
        }
    }

    /// The vendor's errmsg, when WeCom answered with one.
    pub fn errmsg(&self) -> Option<&str> {
        match self {
            ClientError::Api { errmsg, .. } => Some(errmsg),
            ClientError::GaveUp { last, .. } => last.errmsg(),
            _ => None,
        }
    }

    /// True when the request may have been applied although no answer was read: the
    /// answer was lost after sending (dropped connection, timeout, truncated body).
    pub(crate) fn answer_lost(&self) -> bool {
        match self {
            ClientError::Transport { sent, .. } => *sent,
            ClientError::Decode { truncated, .. } => *truncated,
            // A 5xx may come from a proxy after the backend committed.
            ClientError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Remove every secret from the free-text parts of the error.
    pub(crate) fn redact(self, redact: impl Fn(&str) -> String) -> Self {
        match self {
            ClientError::Api {
                call,
                errcode,
                errmsg,
            } => ClientError::Api {
                call,
                errcode,
                errmsg: redact(&errmsg),
            },
            ClientError::Transport { call, detail, sent } => ClientError::Transport {
                call,
                detail: redact(&detail),
                sent,
            },
            ClientError::Decode {
                call,
                detail,
                truncated,
            } => ClientError::Decode {
                call,
                detail: redact(&detail),
                truncated,
            },
            ClientError::Ambiguous { call, detail } => ClientError::Ambiguous {
                call,
                detail: redact(&detail),
            },
            ClientError::Config { message } => ClientError::Config {
                message: redact(&message),
            },
            ClientError::GaveUp {
                attempts,
                elapsed,
                last,
            } => ClientError::GaveUp {
                attempts,
                elapsed,
                last: Box::new(last.redact(redact)),
            },
            e @ (ClientError::Http { .. } | ClientError::NotSent { .. }) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_spec_table() {
        for (code, kind) in [
            (-1, ErrorKind::Retryable),
            (6000, ErrorKind::Retryable),
            (45009, ErrorKind::Retryable),
            (45033, ErrorKind::Retryable),
            (40001, ErrorKind::Token),
            (40014, ErrorKind::Token),
            (42001, ErrorKind::Token),
            (60011, ErrorKind::Ownership),
            (301002, ErrorKind::Ownership),
            (48002, ErrorKind::Permission),
            (60020, ErrorKind::Permission),
            (40126, ErrorKind::Limit),
            (40082, ErrorKind::Token),
            (40084, ErrorKind::Token),
            (40085, ErrorKind::Token),
            (40086, ErrorKind::Token),
            (42009, ErrorKind::Token),
            (40058, ErrorKind::InvalidRequest),
            (40068, ErrorKind::InvalidRequest),
            (40071, ErrorKind::InvalidRequest),
            (12345, ErrorKind::Fatal),
        ] {
            assert_eq!(classify(code), kind, "errcode {code}");
        }
    }

    #[test]
    fn message_names_call_code_vendor_message_and_hint() {
        let e = ClientError::Api {
            call: Call::Edit,
            errcode: 60011,
            errmsg: "no privilege to access/modify contact/party/agent".into(),
        };
        let s = e.to_string();
        assert!(
            s.starts_with("edit_corp_tag: WeCom error 60011 (no privilege"),
            "{s}"
        );
        assert!(s.contains("did not create the item"), "{s}");
        assert_eq!(e.kind(), ErrorKind::Ownership);
        assert_eq!(e.errcode(), Some(60011));
        assert_eq!(e.call(), Some(Call::Edit));
    }

    #[test]
    fn vendor_text_is_sanitised_for_the_terminal() {
        let e = ClientError::Api {
            call: Call::List,
            errcode: -1,
            errmsg: "busy\u{1b}[31m\u{202e}".into(),
        };
        let s = e.to_string();
        assert!(!s.contains('\u{1b}') && !s.contains('\u{202e}'), "{s:?}");
    }

    #[test]
    fn gave_up_keeps_the_last_errors_kind() {
        let e = ClientError::GaveUp {
            attempts: 6,
            elapsed: Duration::from_millis(1500),
            last: Box::new(ClientError::Api {
                call: Call::List,
                errcode: 45009,
                errmsg: "api freq out of limit".into(),
            }),
        };
        assert_eq!(e.kind(), ErrorKind::Retryable);
        assert_eq!(e.errcode(), Some(45009));
        let s = e.to_string();
        assert!(s.contains("gave up after 6 attempts in 1.5s"), "{s}");
        assert!(s.contains("frequency limit"), "{s}");
    }

    #[test]
    fn transport_and_http_classes() {
        let t = ClientError::Transport {
            call: Call::Add,
            detail: "connection reset".into(),
            sent: true,
        };
        assert!(t.answer_lost());
        assert_eq!(t.kind(), ErrorKind::Retryable);
        let c = ClientError::Transport {
            call: Call::Add,
            detail: "connection refused".into(),
            sent: false,
        };
        assert!(!c.answer_lost());
        let h = ClientError::Http {
            call: Call::List,
            status: 502,
        };
        assert_eq!(h.kind(), ErrorKind::Retryable);
        let h = ClientError::Http {
            call: Call::List,
            status: 404,
        };
        assert_eq!(h.kind(), ErrorKind::Fatal);
        let d = ClientError::Decode {
            call: Call::List,
            detail: "missing field".into(),
            truncated: false,
        };
        assert_eq!(d.kind(), ErrorKind::Fatal);
    }

    #[test]
    fn call_names() {
        assert_eq!(Call::Add.name(), "add_corp_tag");
        assert_eq!(Call::GetCorpToken.name(), "get_corp_token");
        assert_eq!(Call::GetToken.name(), "gettoken");
    }
}
