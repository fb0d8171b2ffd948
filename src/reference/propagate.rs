//! CPU twin of shaders/propagate.wgsl: deliver spikes through each shard's outgoing index into
//! the delay ring.

use crate::build::Network;
use crate::layout::DELAY_MASK;

/// Adds every outgoing synapse of the spiking neurons into the delay ring, in fixed point.
pub fn deliver(net: &Network, spikes: &[u32], step: u32, ring: &mut [i32]) {
    let g = &net.globals;
    for shard in &net.shards {
        for &pre in spikes {
            let range = shard.out_start[pre as usize] as usize..shard.out_start[pre as usize + 1] as usize;
            for &local in &shard.out_slots[range] {
                let slot = shard.first_slot + local;
                let post = net.target_of(slot);
                let delay = net.syn_delay[slot as usize] as u32 & DELAY_MASK;
                let w = (net.syn_weight[slot as usize] * g.ring_scale).round_ties_even() as i32;
                let idx = (step.wrapping_add(delay) % g.ring_len) as usize * g.n_neurons as usize + post as usize;
                ring[idx] = ring[idx].wrapping_add(w);
            }
        }
    }
}
