//! The schedule: advance the engine in batches, sample statistics, write outputs.

use crate::build::{self, Network};
use crate::engine::Engine;
use crate::error::Result;
use crate::gpu::{self, AdapterChoice, GpuContext, GpuEngine};
use crate::reference::CpuEngine;
use crate::scene::Model;
use crate::stats::{self, Recorder, Stats};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// Which engine runs the network.
#[derive(Clone, Debug)]
pub enum EngineChoice {
    Gpu(AdapterChoice),
    /// The CPU reference (slow; for checking and for machines with no GPU).
    Cpu,
}

/// Options of one run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub engine: EngineChoice,
    /// Overrides the scene's duration (ms).
    pub duration_ms: Option<f64>,
    /// Show a progress bar once a run has lasted a few seconds (only on a terminal).
    pub progress: bool,
}

/// What `summary.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub scene: String,
    pub seed: u64,
    pub engine: String,
    pub neurons: u32,
    pub synapses: u64,
    pub synapse_slots: u64,
    pub gpu_bytes: u64,
    pub gpu_bytes_per_synapse: f64,
    pub dt_ms: f64,
    pub steps: u64,
    pub simulated_ms: f64,
    pub build_s: f64,
    pub wall_s: f64,
    pub steps_per_s: f64,
    pub realtime_factor: f64,
    pub spikes: u64,
    /// Spikes times the mean out-degree of their population, per wall-clock second.
    pub synaptic_events_per_s: f64,
    pub samples: usize,
    /// Structural plasticity (scenes with `structure`): synapses at the end of the run, and
    /// synapses formed and eliminated (pruned or retracted) over it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structure: Option<StructureSummary>,
    /// Protocol scenes: performance before and after the lesion, recovery, lesion volume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<crate::protocol::ProtocolSummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StructureSummary {
    pub synapses_end: u64,
    pub formed: u64,
    pub eliminated: u64,
    pub capacity_misses: u64,
}

/// A built network on an engine, with its model.
pub struct Simulation {
    pub model: Model,
    pub network: Network,
    pub engine: Box<dyn Engine>,
    pub build_s: f64,
}

impl Simulation {
    /// Builds the network and uploads it to the chosen engine.
    pub fn new(model: Model, engine: &EngineChoice, raster_steps: u32) -> Result<Self> {
        let ctx = match engine {
            EngineChoice::Gpu(choice) => Some(GpuContext::new(choice)?),
            EngineChoice::Cpu => None,
        };
        if let Some(ctx) = &ctx {
            check_model_fits(&model, ctx)?;
        }
        let t0 = Instant::now();
        let shard_slots = ctx.as_ref().map_or(u32::MAX as u64, |c| c.shard_slots());
        let network = build::build_sharded(&model, shard_slots)?;
        let build_s = t0.elapsed().as_secs_f64();
        let engine: Box<dyn Engine> = match &ctx {
            Some(ctx) => Box::new(GpuEngine::new(ctx, &network, raster_steps)?),
            None => Box::new(CpuEngine::new(&network, raster_steps)),
        };
        Ok(Simulation {
            model,
            network,
            engine,
            build_s,
        })
    }

