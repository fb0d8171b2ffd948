//! The RON scene schema: what a lab writes. Every field is documented with its unit and default.
//!
//! docs/SCENES.md shows an example of every field. Later capabilities (plasticity, structure,
//! lesions, protocols, tasks) add optional top-level fields, so scenes written now keep working.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// A whole scene: the cortex, its inputs and how long to run it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Free text shown in outputs. Default: the file name.
    #[serde(default)]
    pub name: String,
    /// Seed of every random draw (construction and simulation). Same seed, same statistics.
    pub seed: u64,
    /// Integration time step in ms (e.g. 1.0 for Izhikevich networks, 0.1 for LIF microcircuits).
    pub dt_ms: f64,
    /// Simulated duration in ms. Required without a `protocol`; a protocol sets its own length
    /// (from its first day to its last), and a duration given with one is refused.
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// Interval between statistics samples in ms (rounded to whole steps). Default: 100 ms.
    #[serde(default = "default_sample_every")]
    pub sample_every_ms: f64,
    /// Cortical regions, each holding neuron populations. Default: none (then a `connectome`
    /// gives them).
    #[serde(default)]
    pub regions: Vec<Region>,
    /// Projections between populations.
    #[serde(default)]
    pub projections: Vec<Projection>,
    /// External drive: Poisson spike trains, DC and noise currents.
    #[serde(default)]
    pub inputs: Vec<Input>,
    /// Dopamine: its tonic level, decay and the interval of the modulated weight update, for
    /// projections whose STDP has an eligibility trace. Default: none.
    #[serde(default)]
    pub dopamine: Option<Dopamine>,
    /// Scheduled reward pulses (dopamine). Default: none.
    #[serde(default)]
    pub rewards: Vec<Reward>,
    /// A reward contingent on activity (Izhikevich 2007's distal reward): whenever one neuron fires
    /// shortly after another, dopamine follows after a delay. Default: none.
    #[serde(default)]
    pub pair_reward: Option<PairReward>,
    /// Structural plasticity: spines form, stabilize and are pruned; neurons grow and retract
    /// synaptic elements (docs/MODEL.md). Default: none (the wiring is fixed).
    #[serde(default)]
    pub structure: Option<Structure>,
    /// A behavioural task run trial by trial inside the simulation (cues in, output groups read
    /// out, dopamine on correct responses). Default: none.
    #[serde(default)]
    pub task: Option<Task>,
    /// How biological days map onto simulated time in a protocol. Default: see `Time`.
    #[serde(default)]
    pub time: Time,
    /// A timeline in biological days: training, lesions, rest, rehabilitation, boosters and
    /// probes. Default: none (the scene runs `duration_ms` of plain simulation).
    #[serde(default)]
    pub protocol: Vec<Phase>,
    /// A checkpoint to start from instead of building afresh (a fork): a protocol scene run with
    /// `--checkpoint-every` (or stopped) wrote it at the end of a day; this scene must equal that
    /// one in everything but its name and its protocol from that day on, and continues from there
    /// with its own lesions and sessions. A relative path is relative to the scene file. Default:
    /// none.
    #[serde(default)]
    pub start_from: Option<String>,
    /// Regions, local wiring, long-range tracts and noise input generated from a connectome zip
    /// (The Virtual Brain's format), added after the scene's own `regions`, `projections` and
    /// `inputs` (docs/SCENES.md, "Importing a connectome"). Default: none.
    #[serde(default)]
    pub connectome: Option<Connectome>,
    /// Virtual instruments: what a lab would measure, computed from the run's aggregates and
    /// written beside its other files (docs/SCENES.md, "Readouts"). Default: none.
    #[serde(default)]
    pub readouts: Vec<Readout>,
}

/// One virtual instrument.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub enum Readout {
    /// Tract strength, a DTI-like summary: per tract (source region -> target region), its
    /// synapses and summed weight at each sample, and both relative to the reference sample (the
    /// last before the first lesion; without a lesion, the first), as tractography of a tract is
    /// compared over recovery. Writes `tracts.csv` and the figure `tracts`.
    Tracts(TractsReadout),
    /// BOLD: a Balloon-Windkessel haemodynamic model per region (Friston et al. 2000; the
    /// haemodynamic constants of Stephan et al. 2007), driven by the synaptic input the region
    /// receives, sampled every `tr_ms`. Writes `bold.csv` and the figure `bold`.
    Bold(BoldReadout),
    /// Two-photon-like spine imaging: the structural spines onto the neurons within each field of
    /// view, counted at the end of each imaging day, and how many of those present on each imaging
    /// day survive to later ones (Holtmaat et al. 2005; Mostany et al. 2010). Needs `structure`
    /// and a protocol. Writes `spine_imaging.csv`, `spine_survival.csv` and the figure
    /// `spine_survival`.
    SpineImaging(SpineImagingReadout),
    /// Intracortical microstimulation maps (Nudo et al. 1996): at the end of each mapping day, a
    /// grid of sites across the chosen regions is stimulated one site at a time, with plasticity
    /// frozen, by a train of current pulses into the living neurons near the site, from the
    /// weakest current up; the task's output group that responds and the threshold current are
    /// recorded. The run continues from the state before the mapping, so it changes nothing else.
    /// Needs a task (its output groups are the movements) and a protocol. Writes `icms.csv`,
    /// `icms_areas.csv` and the figure `icms`.
    Icms(IcmsReadout),
    /// An LFP/EEG proxy per region (Mazzoni et al. 2015): from the spikes of every population in
    /// each step, the excitatory and inhibitory synaptic currents they bring to the region, and
    /// `|I_E(t - 6 ms)| - 1.65 |I_I(t)|`; its power spectrum over the first `window_ms` of each
    /// sample interval. Writes `lfp.csv` (band powers and peak per sample and region),
    /// `lfp_spectrum.csv` and the figure `lfp`.
    Lfp(LfpReadout),
}

/// The LFP proxy's window and spectrum.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LfpReadout {
    /// The stretch of each sample interval analysed, from its start (ms, at least 64 steps and
    /// at most 65 536; an interval shorter than it is analysed whole). The spectrum's resolution
    /// is 1000 / window_ms Hz. Default 1000.
    #[serde(default = "thousand_ms")]
    pub window_ms: f64,
    /// The highest frequency written to `lfp_spectrum.csv` (Hz, > 0, at most the Nyquist
    /// frequency 500 / dt_ms). Default 100.
    #[serde(default = "hundred_hz")]
    pub max_hz: f64,
}

fn thousand_ms() -> f64 {
    1000.0
}
fn hundred_hz() -> f64 {
    100.0
}

/// The sites, stimulus and days of ICMS mapping.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcmsReadout {
    /// Regions mapped: a grid of sites `spacing_mm` apart in the x-y plane through each region's
    /// centre, within its radius. Default: none (then `sites` must name some).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Further sites (mm), each inside a region (the one it stimulates). Default: none.
    #[serde(default)]
    pub sites: Vec<(f64, f64, f64)>,
    /// Grid spacing (mm, > 0); each site stands for `spacing_mm^2` of map area. Default 1.0
    /// (chosen, not measured: Nudo et al. 1996 used 250-500 um in squirrel monkey M1, whose
    /// neurons are far denser than a scene's).
    #[serde(default = "one")]
    pub spacing_mm: f64,
    /// The stimulated column: living neurons of the site's region within this distance of the
    /// site in the x-y plane, at any depth (a penetration along z). Default 0.5 mm (chosen, not
    /// measured).
    #[serde(default = "half")]
    pub radius_mm: f64,
    /// Pulse currents tried at each site, increasing, in the neuron model's input current units
    /// (as the task's cue current); the threshold is the first that evokes a response. 1 to 8
    /// values. Default [5, 10, 20, 40] (chosen, not measured).
    #[serde(default = "icms_currents")]
    pub currents: Vec<f64>,
    /// Train length (ms): one-step pulses every `pulse_every_ms` from its start. Defaults 39 and
    /// 3: 13 pulses at 333 Hz (Nudo et al. 1996: 13 pulses at 350 Hz).
    #[serde(default = "thirty_nine")]
    pub train_ms: f64,
    #[serde(default = "three")]
    pub pulse_every_ms: f64,
    /// Quiet time after each train's response window before the next train (ms). Default 50
    /// (chosen, not measured: several membrane time constants).
    #[serde(default = "fifty")]
    pub rest_ms: f64,
    /// The protocol days mapped, 1 to 8 in increasing order, each at its end.
    pub days: Vec<i32>,
}

