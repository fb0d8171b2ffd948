//! Plain-data structures shared with WGSL (`shaders/common.wgsl`); a test checks sizes and offsets
//! against naga's view of the shader, so the two sides cannot drift apart.

use bytemuck::{Pod, Zeroable};

/// Marks an empty synapse slot (no presynaptic neuron): where a spine can form later.
pub const EMPTY: u32 = u32::MAX;
/// Bits of a slot's 16-bit `syn_delay` word holding the delay in steps (1..=4095); the top four
/// bits hold the spine state of structural plasticity (SPINE_STABLE, SPINE_PROPOSED).
pub const DELAY_MASK: u32 = 0xfff;
/// A stable (mushroom) spine; without it an occupied slot of a structural pair is nascent (thin).
pub const SPINE_STABLE: u32 = 0x1000;
/// A slot holding a partner proposed in this structural update, not yet accepted (transient).
pub const SPINE_PROPOSED: u32 = 0x2000;
/// Synaptic elements (boutons or spines) a neuron may hold: growth beyond it is not counted. A
/// bound on the work of spine formation per update, far above real cells (a cortical pyramidal
/// neuron carries about 1e4 spines); chosen, not measured.
pub const MAX_ELEMENTS: f32 = 65535.0;
/// Rows are whole numbers of chunks of this many slots, and `syn_owner` names the target neuron of
/// each chunk: a slot's target is `syn_owner[slot >> ROW_CHUNK_SHIFT]`.
pub const ROW_CHUNK_SHIFT: u32 = 3;
pub const ROW_CHUNK: u32 = 1 << ROW_CHUNK_SHIFT;
/// Longest representable delay in steps.
pub const MAX_DELAY_STEPS: u32 = DELAY_MASK;
/// The compact static layout (docs/ARCHITECTURE.md): a network no slow update reads keeps one
/// delay byte a slot on the GPU and no source; these bits of the byte hold the delay in steps
/// (1..=127), and `COMPACT_REMOVED` marks a slot a lesion emptied.
pub const COMPACT_DELAY_MASK: u32 = 0x7f;
pub const COMPACT_REMOVED: u32 = 0x80;
/// Rows that no structural plasticity can change keep no spine state: where every delay of the
/// network fits a byte (ring_len <= 256), the GPU keeps their delays as bytes, four a word
/// (`Network::delay_byte_shards`), and these bits hold the delay in steps.
pub const ROW_DELAY_BYTE_MASK: u32 = 0xff;
/// Neuron model codes (`Pop::model`).
pub const MODEL_IZHIKEVICH: u32 = 0;
pub const MODEL_LIF: u32 = 1;
pub const MODEL_SPIKE_SOURCE: u32 = 2;
pub const MODEL_PERIODIC: u32 = 3;
/// NEST's iaf_psc_alpha: alpha-shaped currents, separate excitatory and inhibitory time constants.
pub const MODEL_IAF_PSC_ALPHA: u32 = 4;
/// NEST's iaf_cond_exp: exponential excitatory and inhibitory conductances.
pub const MODEL_IAF_COND_EXP: u32 = 5;

/// Whether neurons of model `code` take excitatory and inhibitory input apart (two ring channels,
/// `Globals::ring_channels`, and the per-neuron `NeuronExt` state and parameters).
pub fn two_channel(code: u32) -> bool {
    code == MODEL_IAF_PSC_ALPHA || code == MODEL_IAF_COND_EXP
}
/// Bits of `SimHeader::err_flags`.
pub const ERR_NONFINITE: u32 = 1;

