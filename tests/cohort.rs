//! Cohorts (`rewire sweep --seeds`, `rewire compare --group-by`): eight replicates of each arm of
//! a 2 x 2 design (lesion core 0.75 or 0.88 mm; rehabilitation of 2 or 20 trials a day on days
//! 2-8) on the rehab-timing network, each seed's training days run once and forked, and the group
//! statistics read from the runs: the lesion-size effect and, after the larger lesion, the dose
//! effect with 95 % intervals that exclude zero; no effect where the design has none. Bad grouping input is refused with
//! nothing written. (CPU engine: the cohort's design and statistics are under test here; the GPU
//! equals the twin elsewhere.)

mod common;

use rewire::report::compare::{self, Grouping};
use rewire::scene::set::SetOption;
use rewire::sim::{EngineChoice, RunOptions};
use std::path::{Path, PathBuf};

const SEEDS: usize = 8;

/// rehab_timing with its training, a week of rehabilitation (days 2-8) and probes every two days
/// to day 10.
fn scene(dir: &Path) -> PathBuf {
    let mut text = include_str!("../scenes/rehab_timing.ron").to_string();
    for (from, to) in [
        ("Rest(days: (37, 40))", "Rest(days: (9, 10))"),
        ("Probe(every_days: 4, trials: 40)", "Probe(every_days: 2, trials: 16)"),
    ] {
        assert!(text.contains(from), "rehab_timing.ron no longer has {from:?}");
        text = text.replace(from, to);
    }
    let path = dir.join("cohort.ron");
    std::fs::write(&path, text).unwrap();
    path
}

fn opts() -> RunOptions {
    RunOptions {
        engine: EngineChoice::Cpu,
        duration_ms: None,
        progress: false,
    }
}

/// The cohort, run once for every test of this file (the runs take about a minute).
fn cohort() -> &'static (PathBuf, rewire::sweep::Plan) {
    static COHORT: std::sync::OnceLock<(PathBuf, rewire::sweep::Plan)> = std::sync::OnceLock::new();
    COHORT.get_or_init(|| {
        let dir = common::temp_dir("cohort");
        let scene = scene(&dir);
        let seeds = rewire::sweep::parse_seeds(&SEEDS.to_string()).unwrap();
        let sets = vec![
            SetOption {
                path: rewire::sweep::SEED_PATH.into(),
                values: seeds.iter().map(u64::to_string).collect(),
            },
            SetOption::parse("protocol.Lesion.kind.core_mm=0.75,0.88").unwrap(),
            SetOption::parse("protocol.Rehab.trials=2,20").unwrap(),
        ];
        let plan = rewire::sweep::plan(&scene, &sets).unwrap();
        let out = dir.join("sweep");
        let mut log = Vec::new();
        let outcome = rewire::sweep::run(&plan, &out, &opts(), |l| log.push(l.to_string())).unwrap();
        assert_eq!(outcome.ran.len(), 4 * SEEDS, "{log:?}");
        // One shared prefix per seed: the training days run eight times, not 32.
        let prefixes: Vec<&String> = log.iter().filter(|l| l.starts_with("[prefix] running")).collect();
        assert_eq!(prefixes.len(), SEEDS, "{log:?}");
        for s in &seeds {
            assert!(out.join(format!("prefix_seed={s}.rwck")).is_file(), "seed {s}'s prefix");
        }
        (out, plan)
    })
}

fn dirs(out: &Path, plan: &rewire::sweep::Plan) -> Vec<PathBuf> {
    plan.scenarios.iter().map(|s| out.join(&s.name)).collect()
}

fn contrast<'a>(r: &'a compare::GroupReport, metric: &str, a: &str, b: &str) -> &'a compare::GroupContrast {
    r.contrasts
        .iter()
        .find(|k| k.metric == metric && k.a == a && k.b == b)
        .unwrap_or_else(|| panic!("no contrast {metric} {b} - {a} in {:?}", r.contrasts))
}

