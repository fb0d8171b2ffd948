//! What the GPU engine and the CPU reference both do, so the schedule drives either.

use crate::error::{Error, Result};

/// Raw aggregates since the previous sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSample {
    /// Steps simulated so far.
    pub step: u64,
    /// Spikes per population since the previous sample.
    pub pop_spikes: Vec<u32>,
    /// With the `Lfp` readout: spikes per population in each of the first `Globals::lfp_steps`
    /// steps since the previous sample, step-major (rows past the interval's end are 0); else
    /// empty.
    pub pop_steps: Vec<u32>,
    /// Synapse count per (source region, target region), row-major.
    pub conn_count: Vec<u32>,
    /// Summed weight per cell in fixed point (divide by the network's `conn_scale`).
    pub conn_weight: Vec<i64>,
    /// Weight statistics of each plastic projection (layout::PLASTIC_WORDS words each).
    pub plastic: Vec<u32>,
    /// Dopamine per region (f32 bits).
    pub dopamine: Vec<u32>,
    /// Structural statistics (build::Network::sstats layout; empty without structure).
    pub structure: Vec<u32>,
}

/// What a protocol changes between batches of steps (layout::Globals' dynamic part, the
/// populations' neuromodulation and the Poisson inputs' rates).
#[derive(Clone, Debug, PartialEq)]
pub struct Control {
    /// Factor on every learning rate (0: plasticity frozen, as in probe trials).
    pub learning: f32,
    /// Factor on structural rates and on synaptic scaling (offline phases).
    pub offline: f32,
    /// Per lesion slot: the penumbra's excitability loss now, the plasticity windows' extra
    /// factors on learning and on growth, and the tonic inhibitory current (layout::Globals).
    pub deficit: [f32; 4],
    pub learn_window: [f32; 4],
    pub grow_window: [f32; 4],
    pub tonic: [f32; 4],
    /// Per population: factors on input (excitability) and on learning (plasticity).
    pub gain: Vec<f32>,
    pub learn: Vec<f32>,
    /// Per Poisson source: the factor on its rate as built (enrichment, context jitter).
    pub input_rate: Vec<f64>,
    /// Skip the slow updates (modulated weights, scaling, capture, structure).
    pub frozen: bool,
}

impl Control {
    /// Nothing changed from the network as built.
    pub fn rest(n_pops: usize, n_inputs: usize) -> Self {
        Control {
            learning: 1.0,
            offline: 1.0,
            deficit: [0.0; 4],
            learn_window: [0.0; 4],
            grow_window: [0.0; 4],
            tonic: [0.0; 4],
            gain: vec![1.0; n_pops],
            learn: vec![1.0; n_pops],
            input_rate: vec![1.0; n_inputs],
            frozen: false,
        }
    }

    /// Applies the globals' part to `g`, the populations' to `pops`, and rebuilds the Poisson
    /// sources from their built means `lambda`.
    pub fn apply(
        &self,
        g: &mut crate::layout::Globals,
        pops: &mut [crate::layout::Pop],
        poisson: &mut [crate::layout::PoissonSource],
        lambda: &[f64],
    ) {
        g.learning = self.learning;
        g.offline = self.offline;
        g.deficit = self.deficit;
        g.learn_window = self.learn_window;
        g.grow_window = self.grow_window;
        g.tonic = self.tonic;
        for (i, p) in pops.iter_mut().enumerate() {
            p.gain = self.gain[i];
            p.learn = self.learn[i];
        }
        for (i, src) in poisson.iter_mut().enumerate() {
            crate::build::poisson_rate(src, lambda[i] * self.input_rate[i]);
        }
    }
}

/// Spikes of one output group counted while counting was on: how many, and the step of the
/// first (None: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupCount {
    pub spikes: u32,
    pub first_step: Option<u32>,
}

/// What the task counters held at the end of a response window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskCounts {
    /// Per output group (16): spikes counted and the first one's step.
    pub groups: Vec<GroupCount>,
    /// Per source region: summed |weight| of the synapses delivered onto the route group while
    /// counting was on (`record_routes`), fixed point at the network's `conn_scale`; empty
    /// without a task.
    pub routes: Vec<u64>,
}

/// The complete dynamic state of an engine: every array a run changes or a later step reads
/// (neuron state, delay ring, synapses and their index, traces, eligibilities, modulators,
/// structural elements, status, task words, the control tables as last set), and the host-side
/// counters (step, next scheduled reward, pending rewards, frozen). Loading it into an engine
/// built from the same model continues the run bit for bit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineState {
    pub step: u64,
    /// (name, little-endian bytes), in a fixed order per engine kind.
    pub arrays: Vec<(String, Vec<u8>)>,
}

