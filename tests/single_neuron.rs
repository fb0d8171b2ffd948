//! Tier 2: single neurons against theory, on the GPU.

mod common;

use rewire::build::build;
use rewire::engine::Engine;
use rewire::gpu::GpuEngine;

/// Spike steps of every neuron over `steps` steps of a scene, on the GPU.
fn spike_steps(src: &str, steps: u32) -> Vec<Vec<u32>> {
    let net = build(&common::model(src));
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, steps).unwrap();
    gpu.advance(steps as u64).unwrap();
    gpu.sample().unwrap();
    let raster = gpu.raster().unwrap();
    let words = net.globals.raster_words as usize;
    (0..net.globals.n_neurons as usize)
        .map(|n| {
            (0..steps)
                .filter(|&t| raster[t as usize * words + n / 32] >> (n % 32) & 1 == 1)
                .collect()
        })
        .collect()
}

#[test]
fn lif_rate_under_constant_current_matches_the_f_i_curve() {
    // iaf_psc_exp defaults: C 250 pF, tau_m 10 ms, t_ref 2 ms, threshold 15 mV above rest.
    // Rheobase 375 pA; above it T = t_ref - tau_m ln(1 - theta C / (tau_m I)).
    let (dt, steps) = (0.1, 20_000u32);
    let currents = [350.0f64, 400.0, 500.0, 800.0, 1500.0];
    let pops: Vec<String> = currents
        .iter()
        .enumerate()
        .map(|(i, c)| format!(r#"Population(name: "P{i}", count: 1, model: Lif(i_e_pa: {c}))"#))
        .collect();
    let src = format!(
        r#"Scene(seed: 1, dt_ms: {dt}, duration_ms: 2000,
            regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 0, populations: [{}])])"#,
        pops.join(", ")
    );
    let all = spike_steps(&src, steps);
    for (i, &current) in currents.iter().enumerate() {
        let spikes = &all[i];
        let x = 15.0 * 250.0 / (10.0 * current);
        let theory = if x >= 1.0 {
            0.0
        } else {
            1000.0 / (2.0 - 10.0 * (1.0 - x).ln())
        };
        // Measured over whole interspike intervals; the grid adds at most one step per interval.
        let measured = if spikes.len() < 2 {
            0.0
        } else {
            (spikes.len() - 1) as f64 / ((spikes[spikes.len() - 1] - spikes[0]) as f64 * dt * 1e-3)
        };
        let tolerance = 0.5 + theory * theory * dt * 1e-3;
        eprintln!("I = {current} pA: {measured:.2} Hz measured, {theory:.2} Hz theory");
        assert!(
            (measured - theory).abs() <= tolerance,
            "I = {current} pA: {measured} Hz vs theory {theory} Hz"
        );
    }
}

#[test]
fn izhikevich_regular_spiking_fires_tonically_with_adaptation() {
    // Izhikevich 2003, Fig. 2 (RS): a step of constant input gives tonic spiking whose first
    // interval is the shortest (spike-frequency adaptation), settling to a regular rhythm.
    let src = r#"Scene(seed: 1, dt_ms: 1.0, duration_ms: 1000, regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 0,
        populations: [Population(name: "RS", count: 1, model: RegularSpiking)])], inputs: [Dc(to: "RS", amplitude: 10)])"#;
    let spikes = spike_steps(src, 1000).remove(0);
    let isi: Vec<u32> = spikes.windows(2).map(|w| w[1] - w[0]).collect();
    eprintln!("spikes at {spikes:?}, intervals {isi:?}");
    assert!(spikes.len() >= 8, "tonic spiking expected, got {} spikes", spikes.len());
    assert!(
        spikes[0] < 20,
        "the first spike should come within 20 ms of the step, came at {}",
        spikes[0]
    );
    assert!(
        isi[0] < *isi.last().unwrap(),
        "adaptation: first interval {} should be shorter than the last {}",
        isi[0],
        isi.last().unwrap()
    );
    let tail = &isi[isi.len() - 4..];
    assert!(
        tail.iter().max().unwrap() - tail.iter().min().unwrap() <= 1,
        "settled intervals should be regular: {tail:?}"
    );
    let none = r#"Scene(seed: 1, dt_ms: 1.0, duration_ms: 500, regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 0,
        populations: [Population(name: "RS", count: 1, model: RegularSpiking)])])"#;
    assert!(
        spike_steps(none, 500)[0].is_empty(),
        "a resting RS neuron must stay silent"
    );
}

