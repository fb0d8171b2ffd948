//! Host-side, seeded construction of a network from a model: neurons, synapse rows, outgoing index.
//!
//! Row layout (DESIGN.md, docs/ARCHITECTURE.md): every target neuron owns a row of slots, a whole
//! number of `ROW_CHUNK`-slot chunks sized to its need (times the projections' headroom); the
//! target of a slot is `syn_owner[slot >> ROW_CHUNK_SHIFT]`, so no per-slot target index is
//! stored. Within a row, synapses come in projection order; the rest of the row is empty (`EMPTY`)
//! for later growth. Rows are grouped into shards (ranges of target neurons) small enough that
//! every array of a shard fits one storage binding; each shard has its own outgoing index.
//!
//! Every draw is keyed by (stream, target neuron), so construction runs on all host cores and
//! gives the same network whatever the number of threads.

pub mod connect;
pub mod neurons;

use crate::error::{Error, Result};
use crate::layout::{self, DELAY_MASK, EMPTY, Globals, NeuronParams, NeuronState, PoissonSource, Pop, ROW_CHUNK};
use crate::rng::{self, Draws, stream};
use crate::scene::schema::SproutDistance;
use crate::scene::{InputKind, Model};

/// A range of target neurons whose rows are stored (and bound on the GPU) together.
#[derive(Clone, Debug)]
pub struct Shard {
    pub first_neuron: u32,
    pub end_neuron: u32,
    /// Global slots `first_slot..end_slot` (multiples of ROW_CHUNK; a network may hold more than
    /// 2^32, a shard fewer: its own slot numbers are u32).
    pub first_slot: u64,
    pub end_slot: u64,
    /// Outgoing index of this shard (CSR over all presynaptic neurons): the shard's slots that
    /// neuron i drives are `first_slot + out_slots[out_start[i]..out_start[i + 1]]`, ascending.
    pub out_start: Vec<u32>,
    pub out_slots: Vec<u32>,
    /// Entries of `out_slots` (kept when the engine takes the index: `Network::take_synapses`).
    pub synapses: u32,
    /// Whether `out_slots` was made: a shard in the compact layout built for an upload alone
    /// (`build_for_upload`) has none, and the upload puts its slots in source order in place.
    pub indexed: bool,
}

impl Shard {
    pub fn slots(&self) -> u32 {
        (self.end_slot - self.first_slot) as u32
    }
}

/// The per-slot arrays of a network and its shards' outgoing indexes, moved out of it
/// (`Network::take_synapses`): the same fields, emptied there.
#[derive(Clone, Debug, Default)]
pub struct SynapseArrays {
    pub syn_pre: Vec<u32>,
    pub syn_weight: Vec<f32>,
    pub syn_delay: Vec<u16>,
    pub syn_owner: Vec<u32>,
    pub syn_elig: Vec<f32>,
    pub syn_late: Vec<f32>,
    pub syn_born: Vec<u32>,
    /// Per shard.
    pub out_slots: Vec<Vec<u32>>,
}

/// One shard's synapses in the compact static layout (`Network::compact_synapses`).
#[derive(Clone, Debug, PartialEq)]
pub struct CompactSynapses {
    /// Where each presynaptic neuron's synapses begin (n + 1 entries).
    pub out_start: Vec<u32>,
    /// Target neuron, weight, and delay byte (four a word) of each synapse.
    pub post: Vec<u32>,
    pub weight: Vec<f32>,
    pub delay: Vec<u32>,
}

/// The targets of a shard's synapses in the compact layout: for each entry of its outgoing
/// index (`out_slots`, local to the shard whose slots begin at `first`), the slot's owner.
pub fn compact_posts(first: u64, out_slots: &[u32], syn_owner: &[u32]) -> Vec<u32> {
    let mut post = vec![0u32; out_slots.len()];
    compact_posts_into(first, out_slots, syn_owner, &mut post);
    post
}

/// `compact_posts` written into `post` (one word an entry; the upload writes straight into the
/// device buffer's mapped range).
pub fn compact_posts_into(first: u64, out_slots: &[u32], syn_owner: &[u32], post: &mut [u32]) {
    for (p, &local) in post.iter_mut().zip(out_slots) {
        *p = syn_owner[((first + local as u64) >> layout::ROW_CHUNK_SHIFT) as usize];
    }
}

/// The weights of a shard's synapses in the compact layout (as `compact_posts`).
pub fn compact_weights(first: u64, out_slots: &[u32], syn_weight: &[f32]) -> Vec<f32> {
    let mut weight = vec![0f32; out_slots.len()];
    compact_weights_into(first, out_slots, syn_weight, &mut weight);
    weight
}

/// `compact_weights` written into `weight` (as `compact_posts_into`).
pub fn compact_weights_into(first: u64, out_slots: &[u32], syn_weight: &[f32], weight: &mut [f32]) {
    for (w, &local) in weight.iter_mut().zip(out_slots) {
        *w = syn_weight[(first + local as u64) as usize];
    }
}

/// The delay bytes of a shard's synapses in the compact layout, four a word (as
/// `compact_posts`): the delay, and `COMPACT_REMOVED` where a lesion emptied the slot.
pub fn compact_delays(first: u64, out_slots: &[u32], syn_pre: &[u32], syn_delay: &[u16]) -> Vec<u32> {
    let mut delay = vec![0u32; out_slots.len().div_ceil(4)];
    let removed = compact_removed(first, out_slots, syn_pre);
    compact_delays_into(first, out_slots, syn_delay, &removed, 0, &mut delay);
    delay
}

/// Which of a shard's synapses in the compact layout (as `compact_posts`) a lesion removed (their
/// slot is empty), one bit each, 32 a word: what `compact_delays` reads of the sources, so the
/// sources can be let go before the delays are put together.
pub fn compact_removed(first: u64, out_slots: &[u32], syn_pre: &[u32]) -> Vec<u32> {
    let mut bits = vec![0u32; out_slots.len().div_ceil(32)];
    for (e, &local) in out_slots.iter().enumerate() {
        if syn_pre[(first + local as u64) as usize] == EMPTY {
            bits[e / 32] |= 1 << (e % 32);
        }
    }
    bits
}

/// Words `from_word..` of `compact_delays` with the removed synapses given as `compact_removed`
/// gives them, written into `delay` (each word whole; as `compact_posts_into`).
pub fn compact_delays_into(
    first: u64,
    out_slots: &[u32],
    syn_delay: &[u16],
    removed: &[u32],
    from_word: usize,
    delay: &mut [u32],
) {
    for (w, word) in (from_word..).zip(delay.iter_mut()) {
        *word = 0;
        for (b, &local) in out_slots.iter().enumerate().skip(4 * w).take(4) {
            let slot = (first + local as u64) as usize;
            let gone = if removed[b / 32] >> (b % 32) & 1 != 0 {
                layout::COMPACT_REMOVED
            } else {
                0
            };
            let byte = (syn_delay[slot] as u32 & layout::COMPACT_DELAY_MASK) | gone;
            *word |= byte << (8 * (b % 4));
        }
    }
}

/// Words `from_word..` of the delay bytes of a compact shard whose slots are in source order
/// (`sort_compact_shard`: `syn_delay` its synapses' delay words from its first slot), as
/// `compact_delays_into` makes them where nothing was removed.
pub fn compact_delays_sorted_into(syn_delay: &[u16], from_word: usize, delay: &mut [u32]) {
    for (w, word) in (from_word..).zip(delay.iter_mut()) {
        *word = 0;
        for (b, &d) in syn_delay.iter().enumerate().skip(4 * w).take(4) {
            *word |= (d as u32 & layout::COMPACT_DELAY_MASK) << (8 * (b % 4));
        }
    }
}

/// Puts the slots of shard `k` (in the compact layout, built without an index:
/// `build_for_upload`) in source order in place, in the arrays taken out of the network: the
/// targets of its synapses over the first of its sources, their weights and delay words over
/// the first of its own, each in the order of the outgoing index `shard` makes (sources
/// ascending, then slots). Its compact arrays are then `syn_pre`, `syn_weight` and `syn_delay`
/// from its first slot, `synapses` long (`compact_delays_sorted_into` makes the delay bytes);
/// its other slots keep what they held. Holds one shard's index and one array of it besides.
pub fn sort_compact_shard(t: &mut SynapseArrays, net: &Network, k: usize) {
    let s = &net.shards[k];
    let n = net.globals.n_neurons as usize;
    let ix = shard(
        &t.syn_pre,
        &net.row_start,
        n,
        s.first_neuron as usize,
        s.end_neuron as usize,
    );
    assert_eq!(
        ix.out_slots.len(),
        s.synapses as usize,
        "shard {k} changed between its build and its upload"
    );
    let a = s.first_slot as usize;
    let e = a + ix.out_slots.len();
    // Each synapse's target (its slot's chunk owner) where the sources were, then its weight and
    // delay in source order: gathers at the index's slots, on all host cores.
    let owner = &t.syn_owner;
    gather(&ix.out_slots, &mut t.syn_pre[a..e], |l| {
        owner[(a + l as usize) >> layout::ROW_CHUNK_SHIFT]
    });
    let mut weight = vec![0f32; ix.out_slots.len()];
    let from = &t.syn_weight;
    gather(&ix.out_slots, &mut weight, |l| from[a + l as usize]);
    t.syn_weight[a..e].copy_from_slice(&weight);
    drop(weight);
    let mut delay = vec![0u16; ix.out_slots.len()];
    let from = &t.syn_delay;
    gather(&ix.out_slots, &mut delay, |l| from[a + l as usize]);
    t.syn_delay[a..e].copy_from_slice(&delay);
}

/// `out[e] = at(index[e])` for every e, in contiguous runs on all host cores.
fn gather<T: Send>(index: &[u32], out: &mut [T], at: impl Fn(u32) -> T + Sync) {
    let per = index.len().div_ceil(threads()).max(1 << 16);
    let at = &at;
    std::thread::scope(|s| {
        for (ix, out) in index.chunks(per).zip(out.chunks_mut(per)) {
            s.spawn(move || {
                for (o, &l) in out.iter_mut().zip(ix) {
                    *o = at(l);
                }
            });
        }
    });
}

/// Row delays as bytes, four a word (`Network::delay_byte_shards`): slot k's delay in byte k % 4
/// of word k / 4. The words must hold nothing but a delay of at most ROW_DELAY_BYTE_MASK steps.
pub fn delay_bytes(syn_delay: &[u16]) -> Vec<u32> {
    let mut words = vec![0u32; syn_delay.len().div_ceil(4)];
    for (k, &d) in syn_delay.iter().enumerate() {
        debug_assert!(d as u32 <= layout::ROW_DELAY_BYTE_MASK, "slot {k}: delay word {d:#x}");
        words[k / 4] |= (d as u32 & layout::ROW_DELAY_BYTE_MASK) << (8 * (k % 4));
    }
    words
}

