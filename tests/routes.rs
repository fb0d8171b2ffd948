//! Routes to behaviour (`routes.csv`): per source region, the synaptic input that reaches the
//! task's correct output group in the response windows of the probe trials. An effector in its
//! own region, fed by two cortical regions: the GPU gives the CPU twin's file byte for byte, the
//! stronger projection carries the larger share, a region lesion takes its share to 0, and an
//! effector with no inputs is refused.

mod common;

use rewire::sim::{EngineChoice, RunOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Cues in S1 drive A and B; A and B project onto the effector CST_E in "Spinal" with weights
/// `A_W` and `B_W`; region A dies at the start of day 0. Probes every day from -2 to 1.
const SCENE: &str = r#"Scene(seed: 3, dt_ms: 1.0, sample_every_ms: 1000,
    regions: [
        Region(name: "S1", centre_mm: (0, 0, 0), radius_mm: 1.0, populations: [
            Population(name: "S_E", count: 80, model: RegularSpiking)]),
        Region(name: "A", centre_mm: (5, 0, 0), radius_mm: 1.0, populations: [
            Population(name: "A_E", count: 80, model: RegularSpiking)]),
        Region(name: "B", centre_mm: (-5, 0, 0), radius_mm: 1.0, populations: [
            Population(name: "B_E", count: 80, model: RegularSpiking)]),
        Region(name: "Spinal", centre_mm: (0, 0, -20), radius_mm: 1.0, populations: [
            Population(name: "CST_E", count: 40, model: RegularSpiking)]),
    ],
    projections: [
        Projection(from: "S_E", to: "A_E", rule: FixedProbability(0.2), weight: 3.0, delay_ms: 2),
        Projection(from: "S_E", to: "B_E", rule: FixedProbability(0.2), weight: 3.0, delay_ms: 2),
        Projection(from: "A_E", to: "CST_E", rule: FixedProbability(0.2), weight: A_W, delay_ms: 3),
        Projection(from: "B_E", to: "CST_E", rule: FixedProbability(0.2), weight: B_W, delay_ms: 3),
    ],
    inputs: [
        Poisson(to: "S_E", rate_hz: 20, in_degree: 20, weight: 3.0),
        Poisson(to: "A_E", rate_hz: 20, in_degree: 20, weight: 3.0),
        Poisson(to: "B_E", rate_hz: 20, in_degree: 20, weight: 3.0),
        Poisson(to: "CST_E", rate_hz: 20, in_degree: 20, weight: 3.0),
    ],
    task: Task(cues: Cues(population: "S_E", count: 2, neurons: 20, current: 15),
               outputs: Outputs(population: "CST_E", neurons: 20, window_ms: (5, 60)), trial_ms: 200),
    time: Time(offline_ms: 200),
    protocol: [
        Train(days: (-2, -1), trials: 4),
        Lesion(day: 0, kind: Region(name: "A", fraction: 1.0)),
        Rest(days: (0, 1)),
        Probe(every_days: 1, trials: 4),
    ],
)"#;

/// The scene with the two projections onto the effector weighted `a` and `b`.
fn scene(a: &str, b: &str) -> String {
    SCENE.replace("A_W", a).replace("B_W", b)
}