/// Uniform constants of one simulation.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Globals {
    pub n_neurons: u32,
    pub n_pops: u32,
    pub n_regions: u32,
    /// Delay ring length in steps (longest delay + 1).
    pub ring_len: u32,
    /// Seed key of all simulation-time draws.
    pub key: u32,
    /// Steps recorded into the spike raster (0: none).
    pub raster_steps: u32,
    /// u32 words per raster row: ceil(n_neurons / 32).
    pub raster_words: u32,
    /// Chunks of ROW_CHUNK synapse slots in all rows of all shards (the slots may outnumber u32).
    pub total_chunks: u32,
    /// Time step (ms) and its half and inverse.
    pub dt: f32,
    pub half_dt: f32,
    pub inv_dt: f32,
    /// Fixed-point scale of delay-ring input (a power of two) and its inverse.
    pub ring_scale: f32,
    pub inv_ring_scale: f32,
    /// Fixed-point scale of connectivity weight sums (a power of two).
    pub conn_scale: f32,
    /// Always 0. Float results are written `rn(a * b)`: the bits of a * b XOR this uniform. A
    /// compiler cannot see through it, so it can neither fuse products into FMAs nor reassociate
    /// sums, and the GPU stays bit-identical to the CPU reference on any driver.
    pub opaque_zero: u32,
    /// 1 when any projection is plastic: traces are kept and the learning stages run.
    pub plastic: u32,
    /// Dopamine: decay per step, tonic level of the modulated update, 1 when any rule is modulated.
    pub da_decay: f32,
    pub da_tonic: f32,
    pub modulated: u32,
    /// Fixed-point scale of summed squared weights (weight statistics).
    pub sq_scale: f32,
    /// Steps between synaptic-scaling updates (0: no scaling).
    pub scale_every: u32,
    /// 1 when neurons keep traces (plasticity or scaling).
    pub traced: u32,
    /// Steps between tagging-and-capture updates (0: none).
    pub capture_every: u32,
    /// 1 when the scene has structural plasticity: calcium is traced and the structure stages run.
    pub structural: u32,
    /// Factor on every learning rate (STDP and the modulated update): 0 while probe trials run
    /// with plasticity frozen, else 1. Written by the schedule (`Control`).
    pub learning: f32,
    /// Factor on structural rates (element growth, spine stabilization and pruning) and on the
    /// gain of synaptic scaling: a protocol's `offline_speedup` in offline phases, else 1.
    pub offline: f32,
    /// The `Lfp` readout: steps of per-step population spike counts recorded after each sample
    /// (0: none), into the counter words after the raster; and the step of the last sample, from
    /// which they count.
    pub lfp_steps: u32,
    pub lfp_from: u32,
    /// Per lesion slot: the penumbra's excitability loss now (fraction of input lost at the
    /// lesion's edge, `excitability_loss x exp(-days / recovery_days)`).
    pub deficit: [f32; 4],
    /// Per lesion slot: the plasticity window's extra factor on learning now (window curve - 1).
    pub learn_window: [f32; 4],
    /// Per lesion slot: the plasticity window's extra factor on element growth now (curve - 1).
    pub grow_window: [f32; 4],
    /// Per lesion slot: the peri-infarct tonic inhibitory current at the lesion's edge now (the
    /// neuron model's input current units; for iaf_cond_exp a conductance toward E_in in nS),
    /// after any drug that reduces it.
    pub tonic: [f32; 4],
    /// Channels of the delay ring: 1, one fixed-point sum per neuron and step slot (every weight);
    /// 2 when some population takes excitatory and inhibitory input apart (`two_channel`): the
    /// ring is then `[channel][ring_len][n_neurons]`, channel 0 the sum of the non-negative
    /// weights and channel 1 that of the negative ones, so its first half is the one-channel ring
    /// split by sign. Models of one input read the two channels' integer sum.
    pub ring_channels: u32,
    pub _gpad0: u32,
    pub _gpad1: u32,
    pub _gpad2: u32,
}

