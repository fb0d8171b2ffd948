// weights.wgsl: statistics of every plastic projection at a sample, one thread per slot of one
// shard: synapse count, weight sum and squared sum (64-bit fixed point), synapses at either bound,
// eligibility sum, and a histogram over [w_min, w_max]. Each thread sums SPAN slots (256 apart)
// in registers while they belong to one rule, and adds to the atomics when the rule changes.

@group(0) @binding(2) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(3) var<storage, read> syn_pre: array<u32>;
@group(0) @binding(4) var<storage, read> syn_weight: array<f32>;
@group(0) @binding(5) var<storage, read> syn_elig: array<f32>;
@group(0) @binding(6) var<storage, read> syn_owner: array<u32>;
@group(0) @binding(7) var<storage, read> rules: array<u32>;
@group(0) @binding(8) var<storage, read_write> stats: array<atomic<u32>>;
@group(0) @binding(9) var<storage, read> syn_late: array<f32>;

const SPAN: u32 = 32u;

struct Acc {
    rule: u32,
    count: u32,
    sum: vec2<u32>,
    sq: vec2<u32>,
    at_min: u32,
    at_max: u32,
    elig: vec2<u32>,
}

// Adds a signed 32-bit value to a (low, high) 64-bit accumulator.
fn add64(a: vec2<u32>, v: i32) -> vec2<u32> {
    let lo = a.x + bitcast<u32>(v);
    return vec2<u32>(lo, a.y + select(0u, 0xffffffffu, v < 0) + select(0u, 1u, lo < a.x));
}

fn atomic_add64(at: u32, v: vec2<u32>) {
    let old = atomicAdd(&stats[at], v.x);
    atomicAdd(&stats[at + 1u], v.y + select(0u, 1u, old + v.x < old));
}

fn flush(a: Acc) {
    if a.count == 0u {
        return;
    }
    let b = a.rule * PLASTIC_WORDS;
    atomicAdd(&stats[b], a.count);
    atomic_add64(b + 1u, a.sum);
    atomic_add64(b + 3u, a.sq);
    atomicAdd(&stats[b + 5u], a.at_min);
    atomicAdd(&stats[b + 6u], a.at_max);
    atomic_add64(b + 7u, a.elig);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let block = (wg.x + wg.y * MAX_GROUPS_X) * 256u * SPAN;
    let n = arrayLength(&syn_pre);
    // Eligibility, or the early-phase change of capture rules.
    let modulated = g.modulated != 0u || g.capture_every != 0u;
    var a = Acc(NO_RULE, 0u, vec2<u32>(0u), vec2<u32>(0u), 0u, 0u, vec2<u32>(0u));
    for (var k = 0u; k < SPAN; k++) {
        let slot = block + k * 256u + lid;
        if slot >= n {
            break;
        }
        let pre = syn_pre[slot];
        if pre == EMPTY {
            continue;
        }
        let post_pop = neurons[syn_owner[slot >> ROW_CHUNK_SHIFT]].pop;
        let ri = rules[neurons[pre].pop * g.n_pops + post_pop];
        if ri == NO_RULE {
            continue;
        }
        if ri != a.rule {
            flush(a);
            a = Acc(ri, 0u, vec2<u32>(0u), vec2<u32>(0u), 0u, 0u, vec2<u32>(0u));
        }
        let rb = g.n_pops * g.n_pops + RULE_WORDS * ri;
        let w_min = bitcast<f32>(rules[rb + 2u]);
        let w_max = bitcast<f32>(rules[rb + 3u]);
        let w = syn_weight[slot];
        a.count += 1u;
        a.sum = add64(a.sum, i32(round(rn(w * g.conn_scale))));
        a.sq = add64(a.sq, i32(round(rn(rn(w * w) * g.sq_scale))));
        a.at_min += select(0u, 1u, w <= w_min);
        a.at_max += select(0u, 1u, w >= w_max);
        if modulated {
            let c = clamp(syn_elig[slot], -ELIG_CLAMP, ELIG_CLAMP);
            a.elig = add64(a.elig, i32(round(rn(c * ELIG_SCALE))));
        }
        if rules[rb + 7u] != 0u {
            // Capture: tagged (|early| above the tag threshold) and consolidated (|late| at least
            // half the tag threshold) synapses.
            let tag = bitcast<f32>(rules[rb + 8u]);
            if abs(syn_elig[slot]) > tag {
                atomicAdd(&stats[ri * PLASTIC_WORDS + 29u], 1u);
            }
            if abs(syn_late[slot]) >= rn(0.5 * tag) {
                atomicAdd(&stats[ri * PLASTIC_WORDS + 30u], 1u);
            }
        }
        let x = rn(rn(rn(w - w_min) / rn(w_max - w_min)) * f32(HIST_BINS));
        let bin = u32(clamp(floor(x), 0.0, f32(HIST_BINS - 1u)));
        atomicAdd(&stats[ri * PLASTIC_WORDS + 9u + bin], 1u);
    }
    flush(a);
}
