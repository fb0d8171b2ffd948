//! The scripts and submissions a Slurm sweep writes, checked as text (no Slurm needed; the real
//! cluster runs them in tests/slurm.rs).

use super::scripts::sh;
use super::*;

/// A stored plan of `n` scenarios, `per_task` to a task, with `shared` days shared.
fn stored(n: usize, per_task: usize, shared: usize) -> StoredPlan {
    StoredPlan {
        format_version: PLAN_FORMAT,
        written_by: version(),
        scene_file: "/lab/scenes/rehab timing.ron".into(),
        scene_hash: "0".into(),
        scene_text: String::new(),
        sets: vec![StoredSet {
            path: "seed".into(),
            values: (0..n).map(|k| k.to_string()).collect(),
        }],
        shared_days: shared,
        prefix: (shared > 0).then(|| "prefix.rwck".into()),
        per_task,
        tasks: n.div_ceil(per_task),
        scenarios: (0..n)
            .map(|k| StoredScenario {
                index: k,
                name: format!("{k:02}_seed={k}"),
                settings: vec![("seed".into(), k.to_string())],
                scene_hash: "0".into(),
            })
            .collect(),
    }
}

fn cmd(args: &[&str]) -> Command {
    Command {
        exe: "/opt/rewire/bin/rewire".into(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

fn directives(script: &str) -> Vec<&str> {
    script.lines().filter_map(|l| l.strip_prefix("#SBATCH ")).collect()
}

fn named<'a>(scripts: &'a [(String, String)], name: &str) -> &'a str {
    &scripts
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .1
}

#[test]
fn the_array_script_has_one_task_per_scenario_with_the_resources_and_the_command() {
    let dir = Path::new("/scratch/my sweep");
    let res = Resources {
        partition: Some("gpu".into()),
        gpus_per_task: Some(1),
        time: Some("02:00:00".into()),
        extra: vec!["--account=lab".into()],
    };
    let s = scripts(&stored(4, 1, 2), dir, &res, &cmd(&["--backend", "vulkan"]));
    let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["prefix.sbatch", "array.sbatch", "compare.sbatch"]);
    let array = named(&s, "array.sbatch");
    assert!(array.starts_with("#!/bin/bash\n"), "{array}");
    assert_eq!(
        directives(array),
        [
            "--job-name=rewire-my_sweep",
            "--array=0-3",
            "--ntasks=1",
            "--output=\"/scratch/my sweep/logs/%A_%a.out\"",
            "--partition=gpu",
            "--gres=gpu:1",
            "--time=02:00:00",
            "--account=lab",
        ]
    );
    assert!(
        array.ends_with("\nexec /opt/rewire/bin/rewire sweep-task '/scratch/my sweep' --backend vulkan\n"),
        "{array}"
    );
    // The prefix job runs the shared days on a GPU; the comparison needs none and no engine.
    let prefix = named(&s, "prefix.sbatch");
    assert!(directives(prefix).contains(&"--gres=gpu:1"), "{prefix}");
    assert!(directives(prefix).contains(&"--output=\"/scratch/my sweep/logs/%j_prefix.out\""));
    assert!(
        prefix.ends_with("sweep-task '/scratch/my sweep' prefix --backend vulkan\n"),
        "{prefix}"
    );
    assert!(prefix.contains("the 2 protocol days all 4 scenarios share"), "{prefix}");
    let compare = named(&s, "compare.sbatch");
    assert!(!compare.contains("--gres") && !compare.contains("--array"), "{compare}");
    assert!(directives(compare).contains(&"--job-name=rewire-my_sweep-compare"));
    assert!(directives(compare).contains(&"--partition=gpu") && directives(compare).contains(&"--time=02:00:00"));
    assert!(
        compare.ends_with("sweep-task '/scratch/my sweep' compare\n"),
        "{compare}"
    );
}

#[test]
fn per_task_chunks_scenarios_and_cpu_passes_through() {
    let s = scripts(
        &stored(7, 3, 0),
        Path::new("/s/grid"),
        &Resources::default(),
        &cmd(&["--cpu"]),
    );
    let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["array.sbatch", "compare.sbatch"],
        "no shared days, no prefix job"
    );
    let array = named(&s, "array.sbatch");
    assert_eq!(
        directives(array),
        [
            "--job-name=rewire-grid",
            "--array=0-2",
            "--ntasks=1",
            "--output=/s/grid/logs/%A_%a.out"
        ]
    );
    assert!(array.contains("array task i runs scenarios 3i to 3i+2"), "{array}");
    assert!(
        array.ends_with("exec /opt/rewire/bin/rewire sweep-task /s/grid --cpu\n"),
        "{array}"
    );
    assert_eq!((chunk(0, 3, 7), chunk(1, 3, 7), chunk(2, 3, 7)), (0..3, 3..6, 6..7));
}