/// The network as arrays, ready to upload (GPU) or to step (reference).
#[derive(Clone, Debug)]
pub struct Network {
    pub globals: Globals,
    pub pops: Vec<Pop>,
    pub poisson: Vec<PoissonSource>,
    /// Mean input spikes per step of each Poisson source as built (rate factors scale it).
    pub poisson_lambda: Vec<f64>,
    /// Per neuron status words (layout::STATUS_ALIVE and the lesion and task fields).
    pub status: Vec<[u32; 4]>,
    /// The `task` buffer (layout::TASK_WORDS, then with a task the representation and route
    /// words of each region).
    pub task: Vec<u32>,
    /// With a task, each neuron's spikes in the response windows of each cue's probe trials
    /// (layout::REP_CUES words a neuron; on the GPU in the delay ring's parts); else empty.
    pub rep: Vec<u32>,
    pub state: Vec<NeuronState>,
    pub params: Vec<NeuronParams>,
    /// The two-channel models' further state and parameters (layout::NeuronExt): one per neuron
    /// when a population has such a model (`Globals::ring_channels` 2), else one zero element.
    pub neuron_ext: Vec<layout::NeuronExt>,
    pub params_ext: Vec<NeuronParams>,
    /// Neuron positions (mm).
    pub positions: Vec<[f32; 3]>,
    /// Slot arrays (global slot numbers): presynaptic neuron (or EMPTY), weight, and a 16-bit word
    /// with the delay in steps in its low 12 bits.
    pub syn_pre: Vec<u32>,
    pub syn_weight: Vec<f32>,
    pub syn_delay: Vec<u16>,
    /// The target neuron of each chunk of ROW_CHUNK slots.
    pub syn_owner: Vec<u32>,
    /// Neuron i's row is slots `row_start[i]..row_start[i + 1]`.
    pub row_start: Vec<u64>,
    /// Ranges of rows bound together, each with its outgoing index.
    pub shards: Vec<Shard>,
    /// Neurons in each part of the neurons on the GPU (the last part may hold fewer): each part's
    /// delay ring and parameters (`params`, `params_ext`) are one binding each, and every shard's
    /// targets lie in one part. All neurons where the ring and the parameters fit one binding.
    pub ring_part: u32,
    /// Traces per neuron: [STDP presynaptic x, STDP postsynaptic y, rate estimate a (Hz), 0].
    pub traces: Vec<[f32; 4]>,
    /// The rule table: NO_RULE or a rule index per (source population, target population), then
    /// the StdpRule records as words (layout::NO_RULE).
    pub rules: Vec<u32>,
    /// Eligibility per slot (three-factor rules), or the early-phase change (capture rules);
    /// empty when neither.
    pub syn_elig: Vec<f32>,
    /// Late-phase (consolidated) change per slot (capture rules; empty when none).
    pub syn_late: Vec<f32>,
    /// Per region: [dopamine level, reward pending for the next step].
    pub modulators: Vec<[f32; 2]>,
    /// Steps between modulated weight updates (0: none).
    pub modulate_every: u64,
    /// Scheduled rewards: (step, region or u32::MAX for all, amount), in time order.
    pub rewards: Vec<(u64, u32, f32)>,
    /// The simulation header at step 0 (with the pair reward's watch, if any).
    pub header: layout::SimHeader,
    /// Structural plasticity (all empty when the scene has none): per neuron [calcium, bouton
    /// elements, spine elements, neurotrophin] and
    /// [free boutons, boutons to retract, connected boutons, distance bin, free spines, spines to
    /// retract, connected spines, neurotrophin bits, then the same three of the inhibitory spines
    /// and their elements' bits] at the last update (spines: the excitatory pool where dendrites
    /// are typed, the one pool otherwise); connected boutons (structural out-degree, kept
    /// by the index rebuild); per slot the step its synapse formed; the `structure` buffer
    /// (layout::StructParams, then rules, pair table, [glia, 1 / glia] and centre of each region,
    /// squared bin edges);
    /// and the structural statistics (layout::REGION_STRUCT_WORDS per region, then per bin).
    pub grow: Vec<[f32; 4]>,
    pub elem: Vec<[u32; 12]>,
    pub boutons: Vec<u32>,
    pub syn_born: Vec<u32>,
    pub structure: Vec<u32>,
    pub sstats: Vec<u32>,
    /// Spine imaging: per neuron the fields of view it lies in (bit f: field f); empty without
    /// the readout.
    pub imaging_mask: Vec<u32>,
    /// Steps between structural updates (0: none).
    pub structure_every: u64,
    /// Occupied slots.
    pub synapses: u64,
    /// "population (region)" for each population, for messages.
    pub labels: Vec<String>,
}

/// Sets a Poisson source's mean input spikes per step to `lambda`: a sum of `repeats` Knuth draws
/// of at most 30 each, each capped far in its tail.
pub fn poisson_rate(src: &mut PoissonSource, lambda: f64) {
    let repeats = (lambda / 30.0).ceil().max(1.0);
    let part = lambda / repeats;
    src.exp_neg_lambda = (-part).exp() as f32;
    src.repeats = repeats as u32;
    src.cap = (10.0 * part + 50.0) as u32;
}

/// The task map of every neuron (layout::TASK_* bits): cue channels and output groups.
pub fn task_map(model: &Model) -> Vec<u32> {
    let mut map = vec![0u32; model.neurons as usize];
    if let Some(t) = &model.task {
        let cue_first = model.populations[t.cue_pop].first;
        for k in 0..t.cues {
            for i in 0..t.cue_neurons {
                map[(cue_first + k * t.cue_neurons + i) as usize] |= 1 << k;
            }
        }
        if let Some(shared) = t.transfer_shared {
            let new = t.cue_neurons - shared;
            for k in 0..t.cues {
                let channel = 1 << (layout::TASK_CHANNELS as u32 / 2 + k);
                for i in 0..shared {
                    map[(cue_first + k * t.cue_neurons + i) as usize] |= channel;
                }
                for i in 0..new {
                    map[(cue_first + t.cues * t.cue_neurons + k * new + i) as usize] |= channel;
                }
            }
        }
        let out_first = model.populations[t.out_pop].first;
        for k in 0..t.cues {
            for i in 0..t.out_neurons {
                map[(out_first + k * t.out_neurons + i) as usize] |= (k + 1) << layout::TASK_GROUP_SHIFT;
            }
        }
        for &p in &t.guided {
            let first = model.populations[p].first;
            for k in 0..t.cues {
                for i in 0..t.out_neurons {
                    map[(first + k * t.out_neurons + i) as usize] |=
                        layout::TASK_GUIDED | (k + 1) << layout::TASK_GROUP_SHIFT;
                }
            }
        }
    }
    map
}

/// Chooses a power-of-two fixed-point scale so that `max_abs` times it stays below 2^30.
fn fixed_scale(max_abs: f64) -> f32 {
    let k = if max_abs > 0.0 {
        (2f64.powi(30) / max_abs).log2().floor() as i32
    } else {
        24
    };
    2f32.powi(k.clamp(-24, 24))
}

/// Host threads for construction.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(16)
}

/// Builds the network of a model in one shard (deterministic in the model's seed). Panics where
/// `build_sharded` fails: more than 2^35 slots (`MAX_SLOTS`), or a population's `capacity` below a neuron's
/// initial in-degree (for tests and examples; runs use `build_sharded`).
pub fn build(model: &Model) -> Network {
    build_sharded(model, u32::MAX as u64).unwrap_or_else(|e| panic!("{e}"))
}

/// Builds the network of a model with at most `max_shard_slots` slots per shard (rows are never
/// split). Fails when the network has more than 2^35 slots (`MAX_SLOTS`), or one row exceeds a
/// shard.
pub fn build_sharded(model: &Model, max_shard_slots: u64) -> Result<Network> {
    build_sharded_with(model, max_shard_slots, true)
}

/// `build_sharded` for an upload that takes the synapses (`GpuEngine::new_releasing`) and
/// nothing else: the shards in the compact layout get no outgoing index (4 bytes a synapse the
/// host would hold beside the rows at the build's peak); the upload puts each one's slots in
/// source order in place instead (`sort_compact_shard`). Such a network is for that upload alone:
/// the CPU twin and `GpuEngine::new` refuse it.
pub fn build_for_upload(model: &Model, max_shard_slots: u64) -> Result<Network> {
    build_sharded_with(model, max_shard_slots, false)
}

