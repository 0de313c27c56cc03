//! Problems found in the desired-state file, rendered like rustc diagnostics:
//!
//! ```text
//! error: tag `VIP` is listed twice in group `客户等级`
//!  --> tags.yaml:7:9
//!   |
//! 7 |       - VIP
//!   |         ^^^ listed again here
//!   |
//!  ::: tags.yaml:5:9
//!   |
//! 5 |       - VIP
//!   |         --- first listed here
//!   = help: remove one of them
//! ```
//!
//! Plain text, no colour, deterministic. Source lines are shown with unsafe characters
//! (controls, bidi, zero-width) escaped, so a hostile file cannot drive the terminal.

use std::fmt;

use serde_saphyr::Location;
use unicode_width::UnicodeWidthChar;

use crate::sanitize::unsafe_at;

/// A position in the file: 1-based line and column (in characters), and how many
/// characters to underline (at least one is drawn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub len: usize,
}

impl Pos {
    pub fn new(line: usize, column: usize, len: usize) -> Self {
        Pos { line, column, len }
    }

    /// The start of the file, for problems that belong to no particular place.
    pub const START: Pos = Pos {
        line: 1,
        column: 1,
        len: 0,
    };

    /// No place in the file: the file itself could not be read.
    pub const NONE: Pos = Pos {
        line: 0,
        column: 0,
        len: 0,
    };

    /// Whether this is a place in the file (not [`Pos::NONE`]).
    pub fn is_known(&self) -> bool {
        self.line > 0
    }

    /// From a serde-saphyr location; `None` when the location is unknown.
    pub fn from_location(loc: &Location) -> Option<Pos> {
        let line = usize::try_from(loc.line()).ok()?;
        let column = usize::try_from(loc.column()).ok()?;
        if line == 0 || column == 0 {
            return None;
        }
        let len = usize::try_from(loc.span().len()).unwrap_or(0);
        Some(Pos { line, column, len })
    }
}

/// One secondary place, e.g. where a duplicate was first seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub pos: Pos,
    pub label: String,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub pos: Pos,
    /// Text under the primary caret.
    pub label: String,
    pub notes: Vec<Note>,
    /// A one-line fix hint.
    pub help: String,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, pos: Pos, help: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            pos,
            label: String::new(),
            notes: Vec::new(),
            help: help.into(),
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn note(mut self, pos: Pos, label: impl Into<String>) -> Self {
        self.notes.push(Note {
            pos,
            label: label.into(),
        });
        self
    }
}

/// Every problem of one file, with the file's text so they can be rendered.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub file_name: String,
    source: String,
    pub items: Vec<Diagnostic>,
    /// Several files read as one ([`Diagnostics::spanning`]): the line of `source` each
    /// starts at (0-based) and its name, in order.
    parts: Vec<(usize, String)>,
}

impl Diagnostics {
    pub fn new(file_name: &str, source: &str, mut items: Vec<Diagnostic>) -> Self {
        items.sort_by_key(|d| (d.pos.line, d.pos.column));
        Diagnostics {
            file_name: file_name.to_owned(),
            source: source.to_owned(),
            items,
            parts: Vec::new(),
        }
    }

    /// Problems of several files read as one text (`source`, the files one after the
    /// other): `parts` gives the line each file starts at (0-based) and its name, and
    /// every place is shown as `file:line:column` of its own file.
    pub fn spanning(parts: Vec<(usize, String)>, source: &str, items: Vec<Diagnostic>) -> Self {
        let names: Vec<&str> = parts.iter().map(|(_, n)| n.as_str()).collect();
        let mut d = Diagnostics::new(&names.join(" + "), source, items);
        d.parts = parts;
        d
    }

