//! The simulation state on the GPU: every buffer, made once from a built network.

use crate::build::Network;
use crate::error::{Error, Result, human_bytes};

pub struct Buffers {
    pub globals: wgpu::Buffer,
    pub pops: wgpu::Buffer,
    pub neurons: wgpu::Buffer,
    /// The two-channel models' further state (layout::NeuronExt): one element per neuron where a
    /// population has such a model, else one.
    pub neuron_ext: wgpu::Buffer,
    pub poisson: wgpu::Buffer,
    /// Delay ring and parameters, in parts of whole neurons (`Network::ring_parts`), each array
    /// of a part one binding.
    pub ring: Vec<RingPart>,
    /// Channels of the ring (Globals::ring_channels): 2 where excitatory and inhibitory input
    /// are kept apart.
    pub ring_channels: u32,
    /// SimHeader followed by the spike list.
    pub sim: wgpu::Buffer,
    /// Per-population spike counts, then the raster.
    pub counters: wgpu::Buffer,
    /// Indirect dispatch arguments of `propagate`.
    pub dispatch: wgpu::Buffer,
    /// Synapse rows and outgoing index, one set of bindings per shard.
    pub shards: Vec<ShardBuffers>,
    /// Region x region [count, weight lo, weight hi].
    pub conn: wgpu::Buffer,
    /// STDP traces per neuron (a 32-byte stand-in when nothing is plastic).
    pub traces: wgpu::Buffer,
    /// Plasticity rule table (build::Network::rules).
    pub rules: wgpu::Buffer,
    /// Per region [dopamine, pending reward].
    pub modulators: wgpu::Buffer,
    /// Structural plasticity (32-byte stand-ins without it): per neuron [calcium, bouton
    /// elements, spine elements, neurotrophin], element counts (three records a neuron, each
    /// record its own array of 16 bytes a neuron: `elem_axon`, `elem_spine`, `elem_spine_in`,
    /// build::Network::elem's words 0-3, 4-7 and 8-11), connected boutons, free-bouton prefix
    /// sums (n + 1), proposals, index cursors and positions; the constants
    /// (build::Network::structure) and the statistics.
    pub grow: wgpu::Buffer,
    pub elem_axon: wgpu::Buffer,
    pub elem_spine: wgpu::Buffer,
    pub elem_spine_in: wgpu::Buffer,
    pub boutons: wgpu::Buffer,
    pub pool: wgpu::Buffer,
    pub demand: wgpu::Buffer,
    pub cursor: wgpu::Buffer,
    /// Block sums of the scans: ceil((n + 1) / 1024) + 1 words.
    pub blocks: wgpu::Buffer,
    pub positions: wgpu::Buffer,
    pub structure: wgpu::Buffer,
    pub sstats: wgpu::Buffer,
    /// Per neuron status words (layout::STATUS_*), and the task's currents and counts.
    pub status: wgpu::Buffer,
    pub task: wgpu::Buffer,
    pub structural: bool,
    pub plastic: bool,
    pub modulated: bool,
    /// Every shard in the compact static layout (`Network::compact`; see `ShardBuffers`).
    pub compact: bool,
    pub n_neurons: u32,
    /// Sum of all buffer sizes in bytes.
    pub bytes: u64,
}

/// One part of the neurons: for the neurons `first..first + neurons`, their part of the delay
/// ring (`ring_channels x ring_len x neurons` fixed-point inputs, channel-major, then step, then
/// neuron), their parameters and further parameters (`params_ext`: one element a neuron where a
/// population has a two-channel model, else one that nothing reads), `info`, the words
/// [first, neurons, 0, 0] that `neurons`, `propagate` and `represent` read to find a neuron's
/// place, and a task's cue counters (`rep`).
pub struct RingPart {
    pub ring: wgpu::Buffer,
    pub params: wgpu::Buffer,
    pub params_ext: wgpu::Buffer,
    pub info: wgpu::Buffer,
    /// With a task, the part's neurons' cue counters (layout::REP_CUES words a neuron: spikes in
    /// each cue's probe windows, for the task representation); else a stand-in.
    pub rep: wgpu::Buffer,
    pub first: u32,
    pub neurons: u32,
}

