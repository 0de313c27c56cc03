//! The printed run: the summary table (corp, calls, adds, renames, deletes, blocked,
//! drift, result) and each corp's part, written piece by piece from the [`Spill`]; the
//! Markdown fitted to the PR-comment limit by shortening the largest plans first
//! ([`fit`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write;
use std::io;

use super::output::{
    CorpResult, FLEET_FORMAT_VERSION, FLEET_KIND, FLEET_MARKER, FleetDoc, Outcome, chars, worst,
};
use super::spill::{self, Spill};
use crate::exit::Exit;
use crate::render::{Format, markdown};
use crate::sanitize::{for_markdown, for_terminal};

/// A run's rows (corps without their rendered parts, which are in a [`Spill`]).
#[derive(Debug, Clone)]
pub struct Summary {
    pub mode: String,
    pub shard: Option<String>,
    pub corps: Vec<CorpResult>,
    /// Merged shards: the shards of the run (`N` of `K/N`) whose output is missing.
    pub missing: Vec<String>,
}

impl Summary {
    pub fn exit(&self) -> Exit {
        worst(self.corps.iter().map(CorpResult::exit))
    }

    /// Write the run in `format` to `out`, piece by piece: the summary, then each corp's
    /// part from `spill`.
    pub fn write(
        &self,
        format: Format,
        spill: &Spill,
        out: &mut dyn FnMut(&str) -> io::Result<()>,
    ) -> io::Result<()> {
        match format {
            Format::Text => {
                out(&self.text())?;
                for i in 0..self.corps.len() {
                    out(&spill.get(i, spill::TEXT)?)?;
                }
                Ok(())
            }
            Format::Markdown => self.markdown(spill, out),
            Format::Json => {
                let text = |s: &str| serde_json::Value::from(s).to_string();
                let shard = self
                    .shard
                    .as_ref()
                    .map(|s| format!("  \"shard\": {},\n", text(s)))
                    .unwrap_or_default();
                out(&format!(
                    "{{\n  \"format_version\": {FLEET_FORMAT_VERSION},\n  \"kind\": {},\n  \"mode\": {},\n{shard}  \"exit\": {}",
                    text(FLEET_KIND),
                    text(&self.mode),
                    self.exit().code()
                ))?;
                out(",\n  \"corps\": [")?;
                for i in 0..self.corps.len() {
                    out(if i == 0 { "\n    " } else { ",\n    " })?;
                    out(&spill.get(i, spill::JSON)?)?;
                }
                out("\n  ]\n}\n")
            }
        }
    }

    fn counts(&self) -> String {
        let mut words = Vec::new();
        for o in [
            Outcome::Error,
            Outcome::Partial,
            Outcome::Blocked,
            Outcome::Changes,
            Outcome::Applied,
            Outcome::NoChanges,
        ] {
            let n = self.corps.iter().filter(|c| c.result == o).count();
            if n > 0 {
                words.push(format!("{n} {}", o.word()));
            }
        }
        words.join(", ")
    }

    fn title(&self) -> String {
        let shard = self
            .shard
            .as_ref()
            .map(|s| format!(" (shard {s})"))
            .unwrap_or_default();
        let n = self.corps.len();
        let missing = match self.missing.as_slice() {
            [] => String::new(),
            m => format!(
                " (INCOMPLETE: no output of shard {}: its corps are not in this summary)",
                m.join(", ")
            ),
        };
        format!(
            "tagsync fleet {}{shard}: {n} corp{}: {}{missing}",
            self.mode,
            if n == 1 { "" } else { "s" },
            self.counts()
        )
    }

    fn text(&self) -> String {
        const HEAD: [&str; 8] = [
            "corp", "calls", "adds", "renames", "deletes", "blocked", "drift", "result",
        ];
        let rows: Vec<[String; 8]> = self
            .corps
            .iter()
            .map(|c| c.cells().map(|s| for_terminal(&s)))
            .collect();
        let mut widths = HEAD.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w.saturating_sub(cell.chars().count());
                if (1..7).contains(&i) {
                    let _ = write!(out, "{}{cell}  ", " ".repeat(pad));
                } else {
                    let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
                }
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut out = format!("{}\n\n", self.title());
        out.push_str(&line(&HEAD.map(str::to_owned)));
        for row in &rows {
            out.push_str(&line(row));
        }
        out
    }

    fn markdown(
        &self,
        spill: &Spill,
        out: &mut dyn FnMut(&str) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut head = format!("{FLEET_MARKER}\n## {}\n\n", for_markdown(&self.title()));
        head.push_str(&self.table(markdown::MAX_CHARS / 3));
        out(&head)?;
        let budget = markdown::MAX_CHARS.saturating_sub(chars(&head) + 400);
        let costs: Vec<[usize; 3]> = self.corps.iter().map(|c| c.md_costs).collect();
        let mut left_out = 0;
        for (i, level) in fit(&costs, budget).into_iter().enumerate() {
            match level {
                Some(l) => out(&spill.get(i, spill::MD + l)?)?,
                None => left_out += 1,
            }
        }
        if left_out > 0 {
            out(&format!(
                "\n_{left_out} more corp plans do not fit in this comment: the JSON output (`--format json`) has every one._\n"
            ))?;
        }
        Ok(())
    }

