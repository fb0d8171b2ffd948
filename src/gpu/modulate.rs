//! The `modulate` stage: the three-factor weight update over every slot of every shard
//! (shaders/modulate.wgsl), every `update_every_ms` when a rule has an eligibility trace.

use super::buffers::Buffers;
use super::stage::PerShard;

pub fn new(device: &wgpu::Device, b: &Buffers) -> PerShard {
    PerShard::new(
        device,
        "modulate",
        &b.shards,
        256,
        |s| s.slots as u64,
        |s| {
            vec![
                (0, &b.globals),
                (1, &b.pops),
                (2, &b.neurons),
                (3, &s.syn_pre),
                (4, &s.syn_weight),
                (5, &s.syn_elig),
                (6, &s.syn_owner),
                (7, &b.rules),
                (8, &b.modulators),
                (9, &b.status),
            ]
        },
    )
}