fn build_sharded_with(model: &Model, max_shard_slots: u64, index_compact: bool) -> Result<Network> {
    let key = rng::seed_key(model.seed);
    let n = model.neurons as usize;
    let dt = model.dt_ms;
    let clock = std::time::Instant::now();
    let phase = |what: &str| log::info!("build: {what} done at {:.2} s", clock.elapsed().as_secs_f64());

    let mut state = Vec::with_capacity(n);
    let mut params = Vec::with_capacity(n);
    let mut positions = Vec::with_capacity(n);
    // Excitatory and inhibitory input apart (two ring channels, NeuronExt per neuron) only where a
    // population needs it: other networks keep their bytes.
    let two_channel = model.populations.iter().any(|p| layout::two_channel(p.neuron.code()));
    let mut neuron_ext = Vec::with_capacity(if two_channel { n } else { 1 });
    let mut params_ext = Vec::with_capacity(if two_channel { n } else { 1 });
    for (pi, p) in model.populations.iter().enumerate() {
        for i in p.first..p.first + p.count {
            let b = neurons::neuron(key, i, pi as u32, &p.neuron, dt);
            params.push(b.params);
            state.push(b.state);
            if two_channel {
                neuron_ext.push(b.ext);
                params_ext.push(b.params_ext);
            }
            positions.push(neurons::position(key, i, &model.regions[p.region]));
        }
    }
    if !two_channel {
        neuron_ext.push([0.0; 4]);
        params_ext.push(NeuronParams::default());
    }

    phase("neurons");
    let conns: Vec<connect::Connections> = (0..model.projections.len())
        .map(|j| connect::connect_or_defer(model, j, key, &positions))
        .collect();
    phase("connection rules");

    // The projections onto each population, in projection order (a connectome's scene has
    // thousands of projections and a dozen onto each population: per neuron, only those).
    let onto = onto_each(model);
    // Row capacity per neuron: its need over all projections onto it, rounded up to whole chunks.
    let mut row_start = Vec::with_capacity(n + 1);
    row_start.push(0u64);
    let mut pops: Vec<Pop> = Vec::with_capacity(model.populations.len());
    for (pi, p) in model.populations.iter().enumerate() {
        let slot_base = *row_start.last().unwrap_or(&0);
        for t in 0..p.count as usize {
            let into = || onto[pi].iter().map(|&j| (&model.projections[j], &conns[j]));
            let target = p.first + t as u32;
            let mut need: u64 = into()
                .map(|(pr, c)| (c.count(t, target) as f64 * pr.headroom).ceil() as u64)
                .sum();
            if let Some((capacity, at)) = &p.capacity {
                let degree: u64 = into().map(|(_, c)| c.count(t, target)).sum();
                if degree > *capacity as u64 {
                    return Err(at.err(format!(
                        "capacity {capacity} slots is smaller than the initial in-degree {degree} of neuron {t} \
                         of population {:?}",
                        p.name
                    )));
                }
                need = *capacity as u64;
            }
            let cap = need.div_ceil(ROW_CHUNK as u64) * ROW_CHUNK as u64;
            row_start.push(row_start.last().unwrap_or(&0) + cap);
        }
        pops.push(Pop {
            first: p.first,
            count: p.count,
            model: p.neuron.code(),
            region: p.region as u32,
            chunk_base: (slot_base / ROW_CHUNK as u64) as u32,
            chunk_end: (row_start.last().copied().unwrap_or(0) / ROW_CHUNK as u64) as u32,
            gain: 1.0,
            learn: 1.0,
            ..Default::default()
        });
    }
    // Slots are numbered in u64 on the host and per shard in u32 on the GPU; chunks (and the
    // populations' chunk ranges) in u32: at most MAX_SLOTS.
    let total_slots = *row_start.last().unwrap_or(&0);
    if total_slots > MAX_SLOTS {
        return Err(Error::TooMany {
            adapter: "any adapter".into(),
            what: format!("{total_slots} synapse slots (one network holds at most 2^35)"),
            needed: total_slots,
            available: MAX_SLOTS,
        });
    }
    let total = usize::try_from(total_slots).map_err(|_| Error::TooMany {
        adapter: "this host".into(),
        what: format!("{total_slots} synapse slots"),
        needed: total_slots,
        available: usize::MAX as u64,
    })?;

    phase("row sizes");
    let mut syn_pre = vec![EMPTY; total];
    let mut syn_weight = vec![0.0f32; total];
    let mut syn_delay = vec![0u16; total];
    let fill = fill_rows(
        model,
        conns,
        &pops,
        &row_start,
        key,
        (&mut syn_pre, &mut syn_weight, &mut syn_delay),
    );
    phase("rows filled");
    let mut syn_owner = vec![0u32; total / ROW_CHUNK as usize];
    for t in 0..n {
        let (a, b) = (row_start[t] / ROW_CHUNK as u64, row_start[t + 1] / ROW_CHUNK as u64);
        syn_owner[a as usize..b as usize].fill(t as u32);
    }
    let (max_delay, max_abs_w, max_row, synapses) = fill;
    // The neurons are split into parts of whole neurons whose delay ring and parameters (the
    // arrays that only the neuron stage reads neuron by neuron) each fit one binding; a shard's
    // rows never cross a part's edge, so each shard delivers into one part.
    let ring_words = (if two_channel { 2 } else { 1 }) * (max_delay as u64 + 1);
    let ring_part = ring_part_neurons(n as u64, ring_words.max(PART_WORDS), max_shard_slots)?;
    // Where a network needs several shards, the rows that structural plasticity can change (those
    // of the sprouting rules' target populations) get shards of their own: the structural
    // update's per-slot passes and index rebuild then visit only those (Network::structural_shards).
    // So do the rows a rule reads slot by slot (plastic or growing populations): the others can
    // take the compact layout (Network::compact_shards). A network of CUT_FROM_SLOTS slots or
    // more is cut so even where it fits one shard (on a GPU whose bindings hold it whole).
    let edges = if total_slots > max_shard_slots || total_slots >= CUT_FROM_SLOTS {
        sprout_edges(model, &pops)
    } else {
        Vec::new()
    };
    // Which shards will take the compact layout, from the model (as `Network::compact_shards`
    // decides it from the network, which this never contradicts: a population the model keeps
    // in rows the network keeps too, and the longest delay here counts the sprouting rules').
    let longest = model
        .structure
        .as_ref()
        .map_or(0, |st| st.sprouts.iter().map(|r| r.delay_steps).max().unwrap_or(0))
        .max(max_delay);
    let kept: Vec<bool> = (0..model.populations.len()).map(|t| keeps_rows(model, t)).collect();
    let compact_range = |lo: usize, hi: usize| {
        longest <= layout::COMPACT_DELAY_MASK
            && !model
                .populations
                .iter()
                .zip(&kept)
                .any(|(p, &k)| k && p.count > 0 && (p.first as usize) < hi && (p.first + p.count) as usize > lo)
    };
    let shards: Vec<Shard> = plan_shards(&row_start, max_shard_slots, ring_part as usize, &edges)?
        .into_iter()
        .map(|(a, b)| shard_with(&syn_pre, &row_start, n, a, b, index_compact || !compact_range(a, b)))
        .collect();
    phase("outgoing indexes");

    // External drive aggregated per population.
    let mut poisson = Vec::new();
    let mut poisson_lambda = Vec::new();
    for (pi, pop) in pops.iter_mut().enumerate() {
        pop.input_first = poisson.len() as u32;
        let mut noise_var = 0.0;
        for input in model.inputs.iter().filter(|i| i.target == pi) {
            match input.kind {
                InputKind::Dc { amplitude } => pop.dc += amplitude as f32,
                InputKind::Noise { mean, sd } => {
                    pop.noise_mean += mean as f32;
                    noise_var += sd * sd;
                }
                InputKind::Poisson {
                    rate_hz,
                    in_degree,
                    weight,
                    start,
                    end,
                } => {
                    let lambda = rate_hz * in_degree as f64 * dt * 1e-3;
                    poisson_lambda.push(lambda);
                    poisson.push(PoissonSource {
                        weight: weight as f32,
                        start: start.min(u32::MAX as u64) as u32,
                        end: end.min(u32::MAX as u64) as u32,
                        ..Default::default()
                    });
                    poisson_rate(poisson.last_mut().expect("pushed"), lambda);
                }
            }
        }
        pop.noise_sd = noise_var.sqrt() as f32;
        pop.input_count = poisson.len() as u32 - pop.input_first;
    }

    // The pair reward's rewarded synapses may start at a set weight.
    if let Some(r) = &model.pair_reward
        && let Some(w0) = r.start_weight
    {
        let (a, b) = (
            row_start[r.post as usize] as usize,
            row_start[r.post as usize + 1] as usize,
        );
        for k in a..b {
            if syn_pre[k] == r.pre {
                syn_weight[k] = w0 as f32;
            }
        }
    }

    // Plasticity: traces per neuron, decay factors per population, the rule table.
    let np = pops.len();
    let mut rules = vec![layout::NO_RULE; np * np];
    let mut records: Vec<layout::StdpRule> = Vec::new();
    for pr in &model.projections {
        if let Some(s) = &pr.plasticity {
            rules[pr.source * np + pr.target] = records.len() as u32;
            records.push(layout::StdpRule {
                a_plus: s.a_plus as f32,
                a_minus: s.a_minus as f32,
                w_min: s.w_min as f32,
                w_max: s.w_max as f32,
                multiplicative: s.multiplicative as u32,
                modulated: s.eligibility_tau_ms.is_some() as u32,
                capture: s.capture.is_some() as u32,
                tag_threshold: s.capture.as_ref().map_or(0.0, |c| c.tag_threshold as f32),
                protein_threshold: s.capture.as_ref().map_or(0.0, |c| c.protein_threshold as f32),
                early_decay: s
                    .capture
                    .as_ref()
                    .map_or(1.0, |c| (-(c.every_steps as f64) * dt / c.tau_early_ms).exp() as f32),
                protein_decay: s
                    .capture
                    .as_ref()
                    .map_or(1.0, |c| (-(c.every_steps as f64) * dt / c.tau_protein_ms).exp() as f32),
                late_rate: s.capture.as_ref().map_or(0.0, |c| {
                    1.0 - (-(c.every_steps as f64) * dt / c.tau_late_ms).exp() as f32
                }),
                elig_decay: match (s.eligibility_tau_ms, &model.dopamine) {
                    (Some(tau), Some(d)) => (-(d.every_steps as f64) * dt / tau).exp() as f32,
                    _ => 1.0,
                },
                ..Default::default()
            });
            let src = &mut pops[pr.source];
            src.pre_decay = (-dt / s.tau_plus_ms).exp() as f32;
            if s.nearest {
                src.trace_flags |= layout::TRACE_PRE_NEAREST;
            }
            let dst = &mut pops[pr.target];
            dst.post_decay = (-dt / s.tau_minus_ms).exp() as f32;
            if s.nearest {
                dst.trace_flags |= layout::TRACE_POST_NEAREST;
            }
        }
    }
    rules.extend(bytemuck::cast_slice::<layout::StdpRule, u32>(&records));
    let plastic = !records.is_empty();
    // Dopamine runs when a rule learns from it, or when structural plasticity's neurotrophin
    // follows it.
    let modulated = model.dopamine.is_some() && (records.iter().any(|r| r.modulated != 0) || model.structure.is_some());
    let capture_every = model
        .projections
        .iter()
        .filter_map(|p| p.plasticity.as_ref()?.capture.as_ref())
        .map(|c| c.every_steps)
        .next()
        .unwrap_or(0);

    // Synaptic scaling: set points, gains, rate estimates, and caps on the scaled weights.
    let mut max_row = max_row;
    let mut max_abs_w = max_abs_w;
    let mut scale_every = 0u64;
    for (pi, p) in model.populations.iter().enumerate() {
        let Some(s) = &p.scaling else { continue };
        scale_every = s.every_steps;
        let pop = &mut pops[pi];
        pop.scale_target = s.target_hz as f32;
        pop.scale_gain = (s.every_steps as f64 * dt / (s.target_hz * s.tau_ms)) as f32;
        pop.act_decay = (-dt / s.activity_tau_ms).exp() as f32;
        pop.act_inc = (1000.0 / s.activity_tau_ms) as f32;
        let chunk = ROW_CHUNK as usize;
        let (a, b) = (pop.chunk_base as usize * chunk, pop.chunk_end as usize * chunk);
        let largest = (a..b)
            .filter(|&k| syn_pre[k] != EMPTY)
            .map(|k| syn_weight[k].abs())
            .fold(0.0f32, f32::max);
        pop.scale_cap = layout::SCALE_LIMIT * largest;
        let widest = (pop.first..pop.first + pop.count)
            .map(|t| row_start[t as usize + 1] - row_start[t as usize])
            .max()
            .unwrap_or(0);
        max_row = max_row.max(widest as f64 * pop.scale_cap as f64);
        max_abs_w = max_abs_w.max(pop.scale_cap as f64);
    }
    let traced = plastic || scale_every > 0;

    // Structural plasticity may fill every slot of a row with new synapses: the fixed-point
    // scales must hold rows full of the sprouting weights (or of the plasticity bounds), and the
    // delay ring the sprouting delays.
    let mut max_delay = max_delay;
    if let Some(st) = &model.structure {
        for r in &st.sprouts {
            let reach = model
                .projections
                .iter()
                .filter(|p| p.source == r.source && p.target == r.target)
                .filter_map(|p| p.plasticity.as_ref())
                .map(|s| s.w_min.abs().max(s.w_max.abs()))
                .fold(r.weight.abs(), f64::max);
            let reach = reach.max(pops[r.target].scale_cap as f64);
            let pop = &pops[r.target];
            let widest = (pop.first..pop.first + pop.count)
                .map(|t| row_start[t as usize + 1] - row_start[t as usize])
                .max()
                .unwrap_or(0);
            // A row may also keep synapses of other projections: bound every slot by the largest.
            max_abs_w = max_abs_w.max(reach);
            max_row = max_row.max(widest as f64 * max_abs_w);
            max_delay = max_delay.max(r.delay_steps);
        }
    }

    let st = structural(model, &mut pops, &positions, &row_start, &mut syn_pre, &mut syn_delay);

    let ring_scale = fixed_scale(max_row);
    let globals = Globals {
        n_neurons: n as u32,
        n_pops: pops.len() as u32,
        n_regions: model.regions.len() as u32,
        ring_len: max_delay + 1,
        key,
        raster_steps: 0,
        raster_words: (n as u32).div_ceil(32),
        total_chunks: (total_slots / ROW_CHUNK as u64) as u32,
        dt: dt as f32,
        half_dt: (0.5 * dt) as f32,
        inv_dt: (1.0 / dt) as f32,
        ring_scale,
        inv_ring_scale: 1.0 / ring_scale,
        conn_scale: fixed_scale(max_abs_w),
        opaque_zero: 0,
        plastic: plastic as u32,
        da_decay: model.dopamine.as_ref().map_or(0.0, |d| (-dt / d.tau_ms).exp() as f32),
        da_tonic: model.dopamine.as_ref().map_or(0.0, |d| d.tonic as f32),
        modulated: modulated as u32,
        sq_scale: fixed_scale(max_abs_w * max_abs_w),
        scale_every: scale_every as u32,
        traced: traced as u32,
        capture_every: capture_every as u32,
        structural: model.structure.is_some() as u32,
        lfp_steps: model.readouts.lfp.as_ref().map_or(0, |l| l.window_steps),
        ring_channels: if two_channel { 2 } else { 1 },
        ..Default::default()
    }
    .at_rest();
    let status = task_map(model)
        .into_iter()
        .map(|m| [layout::STATUS_ALIVE, 0, 0, m])
        .collect();
    // With a task: per-region words of the task representation and per-region route sums (two
    // words each), and apart from them per-neuron cue counters.
    let (words, rep) = if model.task.is_some() {
        (
            layout::route_words_at(model.regions.len()) + 2 * model.regions.len(),
            layout::REP_CUES * n,
        )
    } else {
        (layout::TASK_WORDS, 0)
    };
    let mut task = vec![0u32; words];
    task[layout::T_FIRST..layout::T_FIRST + 16].fill(EMPTY);
    let rep = vec![0u32; rep];
    let net = Network {
        globals,
        pops,
        poisson,
        poisson_lambda,
        status,
        task,
        rep,
        state,
        params,
        neuron_ext,
        params_ext,
        positions,
        syn_pre,
        syn_weight,
        syn_delay,
        syn_owner,
        row_start,
        shards,
        ring_part,
        grow: st.grow,
        elem: st.elem,
        boutons: st.boutons,
        syn_born: st.born,
        structure: st.words,
        sstats: st.sstats,
        imaging_mask: st.imaging_mask,
        structure_every: model.structure.as_ref().map_or(0, |s| s.every_steps),
        synapses,
        traces: vec![[0.0; 4]; n],
        rules,
        syn_elig: if modulated || capture_every > 0 {
            vec![0.0; total]
        } else {
            Vec::new()
        },
        syn_late: if capture_every > 0 {
            vec![0.0; total]
        } else {
            Vec::new()
        },
        modulators: vec![[0.0; 2]; model.regions.len()],
        modulate_every: if modulated {
            model.dopamine.as_ref().map_or(0, |d| d.every_steps)
        } else {
            0
        },
        header: {
            let mut h = layout::SimHeader::at(0);
            if let Some(r) = &model.pair_reward {
                h.watch_pre = r.pre;
                h.watch_post = r.post;
                h.window = r.window_steps;
                h.delay_lo = r.delay_lo;
                h.delay_span = r.delay_span;
                h.reward_region = r.region.map_or(EMPTY, |x| x as u32);
                h.reward_amount = r.amount as f32;
            }
            h
        },
        rewards: model
            .rewards
            .iter()
            .map(|&(step, region, amount)| (step, region.map_or(u32::MAX, |r| r as u32), amount as f32))
            .collect(),
        labels: model
            .populations
            .iter()
            .map(|p| format!("{} ({})", p.name, model.regions[p.region].name))
            .collect(),
    };
    let compact = net.compact_shards();
    assert!(
        net.shards.iter().zip(&compact).all(|(s, &c)| s.indexed || c),
        "a shard without an index must take the compact layout"
    );
    Ok(net)
}

/// The structural state of a new network (all empty without structural plasticity).
struct Structural {
    grow: Vec<[f32; 4]>,
    elem: Vec<[u32; 12]>,
    boutons: Vec<u32>,
    born: Vec<u32>,
    words: Vec<u32>,
    sstats: Vec<u32>,
    imaging_mask: Vec<u32>,
}