    /// The summary table, at most `cap` characters: corps with something to say first
    /// when not all rows fit.
    fn table(&self, cap: usize) -> String {
        let mut out = String::from(
            "| corp | calls | adds | renames | deletes | blocked | drift | result |\n\
             | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
        );
        let row = |c: &CorpResult| {
            let cells = c.cells().map(|s| for_markdown(&s));
            format!("| {} |\n", cells.join(" | "))
        };
        let all: usize = self.corps.iter().map(|c| chars(&row(c))).sum();
        let quiet = |c: &&CorpResult| c.result == Outcome::NoChanges;
        let mut shown = 0;
        for c in self.corps.iter().filter(|c| all <= cap || !quiet(c)) {
            let r = row(c);
            if chars(&out) + chars(&r) > cap {
                break;
            }
            out.push_str(&r);
            shown += 1;
        }
        let hidden = self.corps.len() - shown;
        if hidden > 0 {
            let _ = writeln!(
                out,
                "\n_{hidden} more corps not listed (those with no changes first): the JSON output has every row._"
            );
        }
        out.push('\n');
        out
    }
}

/// The level (0 whole, 1 shortened, 2 one line; `None` left out) of each section so that
/// all fit in `budget` characters: the largest is shortened first, again and again.
fn fit(costs: &[[usize; 3]], budget: usize) -> Vec<Option<usize>> {
    let mut level: Vec<Option<usize>> = vec![Some(0); costs.len()];
    let mut total: usize = costs.iter().map(|c| c[0]).sum();
    let mut heap: BinaryHeap<(usize, Reverse<usize>)> = costs
        .iter()
        .enumerate()
        .filter(|(_, c)| c[0] > 0)
        .map(|(i, c)| (c[0], Reverse(i)))
        .collect();
    while total > budget {
        let Some((cost, Reverse(i))) = heap.pop() else {
            break;
        };
        total -= cost;
        level[i] = match level[i] {
            Some(l) if l < 2 => Some(l + 1),
            _ => None,
        };
        if let Some(l) = level[i] {
            total += costs[i][l];
            heap.push((costs[i][l], Reverse(i)));
        }
    }
    level
}

/// `docs` (each a shard's `--format json`) as one run: the corps of all, each once.
pub fn merge(docs: Vec<(String, FleetDoc)>) -> Result<Summary, String> {
    let mut mode: Option<String> = None;
    let mut corps: Vec<CorpResult> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    // Which shards of how many came: `K/N` of each document.
    let mut shards: Vec<(u32, u32)> = Vec::new();
    for (name, doc) in docs {
        if let Some((k, n)) = doc.shard.as_deref().and_then(|s| s.split_once('/'))
            && let (Ok(k), Ok(n)) = (k.parse(), n.parse())
        {
            shards.push((k, n));
        }
        if doc.kind != FLEET_KIND || doc.format_version != FLEET_FORMAT_VERSION {
            return Err(format!(
                "{name} is not a tagsync fleet JSON document of format version {FLEET_FORMAT_VERSION} (write it with `tagsync fleet plan --format json`)"
            ));
        }
        match &mode {
            Some(m) if *m != doc.mode => {
                return Err(format!(
                    "{name} is of a fleet {}, the others of a fleet {m}: merge the shards of one run",
                    doc.mode
                ));
            }
            _ => mode = Some(doc.mode.clone()),
        }
        for c in doc.corps {
            if let Some(first) = seen.insert(c.id.clone(), name.clone()) {
                return Err(format!(
                    "corp `{}` is in both {first} and {name}: give each shard's output once",
                    c.id
                ));
            }
            corps.push(c);
        }
    }
    // A shard whose job failed or was cancelled left no output: say so, never a summary
    // that looks whole.
    let mut missing = Vec::new();
    if let Some(&(_, n)) = shards.first() {
        for k in 1..=n {
            if !shards.iter().any(|&(sk, sn)| sk == k && sn == n) {
                missing.push(format!("{k}/{n}"));
            }
        }
    }
    corps.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Summary {
        mode: mode.unwrap_or_else(|| "plan".into()),
        shard: None,
        corps,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: String, result: Outcome) -> CorpResult {
        serde_json::from_value(serde_json::json!({
            "id": id, "corp_id": format!("ww-{id}"), "files": [], "result": result,
            "exit": 0, "calls": 1, "adds": 1, "renames": 0, "deletes": 0, "blocked": 0,
            "drift": 0
        }))
        .unwrap()
    }

    #[test]
    fn a_table_too_long_lists_the_corps_with_something_to_say_first() {
        let corps = (0..1_000)
            .map(|i| {
                let result = if i % 100 == 7 {
                    Outcome::Changes
                } else {
                    Outcome::NoChanges
                };
                row(format!("corp{i:04}"), result)
            })
            .collect();
        let s = Summary {
            mode: "plan".into(),
            shard: None,
            corps,
            missing: Vec::new(),
        };
        let table = s.table(5_000);
        assert!(chars(&table) <= 5_000 + 200, "{}", chars(&table));
        for i in (0..1_000).filter(|i| i % 100 == 7) {
            assert!(
                table.contains(&format!("| corp{i:04} |")),
                "corp{i:04}: {table}"
            );
        }
        assert!(!table.contains("| corp0000 |"), "{table}");
        assert!(table.contains("990 more corps not listed"), "{table}");
        // A short table lists everyone, in fleet order.
        let few = Summary {
            corps: s.corps[..5].to_vec(),
            ..s.clone()
        };
        let table = few.table(5_000);
        assert!(table.find("corp0000").unwrap() < table.find("corp0004").unwrap());
    }

    #[test]
    fn the_largest_sections_are_shortened_first() {
        let s = |n: usize| [n, n / 10, 5];
        let sections = vec![s(1000), s(100), s(5000)];
        assert_eq!(fit(&sections, 10_000), vec![Some(0); 3]);
        assert_eq!(fit(&sections, 2_000), vec![Some(0), Some(0), Some(1)]);
        assert_eq!(fit(&sections, 700), vec![Some(1), Some(0), Some(1)]);
        assert_eq!(fit(&sections, 15), vec![Some(2), Some(2), Some(2)]);
        assert_eq!(fit(&sections, 10), vec![None, Some(2), Some(2)]);
    }
}
