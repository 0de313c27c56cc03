//! Reading an answer: JSON of the call's shape with `errcode` 0, or the error it is (the
//! vendor's errcode, a body that is not JSON or ends early, a missing field).

use serde::de::DeserializeOwned;

use super::error::{Call, ClientError};
use crate::sanitize::for_terminal;
use crate::wire::{self, errcode};

/// An answer shape: its status, and the field that must be present on success.
pub(super) trait Answer: DeserializeOwned {
    const REQUIRED: Option<&'static str>;
    fn status(&self) -> &wire::Status;

    /// A successful answer read in one pass, or `None` to read it the careful way (which
    /// says precisely what is wrong). Only the list needs it: its wire type flattens the
    /// status in, and serde buffers a flattened map whole, which for 10,000 tags cost as
    /// much again as the parse.
    fn fast(_body: &[u8]) -> Option<Self> {
        None
    }
}

impl Answer for wire::Status {
    const REQUIRED: Option<&'static str> = None;
    fn status(&self) -> &wire::Status {
        self
    }
}

impl Answer for wire::TokenResponse {
    const REQUIRED: Option<&'static str> = Some("access_token");
    fn status(&self) -> &wire::Status {
        &self.status
    }
}

impl Answer for wire::SuiteTokenResponse {
    const REQUIRED: Option<&'static str> = Some("suite_access_token");
    fn status(&self) -> &wire::Status {
        &self.status
    }
}

impl Answer for wire::TagListResponse {
    const REQUIRED: Option<&'static str> = Some("tag_group");
    fn status(&self) -> &wire::Status {
        &self.status
    }

    fn fast(body: &[u8]) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct List {
            #[serde(default)]
            errcode: i64,
            #[serde(default)]
            errmsg: String,
            tag_group: Option<Vec<wire::TagGroup>>,
        }
        let list: List = serde_json::from_slice(body).ok()?;
        Some(wire::TagListResponse {
            tag_group: list.tag_group.filter(|_| list.errcode == errcode::OK)?,
            status: wire::Status {
                errcode: list.errcode,
                errmsg: list.errmsg,
            },
        })
    }
}

impl Answer for wire::AddTagResponse {
    const REQUIRED: Option<&'static str> = Some("tag_group");
    fn status(&self) -> &wire::Status {
        &self.status
    }
}

impl Answer for wire::RuleGroupListResponse {
    const REQUIRED: Option<&'static str> = Some("strategy");
    fn status(&self) -> &wire::Status {
        &self.status
    }
}

impl Answer for wire::RuleGroupGetResponse {
    const REQUIRED: Option<&'static str> = Some("strategy");
    fn status(&self) -> &wire::Status {
        &self.status
    }
}

pub(super) fn decode<A: Answer>(call: Call, body: &[u8]) -> Result<A, ClientError> {
    if let Some(answer) = A::fast(body) {
        return Ok(answer);
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ClientError::Decode {
            call,
            truncated: e.is_eof(),
            detail: if e.is_eof() {
                format!("the body ends early: {e}")
            } else {
                format!("not JSON: {e}")
            },
        })?;
    // serde's messages may quote parts of the answer: make them safe to print.
    let wrong = |detail: String| ClientError::Decode {
        call,
        detail: for_terminal(&detail),
        truncated: false,
    };
    let Some(object) = value.as_object() else {
        return Err(wrong("not a JSON object".into()));
    };
    let code = match object.get("errcode") {
        None => errcode::OK,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| wrong("`errcode` is not an integer".into()))?,
    };
    if code == errcode::OK
        && let Some(field) = A::REQUIRED
        && object.get(field).is_none_or(|v| v.is_null())
    {
        return Err(wrong(format!("missing field `{field}`")));
    }
    let answer: A = serde_json::from_value(value).map_err(|e| wrong(e.to_string()))?;
    let status = answer.status();
    if status.errcode != errcode::OK {
        return Err(ClientError::Api {
            call,
            errcode: status.errcode,
            errmsg: shortened(&status.errmsg),
        });
    }
    Ok(answer)
}

/// The most of a vendor's `errmsg` kept in an error: WeCom's are one line with a hint
/// link (under 200 characters); a longer one is cut, so that a broken server cannot flood
/// the log or the PR comment.
pub(super) const MAX_ERRMSG_CHARS: usize = 500;

fn shortened(errmsg: &str) -> String {
    match errmsg.char_indices().nth(MAX_ERRMSG_CHARS) {
        None => errmsg.to_owned(),
        Some((at, _)) => format!(
            "{}… ({} more characters)",
            &errmsg[..at],
            errmsg[at..].chars().count()
        ),
    }
}
