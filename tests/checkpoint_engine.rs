//! Engine state: a run stopped midway, saved, loaded into an engine freshly built from the same
//! model and continued gives the same samples, spikes and final state, bit for bit, as a run that
//! never stopped (with STDP, dopamine, scaling, synaptic capture, structural plasticity, a lesion
//! and protocol control in force); states that do not fit an engine are refused whole.

mod common;

use rewire::engine::{Control, Engine, EngineState, RawSample};
use rewire::gpu::AdapterChoice;
use rewire::protocol::lesion;
use rewire::{EngineChoice, Model, Simulation};
use std::time::Instant;

/// Two regions with STDP (eligibility and dopamine), capture, inhibition, scaling, a tract both
/// ways and structural plasticity with fast turnover. `COUNT` sets region A's excitatory size.
const NET: &str = r#"Scene(seed: SEED, dt_ms: 1.0, duration_ms: 400, sample_every_ms: 50,
    regions: [
        Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 0.5,
               populations: [
                   Population(name: "E", count: COUNT, model: RegularSpiking, capacity: 40,
                       growth: Growth(eps: 0.04, eta: 0.002, nu_per_ms: 2e-6, tau_ca_ms: 200, beta_ca: 0.01)),
                   Population(name: "I", count: 40, model: FastSpiking),
               ]),
        Region(name: "B", centre_mm: (3, 0, 0), radius_mm: 0.5,
               populations: [
                   Population(name: "F", count: 80, model: RegularSpiking, capacity: 16,
                       scaling: Scaling(target_hz: 5, tau_ms: 2000, activity_tau_ms: 500, update_every_ms: 50)),
               ]),
    ],
    projections: [
        Projection(from: "E", to: "E", rule: FixedInDegree(8), weight: Uniform(2, 6), delay_ms: Uniform(1, 5),
                   plasticity: Stdp(eligibility_tau_ms: 1000, w_max: 8, w_min: 0.5)),
        Projection(from: "E", to: "I", rule: FixedProbability(0.2), weight: 4.0, delay_ms: 1.0),
        Projection(from: "I", to: "E", rule: FixedProbability(0.2), weight: -5.0, delay_ms: 1.0),
        Projection(from: "E", to: "F", rule: FixedInDegree(5), weight: Uniform(1, 3), delay_ms: 4.0,
                   plasticity: Stdp(a_plus: 0.05, a_minus: 0.06, w_max: 4.0,
                     capture: Capture(tag_threshold: 0.05, protein_threshold: 0.3, tau_early_ms: 400,
                                      tau_protein_ms: 200, tau_late_ms: 200, update_every_ms: 40))),
        Projection(from: "F", to: "E", rule: FixedInDegree(3), weight: 2.0, delay_ms: 4.0),
    ],
    inputs: [
        Poisson(to: "E", rate_hz: 600, in_degree: 10, weight: 1.5),
        Poisson(to: "F", rate_hz: 500, in_degree: 10, weight: 1.5),
        Poisson(to: "I", rate_hz: 500, in_degree: 10, weight: 1.5),
    ],
    dopamine: Dopamine(),
    rewards: [Reward(at_ms: 150, amount: 0.5), Reward(at_ms: 350, amount: 0.5)],
    structure: Structure(every_ms: 20, speedup: 100000, check_stability: false,
        sprouting: [Sprout(from: "E", to: "E", length_mm: 0.4)],
        spines: Spines(stabilize_tau_ms: 4e6, nascent_lifetime_ms: 4e6, stable_lifetime_ms: 4e7)),
)"#;

fn model(seed: u64, count: u32) -> Model {
    common::model(
        &NET.replace("SEED", &seed.to_string())
            .replace("COUNT", &count.to_string()),
    )
}

/// Steps in all; the run is stopped after SPLIT (off a sample boundary, with a reward pending).
const STEPS: u64 = 400;
const SPLIT: u64 = 207;
const EVERY: u64 = 50;

