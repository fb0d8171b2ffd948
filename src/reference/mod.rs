//! The CPU reference engine: a plain-Rust twin of every GPU stage, the oracle of the tests.
//! It runs the same network with the same integer and f32 arithmetic, so on small networks it
//! reproduces the GPU's spikes exactly.

pub mod connectivity;
pub mod learn;
pub mod lesion;
pub mod neurons;
pub mod propagate;
pub mod structure;

use crate::build::Network;
use crate::engine::{
    Control, Engine, EngineState, GroupCount, RawSample, TaskCounts, check_state, nonfinite, state_bytes, state_values,
};
use crate::error::Result;
use crate::layout::REGION_STRUCT_WORDS;

/// A network stepped on the host.
pub struct CpuEngine {
    net: Network,
    ring: Vec<i32>,
    pop_spikes: Vec<u32>,
    raster_steps: u32,
    raster: Vec<u32>,
    spikes: Vec<u32>,
    step: u64,
    error: Option<(u32, u32)>,
    /// Connectivity of the synapses as they are (recomputed when synapses change).
    conn: Option<(Vec<u32>, Vec<i64>)>,
    /// Index of the next scheduled reward.
    next_reward: usize,
    /// Slow updates are skipped (probe trials).
    frozen: bool,
    /// The chunks the modulated update visits (Network::modulated_chunks).
    modulated_chunks: Vec<u32>,
}

impl CpuEngine {
    /// How the CPU engine names itself in outputs and checkpoints.
    pub const DESCRIPTION: &str = "CPU reference";

    pub fn new(net: &Network, raster_steps: u32) -> Self {
        assert!(
            net.indexed(),
            "the CPU reference steps a network with every outgoing index (build_sharded, not build_for_upload)"
        );
        let g = net.globals;
        CpuEngine {
            ring: vec![0; g.ring_channels as usize * g.ring_len as usize * g.n_neurons as usize],
            pop_spikes: vec![0; net.pops.len() * (1 + g.lfp_steps as usize)],
            raster_steps,
            raster: vec![0; raster_steps as usize * g.raster_words as usize],
            spikes: Vec::new(),
            step: 0,
            error: None,
            conn: None,
            next_reward: 0,
            frozen: false,
            modulated_chunks: if net.modulate_every > 0 {
                net.modulated_chunks()
            } else {
                Vec::new()
            },
            net: net.clone(),
        }
    }

    /// The network as it stands (state, weights).
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The delay ring (fixed-point input per channel, step slot and neuron).
    pub fn ring(&self) -> &[i32] {
        &self.ring
    }

    /// The state's arrays, in their fixed order: the host counters, the control tables, then
    /// every array of the network a step reads or changes (constants included, so that a state
    /// from another model is refused), the ring, counters and raster. Lists of varying length (the
    /// last step's spikes, each shard's outgoing slots) are padded to their largest size.
    fn state_arrays(&self) -> Vec<(String, Vec<u8>)> {
        let net = &self.net;
        let n = net.globals.n_neurons as usize;
        let error = self.error.map_or([0, 0, 0], |(neuron, step)| [1, neuron, step]);
        let mut spikes = vec![0u32; n + 1];
        spikes[0] = self.spikes.len() as u32;
        spikes[1..=self.spikes.len()].copy_from_slice(&self.spikes);
        let mut arrays = vec![
            ("next_reward", state_bytes(&[self.next_reward as u64])),
            ("frozen", state_bytes(&[self.frozen as u32])),
            ("error", state_bytes(&error)),
            ("globals", state_bytes(&[net.globals])),
            ("pops", state_bytes(&net.pops)),
            ("poisson", state_bytes(&net.poisson)),
            ("poisson_lambda", state_bytes(&net.poisson_lambda)),
            ("neurons", state_bytes(&net.state)),
            ("params", state_bytes(&net.params)),
            ("neuron_ext", state_bytes(&net.neuron_ext)),
            ("params_ext", state_bytes(&net.params_ext)),
            ("status", state_bytes(&net.status)),
            ("task", state_bytes(&net.task)),
            ("rep", state_bytes(&net.rep)),
            ("header", state_bytes(&[net.header])),
            ("ring", state_bytes(&self.ring)),
            ("pop_spikes", state_bytes(&self.pop_spikes)),
            ("raster", state_bytes(&self.raster)),
            ("spikes", state_bytes(&spikes)),
            ("syn_pre", state_bytes(&net.syn_pre)),
            ("syn_weight", state_bytes(&net.syn_weight)),
            ("syn_delay", state_bytes(&net.syn_delay)),
            ("syn_owner", state_bytes(&net.syn_owner)),
            ("syn_elig", state_bytes(&net.syn_elig)),
            ("syn_late", state_bytes(&net.syn_late)),
            ("syn_born", state_bytes(&net.syn_born)),
            ("traces", state_bytes(&net.traces)),
            ("rules", state_bytes(&net.rules)),
            ("modulators", state_bytes(&net.modulators)),
            ("grow", state_bytes(&net.grow)),
            ("elem", state_bytes(&net.elem)),
            ("boutons", state_bytes(&net.boutons)),
            ("structure", state_bytes(&net.structure)),
            ("sstats", state_bytes(&net.sstats)),
            ("positions", state_bytes(&net.positions)),
        ]
        .into_iter()
        .map(|(name, bytes)| (name.to_string(), bytes))
        .collect::<Vec<_>>();
        for (i, s) in net.shards.iter().enumerate() {
            let mut slots = s.out_slots.clone();
            slots.resize(s.slots() as usize, 0);
            arrays.push((format!("shard{i}.out_start"), state_bytes(&s.out_start)));
            arrays.push((format!("shard{i}.out_slots"), state_bytes(&slots)));
        }
        arrays
    }