fn icms_currents() -> Vec<f64> {
    vec![5.0, 10.0, 20.0, 40.0]
}
fn thirty_nine() -> f64 {
    39.0
}

/// The fields and days of spine imaging.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpineImagingReadout {
    /// Fields of view, 1 to 4: the neurons within `radius_mm` of `centre_mm`.
    pub fields: Vec<ImagingField>,
    /// The protocol days imaged, 1 to 8 in increasing order, each at its end.
    pub days: Vec<i32>,
}

/// One field of view (written `Field(...)`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename = "Field")]
pub struct ImagingField {
    /// Centre (mm).
    pub centre_mm: (f64, f64, f64),
    /// Radius (mm, > 0).
    pub radius_mm: f64,
}

/// The BOLD readout's sampling.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoldReadout {
    /// Repetition time: the interval between BOLD samples (ms, simulated time; at least one
    /// step). Default 2000.
    #[serde(default = "two_thousand")]
    pub tr_ms: f64,
    /// Functional connectivity windows: each `(first, last)` protocol day (inclusive), over whose
    /// TR samples every pair of regions is correlated (Pearson). Needs a protocol; each window
    /// within its days, first <= last, and holding at least 3 TR samples. Writes `bold_fc.csv`.
    /// Default: none.
    #[serde(default)]
    pub fc_days: Vec<(i32, i32)>,
    /// The regions whose task activation the laterality index compares between the hemispheres
    /// (a region's side: its `hemisphere`, or else the sign of its centre's x, x < 0 left). Needs
    /// a protocol with sessions or probes. Writes `bold_laterality.csv`. Default: every region
    /// with a side (none written unless both sides have one).
    #[serde(default)]
    pub laterality_regions: Vec<String>,
}

fn two_thousand() -> f64 {
    2000.0
}

/// The tracts a tract-strength readout follows.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TractsReadout {
    /// Tracts as `("SOURCE", "TARGET")` region names, two different regions joined by a
    /// projection or a sprouting rule. Default: every such pair, in region order.
    #[serde(default)]
    pub tracts: Vec<(String, String)>,
}

/// A connectome and how it becomes regions and projections: each row of the zip becomes a region
/// of `neurons_per_region` neurons, 80 % excitatory (`NAME_E`, RegularSpiking) and 20 %
/// inhibitory (`NAME_I`, FastSpiking), wired locally by a fixed template, with long-range
/// excitatory tracts whose connection probability follows the connectome's weights.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connectome {
    /// The zip (centres.txt, weights.txt, tract_lengths.txt, optional areas.txt, cortical.txt,
    /// hemispheres.txt; members plain or .bz2). A relative path is relative to the scene file.
    pub file: String,
    /// Neurons per region (>= 20). The wiring keeps every neuron's expected number of inputs
    /// whatever this is, so it scales the scene alone. Default 1000.
    #[serde(default = "thousand")]
    pub neurons_per_region: u32,
    /// Axonal conduction velocity (m/s = mm/ms): a tract's delay is its length over this (at
    /// least one step). Default 3.
    #[serde(default = "three")]
    pub velocity_m_per_s: f64,
    /// Expected synapses onto each excitatory neuron from the strongest tract's source region;
    /// a tract of weight w brings w / (largest weight) times this. Default 16.
    #[serde(default = "sixteen")]
    pub max_in_degree: f64,
    /// Radius (mm) of a region the zip gives no area for; with `areas.txt`, sqrt(area / pi).
    /// Default 2.
    #[serde(default = "two")]
    pub default_radius_mm: f64,
    /// Read the matrices' rows as sources (`weights[i][j]` from region i to region j) instead of
    /// TVB's rows as targets. Default false.
    #[serde(default)]
    pub rows_are_sources: bool,
    /// Structural plasticity (Butz & van Ooyen 2013) of the generated excitatory population
    /// (`NAME_E`) of every remodeling region (`growth_regions`). Default: none (no generated
    /// population grows).
    #[serde(default)]
    pub growth: Option<Growth>,
    /// Row capacity of the generated E->E projections (the local one and every tract) onto the
    /// excitatory population of every remodeling region, as a multiple of the synapses they make
    /// (1 to 64, no unit): the empty slots where new spines form. Chosen, not measured. Default 1
    /// (no empty slots).
    #[serde(default = "one")]
    pub headroom: f64,
    /// The remodeling regions (generated region names) that `growth` and `headroom` apply to.
    /// Default: every cortical region when the zip has `cortical.txt`, else every region.
    #[serde(default)]
    pub growth_regions: Option<Vec<String>>,
    /// Tracts, as `(source, target)` region names, that the connectome does not generate: the
    /// scene's own projections between the two excitatory populations stand in for them (a
    /// plastic projection must be the only one between its populations). Default: none.
    #[serde(default)]
    pub omit_tracts: Vec<(String, String)>,
}

impl Connectome {
    /// The defaults for the zip `file`, as a scene that gives only `file` gets them.
    pub fn new(file: impl Into<String>) -> Self {
        Connectome {
            file: file.into(),
            neurons_per_region: thousand(),
            velocity_m_per_s: three(),
            max_in_degree: sixteen(),
            default_radius_mm: two(),
            rows_are_sources: false,
            growth: None,
            headroom: one(),
            growth_regions: None,
            omit_tracts: Vec::new(),
        }
    }
}

fn thousand() -> u32 {
    1000
}

fn three() -> f64 {
    3.0
}

fn sixteen() -> f64 {
    16.0
}

/// How a protocol's biological days become simulated time (docs/MODEL.md, "Days and simulated
/// time"). With `day_ms` (the biological clock), every day stands for the same simulated time:
/// its sessions run trial by trial inside it, the rest of it runs offline (spontaneous activity),
/// structural updates run `structural_updates_per_day` times a day at one rate whatever the day
/// holds, and probes are assays outside the clock (plasticity frozen). Without it, each day runs
/// its sessions, its probe, then an offline phase of `offline_ms` in which structural and
/// homeostatic updates run `offline_speedup` times faster (the legacy mapping: a training day then
/// holds more rewiring than a rest day).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Time {
    /// Simulated ms that stand for one biological day (24 h). Default: none (legacy mapping).
    pub day_ms: Option<f64>,
    /// Structural updates per day with `day_ms` (>= 1): the structure's interval becomes
    /// `day_ms / structural_updates_per_day` and its speedup `86 400 000 / day_ms`. Default 10.
    pub structural_updates_per_day: Option<u32>,
    /// Legacy mapping: simulated ms of each day's offline phase (rest and sleep). Default 2000.
    pub offline_ms: Option<f64>,
    /// Legacy mapping: factor on structural and homeostatic rates in offline phases (>= 1).
    /// Default 10.
    pub offline_speedup: Option<f64>,
}

/// Biological ms in a day.
pub const DAY_MS: f64 = 86_400_000.0;

