// structure.wgsl: structural plasticity, every structural interval, in this order (each entry a
// dispatch; per-shard entries run once per shard of rows):
//   begin     (1 thread)          clears the element statistics
//   elements  (neuron of a shard) growth curve on calcium, neurotrophin, free and surplus
//                                 boutons and spines against the connected ones
//   pool      (blocks of 1024)    exclusive prefix sums of free boutons over all neurons
//   spines    (chunk of 8 slots)  retraction of surplus elements, then stabilization or pruning
//   tidy      (chunk)             eligibility and late phase of empty slots back to 0
//   form      (neuron of a shard) each free spine takes an empty slot and draws partners
//   accept    (chunk)             proposals accepted by the sources' free boutons
//   zero, count, scan, scatter, sort  the shard's outgoing index rebuilt: count per source,
//                                 exclusive scan, scatter with atomic cursors, then each source's
//                                 list sorted ascending (a workgroup per source), so the index is
//                                 the same every run
// Scans run in three dispatches: sums of blocks of 1024 entries, a scan of the block sums in one
// workgroup, then each block's own scan plus its offset.
// and at samples `census_begin`, `census` (spines by state and age) and `census_pops` (calcium
// and elements per population). reference/structure.rs is
// the CPU twin: the same f32 operations (rn), the same draws, the same order of effects.

@group(0) @binding(2) var<storage, read_write> sim: SimState;
// [first neuron, end neuron, local row starts of its neurons and the end].
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read_write> syn_pre: array<u32>;
@group(0) @binding(5) var<storage, read_write> syn_weight: array<f32>;
// Two 16-bit delay words per u32 (slot 2k in the low half): delay and spine state bits.
@group(0) @binding(6) var<storage, read_write> syn_delay: array<u32>;
@group(0) @binding(7) var<storage, read> syn_owner: array<u32>;
@group(0) @binding(8) var<storage, read_write> syn_born: array<u32>;
@group(0) @binding(9) var<storage, read_write> syn_elig: array<f32>;
@group(0) @binding(10) var<storage, read_write> syn_late: array<f32>;
// StructParams, sprout rules, pair table, [glia, 1 / glia] and centre of each region.
@group(0) @binding(11) var<storage, read> structure: array<u32>;
// [calcium, bouton elements, spine elements, neurotrophin] per neuron.
@group(0) @binding(12) var<storage, read_write> grow: array<vec4<f32>>;
// Element counts per neuron, three records in three arrays (so that each is one binding of 16
// bytes a neuron, as the neuron state is): [free boutons, boutons to retract, connected boutons,
// distance bin] in `elem_axon`, [free spines, spines to retract, connected spines, neurotrophin
// bits] in `elem_spine` (the excitatory pool where dendrites are typed, the one pool otherwise),
// [free inhibitory spines, to retract, connected, their elements' bits] in `elem_spine_in`.
@group(0) @binding(13) var<storage, read_write> elem_axon: array<vec4<u32>>;
@group(0) @binding(25) var<storage, read_write> elem_spine: array<vec4<u32>>;
@group(0) @binding(26) var<storage, read_write> elem_spine_in: array<vec4<u32>>;
// Connected (structural) boutons per neuron, counted by `count`.
@group(0) @binding(14) var<storage, read_write> boutons: array<atomic<u32>>;
@group(0) @binding(15) var<storage, read_write> pool: array<u32>;
@group(0) @binding(16) var<storage, read_write> demand: array<atomic<u32>>;
@group(0) @binding(17) var<storage, read_write> sstats: array<atomic<u32>>;
@group(0) @binding(18) var<storage, read> positions: array<vec4<f32>>;
@group(0) @binding(19) var<storage, read> modulators: array<vec2<f32>>;
@group(0) @binding(20) var<storage, read_write> out_start: array<atomic<u32>>;
@group(0) @binding(21) var<storage, read_write> out_slots: array<u32>;
@group(0) @binding(22) var<storage, read_write> cursor: array<atomic<u32>>;
// Block sums of the scans (ceil((n + 1) / 1024) + 1 words).
@group(0) @binding(23) var<storage, read_write> blocks: array<u32>;
// Per neuron status: alive, lesion slot, closeness to the lesion (the plasticity window).
@group(0) @binding(24) var<storage, read> status: array<vec4<u32>>;

fn params() -> StructParams {
    var p: StructParams;
    p.n_rules = structure[0];
    p.n_bins = structure[1];
    p.persist_steps = structure[2];
    p.stab_after_steps = structure[3];
    p.stab_w = bitcast<f32>(structure[4]);
    p.prune_w = bitcast<f32>(structure[5]);
    // Offline phases run the spine life cycle faster.
    p.r_stab = rn(bitcast<f32>(structure[6]) * g.offline);
    p.r_nascent = rn(bitcast<f32>(structure[7]) * g.offline);
    p.r_stable = rn(bitcast<f32>(structure[8]) * g.offline);
    p.trophin_decay = bitcast<f32>(structure[9]);
    p.trophin_reward = bitcast<f32>(structure[10]);
    p.tries = structure[11];
    return p;
}

