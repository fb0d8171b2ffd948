//! Tier 2: plasticity rules against their equations, on the GPU.

mod common;

use rewire::build::build;
use rewire::engine::Engine;
use rewire::gpu::GpuEngine;

/// One pre->post pair per offset, both periodic trains (period 200 ms, dt 1 ms); post fires
/// `offset` ms after pre (negative: before). Returns the final weight of each pair's synapse.
fn pairing(offsets: &[i32], form: &str, w0: f64, periods: u32) -> Vec<f64> {
    let mut pops = String::new();
    let mut projections = String::new();
    for (i, &d) in offsets.iter().enumerate() {
        let (pre, post) = if d >= 0 { (50, 50 + d) } else { (50 - d, 50) };
        pops += &format!(
            r#"Population(name: "pre{i}", count: 1, model: Periodic(period_ms: 200, phase_ms: {pre})),
               Population(name: "post{i}", count: 1, model: Periodic(period_ms: 200, phase_ms: {post})),"#
        );
        projections += &format!(
            r#"Projection(from: "pre{i}", to: "post{i}", rule: FixedInDegree(1), weight: {w0}, delay_ms: 1,
                 plasticity: Stdp(a_plus: 0.1, a_minus: 0.15, tau_plus_ms: 20, tau_minus_ms: 30, w_min: 0, w_max: 4,
                                  form: {form})),"#
        );
    }
    let src = format!(
        r#"Scene(seed: 1, dt_ms: 1, duration_ms: 1000, regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 1,
             populations: [{pops}])], projections: [{projections}])"#
    );
    let net = build(&common::model(&src));
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 0).unwrap();
    gpu.advance(periods as u64 * 200).unwrap();
    let w = gpu.weights().unwrap();
    // Each post neuron's row holds its one synapse first.
    (0..offsets.len())
        .map(|i| w[net.row_start[2 * i + 1] as usize] as f64)
        .collect()
}

/// The rule's own arithmetic, written out for one pair of regular trains (f64): nearest traces
/// set to 1 at a spike and decay by exp(-dt/tau) each step; a post spike potentiates by
/// a_plus f+(w) x_pre, a pre spike depresses by a_minus f-(w) y_post, potentiation first when
/// both fire in one step.
fn oracle(offset: i32, multiplicative: bool, w0: f64, periods: u32) -> f64 {
    let (dp, dm) = ((-1.0f64 / 20.0).exp(), (-1.0f64 / 30.0).exp());
    let (pre_t, post_t) = if offset >= 0 {
        (50, 50 + offset)
    } else {
        (50 - offset, 50)
    };
    let (mut x, mut y, mut w) = (0.0f64, 0.0f64, w0);
    for t in 0..periods as i32 * 200 {
        let (pre, post) = (
            t >= pre_t && (t - pre_t) % 200 == 0,
            t >= post_t && (t - post_t) % 200 == 0,
        );
        x = if pre { 1.0 } else { x * dp };
        y = if post { 1.0 } else { y * dm };
        if post {
            let f = if multiplicative { 4.0 - w } else { 1.0 };
            w = (w + 0.1 * f * x).min(4.0);
        }
        if pre {
            let f = if multiplicative { w } else { 1.0 };
            w = (w - 0.15 * f * y).max(0.0);
        }
    }
    w
}

