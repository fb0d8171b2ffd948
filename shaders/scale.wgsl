// scale.wgsl: homeostatic synaptic scaling (Turrigiano et al. 1998), every `update_every_ms`, one
// thread per slot of one shard. A synapse onto a scaled neuron with rate estimate a is multiplied
// by 1 + d (excitatory) or 1 - d (inhibitory), d = gain (target - a), the factor kept >= 0; the
// result stays within the population's cap and, for a plastic synapse, within its rule's bounds.

@group(0) @binding(2) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(3) var<storage, read> syn_pre: array<u32>;
@group(0) @binding(4) var<storage, read_write> syn_weight: array<f32>;
@group(0) @binding(5) var<storage, read> syn_owner: array<u32>;
@group(0) @binding(6) var<storage, read> traces: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> rules: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let slot = gid.x + gid.y * MAX_GROUPS_X * 256u;
    if slot >= arrayLength(&syn_pre) {
        return;
    }
    let pre = syn_pre[slot];
    if pre == EMPTY {
        return;
    }
    let post = syn_owner[slot >> ROW_CHUNK_SHIFT];
    let post_pop = neurons[post].pop;
    let pop = pops[post_pop];
    if pop.scale_target == 0.0 {
        return;
    }
    let w = syn_weight[slot];
    let d = rn(rn(pop.scale_gain * g.offline) * rn(pop.scale_target - traces[post].z));
    let factor = max(select(rn(1.0 - d), rn(1.0 + d), w >= 0.0), 0.0);
    var v = min(max(rn(w * factor), -pop.scale_cap), pop.scale_cap);
    let ri = rules[neurons[pre].pop * g.n_pops + post_pop];
    if ri != NO_RULE {
        let b = g.n_pops * g.n_pops + RULE_WORDS * ri;
        v = min(max(v, bitcast<f32>(rules[b + 2u])), bitcast<f32>(rules[b + 3u]));
    }
    syn_weight[slot] = v;
}