fn rule(k: u32) -> SproutRule {
    let at = STRUCT_HEADER_WORDS + SPROUT_WORDS * k;
    var r: SproutRule;
    r.from_pop = structure[at];
    r.to_pop = structure[at + 1u];
    r.weight = bitcast<f32>(structure[at + 2u]);
    r.delay = structure[at + 3u];
    r.inv_len2 = bitcast<f32>(structure[at + 4u]);
    r.flags = structure[at + 5u];
    r.distance = structure[at + 6u];
    r.gain = bitcast<f32>(structure[at + 7u]);
    return r;
}

fn pairs_at() -> u32 {
    return STRUCT_HEADER_WORDS + SPROUT_WORDS * structure[0];
}

// The sprout rule of a (source population, target population) pair, or NO_RULE.
fn pair(source_pop: u32, target_pop: u32) -> u32 {
    return structure[pairs_at() + source_pop * g.n_pops + target_pop];
}

fn region_at() -> u32 {
    return pairs_at() + g.n_pops * g.n_pops;
}

fn glia(r: u32) -> vec2<f32> {
    let at = region_at() + 2u * r;
    return vec2<f32>(bitcast<f32>(structure[at]), bitcast<f32>(structure[at + 1u]));
}

fn centre(r: u32) -> vec3<f32> {
    let at = region_at() + 2u * g.n_regions + 4u * r;
    return vec3<f32>(bitcast<f32>(structure[at]), bitcast<f32>(structure[at + 1u]), bitcast<f32>(structure[at + 2u]));
}

// Statistics of the distance bins start after the regions'.
fn bins_at() -> u32 {
    return REGION_STRUCT_WORDS * g.n_regions;
}

// The population of a neuron: the last one that starts at or before it (populations are
// contiguous and in order). A binary search: a whole cortex has 150 populations, and the
// per-slot passes look up two a slot.
fn pop_of(neuron: u32) -> u32 {
    var lo = 0u;
    var hi = g.n_pops - 1u;
    while lo < hi {
        let mid = (lo + hi + 1u) / 2u;
        if pops[mid].first <= neuron {
            lo = mid;
        } else {
            hi = mid - 1u;
        }
    }
    return lo;
}

fn sat_sub(a: u32, b: u32) -> u32 {
    return select(0u, a - b, a > b);
}

fn flat(gid: vec3<u32>) -> u32 {
    return gid.x + gid.y * MAX_GROUPS_X * 64u;
}

// Chunks of ROW_CHUNK slots in this shard.
fn chunks() -> u32 {
    return rows[2u + rows[1] - rows[0]] >> ROW_CHUNK_SHIFT;
}

fn half_of(word: u32, h: u32) -> u32 {
    return (word >> (16u * h)) & 0xffffu;
}

fn with_half(word: u32, h: u32, v: u32) -> u32 {
    return (word & ~(0xffffu << (16u * h))) | (v << (16u * h));
}

@compute @workgroup_size(1)
fn begin() {
    for (var r = 0u; r < g.n_regions; r++) {
        for (var w = SS_FREE_BOUTONS; w <= SS_SPINES; w++) {
            atomicStore(&sstats[r * REGION_STRUCT_WORDS + w], 0u);
        }
    }
}

