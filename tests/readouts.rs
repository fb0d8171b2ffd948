//! Virtual instruments (`readouts`): tract strength against what a lesion and a tract cut leave
//! of a tract, BOLD against a burst of input, each on the GPU beside its CPU twin, the
//! comparison's tract metric, and refused scenes.

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
    readouts: [Tracts(), Bold(tr_ms: 1000)],
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
    assert_eq!(
        std::fs::read(cpu.join("bold.csv")).unwrap(),
        std::fs::read(gpu.join("bold.csv")).unwrap(),
        "bold.csv differs between the GPU and its CPU twin"
    );
    // M1's synaptic input is the tract alone: with half of M1 gone and then the tract cut, its
    // BOLD falls below anything it showed before the lesion. (Poisson input is external: no
    // synapse of the network carries it.)
    let bold = rewire::report::Table::read(&cpu, "bold.csv").unwrap();
    let (region, day, pct) = (
        bold.strs("region").unwrap(),
        bold.f64s("day").unwrap(),
        bold.f64s("bold_pct").unwrap(),
    );
    let m1: Vec<(f64, f64)> = (0..bold.rows.len())
        .filter(|&i| region[i] == "M1")
        .map(|i| (day[i], pct[i]))
        .collect();
    let lowest_before = m1.iter().filter(|b| b.0 < 0.0).map(|b| b.1).fold(f64::MAX, f64::min);
    let last = m1.last().unwrap().1;
    eprintln!("M1 BOLD: lowest before the lesion {lowest_before:.3} %, at the end {last:.3} %");
    assert!(last < -1.0 && last < lowest_before - 1.0, "M1's BOLD: {m1:?}");

    // The comparison's tract metric: the weight's change in per cent, before to end.
    let m = rewire::report::compare::metrics(&cpu).unwrap();
    assert_eq!(rewire::report::compare::scalar(&m, "tract:S1->M1"), Some(-100.0));
    rewire::report::compare::check_known(&["tract:S1->M1".into()], "compare").unwrap();
    let e = rewire::report::compare::check_known(&["tract:S1".into()], "compare").unwrap_err();
    assert!(e.to_string().contains("tract:SOURCE->TARGET"), "{e}");
}

#[test]
fn a_readout_that_cannot_be_measured_is_refused_where_it_is_written() {
    let with = |readouts: &str| {
        SCENE.replace(
            "readouts: [Tracts(), Bold(tr_ms: 1000)],",
            &format!("readouts: {readouts},"),
        )
    };
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
    let src = with("[Tracts(), Bold(tr_ms: 0.5)]");
    let (line, column, f, m) = common::scene_error(&src, "file.ron");
    assert_eq!((line, column, f.as_str()), {
        let (l, c) = common::position(&src, "0.5)]");
        (l, c, "readouts[1].tr_ms")
    });
    assert!(m.contains("at least one step"), "{m}");
    let (_, _, f, m) = common::scene_error(&with("[Bold(), Bold()]"), "file.ron");
    assert!(f == "readouts[1]" && m.contains("a second `Bold`"), "{f}: {m}");
    let (_, _, f, m) = common::scene_error(&with("[Ecog()]"), "file.ron");
    assert!(m.contains("Ecog") && f == "readouts", "{f}: {m}");
}

/// The quickstart network for 40 s with a 2 s burst of extra input to S1 from t = 10 s, its BOLD
/// sampled every second.
fn burst_scene() -> String {
    let src = std::fs::read_to_string("scenes/quickstart.ron").unwrap();
    let src = src.replace("duration_ms: 2000.0,", "duration_ms: 40000.0,");
    let src = src.replace(
        "        Noise(to: \"M1_E\", sd: 5.0),",
        "        Poisson(to: \"S1_E\", rate_hz: 10.0, in_degree: 50, weight: 3.0, from_ms: 10000, until_ms: 12000),\n        Noise(to: \"M1_E\", sd: 5.0),",
    );
    assert!(
        src.contains("until_ms: 12000"),
        "the quickstart scene changed: update this test"
    );
    src.replace("\n)", "\n    readouts: [Bold(tr_ms: 1000)],\n)")
}

