//! The `connectivity` stage: region x region synapse counts and weight sums over every slot of
//! every shard (shaders/connectivity.wgsl), run at samples.

use super::buffers::Buffers;
use super::stage::PerShard;

/// Slots each thread sums (`SPAN` in shaders/connectivity.wgsl).
const SPAN: u64 = 32;

pub fn new(device: &wgpu::Device, b: &Buffers) -> PerShard {
    if b.compact {
        // The compact static layout keeps synapses by source: a workgroup of 64 walks each
        // neuron's.
        return PerShard::entry(
            device,
            "connectivity",
            "by_source",
            &b.shards,
            64,
            |s| 64 * u64::from(b.n_neurons) * u64::from(s.synapses > 0),
            |s| {
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
            },
        );
    }
    PerShard::new(
        device,
        "connectivity",
        &b.shards,
        256 * SPAN,
        |s| s.slots as u64,
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
    )
}
