//! Lesions: the GPU's lesion stage against the CPU twin (slots, weights, spikes, statistics
//! after the lesion, with plasticity, scaling and structural plasticity running on), exactly the
//! neurons and synapses a lesion should remove, and dead neurons that never fire or receive.

mod common;

use rewire::build::{Network, build_sharded};
use rewire::engine::{Control, Engine};
use rewire::gpu::GpuEngine;
use rewire::layout::{EMPTY, STATUS_ALIVE};
use rewire::protocol::lesion;
use rewire::reference::CpuEngine;

/// Two regions 3 mm apart with STDP (eligibility and dopamine), inhibition, scaling and a tract.
const NET: &str = r#"Scene(seed: 9, dt_ms: 1.0, duration_ms: 600, sample_every_ms: 100,
    regions: [
        Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 0.5,
               populations: [
                   Population(name: "E", count: 160, model: RegularSpiking, capacity: 40 GROWTH_E),
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
        Projection(from: "E", to: "F", rule: FixedInDegree(5), weight: 3.0, delay_ms: 4.0),
        Projection(from: "F", to: "E", rule: FixedInDegree(3), weight: 2.0, delay_ms: 4.0),
    ],
    inputs: [
        Poisson(to: "E", rate_hz: 600, in_degree: 10, weight: 1.5),
        Poisson(to: "F", rate_hz: 500, in_degree: 10, weight: 1.5),
        Poisson(to: "I", rate_hz: 500, in_degree: 10, weight: 1.5),
    ],
    dopamine: Dopamine(),
    rewards: [Reward(at_ms: 150, amount: 0.5), Reward(at_ms: 350, amount: 0.5)],
    STRUCTURE
)"#;

const GROWTH: &str = ",\n growth: Growth(eps: 0.04, eta: 0.002, nu_per_ms: 2e-6, tau_ca_ms: 200, beta_ca: 0.01)";
const STRUCTURE: &str = r#"structure: Structure(every_ms: 20, speedup: 100000, check_stability: false,
        sprouting: [Sprout(from: "E", to: "E", length_mm: 0.4)],
        spines: Spines(stabilize_tau_ms: 4e6, nascent_lifetime_ms: 4e6, stable_lifetime_ms: 4e7)),"#;

/// Which network the lesion runs in.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// STDP, dopamine and scaling.
    Plastic,
    /// Plastic, and growing.
    Structural,
    /// No plasticity: the GPU keeps it in the compact static layout (no sources, delay bytes).
    Static,
}

fn scene(kind: Kind) -> String {
    let structural = kind == Kind::Structural;
    let s = NET
        .replace(" GROWTH_E", if structural { GROWTH } else { "" })
        .replace("STRUCTURE", if structural { STRUCTURE } else { "" });
    if kind != Kind::Static {
        return s;
    }
    s.replace(",\n                   plasticity: Stdp(eligibility_tau_ms: 1000, w_max: 8, w_min: 0.5)", "")
        .replace(
            ",\n                       scaling: Scaling(target_hz: 5, tau_ms: 2000, activity_tau_ms: 500, update_every_ms: 50)",
            "",
        )
        .replace("    dopamine: Dopamine(),\n", "")
        .replace("    rewards: [Reward(at_ms: 150, amount: 0.5), Reward(at_ms: 350, amount: 0.5)],\n", "")
}

const BEFORE: u64 = 200;
const AFTER: u64 = 400;

