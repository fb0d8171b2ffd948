//! The resolved model: a validated scene with names turned into indices and units fixed.

use super::schema::{Param, Rule};

/// A validated scene, ready to build. Populations are numbered in file order; neurons of
/// population p occupy the global indices `first .. first + count`.
#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub seed: u64,
    /// Time step (ms).
    pub dt_ms: f64,
    /// Number of steps to simulate.
    pub steps: u64,
    /// Steps between statistics samples (at least 1).
    pub sample_every_steps: u64,
    pub regions: Vec<RegionModel>,
    /// The scene's `connectome.neurons_per_region`, when it has a connectome (its scale).
    pub neurons_per_region: Option<u32>,
    pub populations: Vec<PopulationModel>,
    pub projections: Vec<ProjectionModel>,
    pub inputs: Vec<InputModel>,
    pub dopamine: Option<DopamineModel>,
    /// Reward pulses: (step, region or None for all, amount), in time order.
    pub rewards: Vec<(u64, Option<usize>, f64)>,
    pub pair_reward: Option<PairRewardModel>,
    pub structure: Option<StructureModel>,
    /// The behavioural task, if any.
    pub task: Option<TaskModel>,
    /// The protocol timeline, if any (then `steps` is its length).
    pub protocol: Option<ProtocolModel>,
    /// The checkpoint this scene forks from (`start_from`, resolved against the scene's folder).
    pub start_from: Option<std::path::PathBuf>,
    /// Total neurons.
    pub neurons: u32,
    /// Virtual instruments (`readouts`).
    pub readouts: ReadoutsModel,
}

/// Validated readouts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadoutsModel {
    /// Tract strength: the tracts as (source region, target region), None without the readout.
    pub tracts: Option<Vec<(usize, usize)>>,
    /// BOLD: the repetition time (ms), None without the readout.
    pub bold_tr_ms: Option<f64>,
    /// BOLD functional connectivity: the windows as (first, last) protocol day, inclusive.
    pub bold_fc_days: Vec<(i32, i32)>,
    /// BOLD laterality: the regions counted, each with its side (true: left); empty without the
    /// index (no protocol, no task days, or not both sides).
    pub bold_laterality: Vec<(usize, bool)>,
    /// Spine imaging, None without the readout.
    pub imaging: Option<ImagingModel>,
    /// ICMS mapping, None without the readout.
    pub icms: Option<IcmsModel>,
    /// The LFP proxy, None without the readout.
    pub lfp: Option<LfpModel>,
}

/// Validated LFP proxy (the `Lfp` readout).
#[derive(Clone, Debug, PartialEq)]
pub struct LfpModel {
    /// Steps analysed from the start of each sample interval.
    pub window_steps: u32,
    /// The highest frequency written (Hz).
    pub max_hz: f64,
}

/// Validated ICMS mapping (the `Icms` readout).
#[derive(Clone, Debug, PartialEq)]
pub struct IcmsModel {
    /// The sites: the region each stimulates, and its place (mm); grid sites first, region by
    /// region, then the scene's own.
    pub sites: Vec<(usize, [f64; 3])>,
    /// Grid spacing (mm): the map area a site stands for is its square.
    pub spacing_mm: f64,
    /// The stimulated column's radius in the x-y plane (mm).
    pub radius_mm: f64,
    /// Pulse currents, increasing (input current units).
    pub currents: Vec<f64>,
    /// Steps of a train, between pulse onsets (each pulse lasts one step), and of the quiet time
    /// after each train's response window.
    pub train_steps: u64,
    pub pulse_every_steps: u64,
    pub rest_steps: u64,
    /// The days mapped (each at its end), those the protocol reaches.
    pub days: Vec<i32>,
}

/// At most this many ICMS sites, currents and mapping days (each site costs a train per current).
pub const ICMS_MAX_SITES: usize = 512;
pub const ICMS_MAX_CURRENTS: usize = 8;
pub const ICMS_MAX_DAYS: usize = 8;

