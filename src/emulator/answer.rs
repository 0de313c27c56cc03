//! The shapes of the emulator's HTTP answers: JSON with an errcode as WeCom gives it, the
//! HTML pages a web front end gives, and the answers of injected faults (a wrong shape,
//! truncated JSON, a connection dropped after the commit).

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::Serialize;

use super::config::CallKind;
use super::faults::FaultKind;
use super::state::ApiError;
use crate::wire::{self, errcode};

/// A serialised JSON answer and its errcode.
pub(super) struct Json {
    pub(super) errcode: i64,
    pub(super) bytes: Vec<u8>,
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Json {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| {
        br#"{"errcode":-1,"errmsg":"system error: answer not serialisable"}"#.to_vec()
    });
    let errcode = serde_json::from_slice::<wire::Status>(&bytes)
        .map(|s| s.errcode)
        .unwrap_or(-1);
    Json { errcode, bytes }
}

/// The integer errcode of an answer, if it has one.
pub(super) fn errcode_of(bytes: &[u8]) -> Option<i64> {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()?
        .get("errcode")?
        .as_i64()
}

/// An error answer; the message ends like WeCom's (hint, caller IP, help link), so
/// clients see realistic text, which they must not parse.
pub(super) fn error_json(e: &ApiError) -> Json {
    let hint: u32 = rand::rng().random();
    let errmsg = format!(
        "{}, hint: [{}_{hint:08x}], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e={}",
        e.errmsg,
        unix_now(),
        e.errcode
    );
    Json {
        errcode: e.errcode,
        bytes: serde_json::to_vec(&wire::Status::error(e.errcode, errmsg)).unwrap_or_default(),
    }
}

pub(super) fn new_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..64)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

pub(super) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(super) fn parse_query(raw: Option<String>) -> HashMap<String, String> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

pub(super) fn json_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        bytes,
    )
        .into_response()
}

pub(super) fn html_response(status: StatusCode, title: &str) -> Response {
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    (status, [(header::CONTENT_TYPE, "text/html")], page).into_response()
}

/// An HTTP 200 JSON answer whose body is produced as it is sent (a fault's).
fn streamed_json(body: Body) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
        .body(body)
        .unwrap_or_else(|_| html_response(StatusCode::BAD_GATEWAY, "502 Bad Gateway"))
}

/// A body that announces `len` bytes and then fails: hyper drops the connection.
struct Dropped {
    len: u64,
}

impl http_body::Body for Dropped {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "emulator fault: connection dropped after commit",
        ))))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.len)
    }
}

/// Well-formed JSON whose shape is wrong for an answer to `kind`.
pub(super) fn wrong_shape(kind: CallKind) -> &'static [u8] {
    match kind {
        CallKind::GetToken => {
            br#"{"errcode":0,"errmsg":"ok","access_token":12345,"expires_in":"7200"}"#
        }
        CallKind::GetSuiteToken => {
            br#"{"errcode":0,"errmsg":"ok","suite_access_token":false,"expires_in":7200}"#
        }
        CallKind::GetCorpToken => br#"{"access_token":["x"],"expires_in":7200}"#,
        CallKind::List | CallKind::StrategyList => {
            br#"{"errcode":0,"errmsg":"ok","tag_group":"oops"}"#
        }
        CallKind::Add | CallKind::StrategyAdd => {
            br#"{"errcode":0,"errmsg":"ok","tag_group":[{"group_id":1}]}"#
        }
        CallKind::Edit | CallKind::Delete | CallKind::StrategyEdit | CallKind::StrategyDelete => {
            br#"{"errcode":"0","errmsg":"ok"}"#
        }
        CallKind::RuleGroups => br#"{"errcode":0,"errmsg":"ok","strategy":{"strategy_id":1}}"#,
        CallKind::RuleGroup => br#"{"errcode":0,"errmsg":"ok","strategy":"1"}"#,
    }
}