/// Sets up structural plasticity: calcium and growth constants per population, spine states of
/// the initial synapses (stable, born at step 0), elements half an element above the connected
/// ones (so the first small change neither forms nor deletes), calcium at the set point, and the
/// `structure` buffer.
fn structural(
    model: &Model,
    pops: &mut [Pop],
    positions: &[[f32; 3]],
    row_start: &[u64],
    syn_pre: &mut [u32],
    syn_delay: &mut [u16],
) -> Structural {
    let Some(st) = &model.structure else {
        return Structural {
            grow: Vec::new(),
            elem: Vec::new(),
            boutons: Vec::new(),
            born: Vec::new(),
            words: Vec::new(),
            sstats: Vec::new(),
            imaging_mask: Vec::new(),
        };
    };
    let dt = model.dt_ms;
    let n = model.neurons as usize;
    let np = pops.len();
    for (pi, p) in model.populations.iter().enumerate() {
        let Some(gr) = &p.growth else { continue };
        let pop = &mut pops[pi];
        pop.ca_decay = (-dt / gr.tau_ca_ms).exp() as f32;
        pop.ca_beta = gr.beta_ca as f32;
        pop.grow_nu = (gr.max_nu() * st.bio_ms) as f32;
        pop.grow_xi = (0.5 * (gr.eta + gr.eps)) as f32;
        pop.grow_inv_zeta = (2.0 * std::f64::consts::LN_2.sqrt() / (gr.eps - gr.eta)) as f32;
        pop.grow_inv_eps = (1.0 / gr.eps) as f32;
        pop.grow_vacant = gr.vacant_decay as f32;
        let cap = |c: Option<crate::scene::model::ElementCurve>| c.map_or(layout::MAX_ELEMENTS as u32, |c| c.capacity);
        pop.grow_caps = cap(Some(gr.axon)) | (cap(gr.dendrite_ex) << 16);
        pop.grow_cap_in = cap(gr.dendrite_in);
        // Each element's curve as (nu per update, xi, 1 / zeta); a pool the population does not
        // have grows nothing.
        let curve = |c: Option<crate::scene::model::ElementCurve>| match c {
            Some(c) => [
                (c.nu_per_ms * st.bio_ms) as f32,
                (0.5 * (c.eta + c.eps)) as f32,
                (2.0 * std::f64::consts::LN_2.sqrt() / (c.eps - c.eta)) as f32,
            ],
            None => [0.0, pop.grow_xi, pop.grow_inv_zeta],
        };
        [pop.axon_nu, pop.axon_xi, pop.axon_inv_zeta] = curve(Some(gr.axon));
        [pop.den_ex_nu, pop.den_ex_xi, pop.den_ex_inv_zeta] = curve(gr.dendrite_ex);
        [pop.den_in_nu, pop.den_in_xi, pop.den_in_inv_zeta] = curve(gr.dendrite_in);
        if gr.typed_dendrites {
            pop.grow_flags |= layout::GROW_TYPED_DENDRITES;
        }
    }
    let mut pairs = vec![layout::NO_RULE; np * np];
    for (k, r) in st.sprouts.iter().enumerate() {
        pairs[r.source * np + r.target] = k as u32;
    }
    let pop_of = |i: u32| pops.partition_point(|p| p.first <= i) - 1;
    let mut grow = vec![[0.0f32; 4]; n];
    let mut boutons = vec![0u32; n];
    // Inhibitory spine elements of neurons with typed dendrites (`elem`'s last word).
    let mut spines_in = vec![0.0f32; n];
    for (t, g) in grow.iter_mut().enumerate() {
        let pt = pop_of(t as u32);
        let typed = pops[pt].grow_flags & layout::GROW_TYPED_DENDRITES != 0;
        let (mut spines, mut inhibitory) = (0u32, 0u32);
        for k in row_start[t] as usize..row_start[t + 1] as usize {
            let pre = syn_pre[k];
            let rule = if pre == EMPTY {
                layout::NO_RULE
            } else {
                pairs[pop_of(pre) * np + pt]
            };
            if rule != layout::NO_RULE {
                syn_delay[k] |= layout::SPINE_STABLE as u16;
                if typed && st.sprouts[rule as usize].inhibitory {
                    inhibitory += 1;
                } else {
                    spines += 1;
                }
                boutons[pre as usize] += 1;
            }
        }
        // Calcium and neurotrophin (calcium over eps, smoothed) at the start.
        let (ca, trophin) = model.populations[pt].growth.as_ref().map_or((0.0, 1.0), |gr| {
            (gr.calcium_init as f32, (gr.calcium_init / gr.eps) as f32)
        });
        *g = [ca, 0.0, spines as f32 + 0.5, trophin];
        if typed {
            spines_in[t] = inhibitory as f32 + 0.5;
        }
    }
    for (g, &b) in grow.iter_mut().zip(&boutons) {
        g[1] = b as f32 + 0.5;
    }
    let sp = &st.spines;
    let params = layout::StructParams {
        n_rules: st.sprouts.len() as u32,
        n_bins: st.bins_mm.len() as u32,
        persist_steps: st.persist_steps.min(u32::MAX as u64) as u32,
        stab_after_steps: (sp.stabilize_after_ms / st.speedup / dt).ceil().min(u32::MAX as f64) as u32,
        stab_w: sp.stabilize_above_w as f32,
        prune_w: sp.prune_below_w as f32,
        r_stab: (st.bio_ms / sp.stabilize_tau_ms) as f32,
        r_nascent: (st.bio_ms / sp.nascent_lifetime_ms) as f32,
        r_stable: (st.bio_ms / sp.stable_lifetime_ms) as f32,
        trophin_decay: (-st.bio_ms / st.trophin_tau_ms).exp() as f32,
        trophin_reward: st.trophin_reward as f32,
        tries: 4,
        point: [st.point_mm[0] as f32, st.point_mm[1] as f32, st.point_mm[2] as f32],
        imaging: 0,
    };
    let mut words: Vec<u32> = bytemuck::cast_slice(&[params]).to_vec();
    for r in &st.sprouts {
        let rule = layout::SproutRule {
            from_pop: r.source as u32,
            to_pop: r.target as u32,
            weight: r.weight as f32,
            delay: r.delay_steps,
            inv_len2: (1.0 / (r.length_mm * r.length_mm)) as f32,
            flags: if r.autapses { layout::SPROUT_AUTAPSES } else { 0 }
                | if r.inhibitory { layout::SPROUT_INHIBITORY } else { 0 },
            distance: match r.distance {
                SproutDistance::Topographic => layout::SPROUT_TOPOGRAPHIC,
                SproutDistance::Absolute => layout::SPROUT_ABSOLUTE,
            },
            gain: r.gain as f32,
        };
        words.extend_from_slice(bytemuck::cast_slice(&[rule]));
    }
    words.extend_from_slice(&pairs);
    for &g in &st.glia {
        words.extend([(g as f32).to_bits(), ((1.0 / g) as f32).to_bits()]);
    }
    for r in &model.regions {
        words.extend(r.centre_mm.iter().map(|&c| (c as f32).to_bits()));
        words.push(0);
    }
    // Each neuron's distance bin from the turnover point (the last bin is open-ended).
    let edges: Vec<f32> = st.bins_mm.iter().map(|&b| (b * b) as f32).collect();
    let pt = params.point;
    let elem = positions
        .iter()
        .zip(&spines_in)
        .map(|(q, z_in)| {
            let d = [q[0] - pt[0], q[1] - pt[1], q[2] - pt[2]];
            let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let bin = edges.iter().position(|&e| d2 <= e).unwrap_or(edges.len());
            [0, 0, 0, bin as u32, 0, 0, 0, 0, 0, 0, 0, z_in.to_bits()]
        })
        .collect();
    let born = vec![0u32; syn_pre.len()];
    let mut sstats = vec![0; layout::REGION_STRUCT_WORDS * model.regions.len() + 2 * (st.bins_mm.len() + 1)];
    // Spine imaging: its block after the bins (the params' `imaging` word says where), its counts
    // after the bins' in `sstats`, and each neuron's fields.
    let mut imaging_mask = Vec::new();
    if let Some(im) = &model.readouts.imaging {
        let at = words.len() as u32;
        words[bytemuck::offset_of!(layout::StructParams, imaging) / 4] = at;
        words.extend([im.fields.len() as u32, im.days.len() as u32]);
        words.extend(im.steps.iter().map(|&s| s.min(u32::MAX as u64) as u32));
        sstats.resize(sstats.len() + im.fields.len() * layout::imaging_words(im.days.len()), 0);
        imaging_mask = positions
            .iter()
            .map(|q| {
                im.fields.iter().enumerate().fold(0u32, |mask, (f, (c, r))| {
                    let d2: f64 = (0..3).map(|a| (q[a] as f64 - c[a]).powi(2)).sum();
                    if d2 <= r * r { mask | 1 << f } else { mask }
                })
            })
            .collect();
    }
    // Calcium and elements per population at samples: the last words (`census_pops`).
    sstats.resize(sstats.len() + model.populations.len() * layout::POP_STRUCT_WORDS, 0);
    Structural {
        grow,
        elem,
        boutons,
        born,
        words,
        sstats,
        imaging_mask,
    }
}

