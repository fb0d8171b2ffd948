//! Checkpoints: a run that stops (at a checkpoint interval, on Ctrl-C, or killed) and is resumed
//! writes byte-identical outputs to one that never stopped, with plasticity and structural
//! plasticity active, on the GPU and on the CPU twin; damaged or foreign checkpoints are refused.

mod common;

use rewire::checkpoint;
use rewire::sim::{Checkpointing, EngineChoice, Every, RunOptions};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The files every run compares (those a run writes that do not hold wall-clock times).
const OUTPUTS: [&str; 8] = [
    "rates.csv",
    "connectivity.csv",
    "weights.csv",
    "weight_hist.csv",
    "dopamine.csv",
    "structure.csv",
    "turnover_by_distance.csv",
    "growth.csv",
];

fn opts(engine: &EngineChoice) -> RunOptions {
    RunOptions {
        engine: engine.clone(),
        duration_ms: None,
        progress: false,
    }
}

fn with_text(text: &str) -> Checkpointing {
    Checkpointing {
        scene_file: "test.ron".into(),
        scene_text: text.into(),
        ..Default::default()
    }
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// Straight vs checkpointed every 200 ms vs resumed from the checkpoint at 400 ms: the same
/// files and the same counts.
fn plain_run_resumes_bit_for_bit(engine: EngineChoice, name: &str) {
    let model = common::model(common::TURNOVER);
    let dir = common::temp_dir(name);
    let straight = dir.join("straight");
    rewire::sim::run(model.clone(), &straight, &opts(&engine)).unwrap();

    // Checkpoints every 200 ms; keep the one written at 400 ms.
    let every = dir.join("every");
    let mut ck = with_text(common::TURNOVER);
    ck.every = Some(Every::Ms(200.0));
    let kept = dir.join("at400.rwck");
    ck.path = Some(every.join("checkpoint.rwck"));
    let s = rewire::sim::run_with(model.clone(), &every, &opts(&engine), &ck).unwrap();
    common::same_files(&straight, &every, &OUTPUTS);
    assert_eq!(s.spikes, summary(&straight)["spikes"].as_u64().unwrap());
    let last = checkpoint::read(&every.join("checkpoint.rwck")).unwrap();
    assert_eq!(
        last.header.position.step, 400,
        "the last checkpoint before the end of 600 steps"
    );
    std::fs::copy(every.join("checkpoint.rwck"), &kept).unwrap();

    // Resume from it into a fresh folder.
    let resumed = dir.join("resumed");
    let c = checkpoint::read(&kept).unwrap();
    assert_eq!(c.header.scene_hash, checkpoint::scene_hash(common::TURNOVER));
    let mut ck = with_text(common::TURNOVER);
    ck.resume = Some(c);
    let r = rewire::sim::run_with(model, &resumed, &opts(&engine), &ck).unwrap();
    common::same_files(&straight, &resumed, &OUTPUTS);
    let st = summary(&straight);
    assert_eq!(r.spikes, st["spikes"].as_u64().unwrap());
    assert_eq!(r.samples as u64, st["samples"].as_u64().unwrap());
    assert_eq!(r.steps, 600);
    let (a, b) = (&st["structure"], &summary(&resumed)["structure"]);
    assert_eq!(a, b, "structural counts over the whole run");
    assert!(a["formed"].as_u64().unwrap() > 0, "the scene rewires");
}

#[test]
fn a_plain_run_resumes_bit_for_bit_on_the_cpu_twin() {
    plain_run_resumes_bit_for_bit(EngineChoice::Cpu, "plain-cpu");
}

#[test]
fn a_plain_run_resumes_bit_for_bit_on_the_gpu() {
    drop(common::gpu());
    plain_run_resumes_bit_for_bit(EngineChoice::Gpu(Default::default()), "plain-gpu");
}

#[test]
fn a_protocol_resumes_from_any_day_bit_for_bit() {
    let text = common::short_timing();
    let model = common::model(&text);
    let cpu = EngineChoice::Cpu;
    let dir = common::temp_dir("protocol");
    let straight = dir.join("straight");
    rewire::sim::run(model.clone(), &straight, &opts(&cpu)).unwrap();
    let files = common::PROTOCOL_FILES;
    // Stopped on request (the flag Ctrl-C sets) after the first day, before the lesion: outputs
    // so far and a checkpoint.
    let stopped = dir.join("stopped");
    let mut ck = with_text(&text);
    ck.stop = Some(Arc::new(AtomicBool::new(true)));
    ck.path = Some(dir.join("day-2.rwck"));
    let e = rewire::sim::run_with(model.clone(), &stopped, &opts(&cpu), &ck)
        .unwrap_err()
        .to_string();
    assert!(e.contains("rewire resume") && e.contains("day-2.rwck"), "{e}");
    let perf = std::fs::read_to_string(stopped.join("performance.csv")).unwrap();
    assert!(
        perf.lines().count() > 1 && perf.lines().skip(1).all(|l| l.starts_with("-2,")),
        "{perf}"
    );
    // Resumed from day -2 with a checkpoint every 4 days (one after day 1, past the lesion), and
    // resumed again from that one: both end where the straight run did.
    let mut previous = dir.join("day-2.rwck");
    for (k, next) in [Some(dir.join("day1.rwck")), None].into_iter().enumerate() {
        let c = checkpoint::read(&previous).unwrap();
        let resumed = dir.join(format!("resumed{k}"));
        let mut ck = with_text(&text);
        ck.resume = Some(c);
        if let Some(n) = &next {
            ck.every = Some(Every::Days(4));
            ck.path = Some(n.clone());
        }
        let s = rewire::sim::run_with(model.clone(), &resumed, &opts(&cpu), &ck).unwrap();
        common::same_files(&straight, &resumed, &files);
        let (a, b) = (summary(&straight), summary(&resumed));
        assert_eq!(
            a["protocol"],
            b["protocol"],
            "protocol summary after resuming from {}",
            previous.display()
        );
        assert_eq!(s.spikes, a["spikes"].as_u64().unwrap());
        if let Some(n) = next {
            let c = checkpoint::read(&n).unwrap();
            assert_eq!(
                c.header.position.protocol.as_ref().unwrap()["next_day"],
                4,
                "after day 1"
            );
            previous = n;
        }
    }
}

#[test]
fn checkpoints_of_another_engine_or_kind_are_refused() {
    let dir = common::temp_dir("refused");
    let model = common::model(common::TURNOVER);
    let mut ck = with_text(common::TURNOVER);
    ck.every = Some(Every::Ms(300.0));
    rewire::sim::run_with(model.clone(), &dir.join("a"), &opts(&EngineChoice::Cpu), &ck).unwrap();
    let c = checkpoint::read(&dir.join("a").join("checkpoint.rwck")).unwrap();
    drop(common::gpu());
    let mut ck = with_text(common::TURNOVER);
    ck.resume = Some(c);
    let e = rewire::sim::run_with(
        model.clone(),
        &dir.join("b"),
        &opts(&EngineChoice::Gpu(Default::default())),
        &ck,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("written by the engine \"CPU reference\""), "{e}");
    // A protocol scene checkpoints in days, a plain one in time.
    let mut ck = with_text(common::TURNOVER);
    ck.every = Some(Every::Days(1));
    let e = rewire::sim::run_with(model, &dir.join("c"), &opts(&EngineChoice::Cpu), &ck).unwrap_err();
    assert!(e.to_string().contains("give --checkpoint-every in time"), "{e}");
    assert!("2d".parse::<Every>().unwrap() == Every::Days(2) && "1.5s".parse::<Every>().unwrap() == Every::Ms(1500.0));
    assert!("1.5d".parse::<Every>().is_err() && "0s".parse::<Every>().is_err() && "3h".parse::<Every>().is_err());
}

/// Waits until `path` exists (or the child ends), up to a minute.
fn wait_for(path: &Path, child: &mut std::process::Child) {
    for _ in 0..600 {
        if path.exists() || child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{} did not appear", path.display());
}

#[test]
fn ctrl_c_and_kill_leave_a_checkpoint_that_resumes_to_the_same_results() {
    let dir = common::temp_dir("signals");
    // The deafferentation scene (structural plasticity), 20 s simulated on the CPU twin.
    let scene = Path::new("scenes/deafferentation.ron");
    let run = |out: &Path, extra: &[&str]| {
        let mut c = common::rewire();
        c.args(["run", scene.to_str().unwrap(), "--cpu", "--duration", "20000", "--out"])
            .arg(out)
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        c
    };
    let straight = dir.join("straight");
    assert!(run(&straight, &[]).status().unwrap().success());
    let files = [
        "rates.csv",
        "connectivity.csv",
        "structure.csv",
        "turnover_by_distance.csv",
        "growth.csv",
    ];

    // Ctrl-C (SIGINT) once samples are being written: exit 130, a checkpoint, the outputs so far
    // under their names, and how to resume.
    let stopped = dir.join("stopped");
    let mut child = run(&stopped, &[]).spawn().unwrap();
    wait_for(&stopped.join("rates.csv.partial"), &mut child);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let ckpt = stopped.join("checkpoint.rwck");
    assert!(
        stderr.contains(&format!("rewire resume {}", ckpt.display())),
        "{stderr}"
    );
    assert!(stopped.join("rates.csv").is_file() && !stopped.join("rates.csv.partial").exists());
    let o = common::rewire().arg("resume").arg(&ckpt).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    common::same_files(&straight, &stopped, &files);

    // SIGKILL after a periodic checkpoint: the last complete checkpoint still resumes.
    let killed = dir.join("killed");
    let mut child = run(&killed, &["--checkpoint-every", "2s"]).spawn().unwrap();
    wait_for(&killed.join("checkpoint.rwck"), &mut child);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let killed_pid = child.id();
    child.kill().unwrap();
    child.wait().unwrap();
    // The killed run could not release its folder: its lock names it, and is stale.
    let lock = killed.join(rewire::lock::LOCK_FILE);
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), format!("{killed_pid}\n"));
    let ckpt = killed.join("checkpoint.rwck");
    let c = checkpoint::read(&ckpt).unwrap();
    assert!(c.header.position.step > 0 && c.header.position.step.is_multiple_of(2000));
    let o = common::rewire().arg("resume").arg(&ckpt).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("stale lock"), "{stderr}");
    assert!(!lock.exists());
    common::same_files(&straight, &killed, &files);

    // A damaged checkpoint is refused with a reason, never a crash.
    let bytes = std::fs::read(&ckpt).unwrap();
    for (name, damaged, want) in [
        ("truncated", bytes[..bytes.len() / 2].to_vec(), "truncated"),
        (
            "garbage",
            b"#![enable(implicit_some)] Scene()".to_vec(),
            "not a rewire checkpoint",
        ),
        (
            "flipped",
            {
                let mut b = bytes.clone();
                let n = b.len();
                b[n - 100] ^= 1;
                b
            },
            "corrupt",
        ),
    ] {
        let p = dir.join(format!("{name}.rwck"));
        std::fs::write(&p, damaged).unwrap();
        let o = common::rewire().arg("resume").arg(&p).output().unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && e.contains(want) && e.contains(p.to_str().unwrap()),
            "{name}: {e}"
        );
    }
}

