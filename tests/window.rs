//! The plasticity window multiplies each weight change once and element growth once: on both
//! engines, the same network run with and without a window gives weight changes (at the first
//! dopamine-gated update) and element changes (at the first structural update) in exactly the
//! configured ratio. Before this was mended the window entered the eligibility as well as the
//! modulated update, and a factor W acted as W^2.

mod common;

use rewire::build::build;
use rewire::engine::{Control, Engine};
use rewire::gpu::GpuEngine;
use rewire::layout::{STATUS_ALIVE, STATUS_SLOT_SHIFT};
use rewire::reference::CpuEngine;

/// One region with a dopamine-modulated STDP projection (a reward on step 2), growing elements,
/// and the modulated and structural updates both after step 10.
const NET: &str = r#"Scene(seed: 5, dt_ms: 1.0, duration_ms: 100, sample_every_ms: 10,
    regions: [
        Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 0.5, populations: [
            Population(name: "E", count: 120, model: RegularSpiking, capacity: 24,
                growth: Growth(eps: 0.04, eta: 0.002, nu_per_ms: 1e-3, tau_ca_ms: 50, beta_ca: 0.01)),
        ]),
    ],
    projections: [
        Projection(from: "E", to: "E", rule: FixedInDegree(10), weight: Uniform(1, 3), delay_ms: Uniform(1, 3),
                   plasticity: Stdp(a_plus: 0.1, a_minus: 0.12, eligibility_tau_ms: 1000, w_min: -100, w_max: 100)),
    ],
    inputs: [Poisson(to: "E", rate_hz: 800, in_degree: 10, weight: 2.0)],
    dopamine: Dopamine(update_every_ms: 10),
    rewards: [Reward(at_ms: 2, amount: 0.5)],
    structure: Structure(every_ms: 10, speedup: 10, sprouting: [Sprout(from: "E", to: "E", length_mm: 0.4)]),
)"#;

/// Steps to the first modulated and structural updates.
const FIRST_UPDATE: u64 = 10;

/// Weights and bouton elements after the first update, with every neuron at closeness 1 to a
/// lesion in slot 1 whose windows' extra factors are `learn` and `grow`.
fn arm(engine: &mut dyn Engine, n_neurons: usize, n_pops: usize, learn: f32, grow: f32) -> (Vec<f32>, Vec<f32>) {
    let status = vec![[STATUS_ALIVE | (1 << STATUS_SLOT_SHIFT), 0, 1.0f32.to_bits(), 0]; n_neurons];
    engine.lesion(&status, &[0]).unwrap();
    let mut c = Control::rest(n_pops, 1);
    c.learn_window[1] = learn;
    c.grow_window[1] = grow;
    engine.control(&c);
    engine.advance(FIRST_UPDATE).unwrap();
    let state = engine.save_state().unwrap();
    let array = |name: &str| -> Vec<f32> {
        let bytes = &state.arrays.iter().find(|(n, _)| n == name).expect(name).1;
        bytemuck::cast_slice::<u8, f32>(bytes).to_vec()
    };
    // The GPU keeps weights per shard: gather every shard's array in order.
    let weights: Vec<f32> = state
        .arrays
        .iter()
        .filter(|(n, _)| n == "syn_weight" || n.ends_with(".syn_weight"))
        .flat_map(|(_, b)| bytemuck::cast_slice::<u8, f32>(b).to_vec())
        .collect();
    let grow = array("grow");
    // grow holds [calcium, bouton elements, spine elements, neurotrophin] per neuron.
    (weights, grow.chunks(4).map(|g| g[1]).collect())
}

/// The ratio of summed |change| from `before` in arm `a` to arm `b`.
fn ratio(before: &[f32], a: &[f32], b: &[f32]) -> f64 {
    let change = |x: &[f32]| -> f64 { x.iter().zip(before).map(|(v, w)| (*v as f64 - *w as f64).abs()).sum() };
    let (ca, cb) = (change(a), change(b));
    assert!(
        cb > 0.0,
        "nothing changed without the window: the test would prove nothing"
    );
    ca / cb
}

#[test]
fn the_window_multiplies_learning_and_growth_once_on_both_engines() {
    let model = common::model(NET);
    let net = build(&model);
    let (n, np) = (net.state.len(), net.pops.len());
    assert_eq!(net.poisson.len(), 1);
    let w0 = net.syn_weight.clone();
    let z0: Vec<f32> = net.grow.iter().map(|g| g[1]).collect();
    let ctx = common::gpu();
    for engine_name in ["cpu", "gpu"] {
        let make = || -> Box<dyn Engine> {
            match engine_name {
                "cpu" => Box::new(CpuEngine::new(&net, 0)),
                _ => Box::new(GpuEngine::new(&ctx, &net, 0).unwrap()),
            }
        };
        // Learning window 4 (extra factor 3) against none, growth equal.
        let (w_off, z_a) = arm(make().as_mut(), n, np, 0.0, 0.0);
        let (w_on, z_b) = arm(make().as_mut(), n, np, 3.0, 0.0);
        assert_eq!(w_off.len(), w0.len(), "{engine_name}: weights gathered");
        assert_eq!(z_a, z_b, "{engine_name}: the learning window changed growth");
        let r = ratio(&w0, &w_on, &w_off);
        assert!((r - 4.0).abs() < 1e-3, "{engine_name}: learning window 4 acted as {r}");
        // Growth window 3 (extra factor 2) against none, learning equal.
        let (w_a, z_off) = arm(make().as_mut(), n, np, 0.0, 0.0);
        let (w_b, z_on) = arm(make().as_mut(), n, np, 0.0, 2.0);
        assert_eq!(w_a, w_b, "{engine_name}: the growth window changed learning");
        let r = ratio(&z0, &z_on, &z_off);
        assert!((r - 3.0).abs() < 1e-3, "{engine_name}: growth window 3 acted as {r}");
    }
}
