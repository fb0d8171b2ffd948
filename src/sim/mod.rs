//! The schedule: advance the engine in batches, sample statistics, write outputs.

use crate::build::{self, Network};
use crate::engine::Engine;
use crate::error::Result;
use crate::gpu::{self, AdapterChoice, GpuContext, GpuEngine};
use crate::reference::CpuEngine;
use crate::scene::Model;
use crate::stats::{self, Recorder, Stats};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// The network as built; on the GPU without its per-slot arrays and outgoing indexes, which
    /// the engine holds (`Network::take_synapses`).
    pub network: Network,
    pub engine: Box<dyn Engine + Send>,
    pub build_s: f64,
    /// The LFP proxy's couplings (scenes with the `Lfp` readout).
    pub lfp: Option<crate::stats::lfp::Coupling>,
}

impl Simulation {
    /// Builds the network and uploads it to the chosen engine.
    pub fn new(model: Model, engine: &EngineChoice, raster_steps: u32) -> Result<Self> {
        let ctx = match engine {
            EngineChoice::Gpu(choice) => Some(GpuContext::new(choice)?),
            EngineChoice::Cpu => None,
        };
        match &ctx {
            Some(ctx) => check_model_fits(&model, ctx)?,
            None => check_model_fits_host(&model, gpu::context::host_memory())?,
        }
        let t0 = Instant::now();
        let shard_slots = ctx.as_ref().map_or(u32::MAX as u64, |c| c.shard_slots());
        // The GPU engine takes the synapses (`new_releasing`): its compact shards need no index
        // on the host (`build_for_upload`); the CPU twin steps every index.
        let mut network = match &ctx {
            Some(_) => build::build_for_upload(&model, shard_slots)?,
            None => build::build_sharded(&model, shard_slots)?,
        };
        let build_s = t0.elapsed().as_secs_f64();
        // The LFP proxy's couplings read the synapses, which the GPU engine takes.
        let names: Vec<String> = model.regions.iter().map(|r| r.name.clone()).collect();
        let lfp = model
            .readouts
            .lfp
            .as_ref()
            .map(|m| crate::stats::lfp::Coupling::new(&network, m, &names, model.dt_ms));
        // The GPU engine keeps the synapses on the device alone; the run reads the rest of the
        // network (populations, positions, statuses) from here.
        let engine: Box<dyn Engine + Send> = match &ctx {
            Some(ctx) => Box::new(GpuEngine::new_releasing(ctx, &mut network, raster_steps)?),
            None => Box::new(CpuEngine::new(&network, raster_steps)),
        };
        Ok(Simulation {
            model,
            network,
            engine,
            build_s,
            lfp,
        })
    }

    /// The LFP proxy of a sample (`raw`, an interval of `interval` steps) with the neurons'
    /// `status` now; empty without the `Lfp` readout.
    pub fn lfp(
        &self,
        raw: &crate::engine::RawSample,
        interval: u64,
        status: &[[u32; 4]],
    ) -> Vec<crate::stats::lfp::LfpStat> {
        self.lfp
            .as_ref()
            .map_or(Vec::new(), |c| c.analyse(&raw.pop_steps, interval, status))
    }

    /// Runs `steps` steps, sampling every `sample_every_steps`, handing each sample to `each`.
    pub fn run(&mut self, steps: u64, progress: bool, each: impl FnMut(&Stats) -> Result<()>) -> Result<RunTotals> {
        self.run_span(0, steps, steps, progress, None, each)
    }

