//! ICMS motor maps (the `Icms` readout): two motor regions wired to different output groups
//! give maps of their own movement; a lesion empties its region's map; mapping leaves the run
//! as it was; the GPU gives its CPU twin's map; bad sites and settings are refused.

mod common;

use rewire::sim::{EngineChoice, RunOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Motor region MA projects onto output group 0 of the effector, MB onto group 1 (chosen so a
/// correct map is known). All of MA dies on day 0.
const SCENE: &str = r#"Scene(seed: 5, dt_ms: 1.0, sample_every_ms: 1000,
    regions: [
        Region(name: "S1", centre_mm: (0, 5, 0), radius_mm: 1.0, populations: [
            Population(name: "S1_E", count: 40, model: RegularSpiking)]),
        Region(name: "MA", centre_mm: (-1.5, 0, 0), radius_mm: 1.0, populations: [
            Population(name: "A", count: 60, model: RegularSpiking)]),
        Region(name: "MB", centre_mm: (1.5, 0, 0), radius_mm: 1.0, populations: [
            Population(name: "B", count: 60, model: RegularSpiking)]),
        Region(name: "Spinal", centre_mm: (0, -5, 0), radius_mm: 1.0, populations: [
            Population(name: "CST", count: 40, model: RegularSpiking)]),
    ],
    projections: [
        Projection(from: "S1_E", to: "A", rule: Topographic(block_from: 20, block_to: 30, p_in: 0.2, p_out: 0.0),
                   weight: 2.0, delay_ms: 2),
        Projection(from: "A", to: "CST", rule: Topographic(block_from: 60, block_to: 20, p_in: 0.3, p_out: 0.0),
                   weight: 4.0, delay_ms: 2),
        Projection(from: "B", to: "CST", rule: Topographic(block_from: 60, block_to: 20, p_in: 0.0, p_out: 0.3),
                   weight: 4.0, delay_ms: 2),
    ],
    inputs: [
        Noise(to: "S1_E", sd: 3.0), Noise(to: "A", sd: 3.0), Noise(to: "B", sd: 3.0), Noise(to: "CST", sd: 2.0),
    ],
    task: Task(cues: Cues(population: "S1_E", count: 2, neurons: 20, current: 15),
               outputs: Outputs(population: "CST", neurons: 20, window_ms: (5, 60), threshold: 8), trial_ms: 200),
    time: Time(offline_ms: 1000),
    protocol: [
        Train(days: (-1, -1), trials: 4),
        Lesion(day: 0, kind: Fraction(population: "A", fraction: 1.0)),
        Rest(days: (0, 1)),
        Probe(every_days: 1, trials: 4),
    ],
    readouts: [Icms(regions: ["MA", "MB"], spacing_mm: 0.5, radius_mm: 0.5, currents: [5, 10, 20, 40], days: [-1, 1])],
)"#;

fn run(src: &str, engine: EngineChoice, name: &str) -> PathBuf {
    common::run_scene(src, engine, name)
}

fn rows(out: &Path, file: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(out.join(file)).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| head.iter().cloned().zip(l.split(',').map(String::from)).collect())
        .collect()
}

