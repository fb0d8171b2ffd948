//! Disk faults during a run: a disk that fills, a folder that stops taking new files, a folder on
//! a read-only file system. The run stops with the file and the reason, the last checkpoint and
//! the finished files stay intact, no half-written file takes a real name, and `rewire resume`
//! continues to the same results once the fault is gone.
//!
//! The faults are real: a small tmpfs mounted for the test (which needs root, as CI runs), and a
//! run as an unprivileged user whose folder's write permission is taken away mid-run. A machine
//! where the tmpfs cannot be mounted fails these tests loudly rather than skipping them.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The deafferentation scene (structural plasticity) on the CPU twin: 20 s simulated, a
/// checkpoint of about 3.5 MB.
const SCENE: &str = "scenes/deafferentation.ron";
const FILES: [&str; 4] = common::STRUCTURE_TABLES;

/// A tmpfs of `size` mounted at `path` for the life of the value.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, options: &str) -> Tmpfs {
        std::fs::create_dir_all(path).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(path)
            .output()
            .expect("mount(8) must exist");
        assert!(
            o.status.success(),
            "disk-fault tests mount a small tmpfs, which needs root (CAP_SYS_ADMIN); mount said: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Tmpfs(path.to_path_buf())
    }
    fn remount(&self, options: &str) {
        let o = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn run(rewire: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(rewire);
    c.args(["run", SCENE, "--cpu", "--duration", "20000", "--out"])
        .arg(out)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// The run that never stopped, into `dir/straight`.
fn straight(dir: &Path) -> PathBuf {
    let out = dir.join("straight");
    let ok = run(Path::new(env!("CARGO_BIN_EXE_rewire")), &out, &[])
        .status()
        .unwrap()
        .success();
    assert!(ok, "the straight run failed");
    out
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// No file in `dir` is a half-written one under a real name: every table there either reads as
/// whole lines or is still called `NAME.partial`.
fn no_half_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".csv") {
            let t = std::fs::read_to_string(&p).unwrap();
            assert!(t.ends_with('\n'), "{name} ends mid-line");
        }
    }
}

#[test]
fn a_disk_that_fills_mid_run_keeps_the_last_checkpoint_and_resumes_once_space_is_back() {
    let dir = common::temp_dir("disk-full");
    let straight = straight(&dir);

    // 6 MB: room for the first checkpoint (3.5 MB) and the tables, not for a second checkpoint
    // beside it (a checkpoint is written whole under a temporary name before the old one goes).
    let disk = Tmpfs::mount(&dir.join("disk"), "size=6m");
    let out = disk.0.join("out");
    let o = run(
        Path::new(env!("CARGO_BIN_EXE_rewire")),
        &out,
        &["--checkpoint-every", "2s"],
    )
    .output()
    .unwrap();
    let ckpt = out.join("checkpoint.rwck");
    common::stopped_after_checkpoint(&o, &ckpt, 2000, &["No space left on device", "checkpoint.rwck.partial"]);
    // The last good checkpoint is whole; the failed one left nothing; the folder is unlocked.
    let c = rewire::checkpoint::read(&ckpt).unwrap();
    assert_eq!(c.header.position.step, 2000);
    assert!(!out.join("checkpoint.rwck.partial").exists());
    assert!(!out.join(rewire::lock::LOCK_FILE).exists());
    assert!(!out.join("summary.json").exists(), "an unfinished run has no summary");
    no_half_files(&out);

    // Space is back: the run continues from the checkpoint to the straight run's results.
    disk.remount("size=64m");
    let o = common::rewire().arg("resume").arg(&ckpt).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    common::same_files(&straight, &out, &FILES);
    let _ = std::fs::remove_dir_all(&straight);
}

#[test]
fn a_folder_that_stops_taking_files_mid_run_keeps_the_last_checkpoint() {
    // Root writes through any permission, so the run is made as an unprivileged user (nobody),
    // from a copy of the program in a folder that user can read.
    const NOBODY: u32 = 65534;
    let dir = common::temp_dir("read-only");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.join("rewire");
    std::fs::copy(env!("CARGO_BIN_EXE_rewire"), &exe).unwrap();
    std::fs::create_dir_all(dir.join("scenes")).unwrap();
    std::fs::copy(SCENE, dir.join(SCENE)).unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::chown(&out, Some(NOBODY), Some(NOBODY)).unwrap();

    let mut child = run(&exe, &out, &["--checkpoint-every", "2s"]);
    child.current_dir(&dir).uid(NOBODY).gid(NOBODY);
    let mut child = child.spawn().unwrap();
    // Once the first checkpoint is there, the folder takes no new files.
    let ckpt = out.join("checkpoint.rwck");
    let t0 = std::time::Instant::now();
    while !ckpt.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its first checkpoint"
        );
        assert!(t0.elapsed().as_secs() < 120, "no checkpoint after 120 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    let o = child.wait_with_output().unwrap();
    let c = rewire::checkpoint::read(&ckpt).unwrap();
    let step = c.header.position.step;
    assert!(step > 0 && step.is_multiple_of(2000) && step < 20000, "{step}");
    common::stopped_after_checkpoint(&o, &ckpt, step, &["Permission denied"]);
    no_half_files(&out);

    // Writable again: resumed, the run ends as one that never stopped.
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = common::rewire().arg("resume").arg(&ckpt).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    common::same_files(&straight(&dir), &out, &FILES);
}

#[test]
fn a_read_only_file_system_is_refused_at_the_first_file() {
    let dir = common::temp_dir("ro-fs");
    let disk = Tmpfs::mount(&dir.join("disk"), "size=1m");
    std::fs::create_dir_all(disk.0.join("out")).unwrap();
    disk.remount("ro");
    let out = disk.0.join("out");
    let o = run(Path::new(env!("CARGO_BIN_EXE_rewire")), &out, &[])
        .output()
        .unwrap();
    let e = text(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("Read-only file system"), "{e}");
    assert!(
        e.contains(&out.display().to_string()),
        "the message names the folder: {e}"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "nothing written");
}
