//! Sprouting between regions: absolute-distance rules on the GPU against the CPU twin, a
//! Dancause-like scene (premotor axons sprouting into sensory cortex after a motor lesion, read
//! from connectivity.csv) with its control arms, and bad sprouting input.

mod common;

use rewire::build::{Network, build, build_sharded};
use rewire::engine::Engine;
use rewire::gpu::GpuEngine;
use rewire::layout::EMPTY;
use rewire::reference::CpuEngine;

/// Two touching regions (centres 1 mm apart, radius 0.5 mm): a topographic rule within A, an
/// absolute rule from A's E across the border onto B's F with gain 2, and an absolute rule
/// within B with gain 0.5. F loses part of its input at 200 ms, falls below its set point and
/// grows spines.
const NEAR: &str = r#"Scene(seed: 7, dt_ms: 1.0, duration_ms: 600, sample_every_ms: 100,
    regions: [
        Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 0.5, populations: [
            Population(name: "E", count: 120, model: RegularSpiking, capacity: 32,
                growth: Growth(eps: 0.05, eta: 0.002, nu_per_ms: 5e-7, tau_ca_ms: 200, beta_ca: 0.01)),
            Population(name: "I", count: 30, model: FastSpiking),
        ]),
        Region(name: "B", centre_mm: (1, 0, 0), radius_mm: 0.5, populations: [
            Population(name: "F", count: 80, model: RegularSpiking, capacity: 32,
                growth: Growth(eps: 0.065, nu_per_ms: 1e-6, tau_ca_ms: 200, beta_ca: 0.01)),
        ]),
    ],
    projections: [
        Projection(from: "E", to: "E", rule: FixedInDegree(6), weight: Uniform(2, 5), delay_ms: Uniform(1, 4),
                   plasticity: Stdp(w_max: 8)),
        Projection(from: "E", to: "I", rule: FixedProbability(0.2), weight: 4.0, delay_ms: 1.0),
        Projection(from: "I", to: "E", rule: FixedProbability(0.2), weight: -5.0, delay_ms: 1.0),
    ],
    inputs: [
        Poisson(to: "E", rate_hz: 600, in_degree: 10, weight: 1.5),
        Poisson(to: "F", rate_hz: 600, in_degree: 10, weight: 1.5),
        Poisson(to: "F", rate_hz: 400, in_degree: 10, weight: 1.5, until_ms: 200),
        Poisson(to: "I", rate_hz: 500, in_degree: 10, weight: 1.5),
    ],
    structure: Structure(
        every_ms: 20, speedup: 100000, check_stability: false,
        sprouting: [
            Sprout(from: "E", to: "E", length_mm: 0.3),
            Sprout(from: "E", to: "F", length_mm: 0.4, weight: 3.0, delay_ms: 3, distance: Absolute, gain: 2),
            Sprout(from: "F", to: "F", length_mm: 0.3, weight: 2.0, delay_ms: 2, distance: Absolute, gain: 0.5),
        ],
        spines: Spines(stabilize_tau_ms: 4e6, nascent_lifetime_ms: 4e6, stable_lifetime_ms: 4e7),
    ),
)"#;

fn distance(net: &Network, a: u32, b: u32) -> f32 {
    let (p, q) = (net.positions[a as usize], net.positions[b as usize]);
    (0..3).map(|x| (p[x] - q[x]).powi(2)).sum::<f32>().sqrt()
}

/// New E -> F synapses (born during the run) and their distances in space (mm).
fn new_cross_region(net: &Network, pre: &[u32], born: &[u32]) -> Vec<f32> {
    let f = &net.pops[2];
    let is_f = |i: u32| (f.first..f.first + f.count).contains(&i);
    (0..pre.len())
        .filter(|&k| pre[k] != EMPTY && born[k] > 0 && pre[k] < 120)
        .filter(|&k| is_f(net.target_of(k)))
        .map(|k| distance(net, pre[k], net.target_of(k)))
        .collect()
}

fn agree_on(net: &Network) {
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, net, 0).expect("upload");
    let mut cpu = CpuEngine::new(net, 0);
    let mut spikes = 0;
    for round in 0..6 {
        gpu.advance(100).unwrap();
        cpu.advance(100).unwrap();
        let (g, c) = (gpu.sample().unwrap(), cpu.sample().unwrap());
        assert_eq!(g.pop_spikes, c.pop_spikes, "spike counts differ at step {}", c.step);
        assert_eq!(g, c, "samples differ at step {}", c.step);
        spikes += c.pop_spikes.iter().sum::<u32>();
        common::same_state(&gpu, &cpu, &format!("after round {round}"));
    }
    // New synapses form in the growing shards' rows; the compact ones read as empty.
    let (pre, _, born) = common::row_slots(&gpu, net);
    let d = new_cross_region(net, &pre, &born);
    let near = d.iter().filter(|&&x| x < 0.8).count();
    let mean = d.iter().sum::<f32>() / d.len().max(1) as f32;
    eprintln!(
        "{} shards, {spikes} spikes: {} new E -> F synapses across the border, mean distance {mean:.2} mm, {near} \
         within 0.8 mm; all identical",
        net.shards.len(),
        d.len()
    );
    assert!(spikes > 1000, "only {spikes} spikes");
    assert!(d.len() > 30, "only {} synapses sprouted across the border", d.len());
    // Neurons of A and B are 1 mm apart on average; an absolute rule of length 0.4 mm accepts a
    // partner 0.8 mm away with probability 2 exp(-4) = 0.04.
    assert!(
        near as f64 > 0.8 * d.len() as f64,
        "absolute sprouting ignores distance"
    );
}