/// What a model will need on the GPU, estimated before building it (from expected synapse
/// counts, so within a few per cent for random rules).
#[derive(Clone, Debug)]
pub struct Estimate {
    pub synapses: f64,
    pub slots: f64,
    /// All buffers (bytes).
    pub bytes: f64,
    /// The per-neuron arrays that are not split between bindings: (name, bytes).
    pub neuron_arrays: Vec<(&'static str, f64)>,
    /// Words of the delay ring a neuron (channels times steps); the ring itself is split into
    /// parts of one binding each.
    pub ring_words: f64,
    /// Parts of whole neurons whose ring and parameters each fit one binding
    /// (`ring_part_neurons`).
    pub parts: f64,
    /// Host memory the build for the upload needs at its peak (bytes): the rows beside the
    /// connection lists that are kept or the outgoing indexes of the shards that keep rows, and
    /// the per-neuron arrays (the GPU's copy comes later, as the rows are let go).
    pub host_bytes: f64,
}

/// Most slots one network holds: u32 chunk numbers (`syn_owner`, `Pop::chunk_base`) of ROW_CHUNK
/// slots, 2^35 (3.4e10, several times what one GPU holds today). A shard's own slots are u32.
pub const MAX_SLOTS: u64 = (u32::MAX as u64 + 1) * ROW_CHUNK as u64;
/// Bytes per slot of the static synapse arrays: presynaptic index 4, weight 4, delay 2, and a
/// quarter of the 4-byte owner word per chunk of ROW_CHUNK slots (docs/ARCHITECTURE.md).
pub const BYTES_PER_SLOT: f64 = 10.0 + 4.0 / ROW_CHUNK as f64;
/// `BYTES_PER_SLOT` of rows whose delays are bytes (`Network::delay_byte_shards`): 9.5.
pub const BYTES_PER_BYTE_DELAY_SLOT: f64 = BYTES_PER_SLOT - 1.0;
/// Bytes per synapse in the compact static layout (`Network::compact`): target 4, weight 4,
/// delay 1; no slots.
pub const BYTES_PER_COMPACT_SYNAPSE: f64 = 9.0;
/// Bytes per synapse of the outgoing index.
pub const BYTES_PER_OUT_ENTRY: f64 = 4.0;

/// Estimates what `model` needs with shards of `shard_slots` slots.
pub fn estimate(model: &Model, shard_slots: u64) -> Estimate {
    let n = model.neurons as f64;
    let synapses = model.expected_synapses();
    // Slots and synapses of each population's rows: its `capacity` a row rounded up to whole
    // chunks, or the expected in-degree times each projection's headroom, plus half a chunk a row
    // on average.
    let per_projection = model.expected_synapses_per_projection();
    let rows_of = |t: usize| -> (f64, f64) {
        let into = || {
            model
                .projections
                .iter()
                .zip(&per_projection)
                .filter(|(p, _)| p.target == t)
        };
        let synapses: f64 = into().map(|(_, s)| s).sum();
        let pop = &model.populations[t];
        let slots = match &pop.capacity {
            Some((capacity, _)) => pop.count as f64 * (*capacity as u64).next_multiple_of(ROW_CHUNK as u64) as f64,
            None => {
                into().map(|(p, s)| s * p.headroom).sum::<f64>() + pop.count as f64 * (ROW_CHUNK as f64 - 1.0) / 2.0
            }
        };
        (slots, synapses)
    };
    let slots: f64 = (0..model.populations.len()).map(|t| rows_of(t).0).sum();
    let max_delay = model
        .projections
        .iter()
        .map(|p| {
            // An unclipped normal's tail: six SDs cover every draw of any practical network.
            let hi = match p.delay_ms {
                crate::scene::Param::Normal { mean, sd, max, .. } => max.min(mean + 6.0 * sd),
                _ => p.delay_ms.bounds().1,
            };
            (hi / model.dt_ms).round().clamp(1.0, DELAY_MASK as f64)
        })
        .fold(1.0, f64::max);
    let shards = (slots / shard_slots.max(1) as f64).ceil().max(1.0);
    // A two-channel model (iaf_psc_alpha, iaf_cond_exp) doubles the ring and adds 16 bytes of
    // state and 32 of parameters a neuron; otherwise those are one element each.
    let two = model.populations.iter().any(|p| layout::two_channel(p.neuron.code()));
    let (channels, ext) = if two { (2.0, n) } else { (1.0, 1.0) };
    let neuron_arrays = vec![
        ("neurons", 16.0 * n),
        ("neuron_ext", 16.0 * ext),
        ("sim", 32.0 + 4.0 * n),
        ("out_start", 4.0 * (n + 1.0)),
        ("status", 16.0 * n),
    ];
    let mut neuron_arrays = neuron_arrays;
    // A task's buffer: its fixed words and three words a region (representation, routes), one
    // binding; its REP_CUES spike counters a neuron (the task representation) are split with the
    // ring, below.
    if model.task.is_some() {
        let regions = model.regions.len() as f64;
        neuron_arrays.push(("task", 4.0 * (layout::TASK_WORDS as f64 + 3.0 * regions)));
    }
    // Traces where a rule or scaling reads them.
    if model.projections.iter().any(|p| p.plasticity.is_some()) || model.populations.iter().any(|p| p.scaling.is_some())
    {
        neuron_arrays.push(("traces", 16.0 * n));
    }
    // Structural plasticity: per neuron calcium and elements (16), element counts (three
    // records of 16), positions (16) and four words of counts, prefix sums and cursors, each one
    // binding.
    if model.structure.is_some() {
        neuron_arrays.extend([
            ("grow", 16.0 * n),
            ("elem_axon", 16.0 * n),
            ("elem_spine", 16.0 * n),
            ("elem_spine_in", 16.0 * n),
            ("positions", 16.0 * n),
            ("boutons", 4.0 * n),
            ("pool", 4.0 * (n + 1.0)),
            ("demand", 4.0 * n),
            ("cursor", 4.0 * n),
        ]);
    }
    // The delay ring and the parameters are split into parts of whole neurons, one binding each
    // (`ring_part_neurons`).
    let ring = 4.0 * channels * (max_delay + 1.0) * n;
    let params = 32.0 * (n + ext);
    let rep = if model.task.is_some() {
        4.0 * layout::REP_CUES as f64 * n
    } else {
        0.0
    };
    // Structural plasticity: an index entry and a birth step for every slot of the rows that can
    // grow (the sprouting rules' targets: `Network::structural_shards`); its per-neuron arrays
    // are among `neuron_arrays`.
    let structural = if let Some(st) = &model.structure {
        let (grow_slots, grow_synapses) = (0..model.populations.len())
            .filter(|&t| st.sprouts.iter().any(|r| r.target == t))
            .map(rows_of)
            .fold((0.0, 0.0), |(a, b), (s, y)| (a + s, b + y));
        grow_slots * (BYTES_PER_OUT_ENTRY + 4.0) - grow_synapses * BYTES_PER_OUT_ENTRY
    } else {
        0.0
    };
    // The compact static layout (`Network::compact_shards`) for the rows that nothing but
    // delivery reads: those of populations that neither learn, are scaled nor grow, where they
    // have shards of their own (a network of more than one shard) or make up the whole network.
    let plasticity = || model.projections.iter().filter_map(|p| p.plasticity.as_ref());
    let capture = plasticity().any(|s| s.capture.is_some());
    let kept = |t: usize| keeps_rows(model, t);
    let np = model.populations.len();
    let possible = max_delay <= layout::COMPACT_DELAY_MASK as f64;
    let several = slots > shard_slots.max(1) as f64 || slots >= CUT_FROM_SLOTS as f64;
    let compact_pop = |t: usize| possible && !kept(t) && (several || !(0..np).any(kept));
    // Rows keep delay bytes where no sprouting rule ends in their shard and every delay fits.
    let grows = |t: usize| sprouts_onto(model, t);
    let byte_pop =
        |t: usize| max_delay <= layout::ROW_DELAY_BYTE_MASK as f64 && !grows(t) && (several || !(0..np).any(grows));
    let (mut synapse_arrays, mut row_slots, mut row_synapses) = (0.0, 0.0, 0.0);
    for t in 0..np {
        let (s, y) = rows_of(t);
        if compact_pop(t) {
            synapse_arrays += y * BYTES_PER_COMPACT_SYNAPSE;
        } else {
            let slot = if byte_pop(t) {
                BYTES_PER_BYTE_DELAY_SLOT
            } else {
                BYTES_PER_SLOT
            };
            synapse_arrays += s * slot + y * BYTES_PER_OUT_ENTRY;
            row_slots += s;
            row_synapses += y;
        }
    }
    // Each cut at the edge of a run of populations that keep rows adds a shard (`sprout_edges`;
    // the cuts at a sprouting target's edges are among these).
    let cuts = if several {
        (1..np).filter(|&t| kept(t) != kept(t - 1)).count() as f64
    } else {
        0.0
    };
    let shards = shards + cuts;
    // An eligibility (or early phase) and a late phase a slot of the rows, where a rule keeps
    // them (as `build_sharded` allocates `syn_elig` and `syn_late`).
    let modulated =
        model.dopamine.is_some() && (plasticity().any(|s| s.eligibility_tau_ms.is_some()) || model.structure.is_some());
    let per_slot = 4.0 * ((modulated || capture) as u8 as f64 + capture as u8 as f64);
    let part_words = (channels * (max_delay + 1.0)).max(PART_WORDS as f64);
    let ring_parts = (part_words * n / shard_slots.max(1) as f64).ceil().max(1.0);
    let bytes = neuron_arrays.iter().map(|(_, b)| b).sum::<f64>()
        + ring
        + params
        + rep
        + 4.0 * (n + 1.0) * (shards + ring_parts - 2.0)
        + synapse_arrays
        + per_slot * row_slots
        + structural;
    // The host's peak while building for the upload (`build_for_upload`, what a GPU run makes),
    // from above: the rows (BYTES_PER_SLOT a slot) beside first the connection lists (a source a
    // synapse, a u64 start a target, of each projection that keeps a list: DistanceDependent
    // and Topographic; the others' sources are drawn where the rows fill, after a count a target
    // where needed, `connect::connect_or_defer`; the lists go as the rows fill), then
    // the outgoing indexes of the shards that keep rows (a slot a synapse, n + 1 starts a shard;
    // the compact shards get theirs one at a time at the upload), and the per-neuron arrays:
    // state 16, parameters 32, position 12, status 16, traces 16; further state and parameters
    // 48 with a two-channel model; calcium and elements 16 + 48 and connected boutons 4 with
    // structural plasticity; a task's cue counters 32. The per-slot birth steps, eligibilities and late phases start as
    // zeros, which the host maps only when written, and the build writes none of them.
    let lists: f64 = model
        .projections
        .iter()
        .zip(&per_projection)
        .filter(|(p, _)| {
            use crate::scene::Rule::*;
            !matches!(p.rule, FixedInDegree(_) | FixedTotalNumber(_) | FixedProbability(_))
        })
        .map(|(p, s)| BYTES_PER_OUT_ENTRY * s + 8.0 * (model.populations[p.target].count as f64 + 1.0))
        .sum();
    let row_shards = if row_slots > 0.0 {
        (row_slots / shard_slots.max(1) as f64).ceil() + cuts
    } else {
        0.0
    };
    let indexes = BYTES_PER_OUT_ENTRY * row_synapses + 4.0 * (n + 1.0) * row_shards;
    let per_neuron_host = 92.0
        + if two { 48.0 } else { 0.0 }
        + if model.structure.is_some() { 68.0 } else { 0.0 }
        + if model.task.is_some() {
            4.0 * layout::REP_CUES as f64
        } else {
            0.0
        };
    let host_bytes = slots * BYTES_PER_SLOT + lists.max(indexes) + per_neuron_host * n;
    Estimate {
        synapses,
        slots,
        bytes,
        neuron_arrays,
        ring_words: channels * (max_delay + 1.0),
        parts: ring_parts,
        host_bytes,
    }
}

/// What a run on a CPU adapter holds in host memory at its peak, over its GPU bytes: the
/// device's buffers (host memory there), the network's per-neuron arrays the run keeps, and the
/// driver's own. Measured on lavapipe (`rewire bench`, peak RSS against `gpu_bytes`): the whole
/// cortex at 1 M neurons 1.25, at 5 M 1.14 (docs/PERFORMANCE.md).
pub const CPU_ADAPTER_RUN_FACTOR: f64 = 1.25;

/// The largest network of `k` static synapses per neuron an adapter holds.
pub struct Capacity {
    pub neurons: u64,
    pub limited_by: String,
}

/// How many neurons of `k` static synapses each fit with a delay ring of `ring_len` steps (the
/// longest delay in steps plus one: 17 at dt 1 ms with delays up to 16 ms, 201 at dt 0.1 ms with
/// delays up to 20 ms): device memory over bytes per neuron (synapses in the compact static
/// layout where the ring is at most 128 steps, else with half a chunk of padding; state,
/// parameters, ring), one binding of neuron state (16 bytes a neuron: `neurons`, `status`, the
/// largest arrays that are not split) and 2^35 slots; whichever is smallest, named. (The ring
/// and the parameters are split into parts of one binding each.)
pub fn capacity(limits: &wgpu::Limits, memory: Option<u64>, k: u64, ring_len: u64) -> Capacity {
    capacity_with(limits, memory, None, false, k, ring_len, 1)
}

/// `capacity` with a ring of `channels` channels (2 for networks with a two-channel model,
/// iaf_psc_alpha or iaf_cond_exp, which also keep 16 bytes of further state and 32 of further
/// parameters a neuron, `neuron_ext` and `params_ext`), and a host of `host` bytes of memory
/// (None: not bounded by it), which builds the network first, as `Estimate::host_bytes` counts
/// it: its rows (BYTES_PER_SLOT a slot, with half a chunk of padding), an outgoing index where
/// the rows stay rows on the GPU (the compact layout's shards get theirs one at a time at the
/// upload), and its neuron arrays. Where the adapter is `shared` (a CPU adapter, whose device
/// memory is the host's), the run is bounded too, at `CPU_ADAPTER_RUN_FACTOR` times its GPU bytes,
/// as `sim::check_model_fits_limits` bounds a scene.
pub fn capacity_with(
    limits: &wgpu::Limits,
    memory: Option<u64>,
    host: Option<u64>,
    shared: bool,
    k: u64,
    ring_len: u64,
    channels: u64,
) -> Capacity {
    let binding = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
    let ring_len = ring_len.max(2);
    let channels = channels.clamp(1, 2);
    let ext = if channels > 1 { 16.0 + 32.0 } else { 0.0 };
    // Static synapses take the compact layout where the ring's delays fit its delay byte.
    let compact = ring_len <= layout::COMPACT_DELAY_MASK as u64 + 1;
    let synapses = if compact {
        k as f64 * BYTES_PER_COMPACT_SYNAPSE
    } else {
        // Rows, with delay bytes where the delays fit them.
        let slot = if ring_len <= layout::ROW_DELAY_BYTE_MASK as u64 + 1 {
            BYTES_PER_BYTE_DELAY_SLOT
        } else {
            BYTES_PER_SLOT
        };
        k as f64 * (slot + BYTES_PER_OUT_ENTRY) + (ROW_CHUNK as f64 - 1.0) / 2.0 * slot
    };
    let per_neuron = synapses + 16.0 + 32.0 + ext + 4.0 * (channels * ring_len) as f64 + 4.0 + 4.0;
    let index = if compact {
        0.0
    } else {
        k as f64 * BYTES_PER_OUT_ENTRY + 4.0
    };
    let build_per_neuron = (k as f64 + (ROW_CHUNK as f64 - 1.0) / 2.0) * BYTES_PER_SLOT
        + index
        + 92.0
        + if channels > 1 { 48.0 } else { 0.0 };
    let (host_per_neuron, what) = if shared && CPU_ADAPTER_RUN_FACTOR * per_neuron > build_per_neuron {
        (CPU_ADAPTER_RUN_FACTOR * per_neuron, "the run on this CPU adapter")
    } else {
        (build_per_neuron, "the build")
    };
    // The delay ring is split into parts of one binding each, so it limits only through memory.
    let mut best = (binding / 16, "limited by one binding of neuron state".to_string());
    let by_host = host.map(|h| {
        (
            (h as f64 / host_per_neuron) as u64,
            format!("limited by host memory for {what} at {host_per_neuron:.0} bytes a neuron"),
        )
    });
    for (neurons, why) in [(
        MAX_SLOTS / (k + ROW_CHUNK as u64 / 2),
        "limited by 2^35 synapse slots".to_string(),
    )]
    .into_iter()
    .chain(by_host)
    {
        if neurons < best.0 {
            best = (neurons, why);
        }
    }
    match memory {
        Some(m) if ((m as f64 / per_neuron) as u64) < best.0 => Capacity {
            neurons: (m as f64 / per_neuron) as u64,
            limited_by: format!("limited by device memory at {per_neuron:.0} bytes a neuron"),
        },
        Some(_) => Capacity {
            neurons: best.0,
            limited_by: best.1,
        },
        None => Capacity {
            neurons: best.0,
            limited_by: format!("{} (device memory unknown: at {per_neuron:.0} bytes a neuron)", best.1),
        },
    }
}

/// The projections onto each population of `model`, in projection order.
fn onto_each(model: &Model) -> Vec<Vec<usize>> {
    let mut onto = vec![Vec::new(); model.populations.len()];
    for (j, p) in model.projections.iter().enumerate() {
        onto[p.target].push(j);
    }
    onto
}

/// Per-thread extremes of the filled rows: (longest delay in steps, largest |w|, largest summed
/// |w| of a row, synapses).
type FillStats = (u32, f64, f64, u64);

/// Fills every row with its sources, weights and delays, on all host cores: projection by
/// projection, in order, each split by target neurons between the cores, and each projection's
/// connection list let go once written (so the host never holds every list beside the filled
/// rows); a projection without a list (`connect::connect_or_defer`: FixedInDegree,
/// FixedTotalNumber, FixedProbability) has each
/// target's sources drawn here, as its list would have held them. Each target's draws come from
/// its own streams, and its row takes the projections in order, so the rows are the same in any
/// split, with or without lists.
fn fill_rows(
    model: &Model,
    mut conns: Vec<connect::Connections>,
    pops: &[Pop],
    row_start: &[u64],
    key: u32,
    rows: (&mut [u32], &mut [f32], &mut [u16]),
) -> FillStats {
    let (syn_pre, syn_weight, syn_delay) = rows;
    let n = row_start.len() - 1;
    let dt = model.dt_ms;
    // Per target: slots of its row written so far, and the sum of |w| (or the plastic bound) over
    // them, in projection order.
    let mut cursor = vec![0u32; n];
    let mut row_sum = vec![0f64; n];
    let (mut max_delay, mut max_abs_w, mut synapses) = (1u32, 0f64, 0u64);
    // Bytes of connection lists let go since the allocator last gave free memory back.
    let mut freed = 0usize;
    for (j, pr) in model.projections.iter().enumerate() {
        let c = std::mem::take(&mut conns[j]);
        let pop = &pops[pr.target];
        let (first, end) = (pop.first as usize, (pop.first + pop.count) as usize);
        // A plastic weight may reach either bound: the fixed-point scales must hold it.
        let reach = pr.plasticity.as_ref().map_or(0.0, |s| s.w_min.abs().max(s.w_max.abs()));
        let fill_range = |lo: usize,
                          hi: usize,
                          pre: &mut [u32],
                          weight: &mut [f32],
                          delay: &mut [u16],
                          cursor: &mut [u32],
                          row_sum: &mut [f64]|
         -> (u32, f64, u64) {
            let base = row_start[lo] as usize;
            let (mut max_delay, mut max_abs_w, mut synapses) = (1u32, 0f64, 0u64);
            let mut scratch = Vec::new();
            for (target, &row) in (lo..hi).zip(&row_start[lo..hi]) {
                let (t, i) = (target - first, target - lo);
                let mut dw = Draws::new(key, stream::WEIGHT + j as u32, target as u32, 0);
                let mut dd = Draws::new(key, stream::DELAY + j as u32, target as u32, 0);
                let at = row as usize - base + cursor[i] as usize;
                let sources = c.sources_of(model, j, key, t, target as u32, &mut scratch);
                for (slot, &s) in (at..).zip(sources) {
                    let w = neurons::sample(&pr.weight, 0.0, &mut dw) as f32;
                    let delay_ms = neurons::sample(&pr.delay_ms, 0.0, &mut dd);
                    let d = ((delay_ms / dt).round() as u32).clamp(1, DELAY_MASK);
                    max_delay = max_delay.max(d);
                    max_abs_w = max_abs_w.max((w.abs() as f64).max(reach));
                    row_sum[i] += (w.abs() as f64).max(reach);
                    pre[slot] = s;
                    weight[slot] = w;
                    delay[slot] = d as u16;
                }
                cursor[i] += sources.len() as u32;
                synapses += sources.len() as u64;
            }
            (max_delay, max_abs_w, synapses)
        };
        let per = (end - first).div_ceil(threads()).max(1);
        let (a, b) = (row_start[first] as usize, row_start[end] as usize);
        let stats = std::thread::scope(|scope| {
            let mut handles = Vec::new();
            let (mut pre, mut weight, mut delay) = (&mut syn_pre[a..b], &mut syn_weight[a..b], &mut syn_delay[a..b]);
            let (mut cur, mut sum) = (&mut cursor[first..end], &mut row_sum[first..end]);
            for lo in (first..end).step_by(per) {
                let hi = (lo + per).min(end);
                let len = (row_start[hi] - row_start[lo]) as usize;
                let (p, rest_p) = std::mem::take(&mut pre).split_at_mut(len);
                let (w, rest_w) = std::mem::take(&mut weight).split_at_mut(len);
                let (d, rest_d) = std::mem::take(&mut delay).split_at_mut(len);
                let (cu, rest_c) = std::mem::take(&mut cur).split_at_mut(hi - lo);
                let (su, rest_s) = std::mem::take(&mut sum).split_at_mut(hi - lo);
                (pre, weight, delay, cur, sum) = (rest_p, rest_w, rest_d, rest_c, rest_s);
                let fill = &fill_range;
                handles.push(scope.spawn(move || fill(lo, hi, p, w, d, cu, su)));
            }
            handles
                .into_iter()
                .map(|h| h.join().expect("row-filling thread panicked"))
                .fold((1u32, 0f64, 0u64), |a, b| (a.0.max(b.0), a.1.max(b.1), a.2 + b.2))
        });
        max_delay = max_delay.max(stats.0);
        max_abs_w = max_abs_w.max(stats.1);
        synapses += stats.2;
        freed += 4 * c.sources.len() + 8 * c.start.len();
        drop(c);
        if freed >= 256 << 20 {
            return_freed_memory();
            freed = 0;
        }
    }
    return_freed_memory();
    let max_row = row_sum.iter().copied().fold(0f64, f64::max);
    (max_delay, max_abs_w, max_row, synapses)
}

/// Gives the host's free heap memory back to the system. The connection lists are made in
/// pieces by many threads, so glibc keeps them in its per-thread heaps, and letting them go
/// alone leaves the process's resident memory where it was (about 1 GB of the whole cortex at
/// 1 M neurons): `malloc_trim` returns the free pages of every heap. A no-op elsewhere.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim only returns free memory to the system; it takes no
        // pointers and is safe to call at any time from any thread.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Words of one neuron's parameters (`NeuronParams`, and `params_ext` where a population has a
/// two-channel model), split between bindings with the delay ring (`ring_part_neurons`).
pub const PARAM_WORDS: u64 = (std::mem::size_of::<NeuronParams>() / 4) as u64;

/// The most words a neuron that any array split with the delay ring holds besides the ring
/// itself: the parameters (`PARAM_WORDS`) and a task's cue counters (layout::REP_CUES).
pub const PART_WORDS: u64 = if PARAM_WORDS > layout::REP_CUES as u64 {
    PARAM_WORDS
} else {
    layout::REP_CUES as u64
};

/// Neurons a part of the delay ring holds: as many as fit one binding of `binding_words` words
/// at `ring_words` words a neuron (channels times ring length; the build passes at least
/// `PARAM_WORDS`, so a part's parameters fit a binding too), all `n` when they fit together.
/// Fails when one neuron's ring does not fit a binding.
pub fn ring_part_neurons(n: u64, ring_words: u64, binding_words: u64) -> Result<u32> {
    let part = binding_words / ring_words.max(1);
    if part == 0 {
        return Err(Error::TooLarge {
            adapter: "this adapter".into(),
            what: format!("the delay ring of one neuron ({ring_words} words) in one storage binding"),
            needed: 4 * ring_words,
            available: 4 * binding_words,
        });
    }
    Ok(part.min(n.max(1)).min(u32::MAX as u64) as u32)
}

/// The neurons where a run of sprouting rules' target populations begins or ends (ascending):
/// the populations are contiguous and in order.
/// Slots from which a network is cut at the edges of the rows that keep slot state
/// (`sprout_edges`) even where one shard would hold it: its static rows then take the compact
/// layout and the structural update skips the rows that cannot grow. Below it an extra shard's
/// dispatches are not worth the bytes saved (2^22 slots, 16 MiB an array: chosen, not measured;
/// the test networks stay whole).
pub const CUT_FROM_SLOTS: u64 = 1 << 22;

/// Whether a sprouting rule ends on population `t`.
fn sprouts_onto(model: &Model, t: usize) -> bool {
    model
        .structure
        .as_ref()
        .is_some_and(|st| st.sprouts.iter().any(|r| r.target == t))
}

/// Whether a rule reads population `t`'s rows slot by slot: a plastic projection's target, a
/// scaled or growing population, or a sprouting rule's target (`Network::keeps_rows` on the built
/// network).
fn keeps_rows(model: &Model, t: usize) -> bool {
    let p = &model.populations[t];
    sprouts_onto(model, t)
        || p.growth.is_some()
        || p.scaling.is_some()
        || model
            .projections
            .iter()
            .any(|j| j.target == t && j.plasticity.is_some())
}

fn sprout_edges(model: &Model, pops: &[Pop]) -> Vec<usize> {
    let target = |p: usize| sprouts_onto(model, p);
    let kept = |p: usize| keeps_rows(model, p);
    (1..pops.len())
        .filter(|&p| target(p) != target(p - 1) || kept(p) != kept(p - 1))
        .map(|p| pops[p].first as usize)
        .collect()
}

/// Splits the rows into shards of at most `max_slots` slots, none crossing a multiple of
/// `ring_part` neurons (the delay ring's parts) nor one of `edges` (ascending neurons): (first
/// neuron, end neuron) pairs.
fn plan_shards(row_start: &[u64], max_slots: u64, ring_part: usize, edges: &[usize]) -> Result<Vec<(usize, usize)>> {
    let n = row_start.len() - 1;
    // A shard's own slot numbers are u32, whatever the binding.
    let max = max_slots.min(u32::MAX as u64) / ROW_CHUNK as u64 * ROW_CHUNK as u64;
    let ring_part = ring_part.max(1);
    let mut shards = Vec::new();
    let mut lo = 0;
    let mut edges = edges.iter().peekable();
    for t in 0..n {
        let edge = edges.next_if_eq(&&t).is_some();
        if t > lo && (t % ring_part == 0 || edge) {
            shards.push((lo, t));
            lo = t;
        }
        let row = row_start[t + 1] - row_start[t];
        if row > max {
            return Err(Error::TooLarge {
                adapter: "this adapter".into(),
                what: format!("the row of neuron {t} ({row} slots) in one storage binding"),
                needed: 4 * row,
                available: 4 * max,
            });
        }
        if row_start[t + 1] - row_start[lo] > max {
            shards.push((lo, t));
            lo = t;
        }
    }
    shards.push((lo, n));
    Ok(shards)
}

/// The shard of target neurons `lo..hi`, with its outgoing index: counts per presynaptic neuron,
/// an exclusive scan, and a scatter in slot order, each thread taking a contiguous run of slots
/// (so every neuron's slots come out ascending whatever the number of threads).
pub(crate) fn shard(syn_pre: &[u32], row_start: &[u64], n: usize, lo: usize, hi: usize) -> Shard {
    shard_with(syn_pre, row_start, n, lo, hi, true)
}

/// `shard`, with its outgoing index only where `index` (else the starts and the count alone).
pub(crate) fn shard_with(syn_pre: &[u32], row_start: &[u64], n: usize, lo: usize, hi: usize, index: bool) -> Shard {
    let (first, end) = (row_start[lo], row_start[hi]);
    let pre = &syn_pre[first as usize..end as usize];
    let per = pre.len().div_ceil(threads()).max(ROW_CHUNK as usize);
    let counts: Vec<Vec<u32>> = std::thread::scope(|s| {
        let handles: Vec<_> = pre
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    let mut c = vec![0u32; n];
                    for &p in part.iter().filter(|&&p| p != EMPTY) {
                        c[p as usize] += 1;
                    }
                    c
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("index thread panicked"))
            .collect()
    });
    let mut out_start = vec![0u32; n + 1];
    // cursors[k][i]: where thread k writes neuron i's first slot.
    let mut cursors: Vec<Vec<u32>> = vec![vec![0u32; n]; counts.len()];
    let mut total = 0u32;
    for i in 0..n {
        out_start[i] = total;
        for (k, c) in counts.iter().enumerate() {
            cursors[k][i] = total;
            total += c[i];
        }
    }
    out_start[n] = total;
    drop(counts);
    if !index {
        return Shard {
            first_neuron: lo as u32,
            end_neuron: hi as u32,
            first_slot: first,
            end_slot: end,
            out_start,
            synapses: total,
            out_slots: Vec::new(),
            indexed: false,
        };
    }
    let mut out_slots = vec![0u32; total as usize];
    let out = SyncSlice(out_slots.as_mut_ptr());
    std::thread::scope(|s| {
        for (k, (part, mut cursor)) in pre.chunks(per).zip(cursors).enumerate() {
            let out = &out;
            s.spawn(move || {
                for (i, &p) in part.iter().enumerate() {
                    if p != EMPTY {
                        let at = cursor[p as usize] as usize;
                        cursor[p as usize] += 1;
                        // SAFETY: the scan gives every (thread, neuron) pair a disjoint range of
                        // `out_slots`, each within its length, so no two threads write one index.
                        unsafe { out.0.add(at).write((k * per + i) as u32) };
                    }
                }
            });
        }
    });
    Shard {
        first_neuron: lo as u32,
        end_neuron: hi as u32,
        first_slot: first,
        end_slot: end,
        out_start,
        synapses: out_slots.len() as u32,
        out_slots,
        indexed: true,
    }
}

