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
    assert_eq!(lines.next(), Some("day,t_ms,task,region,input,share"));
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
