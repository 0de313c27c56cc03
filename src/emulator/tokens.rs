//! Tokens: `gettoken` for self-built and custom-developed apps, `get_suite_token` and
//! `get_corp_token` for third-party apps, and which app a token belongs to.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::time::Instant;

use super::answer::{Json, new_token, to_json};
use super::shared::{Shared, Token, lock};
use super::state::ApiError;
use crate::wire::{self, errcode};

impl Shared {
    /// The app a token belongs to.
    pub(super) fn authenticate(&self, query: &HashMap<String, String>) -> Result<usize, ApiError> {
        let token = match query.get("access_token") {
            Some(t) if !t.is_empty() => t,
            _ => {
                return Err(ApiError::new(
                    errcode::MISSING_ACCESS_TOKEN,
                    "access_token missing",
                ));
            }
        };
        match self.owner_of(&self.tokens, token) {
            None => Err(ApiError::new(
                errcode::INVALID_ACCESS_TOKEN,
                "invalid access_token",
            )),
            Some(None) => Err(ApiError::new(
                errcode::ACCESS_TOKEN_EXPIRED,
                "access_token expired",
            )),
            Some(Some(app)) => Ok(app),
        }
    }

    /// Whose token this is: `None` unknown, `Some(None)` expired or revoked.
    pub(super) fn owner_of(
        &self,
        map: &Mutex<HashMap<String, Token>>,
        token: &str,
    ) -> Option<Option<usize>> {
        let map = lock(map);
        let t = map.get(token)?;
        let live = !t.revoked && t.issued.elapsed() < self.token_lifetime;
        Some(live.then_some(t.app))
    }

    pub(super) fn gettoken(
        &self,
        query: &HashMap<String, String>,
    ) -> (Option<usize>, Result<Json, ApiError>) {
        let corp_id = query.get("corpid").filter(|s| !s.is_empty());
        let secret = query.get("corpsecret").filter(|s| !s.is_empty());
        let Some(corp_id) = corp_id else {
            return (
                None,
                Err(ApiError::new(errcode::MISSING_CORPID, "corpid missing")),
            );
        };
        let Some(secret) = secret else {
            return (
                None,
                Err(ApiError::new(errcode::MISSING_SECRET, "corpsecret missing")),
            );
        };
        if *corp_id != self.corp_id {
            return (
                None,
                Err(ApiError::new(errcode::INVALID_CORPID, "invalid corpid")),
            );
        }
        let Some(app) = self.apps.iter().position(|a| &a.secret == secret) else {
            return (
                None,
                Err(ApiError::new(
                    errcode::INVALID_SECRET,
                    "invalid credential: corpsecret",
                )),
            );
        };
        let (token, expires_in) = self.issue(&self.tokens, app);
        let answer = wire::TokenResponse {
            status: wire::Status::ok(),
            access_token: Some(token),
            expires_in: Some(expires_in),
        };
        (Some(app), Ok(to_json(&answer)))
    }

    /// A token of `owner` and its seconds left. Within its lifetime, the owner's token is
    /// given again (as WeCom does for `gettoken`).
    pub(super) fn issue(&self, map: &Mutex<HashMap<String, Token>>, owner: usize) -> (String, u64) {
        let mut tokens = lock(map);
        let reuse = tokens.iter().find_map(|(tok, t)| {
            let age = t.issued.elapsed();
            (t.app == owner && !t.revoked && age < self.token_lifetime)
                .then(|| (tok.clone(), self.token_lifetime - age))
        });
        let (token, left) = reuse.unwrap_or_else(|| {
            let tok = format!("{}{}", self.token_prefix, new_token());
            tokens.insert(
                tok.clone(),
                Token {
                    app: owner,
                    issued: Instant::now(),
                    revoked: false,
                },
            );
            (tok, self.token_lifetime)
        });
        (token, left.as_secs().max(1))
    }