    /// Runs from step `from` (a sample boundary) to step `until`, sampling every
    /// `sample_every_steps` counted from step 0, and returns early after a sample once `stop` is
    /// set; `totals.steps` is the step reached. `steps` is the whole run's length, for progress.
    pub fn run_span(
        &mut self,
        from: u64,
        until: u64,
        steps: u64,
        progress: bool,
        stop: Option<&AtomicBool>,
        mut each: impl FnMut(&Stats) -> Result<()>,
    ) -> Result<RunTotals> {
        let t0 = Instant::now();
        let every = self.model.sample_every_steps;
        let mut bar: Option<indicatif::ProgressBar> = None;
        let mut totals = RunTotals::default();
        let mut done = from;
        let out_degree = self.mean_out_degree();
        while done < until {
            if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                break;
            }
            let n = every.min(until - done);
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
            let mut stats = Stats::from_raw(&self.model, &raw, n, &self.network.globals);
            stats.lfp = self.lfp(&raw, n, &self.network.status);
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
        totals.steps = done;
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

/// How often a run writes checkpoints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Every {
    /// Simulated milliseconds (scenes without a protocol); rounded up to whole samples.
    Ms(f64),
    /// Biological days (protocol scenes), at the end of a day.
    Days(u32),
}

impl std::str::FromStr for Every {
    type Err = String;
    /// `500ms`, `2s`, `1.5min` or `3d` (`days`); a bare number is milliseconds.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let t = s.trim();
        let split = t.find(|c: char| c.is_alphabetic()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let v: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: expected a number with a unit, e.g. 5000ms, 10s or 2d"))?;
        if !(v > 0.0 && v.is_finite()) {
            return Err(format!("{s:?}: must be more than zero"));
        }
        Ok(match unit.trim() {
            "" | "ms" => Every::Ms(v),
            "s" => Every::Ms(v * 1e3),
            "min" => Every::Ms(v * 60e3),
            "d" | "day" | "days" if v.fract() == 0.0 => Every::Days(v as u32),
            "d" | "day" | "days" => return Err(format!("{s:?}: checkpoints fall between whole days")),
            u => return Err(format!("{s:?}: unknown unit {u:?} (ms, s, min or d)")),
        })
    }
}

/// Checkpoints of one run: how often, where, a flag that stops the run (set by Ctrl-C), and a
/// checkpoint to continue from.
#[derive(Clone, Debug, Default)]
pub struct Checkpointing {
    pub every: Option<Every>,
    /// The checkpoint file (default: `OUT/checkpoint.rwck`).
    pub path: Option<PathBuf>,
    /// When set, the run stops at the next sample (plain scenes) or end of a day (protocols),
    /// writes a checkpoint and its outputs so far, and returns `Error::Interrupted`.
    pub stop: Option<Arc<AtomicBool>>,
    /// Protocol scenes: stop after this many days of the protocol, with a checkpoint (the shared
    /// prefix a fork starts from).
    pub stop_after_days: Option<usize>,
    /// The scene file and text, stated in checkpoints (needed when `every` or `stop` is set).
    pub scene_file: String,
    pub scene_text: String,
    /// Continue from this checkpoint (its scene must be the model's).
    pub resume: Option<crate::checkpoint::Checkpoint>,
}

impl Checkpointing {
    /// Where checkpoints of a run into `out` go.
    pub fn file(&self, out: &Path) -> PathBuf {
        self.path.clone().unwrap_or_else(|| out.join("checkpoint.rwck"))
    }
    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }
}

/// Runs a model to its end and writes `rates.csv`, `connectivity.csv` and `summary.json` to `out`.
pub fn run(model: Model, out: &Path, opts: &RunOptions) -> Result<Summary> {
    run_with(model, out, opts, &Checkpointing::default())
}

