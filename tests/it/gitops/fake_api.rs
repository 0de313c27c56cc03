//! A small in-memory stand-in for the parts of the GitHub and GitLab REST APIs that the
//! example scripts call: pull request comments, issues and labels (GitHub, at `/`), merge
//! request notes and issues (GitLab, at `/api/v4`). It checks the token, pages lists
//! (`per_page`, `page`) and refuses bodies over GitHub's 65,536 characters, as the real
//! ones do. Each token acts as a user: a comment records who wrote it, and `GET /user`
//! answers as the real APIs do (GitHub refuses it to the workflow's `GITHUB_TOKEN`, an
//! installation token whose comments are by `github-actions[bot]`). Every request is
//! logged as `METHOD path`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A workflow's `GITHUB_TOKEN`: writes as [`ACTIONS_BOT`], may not read `/user`.
pub const GITHUB_TOKEN: &str = "gh-test-token";
/// A personal access token of [`PAT_USER`].
pub const GITHUB_PAT: &str = "gh-pat-token";
pub const GITLAB_TOKEN: &str = "gl-test-token";
pub const ACTIONS_BOT: &str = "github-actions[bot]";
pub const PAT_USER: &str = "tagsync-bot";
/// The bot user of a GitLab project access token.
pub const GITLAB_BOT: &str = "project_42_bot";
/// Who wrote the seeded comments: a person on the pull request.
pub const REVIEWER: &str = "a-reviewer";
/// GitHub's limit on a comment or issue body, in characters.
pub const BODY_LIMIT: usize = 65_536;

/// A comment (GitHub), or a note (GitLab), on an issue, pull or merge request.
#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    /// The issue, pull or merge request number.
    pub on: u64,
    /// Who wrote it (the login, or GitLab's username).
    pub user: String,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub open: bool,
    /// A pull request (GitHub lists them among the issues).
    pub pull_request: bool,
}

#[derive(Debug, Default)]
pub struct Store {
    next_id: u64,
    pub comments: Vec<Comment>,
    pub issues: Vec<Issue>,
    pub labels: Vec<String>,
    pub requests: Vec<String>,
}

impl Store {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Seed a comment by [`REVIEWER`].
    pub fn add_comment(&mut self, on: u64, body: &str) {
        self.add_comment_by(on, REVIEWER, body);
    }

    /// Seed a comment by `user`.
    pub fn add_comment_by(&mut self, on: u64, user: &str, body: &str) {
        let id = self.id();
        self.comments.push(Comment {
            id,
            on,
            user: user.into(),
            body: body.into(),
        });
    }

    /// Seed an issue (or a pull request).
    pub fn add_issue(&mut self, number: u64, labels: &[&str], pull_request: bool) {
        self.issues.push(Issue {
            number,
            title: format!("seeded #{number}"),
            body: String::new(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            open: true,
            pull_request,
        });
    }

    pub fn comments_on(&self, on: u64) -> Vec<&Comment> {
        self.comments.iter().filter(|c| c.on == on).collect()
    }

    pub fn labelled(&self, label: &str) -> Vec<&Issue> {
        self.issues
            .iter()
            .filter(|i| !i.pull_request && i.labels.iter().any(|l| l == label))
            .collect()
    }
}

pub type Shared = Arc<Mutex<Store>>;

pub fn lock(s: &Shared) -> MutexGuard<'_, Store> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every request goes to [`handle`], which dispatches on the method and the path.
pub fn router(store: Shared) -> Router {
    Router::new().fallback(handle).with_state(store)
}

/// A failed request: the status and GitHub's (or GitLab's) message.
type Fail = (StatusCode, String);
type Answer = Result<(StatusCode, Value), Fail>;

async fn handle(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The query, decoded (`url` is a dependency already; axum's `Query` needs a feature
    // tagsync does not build).
    let q: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    lock(&s).requests.push(format!("{method} {}", uri.path()));
    let parts: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let gitlab = parts.starts_with(&["api", "v4"]);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let user = if gitlab {
        header("private-token").and_then(|t| (t == GITLAB_TOKEN).then_some(GITLAB_BOT))
    } else {
        match header("authorization").and_then(|a| a.strip_prefix("Bearer ")) {
            Some(GITHUB_TOKEN) => Some(ACTIONS_BOT),
            Some(GITHUB_PAT) => Some(PAT_USER),
            _ => None,
        }
    };
    let answer = match user {
        None => Err(error(StatusCode::UNAUTHORIZED, "Bad credentials")),
        Some(user) => parse(&body).and_then(|body| route(&s, &method, &parts, user, &q, &body)),
    };
    match answer {
        Ok((status, v)) => (status, axum::Json(v)).into_response(),
        Err((status, message)) => {
            (status, axum::Json(json!({ "message": message }))).into_response()
        }
    }
}

fn parse(body: &[u8]) -> Result<Value, Fail> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("Problems parsing JSON: {e}"),
        )
    })
}

