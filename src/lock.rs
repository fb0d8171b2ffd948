//! One run at a time in an output folder: a run holds `OUT/.rewire.lock` (its process id) while it
//! writes there. A second run into the same folder is refused with the first's process id; a lock
//! left by a process that no longer exists (a crash, `kill -9`) is recognised as stale and taken
//! over, with a warning.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name inside an output folder.
pub const LOCK_FILE: &str = ".rewire.lock";

/// A held lock; dropping it removes the file (if it is still this process's).
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
}

/// Whether process `pid` exists. Where the system cannot tell (no /proc), every holder counts as
/// alive, so a lock is never taken from a running process; the refusal says how to clear it.
fn alive(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// The refusal of a folder that process `pid` holds.
fn held(out: &Path, pid: u32) -> Error {
    Error::Usage(format!(
        "{}: another rewire run (process {pid}{}) is writing into this folder; wait for it or give another \
         output folder (if no such run is active, delete {})",
        out.display(),
        if pid == std::process::id() { ", this one" } else { "" },
        out.join(LOCK_FILE).display()
    ))
}

/// Refuses when a live process holds folder `out`'s lock (before removing or reusing the folder
/// without taking the lock itself, as a sweep clearing an unfinished scenario does). A folder
/// without a lock, or with a stale one, is free.
pub fn check_free(out: &Path) -> Result<()> {
    let text = std::fs::read_to_string(out.join(LOCK_FILE)).unwrap_or_default();
    match text.trim().parse::<u32>() {
        Ok(pid) if alive(pid) => Err(held(out, pid)),
        _ => Ok(()),
    }
}

impl OutputLock {
    /// Takes the lock of folder `out` (creating the folder), or refuses: another live process, or
    /// another run of this one, holds it.
    pub fn acquire(out: &Path) -> Result<OutputLock> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let path = out.join(LOCK_FILE);
        let me = std::process::id();
        for _ in 0..2 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    f.write_all(format!("{me}\n").as_bytes())
                        .map_err(|e| Error::io(&path, e))?;
                    return Ok(OutputLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    match text.trim().parse::<u32>() {
                        Ok(pid) if alive(pid) => return Err(held(out, pid)),
                        _ => {
                            log::warn!(
                                "{}: stale lock ({}) of a run that no longer exists; taking it over",
                                path.display(),
                                if text.trim().is_empty() { "empty" } else { text.trim() }
                            );
                            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                        }
                    }
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::Usage(format!(
            "{}: the lock changed hands while it was taken; another run is starting in this folder",
            path.display()
        )))
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let mine = std::fs::read_to_string(&self.path).is_ok_and(|t| t.trim().parse::<u32>() == Ok(std::process::id()));
        if mine {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