/// The answer of a call of `kind` hit by a fault that answers instead of it.
pub(super) fn fault_answer(kind: CallKind, fault: FaultKind) -> (Option<i64>, Response) {
    let status = |code: i64, msg: &str| {
        let bytes = error_json(&ApiError::new(code, msg)).bytes;
        (Some(code), json_response(StatusCode::OK, bytes))
    };
    match fault {
        FaultKind::SystemBusy => status(errcode::SYSTEM_BUSY, "system busy"),
        FaultKind::VersionConflict => {
            status(errcode::DATA_VERSION_CONFLICT, "data version conflict")
        }
        FaultKind::FrequencyLimit => status(errcode::FREQUENCY_LIMIT, "api freq out of limit"),
        FaultKind::ConcurrencyLimit => {
            status(errcode::CONCURRENCY_LIMIT, "api concurrent out of limit")
        }
        FaultKind::Http500 => (
            None,
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error",
            ),
        ),
        FaultKind::BadGateway | FaultKind::TruncatedJson | FaultKind::CommitThenDrop => (
            None,
            html_response(StatusCode::BAD_GATEWAY, "502 Bad Gateway"),
        ),
        FaultKind::WrongShape => {
            let bytes = wrong_shape(kind);
            (
                errcode_of(bytes),
                json_response(StatusCode::OK, bytes.to_vec()),
            )
        }
        FaultKind::NotJson => (
            None,
            html_response(StatusCode::OK, "Network login required"),
        ),
        FaultKind::RepeatedId => {
            let bytes: &[u8] = match kind {
                CallKind::List | CallKind::StrategyList => {
                    br#"{"errcode":0,"errmsg":"ok","tag_group":[{"group_id":"etBROKENG","group_name":"broken","order":0,"tag":[{"id":"etBROKENT","name":"kept","order":0},{"id":"etBROKENT","name":"gone","order":0}]}]}"#
                }
                CallKind::Add | CallKind::StrategyAdd => {
                    br#"{"errcode":0,"errmsg":"ok","tag_group":{"group_id":"etBROKENG","group_name":"broken","order":0,"tag":[{"id":"etBROKENT","name":"kept","order":0},{"id":"etBROKENT","name":"gone","order":0}]}}"#
                }
                _ => wrong_shape(kind),
            };
            (
                errcode_of(bytes),
                json_response(StatusCode::OK, bytes.to_vec()),
            )
        }
        FaultKind::Oversized => (
            Some(errcode::OK),
            streamed_json(Body::new(Oversized { left: 17 })),
        ),
        FaultKind::FloodedErrmsg => status(errcode::INVALID_PARAMETER, &"E".repeat(100_000)),
    }
}

/// A JSON answer of `left` megabytes, sent a megabyte at a time with no length given.
struct Oversized {
    left: usize,
}

impl http_body::Body for Oversized {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        const MB: usize = 1024 * 1024;
        let chunk = match self.left {
            0 => return Poll::Ready(None),
            1 => {
                let mut last = vec![b'a'; MB - 2];
                last.extend_from_slice(b"\"}");
                last
            }
            _ => vec![b'a'; MB],
        };
        let first = self.left == 17;
        self.left -= 1;
        let chunk = if first {
            let mut c = br#"{"errcode":0,"errmsg":""#.to_vec();
            c.extend_from_slice(&chunk);
            c
        } else {
            chunk
        };
        Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(chunk)))))
    }
}

/// The answer of a committed call, spoiled by `fault` when it is one that commits.
pub(super) fn committed_answer(json: Json, fault: Option<FaultKind>) -> Response {
    match fault {
        Some(FaultKind::TruncatedJson) => {
            let mut bytes = json.bytes;
            bytes.truncate((bytes.len() / 2).max(1));
            json_response(StatusCode::OK, bytes)
        }
        Some(FaultKind::CommitThenDrop) => {
            let len = json.bytes.len() as u64;
            streamed_json(Body::new(Dropped { len }))
        }
        _ => json_response(StatusCode::OK, json.bytes),
    }
}