#[test]
fn spike_sources_fire_at_their_rate_as_poisson_trains() {
    // 400 sources at 20 Hz and 400 at 80 Hz for 1 s at dt 1 ms: expected 8000 and 32000 spikes
    // (SD about 89 and 175); and intervals of a Bernoulli train have CV near sqrt(1 - p).
    let steps = 1000;
    let trains = spike_steps(
        r#"Scene(seed: 3, dt_ms: 1, duration_ms: 1000, regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 1,
            populations: [Population(name: "slow", count: 400, model: SpikeSource(rate_hz: 20)),
                          Population(name: "fast", count: 400, model: SpikeSource(rate_hz: 80))])])"#,
        steps,
    );
    let count = |r: std::ops::Range<usize>| trains[r].iter().map(|t| t.len()).sum::<usize>() as f64;
    let (slow, fast) = (count(0..400), count(400..800));
    assert!(
        (slow - 8000.0).abs() < 5.0 * 89.0,
        "slow sources fired {slow} spikes, expected 8000"
    );
    assert!(
        (fast - 32000.0).abs() < 5.0 * 175.0,
        "fast sources fired {fast} spikes, expected 32000"
    );
    let isi: Vec<f64> = trains[400..]
        .iter()
        .flat_map(|t| t.windows(2).map(|w| (w[1] - w[0]) as f64))
        .collect();
    let mean = isi.iter().sum::<f64>() / isi.len() as f64;
    let sd = (isi.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / isi.len() as f64).sqrt();
    let cv = sd / mean;
    assert!(
        (cv - 0.92f64.sqrt()).abs() < 0.03,
        "interval CV {cv}, expected {}",
        0.92f64.sqrt()
    );
}

/// Rate (Hz) over whole interspike intervals of a spike-step train.
fn rate_hz(spikes: &[u32], dt: f64) -> f64 {
    if spikes.len() < 2 {
        0.0
    } else {
        (spikes.len() - 1) as f64 / ((spikes[spikes.len() - 1] - spikes[0]) as f64 * dt * 1e-3)
    }
}

/// The rate of a leaky integrator relaxing toward `v_inf` with time constant `tau` (ms) from
/// `v_reset` to `v_th`, with `t_ref` (ms) dead after each spike: 0 when v_inf does not reach v_th.
fn lif_rate(v_inf: f64, tau: f64, v_reset: f64, v_th: f64, t_ref: f64) -> f64 {
    if v_inf <= v_th {
        0.0
    } else {
        1000.0 / (t_ref + tau * ((v_inf - v_reset) / (v_inf - v_th)).ln())
    }
}

/// One population per current, one neuron each, of `model(current)`, `ms` long at dt 0.1 ms.
fn one_per_current(model: impl Fn(f64) -> String, currents: &[f64], ms: u32) -> String {
    let pops: Vec<String> = currents
        .iter()
        .enumerate()
        .map(|(i, &c)| format!(r#"Population(name: "P{i}", count: 1, model: {})"#, model(c)))
        .collect();
    format!(
        r#"Scene(seed: 1, dt_ms: 0.1, duration_ms: {ms},
            regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 0, populations: [{}])])"#,
        pops.join(", ")
    )
}

fn check_rates(what: &str, trains: &[Vec<u32>], currents: &[f64], theory: impl Fn(f64) -> f64) {
    let dt = 0.1;
    for (i, &current) in currents.iter().enumerate() {
        let (measured, theory) = (rate_hz(&trains[i], dt), theory(current));
        // The grid adds at most one step per interval.
        let tolerance = 0.5 + theory * theory * dt * 1e-3;
        eprintln!("{what}, I = {current} pA: {measured:.2} Hz measured, {theory:.2} Hz theory");
        assert!(
            (measured - theory).abs() <= tolerance,
            "{what}, I = {current} pA: {measured} Hz vs theory {theory} Hz"
        );
    }
}

#[test]
fn iaf_psc_alpha_rate_under_constant_current_matches_the_f_i_curve() {
    // NEST defaults: C 250 pF, tau_m 10 ms, t_ref 2 ms, E_L = V_reset = -70 mV, V_th -55 mV:
    // rheobase 375 pA, the LIF curve.
    let currents = [350.0, 400.0, 500.0, 800.0, 1500.0];
    let src = one_per_current(|c| format!("IafPscAlpha(i_e_pa: {c})"), &currents, 2000);
    let trains = spike_steps(&src, 20_000);
    check_rates("iaf_psc_alpha", &trains, &currents, |i| {
        lif_rate(-70.0 + 10.0 * i / 250.0, 10.0, -70.0, -55.0, 2.0)
    });
    assert!(trains[4].len() > 100, "the strongest current must fire");
}