fn route(
    s: &Shared,
    method: &Method,
    parts: &[&str],
    user: &str,
    q: &HashMap<String, String>,
    body: &Value,
) -> Answer {
    match (method.as_str(), parts) {
        ("GET", ["user"]) if user == ACTIONS_BOT => Err(error(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
        )),
        ("GET", ["user"]) => Ok((StatusCode::OK, json!({ "login": user }))),
        ("GET", ["api", "v4", "user"]) => Ok((StatusCode::OK, json!({ "username": user }))),
        (_, ["api", "v4", "projects", _, rest @ ..]) if !rest.is_empty() => {
            gitlab_api(s, method, rest, user, q, body)
        }
        (_, ["repos", _, _, rest @ ..]) if !rest.is_empty() => {
            github_api(s, method, rest, user, q, body)
        }
        _ => Err(not_found()),
    }
}

fn error(status: StatusCode, message: &str) -> Fail {
    (status, message.to_string())
}

fn not_found() -> Fail {
    error(StatusCode::NOT_FOUND, "Not Found")
}

/// A text field of the request, within the body limit.
fn text(body: &Value, field: &str) -> Result<String, Fail> {
    let Some(s) = body.get(field).and_then(Value::as_str) else {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{field} is missing"),
        ));
    };
    if s.chars().count() > BODY_LIMIT {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Body is too long (maximum is 65536 characters)",
        ));
    }
    Ok(s.to_string())
}

/// The text field when the request has it.
fn optional_text(body: &Value, field: &str) -> Result<Option<String>, Fail> {
    if body.get(field).is_some() {
        text(body, field).map(Some)
    } else {
        Ok(None)
    }
}

/// One page of a list, as `per_page` and `page` ask (default: 30 a page).
fn page(items: Vec<Value>, q: &HashMap<String, String>) -> Value {
    let num = |k: &str, d: usize| q.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let per_page = num("per_page", 30).clamp(1, 100);
    let page = num("page", 1).max(1);
    Value::Array(
        items
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect(),
    )
}

fn number(s: &str) -> Result<u64, Fail> {
    s.parse().map_err(|_| not_found())
}

/// Issues filtered by `state` (`open_word`: "open" or "opened") and `labels`, rendered.
fn list_issues(
    st: &Store,
    q: &HashMap<String, String>,
    open_word: &str,
    render: fn(&Issue) -> Value,
) -> Value {
    let open = q.get("state").is_none_or(|s| s == open_word);
    let label = q.get("labels");
    let list = st
        .issues
        .iter()
        .filter(|i| i.open == open)
        .filter(|i| label.is_none_or(|l| i.labels.contains(l)))
        .map(render)
        .collect();
    page(list, q)
}

fn list_comments(
    st: &Store,
    n: &str,
    q: &HashMap<String, String>,
    render: fn(&Comment) -> Value,
) -> Answer {
    let list = st.comments_on(number(n)?).into_iter().map(render).collect();
    Ok((StatusCode::OK, page(list, q)))
}

fn add_comment(
    st: &mut Store,
    on: u64,
    user: &str,
    body: &Value,
    render: fn(&Comment) -> Value,
) -> Answer {
    let c = Comment {
        id: st.id(),
        on,
        user: user.into(),
        body: text(body, "body")?,
    };
    let v = render(&c);
    st.comments.push(c);
    Ok((StatusCode::CREATED, v))
}

/// Anyone's comment may be edited, as on GitHub by a token with write access: that a
/// script edits only its own is for the scripts to see to, and the tests to check.
fn edit_comment(st: &mut Store, id: u64, body: &Value, render: fn(&Comment) -> Value) -> Answer {
    let text = text(body, "body")?;
    let c = st
        .comments
        .iter_mut()
        .find(|c| c.id == id)
        .ok_or_else(not_found)?;
    c.body = text;
    Ok((StatusCode::OK, render(c)))
}

fn add_issue(st: &mut Store, title: String, body: String, labels: Vec<String>) -> &Issue {
    let number = st.id();
    st.issues.push(Issue {
        number,
        title,
        body,
        labels,
        open: true,
        pull_request: false,
    });
    &st.issues[st.issues.len() - 1]
}

/// How a platform names an issue's text and its state change.
struct IssueFields {
    text: &'static str,
    state: &'static str,
    close: &'static str,
    reopen: &'static str,
}

const GITHUB_ISSUE: IssueFields = IssueFields {
    text: "body",
    state: "state",
    close: "closed",
    reopen: "open",
};

const GITLAB_ISSUE: IssueFields = IssueFields {
    text: "description",
    state: "state_event",
    close: "close",
    reopen: "reopen",
};

