//! Redaction: every free-text part of an error is scrubbed of the secrets and tokens the
//! client knows, in each form they may be written in (as is, percent-encoded, JSON-escaped).

use std::sync::RwLock;

use super::credentials::{Credentials, Secret};

/// Scrubs known secrets from text: each as it is, and as it looks percent-encoded in a
/// query or escaped in a JSON body (a secret with `+`, `/` or `=` in it is sent so).
pub(super) struct Redactor {
    /// Per secret, its distinct written forms, longest first.
    secrets: RwLock<Vec<Vec<String>>>,
}

/// Tokens remembered for redaction besides the credentials (old ones may still show up
/// in late errors).
const REMEMBERED_TOKENS: usize = 8;

/// The ways `secret` can be written in a URL, a form or a JSON body.
pub(super) fn written_forms(secret: &str) -> Vec<String> {
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned();
    let mut forms = vec![secret.to_owned(), form.replace('+', "%20"), form, json];
    forms.retain(|f| !f.is_empty());
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

impl Redactor {
    pub(super) fn new(credentials: &Credentials) -> Self {
        Redactor {
            secrets: RwLock::new(
                credentials
                    .secrets()
                    .into_iter()
                    .map(|s| s.expose())
                    .filter(|s| !s.is_empty())
                    .map(written_forms)
                    .collect(),
            ),
        }
    }

    pub(super) fn remember(&self, base: usize, token: &Secret) {
        if token.expose().is_empty() {
            return;
        }
        if let Ok(mut list) = self.secrets.write() {
            if list.len() >= base + REMEMBERED_TOKENS {
                list.remove(base);
            }
            list.push(written_forms(token.expose()));
        }
    }

    pub(super) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if let Ok(list) = self.secrets.read() {
            for form in list.iter().flatten() {
                if out.contains(form.as_str()) {
                    out = out.replace(form.as_str(), "***");
                }
            }
        }
        out
    }
}