/// A simulation engine over one built network.
pub trait Engine {
    /// Finishes queued work and reads back the engine's whole state.
    fn save_state(&mut self) -> Result<EngineState>;
    /// Replaces the engine's state by `state` (saved from an engine of the same kind built from
    /// the same model); refuses arrays whose names or sizes differ, naming the first.
    /// Nothing is written unless every array fits.
    fn load_state(&mut self, state: &EngineState) -> Result<()>;
    /// Queues `steps` more steps (the GPU may still be running them on return).
    fn advance(&mut self, steps: u64) -> Result<()>;
    /// Finishes queued work and reads the aggregates since the previous sample; fails on a
    /// non-finite neuron state, naming the neuron and step.
    fn sample(&mut self) -> Result<RawSample>;
    /// The spike raster of the first `raster_steps` steps: row `t` holds `ceil(n / 32)` words,
    /// bit `i % 32` of word `i / 32` set when neuron i spiked in step t.
    fn raster(&mut self) -> Result<Vec<u32>>;
    /// Steps simulated (or queued) so far.
    fn step(&self) -> u64;
    /// Adds dopamine to a region (None: every region), arriving at the next step, as a
    /// scheduled reward does. Only scenes with `dopamine` have anything it modulates.
    fn reward(&mut self, region: Option<u32>, amount: f32);
    /// Names the engine and its device for outputs.
    fn describe(&self) -> String;
    /// Sets what a protocol controls, from the next queued step on.
    fn control(&mut self, c: &Control);
    /// Applies a lesion from the next queued step on: `status` replaces every neuron's status
    /// words (layout::STATUS_*), then every synapse from or onto a dead neuron, and from region a
    /// onto region b where `cut[a * n_regions + b] != 0`, is removed.
    fn lesion(&mut self, status: &[[u32; 4]], cut: &[u32]) -> Result<()>;
    /// Replaces every neuron's status words from the next queued step on, touching no synapse:
    /// for a new task map (ICMS sites), with the alive and lesion fields as they are.
    fn set_status(&mut self, status: &[[u32; 4]]);
    /// Sets the task's cue-channel currents, the guidance current per output group, and whether
    /// output spikes are counted, from the next queued step on.
    fn task_drive(&mut self, channels: &[f32; 16], guide: &[f32; 16], counting: bool);
    /// Waits for queued steps and returns each output group's count and the route sums since
    /// the last call (clearing them), in one readback.
    fn task_counts(&mut self) -> Result<TaskCounts>;
    /// Names the cue (None: none) whose response-window spikes every neuron counts from the next
    /// queued step on, for the task representation.
    fn record_cue(&mut self, cue: Option<u32>);
    /// Names the output group (None: none) whose synaptic input `propagate` sums per source
    /// region while counting is on, from the next queued step on (the routes).
    fn record_routes(&mut self, group: Option<u32>);
    /// Counts, per region, the neurons selective for one of `cues` cues since the last call
    /// (`represent.wgsl`: at least `min_spikes` for the preferred cue and twice the mean of the
    /// others), clearing the counters. Only scenes with a task count anything.
    fn representation(&mut self, cues: u32, min_spikes: u32) -> Result<Vec<u32>>;
}

/// The error for a non-finite neuron state, naming population, region, neuron and step.
pub(crate) fn nonfinite(neuron: u32, step: u32, pop_first: &[u32], labels: &[String]) -> Error {
    let pop = pop_first.partition_point(|&f| f <= neuron).saturating_sub(1);
    let label = labels.get(pop).map_or("?", String::as_str);
    Error::Numerics(format!(
        "non-finite membrane state in the `neurons` stage: population {label}, neuron {neuron}, at step {step}; \
         reduce dt or the input and weights"
    ))
}

/// Refuses a state whose arrays differ from `expected` (this engine's names and byte sizes, in
/// order), naming the first that differs; `engine` names the engine in the message.
pub(crate) fn check_state(engine: &str, expected: &[(&str, usize)], state: &EngineState) -> Result<()> {
    let refuse = |what: String| {
        Err(Error::Usage(format!(
            "{engine}: the saved state does not fit this engine (was it saved from another model or \
             engine?): {what}"
        )))
    };
    for (i, ((name, bytes), (s_name, s_bytes))) in expected.iter().zip(&state.arrays).enumerate() {
        if name != s_name {
            return refuse(format!("array {i} is `{s_name}` where this engine has `{name}`"));
        }
        if *bytes != s_bytes.len() {
            return refuse(format!(
                "array `{name}` holds {} bytes where this engine's holds {bytes}",
                s_bytes.len()
            ));
        }
    }
    if let Some((name, _)) = expected.get(state.arrays.len()) {
        return refuse(format!(
            "it has {} arrays where this engine has {}; array `{name}` is missing",
            state.arrays.len(),
            expected.len()
        ));
    }
    if let Some((name, _)) = state.arrays.get(expected.len()) {
        return refuse(format!(
            "it has {} arrays where this engine has {}; array `{name}` is extra",
            state.arrays.len(),
            expected.len()
        ));
    }
    Ok(())
}

/// The bytes of `values` as one state array.
pub(crate) fn state_bytes<T: bytemuck::Pod>(values: &[T]) -> Vec<u8> {
    bytemuck::cast_slice(values).to_vec()
}

/// The values held by a state array (whose size `check_state` has matched: a whole number of
/// values; a partial value at the end is dropped).
pub(crate) fn state_values<T: bytemuck::Pod>(bytes: &[u8]) -> Vec<T> {
    let mut v = vec![T::zeroed(); bytes.len() / std::mem::size_of::<T>()];
    let whole = v.len() * std::mem::size_of::<T>();
    bytemuck::cast_slice_mut(&mut v).copy_from_slice(&bytes[..whole]);
    v
}
