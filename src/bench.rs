//! `rewire bench`: headless timing of synthetic networks and of scenes on the GPU.
//!
//! A synthetic network is `neurons` spike sources firing Poisson trains at `rate_hz`, each with
//! `synapses` incoming synapses drawn from the same population (FixedInDegree), delays uniform over
//! 1-10 ms. Spike sources ignore their input, so the number of spikes, hence of synaptic events,
//! is set exactly by the rate: the run measures the cost of updating neurons and of delivering
//! spikes through the synapse memory, which is what grows with network size.

use crate::build;
use crate::engine::Engine;
use crate::error::Result;
use crate::gpu::{self, GpuContext, GpuEngine};
use crate::scene::{self, Model};
use serde::Serialize;
use std::time::Instant;

/// One synthetic network of a sweep.
#[derive(Clone, Debug)]
pub struct Synthetic {
    pub neurons: u32,
    pub synapses: u32,
    pub rate_hz: f64,
    pub dt_ms: f64,
}

impl Synthetic {
    /// The scene of this network, as a lab would write it.
    pub fn scene(&self) -> String {
        format!(
            r#"Scene(name: "synthetic {n} x {k} at {r} Hz", seed: 1, dt_ms: {dt}, duration_ms: 1000,
  regions: [Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
    Population(name: "S", count: {n}, model: SpikeSource(rate_hz: {r})),
  ])],
  projections: [Projection(from: "S", to: "S", rule: FixedInDegree({k}), weight: 0.1, delay_ms: Uniform(1, 10))],
)"#,
            n = self.neurons,
            k = self.synapses,
            r = self.rate_hz,
            dt = self.dt_ms,
        )
    }

    pub fn model(&self) -> Result<Model> {
        scene::parse(&self.scene(), "synthetic.ron")
    }
}

/// Time of one stage over the timed steps.
#[derive(Clone, Debug, Serialize)]
pub struct StageTime {
    pub stage: String,
    /// Seconds per step (per call for `connectivity`, which runs at samples).
    pub s_per_step: f64,
    /// Bytes the stage moves per step (estimated from what it reads and writes) over its time,
    /// as a fraction of the measured streaming bandwidth (when measured).
    pub bandwidth_fraction: Option<f64>,
}

/// What `rewire bench` reports for one network.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    pub name: String,
    pub adapter: String,
    pub neurons: u32,
    pub synapses: u64,
    /// Slots of the rows as built (compact shards then hold their synapses without slots).
    pub synapse_slots: u64,
    pub shards: usize,
    pub gpu_bytes: u64,
    /// All GPU buffers over synapses.
    pub gpu_bytes_per_synapse: f64,
    /// Slot arrays plus outgoing-index entries over synapses (the static synapse cost).
    pub synapse_bytes_per_synapse: f64,
    pub build_s: f64,
    pub upload_s: f64,
    pub dt_ms: f64,
    pub steps: u64,
    pub wall_s: f64,
    pub steps_per_s: f64,
    pub realtime_factor: f64,
    pub spikes_per_s: f64,
    pub synaptic_events_per_s: f64,
    pub neuron_updates_per_s: f64,
    /// Wall time per step (s).
    pub s_per_step: f64,
    /// "gpu timestamps" or "wall clock".
    pub stage_timing: String,
    pub stages: Vec<StageTime>,
    /// Connectivity reduction at a sample, wall clock including the readback (s).
    pub sample_s: f64,
    /// The process's peak resident memory so far (bytes; VmHWM of /proc/self/status, None
    /// where there is none): the build, the upload and the run of this model and of those
    /// benchmarked before it in the same invocation. On a CPU adapter it includes the device
    /// buffers.
    pub peak_host_rss_bytes: Option<u64>,
}

/// The peak resident set (VmHWM, bytes) in a /proc/PID/status text.
pub fn peak_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut words = line.split_whitespace().skip(1);
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => Some(value * 1024),
        _ => None,
    }
}

