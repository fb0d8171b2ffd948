// neurons.wgsl: integrate every neuron one step (Izhikevich, LIF, iaf_psc_alpha or
// iaf_cond_exp), draw its external input, and append its spike to the step's spike list. One
// thread per neuron.

@group(0) @binding(2) var<storage, read_write> neurons: array<NeuronState>;
// This dispatch's part of the parameters (with its part of the ring: indexed by `local`).
@group(0) @binding(3) var<storage, read> params: array<NeuronParams>;
@group(0) @binding(4) var<storage, read> poisson: array<PoissonSource>;
// This dispatch's part of the delay ring (src/gpu/buffers.rs, RingPart) and where it lies:
// [first neuron, neurons]; one dispatch per part.
@group(0) @binding(5) var<storage, read_write> ring: array<atomic<i32>>;
@group(0) @binding(14) var<storage, read> ring_info: array<u32, 4>;
@group(0) @binding(6) var<storage, read_write> sim: SimState;
// Per-population spike counts since the last sample, then the raster bits (raster_steps rows),
// then the LFP readout's per-step population counts (lfp_steps rows of n_pops).
@group(0) @binding(7) var<storage, read_write> counters: array<atomic<u32>>;
// Traces [STDP presynaptic x, postsynaptic y, rate estimate a (Hz), 0] (bound but untouched when
// nothing uses them).
@group(0) @binding(8) var<storage, read_write> traces: array<vec4<f32>>;
// Structural plasticity: [calcium, bouton elements, spine elements, neurotrophin] per neuron.
@group(0) @binding(9) var<storage, read_write> grow: array<vec4<f32>>;
// Per neuron: alive flag and lesion slot, penumbra loss, closeness to the lesion, task map.
@group(0) @binding(10) var<storage, read> status: array<vec4<u32>>;
// Cue and guidance currents, the counting flag, output-group spike counts and first spikes.
@group(0) @binding(11) var<storage, read_write> task: array<atomic<u32>>;
// The two-channel models' further state (layout::NeuronExt, indexed by neuron) and this part's
// further parameters (indexed by `local`): one element per neuron when a population has such a
// model, else one element that nothing reads.
@group(0) @binding(12) var<storage, read_write> neuron_ext: array<vec4<f32>>;
@group(0) @binding(13) var<storage, read> params_ext: array<NeuronParams>;
// With a task, this part's cue counters (REP_CUES words a neuron, indexed by `local`): each
// neuron's spikes in the response windows of each cue's probe trials; else one stand-in element.
@group(0) @binding(15) var<storage, read_write> rep: array<atomic<u32>>;

// Specialization to the network, set when the pipeline is built (src/gpu/neurons.rs); the
// defaults keep every path. A path the network cannot take is compiled out: a software adapter
// runs both sides of a branch under a lane mask, so every path left in costs every neuron.
// Bit m of MODELS: some population has model m.
override MODELS: u32 = 0xffffffffu;
// Some population has a noise current (noise_sd > 0).
override NOISE: bool = true;
// Traces are kept (g.traced) / calcium is (g.structural and a growing population).
override TRACED: bool = true;
override CALCIUM: bool = true;
// Some neuron has a task map (cue channels or an output group); a spike raster is recorded;
// the LFP readout is on.
override TASK: bool = true;
override RASTER: bool = true;
override LFP: bool = true;
// The ring has a second, inhibitory channel (g.ring_channels == 2: a population of a two-channel
// model); off, the ring is read as it was before there were two.
override SPLIT_INPUT: bool = true;

fn has_model(m: u32) -> bool {
    return (MODELS & (1u << m)) != 0u;
}

