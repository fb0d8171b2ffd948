//! A network whose synapse arrays exceed one storage binding of the adapter runs in several
//! shards and matches the CPU reference: same spikes step by step, same connectivity.

mod common;

use rewire::build::build_sharded;
use rewire::engine::Engine;
use rewire::gpu::GpuEngine;
use rewire::reference::CpuEngine;

#[test]
fn network_larger_than_one_binding_matches_the_reference() {
    let ctx = common::gpu();
    let binding = ctx
        .limits
        .max_storage_buffer_binding_size
        .min(ctx.limits.max_buffer_size);
    // Enough synapses that one 4-byte array of them outgrows a binding (128 MiB on lavapipe,
    // 2-4 GiB on workstation GPUs), at 704 slots a row.
    let slots_needed = binding / 4 + binding / 16;
    let lif = slots_needed.div_ceil(704);
    assert!(
        lif < 2_000_000,
        "this adapter binds {binding} bytes: the test would need {lif} neurons; too slow for the CPU reference"
    );
    let model = common::model(&format!(
        r#"Scene(seed: 7, dt_ms: 0.5, duration_ms: 25,
  regions: [
    Region(name: "TH", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
      Population(name: "TH", count: 20000, model: SpikeSource(rate_hz: 20)),
    ]),
    Region(name: "CX", centre_mm: (2, 0, 0), radius_mm: 1, populations: [
      Population(name: "L4", count: {lif}, model: Lif(v_init_mv: Uniform(-65, -51))),
    ]),
  ],
  projections: [
    Projection(from: "TH", to: "L4", rule: FixedInDegree(700), weight: Uniform(40, 120), delay_ms: Uniform(0.5, 3)),
  ],
)"#
    ));
    let net = build_sharded(&model, ctx.shard_slots()).unwrap();
    let largest = net
        .gpu_buffers(0)
        .into_iter()
        .filter(|(name, _)| name.starts_with("syn_"))
        .map(|(_, b)| b)
        .sum::<u64>()
        / net.shards.len() as u64;
    assert!(
        net.slots() * 4 > binding,
        "{} slots fit one binding of {binding} bytes",
        net.slots()
    );
    assert!(net.shards.len() >= 2, "{} shards", net.shards.len());
    eprintln!(
        "{} synapses in {} shards ({} slot bytes each on average), binding {binding}",
        net.synapses,
        net.shards.len(),
        largest
    );

    let steps = 50u32;
    let mut gpu = GpuEngine::new(&ctx, &net, steps).unwrap();
    let mut cpu = CpuEngine::new(&net, steps);
    for _ in 0..2 {
        gpu.advance(steps as u64 / 2).unwrap();
        cpu.advance(steps as u64 / 2).unwrap();
        let (g, c) = (gpu.sample().unwrap(), cpu.sample().unwrap());
        assert_eq!(g, c, "samples differ at step {}", c.step);
        assert_eq!(c.conn_count[1], net.synapses as u32, "TH -> CX holds every synapse");
    }
    let (rg, rc) = (gpu.raster().unwrap(), cpu.raster().unwrap());
    assert!(rg == rc, "spike rasters differ");
    let l4_spikes = common::spikes_in(&rc) as f64 - 20000.0 * 20.0 * 0.025;
    assert!(
        l4_spikes > 1000.0,
        "the LIF layer fired about {l4_spikes} spikes: too quiet to show delivery"
    );
}