#[test]
fn iaf_cond_exp_rate_under_constant_current_matches_the_f_i_curve() {
    // NEST defaults: g_L 16.6667 nS, C 250 pF (tau_m 15 ms), E_L -70, V_reset -60, V_th -55 mV,
    // t_ref 2 ms: V relaxes toward E_L + I / g_L, rheobase 250 pA.
    let currents = [240.0, 300.0, 400.0, 600.0, 1000.0];
    let src = one_per_current(|c| format!("IafCondExp(i_e_pa: {c})"), &currents, 2000);
    let trains = spike_steps(&src, 20_000);
    let g_l = 16.6667;
    check_rates("iaf_cond_exp", &trains, &currents, |i| {
        lif_rate(-70.0 + i / g_l, 250.0 / g_l, -60.0, -55.0, 2.0)
    });
}

#[test]
fn iaf_cond_exp_tonic_inhibition_is_a_shunting_conductance() {
    // The penumbra's tonic inhibition at full strength (place 1 in the penumbra) of g_t = 10 nS
    // toward E_in = -85 mV: the leak becomes g_L + g_t and the rest (g_L E_L + g_t E_in + I) / (g_L
    // + g_t), so the membrane time constant shortens to C / (g_L + g_t) as well; a current of 10 nS
    // x (something) would only shift the rest.
    use rewire::engine::{Control, Engine};
    let currents = [500.0, 700.0, 1000.0, 1500.0];
    let src = one_per_current(|c| format!("IafCondExp(i_e_pa: {c})"), &currents, 2000);
    let net = build(&common::model(&src));
    let ctx = common::gpu();
    let steps = 20_000u32;
    let mut gpu = GpuEngine::new(&ctx, &net, steps).unwrap();
    let g_t = 10.0f32;
    let mut c = Control::rest(net.pops.len(), net.poisson.len());
    c.tonic[0] = g_t;
    gpu.control(&c);
    let status: Vec<[u32; 4]> = net
        .status
        .iter()
        .map(|s| [s[0], 1.0f32.to_bits(), s[2], s[3]])
        .collect();
    gpu.set_status(&status);
    gpu.advance(steps as u64).unwrap();
    gpu.sample().unwrap();
    let raster = gpu.raster().unwrap();
    let words = net.globals.raster_words as usize;
    let trains: Vec<Vec<u32>> = (0..currents.len())
        .map(|n| {
            (0..steps)
                .filter(|&t| raster[t as usize * words + n / 32] >> (n % 32) & 1 == 1)
                .collect()
        })
        .collect();
    let (g_l, g_t) = (16.6667, g_t as f64);
    let g = g_l + g_t;
    check_rates(
        "iaf_cond_exp under 10 nS of tonic inhibition",
        &trains,
        &currents,
        |i| lif_rate((g_l * -70.0 + g_t * -85.0 + i) / g, 250.0 / g, -60.0, -55.0, 2.0),
    );
    // 500 pA fires without the shunt (V_inf -40 mV) and not with it (V_inf -56.9 mV).
    assert!(
        trains[0].is_empty() && trains[1].len() > 10,
        "{:?}",
        trains.iter().map(Vec::len).collect::<Vec<_>>()
    );
}

/// The membrane potential (`NeuronState::v`) of every neuron after each of `steps` steps, on the GPU.
fn v_traces(src: &str, steps: u32) -> (rewire::build::Network, Vec<Vec<f32>>) {
    let net = build(&common::model(src));
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 0).unwrap();
    let mut v = vec![Vec::new(); net.globals.n_neurons as usize];
    for _ in 0..steps {
        gpu.advance(1).unwrap();
        for (n, s) in gpu.neuron_state().unwrap().iter().enumerate() {
            v[n].push(s.v);
        }
    }
    (net, v)
}