#[test]
fn absolute_sprouting_across_regions_agrees_with_the_cpu_twin() {
    let model = common::model(NEAR);
    agree_on(&build(&model));
    let sharded = build_sharded(&model, 512).unwrap();
    assert!(sharded.shards.len() > 2, "{} shards", sharded.shards.len());
    agree_on(&sharded);
}

#[test]
fn absolute_sprouting_does_not_reach_a_distant_region_that_topographic_sprouting_reaches() {
    // B moved 10 mm away: its neurons' offsets from B's centre still match A's, but in space
    // every partner is ~10 mm off (acceptance exp(-10^2 / 0.4^2) = 0).
    let far = NEAR.replace("centre_mm: (1, 0, 0)", "centre_mm: (10, 0, 0)");
    let run = |src: &str| {
        let net = build(&common::model(src));
        let mut cpu = CpuEngine::new(&net, 0);
        cpu.advance(600).unwrap();
        let n = cpu.network();
        new_cross_region(n, &n.syn_pre, &n.syn_born).len()
    };
    let absolute = run(&far);
    let topographic = run(&far.replace(
        "weight: 3.0, delay_ms: 3, distance: Absolute",
        "weight: 3.0, delay_ms: 3, distance: Topographic",
    ));
    eprintln!("new E -> F synapses 10 mm apart: absolute {absolute}, topographic {topographic}");
    assert_eq!(absolute, 0, "an absolute rule sprouted 10 mm");
    assert!(topographic > 30, "the topographic rule formed only {topographic}");
}

/// Dancause et al. 2005, in small: a premotor-like region A, a sensory region S and a motor
/// region M, 1 mm apart in a row (A at -1 mm, S at 0, M at +1 mm, radius 0.45 mm). M drives S
/// (50 synapses per S neuron, weight 4); S's calcium set point (eps 0.09: 9 Hz, beta 0.01 x
/// tau 1 s) is its intact rate. A's neurons fire ~6 Hz under a set point of 10 Hz, so they keep
/// free boutons; the only sprouting rule is A_E -> S_E, absolute, length 0.5 mm, and there is no
/// A -> S projection at the start. Each protocol day is 2 s of offline time standing for a day of
/// growth (every 100 ms x speedup 4320 x offline 10 = 1.2 h of biology per update).
/// The lesion kills M on day 0: S falls to ~2.5 Hz, between eta and eps, and grows spines; A's
/// boutons near the A-S border find them.
const DANCAUSE: &str = r#"Scene(name: "dancause", seed: 11, dt_ms: 1.0, sample_every_ms: 2000,
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
)"#;

/// One arm of DANCAUSE on the CPU twin through the command line: per day, the A -> S synapses
/// of connectivity.csv and S_E's rate (Hz) of rates.csv.
fn arm(name: &str, edits: &[(&str, &str)], set: &[&str]) -> Vec<(i64, u64, f64)> {
    let mut src = DANCAUSE.to_string();
    for (from, to) in edits {
        assert!(src.contains(from), "{from}");
        src = src.replace(from, to);
    }
    let dir = common::temp_dir(&format!("dancause-{name}"));
    std::fs::write(dir.join("scene.ron"), &src).unwrap();
    let mut c = common::rewire();
    c.arg("run")
        .arg(dir.join("scene.ron"))
        .args(["--cpu", "--out"])
        .arg(dir.join("out"));
    for s in set {
        c.args(["--set", s]);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    let read = |f: &str| std::fs::read_to_string(dir.join("out").join(f)).unwrap();
    // connectivity.csv: step,t_ms,day,source,target,synapses,...; rates.csv: ...,population,region,spikes,rate_hz
    let conn = read("connectivity.csv");
    let rates = read("rates.csv");
    let synapses = conn.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        (f[3] == "A" && f[4] == "S").then(|| (f[2].parse::<i64>().unwrap(), f[5].parse::<u64>().unwrap()))
    });
    let rate = rates.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        (f[3] == "S_E").then(|| f[6].parse::<f64>().unwrap())
    });
    let days: Vec<_> = synapses.zip(rate).map(|((d, s), r)| (d, s, r)).collect();
    assert_eq!(days.len(), 9, "{name}: one sample per day from -2 to 6");
    std::fs::remove_dir_all(&dir).unwrap();
    days
}

