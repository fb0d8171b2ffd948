//! The GPU engine: wgpu context, buffers, and one module per kernel stage. A step records
//! `neurons` then `propagate`; many steps go into one command buffer with no host wait, and a
//! sample adds `connectivity` and one small readback.

pub mod bandwidth;
pub mod buffers;
pub mod capture;
pub mod connectivity;
pub mod context;
pub mod learn;
pub mod lesion;
pub mod modulate;
pub mod neurons;
pub mod propagate;
pub mod scale;
pub mod stage;
pub mod structure;
pub mod weights;

pub use context::{AdapterChoice, GpuContext};

use crate::build::Network;
use crate::engine::{
    Control, Engine, EngineState, GroupCount, RawSample, TaskCounts, check_state, nonfinite, state_bytes, state_values,
};
use crate::error::{Error, Result};
use crate::layout::{ERR_NONFINITE, Globals, PoissonSource, Pop, SimHeader};
use buffers::Buffers;

/// One shard's synapses as read back from the GPU (`GpuEngine::shard_synapses`).
#[derive(Clone, Debug, PartialEq)]
pub enum ShardSynapses {
    /// Rows: each slot's source, delay word (from its byte where the shard keeps delay bytes),
    /// birth step (empty without structural plasticity) and weight, in the shard's slot order,
    /// and its outgoing index up to its last entry.
    Rows {
        pre: Vec<u32>,
        delay: Vec<u16>,
        born: Vec<u32>,
        weight: Vec<f32>,
        out_start: Vec<u32>,
        out_slots: Vec<u32>,
    },
    /// The compact static layout.
    Compact(crate::build::CompactSynapses),
}

/// A stage to time on its own (`GpuEngine::run_stage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Neurons,
    Step,
    Connectivity,
}

/// Steps recorded into one command buffer at most (bounds queue latency, not correctness).
const MAX_STEPS_PER_SUBMIT: u64 = 256;

/// Bytes one staging buffer of a state readback holds at most (larger buffers come in pieces).
const STATE_CHUNK: u64 = 64 << 20;

/// A network resident on the GPU.
pub struct GpuEngine {
    device: wgpu::Device,
    /// Faults the device reported on its own (lost, out of memory), reported at readbacks.
    faults: context::Faults,
    /// The step up to which a readback last confirmed the device's work.
    confirmed: std::sync::atomic::AtomicU64,
    /// A test hook: destroy the device once this step is submitted (`REWIRE_FAULT_LOSE_DEVICE_AT_STEP`).
    lose_device_at: Option<u64>,
    queue: wgpu::Queue,
    adapter: String,
    b: Buffers,
    neurons: neurons::Neurons,
    propagate: propagate::Propagate,
    learn: Option<learn::Learn>,
    modulate: Option<stage::PerShard>,
    scale: Option<stage::PerShard>,
    capture: Option<stage::PerShard>,
    capture_every: u64,
    /// Structural plasticity and the steps between its updates (0: none).
    structure: Option<structure::Structure>,
    structure_every: u64,
    sstats_bytes: u64,
    /// Steps between scaling updates (0: none).
    scale_every: u64,
    /// Weight statistics of plastic projections: the stage and its output buffer.
    weights: Option<(stage::PerShard, wgpu::Buffer)>,
    plastic_bytes: u64,
    modulated: bool,
    /// Steps between modulated updates (0: none).
    modulate_every: u64,
    /// Scheduled rewards (step, region or u32::MAX, amount), the next one's index, and rewards
    /// raised through `reward` for the next step, per region.
    rewards: Vec<(u64, u32, f32)>,
    next_reward: usize,
    pending: Vec<f32>,
    connectivity: stage::PerShard,
    staging: wgpu::Buffer,
    n_pops: usize,
    n_regions: usize,
    raster_steps: u32,
    raster_words: u32,
    step: u64,
    timestamps: bool,
    /// Whether `conn` holds the connectivity of the synapses as they are. Stages that change
    /// synapses (plasticity, structure) clear it; samples recompute only then.
    conn_valid: bool,
    /// Whether slots may have emptied outside the structural shards since the last structural
    /// update (a lesion, a loaded state): the next update rebuilds every shard's index.
    index_stale: std::cell::Cell<bool>,
    /// Population first neurons and labels, for error messages.
    pop_first: Vec<u32>,
    labels: Vec<String>,
    /// What `control` rewrites: the globals, populations and Poisson sources as uploaded, and
    /// the sources' built means.
    globals: Globals,
    pops: Vec<Pop>,
    poisson: Vec<PoissonSource>,
    poisson_lambda: Vec<f64>,
    /// Slow updates are skipped (probe trials).
    frozen: bool,
    /// Readback of the task's counts and route words (every trial).
    task_staging: wgpu::Buffer,
    /// Where the route words lie in the task buffer (words; empty without a task).
    routes: std::ops::Range<usize>,
    /// The `represent` stage, made at its first use: its pipeline, and a bind group and dispatch
    /// size per part of the neurons.
    represent: Option<(wgpu::ComputePipeline, Vec<stage::PartDispatch>)>,
}

/// Refuses a network whose buffers exceed the adapter's limits, before anything is allocated.
pub fn check_fits(net: &Network, raster_steps: u32, ctx: &GpuContext) -> Result<()> {
    let binding = ctx.limits.max_storage_buffer_binding_size;
    let max_buffer = ctx.limits.max_buffer_size;
    let buffers = net.gpu_buffers(raster_steps);
    for (what, bytes) in &buffers {
        let available = binding.min(max_buffer);
        if *bytes > available {
            let hint = if what.contains('[') {
                " (build the network with the adapter's shard size: build_sharded(model, ctx.shard_slots()))"
            } else {
                ""
            };
            return Err(Error::TooLarge {
                adapter: context::describe(&ctx.info),
                what: format!("buffer `{what}`{hint}"),
                needed: *bytes,
                available,
            });
        }
    }
    let total: u64 = buffers.iter().map(|(_, b)| b).sum();
    if let Some(memory) = ctx.memory
        && total > memory
    {
        return Err(Error::TooLarge {
            adapter: context::describe(&ctx.info),
            what: format!("all {} buffers", buffers.len()),
            needed: total,
            available: memory,
        });
    }
    Ok(())
}