/// One excitatory and one inhibitory spike: sources fire once at 1 ms, delivered 1 ms later (step
/// 20) onto T_ex (+w_ex), T_in (w_in < 0) and T_both (both at once).
fn psp_scene(model: &str, w_ex: f64, w_in: f64) -> String {
    format!(
        r#"Scene(seed: 2, dt_ms: 0.1, duration_ms: 60, regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 0, populations: [
            Population(name: "S_ex", count: 1, model: Periodic(period_ms: 1000, phase_ms: 1, count: 1)),
            Population(name: "S_in", count: 1, model: Periodic(period_ms: 1000, phase_ms: 1, count: 1)),
            Population(name: "T_ex", count: 1, model: {model}),
            Population(name: "T_in", count: 1, model: {model}),
            Population(name: "T_both", count: 1, model: {model})])],
          projections: [
            Projection(from: "S_ex", to: "T_ex", rule: FixedInDegree(1), weight: {w_ex}, delay_ms: 1),
            Projection(from: "S_in", to: "T_in", rule: FixedInDegree(1), weight: {w_in}, delay_ms: 1),
            Projection(from: "S_ex", to: "T_both", rule: FixedInDegree(1), weight: {w_ex}, delay_ms: 1),
            Projection(from: "S_in", to: "T_both", rule: FixedInDegree(1), weight: {w_in}, delay_ms: 1)])"#
    )
}

/// The step (after arrival) and value of the largest |v - rest| of a trace.
fn peak(v: &[f64], rest: f64) -> (usize, f64) {
    let j = (0..v.len())
        .max_by(|&a, &b| (v[a] - rest).abs().total_cmp(&(v[b] - rest).abs()))
        .unwrap();
    (j, v[j] - rest)
}

const ARRIVAL: usize = 20;
const PSP_STEPS: u32 = 420;

#[test]
fn iaf_psc_alpha_psps_match_the_alpha_kernel_with_separate_time_constants() {
    // A weight w (pA) is the alpha current's peak: I(t) = w e t / tau exp(-t / tau), so
    // V(t) = w e / (tau C) exp(-t / tau_m) (1 - exp(-k t) (1 + k t)) / k^2, k = 1/tau - 1/tau_m.
    let (tau_ex, tau_in, tau_m, c, h) = (0.5, 3.0, 10.0, 250.0, 0.1);
    let (w_ex, w_in) = (300.0, -300.0);
    let model = format!("IafPscAlpha(tau_syn_ex_ms: {tau_ex}, tau_syn_in_ms: {tau_in})");
    let (_, v) = v_traces(&psp_scene(&model, w_ex, w_in), PSP_STEPS);
    let psp = |w: f64, tau: f64, t: f64| {
        let k = 1.0 / tau - 1.0 / tau_m;
        w * std::f64::consts::E / (tau * c) * (-t / tau_m).exp() * (1.0 - (-k * t).exp() * (1.0 + k * t)) / (k * k)
    };
    let after = |n: usize| -> Vec<f64> { v[n][ARRIVAL..].iter().map(|&x| x as f64).collect() };
    for (n, w, tau, what) in [(2, w_ex, tau_ex, "excitatory"), (3, w_in, tau_in, "inhibitory")] {
        assert!(
            v[n][..ARRIVAL].iter().all(|&x| x == 0.0),
            "{what}: V moved before the spike arrived"
        );
        let got = after(n);
        let theory: Vec<f64> = (0..got.len()).map(|j| psp(w, tau, j as f64 * h)).collect();
        let err = got.iter().zip(&theory).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let (jg, pg) = peak(&got, 0.0);
        let (jt, pt) = peak(&theory, 0.0);
        // The continuous peak, on a 1 us grid.
        let tc = (0..400_000)
            .map(|i| i as f64 * 1e-4)
            .max_by(|&a, &b| psp(w, tau, a).abs().total_cmp(&psp(w, tau, b).abs()))
            .unwrap();
        eprintln!(
            "iaf_psc_alpha {what} PSP: peak {pg:.6} mV at {:.1} ms (theory {pt:.6} mV at {:.1} ms on the grid, {tc:.4} ms exactly); largest |error| {err:.2e} mV",
            jg as f64 * h,
            jt as f64 * h
        );
        assert!(err <= 2e-5 * pt.abs().max(1.0), "{what}: largest error {err} mV");
        assert_eq!(jg, jt, "{what}: time of peak");
        assert!(
            (jg as f64 * h - tc).abs() <= h,
            "{what}: grid peak {} ms, exact {tc} ms",
            jg as f64 * h
        );
        assert!((pg - pt).abs() <= 1e-5 * pt.abs(), "{what}: peak {pg} vs {pt}");
    }
    // Each channel keeps its own time constant: the excitatory PSP peaks far earlier.
    assert!(peak(&after(2), 0.0).0 * 3 < peak(&after(3), 0.0).0);
    // Both at once: +w and -w in one step would cancel in one channel; in two they superpose.
    let (ex, inh, both) = (after(2), after(3), after(4));
    let err = (0..both.len())
        .map(|j| (both[j] - ex[j] - inh[j]).abs())
        .fold(0.0, f64::max);
    let (_, p) = peak(&both, 0.0);
    eprintln!(
        "iaf_psc_alpha both: peak |V| {:.4} mV, largest |V_both - V_ex - V_in| {err:.2e} mV",
        p.abs()
    );
    assert!(p.abs() > 0.5 && err < 1e-5, "peak {p}, superposition error {err}");
}

