//! CPU twin of shaders/propagate.wgsl: deliver spikes through each shard's outgoing index into
//! the delay ring, and sum the routes into the task's correct output group.

use crate::build::Network;
use crate::layout::{DELAY_MASK, T_COUNTING, T_ROUTE, TASK_GROUP_SHIFT, route_words_at};

/// Adds every outgoing synapse of the spiking neurons into the delay ring, in fixed point (with two
/// channels, `Globals::ring_channels`, the negative weights into its second half).
pub fn deliver(net: &Network, spikes: &[u32], step: u32, ring: &mut [i32]) {
    let g = &net.globals;
    for shard in &net.shards {
        for &pre in spikes {
            let range = shard.out_start[pre as usize] as usize..shard.out_start[pre as usize + 1] as usize;
            for &local in &shard.out_slots[range] {
                let slot = (shard.first_slot + local as u64) as usize;
                let post = net.target_of(slot);
                let delay = net.syn_delay[slot] as u32 & DELAY_MASK;
                let w = (net.syn_weight[slot] * g.ring_scale).round_ties_even() as i32;
                let mut idx = (step.wrapping_add(delay) % g.ring_len) as usize * g.n_neurons as usize + post as usize;
                // Two channels: a negative weight goes into the ring's second half.
                if g.ring_channels > 1 && w < 0 {
                    idx += g.ring_len as usize * g.n_neurons as usize;
                }
                ring[idx] = ring[idx].wrapping_add(w);
            }
        }
    }
}

/// While counting is on and `task[T_ROUTE]` names an output group (+ 1): adds, per region of a
/// spiking neuron, |weight| of each of its synapses onto a neuron of that group, in fixed point at
/// `conn_scale` (each |w| rounded to nearest even), into the region's u64 route word pair. The
/// spikes are those emitted this step (as `main` counts them), whatever their delays.
pub fn routes(net: &mut Network, spikes: &[u32]) {
    let route = net.task[T_ROUTE];
    if route == 0 || net.task[T_COUNTING] == 0 {
        return;
    }
    let g = &net.globals;
    let mut sums = vec![0u64; g.n_regions as usize];
    for shard in &net.shards {
        for &pre in spikes {
            let range = shard.out_start[pre as usize] as usize..shard.out_start[pre as usize + 1] as usize;
            let region = net.pops[net.state[pre as usize].pop as usize].region as usize;
            for &local in &shard.out_slots[range] {
                let slot = (shard.first_slot + local as u64) as usize;
                let post = net.target_of(slot);
                if net.status[post as usize][3] >> TASK_GROUP_SHIFT == route {
                    let a = (net.syn_weight[slot].abs() * g.conn_scale).round_ties_even() as u32;
                    sums[region] = sums[region].wrapping_add(a as u64);
                }
            }
        }
    }
    let at = route_words_at(g.n_regions as usize);
    for (r, s) in sums.into_iter().enumerate() {
        let words = &mut net.task[at + 2 * r..at + 2 * r + 2];
        let v = (words[0] as u64 | (words[1] as u64) << 32).wrapping_add(s);
        words[0] = v as u32;
        words[1] = (v >> 32) as u32;
    }
}