/// [`run`] with checkpoints: written every `ck.every` and when `ck.stop` is set, or continued
/// from `ck.resume`.
pub fn run_with(model: Model, out: &Path, opts: &RunOptions, ck: &Checkpointing) -> Result<Summary> {
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
    match (ck.every, model.protocol.is_some()) {
        (Some(Every::Ms(_)), true) => {
            return Err(crate::error::Error::Usage(
                "a protocol scene checkpoints between days: give --checkpoint-every in days, e.g. 2d".into(),
            ));
        }
        (Some(Every::Days(_)), false) => {
            return Err(crate::error::Error::Usage(
                "a scene without a protocol has no days: give --checkpoint-every in time, e.g. 10s".into(),
            ));
        }
        _ => {}
    }
    // A fork: the scene names a checkpoint to start from (unless resuming one already).
    let forked = match (&ck.resume, &model.start_from) {
        (None, Some(path)) => Some(crate::checkpoint::read(path)?),
        _ => None,
    };
    let resume = ck.resume.as_ref().or(forked.as_ref());
    if let Some(c) = resume
        && (forked.is_some() || c.header.scene_hash != crate::checkpoint::scene_hash(&ck.scene_text))
    {
        crate::checkpoint::check_fork(c, &model)?;
    }
    let mut sim = Simulation::new(model, &opts.engine, 0)?;
    if let Some(c) = resume {
        crate::checkpoint::check_fits(c, &sim)?;
        sim.engine.load_state(&c.state)?;
    }
    // One run at a time in a folder, from the first file written until this run returns, however
    // it ends (the checks above leave nothing on disk).
    let _lock = crate::lock::OutputLock::acquire(out)?;
    // The scene as run (after any `--set`), so a run folder states what made it.
    if !ck.scene_text.is_empty() {
        crate::atomic::write_file(&out.join("scene.ron"), ck.scene_text.as_bytes(), false)?;
    }
    let restore = resume.map(|c| &c.files);
    let mut outputs = Outputs {
        rec: Recorder::open(out, &sim.model, restore)?,
        structure: sim.model.structure.as_ref().map(|_| StructureSummary {
            synapses_end: sim.network.synapses,
            formed: 0,
            eliminated: 0,
            capacity_misses: 0,
        }),
        last_checkpoint: resume.map(|c| (ck.file(out), c.header.position.step)),
    };
    let driven = drive(&mut sim, out, opts, ck, resume, &mut outputs);
    let last = outputs.last_checkpoint.clone();
    let (totals, protocol) = match driven {
        Ok(t) => t,
        Err(e) => {
            // What the samples so far hold goes under the files' names when the files themselves
            // are sound: after an interruption or a device fault, not after a failed write, whose
            // half-written `.partial` files must not pass for outputs.
            if matches!(e, crate::error::Error::Interrupted(_) | crate::error::Error::Gpu(_)) {
                outputs.rec.finish().map_err(|e| after_checkpoint(e, &last))?;
            }
            return Err(after_checkpoint(e, &last));
        }
    };
    let finished = finish(sim, out, outputs, totals, protocol);
    finished.map_err(|e| after_checkpoint(e, &last))
}

/// Runs `sim` from `outputs`' position to the end of the scene (or to a requested stop), writing
/// samples and checkpoints; returns the run's totals and, for protocol scenes, its summary.
fn drive(
    sim: &mut Simulation,
    out: &Path,
    opts: &RunOptions,
    ck: &Checkpointing,
    resume: Option<&crate::checkpoint::Checkpoint>,
    outputs: &mut Outputs,
) -> Result<(RunTotals, Option<crate::protocol::ProtocolSummary>)> {
    let steps = sim.model.steps;
    let mut totals = RunTotals::default();
    if let Some(c) = resume {
        let p = &c.header.position;
        totals.steps = p.step;
        totals.samples = p.samples;
        totals.spikes = p.spikes;
        totals.events = p.events;
        totals.wall_s = p.wall_s;
        if let (Some(st), Some((end, formed, gone, misses))) = (&mut outputs.structure, p.structure) {
            (st.synapses_end, st.formed, st.eliminated, st.capacity_misses) = (end, formed, gone, misses);
        }
    }
    let protocol = if sim.model.protocol.is_some() {
        let (t, p) = crate::protocol::run_with(sim, out, opts.progress, ck, resume, outputs)?;
        totals = t;
        Some(p)
    } else {
        // Checkpoints fall on samples: every `every` ms rounded up to whole sample intervals.
        let sample = sim.model.sample_every_steps.max(1);
        let every_steps = match ck.every {
            Some(Every::Ms(ms)) => Some(((ms / sim.model.dt_ms / sample as f64).ceil() as u64).max(1) * sample),
            _ => None,
        };
        let stop = ck.stop.as_deref();
        while totals.steps < steps {
            let until = every_steps.map_or(steps, |e| ((totals.steps / e + 1) * e).min(steps));
            let t = sim.run_span(totals.steps, until, steps, opts.progress, stop, |s| outputs.record(s))?;
            totals.steps = t.steps;
            totals.spikes += t.spikes;
            totals.events += t.events;
            totals.samples += t.samples;
            totals.wall_s += t.wall_s;
            let stopped = ck.stopped();
            if stopped || (every_steps.is_some() && totals.steps < steps) {
                let position = outputs.position(&totals, None);
                let path = save_checkpoint(sim, out, ck, position, |files| outputs.rec.save(files))?;
                outputs.last_checkpoint = Some((path.clone(), totals.steps));
                if stopped {
                    return Err(interrupted(&sim.model, totals.steps, &path));
                }
            }
        }
        None
    };
    Ok((totals, protocol))
}

