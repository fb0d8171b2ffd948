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
