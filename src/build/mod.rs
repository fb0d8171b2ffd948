//! Host-side, seeded construction of a network from a model: neurons, synapse rows, outgoing index.
//!
//! Row layout (DESIGN.md): every target neuron owns a row of `row_cap` slots, the same capacity for
//! all neurons of a population, so a slot's target is `first + (slot - slot_base) / row_cap` with
//! no per-slot target index. Within a row, synapses come in projection order; the rest of the row
//! is empty (`EMPTY`) for later growth.

pub mod connect;
pub mod neurons;

use crate::layout::{self, DELAY_MASK, EMPTY, Globals, NeuronParams, NeuronState, PoissonSource, Pop};
use crate::rng::{self, Draws, stream};
use crate::scene::{InputKind, Model};

/// The network as arrays, ready to upload (GPU) or to step (reference).
#[derive(Clone, Debug)]
pub struct Network {
    pub globals: Globals,
    pub pops: Vec<Pop>,
    pub poisson: Vec<PoissonSource>,
    pub state: Vec<NeuronState>,
    pub params: Vec<NeuronParams>,
    /// Neuron positions (mm).
    pub positions: Vec<[f32; 3]>,
    /// Slot arrays: presynaptic neuron (or EMPTY), weight, packed metadata (delay in low 12 bits).
    pub syn_pre: Vec<u32>,
    pub syn_weight: Vec<f32>,
    pub syn_meta: Vec<u32>,
    /// Outgoing index (CSR over presynaptic neurons): the slots neuron i drives are
    /// `out_slots[out_start[i]..out_start[i + 1]]`.
    pub out_start: Vec<u32>,
    pub out_slots: Vec<u32>,
    /// Occupied slots.
    pub synapses: u64,
    /// "population (region)" for each population, for messages.
    pub labels: Vec<String>,
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

/// Builds the network of a model (deterministic in the model's seed).
pub fn build(model: &Model) -> Network {
    let key = rng::seed_key(model.seed);
    let n = model.neurons as usize;
    let dt = model.dt_ms;

    let mut state = Vec::with_capacity(n);
    let mut params = Vec::with_capacity(n);
    let mut positions = Vec::with_capacity(n);
    for (pi, p) in model.populations.iter().enumerate() {
        for i in p.first..p.first + p.count {
            let (prm, st) = neurons::neuron(key, i, pi as u32, &p.neuron, dt);
            params.push(prm);
            state.push(st);
            positions.push(neurons::position(key, i, &model.regions[p.region]));
        }
    }

    let conns: Vec<connect::Connections> = (0..model.projections.len())
        .map(|j| connect::connect(model, j, key, &positions))
        .collect();

    // Row capacity per population: the largest need of any of its neurons.
    let mut pops: Vec<Pop> = Vec::with_capacity(model.populations.len());
    let mut slot_base: u64 = 0;
    for (pi, p) in model.populations.iter().enumerate() {
        let mut cap = 0u64;
        for t in 0..p.count as usize {
            let need: u64 = model
                .projections
                .iter()
                .zip(&conns)
                .filter(|(pr, _)| pr.target == pi)
                .map(|(pr, c)| ((c.start[t + 1] - c.start[t]) as f64 * pr.headroom).ceil() as u64)
                .sum();
            cap = cap.max(need);
        }
        pops.push(Pop {
            first: p.first,
            count: p.count,
            model: p.neuron.code(),
            region: p.region as u32,
            slot_base: slot_base as u32,
            row_cap: cap as u32,
            ..Default::default()
        });
        slot_base += cap * p.count as u64;
    }
    let total_slots = slot_base as usize;

    let mut syn_pre = vec![EMPTY; total_slots];
    let mut syn_weight = vec![0.0f32; total_slots];
    let mut syn_meta = vec![0u32; total_slots];
    let mut fill = vec![0u32; n];
    let mut max_delay = 1u32;
    let mut max_abs_w = 0f64;
    for (j, (pr, c)) in model.projections.iter().zip(&conns).enumerate() {
        let tp = &pops[pr.target];
        for t in 0..tp.count {
            let target = tp.first + t;
            let row = tp.slot_base as usize + t as usize * tp.row_cap as usize;
            let mut dw = Draws::new(key, stream::WEIGHT + j as u32, target, 0);
            let mut dd = Draws::new(key, stream::DELAY + j as u32, target, 0);
            for &s in &c.sources[c.start[t as usize] as usize..c.start[t as usize + 1] as usize] {
                let slot = row + fill[target as usize] as usize;
                fill[target as usize] += 1;
                let w = neurons::sample(&pr.weight, 0.0, &mut dw);
                let delay_ms = neurons::sample(&pr.delay_ms, 0.0, &mut dd);
                let delay = ((delay_ms / dt).round() as u32).clamp(1, DELAY_MASK);
                max_delay = max_delay.max(delay);
                max_abs_w = max_abs_w.max((w as f32).abs() as f64);
                syn_pre[slot] = s;
                syn_weight[slot] = w as f32;
                syn_meta[slot] = delay;
            }
        }
    }

    // The largest summed |weight| a row can deliver in one step bounds the ring's fixed point.
    let mut max_row = 0f64;
    for p in &pops {
        for t in 0..p.count as usize {
            let row = p.slot_base as usize + t * p.row_cap as usize;
            let s: f64 = syn_weight[row..row + p.row_cap as usize]
                .iter()
                .map(|w| w.abs() as f64)
                .sum();
            max_row = max_row.max(s);
        }
    }

    let (out_start, out_slots) = outgoing_index(&syn_pre, n);

    // External drive aggregated per population.
    let mut poisson = Vec::new();
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
                } => {
                    let lambda = rate_hz * in_degree as f64 * dt * 1e-3;
                    let repeats = (lambda / 30.0).ceil().max(1.0);
                    let part = lambda / repeats;
                    poisson.push(PoissonSource {
                        exp_neg_lambda: (-part).exp() as f32,
                        weight: weight as f32,
                        repeats: repeats as u32,
                        cap: (10.0 * part + 50.0) as u32,
                    });
                }
            }
        }
        pop.noise_sd = noise_var.sqrt() as f32;
        pop.input_count = poisson.len() as u32 - pop.input_first;
    }

    let ring_scale = fixed_scale(max_row);
    let globals = Globals {
        n_neurons: n as u32,
        n_pops: pops.len() as u32,
        n_regions: model.regions.len() as u32,
        ring_len: max_delay + 1,
        key,
        raster_steps: 0,
        raster_words: (n as u32).div_ceil(32),
        total_slots: total_slots as u32,
        dt: dt as f32,
        half_dt: (0.5 * dt) as f32,
        inv_dt: (1.0 / dt) as f32,
        ring_scale,
        inv_ring_scale: 1.0 / ring_scale,
        conn_scale: fixed_scale(max_abs_w),
        opaque_zero: 0,
        _pad1: 0,
    };
    let synapses = syn_pre.iter().filter(|&&p| p != EMPTY).count() as u64;
    Network {
        globals,
        pops,
        poisson,
        state,
        params,
        positions,
        syn_pre,
        syn_weight,
        syn_meta,
        out_start,
        out_slots,
        synapses,
        labels: model
            .populations
            .iter()
            .map(|p| format!("{} ({})", p.name, model.regions[p.region].name))
            .collect(),
    }
}