#[test]
fn the_array_waits_for_the_prefix_and_the_comparison_for_every_task() {
    let dir = Path::new("/s/grid");
    let subs = submissions(dir, true, None, &Resources::default());
    let sh = submit_script(&subs);
    let lines: Vec<&str> = sh.lines().filter(|l| l.contains("sbatch ")).collect();
    assert_eq!(
        lines,
        [
            "prefix=$(sbatch --parsable /s/grid/prefix.sbatch)",
            "array=$(sbatch --parsable --kill-on-invalid-dep=yes --dependency=afterok:\"${prefix%%;*}\" /s/grid/array.sbatch)",
            "compare=$(sbatch --parsable --dependency=afterany:\"${array%%;*}\" /s/grid/compare.sbatch)",
        ]
    );
    assert!(sh.starts_with("#!/bin/sh\n") && sh.contains("\nset -e\n"));
    assert!(sh.ends_with("echo \"submitted: prefix ${prefix%%;*}, array ${array%%;*}, compare ${compare%%;*}\"\n"));

    // Without shared days the array goes first and alone.
    let subs = submissions(dir, false, None, &Resources::default());
    assert_eq!(
        subs.iter().map(|s| (s.what, s.after)).collect::<Vec<_>>(),
        [("array", None), ("compare", Some(("afterany", 0)))]
    );
}

#[test]
fn a_resubmission_runs_exactly_the_listed_tasks_with_overrides() {
    let dir = Path::new("/s/grid");
    let res = Resources {
        time: Some("04:00:00".into()),
        gpus_per_task: Some(2),
        ..Default::default()
    };
    let subs = submissions(dir, false, Some(&[3, 1, 5, 6, 7]), &res);
    let sh = submit_script(&subs);
    assert!(
        sh.contains("array=$(sbatch --parsable --array=1,3,5-7 --time=04:00:00 --gres=gpu:2 /s/grid/array.sbatch)\n"),
        "{sh}"
    );
    // The comparison gets the new time limit, and still no GPU.
    assert!(
        sh.contains(
            "compare=$(sbatch --parsable --time=04:00:00 --dependency=afterany:\"${array%%;*}\" /s/grid/compare.sbatch)"
        ),
        "{sh}"
    );
    // Nothing left to run but the comparison.
    let subs = submissions(dir, false, Some(&[]), &Resources::default());
    assert_eq!(subs.len(), 1);
    assert_eq!((subs[0].what, subs[0].after), ("compare", None));
}

#[test]
fn array_lists_join_ranges() {
    assert_eq!(array_list(&[0, 1, 2, 5]), "0-2,5");
    assert_eq!(array_list(&[7, 3, 3, 4]), "3-4,7");
    assert_eq!(array_list(&[2]), "2");
    assert_eq!(array_list(&[]), "");
}

#[test]
fn steps_and_bad_resources_are_refused_with_the_reason() {
    assert_eq!("prefix".parse::<Step>().unwrap(), Step::Prefix);
    assert_eq!("12".parse::<Step>().unwrap(), Step::Task(12));
    assert_eq!("compare".parse::<Step>().unwrap(), Step::Compare);
    let e = "-1".parse::<Step>().unwrap_err().to_string();
    assert!(e.contains("neither an array task index"), "{e}");
    for (res, want) in [
        (
            Resources {
                time: Some("2 hours".into()),
                ..Default::default()
            },
            "--time \"2 hours\"",
        ),
        (
            Resources {
                partition: Some("a b".into()),
                ..Default::default()
            },
            "--partition",
        ),
        (
            Resources {
                extra: vec!["account=lab".into()],
                ..Default::default()
            },
            "--sbatch \"account=lab\"",
        ),
    ] {
        let e = res.check().unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}

#[test]
fn shell_words_are_quoted_only_when_needed() {
    assert_eq!(sh("/a/b-c_d.e"), "/a/b-c_d.e");
    assert_eq!(sh("a b"), "'a b'");
    assert_eq!(sh("it's"), "'it'\\''s'");
    assert_eq!(sh(""), "''");
}