/// Per-neuron status words (`status` buffer, one `[u32; 4]` per neuron): x holds STATUS_ALIVE
/// and the neuron's lesion slot (bits 8..10); y its place in a penumbra (f32 bits: 1 at the core's
/// edge falling linearly to 0 at the penumbra's, scaling `Globals::deficit[slot]` and
/// `Globals::tonic[slot]`); z its closeness to the lesion (f32 bits in [0, 1], scaling
/// `Globals::learn_window[slot]` and `Globals::grow_window[slot]`); w its task map (TASK_* bits).
pub const STATUS_ALIVE: u32 = 1;
pub const STATUS_SLOT_SHIFT: u32 = 8;
/// Lesion slots: lesions of a run at most (model::MAX_LESIONS).
pub const LESION_SLOTS: usize = 4;
/// Task map: bits 0..16 the cue channels driving the neuron, bits 16..31 its output group + 1,
/// and bit 31 (`TASK_GUIDED`) set where that group is a guided group of another population
/// (driven by the guidance, never counted as a response).
pub const TASK_GROUP_SHIFT: u32 = 16;
pub const TASK_GROUP_MASK: u32 = 0x7fff;
pub const TASK_GUIDED: u32 = 1 << 31;
pub const TASK_CHANNELS: usize = 16;
/// Words of the `task` buffer: cue channel currents (f32 bits), guidance currents per output
/// group (f32 bits), the counting flag, then per output group spikes counted and the step of the
/// first counted spike (EMPTY: none).
pub const TASK_WORDS: usize = 80;
pub const T_DRIVE: usize = 0;
pub const T_GUIDE: usize = 16;
pub const T_COUNTING: usize = 32;
pub const T_COUNTS: usize = 48;
pub const T_FIRST: usize = 64;
/// The cue (+ 1) of the probe trial whose response-window spikes every neuron counts for the
/// task representation (0: none), the number of cues, and the spikes a neuron needs for its
/// preferred cue to count as selective.
pub const T_CUE: usize = 33;
pub const T_CUES: usize = 34;
pub const T_MIN: usize = 35;
/// With a task the `task` buffer continues with one word per region (selective neurons), then
/// the routes: per source region a u64 [low, high] word pair (see T_ROUTE). The spikes each
/// neuron fires in the response windows of each cue's probe trials are counted apart, REP_CUES
/// words a neuron (`Network::rep`; on the GPU split with the delay ring's parts, one binding
/// each, so that no single binding grows with the network by 32 bytes a neuron).
pub const REP_CUES: usize = 8;
/// The output group (+ 1) whose synaptic input `propagate` sums per source region while counting
/// is on (0: none): |weight| of every synapse delivered onto one of the group's neurons, fixed
/// point at `Globals::conn_scale`, into the route words (`route_words_at`).
pub const T_ROUTE: usize = 36;

/// Where the route words begin in a task buffer (with a task): after the fixed words and the
/// per-region representation words. Two words per region.
pub fn route_words_at(n_regions: usize) -> usize {
    TASK_WORDS + n_regions
}

impl Globals {
    /// The dynamic part at its resting values: learning on, no offline speedup, no lesion.
    pub fn at_rest(mut self) -> Self {
        self.learning = 1.0;
        self.offline = 1.0;
        self.deficit = [0.0; 4];
        self.learn_window = [0.0; 4];
        self.grow_window = [0.0; 4];
        self.tonic = [0.0; 4];
        self
    }
}

/// Words of the weight statistics of one plastic projection (`weights` stage): count, weight sum
/// (i64, scale conn_scale), squared-weight sum (u64, scale sq_scale), synapses at w_min, at w_max,
/// eligibility sum (i64, scale ELIG_SCALE, each value clamped to +-ELIG_CLAMP), HIST_BINS bins,
/// then (capture rules) tagged synapses (|early| > tag threshold) and consolidated ones (|late| >=
/// half the tag threshold).
pub const PLASTIC_WORDS: usize = 32;
pub const HIST_BINS: u32 = 20;
pub const ELIG_SCALE: f32 = 65536.0;
pub const ELIG_CLAMP: f32 = 16384.0;

