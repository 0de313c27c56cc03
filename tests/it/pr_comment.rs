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
        rule_groups: None,
    };
    let mut renamed = DesiredTag::named("c`d`");
    renamed.previously = vec!["a`b".into()];
    let desired = Desired {
        version: 1,
        ownership: Ownership::All,
        groups: vec![DesiredGroup::named("G`1", vec![renamed])],
        strategies: None,
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

/// Every item of a numbered list as the reader sees it: `(number shown, text up to a
/// nested list, where it starts in html)`, in document order.
fn numbered_items(html: &str) -> Vec<(usize, String, usize)> {
    let mut lists: Vec<Option<usize>> = Vec::new(); // next number of each open list; None: bullets
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = html[at..].find('<') {
        let tag = &html[at + i..];
        let open = &tag[..tag.find('>').unwrap_or(tag.len())];
        at += i + 1;
        if tag.starts_with("<ol") {
            let start = open
                .split_once("start=\"")
                .and_then(|(_, r)| r.split_once('"'))
                .and_then(|(n, _)| n.parse().ok());
            lists.push(Some(start.unwrap_or(1)));
        } else if tag.starts_with("<ul") {
            lists.push(None);
        } else if tag.starts_with("</ol") || tag.starts_with("</ul") {
            lists.pop();
        } else if tag.starts_with("<li")
            && let Some(Some(n)) = lists.last_mut()
        {
            let rest = &tag[(open.len() + 1).min(tag.len())..];
            let end = ["<ul", "</li", "<ol"]
                .iter()
                .filter_map(|t| rest.find(t))
                .min()
                .unwrap_or(rest.len());
            out.push((*n, visible(&rest[..end]), at));
            *n += 1;
        }
    }
    out
}

#[test]
fn a_plan_across_many_groups_reads_group_by_group_with_its_step_numbers() {
    let (snap, desired, owned) = crate::render::many_groups_case(6);
    let p = tagsync::plan::plan(&desired, &snap, &owned, &Default::default());
    group_by_group(&p, &snap);
    // The same steps run kind by kind (the groups interleaved): each still shows under
    // its group, with its own number.
    let mut interleaved = p.clone();
    interleaved
        .steps
        .sort_by_key(|s| (tagsync::render::verb(s), s.id));
    for (i, s) in interleaved.steps.iter_mut().enumerate() {
        s.id = i;
    }
    group_by_group(&interleaved, &snap);
}

fn group_by_group(p: &tagsync::plan::Plan, snap: &tagsync::snapshot::Snapshot) {
    assert!(p.steps.len() >= 1 + 6 + 6, "{p:#?}");
    let group_of = |s: &tagsync::plan::Step| match &s.kind {
        StepKind::AddGroup { name, .. } => Some(name.clone()),
        StepKind::AddTags { group_name, .. } => Some(group_name.clone()),
        StepKind::Edit { group, .. } => Some(group.clone()),
        StepKind::Delete { .. } => None,
    };
    let md = tagsync::render::markdown::render(p, &crate::render::context(snap));
    let html = github(&md);
    let details = &html[html.find("<details>").expect("details")..];
    // One heading per group, and one for the delete that spans them.
    let heads: Vec<String> = details
        .split("<h4>")
        .skip(1)
        .map(|h| visible(&h[..h.find("</h4>").expect("closed")]))
        .filter(|h| h != "File-level view")
        .collect();
    assert_eq!(heads.len(), 7, "{heads:?}");
    assert!(heads.contains(&"Across groups (1 step)".to_string()));
    for g in 0..6 {
        let name = format!("组{g}");
        let n = p
            .steps
            .iter()
            .filter(|s| group_of(s).as_ref() == Some(&name))
            .count();
        let head = format!("Group {name} ({n} steps)");
        assert!(heads.contains(&head), "{head} not in {heads:?}");
    }
    // Every step shown once, under its own number, under its group's heading.
    let items = numbered_items(details);
    let mut numbers: Vec<usize> = items.iter().map(|(n, ..)| *n).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=p.steps.len()).collect::<Vec<_>>(),
        "{items:?}"
    );
    for (n, text, at) in &items {
        let step = &p.steps[n - 1];
        assert!(
            text.starts_with(tagsync::render::verb(step)),
            "item {n} shows {text:?}, step {n} is {step:?}"
        );
        let section = details[..*at]
            .rsplit("<h4>")
            .next()
            .map(visible)
            .unwrap_or_default();
        match group_of(step) {
            Some(g) => assert!(section.starts_with(&format!("Group {g} ")), "{section}"),
            None => assert!(section.starts_with("Across groups"), "{section}"),
        }
    }
    assert_no_visible_escapes(&html);
}

#[test]
fn a_shortened_delete_list_points_to_where_the_whole_plan_is() {
    let (snap, desired, owned) = crate::render::big_case(3000, 0);
    let options = tagsync::plan::PlanOptions {
        allow_delete: Some(3000),
        ..Default::default()
    };
    let p = tagsync::plan::plan(&desired, &snap, &owned, &options);
    let mut ctx = crate::render::context(&snap);
    let short = tagsync::render::markdown::render_capped(&p, &ctx, 20_000);
    assert!(
        short.contains(
            "more deleted items: every one is in the output of `tagsync plan --format json`"
        ),
        "{short}"
    );
    ctx.whole_plan = Some("the job summary of this CI run");
    let short = tagsync::render::markdown::render_capped(&p, &ctx, 20_000);
    let top = visible(above_the_fold(&github(&short)));
    assert!(
        top.contains("more deleted items: every one is in the job summary of this CI run"),
        "{top}"
    );
}