#[test]
fn bold_follows_a_burst_of_input_seconds_later_on_the_gpu_as_on_its_twin() {
    let model = common::model(&burst_scene());
    let run = |engine: EngineChoice, name: &str| {
        let out = common::temp_dir(name);
        let opts = RunOptions {
            engine,
            duration_ms: None,
            progress: false,
        };
        rewire::sim::run(model.clone(), &out, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        out
    };
    let cpu = run(EngineChoice::Cpu, "bold-cpu");
    let gpu = run(EngineChoice::Gpu(Default::default()), "bold-gpu");
    let text = std::fs::read_to_string(cpu.join("bold.csv")).unwrap();
    assert_eq!(
        text,
        std::fs::read_to_string(gpu.join("bold.csv")).unwrap(),
        "bold.csv differs between the GPU and its CPU twin"
    );
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t_s,day,region,bold_pct"));
    let series = |region: &str| -> Vec<(f64, f64)> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|r| r[1] == region || r[2] == region)
            .map(|r| (r[0].parse().unwrap(), r[3].parse().unwrap()))
            .collect()
    };
    let s1 = series("S1");
    assert_eq!(s1.len(), 40, "one sample a second");
    assert_eq!(s1[0].0, 1.0);
    let peak = s1
        .iter()
        .copied()
        .fold((0.0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
    let before = s1.iter().filter(|s| s.0 <= 10.0).map(|s| s.1.abs()).fold(0.0, f64::max);
    eprintln!(
        "S1: peak {:.3} % at {} s; before the burst at most {:.3} %",
        peak.1, peak.0, before
    );
    // The burst starts at 10 s: the response peaks seconds after it, far above the background's.
    assert!((13.0..=19.0).contains(&peak.0), "the S1 peak at {} s", peak.0);
    assert!(peak.1 > 5.0 * before, "the burst's response does not stand out");
    let undershoot = s1.iter().filter(|s| s.0 > peak.0).map(|s| s.1).fold(f64::MAX, f64::min);
    assert!(undershoot < 0.0, "no undershoot after the peak");
    // M1, which S1 drives, responds too.
    let m1 = series("M1");
    let m1_peak = m1
        .iter()
        .copied()
        .fold((0.0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
    assert!((13.0..=20.0).contains(&m1_peak.0) && m1_peak.1 > 0.0, "M1: {m1_peak:?}");
    assert!(cpu.join("bold.png").is_file() && cpu.join("bold.svg").is_file());
}

/// Spines grow from A onto S (a sprouting rule) over days -2 to 6; M, which drives S, is removed
/// on day 0. S is imaged on days -1, 0, 2 and 6.
const IMAGED: &str = r#"Scene(name: "imaged", seed: 11, dt_ms: 1.0, sample_every_ms: 2000,
    regions: [
        Region(name: "A", centre_mm: (-1, 0, 0), radius_mm: 0.45, populations: [
            Population(name: "A_E", count: 200, model: RegularSpiking, capacity: 64,
                growth: Growth(eta: 0.0, eps: 0.1, nu_per_ms: 2.3e-8, tau_ca_ms: 600, beta_ca: 0.016667)),
        ]),
        Region(name: "S", centre_mm: (0, 0, 0), radius_mm: 0.45, populations: [
            Population(name: "S_E", count: 200, model: RegularSpiking, capacity: 120,
                growth: Growth(eta: 0.01, eps: 0.09, nu_per_ms: 2.3e-8, tau_ca_ms: 600, beta_ca: 0.016667)),
        ]),
        Region(name: "M", centre_mm: (1, 0, 0), radius_mm: 0.45, populations: [
            Population(name: "M_E", count: 200, model: RegularSpiking),
        ]),
    ],
    projections: [
        Projection(from: "M_E", to: "S_E", rule: FixedInDegree(50), weight: 4.0, delay_ms: 2),
        Projection(from: "A_E", to: "S_E", rule: FixedInDegree(10), weight: 3.0, delay_ms: 3),
    ],
    inputs: [
        Poisson(to: "A_E", rate_hz: 10, in_degree: 100, weight: 2.5),
        Poisson(to: "S_E", rate_hz: 10, in_degree: 100, weight: 2.0),
        Poisson(to: "M_E", rate_hz: 10, in_degree: 100, weight: 2.5),
    ],
    structure: Structure(every_ms: 100, speedup: 4320,
        sprouting: [
            Sprout(from: "A_E", to: "S_E", length_mm: 0.5, weight: 3.0, delay_ms: 3, distance: Absolute),
        ]),
    time: Time(offline_ms: 2000, offline_speedup: 10),
    protocol: [
        Lesion(day: 0, kind: Region(name: "M")),
        Rest(days: (-2, 6)),
    ],
    readouts: [SpineImaging(fields: [Field(centre_mm: (0, 0, 0), radius_mm: 0.3), Field(centre_mm: (0, 0, 0), radius_mm: 1.0)],
                            days: [-1, 0, 2, 6])],
)"#;

fn imaged_run(src: &str, engine: EngineChoice, name: &str) -> PathBuf {
    common::run_scene(src, engine, name)
}

#[test]
fn spine_imaging_follows_cohorts_on_the_gpu_as_on_its_twin() {
    let cpu = imaged_run(IMAGED, EngineChoice::Cpu, "imaging-cpu");
    let gpu = imaged_run(IMAGED, EngineChoice::Gpu(Default::default()), "imaging-gpu");
    for f in ["spine_imaging.csv", "spine_survival.csv", "structure.csv"] {
        assert_eq!(
            std::fs::read(cpu.join(f)).unwrap(),
            std::fs::read(gpu.join(f)).unwrap(),
            "{f} differs between the GPU and its CPU twin"
        );
    }
    let t = rewire::report::Table::read(&cpu, "spine_survival.csv").unwrap();
    let (field, imaged_day, day) = (
        t.f64s("field").unwrap(),
        t.f64s("imaged_day").unwrap(),
        t.f64s("day").unwrap(),
    );
    let (imaged, surviving, gained, lost) = (
        t.f64s("spines_imaged").unwrap(),
        t.f64s("surviving").unwrap(),
        t.strs("gained").unwrap(),
        t.strs("lost").unwrap(),
    );
    // Two fields, four sessions: 4 + 3 + 2 + 1 cohort rows each.
    assert_eq!(t.rows.len(), 20);
    let days = [-1.0, 0.0, 2.0, 6.0];
    for i in 0..t.rows.len() {
        assert!(surviving[i] <= imaged[i], "row {i}: more survivors than spines");
        if imaged_day[i] == day[i] {
            assert_eq!(surviving[i], imaged[i], "row {i}: a cohort is whole on its own day");
        }
    }
    for f in [0.0, 1.0] {
        let row = |j: f64, k: f64| {
            (0..t.rows.len())
                .find(|&i| field[i] == f && imaged_day[i] == j && day[i] == k)
                .unwrap()
        };
        // A cohort only shrinks.
        for (a, b) in days.iter().zip(&days[1..]) {
            assert!(
                surviving[row(-1.0, *b)] <= surviving[row(-1.0, *a)],
                "field {f}: day -1's cohort grew"
            );
        }
        // Between consecutive sessions: the later count is the earlier one less the lost plus the gained.
        for (a, b) in days.iter().zip(&days[1..]) {
            let (i, later) = (row(*a, *b), row(*b, *b));
            let (g, l): (f64, f64) = (gained[i].parse().unwrap(), lost[i].parse().unwrap());
            assert_eq!(imaged[later], imaged[i] - l + g, "field {f}, days {a} to {b}");
        }
    }
    // The larger field holds the smaller one's spines and more.
    let spines = |f: f64| {
        (0..t.rows.len())
            .find(|&i| field[i] == f && day[i] == -1.0)
            .map(|i| imaged[i])
            .unwrap()
    };
    assert!(spines(1.0) > spines(0.0) && spines(0.0) > 0.0);
    // Spines turn over: day -1's cohort loses some by day 6, and new ones form.
    let i = (0..t.rows.len())
        .find(|&i| field[i] == 1.0 && imaged_day[i] == -1.0 && day[i] == 6.0)
        .unwrap();
    assert!(surviving[i] < imaged[i], "no spine of day -1 was lost by day 6");
    assert!(cpu.join("spine_survival.png").is_file());
}

#[test]
fn a_field_whose_neurons_die_keeps_no_spines() {
    let src = IMAGED.replace(
        r#"Lesion(day: 0, kind: Region(name: "M"))"#,
        r#"Lesion(day: 0, kind: Region(name: "S"))"#,
    );
    let out = imaged_run(&src, EngineChoice::Cpu, "imaging-lesioned");
    let t = rewire::report::Table::read(&out, "spine_survival.csv").unwrap();
    let (imaged_day, day, imaged, surviving) = (
        t.f64s("imaged_day").unwrap(),
        t.f64s("day").unwrap(),
        t.f64s("spines_imaged").unwrap(),
        t.f64s("surviving").unwrap(),
    );
    for i in 0..t.rows.len() {
        if imaged_day[i] == -1.0 && day[i] > -1.0 {
            assert!(
                imaged[i] > 0.0 && surviving[i] == 0.0,
                "row {i}: spines of day -1 survive S's removal"
            );
        }
        if imaged_day[i] >= 0.0 {
            assert_eq!(imaged[i], 0.0, "row {i}: spines onto dead neurons");
        }
    }
}

#[test]
fn spine_imaging_is_refused_where_it_cannot_see_spines() {
    let field = r#"Field(centre_mm: (0, 0, 0), radius_mm: 0.3), Field(centre_mm: (0, 0, 0), radius_mm: 1.0)"#;
    for (from, to, path, message) in [
        (
            field,
            r#"Field(centre_mm: (-1, 0, 0), radius_mm: 0.3)"#,
            "readouts[0].fields[0]",
            "without spines",
        ),
        (
            "days: [-1, 0, 2, 6]",
            "days: [-3, 0]",
            "readouts[0].days[0]",
            "before the protocol's first day",
        ),
        (
            "days: [-1, 0, 2, 6]",
            "days: [9, 12]",
            "readouts[0].days",
            "no imaging day falls within",
        ),
        (
            "days: [-1, 0, 2, 6]",
            "days: [2, 0]",
            "readouts[0].days[1]",
            "must increase",
        ),
        ("days: [-1, 0, 2, 6]", "days: []", "readouts[0].days", "1 to 8"),
        (
            field,
            r#"Field(centre_mm: (0, 0, 0), radius_mm: -1)"#,
            "readouts[0].fields[0].radius_mm",
            "> 0",
        ),
    ] {
        assert!(IMAGED.contains(from), "{from}");
        let src = IMAGED.replace(from, to);
        let (_, _, f, m) = common::scene_error(&src, "file.ron");
        assert!(f == path && m.contains(message), "{to}: {f}: {m}");
    }
    // Days after the protocol's end are not reached: the readout keeps the others.
    let m = common::model(&IMAGED.replace("days: [-1, 0, 2, 6]", "days: [-1, 6, 9, 12]"));
    assert_eq!(m.readouts.imaging.unwrap().days, vec![-1, 6]);
    // Without structural plasticity there is nothing to image.
    let start = IMAGED.find("    structure: Structure(").unwrap();
    let end = IMAGED.find("    time: Time(").unwrap();
    let src = format!("{}{}", &IMAGED[..start], &IMAGED[end..]).replace(
        "capacity: 64,\n                growth: Growth(eta: 0.0, eps: 0.1, nu_per_ms: 2.3e-8, tau_ca_ms: 600, beta_ca: 0.016667)",
        "capacity: 64",
    );
    let src = src.replace(
        "capacity: 120,\n                growth: Growth(eta: 0.01, eps: 0.09, nu_per_ms: 2.3e-8, tau_ca_ms: 600, beta_ca: 0.016667)",
        "capacity: 120",
    );
    let (_, _, f, m) = common::scene_error(&src, "file.ron");
    assert!(f == "readouts[0]" && m.contains("needs `structure`"), "{f}: {m}");
}

/// A and B both receive only from D, whose cue population the task drives in every session; C
/// receives only from E, which a burst of extra input drives through days -5 and -4 (whole days,
/// blind to the sessions). Each day is a 5 s session and a 5 s offline phase. A lies left, B and C
/// right (by the sign of their centre's x); D and E on the midline.
const FC: &str = r#"Scene(name: "fc", seed: 3, dt_ms: 1.0, sample_every_ms: 1000,
    regions: [
        Region(name: "D", centre_mm: (0, 0, 0), radius_mm: 0.5, populations: [
            Population(name: "D_E", count: 100, model: RegularSpiking)]),
        Region(name: "A", centre_mm: (-2, 0, 0), radius_mm: 0.5, populations: [
            Population(name: "A_E", count: 100, model: RegularSpiking)]),
        Region(name: "B", centre_mm: (2, 0, 0), radius_mm: 0.5, populations: [
            Population(name: "B_E", count: 100, model: RegularSpiking)]),
        Region(name: "E", centre_mm: (0, 5, 0), radius_mm: 0.5, populations: [
            Population(name: "E_E", count: 100, model: RegularSpiking)]),
        Region(name: "C", centre_mm: (2, 5, 0), radius_mm: 0.5, populations: [
            Population(name: "C_E", count: 100, model: RegularSpiking)]),
    ],
    projections: [
        Projection(from: "D_E", to: "A_E", rule: FixedInDegree(20), weight: 2.0, delay_ms: 2),
        Projection(from: "D_E", to: "B_E", rule: FixedInDegree(10), weight: 2.0, delay_ms: 3),
        Projection(from: "E_E", to: "C_E", rule: FixedInDegree(20), weight: 2.0, delay_ms: 2),
    ],
    inputs: [
        Poisson(to: "D_E", rate_hz: 10, in_degree: 20, weight: 3.0),
        Poisson(to: "A_E", rate_hz: 10, in_degree: 20, weight: 3.0),
        Poisson(to: "B_E", rate_hz: 10, in_degree: 20, weight: 3.0),
        Poisson(to: "E_E", rate_hz: 10, in_degree: 20, weight: 3.0),
        Poisson(to: "C_E", rate_hz: 10, in_degree: 20, weight: 3.0),
        Poisson(to: "E_E", rate_hz: 20, in_degree: 20, weight: 3.0, from_ms: 10000, until_ms: 30000),
    ],
    task: Task(cues: Cues(population: "D_E", count: 2, neurons: 50, current: 15),
               outputs: Outputs(population: "A_E", neurons: 50, window_ms: (5, 60)), trial_ms: 200),
    time: Time(offline_ms: 5000),
    protocol: [
        Train(days: (-6, -1), trials: 25),
    ],
    readouts: [Bold(tr_ms: 1000, fc_days: [(-6, -1), (-2, -2)], laterality_regions: ["A", "C"])],
)"#;

/// The correlation of regions `a` and `b` in window `w` of a bold_fc.csv (None for an empty cell).
fn fc(out: &Path, w: &str, a: &str, b: &str) -> Option<f64> {
    let t = rewire::report::Table::read(out, "bold_fc.csv").unwrap();
    let (window, ra, rb, c) = (
        t.strs("window").unwrap(),
        t.strs("region_a").unwrap(),
        t.strs("region_b").unwrap(),
        t.strs("correlation").unwrap(),
    );
    let i = (0..t.rows.len())
        .find(|&i| window[i] == w && ((ra[i], rb[i]) == (a, b) || (ra[i], rb[i]) == (b, a)))
        .unwrap_or_else(|| panic!("no row {w} {a} {b}"));
    (!c[i].is_empty()).then(|| c[i].parse().unwrap())
}

#[test]
fn regions_with_a_common_driver_are_functionally_connected_and_an_independent_one_is_not() {
    let out = common::temp_dir("bold-fc");
    let opts = RunOptions {
        engine: EngineChoice::Cpu,
        duration_ms: None,
        progress: false,
    };
    rewire::sim::run(common::model(FC), &out, &opts).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(out.join("bold_fc.csv")).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("window,first_day,last_day,samples,region_a,region_b,correlation")
    );
    // 2 windows x 10 pairs; 60 and 10 TR samples.
    assert_eq!(text.lines().count(), 1 + 2 * 10);
    assert!(
        text.contains("\n0,-6,-1,60,D,A,") && text.contains("\n1,-2,-2,10,D,A,"),
        "{text}"
    );
    assert!(!text.contains("NaN"), "{text}");
    let (ab, ac, bc) = (
        fc(&out, "0", "A", "B").unwrap(),
        fc(&out, "0", "A", "C").unwrap(),
        fc(&out, "0", "B", "C").unwrap(),
    );
    let ce = fc(&out, "0", "C", "E");
    eprintln!("FC days -6..-1: A-B {ab:.3}, A-C {ac:.3}, B-C {bc:.3}, C-E {ce:?}");
    assert!(ab > 0.95, "A and B share their driver: {ab}");
    assert!(
        ac.abs() < 0.5 && bc.abs() < 0.5,
        "C is driven apart: A-C {ac}, B-C {bc}"
    );
    // D and E receive no synapse of the network: their signal is flat, their cells empty.
    assert_eq!(ce, None);
    assert_eq!(fc(&out, "0", "D", "A"), None);

    // Without a lesion the index is left minus right: A (left) follows the sessions, C (right)
    // does not.
    let l = rewire::report::Table::read(&out, "bold_laterality.csv").unwrap();
    assert_eq!(
        l.header.join(","),
        "day,ipsilesional_pct,contralesional_pct,laterality,contralesional_side"
    );
    assert_eq!(l.rows.len(), 6, "one row per day with a session");
    let (contra, ipsi, li) = (
        l.f64s("contralesional_pct").unwrap(),
        l.f64s("ipsilesional_pct").unwrap(),
        l.f64s("laterality").unwrap(),
    );
    eprintln!("laterality: {li:?}; left {contra:?}; right {ipsi:?}");
    assert!(l.strs("contralesional_side").unwrap().iter().all(|s| *s == "left"));
    for i in 0..l.rows.len() {
        assert!(
            contra[i] > 0.0,
            "day {i}: A is not activated by the task: {}",
            contra[i]
        );
        assert_eq!(li[i], (contra[i] - ipsi[i]) / (contra[i].abs() + ipsi[i].abs()));
    }
    // Days -6, -2 and -1 (rows 0, 4, 5) are clear of the burst and of its lagged response, which
    // gives C task-blind activation of its own on days -5 to -3.
    for i in [0, 4, 5] {
        assert!(
            li[i] > 0.5,
            "day {}: the task activates the left side: laterality {}",
            i as i32 - 6,
            li[i]
        );
    }

    // The comparison reads them back: the last day's laterality; BOLD change needs two days.
    let m = rewire::report::compare::metrics(&out).unwrap();
    assert_eq!(rewire::report::compare::scalar(&m, "laterality"), Some(li[5]));
    let bold = rewire::report::Table::read(&out, "bold.csv").unwrap();
    let (region, day, pct) = (
        bold.strs("region").unwrap(),
        bold.f64s("day").unwrap(),
        bold.f64s("bold_pct").unwrap(),
    );
    let mean_of = |d: f64| {
        let v: Vec<f64> = (0..bold.rows.len())
            .filter(|&i| region[i] == "C" && day[i] == d)
            .map(|i| pct[i])
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let change = rewire::report::compare::scalar(&m, "bold:C").unwrap();
    assert!((change - (mean_of(-1.0) - mean_of(-6.0))).abs() < 1e-12, "{change}");
}

#[test]
fn bold_analyses_are_refused_where_they_are_written() {
    let with = |bold: &str| {
        FC.replace(
            r#"Bold(tr_ms: 1000, fc_days: [(-6, -1), (-2, -2)], laterality_regions: ["A", "C"])"#,
            bold,
        )
    };
    for (bold, needle, field, message) in [
        (
            "Bold(fc_days:  [(-12, -9)])",
            "[(-12, -9)]",
            "readouts[0].fc_days",
            "no window falls within the protocol",
        ),
        (
            "Bold(fc_days: [(-1, -3)])",
            "-3)",
            "readouts[0].fc_days[0][1]",
            "before its first day",
        ),
        (
            "Bold(tr_ms: 4000, fc_days: [(-6, -1), (-2,  -2)])",
            "(-2,  -2)",
            "readouts[0].fc_days[1]",
            "hold 2 TR samples",
        ),
        (
            r#"Bold(laterality_regions: ["A", "Q"])"#,
            r#""Q""#,
            "readouts[0].laterality_regions[1]",
            "unknown region \"Q\"",
        ),
        (
            r#"Bold(laterality_regions: ["A", "D"])"#,
            r#""D"]"#,
            "readouts[0].laterality_regions[1]",
            "has no side",
        ),
        (
            r#"Bold(laterality_regions: ["B", "C"])"#,
            r#"["B", "C"]"#,
            "readouts[0].laterality_regions",
            "both sides",
        ),
    ] {
        let src = with(bold);
        let (line, column, f, m) = common::scene_error(&src, "file.ron");
        let (l, c) = common::position(&src, needle);
        assert_eq!((line, column, f.as_str()), (l, c, field), "{bold}: {m}");
        assert!(m.contains(message), "{bold}: {m}");
    }
    // Without a protocol there are no days to window.
    let src = burst_scene().replace("Bold(tr_ms: 1000)", "Bold(tr_ms: 1000, fc_days: [(0, 0)])");
    let (_, _, f, m) = common::scene_error(&src, "file.ron");
    assert!(f == "readouts[0].fc_days" && m.contains("has none"), "{f}: {m}");
}

/// Two run folders of hand-written readout files: the comparison's readout metrics.
#[test]
fn compare_reads_bold_laterality_and_spine_survival_metrics() {
    let write = |name: &str, bold_c: [f64; 2], li: &str, survival: &str| {
        let d = common::temp_dir(name);
        std::fs::write(
            d.join("summary.json"),
            r#"{"scene": "s", "seed": 1, "protocol": {"lesion_days": [0]}}"#,
        )
        .unwrap();
        let mut bold = String::from("t_s,day,region,bold_pct\n");
        for (t, day, v) in [
            (1, -2, 9.0),
            (2, -1, 0.5),
            (3, -1, 1.5),
            (4, 0, 7.0),
            (5, 3, bold_c[0]),
            (6, 3, bold_c[1]),
        ] {
            bold.push_str(&format!("{t},{day},A,{v}\n{t},{day},B,0\n"));
        }
        std::fs::write(d.join("bold.csv"), bold).unwrap();
        std::fs::write(
            d.join("bold_laterality.csv"),
            format!("day,ipsilesional_pct,contralesional_pct,laterality,contralesional_side\n-1,0.2,0.2,0,right\n{li}3,,,,right\n"),
        )
        .unwrap();
        std::fs::write(
            d.join("spine_survival.csv"),
            format!("{}\n{survival}", rewire::report::imaging::HEADER),
        )
        .unwrap();
        d
    };
    // Field 0: the cohort of day -1 (the last before the lesion on day 0) on day 7, the last.
    let a = write(
        "compare-readouts-a",
        [2.0, 4.0],
        "2,0.1,0.3,0.5,right\n",
        "0,-3,-3,10,10,1,,,,\n0,-3,7,10,2,0.2,,,,\n0,-1,-1,20,20,1,,,,\n0,-1,7,20,15,0.75,,,,\n0,7,7,30,30,1,,,,\n\
         1,7,7,5,5,1,,,,\n",
    );
    let b = write(
        "compare-readouts-b",
        [0.0, 0.0],
        "2,0.3,0.1,-0.5,right\n",
        "0,-1,7,20,5,0.25,,,,\n",
    );
    let (ma, mb) = (
        rewire::report::compare::metrics(&a).unwrap(),
        rewire::report::compare::metrics(&b).unwrap(),
    );
    use rewire::report::compare::scalar;
    // A: mean of day 3 (2, 4) less the mean of day -1 (0.5, 1.5).
    assert_eq!(scalar(&ma, "bold:A"), Some(2.0));
    assert_eq!(scalar(&mb, "bold:A"), Some(-1.0));
    assert_eq!(scalar(&ma, "bold:B"), Some(0.0));
    assert_eq!(scalar(&ma, "bold:Z"), None);
    // The last day with an index (day 3 has none).
    assert_eq!(
        (scalar(&ma, "laterality"), scalar(&mb, "laterality")),
        (Some(0.5), Some(-0.5))
    );
    assert_eq!(scalar(&ma, "spine_survival:0"), Some(0.75));
    assert_eq!(scalar(&mb, "spine_survival:0"), Some(0.25));
    // Field 1 was imaged on its last day alone: nothing survived to compare.
    assert_eq!(scalar(&ma, "spine_survival:1"), None);
    let runs = [ma, mb];
    let chosen = rewire::report::compare::choose_metrics(
        &runs,
        &["bold:A".into(), "laterality".into(), "spine_survival:0".into()],
        &[],
        "compare",
    )
    .unwrap();
    assert_eq!(chosen.len(), 3);
    let e = rewire::report::compare::choose_metrics(&runs, &["spine_survival:1".into()], &[], "compare").unwrap_err();
    assert!(e.to_string().contains("has no spine_survival:1"), "{e}");
    for bad in ["bold:", "laterality:A", "spine_survival", "bolds:A"] {
        let e = rewire::report::compare::check_known(&[bad.into()], "compare").unwrap_err();
        assert!(
            e.to_string().contains("bold:REGION") && e.to_string().contains("spine_survival:FIELD"),
            "{bad}: {e}"
        );
    }
}
