//! `rewire sweep` and `rewire compare`: a 2 x 2 grid runs four scenarios with the right settings
//! in each folder, a rerun skips finished ones and runs only a deleted one, bad `--set` options
//! are refused before anything runs, and the comparison's numbers equal the runs' own files.
//! (CPU engine: the sweep's bookkeeping is under test here; the GPU equals the twin elsewhere.)

mod common;

use rewire::report::compare;
use rewire::scene::set::SetOption;
use rewire::sim::{EngineChoice, RunOptions};
use std::path::{Path, PathBuf};

/// The short rehab_timing protocol (tests/common), written to a scene file.
fn short_timing(dir: &Path) -> PathBuf {
    let path = dir.join("short_timing.ron");
    std::fs::write(&path, common::short_timing()).unwrap();
    path
}

fn opts() -> RunOptions {
    RunOptions {
        engine: EngineChoice::Cpu,
        duration_ms: None,
        progress: false,
    }
}

fn sets(args: &[&str]) -> Vec<SetOption> {
    args.iter().map(|a| SetOption::parse(a).unwrap()).collect()
}

fn csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(|l| l.split(',').map(String::from).collect()).collect()
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn a_two_by_two_sweep_runs_four_scenarios_and_resumes_only_what_is_missing() {
    let dir = common::temp_dir("grid");
    let scene = short_timing(&dir);
    let out = dir.join("sweep");
    let grid = sets(&["protocol.Rehab.trials=4,8", "protocol.Lesion.kind.core_mm=0.75,0.88"]);
    let plan = rewire::sweep::plan(&scene, &grid).unwrap();
    assert_eq!(plan.scenarios.len(), 4);
    let mut log = Vec::new();
    let first = rewire::sweep::run(&plan, &out, &opts(), |l| log.push(l.to_string())).unwrap();
    assert_eq!(first.ran.len(), 4, "{log:?}");
    assert!(first.skipped.is_empty());
    // The two training days before the lesion are shared: run once, every scenario forks from
    // them, and a forked scenario equals its scene run from scratch.
    assert!(
        log[0].starts_with("[prefix] running the 2 days before day 0"),
        "{log:?}"
    );
    assert!(out.join("prefix.rwck").is_file());
    let scratch = dir.join("scratch");
    let text = std::fs::read_to_string(out.join(&plan.scenarios[3].name).join("scene.ron")).unwrap();
    rewire::sim::run(rewire::scene::parse(&text, "s.ron").unwrap(), &scratch, &opts()).unwrap();
    for f in [
        "performance.csv",
        "rates.csv",
        "connectivity.csv",
        "weights.csv",
        "lesions.csv",
    ] {
        let a = std::fs::read(scratch.join(f)).unwrap();
        assert!(
            a == std::fs::read(out.join(&plan.scenarios[3].name).join(f)).unwrap(),
            "{f}"
        );
    }

    // Each folder ran its own settings: rehab sessions of the set trial count, and the bigger
    // core killed more neurons.
    let mut lost = Vec::new();
    for (s, (trials, core)) in plan.scenarios.iter().zip([(4, 0.75), (4, 0.88), (8, 0.75), (8, 0.88)]) {
        let folder = out.join(&s.name);
        let text = std::fs::read_to_string(folder.join("scene.ron")).unwrap();
        assert!(
            text.contains(&format!("Rehab(days: (1, 2), trials: {trials})")),
            "{}",
            s.name
        );
        assert!(text.contains(&format!("core_mm: {core},")), "{}", s.name);
        let perf = csv(&folder.join("performance.csv"));
        let (phase, n) = (column(&perf, "phase"), column(&perf, "trials"));
        let rehab: Vec<&Vec<String>> = perf.iter().filter(|r| r[phase] == "rehab").collect();
        assert_eq!(rehab.len(), 2, "{}", s.name);
        assert!(rehab.iter().all(|r| r[n] == trials.to_string()), "{}", s.name);
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap()).unwrap();
        lost.push(summary["protocol"]["neurons_lost"].as_u64().unwrap());
        assert!(!out.join(format!("{}.partial", s.name)).exists());
    }
    assert!(lost[1] > lost[0] && lost[3] > lost[2], "neurons lost {lost:?}");
    assert_eq!(
        (lost[0], lost[1]),
        (lost[2], lost[3]),
        "the lesion does not depend on rehab"
    );

    // The comparison: overlaid recovery curves, and rows that are the runs', in grid order, with
    // the summaries' numbers.
    for f in ["comparison.png", "comparison.svg"] {
        assert!(first.files.contains(&out.join(f)) && out.join(f).is_file(), "{f}");
    }
    let table = csv(&out.join("comparison.csv"));
    assert_eq!(table.len(), 5);
    for (row, s) in table[1..].iter().zip(&plan.scenarios) {
        assert_eq!(row[0], s.name);
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(&s.name).join("summary.json")).unwrap()).unwrap();
        for key in [
            "pre_lesion",
            "post_lesion",
            "final_performance",
            "peak_after_lesion",
            "recovery_auc",
        ] {
            let want = summary["protocol"][key].as_f64();
            let got = row[column(&table, key)].parse::<f64>().ok();
            assert_eq!(got, want, "{} {key}", s.name);
        }
        let day = summary["protocol"]["recovery_day"]
            .as_i64()
            .map(|d| d.to_string())
            .unwrap_or_default();
        assert_eq!(row[column(&table, "recovery_day")], day, "{}", s.name);
    }

    // Rerun: nothing to do. Delete one folder (and leave a half-written one): only it runs again.
    let again = rewire::sweep::run(&plan, &out, &opts(), |_| {}).unwrap();
    assert!(again.ran.is_empty() && again.skipped.len() == 4);
    let victim = &plan.scenarios[2].name;
    let before = std::fs::read(out.join(victim).join("performance.csv")).unwrap();
    std::fs::remove_dir_all(out.join(victim)).unwrap();
    std::fs::create_dir_all(out.join(format!("{victim}.partial"))).unwrap();
    std::fs::write(out.join(format!("{victim}.partial")).join("rates.csv"), "half").unwrap();
    let mut log = Vec::new();
    let resumed = rewire::sweep::run(&plan, &out, &opts(), |l| log.push(l.to_string())).unwrap();
    assert!(
        log.iter()
            .any(|l| l.starts_with("[prefix]") && l.ends_with("finished earlier")),
        "{log:?}"
    );
    assert_eq!(resumed.ran, vec![victim.clone()]);
    assert_eq!(resumed.skipped.len(), 3);
    assert!(!out.join(format!("{victim}.partial")).exists());
    let after = std::fs::read(out.join(victim).join("performance.csv")).unwrap();
    assert!(before == after, "the rerun scenario gives the same results");
}

