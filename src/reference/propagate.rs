//! CPU twin of shaders/propagate.wgsl: deliver spikes through the outgoing index into the ring.

use crate::build::{Network, pop_of_slot};
use crate::layout::DELAY_MASK;

/// Adds every outgoing synapse of the spiking neurons into the delay ring, in fixed point.
pub fn deliver(net: &Network, spikes: &[u32], step: u32, ring: &mut [i32]) {
    let g = &net.globals;
    for &pre in spikes {
        let range = net.out_start[pre as usize] as usize..net.out_start[pre as usize + 1] as usize;
        for &slot in &net.out_slots[range] {
            let pop = &net.pops[pop_of_slot(&net.pops, slot)];
            let post = pop.first + (slot - pop.slot_base) / pop.row_cap;
            let delay = net.syn_meta[slot as usize] & DELAY_MASK;
            let w = (net.syn_weight[slot as usize] * g.ring_scale).round_ties_even() as i32;
            let idx = (step.wrapping_add(delay) % g.ring_len) as usize * g.n_neurons as usize + post as usize;
            ring[idx] = ring[idx].wrapping_add(w);
        }
    }
}