/// Validated spine imaging.
#[derive(Clone, Debug, PartialEq)]
pub struct ImagingModel {
    /// Fields of view: centre (mm) and radius (mm).
    pub fields: Vec<([f64; 3], f64)>,
    /// The days imaged, and the step at the end of each (when its image is taken).
    pub days: Vec<i32>,
    pub steps: Vec<u64>,
}

/// At most this many fields of view and imaging days (the census counts them all at once).
pub const IMAGING_MAX_FIELDS: usize = 4;
pub const IMAGING_MAX_DAYS: usize = 8;

#[derive(Clone, Debug)]
pub struct RegionModel {
    pub name: String,
    pub centre_mm: [f64; 3],
    pub radius_mm: f64,
    pub inner_radius_mm: f64,
    pub hemisphere: Option<super::schema::Hemisphere>,
}

impl RegionModel {
    /// The region's side, true for left: its `hemisphere`, or else the sign of its centre's x
    /// (x < 0 left, x > 0 right); None on the midline (x = 0) without a hemisphere.
    pub fn left(&self) -> Option<bool> {
        match self.hemisphere {
            Some(h) => Some(h == super::schema::Hemisphere::Left),
            None if self.centre_mm[0] < 0.0 => Some(true),
            None if self.centre_mm[0] > 0.0 => Some(false),
            None => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct PopulationModel {
    pub name: String,
    pub region: usize,
    /// Global index of the first neuron.
    pub first: u32,
    pub count: u32,
    pub neuron: NeuronKind,
    pub scaling: Option<ScalingModel>,
    pub growth: Option<GrowthModel>,
    /// Slots per neuron, and where the scene sets it (for errors found at build time).
    pub capacity: Option<(u32, At)>,
}

/// Where a value is written in the scene, for errors found after validation (at build time).
#[derive(Clone, Debug, PartialEq)]
pub struct At {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
}

impl At {
    pub fn err(&self, message: impl Into<String>) -> crate::error::Error {
        crate::error::Error::Scene {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            field: self.field.clone(),
            message: message.into(),
        }
    }
}

/// Cue channels at most: trained cues then transfer cues (8 each).
pub const MAX_CUES: u32 = 8;
/// Lesions a protocol may hold.
pub const MAX_LESIONS: usize = 4;

/// A validated task (times in steps). Cue k drives neurons `cue_first + k * cue_neurons ..`
/// (global indices); output group g is `out_first + g * out_neurons ..`. Transfer cue k takes
/// the first `round(shared * cue_neurons)` neurons of cue k and the rest from the cue population's
/// neurons after all trained cues: `cue_first + cues * cue_neurons + k * (cue_neurons - shared_n) ..`.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskModel {
    pub cue_pop: usize,
    pub cues: u32,
    pub cue_neurons: u32,
    pub cue_current: f64,
    pub cue_steps: u64,
    pub out_pop: usize,
    pub out_neurons: u32,
    /// Response window (steps after cue onset): `window.0 .. window.1`.
    pub window: (u64, u64),
    /// Spikes the winning group needs for a response.
    pub threshold: u32,
    pub trial_steps: u64,
    pub reward_amount: f64,
    /// Dopamine (<= 0) on an error or no response in a rewarded training trial.
    pub error_amount: f64,
    pub reward_delay_steps: u64,
    pub reward_region: Option<usize>,
    pub guidance: f64,
    /// Populations (besides the outputs) whose group k the guidance also drives; never counted.
    pub guided: Vec<usize>,
    pub variability: f64,
    /// Neurons each transfer cue shares with its trained cue (None: no transfer task).
    pub transfer_shared: Option<u32>,
    /// Distractor strength (None: no distractor task).
    pub distractor: Option<f64>,
}

/// A validated protocol: one plan per day from `first_day` to `last_day`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtocolModel {
    pub first_day: i32,
    pub last_day: i32,
    /// Legacy mapping: steps of each day's offline phase and its speedup (1 with a clock).
    pub offline_steps: u64,
    pub offline_speedup: f64,
    /// The biological clock: steps that stand for one day (sessions and offline together).
    pub day_steps: Option<u64>,
    pub days: Vec<DayPlan>,
    pub lesions: Vec<LesionModel>,
}

/// What one day holds, in order: its lesions, its sessions, its probe, then the offline phase.
#[derive(Clone, Debug, PartialEq)]
pub struct DayPlan {
    pub day: i32,
    /// Indices into `ProtocolModel::lesions`.
    pub lesions: Vec<usize>,
    pub sessions: Vec<SessionPlan>,
    /// Probe trials per task (0: no probe today).
    pub probe_trials: u32,
    /// Factor on background Poisson rates all day.
    pub enrichment: f64,
    /// Drugs of the day: the factor on tonic inhibition, and per region on excitability and
    /// plasticity (products over the drugs given that day; 1 without one).
    pub tonic_factor: f64,
    pub excitability: Vec<f64>,
    pub plasticity: Vec<f64>,
}

impl ProtocolModel {
    /// The step at the end of each day (its sessions, `probe_blocks` probe blocks of its probe
    /// trials, then its offline phase), as (day, step).
    pub fn day_ends(&self, trial_steps: u64, probe_blocks: u64) -> Vec<(i32, u64)> {
        let mut at = 0u64;
        self.days
            .iter()
            .map(|d| {
                let trials =
                    d.sessions.iter().map(|s| s.trials as u64).sum::<u64>() + d.probe_trials as u64 * probe_blocks;
                at += trials * trial_steps + self.offline_steps_of(d, trial_steps);
                (d.day, at)
            })
            .collect()
    }

