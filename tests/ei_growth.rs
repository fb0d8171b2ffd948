//! An excitatory/inhibitory network grown from no synapses with synaptic element types
//! (scenes/ei_growth.ron: Butz & van Ooyen 2013 as NEST's structural-plasticity example builds it),
//! beside NEST 3.10 on the same scene (benches/peers/nest_ei_growth.py). What the network
//! produces, in both simulators: excitatory synapses grow first, the network ignites when enough
//! have grown, and then, with the inhibitory population far below its set point, inhibition keeps
//! growing and neither population settles at its set point. In the control arm without element
//! types (one spine pool per neuron, no fast excitatory dendrite on I) E holds its set point; and
//! the inhibitory synapses follow the growth rate given to I's inhibitory axon.

mod common;

use rewire::build::build;
use rewire::engine::Engine;
use rewire::gpu::GpuEngine;
use rewire::stats::{GrowthStat, Stats};

const SCENE: &str = include_str!("../scenes/ei_growth.ron");
/// The set points of E and I (the scene's `eps`).
const EPS_E: f64 = 0.05;
const EPS_I: f64 = 0.2;

/// NEST 3.10 on the same scene (benches/peers/nest_ei_growth.py, dt 0.5 ms, its default
/// tau_vacant as the scene's vacant_decay), seeds 1-3: at rewire's second t, [E calcium, I calcium,
/// E's connected axonal elements (its excitatory synapses), I's (inhibitory synapses)].
const NEST_AT: [(usize, [[f64; 4]; 3]); 3] = [
    (
        50,
        [
            [0.0106, 0.0104, 7433.0, 400.0],
            [0.0110, 0.0113, 7438.0, 397.0],
            [0.0104, 0.0110, 7427.0, 395.0],
        ],
    ),
    (
        90,
        [
            [0.0368, 0.0814, 15027.0, 3151.0],
            [0.0277, 0.0615, 14896.0, 3101.0],
            [0.0339, 0.0745, 14986.0, 3082.0],
        ],
    ),
    (
        120,
        [
            [0.0234, 0.0957, 24630.0, 5917.0],
            [0.0241, 0.0934, 24056.0, 5853.0],
            [0.0247, 0.0981, 24252.0, 5878.0],
        ],
    ),
];
/// NEST's first second at which E's calcium reached 0.6 of its set point, seeds 1-3.
const NEST_IGNITION_S: [usize; 3] = [57, 58, 59];
/// NEST's mean calcium of E and I over seconds 100-120, seeds 1-3.
const NEST_LATE: [[f64; 2]; 3] = [[0.0264, 0.0913], [0.0266, 0.0881], [0.0271, 0.0912]];

/// One GPU run of `src` with `seed`, sampled every second for `seconds`.
fn run(src: &str, seed: u64, seconds: u64) -> Vec<Stats> {
    let src = src.replacen("seed: 1,", &format!("seed: {seed},"), 1);
    let model = common::model(&src);
    let net = build(&model);
    assert_eq!(net.syn_pre.iter().filter(|&&p| p != rewire::layout::EMPTY).count(), 0);
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 0).expect("upload");
    let every = model.sample_every_steps;
    assert_eq!(every as f64 * model.dt_ms, 1000.0, "one sample a second");
    (0..seconds)
        .map(|_| {
            gpu.advance(every).unwrap();
            Stats::from_raw(&model, &gpu.sample().unwrap(), every, &net.globals)
        })
        .collect()
}

fn pop<'a>(s: &'a Stats, name: &str) -> &'a GrowthStat {
    s.growth.iter().find(|g| g.population == name).unwrap()
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

/// The mean over NEST's seeds of entry `k` at second `t`.
fn nest(t: usize, k: usize) -> f64 {
    let (_, seeds) = NEST_AT.iter().find(|(s, _)| *s == t).unwrap();
    mean(seeds.iter().map(|x| x[k]))
}

/// Mean of E's and I's calcium over seconds 100-120.
fn late_calcium(r: &[Stats]) -> (f64, f64) {
    let late = &r[99..120];
    (
        mean(late.iter().map(|s| pop(s, "E").calcium)),
        mean(late.iter().map(|s| pop(s, "I").calcium)),
    )
}

