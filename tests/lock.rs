//! One run at a time in an output folder: a second run into a folder that a live run holds is
//! refused with that run's process id and writes nothing; a lock left by a process that no longer
//! exists is taken over; a finished or failed run leaves no lock behind.

mod common;

use rewire::lock::LOCK_FILE;
use rewire::sim::{EngineChoice, RunOptions};
use std::path::Path;

const SCENE: &str = r#"Scene(name: "lock", seed: 1, dt_ms: 1.0, duration_ms: 50,
  regions: [ Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
      Population(name: "E", count: 50, model: RegularSpiking) ]) ],
  projections: [ Projection(from: "E", to: "E", rule: FixedProbability(0.1), weight: 0.5, delay_ms: 1) ],
  inputs: [ Noise(to: "E", sd: 5) ],
)"#;

fn run(out: &Path) -> rewire::Result<rewire::Summary> {
    let opts = RunOptions {
        engine: EngineChoice::Cpu,
        duration_ms: None,
        progress: false,
    };
    rewire::sim::run(common::model(SCENE), out, &opts)
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_second_run_into_a_held_folder_is_refused_and_a_stale_lock_is_taken_over() {
    // Held by a live process (this one, as a concurrent run of the same program would be).
    let held = common::temp_dir("lock-held");
    let me = std::process::id();
    std::fs::write(held.join(LOCK_FILE), format!("{me}\n")).unwrap();
    let e = run(&held).unwrap_err().to_string();
    assert!(
        e.contains(&format!("process {me}")) && e.contains("another rewire run"),
        "{e}"
    );
    assert_eq!(files(&held), [LOCK_FILE], "the refused run wrote into the folder");
    // The refusal does not take the holder's lock away.
    assert_eq!(
        std::fs::read_to_string(held.join(LOCK_FILE)).unwrap(),
        format!("{me}\n")
    );

    // Left by a process that has exited: stale, taken over, and gone after the run.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    assert!(
        !Path::new(&format!("/proc/{dead}")).exists(),
        "process {dead} still exists"
    );
    let stale = common::temp_dir("lock-stale");
    std::fs::write(stale.join(LOCK_FILE), format!("{dead}\n")).unwrap();
    let summary = run(&stale).unwrap();
    assert!(summary.spikes > 0);
    assert!(stale.join("rates.csv").exists());
    assert!(!stale.join(LOCK_FILE).exists(), "the lock outlived the run");
    // An unreadable lock (empty: a crash while it was written) is stale too.
    std::fs::write(stale.join(LOCK_FILE), "").unwrap();
    run(&stale).unwrap();
    assert!(!stale.join(LOCK_FILE).exists());
}

#[test]
fn a_run_that_fails_releases_its_folder() {
    let out = common::temp_dir("lock-failed");
    // A run that fails while writing: rates.csv (and its partial file) are folders, so the first
    // table cannot be written.
    std::fs::create_dir_all(out.join("rates.csv.partial")).unwrap();
    std::fs::create_dir_all(out.join("rates.csv")).unwrap();
    assert!(run(&out).is_err());
    assert!(!out.join(LOCK_FILE).exists(), "a failed run kept its lock");
    // The folder is free again.
    std::fs::remove_dir_all(out.join("rates.csv.partial")).unwrap();
    std::fs::remove_dir_all(out.join("rates.csv")).unwrap();
    run(&out).unwrap();
    assert!(!out.join(LOCK_FILE).exists());
}
