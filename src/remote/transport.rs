//! The HTTP side of a call's answer: a transport failure as a [`ClientError`] that names
//! the call and never the URL's path or query (the token is in it), and the body read
//! with a bound.

use super::error::{Call, ClientError};

/// The most an answer may hold: a corp's full list of 10,000 tags is about 1.5 MB, so
/// this is ten times any real answer. More is refused unread, not buffered: a broken or
/// hostile server could otherwise fill the memory within the request timeout.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// The body of `response`, at most [`MAX_ANSWER_BYTES`].
pub(super) async fn read_bounded(
    call: Call,
    mut response: reqwest::Response,
) -> Result<Vec<u8>, ClientError> {
    let mb = MAX_ANSWER_BYTES / (1024 * 1024);
    let too_big = |detail: String| ClientError::Decode {
        call,
        detail,
        truncated: false,
    };
    if let Some(len) = response.content_length()
        && len > MAX_ANSWER_BYTES as u64
    {
        return Err(too_big(format!(
            "the answer is {len} bytes, more than the {mb} MB any WeCom answer fits in; not read"
        )));
    }
    let mut body = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|e| {
            let mut err = error(call, e);
            if let ClientError::Transport { sent, .. } = &mut err {
                *sent = true;
            }
            err
        })?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_big(format!(
                "the answer passes {mb} MB, more than any WeCom answer; not read further"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(super) fn error(call: Call, err: reqwest::Error) -> ClientError {
    // Only the origin (scheme, host, port) of the URL: never its path, query or userinfo.
    let origin = err.url().map(|u| u.origin().ascii_serialization());
    let err = err.without_url();
    let sent = !err.is_connect();
    let mut detail = if err.is_timeout() {
        format!("timed out ({err})")
    } else {
        err.to_string()
    };
    if let Some(origin) = origin.filter(|o| o != "null") {
        detail = format!("{origin}: {detail}");
    }
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    ClientError::Transport { call, detail, sent }
}