/// Runs GPU and CPU through BEFORE steps, both lesions, then AFTER steps with the penumbra and
/// window in force, comparing everything; returns the network before the lesion, the final
/// status and the GPU engine.
fn run(kind: Kind, shard_slots: u64) -> (Network, Vec<[u32; 4]>, GpuEngine, CpuEngine) {
    let model = common::model(&scene(kind));
    let net = build_sharded(&model, shard_slots).unwrap();
    assert_eq!(
        net.compact(),
        kind == Kind::Static,
        "every shard is compact in static networks only"
    );
    let ctx = common::gpu();
    let steps = (BEFORE + AFTER) as u32;
    let mut gpu = GpuEngine::new(&ctx, &net, steps).expect("upload");
    let mut cpu = CpuEngine::new(&net, steps);
    gpu.advance(BEFORE).unwrap();
    cpu.advance(BEFORE).unwrap();
    assert_eq!(gpu.sample().unwrap(), cpu.sample().unwrap());
    let before = cpu.network().clone();
    let mut status = net.status.clone();
    for (i, l) in common::two_lesions().iter().enumerate() {
        let plan = lesion::plan(&model, &before, &status, l, i);
        gpu.lesion(&plan.status, &plan.cut).unwrap();
        cpu.lesion(&plan.status, &plan.cut).unwrap();
        status = plan.status;
    }
    let mut c = Control::rest(net.pops.len(), net.poisson.len());
    c.deficit[0] = 0.8;
    c.learn_window[0] = 3.0;
    c.grow_window[0] = 2.0;
    c.tonic[0] = 1.5;
    gpu.control(&c);
    cpu.control(&c);
    for _ in 0..AFTER / 100 {
        gpu.advance(100).unwrap();
        cpu.advance(100).unwrap();
        assert_eq!(
            gpu.sample().unwrap(),
            cpu.sample().unwrap(),
            "samples differ after the lesion"
        );
    }
    // Shards in the compact layout compare by source (the synapses that remain), the others
    // slot by slot: sources, delay words, birth steps, weights bit for bit and the index.
    common::same_state(&gpu, &cpu, "after the lesion");
    assert_eq!(gpu.raster().unwrap(), cpu.raster().unwrap(), "spikes differ");
    (before, status, gpu, cpu)
}

fn dead(status: &[[u32; 4]]) -> Vec<usize> {
    (0..status.len())
        .filter(|&i| status[i][0] & STATUS_ALIVE == 0)
        .collect()
}

