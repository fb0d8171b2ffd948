//! CPU twin of shaders/structure.wgsl: calcium, element growth, the spine life cycle, partner
//! choice and the outgoing-index rebuild, with the same f32 operations, draws and order of
//! effects, so slot contents, ages and the index agree with the GPU exactly.

use crate::build::{self, Network};
use crate::layout::{
    CALCIUM_SCALE, EMPTY, GROW_TYPED_DENDRITES, MAX_ELEMENTS, NO_RULE, POP_STRUCT_WORDS, PS_BOUTONS,
    PS_BOUTONS_DELETED, PS_BOUTONS_FORMED, PS_CALCIUM_HI, PS_CALCIUM_LO, PS_CENSUS_WORDS, PS_CONN_BOUTONS,
    PS_CONN_SPINES, PS_CONN_SPINES_IN, PS_NEURONS, PS_SPINES, PS_SPINES_DELETED, PS_SPINES_FORMED, PS_SPINES_IN,
    PS_SPINES_IN_DELETED, PS_SPINES_IN_FORMED, REGION_STRUCT_WORDS, ROW_CHUNK_SHIFT, SPINE_PROPOSED, SPINE_STABLE,
    SPROUT_ABSOLUTE, SPROUT_AUTAPSES, SPROUT_INHIBITORY, SPROUT_WORDS, SS_BOUTONS, SS_FORMED, SS_FREE_BOUTONS,
    SS_FREE_SPINES, SS_MISSES, SS_NASCENT, SS_PERSISTENT, SS_PRUNED, SS_RETRACTED, SS_SPINES, SS_STABLE, STATUS_ALIVE,
    STATUS_SLOT_SHIFT, STRUCT_HEADER_WORDS, SproutRule, StructParams,
};
use crate::rng::{self, exp_f32, stream};

/// The `structure` buffer read as the shader reads it.
pub struct View<'a> {
    words: &'a [u32],
    pub p: StructParams,
    n_pops: usize,
    n_regions: usize,
}

impl<'a> View<'a> {
    pub fn new(words: &'a [u32], n_pops: usize, n_regions: usize) -> Self {
        let p: StructParams = *bytemuck::from_bytes(bytemuck::cast_slice(&words[..STRUCT_HEADER_WORDS]));
        View {
            words,
            p,
            n_pops,
            n_regions,
        }
    }

    pub fn rule(&self, k: u32) -> SproutRule {
        let at = STRUCT_HEADER_WORDS + SPROUT_WORDS * k as usize;
        *bytemuck::from_bytes(bytemuck::cast_slice(&self.words[at..at + SPROUT_WORDS]))
    }

    fn pairs_at(&self) -> usize {
        STRUCT_HEADER_WORDS + SPROUT_WORDS * self.p.n_rules as usize
    }

    /// The sprout rule of a (source population, target population) pair, or NO_RULE.
    pub fn pair(&self, source_pop: u32, target_pop: u32) -> u32 {
        self.words[self.pairs_at() + source_pop as usize * self.n_pops + target_pop as usize]
    }

    fn region_at(&self) -> usize {
        self.pairs_at() + self.n_pops * self.n_pops
    }

    /// (glia, 1 / glia) of a region.
    pub fn glia(&self, r: u32) -> (f32, f32) {
        let at = self.region_at() + 2 * r as usize;
        (f32::from_bits(self.words[at]), f32::from_bits(self.words[at + 1]))
    }

    pub fn centre(&self, r: u32) -> [f32; 3] {
        let at = self.region_at() + 2 * self.n_regions + 4 * r as usize;
        [0, 1, 2].map(|i| f32::from_bits(self.words[at + i]))
    }

    /// Where the per-bin statistics start in `sstats`.
    pub fn bins_at(&self) -> usize {
        REGION_STRUCT_WORDS * self.n_regions
    }
}