/// A behavioural task. Cue k drives neurons `k * neurons .. (k + 1) * neurons` of the cue
/// population; output group g is neurons `g * neurons .. (g + 1) * neurons` of the output
/// population, and cue k asks for group k. A trial: the cue is on from 0 to `cue_ms`; spikes of
/// each output group are counted from `window_ms.0` to `window_ms.1`; the response is the group
/// with most spikes if it has at least `outputs.threshold` (a tie or a weaker output is no
/// response); a correct response in a training trial
/// releases dopamine; the trial lasts `trial_ms`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub cues: Cues,
    pub outputs: Outputs,
    /// Trial length (ms), cue onset to the next cue onset. Default 400.
    #[serde(default = "four_hundred")]
    pub trial_ms: f64,
    /// Dopamine released on a correct training response. Default: see `TaskReward`.
    #[serde(default)]
    pub reward: TaskReward,
    /// Current into the correct output group during the cue in training trials (a therapist's
    /// guidance; model units, as `Dc`). Default 0.
    #[serde(default)]
    pub guidance: f64,
    /// Populations beyond the outputs whose group k also takes the guidance current when cue k is
    /// guided: the proprioceptive and efference drive a guided movement gives motor cortex when the
    /// response is read downstream (an effector). Group k is neurons `k * outputs.neurons ..
    /// (k + 1) * outputs.neurons` of each, as in the outputs; they are never counted as responses.
    /// Chosen, not measured. Default: none.
    #[serde(default)]
    pub guided: Vec<String>,
    /// Trial-to-trial variability: SD of the cue amplitude as a fraction of it (cue jitter), and
    /// of the background input rates around their set value (context jitter). Default 0.
    #[serde(default)]
    pub variability: f64,
    /// A transfer task: a second cue set sharing `shared` of each trained cue's neurons (the rest
    /// new neurons of the cue population), probed but never trained. Default: none.
    #[serde(default)]
    pub transfer: Option<Transfer>,
    /// A distractor task (cognitive): each probe cue comes with a second, different cue at
    /// `strength` times the amplitude; the trained response to the first must win. Default: none.
    #[serde(default)]
    pub distractor: Option<Distractor>,
}

