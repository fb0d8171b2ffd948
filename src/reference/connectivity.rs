//! CPU twin of shaders/connectivity.wgsl: region x region synapse counts and fixed-point weight sums.

use crate::build::Network;
use crate::layout::EMPTY;

/// (counts, weight sums) per (source region, target region), row-major.
pub fn connectivity(net: &Network) -> (Vec<u32>, Vec<i64>) {
    let g = &net.globals;
    let r = g.n_regions as usize;
    let mut count = vec![0u32; r * r];
    let mut weight = vec![0i64; r * r];
    let region = |neuron: u32| net.pops[net.state[neuron as usize].pop as usize].region as usize;
    for (slot, &pre) in net.syn_pre.iter().enumerate() {
        if pre == EMPTY {
            continue;
        }
        let cell = region(pre) * r + region(net.target_of(slot));
        count[cell] = count[cell].wrapping_add(1);
        let w = (net.syn_weight[slot] * g.conn_scale).round_ties_even() as i32;
        weight[cell] = weight[cell].wrapping_add(w as i64);
    }
    (count, weight)
}
