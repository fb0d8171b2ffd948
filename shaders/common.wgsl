// common.wgsl: layouts shared with src/layout.rs, the counter-based RNG shared with src/rng.rs,
// and small helpers. Prepended to every stage's shader.

struct Globals {
    n_neurons: u32,
    n_pops: u32,
    n_regions: u32,
    ring_len: u32,
    key: u32,
    raster_steps: u32,
    raster_words: u32,
    total_chunks: u32,
    dt: f32,
    half_dt: f32,
    inv_dt: f32,
    ring_scale: f32,
    inv_ring_scale: f32,
    conn_scale: f32,
    opaque_zero: u32,
    plastic: u32,
    da_decay: f32,
    da_tonic: f32,
    modulated: u32,
    sq_scale: f32,
    scale_every: u32,
    traced: u32,
    capture_every: u32,
    structural: u32,
    learning: f32,
    offline: f32,
    lfp_steps: u32,
    lfp_from: u32,
    deficit: vec4<f32>,
    learn_window: vec4<f32>,
    grow_window: vec4<f32>,
    tonic: vec4<f32>,
    ring_channels: u32,
    _gpad0: u32,
    _gpad1: u32,
    _gpad2: u32,
}

struct Pop {
    first: u32,
    count: u32,
    model: u32,
    region: u32,
    chunk_base: u32,
    chunk_end: u32,
    input_first: u32,
    input_count: u32,
    dc: f32,
    noise_mean: f32,
    noise_sd: f32,
    trace_flags: u32,
    pre_decay: f32,
    post_decay: f32,
    scale_target: f32,
    scale_gain: f32,
    act_decay: f32,
    act_inc: f32,
    scale_cap: f32,
    ca_decay: f32,
    ca_beta: f32,
    grow_nu: f32,
    grow_xi: f32,
    grow_inv_zeta: f32,
    grow_inv_eps: f32,
    gain: f32,
    learn: f32,
    grow_flags: u32,
    axon_nu: f32,
    axon_xi: f32,
    axon_inv_zeta: f32,
    den_ex_nu: f32,
    den_ex_xi: f32,
    den_ex_inv_zeta: f32,
    den_in_nu: f32,
    den_in_xi: f32,
    den_in_inv_zeta: f32,
    grow_vacant: f32,
    grow_caps: u32,
    grow_cap_in: u32,
}