fn edit_issue(
    st: &mut Store,
    n: &str,
    body: &Value,
    fields: &IssueFields,
    render: fn(&Issue) -> Value,
) -> Answer {
    let n = number(n)?;
    let new_text = optional_text(body, fields.text)?;
    let issue = st
        .issues
        .iter_mut()
        .find(|i| i.number == n)
        .ok_or_else(not_found)?;
    if let Some(t) = new_text {
        issue.body = t;
    }
    match body[fields.state].as_str() {
        Some(s) if s == fields.close => issue.open = false,
        Some(s) if s == fields.reopen => issue.open = true,
        _ => {}
    }
    Ok((StatusCode::OK, render(issue)))
}

/// `/repos/OWNER/REPO/` + `rest`.
fn github_api(
    s: &Shared,
    method: &Method,
    rest: &[&str],
    user: &str,
    q: &HashMap<String, String>,
    body: &Value,
) -> Answer {
    let mut st = lock(s);
    let st = &mut *st;
    match (method.as_str(), rest) {
        ("GET", ["issues", n, "comments"]) => list_comments(st, n, q, gh_comment),
        ("POST", ["issues", n, "comments"]) => add_comment(st, number(n)?, user, body, gh_comment),
        ("PATCH", ["issues", "comments", id]) => edit_comment(st, number(id)?, body, gh_comment),
        ("GET", ["issues"]) => Ok((StatusCode::OK, list_issues(st, q, "open", gh_issue))),
        ("POST", ["issues"]) => {
            let (title, text) = (text(body, "title")?, text(body, "body")?);
            // GitHub drops labels that do not exist (for tokens without push access).
            let labels = body["labels"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|l| st.labels.iter().any(|k| k == l))
                .map(String::from)
                .collect();
            Ok((
                StatusCode::CREATED,
                gh_issue(add_issue(st, title, text, labels)),
            ))
        }
        ("PATCH", ["issues", n]) => edit_issue(st, n, body, &GITHUB_ISSUE, gh_issue),
        ("POST", ["labels"]) => {
            let name = text(body, "name")?;
            if st.labels.contains(&name) {
                return Err(error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed"));
            }
            st.labels.push(name.clone());
            Ok((StatusCode::CREATED, json!({ "name": name })))
        }
        _ => Err(not_found()),
    }
}

/// `/api/v4/projects/ID/` + `rest`. Merge requests and issues share one number space here.
fn gitlab_api(
    s: &Shared,
    method: &Method,
    rest: &[&str],
    user: &str,
    q: &HashMap<String, String>,
    body: &Value,
) -> Answer {
    let mut st = lock(s);
    let st = &mut *st;
    match (method.as_str(), rest) {
        ("GET", ["merge_requests", n, "notes"]) => list_comments(st, n, q, gl_note),
        ("POST", ["merge_requests" | "issues", n, "notes"]) => {
            add_comment(st, number(n)?, user, body, gl_note)
        }
        ("PUT", ["merge_requests", _, "notes", id]) => edit_comment(st, number(id)?, body, gl_note),
        ("GET", ["issues"]) => Ok((StatusCode::OK, list_issues(st, q, "opened", gl_issue))),
        ("POST", ["issues"]) => {
            let (title, text) = (text(body, "title")?, text(body, "description")?);
            // One comma-separated string; GitLab creates labels that do not exist.
            let labels = body["labels"]
                .as_str()
                .map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default();
            Ok((
                StatusCode::CREATED,
                gl_issue(add_issue(st, title, text, labels)),
            ))
        }
        ("PUT", ["issues", n]) => edit_issue(st, n, body, &GITLAB_ISSUE, gl_issue),
        _ => Err(not_found()),
    }
}

fn gh_comment(c: &Comment) -> Value {
    json!({
        "id": c.id,
        "user": { "login": c.user, "type": if c.user.ends_with("[bot]") { "Bot" } else { "User" } },
        "body": c.body,
        "html_url": format!("https://github.example/pull/{}#issuecomment-{}", c.on, c.id),
    })
}

fn gh_issue(i: &Issue) -> Value {
    let mut v = json!({
        "number": i.number,
        "title": i.title,
        "body": i.body,
        "state": if i.open { "open" } else { "closed" },
        "labels": i.labels.iter().map(|l| json!({ "name": l })).collect::<Vec<_>>(),
        "html_url": format!("https://github.example/issues/{}", i.number),
    });
    if i.pull_request {
        v["pull_request"] = json!({ "url": "https://github.example/pulls" });
    }
    v
}

fn gl_note(c: &Comment) -> Value {
    json!({ "id": c.id, "author": { "username": c.user }, "body": c.body, "system": false })
}

fn gl_issue(i: &Issue) -> Value {
    json!({
        "iid": i.number,
        "title": i.title,
        "description": i.body,
        "labels": i.labels,
        "state": if i.open { "opened" } else { "closed" },
        "web_url": format!("https://gitlab.example/issues/{}", i.number),
    })
}
