//! Tier 3: the Potjans & Diesmann (2014) cortical microcircuit at a tenth of its size
//! (`scenes/microcircuit_scaled.ron`, same in-degrees as the full model). The scene holds the
//! paper's connectivity (every K is checked against the formula here), the network has the right
//! size, and on the GPU every population fires asynchronously at a low rate, with the layer order
//! of the excitatory rates seen in the simulations.

mod common;

use rewire::build::build;
use rewire::engine::Engine;
use rewire::gpu::GpuEngine;
use rewire::scene::Rule;

const SCENE: &str = "scenes/microcircuit_scaled.ron";
const SCALE: f64 = 0.1;
const NAMES: [&str; 8] = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"];
/// Full-scale population sizes (REFERENCES.md).
const N_FULL: [f64; 8] = [20683.0, 5834.0, 21915.0, 5479.0, 4850.0, 1065.0, 14395.0, 2948.0];
/// Connection probabilities, target row x source column.
const P: [[f64; 8]; 8] = [
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
];

/// Synapses of one pair at the scaled size: the full model's K = ln(1-p) / ln(1 - 1/(N_pre N_post))
/// times N_post(scaled) / N_post(full), which keeps the in-degree K / N_post.
fn k_scaled(target: usize, source: usize, n_post: f64) -> f64 {
    let k_full = (-P[target][source]).ln_1p() / (-1.0 / (N_FULL[source] * N_FULL[target])).ln_1p();
    k_full * n_post / N_FULL[target]
}

