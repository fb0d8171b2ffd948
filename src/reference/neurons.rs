//! CPU twin of shaders/neurons.wgsl: the same f32 operations in the same order.

use crate::layout::{
    Globals, MODEL_IAF_COND_EXP, MODEL_IAF_PSC_ALPHA, MODEL_IZHIKEVICH, MODEL_PERIODIC, MODEL_SPIKE_SOURCE, NeuronExt,
    NeuronParams, NeuronState, PoissonSource, Pop, REP_CUES, STATUS_ALIVE, STATUS_SLOT_SHIFT, T_COUNTING, T_COUNTS,
    T_CUE, T_DRIVE, T_FIRST, T_GUIDE, TASK_GROUP_MASK, TASK_GROUP_SHIFT, TASK_GUIDED,
};
use crate::rng;

/// What one neuron's step produced.
pub struct Outcome {
    pub spiked: bool,
    pub nonfinite: bool,
}

#[expect(clippy::too_many_arguments, reason = "mirrors the shader's bindings one to one")]
/// Integrates neuron `n` over `step`, given its delay-ring input (fixed point, already cleared):
/// `ring_in` the first channel's, `ring_inh` the second's (0 with one channel). `ext` and `q` are
/// its NeuronExt state and parameters (ignored by the one-input models).
pub fn step_neuron(
    g: &Globals,
    pops: &[Pop],
    poisson: &[PoissonSource],
    s: &mut NeuronState,
    prm: &NeuronParams,
    ext: &mut NeuronExt,
    q: &NeuronParams,
    ring_in: i32,
    ring_inh: i32,
    step: u32,
    n: u32,
    st: &[u32; 4],
    task: &mut [u32],
    rep: &mut [u32],
) -> Outcome {
    let pop = &pops[s.pop as usize];
    let rn = |x: f32| f32::from_bits(x.to_bits() ^ g.opaque_zero);
    if st[0] & STATUS_ALIVE == 0 {
        // A dead neuron neither integrates nor fires; its input is dropped.
        return Outcome {
            spiked: false,
            nonfinite: false,
        };
    }
    // A two-channel model keeps its excitatory input in `syn` and its inhibitory input (negative)
    // in `syn_in`; any other model takes the channels' integer sum, the one-channel value.
    let split = g.ring_channels > 1 && crate::layout::two_channel(pop.model);
    let first = if split { ring_in } else { ring_in.wrapping_add(ring_inh) };
    let mut syn = rn(first as f32 * g.inv_ring_scale);
    let mut syn_in = if split {
        rn(ring_inh as f32 * g.inv_ring_scale)
    } else {
        0.0
    };
    for i in 0..pop.input_count {
        let src = &poisson[(pop.input_first + i) as usize];
        if step < src.start || step >= src.end {
            continue;
        }
        let mut k = 0u32;
        for r in 0..src.repeats {
            let stream = rng::stream::POISSON_SIM + ((pop.input_first + i) << 8) + r;
            k += rng::poisson_knuth(rng::base(g.key, stream, step, n), src.exp_neg_lambda, src.cap);
        }
        let x = rn(src.weight * k as f32);
        if split && src.weight < 0.0 {
            syn_in = rn(syn_in + x);
        } else {
            syn = rn(syn + x);
        }
    }
    let mut current = rn(pop.dc + pop.noise_mean);
    if pop.noise_sd > 0.0 {
        current = rn(current + rn(pop.noise_sd * rng::normal_f32(rng::base(g.key, rng::stream::NOISE, step, n), 0)));
    }

    let map = st[3];
    let group = (map >> TASK_GROUP_SHIFT) & TASK_GROUP_MASK;
    // A guided group of another population is driven, never counted.
    let counted = if map & TASK_GUIDED != 0 { 0 } else { group };
    if map != 0 {
        for c in 0..16 {
            if map & (1 << c) != 0 {
                current = rn(current + f32::from_bits(task[T_DRIVE + c]));
            }
        }
        if group != 0 {
            current = rn(current + f32::from_bits(task[T_GUIDE + group as usize - 1]));
        }
    }
    let slot = ((st[0] >> STATUS_SLOT_SHIFT) & 3) as usize;
    let pen = f32::from_bits(st[1]);
    let gain = rn(pop.gain * rn(1.0 - rn(pen * g.deficit[slot])));
    syn = rn(syn * gain);
    if split {
        syn_in = rn(syn_in * gain);
    }
    let driven = rn(current * gain);
    let tonic = rn(pen * g.tonic[slot]);
    current = rn(driven - tonic);

    let mut spiked = false;
    if pop.model == MODEL_IZHIKEVICH {
        let i_total = rn(current + rn(syn * g.inv_dt));
        let dv = |v: f32, u: f32| {
            let quadratic = rn(rn(0.04 * v) * v);
            rn(rn(rn(rn(quadratic + rn(5.0 * v)) + 140.0) - u) + i_total)
        };
        let mut v = s.v;
        let u = s.u;
        v = rn(v + rn(g.half_dt * dv(v, u))).min(30.0);
        v = rn(v + rn(g.half_dt * dv(v, u))).min(30.0);
        s.u = rn(u + rn(rn(g.dt * prm.p0) * rn(rn(prm.p1 * v) - u)));
        s.v = v;
        if v >= 30.0 {
            spiked = true;
            s.v = prm.p2;
            s.u = rn(s.u + prm.p3);
        }
    } else if pop.model == MODEL_PERIODIC {
        let (period, phase, count) = (prm.p0 as u32, prm.p1 as u32, prm.p2 as u32);
        spiked =
            step >= phase && (step - phase).is_multiple_of(period) && (count == 0 || (step - phase) / period < count);
    } else if pop.model == MODEL_SPIKE_SOURCE {
        spiked = rng::unit_f32(rng::draw(rng::base(g.key, rng::stream::SOURCE, step, n), 0)) < prm.p0;
    } else if pop.model == MODEL_IAF_PSC_ALPHA {
        if s.refr == 0 {
            let mut v = rn(rn(prm.p0 * s.v) + rn(prm.p2 * rn(prm.p6 + current)));
            v = rn(v + rn(prm.p1 * ext[0]));
            v = rn(v + rn(prm.p3 * s.u));
            v = rn(v + rn(q.p0 * ext[2]));
            s.v = rn(v + rn(q.p1 * ext[1]));
        } else {
            s.refr -= 1;
        }
        s.u = rn(rn(q.p3 * ext[0]) + rn(q.p2 * s.u));
        ext[0] = rn(rn(q.p2 * ext[0]) + rn(q.p6 * syn));
        ext[1] = rn(rn(q.p5 * ext[2]) + rn(q.p4 * ext[1]));
        ext[2] = rn(rn(q.p4 * ext[2]) + rn(q.p7 * syn_in));
        if s.v >= prm.p4 {
            spiked = true;
            s.v = prm.p5;
            s.refr = prm.p7 as u32;
        }
    } else if pop.model == MODEL_IAF_COND_EXP {
        if s.refr == 0 {
            let g_ex = rn(q.p0 * s.u);
            let g_in = rn(rn(q.p1 * ext[0]) + tonic);
            let g_total = rn(rn(prm.p3 + g_ex) + g_in);
            let drive = rn(rn(rn(q.p2 + rn(g_ex * q.p3)) + rn(g_in * q.p4)) + rn(prm.p6 + driven));
            let v_inf = rn(drive * rng::recip_f32(g_total));
            let decay = rng::exp_f32(rn(prm.p2 * g_total));
            s.v = rn(v_inf + rn(rn(s.v - v_inf) * decay));
        } else {
            s.refr -= 1;
        }
        s.u = rn(rn(prm.p0 * s.u) + syn);
        ext[0] = rn(rn(prm.p1 * ext[0]) - syn_in);
        if s.v >= prm.p4 {
            spiked = true;
            s.v = prm.p5;
            s.refr = prm.p7 as u32;
        }
    } else {
        if s.refr == 0 {
            s.v = rn(rn(rn(prm.p0 * s.v) + rn(prm.p1 * s.u)) + rn(prm.p2 * rn(prm.p6 + current)));
        } else {
            s.refr -= 1;
        }
        s.u = rn(rn(prm.p3 * s.u) + syn);
        if s.v >= prm.p4 {
            spiked = true;
            s.v = prm.p5;
            s.refr = prm.p7 as u32;
        }
    }
    if spiked && task[T_COUNTING] != 0 {
        if counted != 0 {
            let g = counted as usize - 1;
            task[T_COUNTS + g] += 1;
            task[T_FIRST + g] = task[T_FIRST + g].min(step);
        }
        let cue = task[T_CUE] as usize;
        if cue != 0 {
            rep[n as usize * REP_CUES + cue - 1] += 1;
        }
    }
    Outcome {
        spiked,
        nonfinite: !s.v.is_finite() || !s.u.is_finite(),
    }
}