/// Checks what the lesion removed against the network before it, and that the dead stay silent.
fn check(before: &Network, status: &[[u32; 4]], gpu: &mut GpuEngine, cpu: &CpuEngine, kind: Kind) {
    let structural = kind == Kind::Structural;
    let model = common::model(&scene(kind));
    // Exactly the neurons within the core die.
    let expected: Vec<usize> = (0..before.positions.len())
        .filter(|&i| {
            let p = before.positions[i];
            (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt() as f64 <= 0.3
        })
        .collect();
    assert_eq!(dead(status), expected);
    assert!(expected.len() > 20, "only {} neurons in the core", expected.len());
    let is_dead = |i: u32| status[i as usize][0] & STATUS_ALIVE == 0;
    let region = |i: u32| model.populations[model.population_of(i)].region;
    // Shards in the compact layout keep no slots; `run` showed their synapses equal to the
    // twin's. The others' are read from the GPU.
    let twin = &cpu.network().syn_pre;
    let mut pre = common::row_slots(gpu, cpu.network()).0;
    for (s, c) in cpu.network().shards.iter().zip(cpu.network().compact_shards()) {
        if c {
            let (a, b) = (s.first_slot as usize, s.end_slot as usize);
            pre[a..b].copy_from_slice(&twin[a..b]);
        }
    }
    // Every synapse with a dead end or on the cut tract is gone; without structural growth
    // every other one is still in place.
    let (mut removed, mut kept) = (0, 0);
    for (slot, (&s, &now)) in before.syn_pre.iter().zip(&pre).enumerate() {
        if s == EMPTY {
            continue;
        }
        let t = before.target_of(slot);
        let doomed = is_dead(s) || is_dead(t) || (region(s) == 1 && region(t) == 0);
        if doomed {
            removed += 1;
            assert!(
                now == EMPTY || (structural && !is_dead(t) && !is_dead(now)),
                "slot {slot} ({s} -> {t}) survived the lesion"
            );
        } else if !structural {
            assert_eq!(now, s, "slot {slot} ({s} -> {t}) was removed");
            kept += 1;
        }
    }
    assert!(removed > 100, "the lesion removed only {removed} synapses");
    eprintln!("{} neurons and {removed} synapses removed, {kept} kept", expected.len());
    // Nothing now connects from or to a dead neuron, or from B onto A.
    for (slot, &s) in pre.iter().enumerate() {
        if s != EMPTY {
            let t = before.target_of(slot);
            assert!(!is_dead(s) && !is_dead(t), "slot {slot} joins a dead neuron");
            assert!(!(region(s) == 1 && region(t) == 0), "slot {slot} crosses the cut");
        }
    }
    // Dead neurons never fire after the lesion, and nothing arrives for them.
    let raster = gpu.raster().unwrap();
    let words = before.globals.raster_words as usize;
    for t in BEFORE as usize..(BEFORE + AFTER) as usize {
        for &i in &expected {
            assert_eq!(
                raster[t * words + i / 32] >> (i % 32) & 1,
                0,
                "dead neuron {i} fired at step {t}"
            );
        }
    }
    let ring = gpu.ring().unwrap();
    let n = before.globals.n_neurons as usize;
    for &i in &expected {
        assert!(
            (0..before.globals.ring_len as usize).all(|k| ring[k * n + i] == 0),
            "input is queued for dead neuron {i}"
        );
    }
    let living_spikes: u32 = (BEFORE as usize..(BEFORE + AFTER) as usize)
        .map(|t| {
            raster[t * words..(t + 1) * words]
                .iter()
                .map(|w| w.count_ones())
                .sum::<u32>()
        })
        .sum();
    assert!(living_spikes > 1000, "only {living_spikes} spikes after the lesion");
}

#[test]
fn lesion_matches_the_twin_across_shards() {
    let (before, status, mut gpu, cpu) = run(Kind::Plastic, 1024);
    assert!(before.shards.len() > 2);
    check(&before, &status, &mut gpu, &cpu, Kind::Plastic);
}

#[test]
fn lesion_of_a_static_network_in_the_compact_layout_matches_the_twin() {
    let (before, status, mut gpu, cpu) = run(Kind::Static, 1024);
    assert!(before.shards.len() > 2);
    // Synapse arrays: target, weight and delay byte a synapse (9 bytes) against source, weight,
    // delay and a quarter owner word a slot plus an index entry a synapse (14.5 and padding).
    let per_synapse = |net: &Network| {
        let bytes: u64 = net
            .gpu_buffers(0)
            .iter()
            .filter(|(name, _)| name.starts_with("syn_") || name.starts_with("out_slots"))
            .map(|(_, b)| b)
            .sum();
        bytes as f64 / net.synapses as f64
    };
    let full = per_synapse(&build_sharded(&common::model(&scene(Kind::Plastic)), 1024).unwrap());
    let compact = per_synapse(&before);
    assert!(
        compact < 9.1 && full > 14.5,
        "synapse arrays take {compact:.2} bytes a synapse in the compact layout against {full:.2}"
    );
    check(&before, &status, &mut gpu, &cpu, Kind::Static);
}

#[test]
fn lesion_with_structural_plasticity_matches_the_twin() {
    let (before, status, mut gpu, cpu) = run(Kind::Structural, u32::MAX as u64);
    check(&before, &status, &mut gpu, &cpu, Kind::Structural);
    // Growth goes on around the lesion: synapses formed after it, none touching the dead.
    let formed: u32 = cpu.network().syn_born.iter().filter(|&&b| b > BEFORE as u32).count() as u32;
    assert!(formed > 50, "only {formed} synapses formed after the lesion");
}

#[test]
fn lesion_across_shards_where_only_some_grow_rebuilds_every_index() {
    let (before, status, mut gpu, cpu) = run(Kind::Structural, 1024);
    // E sprouts onto E; the shards of I's and F's rows hold nothing that grows, and the GPU's
    // structural update skips them. F is scaled, so its rows stay rows; I's, which nothing but
    // delivery reads, are in the compact layout, where a lesion marks synapses removed in place.
    // F's rows keep no spine state: the GPU holds their delays as bytes, which the lesion leaves.
    let grows = before.structural_shards();
    let compact = before.compact_shards();
    assert!(grows.contains(&true) && grows.contains(&false), "{grows:?}");
    assert!(compact.contains(&true), "{compact:?}");
    let bytes = before.delay_byte_shards();
    assert!(
        (0..grows.len()).all(|k| bytes[k] == (!grows[k] && !compact[k])),
        "{bytes:?}"
    );
    assert!(bytes.contains(&true), "{bytes:?}");
    check(&before, &status, &mut gpu, &cpu, Kind::Structural);
    // The lesion emptied slots in F's rows too; the update after it rebuilt their index, as the
    // twin (which rebuilds every shard at every update) did.
    let n = cpu.network();
    let emptied: usize = (0..before.shards.len())
        .filter(|&k| !grows[k] && !compact[k])
        .map(|k| {
            let s = &before.shards[k];
            (s.first_slot..s.end_slot)
                .filter(|&j| before.syn_pre[j as usize] != EMPTY && n.syn_pre[j as usize] == EMPTY)
                .count()
        })
        .sum();
    assert!(
        emptied > 50,
        "the lesion emptied only {emptied} slots where nothing grows"
    );
    for (k, shard) in n.shards.iter().enumerate() {
        if let rewire::gpu::ShardSynapses::Rows {
            out_start, out_slots, ..
        } = gpu.shard_synapses(k).unwrap()
        {
            assert!(
                out_start == shard.out_start && out_slots == shard.out_slots,
                "shard {k} (growing: {}): the index differs from the twin's",
                grows[k]
            );
        }
    }
}

/// A static network dense enough (over 1 024 synapses a source) that the region matrix walks
/// each source's list with a workgroup (connectivity.by_source) rather than SPAN synapses a
/// thread: the GPU against the twin before and after both lesions.
const DENSE: &str = r#"Scene(seed: 4, dt_ms: 1.0, duration_ms: 300, sample_every_ms: 100,
    regions: [
        Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 0.5,
               populations: [Population(name: "E", count: 800, model: RegularSpiking),
                             Population(name: "I", count: 200, model: FastSpiking)]),
        Region(name: "B", centre_mm: (3, 0, 0), radius_mm: 0.5,
               populations: [Population(name: "F", count: 300, model: RegularSpiking)]),
    ],
    projections: [
        Projection(from: "E", to: "E", rule: FixedProbability(0.9), weight: Uniform(0.0, 0.02), delay_ms: Uniform(1, 5)),
        Projection(from: "E", to: "I", rule: FixedProbability(0.9), weight: 0.02, delay_ms: 1.0),
        Projection(from: "I", to: "E", rule: FixedProbability(0.9), weight: -0.05, delay_ms: 1.0),
        Projection(from: "E", to: "F", rule: FixedProbability(0.9), weight: 0.02, delay_ms: 4.0),
        Projection(from: "F", to: "E", rule: FixedProbability(0.9), weight: 0.02, delay_ms: 4.0),
        Projection(from: "F", to: "F", rule: FixedProbability(0.9), weight: 0.02, delay_ms: 1.0),
    ],
    inputs: [
        Poisson(to: "E", rate_hz: 600, in_degree: 10, weight: 1.5),
        Poisson(to: "I", rate_hz: 500, in_degree: 10, weight: 1.5),
        Poisson(to: "F", rate_hz: 500, in_degree: 10, weight: 1.5),
    ],
)"#;