impl GpuEngine {
    /// Uploads a network; `raster_steps` steps of spike raster are recorded (0: none).
    pub fn new(ctx: &GpuContext, net: &Network, raster_steps: u32) -> Result<Self> {
        if !net.indexed() {
            return Err(Error::Usage(
                "a network built for an upload alone (build_for_upload) goes to GpuEngine::new_releasing".into(),
            ));
        }
        check_fits(net, raster_steps, ctx)?;
        Self::upload(ctx, net, None, raster_steps)
    }

    /// As `new`, for a network the caller does not keep whole on the host: its per-slot arrays
    /// are moved out (`Network::take_synapses`) and each is let go once uploaded, so the host
    /// never holds the network beside its GPU copy (host memory, on a CPU adapter).
    pub fn new_releasing(ctx: &GpuContext, net: &mut Network, raster_steps: u32) -> Result<Self> {
        check_fits(net, raster_steps, ctx)?;
        let taken = net.take_synapses();
        Self::upload(ctx, net, Some(taken), raster_steps)
    }

    fn upload(
        ctx: &GpuContext,
        net: &Network,
        taken: Option<crate::build::SynapseArrays>,
        raster_steps: u32,
    ) -> Result<Self> {
        // `check_fits` has run (before the arrays were taken, where they were).
        if ctx.limits.max_storage_buffers_per_shader_stage < neurons::STORAGE_BUFFERS {
            return Err(Error::Gpu(format!(
                "the neuron stage needs {} storage buffers per shader stage; {} allows {}",
                neurons::STORAGE_BUFFERS,
                context::describe(&ctx.info),
                ctx.limits.max_storage_buffers_per_shader_stage
            )));
        }
        // learn.pre binds twelve storage buffers.
        if net.globals.plastic != 0 && ctx.limits.max_storage_buffers_per_shader_stage < 12 {
            return Err(Error::Gpu(format!(
                "plasticity needs 12 storage buffers per shader stage; {} allows {}",
                context::describe(&ctx.info),
                ctx.limits.max_storage_buffers_per_shader_stage
            )));
        }
        let device = ctx.device.clone();
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let b = Buffers::new(&device, &ctx.queue, net, taken, raster_steps)?;
        let neurons = neurons::Neurons::new(&device, &b, net, raster_steps);
        let propagate = propagate::Propagate::new(&device, &b);
        let learn = b.plastic.then(|| learn::Learn::new(&device, &b));
        let modulate = b.modulated.then(|| modulate::new(&device, &b));
        let scale = (net.globals.scale_every > 0).then(|| scale::new(&device, &b));
        let capture = (net.globals.capture_every > 0).then(|| capture::new(&device, &b));
        if b.structural && ctx.limits.max_storage_buffers_per_shader_stage < structure::STORAGE_BUFFERS {
            return Err(Error::Gpu(format!(
                "structural plasticity needs {} storage buffers per shader stage; {} allows {}",
                structure::STORAGE_BUFFERS,
                context::describe(&ctx.info),
                ctx.limits.max_storage_buffers_per_shader_stage
            )));
        }
        let has_elig = net.keeps_elig() || net.keeps_late();
        // REWIRE_INDEX_SORT=workgroup|thread overrides the choice by adapter type.
        let workgroup_sort = match std::env::var("REWIRE_INDEX_SORT").as_deref() {
            Ok("workgroup") => true,
            Ok("thread") => false,
            _ => ctx.info.device_type != wgpu::DeviceType::Cpu,
        };
        let structure = b
            .structural
            .then(|| structure::Structure::new(&device, &b, has_elig, workgroup_sort));
        let sstats_bytes = 4 * net.sstats.len() as u64;
        let np = net.pops.len();
        let plastic_bytes =
            4 * ((net.rules.len() - np * np) / crate::layout::RULE_WORDS * crate::layout::PLASTIC_WORDS) as u64;
        let weights = b.plastic.then(|| {
            let stats = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("weight statistics"),
                size: plastic_bytes.max(16),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            (weights::new(&device, &b, &stats), stats)
        });
        let connectivity = connectivity::new(&device, &b);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu(format!("setting up the simulation failed: {e}")));
        }
        let n_pops = net.pops.len();
        let n_regions = net.globals.n_regions as usize;
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("staging"),
            size: (4 * n_pops + 12 * n_regions * n_regions + std::mem::size_of::<SimHeader>()) as u64
                + plastic_bytes
                + 4 * net.globals.lfp_steps as u64 * n_pops as u64
                + 8 * n_regions as u64
                + sstats_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ok(GpuEngine {
            device,
            queue: ctx.queue.clone(),
            adapter: context::describe(&ctx.info),
            b,
            neurons,
            propagate,
            learn,
            modulate,
            scale,
            scale_every: net.globals.scale_every as u64,
            capture,
            capture_every: net.globals.capture_every as u64,
            structure,
            structure_every: net.structure_every,
            sstats_bytes,
            weights,
            plastic_bytes,
            modulated: net.globals.modulated != 0,
            modulate_every: net.modulate_every,
            rewards: net.rewards.clone(),
            next_reward: 0,
            pending: vec![0.0; net.globals.n_regions as usize],
            connectivity,
            staging,
            n_pops,
            n_regions,
            raster_steps,
            raster_words: net.globals.raster_words,
            step: 0,
            timestamps: ctx.timestamps,
            faults: ctx.faults.clone(),
            confirmed: std::sync::atomic::AtomicU64::new(0),
            lose_device_at: std::env::var("REWIRE_FAULT_LOSE_DEVICE_AT_STEP")
                .ok()
                .and_then(|v| v.parse().ok()),
            conn_valid: false,
            index_stale: std::cell::Cell::new(false),
            pop_first: net.pops.iter().map(|p| p.first).collect(),
            labels: net.labels.clone(),
            globals: Globals {
                raster_steps,
                ..net.globals
            },
            pops: net.pops.clone(),
            poisson: net.poisson.clone(),
            poisson_lambda: net.poisson_lambda.clone(),
            frozen: false,
            task_staging: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("task staging"),
                size: 4 * (crate::layout::TASK_WORDS + route_words(net).len()) as u64,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            represent: None,
            routes: route_words(net),
        })
    }

    /// Waits for the GPU and returns the spikes per population since the last sample or
    /// activity read (clearing them), without the connectivity pass.
    pub fn activity(&mut self) -> Result<Vec<u32>> {
        let bytes = (4 * self.n_pops) as u64;
        let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("activity"),
        });
        enc.copy_buffer_to_buffer(&self.b.counters, 0, &self.staging, 0, bytes);
        enc.clear_buffer(&self.b.counters, 0, Some(bytes));
        self.queue.submit([enc.finish()]);
        Ok(bytemuck::cast_slice(&self.read(&self.staging, bytes)?).to_vec())
    }

    /// Runs `steps` steps (at most 1000) and one connectivity pass, each stage in its own compute
    /// pass, and returns the GPU time of each stage summed over the steps, from timestamp queries:
    /// neurons, propagate (with learning), the slow updates due in those steps (modulate, scale,
    /// capture, structure; only when the network has one) and connectivity. None when the adapter
    /// has no timestamps. The steps advance the simulation as usual.
    pub fn profile(&mut self, steps: u32) -> Result<Option<Vec<(&'static str, f64)>>> {
        if !self.timestamps {
            return Ok(None);
        }
        let steps = steps.clamp(1, 1000);
        // Passes: neurons, propagate and the slow updates of each step, then connectivity.
        let t = Timestamps::new(&self.device, 3 * steps + 1);
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("profile") });
        for s in 0..steps {
            {
                let mut p = t.pass(&mut enc, "neurons", 3 * s);
                self.neurons.record(&mut p);
            }
            {
                let mut p = t.pass(&mut enc, "propagate", 3 * s + 1);
                self.record_spikes(&mut p);
            }
            {
                let mut p = t.pass(&mut enc, "slow updates", 3 * s + 2);
                self.record_slow(&mut p, self.step + s as u64);
            }
        }
        enc.clear_buffer(&self.b.conn, 0, None);
        {
            let mut p = t.pass(&mut enc, "connectivity", 3 * steps);
            self.connectivity.record(&mut p);
        }
        self.conn_valid = true;
        t.resolve(&mut enc);
        self.queue.submit([enc.finish()]);
        self.step += steps as u64;
        let spans = t.seconds(self)?;
        let sum = |first: usize| (0..steps as usize).map(|s| spans[3 * s + first]).sum::<f64>();
        let mut times = vec![("neurons", sum(0)), ("propagate", sum(1))];
        let slow =
            self.modulate.is_some() || self.scale.is_some() || self.capture.is_some() || self.structure.is_some();
        if slow && !self.frozen {
            times.push(("slow updates", sum(2)));
        }
        times.push(("connectivity", spans[3 * steps as usize]));
        Ok(Some(times))
    }

    /// Runs one structural update (advancing nothing) with each phase in its own compute pass and
    /// returns each phase's GPU time from timestamp queries. None without structural plasticity
    /// or timestamps. The update changes the network as a scheduled one would.
    pub fn profile_structure(&mut self) -> Result<Option<Vec<(&'static str, f64)>>> {
        let Some(st) = &self.structure else { return Ok(None) };
        if !self.timestamps {
            return Ok(None);
        }
        let phases = st.phases(self.index_stale.replace(false));
        let t = Timestamps::new(&self.device, phases.len() as u32);
        let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("profile structure"),
        });
        for (i, (name, phase)) in phases.iter().enumerate() {
            let mut pass = t.pass(&mut enc, name, i as u32);
            phase(&mut pass);
        }
        t.resolve(&mut enc);
        self.queue.submit([enc.finish()]);
        self.conn_valid = false;
        let spans = t.seconds(self)?;
        Ok(Some(
            phases.iter().zip(spans).map(|((name, _), t)| (*name, t)).collect(),
        ))
    }

    /// Records `reps` runs of one stage in one submit and waits for them (for per-stage benchmarks
    /// on any adapter). `Neurons` closes each step's spike list without delivering it; `Step` is a
    /// whole step; `Connectivity` is the sample-time reduction without its readback.
    pub fn run_stage(&mut self, stage: Stage, reps: u32) -> Result<()> {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("stage") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("stage"),
                timestamp_writes: None,
            });
            for i in 0..reps as u64 {
                match stage {
                    Stage::Neurons => {
                        self.neurons.record(&mut pass);
                        self.propagate.record_prepare(&mut pass);
                    }
                    Stage::Step => self.record_step(&mut pass, self.step + i),
                    Stage::Connectivity => self.connectivity.record(&mut pass),
                }
            }
        }
        self.queue.submit([enc.finish()]);
        if stage == Stage::Connectivity {
            // Repeated passes accumulate: the next sample recomputes.
            self.conn_valid = false;
        } else {
            self.step += reps as u64;
            if self.synapses_change() {
                self.conn_valid = false;
            }
        }
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| Error::Gpu(format!("device poll failed: {e}")))
    }

    /// Records step `step`: neurons, then the spikes' learning and delivery, then the modulated
    /// weight update when one is due at the end of this step.
    fn record_step(&self, pass: &mut wgpu::ComputePass, step: u64) {
        self.neurons.record(pass);
        self.record_spikes(pass);
        self.record_slow(pass, step);
    }

    /// Records the slow updates due at the end of step `step`: modulated weights, scaling,
    /// capture and structure, in that order.
    fn record_slow(&self, pass: &mut wgpu::ComputePass, step: u64) {
        if self.frozen {
            return;
        }
        if let Some(m) = &self.modulate
            && (step + 1).is_multiple_of(self.modulate_every)
        {
            m.record(pass);
        }
        if let Some(s) = &self.scale
            && (step + 1).is_multiple_of(self.scale_every)
        {
            s.record(pass);
        }
        if let Some(c) = &self.capture
            && (step + 1).is_multiple_of(self.capture_every)
        {
            c.record(pass);
        }
        if let Some(st) = &self.structure
            && (step + 1).is_multiple_of(self.structure_every)
        {
            st.record(pass, self.index_stale.replace(false));
        }
    }

    /// Whether stepping changes synapses (so the region matrix must be recomputed).
    fn synapses_change(&self) -> bool {
        self.learn.is_some() || self.scale.is_some() || self.structure.is_some()
    }

    /// Writes the rewards due at the current step (scheduled and raised) into the GPU's pending
    /// slots, which the step's `prepare` adds to dopamine.
    fn deliver_rewards(&mut self) {
        while let Some(&(at, region, amount)) = self.rewards.get(self.next_reward) {
            if at > self.step {
                break;
            }
            if at == self.step {
                if region == u32::MAX {
                    self.pending.iter_mut().for_each(|p| *p += amount);
                } else {
                    self.pending[region as usize] += amount;
                }
            }
            self.next_reward += 1;
        }
        for (r, p) in self.pending.iter_mut().enumerate() {
            if *p != 0.0 {
                self.queue
                    .write_buffer(&self.b.modulators, 8 * r as u64 + 4, bytemuck::bytes_of(&*p));
                *p = 0.0;
            }
        }
    }

    /// Closes the step's spike list, potentiates at postsynaptic spikes, delivers, depresses at
    /// presynaptic spikes (the last two only with plasticity).
    fn record_spikes(&self, pass: &mut wgpu::ComputePass) {
        self.propagate.record_prepare(pass);
        if let Some(l) = &self.learn {
            l.record_post(pass, &self.b.dispatch);
        }
        self.propagate.record_deliver(pass, &self.b.dispatch);
        if let Some(l) = &self.learn {
            l.record_pre(pass, &self.b.dispatch);
        }
    }

    /// Refuses a readback of slots where a shard is in the compact static layout, which keeps none.
    fn not_compact(&self, what: &str) -> Result<()> {
        if self.b.shards.iter().any(|s| s.compact) {
            return Err(Error::Usage(format!(
                "`{what}` reads slots, and shards of this network are in the compact static layout, \
                 which keeps their synapses by source: read `shard_synapses` instead"
            )));
        }
        Ok(())
    }

    /// Reads back shard `k`'s synapses as the GPU keeps them: its rows (slots and outgoing
    /// index), or its synapses in the compact static layout as `Network::compact_synapses`
    /// gives them (for tests and checks, not runs).
    pub fn shard_synapses(&self, k: usize) -> Result<ShardSynapses> {
        let s = &self.b.shards[k];
        let n = self.b.n_neurons as u64;
        let out_start: Vec<u32> = self.read_vec(&s.out_start, 4 * (n + 1))?;
        if s.compact {
            let k = s.synapses as u64;
            let (post, weight, delay) = if k == 0 {
                (Vec::new(), Vec::new(), Vec::new())
            } else {
                (
                    self.read_vec(&s.syn_owner, 4 * k)?,
                    self.read_vec(&s.syn_weight, 4 * k)?,
                    self.read_vec(&s.syn_delay, 4 * k.div_ceil(4))?,
                )
            };
            return Ok(ShardSynapses::Compact(crate::build::CompactSynapses {
                out_start,
                post,
                weight,
                delay,
            }));
        }
        let slots = s.slots as u64;
        let used = out_start[n as usize] as u64;
        let born = if s.structural {
            self.read_vec(&s.syn_born, 4 * slots)?
        } else if self.b.structural {
            // Only a growing shard's synapses form: the others' all date from the build.
            vec![0; slots as usize]
        } else {
            Vec::new()
        };
        Ok(ShardSynapses::Rows {
            pre: self.read_vec(&s.syn_pre, 4 * slots)?,
            delay: if s.delay_bytes {
                let words: Vec<u32> = self.read_vec(&s.syn_delay, 4 * slots.div_ceil(4))?;
                (0..slots as usize)
                    .map(|k| ((words[k / 4] >> (8 * (k % 4))) & crate::layout::ROW_DELAY_BYTE_MASK) as u16)
                    .collect()
            } else {
                self.read_vec(&s.syn_delay, 2 * slots)?
            },
            born,
            weight: self.read_vec(&s.syn_weight, 4 * slots)?,
            out_slots: if used > 0 {
                self.read_vec(&s.out_slots, 4 * used)?
            } else {
                Vec::new()
            },
            out_start,
        })
    }

    /// Reads back each shard's synapses in the compact static layout, as
    /// `Network::compact_synapses` gives them (for tests and checks, not runs).
    pub fn compact_synapses(&self) -> Result<Vec<crate::build::CompactSynapses>> {
        if !self.b.compact {
            return Err(Error::Usage("this network is not in the compact static layout".into()));
        }
        (0..self.b.shards.len())
            .map(|k| match self.shard_synapses(k)? {
                ShardSynapses::Compact(c) => Ok(c),
                ShardSynapses::Rows { .. } => unreachable!("every shard is compact"),
            })
            .collect()
    }

    /// Every row shard's synapses, in shard order (after `not_compact`).
    fn all_rows(&self, what: &str) -> Result<Vec<ShardSynapses>> {
        self.not_compact(what)?;
        (0..self.b.shards.len()).map(|k| self.shard_synapses(k)).collect()
    }

    /// Reads back every slot's weight, in global slot order (for tests and checks, not runs).
    pub fn weights(&self) -> Result<Vec<f32>> {
        let mut all = Vec::new();
        for s in self.all_rows("weights")? {
            if let ShardSynapses::Rows { weight, .. } = s {
                all.extend(weight);
            }
        }
        Ok(all)
    }

    /// Reads back every slot's source, 16-bit delay word and birth step, in global slot order
    /// (for tests and checks, not runs). Birth steps are empty without structural plasticity.
    pub fn slots(&self) -> Result<(Vec<u32>, Vec<u16>, Vec<u32>)> {
        let (mut pre, mut delay, mut born) = (Vec::new(), Vec::new(), Vec::new());
        for s in self.all_rows("slots")? {
            if let ShardSynapses::Rows {
                pre: p,
                delay: d,
                born: b,
                ..
            } = s
            {
                pre.extend(p);
                delay.extend(d);
                born.extend(b);
            }
        }
        Ok((pre, delay, born))
    }

    /// Reads back each shard's outgoing index: (out_start, out_slots up to its last entry).
    pub fn outgoing(&self) -> Result<Vec<(Vec<u32>, Vec<u32>)>> {
        let mut all = Vec::new();
        for s in self.all_rows("outgoing")? {
            if let ShardSynapses::Rows {
                out_start, out_slots, ..
            } = s
            {
                all.push((out_start, out_slots));
            }
        }
        Ok(all)
    }

    /// Total bytes of GPU buffers.
    pub fn gpu_bytes(&self) -> u64 {
        self.b.bytes
    }

    /// Each storage buffer of the simulation by name (`neurons`, `shard0.syn_delay`, ...) with
    /// its size in bytes.
    pub fn buffer_sizes(&self) -> Vec<(String, u64)> {
        self.state_buffers()
            .into_iter()
            .map(|(name, b)| (name, b.size()))
            .collect()
    }

    /// Reads back every neuron's state (a full copy: for tests and debugging, not for runs).
    pub fn neuron_state(&self) -> Result<Vec<crate::layout::NeuronState>> {
        self.read_buffer(&self.b.neurons, 16 * self.b.n_neurons as u64)
            .map(|d| bytemuck::cast_slice(&d).to_vec())
    }

    /// Reads back the delay ring, its parts put together as one `channels x ring_len x n_neurons`
    /// array (for tests and debugging).
    pub fn ring(&self) -> Result<Vec<i32>> {
        let n = self.b.n_neurons as usize;
        let rows = self.b.ring_channels as usize * self.globals.ring_len as usize;
        let mut all = vec![0i32; rows * n];
        for part in &self.b.ring {
            let data = self.read_buffer(&part.ring, part.ring.size())?;
            let words: &[i32] = bytemuck::cast_slice(&data);
            let (first, count) = (part.first as usize, part.neurons as usize);
            for r in 0..rows {
                all[r * n + first..r * n + first + count].copy_from_slice(&words[r * count..(r + 1) * count]);
            }
        }
        Ok(all)
    }

    /// Writes the tables `control` sets (globals, populations, Poisson sources) to their buffers.
    fn upload_control(&self) {
        self.queue
            .write_buffer(&self.b.globals, 0, bytemuck::bytes_of(&self.globals));
        self.queue
            .write_buffer(&self.b.pops, 0, bytemuck::cast_slice(&self.pops));
        if !self.poisson.is_empty() {
            self.queue
                .write_buffer(&self.b.poisson, 0, bytemuck::cast_slice(&self.poisson));
        }
    }

    /// The host-side part of a state, in its fixed order: the reward schedule's position, rewards
    /// raised for the next step, whether slow updates are frozen, and what `control` rewrites (the
    /// globals, populations and Poisson sources as uploaded: no stage writes them, and the
    /// globals' uniform buffer cannot be read back) with the sources' built means.
    fn host_state(&self) -> Vec<(String, Vec<u8>)> {
        [
            ("next_reward", state_bytes(&[self.next_reward as u64])),
            ("pending", state_bytes(&self.pending)),
            ("frozen", state_bytes(&[self.frozen as u32])),
            ("globals", state_bytes(&[self.globals])),
            ("pops", state_bytes(&self.pops)),
            ("poisson", state_bytes(&self.poisson)),
            ("poisson_lambda", state_bytes(&self.poisson_lambda)),
        ]
        .into_iter()
        .map(|(name, bytes)| (name.to_string(), bytes))
        .collect()
    }

    /// Every storage buffer of the simulation, in the state's fixed order after the host part:
    /// those a run changes and the constants (which catch a state from another model), whole.
    fn state_buffers(&self) -> Vec<(String, &wgpu::Buffer)> {
        let b = &self.b;
        // The parameters' and the ring's parts where there are several (`params`, `params[1]`,
        // ..., `ring`, `ring[1]`, ...), in the place of the one.
        let parts = |name: &'static str, of: fn(&buffers::RingPart) -> &wgpu::Buffer| {
            b.ring
                .iter()
                .enumerate()
                .map(move |(k, part)| (crate::build::part_name(name, k), of(part)))
        };
        let mut all: Vec<(String, &wgpu::Buffer)> = vec![("neurons".to_string(), &b.neurons)];
        all.extend(parts("params", |p| &p.params));
        all.push(("neuron_ext".to_string(), &b.neuron_ext));
        all.extend(parts("params_ext", |p| &p.params_ext));
        all.extend(parts("ring", |p| &p.ring));
        all.extend(
            [
                ("sim", &b.sim),
                ("counters", &b.counters),
                ("dispatch", &b.dispatch),
                ("conn", &b.conn),
                ("traces", &b.traces),
                ("rules", &b.rules),
                ("modulators", &b.modulators),
                ("grow", &b.grow),
                ("elem_axon", &b.elem_axon),
                ("elem_spine", &b.elem_spine),
                ("elem_spine_in", &b.elem_spine_in),
                ("boutons", &b.boutons),
                ("pool", &b.pool),
                ("demand", &b.demand),
                ("cursor", &b.cursor),
                ("blocks", &b.blocks),
                ("positions", &b.positions),
                ("structure", &b.structure),
                ("sstats", &b.sstats),
                ("status", &b.status),
                ("task", &b.task),
            ]
            .into_iter()
            .map(|(name, buffer)| (name.to_string(), buffer)),
        );
        all.extend(parts("rep", |p| &p.rep));
        for (i, s) in b.shards.iter().enumerate() {
            for (name, buffer) in [
                ("syn_pre", &s.syn_pre),
                ("syn_weight", &s.syn_weight),
                ("syn_delay", &s.syn_delay),
                ("syn_owner", &s.syn_owner),
                ("out_start", &s.out_start),
                ("out_slots", &s.out_slots),
                ("rows", &s.rows),
                ("syn_elig", &s.syn_elig),
                ("syn_late", &s.syn_late),
                ("syn_born", &s.syn_born),
            ] {
                all.push((format!("shard{i}.{name}"), buffer));
            }
        }
        all
    }

    /// Reads back whole buffers, packing them into staging buffers of at most STATE_CHUNK bytes
    /// (a larger buffer in pieces), one submit and wait per staging buffer.
    fn read_whole(&self, buffers: &[&wgpu::Buffer]) -> Result<Vec<Vec<u8>>> {
        // (buffer, offset, bytes); buffer sizes are multiples of 4, as copies need.
        let mut pieces = Vec::new();
        for (i, b) in buffers.iter().enumerate() {
            let mut at = 0;
            while at < b.size() {
                let len = (b.size() - at).min(STATE_CHUNK);
                pieces.push((i, at, len));
                at += len;
            }
        }
        let mut out: Vec<Vec<u8>> = buffers.iter().map(|b| Vec::with_capacity(b.size() as usize)).collect();
        let mut first = 0;
        while first < pieces.len() {
            let (mut end, mut total) = (first, 0);
            while end < pieces.len() && total + pieces[end].2 <= STATE_CHUNK {
                total += pieces[end].2;
                end += 1;
            }
            let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("state staging"),
                size: total,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("save state"),
            });
            let mut at = 0;
            for &(i, offset, len) in &pieces[first..end] {
                enc.copy_buffer_to_buffer(buffers[i], offset, &staging, at, len);
                at += len;
            }
            self.queue.submit([enc.finish()]);
            let data = self.read(&staging, total)?;
            let mut at = 0;
            for &(i, _, len) in &pieces[first..end] {
                out[i].extend_from_slice(&data[at as usize..(at + len) as usize]);
                at += len;
            }
            first = end;
        }
        Ok(out)
    }

    /// The first `size` bytes of `src` as elements of `T` (copied: the bytes read need not be
    /// aligned for `T`).
    fn read_vec<T: bytemuck::Pod>(&self, src: &wgpu::Buffer, size: u64) -> Result<Vec<T>> {
        Ok(bytemuck::pod_collect_to_vec(&self.read_buffer(src, size)?))
    }

    fn read_buffer(&self, src: &wgpu::Buffer, size: u64) -> Result<Vec<u8>> {
        self.read_buffer_at(src, 0, size)
    }

    fn read_buffer_at(&self, src: &wgpu::Buffer, offset: u64, size: u64) -> Result<Vec<u8>> {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("debug staging"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("readback"),
        });
        enc.copy_buffer_to_buffer(src, offset, &staging, 0, size);
        self.queue.submit([enc.finish()]);
        self.read(&staging, size)
    }

    fn read(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>> {
        let slice = buffer.slice(..size);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        let data = (|| {
            self.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| format!("device poll failed: {e}"))?;
            rx.recv()
                .map_err(|_| "readback was dropped".to_string())?
                .map_err(|e| format!("readback failed: {e}"))?;
            let data = slice
                .get_mapped_range()
                .map_err(|e| format!("readback failed: {e}"))?
                .to_vec();
            buffer.unmap();
            Ok::<_, String>(data)
        })();
        // A fault the device reported on its own explains a failed readback, and voids one that
        // seemed to succeed.
        use std::sync::atomic::Ordering;
        match (data, self.faults.first()) {
            (Ok(d), None) => {
                self.confirmed.store(self.step, Ordering::Relaxed);
                Ok(d)
            }
            (r, fault) => {
                let from = self.confirmed.load(Ordering::Relaxed);
                Err(Error::Gpu(format!(
                    "{} while it ran steps {from} to {} (all stages of the steps submitted since the last \
                     confirmed readback)",
                    fault.unwrap_or_else(|| r.err().unwrap_or_default()),
                    self.step
                )))
            }
        }
    }
}