#[test]
fn stdp_window_matches_the_pair_rule() {
    let offsets = [-60, -20, -10, -3, 0, 3, 10, 20, 60];
    let periods = 10;
    for (form, multiplicative) in [("Additive", false), ("Multiplicative", true)] {
        let got = pairing(&offsets, form, 2.0, periods);
        for (i, &d) in offsets.iter().enumerate() {
            let want = oracle(d, multiplicative, 2.0, periods);
            assert!(
                (got[i] - want).abs() < 1e-4,
                "{form}, post {d} ms after pre: weight {} where the rule gives {want}",
                got[i]
            );
        }
        // The window's shape: potentiation for pre-before-post within tau, depression for
        // post-before-pre, both fading with the interval.
        let change: Vec<f64> = got.iter().map(|w| w - 2.0).collect();
        eprintln!("{form}: weight change over {periods} pairings by offset {offsets:?}: {change:?}");
        assert!(
            change[5] > change[6] && change[6] > change[7] && change[7] > 0.0,
            "{change:?}"
        );
        assert!(
            change[3] < change[2] && change[2] < change[1] && change[1] < 0.0,
            "{change:?}"
        );
        assert!(
            change[0].abs() < 0.4 * change[1].abs() && change[8].abs() < 0.4 * change[7].abs(),
            "{change:?}"
        );
    }
    // Additive magnitudes, per pairing: +a_plus e^(-3/20) at +3 ms (less the far LTD), -a_minus
    // e^(-3/30) at -3 ms.
    let got = pairing(&[3, -3], "Additive", 2.0, 1);
    let ltp = 0.1 * (-3.0f64 / 20.0).exp();
    let ltd = 0.15 * (-3.0f64 / 30.0).exp();
    assert!(
        (got[0] - 2.0 - ltp).abs() < 1e-5,
        "one pairing at +3 ms: {}",
        got[0] - 2.0
    );
    assert!(
        (got[1] - 2.0 + ltd).abs() < 1e-5,
        "one pairing at -3 ms: {}",
        got[1] - 2.0
    );
}

#[test]
fn stdp_is_deterministic() {
    let a = pairing(&[5, -5, 15], "Multiplicative", 1.0, 3);
    let b = pairing(&[5, -5, 15], "Multiplicative", 1.0, 3);
    assert_eq!(a, b);
}

#[test]
fn bad_plasticity_is_refused_with_its_place() {
    let base = r#"Scene(seed: 1, dt_ms: 1, duration_ms: 10,
  regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 1, populations: [
    Population(name: "A", count: 5, model: RegularSpiking),
    Population(name: "B", count: 5, model: RegularSpiking)])],
  projections: [
    Projection(from: "A", to: "B", rule: FixedInDegree(2), weight: 0.5, delay_ms: 1,
      plasticity: Stdp(PARAMS)),
  ])"#;
    for (params, field, says) in [
        ("w_min: 2, w_max: 1", "w_max", "inverted"),
        ("tau_plus_ms: -5", "tau_plus_ms", "must be > 0"),
        ("a_minus: -0.1", "a_minus", ">= 0"),
        ("w_max: 0.2", "weight", "clip the distribution"),
        ("speed: 3", "speed", "Unexpected field"),
    ] {
        let src = base.replace("PARAMS", params);
        let err = rewire::scene::parse(&src, "bad.ron").expect_err(params).to_string();
        assert!(err.starts_with("bad.ron:"), "{err}");
        assert!(err.contains(field) && err.contains(says), "{params}: {err}");
        // The line named is the one with the offending text.
        let line: usize = err.split(':').nth(1).unwrap().parse().unwrap();
        let text = src.lines().nth(line - 1).unwrap();
        assert!(
            text.contains(field) || (field == "w_max" && text.contains("w_min")),
            "{err}\n{text}"
        );
    }
    // Plastic synapses are known by their population pair: a second projection on it is refused.
    let src = base.replace("PARAMS", "").replace(
        "plasticity: Stdp()),",
        "plasticity: Stdp()),\n    Projection(from: \"A\", to: \"B\", rule: FixedInDegree(1), weight: 0.1, delay_ms: 1),",
    );
    let err = rewire::scene::parse(&src, "bad.ron")
        .expect_err("two projections")
        .to_string();
    assert!(err.contains("bad.ron:8:") && err.contains("only one"), "{err}");
    // Traces live on neurons: two plastic projections from one population must share tau_plus.
    let src = base.replace("PARAMS", "tau_plus_ms: 10").replace(
        "plasticity: Stdp(tau_plus_ms: 10)),",
        "plasticity: Stdp(tau_plus_ms: 10)),\n    Projection(from: \"A\", to: \"A\", rule: FixedInDegree(1), weight: 0.1, \
         delay_ms: 1, plasticity: Stdp(tau_plus_ms: 30)),",
    );
    let err = rewire::scene::parse(&src, "bad.ron")
        .expect_err("two traces")
        .to_string();
    assert!(err.contains("bad.ron:8:") && err.contains("tau_plus_ms"), "{err}");
}

