// capture.wgsl: synaptic tagging and capture (Frey & Morris 1997; Clopath et al. 2008), every
// `update_every_ms`, one thread per neuron of one shard, walking its own row in order (so its sums
// are deterministic). Over the neuron's capture synapses: the summed |early change| switches its
// protein synthesis on or off, and the protein level p (traces.w) relaxes toward it; a tagged
// synapse (|early| > tag threshold) moves late_rate * p of its early change into the late phase;
// then the early phase decays and the weight follows (w = base + early + late).

@group(0) @binding(2) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read> syn_pre: array<u32>;
@group(0) @binding(5) var<storage, read_write> syn_weight: array<f32>;
@group(0) @binding(6) var<storage, read_write> syn_elig: array<f32>;
@group(0) @binding(7) var<storage, read_write> syn_late: array<f32>;
@group(0) @binding(8) var<storage, read_write> traces: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> rules: array<u32>;

// The capture rule of a slot's synapse, or NO_RULE.
fn capture_rule(k: u32, post_pop: u32) -> u32 {
    let pre = syn_pre[k];
    if pre == EMPTY {
        return NO_RULE;
    }
    let ri = rules[neurons[pre].pop * g.n_pops + post_pop];
    if ri == NO_RULE || rules[g.n_pops * g.n_pops + RULE_WORDS * ri + 7u] == 0u {
        return NO_RULE;
    }
    return ri;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * MAX_GROUPS_X * 64u;
    let n = rows[0] + i;
    if n >= rows[1] {
        return;
    }
    let begin = rows[2u + i];
    let end = rows[3u + i];
    let post_pop = neurons[n].pop;
    var total = 0.0;
    var found = NO_RULE;
    for (var k = begin; k < end; k++) {
        let ri = capture_rule(k, post_pop);
        if ri != NO_RULE {
            total = rn(total + abs(syn_elig[k]));
            found = ri;
        }
    }
    if found == NO_RULE {
        return;
    }
    let b = g.n_pops * g.n_pops + RULE_WORDS * found;
    let tag = bitcast<f32>(rules[b + 8u]);
    let protein_threshold = bitcast<f32>(rules[b + 9u]);
    let early_decay = bitcast<f32>(rules[b + 10u]);
    let protein_decay = bitcast<f32>(rules[b + 11u]);
    let late_rate = bitcast<f32>(rules[b + 12u]);
    let on = select(0.0, 1.0, total > protein_threshold);
    let p = rn(rn(traces[n].w * protein_decay) + rn(rn(1.0 - protein_decay) * on));
    traces[n].w = p;
    for (var k = begin; k < end; k++) {
        if capture_rule(k, post_pop) == NO_RULE {
            continue;
        }
        var e = syn_elig[k];
        if abs(e) > tag {
            let moved = rn(rn(e * p) * late_rate);
            e = rn(e - moved);
            syn_late[k] = rn(syn_late[k] + moved);
        }
        let e2 = rn(e * early_decay);
        syn_weight[k] = rn(syn_weight[k] - rn(e - e2));
        syn_elig[k] = e2;
    }
}
