//! Tier 3 and 4 through the command line: the default scene runs and its outputs parse, the same
//! scene and seed give byte-identical outputs, and bad input gets one clear error naming file,
//! line, column and field, without touching the GPU for `validate`.

mod common;

use std::path::Path;

fn rewire(args: &[&str]) -> (bool, String, String) {
    let out = common::rewire().args(args).output().expect("run rewire");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn run_quickstart(out: &Path) {
    let (ok, stdout, stderr) = rewire(&[
        "run",
        "scenes/quickstart.ron",
        "--out",
        out.to_str().unwrap(),
        "--duration",
        "500",
    ]);
    assert!(ok, "quickstart run failed:\n{stdout}\n{stderr}");
}

#[test]
fn quickstart_runs_and_its_outputs_parse() {
    let out = common::temp_dir("default");
    run_quickstart(&out);
    let rates = std::fs::read_to_string(out.join("rates.csv")).unwrap();
    let mut lines = rates.lines();
    assert_eq!(lines.next(), Some("step,t_ms,day,population,region,spikes,rate_hz"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 500 ms sampled every 100 ms, four populations.
    assert_eq!(rows.len(), 5 * 4);
    let total: u64 = rows.iter().map(|r| r[5].parse::<u64>().unwrap()).sum();
    assert!(total > 0, "the quickstart scene should be active");
    for r in &rows {
        let rate: f64 = r[6].parse().unwrap();
        assert!((0.0..1000.0).contains(&rate));
    }
    let conn = std::fs::read_to_string(out.join("connectivity.csv")).unwrap();
    let rows: Vec<Vec<&str>> = conn.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows.len(),
        5 * 2 * 2,
        "a row per sample x source region x target region"
    );
    let s1_m1 = rows.iter().find(|r| r[3] == "S1" && r[4] == "M1").unwrap();
    assert_eq!(
        s1_m1[5].parse::<u64>().unwrap(),
        800 * 20,
        "S1 -> M1 is FixedInDegree(20) onto 800 neurons"
    );
    let m1_s1 = rows.iter().find(|r| r[3] == "M1" && r[4] == "S1").unwrap();
    assert_eq!(m1_s1[5], "0");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for field in [
        "scene",
        "seed",
        "engine",
        "neurons",
        "synapses",
        "gpu_bytes_per_synapse",
        "wall_s",
        "steps_per_s",
        "synaptic_events_per_s",
    ] {
        assert!(summary.get(field).is_some(), "summary.json lacks {field}");
    }
    assert_eq!(summary["neurons"], 2000);
    assert!(!out.join("rates.csv.partial").exists(), "no partial file may remain");
}

#[test]
fn same_scene_and_seed_give_identical_outputs() {
    let (a, b) = (common::temp_dir("det-a"), common::temp_dir("det-b"));
    run_quickstart(&a);
    run_quickstart(&b);
    for f in ["rates.csv", "connectivity.csv"] {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(x == y, "{f} differs between two runs of the same scene and seed");
    }
}

#[test]
fn the_cpu_reference_writes_the_same_statistics_as_the_gpu() {
    let (g, c) = (common::temp_dir("eng-gpu"), common::temp_dir("eng-cpu"));
    run_quickstart(&g);
    let (ok, _, stderr) = rewire(&[
        "run",
        "scenes/quickstart.ron",
        "--cpu",
        "--out",
        c.to_str().unwrap(),
        "--duration",
        "500",
    ]);
    assert!(ok, "{stderr}");
    for f in ["rates.csv", "connectivity.csv"] {
        assert!(
            std::fs::read(g.join(f)).unwrap() == std::fs::read(c.join(f)).unwrap(),
            "{f} differs between engines"
        );
    }
}

const GOOD: &str = r#"Scene(
    seed: 1,
    dt_ms: 1.0,
    duration_ms: 100,
    regions: [
        Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
            Population(name: "E", count: 10, model: RegularSpiking),
        ]),
    ],
    projections: [
        Projection(from: "E", to: "E", rule: FixedProbability(0.5), weight: 0.5, delay_ms: 1),
    ],
)
"#;