#[test]
fn grown_ei_network_follows_nest_and_keeps_the_types_apart() {
    let (lo, hi) = (
        *NEST_IGNITION_S.iter().min().unwrap(),
        *NEST_IGNITION_S.iter().max().unwrap(),
    );
    for seed in [1, 2] {
        let r = run(SCENE, seed, 120);
        let at = |t: usize| &r[t - 1];
        // Element types keep the pools apart at every sample: every inhibitory synapse (out of
        // I's inhibitory axons) sits on an inhibitory spine, every excitatory one on an
        // excitatory spine.
        for (t, s) in r.iter().enumerate() {
            let (e, i) = (pop(s, "E"), pop(s, "I"));
            assert_eq!(
                e.connected_spines_in + i.connected_spines_in,
                i.connected_boutons,
                "seed {seed}, {} s: inhibitory synapses on inhibitory spines",
                t + 1
            );
            assert_eq!(e.connected_spines + i.connected_spines, e.connected_boutons);
        }
        // Ignition: E's calcium first reaches 0.6 of its set point within 10 s of NEST's seeds.
        let ignition = r.iter().position(|s| pop(s, "E").calcium >= 0.6 * EPS_E).map(|k| k + 1);
        let ignition = ignition.unwrap_or_else(|| panic!("seed {seed}: E never reached 0.6 of its set point"));
        eprintln!("seed {seed}: ignition at {ignition} s (NEST {lo}-{hi} s)");
        assert!(
            ignition + 10 >= lo && ignition <= hi + 10,
            "seed {seed}: ignition at {ignition} s, NEST {lo}-{hi} s"
        );
        for t in [50, 90, 120] {
            let (e, i) = (pop(at(t), "E"), pop(at(t), "I"));
            let (ex, inh) = (e.connected_boutons as f64, i.connected_boutons as f64);
            eprintln!(
                "seed {seed}, {t} s: calcium E {:.4} I {:.4} (NEST {:.4} {:.4}), synapses ex {ex} in {inh} (NEST {:.0} {:.0})",
                e.calcium,
                i.calcium,
                nest(t, 0),
                nest(t, 1),
                nest(t, 2),
                nest(t, 3)
            );
            // Synapse counts within 10 % (excitatory) and 25 % (inhibitory) of NEST's mean
            // (measured: -7 to -3 % and -17 to +13 %).
            assert!(
                (ex / nest(t, 2) - 1.0).abs() < 0.1,
                "seed {seed}, {t} s: {ex} excitatory"
            );
            assert!(
                (inh / nest(t, 3) - 1.0).abs() < 0.25,
                "seed {seed}, {t} s: {inh} inhibitory"
            );
        }
        // After ignition neither population sits at its set point: over 100-120 s E's calcium is
        // below half its set point and I's below half its own, as in NEST (E within 40 %, I
        // within 25 %; measured -28 % and -11 %), while inhibitory synapses keep growing (x1.9
        // from 90 s to 120 s in both simulators).
        let (ca_e, ca_i) = late_calcium(&r);
        let nest_e = mean(NEST_LATE.iter().map(|x| x[0]));
        let nest_i = mean(NEST_LATE.iter().map(|x| x[1]));
        eprintln!("seed {seed}: calcium over 100-120 s E {ca_e:.4} I {ca_i:.4} (NEST {nest_e:.4} {nest_i:.4})");
        assert!(
            ca_e < 0.5 * EPS_E && ca_i < 0.5 * EPS_I,
            "seed {seed}: E {ca_e} I {ca_i}"
        );
        assert!((ca_e / nest_e - 1.0).abs() < 0.4, "seed {seed}: E calcium {ca_e}");
        assert!((ca_i / nest_i - 1.0).abs() < 0.25, "seed {seed}: I calcium {ca_i}");
        let grown = pop(at(120), "I").connected_boutons as f64 / pop(at(90), "I").connected_boutons as f64;
        assert!(
            grown > 1.5,
            "seed {seed}: inhibitory synapses x{grown} from 90 s to 120 s"
        );
    }
}

