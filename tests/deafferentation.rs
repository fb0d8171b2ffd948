//! Structural plasticity at work (scenes/deafferentation.ron, Butz & van Ooyen 2013; Keck et al.
//! 2008): an intact network at its set point keeps its wiring; removing part of a zone's input
//! raises turnover there, neighbours sprout into it from the border inward, and its activity
//! recovers; removing all of it (activity below the growth threshold) gives no such rewiring.

mod common;

use rewire::build::build;
use rewire::engine::Engine;
use rewire::gpu::GpuEngine;
use rewire::stats::Stats;

const SCENE: &str = include_str!("../scenes/deafferentation.ron");
/// Deafferentation at 4 s; samples every second.
const CUT_S: usize = 4;

struct Run {
    stats: Vec<Stats>,
    /// Structural synapses at the start, and those of them still in place at the end.
    initial: u64,
    survivors: u64,
}

fn run(src: &str, seconds: u64) -> Run {
    let model = common::model(src);
    let net = build(&model);
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 0).expect("upload");
    let mut stats = Vec::new();
    let every = model.sample_every_steps;
    for _ in 0..seconds * 1000 / every {
        gpu.advance(every).unwrap();
        stats.push(Stats::from_raw(&model, &gpu.sample().unwrap(), every, &net.globals));
    }
    // Initial synapses are stable spines born at step 0; formed ones are born later.
    let stable = rewire::layout::SPINE_STABLE as u16;
    let initial = net.syn_delay.iter().filter(|&&d| d & stable != 0).count() as u64;
    let (pre, _, born) = gpu.slots().unwrap();
    let survivors = (0..pre.len())
        .filter(|&k| net.syn_delay[k] & stable != 0 && born[k] == 0 && pre[k] == net.syn_pre[k])
        .count() as u64;
    Run {
        stats,
        initial,
        survivors,
    }
}

fn zone_rate(s: &Stats) -> f64 {
    let zone: Vec<f64> = s
        .populations
        .iter()
        .filter(|p| p.population == "core_E" || p.population == "rim_E")
        .map(|p| p.rate_hz)
        .collect();
    zone.iter().sum::<f64>() / zone.len() as f64
}

fn region<'a>(s: &'a Stats, name: &str) -> &'a rewire::stats::StructStat {
    s.structure.iter().find(|r| r.region == name).unwrap()
}

fn zone_formed(s: &Stats) -> u64 {
    region(s, "core").formed + region(s, "rim").formed
}

fn zone_spines(s: &Stats) -> u64 {
    region(s, "core").spines + region(s, "rim").spines
}