fn view<'a>(net: &Network, words: &'a [u32]) -> View<'a> {
    let mut v = View::new(words, net.pops.len(), net.globals.n_regions as usize);
    // Offline phases run the spine life cycle faster.
    let k = net.globals.offline;
    v.p.r_stab *= k;
    v.p.r_nascent *= k;
    v.p.r_stable *= k;
    v
}

fn dist2(d: [f32; 3]) -> f32 {
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// Calcium of neuron `n` after its step (the `neurons` stage): decay, plus beta_Ca at a spike.
pub fn calcium(net: &mut Network, n: usize, spiked: bool) {
    let pop = &net.pops[net.state[n].pop as usize];
    if pop.grow_nu > 0.0 {
        let mut ca = net.grow[n][0] * pop.ca_decay;
        if spiked {
            ca += pop.ca_beta;
        }
        net.grow[n][0] = ca;
    }
}

fn pop_of(net: &Network, neuron: u32) -> u32 {
    net.state[neuron as usize].pop
}

fn region_of(net: &Network, neuron: u32) -> u32 {
    net.pops[pop_of(net, neuron) as usize].region
}

/// One structural update at `step` (the step about to begin, as the GPU's header counts).
pub fn update(net: &mut Network, step: u64) {
    let step = step as u32;
    elements(net);
    let pool = pool(net);
    spines(net, step);
    tidy(net);
    let demand = form(net, step, &pool);
    accept(net, step, &demand);
    for s in 0..net.shards.len() {
        let (lo, hi) = (net.shards[s].first_neuron as usize, net.shards[s].end_neuron as usize);
        net.shards[s] = build::shard(&net.syn_pre, &net.row_start, net.globals.n_neurons as usize, lo, hi);
    }
}

/// Element growth per neuron (`elements` stage): the growth curve on calcium, neurotrophin, and
/// the free and surplus boutons and spines against the connected ones.
fn elements(net: &mut Network) {
    let n = net.globals.n_neurons as usize;
    let words = net.structure.clone();
    let view = view(net, &words);
    for r in 0..net.globals.n_regions as usize {
        for w in [SS_FREE_BOUTONS, SS_FREE_SPINES, SS_BOUTONS, SS_SPINES] {
            net.sstats[r * REGION_STRUCT_WORDS + w] = 0;
        }
    }
    for t in 0..n {
        let pi = pop_of(net, t as u32);
        let pop = net.pops[pi as usize];
        let bin = net.elem[t][3];
        let st = net.status[t];
        let alive = st[0] & STATUS_ALIVE != 0;
        if pop.grow_nu <= 0.0 || !alive {
            net.elem[t] = [0, 0, 0, bin, 0, 0, 0, 0, 0, 0, 0, 0];
            if !alive {
                net.grow[t] = [0.0; 4];
            }
            continue;
        }
        let g = net.grow[t];
        let ca = g[0];
        let gl = net.globals;
        let slot = ((st[0] >> STATUS_SLOT_SHIFT) & 3) as usize;
        let boost = gl.offline * (1.0 + f32::from_bits(st[2]) * gl.grow_window[slot]);
        let (mut conn_d, mut conn_i) = (0u32, 0u32);
        for k in net.row_start[t] as usize..net.row_start[t + 1] as usize {
            let pre = net.syn_pre[k];
            if pre == EMPTY {
                continue;
            }
            let rk = view.pair(pop_of(net, pre), pi);
            if rk != NO_RULE {
                if in_inhibitory_pool(pop.grow_flags, view.rule(rk).flags) {
                    conn_i += 1;
                } else {
                    conn_d += 1;
                }
            }
        }
        let conn_a = net.boutons[t];
        // Vacant elements decay (NEST's tau_vacant), then each type moves on its curve.
        let v = pop.grow_vacant;
        // Each type stops at its capacity (at most MAX_ELEMENTS).
        let (cap_a, cap_d) = ((pop.grow_caps & 0xffff) as f32, (pop.grow_caps >> 16) as f32);
        let za = (vacated(g[1], conn_a, v) + growth(ca, pop.axon_nu, pop.axon_xi, pop.axon_inv_zeta, boost))
            .max(0.0)
            .min(cap_a);
        let zd = (vacated(g[2], conn_d, v) + growth(ca, pop.den_ex_nu, pop.den_ex_xi, pop.den_ex_inv_zeta, boost))
            .max(0.0)
            .min(cap_d);
        let typed = pop.grow_flags & GROW_TYPED_DENDRITES != 0;
        let zi = if typed {
            let z_in = f32::from_bits(net.elem[t][11]);
            (vacated(z_in, conn_i, v) + growth(ca, pop.den_in_nu, pop.den_in_xi, pop.den_in_inv_zeta, boost))
                .max(0.0)
                .min(pop.grow_cap_in as f32)
        } else {
            0.0
        };
        let p = view.p;
        let da = net.modulators[pop.region as usize][0];
        let trophin =
            (g[3] * p.trophin_decay + (1.0 - p.trophin_decay) * (ca * pop.grow_inv_eps)) + p.trophin_reward * da;
        let (fa, fd, fi) = (za as u32, zd as u32, zi as u32);
        net.elem[t] = [
            fa.saturating_sub(conn_a),
            conn_a.saturating_sub(fa),
            conn_a,
            bin,
            fd.saturating_sub(conn_d),
            conn_d.saturating_sub(fd),
            conn_d,
            trophin.to_bits(),
            fi.saturating_sub(conn_i),
            conn_i.saturating_sub(fi),
            conn_i,
            zi.to_bits(),
        ];
        net.grow[t] = [ca, za, zd, trophin];
        let at = pop.region as usize * REGION_STRUCT_WORDS;
        let e = net.elem[t];
        net.sstats[at + SS_FREE_BOUTONS] += e[0];
        net.sstats[at + SS_FREE_SPINES] += e[4] + e[8];
        net.sstats[at + SS_BOUTONS] += fa;
        net.sstats[at + SS_SPINES] += fd + fi;
    }
}

/// Exclusive prefix sums of the free boutons over all neurons (`pool` stage), n + 1 entries.
fn pool(net: &Network) -> Vec<u32> {
    let mut pool = Vec::with_capacity(net.elem.len() + 1);
    let mut total = 0u32;
    for e in &net.elem {
        pool.push(total);
        total = total.wrapping_add(e[0]);
    }
    pool.push(total);
    pool
}

/// Empties slot `k` (its synapse retracted or pruned).
fn clear_slot(net: &mut Network, k: usize) {
    net.syn_pre[k] = EMPTY;
    net.syn_weight[k] = 0.0;
    net.syn_delay[k] = 0;
    net.syn_born[k] = 0;
}

/// The spine life cycle per slot (`spines` stage): retraction of surplus elements, then
/// stabilization or pruning.
fn spines(net: &mut Network, step: u32) {
    let key = net.globals.key;
    let words = net.structure.clone();
    let view = view(net, &words);
    let bins_at = view.bins_at();
    for k in 0..net.syn_pre.len() {
        let pre = net.syn_pre[k];
        if pre == EMPTY {
            continue;
        }
        let post = net.syn_owner[k >> ROW_CHUNK_SHIFT];
        let pt = pop_of(net, post);
        let rk = view.pair(pop_of(net, pre), pt);
        if rk == NO_RULE {
            continue;
        }
        let o = (k as u64 - net.row_start[post as usize]) as u32;
        let base = rng::base(key, stream::SPINE, step, post);
        // The spine pool the synapse belongs to: the inhibitory one where dendrites are typed.
        let in_pool = in_inhibitory_pool(net.pops[pt as usize].grow_flags, view.rule(rk).flags);
        let d = if in_pool { 8 } else { 4 };
        let (ea, ed) = (net.elem[pre as usize], net.elem[post as usize]);
        let retract = (ea[1] > 0 && rng::draw(base, 4 * o) % ea[2].max(1) < ea[1])
            || (ed[d + 1] > 0 && rng::draw(base, 4 * o + 1) % ed[d + 2].max(1) < ed[d + 1]);
        let region = region_of(net, post);
        let mut gone = None;
        if retract {
            gone = Some(SS_RETRACTED);
        } else {
            let p = view.p;
            let u = rng::unit_f32(rng::draw(base, 4 * o + 2));
            let (glia, inv_glia) = view.glia(region);
            let w = net.syn_weight[k].abs();
            let d = net.syn_delay[k] as u32;
            if d & SPINE_STABLE != 0 {
                let r = if w < p.prune_w {
                    p.r_nascent * inv_glia
                } else {
                    p.r_stable
                };
                if u < 1.0 - exp_f32(-r) {
                    gone = Some(SS_PRUNED);
                }
            } else if w >= p.stab_w && step.wrapping_sub(net.syn_born[k]) >= p.stab_after_steps {
                let r = p.r_stab * net.grow[post as usize][3] * glia;
                if u < 1.0 - exp_f32(-r) {
                    net.syn_delay[k] = (d | SPINE_STABLE) as u16;
                }
            } else if u < 1.0 - exp_f32(-(p.r_nascent * inv_glia)) {
                gone = Some(SS_PRUNED);
            }
        }
        if let Some(what) = gone {
            let bin = net.elem[post as usize][3] as usize;
            clear_slot(net, k);
            net.sstats[region as usize * REGION_STRUCT_WORDS + what] += 1;
            net.sstats[bins_at + 2 * bin + 1] += 1;
            let (at_post, at_pre) = (pop_words(net, post), pop_words(net, pre));
            net.sstats[at_post
                + if in_pool {
                    PS_SPINES_IN_DELETED
                } else {
                    PS_SPINES_DELETED
                }] += 1;
            net.sstats[at_pre + PS_BOUTONS_DELETED] += 1;
        }
    }
}

/// Eligibility and late phase of empty slots back to 0 (`tidy` stage), so a synapse formed there
/// later starts clean.
fn tidy(net: &mut Network) {
    for k in 0..net.syn_pre.len() {
        if net.syn_pre[k] == EMPTY {
            if let Some(e) = net.syn_elig.get_mut(k) {
                *e = 0.0;
            }
            if let Some(l) = net.syn_late.get_mut(k) {
                *l = 0.0;
            }
        }
    }
}

/// Partner choice per neuron with free spines (`form` stage): each free spine takes an empty slot
/// of the row and draws up to `tries` candidates, source population by free boutons, source
/// neuron by free boutons, accepted with min(1, gain exp(-d^2 / length^2)), d topographic or
/// absolute as the rule says. Returns proposals per source.
fn form(net: &mut Network, step: u32, pool: &[u32]) -> Vec<u32> {
    let n = net.globals.n_neurons as usize;
    let key = net.globals.key;
    let mut demand = vec![0u32; n];
    let words = net.structure.clone();
    let view = view(net, &words);
    for t in 0..n {
        let pt = pop_of(net, t as u32);
        let typed = net.pops[pt as usize].grow_flags & GROW_TYPED_DENDRITES != 0;
        let free_ex = net.elem[t][4];
        let free_in = if typed { net.elem[t][8] } else { 0 };
        if free_ex + free_in == 0 {
            continue;
        }
        let p = view.p;
        let avail = |r: &SproutRule| {
            let s = &net.pops[r.from_pop as usize];
            pool[(s.first + s.count) as usize].wrapping_sub(pool[s.first as usize])
        };
        // Whether a spine of the inhibitory pool (or the other) takes a rule's synapses.
        let takes = |r: &SproutRule, in_pool: bool| !typed || (r.flags & SPROUT_INHIBITORY != 0) == in_pool;
        let base = rng::base(key, stream::FORM, step, t as u32);
        let rt = net.pops[pt as usize].region;
        let ct = view.centre(rt);
        let pos_t = net.positions[t];
        let off_t = [0, 1, 2].map(|i| pos_t[i] - ct[i]);
        let (row, end) = (net.row_start[t] as usize, net.row_start[t + 1] as usize);
        let mut slot = row;
        let mut c = 0u32;
        // The excitatory (or only) spine pool, then the inhibitory one.
        for (free, in_pool) in [(free_ex, false), (free_in, true)] {
            if free == 0 {
                continue;
            }
            let mut total = 0u32;
            for k in 0..p.n_rules {
                let r = view.rule(k);
                if r.to_pop == pt && takes(&r, in_pool) {
                    total += avail(&r);
                }
            }
            if total == 0 {
                continue;
            }
            let mut made = 0u32;
            while made < free {
                while slot < end && net.syn_pre[slot] != EMPTY {
                    slot += 1;
                }
                if slot == end {
                    net.sstats[rt as usize * REGION_STRUCT_WORDS + SS_MISSES] += free - made;
                    break;
                }
                let mut found = None;
                for _ in 0..p.tries {
                    let mut v = rng::draw(base, c) % total;
                    c += 1;
                    let mut rule = view.rule(0);
                    for k in 0..p.n_rules {
                        let r = view.rule(k);
                        if r.to_pop != pt || !takes(&r, in_pool) {
                            continue;
                        }
                        let a = avail(&r);
                        if v < a {
                            rule = r;
                            break;
                        }
                        v -= a;
                    }
                    let s = &net.pops[rule.from_pop as usize];
                    // The source neuron i with pool[i] <= pool[first] + v < pool[i + 1].
                    let want = pool[s.first as usize] + v;
                    let (mut lo, mut hi) = (s.first, s.first + s.count - 1);
                    while lo < hi {
                        let mid = (lo + hi).div_ceil(2);
                        if pool[mid as usize] <= want {
                            lo = mid;
                        } else {
                            hi = mid - 1;
                        }
                    }
                    let i = lo;
                    let u = rng::unit_f32(rng::draw(base, c));
                    c += 1;
                    if i == t as u32 && rule.flags & SPROUT_AUTAPSES == 0 {
                        continue;
                    }
                    let pos_i = net.positions[i as usize];
                    // Topographic: between the offsets from the region centres; absolute: in space.
                    let d = if rule.distance == SPROUT_ABSOLUTE {
                        [0, 1, 2].map(|x| pos_i[x] - pos_t[x])
                    } else {
                        let ci = view.centre(s.region);
                        [0, 1, 2].map(|x| (pos_i[x] - ci[x]) - off_t[x])
                    };
                    // gain 1 leaves the probability exactly as it is (1 x p rounds to p).
                    if u < rule.gain * exp_f32(-(dist2(d) * rule.inv_len2)) {
                        found = Some(i);
                        break;
                    }
                }
                let Some(i) = found else {
                    // This spine found no partner this time; the next one tries the same slot.
                    made += 1;
                    continue;
                };
                net.syn_pre[slot] = i;
                net.syn_delay[slot] = SPINE_PROPOSED as u16;
                demand[i as usize] += 1;
                made += 1;
                slot += 1;
            }
        }
    }
    demand
}

/// Acceptance of proposals by the sources' free boutons (`count` stage, before counting): all
/// when the source has enough, otherwise each with probability free / proposals. An accepted
/// synapse is a nascent spine with the rule's weight and delay, born now.
fn accept(net: &mut Network, step: u32, demand: &[u32]) {
    let key = net.globals.key;
    let words = net.structure.clone();
    let view = view(net, &words);
    let bins_at = view.bins_at();
    net.boutons.iter_mut().for_each(|b| *b = 0);
    for k in 0..net.syn_pre.len() {
        let pre = net.syn_pre[k];
        if pre == EMPTY {
            continue;
        }
        let post = net.syn_owner[k >> ROW_CHUNK_SHIFT];
        let rule = view.pair(pop_of(net, pre), pop_of(net, post));
        if net.syn_delay[k] as u32 & SPINE_PROPOSED != 0 {
            let free = net.elem[pre as usize][0];
            let dem = demand[pre as usize];
            let o = (k as u64 - net.row_start[post as usize]) as u32;
            let ok = dem <= free || rng::draw(rng::base(key, stream::ACCEPT, step, post), o) % dem < free;
            if ok {
                let r = view.rule(rule);
                let region = region_of(net, post) as usize;
                let bin = net.elem[post as usize][3] as usize;
                net.syn_weight[k] = r.weight;
                net.syn_delay[k] = r.delay as u16;
                net.syn_born[k] = step;
                net.sstats[region * REGION_STRUCT_WORDS + SS_FORMED] += 1;
                net.sstats[bins_at + 2 * bin] += 1;
                let (at_post, at_pre) = (pop_words(net, post), pop_words(net, pre));
                let in_pool = in_inhibitory_pool(net.pops[pop_of(net, post) as usize].grow_flags, r.flags);
                net.sstats[at_post + if in_pool { PS_SPINES_IN_FORMED } else { PS_SPINES_FORMED }] += 1;
                net.sstats[at_pre + PS_BOUTONS_FORMED] += 1;
            } else {
                net.syn_pre[k] = EMPTY;
                net.syn_delay[k] = 0;
                continue;
            }
        }
        if rule != NO_RULE {
            net.boutons[pre as usize] += 1;
        }
    }
}

/// Spines by state and persistent spines per region, at a sample (`census` stage): the words
/// SS_NASCENT, SS_STABLE, SS_PERSISTENT of `sstats` are overwritten; then calcium and elements per
/// population (`census_pops`).
pub fn census(net: &mut Network, step: u64) {
    let step = step as u32;
    for r in 0..net.globals.n_regions as usize {
        for w in [SS_NASCENT, SS_STABLE, SS_PERSISTENT] {
            net.sstats[r * REGION_STRUCT_WORDS + w] = 0;
        }
    }
    let words = net.structure.clone();
    let view = view(net, &words);
    let persist = view.p.persist_steps;
    // Spine imaging (shaders/structure.wgsl, `census`): per field the spines onto its neurons,
    // and per imaging day those formed no later than its image.
    let img = view.p.imaging as usize;
    let (fields, days) = if img == 0 {
        (0, 0)
    } else {
        (words[img] as usize, words[img + 1] as usize)
    };
    let image_steps = if img == 0 {
        &[][..]
    } else {
        &words[img + 2..img + 2 + days]
    };
    let base = net.globals.n_regions as usize * REGION_STRUCT_WORDS + 2 * (view.p.n_bins as usize + 1);
    let per_field = crate::layout::imaging_words(days);
    net.sstats[base..base + fields * per_field].fill(0);
    for k in 0..net.syn_pre.len() {
        let pre = net.syn_pre[k];
        if pre == EMPTY {
            continue;
        }
        let post = net.syn_owner[k >> ROW_CHUNK_SHIFT];
        if view.pair(pop_of(net, pre), pop_of(net, post)) == NO_RULE {
            continue;
        }
        let at = region_of(net, post) as usize * REGION_STRUCT_WORDS;
        let stable = net.syn_delay[k] as u32 & SPINE_STABLE != 0;
        net.sstats[at + if stable { SS_STABLE } else { SS_NASCENT }] += 1;
        if step.wrapping_sub(net.syn_born[k]) >= persist {
            net.sstats[at + SS_PERSISTENT] += 1;
        }
        let mask = net.imaging_mask.get(post as usize).copied().unwrap_or(0);
        for f in (0..fields).filter(|f| mask & 1 << f != 0) {
            let w = base + f * per_field;
            net.sstats[w] += 1;
            for (j, &t) in image_steps.iter().enumerate() {
                if net.syn_born[k] <= t {
                    net.sstats[w + 1 + j] += 1;
                }
            }
        }
    }
    census_pops(net);
}

/// Calcium and elements per population at a sample (`census_pops`): the last
/// `n_pops x POP_STRUCT_WORDS` words of `sstats`, over the living neurons of growing populations.
fn census_pops(net: &mut Network) {
    let base = pops_base(net);
    for p in 0..net.pops.len() {
        net.sstats[base + p * POP_STRUCT_WORDS..][..PS_CENSUS_WORDS].fill(0);
    }
    for t in 0..net.globals.n_neurons as usize {
        let pi = pop_of(net, t as u32) as usize;
        if net.pops[pi].grow_nu <= 0.0 || net.status[t][0] & STATUS_ALIVE == 0 {
            continue;
        }
        let at = base + pi * POP_STRUCT_WORDS;
        let g = net.grow[t];
        let ca = (g[0].max(0.0) * CALCIUM_SCALE).min(4294967040.0) as u32;
        let (lo, carry) = net.sstats[at + PS_CALCIUM_LO].overflowing_add(ca);
        net.sstats[at + PS_CALCIUM_LO] = lo;
        net.sstats[at + PS_CALCIUM_HI] += carry as u32;
        net.sstats[at + PS_NEURONS] += 1;
        net.sstats[at + PS_BOUTONS] += g[1].min(MAX_ELEMENTS) as u32;
        net.sstats[at + PS_SPINES] += g[2].min(MAX_ELEMENTS) as u32;
        net.sstats[at + PS_CONN_BOUTONS] += net.elem[t][2];
        net.sstats[at + PS_CONN_SPINES] += net.elem[t][6];
        net.sstats[at + PS_SPINES_IN] += f32::from_bits(net.elem[t][11]).min(MAX_ELEMENTS) as u32;
        net.sstats[at + PS_CONN_SPINES_IN] += net.elem[t][10];
    }
}

/// Where the per-population words start in `sstats` (its last n_pops x POP_STRUCT_WORDS).
fn pops_base(net: &Network) -> usize {
    net.sstats.len() - net.pops.len() * POP_STRUCT_WORDS
}

/// Where the per-population words of `neuron`'s population start in `sstats`.
fn pop_words(net: &Network, neuron: u32) -> usize {
    pops_base(net) + pop_of(net, neuron) as usize * POP_STRUCT_WORDS
}

/// Elements gained (lost, when negative) in one update on the growth curve (nu, xi, 1 / zeta) at
/// calcium `ca`, times `boost` (shaders/structure.wgsl, `growth`).
fn growth(ca: f32, nu: f32, xi: f32, inv_zeta: f32, boost: f32) -> f32 {
    let x = (ca - xi) * inv_zeta;
    nu * (2.0 * exp_f32(-(x * x)) - 1.0) * boost
}

/// Whether a synapse of a rule with `rule_flags` onto a neuron of a population with `grow_flags`
/// takes the inhibitory spine pool: an inhibitory rule onto a neuron whose dendrites are typed
/// (shaders/structure.wgsl `in_inhibitory_pool`).
fn in_inhibitory_pool(grow_flags: u32, rule_flags: u32) -> bool {
    grow_flags & GROW_TYPED_DENDRITES != 0 && rule_flags & SPROUT_INHIBITORY != 0
}

/// `z` elements, `connected` of them in synapses, after the fraction `decay` of the vacant whole
/// ones is lost (shaders/structure.wgsl `vacated`).
fn vacated(z: f32, connected: u32, decay: f32) -> f32 {
    let vacant = (z.floor() - connected as f32).max(0.0);
    z - decay * vacant
}