struct StdpRule {
    a_plus: f32,
    a_minus: f32,
    w_min: f32,
    w_max: f32,
    multiplicative: u32,
    modulated: u32,
    elig_decay: f32,
    capture: u32,
    tag_threshold: f32,
    protein_threshold: f32,
    early_decay: f32,
    protein_decay: f32,
    late_rate: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct PoissonSource {
    exp_neg_lambda: f32,
    weight: f32,
    repeats: u32,
    cap: u32,
    start: u32,
    end: u32,
    _pad0: u32,
    _pad1: u32,
}

struct StructParams {
    n_rules: u32,
    n_bins: u32,
    persist_steps: u32,
    stab_after_steps: u32,
    stab_w: f32,
    prune_w: f32,
    r_stab: f32,
    r_nascent: f32,
    r_stable: f32,
    trophin_decay: f32,
    trophin_reward: f32,
    tries: u32,
    point: vec3<f32>,
    imaging: u32,
}

struct SproutRule {
    from_pop: u32,
    to_pop: u32,
    weight: f32,
    delay: u32,
    inv_len2: f32,
    flags: u32,
    distance: u32,
    gain: f32,
}

struct NeuronState {
    v: f32,
    u: f32,
    refr: u32,
    pop: u32,
}

struct NeuronParams {
    p0: f32,
    p1: f32,
    p2: f32,
    p3: f32,
    p4: f32,
    p5: f32,
    p6: f32,
    p7: f32,
}

// The simulation-state buffer: header, then the spike list of the current step.
struct SimState {
    step: u32,
    n_spikes: atomic<u32>,
    prop_count: u32,
    prop_step: u32,
    err_flags: atomic<u32>,
    err_step: atomic<u32>,
    err_neuron: atomic<u32>,
    _pad: u32,
    watch_pre: u32,
    watch_post: u32,
    last_pre: u32,
    last_post: u32,
    window: u32,
    delay_lo: u32,
    delay_span: u32,
    reward_region: u32,
    reward_amount: f32,
    _pad1: array<u32, 7>,
    queue: array<u32, 16>,
    spikes: array<u32>,
}

const EMPTY: u32 = 0xffffffffu;
const STATUS_ALIVE: u32 = 1u;
const STATUS_SLOT_SHIFT: u32 = 8u;
const TASK_GROUP_SHIFT: u32 = 16u;
const TASK_GROUP_MASK: u32 = 0x7fffu;
const TASK_GUIDED: u32 = 0x80000000u;
const T_DRIVE: u32 = 0u;
const T_GUIDE: u32 = 16u;
const T_COUNTING: u32 = 32u;
const T_COUNTS: u32 = 48u;
const T_FIRST: u32 = 64u;
const T_CUE: u32 = 33u;
const T_CUES: u32 = 34u;
const T_MIN: u32 = 35u;
const T_ROUTE: u32 = 36u;
const TASK_WORDS: u32 = 80u;
const REP_CUES: u32 = 8u;
const DELAY_MASK: u32 = 0xfffu;
const COMPACT_DELAY_MASK: u32 = 0x7fu;
const COMPACT_REMOVED: u32 = 0x80u;
const ROW_DELAY_BYTE_MASK: u32 = 0xffu;
const SPINE_STABLE: u32 = 0x1000u;
const SPINE_PROPOSED: u32 = 0x2000u;
const MAX_ELEMENTS: f32 = 65535.0;
const STRUCT_HEADER_WORDS: u32 = 16u;
const SPROUT_WORDS: u32 = 8u;
const SPROUT_TOPOGRAPHIC: u32 = 0u;
const SPROUT_ABSOLUTE: u32 = 1u;
const REGION_STRUCT_WORDS: u32 = 12u;
const SS_FORMED: u32 = 0u;
const SS_PRUNED: u32 = 1u;
const SS_RETRACTED: u32 = 2u;
const SS_MISSES: u32 = 3u;
const SS_NASCENT: u32 = 4u;
const SS_STABLE: u32 = 5u;
const SS_PERSISTENT: u32 = 6u;
const SS_FREE_BOUTONS: u32 = 7u;
const SS_FREE_SPINES: u32 = 8u;
const SS_BOUTONS: u32 = 9u;
const SS_SPINES: u32 = 10u;
const GROW_TYPED_DENDRITES: u32 = 1u;
const SPROUT_AUTAPSES: u32 = 1u;
const SPROUT_INHIBITORY: u32 = 2u;
const POP_STRUCT_WORDS: u32 = 16u;
const PS_CENSUS_WORDS: u32 = 9u;
const PS_SPINES_IN: u32 = 7u;
const PS_CONN_SPINES_IN: u32 = 8u;
const PS_SPINES_FORMED: u32 = 9u;
const PS_SPINES_DELETED: u32 = 10u;
const PS_BOUTONS_FORMED: u32 = 11u;
const PS_BOUTONS_DELETED: u32 = 12u;
const PS_SPINES_IN_FORMED: u32 = 13u;
const PS_SPINES_IN_DELETED: u32 = 14u;
const PS_CALCIUM_LO: u32 = 0u;
const PS_CALCIUM_HI: u32 = 1u;
const PS_NEURONS: u32 = 2u;
const PS_BOUTONS: u32 = 3u;
const PS_SPINES: u32 = 4u;
const PS_CONN_BOUTONS: u32 = 5u;
const PS_CONN_SPINES: u32 = 6u;
const CALCIUM_SCALE: f32 = 1048576.0;
const STREAM_SPINE: u32 = 4u;
const STREAM_FORM: u32 = 5u;
const STREAM_ACCEPT: u32 = 6u;
const ROW_CHUNK_SHIFT: u32 = 3u;
const MODEL_IZHIKEVICH: u32 = 0u;
const MODEL_LIF: u32 = 1u;
const MODEL_SPIKE_SOURCE: u32 = 2u;
const MODEL_PERIODIC: u32 = 3u;
const MODEL_IAF_PSC_ALPHA: u32 = 4u;
const MODEL_IAF_COND_EXP: u32 = 5u;
const TRACE_PRE_NEAREST: u32 = 1u;
const TRACE_POST_NEAREST: u32 = 2u;
const NO_RULE: u32 = 0xffffffffu;
const RULE_WORDS: u32 = 16u;
const PLASTIC_WORDS: u32 = 32u;
const HIST_BINS: u32 = 20u;
const ELIG_SCALE: f32 = 65536.0;
const ELIG_CLAMP: f32 = 16384.0;
const ERR_NONFINITE: u32 = 1u;
const STREAM_NOISE: u32 = 1u;
const STREAM_SOURCE: u32 = 2u;
const STREAM_REWARD: u32 = 3u;
const STREAM_POISSON: u32 = 0x10000000u;

// Every stage binds the constants at 0 and the population table at 1.
@group(0) @binding(0) var<uniform> g: Globals;
@group(0) @binding(1) var<storage, read> pops: array<Pop>;

// Workgroups beyond 65535 in x spill into y; a flat index from both.
const MAX_GROUPS_X: u32 = 65535u;

fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn rng_base(key: u32, stream: u32, step: u32, element: u32) -> u32 {
    return pcg(pcg(pcg(key ^ stream) + step) + element);
}

fn rng_draw(base: u32, i: u32) -> u32 {
    return pcg(base + i * 0x9e3779b9u);
}

fn unit_f32(bits: u32) -> f32 {
    return f32(bits >> 8u) * (1.0 / 16777216.0);
}

// Irwin-Hall sum of twelve 16-bit uniforms minus 6: exact in f32, identical to rng::normal_f32.
fn normal_f32(base: u32, first: u32) -> f32 {
    var s = 0u;
    for (var i = 0u; i < 6u; i++) {
        let h = rng_draw(base, first + i);
        s += (h & 0xffffu) + (h >> 16u);
    }
    return f32(s + 6u) * (1.0 / 65536.0) - 6.0;
}

fn poisson_knuth(base: u32, exp_neg_lambda: f32, cap: u32) -> u32 {
    var p = 1.0;
    var k = 0u;
    loop {
        p *= unit_f32(rng_draw(base, k));
        if p <= exp_neg_lambda || k >= cap {
            break;
        }
        k += 1u;
    }
    return k;
}

// Rounds a result as written: passing its bits through an integer XOR with a uniform zero hides
// the expression from FMA fusion and reassociation (even under fast-math code generation), so every
// product and sum is rounded exactly as in the CPU reference.
fn rn(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ g.opaque_zero);
}