@compute @workgroup_size(64)
fn elements(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    let t = rows[0] + i;
    if t >= rows[1] {
        return;
    }
    let pi = pop_of(t);
    let pop = pops[pi];
    let conn_a = atomicLoad(&boutons[t]);
    atomicStore(&boutons[t], 0u);
    atomicStore(&demand[t], 0u);
    let bin = elem_axon[t].w;
    let st = status[t];
    if pop.grow_nu <= 0.0 || (st.x & STATUS_ALIVE) == 0u {
        if (st.x & STATUS_ALIVE) == 0u {
            grow[t] = vec4<f32>(0.0);
        }
        elem_axon[t] = vec4<u32>(0u, 0u, 0u, bin);
        elem_spine[t] = vec4<u32>(0u);
        elem_spine_in[t] = vec4<u32>(0u);
        return;
    }
    let p = params();
    let gr = grow[t];
    let ca = gr.x;
    // Growth speeds up offline and near a lesion while its plasticity window is open.
    let slot = (st.x >> STATUS_SLOT_SHIFT) & 3u;
    let boost = rn(g.offline * rn(1.0 + rn(bitcast<f32>(st.z) * g.grow_window[slot])));
    var conn_d = 0u;
    var conn_i = 0u;
    for (var k = rows[2u + i]; k < rows[3u + i]; k++) {
        let pre = syn_pre[k];
        if pre != EMPTY {
            let rk = pair(pop_of(pre), pi);
            if rk != NO_RULE {
                if in_inhibitory_pool(pop.grow_flags, rule_flags(rk)) {
                    conn_i += 1u;
                } else {
                    conn_d += 1u;
                }
            }
        }
    }
    // Vacant elements decay (the fraction grow_vacant of those the last update left unconnected,
    // NEST's tau_vacant), then every element type moves on its growth curve.
    // Each type stops at its capacity (at most MAX_ELEMENTS, which bounds the work of `form`).
    let cap_a = f32(pop.grow_caps & 0xffffu);
    let cap_d = f32(pop.grow_caps >> 16u);
    let za = min(max(rn(vacated(gr.y, conn_a, pop.grow_vacant) + growth(ca, pop.axon_nu, pop.axon_xi, pop.axon_inv_zeta, boost)), 0.0), cap_a);
    let zd = min(max(rn(vacated(gr.z, conn_d, pop.grow_vacant) + growth(ca, pop.den_ex_nu, pop.den_ex_xi, pop.den_ex_inv_zeta, boost)), 0.0), cap_d);
    let typed = (pop.grow_flags & GROW_TYPED_DENDRITES) != 0u;
    var zi = 0.0;
    if typed {
        let z_in = bitcast<f32>(elem_spine_in[t].w);
        zi = min(max(rn(vacated(z_in, conn_i, pop.grow_vacant) + growth(ca, pop.den_in_nu, pop.den_in_xi, pop.den_in_inv_zeta, boost)), 0.0), f32(pop.grow_cap_in));
    }
    let da = modulators[pop.region].x;
    let trophin = rn(rn(rn(gr.w * p.trophin_decay) + rn(rn(1.0 - p.trophin_decay) * rn(ca * pop.grow_inv_eps)))
        + rn(p.trophin_reward * da));
    let fa = u32(za);
    let fd = u32(zd);
    let fi = u32(zi);
    let e0 = vec4<u32>(sat_sub(fa, conn_a), sat_sub(conn_a, fa), conn_a, bin);
    let e1 = vec4<u32>(sat_sub(fd, conn_d), sat_sub(conn_d, fd), conn_d, bitcast<u32>(trophin));
    let e2 = vec4<u32>(sat_sub(fi, conn_i), sat_sub(conn_i, fi), conn_i, bitcast<u32>(zi));
    elem_axon[t] = e0;
    elem_spine[t] = e1;
    elem_spine_in[t] = e2;
    grow[t] = vec4<f32>(ca, za, zd, trophin);
    let at = pop.region * REGION_STRUCT_WORDS;
    atomicAdd(&sstats[at + SS_FREE_BOUTONS], e0.x);
    atomicAdd(&sstats[at + SS_FREE_SPINES], e1.x + e2.x);
    atomicAdd(&sstats[at + SS_BOUTONS], fa);
    atomicAdd(&sstats[at + SS_SPINES], fd + fi);
}

// `z` elements, `connected` of them in synapses, after the fraction `decay` of the vacant whole
// ones is lost: z - decay (floor(z) - connected) (NEST's decay_z_vacant).
fn vacated(z: f32, connected: u32, decay: f32) -> f32 {
    let vacant = max(rn(floor(z) - f32(connected)), 0.0);
    return rn(z - rn(decay * vacant));
}

// Elements gained (lost, when negative) in one update on the growth curve (nu, xi, 1 / zeta) at
// calcium `ca`: nu (2 exp(-((ca - xi) / zeta)^2) - 1) times `boost`.
fn growth(ca: f32, nu: f32, xi: f32, inv_zeta: f32, boost: f32) -> f32 {
    let x = rn(rn(ca - xi) * inv_zeta);
    return rn(rn(nu * rn(rn(2.0 * exp_f32(-rn(x * x))) - 1.0)) * boost);
}

// Sprout rule `k`'s flags (SPROUT_*).
fn rule_flags(k: u32) -> u32 {
    return structure[STRUCT_HEADER_WORDS + SPROUT_WORDS * k + 5u];
}

// Whether a synapse of a rule with `rule_flags` onto a neuron of a population with `grow_flags`
// takes the inhibitory spine pool: an inhibitory rule onto a neuron whose dendrites are typed.
fn in_inhibitory_pool(grow_flags: u32, rule_flags: u32) -> bool {
    return (grow_flags & GROW_TYPED_DENDRITES) != 0u && (rule_flags & SPROUT_INHIBITORY) != 0u;
}