fn build(model: &Model, choice: &EngineChoice) -> Simulation {
    Simulation::new(model.clone(), choice, STEPS as u32).unwrap_or_else(|e| match choice {
        EngineChoice::Gpu(_) => panic!("GPU tests need an adapter and none could be opened: {e}"),
        EngineChoice::Cpu => panic!("building the simulation failed: {e}"),
    })
}

/// Everything before the split: samples, a focal lesion and a tract cut at step 100 with the
/// protocol's deficit, window, gain and input factors, then a reward raised just before the split.
fn first_part(sim: &mut Simulation) -> Vec<RawSample> {
    let e = sim.engine.as_mut();
    let mut samples = Vec::new();
    for _ in 0..2 {
        e.advance(EVERY).unwrap();
        samples.push(e.sample().unwrap());
    }
    let lesions = common::two_lesions();
    let mut status = sim.network.status.clone();
    for (i, l) in lesions.iter().enumerate() {
        let plan = lesion::plan(&sim.model, &sim.network, &status, l, i);
        e.lesion(&plan.status, &plan.cut).unwrap();
        status = plan.status;
    }
    let mut c = Control::rest(sim.network.pops.len(), sim.network.poisson.len());
    c.deficit[0] = 0.8;
    c.learn_window[0] = 3.0;
    c.grow_window[0] = 2.0;
    c.tonic[0] = 1.0;
    c.gain[1] = 0.9;
    c.learn[0] = 1.5;
    c.input_rate[0] = 1.2;
    e.control(&c);
    for _ in 0..2 {
        e.advance(EVERY).unwrap();
        samples.push(e.sample().unwrap());
    }
    e.advance(SPLIT - 4 * EVERY).unwrap();
    e.reward(Some(0), 0.3);
    samples
}

/// Everything after the split, up to STEPS.
fn second_part(e: &mut dyn Engine) -> Vec<RawSample> {
    let mut samples = Vec::new();
    let mut step = SPLIT;
    while step < STEPS {
        let n = (EVERY - step % EVERY).min(STEPS - step);
        e.advance(n).unwrap();
        samples.push(e.sample().unwrap());
        step += n;
    }
    samples
}

/// Runs straight through and split at SPLIT, and compares samples after the split, rasters and
/// final states. Returns the state saved at the split.
fn straight_and_split(choice: &EngineChoice) -> EngineState {
    let model = model(9, 160);
    let t0 = Instant::now();
    let mut straight = build(&model, choice);
    let name = straight.engine.describe();
    first_part(&mut straight);
    let after_straight = second_part(straight.engine.as_mut());
    let raster_straight = straight.engine.raster().unwrap();
    let end_straight = straight.engine.save_state().unwrap();
    drop(straight);
    let t1 = Instant::now();

    let mut split = build(&model, choice);
    first_part(&mut split);
    let saved = split.engine.save_state().unwrap();
    assert_eq!(saved.step, SPLIT);
    drop(split);
    let t2 = Instant::now();
    let mut resumed = build(&model, choice);
    resumed.engine.load_state(&saved).unwrap();
    assert_eq!(resumed.engine.step(), SPLIT);
    assert!(
        resumed.engine.save_state().unwrap() == saved,
        "{name}: the state read back after loading differs from the one loaded"
    );
    let after_split = second_part(resumed.engine.as_mut());
    assert_eq!(after_split.len(), after_straight.len());
    for (a, b) in after_straight.iter().zip(&after_split) {
        assert_eq!(a, b, "{name}: the sample at step {} differs after resuming", a.step);
    }
    assert!(
        after_straight.iter().any(|s| s.structure.iter().any(|&w| w != 0)),
        "{name}: the structural statistics stayed empty"
    );
    assert_eq!(
        raster_straight,
        resumed.engine.raster().unwrap(),
        "{name}: spikes differ after resuming"
    );
    let end_split = resumed.engine.save_state().unwrap();
    assert_eq!(end_split.step, STEPS);
    assert_eq!(end_straight.arrays.len(), end_split.arrays.len());
    for ((name_a, a), (name_b, b)) in end_straight.arrays.iter().zip(&end_split.arrays) {
        assert_eq!(name_a, name_b);
        let first = a.iter().zip(b).position(|(x, y)| x != y);
        assert!(
            a == b,
            "{name}: final array `{name_a}` differs after resuming (first at byte {first:?})"
        );
    }
    assert!(end_straight == end_split);
    let bytes: usize = saved.arrays.iter().map(|(_, b)| b.len()).sum();
    eprintln!(
        "{name}: {} arrays, {bytes} bytes; straight {:.2} s, first part {:.2} s, resumed {:.2} s",
        saved.arrays.len(),
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        t2.elapsed().as_secs_f64()
    );
    saved
}