#[test]
fn delay_ring_larger_than_one_binding_matches_the_reference() {
    let ctx = common::gpu();
    let binding = ctx
        .limits
        .max_storage_buffer_binding_size
        .min(ctx.limits.max_buffer_size);
    // dt 0.1 ms and delays up to 20 ms: a ring of 201 steps, 804 bytes a neuron, so that a third
    // more neurons than one binding of ring holds (167 k on lavapipe) need two parts.
    let lif = (binding / 804) * 4 / 3;
    assert!(
        lif < 1_000_000,
        "this adapter binds {binding} bytes: the test would need {lif} neurons; too slow for the CPU reference"
    );
    let model = common::model(&format!(
        r#"Scene(seed: 3, dt_ms: 0.1, duration_ms: 30,
  regions: [
    Region(name: "TH", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
      Population(name: "TH", count: 2000, model: SpikeSource(rate_hz: 40)),
    ]),
    Region(name: "CX", centre_mm: (2, 0, 0), radius_mm: 1, populations: [
      Population(name: "L4", count: {lif}, model: Lif(v_init_mv: Uniform(-65, -55))),
    ]),
  ],
  projections: [
    Projection(from: "TH", to: "L4", rule: FixedInDegree(4), weight: Uniform(3000, 6000), delay_ms: Uniform(0.1, 20)),
    Projection(from: "L4", to: "L4", rule: FixedInDegree(2), weight: Uniform(-500, 1000), delay_ms: Uniform(0.1, 20)),
  ],
)"#
    ));
    let net = build_sharded(&model, ctx.shard_slots()).unwrap();
    assert_eq!(net.globals.ring_len, 201);
    let parts = net.ring_parts();
    assert!(parts.len() >= 2, "the ring is one part");
    for (k, s) in net.shards.iter().enumerate() {
        let (first, end) = parts[net.shard_ring_part(k)];
        assert!(
            first <= s.first_neuron && s.end_neuron <= end,
            "shard {k} crosses a ring part"
        );
    }
    eprintln!(
        "{} neurons, ring of {} steps in {} parts, {} shards, binding {binding}",
        net.globals.n_neurons,
        net.globals.ring_len,
        parts.len(),
        net.shards.len()
    );

    // 300 steps: spikes from the first steps arrive through delays up to the ring's full length.
    let steps = 300u32;
    let mut gpu = GpuEngine::new(&ctx, &net, steps).unwrap();
    let mut cpu = CpuEngine::new(&net, steps);
    for _ in 0..3 {
        gpu.advance(steps as u64 / 3).unwrap();
        cpu.advance(steps as u64 / 3).unwrap();
        let (g, c) = (gpu.sample().unwrap(), cpu.sample().unwrap());
        assert_eq!(g, c, "samples differ at step {}", c.step);
    }
    let (rg, rc) = (gpu.raster().unwrap(), cpu.raster().unwrap());
    assert!(rg == rc, "spike rasters differ");
    let ring = gpu.ring().unwrap();
    assert!(ring == cpu.ring(), "the input in flight differs");
    let in_flight = ring.iter().filter(|&&w| w != 0).count();
    let l4_spikes = common::spikes_in(&rc) as f64 - 2000.0 * 40.0 * 0.03;
    assert!(
        l4_spikes > 1000.0 && in_flight > 1000,
        "{l4_spikes} spikes of the LIF layer and {in_flight} ring words in flight: too quiet to show delivery"
    );
}

/// A network of `CUT_FROM_SLOTS` slots or more is cut where its plastic rows end even where one
/// binding would hold it whole (as on a workstation GPU): the static rows then take the compact
/// layout. It runs as its CPU twin does, spikes, samples and synapses (with STDP and dopamine
/// on the rows that keep them), and a smaller network of the same kinds stays whole.
#[test]
fn a_large_network_is_cut_where_its_plastic_rows_end() {
    let scene = |e: u32, i: u32| {
        format!(
            r#"Scene(seed: 3, dt_ms: 1.0, duration_ms: 100, sample_every_ms: 50,
  regions: [Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
      Population(name: "E", count: {e}, model: RegularSpiking),
      Population(name: "I", count: {i}, model: FastSpiking)])],
  projections: [
    Projection(from: "E", to: "E", rule: FixedInDegree(100), weight: 0.5, delay_ms: Uniform(1, 4),
               plasticity: Stdp(eligibility_tau_ms: 200, w_max: 2)),
    Projection(from: "E", to: "I", rule: FixedInDegree(100), weight: 0.5, delay_ms: 1),
    Projection(from: "I", to: "E", rule: FixedInDegree(25), weight: -1.0, delay_ms: 1),
  ],
  inputs: [Poisson(to: "E", rate_hz: 1000, in_degree: 10, weight: 1.5),
           Poisson(to: "I", rate_hz: 1000, in_degree: 10, weight: 1.5)],
  dopamine: Dopamine(),
  rewards: [Reward(at_ms: 50, amount: 0.5)],
)"#
        )
    };
    let small = rewire::build::build(&common::model(&scene(400, 100)));
    assert_eq!(small.shards.len(), 1);
    assert_eq!(small.compact_shards(), vec![false]);
    let net = rewire::build::build(&common::model(&scene(32_000, 8_000)));
    assert!(net.slots() >= rewire::build::CUT_FROM_SLOTS, "{} slots", net.slots());
    // E's rows (plastic), then I's (static): two shards, the second compact.
    assert_eq!(net.shards.len(), 2);
    assert_eq!(net.shards[0].end_neuron, 32_000);
    assert_eq!(net.compact_shards(), vec![false, true]);
    let ctx = common::gpu();
    let mut gpu = GpuEngine::new(&ctx, &net, 100).unwrap();
    let mut cpu = CpuEngine::new(&net, 100);
    for _ in 0..2 {
        gpu.advance(50).unwrap();
        cpu.advance(50).unwrap();
        let (g, c) = (gpu.sample().unwrap(), cpu.sample().unwrap());
        assert_eq!(g, c, "samples differ at step {}", c.step);
    }
    let rc = cpu.raster().unwrap();
    assert!(gpu.raster().unwrap() == rc, "spike rasters differ");
    assert!(common::spikes_in(&rc) > 1000, "{} spikes", common::spikes_in(&rc));
    common::same_state(&gpu, &cpu, "after 100 steps");
    assert!(
        GpuEngine::new(&ctx, &net, 0).unwrap().weights().is_err(),
        "slots read from a compact shard"
    );
}

