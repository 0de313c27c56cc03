//! The end report of an apply: each step applied, failed or not attempted, and the
//! verification that followed.

use std::fmt;

use serde::Serialize;

use super::verify::VerifyResult;
use crate::exit::Exit;
use crate::remote::error::{hint, hint_for};
use crate::remote::{ClientError, ErrorKind};
use crate::sanitize::for_terminal;

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepStatus {
    Applied {
        /// Set when the answer was lost and a re-read settled the outcome.
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Failed(Failure),
    NotAttempted {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepOutcome {
    /// Index of the step in the plan.
    pub step_id: usize,
    #[serde(flatten)]
    pub status: StepStatus,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub applied: usize,
    pub failed: usize,
    pub not_attempted: usize,
}

impl Counts {
    pub fn of(steps: &[StepOutcome]) -> Self {
        let mut c = Counts::default();
        for s in steps {
            match s.status {
                StepStatus::Applied { .. } => c.applied += 1,
                StepStatus::Failed(_) => c.failed += 1,
                StepStatus::NotAttempted { .. } => c.not_attempted += 1,
            }
        }
        c
    }
}

/// Why a step failed, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The vendor's name of the call that failed (`add_strategy_tag`, …), when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<&'static str>,
    pub errcode: Option<i64>,
    /// The vendor's message when WeCom answered one, else what went wrong.
    pub errmsg: String,
    /// What the user can do.
    pub hint: String,
    /// The client's classification (`retryable`, `ownership`, `ambiguous`, …).
    pub kind: String,
}

pub(super) fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Retryable => "retryable",
        ErrorKind::Token => "token",
        ErrorKind::Ownership => "ownership",
        ErrorKind::Permission => "permission",
        ErrorKind::Limit => "limit",
        ErrorKind::InvalidRequest => "invalid_request",
        ErrorKind::Ambiguous => "ambiguous",
        ErrorKind::Config => "config",
        ErrorKind::Fatal => "fatal",
    }
}

impl From<&ClientError> for Failure {
    fn from(e: &ClientError) -> Self {
        let errcode = e.errcode();
        let hint = match (errcode, e.kind()) {
            (Some(code), _) => match e.call() {
                Some(call) => hint_for(call, code).to_string(),
                None => hint(code).to_string(),
            },
            (None, ErrorKind::Retryable) => "a transient failure outlasted the retries; \
                 run tagsync again (plan shows what is left)"
                .into(),
            (None, ErrorKind::Ambiguous) => {
                "run `tagsync plan` again: it reads the corp and shows what is left".into()
            }
            (None, _) => "run `tagsync plan` again to see what is left".into(),
        };
        Failure {
            call: e.call().map(|c| c.name()),
            errcode,
            errmsg: e
                .errmsg()
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string()),
            hint,
            kind: kind_name(e.kind()).into(),
        }
    }
}

impl Failure {
    /// A lost answer whose effect could not be confirmed.
    pub(super) fn unresolved(what: String) -> Self {
        Failure {
            errcode: None,
            errmsg: what,
            hint: "run `tagsync plan` again: it reads the corp and shows what is left".into(),
            kind: kind_name(ErrorKind::Ambiguous).into(),
            call: None,
        }
    }
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The plan was blocked: nothing was sent.
    pub refused: bool,
    pub steps: Vec<StepOutcome>,
    pub counts: Counts,
    /// Stopped by a problem outside the steps: the ledger could not be saved (no further
    /// step was started), or it lists adds of an interrupted run that were never settled
    /// (nothing was sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The re-read after the last step (absent when nothing was sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyResult>,
    /// The groups this run made, by the step that made them: checked by the verify.
    #[serde(skip)]
    pub made_groups: Vec<(usize, String)>,
}

impl ApplyReport {
    /// The report of an apply whose plan was empty: nothing sent, nothing to verify.
    pub fn nothing_to_do() -> Self {
        ApplyReport {
            refused: false,
            steps: Vec::new(),
            counts: Counts::default(),
            error: None,
            verify: None,
            made_groups: Vec::new(),
        }
    }

    /// Every step applied (an empty plan counts).
    pub fn all_applied(&self) -> bool {
        !self.refused && self.counts.failed == 0 && self.counts.not_attempted == 0
    }

    /// 0 all applied (and verified when verified); 3 refused, nothing sent; 4 a step
    /// failed or was not attempted, or verification found changes left or could not
    /// read; 1 stopped by [`ApplyReport::error`].
    pub fn exit(&self) -> Exit {
        if self.refused {
            Exit::Blocked
        } else if self.error.is_some() {
            Exit::Error
        } else if !self.all_applied()
            || self
                .verify
                .as_ref()
                .is_some_and(|v| !matches!(v, VerifyResult::Converged))
        {
            Exit::Partial
        } else {
            Exit::Success
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.exit().code()
    }
}

impl fmt::Display for ApplyReport {
    /// A plain summary: one line per step that did not simply apply, then the totals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.refused {
            writeln!(
                f,
                "apply refused: the plan has blocked steps, nothing was sent"
            )?;
        }
        for s in &self.steps {
            match &s.status {
                StepStatus::Applied { note: None } => {}
                StepStatus::Applied { note: Some(n) } => {
                    writeln!(f, "step {}: applied ({})", s.step_id, for_terminal(n))?
                }
                StepStatus::Failed(fl) => {
                    write!(f, "step {}: failed", s.step_id)?;
                    if let Some(code) = fl.errcode {
                        write!(f, " (errcode {code})")?;
                    }
                    writeln!(
                        f,
                        ": {}; {}",
                        for_terminal(&fl.errmsg),
                        for_terminal(&fl.hint)
                    )?;
                }
                StepStatus::NotAttempted { reason } if !self.refused => writeln!(
                    f,
                    "step {}: not attempted: {}",
                    s.step_id,
                    for_terminal(reason)
                )?,
                StepStatus::NotAttempted { reason } => {
                    writeln!(f, "step {}: {}", s.step_id, for_terminal(reason))?
                }
            }
        }
        if let Some(e) = &self.error {
            writeln!(f, "error: {}", for_terminal(e))?;
        }
        let c = self.counts;
        write!(
            f,
            "{} applied, {} failed, {} not attempted",
            c.applied, c.failed, c.not_attempted
        )?;
        match &self.verify {
            None => Ok(()),
            Some(v) => write!(f, "; {v}"),
        }
    }
}
