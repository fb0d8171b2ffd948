//! Tier 3: the shipped scenes parse, and the Izhikevich (2003) network shows its published
//! behaviour: excitatory neurons near 8 Hz, firing in population bursts (alpha/gamma rhythms),
//! not as an asynchronous Poisson crowd.

mod common;

use rewire::build::build;
use rewire::engine::Engine;
use rewire::gpu::GpuEngine;

#[test]
fn shipped_scenes_validate() {
    for entry in std::fs::read_dir("scenes").unwrap() {
        let path = entry.unwrap().path();
        rewire::scene::load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn izhikevich_2003_network_fires_rhythmically_near_8_hz() {
    let model = rewire::scene::load(std::path::Path::new("scenes/izhikevich2003.ron")).unwrap();
    let net = build(&model);
    assert_eq!(
        net.synapses, 1_000_000,
        "all-to-all with autapses, as in the paper's code"
    );
    let steps = 500u32;
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, steps).unwrap();
    gpu.advance(steps as u64).unwrap();
    let sample = gpu.sample().unwrap();
    let raster = gpu.raster().unwrap();
    let words = net.globals.raster_words as usize;
    // Excitatory activity in 1 ms bins (neurons 0..800), after a 100 ms transient.
    let counts: Vec<f64> = (100..steps as usize)
        .map(|t| {
            (0..800)
                .filter(|&n| raster[t * words + n / 32] >> (n % 32) & 1 == 1)
                .count() as f64
        })
        .collect();
    let rate = sample.pop_spikes[0] as f64 / (800.0 * steps as f64 * 1e-3);
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / counts.len() as f64;
    // For independent neurons the per-ms count would be near Poisson: variance / mean about 1.
    let fano = var / mean;
    eprintln!("excitatory rate {rate:.2} Hz, per-ms count mean {mean:.2}, Fano factor {fano:.1}");
    assert!(
        (4.0..16.0).contains(&rate),
        "excitatory rate {rate} Hz, expected near 8 Hz"
    );
    assert!(
        fano > 5.0,
        "population activity should come in bursts: Fano factor {fano}"
    );
}