    /// Runs `steps` steps, sampling every `sample_every_steps`, handing each sample to `each`.
    pub fn run(&mut self, steps: u64, progress: bool, mut each: impl FnMut(&Stats) -> Result<()>) -> Result<RunTotals> {
        let t0 = Instant::now();
        let every = self.model.sample_every_steps;
        let mut bar: Option<indicatif::ProgressBar> = None;
        let mut totals = RunTotals::default();
        let mut done = 0;
        let out_degree = self.mean_out_degree();
        while done < steps {
            let n = every.min(steps - done);
            // Advance in chunks so the progress bar moves; the GPU is only waited on at samples.
            let mut left = n;
            while left > 0 {
                let chunk = left.min(1024);
                self.engine.advance(chunk)?;
                left -= chunk;
                if progress && bar.is_none() && t0.elapsed() > Duration::from_secs(2) {
                    bar = Some(progress_bar(steps, "{pos}/{len} steps"));
                }
                if let Some(b) = &bar {
                    b.set_position(done + n - left);
                }
            }
            done += n;
            let raw = self.engine.sample()?;
            let stats = Stats::from_raw(&self.model, &raw, n, &self.network.globals);
            totals.spikes += raw.pop_spikes.iter().map(|&s| s as u64).sum::<u64>();
            totals.events += raw
                .pop_spikes
                .iter()
                .zip(&out_degree)
                .map(|(&s, d)| s as f64 * d)
                .sum::<f64>();
            totals.samples += 1;
            each(&stats)?;
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        totals.wall_s = t0.elapsed().as_secs_f64();
        totals.steps = steps;
        Ok(totals)
    }

    /// Mean outgoing synapses per neuron of each population as built (for event rates).
    pub fn mean_out_degree(&self) -> Vec<f64> {
        let n = &self.network;
        n.pops
            .iter()
            .map(|p| {
                let out: u64 = n
                    .shards
                    .iter()
                    .map(|s| (s.out_start[(p.first + p.count) as usize] - s.out_start[p.first as usize]) as u64)
                    .sum();
                out as f64 / p.count.max(1) as f64
            })
            .collect()
    }
}

/// Counts over a run.
#[derive(Clone, Debug, Default)]
pub struct RunTotals {
    pub steps: u64,
    pub spikes: u64,
    pub events: f64,
    pub samples: usize,
    pub wall_s: f64,
    /// Task trials run in training sessions and in probes (protocols).
    pub training_trials: u64,
    pub probe_trials: u64,
}

/// A progress bar over `steps`, labelled by `what` (an indicatif template: `{pos}`, `{msg}`...).
pub(crate) fn progress_bar(steps: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(steps);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!("{{elapsed_precise}} [{{bar:40}}] {what}, eta {{eta}}"))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Runs a model to its end and writes `rates.csv`, `connectivity.csv` and `summary.json` to `out`,
/// then the figures drawn from them (`report::figures::draw_run`).
pub fn run(model: Model, out: &Path, opts: &RunOptions) -> Result<Summary> {
    let mut model = model;
    if opts.duration_ms.is_some() && model.protocol.is_some() {
        return Err(crate::error::Error::Usage(format!(
            "scene {:?} has a protocol, whose days set its length: a duration applies only to scenes without one \
             (shorten the protocol instead)",
            model.name
        )));
    }
    if let Some(d) = opts.duration_ms {
        model.steps = (d / model.dt_ms).round() as u64;
    }
    let mut sim = Simulation::new(model, &opts.engine, 0)?;
    let mut rec = Recorder::create(out, &sim.model)?;
    let steps = sim.model.steps;
    let mut structure = sim.model.structure.as_ref().map(|_| StructureSummary {
        synapses_end: sim.network.synapses,
        formed: 0,
        eliminated: 0,
        capacity_misses: 0,
    });
    let each = |s: &Stats| {
        if let Some(st) = &mut structure {
            st.synapses_end = s.connectivity.iter().map(|c| c.synapses).sum();
            for r in &s.structure {
                st.formed += r.formed;
                st.eliminated += r.pruned + r.retracted;
                st.capacity_misses += r.capacity_misses;
            }
        }
        rec.record(s)
    };
    let (totals, protocol) = if sim.model.protocol.is_some() {
        let (t, p) = crate::protocol::run(&mut sim, out, opts.progress, each)?;
        (t, Some(p))
    } else {
        (sim.run(steps, opts.progress, each)?, None)
    };
    let steps = totals.steps;
    rec.finish()?;
    let net = &sim.network;
    let gpu_bytes: u64 = net.gpu_buffers(0).iter().map(|(_, b)| b).sum();
    let simulated_ms = sim.model.time_ms(steps);
    let summary = Summary {
        scene: sim.model.name.clone(),
        seed: sim.model.seed,
        engine: sim.engine.describe(),
        neurons: net.globals.n_neurons,
        synapses: net.synapses,
        synapse_slots: net.slots(),
        gpu_bytes,
        gpu_bytes_per_synapse: gpu_bytes as f64 / net.synapses.max(1) as f64,
        dt_ms: sim.model.dt_ms,
        steps,
        simulated_ms,
        build_s: sim.build_s,
        wall_s: totals.wall_s,
        steps_per_s: steps as f64 / totals.wall_s.max(1e-9),
        realtime_factor: simulated_ms * 1e-3 / totals.wall_s.max(1e-9),
        spikes: totals.spikes,
        synaptic_events_per_s: totals.events / totals.wall_s.max(1e-9),
        samples: totals.samples,
        structure,
        protocol,
    };
    stats::write_json(out, "summary.json", &summary)?;
    // Figures come from the files just written, so `rewire plot` redraws the same ones.
    crate::report::figures::draw_run(out)?;
    Ok(summary)
}

/// Refuses, before building anything, a model that cannot fit the adapter: more than 2^32 slots,
/// a per-neuron array larger than one binding, or more bytes than the device's memory.
pub fn check_model_fits(model: &Model, ctx: &GpuContext) -> Result<()> {
    let adapter = gpu::context::describe(&ctx.info);
    let est = build::estimate(model, ctx.shard_slots());
    let too_large = |what: String, needed: f64, available: u64| crate::error::Error::TooLarge {
        adapter: adapter.clone(),
        what,
        needed: needed as u64,
        available,
    };
    if est.slots > u32::MAX as f64 {
        return Err(too_large(
            format!("about {:.3e} synapse slots (one network holds at most 2^32)", est.slots),
            est.slots,
            u32::MAX as u64,
        ));
    }
    if let Some(memory) = ctx.memory
        && est.bytes > memory as f64
    {
        return Err(too_large(
            format!(
                "{} neurons and about {:.3e} synapses ({:.3e} slots)",
                model.neurons, est.synapses, est.slots
            ),
            est.bytes,
            memory,
        ));
    }
    let binding = ctx
        .limits
        .max_storage_buffer_binding_size
        .min(ctx.limits.max_buffer_size);
    // A row is never split between shards.
    for (pi, p) in model.populations.iter().enumerate() {
        let row: f64 = model
            .projections
            .iter()
            .zip(model.expected_synapses_per_projection())
            .filter(|(pr, _)| pr.target == pi)
            .map(|(pr, s)| s * pr.headroom / p.count as f64)
            .sum();
        if row > ctx.shard_slots() as f64 {
            return Err(too_large(
                format!(
                    "a row of population {} (about {row:.3e} synapses per neuron, one binding)",
                    p.name
                ),
                4.0 * row,
                binding,
            ));
        }
    }
    for (name, bytes) in &est.neuron_arrays {
        if *bytes > binding as f64 {
            return Err(too_large(
                format!(
                    "the per-neuron array `{name}` of {} neurons (one binding)",
                    model.neurons
                ),
                *bytes,
                binding,
            ));
        }
    }
    Ok(())
}