fn four_hundred() -> f64 {
    400.0
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cues {
    /// The population the cues drive.
    pub population: String,
    /// Number of cues (1..=8).
    pub count: u32,
    /// Neurons per cue.
    pub neurons: u32,
    /// Cue current (model units, as `Dc`).
    pub current: f64,
    /// Cue duration (ms). Default 50.
    #[serde(default = "fifty")]
    pub cue_ms: f64,
}

fn fifty() -> f64 {
    50.0
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outputs {
    /// The population holding the output groups.
    pub population: String,
    /// Neurons per output group (one group per cue).
    pub neurons: u32,
    /// Response window after cue onset (ms). Default (10, 110).
    #[serde(default = "default_window")]
    pub window_ms: (f64, f64),
    /// Spikes the winning group needs in the window for a response (movement initiation); a
    /// weaker output is no response. Default 1.
    #[serde(default = "one_u32")]
    pub threshold: u32,
}

fn default_window() -> (f64, f64) {
    (10.0, 110.0)
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaskReward {
    /// Dopamine per correct response. Default 0.5.
    pub amount: f64,
    /// Dopamine on an error or no response (<= 0: a dip below baseline, the negative reward
    /// prediction error of Schultz et al. 1997). Default 0.
    pub error: f64,
    /// Delay after the response window closes (ms). Default 0.
    pub delay_ms: f64,
    /// Region receiving it. Default: every region.
    pub region: Option<String>,
}

impl Default for TaskReward {
    fn default() -> Self {
        TaskReward {
            amount: 0.5,
            error: 0.0,
            delay_ms: 0.0,
            region: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// Fraction of each transfer cue's neurons taken from the trained cue (0..=1).
    pub shared: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distractor {
    /// Distractor amplitude relative to the cue (0..1).
    pub strength: f64,
}

/// One entry of a protocol. Days are biological days, the lesion day usually 0; a range
/// `(a, b)` includes both ends.
#[derive(Clone, Debug, Deserialize)]
pub enum Phase {
    /// Training sessions on the task before any lesion (so there is a skill to lose).
    Train(Sessions),
    /// Rehabilitation: training sessions after a lesion (refused before the first lesion).
    Rehab(Sessions),
    /// Booster sessions on single days after a lesion.
    Booster(Booster),
    /// A lesion at the start of a day.
    Lesion(Lesion),
    /// Days with no training (stated for readability; the offline phases run every day).
    Rest(Rest),
    /// Probe trials with plasticity frozen, at the end of the day, every `every_days` days.
    Probe(Probe),
    /// A drug or stimulation over days (tonic inhibition, excitability, plasticity).
    Drug(Drug),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// First and last day (inclusive).
    pub days: (i32, i32),
    /// Sessions per day. Default 1.
    #[serde(default = "one_u32")]
    pub sessions_per_day: u32,
    /// Trials per session (the dose).
    pub trials: u32,
    /// Overrides the task's guidance current in these sessions.
    #[serde(default)]
    pub guidance: Option<f64>,
    /// Overrides the task's variability in these sessions.
    #[serde(default)]
    pub variability: Option<f64>,
    /// Whether correct responses release dopamine. Default true.
    #[serde(default = "yes")]
    pub reward: bool,
    /// Neuromodulation during sessions: per region, a factor on its neurons' input (excitability)
    /// and on the learning rate of synapses onto them (plasticity). Default: none.
    #[serde(default)]
    pub neuromodulation: std::collections::BTreeMap<String, Modulation>,
    /// Enrichment: a factor on the rate of every background Poisson input during these days
    /// (sessions and offline phases). Default 1.
    #[serde(default = "one")]
    pub enrichment: f64,
}

fn one_u32() -> u32 {
    1
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Modulation {
    /// Factor on input current (excitability). Default 1.
    pub excitability: f64,
    /// Factor on the learning rate of synapses onto the region. Default 1.
    pub plasticity: f64,
}

impl Default for Modulation {
    fn default() -> Self {
        Modulation {
            excitability: 1.0,
            plasticity: 1.0,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Booster {
    /// Days with one booster session each.
    pub days: Vec<i32>,
    pub trials: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rest {
    pub days: (i32, i32),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// Probe every this many days (counted from the protocol's first day). Default 1.
    #[serde(default = "one_u32")]
    pub every_days: u32,
    /// Probe trials per task (motor, and transfer and distractor when the task has them).
    pub trials: u32,
    /// Also probe on these days. Default: none.
    #[serde(default)]
    pub extra_days: Vec<i32>,
}

/// A lesion: neurons die (their synapses with them) or a tract is cut, at the start of `day`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesion {
    pub day: i32,
    pub kind: LesionKind,
    /// The heightened-plasticity window the lesion opens. Default: none.
    #[serde(default)]
    pub window: Option<Window>,
}

#[derive(Clone, Debug, Deserialize)]
pub enum LesionKind {
    /// Every neuron within `core_mm` of the centre dies; survivors within a further
    /// `penumbra_mm` lose `excitability_loss` of their input (linearly less towards the edge),
    /// recovering with time constant `recovery_days` (an imposed time course: `excitability_loss:
    /// 0` turns it off and leaves recovery to the network's mechanisms). The centre is `centre_mm` (mm) or the
    /// centre of the region named by `region` (give one of the two).
    Focal {
        #[serde(default)]
        centre_mm: Option<(f64, f64, f64)>,
        #[serde(default)]
        region: Option<String>,
        core_mm: f64,
        #[serde(default)]
        penumbra_mm: f64,
        #[serde(default = "half")]
        excitability_loss: f64,
        #[serde(default = "seven")]
        recovery_days: f64,
        /// Peri-infarct tonic inhibition in the penumbra. Default: none.
        #[serde(default)]
        tonic_inhibition: Option<Tonic>,
    },
    /// A random `fraction` of a population's neurons dies.
    Fraction { population: String, fraction: f64 },
    /// A random `fraction` (default 1: all) of the neurons of every population of the region
    /// named `name` dies: a region lesion by label (e.g. an imported connectome's "rM1").
    Region {
        name: String,
        #[serde(default = "one")]
        fraction: f64,
    },
    /// Every synapse from a neuron of region `from` onto one of region `to` is removed.
    TractCut { from: String, to: String },
}

fn seven() -> f64 {
    7.0
}

/// A heightened-plasticity window. Each weight change of a synapse onto a surviving neuron (the
/// STDP step of a plain rule, the dopamine-gated step of a modulated one) is multiplied once by
/// `1 + n (learning(days) - 1)`, and its elements' growth by `1 + n (growth(days) - 1)`, with
/// `days` since the lesion and `n = exp(-distance beyond the lesion's edge / radius_mm)` (for
/// fraction and region lesions and tract cuts, `n = 1` in the affected region). Give the curves,
/// or the shorthand `boost` and `decay_days` for `Exponential(peak: boost, decay_days)` on both.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Shorthand: peak factor (>= 1) of an exponential window on learning and growth alike.
    #[serde(default)]
    pub boost: Option<f64>,
    /// Shorthand: its decay time constant (days, > 0).
    #[serde(default)]
    pub decay_days: Option<f64>,
    /// The factor on learning over days since the lesion. Default: `Constant(1)` (off) unless the
    /// shorthand is given.
    #[serde(default)]
    pub learning: Option<Curve>,
    /// The factor on element growth over days since the lesion. Default as `learning`.
    #[serde(default)]
    pub growth: Option<Curve>,
    /// Spatial reach beyond the lesion's edge (mm, > 0). Default 2.
    #[serde(default = "two")]
    pub radius_mm: f64,
}

/// A time course over days since a lesion (a factor for windows, a share of the amplitude for
/// tonic inhibition).
#[derive(Clone, Debug, Deserialize)]
pub enum Curve {
    /// The same value every day (`Constant(1)`: a window that is off).
    Constant(f64),
    /// `1 + (peak - 1) exp(-days / decay_days)`: the window's classic form.
    Exponential { peak: f64, decay_days: f64 },
    /// Straight lines between `(day, value)` points, days in ascending order; held at the first
    /// value before the first day and at the last after the last.
    Points(Vec<(f64, f64)>),
    /// The time course of growth-promoting gene expression in peri-infarct cortex (Carmichael et
    /// al. 2005: induced within days, largely gone within about a month), as points: 1 on day 0,
    /// `peak` from day 3 to day 7, halfway back by day 14, 1 from day 28. The shape's days are
    /// read off the paper's time course (chosen, not fitted).
    Carmichael { peak: f64 },
}

/// Peri-infarct tonic inhibition (Clarkson et al. 2010): an extra inhibitory current into the
/// survivors of a focal lesion's penumbra, `current x course(days) x p`, `p` 1 at the core's edge
/// falling linearly to 0 at the penumbra's; a `Drug` with `tonic_inhibition` scales it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tonic {
    /// Amplitude at the core's edge (the neuron model's input current: pA for LIF and
    /// IafPscAlpha, Izhikevich's dimensionless current; for IafCondExp a conductance in nS toward
    /// E_in, shunting), >= 0. Chosen, not measured (the paper measured a doubled tonic
    /// GABA-A current, not a model input).
    pub current: f64,
    /// Its time course, a share of the amplitude in [0, 1]. Default: rises from 0 on day 0 to 1 on
    /// day 3 and stays to day 28, back to 0 by day 42: raised over days 3-14 as measured, the rest
    /// chosen, not measured.
    #[serde(default = "tonic_course")]
    pub course: Curve,
}

fn tonic_course() -> Curve {
    Curve::Points(vec![(0.0, 0.0), (3.0, 1.0), (28.0, 1.0), (42.0, 0.0)])
}

/// A drug or stimulation over days: factors on tonic inhibition (every lesion's, as a systemic
/// drug), and on the excitability and plasticity of a region's neurons (or of every region) for
/// whole days (sessions, probes and the rest of the day).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drug {
    /// First and last day (inclusive).
    pub days: (i32, i32),
    /// Region it acts on (excitability and plasticity). Default: every region.
    #[serde(default)]
    pub region: Option<String>,
    /// Factor on peri-infarct tonic inhibition (>= 0; Clarkson et al.'s alpha5 inverse agonist
    /// L655,708 reduced it). Default 1.
    #[serde(default = "one")]
    pub tonic_inhibition: f64,
    /// Factor on its neurons' input (>= 0). Default 1.
    #[serde(default = "one")]
    pub excitability: f64,
    /// Factor on learning of synapses onto its neurons (>= 0). Default 1.
    #[serde(default = "one")]
    pub plasticity: f64,
}

fn two() -> f64 {
    2.0
}

/// Structural plasticity of the scene. Every `every_ms` of simulated time, an update stands for
/// `every_ms * speedup` of biological time: growth and spine rates are per biological ms.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Structure {
    /// Interval between structural updates (ms, whole steps). Default 100; set by the scene's
    /// biological clock (`time: Time(day_ms, structural_updates_per_day)`) when it has one.
    #[serde(default)]
    pub every_ms: Option<f64>,
    /// Biological time per simulated time in structural updates (>= 1 lets slow growth fit in
    /// shorter simulated phases). Default 1; set by the biological clock when the scene has one.
    #[serde(default)]
    pub speedup: Option<f64>,
    /// Which synapses form and retract: one rule per (source, target) population pair.
    #[serde(default)]
    pub sprouting: Vec<Sprout>,
    /// The spine life cycle. Default: see `Spines`.
    #[serde(default)]
    pub spines: Spines,
    /// The neurotrophin level that speeds stabilization. Default: see `Neurotrophin`.
    #[serde(default)]
    pub neurotrophin: Neurotrophin,
    /// Glial support per region (> 0): multiplies stabilization and divides nascent pruning.
    /// Default 1 for every region.
    #[serde(default)]
    pub glia: std::collections::BTreeMap<String, f64>,
    /// Spines at least this old (biological ms) count as persistent. Default 8.64e7 (one day).
    #[serde(default = "one_day")]
    pub persistent_after_ms: f64,
    /// The point that formation and elimination distances are measured from (mm). Default: the
    /// first region's centre.
    #[serde(default)]
    pub turnover_from_mm: Option<(f64, f64, f64)>,
    /// Upper edges of the distance bins (mm, ascending); a last bin holds everything beyond.
    /// Default [0.25, 0.5, 1, 2].
    #[serde(default = "default_bins")]
    pub distance_bins_mm: Vec<f64>,
    /// Whether validation checks the stability rules of structural plasticity (growth per update
    /// at most half an element; in a protocol, calcium's time constant at most a third of a day).
    /// Default true. `false` is for engine tests that stress the structural stages with fast
    /// growth; such a scene's rewiring is not resolved in time, and it may not have a protocol.
    #[serde(default = "yes")]
    pub check_stability: bool,
}

fn one_day() -> f64 {
    8.64e7
}
fn default_bins() -> Vec<f64> {
    vec![0.25, 0.5, 1.0, 2.0]
}

/// A sprouting rule: synapses from population `from` onto `to` form in free spines, with
/// partners drawn with probability proportional to free boutons times
/// min(1, gain exp(-d^2 / length_mm^2)), d the distance between source and target as `distance`
/// says: measured from their regions' centres (topographic, the default: a projection between
/// regions keeps its tract and maps topographically) or between their positions (absolute:
/// sprouting within a radius, across the borders of nearby regions, as ventral premotor axons
/// grow into somatosensory cortex after an M1 lesion, Dancause et al. 2005).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sprout {
    pub from: String,
    pub to: String,
    /// Sprouting length (mm, > 0).
    pub length_mm: f64,
    /// Weight of a new synapse. Default: the typical weight of the projection `from` -> `to`.
    #[serde(default)]
    pub weight: Option<f64>,
    /// Delay of a new synapse (ms). Default: the typical delay of the projection `from` -> `to`.
    #[serde(default)]
    pub delay_ms: Option<f64>,
    /// Whether a neuron may connect to itself. Default false.
    #[serde(default)]
    pub autapses: bool,
    /// How the distance d between a candidate source and the target is measured. Default
    /// `Topographic`.
    #[serde(default)]
    pub distance: SproutDistance,
    /// Growth factor of the source side (>= 0, no unit): a candidate is accepted with probability
    /// min(1, gain exp(-d^2 / length_mm^2)). Chosen, not measured: 1 (the default) is the plain
    /// rule, 0 forms no new synapses of the pair (a control arm).
    #[serde(default = "one")]
    pub gain: f64,
    /// The dendritic element the rule's synapses take on a target with element types
    /// (`DendriteEx` or `DendriteIn`, of the same sign as the source's axon). Default: the one
    /// matching the source's axon type (its `elements`, or else the sign of `weight`).
    #[serde(default)]
    pub dendrite: Option<ElementKind>,
}

/// How a sprouting rule measures the distance between a candidate source and the target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum SproutDistance {
    /// Between the two neurons' offsets from their regions' centres (mm): within a region the
    /// plain distance, between regions a tract that maps topographically.
    #[default]
    Topographic,
    /// Between the two neurons' positions (mm): sprouting within a radius, crossing region
    /// borders where regions are near each other.
    Absolute,
}

/// The spine life cycle (biological times). A new spine is nascent (thin); a nascent spine with
/// |w| >= `stabilize_above_w` that has lived `stabilize_after_ms` stabilizes (mushroom) at rate
/// neurotrophin x glia / `stabilize_tau_ms`; other nascent spines are pruned at rate
/// 1 / (glia x `nascent_lifetime_ms`); stable spines are pruned at 1 / `stable_lifetime_ms`, or at
/// the nascent rate when |w| < `prune_below_w`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Spines {
    /// Default 0 (any weight).
    pub stabilize_above_w: f64,
    /// Default 0.
    pub stabilize_after_ms: f64,
    /// Default 8.64e7 (one day).
    pub stabilize_tau_ms: f64,
    /// Default 1.728e8 (two days: thin spines turn over in days).
    pub nascent_lifetime_ms: f64,
    /// Default 2.592e9 (30 days).
    pub stable_lifetime_ms: f64,
    /// Default 0 (no weight-dependent pruning).
    pub prune_below_w: f64,
}

impl Default for Spines {
    fn default() -> Self {
        Spines {
            stabilize_above_w: 0.0,
            stabilize_after_ms: 0.0,
            stabilize_tau_ms: 8.64e7,
            nascent_lifetime_ms: 1.728e8,
            stable_lifetime_ms: 2.592e9,
            prune_below_w: 0.0,
        }
    }
}

/// A per-neuron neurotrophin level n (1 at the set point): at each structural update
/// n <- n d + (1 - d) Ca / eps + reward_gain x dopamine of the region, d = exp(-interval / tau).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Neurotrophin {
    /// Time constant (biological ms). Default 8.64e7 (one day).
    pub tau_ms: f64,
    /// Rise per unit of dopamine at an update. Default 1.
    pub reward_gain: f64,
}

impl Default for Neurotrophin {
    fn default() -> Self {
        Neurotrophin {
            tau_ms: 8.64e7,
            reward_gain: 1.0,
        }
    }
}

/// Homeostatic growth of synaptic elements (Butz & van Ooyen 2013, NEST's Gaussian growth
/// curve): calcium dCa/dt = -Ca / tau_ca + beta_ca per spike; boutons and spines change at
/// dz/dt = nu (2 exp(-((Ca - xi) / zeta)^2) - 1), xi = (eta + eps) / 2,
/// zeta = (eps - eta) / (2 sqrt(ln 2)): they grow for eta < Ca < eps and retract outside.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Growth {
    /// Minimum calcium for growth. Default 0.
    pub eta: f64,
    /// Target calcium (the set point). Default 0.05 (5 Hz with the defaults).
    pub eps: f64,
    /// Growth rate (elements per biological ms, >= 0). Default 1e-4.
    pub nu_per_ms: f64,
    /// Calcium time constant (ms of simulated time). Default 10 000.
    pub tau_ca_ms: f64,
    /// Calcium per spike. Default 0.001.
    pub beta_ca: f64,
    /// Calcium at the start (same unit as eps). Default: eps, a network that starts at its set
    /// point (an intact network before a lesion or a deafferentation). 0 is a network that has
    /// not been active yet, as NEST starts it (a network grown from no synapses).
    pub calcium_init: Option<f64>,
    /// Fraction of each element type's vacant (unconnected) elements lost at every structural
    /// update, after new synapses form (0 to 1; NEST's `tau_vacant`, 0.1 there). Default 0:
    /// vacant elements stay until the growth curve removes them.
    pub vacant_decay: f64,
    /// Synaptic element types, each growing on its own curve (Butz & van Ooyen 2013; NEST's
    /// Axon_ex, Axon_in, Den_ex and Den_in): at most one axon type, and the dendrite types the
    /// population's spines come in. A sprouting rule's synapses join an axon of the source with
    /// the dendrite of the same sign on the target, and retraction deletes synapses of the type
    /// that shrank. Default none: one pool of boutons and one of spines, both on the curve
    /// above, every sprouting rule onto the population filling the one spine pool.
    pub elements: Vec<Element>,
}

impl Default for Growth {
    fn default() -> Self {
        Growth {
            eta: 0.0,
            eps: 0.05,
            nu_per_ms: 1e-4,
            tau_ca_ms: 1e4,
            beta_ca: 0.001,
            calcium_init: None,
            vacant_decay: 0.0,
            elements: Vec::new(),
        }
    }
}

/// One synaptic element type of a growing population and its growth curve (as `Growth`'s; each
/// field defaults to the population's).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Element {
    pub kind: ElementKind,
    /// Minimum calcium for growth.
    #[serde(default)]
    pub eta: Option<f64>,
    /// The element's calcium set point.
    #[serde(default)]
    pub eps: Option<f64>,
    /// Growth rate (elements per biological ms, 0 to 1).
    #[serde(default)]
    pub nu_per_ms: Option<f64>,
    /// The most elements of this type a neuron holds (1 to 65 535): growth stops there, and a
    /// pool above it (as built) retracts to it. Default 65 535 (MAX_ELEMENTS, no limit in practice).
    #[serde(default)]
    pub capacity: Option<u32>,
}