impl Engine for GpuEngine {
    fn save_state(&mut self) -> Result<EngineState> {
        let mut arrays = self.host_state();
        let (names, buffers): (Vec<String>, Vec<&wgpu::Buffer>) = self.state_buffers().into_iter().unzip();
        let mut data = self.read_whole(&buffers)?;
        let sim = names.iter().position(|n| n == "sim").expect("the state holds `sim`");
        canonical_spikes(&mut data[sim]);
        arrays.extend(names.into_iter().zip(data));
        Ok(EngineState {
            step: self.step,
            arrays,
        })
    }

    fn load_state(&mut self, state: &EngineState) -> Result<()> {
        let host = self.host_state();
        let n_host = host.len();
        {
            let buffers = self.state_buffers();
            let sizes: Vec<(&str, usize)> = host
                .iter()
                .map(|(name, bytes)| (name.as_str(), bytes.len()))
                .chain(buffers.iter().map(|(name, b)| (name.as_str(), b.size() as usize)))
                .collect();
            check_state(&self.describe(), &sizes, state)?;
        }
        let a = &state.arrays;
        self.next_reward = state_values::<u64>(&a[0].1)[0] as usize;
        self.pending = state_values(&a[1].1);
        self.frozen = state_values::<u32>(&a[2].1)[0] != 0;
        self.globals = state_values(&a[3].1)[0];
        self.pops = state_values(&a[4].1);
        self.poisson = state_values(&a[5].1);
        self.poisson_lambda = state_values(&a[6].1);
        self.upload_control();
        for ((_, buffer), (_, bytes)) in self.state_buffers().iter().zip(&a[n_host..]) {
            self.queue.write_buffer(buffer, 0, bytes);
        }
        self.queue.submit([]);
        self.step = state.step;
        self.conn_valid = false;
        // The state may come from after a lesion whose emptied slots the index still lists.
        self.index_stale.set(true);
        Ok(())
    }