#[test]
fn each_motor_region_maps_its_own_movement_and_a_lesion_empties_its_map() {
    let out = run(SCENE, EngineChoice::Cpu, "icms-cpu");
    let sites = rows(&out, "icms.csv");
    // 13 grid sites a region (radius 1, spacing 0.5 leaves i^2 + j^2 <= 4), two regions, two days.
    assert_eq!(sites.len(), 2 * 2 * 13);
    let of = |day: &str, region: &str| -> Vec<&HashMap<String, String>> {
        sites
            .iter()
            .filter(|r| r["day"] == day && r["region"] == region)
            .collect()
    };
    for (region, own) in [("MA", "0"), ("MB", "1")] {
        let before = of("-1", region);
        let responsive: Vec<_> = before.iter().filter(|r| !r["response"].is_empty()).collect();
        // Every site stimulating at least 12 neurons evokes a movement, none with 7 or fewer (the
        // region's rim, where a column holds a few), at least 8 sites a region, and only the
        // region's own movement.
        let neurons = |r: &HashMap<String, String>| r["neurons"].parse::<u32>().unwrap();
        assert!(responsive.len() >= 8, "{region}: {before:?}");
        assert!(
            before
                .iter()
                .filter(|r| neurons(r) >= 12)
                .all(|r| !r["response"].is_empty()),
            "{region}: a column of 12 or more neurons evoked nothing: {before:?}"
        );
        assert!(
            before
                .iter()
                .filter(|r| neurons(r) <= 7)
                .all(|r| r["response"].is_empty()),
            "{region}: a column of 7 or fewer neurons evoked a movement: {before:?}"
        );
        assert!(
            responsive.iter().all(|r| r["response"] == own),
            "{region} evoked another movement: {responsive:?}"
        );
        // A threshold is one of the currents tried.
        assert!(
            responsive
                .iter()
                .all(|r| ["5", "10", "20", "40"].contains(&r["threshold"].as_str()))
        );
    }
    // After MA died: its sites stimulate nobody and evoke nothing; MB's map is still there.
    assert!(
        of("1", "MA")
            .iter()
            .all(|r| r["neurons"] == "0" && r["response"].is_empty())
    );
    let kept = of("1", "MB").iter().filter(|r| r["response"] == "1").count();
    assert!(kept * 10 >= of("-1", "MB").iter().filter(|r| r["response"] == "1").count() * 7);
    // The areas: MA's movement-0 map is gone (0 of what it was), MB's about kept.
    let areas = rows(&out, "icms_areas.csv");
    let area = |day: &str, region: &str, response: &str| {
        areas
            .iter()
            .find(|r| r["day"] == day && r["region"] == region && r["response"] == response)
            .unwrap_or_else(|| panic!("no {day} {region} {response}"))
            .clone()
    };
    assert_eq!(area("1", "MA", "0")["area_rel"], "0");
    assert_eq!(area("-1", "MA", "0")["area_rel"], "1");
    let mb: f64 = area("1", "MB", "1")["area_rel"].parse().unwrap();
    assert!((0.7..=1.3).contains(&mb), "MB's map {mb} of before");
    assert!(out.join("icms.png").exists() && out.join("icms.svg").exists());
}

#[test]
fn mapping_leaves_the_run_as_it_was_and_the_gpu_maps_as_its_twin() {
    let without = SCENE.replace(
        "readouts: [Icms(regions: [\"MA\", \"MB\"], spacing_mm: 0.5, radius_mm: 0.5, currents: [5, 10, 20, 40], days: [-1, 1])],",
        "",
    );
    assert_ne!(without, SCENE);
    let plain = run(&without, EngineChoice::Cpu, "icms-plain");
    let mapped = run(SCENE, EngineChoice::Cpu, "icms-mapped");
    common::same_files(
        &plain,
        &mapped,
        &[
            "rates.csv",
            "connectivity.csv",
            "performance.csv",
            "activation.csv",
            "representation.csv",
        ],
    );
    let gpu = run(SCENE, EngineChoice::Gpu(Default::default()), "icms-gpu");
    common::same_files(
        &mapped,
        &gpu,
        &["icms.csv", "icms_areas.csv", "rates.csv", "performance.csv"],
    );
}

