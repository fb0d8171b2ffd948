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