/// `iaf_cond_exp` from rest (NEST defaults) after conductance jumps `g_ex` and `g_in` (nS) at t = 0,
/// integrated with RK4 at h / 1000 and sampled every step h = 0.1 ms.
fn cond_exp_fine(g_ex: f64, g_in: f64, steps: usize) -> Vec<f64> {
    let (c, g_l, e_l, e_ex, e_in, tau_ex, tau_in, h) = (250.0, 16.6667, -70.0, 0.0, -85.0, 0.2, 2.0, 0.1);
    let f = |t: f64, v: f64| {
        let (ge, gi) = (g_ex * (-t / tau_ex).exp(), g_in * (-t / tau_in).exp());
        (-g_l * (v - e_l) - ge * (v - e_ex) - gi * (v - e_in)) / c
    };
    let (n, mut v, mut t) = (1000, e_l, 0.0);
    let dt = h / n as f64;
    let mut out = vec![v];
    for _ in 1..steps {
        for _ in 0..n {
            let k1 = f(t, v);
            let k2 = f(t + dt / 2.0, v + dt / 2.0 * k1);
            let k3 = f(t + dt / 2.0, v + dt / 2.0 * k2);
            let k4 = f(t + dt, v + dt * k3);
            v += dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
            t += dt;
        }
        out.push(v);
    }
    out
}

#[test]
fn iaf_cond_exp_psps_match_a_finely_integrated_answer() {
    // NEST defaults (tau_syn_ex 0.2 ms, tau_syn_in 2 ms, E_ex 0, E_in -85, rest -70 mV); 5 nS
    // jumps. The exponential-Euler step with each step's mean conductance against RK4 at 0.1 us.
    let (w, h, rest) = (5.0, 0.1, -70.0);
    let (_, v) = v_traces(&psp_scene("IafCondExp()", w, -w), PSP_STEPS);
    let after = |n: usize| -> Vec<f64> { v[n][ARRIVAL..].iter().map(|&x| x as f64).collect() };
    let steps = PSP_STEPS as usize - ARRIVAL;
    let mut peaks = Vec::new();
    for (n, g_ex, g_in, what) in [(2, w, 0.0, "excitatory"), (3, 0.0, w, "inhibitory"), (4, w, w, "both")] {
        // At rest V stays within f32 rounding of E_L (V_inf = g_L E_L / g_L to 2 ulp).
        assert!(
            v[n][..ARRIVAL].iter().all(|&x| (x as f64 - rest).abs() < 1e-4),
            "{what}: V moved before the spike arrived"
        );
        let got = after(n);
        let fine = cond_exp_fine(g_ex, g_in, steps);
        let err = got.iter().zip(&fine).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let (jg, pg) = peak(&got, rest);
        let (jf, pf) = peak(&fine, rest);
        eprintln!(
            "iaf_cond_exp {what} PSP: peak {pg:.5} mV at {:.1} ms (fine {pf:.5} mV at {:.1} ms); largest |error| {err:.2e} mV ({:.1e} of the peak)",
            jg as f64 * h,
            jf as f64 * h,
            err / pf.abs()
        );
        assert_eq!(jg, jf, "{what}: time of peak");
        assert!((pg - pf).abs() <= 1e-3 * pf.abs(), "{what}: peak {pg} vs {pf}");
        assert!(err <= 1e-3 * pf.abs(), "{what}: largest error {err} mV");
        peaks.push((jg, pg));
    }
    // Depolarizing through the fast excitatory conductance, hyperpolarizing through the slow
    // inhibitory one, and both at once is neither (one channel would have cancelled them).
    assert!(peaks[0].1 > 0.2 && peaks[1].1 < -0.3, "{peaks:?}");
    assert!(peaks[0].0 * 3 < peaks[1].0, "{peaks:?}");
    assert!(peaks[2].1.abs() > 0.1, "{peaks:?}");
}
