//! Files that appear whole or not at all: written under `NAME.partial`, renamed when complete.
//! Report, checkpoint, connectome, sweep and Slurm outputs all go through here.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary name a file is written under: `path` with `.partial` appended.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    PathBuf::from(tmp)
}

/// Writes `bytes` to `path` through `path.partial`, renamed when complete (flushed to disk first
/// when `sync`), so an interrupted write never leaves a half file under the real name. When the
/// write fails (a full disk, a folder turned read-only) the partial file is removed, so that it
/// takes no space, and whatever was under `path` before is left as it was.
pub fn write_file(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    let tmp = partial_path(path);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
        if sync {
            f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        }
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_partial() {
        let dir = std::env::temp_dir().join(format!("rewire-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.txt");
        write_file(&path, b"one", false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        assert!(!partial_path(&path).exists());
        // The rename fails: the target is a non-empty folder.
        let blocked = dir.join("b");
        std::fs::create_dir_all(blocked.join("inside")).unwrap();
        let e = write_file(&blocked, b"two", false).unwrap_err();
        assert!(e.to_string().contains("b"), "{e}");
        assert!(!partial_path(&blocked).exists(), "the partial file is removed");
        assert!(blocked.join("inside").is_dir(), "what was there is kept");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