/// Closes the outputs of a run that reached its end: the tables, summary.json and the figures.
fn finish(
    sim: Simulation,
    out: &Path,
    outputs: Outputs,
    totals: RunTotals,
    protocol: Option<crate::protocol::ProtocolSummary>,
) -> Result<Summary> {
    let steps = totals.steps;
    let Outputs { rec, structure, .. } = outputs;
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
    crate::report::tracts::write(out, &sim.model)?;
    crate::report::bold::write(out, &sim.model)?;
    crate::report::fmri::write(out, &sim.model)?;
    crate::report::imaging::write(out, &sim.model)?;
    crate::report::icms::write(out, &sim.model)?;
    stats::write_json(out, "summary.json", &summary)?;
    crate::report::figures::draw_run(out)?;
    Ok(summary)
}

/// Where a run's samples go: the recorder's files, and the structural counts of summary.json.
pub(crate) struct Outputs {
    pub rec: Recorder,
    pub structure: Option<StructureSummary>,
    /// The last checkpoint written or resumed from (path, step): where a failed run continues.
    pub last_checkpoint: Option<(PathBuf, u64)>,
}

impl Outputs {
    pub fn record(&mut self, s: &Stats) -> Result<()> {
        if let Some(st) = &mut self.structure {
            st.synapses_end = s.connectivity.iter().map(|c| c.synapses).sum();
            for r in &s.structure {
                st.formed += r.formed;
                st.eliminated += r.pruned + r.retracted;
                st.capacity_misses += r.capacity_misses;
            }
        }
        self.rec.record(s)
    }

    /// The schedule's position for a checkpoint after `totals` (and a protocol runner's state).
    pub fn position(&self, totals: &RunTotals, protocol: Option<serde_json::Value>) -> crate::checkpoint::Position {
        crate::checkpoint::Position {
            step: totals.steps,
            samples: totals.samples,
            spikes: totals.spikes,
            events: totals.events,
            wall_s: totals.wall_s,
            structure: self
                .structure
                .as_ref()
                .map(|s| (s.synapses_end, s.formed, s.eliminated, s.capacity_misses)),
            protocol,
        }
    }
}

/// Writes a checkpoint of `sim` at `position`, with the files `save_files` adds; returns its path.
pub(crate) fn save_checkpoint(
    sim: &mut Simulation,
    out: &Path,
    ck: &Checkpointing,
    position: crate::checkpoint::Position,
    save_files: impl FnOnce(&mut crate::checkpoint::Files) -> Result<()>,
) -> Result<PathBuf> {
    if ck.scene_text.is_empty() {
        return Err(crate::error::Error::Usage(
            "checkpoints need the scene's text (Checkpointing::scene_text)".into(),
        ));
    }
    let state = sim.engine.save_state()?;
    let mut files = crate::checkpoint::Files::new();
    save_files(&mut files)?;
    let c = crate::checkpoint::Checkpoint::new(
        crate::checkpoint::Source {
            file: ck.scene_file.clone(),
            text: ck.scene_text.clone(),
            name: sim.model.name.clone(),
            engine: sim.engine.describe(),
            out: out.to_path_buf(),
            steps: sim.model.steps,
        },
        position,
        state,
        files,
    );
    let path = ck.file(out);
    crate::checkpoint::write(&path, &c)?;
    Ok(path)
}

