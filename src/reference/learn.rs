//! CPU twin of shaders/learn.wgsl (event-driven STDP) and of the trace update in neurons.wgsl.

use crate::build::Network;
use crate::layout::{
    EMPTY, NO_RULE, NeuronState, Pop, RULE_WORDS, STATUS_SLOT_SHIFT, StdpRule, TRACE_POST_NEAREST, TRACE_PRE_NEAREST,
};

fn rn(g: &crate::layout::Globals, x: f32) -> f32 {
    f32::from_bits(x.to_bits() ^ g.opaque_zero)
}

/// Decays neuron `n`'s traces and makes them jump when it spiked (as neurons.wgsl).
pub fn update_traces(net: &mut Network, n: usize, spiked: bool) {
    let g = net.globals;
    let pop: &Pop = &net.pops[net.state[n].pop as usize];
    let tr = &mut net.traces[n];
    tr[0] = rn(&g, tr[0] * pop.pre_decay);
    tr[1] = rn(&g, tr[1] * pop.post_decay);
    tr[2] = rn(&g, tr[2] * pop.act_decay);
    if spiked {
        tr[2] = rn(&g, tr[2] + pop.act_inc);
        tr[0] = if pop.trace_flags & TRACE_PRE_NEAREST != 0 {
            1.0
        } else {
            rn(&g, tr[0] + 1.0)
        };
        tr[1] = if pop.trace_flags & TRACE_POST_NEAREST != 0 {
            1.0
        } else {
            rn(&g, tr[1] + 1.0)
        };
    }
}

/// The factor on weight changes of synapses onto `post` (common.wgsl `plasticity_factor`): it
/// multiplies each weight change once (a modulated rule's eligibility takes only `learning`).
pub fn plasticity_factor(net: &Network, post: usize) -> f32 {
    let g = net.globals;
    let st = net.status[post];
    let slot = ((st[0] >> STATUS_SLOT_SHIFT) & 3) as usize;
    let learn = net.pops[net.state[post].pop as usize].learn;
    rn(
        &g,
        rn(&g, g.learning * learn) * rn(&g, 1.0 + rn(&g, f32::from_bits(st[2]) * g.learn_window[slot])),
    )
}

fn rule(net: &Network, pre: &NeuronState, post: &NeuronState) -> Option<StdpRule> {
    net.rule_between(pre.pop as usize, post.pop as usize)
}

/// Potentiation: each plastic synapse onto a spiking neuron gains a_plus f+(w) x_pre.
pub fn post(net: &mut Network, spikes: &[u32]) {
    let g = net.globals;
    for &n in spikes {
        let (a, b) = (
            net.row_start[n as usize] as usize,
            net.row_start[n as usize + 1] as usize,
        );
        let factor = plasticity_factor(net, n as usize);
        for k in a..b {
            let pre = net.syn_pre[k];
            if pre == EMPTY {
                continue;
            }
            let Some(r) = rule(net, &net.state[pre as usize], &net.state[n as usize]) else {
                continue;
            };
            let w = net.syn_weight[k];
            let f = if r.multiplicative != 0 {
                rn(&g, r.w_max - w)
            } else {
                1.0
            };
            let x = net.traces[pre as usize][0];
            let step_dw = rn(&g, rn(&g, r.a_plus * f) * x);
            if r.modulated != 0 {
                net.syn_elig[k] = rn(&g, net.syn_elig[k] + rn(&g, step_dw * g.learning));
            } else {
                let dw = rn(&g, step_dw * factor);
                let v = rn(&g, w + dw).min(r.w_max);
                net.syn_weight[k] = v;
                if r.capture != 0 {
                    net.syn_elig[k] = rn(&g, net.syn_elig[k] + rn(&g, v - w));
                }
            }
        }
    }
}

/// Depression: each plastic synapse a spiking neuron drives loses a_minus f-(w) y_post.
pub fn pre(net: &mut Network, spikes: &[u32]) {
    let g = net.globals;
    for si in 0..net.shards.len() {
        for &n in spikes {
            let shard = &net.shards[si];
            let range = shard.out_start[n as usize] as usize..shard.out_start[n as usize + 1] as usize;
            let first = shard.first_slot;
            for li in range {
                let slot = (first + net.shards[si].out_slots[li] as u64) as usize;
                if net.syn_pre[slot] == EMPTY {
                    // Removed by a lesion; the index still lists it until it is rebuilt.
                    continue;
                }
                let post = net.target_of(slot);
                let Some(r) = rule(net, &net.state[n as usize], &net.state[post as usize]) else {
                    continue;
                };
                let w = net.syn_weight[slot];
                let f = if r.multiplicative != 0 {
                    rn(&g, w - r.w_min)
                } else {
                    1.0
                };
                let y = net.traces[post as usize][1];
                let step_dw = rn(&g, rn(&g, r.a_minus * f) * y);
                if r.modulated != 0 {
                    net.syn_elig[slot] = rn(&g, net.syn_elig[slot] - rn(&g, step_dw * g.learning));
                } else {
                    let dw = rn(&g, step_dw * plasticity_factor(net, post as usize));
                    let v = rn(&g, w - dw).max(r.w_min);
                    net.syn_weight[slot] = v;
                    if r.capture != 0 {
                        net.syn_elig[slot] = rn(&g, net.syn_elig[slot] + rn(&g, v - w));
                    }
                }
            }
        }
    }
}