var<workgroup> partial: array<u32, 256>;

// Exclusive prefix of `v` over the 256 threads of a workgroup (call in uniform control flow).
fn wg_scan(lid: u32, v: u32) -> u32 {
    partial[lid] = v;
    workgroupBarrier();
    for (var off = 1u; off < 256u; off *= 2u) {
        var t = 0u;
        if lid >= off {
            t = partial[lid - off];
        }
        workgroupBarrier();
        partial[lid] += t;
        workgroupBarrier();
    }
    return partial[lid] - v;
}

const SCAN_BLOCK: u32 = 1024u;

fn block_of(wg: vec3<u32>) -> u32 {
    return wg.x + wg.y * MAX_GROUPS_X;
}

// Block sums for the prefix sums of free boutons.
@compute @workgroup_size(256)
fn pool_blocks(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let lo = block_of(wg) * SCAN_BLOCK + 4u * lid;
    var s = 0u;
    for (var i = lo; i < min(lo + 4u, g.n_neurons); i++) {
        s += elem_axon[i].x;
    }
    let ex = wg_scan(lid, s);
    if lid == 255u {
        blocks[block_of(wg)] = ex + s;
    }
}

// Exclusive scan of the block sums in place, the total after them.
@compute @workgroup_size(256)
fn blocks_top(@builtin(local_invocation_index) lid: u32) {
    let nb = (g.n_neurons + SCAN_BLOCK) / SCAN_BLOCK;
    let per = (nb + 255u) / 256u;
    let lo = min(lid * per, nb);
    let hi = min(lo + per, nb);
    var s = 0u;
    for (var i = lo; i < hi; i++) {
        s += blocks[i];
    }
    let ex = wg_scan(lid, s);
    var acc = ex;
    for (var i = lo; i < hi; i++) {
        let v = blocks[i];
        blocks[i] = acc;
        acc += v;
    }
    if lid == 255u {
        blocks[nb] = ex + s;
    }
}

@compute @workgroup_size(256)
fn pool_apply(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = g.n_neurons;
    let lo = block_of(wg) * SCAN_BLOCK + 4u * lid;
    var s = 0u;
    for (var i = lo; i < min(lo + 4u, n); i++) {
        s += elem_axon[i].x;
    }
    var acc = blocks[block_of(wg)] + wg_scan(lid, s);
    for (var i = lo; i < lo + 4u; i++) {
        if i < n {
            pool[i] = acc;
            acc += elem_axon[i].x;
        } else if i == n {
            pool[n] = acc;
        }
    }
}

@compute @workgroup_size(64)
fn spines(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = flat(gid);
    if c >= chunks() {
        return;
    }
    let step = sim.step;
    let p = params();
    let post = syn_owner[c];
    let row = rows[2u + post - rows[0]];
    let pt = pop_of(post);
    let region = pops[pt].region;
    let e0 = elem_axon[post];
    let e1 = elem_spine[post];
    let e2 = elem_spine_in[post];
    let trophin = bitcast<f32>(e1.w);
    let gl = glia(region);
    // Transition probabilities of this neuron's spines over one update.
    let p_stable = rn(1.0 - exp_f32(-p.r_stable));
    let p_weak = rn(1.0 - exp_f32(-rn(p.r_nascent * gl.y)));
    let p_stab = rn(1.0 - exp_f32(-rn(rn(p.r_stab * trophin) * gl.x)));
    let base = rng_base(g.key, STREAM_SPINE, step, post);
    for (var j = 0u; j < 4u; j++) {
        let wi = 4u * c + j;
        var word = syn_delay[wi];
        for (var h = 0u; h < 2u; h++) {
            let k = 2u * wi + h;
            let pre = syn_pre[k];
            if pre == EMPTY {
                continue;
            }
            let rk = pair(pop_of(pre), pt);
            if rk == NO_RULE {
                continue;
            }
            let o = k - row;
            let ea = elem_axon[pre];
            // The spine pool the synapse belongs to: the inhibitory one where dendrites are typed.
            let in_pool = in_inhibitory_pool(pops[pt].grow_flags, rule_flags(rk));
            let ed = select(e1, e2, in_pool);
            let retract = (ea.y > 0u && rng_draw(base, 4u * o) % max(ea.z, 1u) < ea.y)
                || (ed.y > 0u && rng_draw(base, 4u * o + 1u) % max(ed.z, 1u) < ed.y);
            var gone = 0xffffffffu;
            var d = half_of(word, h);
            if retract {
                gone = SS_RETRACTED;
            } else {
                let u = unit_f32(rng_draw(base, 4u * o + 2u));
                let w = abs(syn_weight[k]);
                if (d & SPINE_STABLE) != 0u {
                    if u < select(p_stable, p_weak, w < p.prune_w) {
                        gone = SS_PRUNED;
                    }
                } else if w >= p.stab_w && step - syn_born[k] >= p.stab_after_steps {
                    if u < p_stab {
                        d = d | SPINE_STABLE;
                    }
                } else if u < p_weak {
                    gone = SS_PRUNED;
                }
            }
            if gone != 0xffffffffu {
                syn_pre[k] = EMPTY;
                syn_weight[k] = 0.0;
                syn_born[k] = 0u;
                d = 0u;
                atomicAdd(&sstats[region * REGION_STRUCT_WORDS + gone], 1u);
                atomicAdd(&sstats[bins_at() + 2u * e0.w + 1u], 1u);
                let spine_word = select(PS_SPINES_DELETED, PS_SPINES_IN_DELETED, in_pool);
                atomicAdd(&sstats[pops_base() + pt * POP_STRUCT_WORDS + spine_word], 1u);
                atomicAdd(&sstats[pops_base() + pop_of(pre) * POP_STRUCT_WORDS + PS_BOUTONS_DELETED], 1u);
            }
            word = with_half(word, h, d);
        }
        syn_delay[wi] = word;
    }
}