// 0.04 v^2 + 5 v + 140 - u + I, each operation rounded as written.
fn izhikevich_dv(v: f32, u: f32, i: f32) -> f32 {
    let quadratic = rn(rn(0.04 * v) * v);
    return rn(rn(rn(rn(quadratic + rn(5.0 * v)) + 140.0) - u) + i);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let local = gid.x + gid.y * MAX_GROUPS_X * 64u;
    // Values the same for every thread, read before any thread leaves (a software adapter reads
    // them once then, but once per thread inside a branch some threads have left).
    let step = sim.step;
    let watch_pre = sim.watch_pre;
    let watch_post = sim.watch_post;
    let part_first = ring_info[0];
    let part_neurons = ring_info[1];
    if local >= part_neurons {
        return;
    }
    let n = part_first + local;
    var s = neurons[n];
    let pop = pops[s.pop];
    let prm = params[local];

    // This step's slot of the delay ring, read and cleared for step + ring_len; with two channels
    // also its inhibitory twin in the ring's second half.
    // Every float product and sum goes through rn() (common.wgsl) to match the reference bit for bit.
    let at = (step % g.ring_len) * part_neurons + local;
    let ring_in = atomicExchange(&ring[at], 0);
    var ring_inh = 0;
    if SPLIT_INPUT && g.ring_channels > 1u {
        ring_inh = atomicExchange(&ring[g.ring_len * part_neurons + at], 0);
    }
    let st = status[n];
    if (st.x & STATUS_ALIVE) == 0u {
        // A dead neuron neither integrates nor fires; its input is dropped.
        return;
    }
    // A two-channel model keeps its excitatory input in `syn` and its inhibitory input (negative)
    // in `syn_in`; any other model takes the channels' integer sum in `syn`, the one-channel value.
    let split = SPLIT_INPUT && (pop.model == MODEL_IAF_PSC_ALPHA || pop.model == MODEL_IAF_COND_EXP);
    var syn = rn(f32(select(ring_in + ring_inh, ring_in, split)) * g.inv_ring_scale);
    var syn_in = 0.0;
    if split {
        syn_in = rn(f32(ring_inh) * g.inv_ring_scale);
    }
    for (var i = 0u; i < pop.input_count; i++) {
        let src = poisson[pop.input_first + i];
        if step < src.start || step >= src.end {
            continue;
        }
        var k = 0u;
        for (var r = 0u; r < src.repeats; r++) {
            let stream = STREAM_POISSON + ((pop.input_first + i) << 8u) + r;
            k += poisson_knuth(rng_base(g.key, stream, step, n), src.exp_neg_lambda, src.cap);
        }
        let x = rn(src.weight * f32(k));
        if split && src.weight < 0.0 {
            syn_in = rn(syn_in + x);
        } else {
            syn = rn(syn + x);
        }
    }
    var current = rn(pop.dc + pop.noise_mean);
    if NOISE && pop.noise_sd > 0.0 {
        current = rn(current + rn(pop.noise_sd * normal_f32(rng_base(g.key, STREAM_NOISE, step, n), 0u)));
    }

    // Task cues drive their channels' neurons; guidance drives an output group.
    let map = st.w;
    if TASK && map != 0u {
        // The map's cue channels in ascending order, as a loop over its set bits: a software
        // adapter runs an unrolled test of all 16 for every neuron, map or not.
        var cues = map & 0xffffu;
        while cues != 0u {
            let c = firstTrailingBit(cues);
            current = rn(current + bitcast<f32>(atomicLoad(&task[T_DRIVE + c])));
            cues &= cues - 1u;
        }
        let group = (map >> TASK_GROUP_SHIFT) & TASK_GROUP_MASK;
        if group != 0u {
            current = rn(current + bitcast<f32>(atomicLoad(&task[T_GUIDE + group - 1u])));
        }
    }
    // Excitability: neuromodulation of the population times what a penumbra left of the input;
    // then the penumbra's tonic inhibition (Clarkson et al. 2010), by the neuron's place in it: a
    // current taken off the input, except in iaf_cond_exp, where it is a conductance toward E_in.
    let slot = (st.x >> STATUS_SLOT_SHIFT) & 3u;
    let pen = bitcast<f32>(st.y);
    let gain = rn(pop.gain * rn(1.0 - rn(pen * g.deficit[slot])));
    syn = rn(syn * gain);
    if split {
        syn_in = rn(syn_in * gain);
    }
    let driven = rn(current * gain);
    let tonic = rn(pen * g.tonic[slot]);
    current = rn(driven - tonic);

    var spiked = false;
    if has_model(MODEL_IZHIKEVICH) && pop.model == MODEL_IZHIKEVICH {
        // Synaptic input is a current pulse of one step carrying the weight (w / dt).
        let i_total = rn(current + rn(syn * g.inv_dt));
        var v = s.v;
        let u = s.u;
        // Two half steps; v stops at the 30 mV apex so that the overshoot of a crossing step
        // neither explodes nor kicks u (Izhikevich 2003 otherwise).
        v = min(rn(v + rn(g.half_dt * izhikevich_dv(v, u, i_total))), 30.0);
        v = min(rn(v + rn(g.half_dt * izhikevich_dv(v, u, i_total))), 30.0);
        s.u = rn(u + rn(rn(g.dt * prm.p0) * rn(rn(prm.p1 * v) - u)));
        s.v = v;
        if v >= 30.0 {
            spiked = true;
            s.v = prm.p2;
            s.u = rn(s.u + prm.p3);
        }
    } else if has_model(MODEL_PERIODIC) && pop.model == MODEL_PERIODIC {
        let period = u32(prm.p0);
        let phase = u32(prm.p1);
        let count = u32(prm.p2);
        spiked = step >= phase && (step - phase) % period == 0u && (count == 0u || (step - phase) / period < count);
    } else if has_model(MODEL_SPIKE_SOURCE) && pop.model == MODEL_SPIKE_SOURCE {
        spiked = unit_f32(rng_draw(rng_base(g.key, STREAM_SOURCE, step, n), 0u)) < prm.p0;
    } else if has_model(MODEL_LIF) && pop.model == MODEL_LIF {
        // Exact integration (NEST iaf_psc_exp): V with the current before this step's input,
        // then the synaptic current decays and takes this step's spikes.
        if s.refr == 0u {
            s.v = rn(rn(rn(prm.p0 * s.v) + rn(prm.p1 * s.u)) + rn(prm.p2 * rn(prm.p6 + current)));
        } else {
            s.refr -= 1u;
        }
        s.u = rn(rn(prm.p3 * s.u) + syn);
        if s.v >= prm.p4 {
            spiked = true;
            s.v = prm.p5;
            s.refr = u32(prm.p7);
        }
    } else if has_model(MODEL_IAF_PSC_ALPHA) && pop.model == MODEL_IAF_PSC_ALPHA {
        // Exact integration (Rotter & Diesmann 1999, NEST iaf_psc_alpha): V with the currents
        // before this step's input, then each alpha current advances and its derivative takes its
        // own channel's spikes (a weight w gives a current peaking at w, tau_syn later).
        var x = neuron_ext[n];
        let q = params_ext[local];
        if s.refr == 0u {
            var v = rn(rn(prm.p0 * s.v) + rn(prm.p2 * rn(prm.p6 + current)));
            v = rn(v + rn(prm.p1 * x.x));
            v = rn(v + rn(prm.p3 * s.u));
            v = rn(v + rn(q.p0 * x.z));
            s.v = rn(v + rn(q.p1 * x.y));
        } else {
            s.refr -= 1u;
        }
        s.u = rn(rn(q.p3 * x.x) + rn(q.p2 * s.u));
        x.x = rn(rn(q.p2 * x.x) + rn(q.p6 * syn));
        x.y = rn(rn(q.p5 * x.z) + rn(q.p4 * x.y));
        x.z = rn(rn(q.p4 * x.z) + rn(q.p7 * syn_in));
        neuron_ext[n] = x;
        if s.v >= prm.p4 {
            spiked = true;
            s.v = prm.p5;
            s.refr = u32(prm.p7);
        }
    } else if has_model(MODEL_IAF_COND_EXP) && pop.model == MODEL_IAF_COND_EXP {
        // Exponential Euler (docs/MODEL.md): over the step the conductances take their exact mean
        // and V relaxes exactly toward the V_inf they set, with time constant C / g_total. Tonic
        // inhibition adds a conductance toward E_in. Then each conductance decays exactly and
        // jumps by its channel's weights (nS; inhibitory weights enter as |w|).
        var x = neuron_ext[n];
        let q = params_ext[local];
        if s.refr == 0u {
            let g_ex = rn(q.p0 * s.u);
            let g_in = rn(rn(q.p1 * x.x) + tonic);
            let g_total = rn(rn(prm.p3 + g_ex) + g_in);
            let drive = rn(rn(rn(q.p2 + rn(g_ex * q.p3)) + rn(g_in * q.p4)) + rn(prm.p6 + driven));
            let v_inf = rn(drive * recip_f32(g_total));
            let decay = exp_f32(rn(prm.p2 * g_total));
            s.v = rn(v_inf + rn(rn(s.v - v_inf) * decay));
        } else {
            s.refr -= 1u;
        }
        s.u = rn(rn(prm.p0 * s.u) + syn);
        x.x = rn(rn(prm.p1 * x.x) - syn_in);
        neuron_ext[n] = x;
        if s.v >= prm.p4 {
            spiked = true;
            s.v = prm.p5;
            s.refr = u32(prm.p7);
        }
    }

    if is_nonfinite(s.v) || is_nonfinite(s.u) {
        atomicOr(&sim.err_flags, ERR_NONFINITE);
        atomicMin(&sim.err_step, step);
        atomicMin(&sim.err_neuron, n);
    }
    neurons[n] = s;
    if TRACED && g.traced != 0u {
        // Traces decay every step and jump at a spike: STDP traces are set to 1 (nearest) or
        // raised by 1; the rate estimate rises by 1000 / activity_tau_ms.
        var tr = traces[n];
        tr.x = rn(tr.x * pop.pre_decay);
        tr.y = rn(tr.y * pop.post_decay);
        tr.z = rn(tr.z * pop.act_decay);
        if spiked {
            tr.x = select(rn(tr.x + 1.0), 1.0, (pop.trace_flags & TRACE_PRE_NEAREST) != 0u);
            tr.y = select(rn(tr.y + 1.0), 1.0, (pop.trace_flags & TRACE_POST_NEAREST) != 0u);
            tr.z = rn(tr.z + pop.act_inc);
        }
        traces[n] = tr;
    }
    if CALCIUM && g.structural != 0u && pop.grow_nu > 0.0 {
        // Calcium decays every step and rises by beta_Ca at a spike.
        var ca = rn(grow[n].x * pop.ca_decay);
        if spiked {
            ca = rn(ca + pop.ca_beta);
        }
        grow[n].x = ca;
    }
    if spiked {
        if n == watch_pre {
            sim.last_pre = step;
        }
        if n == watch_post {
            sim.last_post = step;
        }
        // A guided group of another population is driven, never counted.
        let group = select((map >> TASK_GROUP_SHIFT) & TASK_GROUP_MASK, 0u, (map & TASK_GUIDED) != 0u);
        if TASK && atomicLoad(&task[T_COUNTING]) != 0u {
            if group != 0u {
                atomicAdd(&task[T_COUNTS + group - 1u], 1u);
                atomicMin(&task[T_FIRST + group - 1u], step);
            }
            // Probe trials count every neuron's window spikes per cue (task representation).
            let cue = atomicLoad(&task[T_CUE]);
            if cue != 0u {
                atomicAdd(&rep[local * REP_CUES + cue - 1u], 1u);
            }
        }
        sim.spikes[atomicAdd(&sim.n_spikes, 1u)] = n;
        atomicAdd(&counters[s.pop], 1u);
        if RASTER && step < g.raster_steps {
            atomicOr(&counters[g.n_pops + step * g.raster_words + n / 32u], 1u << (n % 32u));
        }
        // The LFP readout's record: spikes per population in each step since the last sample.
        let rel = step - g.lfp_from;
        if LFP && rel < g.lfp_steps {
            atomicAdd(&counters[g.n_pops + g.raster_steps * g.raster_words + rel * g.n_pops + s.pop], 1u);
        }
    }
}
