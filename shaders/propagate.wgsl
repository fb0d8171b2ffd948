// propagate.wgsl: deliver the step's spikes. `prepare` (one thread) closes the step's spike list,
// sizes the indirect dispatch and advances the step; `main` runs once per shard of synapse rows,
// one workgroup per spike, and adds each of the shard's outgoing synapses' weight, in fixed
// point, into the target's delay-ring slot. Integer atomics make the sums independent of thread
// order. Slot numbers here are local to the shard.

@group(0) @binding(2) var<storage, read_write> sim: SimState;
@group(0) @binding(3) var<storage, read_write> args: array<u32>;
@group(0) @binding(4) var<storage, read> out_start: array<u32>;
@group(0) @binding(5) var<storage, read> out_slots: array<u32>;
@group(0) @binding(6) var<storage, read> syn_weight: array<f32>;
// Two 16-bit delay words per u32 (slot 2k in the low half).
@group(0) @binding(7) var<storage, read> syn_delay: array<u32>;
@group(0) @binding(8) var<storage, read_write> ring: array<atomic<i32>>;
// Per region: [dopamine, reward pending for this step] (used by `prepare` when modulated).
@group(0) @binding(10) var<storage, read_write> modulators: array<vec2<f32>>;
@group(0) @binding(9) var<storage, read> syn_owner: array<u32>;

@compute @workgroup_size(1)
fn prepare() {
    let n = atomicLoad(&sim.n_spikes);
    atomicStore(&sim.n_spikes, 0u);
    sim.prop_count = n;
    sim.prop_step = sim.step;
    if g.modulated != 0u {
        // Dopamine decays every step; this step's rewards arrive.
        for (var r = 0u; r < g.n_regions; r++) {
            var m = modulators[r];
            m.x = rn(rn(m.x * g.da_decay) + m.y);
            m.y = 0.0;
            modulators[r] = m;
        }
    }
    sim.step = sim.step + 1u;
    args[0] = min(n, MAX_GROUPS_X);
    args[1] = (n + MAX_GROUPS_X - 1u) / MAX_GROUPS_X;
    args[2] = 1u;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = wg.x + wg.y * MAX_GROUPS_X;
    if i >= sim.prop_count {
        return;
    }
    let pre = sim.spikes[i];
    let step = sim.prop_step;
    let end = out_start[pre + 1u];
    for (var k = out_start[pre] + lid; k < end; k += 64u) {
        let slot = out_slots[k];
        let post = syn_owner[slot >> ROW_CHUNK_SHIFT];
        let delay = (syn_delay[slot >> 1u] >> ((slot & 1u) * 16u)) & DELAY_MASK;
        let w = i32(round(syn_weight[slot] * g.ring_scale));
        atomicAdd(&ring[((step + delay) % g.ring_len) * g.n_neurons + post], w);
    }
}
