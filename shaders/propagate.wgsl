// propagate.wgsl: deliver the step's spikes. `prepare` (one thread) closes the step's spike list,
// sizes the indirect dispatch and advances the step; `main` runs once per shard of synapse rows,
// one workgroup per spike, and adds each of the shard's outgoing synapses' weight, in fixed
// point, into the target's delay-ring slot. Integer atomics make the sums independent of thread
// order. Slot numbers here are local to the shard.
//
// Two channels: where a population takes excitatory and inhibitory input apart (g.ring_channels
// == 2), a negative weight goes into the ring's second half, one select on its sign; SPLIT_INPUT
// (set by src/gpu/propagate.rs) compiles that out of every other network, whose ring is as before.
//
// Routes: while counting is on (`task[T_COUNTING]`, the response window) and `task[T_ROUTE]`
// names an output group (+ 1), `main` also sums |weight| of every synapse it delivers onto a
// neuron of that group (the status word's task map), per region of the spiking neuron. The spike
// is counted when it is emitted (this step) though it arrives `delay` steps later, so a window
// counts what its spikes send, some of which lands after it closes. Each thread sums its own
// synapses in a 64-bit unsigned fixed-point number (scale conn_scale, |w| rounded to nearest even
// first, as the connectivity sums are) and adds it once to the region's [low, high] pair with a
// carry: integer sums, independent of thread order.

@group(0) @binding(2) var<storage, read_write> sim: SimState;
@group(0) @binding(3) var<storage, read_write> args: array<u32>;
@group(0) @binding(4) var<storage, read> out_start: array<u32>;
@group(0) @binding(5) var<storage, read> out_slots: array<u32>;
@group(0) @binding(6) var<storage, read> syn_weight: array<f32>;
// Two 16-bit delay words per u32 (slot 2k in the low half); compact layout and `bytes`: four
// delay bytes.
@group(0) @binding(7) var<storage, read> syn_delay: array<u32>;
// The part of the delay ring that this shard's targets lie in, and where it lies: [first
// neuron, neurons] (src/gpu/buffers.rs, RingPart).
@group(0) @binding(8) var<storage, read_write> ring: array<atomic<i32>>;
@group(0) @binding(14) var<storage, read> ring_info: array<u32, 4>;
// Per region: [dopamine, reward pending for this step] (used by `prepare` when modulated).
@group(0) @binding(10) var<storage, read_write> modulators: array<vec2<f32>>;
// A chunk's target neuron (compact layout: a synapse's).
@group(0) @binding(9) var<storage, read> syn_owner: array<u32>;
@group(0) @binding(11) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(12) var<storage, read> status: array<vec4<u32>>;
// The task buffer: its counting flag and route group, and the route words (layout.rs).
@group(0) @binding(13) var<storage, read_write> task: array<atomic<u32>>;

// The ring has a second, inhibitory channel; the default keeps the path (the select then adds 0).
override SPLIT_INPUT: bool = true;

// Steps from `then` to `now`, or a huge number when `then` is EMPTY (never).
fn step_since(then: u32, now: u32) -> u32 {
    if then == EMPTY || then > now {
        return 0xffffffffu;
    }
    return now - then;
}

@compute @workgroup_size(1)
fn prepare() {
    let n = atomicLoad(&sim.n_spikes);
    atomicStore(&sim.n_spikes, 0u);
    sim.prop_count = n;
    sim.prop_step = sim.step;
    if g.modulated != 0u && sim.watch_pre != EMPTY {
        // Pair reward: the watched postsynaptic neuron fired 1..window steps after the presynaptic
        // one, so a reward falls due after a random delay; rewards due now join this step's.
        let since = step_since(sim.last_pre, sim.prop_step);
        if sim.last_post == sim.prop_step && since >= 1u && since <= sim.window {
            let u = unit_f32(rng_draw(rng_base(g.key, STREAM_REWARD, sim.prop_step, 0u), 0u));
            let due = sim.prop_step + sim.delay_lo + min(u32(u * f32(sim.delay_span + 1u)), sim.delay_span);
            for (var q = 0u; q < 16u; q++) {
                if sim.queue[q] == EMPTY {
                    sim.queue[q] = due;
                    break;
                }
            }
        }
        for (var q = 0u; q < 16u; q++) {
            if sim.queue[q] == sim.prop_step {
                sim.queue[q] = EMPTY;
                for (var r = 0u; r < g.n_regions; r++) {
                    if sim.reward_region == EMPTY || sim.reward_region == r {
                        modulators[r].y = rn(modulators[r].y + sim.reward_amount);
                    }
                }
            }
        }
    }
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

fn deliver(wg: vec3<u32>, lid: u32, compact: bool, delay_bytes: bool) {
    let i = wg.x + wg.y * MAX_GROUPS_X;
    if i >= sim.prop_count {
        return;
    }
    let pre = sim.spikes[i];
    let step = sim.prop_step;
    let end = out_start[pre + 1u];
    let route = select(0u, atomicLoad(&task[T_ROUTE]), atomicLoad(&task[T_COUNTING]) != 0u);
    var lo = 0u;
    var hi = 0u;
    let part_first = ring_info[0];
    let part_neurons = ring_info[1];
    let inhibitory = select(0u, g.ring_len * part_neurons, g.ring_channels > 1u);
    for (var k = out_start[pre] + lid; k < end; k += 64u) {
        var post: u32;
        var delay: u32;
        var weight: f32;
        if compact {
            // Synapse k itself: its target, delay byte and weight, read in order.
            post = syn_owner[k];
            delay = (syn_delay[k >> 2u] >> ((k & 3u) * 8u)) & COMPACT_DELAY_MASK;
            weight = syn_weight[k];
        } else {
            let slot = out_slots[k];
            post = syn_owner[slot >> ROW_CHUNK_SHIFT];
            if delay_bytes {
                delay = (syn_delay[slot >> 2u] >> ((slot & 3u) * 8u)) & ROW_DELAY_BYTE_MASK;
            } else {
                delay = (syn_delay[slot >> 1u] >> ((slot & 1u) * 16u)) & DELAY_MASK;
            }
            weight = syn_weight[slot];
        }
        let w = i32(round(weight * g.ring_scale));
        var at = ((step + delay) % g.ring_len) * part_neurons + (post - part_first);
        if SPLIT_INPUT {
            at += select(0u, inhibitory, w < 0);
        }
        atomicAdd(&ring[at], w);
        if route != 0u && (status[post].w >> TASK_GROUP_SHIFT) == route {
            let sum = lo + u32(round(abs(weight) * g.conn_scale));
            hi += select(0u, 1u, sum < lo);
            lo = sum;
        }
    }
    if lo != 0u || hi != 0u {
        let at = TASK_WORDS + g.n_regions + 2u * pops[neurons[pre].pop].region;
        let old = atomicAdd(&task[at], lo);
        atomicAdd(&task[at + 1u], hi + select(0u, 1u, old + lo < old));
    }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    deliver(wg, lid, false, false);
}

// Rows whose delays are bytes, four a word (rows without spine state where every delay fits a
// byte: build::Network::delay_byte_shards).
@compute @workgroup_size(64)
fn bytes(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    deliver(wg, lid, false, true);
}

// The compact static layout (docs/ARCHITECTURE.md): each source's synapses lie together, each
// with its target, weight and delay byte, so a spike reads three streams instead of gathering.
// A synapse a lesion removed has weight 0.
@compute @workgroup_size(64)
fn compact(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    deliver(wg, lid, true, false);
}