/// Synaptic element types: an excitatory or inhibitory axon (boutons), excitatory or inhibitory
/// dendrite (spines).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum ElementKind {
    AxonEx,
    AxonIn,
    DendriteEx,
    DendriteIn,
}

/// Rewards the sequence "neuron `pre` fires, then within `window_ms` neuron `post` fires" with
/// `amount` of dopamine after a delay drawn uniformly from `delay_ms` (whole steps).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairReward {
    /// Population and index within it of the presynaptic neuron.
    pub pre: (String, u32),
    /// Population and index within it of the postsynaptic neuron.
    pub post: (String, u32),
    /// Window after a `pre` spike in which a `post` spike counts (ms). Default 20.
    #[serde(default = "twenty")]
    pub window_ms: f64,
    /// Reward delay range (ms). Default (1000, 3000).
    #[serde(default = "one_to_three_s")]
    pub delay_ms: (f64, f64),
    /// Dopamine per reward. Default 0.5.
    #[serde(default = "half")]
    pub amount: f64,
    /// Region receiving it. Default: every region.
    #[serde(default)]
    pub region: Option<String>,
    /// Sets every synapse from `pre` onto `post` to this weight at the start (Izhikevich starts the
    /// rewarded synapse at 0). Default: as drawn.
    #[serde(default)]
    pub start_weight: Option<f64>,
}

fn twenty() -> f64 {
    20.0
}
fn one_to_three_s() -> (f64, f64) {
    (1000.0, 3000.0)
}

/// Dopamine per region (Izhikevich 2007): DA decays with `tau_ms`, rewards add to it, and every
/// `update_every_ms` each modulated synapse changes by (tonic + DA) times its eligibility.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dopamine {
    /// Baseline added to DA in the weight update (per update). Default 0.002.
    pub tonic: f64,
    /// Decay time constant of DA (ms). Default 200 (x0.995 per ms).
    pub tau_ms: f64,
    /// Interval of the modulated weight update (ms). Default 10.
    pub update_every_ms: f64,
}