/// Validates `text` written to a file; returns (file path, error text).
fn validate(name: &str, text: &str) -> (String, String) {
    let dir = common::temp_dir(name);
    let path = dir.join(format!("{name}.ron"));
    std::fs::write(&path, text).unwrap();
    let (ok, stdout, stderr) = rewire(&["validate", path.to_str().unwrap()]);
    assert!(!ok, "{name}: validate should fail, printed {stdout}");
    (path.display().to_string(), stderr)
}

fn expect_error(name: &str, text: &str, line: usize, column: usize, field: &str, words: &str) {
    let (path, err) = validate(name, text);
    let want = format!("{path}:{line}:{column}: {field}");
    assert!(err.contains(&want), "{name}: expected `{want}` in\n{err}");
    assert!(err.contains(words), "{name}: expected `{words}` in\n{err}");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "{name}: one clear error line expected:\n{err}"
    );
}

#[test]
fn good_scene_validates() {
    let dir = common::temp_dir("good");
    let path = dir.join("good.ron");
    std::fs::write(&path, GOOD).unwrap();
    let (ok, stdout, stderr) = rewire(&["validate", path.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("ok") && stdout.contains("10 neurons"), "{stdout}");
}

#[test]
fn unknown_population_in_a_projection() {
    let text = GOOD.replace(r#"to: "E", rule"#, r#"to: "X", rule"#);
    expect_error(
        "unknown",
        &text,
        11,
        35,
        "projections[0].to",
        "unknown population \"X\"",
    );
}

#[test]
fn probability_above_one() {
    let text = GOOD.replace("FixedProbability(0.5)", "FixedProbability(1.5)");
    expect_error(
        "probability",
        &text,
        11,
        46,
        "projections[0].rule",
        "probability 1.5 must lie in [0, 1]",
    );
}

#[test]
fn negative_count() {
    let text = GOOD.replace("count: 10", "count: -10");
    expect_error("negative", &text, 7, 43, "count", "out of bounds");
}

#[test]
fn missing_field() {
    let text = GOOD.replace("    seed: 1,\n", "");
    let (path, err) = validate("missing", &text);
    assert!(err.contains(&format!("{path}:")) && err.contains("seed"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn wrong_type() {
    let text = GOOD.replace("dt_ms: 1.0", "dt_ms: \"fast\"");
    expect_error("wrongtype", &text, 3, 11, "dt_ms", "Expected float");
}

#[test]
fn malformed_file() {
    let text = GOOD.replace("radius_mm: 1, populations", "radius_mm: 1 populations");
    let (path, err) = validate("malformed", &text);
    assert!(err.contains(&format!("{path}:6:")), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn misnamed_distribution() {
    let text = GOOD.replace("weight: 0.5", "weight: Unifrom(0, 1)");
    expect_error("misnamed", &text, 11, 77, "projections[0].weight", "Unifrom");
}

#[test]
fn missing_scene_file() {
    let (ok, _, stderr) = rewire(&["validate", "/nonexistent/scene.ron"]);
    assert!(!ok && stderr.contains("/nonexistent/scene.ron"), "{stderr}");
}

#[test]
fn scene_too_big_for_the_adapter_is_refused_before_allocation() {
    // 4e9 synapses need about 58 GB: more than this machine's memory, which a software adapter
    // allocates from (and more than a workstation GPU has).
    let text = GOOD.replace("FixedProbability(0.5)", "FixedTotalNumber(4000000000)");
    let dir = common::temp_dir("toobig");
    let path = dir.join("big.ron");
    std::fs::write(&path, text).unwrap();
    let out = dir.join("out");
    let t0 = std::time::Instant::now();
    let (ok, _, stderr) = rewire(&["run", path.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("too large") && stderr.contains("4.000e9 synapses") && stderr.contains("GiB"),
        "{stderr}"
    );
    assert!(
        t0.elapsed().as_secs() < 20,
        "refusal must come before building 4e9 synapses"
    );
    assert!(!out.join("rates.csv").exists());
    let huge = GOOD.replace("FixedProbability(0.5)", "FixedTotalNumber(5000000000)");
    std::fs::write(&path, huge).unwrap();
    let (ok, _, stderr) = rewire(&["validate", path.to_str().unwrap()]);
    assert!(!ok && stderr.contains("exceed"), "{stderr}");
}

#[test]
fn bench_writes_figures_that_separate_spikes_from_idle_synapses() {
    let dir = common::temp_dir("bench");
    let out = dir.join("bench.json");
    let (ok, stdout, stderr) = rewire(&[
        "bench",
        "--neurons",
        "2000",
        "--synapses",
        "100",
        "--rate",
        "0,50",
        "--steps",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("synthetic 2000 x 100 at 50 Hz"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(report["bandwidth_bytes_per_s"].as_f64().unwrap() > 1e6);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["synapses"].as_u64(), Some(200_000));
        assert!(r["synapse_bytes_per_synapse"].as_f64().unwrap() <= 16.0, "{r}");
        assert!(r["steps_per_s"].as_f64().unwrap() > 0.0);
        assert!(!r["stages"].as_array().unwrap().is_empty());
        // The peak host memory so far, more than the network's synapse arrays alone.
        assert!(r["peak_host_rss_bytes"].as_u64().unwrap() > 2_000_000, "{r}");
    }
    assert_eq!(results[0]["synaptic_events_per_s"].as_f64(), Some(0.0));
    // 2000 sources at 50 Hz for 100 ms: about 10000 spikes, each with 100 targets on average.
    let spikes = results[1]["spikes_per_s"].as_f64().unwrap() * results[1]["wall_s"].as_f64().unwrap();
    assert!((spikes - 10_000.0).abs() < 600.0, "{spikes} spikes");
    assert!(results[1]["synaptic_events_per_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn structural_scene_writes_structure_and_turnover_tables() {
    let out = common::temp_dir("structure");
    let scene = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/deafferentation.ron");
    let (ok, stdout, stderr) = rewire(&["run", scene, "--out", out.to_str().unwrap(), "--duration", "2000"]);
    assert!(ok, "{stdout}\n{stderr}");
    let table = std::fs::read_to_string(out.join("structure.csv")).unwrap();
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some(
            "step,t_ms,day,structural_day,region,spines,nascent,stable,persistent,persistent_fraction,formed,\
             pruned,retracted,capacity_misses,free_boutons,free_spines,bouton_elements,spine_elements"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // Two samples, three regions.
    assert_eq!(rows.len(), 6, "{table}");
    for r in &rows {
        let n = |i: usize| r[i].parse::<u64>().unwrap();
        assert_eq!(n(5), n(6) + n(7), "spines = nascent + stable: {r:?}");
        assert!(n(5) > 1000, "{r:?}");
    }
    // Each structural day is 10 000 simulated days: 2 s stand for 20 000 s.
    let day: f64 = rows[5][3].parse().unwrap();
    assert!((day - 2.0e4 / 86_400.0).abs() < 1e-9, "{day}");
    let bins = std::fs::read_to_string(out.join("turnover_by_distance.csv")).unwrap();
    assert!(bins.starts_with("step,t_ms,day,structural_day,bin_lo_mm,bin_hi_mm,formed,eliminated\n"));
    // Seven bins (six edges and the open one) per sample, the last open-ended.
    assert_eq!(bins.lines().count(), 1 + 2 * 7, "{bins}");
    assert!(bins.lines().last().unwrap().contains(",0.6,inf,"), "{bins}");
    assert!(!out.join("structure.csv.partial").exists());
    // Per growing population (core_E, rim_E, sur_E; their interneurons do not grow): every
    // living neuron counted, calcium climbing from 0 toward the set point (eps 0.056: about 5 Hz
    // with tau_ca 500 ms and beta_ca 0.02), and no more connected elements than elements.
    let growth = std::fs::read_to_string(out.join("growth.csv")).unwrap();
    let mut lines = growth.lines();
    assert_eq!(
        lines.next(),
        Some(
            "step,t_ms,day,structural_day,population,region,neurons,calcium,set_point,bouton_elements,\
             connected_boutons,spine_elements,connected_spines,spine_in_elements,connected_spines_in,\
             spines_formed,spines_deleted,spines_in_formed,spines_in_deleted,boutons_formed,boutons_deleted"
        )
    );
    let grown: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(grown.len(), 6, "{growth}");
    for (r, (pop, neurons)) in grown
        .iter()
        .zip([("core_E", 85), ("rim_E", 115), ("sur_E", 1400)].iter().cycle())
    {
        assert_eq!((r[4], r[6].parse::<u64>().unwrap()), (*pop, *neurons), "{r:?}");
        let calcium: f64 = r[7].parse().unwrap();
        assert_eq!(r[8], "0.056");
        assert!(calcium > 0.005 && calcium < 0.2, "{r:?}");
        let n = |i: usize| r[i].parse::<u64>().unwrap();
        assert!(n(10) > 0 && n(12) > 0, "{r:?}");
    }
    // All sprouting pairs join the three growing populations: each synapse formed or deleted in
    // structure.csv counts once onto a population (spines) and once out of one (boutons).
    let total = |t: &[Vec<&str>], i: usize| t.iter().map(|r| r[i].parse::<u64>().unwrap()).sum::<u64>();
    let formed = total(&rows, 10);
    let deleted = total(&rows, 11) + total(&rows, 12);
    assert!(formed > 0 && deleted > 0, "{table}");
    // Without dendrite types every spine is in the one pool: no inhibitory spines.
    assert_eq!(
        (total(&grown, 15), total(&grown, 17), total(&grown, 19)),
        (formed, 0, formed),
        "{growth}"
    );
    assert_eq!(
        (total(&grown, 16), total(&grown, 18), total(&grown, 20)),
        (deleted, 0, deleted),
        "{growth}"
    );
    assert_eq!((total(&grown, 13), total(&grown, 14)), (0, 0), "{growth}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let formed: u64 = rows.iter().map(|r| r[10].parse::<u64>().unwrap()).sum();
    assert_eq!(summary["structure"]["formed"].as_u64(), Some(formed), "{summary}");
    assert!(
        summary["structure"]["synapses_end"].as_u64().unwrap() > 50_000,
        "{summary}"
    );
}

#[test]
fn growth_without_structure_is_refused() {
    let (_, err) = validate(
        "growth",
        &GOOD.replace("model: RegularSpiking", "model: RegularSpiking, growth: Growth()"),
    );
    assert!(
        err.contains("populations[0].growth") && err.contains("needs the scene's `structure"),
        "{err}"
    );
}

#[test]
fn the_default_scene_is_the_stroke_showcase_and_refuses_a_duration() {
    let out = common::temp_dir("showcase");
    let (ok, _, stderr) = rewire(&["run", "--out", out.to_str().unwrap(), "--duration", "500"]);
    assert!(!ok, "a duration was accepted for a protocol scene");
    assert!(
        stderr.contains("has a protocol") && stderr.contains("M1 stroke"),
        "unclear refusal: {stderr}"
    );
    assert!(!out.join("summary.json").exists(), "a refused run wrote outputs");
    let (ok, stdout, stderr) = rewire(&["validate", "scenes/stroke_rehab.ron"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("protocol: days -8 to 28, 1 lesions (days [0])"),
        "{stdout}"
    );
}

#[test]
fn bench_times_the_slow_updates_apart_from_propagation() {
    let dir = common::temp_dir("bench-slow");
    let out = dir.join("bench.json");
    let scene = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/distal_reward.ron");
    let (ok, stdout, stderr) = rewire(&["bench", scene, "--steps", "100", "--out", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let stages = report["results"][0]["stages"].as_array().unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s["stage"].as_str().unwrap()).collect();
    // The adapters the tests run on have timestamps, so each stage has its own time; the modulated
    // update (every 10 ms of this scene) is one of the slow updates.
    assert_eq!(
        names,
        ["neurons", "propagate", "slow updates", "connectivity"],
        "{stdout}"
    );
    for s in stages {
        assert!(s["s_per_step"].as_f64().unwrap() > 0.0, "{s}");
    }
    assert!(stages[2]["bandwidth_fraction"].is_null(), "{}", stages[2]);
    // The region sums' bytes come from the shards, not from the slot arrays, which the upload
    // took (they read as 0 slots there before, and the connectivity stage had no fraction).
    assert!(
        stages[3]["bandwidth_fraction"].as_f64().is_some_and(|f| f > 0.0),
        "{}",
        stages[3]
    );
    let r = &report["results"][0];
    assert!(
        r["synapse_slots"].as_u64().unwrap() >= r["synapses"].as_u64().unwrap(),
        "{r}"
    );
}

/// Names become CSV fields (rates.csv, connectivity.csv, routes.csv, ...), written and read back
/// by splitting on commas: a name with a comma, a quote or a line break is refused at its field.
/// Letters beyond ASCII are kept (the files are UTF-8).
#[test]
fn names_that_would_break_csv_files_are_refused() {
    for (bad, what) in [
        ("A,B", "comma"),
        ("A\\\"B", "quote"),
        ("A\\nB", "newline"),
        ("A B", "space"),
    ] {
        let region = GOOD.replace(r#"Region(name: "A","#, &format!(r#"Region(name: "{bad}","#));
        expect_error(
            &format!("region-{what}"),
            &region,
            6,
            22,
            "regions[0].name",
            "they become CSV fields",
        );
        let pop = GOOD.replace(r#"Population(name: "E","#, &format!(r#"Population(name: "{bad}","#));
        expect_error(
            &format!("population-{what}"),
            &pop,
            7,
            30,
            "regions[0].populations[0].name",
            "they become CSV fields",
        );
    }
    let dir = common::temp_dir("names-unicode");
    let path = dir.join("unicode.ron");
    let text = GOOD
        .replace(r#"Region(name: "A","#, r#"Region(name: "Área_motora","#)
        .replace(r#"name: "E""#, r#"name: "Étoile""#)
        .replace(r#"from: "E", to: "E""#, r#"from: "Étoile", to: "Étoile""#);
    std::fs::write(&path, text).unwrap();
    let out = dir.join("out");
    let (ok, _, stderr) = rewire(&["run", path.to_str().unwrap(), "--cpu", "--out", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let rates = std::fs::read_to_string(out.join("rates.csv")).unwrap();
    assert!(
        rates.lines().nth(1).unwrap().contains(",Étoile,Área_motora,"),
        "{rates}"
    );
}

#[test]
fn validate_and_bench_take_set_as_run_does() {
    let dir = common::temp_dir("validate-set");
    let path = dir.join("good.ron");
    std::fs::write(&path, GOOD).unwrap();
    let p = path.to_str().unwrap();
    let (ok, stdout, stderr) = rewire(&["validate", p, "--set", "regions.A.populations.E.count=2500"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("2500 neurons"), "{stdout}");
    // A bad setting is refused naming it; a value of the wrong kind too.
    let (ok, _, stderr) = rewire(&["validate", p, "--set", "regions.A.populations.E.count=0"]);
    assert!(
        !ok && stderr.contains("count") && stderr.contains("at least 1"),
        "{stderr}"
    );
    let (ok, _, stderr) = rewire(&["validate", p, "--set", "seed=1,2"]);
    assert!(!ok && stderr.contains("one value per field"), "{stderr}");

    // The whole-cortex stroke scene at 10 M neurons, without building it.
    let scene = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/cortex_stroke.ron");
    let (ok, stdout, stderr) = rewire(&["validate", scene, "--set", "connectome.neurons_per_region=131579"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("10000084 neurons"), "{stdout}");

    // bench: the setting reaches the timed network.
    let out = dir.join("bench.json");
    let (ok, stdout, stderr) = rewire(&[
        "bench",
        p,
        "--steps",
        "10",
        "--set",
        "regions.A.populations.E.count=300",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["results"][0]["neurons"], 300, "{stdout}");
}

/// `rewire info SCENE` sizes a scene against each adapter: whether it fits, and for a connectome
/// scene the largest scale that does and what refuses the next one.
#[test]
fn info_sizes_a_scene_against_each_adapter() {
    let scene = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/cortex_stroke.ron");
    let (ok, stdout, stderr) = rewire(&["info", scene, "--set", "connectome.neurons_per_region=100"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("cortex_stroke.ron: fits: 7680 neurons"), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("largest scale of this scene: --set connectome.neurons_per_region="))
        .unwrap_or_else(|| panic!("no largest scale in {stdout}"));
    let largest: u64 = line
        .split("neurons_per_region=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    assert!(largest > 100, "{line}");
    // The next size up is refused, naming what does not fit.
    let next = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("at {}:", largest + 1)))
        .unwrap_or_else(|| panic!("no refusal of {} in {stdout}", largest + 1));
    assert!(next.contains("too large") && next.contains("needs"), "{next}");
    // A scene without a connectome: only whether it fits.
    let (ok, stdout, stderr) = rewire(&["info", concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/stroke_rehab.ron")]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("stroke_rehab.ron: fits: 1420 neurons"), "{stdout}");
    assert!(!stdout.contains("largest scale of this scene"), "{stdout}");
}
