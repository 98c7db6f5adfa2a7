//! Error types shared across modules.
//!
//! Modules keep their own typed errors (`thiserror`); the CLI wraps them in
//! `anyhow` with context, and [`crate::cli::exit_code`] is the one place that
//! turns an error into a process exit code.

/// A command that ends with a specific exit status rather than an error
/// message: a container's own exit code, or a lookup that already printed
/// what docker prints (e.g. `inspect` of a missing object).
#[derive(Debug, thiserror::Error)]
#[error("exit status {code}")]
pub struct ExitStatus {
    pub code: i32,
    /// Text for stderr, if the command has not printed it yet.
    pub message: Option<String>,
}

impl ExitStatus {
    pub fn new(code: i32) -> Self {
        ExitStatus {
            code,
            message: None,
        }
    }
    pub fn with_message(code: i32, message: impl Into<String>) -> Self {
        ExitStatus {
            code,
            message: Some(message.into()),
        }
    }
}

/// A feature berth does not have yet: always reported, never a silent success
/// (exit code 125, as for any berth error in `run`).
#[derive(Debug, thiserror::Error)]
#[error("{0} is not implemented in berth yet")]
pub struct NotImplemented(pub String);