fn run(src: &str, name: &str, engine: EngineChoice) -> PathBuf {
    let out = common::temp_dir(name);
    let opts = RunOptions {
        engine,
        duration_ms: None,
        progress: false,
    };
    rewire::sim::run(common::model(src), &out, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    out
}

/// `routes.csv` as (day, region) -> (input, share), checking the header and the row count.
fn routes(out: &Path) -> HashMap<(i32, String), (f64, f64)> {
    let text = std::fs::read_to_string(out.join("routes.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("day,t_ms,task,region,input,share,hour_from,hour_to"));
    let rows: HashMap<(i32, String), (f64, f64)> = lines
        .map(|l| {
            let r: Vec<&str> = l.split(',').collect();
            assert_eq!(r[2], "motor", "{l}");
            let key = (r[0].parse().unwrap(), r[3].to_string());
            (key, (r[4].parse().unwrap(), r[5].parse().unwrap()))
        })
        .collect();
    assert_eq!(rows.len(), 4 * 4, "one row per probe day (4) and region (4)");
    rows
}

#[test]
fn routes_are_identical_on_the_gpu_and_the_cpu_twin() {
    drop(common::gpu());
    // Weights that round in fixed point, and an inhibitory projection (|w| counts).
    let src = scene("Uniform(1.5, 2.5)", "Uniform(-0.8, -0.2)");
    let g = run(&src, "routes-gpu", EngineChoice::Gpu(Default::default()));
    let c = run(&src, "routes-cpu", EngineChoice::Cpu);
    common::same_files(&g, &c, &["routes.csv", "performance.csv", "lesions.csv", "rates.csv"]);
    // Not a file of zeros: both cortical regions carried input before the lesion.
    let r = routes(&g);
    assert!(r[&(-1, "A".into())].0 > 0.0 && r[&(-1, "B".into())].0 > 0.0, "{r:?}");
}

#[test]
fn the_stronger_projection_carries_the_larger_share_until_its_region_dies() {
    for (a_w, b_w, strong, weak) in [("2.0", "0.5", "A", "B"), ("0.5", "2.0", "B", "A")] {
        let out = run(&scene(a_w, b_w), &format!("routes-{strong}"), EngineChoice::Cpu);
        let r = routes(&out);
        let get = |day: i32, region: &str| r[&(day, region.to_string())];
        for day in -2..=1 {
            eprintln!(
                "A -> CST {a_w}, B -> CST {b_w}: day {day}: A {:?}, B {:?}",
                get(day, "A"),
                get(day, "B")
            );
            // Neither the cue region nor the effector itself projects onto the effector.
            assert_eq!(get(day, "S1"), (0.0, 0.0));
            assert_eq!(get(day, "Spinal"), (0.0, 0.0));
            let shares: f64 = ["S1", "A", "B", "Spinal"].iter().map(|reg| get(day, reg).1).sum();
            assert!((shares - 1.0).abs() < 1e-12, "day {day}: shares add up to {shares}");
        }
        // Before the lesion (days -2, -1) the four-fold stronger projection carries most of it.
        for day in [-2, -1] {
            let (s, w) = (get(day, strong), get(day, weak));
            assert!(w.0 > 0.0, "day {day}: {weak} delivered nothing");
            assert!(
                s.1 > 0.65 && s.1 > w.1,
                "day {day}: {strong} {s:?} against {weak} {w:?}"
            );
        }
        // From the lesion on, region A is dead: its share is 0 and B carries all of it.
        for day in [0, 1] {
            let (a, b) = (get(day, "A"), get(day, "B"));
            assert_eq!(a, (0.0, 0.0), "day {day}: the dead region A still delivers");
            assert!(b.0 > 0.0, "day {day}: B delivered nothing");
            assert_eq!(b.1, 1.0, "day {day}");
        }
    }
}

#[test]
fn an_effector_with_no_inputs_is_refused() {
    let fed = scene("2.0", "0.5");
    // Its only projection its own: still no region could carry the response.
    for onto in [
        "",
        r#"Projection(from: "CST_E", to: "CST_E", rule: FixedProbability(0.1), weight: 1.0, delay_ms: 1),"#,
    ] {
        let src = fed
            .replace(
                r#"Projection(from: "A_E", to: "CST_E", rule: FixedProbability(0.2), weight: 2.0, delay_ms: 3),"#,
                onto,
            )
            .replace(
                r#"Projection(from: "B_E", to: "CST_E", rule: FixedProbability(0.2), weight: 0.5, delay_ms: 3),"#,
                "",
            );
        assert!(!src.contains(r#"to: "CST_E", rule: FixedProbability(0.2)"#));
        // Where `"CST_E"` is written in `Outputs(population: "CST_E", ...)`.
        let (line, column, field, message) = common::scene_error(&src, "effector.ron");
        let (want_line, want_column) = common::position(&src, r#""CST_E", neurons"#);
        assert_eq!((line, column), (want_line, want_column), "{message}");
        assert_eq!(field, "task.outputs.population");
        assert!(
            message.contains(r#"output population "CST_E" receives no projection from another population"#),
            "{message}"
        );
        let shown = rewire::scene::parse(&src, "effector.ron").unwrap_err().to_string();
        assert!(
            shown.starts_with(&format!(
                "effector.ron:{want_line}:{want_column}: task.outputs.population: "
            )),
            "{shown}"
        );
    }
    // The scene with both projections is accepted.
    common::model(&fed);
}

/// The routes scene with `guided: ["A_E"]`, guidance `guidance` and the effector held below
/// threshold by a constant current `effector_dc` (0: none).
fn guided_scene(guidance: &str, effector_dc: &str) -> String {
    scene("2.0", "0.5")
        .replace(
            "outputs: Outputs(population: \"CST_E\", neurons: 20, window_ms: (5, 60)), trial_ms: 200),",
            &format!(
                "outputs: Outputs(population: \"CST_E\", neurons: 20, window_ms: (5, 60)), trial_ms: 200,\n               guidance: {guidance}, guided: [\"A_E\"]),"
            ),
        )
        .replace(
            "Poisson(to: \"CST_E\", rate_hz: 20, in_degree: 20, weight: 3.0),",
            &format!("Poisson(to: \"CST_E\", rate_hz: 20, in_degree: 20, weight: 3.0), Dc(to: \"CST_E\", amplitude: {effector_dc}),"),
        )
}

/// A_E's mean rate in the training sessions (rates.csv rows of the days -2 and -1 that end where
/// performance.csv's train rows end).
fn train_rate(out: &Path, population: &str) -> f64 {
    let perf = std::fs::read_to_string(out.join("performance.csv")).unwrap();
    let ends: Vec<String> = perf
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2) == Some("train"))
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(ends.len(), 2, "{perf}");
    let rates = std::fs::read_to_string(out.join("rates.csv")).unwrap();
    let rows: Vec<f64> = rates
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r[3] == population && ends.contains(&r[1].to_string()))
        .map(|r| r[6].parse().unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{rates}");
    rows.iter().sum::<f64>() / 2.0
}

/// Guided groups (`Task(guided: [...])`) take the guidance current in training trials, the same
/// on the GPU as on the CPU twin, and are never counted as responses: with the effector held far
/// below threshold, A's guided groups fire but no training trial has a response.
#[test]
fn guided_groups_are_driven_by_the_guidance_and_never_counted() {
    drop(common::gpu());
    let silent = guided_scene("30", "-60");
    let g = run(&silent, "guided-gpu", EngineChoice::Gpu(Default::default()));
    let c = run(&silent, "guided-cpu", EngineChoice::Cpu);
    common::same_files(&g, &c, &["performance.csv", "rates.csv", "routes.csv"]);
    let perf = std::fs::read_to_string(c.join("performance.csv")).unwrap();
    for l in perf.lines().skip(1) {
        let r: Vec<&str> = l.split(',').collect();
        assert_eq!((r[5], r[7]), ("0", r[4]), "a response from a silent effector: {l}");
    }
    assert_eq!(train_rate(&c, "CST_E"), 0.0, "the effector fired");
    // The same scene without guidance: A's training rate is what the guidance adds to.
    let unguided = run(&guided_scene("0", "-60"), "guided-none", EngineChoice::Cpu);
    let (with, without) = (train_rate(&c, "A_E"), train_rate(&unguided, "A_E"));
    eprintln!("A_E in training: {with:.2} Hz guided, {without:.2} Hz without guidance");
    assert!(with > without + 5.0, "guidance did not drive A's groups");
    // B is not guided: its rate does not change.
    assert_eq!(train_rate(&c, "B_E"), train_rate(&unguided, "B_E"));
}

#[test]
fn a_guided_population_that_cannot_hold_the_groups_or_is_unknown_is_refused() {
    let ok = guided_scene("4", "0");
    common::model(&ok);
    for (bad, field, says) in [
        (r#"guided: ["X_E"]"#, "task.guided[0]", r#"unknown population "X_E""#),
        (
            r#"guided: ["A_E", "CST_E"]"#,
            "task.guided[1]",
            r#"population "CST_E" is already the outputs"#,
        ),
        (
            r#"guided: ["S_E"]"#,
            "task.guided[0]",
            r#"population "S_E" is already the cue population"#,
        ),
        (
            r#"guided: ["A_E", "A_E"]"#,
            "task.guided[1]",
            r#"population "A_E" is already guided"#,
        ),
    ] {
        let src = ok.replace(r#"guided: ["A_E"]"#, bad);
        let (line, column, f, message) = common::scene_error(&src, "guided.ron");
        assert_eq!(f, field, "{message}");
        assert!(message.contains(says), "{message}");
        assert_eq!(line, common::position(&src, "guided: [").0, "{message}");
        assert!(column > 0);
    }
    // Two groups of 20 need 40 neurons of A_E.
    let small = ok.replace(
        r#"Population(name: "A_E", count: 80"#,
        r#"Population(name: "A_E", count: 30"#,
    );
    let (_, _, f, message) = common::scene_error(&small, "guided.ron");
    assert_eq!(f, "task.guided[0]");
    assert!(
        message.contains("2 guided groups (one per cue) of 20 neurons need 40 neurons"),
        "{message}"
    );
}
