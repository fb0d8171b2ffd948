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
// population from the population boundaries in `out_start` (bisection for the thread's first,
// then walking on: for short lists). The sums are
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

// A thread's running sum for one cell: added to the cell's atomics when the cell changes.
struct Sum {
    cell: u32,
    count: u32,
    lo: u32,
    hi: u32,
}

fn flush(s: Sum) {
    if s.count == 0u {
        return;
    }
    atomicAdd(&conn[s.cell], s.count);
    let old = atomicAdd(&conn[s.cell + 1u], s.lo);
    let carry = select(0u, 1u, old + s.lo < old);
    atomicAdd(&conn[s.cell + 2u], s.hi + carry);
}

// Adds one synapse of weight `weight` from region `src` to region `dst` to the running sum.
fn add(s: ptr<function, Sum>, src: u32, dst: u32, weight: f32) {
    let c = 3u * (src * g.n_regions + dst);
    if c != (*s).cell {
        flush(*s);
        *s = Sum(c, 0u, 0u, 0u);
    }
    (*s).count += 1u;
    let w = i32(round(weight * g.conn_scale));
    let sum = (*s).lo + bitcast<u32>(w);
    (*s).hi += select(0u, 0xffffffffu, w < 0) + select(0u, 1u, sum < (*s).lo);
    (*s).lo = sum;
}

fn region_of(n: u32) -> u32 {
    return pops[neurons[n].pop].region;
}

// Whether the compact layout's synapse k was removed by a lesion.
fn removed(k: u32) -> bool {
    return ((syn_delay8[k >> 2u] >> ((k & 3u) * 8u)) & COMPACT_REMOVED) != 0u;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let block = (wg.x + wg.y * MAX_GROUPS_X) * 256u * SPAN;
    let n = arrayLength(&syn_pre);
    var s = Sum(0u, 0u, 0u, 0u);
    for (var k = 0u; k < SPAN; k++) {
        let slot = block + k * 256u + lid;
        if slot >= n {
            break;
        }
        let pre = syn_pre[slot];
        if pre != EMPTY {
            add(&s, region_of(pre), region_of(syn_owner[slot >> ROW_CHUNK_SHIFT]), syn_weight[slot]);
        }
    }
    flush(s);
}

@compute @workgroup_size(64)
fn by_source(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let pre = wg.x + wg.y * MAX_GROUPS_X;
    if pre >= g.n_neurons {
        return;
    }
    let src = region_of(pre);
    var s = Sum(0u, 0u, 0u, 0u);
    for (var k = out_start[pre] + lid; k < out_start[pre + 1u]; k += 64u) {
        if !removed(k) {
            add(&s, src, region_of(syn_owner[k]), syn_weight[k]);
        }
    }
    flush(s);
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

// The population whose neurons' synapses hold synapse k, by bisection over the populations.
fn pop_search(k: u32) -> u32 {
    var lo = 0u;
    var hi = g.n_pops;
    while hi - lo > 1u {
        let mid = (lo + hi) / 2u;
        if out_start[pops[mid].first] <= k {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

@compute @workgroup_size(256)
fn by_synapse(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let block = (wg.x + wg.y * MAX_GROUPS_X) * 256u * SPAN;
    let n = out_start[g.n_neurons];
    var p = 0u;
    var s = Sum(0u, 0u, 0u, 0u);
    for (var j = 0u; j < SPAN; j++) {
        let k = block + j * 256u + lid;
        if k >= n {
            break;
        }
        // The thread's first synapse finds its population by bisection, the next ones (later in
        // the same or a following population) by walking on from there.
        if j == 0u {
            p = pop_search(k);
        }
        if !removed(k) {
            p = pop_of_synapse(k, p);
            add(&s, pops[p].region, region_of(syn_owner[k]), syn_weight[k]);
        }
    }
    flush(s);
}