    /// One step: every neuron (the `neurons` stage), then delivery of its spikes (`propagate`).
    fn one_step(&mut self) {
        let g = self.net.globals;
        let step = self.step as u32;
        let n = g.n_neurons as usize;
        let slot = (step % g.ring_len) as usize * n;
        self.spikes.clear();
        for i in 0..n {
            let ring_in = std::mem::take(&mut self.ring[slot + i]);
            // The inhibitory channel, in the ring's second half.
            let ring_inh = if g.ring_channels > 1 {
                std::mem::take(&mut self.ring[g.ring_len as usize * n + slot + i])
            } else {
                0
            };
            if self.net.status[i][0] & crate::layout::STATUS_ALIVE == 0 {
                continue;
            }
            let net = &mut self.net;
            // One NeuronExt element stands in for all when no population has a two-channel model.
            let e = i.min(net.neuron_ext.len() - 1);
            let out = neurons::step_neuron(
                &g,
                &net.pops,
                &net.poisson,
                &mut net.state[i],
                &net.params[i],
                &mut net.neuron_ext[e],
                &net.params_ext[e],
                ring_in,
                ring_inh,
                step,
                i as u32,
                &net.status[i],
                &mut net.task,
                &mut net.rep,
            );
            if out.nonfinite && self.error.is_none_or(|(_, s)| s > step) {
                self.error = Some((i as u32, step));
            }
            if g.traced != 0 {
                learn::update_traces(&mut self.net, i, out.spiked);
            }
            if g.structural != 0 {
                structure::calcium(&mut self.net, i, out.spiked);
            }
            if out.spiked {
                let h = &mut self.net.header;
                if i as u32 == h.watch_pre {
                    h.last_pre = step;
                }
                if i as u32 == h.watch_post {
                    h.last_post = step;
                }
                self.spikes.push(i as u32);
                let pop = self.net.state[i].pop as usize;
                self.pop_spikes[pop] += 1;
                // The LFP readout's record: spikes per population in each step since the last
                // sample, after the counts.
                let rel = step.wrapping_sub(g.lfp_from);
                if rel < g.lfp_steps {
                    self.pop_spikes[g.n_pops as usize * (1 + rel as usize) + pop] += 1;
                }
                if step < self.raster_steps {
                    self.raster[(step * g.raster_words + i as u32 / 32) as usize] |= 1 << (i % 32);
                }
            }
        }
        if g.modulated != 0 {
            // Scheduled rewards of this step join the pending ones; dopamine decays and takes them.
            while let Some(&(at, region, amount)) = self.net.rewards.get(self.next_reward) {
                if at > step as u64 {
                    break;
                }
                if at == step as u64 {
                    self.reward(if region == u32::MAX { None } else { Some(region) }, amount);
                }
                self.next_reward += 1;
            }
            learn::pair_reward(&mut self.net, step);
            learn::dopamine_step(&mut self.net);
        }
        if g.plastic != 0 {
            learn::post(&mut self.net, &self.spikes);
        }
        propagate::deliver(&self.net, &self.spikes, step, &mut self.ring);
        propagate::routes(&mut self.net, &self.spikes);
        if g.plastic != 0 {
            learn::pre(&mut self.net, &self.spikes);
            self.conn = None;
        }
        if self.frozen {
            self.step += 1;
            return;
        }
        if self.net.modulate_every > 0 && (step as u64 + 1).is_multiple_of(self.net.modulate_every) {
            learn::modulate(&mut self.net, &self.modulated_chunks);
        }
        // The slow updates due at the end of this step, in the GPU's order.
        let every = g.scale_every as u64;
        if every > 0 && (step as u64 + 1).is_multiple_of(every) {
            learn::scale(&mut self.net);
            self.conn = None;
        }
        let every = g.capture_every as u64;
        if every > 0 && (step as u64 + 1).is_multiple_of(every) {
            learn::capture(&mut self.net);
        }
        let every = self.net.structure_every;
        if every > 0 && (step as u64 + 1).is_multiple_of(every) {
            structure::update(&mut self.net, step as u64 + 1);
            self.conn = None;
        }
        self.step += 1;
    }
}

