//! The library's one error type.

use std::path::PathBuf;

/// Everything the library can report to a user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scene file could not be read, parsed or validated.
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Scene {
        file: String,
        line: usize,
        column: usize,
        /// The path of the offending field, e.g. `projections[2].to`.
        field: String,
        message: String,
    },
    /// An input or output file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A run folder's output file is malformed (read back for figures or comparisons).
    #[error("{path}: {message}")]
    Data { path: PathBuf, message: String },
    /// A connectome zip (The Virtual Brain's format) is malformed: a member is missing, not
    /// numbers, or of the wrong size.
    #[error("{path}: {member}: {message}")]
    Connectome {
        path: PathBuf,
        member: String,
        message: String,
    },
    /// A checkpoint file cannot be used: not one, another format version, truncated, corrupt, or
    /// from another scene or adapter.
    #[error("{path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    /// A run stopped on request (Ctrl-C, SIGTERM) after writing a checkpoint.
    #[error("{0}")]
    Interrupted(String),
    /// Options that do not apply to the scene.
    #[error("{0}")]
    Usage(String),
    /// No usable GPU adapter, or the device could not be created.
    #[error("GPU: {0}")]
    Gpu(String),
    /// The scene needs more GPU memory than the adapter allows.
    #[error(
        "scene too large for adapter {adapter}: {what} needs {} ({needed} bytes), the adapter allows {} ({available} bytes)",
        human_bytes(*needed),
        human_bytes(*available)
    )]
    TooLarge {
        adapter: String,
        what: String,
        needed: u64,
        available: u64,
    },
    /// The scene needs more of something counted (synapse slots) than one network holds.
    #[error("scene too large for {adapter}: {what}; at most {available} fit")]
    TooMany {
        adapter: String,
        what: String,
        needed: u64,
        available: u64,
    },
    /// The network state became invalid during a run.
    #[error("simulation stopped: {0}")]
    Numerics(String),
    /// A run that failed after writing a checkpoint (a full disk, a lost device): the cause, and
    /// the checkpoint to continue from once it is fixed.
    #[error(
        "{cause}\nthe run stopped; its last checkpoint, from step {step} before the failure, is intact: once the \
         cause is fixed, continue with `rewire resume {}`",
        checkpoint.display()
    )]
    Stopped {
        cause: Box<Error>,
        checkpoint: PathBuf,
        step: u64,
    },
}

/// Shorthand used across the library.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Bytes in binary units, e.g. "1.50 GiB".
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut x = b as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < UNITS.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} bytes")
    } else {
        format!("{x:.2} {}", UNITS[u])
    }
}
