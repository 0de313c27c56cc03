//! Strings from elsewhere (the remote side, the file) made safe for a terminal or Markdown.

use unicode_properties::{GeneralCategory, UnicodeEmoji, UnicodeGeneralCategory};

/// True for characters that must never reach a terminal raw nor a name, by one rule:
/// - the Unicode general categories Cc (controls: escape sequences start here), Cf
///   (format: bidi controls, zero-width characters, soft hyphen, tag characters,
///   U+061C, U+180E, U+FFF9–FFFB…), Zl and Zp (line and paragraph separators), Co
///   (private use) and Cn (unassigned, noncharacters such as U+FFFE);
/// - characters that are letters or symbols by category but show as blank: the Hangul
///   fillers (U+115F, U+1160, U+3164, U+FFA0), the braille blank U+2800, the combining
///   grapheme joiner U+034F, the Khmer inherent vowels U+17B4–17B5 and the musical null
///   notehead U+1D159.
///
/// Variation selectors are judged with the character before them: see [`unsafe_at`].
pub fn is_unsafe_char(c: char) -> bool {
    // Printable ASCII and the CJK ideographs of Unicode 1.1, most of every name, without
    // the table lookups (a fifth of a 10,000-tag validation went to them).
    if matches!(c, ' '..='~' | '\u{4E00}'..='\u{9FA5}') {
        return false;
    }
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
    ) || matches!(
        c,
        '\u{115F}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{2800}'
            | '\u{034F}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{1D159}'
    )
}

/// A variation selector (U+FE00–FE0F, U+E0100–E01EF, the Mongolian U+180B–180D and
/// U+180F): it changes how the character before it is drawn, and is invisible on its own.
fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' | '\u{180B}'..='\u{180D}' | '\u{180F}')
}

/// A CJK unified or compatibility ideograph (what an ideographic variation sequence,
/// U+E0100–E01EF, may follow).
fn is_ideograph(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3FFFF}')
}

/// Whether `c`, coming after `prev`, is unsafe: [`is_unsafe_char`], except the parts of
/// emoji and ideographic sequences that are drawn as one picture: a variation selector
/// after an emoji (`❤️` is U+2764 U+FE0F), an ideographic variation selector after an
/// ideograph, and a zero-width joiner after an emoji (`👨‍👩`). Any other variation
/// selector is unsafe.
pub fn unsafe_at(prev: Option<char>, c: char) -> bool {
    if !(c == '\u{200D}' || is_variation_selector(c)) {
        return is_unsafe_char(c);
    }
    let after_emoji = prev.is_some_and(|p| p.is_emoji_char() && !p.is_ascii());
    if c == '\u{200D}' {
        return !(after_emoji || prev == Some('\u{FE0F}'));
    }
    if is_variation_selector(c) {
        let ideographic = matches!(c, '\u{E0100}'..='\u{E01EF}') && prev.is_some_and(is_ideograph);
        return !(ideographic || (after_emoji && !prev.is_some_and(is_variation_selector)));
    }
    is_unsafe_char(c)
}

/// The first unsafe character of `s` ([`unsafe_at`]), if any.
pub fn first_unsafe(s: &str) -> Option<char> {
    let mut prev = None;
    for c in s.chars() {
        if unsafe_at(prev, c) {
            return Some(c);
        }
        prev = Some(c);
    }
    None
}

/// Whether `s` shows anything: it has a character that is not white space, not unsafe
/// and not a combining mark.
pub fn has_visible_char(s: &str) -> bool {
    s.chars().any(|c| {
        !c.is_whitespace()
            && !is_unsafe_char(c)
            && !is_variation_selector(c)
            && !matches!(
                c.general_category(),
                GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark
            )
    })
}