@compute @workgroup_size(64)
fn tidy(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = flat(gid);
    if c >= chunks() {
        return;
    }
    for (var k = c << ROW_CHUNK_SHIFT; k < (c + 1u) << ROW_CHUNK_SHIFT; k++) {
        if syn_pre[k] == EMPTY {
            if arrayLength(&syn_elig) > k {
                syn_elig[k] = 0.0;
            }
            if arrayLength(&syn_late) > k {
                syn_late[k] = 0.0;
            }
        }
    }
}

// Free boutons of a rule's source population.
fn avail(r: SproutRule) -> u32 {
    let s = pops[r.from_pop];
    return pool[s.first + s.count] - pool[s.first];
}

@compute @workgroup_size(64)
fn form(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    let t = rows[0] + i;
    if t >= rows[1] {
        return;
    }
    let pt = pop_of(t);
    let typed = (pops[pt].grow_flags & GROW_TYPED_DENDRITES) != 0u;
    let free_ex = elem_spine[t].x;
    let free_in = select(0u, elem_spine_in[t].x, typed);
    if free_ex + free_in == 0u {
        return;
    }
    let p = params();
    let step = sim.step;
    let base = rng_base(g.key, STREAM_FORM, step, t);
    let rt = pops[pt].region;
    let ct = centre(rt);
    let pos_t = positions[t].xyz;
    let off_t = vec3<f32>(rn(pos_t.x - ct.x), rn(pos_t.y - ct.y), rn(pos_t.z - ct.z));
    var slot = rows[2u + i];
    let end = rows[3u + i];
    var c = 0u;
    // The excitatory (or only) spine pool, then the inhibitory one: each free spine draws its
    // partners among the rules whose synapses it takes.
    for (var in_pool = 0u; in_pool < 2u; in_pool++) {
        let free = select(free_ex, free_in, in_pool == 1u);
        if free == 0u {
            continue;
        }
        var total = 0u;
        for (var k = 0u; k < p.n_rules; k++) {
            let r = rule(k);
            if r.to_pop == pt && takes(r, typed, in_pool) {
                total += avail(r);
            }
        }
        if total == 0u {
            continue;
        }
        var made = 0u;
        while made < free {
            while slot < end && syn_pre[slot] != EMPTY {
                slot += 1u;
            }
            if slot == end {
                atomicAdd(&sstats[rt * REGION_STRUCT_WORDS + SS_MISSES], free - made);
                break;
            }
            var found = EMPTY;
            for (var attempt = 0u; attempt < p.tries; attempt++) {
                var v = rng_draw(base, c) % total;
                c += 1u;
                var r = rule(0u);
                for (var k = 0u; k < p.n_rules; k++) {
                    let rk = rule(k);
                    if rk.to_pop != pt || !takes(rk, typed, in_pool) {
                        continue;
                    }
                    let a = avail(rk);
                    if v < a {
                        r = rk;
                        break;
                    }
                    v -= a;
                }
                let s = pops[r.from_pop];
                let want = pool[s.first] + v;
                var lo = s.first;
                var hi = s.first + s.count - 1u;
                while lo < hi {
                    let mid = (lo + hi + 1u) / 2u;
                    if pool[mid] <= want {
                        lo = mid;
                    } else {
                        hi = mid - 1u;
                    }
                }
                let u = unit_f32(rng_draw(base, c));
                c += 1u;
                if lo == t && (r.flags & SPROUT_AUTAPSES) == 0u {
                    continue;
                }
                let pos_i = positions[lo].xyz;
                // Topographic: between the offsets from the region centres; absolute: in space.
                var dv = vec3<f32>(rn(pos_i.x - pos_t.x), rn(pos_i.y - pos_t.y), rn(pos_i.z - pos_t.z));
                if r.distance != SPROUT_ABSOLUTE {
                    let ci = centre(s.region);
                    dv = vec3<f32>(rn(rn(pos_i.x - ci.x) - off_t.x), rn(rn(pos_i.y - ci.y) - off_t.y),
                        rn(rn(pos_i.z - ci.z) - off_t.z));
                }
                let d2 = rn(rn(rn(dv.x * dv.x) + rn(dv.y * dv.y)) + rn(dv.z * dv.z));
                // gain 1 leaves the probability exactly as it is (1 x p rounds to p).
                if u < rn(r.gain * exp_f32(-rn(d2 * r.inv_len2))) {
                    found = lo;
                    break;
                }
            }
            made += 1u;
            if found == EMPTY {
                continue;
            }
            syn_pre[slot] = found;
            let wi = slot >> 1u;
            syn_delay[wi] = with_half(syn_delay[wi], slot & 1u, SPINE_PROPOSED);
            atomicAdd(&demand[found], 1u);
            slot += 1u;
        }
    }
}

