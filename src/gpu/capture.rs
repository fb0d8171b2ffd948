//! The `capture` stage: synaptic tagging and capture, one thread per neuron of each shard
//! (shaders/capture.wgsl), every `update_every_ms` when a rule has capture.

use super::buffers::Buffers;
use super::stage::PerShard;

pub fn new(device: &wgpu::Device, b: &Buffers) -> PerShard {
    PerShard::new(
        device,
        "capture",
        &b.shards,
        64,
        // Shards in the compact static layout hold no plastic synapse.
        |s| if s.compact { 0 } else { s.neurons as u64 },
        |s| {
            vec![
                (0, &b.globals),
                (2, &b.neurons),
                (3, &s.rows),
                (4, &s.syn_pre),
                (5, &s.syn_weight),
                (6, &s.syn_elig),
                (7, &s.syn_late),
                (8, &b.traces),
                (9, &b.rules),
            ]
        },
    )
}