#[test]
fn icms_is_refused_where_it_cannot_map() {
    let readout =
        r#"Icms(regions: ["MA", "MB"], spacing_mm: 0.5, radius_mm: 0.5, currents: [5, 10, 20, 40], days: [-1, 1])"#;
    assert!(SCENE.contains(readout));
    for (replacement, needle, field, message) in [
        (
            r#"Icms(sites: [(9.0, 9.0, 9.0)], days: [1])"#,
            "(9.0, 9.0, 9.0)",
            "readouts[0].sites[0]",
            "outside every region",
        ),
        (
            r#"Icms(regions: ["M7"], days: [1])"#,
            r#""M7""#,
            "readouts[0].regions[0]",
            "unknown region \"M7\"",
        ),
        (
            r#"Icms(regions: ["MA"], currents: [10, 5], days: [1])"#,
            "5]",
            "readouts[0].currents[1]",
            "currents must increase",
        ),
        (
            r#"Icms(regions: ["MA"], radius_mm: 0, days: [1])"#,
            "0, days",
            "readouts[0].radius_mm",
            "must be > 0",
        ),
        (
            r#"Icms(regions: ["MA"], pulse_every_ms: 0.5, days: [1])"#,
            "0.5",
            "readouts[0].pulse_every_ms",
            "at least 1 ms",
        ),
        (
            r#"Icms(regions: ["MA"], days: [1, 0])"#,
            "0]",
            "readouts[0].days[1]",
            "must increase",
        ),
        (
            r#"Icms(regions: ["MA"], days: [-9])"#,
            "-9",
            "readouts[0].days[0]",
            "before the protocol's first day",
        ),
        (
            r#"Icms(days: [1])"#,
            "Icms(",
            "readouts[0].regions",
            "no site to stimulate",
        ),
    ] {
        let src = SCENE.replace(readout, replacement);
        let (line, column, f, m) = common::scene_error(&src, "file.ron");
        let (l, c) = common::position(&src, needle);
        assert_eq!((line, column, f.as_str()), (l, c, field), "{replacement}: {m}");
        assert!(m.contains(message), "{replacement}: {m}");
    }
    // Without a task there are no movements to record.
    let start = SCENE.find("    task: Task(").unwrap();
    let end = SCENE.find("    time: Time").unwrap();
    let no_task = format!("{}{}", &SCENE[..start], &SCENE[end..])
        .replace("        Train(days: (-1, -1), trials: 4),\n", "")
        .replace("        Probe(every_days: 1, trials: 4),\n", "");
    let (_, _, f, m) = common::scene_error(&no_task, "file.ron");
    assert!(f == "readouts[0]" && m.contains("no task"), "{f}: {m}");
}

#[test]
fn a_run_stopped_after_a_map_resumes_to_the_same_maps_and_lfp() {
    use rewire::sim::{Checkpointing, Every};
    // The scene with the LFP readout too: its record and the maps both cross the checkpoint.
    let text = SCENE.replace("days: [-1, 1])],", "days: [-1, 1]), Lfp(window_ms: 500)],");
    assert_ne!(text, SCENE);
    let model = common::model(&text);
    let dir = common::temp_dir("icms-resume");
    let opts = RunOptions {
        engine: EngineChoice::Cpu,
        duration_ms: None,
        progress: false,
    };
    let straight = dir.join("straight");
    rewire::sim::run(model.clone(), &straight, &opts).unwrap();
    let ck = |every: Option<Every>| Checkpointing {
        scene_file: "test.ron".into(),
        scene_text: text.clone(),
        every,
        path: Some(dir.join("day.rwck")),
        ..Default::default()
    };
    // Checkpoints every day; the first (after day -1 and its map) is kept, and resumed.
    let every = dir.join("every");
    let mut c = ck(Some(Every::Days(1)));
    c.stop = Some(std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)));
    assert!(
        rewire::sim::run_with(model.clone(), &every, &opts, &c).is_err(),
        "stopped on request"
    );
    let mut c = ck(None);
    c.resume = Some(rewire::checkpoint::read(&dir.join("day.rwck")).unwrap());
    assert_eq!(
        c.resume.as_ref().unwrap().header.position.protocol.as_ref().unwrap()["next_day"],
        1
    );
    let resumed = dir.join("resumed");
    rewire::sim::run_with(model, &resumed, &opts, &c).unwrap();
    common::same_files(
        &straight,
        &resumed,
        &[
            "icms.csv",
            "icms_areas.csv",
            "lfp.csv",
            "lfp_spectrum.csv",
            "rates.csv",
            "performance.csv",
        ],
    );
    assert!(
        std::fs::read_to_string(straight.join("lfp.csv"))
            .unwrap()
            .lines()
            .count()
            > 4
    );
}
