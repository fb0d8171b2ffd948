//! The `scale` stage: homeostatic synaptic scaling over every slot of every shard
//! (shaders/scale.wgsl), every `update_every_ms` when a population is scaled.

use super::buffers::Buffers;
use super::stage::PerShard;

pub fn new(device: &wgpu::Device, b: &Buffers) -> PerShard {
    PerShard::new(
        device,
        "scale",
        &b.shards,
        256,
        // Shards in the compact static layout hold no row of a scaled population.
        |s| if s.compact { 0 } else { s.slots as u64 },
        |s| {
            vec![
                (0, &b.globals),
                (1, &b.pops),
                (2, &b.neurons),
                (3, &s.syn_pre),
                (4, &s.syn_weight),
                (5, &s.syn_owner),
                (6, &b.traces),
                (7, &b.rules),
            ]
        },
    )
}