/// The outgoing index of a slot array: count per presynaptic neuron, exclusive scan, scatter in
/// slot order (so each neuron's slots are ascending).
pub fn outgoing_index(syn_pre: &[u32], n: usize) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; n + 1];
    for &p in syn_pre.iter().filter(|&&p| p != EMPTY) {
        start[p as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut cursor = start.clone();
    let mut slots = vec![0u32; start[n] as usize];
    for (slot, &p) in syn_pre.iter().enumerate() {
        if p != EMPTY {
            slots[cursor[p as usize] as usize] = slot as u32;
            cursor[p as usize] += 1;
        }
    }
    (start, slots)
}

impl Network {
    /// The slot's target neuron.
    pub fn target_of(&self, slot: u32) -> u32 {
        let p = &self.pops[pop_of_slot(&self.pops, slot)];
        p.first + (slot - p.slot_base) / p.row_cap
    }

    /// Bytes of every GPU buffer this network needs, by buffer name.
    pub fn gpu_buffers(&self, raster_steps: u32) -> Vec<(&'static str, u64)> {
        let g = &self.globals;
        let n = g.n_neurons as u64;
        let words = |k: u64| (4 * k).max(16);
        vec![
            ("neurons", 16 * n),
            ("params", 32 * n),
            ("pops", 48 * self.pops.len() as u64),
            ("poisson", 16 * self.poisson.len().max(1) as u64),
            ("ring", words(g.ring_len as u64 * n)),
            ("sim", 32 + 4 * n),
            (
                "counters",
                words(g.n_pops as u64 + raster_steps as u64 * g.raster_words as u64),
            ),
            ("syn_pre", words(g.total_slots as u64)),
            ("syn_weight", words(g.total_slots as u64)),
            ("syn_meta", words(g.total_slots as u64)),
            ("out_start", words(n + 1)),
            ("out_slots", words(self.out_slots.len() as u64)),
            ("connectivity", words(3 * (g.n_regions as u64).pow(2))),
        ]
    }
}

/// The population owning a slot: the last with `slot_base <= slot` (empty populations share a base).
pub fn pop_of_slot(pops: &[Pop], slot: u32) -> usize {
    pops.partition_point(|p| p.slot_base <= slot) - 1
}

/// Re-exported so the reference and the GPU name the same constants.
pub use layout::MAX_DELAY_STEPS;