#[test]
fn forks_from_one_checkpoint_equal_runs_from_scratch() {
    let text = common::short_timing();
    let dir = common::temp_dir("fork");
    let cpu = EngineChoice::Cpu;
    // The shared prefix: the two training days, stopped before the lesion's day.
    let prefix = dir.join("trained.rwck");
    let mut ck = with_text(&text);
    ck.stop_after_days = Some(2);
    ck.path = Some(prefix.clone());
    let e = rewire::sim::run_with(common::model(&text), &dir.join("prefix"), &opts(&cpu), &ck).unwrap_err();
    assert!(matches!(e, rewire::Error::Interrupted(_)), "{e}");
    let files = common::PROTOCOL_FILES;
    for core in ["0.75", "0.88"] {
        let arm = rewire::scene::set::apply(&text, &[("protocol.Lesion.kind.core_mm".into(), core.into())]).unwrap();
        let scratch = dir.join(format!("scratch{core}"));
        rewire::sim::run(common::model(&arm), &scratch, &opts(&cpu)).unwrap();
        // The scene names the checkpoint (relative to the scene file) and starts from it.
        let forked_text = rewire::scene::set::apply(&arm, &[("start_from".into(), "\"trained.rwck\"".into())]).unwrap();
        let scene = dir.join(format!("fork{core}.ron"));
        std::fs::write(&scene, &forked_text).unwrap();
        let model = rewire::scene::load(&scene).unwrap();
        assert_eq!(model.start_from.as_deref(), Some(prefix.as_path()));
        let forked = dir.join(format!("fork{core}"));
        rewire::sim::run_with(model, &forked, &opts(&cpu), &with_text(&forked_text)).unwrap();
        common::same_files(&scratch, &forked, &files);
        assert_eq!(summary(&scratch)["protocol"], summary(&forked)["protocol"]);
    }
    // A scene that differs before the fork (another seed) is refused, naming what differs.
    let other = rewire::scene::set::apply(&text, &[("seed".into(), "4".into())]).unwrap();
    let mut ck = with_text(&other);
    ck.resume = Some(checkpoint::read(&prefix).unwrap());
    let e = rewire::sim::run_with(common::model(&other), &dir.join("other"), &opts(&cpu), &ck).unwrap_err();
    assert!(e.to_string().contains("differ in `seed`"), "{e}");
    // So is one whose training days differ.
    let other = text.replace("Train(days: (-2, -1), trials: 12)", "Train(days: (-2, -1), trials: 10)");
    let mut ck = with_text(&other);
    ck.resume = Some(checkpoint::read(&prefix).unwrap());
    let e = rewire::sim::run_with(common::model(&other), &dir.join("other2"), &opts(&cpu), &ck).unwrap_err();
    assert!(e.to_string().contains("differ in `protocol (before the fork)`"), "{e}");
}

