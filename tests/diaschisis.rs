//! Diaschisis (scenes/diaschisis.ron): region R loses a third of its excitatory drive when region L
//! dies, its rate falls although no neuron of R is lost, and homeostatic structural plasticity
//! brings it back over days; C, R's twin without the tract, keeps its rate. Five seeds (network
//! realisations) on the CPU twin, each with its control arm: R's growth off (`nu_per_ms: 0`), in
//! which R stays down. The GPU is checked against the twin for structural plasticity and lesions in
//! tests/structure.rs and tests/lesion.rs.

mod common;

use rewire::sim::{EngineChoice, RunOptions};
use std::collections::BTreeMap;
use std::path::Path;

const SCENE: &str = include_str!("../scenes/diaschisis.ron");
const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

/// Mean rate per day of each excitatory population: population -> day -> Hz.
fn daily_rates(out: &Path) -> BTreeMap<String, BTreeMap<i32, f64>> {
    let text = std::fs::read_to_string(out.join("rates.csv")).unwrap();
    let mut lines = text.lines();
    // Under the biological clock each row ends with the hours of its day it covers (a rest day: the
    // whole day offline, hours 0 to 24).
    assert_eq!(
        lines.next(),
        Some("step,t_ms,day,population,region,spikes,rate_hz,hour_from,hour_to")
    );
    let mut sums = BTreeMap::<(String, i32), (f64, u32)>::new();
    for l in lines {
        let r: Vec<&str> = l.split(',').collect();
        assert_eq!((r[7], r[8]), ("0", "24"), "{l}");
        let e = sums.entry((r[3].to_string(), r[2].parse().unwrap())).or_default();
        e.0 += r[6].parse::<f64>().unwrap();
        e.1 += 1;
    }
    let mut out = BTreeMap::<String, BTreeMap<i32, f64>>::new();
    for ((pop, day), (sum, n)) in sums {
        out.entry(pop).or_default().insert(day, sum / n as f64);
    }
    out
}

/// Rate of `pop` over days `from..=to` against its own baseline (days -3..=-1).
fn relative(rates: &BTreeMap<String, BTreeMap<i32, f64>>, pop: &str, from: i32, to: i32) -> f64 {
    let mean = |a: i32, b: i32| {
        let v: Vec<f64> = (a..=b).map(|d| rates[pop][&d]).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    mean(from, to) / mean(-3, -1)
}

fn run(src: &str, name: &str) -> BTreeMap<String, BTreeMap<i32, f64>> {
    let out = common::temp_dir(name);
    let opts = RunOptions {
        engine: EngineChoice::Cpu,
        duration_ms: None,
        progress: false,
    };
    rewire::sim::run(common::model(src), &out, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    daily_rates(&out)
}

#[test]
fn cohort_remote_activity_falls_after_the_lesion_and_structural_plasticity_restores_it() {
    let growth = "Population(name: \"R_E\", count: 400, model: RegularSpiking, capacity: 128,\n                       growth: Growth(eta: 0.005, eps: 0.056, nu_per_ms: 2e-7,";
    assert!(SCENE.contains(growth));
    let mut variants = Vec::new();
    for s in SEEDS {
        let full = SCENE.replace("seed: 3,", &format!("seed: {s},"));
        let frozen = full.replace(growth, &growth.replace("nu_per_ms: 2e-7", "nu_per_ms: 0"));
        assert!(full != SCENE || s == 3);
        assert_ne!(frozen, full);
        variants.push((format!("diaschisis-{s}"), full));
        variants.push((format!("diaschisis-frozen-{s}"), frozen));
    }
    let runs: Vec<_> = std::thread::scope(|sc| {
        let handles: Vec<_> = variants
            .iter()
            .map(|(name, src)| sc.spawn(move || run(src, name)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let (mut early, mut late, mut frozen_late, mut control) = (vec![], vec![], vec![], vec![]);
    for (k, s) in SEEDS.iter().enumerate() {
        let (full, frozen) = (&runs[2 * k], &runs[2 * k + 1]);
        let r = |pop: &str, a: i32, b: i32| relative(full, pop, a, b);
        eprintln!(
            "seed {s}: R days 0-1 {:.3}, days 8-10 {:.3}; growth off days 8-10 {:.3}; C days 0-1 {:.3}, 8-10 {:.3}; L baseline {:.2} Hz, R {:.2} Hz",
            r("R_E", 0, 1),
            r("R_E", 8, 10),
            relative(frozen, "R_E", 8, 10),
            r("C_E", 0, 1),
            r("C_E", 8, 10),
            full["L_E"][&-1],
            full["R_E"][&-1],
        );
        // L is dead from day 0.
        assert_eq!(full["L_E"][&0], 0.0, "seed {s}");
        // Growth shapes the wiring before the lesion too, so each arm is measured against its own
        // baseline.
        early.push(r("R_E", 0, 1));
        late.push(r("R_E", 8, 10));
        frozen_late.push(relative(frozen, "R_E", 8, 10));
        control.push((r("C_E", 0, 1), r("C_E", 8, 10)));
        // Every seed: R falls by more than half, regains at least 80 % of its baseline by days
        // 8-10; with growth off it stays below half; C stays within 15 % of its own.
        assert!(r("R_E", 0, 1) < 0.5, "seed {s}: R did not fall");
        assert!(r("R_E", 8, 10) > 0.8, "seed {s}: R did not recover");
        assert!(
            relative(frozen, "R_E", 8, 10) < 0.5,
            "seed {s}: R recovered with growth off"
        );
        for c in [r("C_E", 0, 1), r("C_E", 8, 10)] {
            assert!((c - 1.0).abs() < 0.15, "seed {s}: the unconnected region moved ({c})");
        }
    }
    let stat = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        (m, sd)
    };
    eprintln!(
        "R against baseline, mean and SD over {} seeds: days 0-1 {:?}, days 8-10 {:?}, growth off days 8-10 {:?}; C {:?}",
        SEEDS.len(),
        stat(&early),
        stat(&late),
        stat(&frozen_late),
        control
    );
}