// Whether a spine of pool `in_pool` (1: inhibitory) takes rule `r`'s synapses: every rule onto a
// neuron with one pool, the rules of the pool's sign where dendrites are typed.
fn takes(r: SproutRule, typed: bool, in_pool: u32) -> bool {
    return !typed || ((r.flags & SPROUT_INHIBITORY) != 0u) == (in_pool == 1u);
}

@compute @workgroup_size(64)
fn accept(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = flat(gid);
    if c >= chunks() {
        return;
    }
    let step = sim.step;
    let post = syn_owner[c];
    let row = rows[2u + post - rows[0]];
    let pt = pop_of(post);
    let region = pops[pt].region;
    let bin = elem_axon[post].w;
    let base = rng_base(g.key, STREAM_ACCEPT, step, post);
    for (var j = 0u; j < 4u; j++) {
        let wi = 4u * c + j;
        var word = syn_delay[wi];
        for (var h = 0u; h < 2u; h++) {
            let k = 2u * wi + h;
            let pre = syn_pre[k];
            if pre == EMPTY || (half_of(word, h) & SPINE_PROPOSED) == 0u {
                continue;
            }
            let free = elem_axon[pre].x;
            let dem = atomicLoad(&demand[pre]);
            if dem <= free || rng_draw(base, k - row) % dem < free {
                let r = rule(pair(pop_of(pre), pt));
                syn_weight[k] = r.weight;
                syn_born[k] = step;
                word = with_half(word, h, r.delay);
                atomicAdd(&sstats[region * REGION_STRUCT_WORDS + SS_FORMED], 1u);
                atomicAdd(&sstats[bins_at() + 2u * bin], 1u);
                let in_pool = in_inhibitory_pool(pops[pt].grow_flags, r.flags);
                let spine_word = select(PS_SPINES_FORMED, PS_SPINES_IN_FORMED, in_pool);
                atomicAdd(&sstats[pops_base() + pt * POP_STRUCT_WORDS + spine_word], 1u);
                atomicAdd(&sstats[pops_base() + pop_of(pre) * POP_STRUCT_WORDS + PS_BOUTONS_FORMED], 1u);
            } else {
                syn_pre[k] = EMPTY;
                word = with_half(word, h, 0u);
            }
        }
        syn_delay[wi] = word;
    }
}

@compute @workgroup_size(64)
fn zero(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if i <= g.n_neurons {
        atomicStore(&out_start[i], 0u);
    }
}

@compute @workgroup_size(64)
fn count(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = flat(gid);
    if c >= chunks() {
        return;
    }
    let pt = pop_of(syn_owner[c]);
    for (var k = c << ROW_CHUNK_SHIFT; k < (c + 1u) << ROW_CHUNK_SHIFT; k++) {
        let pre = syn_pre[k];
        if pre == EMPTY {
            continue;
        }
        atomicAdd(&out_start[pre], 1u);
        if pair(pop_of(pre), pt) != NO_RULE {
            atomicAdd(&boutons[pre], 1u);
        }
    }
}

// Block sums of the shard's counts per source.
@compute @workgroup_size(256)
fn scan_blocks(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let lo = block_of(wg) * SCAN_BLOCK + 4u * lid;
    var s = 0u;
    for (var i = lo; i < min(lo + 4u, g.n_neurons); i++) {
        s += atomicLoad(&out_start[i]);
    }
    let ex = wg_scan(lid, s);
    if lid == 255u {
        blocks[block_of(wg)] = ex + s;
    }
}