/// One population: where its neurons and rows are, and its aggregate external drive.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Pop {
    pub first: u32,
    pub count: u32,
    pub model: u32,
    pub region: u32,
    /// The population's rows occupy chunks `chunk_base..chunk_end` of ROW_CHUNK slots (global
    /// chunk numbers: a network's slots may outnumber u32).
    pub chunk_base: u32,
    pub chunk_end: u32,
    /// Range of this population's Poisson sources in the source table.
    pub input_first: u32,
    pub input_count: u32,
    /// Constant current (model units; pA for LIF, added to I_e).
    pub dc: f32,
    /// Gaussian current per step: mean and SD.
    pub noise_mean: f32,
    pub noise_sd: f32,
    /// STDP traces of this population's neurons: TRACE_PRE_NEAREST / TRACE_POST_NEAREST bits
    /// (otherwise all-to-all), and the per-step decay factors of the presynaptic trace x and the
    /// postsynaptic trace y (0 when no plastic projection uses them).
    pub trace_flags: u32,
    pub pre_decay: f32,
    pub post_decay: f32,
    /// Synaptic scaling: set point (Hz; 0 = not scaled), gain per update = interval / (target
    /// tau), and the rate estimate's per-step decay and per-spike increment (Hz).
    pub scale_target: f32,
    pub scale_gain: f32,
    pub act_decay: f32,
    pub act_inc: f32,
    /// Largest |weight| scaling may give a synapse onto this population (SCALE_LIMIT times the
    /// largest initial |weight| onto it).
    pub scale_cap: f32,
    /// Calcium trace of structural plasticity: per-step decay and per-spike increment (beta_Ca).
    pub ca_decay: f32,
    pub ca_beta: f32,
    /// Growth of synaptic elements (Butz & van Ooyen): elements gained per structural update at
    /// the curve's peak (nu times the update's biological time; 0: this population does not grow),
    /// the curve's centre xi and 1 / zeta, and 1 / eps, the set point (calcium units).
    pub grow_nu: f32,
    pub grow_xi: f32,
    pub grow_inv_zeta: f32,
    pub grow_inv_eps: f32,
    /// Neuromodulation: factors on the input current of this population's neurons (excitability)
    /// and on the learning rate of synapses onto them (plasticity). 1 unless a session sets them.
    pub gain: f32,
    pub learn: f32,
    /// GROW_TYPED_DENDRITES: the neurons keep excitatory and inhibitory spines apart (element
    /// types), each pool on its own curve; otherwise one pool takes every sprouting rule.
    pub grow_flags: u32,
    /// The growth curves of the element types, (nu, xi, 1 / zeta) as for `grow_nu` above: the
    /// axon's (boutons), the excitatory dendrite's (spines; all spines without element types) and
    /// the inhibitory dendrite's. Without element types all three are the population's curve;
    /// `grow_nu` is then the largest nu (0: the population does not grow).
    pub axon_nu: f32,
    pub axon_xi: f32,
    pub axon_inv_zeta: f32,
    pub den_ex_nu: f32,
    pub den_ex_xi: f32,
    pub den_ex_inv_zeta: f32,
    pub den_in_nu: f32,
    pub den_in_xi: f32,
    pub den_in_inv_zeta: f32,
    /// Fraction of each element type's vacant elements lost at every structural update, after
    /// synapses formed (NEST's tau_vacant; 0: vacant elements stay).
    pub grow_vacant: f32,
    /// The most elements a neuron holds, by type (the elements' `capacity`, at most
    /// MAX_ELEMENTS): the axon's in the low 16 bits and the excitatory dendrite's in the high 16
    /// of `grow_caps`, the inhibitory dendrite's in `grow_cap_in`.
    pub grow_caps: u32,
    pub grow_cap_in: u32,
}

/// `Pop::grow_flags`: excitatory and inhibitory spines in separate pools.
pub const GROW_TYPED_DENDRITES: u32 = 1;

/// How far synaptic scaling may grow a weight: times the largest initial |weight| onto the
/// population. Bounds the fixed-point scale of the delay ring.
pub const SCALE_LIMIT: f32 = 4.0;

/// `Pop::trace_flags` bits: a spike sets the trace to 1 (nearest) instead of adding 1.
pub const TRACE_PRE_NEAREST: u32 = 1;
pub const TRACE_POST_NEAREST: u32 = 2;
/// The rule table (`rules` buffer) holds `n_pops * n_pops` words, the rule of each (source
/// population, target population) pair or NO_RULE, then `StdpRule` records of RULE_WORDS words.
pub const NO_RULE: u32 = u32::MAX;
pub const RULE_WORDS: usize = 16;

/// One STDP rule, per step units (weights in the projection's units).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct StdpRule {
    pub a_plus: f32,
    pub a_minus: f32,
    pub w_min: f32,
    pub w_max: f32,
    /// 1: weight-dependent (multiplicative) form; 0: additive.
    pub multiplicative: u32,
    /// 1: STDP writes the eligibility trace, and the modulated update moves the weight.
    pub modulated: u32,
    /// Eligibility decay over one modulated-update interval.
    pub elig_decay: f32,
    /// 1: tagging and capture (STDP changes are early-phase; see `capture` stage).
    pub capture: u32,
    /// |early change| above which a synapse is tagged; summed |early change| of a neuron above
    /// which it synthesizes proteins.
    pub tag_threshold: f32,
    pub protein_threshold: f32,
    /// Per capture update: early-phase decay, protein decay, and the fraction of a tagged early
    /// change consolidated per unit of protein.
    pub early_decay: f32,
    pub protein_decay: f32,
    pub late_rate: f32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// A Poisson source onto a population. The count per step is the sum of `repeats` independent