#[test]
fn cohort_dose_and_lesion_size_effects_come_with_intervals_that_exclude_zero() {
    let (out, plan) = cohort();
    // The sweep's own comparison groups the replicates by their settings but the seed.
    let groups = std::fs::read_to_string(out.join("groups.csv")).unwrap();
    assert!(
        groups.starts_with("group,metric,n,mean,sd,ci_low,ci_high\n"),
        "{groups}"
    );
    let (runs, files, report) = compare::compare_groups(&dirs(out, plan), out, &Grouping::Settings, &[]).unwrap();
    for f in [
        "groups.csv",
        "contrasts.csv",
        "groups.json",
        "comparison.png",
        "comparison.svg",
    ] {
        assert!(files.contains(&out.join(f)), "{f}");
    }
    assert_eq!(report.groups.len(), 4);
    assert!(report.groups.iter().all(|(_, m)| m.len() == SEEDS));

    // Replicates of one seed share their training: the same pre-lesion accuracy in all four arms
    // (and the same first probe after the lesion in both doses of one lesion size).
    for s in 0..SEEDS {
        let of_seed: Vec<&compare::RunMetrics> = runs.iter().skip(4 * s).take(4).collect();
        assert!(
            of_seed.iter().all(|r| r.pre_lesion == of_seed[0].pre_lesion),
            "seed {}",
            s + 1
        );
        assert_eq!(of_seed[0].post_lesion, of_seed[1].post_lesion);
        assert_eq!(of_seed[2].post_lesion, of_seed[3].post_lesion);
    }
    // Seeds differ: a cohort is not one network eight times.
    let pre: Vec<f64> = runs.iter().step_by(4).map(|r| r.post_lesion.unwrap()).collect();
    assert!(
        pre.iter().any(|p| *p != pre[0]),
        "every seed gave the same post-lesion accuracy {pre:?}"
    );

    // The group numbers are the runs' numbers.
    let arm = |core: &str, trials: &str| format!("protocol.Lesion.kind.core_mm={core} protocol.Rehab.trials={trials}");
    for stat in &report.stats {
        let members = &report.groups.iter().find(|(g, _)| *g == stat.group).unwrap().1;
        let v: Vec<f64> = members
            .iter()
            .map(|&i| compare::scalar(&runs[i], &stat.metric).unwrap())
            .collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((stat.stat.mean - mean).abs() < 1e-12, "{stat:?}");
        assert!(stat.stat.ci.0 <= mean && mean <= stat.stat.ci.1, "{stat:?}");
    }

    // Dose: 20 trials a day recover more than 2, at both lesion sizes, the interval of the
    // difference above zero; the impairment (measured before rehabilitation) does not differ.
    for stat in &report.stats {
        eprintln!(
            "{} {}: {:.3} +- {:.3}",
            stat.group, stat.metric, stat.stat.mean, stat.stat.sd
        );
    }
    for k in &report.contrasts {
        eprintln!(
            "{} - {} {}: {:+.3} [{:.3}, {:.3}] g {:.2} p {:.4} holm {:.4}",
            k.b,
            k.a,
            k.metric,
            k.contrast.diff,
            k.contrast.ci.0,
            k.contrast.ci.1,
            k.contrast.hedges_g,
            k.contrast.p,
            k.p_holm
        );
    }
    // After the 0.88 mm lesion 20 trials a day recover more than 2 (Holm over the six pairs of
    // the four arms).
    for metric in ["recovered", "final_performance"] {
        let k = contrast(&report, metric, &arm("0.88", "2"), &arm("0.88", "20"));
        // The two arms hold the same eight seeds: paired.
        assert_eq!(k.contrast.test, "paired");
        assert!(k.contrast.diff > 0.0 && k.contrast.ci.0 > 0.0, "{metric}: {k:?}");
        assert!(k.p_holm < 0.05, "{metric}: {k:?}");
    }
    // The 0.75 mm lesion leaves an impairment the cohort cannot tell from zero, so there is
    // little for the dose to act on.
    let small = report
        .stats
        .iter()
        .find(|s| s.metric == "impairment" && s.group == arm("0.75", "2"))
        .unwrap();
    assert!(small.stat.ci.0 < 0.0 && small.stat.ci.1 < 0.15, "{small:?}");
    for core in ["0.75", "0.88"] {
        let k = contrast(&report, "impairment", &arm(core, "2"), &arm(core, "20"));
        assert_eq!(k.contrast.diff, 0.0, "{k:?}");
    }

    // Lesion size, grouped by the one setting (16 runs a group): the larger core impairs more.
    let (_, _, by_size) = compare::compare_groups(
        &dirs(out, plan),
        &out.join("by_size"),
        &Grouping::Path("protocol.Lesion.kind.core_mm".into()),
        &["impairment".into(), "post_lesion".into()],
    )
    .unwrap();
    assert_eq!(by_size.groups.len(), 2);
    assert!(by_size.groups.iter().all(|(_, m)| m.len() == 2 * SEEDS));
    let k = contrast(
        &by_size,
        "impairment",
        "protocol.Lesion.kind.core_mm=0.75",
        "protocol.Lesion.kind.core_mm=0.88",
    );
    eprintln!(
        "impairment 0.88 - 0.75: {:+.3} [{:.3}, {:.3}] g {:.2}",
        k.contrast.diff, k.contrast.ci.0, k.contrast.ci.1, k.contrast.hedges_g
    );
    assert!(k.contrast.ci.0 > 0.0 && k.contrast.hedges_g > 0.8, "{k:?}");
    // Each size holds every seed twice (both doses): no pairing, Welch.
    assert_eq!(k.contrast.test, "Welch");
    // Two groups, one comparison per metric: Holm leaves p as it is.
    assert_eq!(k.p_holm, k.contrast.p);

    // The proportional recovery rule across all 32 runs: every run with an impairment is
    // counted, the slope through the origin is the pairs' least squares slope.
    let p = report.proportional.as_ref().unwrap();
    let pairs: Vec<(f64, f64)> = runs
        .iter()
        .filter_map(|r| r.impairment.zip(r.recovered))
        .filter(|(i, _)| *i > 0.0)
        .collect();
    assert_eq!(p.n, pairs.len());
    let slope = pairs.iter().map(|(i, r)| i * r).sum::<f64>() / pairs.iter().map(|(i, _)| i * i).sum::<f64>();
    assert!((p.slope - slope).abs() < 1e-12);
    eprintln!(
        "proportional recovery: n {} slope {:.3} off the rule {}",
        p.n, p.slope, p.off_rule
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("groups.json")).unwrap()).unwrap();
    assert_eq!(
        json["correction"].as_str().unwrap(),
        "Holm (1979) over the pairs of groups of each metric"
    );
    assert_eq!(json["proportional_recovery"]["runs"].as_u64(), Some(p.n as u64));
}