    /// The file and its own line number of a line of the source.
    fn place(&self, line: usize) -> (String, usize) {
        match self.parts.iter().rev().find(|(start, _)| *start < line) {
            Some((start, name)) => (sanitize_line(name).0, line - start),
            None => (sanitize_line(&self.file_name).0, line),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl std::error::Error for Diagnostics {}

/// The most problems shown in full; the rest are counted (a generated file can have
/// hundreds of thousands, and megabytes of output help nobody).
pub const MAX_SHOWN: usize = 100;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.items.iter().any(|d| d.pos.is_known()) {
            // The file could not be read: no place to show, no "has N problems".
            for (i, d) in self.items.iter().enumerate() {
                if i > 0 {
                    writeln!(f)?;
                }
                write!(
                    f,
                    "error: {}\n  = help: {}",
                    sanitize_line(&d.message).0,
                    sanitize_line(&d.help).0
                )?;
            }
            return Ok(());
        }
        let lines: Vec<&str> = self.source.lines().collect();
        let file = sanitize_line(&self.file_name).0;
        for d in self.items.iter().take(MAX_SHOWN) {
            let mut max_line = self.place(d.pos.line).1;
            for n in &d.notes {
                max_line = max_line.max(self.place(n.pos.line).1);
            }
            let gutter = max_line.to_string().len();
            let pad = " ".repeat(gutter);
            writeln!(f, "error: {}", sanitize_line(&d.message).0)?;
            if d.pos.is_known() {
                let (file, line) = self.place(d.pos.line);
                writeln!(f, "{pad}--> {file}:{line}:{}", d.pos.column)?;
                snippet(f, &lines, &pad, (d.pos, line), '^', &d.label)?;
            }
            for n in &d.notes {
                let (file, line) = self.place(n.pos.line);
                writeln!(f, "{pad} |")?;
                writeln!(f, "{pad}::: {file}:{line}:{}", n.pos.column)?;
                snippet(f, &lines, &pad, (n.pos, line), '-', &n.label)?;
            }
            writeln!(f, "{pad} = help: {}", sanitize_line(&d.help).0)?;
            writeln!(f)?;
        }
        // Problems of the content; a line with no place (such as a header) is not one.
        let n = self.items.iter().filter(|d| d.pos.is_known()).count();
        if self.items.len() > MAX_SHOWN {
            writeln!(
                f,
                "… and {} more problems not shown (the first {MAX_SHOWN} are above: fix them, then validate again)\n",
                self.items.len() - MAX_SHOWN
            )?;
        }
        write!(
            f,
            "error: {} has {n} problem{}",
            file,
            if n == 1 { "" } else { "s" }
        )
    }
}

/// The source line of `pos` with a marker row underneath; `shown` is the line number
/// shown (its own file's, for several files read as one).
fn snippet(
    f: &mut fmt::Formatter<'_>,
    lines: &[&str],
    pad: &str,
    (pos, shown): (Pos, usize),
    mark: char,
    label: &str,
) -> fmt::Result {
    writeln!(f, "{pad} |")?;
    let Some(text) = pos.line.checked_sub(1).and_then(|i| lines.get(i)) else {
        return Ok(());
    };
    // Very long lines (a 20 MB one-liner) are cut around the column.
    let (text, width_before, width_marked) = visible(text, pos.column, pos.len.max(1));
    writeln!(f, "{shown:>w$} | {text}", w = pad.len())?;
    let marks: String = std::iter::repeat_n(mark, width_marked.max(1)).collect();
    let label = sanitize_line(label).0;
    let sep = if label.is_empty() { "" } else { " " };
    writeln!(f, "{pad} | {}{marks}{sep}{label}", " ".repeat(width_before))
}

/// How many characters of context to keep on each side of the column on long lines.
const CONTEXT_CHARS: usize = 60;

/// The displayable part of a line and the display widths before and under the marker.
fn visible(text: &str, column: usize, len: usize) -> (String, usize, usize) {
    let start = column.saturating_sub(1).saturating_sub(CONTEXT_CHARS);
    let end = column.saturating_sub(1) + len.max(CONTEXT_CHARS);
    let mut out = String::new();
    let mut before = 0;
    let mut marked = 0;
    if start > 0 {
        out.push('…');
        before += 1;
    }
    let mut truncated_end = false;
    let mut prev = None;
    for (i, c) in text.chars().enumerate() {
        let before_c = prev.replace(c);
        if i < start {
            continue;
        }
        if i >= end {
            truncated_end = true;
            break;
        }
        let (s, w) = show_char(before_c, c);
        out.push_str(&s);
        let idx = i + 1;
        if idx < column {
            before += w;
        } else if idx < column + len {
            marked += w;
        }
    }
    if truncated_end {
        out.push('…');
    }
    (out, before, marked)
}

/// A character (after `prev`) as shown in a snippet, and its display width.
fn show_char(prev: Option<char>, c: char) -> (String, usize) {
    if c == '\t' {
        ("    ".to_owned(), 4)
    } else if unsafe_at(prev, c) {
        let s = format!("\\u{{{:x}}}", c as u32);
        let w = s.len();
        (s, w)
    } else {
        (c.to_string(), c.width().unwrap_or(0))
    }
}

/// A string with unsafe characters escaped, and its display width.
fn sanitize_line(s: &str) -> (String, usize) {
    let mut out = String::with_capacity(s.len());
    let mut width = 0;
    let mut prev = None;
    for c in s.chars() {
        let (shown, w) = if c == '\n' || c == '\r' {
            (" ".to_owned(), 1)
        } else {
            show_char(prev, c)
        };
        prev = Some(c);
        out.push_str(&shown);
        width += w;
    }
    (out, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_wide_characters() {
        let src = "a: 客户 VIP\n";
        let d = Diagnostic::new("bad", Pos::new(1, 7, 3), "fix it").label("here");
        let out = Diagnostics::new("t.yaml", src, vec![d]).to_string();
        assert!(out.contains(" --> t.yaml:1:7"), "{out}");
        // "a: " is 3 columns, "客户 " is 5 columns: the caret starts at display column 8.
        assert!(out.contains("  |         ^^^ here"), "{out}");
        assert!(out.contains("  = help: fix it"), "{out}");
    }

    #[test]
    fn control_characters_are_escaped_in_snippets() {
        let src = "- \u{1b}[31mred\n";
        let d = Diagnostic::new("bad", Pos::new(1, 3, 1), "fix");
        let out = Diagnostics::new("t.yaml", src, vec![d]).to_string();
        assert!(!out.contains('\u{1b}'));
        assert!(out.contains("\\u{1b}[31mred"), "{out}");
    }

    #[test]
    fn a_problem_without_a_place_has_no_position_line() {
        let d = Diagnostic::new(
            "no tags.yaml in the current directory",
            Pos::NONE,
            "pass -c",
        );
        let out = Diagnostics::new("tags.yaml", "", vec![d]).to_string();
        assert_eq!(
            out,
            "error: no tags.yaml in the current directory\n  = help: pass -c"
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let src = "x".repeat(100_000);
        let d = Diagnostic::new("bad", Pos::new(1, 50_000, 1), "fix");
        let out = Diagnostics::new("t.yaml", &src, vec![d]).to_string();
        assert!(out.len() < 1_000, "{}", out.len());
    }
}