/// Knuth draws of mean lambda/repeats each (exact Poisson, no transcendental on the GPU).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct PoissonSource {
    /// exp(-lambda / repeats), lambda = rate * in_degree * dt.
    pub exp_neg_lambda: f32,
    /// Weight added per input spike.
    pub weight: f32,
    pub repeats: u32,
    /// Iteration cap of one Knuth draw.
    pub cap: u32,
    /// The source is on in steps `start..end`.
    pub start: u32,
    pub end: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// Dynamic state of one neuron. Izhikevich: v (mV), u. LIF: v relative to E_L (mV), u = I_syn (pA),
/// `refr` = refractory steps left. iaf_psc_alpha: v relative to E_L (mV), u = I_ex (pA), refr as
/// LIF, the rest in `NeuronExt`. iaf_cond_exp: v absolute (mV), u = g_ex (nS), refr as LIF.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct NeuronState {
    pub v: f32,
    pub u: f32,
    pub refr: u32,
    pub pop: u32,
}

/// Per-neuron parameters. Izhikevich: p0..p3 = a, b, c, d. Spike source: p0 = spike probability
/// per step. Periodic: p0 = period, p1 = phase (steps), p2 = spikes in all (0: no end), exact in f32.
/// LIF (exact integration, NEST iaf_psc_exp): p0 = P22 = exp(-h/tau_m), p1 = P21 (mV/pA),
/// p2 = P20 = tau_m/C (1 - P22) (mV/pA), p3 = P11 = exp(-h/tau_syn), p4 = threshold - E_L,
/// p5 = reset - E_L, p6 = I_e (pA), p7 = refractory steps (as f32).
/// iaf_psc_alpha (exact integration, Rotter & Diesmann 1999): p0 = P33 = exp(-h/tau_m),
/// p1 = P31_ex (mV per pA/ms of dI_ex), p2 = P30 = tau_m/C (1 - P33) (mV/pA), p3 = P32_ex (mV/pA),
/// p4..p7 as LIF. iaf_cond_exp: p0 = exp(-h/tau_ex), p1 = exp(-h/tau_in), p2 = -h/C_m (ms/pF),
/// p3 = g_L (nS), p4 = V_th (mV), p5 = V_reset (mV), p6 = I_e (pA), p7 = refractory steps. The
/// rest of both models' parameters are in `NeuronExt::params`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct NeuronParams {
    pub p0: f32,
    pub p1: f32,
    pub p2: f32,
    pub p3: f32,
    pub p4: f32,
    pub p5: f32,
    pub p6: f32,
    pub p7: f32,
}

/// The per-neuron state and parameters of the two-channel models beyond `NeuronState` and
/// `NeuronParams` (`neuron_ext` and `params_ext` buffers): one element per neuron when some
/// population has such a model, else a single zero element, so networks without them keep their
/// bytes. State (`[f32; 4]`): iaf_psc_alpha [dI_ex (pA/ms), I_in (pA), dI_in (pA/ms), 0];
/// iaf_cond_exp [g_in (nS), 0, 0, 0]; other models [0; 4], untouched.
/// Parameters (a `NeuronParams`): iaf_psc_alpha p0 = P31_in, p1 = P32_in, p2 = P11_ex =
/// exp(-h/tau_ex), p3 = P21_ex = h P11_ex (ms), p4 = P11_in, p5 = P21_in (ms), p6 = e/tau_ex,
/// p7 = e/tau_in (1/ms: a weight w in pA gives the current a peak of w at t = tau);
/// iaf_cond_exp p0 = tau_ex/h (1 - exp(-h/tau_ex)) and p1 = tau_in/h (1 - exp(-h/tau_in)) (the
/// conductances' means over a step per unit at its start), p2 = g_L E_L (pA), p3 = E_ex (mV),
/// p4 = E_in (mV), p5..p7 = 0.
pub type NeuronExt = [f32; 4];