#[test]
fn cohort_groupings_that_cannot_be_compared_are_refused_with_nothing_written() {
    let (out, plan) = cohort();
    let all = dirs(out, plan);
    let check = |dirs: &[PathBuf], by: Grouping, metrics: &[&str], want: &str| {
        let to = common::temp_dir("cohort_refused");
        let metrics: Vec<String> = metrics.iter().map(|m| m.to_string()).collect();
        let e = compare::compare_groups(dirs, &to, &by, &metrics)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{by:?} {metrics:?}: {e}");
        assert_eq!(std::fs::read_dir(&to).unwrap().count(), 0, "{e}: something was written");
    };
    // A group of one run has no interval.
    check(&all[..5], Grouping::Settings, &[], "has one run");
    // A grouping path no run sets.
    check(
        &all,
        Grouping::Path("protocol.Rest.days".into()),
        &[],
        "does not set it",
    );
    // A metric the runs lack (no structural plasticity), and one that does not exist.
    check(&all, Grouping::Settings, &["turnover_near"], "has no turnover_near");
    check(&all, Grouping::Settings, &["accuracy"], "unknown metric");
    // A folder that is not a sweep scenario cannot be grouped by its settings.
    let plain = common::temp_dir("cohort_plain");
    for f in ["summary.json", "performance.csv"] {
        std::fs::copy(all[0].join(f), plain.join(f)).unwrap();
    }
    check(&[plain, all[1].clone()], Grouping::Settings, &[], "no settings.txt");
}