#[test]
fn a_planted_nan_stops_the_run_naming_stage_region_and_step_after_a_good_checkpoint() {
    // A population in region Q whose spikes add an absurd recovery jump (d = 3e38), driven to spike
    // from 1 234 ms on: the next step's membrane is non-finite. (Absurd weights, the old way to
    // plant it, are refused at validation now.)
    let scene = r#"Scene(seed: 1, dt_ms: 1, duration_ms: 2000, sample_every_ms: 100,
      regions: [
        Region(name: "R", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
          Population(name: "ok", count: 10, model: RegularSpiking)]),
        Region(name: "Q", centre_mm: (5, 0, 0), radius_mm: 1, populations: [
          Population(name: "blowup", count: 10, model: Izhikevich(a: 0.02, b: 0.2, c: -65, d: 3e38))])],
      inputs: [Noise(to: "ok", sd: 3), Poisson(to: "blowup", rate_hz: 1000, in_degree: 10, weight: 1e5, from_ms: 1234)])"#;
    let dir = common::temp_dir("nan");
    let path = dir.join("nan.ron");
    std::fs::write(&path, scene).unwrap();
    drop(common::gpu());
    for (name, engine) in [("cpu", &["--cpu"][..]), ("gpu", &[][..])] {
        let out = dir.join(name);
        let o = common::rewire()
            .arg("run")
            .arg(&path)
            .args(engine)
            .args(["--checkpoint-every", "500ms", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name}: {e}");
        for want in ["`neurons` stage", "blowup (Q)", "last checkpoint, from step 1000"] {
            assert!(e.contains(want), "{name}: {want:?} in {e}");
        }
        // The step the membrane turns non-finite: 1235 on the twin and on Vulkan, later on OpenGL
        // (infinities are outside the bit-exact contract), always after the drive starts at 1234.
        let step: u64 = e
            .split("at step ")
            .nth(1)
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name}: no step in {e}"));
        assert!((1235..1500).contains(&step), "{name}: step {step}");
        if name == "cpu" {
            assert_eq!(step, 1235);
        }
        let c = checkpoint::read(&out.join("checkpoint.rwck")).unwrap();
        assert_eq!(c.header.position.step, 1000, "{name}");
    }
}
