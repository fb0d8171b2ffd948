//! The `modulate` stage: the three-factor weight update (shaders/modulate.wgsl), every
//! `update_every_ms` when a rule has an eligibility trace, over the slots of the rows that a
//! modulated rule ends on (each shard's `mod_chunks`): its cost follows those rows, not the
//! network. Shards without such rows are not dispatched.

use super::buffers::Buffers;
use super::stage::PerShard;

pub fn new(device: &wgpu::Device, b: &Buffers) -> PerShard {
    PerShard::new(
        device,
        "modulate",
        &b.shards,
        256,
        |s| s.n_mod_chunks as u64 * crate::layout::ROW_CHUNK as u64,
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
                (10, &s.mod_chunks),
            ]
        },
    )
}