/// Three-factor pairing: one pre->post pair (pre at 50 ms, post `offset` ms later, every `period` ms)
/// with eligibility STDP, dopamine (tonic 0, tau 200 ms, update every 10 ms) and rewards of 0.5 at
/// the given times. Returns the final weight.
fn three_factor(offset: i32, period: u32, tau_c_ms: f64, rewards_ms: &[u32], ms: u32) -> f64 {
    let (pre, post) = if offset >= 0 {
        (50, 50 + offset)
    } else {
        (50 - offset, 50)
    };
    let rewards: Vec<String> = rewards_ms
        .iter()
        .map(|t| format!("Reward(at_ms: {t}, amount: 0.5)"))
        .collect();
    let src = format!(
        r#"Scene(seed: 1, dt_ms: 1, duration_ms: {ms}, regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 1,
             populations: [Population(name: "pre", count: 1, model: Periodic(period_ms: {period}, phase_ms: {pre})),
                           Population(name: "post", count: 1, model: Periodic(period_ms: {period}, phase_ms: {post}))])],
           projections: [Projection(from: "pre", to: "post", rule: FixedInDegree(1), weight: 2, delay_ms: 1,
             plasticity: Stdp(a_plus: 0.1, a_minus: 0.15, tau_plus_ms: 20, tau_minus_ms: 20, w_min: 0, w_max: 4,
                              eligibility_tau_ms: {tau_c_ms}))],
           dopamine: Dopamine(tonic: 0, tau_ms: 200, update_every_ms: 10),
           rewards: [{}])"#,
        rewards.join(", ")
    );
    let net = build(&common::model(&src));
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 0).unwrap();
    gpu.advance(ms as u64).unwrap();
    gpu.weights().unwrap()[net.row_start[1] as usize] as f64
}

/// The same protocol written out in f64 (MODEL.md): traces, eligibility at spikes, dopamine
/// decaying per step and taking rewards, the update every 10 steps.
fn three_factor_oracle(offset: i32, period: i32, tau_c_ms: f64, rewards_ms: &[u32], ms: u32) -> f64 {
    let d = (-1.0f64 / 20.0).exp();
    let (da_decay, c_decay) = ((-1.0f64 / 200.0).exp(), (-10.0 / tau_c_ms).exp());
    let (pre_t, post_t) = if offset >= 0 {
        (50, 50 + offset)
    } else {
        (50 - offset, 50)
    };
    let (mut x, mut y, mut c, mut da, mut w) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 2.0f64);
    for t in 0..ms as i32 {
        let (pre, post) = (
            t >= pre_t && (t - pre_t) % period == 0,
            t >= post_t && (t - post_t) % period == 0,
        );
        x = if pre { 1.0 } else { x * d };
        y = if post { 1.0 } else { y * d };
        da = da * da_decay + 0.5 * rewards_ms.iter().filter(|&&r| r as i32 == t).count() as f64;
        if post {
            c += 0.1 * x;
        }
        if pre {
            c -= 0.15 * y;
        }
        if (t + 1) % 10 == 0 {
            w = (w + da * c).clamp(0.0, 4.0);
            c *= c_decay;
        }
    }
    w
}