/// A raw pointer that threads writing disjoint indices may share.
struct SyncSlice(*mut u32);
// SAFETY: only used in `shard`, where each index is written by exactly one thread.
unsafe impl Sync for SyncSlice {}

/// The name of part `k` of the delay ring among the GPU's buffers and a state's arrays: `ring`
/// for the first (the whole ring where it fits one binding), `ring[k]` for the others.
pub fn ring_part_name(k: usize) -> String {
    part_name("ring", k)
}

/// The name of part `k` of a per-neuron array split with the delay ring (`ring`, `params`,
/// `params_ext`): the array's own name for the first, `name[k]` for the others.
pub fn part_name(name: &str, k: usize) -> String {
    if k == 0 { name.into() } else { format!("{name}[{k}]") }
}

impl Network {
    /// Whether every shard has its outgoing index (not so after `build_for_upload`, whose
    /// network only `GpuEngine::new_releasing` takes).
    pub fn indexed(&self) -> bool {
        self.shards.iter().all(|s| s.indexed)
    }

    /// The parts of the neurons on the GPU, each with its own bindings of the delay ring and of
    /// the parameters: (first neuron, end neuron) of each, `ring_part` neurons a part.
    pub fn ring_parts(&self) -> Vec<(u32, u32)> {
        let n = self.globals.n_neurons;
        let part = self.ring_part.max(1);
        (0..n.div_ceil(part).max(1))
            .map(|k| (k * part, ((k + 1) as u64 * part as u64).min(n as u64) as u32))
            .collect()
    }

