//! CPU twin of shaders/lesion.wgsl: remove the synapses of dead neurons and of cut tracts.

use crate::build::Network;
use crate::layout::{EMPTY, SPINE_PROPOSED, SPINE_STABLE, STATUS_ALIVE};

/// Empties every slot from or onto a dead neuron (per `net.status`), and from region a onto
/// region b where `cut[a * n_regions + b] != 0`.
pub fn apply(net: &mut Network, cut: &[u32]) {
    let regions = net.globals.n_regions as usize;
    let alive = |n: u32| net.status[n as usize][0] & STATUS_ALIVE != 0;
    let region = |n: u32| net.pops[net.state[n as usize].pop as usize].region as usize;
    let kill: Vec<usize> = (0..net.syn_pre.len())
        .filter(|&slot| {
            let pre = net.syn_pre[slot];
            if pre == EMPTY {
                return false;
            }
            let post = net.target_of(slot);
            !(alive(pre) && alive(post) && cut[region(pre) * regions + region(post)] == 0)
        })
        .collect();
    for slot in kill {
        net.syn_pre[slot] = EMPTY;
        net.syn_weight[slot] = 0.0;
        net.syn_delay[slot] &= !((SPINE_STABLE | SPINE_PROPOSED) as u16);
        if let Some(e) = net.syn_elig.get_mut(slot) {
            *e = 0.0;
        }
        if let Some(l) = net.syn_late.get_mut(slot) {
            *l = 0.0;
        }
    }
}