/// Header of the simulation-state buffer (followed by the spike list, one u32 per neuron).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct SimHeader {
    /// The step the next `neurons` dispatch integrates.
    pub step: u32,
    /// Spikes appended in the current step.
    pub n_spikes: u32,
    /// Spikes and step that `propagate` delivers.
    pub prop_count: u32,
    pub prop_step: u32,
    /// GPU-side error word (ERR_* bits), the first step and lowest neuron that raised it.
    pub err_flags: u32,
    pub err_step: u32,
    pub err_neuron: u32,
    pub _pad: u32,
    /// Pair reward (Izhikevich 2007): the watched presynaptic and postsynaptic neurons (EMPTY:
    /// none), the steps of their last spikes (EMPTY: never), the window (steps), the reward delay's
    /// low end and span (steps), the region (u32::MAX: all) and amount (f32 bits), and the steps
    /// at which pending rewards fall due (EMPTY: free).
    pub watch_pre: u32,
    pub watch_post: u32,
    pub last_pre: u32,
    pub last_post: u32,
    pub window: u32,
    pub delay_lo: u32,
    pub delay_span: u32,
    pub reward_region: u32,
    pub reward_amount: f32,
    pub _pad1: [u32; 7],
    pub queue: [u32; REWARD_QUEUE],
}

/// Pair rewards pending at once at most (more are dropped).
pub const REWARD_QUEUE: usize = 16;

impl SimHeader {
    /// The state before step `step`, with no error recorded.
    pub fn at(step: u32) -> Self {
        SimHeader {
            step,
            err_step: u32::MAX,
            err_neuron: u32::MAX,
            watch_pre: EMPTY,
            watch_post: EMPTY,
            last_pre: EMPTY,
            last_post: EMPTY,
            queue: [EMPTY; REWARD_QUEUE],
            ..Default::default()
        }
    }
}

/// Constants of structural plasticity (`structure` buffer header, followed by the sprout rules,
/// the (source population, target population) table of sprout rules, the glia factor and centre
/// of each region, and the squared upper edges of the distance bins). Rates are per structural
/// update, in biological time (the update's interval times the scene's speedup).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct StructParams {
    pub n_rules: u32,
    /// Distance bins of the turnover statistics (the last one is open-ended).
    pub n_bins: u32,
    /// Spines at least this many steps old count as persistent.
    pub persist_steps: u32,
    /// |w| at or above which a nascent spine may stabilize, and the steps it must have lived.
    pub stab_after_steps: u32,
    pub stab_w: f32,
    /// |w| below which a stable spine is pruned at the nascent rate.
    pub prune_w: f32,
    /// Per update: stabilization rate of an eligible nascent spine (times neurotrophin and glia),
    /// pruning rate of a nascent spine (divided by glia), pruning rate of a stable spine.
    pub r_stab: f32,
    pub r_nascent: f32,
    pub r_stable: f32,
    /// Neurotrophin per update: decay, and gain per unit of the region's dopamine.
    pub trophin_decay: f32,
    pub trophin_reward: f32,
    /// Draws per free spine and update when choosing a partner.
    pub tries: u32,
    /// The point that turnover distances are measured from (mm).
    pub point: [f32; 3],
    /// Spine imaging: the word of the `structure` buffer where its block starts (the number of
    /// fields, of days, then the step each day is imaged), 0 without it.
    pub imaging: u32,
}

/// Spine imaging marks the neurons of each field of view by a bit (field f: bit f) in the fourth
/// component of their `positions` entry, stored as the bits of an f32 over this base (the bits of
/// 1.0, so the value is a normal float that no denormal flushing can touch).
pub const IMAGING_MASK_BASE: u32 = 0x3f80_0000;
/// Words of the imaging counts in `sstats` per field: spines in the field, then per imaging day
/// those formed no later than its image.
pub fn imaging_words(days: usize) -> usize {
    1 + days
}