    fn advance(&mut self, steps: u64) -> Result<()> {
        let mut left = steps;
        while left > 0 {
            self.deliver_rewards();
            // A batch ends where the next reward is due, so that it arrives at its step.
            let until_reward = self
                .rewards
                .get(self.next_reward)
                .map_or(u64::MAX, |r| r.0.saturating_sub(self.step).max(1));
            let batch = left.min(MAX_STEPS_PER_SUBMIT).min(until_reward);
            let mut enc = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("steps") });
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("steps"),
                    timestamp_writes: None,
                });
                for i in 0..batch {
                    self.record_step(&mut pass, self.step + i);
                }
            }
            self.queue.submit([enc.finish()]);
            left -= batch;
            self.step += batch;
            if self.lose_device_at.is_some_and(|at| self.step >= at) {
                log::warn!(
                    "REWIRE_FAULT_LOSE_DEVICE_AT_STEP: destroying the device after step {}",
                    self.step
                );
                self.lose_device_at = None;
                self.device.destroy();
            }
            if self.synapses_change() {
                self.conn_valid = false;
            }
        }
        Ok(())
    }

    fn sample(&mut self) -> Result<RawSample> {
        let conn_bytes = (12 * self.n_regions * self.n_regions) as u64;
        let pop_bytes = (4 * self.n_pops) as u64;
        let header_bytes = std::mem::size_of::<SimHeader>() as u64;
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("sample") });
        if !self.conn_valid {
            enc.clear_buffer(&self.b.conn, 0, None);
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("connectivity"),
                timestamp_writes: None,
            });
            self.connectivity.record(&mut pass);
            drop(pass);
            self.conn_valid = true;
        }
        let mut end = pop_bytes + conn_bytes + header_bytes;
        if let Some((stage, stats)) = &self.weights {
            enc.clear_buffer(stats, 0, None);
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("weights"),
                timestamp_writes: None,
            });
            stage.record(&mut pass);
            drop(pass);
            enc.copy_buffer_to_buffer(stats, 0, &self.staging, end, self.plastic_bytes);
            end += self.plastic_bytes;
        }
        let dopamine_at = end;
        if self.modulated {
            let bytes = 8 * self.n_regions as u64;
            enc.copy_buffer_to_buffer(&self.b.modulators, 0, &self.staging, end, bytes);
            end += bytes;
        }
        let lfp_at = end;
        let lfp_bytes = 4 * self.globals.lfp_steps as u64 * self.n_pops as u64;
        if lfp_bytes > 0 {
            let from = 4 * (self.n_pops as u64 + self.raster_steps as u64 * self.raster_words as u64);
            enc.copy_buffer_to_buffer(&self.b.counters, from, &self.staging, end, lfp_bytes);
            enc.clear_buffer(&self.b.counters, from, Some(lfp_bytes));
            end += lfp_bytes;
        }
        let sstats_at = end;
        if let Some(st) = &self.structure {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("census"),
                timestamp_writes: None,
            });
            st.record_census(&mut pass);
            drop(pass);
            enc.copy_buffer_to_buffer(&self.b.sstats, 0, &self.staging, end, self.sstats_bytes);
            end += self.sstats_bytes;
            // Events count from one sample to the next.
            let region_bytes = 4 * crate::layout::REGION_STRUCT_WORDS as u64;
            for r in 0..self.n_regions as u64 {
                enc.clear_buffer(&self.b.sstats, r * region_bytes, Some(16));
            }
            let bins_at = region_bytes * self.n_regions as u64;
            enc.clear_buffer(&self.b.sstats, bins_at, Some(self.sstats_bytes - bins_at));
        }
        enc.copy_buffer_to_buffer(&self.b.counters, 0, &self.staging, 0, pop_bytes);
        enc.copy_buffer_to_buffer(&self.b.conn, 0, &self.staging, pop_bytes, conn_bytes);
        enc.copy_buffer_to_buffer(&self.b.sim, 0, &self.staging, pop_bytes + conn_bytes, header_bytes);
        enc.clear_buffer(&self.b.counters, 0, Some(pop_bytes));
        self.queue.submit([enc.finish()]);
        let data = self.read(&self.staging, end)?;
        let words: &[u32] = bytemuck::cast_slice(&data);
        let h = (pop_bytes + conn_bytes) as usize;
        let header: SimHeader = *bytemuck::from_bytes(&data[h..h + header_bytes as usize]);
        if header.err_flags & ERR_NONFINITE != 0 {
            return Err(nonfinite(
                header.err_neuron,
                header.err_step,
                &self.pop_first,
                &self.labels,
            ));
        }
        let conn = &words[self.n_pops..self.n_pops + 3 * self.n_regions * self.n_regions];
        let at = |bytes: u64| (bytes / 4) as usize;
        let plastic = words[at(pop_bytes + conn_bytes + header_bytes)..at(dopamine_at)].to_vec();
        let dopamine = words[at(dopamine_at)..at(lfp_at)].chunks(2).map(|m| m[0]).collect();
        let pop_steps = words[at(lfp_at)..at(sstats_at)].to_vec();
        if lfp_bytes > 0 {
            // The next interval's record counts from here.
            self.globals.lfp_from = self.step as u32;
            self.queue
                .write_buffer(&self.b.globals, 0, bytemuck::bytes_of(&self.globals));
        }
        let structure = words[at(sstats_at)..at(end)].to_vec();
        Ok(RawSample {
            plastic,
            dopamine,
            structure,
            step: self.step,
            pop_spikes: words[..self.n_pops].to_vec(),
            pop_steps,
            conn_count: conn.chunks(3).map(|c| c[0]).collect(),
            conn_weight: conn
                .chunks(3)
                .map(|c| ((c[2] as u64) << 32 | c[1] as u64) as i64)
                .collect(),
        })
    }

    fn raster(&mut self) -> Result<Vec<u32>> {
        let words = self.raster_steps as u64 * self.raster_words as u64;
        if words == 0 {
            return Ok(Vec::new());
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("raster staging"),
            size: 4 * words,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("raster") });
        enc.copy_buffer_to_buffer(&self.b.counters, 4 * self.n_pops as u64, &staging, 0, 4 * words);
        self.queue.submit([enc.finish()]);
        Ok(bytemuck::cast_slice(&self.read(&staging, 4 * words)?).to_vec())
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn reward(&mut self, region: Option<u32>, amount: f32) {
        match region {
            None => self.pending.iter_mut().for_each(|p| *p += amount),
            Some(r) => self.pending[r as usize] += amount,
        }
    }

    fn describe(&self) -> String {
        self.adapter.clone()
    }

    fn control(&mut self, c: &Control) {
        c.apply(
            &mut self.globals,
            &mut self.pops,
            &mut self.poisson,
            &self.poisson_lambda,
        );
        self.frozen = c.frozen;
        self.upload_control();
    }

    fn lesion(&mut self, status: &[[u32; 4]], cut: &[u32]) -> Result<()> {
        use wgpu::util::DeviceExt;
        assert_eq!(status.len(), self.b.n_neurons as usize, "one status per neuron");
        assert_eq!(
            cut.len(),
            self.n_regions * self.n_regions,
            "one cut word per region pair"
        );
        self.queue.write_buffer(&self.b.status, 0, bytemuck::cast_slice(status));
        let cut = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("cut"),
            contents: bytemuck::cast_slice(cut),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let stage = lesion::new(&self.device, &self.b, &cut);
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("lesion") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("lesion"),
                timestamp_writes: None,
            });
            stage.record(&mut pass);
        }
        self.queue.submit([enc.finish()]);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu(format!("applying the lesion failed: {e}")));
        }
        self.conn_valid = false;
        self.index_stale.set(true);
        Ok(())
    }

    fn set_status(&mut self, status: &[[u32; 4]]) {
        assert_eq!(status.len(), self.b.n_neurons as usize, "one status per neuron");
        self.queue.write_buffer(&self.b.status, 0, bytemuck::cast_slice(status));
    }

    fn task_drive(&mut self, channels: &[f32; 16], guide: &[f32; 16], counting: bool) {
        let mut words = [0u32; 33];
        for i in 0..16 {
            words[crate::layout::T_DRIVE + i] = channels[i].to_bits();
            words[crate::layout::T_GUIDE + i] = guide[i].to_bits();
        }
        words[crate::layout::T_COUNTING] = counting as u32;
        self.queue.write_buffer(&self.b.task, 0, bytemuck::cast_slice(&words));
    }

    fn record_cue(&mut self, cue: Option<u32>) {
        let word = cue.map_or(0, |c| c + 1);
        self.queue
            .write_buffer(&self.b.task, 4 * crate::layout::T_CUE as u64, bytemuck::bytes_of(&word));
    }

    fn record_routes(&mut self, group: Option<u32>) {
        let word = group.map_or(0, |c| c + 1);
        self.queue.write_buffer(
            &self.b.task,
            4 * crate::layout::T_ROUTE as u64,
            bytemuck::bytes_of(&word),
        );
    }

    fn representation(&mut self, cues: u32, min_spikes: u32) -> Result<Vec<u32>> {
        use crate::layout::{T_CUES, TASK_WORDS};
        let at = 4 * TASK_WORDS as u64;
        let bytes = 4 * self.n_regions as u64;
        if self.b.task.size() < at + bytes {
            return Ok(vec![0; self.n_regions]);
        }
        self.queue.write_buffer(
            &self.b.task,
            4 * T_CUES as u64,
            bytemuck::cast_slice(&[cues, min_spikes]),
        );
        let (device, b) = (&self.device, &self.b);
        // One bind group and dispatch per part of the neurons, each over its cue counters.
        let (pipeline, parts) = self.represent.get_or_insert_with(|| {
            let pipeline = stage::pipeline(device, "represent", "main");
            let parts = stage::per_part(device, "represent", &pipeline, &b.ring, |part| {
                vec![
                    (1, &b.pops),
                    (2, &b.neurons),
                    (3, &b.task),
                    (4, &part.rep),
                    (5, &part.info),
                ]
            });
            (pipeline, parts)
        });
        let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("represent"),
        });
        enc.clear_buffer(&self.b.task, at, Some(bytes));
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("represent"),
                timestamp_writes: None,
            });
            pass.set_pipeline(pipeline);
            stage::dispatch_parts(&mut pass, parts);
        }
        self.queue.submit([enc.finish()]);
        let data = self.read_buffer_at(&self.b.task, at, bytes)?;
        Ok(bytemuck::cast_slice(&data).to_vec())
    }

    fn task_counts(&mut self) -> Result<TaskCounts> {
        use crate::layout::{EMPTY, T_COUNTS, T_FIRST, TASK_WORDS};
        // The fixed words and the route words, two copies into one staging buffer, one wait.
        let bytes = 4 * TASK_WORDS as u64;
        let route_bytes = 4 * self.routes.len() as u64;
        let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("task counts"),
        });
        enc.copy_buffer_to_buffer(&self.b.task, 0, &self.task_staging, 0, bytes);
        if route_bytes > 0 {
            let at = 4 * self.routes.start as u64;
            enc.copy_buffer_to_buffer(&self.b.task, at, &self.task_staging, bytes, route_bytes);
            enc.clear_buffer(&self.b.task, at, Some(route_bytes));
        }
        self.queue.submit([enc.finish()]);
        let data = self.read(&self.task_staging, bytes + route_bytes)?;
        let words: &[u32] = bytemuck::cast_slice(&data);
        let mut reset = [0u32; 32];
        reset[16..].fill(EMPTY);
        self.queue
            .write_buffer(&self.b.task, 4 * T_COUNTS as u64, bytemuck::cast_slice(&reset));
        Ok(TaskCounts {
            groups: (0..16)
                .map(|g| GroupCount {
                    spikes: words[T_COUNTS + g],
                    first_step: (words[T_FIRST + g] != EMPTY).then_some(words[T_FIRST + g]),
                })
                .collect(),
            routes: words[TASK_WORDS..]
                .chunks_exact(2)
                .map(|w| w[0] as u64 | (w[1] as u64) << 32)
                .collect(),
        })
    }
}