    /// The part of the delay ring that shard `k`'s targets lie in.
    pub fn shard_ring_part(&self, k: usize) -> usize {
        (self.shards[k].first_neuron / self.ring_part.max(1)) as usize
    }

    /// The plasticity rule of synapses from population `source` onto population `target`, if any.
    pub fn rule_between(&self, source: usize, target: usize) -> Option<layout::StdpRule> {
        let np = self.pops.len();
        let ri = self.rules[source * np + target];
        if ri == layout::NO_RULE {
            return None;
        }
        let b = np * np + layout::RULE_WORDS * ri as usize;
        Some(*bytemuck::from_bytes(bytemuck::cast_slice(
            &self.rules[b..b + layout::RULE_WORDS],
        )))
    }

    /// Whether a dopamine-modulated rule ends on population `target` (from any source).
    pub fn receives_modulated(&self, target: usize) -> bool {
        (0..self.pops.len()).any(|source| self.rule_between(source, target).is_some_and(|r| r.modulated != 0))
    }

    /// The chunks of ROW_CHUNK slots (global indices, ascending) that the `modulate` stage visits:
    /// those holding a synapse under a dopamine-modulated rule. Without structural plasticity no
    /// slot gains a synapse, so the list holds for the whole run and the update's cost follows the
    /// modulated synapses, not the rows they share with static ones. With it, any empty slot of a
    /// row that a modulated rule ends on may come to hold one: every chunk of those rows.
    pub fn modulated_chunks(&self) -> Vec<u32> {
        self.modulated_chunks_in(&self.syn_owner, &self.syn_pre)
    }

    /// `modulated_chunks` over the owners and sources given (those taken out of the network).
    pub fn modulated_chunks_in(&self, syn_owner: &[u32], syn_pre: &[u32]) -> Vec<u32> {
        let np = self.pops.len();
        let targets: Vec<bool> = (0..np).map(|t| self.receives_modulated(t)).collect();
        let modulated: Vec<bool> = (0..np * np)
            .map(|k| self.rule_between(k / np, k % np).is_some_and(|r| r.modulated != 0))
            .collect();
        let chunk = ROW_CHUNK as usize;
        (0..syn_owner.len() as u32)
            .filter(|&c| {
                let post = self.state[syn_owner[c as usize] as usize].pop as usize;
                if !targets[post] {
                    return false;
                }
                if self.globals.structural != 0 {
                    return true;
                }
                syn_pre[c as usize * chunk..(c as usize + 1) * chunk]
                    .iter()
                    .any(|&pre| pre != EMPTY && modulated[self.state[pre as usize].pop as usize * np + post])
            })
            .collect()
    }

    /// Whether slots keep an eligibility (or early phase): a modulated or capture rule.
    pub fn keeps_elig(&self) -> bool {
        self.globals.modulated != 0 || self.globals.capture_every > 0
    }

    /// Whether slots keep a late phase: a capture rule.
    pub fn keeps_late(&self) -> bool {
        self.globals.capture_every > 0
    }

    /// Moves the per-slot arrays and the shards' outgoing indexes out of the network, for an
    /// engine that uploads them and keeps no host copy (`GpuEngine::new_releasing`). What the
    /// run reads afterwards stays: neurons, populations, positions, row starts, the shards' ranges,
    /// index starts and synapse counts (`gpu_buffers`, `structural_shards` and `compact` answer as
    /// before). Methods that read slots (`modulated_chunks`, `compact_synapses`, `target_of`) do
    /// not apply to it afterwards.
    pub fn take_synapses(&mut self) -> SynapseArrays {
        SynapseArrays {
            syn_pre: std::mem::take(&mut self.syn_pre),
            syn_weight: std::mem::take(&mut self.syn_weight),
            syn_delay: std::mem::take(&mut self.syn_delay),
            syn_owner: std::mem::take(&mut self.syn_owner),
            syn_elig: std::mem::take(&mut self.syn_elig),
            syn_late: std::mem::take(&mut self.syn_late),
            syn_born: std::mem::take(&mut self.syn_born),
            out_slots: self
                .shards
                .iter_mut()
                .map(|s| std::mem::take(&mut s.out_slots))
                .collect(),
        }
    }

    /// Per population, whether a sprouting rule ends on it: only its rows can gain, lose or
    /// retract a structural synapse (all false without structural plasticity).
    pub fn sprout_targets(&self) -> Vec<bool> {
        let mut target = vec![false; self.pops.len()];
        if self.structure.len() < layout::STRUCT_HEADER_WORDS {
            return target;
        }
        let p: &layout::StructParams =
            bytemuck::from_bytes(bytemuck::cast_slice(&self.structure[..layout::STRUCT_HEADER_WORDS]));
        for k in 0..p.n_rules as usize {
            let at = layout::STRUCT_HEADER_WORDS + layout::SPROUT_WORDS * k;
            let r: &layout::SproutRule =
                bytemuck::from_bytes(bytemuck::cast_slice(&self.structure[at..at + layout::SPROUT_WORDS]));
            target[r.to_pop as usize] = true;
        }
        target
    }

    /// Per shard, whether it holds a row of a sprouting rule's target population. The structural
    /// update's per-slot passes (spines, tidy, accept, census) change or count nothing in the
    /// others, and their outgoing index changes only when a lesion empties slots: the GPU skips
    /// them (the CPU twin, the reference, visits every shard).
    pub fn structural_shards(&self) -> Vec<bool> {
        let target = self.sprout_targets();
        self.shards
            .iter()
            .map(|s| {
                self.pops.iter().enumerate().any(|(p, pop)| {
                    target[p] && pop.count > 0 && pop.first < s.end_neuron && pop.first + pop.count > s.first_neuron
                })
            })
            .collect()
    }

    /// Whether the GPU keeps every shard of this network in the compact static layout
    /// (`compact_shards`): nothing learns, scales, captures, is modulated or grows.
    pub fn compact(&self) -> bool {
        !self.shards.is_empty() && self.compact_shards().iter().all(|&c| c)
    }

    /// Per population, whether a rule reads its rows slot by slot: the target of a plastic
    /// (STDP, three-factor, tagging and capture) projection, a scaled population, or one that
    /// grows elements or takes sprouting synapses.
    pub fn keeps_rows(&self) -> Vec<bool> {
        let np = self.pops.len();
        let target = self.sprout_targets();
        (0..np)
            .map(|t| {
                let p = &self.pops[t];
                target[t]
                    || p.grow_nu > 0.0
                    || p.scale_target != 0.0
                    || (0..np).any(|s| self.rule_between(s, t).is_some())
            })
            .collect()
    }

    /// Per shard, whether the GPU keeps it in the compact static layout (docs/ARCHITECTURE.md):
    /// its synapses in source order, each with its target, weight and a delay byte, and no rows.
    /// Only delivery, the region matrix and lesions read such a synapse, and all three go from
    /// the source: no population whose rows the shard holds learns, is modulated, scaled or
    /// grows (`keeps_rows`), and every delay of the network fits in 7 bits. The other shards
    /// keep rows (their slots' sources, delay words and, where rules need them, eligibilities,
    /// late phases, birth steps and an index of slots).
    pub fn compact_shards(&self) -> Vec<bool> {
        let possible = self.globals.ring_len <= layout::COMPACT_DELAY_MASK + 1;
        let kept = self.keeps_rows();
        self.shards
            .iter()
            .map(|s| {
                possible
                    && !self.pops.iter().enumerate().any(|(p, pop)| {
                        kept[p] && pop.count > 0 && pop.first < s.end_neuron && pop.first + pop.count > s.first_neuron
                    })
            })
            .collect()
    }

    /// Per shard, whether the GPU keeps its rows' delays as bytes, four a word, instead of 16-bit
    /// words (docs/ARCHITECTURE.md): rows that structural plasticity cannot change
    /// (`structural_shards`) keep no spine state, and where every delay of the network fits a
    /// byte (`ROW_DELAY_BYTE_MASK`) their delay word's other half holds nothing. Delivery is the
    /// only stage that reads a row's delay.
    pub fn delay_byte_shards(&self) -> Vec<bool> {
        let fits = self.globals.ring_len <= layout::ROW_DELAY_BYTE_MASK + 1;
        let compact = self.compact_shards();
        let grows = self.structural_shards();
        (0..self.shards.len())
            .map(|k| fits && !compact[k] && !grows[k])
            .collect()
    }

    /// Shard `k`'s synapses in the compact layout: in the order of its outgoing index (by source,
    /// then slot), each one's target, weight and delay byte (`COMPACT_REMOVED` set where a lesion
    /// emptied the slot); the delay bytes packed four a word. The GPU uploads this and the CPU
    /// twin's network gives the same view, so the two compare synapse by synapse.
    pub fn compact_synapses(&self, k: usize) -> CompactSynapses {
        let s = &self.shards[k];
        assert!(s.indexed, "shard {k} was built for an upload alone (build_for_upload)");
        self.compact_synapses_in(
            k,
            &s.out_slots,
            &self.syn_pre,
            &self.syn_weight,
            &self.syn_delay,
            &self.syn_owner,
        )
    }

    /// `compact_synapses` from shard `k`'s outgoing index and the per-slot arrays given (those
    /// taken out of the network: `take_synapses`).
    pub fn compact_synapses_in(
        &self,
        k: usize,
        out_slots: &[u32],
        syn_pre: &[u32],
        syn_weight: &[f32],
        syn_delay: &[u16],
        syn_owner: &[u32],
    ) -> CompactSynapses {
        let first = self.shards[k].first_slot;
        CompactSynapses {
            out_start: self.shards[k].out_start.clone(),
            post: compact_posts(first, out_slots, syn_owner),
            weight: compact_weights(first, out_slots, syn_weight),
            delay: compact_delays(first, out_slots, syn_pre, syn_delay),
        }
    }

    /// The slot's target neuron.
    pub fn target_of(&self, slot: usize) -> u32 {
        self.syn_owner[slot >> layout::ROW_CHUNK_SHIFT]
    }

    /// Slots in all rows.
    pub fn slots(&self) -> u64 {
        self.syn_pre.len() as u64
    }

