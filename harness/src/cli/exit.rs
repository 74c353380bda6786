use std::process::ExitCode;

/// The exit codes, one meaning each, asserted by the integration tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success: no `must` failed (for `pkce verify`: the verifier matches).
    Ok = 0,
    /// A `must` requirement failed (for `pkce verify`: mismatch).
    Failed = 1,
    /// Bad usage, or a scenario, target or input file that does not load.
    Usage = 2,
    /// The target could not be reached or misbehaved, or a check could not be judged.
    Unreachable = 3,
    /// Stopped by Ctrl-C; the reports hold what finished, marked interrupted.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}