/// The words of a network's task buffer that hold the route sums (empty without a task).
fn route_words(net: &Network) -> std::ops::Range<usize> {
    let g = &net.globals;
    let at = crate::layout::route_words_at(g.n_regions as usize);
    at.min(net.task.len())..net.task.len()
}

/// Puts the `sim` buffer's spike list in a canonical form: threads append spikes in whatever order
/// they run, and no stage depends on it (delivery adds integers, learning touches each spike's own
/// row or outgoing slots), so the live spikes are sorted and the entries past them, stale spikes of
/// earlier steps that nothing reads, cleared. Equal runs then save equal states.
fn canonical_spikes(sim: &mut [u8]) {
    let at = std::mem::size_of::<SimHeader>();
    if sim.len() < at {
        return;
    }
    let header: SimHeader = bytemuck::pod_read_unaligned(&sim[..at]);
    let list = &mut sim[at..];
    let mut spikes: Vec<u32> = state_values(list);
    let live = (header.n_spikes.max(header.prop_count) as usize).min(spikes.len());
    spikes[..live].sort_unstable();
    spikes[live..].fill(0);
    list[..4 * spikes.len()].copy_from_slice(bytemuck::cast_slice(&spikes));
}

/// Timestamp queries around a sequence of compute passes (two per pass), for profiling.
struct Timestamps {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    staging: wgpu::Buffer,
    passes: u32,
}