/// A run that failed after writing checkpoint `last` (path, step) says where the last good state
/// is: a non-finite state in its own words, any other failure (a file that could not be written,
/// a lost device) as [`Error::Stopped`](crate::error::Error::Stopped). Failures of the request
/// itself (usage, scene) and interruptions pass through.
pub(crate) fn after_checkpoint(e: crate::error::Error, last: &Option<(PathBuf, u64)>) -> crate::error::Error {
    use crate::error::Error;
    match (e, last) {
        (Error::Numerics(m), Some((path, step))) => Error::Numerics(format!(
            "{m}. The last checkpoint, from step {step} before the failure, is {}",
            path.display()
        )),
        (e @ (Error::Interrupted(_) | Error::Usage(_) | Error::Scene { .. } | Error::Stopped { .. }), _) => e,
        (e, Some((path, step))) => Error::Stopped {
            cause: Box::new(e),
            checkpoint: path.clone(),
            step: *step,
        },
        (e, None) => e,
    }
}

/// The error of a run stopped on request, saying how to continue it.
pub(crate) fn interrupted(model: &Model, step: u64, checkpoint: &Path) -> crate::error::Error {
    crate::error::Error::Interrupted(format!(
        "stopped at {:.1} ms simulated (step {step}) of {:?}; the outputs so far are written and a checkpoint is in \
         {}: continue with `rewire resume {}`",
        model.time_ms(step),
        model.name,
        checkpoint.display(),
        checkpoint.display()
    ))
}

/// The refusal of a model too large for `adapter`: what, the bytes (or count) needed and allowed.
fn refusal(adapter: String) -> impl Fn(String, f64, u64) -> crate::error::Error {
    move |what, needed, available| crate::error::Error::TooLarge {
        adapter: adapter.clone(),
        what,
        needed: needed as u64,
        available,
    }
}

/// Refuses more than `build::MAX_SLOTS` (2^35) slots: chunk numbers are u32.
fn check_slot_count(est: &build::Estimate, adapter: &str) -> Result<()> {
    if est.slots > build::MAX_SLOTS as f64 {
        return Err(crate::error::Error::TooMany {
            adapter: adapter.to_string(),
            what: format!("about {:.3e} synapse slots (one network holds at most 2^35)", est.slots),
            needed: est.slots as u64,
            available: build::MAX_SLOTS,
        });
    }
    Ok(())
}

/// Refuses, before building anything, a model the CPU reference cannot hold in `memory` bytes of
/// host memory (None: unknown, nothing refused): the built network and the engine's copy of it,
/// each about the GPU's bytes, and at most 2^35 slots.
pub fn check_model_fits_host(model: &Model, memory: Option<u64>) -> Result<()> {
    let est = build::estimate(model, u32::MAX as u64);
    let too_large = refusal("the CPU reference (host memory)".into());
    check_slot_count(&est, "the CPU reference (host memory)")?;
    let needed = 2.0 * est.bytes;
    match memory {
        Some(m) if needed > m as f64 => Err(too_large(
            format!(
                "{} neurons and about {:.3e} synapses (the network and the engine's copy)",
                model.neurons, est.synapses
            ),
            needed,
            m,
        )),
        _ => Ok(()),
    }
}

/// Refuses, before building anything, a model that cannot fit the adapter: more than 2^35 slots,
/// a per-neuron array larger than one binding, or more bytes than the device's memory.
pub fn check_model_fits(model: &Model, ctx: &GpuContext) -> Result<()> {
    check_model_fits_limits(
        model,
        &ctx.limits,
        ctx.memory,
        gpu::context::host_memory(),
        ctx.info.device_type == wgpu::DeviceType::Cpu,
        &gpu::context::describe(&ctx.info),
    )
    .map(|_| ())
}

/// What a model needs of an adapter, when it fits (`check_model_fits_limits`).
#[derive(Clone, Debug)]
pub struct Fit {
    /// All GPU buffers (bytes, estimated) and the device's memory, when known.
    pub bytes: f64,
    /// Host memory the build needs at its peak, or on a CPU adapter the run where that is more
    /// (bytes, estimated).
    pub host_bytes: f64,
    pub memory: Option<u64>,
    /// The largest single binding (name and bytes) and the adapter's binding size.
    pub largest: (String, f64),
    pub binding: u64,
    /// Parts of whole neurons, each with one binding of the delay ring and one of the
    /// parameters.
    pub ring_parts: u64,
}