/// Dopamine of each region decays one step and takes the rewards pending for this step (as
/// `prepare` in propagate.wgsl).
pub fn dopamine_step(net: &mut Network) {
    let g = net.globals;
    for m in &mut net.modulators {
        m[0] = rn(&g, rn(&g, m[0] * g.da_decay) + m[1]);
        m[1] = 0.0;
    }
}

/// The three-factor update (modulate.wgsl) over the slots of `chunks` (Network::modulated_chunks):
/// w moves by (tonic + DA of the target's region) times the eligibility, within bounds; the
/// eligibility decays.
pub fn modulate(net: &mut Network, chunks: &[u32]) {
    let g = net.globals;
    let chunk = crate::layout::ROW_CHUNK;
    for slot in chunks.iter().flat_map(|c| c * chunk..(c + 1) * chunk) {
        let slot = slot as usize;
        let pre = net.syn_pre[slot];
        if pre == EMPTY {
            continue;
        }
        let post = net.target_of(slot);
        let Some(r) = rule(net, &net.state[pre as usize], &net.state[post as usize]) else {
            continue;
        };
        if r.modulated == 0 {
            continue;
        }
        let region = net.pops[net.state[post as usize].pop as usize].region as usize;
        let c = net.syn_elig[slot];
        let m = rn(&g, g.da_tonic + net.modulators[region][0]);
        let factor = plasticity_factor(net, post as usize);
        net.syn_weight[slot] = rn(&g, net.syn_weight[slot] + rn(&g, rn(&g, m * c) * factor))
            .max(r.w_min)
            .min(r.w_max);
        net.syn_elig[slot] = rn(&g, c * r.elig_decay);
    }
}

/// CPU twin of shaders/weights.wgsl: PLASTIC_WORDS words of statistics per plastic rule.
pub fn weight_stats(net: &Network) -> Vec<u32> {
    use crate::layout::{ELIG_CLAMP, ELIG_SCALE, HIST_BINS, PLASTIC_WORDS};
    let g = net.globals;
    let np = net.pops.len();
    let n_rules = (net.rules.len() - np * np) / RULE_WORDS;
    let mut count = vec![0u32; n_rules];
    let mut sum = vec![0i64; n_rules];
    let mut sq = vec![0i64; n_rules];
    let mut at = vec![[0u32; 2]; n_rules];
    let mut elig = vec![0i64; n_rules];
    let mut hist = vec![[0u32; HIST_BINS as usize]; n_rules];
    let mut captured = vec![[0u32; 2]; n_rules];
    for slot in 0..net.syn_pre.len() {
        let pre = net.syn_pre[slot];
        if pre == EMPTY {
            continue;
        }
        let post = net.target_of(slot);
        let ri = net.rules[net.state[pre as usize].pop as usize * np + net.state[post as usize].pop as usize];
        if ri == NO_RULE {
            continue;
        }
        let r = rule(net, &net.state[pre as usize], &net.state[post as usize]).expect("rule");
        let i = ri as usize;
        let w = net.syn_weight[slot];
        count[i] = count[i].wrapping_add(1);
        sum[i] = sum[i].wrapping_add(rn(&g, w * g.conn_scale).round_ties_even() as i32 as i64);
        sq[i] = sq[i].wrapping_add(rn(&g, rn(&g, w * w) * g.sq_scale).round_ties_even() as i32 as i64);
        at[i][0] += (w <= r.w_min) as u32;
        at[i][1] += (w >= r.w_max) as u32;
        if g.modulated != 0 || g.capture_every != 0 {
            let c = net.syn_elig[slot].clamp(-ELIG_CLAMP, ELIG_CLAMP);
            elig[i] = elig[i].wrapping_add(rn(&g, c * ELIG_SCALE).round_ties_even() as i32 as i64);
        }
        if r.capture != 0 {
            captured[i][0] += (net.syn_elig[slot].abs() > r.tag_threshold) as u32;
            captured[i][1] += (net.syn_late[slot].abs() >= rn(&g, 0.5 * r.tag_threshold)) as u32;
        }
        let x = rn(
            &g,
            rn(&g, rn(&g, w - r.w_min) / rn(&g, r.w_max - r.w_min)) * HIST_BINS as f32,
        );
        let bin = x.floor().max(0.0).min((HIST_BINS - 1) as f32) as usize;
        hist[i][bin] += 1;
    }
    let mut words = vec![0u32; n_rules * PLASTIC_WORDS];
    for i in 0..n_rules {
        let w = &mut words[i * PLASTIC_WORDS..(i + 1) * PLASTIC_WORDS];
        w[0] = count[i];
        (w[1], w[2]) = (sum[i] as u32, (sum[i] >> 32) as u32);
        (w[3], w[4]) = (sq[i] as u32, (sq[i] >> 32) as u32);
        (w[5], w[6]) = (at[i][0], at[i][1]);
        (w[7], w[8]) = (elig[i] as u32, (elig[i] >> 32) as u32);
        w[9..9 + HIST_BINS as usize].copy_from_slice(&hist[i]);
        (w[29], w[30]) = (captured[i][0], captured[i][1]);
    }
    words
}

