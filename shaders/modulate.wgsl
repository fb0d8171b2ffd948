// modulate.wgsl: the three-factor weight update (Izhikevich 2007), every `update_every_ms`, one
// thread per slot of the shard's chunks listed in `mod_chunks` (the rows of populations that a
// modulated rule ends on; no other slot can hold a modulated synapse): each modulated synapse
// moves by (tonic + dopamine of its target's region) times its eligibility, within its bounds,
// and the eligibility decays.

@group(0) @binding(2) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(3) var<storage, read> syn_pre: array<u32>;
@group(0) @binding(4) var<storage, read_write> syn_weight: array<f32>;
@group(0) @binding(5) var<storage, read_write> syn_elig: array<f32>;
@group(0) @binding(6) var<storage, read> syn_owner: array<u32>;
@group(0) @binding(7) var<storage, read> rules: array<u32>;
@group(0) @binding(8) var<storage, read> modulators: array<vec2<f32>>;
@group(0) @binding(9) var<storage, read> status: array<vec4<u32>>;
@group(0) @binding(10) var<storage, read> mod_chunks: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * MAX_GROUPS_X * 256u;
    if i >= (arrayLength(&mod_chunks) << ROW_CHUNK_SHIFT) {
        return;
    }
    let slot = (mod_chunks[i >> ROW_CHUNK_SHIFT] << ROW_CHUNK_SHIFT) | (i & ((1u << ROW_CHUNK_SHIFT) - 1u));
    let pre = syn_pre[slot];
    if pre == EMPTY {
        return;
    }
    let post = syn_owner[slot >> ROW_CHUNK_SHIFT];
    let post_pop = neurons[post].pop;
    let ri = rules[neurons[pre].pop * g.n_pops + post_pop];
    if ri == NO_RULE {
        return;
    }
    let b = g.n_pops * g.n_pops + RULE_WORDS * ri;
    if rules[b + 5u] == 0u {
        return;
    }
    let w_min = bitcast<f32>(rules[b + 2u]);
    let w_max = bitcast<f32>(rules[b + 3u]);
    let elig_decay = bitcast<f32>(rules[b + 6u]);
    let c = syn_elig[slot];
    let m = rn(g.da_tonic + modulators[pops[post_pop].region].x);
    let factor = plasticity_factor(status[post], pops[post_pop].learn);
    syn_weight[slot] = min(max(rn(syn_weight[slot] + rn(rn(m * c) * factor)), w_min), w_max);
    syn_elig[slot] = rn(c * elig_decay);
}