/// This process's peak resident set so far (bytes), where /proc tells it.
pub fn own_peak_rss() -> Option<u64> {
    peak_rss(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// Bytes each stage moves: neurons read state (16), parameters (32) and the ring word (atomic
/// exchange: 8), write state (16), per neuron; propagate reads the outgoing entry (4), weight
/// (4), delay (2), owner (4, shared by a chunk: counted whole) and adds to the ring (8), per event.
pub const NEURON_BYTES: f64 = 72.0;
pub const EVENT_BYTES: f64 = 22.0;

/// Builds, uploads and times one model: `steps` steps after a warm-up of a tenth of them.
pub fn run(ctx: &GpuContext, model: &Model, steps: u64, bandwidth: Option<f64>) -> Result<BenchResult> {
    gpu_fit(model, ctx)?;
    let t0 = Instant::now();
    // The engine takes the synapses: the compact shards need no index on the host.
    let mut net = build::build_for_upload(model, ctx.shard_slots())?;
    let build_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut engine = GpuEngine::new_releasing(ctx, &mut net, 0)?;
    ctx.wait()?;
    let upload_s = t1.elapsed().as_secs_f64();

    let out_degree: Vec<f64> = net
        .pops
        .iter()
        .map(|p| {
            (p.first..p.first + p.count)
                .map(|i| net.out_degree(i as usize) as f64)
                .sum::<f64>()
                / p.count.max(1) as f64
        })
        .collect();
    engine.advance((steps / 10).max(1))?;
    engine.activity()?;
    let t2 = Instant::now();
    engine.advance(steps)?;
    let spikes = engine.activity()?;
    let wall_s = t2.elapsed().as_secs_f64();
    let t3 = Instant::now();
    engine.sample()?;
    let sample_s = t3.elapsed().as_secs_f64();

    let total_spikes: f64 = spikes.iter().map(|&s| s as f64).sum();
    let events: f64 = spikes.iter().zip(&out_degree).map(|(&s, d)| s as f64 * d).sum();
    let n = net.globals.n_neurons as f64;
    let per_step_events = events / steps as f64;

    // The region sums read each slot of the rows (source 4, weight 4, chunk owner 0.5, the two
    // neurons' records from cache: 12.5 bytes) and each synapse of the compact shards (target 4,
    // weight 4; the source's record once per source).
    let compact = net.compact_shards();
    let conn_bytes: f64 = net
        .shards
        .iter()
        .zip(&compact)
        .map(|(s, &c)| {
            if c {
                8.0 * s.synapses as f64
            } else {
                12.5 * s.slots() as f64
            }
        })
        .sum();
    let profile_steps = steps.min(200) as u32;
    let (stage_timing, stages) = match engine.profile(profile_steps)? {
        Some(times) => {
            let stages = times
                .into_iter()
                .map(|(stage, t)| {
                    let (per, bytes) = match stage {
                        "neurons" => (t / profile_steps as f64, NEURON_BYTES * n),
                        "propagate" => (t / profile_steps as f64, EVENT_BYTES * per_step_events),
                        // Modulate, scale, capture and structure: their bytes depend on the rules.
                        "slow updates" => (t / profile_steps as f64, 0.0),
                        _ => (t, conn_bytes),
                    };
                    StageTime {
                        stage: stage.into(),
                        s_per_step: per,
                        bandwidth_fraction: bandwidth
                            .filter(|_| per > 0.0 && bytes > 0.0)
                            .map(|bw| bytes / per / bw),
                    }
                })
                .collect();
            ("gpu timestamps".to_string(), stages)
        }
        None => (
            "wall clock".to_string(),
            vec![StageTime {
                stage: "step (neurons + propagate)".into(),
                s_per_step: wall_s / steps as f64,
                bandwidth_fraction: bandwidth
                    .map(|bw| (NEURON_BYTES * n + EVENT_BYTES * per_step_events) / (wall_s / steps as f64) / bw),
            }],
        ),
    };
    // One structural update, phase by phase (ms per update, not per step).
    let mut stages = stages;
    if let Some(phases) = engine.profile_structure()? {
        stages.extend(phases.into_iter().map(|(phase, t)| StageTime {
            stage: format!("structure.{phase} (per update)"),
            s_per_step: t,
            bandwidth_fraction: None,
        }));
    }
    let gpu_bytes = engine.gpu_bytes();
    let synapses = net.synapses.max(1) as f64;
    // Delivery's arrays: compact shards a record a synapse, the others their slots and index.
    let synapse_bytes: f64 = net
        .shards
        .iter()
        .zip(net.compact_shards().into_iter().zip(net.delay_byte_shards()))
        .map(|(s, (compact, bytes))| {
            if compact {
                s.synapses as f64 * build::BYTES_PER_COMPACT_SYNAPSE
            } else {
                let slot = if bytes {
                    build::BYTES_PER_BYTE_DELAY_SLOT
                } else {
                    build::BYTES_PER_SLOT
                };
                s.slots() as f64 * slot + s.synapses as f64 * build::BYTES_PER_OUT_ENTRY
            }
        })
        .sum();
    let secs = wall_s.max(1e-9);
    Ok(BenchResult {
        name: model.name.clone(),
        adapter: engine.describe(),
        neurons: net.globals.n_neurons,
        synapses: net.synapses,
        // The slot arrays went to the device (`new_releasing`); the row starts stay.
        synapse_slots: net.row_start.last().copied().unwrap_or(0),
        shards: net.shards.len(),
        gpu_bytes,
        gpu_bytes_per_synapse: gpu_bytes as f64 / synapses,
        synapse_bytes_per_synapse: synapse_bytes / synapses,
        build_s,
        upload_s,
        dt_ms: model.dt_ms,
        steps,
        wall_s,
        steps_per_s: steps as f64 / secs,
        realtime_factor: model.time_ms(steps) * 1e-3 / secs,
        spikes_per_s: total_spikes / secs,
        synaptic_events_per_s: events / secs,
        neuron_updates_per_s: n * steps as f64 / secs,
        s_per_step: secs / steps as f64,
        stage_timing,
        stages,
        sample_s,
        peak_host_rss_bytes: own_peak_rss(),
    })
}

fn gpu_fit(model: &Model, ctx: &GpuContext) -> Result<()> {
    crate::sim::check_model_fits(model, ctx)
}

/// The adapter's streaming bandwidth (bytes/s).
pub fn bandwidth(ctx: &GpuContext) -> Result<f64> {
    gpu::bandwidth::measure(ctx)
}

#[cfg(test)]
mod tests {
    /// VmHWM in kB becomes bytes; a status without it, or in another unit, gives None.
    #[test]
    fn peak_rss_reads_vmhwm_in_bytes() {
        let status = "Name:\trewire\nVmPeak:\t 9000000 kB\nVmHWM:\t 4086916 kB\nVmRSS:\t  792684 kB\n";
        assert_eq!(super::peak_rss(status), Some(4_086_916 * 1024));
        assert_eq!(super::peak_rss("VmRSS:\t 1 kB\n"), None);
        assert_eq!(super::peak_rss("VmHWM:\t 1 MB\n"), None);
    }
}