pub use build::CPU_ADAPTER_RUN_FACTOR;

/// `check_model_fits` for an adapter's `limits` and `memory` without opening it (`adapter` names
/// it in a refusal), and a host of `host` bytes of memory (None: unknown) that builds the network
/// first, and that also holds the device's buffers where `shared` (a CPU adapter); on success,
/// what the model needs.
pub fn check_model_fits_limits(
    model: &Model,
    limits: &wgpu::Limits,
    memory: Option<u64>,
    host: Option<u64>,
    shared: bool,
    adapter: &str,
) -> Result<Fit> {
    let shard_slots = gpu::context::shard_slots(limits);
    let est = build::estimate(model, shard_slots);
    let too_large = refusal(adapter.to_string());
    check_slot_count(&est, adapter)?;
    // The host builds the whole network before any of it goes to the device; on a CPU adapter
    // the device's memory is this same memory, and the run then holds its buffers there.
    let run_on_host = if shared {
        CPU_ADAPTER_RUN_FACTOR * est.bytes
    } else {
        0.0
    };
    if let Some(host) = host
        && run_on_host > est.host_bytes
        && run_on_host > host as f64
    {
        return Err(too_large(
            format!(
                "the run of {} neurons and about {:.3e} synapses in this host's memory (a CPU adapter's buffers \
                 are host memory: {CPU_ADAPTER_RUN_FACTOR} times its GPU bytes at the peak, measured; the host has {})",
                model.neurons,
                est.synapses,
                crate::error::human_bytes(host)
            ),
            run_on_host,
            host,
        ));
    }
    if let Some(host) = host
        && est.host_bytes > host as f64
    {
        return Err(too_large(
            format!(
                "the build of {} neurons and about {:.3e} synapses in this host's memory (the rows beside \
                 their connection lists or outgoing indexes, and the neuron arrays, before any of it goes to the \
                 device; the host has {})",
                model.neurons,
                est.synapses,
                crate::error::human_bytes(host)
            ),
            est.host_bytes,
            host,
        ));
    }
    if let Some(memory) = memory
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
    let binding = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
    // A row is never split between shards.
    for (pi, p) in model.populations.iter().enumerate() {
        let row: f64 = model
            .projections
            .iter()
            .zip(model.expected_synapses_per_projection())
            .filter(|(pr, _)| pr.target == pi)
            .map(|(pr, s)| s * pr.headroom / p.count as f64)
            .sum();
        if row > shard_slots as f64 {
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
    // The delay ring is split into parts of whole neurons, one binding each.
    if 4.0 * est.ring_words > binding as f64 {
        return Err(too_large(
            format!(
                "the delay ring of one neuron ({} words: the longest delay in steps plus one, times the channels)",
                est.ring_words
            ),
            4.0 * est.ring_words,
            binding,
        ));
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
    let largest = est
        .neuron_arrays
        .iter()
        .map(|(name, b)| (name.to_string(), *b))
        .chain([
            (
                "a part of the delay ring".to_string(),
                (est.ring_words * 4.0 * model.neurons as f64).min(binding as f64),
            ),
            (
                "a part of the parameters".to_string(),
                (build::PARAM_WORDS as f64 * 4.0 * model.neurons as f64).min(binding as f64),
            ),
        ])
        .chain(model.task.is_some().then(|| {
            (
                "a part of the task's cue counters".to_string(),
                (crate::layout::REP_CUES as f64 * 4.0 * model.neurons as f64).min(binding as f64),
            )
        }))
        .fold((String::new(), 0.0), |a, b| if b.1 > a.1 { b } else { a });
    Ok(Fit {
        bytes: est.bytes,
        host_bytes: est.host_bytes.max(run_on_host),
        memory,
        largest,
        binding,
        ring_parts: est.parts as u64,
    })
}
