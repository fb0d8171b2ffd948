//! Virtual instruments (`readouts`): tract strength against what a lesion and a tract cut leave
//! of a tract, the GPU beside its CPU twin, the comparison's tract metric, and refused scenes.

mod common;

use rewire::sim::{EngineChoice, RunOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Two regions joined by one static tract; half of M1 dies on day 0 and the tract is cut on day 2.
const SCENE: &str = r#"Scene(seed: 2, dt_ms: 1.0, sample_every_ms: 1000,
    regions: [
        Region(name: "S1", centre_mm: (0, 0, 0), radius_mm: 1.0, populations: [
            Population(name: "S1_E", count: 100, model: RegularSpiking)]),
        Region(name: "M1", centre_mm: (5, 0, 0), radius_mm: 1.0, populations: [
            Population(name: "M1_E", count: 100, model: RegularSpiking)]),
    ],
    projections: [
        Projection(from: "S1_E", to: "M1_E", rule: Topographic(block_from: 20, block_to: 20, p_in: 0.3, p_out: 0.02),
                   weight: 3.0, delay_ms: 2),
    ],
    inputs: [
        Poisson(to: "S1_E", rate_hz: 20, in_degree: 20, weight: 3.0),
        Poisson(to: "M1_E", rate_hz: 20, in_degree: 20, weight: 3.0),
    ],
    task: Task(cues: Cues(population: "S1_E", count: 4, neurons: 20, current: 15),
               outputs: Outputs(population: "M1_E", neurons: 20, window_ms: (5, 60)), trial_ms: 200),
    time: Time(offline_ms: 1000),
    protocol: [
        Train(days: (-2, -1), trials: 10),
        Lesion(day: 0, kind: Fraction(population: "M1_E", fraction: 0.5)),
        Rest(days: (0, 1)),
        Lesion(day: 2, kind: TractCut(from: "S1", to: "M1")),
        Rest(days: (2, 3)),
        Probe(every_days: 1, trials: 8),
    ],
    readouts: [Tracts()],
)"#;

fn run(engine: EngineChoice, name: &str) -> PathBuf {
    let out = common::temp_dir(name);
    let opts = RunOptions {
        engine,
        duration_ms: None,
        progress: false,
    };
    rewire::sim::run(common::model(SCENE), &out, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    out
}

fn rows(out: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(out.join("tracts.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    assert_eq!(head.join(","), rewire::report::tracts::HEADER);
    lines
        .map(|l| head.iter().cloned().zip(l.split(',').map(String::from)).collect())
        .collect()
}

#[test]
fn tract_strength_follows_the_lesion_and_the_cut_on_the_gpu_as_on_its_twin() {
    let cpu = run(EngineChoice::Cpu, "readouts-cpu");
    let gpu = run(EngineChoice::Gpu(Default::default()), "readouts-gpu");
    assert_eq!(
        std::fs::read(cpu.join("tracts.csv")).unwrap(),
        std::fs::read(gpu.join("tracts.csv")).unwrap(),
        "tracts.csv differs between the GPU and its CPU twin"
    );
    let rows = rows(&cpu);
    // The default: every pair of regions a projection joins, here S1 -> M1 alone.
    assert!(rows.iter().all(|r| r["tract"] == "S1->M1"));
    let f = |r: &HashMap<String, String>, c: &str| r[c].parse::<f64>().unwrap();
    let last_of = |day: &str| rows.iter().rfind(|r| r["day"] == day).unwrap();
    // 1 at the last sample before day 0.
    let reference = last_of("-1");
    assert_eq!((f(reference, "synapses_rel"), f(reference, "weight_rel")), (1.0, 1.0));
    // Half of M1 dies: about half the synapses go with it, and a static tract's weight with them.
    let after = last_of("1");
    let left = f(after, "synapses_rel");
    assert!(left > 0.4 && left < 0.6, "{left} of the synapses left");
    assert_eq!(
        f(after, "weight_rel"),
        left,
        "a static tract's weight follows its synapses"
    );
    assert_eq!(
        left,
        f(after, "synapses") / f(reference, "synapses"),
        "the ratio is of the counts it states"
    );
    // The cut leaves nothing.
    let cut = last_of("3");
    assert_eq!(
        (f(cut, "synapses"), f(cut, "synapses_rel"), f(cut, "weight_rel")),
        (0.0, 0.0, 0.0)
    );
    assert!(cpu.join("tracts.png").is_file() && cpu.join("tracts.svg").is_file());

    // The comparison's tract metric: the weight's change in per cent, before to end.
    let m = rewire::report::compare::metrics(&cpu).unwrap();
    assert_eq!(rewire::report::compare::scalar(&m, "tract:S1->M1"), Some(-100.0));
    rewire::report::compare::check_known(&["tract:S1->M1".into()], "compare").unwrap();
    let e = rewire::report::compare::check_known(&["tract:S1".into()], "compare").unwrap_err();
    assert!(e.to_string().contains("tract:SOURCE->TARGET"), "{e}");
}

#[test]
fn a_readout_that_cannot_be_measured_is_refused_where_it_is_written() {
    let with = |readouts: &str| SCENE.replace("readouts: [Tracts()],", &format!("readouts: {readouts},"));
    for (readouts, needle, field, message) in [
        (
            r#"[Tracts(tracts: [("S1", "V1")])]"#,
            r#""V1""#,
            "readouts[0].tracts[0][1]",
            "unknown region \"V1\"",
        ),
        (
            r#"[Tracts(tracts: [("M1", "M1")])]"#,
            r#""M1")]"#,
            "readouts[0].tracts[0][1]",
            "two different regions",
        ),
        (
            r#"[Tracts(tracts: [("M1", "S1")])]"#,
            r#"("M1""#,
            "readouts[0].tracts[0][0]",
            "no projection or sprouting rule joins",
        ),
        (
            r#"[Tracts(tracts: [("S1", "M1"), ("S1", "M1" )])]"#,
            r#"("S1", "M1" )"#,
            "readouts[0].tracts[1][0]",
            "named twice",
        ),
        (
            r#"[Tracts(), Tracts()]"#,
            "Tracts()]",
            "readouts[1]",
            "a second `Tracts` readout",
        ),
    ] {
        let src = with(readouts);
        let (line, column, f, m) = common::scene_error(&src, "file.ron");
        let (l, c) = common::position(&src, needle);
        let c = if needle.starts_with('(') { c + 1 } else { c };
        assert_eq!((line, column, f.as_str()), (l, c, field), "{readouts}: {m}");
        assert!(m.contains(message), "{readouts}: {m}");
    }
    let (_, _, f, m) = common::scene_error(&SCENE.replace("readouts: [Tracts()]", "readouts: [Bold()]"), "file.ron");
    assert!(m.contains("Bold") && f == "readouts", "{f}: {m}");
}
