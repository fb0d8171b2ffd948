//! The `weights` stage: statistics of every plastic projection at a sample
//! (shaders/weights.wgsl), over every slot of every shard.

use super::buffers::Buffers;
use super::stage::PerShard;

/// Slots each thread sums (`SPAN` in shaders/weights.wgsl).
const SPAN: u64 = 32;

pub fn new<'a>(device: &wgpu::Device, b: &'a Buffers, stats: &'a wgpu::Buffer) -> PerShard {
    PerShard::new(
        device,
        "weights",
        &b.shards,
        256 * SPAN,
        // Shards in the compact static layout hold no plastic synapse.
        |s| if s.compact { 0 } else { s.slots as u64 },
        |s| {
            vec![
                (0, &b.globals),
                (2, &b.neurons),
                (3, &s.syn_pre),
                (4, &s.syn_weight),
                (5, &s.syn_elig),
                (6, &s.syn_owner),
                (7, &b.rules),
                (8, stats),
                (9, &s.syn_late),
            ]
        },
    )
}