fn synapses(s: &Stats, from: &str, to: &str) -> f64 {
    s.connectivity
        .iter()
        .find(|c| c.source == from && c.target == to)
        .unwrap()
        .synapses as f64
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn intact_network_at_its_set_point_keeps_its_wiring() {
    let intact = SCENE.replace(", until_ms: 4000", "");
    let r = run(&intact, 20);
    let spines = |s: &Stats| s.structure.iter().map(|x| x.spines).sum::<u64>() as f64;
    let first = spines(&r.stats[0]);
    let drift = r
        .stats
        .iter()
        .map(|s| (spines(s) / first - 1.0).abs())
        .fold(0.0, f64::max);
    let late = &r.stats[10..];
    let formed: u64 = late.iter().flat_map(|s| &s.structure).map(|x| x.formed).sum();
    let eliminated: u64 = late
        .iter()
        .flat_map(|s| &s.structure)
        .map(|x| x.pruned + x.retracted)
        .sum();
    let survival = r.survivors as f64 / r.initial as f64;
    eprintln!(
        "synapse count within {:.1} % of {first}; last 10 s formed {formed}, eliminated {eliminated}; \
         {:.1} % of the {} initial synapses remain after 20 s (~2.3 biological days)",
        100.0 * drift,
        100.0 * survival,
        r.initial
    );
    assert!(drift < 0.04, "synapse count drifted by {:.1} %", 100.0 * drift);
    assert!(formed > 2000, "only {formed} formed: no turnover at all");
    let ratio = formed as f64 / eliminated as f64;
    assert!((0.85..1.15).contains(&ratio), "formation / elimination {ratio:.2}");
    // Most persist (adult cortex keeps half to most spines for months; see docs/VALIDATION.md
    // for how this network's turnover compares).
    assert!(
        survival > 0.65,
        "only {:.1} % of the initial synapses persist",
        100.0 * survival
    );
}

#[test]
fn partial_deafferentation_rewires_from_the_border_and_recovers_complete_does_not() {
    let partial = run(SCENE, 14);
    let complete = run(
        &SCENE
            .replace(
                r#"Poisson(to: "core_E", rate_hz: 10, in_degree: 70, weight: 2.0),"#,
                r#"Poisson(to: "core_E", rate_hz: 10, in_degree: 70, weight: 2.0, until_ms: 4000),"#,
            )
            .replace(
                r#"Poisson(to: "rim_E", rate_hz: 10, in_degree: 70, weight: 2.0),"#,
                r#"Poisson(to: "rim_E", rate_hz: 10, in_degree: 70, weight: 2.0, until_ms: 4000),"#,
            ),
        14,
    );
    let (p, c) = (&partial.stats, &complete.stats);
    // Samples k cover second k..k+1: baseline 1..4 s, after the cut 4..9 s, late 10..14 s.
    let before = 1..CUT_S;
    let after = CUT_S..CUT_S + 5;
    let baseline_rate = mean(p[before.clone()].iter().map(zone_rate));
    let drop = zone_rate(&p[CUT_S]);
    let late_rate = mean(p[10..].iter().map(zone_rate));
    let baseline_formed = mean(p[before.clone()].iter().map(|s| zone_formed(s) as f64));
    let formed_after = mean(p[after.clone()].iter().map(|s| zone_formed(s) as f64));
    let complete_formed = mean(c[after.clone()].iter().map(|s| zone_formed(s) as f64));
    // New input from the intact surround, relative to before the cut, at its peak.
    let growth = |to: &str| {
        let base = synapses(&p[CUT_S - 1], "surround", to);
        p[after.clone()]
            .iter()
            .map(|s| synapses(s, "surround", to) / base - 1.0)
            .fold(f64::MIN, f64::max)
    };
    let (into_rim, into_core) = (growth("rim"), growth("core"));
    eprintln!(
        "zone rate {baseline_rate:.2} Hz -> {drop:.2} Hz after the cut -> {late_rate:.2} Hz at 10-14 s; \
         zone formation {baseline_formed:.0}/s before, {formed_after:.0}/s after (complete deafferentation \
         {complete_formed:.0}/s); surround synapses onto the rim +{:.1} %, onto the core +{:.1} %; \
         complete: zone rate {:.3} Hz, spines {} -> {}",
        100.0 * into_rim,
        100.0 * into_core,
        zone_rate(&c[CUT_S + 2]),
        zone_spines(&c[CUT_S - 1]),
        zone_spines(&c[CUT_S + 5]),
    );
    assert!(drop < 0.5 * baseline_rate, "the cut left the zone at {drop:.2} Hz");
    assert!(
        late_rate > 0.85 * baseline_rate,
        "the zone recovered only to {late_rate:.2} of {baseline_rate:.2} Hz"
    );
    assert!(
        formed_after > 1.5 * baseline_formed,
        "turnover did not rise: {formed_after:.0} vs {baseline_formed:.0} formed per second"
    );
    assert!(
        zone_spines(&p[CUT_S + 4]) > zone_spines(&p[CUT_S - 1]),
        "the deafferented zone did not gain spines"
    );
    assert!(
        into_rim > 0.03 && into_rim > 3.0 * into_core.max(0.0),
        "surround input grew by {:.1} % onto the rim and {:.1} % onto the core",
        100.0 * into_rim,
        100.0 * into_core
    );
    // Complete deafferentation: silent zone, calcium below eta, elements retract.
    assert!(
        c[CUT_S + 1..CUT_S + 4].iter().all(|s| zone_rate(s) < 0.1),
        "the completely deafferented zone still fires"
    );
    assert!(
        complete_formed < 0.5 * formed_after,
        "complete deafferentation formed {complete_formed:.0}/s, partial {formed_after:.0}/s"
    );
    assert!(
        zone_spines(&c[CUT_S + 5]) < zone_spines(&c[CUT_S - 1]),
        "the silent zone gained spines"
    );
}
