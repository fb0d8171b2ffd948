// learn.wgsl: event-driven STDP, run once per shard after `propagate.prepare` has closed the
// step's spike list. `post`: one workgroup per spiking neuron walks its own row (in the shard that
// holds it) and potentiates each plastic synapse by a_plus f+(w) x_pre. `pre`: one workgroup per
// spiking neuron walks its outgoing synapses in the shard (after they delivered this step's
// spike) and depresses each plastic one by a_minus f-(w) y_post. A synapse belongs to one
// presynaptic and one postsynaptic neuron, so within a dispatch no two threads touch it, and the
// two dispatches run in order: the result does not depend on thread order.

@group(0) @binding(2) var<storage, read_write> sim: SimState;
// [first neuron, end neuron, then the local row start of each of the shard's neurons and the end].
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read> syn_pre: array<u32>;
@group(0) @binding(5) var<storage, read_write> syn_weight: array<f32>;
@group(0) @binding(6) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(7) var<storage, read> traces: array<vec4<f32>>;
// Rule of each (source population, target population), then StdpRule records as words.
@group(0) @binding(8) var<storage, read> rules: array<u32>;
@group(0) @binding(9) var<storage, read> out_start: array<u32>;
@group(0) @binding(10) var<storage, read> out_slots: array<u32>;
@group(0) @binding(11) var<storage, read> syn_owner: array<u32>;
// Eligibility per slot (three-factor rules write it instead of the weight).
@group(0) @binding(12) var<storage, read_write> syn_elig: array<f32>;
// Per neuron status (common.wgsl `plasticity_factor`).
@group(0) @binding(13) var<storage, read> status: array<vec4<u32>>;

fn rule_at(i: u32) -> StdpRule {
    let b = g.n_pops * g.n_pops + RULE_WORDS * i;
    return StdpRule(
        bitcast<f32>(rules[b]),
        bitcast<f32>(rules[b + 1u]),
        bitcast<f32>(rules[b + 2u]),
        bitcast<f32>(rules[b + 3u]),
        rules[b + 4u],
        rules[b + 5u],
        bitcast<f32>(rules[b + 6u]),
        rules[b + 7u],
        bitcast<f32>(rules[b + 8u]),
        bitcast<f32>(rules[b + 9u]),
        bitcast<f32>(rules[b + 10u]),
        bitcast<f32>(rules[b + 11u]),
        bitcast<f32>(rules[b + 12u]),
        0u,
        0u,
        0u,
    );
}

@compute @workgroup_size(64)
fn post(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = wg.x + wg.y * MAX_GROUPS_X;
    if i >= sim.prop_count {
        return;
    }
    let n = sim.spikes[i];
    if n < rows[0] || n >= rows[1] {
        return;
    }
    let end = rows[3u + n - rows[0]];
    let post_pop = neurons[n].pop;
    let factor = plasticity_factor(status[n], pops[post_pop].learn);
    for (var k = rows[2u + n - rows[0]] + lid; k < end; k += 64u) {
        let pre = syn_pre[k];
        if pre == EMPTY {
            continue;
        }
        let ri = rules[neurons[pre].pop * g.n_pops + post_pop];
        if ri == NO_RULE {
            continue;
        }
        let rule = rule_at(ri);
        let w = syn_weight[k];
        var f = 1.0;
        if rule.multiplicative != 0u {
            f = rn(rule.w_max - w);
        }
        let step_dw = rn(rn(rule.a_plus * f) * traces[pre].x);
        if rule.modulated != 0u {
            // Eligibility is gated by `learning` only: the window and neuromodulation act once,
            // on the dopamine-gated weight change (modulate.wgsl).
            syn_elig[k] = rn(syn_elig[k] + rn(step_dw * g.learning));
        } else {
            let dw = rn(step_dw * factor);
            let v = min(rn(w + dw), rule.w_max);
            syn_weight[k] = v;
            if rule.capture != 0u {
                // The early-phase component records what STDP actually changed.
                syn_elig[k] = rn(syn_elig[k] + rn(v - w));
            }
        }
    }
}

@compute @workgroup_size(64)
fn pre(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = wg.x + wg.y * MAX_GROUPS_X;
    if i >= sim.prop_count {
        return;
    }
    let n = sim.spikes[i];
    let pre_pop = neurons[n].pop;
    let end = out_start[n + 1u];
    for (var k = out_start[n] + lid; k < end; k += 64u) {
        let slot = out_slots[k];
        if syn_pre[slot] == EMPTY {
            // Removed by a lesion; the index still lists it until it is rebuilt.
            continue;
        }
        let post = syn_owner[slot >> ROW_CHUNK_SHIFT];
        let post_pop = neurons[post].pop;
        let ri = rules[pre_pop * g.n_pops + post_pop];
        if ri == NO_RULE {
            continue;
        }
        let rule = rule_at(ri);
        let w = syn_weight[slot];
        var f = 1.0;
        if rule.multiplicative != 0u {
            f = rn(w - rule.w_min);
        }
        let step_dw = rn(rn(rule.a_minus * f) * traces[post].y);
        if rule.modulated != 0u {
            syn_elig[slot] = rn(syn_elig[slot] - rn(step_dw * g.learning));
        } else {
            let dw = rn(step_dw * plasticity_factor(status[post], pops[post_pop].learn));
            let v = max(rn(w - dw), rule.w_min);
            syn_weight[slot] = v;
            if rule.capture != 0u {
                syn_elig[slot] = rn(syn_elig[slot] + rn(v - w));
            }
        }
    }
}