/// Replace every unsafe character by its `\u{…}` escape, so it is visible and inert.
pub fn for_terminal(s: &str) -> String {
    if first_unsafe(s).is_none() {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev = None;
    for c in s.chars() {
        if unsafe_at(prev, c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
        prev = Some(c);
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
            // `GH-123` links an issue too.
            '-' if out.to_ascii_lowercase().ends_with("gh") => out.push_str("<!-- -->\\-"),
            // `$`: GitHub renders `$…$` as math (`$\Huge{APPROVED}$` would shout).
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '+' | '-' | '.' | '!'
            | '|' | '~' | '>' | '$' => {
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
/// through [`for_markdown`].
///
/// A name may hold a backtick itself. A backtick opens a quote only at the start or after
/// white space or an opening bracket, and closes one only at the end or before white
/// space or punctuation; any other backtick is part of the name and stays in its quote.
/// So `` `a`b` `` is the one name a`b.
pub fn for_markdown_prose(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let can_open =
        |i: usize| i == 0 || chars[i - 1].is_whitespace() || "([{\"'".contains(chars[i - 1]);
    let can_close = |i: usize| {
        i + 1 == chars.len()
            || chars[i + 1].is_whitespace()
            || ")]},.;:!?'\"".contains(chars[i + 1])
    };
    let mut out = String::with_capacity(s.len() + 16);
    let mut part = String::new();
    let mut in_code = false;
    for (i, &c) in chars.iter().enumerate() {
        let delimiter = c == '`'
            && if in_code {
                can_close(i)
            } else {
                can_open(i) && chars[i + 1..].contains(&'`')
            };
        if !delimiter {
            part.push(c);
            continue;
        }
        if in_code {
            out.push_str("<code>");
            out.push_str(&for_markdown(&part));
            out.push_str("</code>");
        } else {
            out.push_str(&for_markdown(&part));
        }
        part.clear();
        in_code = !in_code;
    }
    if in_code {
        // An opening quote that never closed: the backtick is text.
        out.push_str(&for_markdown("`"));
    }
    out.push_str(&for_markdown(&part));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_by_category_and_blank_lookalikes() {
        for c in [
            '\u{061C}',
            '\u{2028}',
            '\u{2029}',
            '\u{00AD}',
            '\u{180E}',
            '\u{FFF9}',
            '\u{FFFB}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{206A}',
            '\u{3164}',
            '\u{115F}',
            '\u{FFA0}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{10FFFF}',
            '\u{E000}',
            '\u{2800}',
            '\u{200B}',
            '\u{202E}',
            '\u{1b}',
        ] {
            assert!(is_unsafe_char(c), "U+{:04X}", c as u32);
            assert_eq!(
                for_terminal(&format!("a{c}b")),
                format!("a\\u{{{:x}}}b", c as u32)
            );
        }
        for c in ['a', '重', ' ', 'é', '😀', '\u{2764}'] {
            assert!(!is_unsafe_char(c), "U+{:04X}", c as u32);
        }
        // A variation selector after an emoji draws it; alone or after a letter, it hides.
        assert_eq!(first_unsafe("\u{2764}\u{FE0F}"), None);
        assert_eq!(
            first_unsafe("\u{1F468}\u{200D}\u{1F469}"),
            None,
            "a ZWJ emoji sequence"
        );
        assert_eq!(
            first_unsafe("\u{845B}\u{E0100}"),
            None,
            "an ideographic variation"
        );
        assert_eq!(first_unsafe("x\u{180B}"), Some('\u{180B}'));
        assert_eq!(first_unsafe("a\u{200D}b"), Some('\u{200D}'));
        assert!(is_unsafe_char('\u{1D159}'));
        assert_eq!(first_unsafe("a\u{FE0F}"), Some('\u{FE0F}'));
        assert_eq!(first_unsafe("\u{FE0F}"), Some('\u{FE0F}'));
        assert!(has_visible_char("a\u{3164}"));
        assert!(!has_visible_char("\u{3164}\u{2800}"));
        assert!(!has_visible_char("\u{0301}\u{0301}"));
    }

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
        // A backtick that cannot open or close a quote is text, escaped.
        assert_eq!(for_markdown_prose("odd ` quote"), "odd \\` quote");
        // A name holding backticks stays one code span.
        assert_eq!(
            for_markdown_prose("tag `a`b` and `c``"),
            "tag <code>a\\`b</code> and <code>c\\`</code>"
        );
        assert_eq!(
            for_markdown_prose("(`x`), `y`."),
            "\\(<code>x</code>\\), <code>y</code>\\."
        );
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(for_markdown("<b>|x*"), "&lt;b\\>\\|x\\*");
    }

    #[test]
    fn mentions_and_issue_references_are_split() {
        assert_eq!(for_markdown("@everyone"), "@<!-- -->everyone");
        assert_eq!(for_markdown("see #123"), "see \\#<!-- -->123");
        assert_eq!(for_markdown("GH-9 gh-1"), "GH<!-- -->\\-9 gh<!-- -->\\-1");
        assert_eq!(for_markdown("$\\Huge{X}$"), "\\$\\\\Huge\\{X\\}\\$");
    }
}
