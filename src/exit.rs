//! The process exit codes, shared by the commands and the apply report.

/// Process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success, or no changes.
    Success = 0,
    /// An error: bad file, bad answer, bad arguments.
    Error = 1,
    /// Changes present (only with `--detailed-exitcode`).
    Changes = 2,
    /// Blocked by a safety gate or an ownership refusal: nothing was sent.
    Blocked = 3,
    /// Apply partly failed.
    Partial = 4,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}