#[test]
fn comparison_numbers_equal_the_runs_files() {
    let dir = common::temp_dir("compare");
    let scene = short_timing(&dir);
    let plan = rewire::sweep::plan(&scene, &sets(&["protocol.Rehab.trials=8,0"])).unwrap_err();
    // Zero rehab trials is refused by the scene's own validation, naming the setting.
    assert!(plan.to_string().contains("--set protocol.Rehab.trials=0"), "{plan}");
    let plan = rewire::sweep::plan(&scene, &sets(&["protocol.Lesion.kind.core_mm=0.8"])).unwrap();
    let out = dir.join("sweep");
    let done = rewire::sweep::run(&plan, &out, &opts(), |_| {}).unwrap();
    let run = &done.runs[0];
    let folder = out.join(&plan.scenarios[0].name);

    // Tract strength: connectivity.csv's S1 -> M1 weight sum on the last sample before day 0,
    // and on the last sample.
    let conn = csv(&folder.join("connectivity.csv"));
    let (day, src, tgt, sum) = (
        column(&conn, "day"),
        column(&conn, "source"),
        column(&conn, "target"),
        column(&conn, "weight_sum"),
    );
    let s1m1: Vec<&Vec<String>> = conn[1..].iter().filter(|r| r[src] == "S1" && r[tgt] == "M1").collect();
    let before: f64 = s1m1.iter().rev().find(|r| r[day].parse::<i64>().unwrap() < 0).unwrap()[sum]
        .parse()
        .unwrap();
    let end: f64 = s1m1.last().unwrap()[sum].parse().unwrap();
    let tract = run
        .tracts
        .iter()
        .find(|t| t.tract == "S1->M1")
        .expect("the S1->M1 tract");
    assert_eq!((tract.before, tract.end), (before, end));
    assert!(
        run.tracts.iter().all(|t| t.tract != "S1->S1"),
        "within-region wiring is not a tract"
    );

    // Area under the motor probes from day 0, by trapezoids.
    let perf = csv(&folder.join("performance.csv"));
    let (d, phase, task, acc) = (
        column(&perf, "day"),
        column(&perf, "phase"),
        column(&perf, "task"),
        column(&perf, "accuracy"),
    );
    let pts: Vec<(f64, f64)> = perf[1..]
        .iter()
        .filter(|r| r[phase] == "probe" && r[task] == "motor" && r[d].parse::<i64>().unwrap() >= 0)
        .map(|r| (r[d].parse().unwrap(), r[acc].parse().unwrap()))
        .collect();
    assert!(pts.len() >= 3);
    let auc: f64 = pts
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
        .sum();
    assert!(
        (run.recovery_auc.unwrap() - auc).abs() < 1e-12,
        "{:?} vs {auc}",
        run.recovery_auc
    );
    assert_eq!(run.turnover_near, None, "no structural plasticity in this scene");

    // `rewire compare` on the folder prints the same table and writes the same file.
    let cmp = dir.join("cmp");
    let status = common::rewire()
        .args(["compare", folder.to_str().unwrap(), "--out", cmp.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        stdout.contains(&plan.scenarios[0].name) && stdout.contains("S1->M1"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(cmp.join("comparison.csv")).unwrap(),
        std::fs::read(out.join("comparison.csv")).unwrap()
    );
    let metrics = compare::metrics(&folder).unwrap();
    assert_eq!(&metrics, run);
}

#[test]
fn bad_set_options_are_refused_before_anything_runs() {
    let dir = common::temp_dir("bad");
    let scene = short_timing(&dir);
    let out = dir.join("never");
    let cases: [(&[&str], &str); 6] = [
        (
            &["protocol.Rehab.dayz=1"],
            "--set protocol.Rehab.dayz=1: Unexpected field named `dayz`",
        ),
        (
            &["regions.V1.radius_mm=1"],
            "`regions` has no element named `V1` (its elements: S1, M1)",
        ),
        (
            &["task.cues.nope.x=1"],
            "--set task.cues.nope.x: `task.cues` has no field `nope`",
        ),
        (
            &["protocol.Rehab.days=(1, 2),3"],
            "--set protocol.Rehab.days=3: expected a tuple of 2, like (…, …) (the scene has `(1, 2)`), got a number",
        ),
        (
            &["seed=\"seven\""],
            "expected a number (the scene has `3`), got a string",
        ),
        (&["seed=1,2.5"], "the scene writes the integer `3` here"),
    ];
    for (args, want) in cases {
        let mut cmd = vec![
            "sweep",
            scene.to_str().unwrap(),
            "--cpu",
            "--out",
            out.to_str().unwrap(),
        ];
        for a in args {
            cmd.extend(["--set", a]);
        }
        let o = common::rewire().args(&cmd).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
    // `rewire run --set` takes the same paths, one value each.
    let o = common::rewire()
        .args(["run", scene.to_str().unwrap(), "--cpu", "--set", "seed=1,2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("one value per field"));
    assert!(!out.exists());
}

#[test]
fn scenarios_run_two_at_a_time_on_one_gpu_give_the_files_of_one_at_a_time() {
    // Each scenario gets its own device on the same adapter (--jobs 2): the throughput mode for
    // replicates of small networks. The files must not depend on it.
    drop(common::gpu());
    let dir = common::temp_dir("jobs_gpu");
    let scene = short_timing(&dir);
    let gpu = RunOptions {
        engine: EngineChoice::Gpu(Default::default()),
        duration_ms: None,
        progress: false,
    };
    let grid = sets(&["seed=1,2", "protocol.Lesion.kind.core_mm=0.75,0.88"]);
    let plan = rewire::sweep::plan(&scene, &grid).unwrap();
    let one = rewire::sweep::run_jobs(&plan, &dir.join("one"), &gpu, 1, |_| {}).unwrap();
    let two = rewire::sweep::run_jobs(&plan, &dir.join("two"), &gpu, 2, |_| {}).unwrap();
    assert_eq!(one.ran.len(), 4);
    // Results come back in the plan's order whatever order the runs finished in.
    assert_eq!(one.ran, two.ran);
    for s in &plan.scenarios {
        common::same_files(
            &dir.join("one").join(&s.name),
            &dir.join("two").join(&s.name),
            &common::PROTOCOL_FILES,
        );
    }
    common::same_files(
        &dir.join("one"),
        &dir.join("two"),
        &["comparison.csv", "groups.csv", "contrasts.csv"],
    );
    let e = rewire::sweep::run_jobs(&plan, &dir.join("zero"), &gpu, 0, |_| {}).unwrap_err();
    assert!(e.to_string().contains("--jobs must be at least 1"), "{e}");
    assert!(!dir.join("zero").exists());
}

#[test]
fn a_sweep_into_a_held_folder_or_over_a_held_scenario_is_refused_and_deletes_nothing() {
    let dir = common::temp_dir("sweep-lock");
    let scene = short_timing(&dir);
    let plan = rewire::sweep::plan(&scene, &sets(&["protocol.Rehab.trials=4"])).unwrap();
    let name = &plan.scenarios[0].name;
    let me = format!("{}\n", std::process::id());

    // Another sweep (a live process: this one) holds the sweep folder.
    let out = dir.join("held");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(rewire::lock::LOCK_FILE), &me).unwrap();
    let e = rewire::sweep::run(&plan, &out, &opts(), |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("another rewire run"), "{e}");
    assert!(!out.join(name).exists() && !out.join(format!("{name}.partial")).exists());

    // A scenario's unfinished folder that a live run (a Slurm task, say) still writes into is not
    // a stale leftover: refused, and left as it is.
    let out = dir.join("task");
    let partial = out.join(format!("{name}.partial"));
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join(rewire::lock::LOCK_FILE), &me).unwrap();
    std::fs::write(partial.join("rates.csv.partial"), "being written\n").unwrap();
    let e = rewire::sweep::run(&plan, &out, &opts(), |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("another rewire run") && e.contains(".partial"), "{e}");
    assert!(
        partial.join("rates.csv.partial").is_file(),
        "the live run's files are kept"
    );
    assert!(
        !out.join(rewire::lock::LOCK_FILE).exists(),
        "the refused sweep releases its folder"
    );
}
