//! The `lesion` stage: remove the synapses of dead neurons and of cut tracts (shaders/lesion.wgsl).

use super::buffers::Buffers;
use super::stage::PerShard;

/// The stage, bound to the `cut` table buffer (n_regions^2 words).
pub fn new(device: &wgpu::Device, b: &Buffers, cut: &wgpu::Buffer) -> PerShard {
    // The compact static layout keeps synapses by source: a workgroup of 64 walks each
    // neuron's.
    let compact = b.shards.iter().any(|s| s.compact).then(|| {
        PerShard::entry(
            device,
            "lesion",
            "by_source",
            &b.shards,
            64,
            |s| 64 * u64::from(b.n_neurons) * u64::from(s.compact && s.synapses > 0),
            |s| {
                vec![
                    (0, &b.globals),
                    (1, &b.pops),
                    (2, &b.neurons),
                    (3, &b.status),
                    (5, &s.syn_weight),
                    (7, &s.syn_owner),
                    (10, cut),
                    (11, &s.out_start),
                    (13, &s.syn_delay),
                ]
            },
        )
    });
    // Rows, with 16-bit delay words (`main`, which clears the spine state) or delay bytes
    // (`bytes`, rows without spine state): one thread a pair of slots.
    let rows = |entry: &str, bytes: bool| {
        b.shards.iter().any(|s| !s.compact && s.delay_bytes == bytes).then(|| {
            PerShard::entry(
                device,
                "lesion",
                entry,
                &b.shards,
                256,
                |s| {
                    if s.compact || s.delay_bytes != bytes {
                        0
                    } else {
                        s.slots.div_ceil(2) as u64
                    }
                },
                |s| {
                    vec![
                        (0, &b.globals),
                        (1, &b.pops),
                        (2, &b.neurons),
                        (3, &b.status),
                        (4, &s.syn_pre),
                        (5, &s.syn_weight),
                        (6, &s.syn_delay),
                        (7, &s.syn_owner),
                        (8, &s.syn_elig),
                        (9, &s.syn_late),
                        (10, cut),
                    ]
                },
            )
        })
    };
    [rows("main", false), rows("bytes", true), compact]
        .into_iter()
        .flatten()
        .reduce(PerShard::join)
        .expect("every shard has a layout")
}