impl Engine for CpuEngine {
    fn save_state(&mut self) -> Result<EngineState> {
        Ok(EngineState {
            step: self.step,
            arrays: self.state_arrays(),
        })
    }

    fn load_state(&mut self, state: &EngineState) -> Result<()> {
        let expected = self.state_arrays();
        let sizes: Vec<(&str, usize)> = expected.iter().map(|(name, b)| (name.as_str(), b.len())).collect();
        check_state(&self.describe(), &sizes, state)?;
        let mut a = state.arrays.iter().map(|(_, bytes)| bytes.as_slice());
        let mut next = || a.next().expect("checked against this engine's arrays");
        let n = self.net.globals.n_neurons as usize;
        self.next_reward = state_values::<u64>(next())[0] as usize;
        self.frozen = state_values::<u32>(next())[0] != 0;
        let error = state_values::<u32>(next());
        self.error = (error[0] != 0).then_some((error[1], error[2]));
        let net = &mut self.net;
        net.globals = state_values(next())[0];
        net.pops = state_values(next());
        net.poisson = state_values(next());
        net.poisson_lambda = state_values(next());
        net.state = state_values(next());
        net.params = state_values(next());
        net.neuron_ext = state_values(next());
        net.params_ext = state_values(next());
        net.status = state_values(next());
        net.task = state_values(next());
        net.rep = state_values(next());
        net.header = state_values(next())[0];
        self.ring = state_values(next());
        self.pop_spikes = state_values(next());
        self.raster = state_values(next());
        let spikes: Vec<u32> = state_values(next());
        let count = (spikes[0] as usize).min(n);
        self.spikes = spikes[1..=count].to_vec();
        net.syn_pre = state_values(next());
        net.syn_weight = state_values(next());
        net.syn_delay = state_values(next());
        net.syn_owner = state_values(next());
        net.syn_elig = state_values(next());
        net.syn_late = state_values(next());
        net.syn_born = state_values(next());
        net.traces = state_values(next());
        net.rules = state_values(next());
        net.modulators = state_values(next());
        net.grow = state_values(next());
        net.elem = state_values(next());
        net.boutons = state_values(next());
        net.structure = state_values(next());
        net.sstats = state_values(next());
        net.positions = state_values(next());
        for s in &mut net.shards {
            s.out_start = state_values(next());
            let mut slots: Vec<u32> = state_values(next());
            let used = s.out_start.last().map_or(0, |&u| u as usize).min(slots.len());
            slots.truncate(used);
            s.out_slots = slots;
        }
        self.step = state.step;
        self.conn = None;
        Ok(())
    }

    fn advance(&mut self, steps: u64) -> Result<()> {
        for _ in 0..steps {
            self.one_step();
        }
        Ok(())
    }

    fn sample(&mut self) -> Result<RawSample> {
        if let Some((neuron, step)) = self.error {
            let first: Vec<u32> = self.net.pops.iter().map(|p| p.first).collect();
            return Err(nonfinite(neuron, step, &first, &self.net.labels));
        }
        let net = &self.net;
        let (conn_count, conn_weight) = self.conn.get_or_insert_with(|| connectivity::connectivity(net)).clone();
        let len = self.pop_spikes.len();
        let mut pop_spikes = std::mem::replace(&mut self.pop_spikes, vec![0; len]);
        let pop_steps = pop_spikes.split_off(self.net.pops.len());
        if self.net.globals.lfp_steps > 0 {
            // The next interval's record counts from here.
            self.net.globals.lfp_from = self.step as u32;
        }
        let plastic = if self.net.globals.plastic != 0 {
            learn::weight_stats(&self.net)
        } else {
            Vec::new()
        };
        let dopamine = if self.net.globals.modulated != 0 {
            self.net.modulators.iter().map(|m| m[0].to_bits()).collect()
        } else {
            Vec::new()
        };
        let structure = if self.net.structure_every > 0 {
            structure::census(&mut self.net, self.step);
            let s = self.net.sstats.clone();
            // Events count from one sample to the next.
            let regions = self.net.globals.n_regions as usize;
            for r in 0..regions {
                self.net.sstats[r * REGION_STRUCT_WORDS..r * REGION_STRUCT_WORDS + 4].fill(0);
            }
            self.net.sstats[regions * REGION_STRUCT_WORDS..].fill(0);
            s
        } else {
            Vec::new()
        };
        Ok(RawSample {
            plastic,
            dopamine,
            structure,
            step: self.step,
            pop_spikes,
            pop_steps,
            conn_count,
            conn_weight,
        })
    }