impl Default for Dopamine {
    fn default() -> Self {
        Dopamine {
            tonic: 0.002,
            tau_ms: 200.0,
            update_every_ms: 10.0,
        }
    }
}

/// A reward: dopamine added at a time, to one region or to all.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    /// When (ms); rounded to a step.
    pub at_ms: f64,
    /// Dopamine added. Default 0.5 (Izhikevich 2007).
    #[serde(default = "half")]
    pub amount: f64,
    /// The region that receives it. Default: every region.
    #[serde(default)]
    pub region: Option<String>,
}

fn half() -> f64 {
    0.5
}

fn default_sample_every() -> f64 {
    100.0
}

/// A region: a ball of cortex at a position, holding populations.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Unique region name.
    pub name: String,
    /// Centre in mm (any fixed frame, e.g. MNI).
    pub centre_mm: (f64, f64, f64),
    /// Radius in mm; neurons are placed uniformly in the ball.
    pub radius_mm: f64,
    /// Inner radius in mm: neurons are placed in the shell between it and `radius_mm` (a
    /// surround enclosing another region). Default 0 (a ball).
    #[serde(default)]
    pub inner_radius_mm: f64,
    /// The hemisphere the region lies in (`Left` or `Right`): statistics are also aggregated per
    /// hemisphere (hemispheres.csv, hemisphere_connectivity.csv) when any region has one.
    /// Default: none.
    #[serde(default)]
    pub hemisphere: Option<Hemisphere>,
    /// The populations of this region.
    pub populations: Vec<Population>,
}

/// A cerebral hemisphere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Hemisphere {
    Left,
    Right,
}

impl Hemisphere {
    /// The name written in output files.
    pub fn name(self) -> &'static str {
        match self {
            Hemisphere::Left => "left",
            Hemisphere::Right => "right",
        }
    }
}

/// A population: neurons of one model inside a region.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Unique population name (across all regions).
    pub name: String,
    /// Number of neurons.
    pub count: u32,
    /// Neuron model and its parameters.
    pub model: NeuronModel,
    /// Homeostatic synaptic scaling of the synapses onto this population. Default: none.
    #[serde(default)]
    pub scaling: Option<Scaling>,
    /// Homeostatic growth of synaptic elements (structural plasticity). Default: none.
    #[serde(default)]
    pub growth: Option<Growth>,
    /// Synapse slots per neuron (its dendrite's capacity); at least the neuron's initial
    /// in-degree. Default: the in-degree times each projection's `headroom`.
    #[serde(default)]
    pub capacity: Option<u32>,
}

/// Homeostatic synaptic scaling (Turrigiano et al. 1998): each neuron's rate estimate a (Hz) is a
/// spike trace with time constant `activity_tau_ms`; every `update_every_ms` its incoming
/// excitatory weights are multiplied by 1 + u (target - a) / (target tau) and its inhibitory
/// weights by 1 - u (target - a) / (target tau), u the interval (docs/MODEL.md).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scaling {
    /// Set point of the rate (Hz, > 0).
    pub target_hz: f64,
    /// Time constant of the scaling (ms): hours to days in cortex. Default 3.6e6 (1 h).
    #[serde(default = "one_hour")]
    pub tau_ms: f64,
    /// Time constant of the rate estimate (ms). Default 10 000.
    #[serde(default = "ten_s")]
    pub activity_tau_ms: f64,
    /// Interval of the update (ms); the same for every scaled population. Default 100.
    #[serde(default = "hundred")]
    pub update_every_ms: f64,
}

fn one_hour() -> f64 {
    3.6e6
}
fn ten_s() -> f64 {
    1e4
}
fn hundred() -> f64 {
    100.0
}

/// A neuron model. Every parameter may be a constant or a distribution (see [`Param`]).
#[derive(Clone, Debug, Deserialize)]
pub enum NeuronModel {
    /// Izhikevich (2003) simple model; v in mV, t in ms, currents in the model's own units.
    Izhikevich(IzhikevichParams),
    /// Izhikevich regular spiking: a=0.02 b=0.2 c=-65 d=8 (Izhikevich 2003).
    RegularSpiking,
    /// Izhikevich fast spiking: a=0.1 b=0.2 c=-65 d=2 (Izhikevich 2003).
    FastSpiking,
    /// Leaky integrate-and-fire with exponential current synapses (NEST iaf_psc_exp).
    Lif(LifParams),
    /// NEST's iaf_psc_alpha: LIF with alpha-shaped postsynaptic currents, separate excitatory and
    /// inhibitory time constants, exact integration (Rotter & Diesmann 1999). A weight (pA) is
    /// the current's peak: positive weights excitatory, negative inhibitory.
    IafPscAlpha(PscAlphaParams),
    /// NEST's iaf_cond_exp: LIF with exponentially decaying excitatory and inhibitory
    /// conductances. A weight is the conductance jump (nS): positive weights excitatory, negative
    /// ones inhibitory as |w|. The penumbra's tonic inhibition is a conductance (nS) toward E_in.
    IafCondExp(CondExpParams),
    /// A Poisson spike train that ignores its input (NEST's poisson_generator through a parrot
    /// neuron): spikes in each step with probability rate * dt. For input layers and benchmarks.
    SpikeSource(SpikeSourceParams),
    /// Spikes at fixed times: every `period_ms`, first at `phase_ms` (NEST's spike_generator for
    /// regular trains). For protocols such as STDP pairings.
    Periodic(PeriodicParams),
}

/// Periodic spike train parameters (rounded to whole steps).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodicParams {
    /// Interval between spikes (ms), at least one step.
    pub period_ms: f64,
    /// Time of the first spike (ms). Default 0.
    #[serde(default)]
    pub phase_ms: f64,
    /// Number of spikes; default: no end.
    #[serde(default)]
    pub count: Option<u32>,
}

/// Spike source parameters.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeSourceParams {
    /// Mean rate (Hz); at most 1 / dt.
    pub rate_hz: Param,
}

/// Izhikevich parameters: v' = 0.04v^2 + 5v + 140 - u + I, u' = a(bv - u); v >= 30 mV: v <- c, u <- u + d.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IzhikevichParams {
    /// Recovery time scale (1/ms).
    pub a: Param,
    /// Recovery sensitivity to v.
    pub b: Param,
    /// Reset potential (mV).
    pub c: Param,
    /// Recovery jump after a spike.
    pub d: Param,
    /// Initial membrane potential (mV); u starts at b * v. Default -65 mV.
    #[serde(default = "default_izh_v")]
    pub v_init_mv: Param,
}

fn default_izh_v() -> Param {
    Param::Const(-65.0)
}

/// LIF parameters. Defaults are the Potjans & Diesmann (2014) values.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifParams {
    /// Membrane capacitance (pF). Default 250.
    pub c_m_pf: Param,
    /// Membrane time constant (ms). Default 10.
    pub tau_m_ms: Param,
    /// Synaptic current time constant (ms). Default 0.5.
    pub tau_syn_ms: Param,
    /// Absolute refractory period (ms, rounded to steps). Default 2.
    pub t_ref_ms: Param,
    /// Resting potential (mV). Default -65.
    pub e_l_mv: Param,
    /// Reset potential (mV). Default -65.
    pub v_reset_mv: Param,
    /// Spike threshold (mV). Default -50.
    pub v_th_mv: Param,
    /// Constant bias current (pA). Default 0.
    pub i_e_pa: Param,
    /// Initial membrane potential (mV). Default: E_L.
    pub v_init_mv: Option<Param>,
}

impl Default for LifParams {
    fn default() -> Self {
        LifParams {
            c_m_pf: Param::Const(250.0),
            tau_m_ms: Param::Const(10.0),
            tau_syn_ms: Param::Const(0.5),
            t_ref_ms: Param::Const(2.0),
            e_l_mv: Param::Const(-65.0),
            v_reset_mv: Param::Const(-65.0),
            v_th_mv: Param::Const(-50.0),
            i_e_pa: Param::Const(0.0),
            v_init_mv: None,
        }
    }
}

