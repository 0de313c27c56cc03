//! Strings from elsewhere (the remote side, the file) made safe for a terminal or Markdown.

/// True for characters that must never reach a terminal raw: C0/C1 controls (escape
/// sequences start here), bidi overrides and isolates, and zero-width characters.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FEFF}' // BOM / zero-width no-break space
        )
}

/// Replace every unsafe character by its `\u{…}` escape, so it is visible and inert.
pub fn for_terminal(s: &str) -> String {
    if !s.chars().any(is_unsafe_char) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Escape a string for Markdown text (inline, in a table cell or a list item).
///
/// `@` and `#` are followed by an empty HTML comment: GitHub and GitLab turn `@name` into
/// a mention (which notifies people) and `#123` into a link to an issue, in the rendered
/// text, whatever the escaping; the comment splits the text there, and shows nothing.
pub fn for_markdown(s: &str) -> String {
    let s = for_terminal(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '@' => out.push_str("@<!-- -->"),
            '#' => out.push_str("\\#<!-- -->"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '+' | '-' | '.' | '!'
            | '|' | '~' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    out
}

/// Prose of our own that quotes names in backticks (a reason, a fix, a hint): each
/// backtick-quoted part is shown in `<code>` instead of as escaped backticks. Markdown
/// is still interpreted between inline HTML tags, so every part, quoted or not, goes
/// through [`for_markdown`]. An odd backtick (a name that holds one) only shifts where
/// the code font starts; nothing is left unescaped either way.
pub fn for_markdown_prose(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(&for_markdown(part));
        } else {
            out.push_str("<code>");
            out.push_str(&for_markdown(part));
            out.push_str("</code>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_bidi_are_made_visible() {
        assert_eq!(for_terminal("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(for_terminal("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(for_terminal("重要客户"), "重要客户");
    }

    #[test]
    fn prose_keeps_code_spans_as_code_and_escapes_everything() {
        assert_eq!(
            for_markdown_prose("run with `--allow-delete 12` (1 tag)"),
            "run with <code>\\-\\-allow\\-delete 12</code> \\(1 tag\\)"
        );
        assert_eq!(
            for_markdown_prose("tag `<b>|*x*` moves"),
            "tag <code>&lt;b\\>\\|\\*x\\*</code> moves"
        );
        assert_eq!(for_markdown_prose("odd ` quote"), "odd <code> quote</code>");
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(for_markdown("<b>|x*"), "&lt;b\\>\\|x\\*");
    }

    #[test]
    fn mentions_and_issue_references_are_split() {
        assert_eq!(for_markdown("@everyone"), "@<!-- -->everyone");
        assert_eq!(for_markdown("see #123"), "see \\#<!-- -->123");
    }
}