    fn raster(&mut self) -> Result<Vec<u32>> {
        Ok(self.raster.clone())
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn reward(&mut self, region: Option<u32>, amount: f32) {
        for (r, m) in self.net.modulators.iter_mut().enumerate() {
            if region.is_none_or(|x| x as usize == r) {
                m[1] += amount;
            }
        }
    }

    fn describe(&self) -> String {
        Self::DESCRIPTION.into()
    }

    fn control(&mut self, c: &Control) {
        let net = &mut self.net;
        c.apply(&mut net.globals, &mut net.pops, &mut net.poisson, &net.poisson_lambda);
        self.frozen = c.frozen;
    }

    fn lesion(&mut self, status: &[[u32; 4]], cut: &[u32]) -> Result<()> {
        self.net.status = status.to_vec();
        lesion::apply(&mut self.net, cut);
        self.conn = None;
        Ok(())
    }

    fn set_status(&mut self, status: &[[u32; 4]]) {
        assert_eq!(status.len(), self.net.status.len(), "one status per neuron");
        self.net.status = status.to_vec();
    }

    fn task_drive(&mut self, channels: &[f32; 16], guide: &[f32; 16], counting: bool) {
        use crate::layout::{T_COUNTING, T_DRIVE, T_GUIDE};
        for i in 0..16 {
            self.net.task[T_DRIVE + i] = channels[i].to_bits();
            self.net.task[T_GUIDE + i] = guide[i].to_bits();
        }
        self.net.task[T_COUNTING] = counting as u32;
    }

    fn record_cue(&mut self, cue: Option<u32>) {
        self.net.task[crate::layout::T_CUE] = cue.map_or(0, |c| c + 1);
    }

    fn record_routes(&mut self, group: Option<u32>) {
        self.net.task[crate::layout::T_ROUTE] = group.map_or(0, |c| c + 1);
    }

    fn representation(&mut self, cues: u32, min_spikes: u32) -> Result<Vec<u32>> {
        use crate::layout::REP_CUES;
        let n = self.net.globals.n_neurons as usize;
        let regions = self.net.globals.n_regions as usize;
        if self.net.rep.len() < REP_CUES * n {
            return Ok(vec![0; regions]);
        }
        let mut selective = vec![0u32; regions];
        for i in 0..n {
            let c = &mut self.net.rep[i * REP_CUES..i * REP_CUES + cues as usize];
            let best = c.iter().copied().max().unwrap_or(0);
            let sum: u32 = c.iter().sum();
            c.fill(0);
            if cues > 1 && best >= min_spikes && best * (cues - 1) >= 2 * (sum - best) {
                selective[self.net.pops[self.net.state[i].pop as usize].region as usize] += 1;
            }
        }
        Ok(selective)
    }

    fn task_counts(&mut self) -> Result<TaskCounts> {
        use crate::layout::{EMPTY, T_COUNTS, T_FIRST, route_words_at};
        let g = &self.net.globals;
        let at = route_words_at(g.n_regions as usize);
        let t = &mut self.net.task;
        let groups = (0..16)
            .map(|g| GroupCount {
                spikes: t[T_COUNTS + g],
                first_step: (t[T_FIRST + g] != EMPTY).then_some(t[T_FIRST + g]),
            })
            .collect();
        t[T_COUNTS..T_COUNTS + 16].fill(0);
        t[T_FIRST..T_FIRST + 16].fill(EMPTY);
        let routes = match t.get_mut(at..) {
            Some(words) => {
                let r = words
                    .chunks_exact(2)
                    .map(|w| w[0] as u64 | (w[1] as u64) << 32)
                    .collect();
                words.fill(0);
                r
            }
            None => Vec::new(),
        };
        Ok(TaskCounts { groups, routes })
    }
}