#[test]
fn premotor_axons_sprout_into_sensory_cortex_after_a_motor_lesion() {
    let lesion = arm("lesion", &[], &[]);
    let intact = arm("intact", &[(r#"Lesion(day: 0, kind: Region(name: "M")),"#, "")], &[]);
    let no_rule = arm(
        "no-rule",
        &[(
            r#"Sprout(from: "A_E", to: "S_E", length_mm: 0.5, weight: 3.0, delay_ms: 3, distance: Absolute),"#,
            "",
        )],
        &[],
    );
    let gain_0 = arm("gain-0", &[], &["structure.sprouting[0].gain=0"]);
    let gain_3 = arm("gain-3", &[], &["structure.sprouting[0].gain=3"]);
    let show = |d: &[(i64, u64, f64)]| {
        d.iter()
            .map(|(day, s, r)| format!("{day}: {s} ({r:.1} Hz)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, d) in [
        ("lesion", &lesion),
        ("intact", &intact),
        ("no rule", &no_rule),
        ("gain 0", &gain_0),
        ("gain 3", &gain_3),
    ] {
        eprintln!("{name:8} A -> S synapses (S_E rate) by day: {}", show(d));
    }
    let last = |d: &[(i64, u64, f64)]| d[8];
    // Before the lesion the arms are the same run.
    assert_eq!(lesion[..2], intact[..2], "the arms differ before the lesion");
    // The lesion silences S's motor input: S falls well below its set point.
    assert!(
        lesion[2].2 < 0.5 * lesion[1].2,
        "S did not lose its input: {}",
        show(&lesion)
    );
    let (l, i) = (last(&lesion).1, last(&intact).1);
    assert!(
        l >= 4 * i.max(1) && l >= i + 500,
        "A -> S synapses after the lesion {l}, without it {i}"
    );
    assert!(
        lesion.windows(2).skip(2).all(|w| w[1].1 > w[0].1),
        "A -> S did not rise day by day after the lesion: {}",
        show(&lesion)
    );
    // Without the rule (or with gain 0) nothing reaches S from A.
    assert!(
        no_rule.iter().chain(&gain_0).all(|d| d.1 == 0),
        "A -> S formed without the rule"
    );
    // The new synapses carry activity: S regains part of its rate that it does not regain alone.
    assert!(
        last(&lesion).2 > last(&no_rule).2 + 0.3,
        "S_E at {:.2} Hz with sprouting, {:.2} Hz without",
        last(&lesion).2,
        last(&no_rule).2
    );
    // A larger growth factor of the source side sprouts more.
    assert!(
        last(&gain_3).1 as f64 > 1.1 * l as f64,
        "gain 3 formed {} against {l}",
        last(&gain_3).1
    );
}

/// The error text of DANCAUSE with one edit.
fn scene_error(from: &str, to: &str) -> (String, String) {
    assert!(DANCAUSE.contains(from), "{from}");
    let src = DANCAUSE.replace(from, to);
    match rewire::scene::parse(&src, "bad.ron") {
        Ok(_) => panic!("{to:?} was accepted"),
        Err(e) => (e.to_string(), src),
    }
}

/// "bad.ron:LINE:COLUMN:" of the first occurrence of `what` in `src` (1-based).
fn place(src: &str, what: &str) -> String {
    let at = src.find(what).unwrap();
    let line = src[..at].matches('\n').count() + 1;
    let col = at - src[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("bad.ron:{line}:{col}:")
}

#[test]
fn bad_sprouting_input_names_file_line_column_and_field() {
    let (e, src) = scene_error(r#"Sprout(from: "A_E", to: "S_E""#, r#"Sprout(from: "PMv_E", to: "S_E""#);
    assert!(
        e.starts_with(&place(&src, r#""PMv_E""#))
            && e.contains("structure.sprouting[0].from")
            && e.contains(r#"unknown population "PMv_E""#),
        "{e}"
    );
    let (e, src) = scene_error(r#"to: "S_E", length_mm"#, r#"to: "S1_E", length_mm"#);
    assert!(
        e.starts_with(&place(&src, r#""S1_E""#))
            && e.contains("structure.sprouting[0].to")
            && e.contains(r#"unknown population "S1_E""#),
        "{e}"
    );
    let (e, src) = scene_error("distance: Absolute)", "distance: Absolute, gain: -1)");
    assert!(
        e.starts_with(&place(&src, "-1)"))
            && e.contains("structure.sprouting[0].gain")
            && e.contains("must be finite and >= 0"),
        "{e}"
    );
    let (e, _) = scene_error("distance: Absolute)", "distance: Radial)");
    assert!(
        e.contains("Radial") && e.contains("Absolute") && e.contains("Topographic"),
        "{e}"
    );
}