#[test]
fn dopamine_turns_eligibility_into_weight() {
    // Pre leads post by 5 ms at 55 ms, a reward 500 ms later (Izhikevich 2007's distal reward,
    // one pairing): the weight grows as written out; post leading pre by 5 ms shrinks it.
    for (offset, rewards) in [(5, vec![555u32]), (-5, vec![555]), (5, vec![300, 700, 1100])] {
        let got = three_factor(offset, 200, 1000.0, &rewards, 1400);
        let want = three_factor_oracle(offset, 200, 1000.0, &rewards, 1400);
        assert!(
            (got - want).abs() < 1e-4,
            "offset {offset}, rewards {rewards:?}: {got} vs {want}"
        );
    }
    let grow = three_factor(5, 200, 1000.0, &[555], 1400) - 2.0;
    let shrink = three_factor(-5, 200, 1000.0, &[555], 1400) - 2.0;
    assert!(grow > 0.02 && shrink < -0.02, "grow {grow}, shrink {shrink}");
    // Negative controls: no dopamine, no change at all; an eligibility trace much shorter than
    // the reward delay leaves almost nothing for the reward to act on.
    assert_eq!(three_factor(5, 200, 1000.0, &[], 1400), 2.0);
    // One pairing at 50/55 ms, the reward 1.5 s later.
    let short = three_factor(5, 100_000, 50.0, &[1555], 2500) - 2.0;
    let long = three_factor(5, 100_000, 1000.0, &[1555], 2500) - 2.0;
    let want = three_factor_oracle(5, 100_000, 1000.0, &[1555], 2500) - 2.0;
    eprintln!("weight change from one pairing rewarded 1.5 s later: tau_c 50 ms {short}, 1 s {long} (rule: {want})");
    assert!(
        (long - want).abs() < 1e-5 && long > 1e-3,
        "tau_c 1 s: {long}, rule {want}"
    );
    assert!(short.abs() < 0.02 * long.abs(), "tau_c 50 ms: {short}, 1 s: {long}");
}

#[test]
fn weight_statistics_describe_the_weights() {
    let src = r#"Scene(seed: 4, dt_ms: 1.0, duration_ms: 800,
  regions: [Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
      Population(name: "E", count: 300, model: RegularSpiking),
      Population(name: "I", count: 80, model: FastSpiking)])],
  projections: [
    Projection(from: "E", to: "E", rule: FixedProbability(0.1), weight: Uniform(0, 1), delay_ms: 1,
               plasticity: Stdp(w_max: 2, eligibility_tau_ms: 500)),
    Projection(from: "E", to: "I", rule: FixedInDegree(20), weight: Uniform(0.2, 0.8), delay_ms: 1,
               plasticity: Stdp(a_plus: 0.05, a_minus: 0.07, w_max: 1, form: Multiplicative)),
    Projection(from: "I", to: "E", rule: FixedProbability(0.2), weight: -1, delay_ms: 1),
  ],
  inputs: [ Noise(to: "E", sd: 6), Noise(to: "I", sd: 3) ],
  dopamine: Dopamine(), rewards: [Reward(at_ms: 300, amount: 2)],
)"#;
    let model = common::model(src);
    let net = build(&model);
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 0).unwrap();
    gpu.advance(800).unwrap();
    let raw = gpu.sample().unwrap();
    let stats = rewire::Stats::from_raw(&model, &raw, 800, &net.globals);
    let w = gpu.weights().unwrap();
    assert_eq!(stats.weights.len(), 2);
    for (k, (proj, w_min, w_max)) in [("E -> E", 0.0, 2.0), ("E -> I", 0.0, 1.0)].into_iter().enumerate() {
        let (src_pop, dst_pop) = (0u32, k as u32);
        let ws: Vec<f64> = (0..w.len())
            .filter(|&s| {
                let pre = net.syn_pre[s];
                pre != rewire::layout::EMPTY
                    && net.state[pre as usize].pop == src_pop
                    && net.state[net.target_of(s) as usize].pop == dst_pop
            })
            .map(|s| w[s] as f64)
            .collect();
        let n = ws.len() as f64;
        let mean = ws.iter().sum::<f64>() / n;
        let sd = (ws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let s = &stats.weights[k];
        assert_eq!(s.projection, proj);
        assert_eq!(s.synapses as usize, ws.len());
        assert!(
            (s.mean - mean).abs() < 1e-5 && (s.sd - sd).abs() < 1e-4,
            "{proj}: {s:?} vs {mean} {sd}"
        );
        let at_max = ws.iter().filter(|&&x| x >= w_max).count() as f64 / n;
        let at_min = ws.iter().filter(|&&x| x <= w_min).count() as f64 / n;
        assert_eq!((s.frac_at_min, s.frac_at_max), (at_min, at_max), "{proj}");
        assert_eq!(s.histogram.iter().sum::<u32>() as usize, ws.len());
        let top = ws.iter().filter(|&&x| x >= w_min + 0.95 * (w_max - w_min)).count();
        assert_eq!(*s.histogram.last().unwrap() as usize, top, "{proj}: last bin");
        eprintln!("{proj}: {s:?}");
    }
    // The reward moved E -> E, and dopamine is reported decaying from it.
    let da = stats.dopamine[0].1;
    // Added in step 300, then decayed in steps 301..=799.
    let expected = 2.0 * (-499.0f64 / 200.0).exp();
    assert!(
        (da - expected).abs() < 1e-3 * expected,
        "dopamine {da}, expected {expected}"
    );
    assert!(stats.weights[0].frac_at_max > 0.0 || stats.weights[0].frac_at_min > 0.0);
}

