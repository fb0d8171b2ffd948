// connectivity.wgsl: region x region synapse counts and weight sums over the slots of one shard
// (run once per shard). Cell (source region, target region) holds [count, weight-sum low word,
// high word]: the sum is a 64-bit two's-complement fixed-point number (scale conn_scale), added
// with carry. Each thread sums SPAN slots (256 apart, so a workgroup reads contiguous memory) in
// registers while they fall into one cell, and adds to the cell's atomics only when the cell
// changes: rows hold runs of one projection, so this cuts atomic traffic about SPAN-fold.
//
// The compact static layout (docs/ARCHITECTURE.md) keeps synapses in source order with their
// targets, and has two entries that skip synapses a lesion removed (COMPACT_REMOVED in the delay
// byte): `by_source`, one workgroup per presynaptic neuron walking its synapses (for long lists),
// and `by_synapse`, SPAN synapses a thread as `main` takes slots, each finding its source's
// population from the population boundaries in `out_start` (for short lists). The sums are
// integers, so every entry gives the same cells.

@group(0) @binding(2) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(3) var<storage, read> syn_pre: array<u32>;
@group(0) @binding(4) var<storage, read> syn_weight: array<f32>;
@group(0) @binding(5) var<storage, read_write> conn: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read> syn_owner: array<u32>;
@group(0) @binding(7) var<storage, read> out_start: array<u32>;
// Compact layout: four delay bytes per word (synapse 4k in the low byte); `syn_owner` holds each
// synapse's target and `syn_weight` its weight.
@group(0) @binding(9) var<storage, read> syn_delay8: array<u32>;

const SPAN: u32 = 32u;

fn flush(cell: u32, count: u32, lo: u32, hi: u32) {
    if count == 0u {
        return;
    }
    atomicAdd(&conn[cell], count);
    let old = atomicAdd(&conn[cell + 1u], lo);
    let carry = select(0u, 1u, old + lo < old);
    atomicAdd(&conn[cell + 2u], hi + carry);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let block = (wg.x + wg.y * MAX_GROUPS_X) * 256u * SPAN;
    let n = arrayLength(&syn_pre);
    var cell = 0u;
    var count = 0u;
    var lo = 0u;
    var hi = 0u;
    for (var k = 0u; k < SPAN; k++) {
        let slot = block + k * 256u + lid;
        if slot >= n {
            break;
        }
        let pre = syn_pre[slot];
        if pre == EMPTY {
            continue;
        }
        let src_region = pops[neurons[pre].pop].region;
        let dst_region = pops[neurons[syn_owner[slot >> ROW_CHUNK_SHIFT]].pop].region;
        let c = 3u * (src_region * g.n_regions + dst_region);
        if c != cell {
            flush(cell, count, lo, hi);
            cell = c;
            count = 0u;
            lo = 0u;
            hi = 0u;
        }
        count += 1u;
        let w = i32(round(syn_weight[slot] * g.conn_scale));
        let wl = bitcast<u32>(w);
        let sum = lo + wl;
        hi += select(0u, 0xffffffffu, w < 0) + select(0u, 1u, sum < lo);
        lo = sum;
    }
    flush(cell, count, lo, hi);
}

@compute @workgroup_size(64)
fn by_source(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let pre = wg.x + wg.y * MAX_GROUPS_X;
    if pre >= g.n_neurons {
        return;
    }
    let src_region = pops[neurons[pre].pop].region;
    var cell = 0u;
    var count = 0u;
    var lo = 0u;
    var hi = 0u;
    for (var k = out_start[pre] + lid; k < out_start[pre + 1u]; k += 64u) {
        if ((syn_delay8[k >> 2u] >> ((k & 3u) * 8u)) & COMPACT_REMOVED) != 0u {
            continue;
        }
        let dst_region = pops[neurons[syn_owner[k]].pop].region;
        let c = 3u * (src_region * g.n_regions + dst_region);
        if c != cell {
            flush(cell, count, lo, hi);
            cell = c;
            count = 0u;
            lo = 0u;
            hi = 0u;
        }
        count += 1u;
        let w = i32(round(syn_weight[k] * g.conn_scale));
        let wl = bitcast<u32>(w);
        let sum = lo + wl;
        hi += select(0u, 0xffffffffu, w < 0) + select(0u, 1u, sum < lo);
        lo = sum;
    }
    flush(cell, count, lo, hi);
}


// The population whose neurons' synapses hold synapse k, from population `start` on (synapses
// are grouped by source neuron, populations are runs of neurons).
fn pop_of_synapse(k: u32, start: u32) -> u32 {
    var p = start;
    while p + 1u < g.n_pops && out_start[pops[p + 1u].first] <= k {
        p += 1u;
    }
    return p;
}

@compute @workgroup_size(256)
fn by_synapse(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let block = (wg.x + wg.y * MAX_GROUPS_X) * 256u * SPAN;
    let n = out_start[g.n_neurons];
    var p = 0u;
    var cell = 0u;
    var count = 0u;
    var lo = 0u;
    var hi = 0u;
    for (var j = 0u; j < SPAN; j++) {
        let k = block + j * 256u + lid;
        if k >= n {
            break;
        }
        if ((syn_delay8[k >> 2u] >> ((k & 3u) * 8u)) & COMPACT_REMOVED) != 0u {
            continue;
        }
        p = pop_of_synapse(k, p);
        let dst_region = pops[neurons[syn_owner[k]].pop].region;
        let c = 3u * (pops[p].region * g.n_regions + dst_region);
        if c != cell {
            flush(cell, count, lo, hi);
            cell = c;
            count = 0u;
            lo = 0u;
            hi = 0u;
        }
        count += 1u;
        let w = i32(round(syn_weight[k] * g.conn_scale));
        let wl = bitcast<u32>(w);
        let sum = lo + wl;
        hi += select(0u, 0xffffffffu, w < 0) + select(0u, 1u, sum < lo);
        lo = sum;
    }
    flush(cell, count, lo, hi);
}