    /// Outgoing synapses of neuron `i`, over all shards.
    pub fn out_degree(&self, i: usize) -> u64 {
        self.shards
            .iter()
            .map(|s| (s.out_start[i + 1] - s.out_start[i]) as u64)
            .sum()
    }

    /// Bytes of every GPU buffer this network needs, by buffer name. Each is one binding.
    pub fn gpu_buffers(&self, raster_steps: u32) -> Vec<(String, u64)> {
        let g = &self.globals;
        let n = g.n_neurons as u64;
        let words = |k: u64| (4 * k).max(16);
        let mut list: Vec<(String, u64)> = vec![
            ("neurons".into(), 16 * n),
            ("neuron_ext".into(), 16 * self.neuron_ext.len() as u64),
            ("pops".into(), std::mem::size_of_val(&self.pops[..]) as u64),
            ("poisson".into(), 32 * self.poisson.len().max(1) as u64),
            ("sim".into(), 32 + 4 * n),
            (
                "counters".into(),
                words(
                    g.n_pops as u64
                        + raster_steps as u64 * g.raster_words as u64
                        + g.lfp_steps as u64 * g.n_pops as u64,
                ),
            ),
            ("connectivity".into(), words(3 * (g.n_regions as u64).pow(2))),
            ("traces".into(), if g.traced != 0 { 16 * n } else { 16 }),
            ("rules".into(), words(self.rules.len() as u64)),
            ("modulators".into(), words(2 * g.n_regions as u64)),
            ("status".into(), 16 * n),
            ("task".into(), 4 * self.task.len() as u64),
        ];
        // The ring and the parameters in parts of whole neurons (`ring_part`), one binding each;
        // `params_ext` one stand-in element a part where no population has a two-channel model.
        let ext = self.params_ext.len() as u64 >= n && n > 0;
        for (k, (first, end)) in self.ring_parts().into_iter().enumerate() {
            let words_in = g.ring_channels as u64 * g.ring_len as u64 * (end - first) as u64;
            list.push((ring_part_name(k), words(words_in)));
            list.push((part_name("params", k), 32 * (end - first) as u64));
            list.push((
                part_name("params_ext", k),
                32 * if ext { (end - first) as u64 } else { 1 },
            ));
            // A task's cue counters (`rep`), or a stand-in of 32 bytes.
            let rep = if self.rep.is_empty() {
                32
            } else {
                4 * layout::REP_CUES as u64 * (end - first) as u64
            };
            list.push((part_name("rep", k), rep));
        }
        let structural = g.structural != 0;
        if structural {
            list.extend([
                ("grow".into(), 16 * n),
                ("elem_axon".into(), 16 * n),
                ("elem_spine".into(), 16 * n),
                ("elem_spine_in".into(), 16 * n),
                ("boutons".into(), 4 * n),
                ("pool".into(), 4 * (n + 1)),
                ("demand".into(), 4 * n),
                ("cursor".into(), 4 * n),
                ("blocks".into(), words((n + 1).div_ceil(1024) + 1)),
                ("positions".into(), 16 * n),
                ("structure".into(), words(self.structure.len() as u64)),
                ("sstats".into(), words(self.sstats.len() as u64)),
            ]);
        }
        let compact = self.compact_shards();
        let grows = self.structural_shards();
        for (k, s) in self.shards.iter().enumerate() {
            let slots = s.slots() as u64;
            if compact[k] {
                // Source order: target, weight and delay byte a synapse; no slots.
                let synapses = s.synapses as u64;
                list.push((format!("syn_post[{k}]"), words(synapses)));
                list.push((format!("syn_weight[{k}]"), words(synapses)));
                list.push((format!("syn_delay[{k}]"), words(synapses.div_ceil(4))));
                list.push((format!("out_start[{k}]"), words(n + 1)));
                list.push((format!("rows[{k}]"), words(3 + (s.end_neuron - s.first_neuron) as u64)));
                continue;
            }
            list.push((format!("syn_pre[{k}]"), words(slots)));
            list.push((format!("syn_weight[{k}]"), words(slots)));
            list.push((format!("syn_delay[{k}]"), words(slots.div_ceil(2))));
            list.push((format!("syn_owner[{k}]"), words(slots / ROW_CHUNK as u64)));
            list.push((format!("out_start[{k}]"), words(n + 1)));
            // With structural plasticity every slot of a growing shard may come to be occupied.
            let grows = structural && grows[k];
            let entries = if grows { slots } else { s.synapses as u64 };
            list.push((format!("out_slots[{k}]"), words(entries)));
            if grows {
                list.push((format!("syn_born[{k}]"), words(slots)));
            }
            list.push((format!("rows[{k}]"), words(3 + (s.end_neuron - s.first_neuron) as u64)));
            if self.keeps_elig() {
                list.push((format!("syn_elig[{k}]"), words(slots)));
            }
            if self.keeps_late() {
                list.push((format!("syn_late[{k}]"), words(slots)));
            }
        }
        list
    }
}

/// Re-exported so the reference and the GPU name the same constants.
pub use layout::MAX_DELAY_STEPS;

#[cfg(test)]
mod tests {
    use super::capacity;

    /// lavapipe's limits here: 128 MiB a binding, 2 GiB a buffer.
    fn lavapipe() -> wgpu::Limits {
        wgpu::Limits {
            max_storage_buffer_binding_size: 128 << 20,
            max_buffer_size: (2 << 30) - 1,
            ..wgpu::Limits::default()
        }
    }

    #[test]
    fn capacity_names_the_array_that_limits_it() {
        let memory = Some(23 << 30);
        // A short ring: device memory decides (9 124 bytes a neuron at 1000 synapses: 9 000 of
        // synapses in the compact layout, 124 of state, parameters and ring).
        let short = capacity(&lavapipe(), Some(8 << 30), 1000, 17);
        assert!(short.limited_by.contains("device memory"), "{}", short.limited_by);
        assert_eq!(short.neurons, ((8u64 << 30) as f64 / 9_124.0) as u64);
        // The ring is split into parts of one binding each: with more memory, memory still
        // decides, for a short ring and a long one (201 words a neuron, 67 % more neurons than
        // one 128 MiB binding of ring would hold).
        let ring = capacity(&lavapipe(), memory, 1000, 17);
        assert!(ring.limited_by.contains("device memory"), "{}", ring.limited_by);
        assert_eq!(ring.neurons, ((23u64 << 30) as f64 / 9_124.0) as u64);
        let long = capacity(&lavapipe(), memory, 1000, 201);
        assert!(long.limited_by.contains("device memory"), "{}", long.limited_by);
        assert!(long.neurons > (128 << 20) / (4 * 201) * 5 / 3, "{}", long.neurons);
        // Few synapses and a short ring: the state's binding (16 bytes a neuron; the parameters,
        // 32 bytes a neuron, are split into parts with the ring and no longer limit it).
        let params = capacity(&lavapipe(), memory, 10, 2);
        assert_eq!(params.neurons, (128 << 20) / 16);
        assert!(params.limited_by.contains("neuron state"), "{}", params.limited_by);
        // A host that builds the network first: its rows (10.5 bytes a slot, with padding) and
        // neuron arrays bound it below the device's memory where the host has as much. Synapses
        // of the compact layout get no index at the build; rows that stay rows do.
        let host = super::capacity_with(&lavapipe(), memory, memory, false, 1000, 17, 1);
        assert!(
            host.limited_by.contains("host memory for the build"),
            "{}",
            host.limited_by
        );
        let per = (1000.0 + 3.5) * super::BYTES_PER_SLOT + 92.0;
        assert_eq!(host.neurons, ((23u64 << 30) as f64 / per) as u64);
        assert!(host.neurons < ring.neurons);
        let rows = super::capacity_with(&lavapipe(), memory, memory, false, 1000, 201, 1);
        let per = (1000.0 + 3.5) * super::BYTES_PER_SLOT + 4004.0 + 92.0;
        assert!(
            rows.limited_by.contains("host memory for the build"),
            "{}",
            rows.limited_by
        );
        assert_eq!(rows.neurons, ((23u64 << 30) as f64 / per) as u64);
        // On a CPU adapter the run holds the device's buffers in the same memory, at
        // CPU_ADAPTER_RUN_FACTOR times them: above the build's peak for compact synapses.
        let run = super::capacity_with(&lavapipe(), memory, memory, true, 1000, 17, 1);
        assert!(
            run.limited_by.contains("the run on this CPU adapter"),
            "{}",
            run.limited_by
        );
        let per = super::CPU_ADAPTER_RUN_FACTOR * 9_124.0;
        assert_eq!(run.neurons, ((23u64 << 30) as f64 / per) as u64);
        assert!(run.neurons < host.neurons);
        // Unknown memory: the binding limit, with the bytes a neuron said.
        let unknown = capacity(&lavapipe(), None, 1000, 201);
        assert_eq!(unknown.neurons, params.neurons);
        assert!(
            unknown.limited_by.contains("device memory unknown"),
            "{}",
            unknown.limited_by
        );
    }

    /// The compact shards' gathers on several threads give what one thread gives, in runs of
    /// any length (the last one short).
    #[test]
    fn a_gather_on_all_cores_is_the_serial_gather() {
        let n = 3 * (1usize << 16) + 12_345;
        let index: Vec<u32> = (0..n as u64).map(|i| ((i * 2_654_435_761) % n as u64) as u32).collect();
        let values: Vec<u32> = (0..n as u32).map(|i| i ^ 0x5a5a).collect();
        let mut out = vec![0u32; n];
        super::gather(&index, &mut out, |l| values[l as usize]);
        let serial: Vec<u32> = index.iter().map(|&l| values[l as usize]).collect();
        assert!(out == serial);
    }

    #[test]
    fn the_ring_splits_into_parts_of_one_binding_and_shards_stay_inside_them() {
        // 10 ring words a neuron in bindings of 2048 words: 204 neurons a part.
        assert_eq!(super::ring_part_neurons(1000, 10, 2048).unwrap(), 204);
        // Where the whole ring fits, one part holds every neuron.
        assert_eq!(super::ring_part_neurons(150, 10, 2048).unwrap(), 150);
        // One neuron's ring larger than a binding is refused, with the bytes.
        let e = super::ring_part_neurons(10, 4096, 2048).unwrap_err().to_string();
        assert!(e.contains("delay ring of one neuron") && e.contains("16384"), "{e}");
        // Rows of 16 slots, shards of at most 64 slots: four rows a shard, but a part of 6
        // neurons cuts a shard at neurons 6 and 12.
        let rows: Vec<u64> = (0..=16).map(|i| 16 * i).collect();
        let shards = super::plan_shards(&rows, 64, 6, &[]).unwrap();
        assert_eq!(shards, vec![(0, 4), (4, 6), (6, 10), (10, 12), (12, 16)]);
        assert_eq!(
            super::plan_shards(&rows, 64, 16, &[]).unwrap(),
            vec![(0, 4), (4, 8), (8, 12), (12, 16)]
        );
        // Edges at neurons 5 and 9 (a sprouting target's rows) cut there as well.
        assert_eq!(
            super::plan_shards(&rows, 64, 16, &[5, 9]).unwrap(),
            vec![(0, 4), (4, 5), (5, 9), (9, 13), (13, 16)]
        );
    }

    /// A network's slots are numbered in u64 and may pass 2^32; each shard's stay below it (its
    /// own slot numbers are u32), whatever the binding allows.
    #[test]
    fn slots_past_two_to_the_32_fall_into_shards_of_fewer() {
        // Eight rows of 2^30 slots (2^33 in all) with no binding limit: three rows a shard, as a
        // fourth would make 2^32.
        let rows: Vec<u64> = (0..=8).map(|i| i << 30).collect();
        let shards = super::plan_shards(&rows, u64::MAX, 8, &[]).unwrap();
        assert_eq!(shards, vec![(0, 3), (3, 6), (6, 8)]);
        for (a, b) in shards {
            assert!(rows[b] - rows[a] <= u32::MAX as u64);
        }
        // 2^35 slots at most: the chunk numbers are u32.
        assert_eq!(super::MAX_SLOTS, 1 << 35);
        assert_eq!(super::MAX_SLOTS / super::ROW_CHUNK as u64 - 1, u32::MAX as u64);
        // The largest network a device of 141 GB holds at 1 000 static synapses a neuron and a
        // long ring (rows, 14.5 bytes a synapse) is no longer bounded at 2^32 slots.
        let h200 = wgpu::Limits {
            max_storage_buffer_binding_size: u32::MAX as u64,
            max_buffer_size: u64::MAX,
            ..wgpu::Limits::default()
        };
        let cap = capacity(&h200, Some(141_000_000_000), 1000, 201);
        assert!(cap.limited_by.contains("device memory"), "{}", cap.limited_by);
        assert!(cap.neurons * 1000 > 1 << 32, "{} neurons", cap.neurons);
    }
}