/// A population of 100 regular-spiking neurons driven by 200 spike sources at `input_hz` through
/// 40 static synapses each, with scaling toward 8 Hz (tau 2 s, rate estimate over 500 ms, updates
/// every 20 ms). Returns (rate in the first second, rate in the last second, mean input weight at
/// the end).
fn scaled_population(input_hz: f64, scaling: bool) -> (f64, f64, f64) {
    let scale = if scaling {
        ", scaling: Scaling(target_hz: 8, tau_ms: 2000, activity_tau_ms: 500, update_every_ms: 20)"
    } else {
        ""
    };
    let src = format!(
        r#"Scene(seed: 2, dt_ms: 1, duration_ms: 12000, sample_every_ms: 1000,
  regions: [Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
    Population(name: "TH", count: 200, model: SpikeSource(rate_hz: {input_hz})),
    Population(name: "E", count: 100, model: RegularSpiking{scale})])],
  projections: [Projection(from: "TH", to: "E", rule: FixedInDegree(40), weight: 2, delay_ms: 1)],
  inputs: [Noise(to: "E", sd: 2)],
)"#
    );
    let model = common::model(&src);
    let net = build(&model);
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 0).unwrap();
    let mut rates = Vec::new();
    for _ in 0..12 {
        gpu.advance(1000).unwrap();
        rates.push(gpu.sample().unwrap().pop_spikes[1] as f64 / 100.0);
    }
    // Without scaling the network is static, and the GPU keeps it in the compact layout (by source).
    let onto_e: Vec<f64> = if net.compact() {
        let shards = gpu.compact_synapses().unwrap();
        shards.iter().flat_map(|s| s.weight.iter().map(|&w| w as f64)).collect()
    } else {
        let w = gpu.weights().unwrap();
        (0..w.len())
            .filter(|&s| net.syn_pre[s] != rewire::layout::EMPTY)
            .map(|s| w[s] as f64)
            .collect()
    };
    eprintln!("input {input_hz} Hz, scaling {scaling}: rates by second {rates:?}");
    (rates[0], rates[11], onto_e.iter().sum::<f64>() / onto_e.len() as f64)
}

#[test]
fn synaptic_scaling_brings_the_rate_back_to_its_set_point() {
    // Too little input: the rate starts below 8 Hz; scaling raises the excitatory weights and the
    // rate climbs toward 8 Hz. Too much: the opposite. Without scaling nothing moves.
    let (low0, low1, low_w) = scaled_population(6.0, true);
    let (high0, high1, high_w) = scaled_population(50.0, true);
    let (still0, still1, still_w) = scaled_population(6.0, false);
    assert!(
        low0 < 6.0 && high0 > 10.0,
        "initial rates {low0} and {high0} do not bracket 8 Hz"
    );
    assert!(
        low_w > 2.2 && high_w < 1.9,
        "weights after scaling: {low_w} (low input), {high_w} (high)"
    );
    assert!(
        (low1 - 8.0).abs() < 0.5 * (low0 - 8.0).abs(),
        "low input: {low0} -> {low1} Hz"
    );
    assert!(
        (high1 - 8.0).abs() < 0.5 * (high0 - 8.0).abs(),
        "high input: {high0} -> {high1} Hz"
    );
    assert_eq!(still_w, 2.0);
    assert!(
        (still1 - still0).abs() < 1.0,
        "without scaling the rate stays: {still0} -> {still1}"
    );
}