/// One shard's synapse arrays (slot numbers local to the shard). In the compact static layout
/// (`Network::compact_synapses`) the shard holds its synapses in source order instead of slots:
/// `out_start` says where each source's begin, `syn_owner` holds each one's target,
/// `syn_weight` its weight, `syn_delay` its delay byte, and `syn_pre` and `out_slots` are
/// stand-ins.
pub struct ShardBuffers {
    pub syn_pre: wgpu::Buffer,
    pub syn_weight: wgpu::Buffer,
    /// 16-bit delay words, two per u32 (compact layout and `delay_bytes`: delay bytes, four per
    /// u32).
    pub syn_delay: wgpu::Buffer,
    /// Target neuron per chunk of ROW_CHUNK slots (compact layout: per synapse).
    pub syn_owner: wgpu::Buffer,
    pub out_start: wgpu::Buffer,
    pub out_slots: wgpu::Buffer,
    /// [first neuron, end neuron, local row starts of its neurons and the end] (learn.post).
    pub rows: wgpu::Buffer,
    /// Eligibility or early-phase change per slot (a 32-byte stand-in when unused).
    pub syn_elig: wgpu::Buffer,
    /// Late-phase change per slot (a 32-byte stand-in when no rule has capture).
    pub syn_late: wgpu::Buffer,
    /// The step each slot's synapse formed (a 32-byte stand-in without structural plasticity).
    pub syn_born: wgpu::Buffer,
    /// The shard's chunks (local indices) that the modulated update visits
    /// (Network::modulated_chunks; a 32-byte stand-in when none).
    pub mod_chunks: wgpu::Buffer,
    /// How many chunks `mod_chunks` holds.
    pub n_mod_chunks: u32,
    /// Neurons whose rows the shard holds.
    pub neurons: u32,
    /// The part of the delay ring its targets lie in (an index into `Buffers::ring`).
    pub ring_part: usize,
    pub slots: u32,
    /// Whether structural plasticity can change the shard's slots (Network::structural_shards):
    /// only then does it keep birth steps and an index with room for every slot.
    pub structural: bool,
    /// Synapses of the shard as built (entries of its outgoing index).
    pub synapses: u32,
    /// Whether the shard is in the compact static layout (Network::compact_shards).
    pub compact: bool,
    /// Whether its rows keep their delays as bytes, four a word, rather than 16-bit words
    /// (Network::delay_byte_shards).
    pub delay_bytes: bool,
}