    /// `service/get_suite_token`: the suite's id, secret and current ticket.
    pub(super) fn suite_token(&self, body: &[u8]) -> Result<Json, ApiError> {
        let req: wire::SuiteTokenRequest = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid_param(format!("bad body: {e}")))?;
        let Some(suite) = self.suites.iter().position(|s| s.suite_id == req.suite_id) else {
            return Err(ApiError::new(errcode::INVALID_SUITE_ID, "invalid suite_id"));
        };
        let s = &self.suites[suite];
        if s.suite_secret != req.suite_secret {
            return Err(ApiError::new(
                errcode::INVALID_SECRET,
                "invalid credential: suite_secret",
            ));
        }
        if s.suite_ticket != req.suite_ticket {
            return Err(ApiError::new(
                errcode::INVALID_SUITE_TICKET,
                "invalid suite_ticket",
            ));
        }
        let (token, expires_in) = self.issue(&self.suite_tokens, suite);
        Ok(to_json(&wire::SuiteTokenResponse {
            status: wire::Status::ok(),
            suite_access_token: Some(token),
            expires_in: Some(expires_in),
        }))
    }

    /// `service/get_corp_token`: the token of the suite's app in this corp. Its success
    /// answer has no errcode, as WeCom's has none.
    pub(super) fn corp_token(
        &self,
        query: &HashMap<String, String>,
        body: &[u8],
    ) -> (Option<usize>, Result<Json, ApiError>) {
        let token = query.get("suite_access_token").map_or("", String::as_str);
        let suite = match self.owner_of(&self.suite_tokens, token) {
            None => {
                let e = ApiError::new(errcode::INVALID_SUITE_TOKEN, "invalid suite_access_token");
                return (None, Err(e));
            }
            Some(None) => {
                let e = ApiError::new(errcode::SUITE_TOKEN_EXPIRED, "suite_access_token expired");
                return (None, Err(e));
            }
            Some(Some(suite)) => &self.suites[suite],
        };
        let req: wire::CorpTokenRequest = match serde_json::from_slice(body) {
            Ok(req) => req,
            Err(e) => return (None, Err(ApiError::invalid_param(format!("bad body: {e}")))),
        };
        let app = self.apps.iter().position(|a| a.name == suite.app);
        let (Some(app), true) = (
            app,
            req.auth_corpid == self.corp_id && req.permanent_code == suite.permanent_code,
        ) else {
            let e = ApiError::new(
                errcode::INVALID_PERMANENT_CODE,
                "invalid permanent_code for this suite and auth_corpid",
            );
            return (None, Err(e));
        };
        let (token, expires_in) = self.issue(&self.tokens, app);
        let answer = serde_json::json!({"access_token": token, "expires_in": expires_in});
        (Some(app), Ok(to_json(&answer)))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::emulator::EmulatorConfig;

    fn query(token: &str) -> HashMap<String, String> {
        HashMap::from([("access_token".to_owned(), token.to_owned())])
    }

    /// A token issued `age` ago, without waiting for it.
    fn shared_with_token(age: Duration) -> Shared {
        let shared = Shared::new(EmulatorConfig::default()).unwrap();
        let issued = Instant::now().checked_sub(age).unwrap();
        lock(&shared.tokens).insert(
            "tok".into(),
            Token {
                app: 0,
                issued,
                revoked: false,
            },
        );
        shared
    }

    #[test]
    fn tokens_live_for_their_lifetime_only() {
        let young = shared_with_token(Duration::from_secs(7100));
        assert_eq!(young.authenticate(&query("tok")), Ok(0));
        let (_, answer) = young.gettoken(&HashMap::from([
            ("corpid".to_owned(), "ww-test-corp".to_owned()),
            ("corpsecret".to_owned(), "test-secret".to_owned()),
        ]));
        let answer: wire::TokenResponse = serde_json::from_slice(&answer.unwrap().bytes).unwrap();
        assert_eq!(answer.access_token.as_deref(), Some("tok"));
        assert!(answer.expires_in.unwrap() <= 100, "the seconds left");

        let old = shared_with_token(Duration::from_secs(7300));
        let err = old.authenticate(&query("tok")).unwrap_err();
        assert_eq!(err.errcode, errcode::ACCESS_TOKEN_EXPIRED);
        assert_eq!(
            old.authenticate(&query("other")).unwrap_err().errcode,
            errcode::INVALID_ACCESS_TOKEN
        );
    }
}