#[test]
fn microcircuit_scaled_matches_the_paper_and_fires_asynchronously_at_low_rates() {
    let model = rewire::scene::load(std::path::Path::new(SCENE)).unwrap_or_else(|e| panic!("{e}"));

    // Sizes: each population is its full size times SCALE, rounded.
    let names: Vec<&str> = model.populations.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, NAMES);
    for (p, full) in model.populations.iter().zip(N_FULL) {
        assert_eq!(p.count, (full * SCALE).round() as u32, "size of {}", p.name);
    }
    assert_eq!(model.neurons, 7718);
    assert_eq!(model.dt_ms, 0.1);

    // Connectivity: one FixedTotalNumber per pair with p > 0, K within rounding of the formula.
    let mut expected_total = 0.0;
    let mut layer_expected = [[0.0f64; 4]; 4];
    for t in 0..8 {
        for s in 0..8 {
            let k = k_scaled(t, s, model.populations[t].count as f64);
            expected_total += k;
            layer_expected[s / 2][t / 2] += k;
            let found: Vec<u64> = model
                .projections
                .iter()
                .filter(|p| p.source == s && p.target == t)
                .map(|p| match p.rule {
                    Rule::FixedTotalNumber(n) => n,
                    ref r => panic!("{} -> {}: rule {r:?}, expected FixedTotalNumber", NAMES[s], NAMES[t]),
                })
                .collect();
            if P[t][s] == 0.0 {
                assert!(found.is_empty(), "{} -> {} has p = 0", NAMES[s], NAMES[t]);
            } else {
                assert_eq!(found.len(), 1, "{} -> {}: one projection", NAMES[s], NAMES[t]);
                assert!(
                    (found[0] as f64 - k).abs() <= 1.0,
                    "{} -> {}: K {} in the scene, {k:.1} from the formula",
                    NAMES[s],
                    NAMES[t],
                    found[0]
                );
            }
        }
    }
    // About 3.0e7 synapses (3.0e8 at full scale): the sum of the K values, exactly, since
    // FixedTotalNumber with multapses and autapses places every one of them.
    let net = build(&model);
    eprintln!("{} neurons, {} synapses", model.neurons, net.synapses);
    assert_eq!(net.synapses, 29_889_612);
    assert!(
        (net.synapses as f64 - expected_total).abs() < 60.0,
        "{} synapses, {expected_total:.0} from the K formula",
        net.synapses
    );

    // Run 400 ms on the GPU: a 100 ms start-up, then rates over 300 ms.
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 4000).unwrap();
    let t0 = std::time::Instant::now();
    gpu.advance(1000).unwrap();
    let warmup = gpu.sample().unwrap();
    gpu.advance(3000).unwrap();
    let sample = gpu.sample().unwrap();
    eprintln!("4000 steps in {:.1} s", t0.elapsed().as_secs_f64());

    // The synapses per layer pair (regions are the layers L23, L4, L5, L6) are the sums of K.
    for (s, row) in layer_expected.iter().enumerate() {
        for (t, &expected) in row.iter().enumerate() {
            let got = warmup.conn_count[s * 4 + t] as f64;
            assert!(
                (got - expected).abs() <= 8.0,
                "layer {s} -> layer {t}: {got} synapses, K sum {expected:.0}"
            );
        }
    }

    let rates: Vec<f64> = model
        .populations
        .iter()
        .zip(&sample.pop_spikes)
        .map(|(p, &s)| s as f64 / (p.count as f64 * 0.3))
        .collect();
    let shown: Vec<String> = NAMES.iter().zip(&rates).map(|(n, r)| format!("{n} {r:.2}")).collect();
    eprintln!("rates (Hz, 100-400 ms): {}", shown.join(", "));

    // Asynchronous: the whole network's spike count in 1 ms bins (100-400 ms). For N neurons with
    // mean pairwise count correlation c, variance / mean is about 1 + (N - 1) c. The tenth-size
    // network is not as asynchronous as the full one (its neurons share ten times more of their
    // inputs): here and in NEST 3.10 on the same scene (benches/peers) the Fano factor is 25-30,
    // c about 0.003. Below 80 (c < 0.01) is asynchronous; population bursts in which a sizeable
    // part of the network fires together give hundreds or thousands.
    let raster = gpu.raster().unwrap();
    let words = net.globals.raster_words as usize;
    let counts: Vec<f64> = (100..400)
        .map(|ms| {
            raster[ms * 10 * words..(ms + 1) * 10 * words]
                .iter()
                .map(|w| w.count_ones())
                .sum::<u32>() as f64
        })
        .collect();
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    let fano = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / counts.len() as f64 / mean;
    eprintln!("network spikes per ms: mean {mean:.1}, Fano factor {fano:.2}");
    assert!(
        fano < 80.0,
        "network activity is synchronous: Fano factor {fano:.1} in 1 ms bins"
    );

    // Published (full scale): L23E 0.9, L23I 2.8, L4E 4.4, L4I 5.7, L5E 7.6, L5I 8.7, L6E 1.1,
    // L6I 7.7 Hz. The band is broad: below 0.05 Hz a population is silent (a sign or unit error in
    // the drive), above 30 Hz the network has left the asynchronous low-rate state (runaway
    // excitation, e.g. inhibitory weights with the wrong sign or scale), which is where a mistake
    // in weights, delays or the synaptic current lands; a tenth-size network shifts rates by far
    // less than that.
    for (name, &r) in NAMES.iter().zip(&rates) {
        assert!(
            (0.05..30.0).contains(&r),
            "{name} fires at {r:.3} Hz, outside 0.05-30 Hz"
        );
    }
    // Layer order of the excitatory rates, as in the paper and in every seed tried here (seeds 1-3
    // gave L5E 8.8-9.4, L4E 4.2-4.3, L23E 1.6, L6E 1.1 Hz): L5E well above L4E, which is well above
    // L2/3E and L6E. L23E against L6E is not asserted: the paper has 0.9 < 1.1 Hz, the tenth-size
    // network about 1.6 > 1.1 Hz, and L23E fluctuates most from one 100 ms window to the next.
    let [l23e, l23i, l4e, l4i, l5e, _, l6e, l6i] = rates[..] else {
        unreachable!()
    };
    assert!(l5e > 1.3 * l4e, "L5E {l5e:.2} Hz should exceed L4E {l4e:.2} Hz clearly");
    assert!(
        l4e > 1.5 * l23e.max(l6e),
        "L4E {l4e:.2} Hz should exceed L23E {l23e:.2} and L6E {l6e:.2} Hz clearly"
    );
    // Inhibitory neurons fire faster than the excitatory ones of their layer where the paper has a
    // large gap (L2/3, L4, L6; in L5 the two are within 15%).
    for (e, i, layer) in [(l23e, l23i, "L2/3"), (l4e, l4i, "L4"), (l6e, l6i, "L6")] {
        assert!(
            i > 1.2 * e,
            "{layer}: inhibitory {i:.2} Hz should exceed excitatory {e:.2} Hz"
        );
    }
}