impl Timestamps {
    fn new(device: &wgpu::Device, passes: u32) -> Self {
        let bytes = 16 * passes as u64;
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        Timestamps {
            set: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("stage timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2 * passes,
            }),
            resolve: buffer(
                "timestamps",
                wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            ),
            staging: buffer(
                "timestamps staging",
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ),
            passes,
        }
    }

    /// Begins pass number `i`, timed.
    fn pass(&self, enc: &mut wgpu::CommandEncoder, label: &str, i: u32) -> wgpu::ComputePass<'static> {
        enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(label),
            timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                query_set: &self.set,
                beginning_of_pass_write_index: Some(2 * i),
                end_of_pass_write_index: Some(2 * i + 1),
            }),
        })
        .forget_lifetime()
    }

    /// Records the copy of the queries to the staging buffer (after the last pass).
    fn resolve(&self, enc: &mut wgpu::CommandEncoder) {
        enc.resolve_query_set(&self.set, 0..2 * self.passes, &self.resolve, 0);
        enc.copy_buffer_to_buffer(&self.resolve, 0, &self.staging, 0, 16 * self.passes as u64);
    }

    /// Waits for the submitted work and returns each pass's GPU time (s).
    fn seconds(&self, engine: &GpuEngine) -> Result<Vec<f64>> {
        let ticks: Vec<u64> = bytemuck::cast_slice(&engine.read(&self.staging, 16 * self.passes as u64)?).to_vec();
        let ns = engine.queue.get_timestamp_period() as f64;
        Ok(ticks
            .chunks(2)
            .map(|t| t[1].saturating_sub(t[0]) as f64 * ns * 1e-9)
            .collect())
    }
}