    /// Steps of the offline phase of `day`: the legacy `offline_steps`, or with the clock what
    /// the day's sessions leave of it.
    pub fn offline_steps_of(&self, day: &DayPlan, trial_steps: u64) -> u64 {
        match self.day_steps {
            None => self.offline_steps,
            Some(d) => d - day.sessions.iter().map(|s| s.trials as u64).sum::<u64>() * trial_steps,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SessionPlan {
    pub trials: u32,
    pub guidance: f64,
    pub variability: f64,
    pub reward: bool,
    /// Per region: factors on input (excitability) and on learning rates (plasticity).
    pub excitability: Vec<f64>,
    pub plasticity: Vec<f64>,
    /// "train", "rehab" or "booster" (outputs).
    pub kind: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LesionModel {
    pub day: i32,
    pub kind: LesionKindModel,
    pub window: Option<WindowModel>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LesionKindModel {
    Focal {
        centre_mm: [f64; 3],
        core_mm: f64,
        penumbra_mm: f64,
        excitability_loss: f64,
        recovery_days: f64,
        /// Tonic inhibition: amplitude at the core's edge and its time course (share).
        tonic: Option<(f64, CurveModel)>,
    },
    Fraction {
        population: usize,
        fraction: f64,
    },
    TractCut {
        from: usize,
        to: usize,
    },
    /// A fraction of every population of a region.
    Region {
        region: usize,
        fraction: f64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct WindowModel {
    /// The factors on learning and on element growth over days since the lesion.
    pub learning: CurveModel,
    pub growth: CurveModel,
    pub radius_mm: f64,
}

/// A validated time course over days since a lesion (schema::Curve; named shapes as points).
#[derive(Clone, Debug, PartialEq)]
pub enum CurveModel {
    Constant(f64),
    Exponential {
        peak: f64,
        decay_days: f64,
    },
    /// (day, value), days strictly ascending, at least one point.
    Points(Vec<(f64, f64)>),
}

impl CurveModel {
    /// The value `days` after the lesion.
    pub fn at(&self, days: f64) -> f64 {
        match self {
            CurveModel::Constant(v) => *v,
            CurveModel::Exponential { peak, decay_days } => 1.0 + (peak - 1.0) * (-days / decay_days).exp(),
            CurveModel::Points(p) => {
                let (first, last) = (p[0], p[p.len() - 1]);
                if days <= first.0 {
                    return first.1;
                }
                if days >= last.0 {
                    return last.1;
                }
                let k = p.iter().position(|q| q.0 > days).expect("inside the points");
                let ((d0, v0), (d1, v1)) = (p[k - 1], p[k]);
                v0 + (v1 - v0) * (days - d0) / (d1 - d0)
            }
        }
    }

    /// The largest value the curve takes.
    pub fn max(&self) -> f64 {
        match self {
            CurveModel::Constant(v) => *v,
            CurveModel::Exponential { peak, .. } => peak.max(1.0),
            CurveModel::Points(p) => p.iter().map(|q| q.1).fold(f64::MIN, f64::max),
        }
    }
}

/// Validated element growth of a population.
#[derive(Clone, Debug, PartialEq)]
pub struct GrowthModel {
    pub eta: f64,
    pub eps: f64,
    pub nu_per_ms: f64,
    pub tau_ca_ms: f64,
    pub beta_ca: f64,
    /// Calcium at the start (the scene's `calcium_init`, else eps).
    pub calcium_init: f64,
    /// Fraction of vacant elements lost at every update (NEST's tau_vacant).
    pub vacant_decay: f64,
    /// The axon's type where the population declares one (true: inhibitory).
    pub axon_inhibitory: Option<bool>,
    /// The growth curves of the axon and of the excitatory and inhibitory dendrites: the
    /// population's curve where no element type says otherwise. With a dendrite type declared
    /// (`typed_dendrites`) the spines come in the declared pools only (None: no such pool);
    /// without, one pool (`dendrite_ex`) takes every rule.
    pub axon: ElementCurve,
    pub dendrite_ex: Option<ElementCurve>,
    pub dendrite_in: Option<ElementCurve>,
    pub typed_dendrites: bool,
}

/// A growth curve (Butz & van Ooyen): calcium bounds eta < eps and the peak rate nu (elements per
/// biological ms).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElementCurve {
    pub eta: f64,
    pub eps: f64,
    pub nu_per_ms: f64,
    /// The most elements of the type a neuron holds (at most MAX_ELEMENTS).
    pub capacity: u32,
}

impl GrowthModel {
    /// The fastest growth of any of the population's elements (elements per biological ms).
    pub fn max_nu(&self) -> f64 {
        [Some(self.axon), self.dendrite_ex, self.dendrite_in]
            .iter()
            .flatten()
            .map(|c| c.nu_per_ms)
            .fold(0.0, f64::max)
    }
}

/// Validated structural plasticity.
#[derive(Clone, Debug, PartialEq)]
pub struct StructureModel {
    pub every_steps: u64,
    /// Biological ms per structural update.
    pub bio_ms: f64,
    pub speedup: f64,
    pub sprouts: Vec<SproutModel>,
    pub spines: super::schema::Spines,
    pub trophin_tau_ms: f64,
    pub trophin_reward: f64,
    /// Per region.
    pub glia: Vec<f64>,
    pub persist_steps: u64,
    pub point_mm: [f64; 3],
    pub bins_mm: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SproutModel {
    pub source: usize,
    pub target: usize,
    pub length_mm: f64,
    pub weight: f64,
    pub delay_steps: u32,
    pub autapses: bool,
    pub distance: super::schema::SproutDistance,
    /// Factor on the acceptance probability (>= 0).
    pub gain: f64,
    /// The synapses are inhibitory: an inhibitory axon's, onto inhibitory spines where the target
    /// keeps its dendrite types apart.
    pub inhibitory: bool,
}

/// Validated synaptic scaling of a population.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingModel {
    pub target_hz: f64,
    pub tau_ms: f64,
    pub activity_tau_ms: f64,
    pub every_steps: u64,
}

/// A neuron model with every parameter still a distribution, drawn per neuron at build time.
#[derive(Clone, Debug)]
pub enum NeuronKind {
    Izhikevich {
        a: Param,
        b: Param,
        c: Param,
        d: Param,
        v_init_mv: Param,
    },
    Lif(LifModel),
    IafPscAlpha(PscAlphaModel),
    IafCondExp(CondExpModel),
    SpikeSource {
        rate_hz: Param,
    },
    Periodic {
        period_steps: u32,
        phase_steps: u32,
        /// Spikes in all (0: no end).
        count: u32,
    },
}

#[derive(Clone, Debug)]
pub struct LifModel {
    pub c_m_pf: Param,
    pub tau_m_ms: Param,
    pub tau_syn_ms: Param,
    pub t_ref_ms: Param,
    pub e_l_mv: Param,
    pub v_reset_mv: Param,
    pub v_th_mv: Param,
    pub i_e_pa: Param,
    pub v_init_mv: Param,
}

/// NEST's iaf_psc_alpha, every parameter a distribution (units as in `schema::PscAlphaParams`).
#[derive(Clone, Debug)]
pub struct PscAlphaModel {
    pub c_m_pf: Param,
    pub tau_m_ms: Param,
    pub tau_syn_ex_ms: Param,
    pub tau_syn_in_ms: Param,
    pub t_ref_ms: Param,
    pub e_l_mv: Param,
    pub v_reset_mv: Param,
    pub v_th_mv: Param,
    pub i_e_pa: Param,
    pub v_init_mv: Param,
}

/// NEST's iaf_cond_exp, every parameter a distribution (units as in `schema::CondExpParams`).
#[derive(Clone, Debug)]
pub struct CondExpModel {
    pub c_m_pf: Param,
    /// The leak: its conductance g_L (nS), or the membrane time constant (ms) giving g_L = C_m / tau_m.
    pub leak: Leak,
    pub tau_syn_ex_ms: Param,
    pub tau_syn_in_ms: Param,
    pub t_ref_ms: Param,
    pub e_l_mv: Param,
    pub e_ex_mv: Param,
    pub e_in_mv: Param,
    pub v_reset_mv: Param,
    pub v_th_mv: Param,
    pub i_e_pa: Param,
    pub v_init_mv: Param,
}

/// How a conductance-based model's leak is given.
#[derive(Clone, Debug)]
pub enum Leak {
    GNs(Param),
    TauMs(Param),
}

impl NeuronKind {
    /// The model's code in shaders and outputs: 0 Izhikevich, 1 LIF, 2 spike source, 3 periodic,
    /// 4 iaf_psc_alpha, 5 iaf_cond_exp (layout::MODEL_*).
    pub fn code(&self) -> u32 {
        match self {
            NeuronKind::Izhikevich { .. } => 0,
            NeuronKind::Lif(_) => 1,
            NeuronKind::SpikeSource { .. } => 2,
            NeuronKind::Periodic { .. } => 3,
            NeuronKind::IafPscAlpha(_) => 4,
            NeuronKind::IafCondExp(_) => 5,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ProjectionModel {
    pub source: usize,
    pub target: usize,
    pub rule: Rule,
    pub weight: Param,
    pub delay_ms: Param,
    pub headroom: f64,
    pub autapses: bool,
    pub plasticity: Option<StdpModel>,
}

/// A validated STDP rule (time constants in ms).
#[derive(Clone, Debug, PartialEq)]
pub struct StdpModel {
    pub a_plus: f64,
    pub a_minus: f64,
    pub tau_plus_ms: f64,
    pub tau_minus_ms: f64,
    pub w_min: f64,
    pub w_max: f64,
    pub multiplicative: bool,
    pub nearest: bool,
    /// Eligibility time constant (ms) of three-factor learning.
    pub eligibility_tau_ms: Option<f64>,
    pub capture: Option<CaptureModel>,
}

/// Validated tagging-and-capture parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureModel {
    pub tag_threshold: f64,
    pub protein_threshold: f64,
    pub tau_early_ms: f64,
    pub tau_protein_ms: f64,
    pub tau_late_ms: f64,
    pub every_steps: u64,
}

/// A validated pair reward (neurons as global indices, times in steps).
#[derive(Clone, Debug, PartialEq)]
pub struct PairRewardModel {
    pub pre: u32,
    pub post: u32,
    pub window_steps: u32,
    pub delay_lo: u32,
    pub delay_span: u32,
    pub amount: f64,
    pub region: Option<usize>,
    pub start_weight: Option<f64>,
}

/// Validated dopamine parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct DopamineModel {
    pub tonic: f64,
    pub tau_ms: f64,
    /// Steps between modulated weight updates (at least 1).
    pub every_steps: u64,
}

#[derive(Clone, Debug)]
pub struct InputModel {
    pub target: usize,
    pub kind: InputKind,
}

#[derive(Clone, Debug)]
pub enum InputKind {
    Poisson {
        rate_hz: f64,
        in_degree: u32,
        weight: f64,
        /// On in steps `start..end`.
        start: u64,
        end: u64,
    },
    Dc {
        amplitude: f64,
    },
    Noise {
        mean: f64,
        sd: f64,
    },
}

impl Model {
    /// The population a global neuron index belongs to.
    pub fn population_of(&self, neuron: u32) -> usize {
        self.populations.partition_point(|p| p.first + p.count <= neuron)
    }

    /// Expected number of synapses, computed without building (for refusing oversized scenes early).
    pub fn expected_synapses(&self) -> f64 {
        // + 0.0: an empty sum is -0.0, which would print as "-0" for a scene without projections.
        self.expected_synapses_per_projection().iter().sum::<f64>() + 0.0
    }

    /// Expected synapses of each projection (for `DistanceDependent`, a bound on the
    /// expectation: each target's sources at most the source region's density, positions
    /// being uniform in its shell, times the Gaussian's volume (2 pi sigma^2)^(3/2), and at most
    /// all of them).
    pub fn expected_synapses_per_projection(&self) -> Vec<f64> {
        self.projections
            .iter()
            .map(|p| {
                let ns = self.populations[p.source].count as f64;
                let nt = self.populations[p.target].count as f64;
                match p.rule {
                    Rule::FixedProbability(q) => q * ns * nt,
                    Rule::FixedInDegree(k) => k as f64 * nt,
                    Rule::FixedTotalNumber(n) => n as f64,
                    Rule::DistanceDependent { p0, sigma_mm } => {
                        let r = &self.regions[self.populations[p.source].region];
                        let volume =
                            4.0 / 3.0 * std::f64::consts::PI * (r.radius_mm.powi(3) - r.inner_radius_mm.powi(3));
                        let kernel = (2.0 * std::f64::consts::PI * sigma_mm * sigma_mm).powf(1.5);
                        let per_target = if volume > 0.0 { ns.min(ns / volume * kernel) } else { ns };
                        p0 * per_target * nt
                    }
                    Rule::Topographic {
                        block_from,
                        block_to,
                        p_in,
                        p_out,
                    } => {
                        let (cs, ct) = (self.populations[p.source].count, self.populations[p.target].count);
                        let blocks = cs.div_ceil(block_from).min(ct.div_ceil(block_to));
                        let matched: f64 = (0..blocks)
                            .map(|b| {
                                let s = (cs - b * block_from).min(block_from) as f64;
                                let t = (ct - b * block_to).min(block_to) as f64;
                                s * t
                            })
                            .sum();
                        p_out * ns * nt + (p_in - p_out) * matched
                    }
                }
            })
            .collect()
    }

    /// Simulated time (ms) at the end of `step` steps.
    pub fn time_ms(&self, step: u64) -> f64 {
        step as f64 * self.dt_ms
    }
}
