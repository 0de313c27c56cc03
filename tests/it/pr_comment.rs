//! The PR comment as a reviewer sees it: the Markdown rendered as GitHub renders it
//! (GitHub-flavoured Markdown, raw HTML kept: `<details>`, `<code>`, comments), then the
//! HTML checked: every item deleted for good is named before any `<details>`, no escape
//! character shows as text, tables render.

use std::process::Command;

use tagsync::plan::StepKind;

/// GitHub-flavoured Markdown to HTML, the way GitHub shows a comment.
fn github(md: &str) -> String {
    let mut o = comrak::Options::default();
    o.extension.table = true;
    o.extension.strikethrough = true;
    o.extension.autolink = true;
    o.extension.alerts = true;
    o.render.r#unsafe = true;
    comrak::markdown_to_html(md, &o)
}

/// The text a reader sees: the HTML without its tags and comments, entities decoded for
/// the few the renderer writes.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = if rest.starts_with("<!--") {
            rest.find("-->").map(|e| e + 3)
        } else {
            rest.find('>').map(|e| e + 1)
        };
        rest = &rest[end.unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The part of the comment above the first `<details>`.
fn above_the_fold(html: &str) -> &str {
    &html[..html.find("<details>").unwrap_or(html.len())]
}

/// Backslash escapes that would show as text if the Markdown escaping were wrong.
fn assert_no_visible_escapes(html: &str) {
    let text = visible(html);
    for bad in [
        "\\(", "\\)", "\\-", "\\.", "\\_", "\\*", "\\#", "\\|", "\\[", "&lt;!--",
    ] {
        assert!(!text.contains(bad), "{bad:?} shows as text:\n{text}");
    }
}

#[test]
fn the_quick_starts_comment_names_its_delete_above_the_fold() {
    let out = Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args([
            "plan",
            "-c",
            "tags.yaml.example",
            "--emulator",
            "examples/corp.json",
            "--format",
            "markdown",
        ])
        .output()
        .expect("run tagsync");
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8(out.stdout).expect("utf-8");
    let html = github(&md);
    let top = above_the_fold(&html);
    assert!(top.contains("<table>"), "the summary table renders:\n{top}");
    assert!(top.contains("Deleted for good"), "{top}");
    assert!(
        top.contains("合作伙伴"),
        "the deleted tag is named above the fold:\n{top}"
    );
    assert!(top.contains("Renamed"), "{top}");
    assert_no_visible_escapes(&html);
    insta::assert_snapshot!("quick_start_html", html);
}

#[test]
fn three_hundred_deletes_among_three_thousand_renames_are_all_named_above_the_fold() {
    let (snap, desired, owned) = crate::render::big_case(300, 3000);
    let p = tagsync::plan::plan(&desired, &snap, &owned, &Default::default());
    let deleted: Vec<String> = p
        .steps
        .iter()
        .flat_map(|s| match &s.kind {
            StepKind::Delete { tags, .. } => tags.iter().map(|t| t.name.clone()).collect(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(deleted.len(), 300);
    let md = tagsync::render::markdown::render(&p, &crate::render::context(&snap));
    let html = github(&md);
    let top = visible(above_the_fold(&html));
    for name in &deleted {
        assert!(
            top.contains(name.as_str()),
            "{name} not named above the fold"
        );
    }
    assert!(top.contains("every customer who carries these tags loses them"));
    assert_no_visible_escapes(&html);
}

#[test]
fn a_bootstrap_of_10000_tags_renders_within_the_limit() {
    let (snap, desired, owned) = crate::render::bootstrap_case();
    let p = tagsync::plan::plan(&desired, &snap, &owned, &Default::default());
    let md = tagsync::render::markdown::render(&p, &crate::render::context(&snap));
    let html = github(&md);
    assert!(html.contains("<details>") && html.contains("</details>"));
    assert_no_visible_escapes(&html);
    insta::assert_snapshot!("bootstrap_10000_html", html);
}

#[test]
fn names_with_backticks_stay_whole_in_code_spans() {
    use tagsync::desired::{Desired, DesiredGroup, DesiredTag, Ownership};
    use tagsync::plan::Owned;
    use tagsync::snapshot::{RemoteGroup, RemoteTag, Snapshot};
    let remote = Snapshot {
        groups: vec![RemoteGroup {
            id: "g1".into(),
            name: "G`1".into(),
            order: 1,
            create_time: 0,
            tags: vec![RemoteTag {
                id: "t1".into(),
                name: "a`b".into(),
                order: 1,
                create_time: 0,
            }],
        }],
    };
    let mut renamed = DesiredTag::named("c`d`");
    renamed.previously = vec!["a`b".into()];
    let desired = Desired {
        version: 1,
        ownership: Ownership::All,
        groups: vec![DesiredGroup::named("G`1", vec![renamed])],
    };
    let p = tagsync::plan::plan(&desired, &remote, &Owned::All, &Default::default());
    assert_eq!(p.steps.len(), 1, "{p:#?}");
    let md = tagsync::render::markdown::render(&p, &crate::render::context(&remote));
    let html = github(&md);
    for code in ["<code>a`b</code>", "<code>G`1</code>", "<code>c`d`</code>"] {
        assert!(html.contains(code), "{code} missing:\n{html}");
    }
    assert_no_visible_escapes(&html);
}