/// A sprout rule: synapses from population `from_pop` onto `to_pop` form and retract (`structure` buffer).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct SproutRule {
    pub from_pop: u32,
    pub to_pop: u32,
    /// Weight and delay (steps) of a new synapse.
    pub weight: f32,
    pub delay: u32,
    /// 1 / length^2 (mm^-2): a candidate at offset d is accepted with probability exp(-d^2 / length^2).
    pub inv_len2: f32,
    /// SPROUT_AUTAPSES: a neuron may connect to itself; SPROUT_INHIBITORY: the rule's synapses
    /// are inhibitory (an inhibitory axon's, onto inhibitory spines where dendrites are typed).
    pub flags: u32,
    /// How d is measured: SPROUT_TOPOGRAPHIC (between the neurons' offsets from their regions'
    /// centres) or SPROUT_ABSOLUTE (between their positions).
    pub distance: u32,
    /// Factor on the acceptance probability (>= 0; 1 leaves it as it is): a candidate is
    /// accepted with probability min(1, gain exp(-d^2 / length^2)).
    pub gain: f32,
}

/// `SproutRule::distance`: offsets from the region centres (a tract mapped topographically), or
/// positions in mm (sprouting within a radius, across region borders).
pub const SPROUT_TOPOGRAPHIC: u32 = 0;
/// `SproutRule::flags` bits.
pub const SPROUT_AUTAPSES: u32 = 1;
pub const SPROUT_INHIBITORY: u32 = 2;
pub const SPROUT_ABSOLUTE: u32 = 1;

/// Words of `StructParams` and of one `SproutRule` in the `structure` buffer.
pub const STRUCT_HEADER_WORDS: usize = 16;
pub const SPROUT_WORDS: usize = 8;
/// Structural statistics per region (`sstats` buffer): events since the last sample (formed,
/// pruned, retracted, capacity misses), spines by state at the sample (nascent, stable,
/// persistent), elements at the last update (free boutons, free spines, bouton elements, spine
/// elements, then two spare words). Then [formed, eliminated] per distance bin.
pub const REGION_STRUCT_WORDS: usize = 12;
pub const SS_FORMED: usize = 0;
pub const SS_PRUNED: usize = 1;
pub const SS_RETRACTED: usize = 2;
pub const SS_MISSES: usize = 3;
pub const SS_NASCENT: usize = 4;
pub const SS_STABLE: usize = 5;
pub const SS_PERSISTENT: usize = 6;
pub const SS_FREE_BOUTONS: usize = 7;
pub const SS_FREE_SPINES: usize = 8;
pub const SS_BOUTONS: usize = 9;
pub const SS_SPINES: usize = 10;
/// Structural statistics per population, the last `n_pops x POP_STRUCT_WORDS` words of `sstats`:
/// over the population's living neurons at a sample (`census_pops`), calcium (fixed point,
/// `CALCIUM_SCALE` a unit, 64 bits as low and high words) and neurons counted; as of the last
/// structural update, bouton and (excitatory or untyped) spine elements (whole), connected
/// boutons and spines, and inhibitory spine elements and connected ones (the census words,
/// `PS_CENSUS_WORDS`); then events since the last sample: synapses formed onto the population's
/// excitatory (or untyped) spines and deleted there, formed out of its boutons and deleted, and
/// formed onto and deleted from its inhibitory spines.
pub const POP_STRUCT_WORDS: usize = 16;
pub const PS_CENSUS_WORDS: usize = 9;
pub const PS_SPINES_IN: usize = 7;
pub const PS_CONN_SPINES_IN: usize = 8;
pub const PS_SPINES_FORMED: usize = 9;
pub const PS_SPINES_DELETED: usize = 10;
pub const PS_BOUTONS_FORMED: usize = 11;
pub const PS_BOUTONS_DELETED: usize = 12;
pub const PS_SPINES_IN_FORMED: usize = 13;
pub const PS_SPINES_IN_DELETED: usize = 14;
pub const PS_CALCIUM_LO: usize = 0;
pub const PS_CALCIUM_HI: usize = 1;
pub const PS_NEURONS: usize = 2;
pub const PS_BOUTONS: usize = 3;
pub const PS_SPINES: usize = 4;
pub const PS_CONN_BOUTONS: usize = 5;
pub const PS_CONN_SPINES: usize = 6;
/// Fixed-point units of calcium in `census_pops` (2^20: a neuron's calcium is resolved to 1e-6
/// and counted up to 4096).
pub const CALCIUM_SCALE: f32 = 1048576.0;