// Counts become starts (in place) and the scatter's cursors; the total closes out_start.
@compute @workgroup_size(256)
fn scan_apply(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = g.n_neurons;
    let lo = block_of(wg) * SCAN_BLOCK + 4u * lid;
    var s = 0u;
    for (var i = lo; i < min(lo + 4u, n); i++) {
        s += atomicLoad(&out_start[i]);
    }
    var acc = blocks[block_of(wg)] + wg_scan(lid, s);
    for (var i = lo; i < lo + 4u; i++) {
        if i < n {
            let c = atomicLoad(&out_start[i]);
            atomicStore(&out_start[i], acc);
            atomicStore(&cursor[i], acc);
            acc += c;
        } else if i == n {
            atomicStore(&out_start[n], acc);
        }
    }
}

@compute @workgroup_size(64)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = flat(gid);
    if c >= chunks() {
        return;
    }
    for (var k = c << ROW_CHUNK_SHIFT; k < (c + 1u) << ROW_CHUNK_SHIFT; k++) {
        let pre = syn_pre[k];
        if pre != EMPTY {
            out_slots[atomicAdd(&cursor[pre], 1u)] = k;
        }
    }
}

// Restores the heap property below `root` in out_slots[base .. base + len].
fn sift(base: u32, root0: u32, len: u32) {
    var root = root0;
    loop {
        var child = 2u * root + 1u;
        if child >= len {
            break;
        }
        if child + 1u < len && out_slots[base + child + 1u] > out_slots[base + child] {
            child += 1u;
        }
        let a = out_slots[base + root];
        let b = out_slots[base + child];
        if a >= b {
            break;
        }
        out_slots[base + root] = b;
        out_slots[base + child] = a;
        root = child;
    }
}

// Heapsort of a long list by one thread.
fn heapsort(base: u32, len: u32) {
    for (var r = len / 2u; r > 0u; r--) {
        sift(base, r - 1u, len);
    }
    for (var end = len - 1u; end > 0u; end--) {
        let top = out_slots[base];
        out_slots[base] = out_slots[base + end];
        out_slots[base + end] = top;
        sift(base, 0u, end);
    }
}

// One source's slots sorted by one thread (for CPU adapters, where workgroup barriers are dear).
@compute @workgroup_size(64)
fn sort_thread(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if i >= g.n_neurons {
        return;
    }
    let base = atomicLoad(&out_start[i]);
    let len = atomicLoad(&out_start[i + 1u]) - base;
    if len >= 2u {
        heapsort(base, len);
    }
}

const SORT_MAX: u32 = 1024u;
var<workgroup> keys: array<u32, 1024>;
var<workgroup> list_len: u32;

// One source's slots sorted ascending (the order of the host-built index) by one workgroup: a
// bitonic sort in workgroup memory, or a heapsort by one thread for lists over SORT_MAX.
@compute @workgroup_size(64)
fn sort(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = block_of(wg);
    if i >= g.n_neurons {
        return;
    }
    let base = atomicLoad(&out_start[i]);
    if lid == 0u {
        list_len = atomicLoad(&out_start[i + 1u]) - base;
    }
    let len = workgroupUniformLoad(&list_len);
    if len < 2u {
        return;
    }
    if len > SORT_MAX {
        if lid == 0u {
            heapsort(base, len);
        }
        return;
    }
    var m = 2u;
    while m < len {
        m *= 2u;
    }
    for (var k = lid; k < m; k += 64u) {
        keys[k] = select(0xffffffffu, out_slots[base + k], k < len);
    }
    workgroupBarrier();
    for (var size = 2u; size <= m; size *= 2u) {
        for (var stride = size / 2u; stride > 0u; stride /= 2u) {
            for (var t = lid; t < m / 2u; t += 64u) {
                let a = 2u * stride * (t / stride) + t % stride;
                let b = a + stride;
                let x = keys[a];
                let y = keys[b];
                if (x > y) == ((a & size) == 0u) {
                    keys[a] = y;
                    keys[b] = x;
                }
            }
            workgroupBarrier();
        }
    }
    for (var k = lid; k < len; k += 64u) {
        out_slots[base + k] = keys[k];
    }
}

@compute @workgroup_size(1)
fn census_begin() {
    for (var r = 0u; r < g.n_regions; r++) {
        for (var w = SS_NASCENT; w <= SS_PERSISTENT; w++) {
            atomicStore(&sstats[r * REGION_STRUCT_WORDS + w], 0u);
        }
    }
    let img = structure[IMAGING_WORD];
    if img != 0u {
        let words = structure[img] * (1u + structure[img + 1u]);
        for (var w = 0u; w < words; w++) {
            atomicStore(&sstats[imaging_base() + w], 0u);
        }
    }
    for (var p = 0u; p < g.n_pops; p++) {
        for (var w = 0u; w < PS_CENSUS_WORDS; w++) {
            atomicStore(&sstats[pops_base() + p * POP_STRUCT_WORDS + w], 0u);
        }
    }
}