#[test]
fn grown_ei_network_without_element_types_holds_excitation_at_its_set_point() {
    // The control arm: the same network with one spine pool per neuron on its population's curve
    // (no inhibitory dendrites, no fast excitatory dendrite on I). I, far below its set point, gets
    // little excitation and grows little inhibition, and E settles near its set point instead of
    // falling to a third of it.
    let untyped = SCENE
        .replace(
            ",\n                           elements: [Element(kind: AxonEx), Element(kind: DendriteEx), Element(kind: DendriteIn)])",
            ")",
        )
        .replace(
            ",\n                           elements: [Element(kind: AxonIn), Element(kind: DendriteEx, nu_per_ms: 4e-4), Element(kind: DendriteIn)])",
            ")",
        );
    assert!(!untyped.contains("Element("), "the element types were not removed");
    let r = run(&untyped, 1, 120);
    let (ca_e, ca_i) = late_calcium(&r);
    let e = pop(&r[119], "E");
    eprintln!(
        "without types: calcium over 100-120 s E {ca_e:.4} I {ca_i:.4}, inhibitory spines {}",
        e.connected_spines_in
    );
    // Measured: E 0.045, I 0.042 (with types: E 0.019, I 0.080).
    assert!(ca_e > 0.8 * EPS_E && ca_e < 1.2 * EPS_E, "E {ca_e}");
    assert!(ca_i < 0.3 * EPS_I, "I {ca_i}");
    assert_eq!(e.connected_spines_in, 0, "one pool: no inhibitory spines");
}

#[test]
fn grown_ei_network_inhibitory_share_follows_the_inhibitory_axon_growth_rate() {
    // Before ignition every element grows near its curve's rate at the drive's calcium, and the
    // inhibitory synapses are as many as I's inhibitory axons find partners for: halving or
    // doubling I's axonal growth rate halves or doubles them (measured at 50 s, seed 1: 210, 455,
    // 902), while the excitatory ones stay (7 056, 7 035, 7 000).
    let at_50 = |nu: &str| {
        let src = SCENE.replacen(
            "Element(kind: AxonIn)",
            &format!("Element(kind: AxonIn, nu_per_ms: {nu})"),
            1,
        );
        assert_ne!(src, SCENE);
        let r = run(&src, 1, 50);
        let s = &r[49];
        (
            pop(s, "E").connected_boutons as f64,
            pop(s, "I").connected_boutons as f64,
        )
    };
    let (ex_half, in_half) = at_50("5e-5");
    let (ex, inh) = at_50("1e-4");
    let (ex_double, in_double) = at_50("2e-4");
    eprintln!("inhibitory synapses at 50 s: {in_half}, {inh}, {in_double}; excitatory {ex_half}, {ex}, {ex_double}");
    for (ratio, what) in [(inh / in_half, "1e-4 / 5e-5"), (in_double / inh, "2e-4 / 1e-4")] {
        assert!((1.7..2.3).contains(&ratio), "inhibitory synapses {what}: x{ratio}");
    }
    for e in [ex_half, ex_double] {
        assert!((e / ex - 1.0).abs() < 0.05, "excitatory synapses {e} against {ex}");
    }
}

#[test]
fn calcium_starts_where_the_scene_says_and_bad_values_are_refused() {
    let at = |src: &str| {
        let net = build(&common::model(src));
        let n_e = 800;
        (net.grow[0], net.grow[n_e])
    };
    // calcium_init 0: a network that has not fired yet (as NEST starts it), neurotrophin 0.
    let (e, i) = at(SCENE);
    assert_eq!((e[0], e[3], i[0], i[3]), (0.0, 0.0, 0.0, 0.0));
    // Without it each population starts at its set point, neurotrophin 1 (calcium over eps).
    let (e, i) = at(&SCENE.replace(", calcium_init: 0", ""));
    assert_eq!((e[0], e[3], i[0], i[3]), (EPS_E as f32, 1.0, EPS_I as f32, 1.0));
    let (e, _) = at(&SCENE.replacen("calcium_init: 0", "calcium_init: 0.02", 1));
    assert_eq!((e[0], e[3]), (0.02, (0.02f64 / EPS_E) as f32));
    // A negative start is refused at its place.
    let bad = SCENE.replacen("calcium_init: 0", "calcium_init: -1", 1);
    let (line, column, field, message) = common::scene_error(&bad, "ei.ron");
    let (want_line, want_column) = common::position(&bad, "calcium_init: -1");
    assert!(
        line == want_line && column >= want_column,
        "{line}:{column} {field}: {message}"
    );
    assert_eq!(field, "regions[0].populations[0].growth.calcium_init");
    assert!(message.contains("between 0 and"), "{message}");
}
