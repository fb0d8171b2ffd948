//! What the GPU engine and the CPU reference both do, so the schedule drives either.

use crate::error::{Error, Result};

/// Raw aggregates since the previous sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSample {
    /// Steps simulated so far.
    pub step: u64,
    /// Spikes per population since the previous sample.
    pub pop_spikes: Vec<u32>,
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

/// A simulation engine over one built network.
pub trait Engine {
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
}

/// The error for a non-finite neuron state, naming population, region, neuron and step.
pub(crate) fn nonfinite(neuron: u32, step: u32, pop_first: &[u32], labels: &[String]) -> Error {
    let pop = pop_first.partition_point(|&f| f <= neuron).saturating_sub(1);
    let label = labels.get(pop).map_or("?", String::as_str);
    Error::Numerics(format!(
        "non-finite membrane state in population {label}, neuron {neuron}, at step {step}; \
         reduce dt or the input and weights"
    ))
}