// Where the per-population words start in `sstats`: its last n_pops x POP_STRUCT_WORDS words
// (the buffer holds exactly the host's array).
fn pops_base() -> u32 {
    return arrayLength(&sstats) - g.n_pops * POP_STRUCT_WORDS;
}

// Per population at a sample (layout.rs, POP_STRUCT_WORDS), over the living neurons of growing
// populations: calcium now (fixed point, truncated), the neurons counted, and as of the last
// structural update the whole bouton and spine elements and the connected ones.
@compute @workgroup_size(64)
fn census_pops(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = flat(gid);
    if t >= g.n_neurons {
        return;
    }
    let pi = pop_of(t);
    if pops[pi].grow_nu <= 0.0 || (status[t].x & STATUS_ALIVE) == 0u {
        return;
    }
    let at = pops_base() + pi * POP_STRUCT_WORDS;
    let gr = grow[t];
    let ca = u32(min(rn(max(gr.x, 0.0) * CALCIUM_SCALE), 4294967040.0));
    let before = atomicAdd(&sstats[at + PS_CALCIUM_LO], ca);
    if before + ca < before {
        atomicAdd(&sstats[at + PS_CALCIUM_HI], 1u);
    }
    atomicAdd(&sstats[at + PS_NEURONS], 1u);
    atomicAdd(&sstats[at + PS_BOUTONS], u32(min(gr.y, MAX_ELEMENTS)));
    atomicAdd(&sstats[at + PS_SPINES], u32(min(gr.z, MAX_ELEMENTS)));
    atomicAdd(&sstats[at + PS_CONN_BOUTONS], elem_axon[t].z);
    atomicAdd(&sstats[at + PS_CONN_SPINES], elem_spine[t].z);
    let e2 = elem_spine_in[t];
    atomicAdd(&sstats[at + PS_SPINES_IN], u32(min(bitcast<f32>(e2.w), MAX_ELEMENTS)));
    atomicAdd(&sstats[at + PS_CONN_SPINES_IN], e2.z);
}

// The word of the `structure` buffer holding the imaging block's start (StructParams::imaging).
const IMAGING_WORD: u32 = 15u;

// Where the imaging counts start in `sstats`: after the regions' words and the bins'.
fn imaging_base() -> u32 {
    return g.n_regions * REGION_STRUCT_WORDS + 2u * (structure[1] + 1u);
}

@compute @workgroup_size(64)
fn census(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = flat(gid);
    if c >= chunks() {
        return;
    }
    let step = sim.step;
    let persist = structure[2];
    let post = syn_owner[c];
    let pt = pop_of(post);
    let at = pops[pt].region * REGION_STRUCT_WORDS;
    var nascent = 0u;
    var stable = 0u;
    var old = 0u;
    // Spine imaging: the fields the target lies in, and per imaging day the spines formed no later
    // than its image (all of them before it is taken; the host reads them from then on).
    let img = structure[IMAGING_WORD];
    var fields = 0u;
    var days = 0u;
    if img != 0u {
        fields = bitcast<u32>(positions[post].w) & 0xfu;
        days = structure[img + 1u];
    }
    var kept = array<u32, 8>(0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
    for (var k = c << ROW_CHUNK_SHIFT; k < (c + 1u) << ROW_CHUNK_SHIFT; k++) {
        let pre = syn_pre[k];
        if pre == EMPTY || pair(pop_of(pre), pt) == NO_RULE {
            continue;
        }
        if (half_of(syn_delay[k >> 1u], k & 1u) & SPINE_STABLE) != 0u {
            stable += 1u;
        } else {
            nascent += 1u;
        }
        if step - syn_born[k] >= persist {
            old += 1u;
        }
        if fields != 0u {
            for (var j = 0u; j < days; j++) {
                if syn_born[k] <= structure[img + 2u + j] {
                    kept[j] += 1u;
                }
            }
        }
    }
    if nascent + stable > 0u {
        atomicAdd(&sstats[at + SS_NASCENT], nascent);
        atomicAdd(&sstats[at + SS_STABLE], stable);
        atomicAdd(&sstats[at + SS_PERSISTENT], old);
        if fields != 0u {
            let per_field = 1u + days;
            for (var f = 0u; f < structure[img]; f++) {
                if (fields & (1u << f)) != 0u {
                    let w = imaging_base() + f * per_field;
                    atomicAdd(&sstats[w], nascent + stable);
                    for (var j = 0u; j < days; j++) {
                        atomicAdd(&sstats[w + 1u + j], kept[j]);
                    }
                }
            }
        }
    }
}