/// iaf_psc_alpha parameters. Defaults are NEST's (models/iaf_psc_alpha.cpp).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PscAlphaParams {
    /// Membrane capacitance (pF). Default 250.
    pub c_m_pf: Param,
    /// Membrane time constant (ms). Default 10.
    pub tau_m_ms: Param,
    /// Rise time of the excitatory alpha current, the time of its peak (ms). Default 2.
    pub tau_syn_ex_ms: Param,
    /// Rise time of the inhibitory alpha current (ms). Default 2.
    pub tau_syn_in_ms: Param,
    /// Absolute refractory period (ms, rounded to steps). Default 2.
    pub t_ref_ms: Param,
    /// Resting potential (mV). Default -70.
    pub e_l_mv: Param,
    /// Reset potential (mV). Default -70.
    pub v_reset_mv: Param,
    /// Spike threshold (mV). Default -55.
    pub v_th_mv: Param,
    /// Constant bias current (pA). Default 0.
    pub i_e_pa: Param,
    /// Initial membrane potential (mV). Default: E_L.
    pub v_init_mv: Option<Param>,
}

impl Default for PscAlphaParams {
    fn default() -> Self {
        PscAlphaParams {
            c_m_pf: Param::Const(250.0),
            tau_m_ms: Param::Const(10.0),
            tau_syn_ex_ms: Param::Const(2.0),
            tau_syn_in_ms: Param::Const(2.0),
            t_ref_ms: Param::Const(2.0),
            e_l_mv: Param::Const(-70.0),
            v_reset_mv: Param::Const(-70.0),
            v_th_mv: Param::Const(-55.0),
            i_e_pa: Param::Const(0.0),
            v_init_mv: None,
        }
    }
}

/// iaf_cond_exp parameters. Defaults are NEST's (models/iaf_cond_exp.cpp).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CondExpParams {
    /// Membrane capacitance (pF). Default 250.
    pub c_m_pf: Param,
    /// Leak conductance (nS). Default 16.6667 (tau_m = C_m / g_L = 15 ms). Give this or
    /// `tau_m_ms`, not both.
    pub g_l_ns: Option<Param>,
    /// Membrane time constant (ms), instead of `g_l_ns`: g_L = C_m / tau_m.
    pub tau_m_ms: Option<Param>,
    /// Decay time constant of the excitatory conductance (ms). Default 0.2.
    pub tau_syn_ex_ms: Param,
    /// Decay time constant of the inhibitory conductance (ms). Default 2.
    pub tau_syn_in_ms: Param,
    /// Absolute refractory period (ms, rounded to steps). Default 2.
    pub t_ref_ms: Param,
    /// Leak reversal (resting) potential (mV). Default -70.
    pub e_l_mv: Param,
    /// Excitatory reversal potential (mV). Default 0.
    pub e_ex_mv: Param,
    /// Inhibitory reversal potential (mV), below the threshold. Default -85.
    pub e_in_mv: Param,
    /// Reset potential (mV). Default -60.
    pub v_reset_mv: Param,
    /// Spike threshold (mV). Default -55.
    pub v_th_mv: Param,
    /// Constant bias current (pA). Default 0.
    pub i_e_pa: Param,
    /// Initial membrane potential (mV). Default: E_L.
    pub v_init_mv: Option<Param>,
}

impl Default for CondExpParams {
    fn default() -> Self {
        CondExpParams {
            c_m_pf: Param::Const(250.0),
            g_l_ns: None,
            tau_m_ms: None,
            tau_syn_ex_ms: Param::Const(0.2),
            tau_syn_in_ms: Param::Const(2.0),
            t_ref_ms: Param::Const(2.0),
            e_l_mv: Param::Const(-70.0),
            e_ex_mv: Param::Const(0.0),
            e_in_mv: Param::Const(-85.0),
            v_reset_mv: Param::Const(-60.0),
            v_th_mv: Param::Const(-55.0),
            i_e_pa: Param::Const(0.0),
            v_init_mv: None,
        }
    }
}

/// NEST's default leak conductance of iaf_cond_exp (nS).
pub const COND_EXP_G_L_NS: f64 = 16.6667;

/// A projection from one population onto another.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Projection {
    /// Presynaptic population name.
    pub from: String,
    /// Postsynaptic population name.
    pub to: String,
    /// How pairs are chosen.
    pub rule: Rule,
    /// Synaptic weight: pA for LIF and IafPscAlpha targets (the alpha current's peak), nS for
    /// IafCondExp targets (the conductance jump; negative: inhibitory, |w|), the model's current
    /// units for Izhikevich targets.
    pub weight: Param,
    /// Axonal delay in ms, rounded to whole steps, at least one step.
    pub delay_ms: Param,
    /// Row capacity reserved per target neuron, as a multiple of the synapses this projection
    /// makes onto it (>= 1). Empty slots are where later growth forms synapses. Default 1.
    #[serde(default = "one")]
    pub headroom: f64,
    /// Whether a neuron may connect to itself when `from` == `to`. Default true (as NEST).
    #[serde(default = "yes")]
    pub autapses: bool,
    /// Activity-dependent change of this projection's weights. Default: none (static weights).
    #[serde(default)]
    pub plasticity: Option<Plasticity>,
}

/// A plasticity rule of a projection.
#[derive(Clone, Debug, Deserialize)]
pub enum Plasticity {
    /// Pair-based spike-timing-dependent plasticity with a presynaptic and a postsynaptic trace.
    Stdp(StdpParams),
}

/// Pair-based STDP (docs/MODEL.md). Each neuron keeps a presynaptic trace x (decay tau_plus) and a
/// postsynaptic trace y (decay tau_minus) that jump at its spikes; a postsynaptic spike adds
/// a_plus * f+(w) * x_pre to each plastic synapse onto it, a presynaptic spike subtracts
/// a_minus * f-(w) * y_post from each plastic synapse it drives. Weights stay in [w_min, w_max].
/// Defaults: Izhikevich (2007) (traces of 0.1 decaying x0.95 per ms, LTD 1.5x LTP).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StdpParams {
    /// Potentiation per unit of presynaptic trace (weight units). Default 0.1.
    pub a_plus: f64,
    /// Depression per unit of postsynaptic trace (weight units). Default 0.15.
    pub a_minus: f64,
    /// Presynaptic trace time constant (ms). Default 20 (x0.951 per ms).
    pub tau_plus_ms: f64,
    /// Postsynaptic trace time constant (ms). Default 20.
    pub tau_minus_ms: f64,
    /// Lower weight bound. Default 0.
    pub w_min: f64,
    /// Upper weight bound. Default 4.
    pub w_max: f64,
    /// Additive (f = 1) or Multiplicative (f+ = w_max - w, f- = w - w_min). Default Additive.
    pub form: StdpForm,
    /// Nearest (a spike sets the trace to 1) or AllToAll (a spike adds 1). Default Nearest.
    pub traces: TraceMode,
    /// Three-factor learning: STDP writes into a per-synapse eligibility trace with this time
    /// constant (ms), and the weight follows (tonic + dopamine) x eligibility at each update of
    /// the scene's `dopamine`. Default: none (STDP changes weights directly).
    pub eligibility_tau_ms: Option<f64>,
    /// Synaptic tagging and capture: STDP changes are early-phase and decay unless captured into
    /// a stable late phase. Default: none. Not with `eligibility_tau_ms`.
    pub capture: Option<Capture>,
}

/// Tagging and capture (Frey & Morris 1997; Clopath et al. 2008), docs/MODEL.md.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Capture {
    /// |early change| above which a synapse is tagged (weight units). Default 0.5.
    pub tag_threshold: f64,
    /// Summed |early change| of a neuron's capture synapses above which it synthesizes
    /// plasticity proteins (weight units). Default 2.
    pub protein_threshold: f64,
    /// Decay of the early phase (ms). Default 7.2e6 (2 h).
    pub tau_early_ms: f64,
    /// Rise and decay of the protein level (ms). Default 3.6e6 (1 h).
    pub tau_protein_ms: f64,
    /// Consolidation of tagged early change into the late phase (ms). Default 3.6e6 (1 h).
    pub tau_late_ms: f64,
    /// Interval of the capture update (ms); the same for every capture rule. Default 1000.
    pub update_every_ms: f64,
}