/// Tagging and capture, compressed in time (tau_early 2 s, protein and late 0.5 s, updates every
/// 50 ms). 20 neurons `P` fire every 100 ms; each has one weak synapse from `W` (3 pairings at
/// +5 ms from 50 ms on: tagged, too little for proteins) and ten strong synapses from `S`
/// (10 pairings at +5 ms starting at `strong_ms`: proteins). Returns the weak synapses' mean
/// weight change after 12 s and their weight statistics.
fn tag_and_capture(strong_ms: u32) -> (f64, rewire::stats::WeightStat) {
    let src = format!(
        r#"Scene(seed: 1, dt_ms: 1, duration_ms: 12000, regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 1,
  populations: [
    Population(name: "P", count: 20, model: Periodic(period_ms: 100, phase_ms: 55)),
    Population(name: "W", count: 20, model: Periodic(period_ms: 100, phase_ms: 50, count: 3)),
    Population(name: "S", count: 20, model: Periodic(period_ms: 100, phase_ms: {strong}, count: 10)),
  ])],
  projections: [
    Projection(from: "W", to: "P", rule: FixedInDegree(1), weight: 1, delay_ms: 1, plasticity: Stdp(CAPTURE)),
    Projection(from: "S", to: "P", rule: FixedInDegree(10), weight: 1, delay_ms: 1, plasticity: Stdp(CAPTURE)),
  ])"#,
        strong = strong_ms + 50
    )
    .replace(
        "CAPTURE",
        "a_plus: 0.1, a_minus: 0.15, w_max: 4, capture: Capture(tag_threshold: 0.1, protein_threshold: 1, \
         tau_early_ms: 2000, tau_protein_ms: 500, tau_late_ms: 500, update_every_ms: 50)",
    );
    let model = common::model(&src);
    let net = build(&model);
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 0).unwrap();
    gpu.advance(12_000).unwrap();
    let raw = gpu.sample().unwrap();
    let stats = rewire::Stats::from_raw(&model, &raw, 12_000, &net.globals);
    let w = gpu.weights().unwrap();
    let weak: Vec<f64> = (0..w.len())
        .filter(|&s| net.syn_pre[s] != rewire::layout::EMPTY && net.state[net.syn_pre[s] as usize].pop == 1)
        .map(|s| w[s] as f64 - 1.0)
        .collect();
    assert_eq!(weak.len(), 20);
    (weak.iter().sum::<f64>() / 20.0, stats.weights[0].clone())
}

#[test]
fn tagging_and_capture_keep_a_weak_change_only_with_strong_input_in_its_window() {
    let (alone, alone_stats) = tag_and_capture(100_000);
    let (inside, inside_stats) = tag_and_capture(300);
    let (outside, outside_stats) = tag_and_capture(7000);
    eprintln!("weak change after 12 s: alone {alone:.4}, strong 0.3 s later {inside:.4}, 7 s later {outside:.4}");
    eprintln!(
        "consolidated weak synapses: {} / {} / {}",
        alone_stats.consolidated, inside_stats.consolidated, outside_stats.consolidated
    );
    // The weak change alone decays back (tau_early 2 s over ~12 s).
    assert!(alone.abs() < 0.01, "weak input alone: {alone}");
    assert_eq!(alone_stats.consolidated, 0);
    // With strong input on the same neurons while the weak synapses are tagged, part of the weak
    // change is consolidated and stays.
    assert!(inside > 0.05, "weak input with strong input 0.3 s later: {inside}");
    assert_eq!(inside_stats.consolidated, 20);
    // Strong input after the weak tags have faded does not rescue the weak change.
    assert!(outside.abs() < 0.2 * inside, "strong input 7 s later: {outside}");
    assert_eq!(outside_stats.consolidated, 0);
}