/// A task's per-neuron cue counters lie in the delay ring's parts, one binding each (so that no
/// binding grows with the network by 32 bytes a neuron). With bindings of 512 words the task
/// scene of tests/routes.rs has its neurons in five parts: the GPU counts each cue's window spikes
/// into the right part and neuron, sums the routes after them and finds the same selective
/// neurons per region as the CPU twin, and clears the counters for the next probe.
#[test]
fn task_counters_in_the_ring_parts_match_the_reference() {
    let ctx = common::gpu();
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/routes.rs")).unwrap();
    let scene = &src[src.find("r#\"Scene(").unwrap() + 3..];
    let scene = &scene[..scene.find(")\"#;").unwrap() + 1];
    let model = common::model(&scene.replace("A_W", "4.0").replace("B_W", "2.0"));
    let net = build_sharded(&model, 512).unwrap();
    let parts = net.ring_parts();
    assert!(parts.len() >= 4, "{} parts", parts.len());
    assert_eq!(net.rep.len(), rewire::layout::REP_CUES * net.globals.n_neurons as usize);
    let mut gpu = GpuEngine::new(&ctx, &net, 0).unwrap();
    let mut cpu = CpuEngine::new(&net, 0);
    let guide = [0.0f32; 16];
    let mut selective = 0;
    for probe in 0..2 {
        for cue in 0..2u32 {
            let mut channels = [0.0f32; 16];
            channels[cue as usize] = 15.0;
            for e in [&mut gpu as &mut dyn Engine, &mut cpu] {
                e.task_drive(&channels, &guide, true);
                e.record_cue(Some(cue));
                e.record_routes(Some(cue));
                e.advance(60).unwrap();
                e.task_drive(&[0.0; 16], &guide, false);
                e.record_cue(None);
                e.record_routes(None);
                e.advance(40).unwrap();
            }
            let (g, c) = (gpu.task_counts().unwrap(), cpu.task_counts().unwrap());
            assert_eq!(g, c, "probe {probe}, cue {cue}: task counts differ");
            assert!(c.routes.iter().any(|&r| r > 0), "no route input: {c:?}");
        }
        let (g, c) = (gpu.representation(2, 1).unwrap(), cpu.representation(2, 1).unwrap());
        assert_eq!(g, c, "probe {probe}: selective neurons per region differ");
        eprintln!("probe {probe}: selective neurons per region {c:?}");
        selective += c.iter().sum::<u32>();
        let (g, c) = (gpu.sample().unwrap(), cpu.sample().unwrap());
        assert_eq!(g, c, "samples differ after probe {probe}");
    }
    assert!(
        selective > 10,
        "{selective} selective neurons: too few to show the counters"
    );
    // The counters were cleared: with no probe since, nothing is selective.
    assert_eq!(
        gpu.representation(2, 1).unwrap(),
        vec![0; net.globals.n_regions as usize]
    );
}