impl Default for Capture {
    fn default() -> Self {
        Capture {
            tag_threshold: 0.5,
            protein_threshold: 2.0,
            tau_early_ms: 7.2e6,
            tau_protein_ms: 3.6e6,
            tau_late_ms: 3.6e6,
            update_every_ms: 1000.0,
        }
    }
}

impl Default for StdpParams {
    fn default() -> Self {
        StdpParams {
            a_plus: 0.1,
            a_minus: 0.15,
            tau_plus_ms: 20.0,
            tau_minus_ms: 20.0,
            w_min: 0.0,
            w_max: 4.0,
            form: StdpForm::Additive,
            traces: TraceMode::Nearest,
            eligibility_tau_ms: None,
            capture: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum StdpForm {
    #[default]
    Additive,
    Multiplicative,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum TraceMode {
    #[default]
    Nearest,
    AllToAll,
}

fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}

/// Connection rules (NEST's names).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Rule {
    /// Each pair independently with probability p (pairwise Bernoulli).
    FixedProbability(f64),
    /// Each target draws exactly k sources uniformly, with replacement (multapses allowed).
    FixedInDegree(u32),
    /// n synapses, each with a uniform random source and target (multapses allowed).
    FixedTotalNumber(u64),
    /// Pairwise Bernoulli with p = p0 exp(-d^2 / (2 sigma^2)), d the distance between the two
    /// neurons in mm. Costs source x target work at build time.
    DistanceDependent { p0: f64, sigma_mm: f64 },
    /// A topographic map (e.g. somatotopy): source neurons form blocks of `block_from`
    /// consecutive neurons and targets blocks of `block_to`; a pair in blocks of the same number
    /// connects with probability `p_in`, any other pair with `p_out` (pairwise Bernoulli). With a
    /// task, blocks the size of a cue and of an output group map cue k onto group k.
    Topographic {
        block_from: u32,
        block_to: u32,
        p_in: f64,
        p_out: f64,
    },
}

/// External drive onto a population.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Input {
    /// Independent Poisson spike trains: each neuron receives `in_degree` sources at `rate_hz`,
    /// each spike adding `weight` (as a synaptic weight) in the step it arrives.
    Poisson {
        to: String,
        rate_hz: f64,
        in_degree: u32,
        weight: f64,
        /// On from this time (ms). Default 0.
        #[serde(default)]
        from_ms: f64,
        /// Off from this time (ms), e.g. to deafferent a population. Default: never.
        #[serde(default)]
        until_ms: Option<f64>,
    },
    /// A constant current (pA for LIF, model units for Izhikevich).
    Dc { to: String, amplitude: f64 },
    /// A Gaussian current drawn afresh every step: mean + sd * N(0,1), same units as Dc.
    Noise {
        to: String,
        sd: f64,
        #[serde(default)]
        mean: f64,
    },
}

impl Input {
    /// The target population's name.
    pub fn target(&self) -> &str {
        match self {
            Input::Poisson { to, .. } | Input::Dc { to, .. } | Input::Noise { to, .. } => to,
        }
    }
}

/// A parameter: a plain number or a distribution drawn per neuron (or per synapse).
///
/// - `0.02`: a constant.
/// - `Uniform(lo, hi)`: uniform on [lo, hi).
/// - `Normal(mean: m, sd: s, min: lo, max: hi)`: normal, clipped to [min, max] (both optional).
/// - `R(base: b, scale: s, pow: p)`: b + s r^p, where r ~ U(0,1) is drawn once per neuron and
///   shared by all of that neuron's parameters (Izhikevich 2003: c = -65 + 15 r^2, d = 8 - 6 r^2).
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Const(f64),
    Uniform(f64, f64),
    Normal { mean: f64, sd: f64, min: f64, max: f64 },
    R { base: f64, scale: f64, pow: f64 },
}

impl Param {
    /// The RON constructor name this variant is written with, if any.
    pub fn written_name(&self) -> Option<&'static str> {
        match self {
            Param::Const(_) => None,
            Param::Uniform(..) => Some("Uniform"),
            Param::Normal { .. } => Some("Normal"),
            Param::R { .. } => Some("R"),
        }
    }

    /// The smallest and largest values this parameter can take (infinite for an unclipped normal).
    /// A representative value: the constant, the mean of a normal (clipped to its bounds), the
    /// middle of a uniform or of the R range.
    pub fn typical(&self) -> f64 {
        match *self {
            Param::Const(x) => x,
            Param::Normal { mean, min, max, .. } => mean.clamp(min, max),
            _ => {
                let (lo, hi) = self.bounds();
                0.5 * (lo + hi)
            }
        }
    }

    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            Param::Const(x) => (x, x),
            Param::Uniform(lo, hi) => (lo.min(hi), lo.max(hi)),
            Param::Normal { mean, sd, min, max } => {
                if sd == 0.0 {
                    (mean.clamp(min, max), mean.clamp(min, max))
                } else {
                    (min, max)
                }
            }
            Param::R { base, scale, .. } => (base.min(base + scale), base.max(base + scale)),
        }
    }

    /// The mean of the parameter (clipping ignored).
    pub fn mean(&self) -> f64 {
        match *self {
            Param::Const(x) => x,
            Param::Uniform(lo, hi) => 0.5 * (lo + hi),
            Param::Normal { mean, .. } => mean,
            Param::R { base, scale, pow } => base + scale / (pow + 1.0),
        }
    }
}

// RON's untagged deserialization drops constructor names, so a Param is read by shape:
// a number, a 2-sequence (Uniform), or a map whose keys say which distribution it is.
// scene::validate then checks the written name (`Uniform`, `Normal`, `R`) against the source.
impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ParamVisitor)
    }
}

struct ParamVisitor;

impl<'de> Visitor<'de> for ParamVisitor {
    type Value = Param;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number, Uniform(lo, hi), Normal(mean: m, sd: s) or R(base: b, scale: s, pow: p)")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Param, E> {
        Ok(Param::Const(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Param, E> {
        Ok(Param::Const(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Param, E> {
        Ok(Param::Const(v as f64))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Param, A::Error> {
        let lo: f64 = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &"Uniform(lo, hi)"))?;
        let hi: f64 = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &"Uniform(lo, hi)"))?;
        if seq.next_element::<f64>()?.is_some() {
            return Err(de::Error::invalid_length(3, &"Uniform(lo, hi)"));
        }
        Ok(Param::Uniform(lo, hi))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Param, A::Error> {
        let mut fields: Vec<(String, f64)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value: f64 = map.next_value()?;
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!("duplicate field `{key}`")));
            }
            fields.push((key, value));
        }
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let allowed: &[&str] = if get("mean").is_some() || get("sd").is_some() {
            &["mean", "sd", "min", "max"]
        } else {
            &["base", "scale", "pow"]
        };
        if let Some((bad, _)) = fields.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(de::Error::unknown_field(bad, allowed));
        }
        if allowed[0] == "mean" {
            Ok(Param::Normal {
                mean: get("mean").ok_or_else(|| de::Error::missing_field("mean"))?,
                sd: get("sd").ok_or_else(|| de::Error::missing_field("sd"))?,
                min: get("min").unwrap_or(f64::NEG_INFINITY),
                max: get("max").unwrap_or(f64::INFINITY),
            })
        } else {
            Ok(Param::R {
                base: get("base").ok_or_else(|| de::Error::missing_field("base"))?,
                scale: get("scale").ok_or_else(|| de::Error::missing_field("scale"))?,
                pow: get("pow").unwrap_or(1.0),
            })
        }
    }
}