// The factor on weight changes of synapses onto a neuron with status `st` in population `pop`:
// learning (0 in probes) x neuromodulation x (1 + closeness to its lesion x the learning window
// now). It multiplies each weight change once: the STDP step of a plain rule, the dopamine-gated
// step of a modulated one (whose eligibility takes only `g.learning`).
fn plasticity_factor(st: vec4<u32>, pop_learn: f32) -> f32 {
    let slot = (st.x >> STATUS_SLOT_SHIFT) & 3u;
    let near = bitcast<f32>(st.z);
    return rn(rn(g.learning * pop_learn) * rn(1.0 + rn(near * g.learn_window[slot])));
}

fn is_nonfinite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) >= 0x7f800000u;
}

// exp(x) from f32 adds and multiplies only, identical to rng::exp_f32 (a driver's exp is not
// bit-exact): x = k ln2 + r, |r| <= ln2 / 2, a degree-6 Taylor polynomial of e^r, times 2^k.
fn exp_f32(x: f32) -> f32 {
    if x < -87.0 {
        return 0.0;
    }
    let xc = min(x, 88.0);
    let k = floor(rn(xc * 1.4426950408889634) + 0.5);
    let r = rn(rn(xc - rn(k * 0.693145751953125)) - rn(k * 1.4286067653e-6));
    var p = 1.0 / 720.0;
    p = rn(rn(p * r) + 1.0 / 120.0);
    p = rn(rn(p * r) + 1.0 / 24.0);
    p = rn(rn(p * r) + 1.0 / 6.0);
    p = rn(rn(p * r) + 0.5);
    p = rn(rn(p * r) + 1.0);
    p = rn(rn(p * r) + 1.0);
    return rn(p * bitcast<f32>(u32(i32(k) + 127) << 23u));
}

// 1 / x for a positive normal x from f32 multiplies and adds only, identical to rng::recip_f32 (a
// driver's division need not be correctly rounded): a first guess from the bits (relative error
// under 1/8), then four Newton steps y (2 - x y), each squaring the error, to within 2 ulp.
fn recip_f32(x: f32) -> f32 {
    var y = bitcast<f32>(0x7ef311c3u - bitcast<u32>(x));
    for (var i = 0u; i < 4u; i++) {
        y = rn(y * rn(2.0 - rn(x * y)));
    }
    return y;
}