/// CPU twin of shaders/scale.wgsl: homeostatic scaling of every synapse onto a scaled neuron.
pub fn scale(net: &mut Network) {
    let g = net.globals;
    let np = net.pops.len();
    for slot in 0..net.syn_pre.len() {
        let pre = net.syn_pre[slot];
        if pre == EMPTY {
            continue;
        }
        let post = net.target_of(slot) as usize;
        let post_pop = net.state[post].pop as usize;
        let pop = net.pops[post_pop];
        if pop.scale_target == 0.0 {
            continue;
        }
        let w = net.syn_weight[slot];
        let d = rn(
            &g,
            rn(&g, pop.scale_gain * g.offline) * rn(&g, pop.scale_target - net.traces[post][2]),
        );
        let factor = if w >= 0.0 { rn(&g, 1.0 + d) } else { rn(&g, 1.0 - d) }.max(0.0);
        let mut v = rn(&g, w * factor).max(-pop.scale_cap).min(pop.scale_cap);
        if net.rules[net.state[pre as usize].pop as usize * np + post_pop] != NO_RULE {
            let r = rule(net, &net.state[pre as usize], &net.state[post]).expect("rule");
            v = v.max(r.w_min).min(r.w_max);
        }
        net.syn_weight[slot] = v;
    }
}

/// CPU twin of shaders/capture.wgsl: tagging and capture, neuron by neuron over its row.
pub fn capture(net: &mut Network) {
    let g = net.globals;
    let np = net.pops.len();
    let capture_rule = |net: &Network, k: usize, post_pop: usize| -> Option<usize> {
        let pre = net.syn_pre[k];
        if pre == EMPTY {
            return None;
        }
        let ri = net.rules[net.state[pre as usize].pop as usize * np + post_pop];
        (ri != NO_RULE && net.rules[np * np + RULE_WORDS * ri as usize + 7] != 0).then_some(ri as usize)
    };
    for n in 0..net.state.len() {
        let (begin, end) = (net.row_start[n] as usize, net.row_start[n + 1] as usize);
        let post_pop = net.state[n].pop as usize;
        let mut total = 0.0f32;
        let mut found = None;
        for k in begin..end {
            if let Some(ri) = capture_rule(net, k, post_pop) {
                total = rn(&g, total + net.syn_elig[k].abs());
                found = Some(ri);
            }
        }
        let Some(ri) = found else { continue };
        let b = np * np + RULE_WORDS * ri;
        let r: StdpRule = *bytemuck::from_bytes(bytemuck::cast_slice(&net.rules[b..b + RULE_WORDS]));
        let on = if total > r.protein_threshold { 1.0 } else { 0.0 };
        let p = rn(
            &g,
            rn(&g, net.traces[n][3] * r.protein_decay) + rn(&g, rn(&g, 1.0 - r.protein_decay) * on),
        );
        net.traces[n][3] = p;
        for k in begin..end {
            if capture_rule(net, k, post_pop).is_none() {
                continue;
            }
            let mut e = net.syn_elig[k];
            if e.abs() > r.tag_threshold {
                let moved = rn(&g, rn(&g, e * p) * r.late_rate);
                e = rn(&g, e - moved);
                net.syn_late[k] = rn(&g, net.syn_late[k] + moved);
            }
            let e2 = rn(&g, e * r.early_decay);
            net.syn_weight[k] = rn(&g, net.syn_weight[k] - rn(&g, e - e2));
            net.syn_elig[k] = e2;
        }
    }
}

/// CPU twin of the pair reward in propagate.wgsl's `prepare`: a reward falls due after a random
/// delay when the watched postsynaptic neuron fired 1..window steps after the presynaptic one;
/// rewards due at `step` join the pending dopamine.
pub fn pair_reward(net: &mut Network, step: u32) {
    let g = net.globals;
    let h = &mut net.header;
    if h.watch_pre == EMPTY {
        return;
    }
    let since = if h.last_pre == EMPTY || h.last_pre > step {
        u32::MAX
    } else {
        step - h.last_pre
    };
    if h.last_post == step && since >= 1 && since <= h.window {
        let u = crate::rng::unit_f32(crate::rng::draw(
            crate::rng::base(g.key, crate::rng::stream::REWARD, step, 0),
            0,
        ));
        let due = step + h.delay_lo + ((u * (h.delay_span + 1) as f32) as u32).min(h.delay_span);
        if let Some(q) = h.queue.iter_mut().find(|q| **q == EMPTY) {
            *q = due;
        }
    }
    for q in 0..h.queue.len() {
        if h.queue[q] == step {
            h.queue[q] = EMPTY;
            for (r, m) in net.modulators.iter_mut().enumerate() {
                if h.reward_region == EMPTY || h.reward_region == r as u32 {
                    m[1] = rn(&g, m[1] + h.reward_amount);
                }
            }
        }
    }
}