/// States that do not fit are refused naming the first differing array, and the engine keeps
/// its state and runs on.
fn refuses_foreign_states(choice: &EngineChoice, saved: &EngineState) {
    let model = model(9, 160);
    let mut sim = build(&model, choice);
    let name = sim.engine.describe();
    sim.engine.advance(60).unwrap();
    let before = sim.engine.save_state().unwrap();

    // Another model: region A's excitatory population is smaller.
    let mut other = build(&self::model(4, 150), choice);
    other.engine.advance(10).unwrap();
    let foreign = other.engine.save_state().unwrap();
    let err = sim
        .engine
        .load_state(&foreign)
        .expect_err("a state of another model must be refused");
    let msg = err.to_string();
    assert!(msg.contains("`neurons`"), "{name}: {msg}");

    // An array missing, one extra, one renamed, one resized.
    let mut missing = saved.clone();
    let (last, _) = missing.arrays.pop().unwrap();
    let msg = sim.engine.load_state(&missing).unwrap_err().to_string();
    assert!(msg.contains(&format!("`{last}` is missing")), "{name}: {msg}");
    let mut extra = saved.clone();
    extra.arrays.push(("extra".into(), vec![0; 4]));
    let msg = sim.engine.load_state(&extra).unwrap_err().to_string();
    assert!(msg.contains("`extra` is extra"), "{name}: {msg}");
    let mut renamed = saved.clone();
    renamed.arrays[3].0 = "renamed".into();
    let msg = sim.engine.load_state(&renamed).unwrap_err().to_string();
    assert!(msg.contains("`renamed`"), "{name}: {msg}");
    let mut resized = saved.clone();
    let at = resized.arrays.iter().position(|(n, _)| n == "ring").unwrap();
    resized.arrays[at].1.truncate(8);
    let msg = sim.engine.load_state(&resized).unwrap_err().to_string();
    assert!(msg.contains("`ring` holds 8 bytes"), "{name}: {msg}");

    assert!(
        sim.engine.save_state().unwrap() == before,
        "{name}: a refused state changed the engine"
    );
    sim.engine.advance(40).unwrap();
    assert_eq!(sim.engine.step(), 100);
    sim.engine.sample().unwrap();
}

#[test]
fn cpu_state_resumes_bit_for_bit() {
    let saved = straight_and_split(&EngineChoice::Cpu);
    refuses_foreign_states(&EngineChoice::Cpu, &saved);
}

#[test]
fn gpu_state_resumes_bit_for_bit() {
    let choice = EngineChoice::Gpu(AdapterChoice::default());
    let saved = straight_and_split(&choice);
    refuses_foreign_states(&choice, &saved);
    // A state of the other engine kind is refused too.
    let cpu = build(&model(9, 160), &EngineChoice::Cpu).engine.save_state().unwrap();
    let mut sim = build(&model(9, 160), &choice);
    let msg = sim.engine.load_state(&cpu).unwrap_err().to_string();
    assert!(msg.contains("array 1"), "{msg}");
}
