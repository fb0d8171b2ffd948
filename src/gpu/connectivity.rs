//! The `connectivity` stage: region x region synapse counts and weight sums over every synapse of
//! every shard (shaders/connectivity.wgsl), run at samples: slot by slot in shards with rows
//! (`main`), from the sources in the compact static layout (`by_source`, `by_synapse`). A network
//! whose every shard is compact makes no pipeline for rows.

use super::buffers::{Buffers, ShardBuffers};
use super::stage::PerShard;

/// Slots each thread sums (`SPAN` in shaders/connectivity.wgsl).
const SPAN: u64 = 32;
/// Mean synapses a source from which the compact layout's sums walk each source's list.
const LONG_LISTS: u64 = 1024;

pub fn new(device: &wgpu::Device, b: &Buffers) -> PerShard {
    let compact = b.shards.iter().any(|s| s.compact).then(|| by_source(device, b));
    if b.compact {
        return compact.expect("every shard is compact");
    }
    let rows = PerShard::new(
        device,
        "connectivity",
        &b.shards,
        256 * SPAN,
        |s| if s.compact { 0 } else { s.slots as u64 },
        |s| {
            vec![
                (0, &b.globals),
                (1, &b.pops),
                (2, &b.neurons),
                (3, &s.syn_pre),
                (4, &s.syn_weight),
                (5, &b.conn),
                (6, &s.syn_owner),
            ]
        },
    );
    match compact {
        Some(c) => rows.join(c),
        None => rows,
    }
}

/// The sums over the shards in the compact static layout.
fn by_source<'a>(device: &wgpu::Device, b: &'a Buffers) -> PerShard {
    // The compact static layout keeps synapses by source. Long lists (1 024 synapses or more
    // a source in the shard, as in the microcircuit) are walked by a workgroup of 64 each;
    // shorter ones, where most of such a workgroup would idle, by SPAN synapses a thread
    // (docs/PERFORMANCE.md has both measured).
    let long = |s: &ShardBuffers| u64::from(s.synapses) >= LONG_LISTS * u64::from(b.n_neurons);
    let entries = |s: &'a ShardBuffers| {
        vec![
            (0, &b.globals),
            (1, &b.pops),
            (2, &b.neurons),
            (4, &s.syn_weight),
            (5, &b.conn),
            (6, &s.syn_owner),
            (7, &s.out_start),
            (9, &s.syn_delay),
        ]
    };
    if b.shards.iter().filter(|s| s.compact).all(long) {
        return PerShard::entry(
            device,
            "connectivity",
            "by_source",
            &b.shards,
            64,
            |s| 64 * u64::from(b.n_neurons) * u64::from(s.compact && s.synapses > 0),
            entries,
        );
    }
    PerShard::entry(
        device,
        "connectivity",
        "by_synapse",
        &b.shards,
        256 * SPAN,
        |s| if s.compact { s.synapses as u64 } else { 0 },
        entries,
    )
}