/// Runs `c`, panicking with its output unless it succeeds; returns stdout.
fn ok(c: &mut std::process::Command) -> String {
    let o = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    assert!(
        o.status.success(),
        "{c:?} failed:\n{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// Runs `c`, panicking unless it fails; returns stderr.
fn fails(c: &mut std::process::Command) -> String {
    let o = c.output().unwrap();
    assert!(!o.status.success(), "{c:?} succeeded");
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn cohort_replicates_on_slurm_fork_each_seed_and_equal_the_sweep_run_here() {
    let dir = common::temp_dir("cohort_slurm");
    let scene = dir.join("short_timing.ron");
    std::fs::write(&scene, common::short_timing()).unwrap();
    let sweep = |out: &Path, extra: &[&str]| {
        let mut c = common::rewire();
        c.arg("sweep").arg(&scene).arg("--out").arg(out).arg("--cpu");
        c.args(["--seeds", "2-3", "--set", "protocol.Lesion.kind.core_mm=0.75,0.88"]);
        c.args(extra);
        c
    };
    // Here: two seeds x two lesion sizes, one prefix per seed, the replicates grouped.
    let here = dir.join("here");
    let table = ok(&mut sweep(&here, &[]));
    assert!(table.contains("p (Holm)") && table.contains("95 % CI"), "{table}");
    for s in [2, 3] {
        assert!(here.join(format!("prefix_seed={s}.rwck")).is_file());
    }
    assert!(!here.join("prefix.rwck").exists());
    // On Slurm: the plan, then its steps as the jobs run them: the prefix job writes both seeds'
    // shared days, each array task forks from its own seed's.
    let cluster = dir.join("cluster");
    ok(&mut sweep(&cluster, &["--slurm"]));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cluster.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["prefix"].as_str(), Some("prefix_seed=*.rwck"));
    assert_eq!(plan["sets"][0]["path"].as_str(), Some("seed"));
    let task = |step: &str| {
        let mut c = common::rewire();
        c.arg("sweep-task").arg(&cluster).args([step, "--cpu"]);
        c
    };
    // A task before the prefix job is refused, naming its seed's checkpoint.
    let e = fails(&mut task("2"));
    assert!(
        e.contains("prefix_seed=3.rwck") && e.contains("prefix job must succeed first"),
        "{e}"
    );
    ok(&mut task("prefix"));
    for i in 0..4 {
        ok(&mut task(&i.to_string()));
    }
    ok(&mut task("compare"));
    for f in ["comparison.csv", "groups.csv", "contrasts.csv", "sweep.csv"] {
        let (a, b) = (
            std::fs::read(here.join(f)).unwrap(),
            std::fs::read(cluster.join(f)).unwrap(),
        );
        assert!(a == b, "{f} differs between the sweep here and on Slurm");
    }
    // Two at a time (--jobs 2, each run on its own thread and engine): the same files.
    let par = dir.join("par");
    ok(&mut sweep(&par, &["--jobs", "2"]));
    for f in ["comparison.csv", "groups.csv", "contrasts.csv", "sweep.csv"] {
        let (a, b) = (
            std::fs::read(here.join(f)).unwrap(),
            std::fs::read(par.join(f)).unwrap(),
        );
        assert!(a == b, "{f} differs with --jobs 2");
    }
    let names: Vec<String> = std::fs::read_dir(&here)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| here.join(n).join("summary.json").is_file())
        .collect();
    assert_eq!(names.len(), 4);
    for n in &names {
        common::same_files(&here.join(n), &par.join(n), &common::PROTOCOL_FILES);
    }
    // Bad replicate options are refused before anything is written.
    for (args, want) in [
        (vec!["--seeds", "0"], "0 replicates"),
        (vec!["--seeds", "3-1"], "ends before it starts"),
        (vec!["--seeds", "2", "--set", "seed=4,5"], "the seed is set twice"),
        (vec!["--seeds", "2", "--jobs", "0"], "--jobs must be at least 1"),
    ] {
        let out = dir.join("refused");
        let mut c = common::rewire();
        c.arg("sweep")
            .arg(&scene)
            .arg("--out")
            .arg(&out)
            .arg("--cpu")
            .args(&args);
        let e = fails(&mut c);
        assert!(e.contains(want), "{args:?}: {e}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
    // compare --group-by from the command line; --metrics without it is refused.
    let dirs: Vec<PathBuf> = std::fs::read_dir(&here)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("summary.json").is_file())
        .collect();
    let to = dir.join("compared");
    let out = ok(common::rewire().arg("compare").args(&dirs).arg("--out").arg(&to).args([
        "--group-by",
        "protocol.Lesion.kind.core_mm",
        "--metrics",
        "impairment,post_lesion",
    ]));
    assert!(out.contains("impairment") && out.contains("Hedges' g"), "{out}");
    let groups = std::fs::read_to_string(to.join("groups.csv")).unwrap();
    assert_eq!(groups.lines().count(), 1 + 2 * 2, "{groups}");
    let e = fails(
        common::rewire()
            .arg("compare")
            .args(&dirs)
            .args(["--metrics", "impairment"]),
    );
    assert!(e.contains("--group-by"), "{e}");
}

#[test]
fn cohort_sensitivity_screening_ranks_factors_by_their_paired_effects() {
    let dir = common::temp_dir("cohort_sensitivity");
    let scene = scene(&dir);
    use rewire::sensitivity::{self, Factor};
    // The scene's own values (20 trials, core 0.88 mm) are the high levels: their effect must be
    // exactly zero, a check on the pairing.
    let factors = vec![
        Factor::parse("protocol.Rehab.trials=2,20").unwrap(),
        Factor::parse("protocol.Lesion.kind.core_mm=0.75,0.88").unwrap(),
    ];
    let seeds = [1, 2, 3, 4];
    let plan = sensitivity::design(&scene, &factors, &seeds).unwrap();
    assert_eq!(plan.scenarios.len(), 4 * 5);
    let out = dir.join("screen");
    rewire::sweep::run(&plan, &out, &opts(), |_| {}).unwrap();
    let metrics = vec!["final_performance".to_string(), "recovered".to_string()];
    let (runs, effects) = sensitivity::analyse(&plan, &out, &factors, &metrics).unwrap();
    assert_eq!(effects.len(), 2 * 2 * 2);
    for e in &effects {
        // Each effect is the mean paired difference from the baseline run of the same seed.
        let base: Vec<f64> = runs
            .iter()
            .step_by(5)
            .map(|r| compare::scalar(r, &e.metric).unwrap())
            .collect();
        let column = 1 + 2 * factors.iter().position(|f| f.path == e.factor).unwrap() + usize::from(e.level == "high");
        let level: Vec<f64> = runs
            .iter()
            .skip(column)
            .step_by(5)
            .map(|r| compare::scalar(r, &e.metric).unwrap())
            .collect();
        let diff = level.iter().zip(&base).map(|(l, b)| l - b).sum::<f64>() / 4.0;
        assert!((e.effect.diff - diff).abs() < 1e-12, "{e:?}");
        assert_eq!(e.effect.test, "paired");
        if e.level == "high" {
            assert_eq!((e.effect.diff, e.effect.ci), (0.0, (0.0, 0.0)), "{e:?}");
        }
        eprintln!(
            "{} {} {}: {:+.3} [{:.3}, {:.3}]",
            e.metric, e.factor, e.value, e.effect.diff, e.effect.ci.0, e.effect.ci.1
        );
    }
    // Fewer trials recover less; the smaller lesion ends higher.
    let of = |metric: &str, factor: &str| {
        effects
            .iter()
            .find(|e| e.metric == metric && e.factor == factor && e.level == "low")
            .unwrap()
    };
    assert!(of("recovered", "protocol.Rehab.trials").effect.diff < 0.0);
    assert!(of("final_performance", "protocol.Lesion.kind.core_mm").effect.diff > 0.0);
    // The tornado's order is the swing's.
    let order = sensitivity::swings(&effects, "final_performance");
    let swing = |p: &(&sensitivity::Effect, &sensitivity::Effect)| (p.1.effect.diff - p.0.effect.diff).abs();
    assert!(swing(&order[0]) >= swing(&order[1]));
    let files = sensitivity::write(&effects, &out).unwrap();
    for f in [
        "sensitivity.csv",
        "tornado_final_performance.png",
        "tornado_recovered.svg",
    ] {
        assert!(files.contains(&out.join(f)) && out.join(f).is_file(), "{f}");
    }
    let csv = std::fs::read_to_string(out.join("sensitivity.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + effects.len());

    // Refused before anything runs.
    for (args, want) in [
        (vec!["--vary", "protocol.Rehab.trials=2"], "two different values"),
        (
            vec!["--vary", "protocol.Rehab.trials=2,20", "--seeds", "1"],
            "at least two seeds",
        ),
        (vec!["--vary", "seed=1,2"], "the seed is the replicate"),
        (
            vec![
                "--vary",
                "protocol.Rehab.trials=2,20",
                "--vary",
                "protocol.Rehab.trials=4,8",
            ],
            "varied twice",
        ),
        (
            vec!["--vary", "protocol.Rehab.trials=2,20", "--metrics", "accuracy"],
            "unknown metric",
        ),
        (vec!["--vary", "protocol.Rehab.trials=0,20"], "at least 1 trial"),
    ] {
        let to = dir.join("refused");
        let e = fails(
            common::rewire()
                .arg("sensitivity")
                .arg(&scene)
                .arg("--out")
                .arg(&to)
                .arg("--cpu")
                .args(&args),
        );
        assert!(e.contains(want), "{args:?}: {e}");
        assert!(!to.exists(), "{args:?} wrote {}", to.display());
    }
}