const RW: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Uploads one per-slot array for every shard (`range(k, shard)`: its elements, None for a
/// 32-byte stand-in), from the arrays taken out of the network where they were (`taken`), then
/// lets that array go there.
fn upload<T: bytemuck::Pod>(
    init: &mut impl FnMut(&str, &[u8], wgpu::BufferUsages) -> wgpu::Buffer,
    net: &Network,
    taken: &mut Option<crate::build::SynapseArrays>,
    label: &str,
    field: fn(&mut crate::build::SynapseArrays) -> &mut Vec<T>,
    own: fn(&Network) -> &Vec<T>,
    range: impl Fn(usize, &crate::build::Shard) -> Option<std::ops::Range<usize>>,
) -> Vec<wgpu::Buffer> {
    let buffers = {
        let all: &[T] = match taken.as_mut() {
            Some(t) => field(t),
            None => own(net),
        };
        net.shards
            .iter()
            .enumerate()
            .map(|(k, s)| match range(k, s) {
                Some(r) if !all.is_empty() => init(label, bytemuck::cast_slice(&all[r]), RW),
                _ => init(label, &[], RW),
            })
            .collect()
    };
    if let Some(t) = taken.as_mut() {
        *field(t) = Vec::new();
    }
    buffers
}

/// One buffer a shard of one per-slot array, made from the last shard to the first by
/// `part(shard number, shard, whole array)` (the array taken out of the network where it was,
/// else the network's), the taken array cut back to the shard's first element after each
/// (`slots_per_element`: 1, or ROW_CHUNK for the owners) and let go at the end: on a CPU adapter,
/// whose device memory is the host's, the host's copy shrinks as the device's grows.
fn upload_back<T: bytemuck::Pod>(
    net: &Network,
    taken: &mut Option<crate::build::SynapseArrays>,
    field: fn(&mut crate::build::SynapseArrays) -> &mut Vec<T>,
    own: fn(&Network) -> &Vec<T>,
    slots_per_element: usize,
    mut part: impl FnMut(usize, &crate::build::Shard, &[T]) -> wgpu::Buffer,
) -> Vec<wgpu::Buffer> {
    let mut buffers = Vec::with_capacity(net.shards.len());
    for (k, s) in net.shards.iter().enumerate().rev() {
        match taken.as_mut() {
            Some(t) => {
                let all = field(t);
                buffers.push(part(k, s, all));
                // A smaller allocation in place (glibc gives the tail of a large block back).
                all.truncate((s.first_slot as usize / slots_per_element).min(all.len()));
                all.shrink_to_fit();
            }
            None => buffers.push(part(k, s, own(net))),
        }
    }
    if let Some(t) = taken.as_mut() {
        *field(t) = Vec::new();
    }
    buffers.reverse();
    buffers
}

/// What a new buffer holds (`Buffers::new`).
enum Fill<'a> {
    /// These bytes.
    Bytes(&'a [u8]),
    /// Zeros, as wgpu makes every buffer: nothing is copied, and the host holds nothing of it.
    Zeros,
    /// What this writes, a piece at a time (words from the first given, into the slice
    /// given), into the mapped buffer: the host holds one piece of it at a time.
    With(&'a mut dyn FnMut(usize, &mut [u32])),
}

/// Bytes uploaded between releases of the staging copies (`Buffers::new`).
const STAGING_BYTES: u64 = 64 << 20;

impl Buffers {
    /// Uploads `net`. An allocation the device cannot make (out of memory, although the scene
    /// passed [`check_fits`](super::check_fits)) is an error naming the array, its bytes and the
    /// bytes allocated before it.
    /// `taken`: the network's per-slot arrays, moved out of it (`Network::take_synapses`), each
    /// let go once uploaded; None to read them from `net`.
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        net: &Network,
        taken: Option<crate::build::SynapseArrays>,
        raster_steps: u32,
    ) -> Result<Self> {
        // Bytes allocated, bytes copied through staging buffers since they were last let go,
        // and the first allocation that failed.
        let state = std::cell::RefCell::new((0u64, 0u64, None::<String>));
        let clock = std::time::Instant::now();
        let phase = |what: &str| log::info!("upload: {what} done at {:.2} s", clock.elapsed().as_secs_f64());
        // A buffer of `len` bytes holding `contents`, or zeros where None (wgpu zeroes a new
        // buffer: nothing is copied, and the host holds nothing of it).
        let make = |label: &str, contents: Fill, len: u64, usage: wgpu::BufferUsages| {
            // Bindings must hold at least one element: give empty arrays 32 bytes (the largest
            // element of an array that may be empty, a Poisson source).
            let (mut contents, len) = if len == 0 { (Fill::Zeros, 32) } else { (contents, len) };
            let mapped = !matches!(contents, Fill::Zeros);
            // As `create_buffer_init`, but a buffer the device cannot allocate is an error here
            // rather than a panic when it is mapped: after the first, nothing more is allocated.
            let size = len.next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
            let describe = |size| wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: mapped,
            };
            let mut st = state.borrow_mut();
            let (bytes, staged, failed) = &mut *st;
            if failed.is_some() {
                return device.create_buffer(&describe(wgpu::COPY_BUFFER_ALIGNMENT));
            }
            let invalid = device.push_error_scope(wgpu::ErrorFilter::Validation);
            let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
            let buffer = device.create_buffer(&describe(size));
            let error = pollster::block_on(oom.pop()).or(pollster::block_on(invalid.pop()));
            let filled = match (error, &mut contents) {
                (None, Fill::Bytes(c)) => buffer
                    .slice(..)
                    .get_mapped_range_mut()
                    .map(|mut m| m.slice(..c.len()).copy_from_slice(c))
                    .map_err(|e| e.to_string()),
                (None, Fill::With(f)) => buffer
                    .slice(..)
                    .get_mapped_range_mut()
                    .map(|mut m| {
                        // Pieces of 1 Mi words.
                        let words = len as usize / 4;
                        let mut piece = vec![0u32; words.min(1 << 20)];
                        for from in (0..words).step_by(piece.len().max(1)) {
                            let n = piece.len().min(words - from);
                            f(from, &mut piece[..n]);
                            m.slice(4 * from..4 * (from + n))
                                .copy_from_slice(bytemuck::cast_slice(&piece[..n]));
                        }
                    })
                    .map_err(|e| e.to_string()),
                (None, Fill::Zeros) => Ok(()),
                (Some(e), _) => Err(e.to_string()),
            };
            match filled {
                Ok(()) if mapped => {
                    buffer.unmap();
                    // A buffer mapped at creation is filled through a staging copy, which lives
                    // until the next submission completes: let them go every STAGING_BYTES, or
                    // a large network holds its whole size again in staging (host memory on a
                    // CPU adapter).
                    *staged += size;
                    if *staged >= STAGING_BYTES {
                        queue.submit([]);
                        let _ = device.poll(wgpu::PollType::wait_indefinitely());
                        *staged = 0;
                    }
                }
                Ok(()) => {}
                Err(e) => {
                    *failed = Some(format!(
                        "out of GPU memory allocating `{label}` ({}, after {} of other arrays): {e}",
                        human_bytes(len),
                        human_bytes(*bytes)
                    ));
                }
            }
            *bytes += len;
            if len >= 64 << 20 {
                log::debug!(
                    "upload: `{label}`, {} ({} in all)",
                    human_bytes(len),
                    human_bytes(*bytes)
                );
            }
            buffer
        };
        let mut init = |label: &str, contents: &[u8], usage: wgpu::BufferUsages| {
            make(label, Fill::Bytes(contents), contents.len() as u64, usage)
        };
        let zeros = |label: &str, len: usize| make(label, Fill::Zeros, len as u64, RW);
        let init_with =
            |label: &str, len: u64, f: &mut dyn FnMut(usize, &mut [u32])| make(label, Fill::With(f), len, RW);
        let g = net.globals;
        let n = g.n_neurons as usize;
        let mut globals = g;
        globals.raster_steps = raster_steps;
        let mut sim = bytemuck::bytes_of(&net.header).to_vec();
        sim.resize(sim.len() + 4 * n, 0);
        let counter_words = g.n_pops as usize
            + raster_steps as usize * g.raster_words as usize
            + g.lfp_steps as usize * g.n_pops as usize;
        let structural = g.structural != 0;
        let compact = net.compact_shards();
        let delay_bytes = net.delay_byte_shards();
        let mod_chunks = if g.modulated != 0 {
            match &taken {
                Some(t) => net.modulated_chunks_in(&t.syn_owner, &t.syn_pre),
                None => net.modulated_chunks(),
            }
        } else {
            Vec::new()
        };
        let grows = net.structural_shards();
        // Bytes of a per-neuron array of structural plasticity (none without it).
        let per_neuron = |words: usize| if structural { 4 * words * n } else { 0 };
        // The synapse arrays go first, while the host still holds the network: the neuron arrays
        // and the delay ring (zeros) follow once the rows are let go, so the host never holds
        // those beside the whole network (host memory, on a CPU adapter).
        // The synapse arrays, one array at a time over all shards: arrays moved out of the
        // network (`taken`) are let go as soon as they are uploaded, so the host never holds the
        // whole network beside its GPU copy (host memory, on a CPU adapter).
        let mut taken = taken;
        let chunk = crate::layout::ROW_CHUNK as usize;
        let rows_of =
            |k: usize, s: &crate::build::Shard| (!compact[k]).then_some(s.first_slot as usize..s.end_slot as usize);
        let t = &mut taken;
        // Birth steps in the growing shards only; eligibilities and late phases where a rule
        // keeps them. Only rows keep these: they go first, so that the arrays they come from are
        // let go before the compact shards are put together beside the others.
        let born = upload(
            &mut init,
            net,
            t,
            "syn_born",
            |t| &mut t.syn_born,
            |n| &n.syn_born,
            |k, s| rows_of(k, s).filter(|_| grows[k]),
        );
        let (elig_on, late_on) = (net.keeps_elig(), net.keeps_late());
        let elig = upload(
            &mut init,
            net,
            t,
            "syn_elig",
            |t| &mut t.syn_elig,
            |n| &n.syn_elig,
            |k, s| rows_of(k, s).filter(|_| elig_on),
        );
        let late = upload(
            &mut init,
            net,
            t,
            "syn_late",
            |t| &mut t.syn_late,
            |n| &n.syn_late,
            |k, s| rows_of(k, s).filter(|_| late_on),
        );
        // Shards in the compact layout hold their synapses in source order, each with its
        // target (in `syn_owner`), weight and delay byte; no sources, no index of slots. Each of
        // those arrays is put together shard by shard in the pass of the row array it comes from
        // (targets with the sources where the shard was sorted in place, else with the owners;
        // delay bytes with the delay words; weights with the weights), so the host holds one
        // shard's compact array at a time beside what is left of the rows.
        fn arrays<'a>(
            net: &'a Network,
            taken: &'a Option<crate::build::SynapseArrays>,
        ) -> (&'a [u32], &'a [f32], &'a [u16], &'a [u32]) {
            match taken {
                Some(t) => (&t.syn_pre, &t.syn_weight, &t.syn_delay, &t.syn_owner),
                None => (&net.syn_pre, &net.syn_weight, &net.syn_delay, &net.syn_owner),
            }
        }
        // Compact shards built without an index (`build::build_for_upload`; the upload of a
        // network the caller keeps refused them): their slots are put in source order in place,
        // one shard at a time, so that their compact arrays are slices of the taken arrays, the
        // targets where the sources were.
        phase("per-slot states");
        let sorted: Vec<bool> = net.shards.iter().map(|s| !s.indexed).collect();
        if let Some(t) = taken.as_mut() {
            for k in (0..net.shards.len()).filter(|&k| sorted[k]) {
                crate::build::sort_compact_shard(t, net, k);
            }
        }
        phase("compact shards sorted");
        // The other shards' outgoing indexes, moved out of the taken arrays (or read in the
        // network), so that each array's pass below may cut its own array back.
        let index: Vec<std::borrow::Cow<[u32]>> = match taken.as_mut() {
            Some(t) => std::mem::take(&mut t.out_slots)
                .into_iter()
                .map(std::borrow::Cow::Owned)
                .collect(),
            None => net
                .shards
                .iter()
                .map(|s| std::borrow::Cow::Borrowed(&s.out_slots[..]))
                .collect(),
        };
        // What the delay bytes of an indexed compact shard read of the sources (which synapses a
        // lesion removed), so the sources, the largest array, go before its delay bytes are made.
        let removed: Vec<Vec<u32>> = net
            .shards
            .iter()
            .enumerate()
            .map(|(k, s)| {
                if !compact[k] || sorted[k] {
                    return Vec::new();
                }
                crate::build::compact_removed(s.first_slot, &index[k], arrays(net, &taken).0)
            })
            .collect();
        // Each per-slot array in turn, shard by shard from the last, the taken array cut back
        // behind each shard (`upload_back`): the host holds what is left of the rows beside what
        // the device holds (host memory, on a CPU adapter), and one shard's compact array.
        // Sources of the row shards; the targets of the sorted compact shards (taken here, from
        // where the sources were, and put in place of the owners below).
        let mut sorted_posts: Vec<Option<wgpu::Buffer>> = net.shards.iter().map(|_| None).collect();
        let pre = upload_back(
            net,
            &mut taken,
            |t| &mut t.syn_pre,
            |n| &n.syn_pre,
            1,
            |k, s, all| {
                let a = s.first_slot as usize;
                if sorted[k] {
                    let part = &all[a..a + s.synapses as usize];
                    sorted_posts[k] = Some(init_with("syn_post", 4 * part.len() as u64, &mut |from, words| {
                        words.copy_from_slice(&part[from..from + words.len()])
                    }));
                    init("syn_pre", &[], RW)
                } else if compact[k] {
                    init("syn_pre", &[], RW)
                } else {
                    init("syn_pre", bytemuck::cast_slice(&all[a..s.end_slot as usize]), RW)
                }
            },
        );
        phase("sources");
        // Delay words, or bytes in the shards that keep no spine state (`delay_byte_shards`);
        // a compact shard's delay bytes.
        let delay = upload_back(
            net,
            &mut taken,
            |t| &mut t.syn_delay,
            |n| &n.syn_delay,
            1,
            |k, s, all| {
                let (a, b) = (s.first_slot as usize, s.end_slot as usize);
                if sorted[k] {
                    let part = &all[a..a + s.synapses as usize];
                    init_with("syn_delay", 4 * part.len().div_ceil(4) as u64, &mut |from, words| {
                        crate::build::compact_delays_sorted_into(part, from, words)
                    })
                } else if compact[k] {
                    let out = &index[k];
                    init_with("syn_delay", 4 * out.len().div_ceil(4) as u64, &mut |from, words| {
                        crate::build::compact_delays_into(s.first_slot, out, all, &removed[k], from, words)
                    })
                } else if delay_bytes[k] {
                    init(
                        "syn_delay",
                        bytemuck::cast_slice(&crate::build::delay_bytes(&all[a..b])),
                        RW,
                    )
                } else {
                    init("syn_delay", bytemuck::cast_slice(&all[a..b]), RW)
                }
            },
        );
        phase("delays");
        drop(removed);
        let weight = upload_back(
            net,
            &mut taken,
            |t| &mut t.syn_weight,
            |n| &n.syn_weight,
            1,
            |k, s, all| {
                let a = s.first_slot as usize;
                if sorted[k] {
                    init("syn_weight", bytemuck::cast_slice(&all[a..a + s.synapses as usize]), RW)
                } else if compact[k] {
                    let out = &index[k];
                    init_with("syn_weight", 4 * out.len() as u64, &mut |from, words| {
                        let out = &out[from..from + words.len()];
                        crate::build::compact_weights_into(s.first_slot, out, all, bytemuck::cast_slice_mut(words))
                    })
                } else {
                    init("syn_weight", bytemuck::cast_slice(&all[a..s.end_slot as usize]), RW)
                }
            },
        );
        phase("weights");
        // Owners of the row shards' chunks; an indexed compact shard's targets.
        let owner = upload_back(
            net,
            &mut taken,
            |t| &mut t.syn_owner,
            |n| &n.syn_owner,
            chunk,
            |k, s, all| {
                if sorted[k] {
                    init("syn_owner", &[], RW)
                } else if compact[k] {
                    let out = &index[k];
                    init_with("syn_post", 4 * out.len() as u64, &mut |from, words| {
                        crate::build::compact_posts_into(s.first_slot, &out[from..from + words.len()], all, words)
                    })
                } else {
                    let (a, b) = (s.first_slot as usize / chunk, s.end_slot as usize / chunk);
                    init("syn_owner", bytemuck::cast_slice(&all[a..b]), RW)
                }
            },
        );
        phase("targets");
        // Structural plasticity may occupy every slot of a growing shard: the index then has
        // room for all. Elsewhere slots only empty (lesions).
        let mut out_slots = Vec::new();
        for (k, (s, mine)) in net.shards.iter().zip(index).enumerate() {
            if compact[k] {
                out_slots.push(init("out_slots", &[], RW));
                continue;
            }
            let mut mine = mine.into_owned();
            if grows[k] {
                mine.resize(s.slots() as usize, 0);
            }
            out_slots.push(init("out_slots", bytemuck::cast_slice(&mine), RW));
        }
        let owner: Vec<wgpu::Buffer> = owner
            .into_iter()
            .zip(sorted_posts)
            .map(|(o, p)| p.unwrap_or(o))
            .collect();
        let (mut weight, mut delay, mut owner) = (weight.into_iter(), delay.into_iter(), owner.into_iter());
        let (mut pre, mut out_slots) = (pre.into_iter(), out_slots.into_iter());
        let (mut born, mut elig, mut late) = (born.into_iter(), elig.into_iter(), late.into_iter());
        let shards: Vec<ShardBuffers> = net
            .shards
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let (a, b) = (s.first_slot as usize, s.end_slot as usize);
                let (ca, cb) = ((a / chunk) as u32, (b / chunk) as u32);
                let local: Vec<u32> = mod_chunks
                    [mod_chunks.partition_point(|&c| c < ca)..mod_chunks.partition_point(|&c| c < cb)]
                    .iter()
                    .map(|c| c - ca)
                    .collect();
                let mut rows = vec![s.first_neuron, s.end_neuron];
                rows.extend(
                    net.row_start[s.first_neuron as usize..=s.end_neuron as usize]
                        .iter()
                        .map(|r| (r - s.first_slot) as u32),
                );
                ShardBuffers {
                    synapses: s.synapses,
                    mod_chunks: init("mod_chunks", bytemuck::cast_slice(&local), RW),
                    n_mod_chunks: local.len() as u32,
                    syn_pre: pre.next().expect("one per shard"),
                    syn_weight: weight.next().expect("one per shard"),
                    syn_delay: delay.next().expect("one per shard"),
                    syn_owner: owner.next().expect("one per shard"),
                    out_start: init("out_start", bytemuck::cast_slice(&s.out_start), RW),
                    out_slots: out_slots.next().expect("one per shard"),
                    syn_born: born.next().expect("one per shard"),
                    rows: init("rows", bytemuck::cast_slice(&rows), RW),
                    syn_elig: elig.next().expect("one per shard"),
                    syn_late: late.next().expect("one per shard"),
                    neurons: s.end_neuron - s.first_neuron,
                    ring_part: net.shard_ring_part(k),
                    slots: s.slots(),
                    structural: grows[k],
                    compact: compact[k],
                    delay_bytes: delay_bytes[k],
                }
            })
            .collect();
        phase("indexes and shard tables");
        let b = Buffers {
            globals: init(
                "globals",
                bytemuck::bytes_of(&globals),
                wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            ),
            pops: init("pops", bytemuck::cast_slice(&net.pops), RW),
            neurons: init("neurons", bytemuck::cast_slice(&net.state), RW),
            neuron_ext: init("neuron_ext", bytemuck::cast_slice(&net.neuron_ext), RW),
            poisson: init("poisson", bytemuck::cast_slice(&net.poisson), RW),
            ring: net
                .ring_parts()
                .into_iter()
                .enumerate()
                .map(|(k, (first, end))| {
                    let words = g.ring_channels as usize * g.ring_len as usize * (end - first) as usize;
                    let range = first as usize..end as usize;
                    // One element a neuron where a population has a two-channel model, else one.
                    let ext = if net.params_ext.len() >= n {
                        &net.params_ext[range.clone()]
                    } else {
                        &net.params_ext[..]
                    };
                    RingPart {
                        ring: zeros(&crate::build::ring_part_name(k), 4 * words),
                        params: init(
                            &crate::build::part_name("params", k),
                            bytemuck::cast_slice(&net.params[range]),
                            RW,
                        ),
                        params_ext: init(&crate::build::part_name("params_ext", k), bytemuck::cast_slice(ext), RW),
                        info: init("ring_info", bytemuck::cast_slice(&[first, end - first, 0, 0]), RW),
                        // A task's cue counters of the part's neurons (zeros at the build), or a
                        // stand-in without a task.
                        rep: zeros(
                            &crate::build::part_name("rep", k),
                            if net.rep.is_empty() {
                                0
                            } else {
                                4 * crate::layout::REP_CUES * (end - first) as usize
                            },
                        ),
                        first,
                        neurons: end - first,
                    }
                })
                .collect(),
            ring_channels: g.ring_channels,
            sim: init("sim", &sim, RW),
            counters: zeros("counters", 4 * counter_words),
            dispatch: init("dispatch", &[0u8; 12], RW | wgpu::BufferUsages::INDIRECT),
            shards,
            conn: zeros("conn", 12 * (g.n_regions as usize).pow(2)),
            traces: if g.traced != 0 {
                init("traces", bytemuck::cast_slice(&net.traces), RW)
            } else {
                init("traces", &[], RW)
            },
            rules: init("rules", bytemuck::cast_slice(&net.rules), RW),
            modulators: init("modulators", bytemuck::cast_slice(&net.modulators), RW),
            grow: init("grow", bytemuck::cast_slice(&net.grow), RW),
            elem_axon: init("elem_axon", bytemuck::cast_slice(&elem_record(&net.elem, 0)), RW),
            elem_spine: init("elem_spine", bytemuck::cast_slice(&elem_record(&net.elem, 1)), RW),
            elem_spine_in: init("elem_spine_in", bytemuck::cast_slice(&elem_record(&net.elem, 2)), RW),
            boutons: init("boutons", bytemuck::cast_slice(&net.boutons), RW),
            pool: zeros("pool", if structural { 4 * (n + 1) } else { 0 }),
            demand: zeros("demand", per_neuron(1)),
            cursor: zeros("cursor", per_neuron(1)),
            blocks: zeros(
                "blocks",
                if structural {
                    4 * ((n + 1).div_ceil(1024) + 1)
                } else {
                    0
                },
            ),
            positions: if structural {
                // The fourth component: the spine imaging fields the neuron lies in (0.0 without).
                let mask = |i: usize| {
                    net.imaging_mask
                        .get(i)
                        .map_or(0.0, |&m| f32::from_bits(crate::layout::IMAGING_MASK_BASE | m))
                };
                let p: Vec<[f32; 4]> = net
                    .positions
                    .iter()
                    .enumerate()
                    .map(|(i, q)| [q[0], q[1], q[2], mask(i)])
                    .collect();
                init("positions", bytemuck::cast_slice(&p), RW)
            } else {
                init("positions", &[], RW)
            },
            structure: init("structure", bytemuck::cast_slice(&net.structure), RW),
            sstats: init("sstats", bytemuck::cast_slice(&net.sstats), RW),
            status: init("status", bytemuck::cast_slice(&net.status), RW),
            task: init("task", bytemuck::cast_slice(&net.task), RW),
            structural,
            compact: compact.iter().all(|&c| c),
            plastic: g.plastic != 0,
            modulated: g.modulated != 0,
            n_neurons: g.n_neurons,
            bytes: 0,
        };
        phase("neuron arrays");
        let (bytes, _, failed) = state.into_inner();
        if let Some(m) = failed {
            return Err(Error::Gpu(m));
        }
        Ok(Buffers { bytes, ..b })
    }
}

/// Record `k` (0: boutons, 1: spines, 2: inhibitory spines) of every neuron's element counts
/// (build::Network::elem), as the GPU keeps each: one array of 16 bytes a neuron.
pub fn elem_record(elem: &[[u32; 12]], k: usize) -> Vec<[u32; 4]> {
    elem.iter()
        .map(|e| [e[4 * k], e[4 * k + 1], e[4 * k + 2], e[4 * k + 3]])
        .collect()
}