#[test]
fn lesion_of_a_dense_static_network_matches_the_twin() {
    let model = common::model(DENSE);
    let net = build_sharded(&model, u32::MAX as u64).unwrap();
    assert!(net.compact());
    let per_source = net.synapses as f64 / net.globals.n_neurons as f64;
    assert!(per_source >= 1024.0, "{per_source:.0} synapses a source");
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 0).expect("upload");
    let mut cpu = CpuEngine::new(&net, 0);
    gpu.advance(100).unwrap();
    cpu.advance(100).unwrap();
    assert_eq!(gpu.sample().unwrap(), cpu.sample().unwrap(), "before the lesion");
    let mut status = net.status.clone();
    for (i, l) in common::two_lesions().iter().enumerate() {
        let plan = lesion::plan(&model, cpu.network(), &status, l, i);
        gpu.lesion(&plan.status, &plan.cut).unwrap();
        cpu.lesion(&plan.status, &plan.cut).unwrap();
        status = plan.status;
    }
    let removed = cpu
        .network()
        .syn_pre
        .iter()
        .zip(&net.syn_pre)
        .filter(|(a, b)| **a == EMPTY && **b != EMPTY)
        .count();
    assert!(removed > 100_000, "the lesions removed only {removed} synapses");
    for t in 0..2 {
        gpu.advance(100).unwrap();
        cpu.advance(100).unwrap();
        let (g, c) = (gpu.sample().unwrap(), cpu.sample().unwrap());
        assert_eq!(g, c, "sample {t} after the lesion");
        assert!(g.pop_spikes.iter().sum::<u32>() > 100, "{:?}", g.pop_spikes);
    }
    common::same_state(&gpu, &cpu, "after the lesion");
}
