//! Protocols: a scene's timeline in biological days. Each day applies its lesions, runs its
//! training sessions trial by trial at full resolution, probes the tasks with plasticity frozen,
//! then runs an offline phase whose structural and homeostatic rates are sped up to stand for
//! the rest of the day (docs/MODEL.md, "Days and simulated time").

pub mod icms;
pub mod lesion;
pub mod routes;
pub mod task;

use crate::checkpoint::Checkpoint;
use crate::engine::Control;
use crate::error::{Error, Result};
use crate::rng;
use crate::scene::Model;
use crate::scene::model::{DayPlan, IcmsModel, ProtocolModel, SessionPlan, TaskModel};
use crate::sim::{Checkpointing, Every, Outputs, RunTotals, Simulation, save_checkpoint};
use crate::stats::{Pending, Stats};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant};
use task::{TaskKind, TrialSpec};

/// The header of `icms.csv`: one row per mapping day and site; `response` is the output group
/// (empty: none), `threshold` the lowest current evoking it.
pub const ICMS_HEADER: &str = "day,t_ms,region,site,x_mm,y_mm,z_mm,neurons,response,threshold,spikes";

/// One row of `performance.csv`: a block of trials of one task on one day.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Performance {
    pub day: i32,
    /// Simulated time at the end of the block (ms).
    pub t_ms: f64,
    /// "probe", or the session's kind: "train", "rehab", "booster".
    pub phase: String,
    pub task: String,
    pub trials: u32,
    pub correct: u32,
    pub accuracy: f64,
    /// Trials with no response (a tie or no spike in the window).
    pub no_response: u32,
    /// Mean time from cue onset to the first spike of the chosen group over correct trials (ms;
    /// None without any).
    pub latency_ms: Option<f64>,
}

/// The protocol's part of `summary.json`: performance is the motor task's probe accuracy.
#[derive(Clone, Debug, Serialize)]
pub struct ProtocolSummary {
    pub first_day: i32,
    pub last_day: i32,
    pub lesion_days: Vec<i32>,
    /// Neurons the lesions removed, and the tissue volume they stand for (mm^3).
    pub neurons_lost: u64,
    pub lesion_volume_mm3: f64,
    /// The last probe before the first lesion.
    pub pre_lesion: Option<f64>,
    /// The first probe on or after the first lesion's day.
    pub post_lesion: Option<f64>,
    /// The last probe, and the best probe after the first lesion.
    pub final_performance: Option<f64>,
    pub peak_after_lesion: Option<f64>,
    /// The first probe day after the lesion reaching 90 % of the pre-lesion level.
    pub recovery_day: Option<i32>,
    /// Area under the motor recovery curve (probe accuracy x days, trapezoids) from the first
    /// probe on or after the first lesion to the last probe: a whole recovery in one number.
    pub recovery_auc: Option<f64>,
    /// The impairment the first lesion caused (`pre_lesion - post_lesion`, accuracy), the part of
    /// it recovered by the end (`final_performance - post_lesion`), and their ratio when there is
    /// an impairment (> 0): the proportional recovery rule's numbers (Prabhakaran et al. 2008).
    pub impairment: Option<f64>,
    pub recovered: Option<f64>,
    pub fraction_recovered: Option<f64>,
    pub training_trials: u64,
    pub probe_trials: u64,
    /// Final probe accuracy of each task.
    pub final_by_task: Vec<(String, f64)>,
}

/// One phase of a protocol's schedule: what runs from `from_step` to `to_step` (steps from the
/// run's start) on biological `day`. A lesion takes no steps.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Phase {
    pub day: i32,
    /// "lesion", "train", "rehab", "booster", "probe" or "offline".
    pub phase: String,
    /// The probed task ("motor", "transfer", "distractor"), the lesion's kind ("focal",
    /// "fraction", "tract_cut", "region"), "motor" for sessions, empty offline.
    pub what: String,
    pub from_step: u64,
    pub to_step: u64,
}

/// The schedule the protocol runner follows, phase by phase (empty without a protocol): each day
/// its lesions, its sessions, a probe block per task, then its offline phase. For outputs that
/// state the protocol as intervals (the NWB export's epochs).
pub fn timeline(model: &Model) -> Vec<Phase> {
    let Some(protocol) = &model.protocol else {
        return Vec::new();
    };
    let trial_steps = model.task.as_ref().map_or(0, |t| t.trial_steps);
    let mut probed = vec![TaskKind::Motor];
    if let Some(t) = &model.task {
        if t.transfer_shared.is_some() {
            probed.push(TaskKind::Transfer);
        }
        if t.distractor.is_some() {
            probed.push(TaskKind::Distractor);
        }
    }
    let mut out = Vec::new();
    let mut at = 0u64;
    let mut push = |day: i32, phase: &str, what: &str, steps: u64| {
        out.push(Phase {
            day,
            phase: phase.to_string(),
            what: what.to_string(),
            from_step: at,
            to_step: at + steps,
        });
        at += steps;
    };
    for plan in &protocol.days {
        for &li in &plan.lesions {
            push(plan.day, "lesion", lesion_kind(&protocol.lesions[li].kind), 0);
        }
        for s in &plan.sessions {
            push(plan.day, s.kind, "motor", s.trials as u64 * trial_steps);
        }
        if plan.probe_trials > 0 {
            for kind in &probed {
                push(plan.day, "probe", kind.name(), plan.probe_trials as u64 * trial_steps);
            }
        }
        let offline = protocol.offline_steps_of(plan, trial_steps);
        if offline > 0 {
            push(plan.day, "offline", "", offline);
        }
    }
    out
}

/// A lesion kind's name in outputs (`lesions.csv`, the timeline).
fn lesion_kind(kind: &crate::scene::model::LesionKindModel) -> &'static str {
    use crate::scene::model::LesionKindModel as K;
    match kind {
        K::Focal { .. } => "focal",
        K::Fraction { .. } => "fraction",
        K::TractCut { .. } => "tract_cut",
        K::Region { .. } => "region",
    }
}

/// The impairment (`pre - post`), the change recovered (`last - post`) and the fraction of the
/// impairment recovered (`None` without an impairment > 0) from the probe accuracies before the
/// lesion, just after it and at the end.
pub fn recovery(pre: Option<f64>, post: Option<f64>, last: Option<f64>) -> (Option<f64>, Option<f64>, Option<f64>) {
    let impairment = pre.zip(post).map(|(a, b)| a - b);
    let recovered = last.zip(post).map(|(a, b)| a - b);
    let fraction = impairment.zip(recovered).filter(|(i, _)| *i > 0.0).map(|(i, r)| r / i);
    (impairment, recovered, fraction)
}

#[cfg(test)]
mod timeline_tests {
    use super::timeline;

    #[test]
    fn the_timeline_tiles_every_protocol_scene_in_order() {
        let mut seen = 0;
        for entry in std::fs::read_dir("scenes").unwrap() {
            let path = entry.unwrap().path();
            let model = crate::scene::load(&path).unwrap();
            let phases = timeline(&model);
            let Some(protocol) = &model.protocol else {
                assert!(phases.is_empty());
                continue;
            };
            seen += 1;
            let name = path.display();
            assert_eq!(
                phases.last().unwrap().to_step,
                model.steps,
                "{name}: the phases end at the run's end"
            );
            for w in phases.windows(2) {
                assert_eq!(w[0].to_step, w[1].from_step, "{name}: phases follow one another");
                assert!(w[0].day <= w[1].day, "{name}: days in order");
            }
            let lesions = phases.iter().filter(|p| p.phase == "lesion").count();
            assert_eq!(
                lesions,
                protocol.lesions.len(),
                "{name}: one zero-length phase a lesion"
            );
            assert!(
                phases
                    .iter()
                    .all(|p| (p.phase == "lesion") == (p.from_step == p.to_step))
            );
            // Each day ends where the model says (spine imaging takes its images there).
            let task = model.task.as_ref();
            let blocks = task.map_or(0, |t| {
                1 + t.transfer_shared.is_some() as u64 + t.distractor.is_some() as u64
            });
            for (day, end) in protocol.day_ends(task.map_or(0, |t| t.trial_steps), blocks) {
                let last = phases.iter().filter(|p| p.day == day).map(|p| p.to_step).max();
                assert_eq!(last.unwrap_or(end), end, "{name}: the end of day {day}");
            }
        }
        assert!(seen >= 3, "only {seen} protocol scenes found");
    }
}

#[cfg(test)]
mod recovery_tests {
    #[test]
    fn impairment_and_the_fraction_recovered() {
        let (i, r, f) = super::recovery(Some(0.9), Some(0.4), Some(0.75));
        assert!((i.unwrap() - 0.5).abs() < 1e-12 && (r.unwrap() - 0.35).abs() < 1e-12);
        assert!((f.unwrap() - 0.7).abs() < 1e-12);
        // No impairment: no fraction; a decline after the lesion is a negative recovery.
        assert_eq!(super::recovery(Some(0.5), Some(0.5), Some(0.6)).2, None);
        assert!(super::recovery(Some(1.0), Some(0.5), Some(0.25)).2.unwrap() < 0.0);
        let (i, r, f) = super::recovery(None, Some(0.5), Some(0.6));
        assert!(i.is_none() && f.is_none() && (r.unwrap() - 0.1).abs() < 1e-12);
    }
}

/// What a checkpoint keeps of a protocol runner, besides the engine's state and the files.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RunnerState {
    /// The index (into the protocol's days) of the next day to run.
    next_day: usize,
    applied: Vec<usize>,
    killed: u64,
    performance: Vec<Performance>,
    steps: u64,
    spikes: u64,
    events: f64,
    samples: usize,
    wall_s: f64,
    training_trials: u64,
    probe_trials: u64,
    sampled_at: u64,
    trials: u32,
}

/// The runner's status words in a checkpoint's files (not an output file).
const STATUS_FILE: &str = "state/protocol.status";

/// Runs the model's protocol from its first day (or from a checkpoint's next day) to its last,
/// handing each phase's statistics (with its biological day) to `outputs`, and writes
/// `performance.csv`, `activation.csv`, `representation.csv`, `routes.csv` and `lesions.csv` into
/// `out`; with
/// `ck`, writes checkpoints at the end of every `ck.every` days and stops after a day when
/// `ck.stop` is set.
pub(crate) fn run_with(
    sim: &mut Simulation,
    out: &Path,
    progress: bool,
    ck: &Checkpointing,
    resume: Option<&Checkpoint>,
    outputs: &mut Outputs,
) -> Result<(RunTotals, ProtocolSummary)> {
    let model = sim.model.clone();
    let protocol = model
        .protocol
        .clone()
        .ok_or_else(|| Error::Usage("the scene has no protocol".into()))?;
    let mut r = Runner::new(sim, &model, out, resume)?;
    let t0 = Instant::now();
    let wall_before = r.totals.wall_s;
    let total = model.steps;
    let mut bar: Option<indicatif::ProgressBar> = None;
    let every = match ck.every {
        Some(Every::Days(d)) => Some(d as usize),
        _ => None,
    };
    for (k, plan) in protocol.days.iter().enumerate().skip(r.next_day) {
        r.day(plan, &protocol, &mut |s: &Stats| outputs.record(s))?;
        r.next_day = k + 1;
        if progress && bar.is_none() && t0.elapsed() > Duration::from_secs(2) {
            bar = Some(crate::sim::progress_bar(total, "{msg}"));
        }
        if let Some(b) = &bar {
            b.set_position(r.sim.engine.step());
            b.set_message(format!(
                "day {} of {}..{}",
                plan.day, protocol.first_day, protocol.last_day
            ));
        }
        let stopped = ck
            .stop
            .as_ref()
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst))
            || ck.stop_after_days == Some(k + 1);
        let last = k + 1 == protocol.days.len();
        if stopped || (!last && every.is_some_and(|e| (k + 1) % e == 0)) {
            r.totals.wall_s = wall_before + t0.elapsed().as_secs_f64();
            r.totals.steps = r.sim.engine.step();
            let path = r.checkpoint(out, ck, outputs)?;
            outputs.last_checkpoint = Some((path.clone(), r.sim.engine.step()));
            if stopped && !last {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
                let step = r.sim.engine.step();
                let e = crate::sim::interrupted(&model, step, &path);
                r.close()?;
                return Err(e);
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    r.totals.wall_s = wall_before + t0.elapsed().as_secs_f64();
    r.totals.steps = r.sim.engine.step();
    r.finish(&protocol)
}

struct Runner<'a> {
    sim: &'a mut Simulation,
    model: &'a Model,
    task: Option<TaskModel>,
    status: Vec<[u32; 4]>,
    /// Lessons applied so far: (lesion index, slot).
    applied: Vec<usize>,
    killed: u64,
    performance: Vec<Performance>,
    perf: Pending,
    activation: Pending,
    representation: Pending,
    routes: Pending,
    lesions: Pending,
    /// `icms.csv`, with the `Icms` readout.
    icms: Option<Pending>,
    totals: RunTotals,
    /// Step of the last sample, and trials run (for the per-trial draws).
    sampled_at: u64,
    trials: u32,
    key: u32,
    out_degree: Vec<f64>,
    /// The index of the next day to run.
    next_day: usize,
    /// The step the current day began, and the probe steps run in it so far (outside the
    /// clock): the biological hours of its rows under the clock.
    day_start: u64,
    probe_steps: u64,
}

impl<'a> Runner<'a> {
    fn new(sim: &'a mut Simulation, model: &'a Model, out: &Path, resume: Option<&Checkpoint>) -> Result<Self> {
        let files = resume.map(|c| &c.files);
        let perf = Pending::open(
            out,
            "performance.csv",
            "day,t_ms,phase,task,trials,correct,accuracy,no_response,latency_ms,hour_from,hour_to",
            files,
        )?;
        let activation = Pending::open(
            out,
            "activation.csv",
            "day,t_ms,task,population,region,rate_hz,hour_from,hour_to",
            files,
        )?;
        let representation = Pending::open(
            out,
            "representation.csv",
            "day,t_ms,region,neurons,selective,fraction,hour_from,hour_to",
            files,
        )?;
        let routes = Pending::open(
            out,
            "routes.csv",
            "day,t_ms,task,region,input,share,hour_from,hour_to",
            files,
        )?;
        let lesions = Pending::open(
            out,
            "lesions.csv",
            "day,lesion,kind,region,neurons_lost,neurons,volume_mm3",
            files,
        )?;
        let icms = match model.readouts.icms {
            Some(_) => Some(Pending::open(out, "icms.csv", ICMS_HEADER, files)?),
            None => None,
        };
        let mut r = Runner {
            status: sim.network.status.clone(),
            out_degree: sim.mean_out_degree(),
            sim,
            model,
            task: model.task.clone(),
            applied: Vec::new(),
            killed: 0,
            performance: Vec::new(),
            perf,
            activation,
            representation,
            routes,
            lesions,
            icms,
            totals: RunTotals::default(),
            sampled_at: 0,
            trials: 0,
            key: rng::seed_key(model.seed),
            next_day: 0,
            day_start: 0,
            probe_steps: 0,
        };
        if let Some(c) = resume {
            let bad = |why: String| Error::Usage(format!("checkpoint of {:?}: {why}", c.header.scene_name));
            let value = c
                .header
                .position
                .protocol
                .clone()
                .ok_or_else(|| bad("no protocol position".into()))?;
            let st: RunnerState =
                serde_json::from_value(value).map_err(|e| bad(format!("unreadable protocol position: {e}")))?;
            let status = c
                .files
                .get(STATUS_FILE)
                .ok_or_else(|| bad(format!("no {STATUS_FILE}")))?;
            if status.len() != r.status.len() * 16 {
                return Err(bad(format!(
                    "{STATUS_FILE} holds {} bytes, not {}",
                    status.len(),
                    r.status.len() * 16
                )));
            }
            r.status = bytemuck::pod_collect_to_vec(status);
            r.next_day = st.next_day;
            r.applied = st.applied;
            r.killed = st.killed;
            r.performance = st.performance;
            r.totals = RunTotals {
                steps: st.steps,
                spikes: st.spikes,
                events: st.events,
                samples: st.samples,
                wall_s: st.wall_s,
                training_trials: st.training_trials,
                probe_trials: st.probe_trials,
            };
            r.sampled_at = st.sampled_at;
            r.trials = st.trials;
        }
        Ok(r)
    }

    /// Writes a checkpoint at the end of a day: the engine, this runner, and every file so far.
    fn checkpoint(&mut self, out: &Path, ck: &Checkpointing, outputs: &mut Outputs) -> Result<std::path::PathBuf> {
        let st = RunnerState {
            next_day: self.next_day,
            applied: self.applied.clone(),
            killed: self.killed,
            performance: self.performance.clone(),
            steps: self.totals.steps,
            spikes: self.totals.spikes,
            events: self.totals.events,
            samples: self.totals.samples,
            wall_s: self.totals.wall_s,
            training_trials: self.totals.training_trials,
            probe_trials: self.totals.probe_trials,
            sampled_at: self.sampled_at,
            trials: self.trials,
        };
        let value = serde_json::to_value(&st).map_err(|e| Error::Usage(format!("protocol position: {e}")))?;
        let position = outputs.position(&self.totals, Some(value));
        let status: Vec<u8> = bytemuck::cast_slice(&self.status).to_vec();
        let (perf, activation, representation, routes, lesions, icms) = (
            &mut self.perf,
            &mut self.activation,
            &mut self.representation,
            &mut self.routes,
            &mut self.lesions,
            &mut self.icms,
        );
        save_checkpoint(self.sim, out, ck, position, |files| {
            outputs.rec.save(files)?;
            for p in [perf, activation, representation, routes, lesions]
                .into_iter()
                .chain(icms.as_mut())
            {
                p.save(files)?;
            }
            files.insert(STATUS_FILE.to_string(), status);
            Ok(())
        })
    }

    /// Finishes the files written so far (a run stopped on request).
    fn close(self) -> Result<()> {
        self.perf.finish()?;
        self.activation.finish()?;
        self.representation.finish()?;
        self.routes.finish()?;
        if let Some(p) = self.icms {
            p.finish()?;
        }
        self.lesions.finish()
    }

    /// The control of a day before sessions: lesion time courses, drugs, enrichment.
    fn base_control(&self, protocol: &ProtocolModel, plan: &DayPlan) -> Control {
        let net = &self.sim.network;
        let mut c = Control::rest(net.pops.len(), net.poisson.len());
        for &li in &self.applied {
            let l = &protocol.lesions[li];
            let course = lesion::time_course(l, (plan.day - l.day) as f64);
            c.deficit[li] = course.deficit;
            c.learn_window[li] = course.learn_window;
            c.grow_window[li] = course.grow_window;
            c.tonic[li] = course.tonic * plan.tonic_factor as f32;
        }
        for (pi, p) in self.model.populations.iter().enumerate() {
            c.gain[pi] = plan.excitability[p.region] as f32;
            c.learn[pi] = plan.plasticity[p.region] as f32;
        }
        c.input_rate.iter_mut().for_each(|r| *r = plan.enrichment);
        c
    }

    fn day(
        &mut self,
        plan: &DayPlan,
        protocol: &ProtocolModel,
        each: &mut impl FnMut(&Stats) -> Result<()>,
    ) -> Result<()> {
        self.day_start = self.sim.engine.step();
        self.probe_steps = 0;
        for &li in &plan.lesions {
            self.lesion(protocol, li, plan.day)?;
        }
        let base = self.base_control(protocol, plan);
        for session in &plan.sessions {
            let mut c = base.clone();
            for (pi, p) in self.model.populations.iter().enumerate() {
                c.gain[pi] *= session.excitability[p.region] as f32;
                c.learn[pi] *= session.plasticity[p.region] as f32;
            }
            self.block(
                &c,
                plan.day,
                session.kind,
                TaskKind::Motor,
                session.trials,
                Some(session),
            )?;
            self.sample(plan.day, false, each)?;
        }
        if plan.probe_trials > 0 {
            let mut c = base.clone();
            c.learning = 0.0;
            c.frozen = true;
            let task = self.task.clone().expect("validated: probes need a task");
            let mut kinds = vec![TaskKind::Motor];
            if task.transfer_shared.is_some() {
                kinds.push(TaskKind::Transfer);
            }
            if task.distractor.is_some() {
                kinds.push(TaskKind::Distractor);
            }
            for kind in kinds {
                self.block(&c, plan.day, "probe", kind, plan.probe_trials, None)?;
                if kind == TaskKind::Motor {
                    self.representation(plan.day, &task, plan.probe_trials)?;
                }
                let stats = self.sample(plan.day, true, each)?;
                let hours = self.assay_hours();
                for p in &stats.populations {
                    self.activation.line(&format!(
                        "{},{},{},{},{},{},{hours}",
                        plan.day,
                        stats.t_ms,
                        kind.name(),
                        p.population,
                        p.region,
                        p.rate_hz
                    ))?;
                }
            }
        }
        let trial_steps = self.task.as_ref().map_or(0, |t| t.trial_steps);
        let offline_steps = protocol.offline_steps_of(plan, trial_steps);
        if offline_steps > 0 {
            let mut c = base.clone();
            c.offline = protocol.offline_speedup as f32;
            self.sim.engine.control(&c);
            self.sim.engine.advance(offline_steps)?;
            self.sample(plan.day, false, each)?;
        }
        if let Some(m) = &self.model.readouts.icms {
            if m.days.contains(&plan.day) {
                self.icms_map(plan.day, m, &base)?;
            }
        }
        Ok(())
    }

    /// Maps the motor output at the end of the day (`icms.csv`), leaving the run as it was.
    fn icms_map(&mut self, day: i32, m: &IcmsModel, base: &Control) -> Result<()> {
        let task = self.task.clone().expect("validated: ICMS needs a task");
        let t_ms = self.model.time_ms(self.sim.engine.step());
        let sites = icms::map(
            self.sim.engine.as_mut(),
            self.model,
            m,
            &task,
            &self.sim.network.positions,
            &self.status,
            base,
        )?;
        let out = self.icms.as_mut().expect("opened with the readout");
        for (k, (s, &(region, at))) in sites.iter().zip(&m.sites).enumerate() {
            out.line(&format!(
                "{day},{t_ms},{},{k},{},{},{},{},{},{},{}",
                self.model.regions[region].name,
                at[0],
                at[1],
                at[2],
                s.neurons,
                s.response.map_or(String::new(), |g| g.to_string()),
                s.threshold.map_or(String::new(), |c| c.to_string()),
                s.spikes
            ))?;
        }
        Ok(())
    }

    /// Writes each region's task representation after a motor probe: the living neurons, and
    /// those selective for one cue (at least one window spike per two of its trials, and twice
    /// their mean for the other cues).
    fn representation(&mut self, day: i32, task: &TaskModel, trials: u32) -> Result<()> {
        let min = (trials / task.cues / 2).max(1);
        let selective = self.sim.engine.representation(task.cues, min)?;
        let t_ms = self.model.time_ms(self.sim.engine.step());
        let census = lesion::census(self.model, &self.status);
        let hours = self.assay_hours();
        for (ri, region) in self.model.regions.iter().enumerate() {
            let living = census[ri].1;
            self.representation.line(&format!(
                "{day},{t_ms},{},{living},{},{},{hours}",
                region.name,
                selective[ri],
                selective[ri] as f64 / living.max(1) as f64
            ))?;
        }
        Ok(())
    }

    fn lesion(&mut self, protocol: &ProtocolModel, li: usize, day: i32) -> Result<()> {
        let l = &protocol.lesions[li];
        let plan = lesion::plan(self.model, &self.sim.network, &self.status, l, li);
        self.sim.engine.lesion(&plan.status, &plan.cut)?;
        self.status = plan.status;
        self.applied.push(li);
        let kind = lesion_kind(&l.kind);
        let volume = lesion::volume_mm3(self.model, &self.status);
        let census = lesion::census(self.model, &self.status);
        for (ri, region) in self.model.regions.iter().enumerate() {
            let neurons = census[ri].0;
            self.lesions.line(&format!(
                "{day},{li},{kind},{},{},{neurons},{volume}",
                region.name, plan.killed[ri]
            ))?;
            self.killed += plan.killed[ri];
        }
        Ok(())
    }

    /// Runs `trials` trials of one task under control `c` and records their performance, and for
    /// a probe block (no session) the routes: per source region, the input that reached the
    /// correct group in the response windows (`routes.csv`).
    fn block(
        &mut self,
        c: &Control,
        day: i32,
        phase: &'static str,
        kind: TaskKind,
        trials: u32,
        session: Option<&SessionPlan>,
    ) -> Result<()> {
        let task = self.task.clone().expect("validated: sessions need a task");
        let reward_region = task.reward_region.map(|r| r as u32);
        let start = self.sim.engine.step();
        self.sim.engine.control(c);
        let variability = session.map_or(0.0, |s| s.variability) as f32;
        let (mut correct, mut silent, mut latency, mut timed) = (0u32, 0u32, 0.0f64, 0u32);
        let mut routes = routes::BlockRoutes::new(self.model.regions.len());
        for t in 0..trials {
            let base = rng::base(self.key, rng::stream::TASK, self.trials, 0);
            self.trials += 1;
            let cue = match session {
                // Training cues come in random order; probes cycle through the cues.
                Some(_) => rng::draw(base, 0) % task.cues,
                None => t % task.cues,
            };
            let distractor = (cue + 1 + (t / task.cues) % (task.cues - 1).max(1)) % task.cues;
            if variability > 0.0 {
                // Context jitter: the background's rates move around their set value.
                let mut cj = c.clone();
                let f = (1.0 + variability * rng::normal_f32(base, 13)).max(0.0) as f64;
                cj.input_rate.iter_mut().for_each(|r| *r *= f);
                self.sim.engine.control(&cj);
            }
            let spec = TrialSpec {
                kind,
                cue,
                distractor,
                amplitude: 1.0 + variability * rng::normal_f32(base, 1),
                guidance: session.map_or(0.0, |s| s.guidance) as f32,
                reward: match session {
                    Some(s) if s.reward => task.reward_amount as f32,
                    _ => 0.0,
                },
                error: match session {
                    Some(s) if s.reward => task.error_amount as f32,
                    _ => 0.0,
                },
                routes: session.is_none(),
            };
            let record = session.is_none() && kind == TaskKind::Motor;
            if record {
                self.sim.engine.record_cue(Some(cue));
            }
            let o = task::trial(self.sim.engine.as_mut(), &task, reward_region, &spec)?;
            if record {
                self.sim.engine.record_cue(None);
            }
            if o.correct {
                correct += 1;
                if let Some(l) = o.latency_steps {
                    latency += l as f64 * self.model.dt_ms;
                    timed += 1;
                }
            }
            if o.response.is_none() {
                silent += 1;
            }
            routes.add(&o.routes);
        }
        let row = Performance {
            day,
            t_ms: self.model.time_ms(self.sim.engine.step()),
            phase: phase.to_string(),
            task: kind.name().to_string(),
            trials,
            correct,
            accuracy: correct as f64 / trials.max(1) as f64,
            no_response: silent,
            latency_ms: (timed > 0).then(|| latency / timed as f64),
        };
        // Under the biological clock, the hours of the day the block covers: a session's trials,
        // or for a probe (an assay outside the clock) the moment it is taken.
        let end = if session.is_some() {
            self.sim.engine.step()
        } else {
            start
        };
        let hours = match (self.hour(start), self.hour(end)) {
            (Some(from), Some(to)) => format!("{from},{to}"),
            _ => ",".to_string(),
        };
        if session.is_none() {
            self.probe_steps += self.sim.engine.step() - start;
        }
        self.perf.line(&format!(
            "{},{},{},{},{},{},{},{},{},{hours}",
            row.day,
            row.t_ms,
            row.phase,
            row.task,
            row.trials,
            row.correct,
            row.accuracy,
            row.no_response,
            row.latency_ms.map_or(String::new(), |l| l.to_string())
        ))?;
        if session.is_none() {
            let scale = self.sim.network.globals.conn_scale;
            for (region, r) in self.model.regions.iter().zip(routes.routes(scale)) {
                self.routes.line(&format!(
                    "{},{},{},{},{},{},{hours}",
                    row.day, row.t_ms, row.task, region.name, r.input, r.share
                ))?;
            }
        }
        if phase == "probe" {
            self.totals.probe_trials += trials as u64;
        } else {
            self.totals.training_trials += trials as u64;
        }
        self.performance.push(row);
        Ok(())
    }

    /// Under the biological clock, the hour of the current day that `step` stands for. Probes are
    /// assays outside the clock: the steps they have taken today do not count.
    fn hour(&self, step: u64) -> Option<f64> {
        let day_steps = self.model.protocol.as_ref()?.day_steps?;
        let clock = self.day_start + self.probe_steps;
        Some(24.0 * step.saturating_sub(clock) as f64 / day_steps as f64)
    }

    /// Under the clock, `hour,hour` for a row of an assay (a probe, outside the clock) taken now,
    /// the moment it stands for; `,` (empty hours) without the clock.
    fn assay_hours(&self) -> String {
        self.hour(self.sim.engine.step())
            .map_or(",".to_string(), |h| format!("{h},{h}"))
    }

    /// Samples the statistics since the last sample (one phase of the day), labelled with the
    /// biological day and, under the clock, the hours of it the phase covers: for a probe (`assay`,
    /// outside the clock, its steps already counted in `probe_steps`) the moment it is taken.
    fn sample(&mut self, day: i32, assay: bool, each: &mut impl FnMut(&Stats) -> Result<()>) -> Result<Stats> {
        let raw = self.sim.engine.sample()?;
        let interval = raw.step - self.sampled_at;
        let mut stats = Stats::from_raw(self.model, &raw, interval, &self.sim.network.globals);
        stats.lfp = self.sim.lfp(&raw, interval, &self.status);
        stats.day = day as f64;
        if let (Some(from), Some(to)) = (self.hour(self.sampled_at), self.hour(raw.step)) {
            stats.hours = Some((if assay { to } else { from }, to));
        }
        self.sampled_at = raw.step;
        self.totals.spikes += raw.pop_spikes.iter().map(|&s| s as u64).sum::<u64>();
        self.totals.events += raw
            .pop_spikes
            .iter()
            .zip(&self.out_degree)
            .map(|(&s, d)| s as f64 * d)
            .sum::<f64>();
        self.totals.samples += 1;
        each(&stats)?;
        Ok(stats)
    }

    fn finish(self, protocol: &ProtocolModel) -> Result<(RunTotals, ProtocolSummary)> {
        self.perf.finish()?;
        self.activation.finish()?;
        self.representation.finish()?;
        self.routes.finish()?;
        self.lesions.finish()?;
        if let Some(p) = self.icms {
            p.finish()?;
        }
        let lesion_days: Vec<i32> = protocol.lesions.iter().map(|l| l.day).collect();
        let first_lesion = lesion_days.iter().copied().min();
        let probes: Vec<&Performance> = self
            .performance
            .iter()
            .filter(|p| p.phase == "probe" && p.task == "motor")
            .collect();
        let pre = first_lesion.and_then(|d| probes.iter().rev().find(|p| p.day < d).map(|p| p.accuracy));
        let after: Vec<&&Performance> =
            first_lesion.map_or(Vec::new(), |d| probes.iter().filter(|p| p.day >= d).collect());
        let post = after.first().map(|p| p.accuracy);
        let peak = after
            .iter()
            .map(|p| p.accuracy)
            .fold(None, |m: Option<f64>, a| Some(m.map_or(a, |m| m.max(a))));
        let recovery_day = pre.and_then(|pre| after.iter().find(|p| p.accuracy >= 0.9 * pre).map(|p| p.day));
        let recovery_auc = (!after.is_empty()).then(|| {
            let days = || after.iter().map(|p| (p.day as f64, p.accuracy));
            days()
                .zip(days().skip(1))
                .map(|((d0, a0), (d1, a1))| (d1 - d0) * (a0 + a1) / 2.0)
                .sum()
        });
        let mut final_by_task: Vec<(String, f64)> = Vec::new();
        for p in self.performance.iter().filter(|p| p.phase == "probe") {
            match final_by_task.iter_mut().find(|(t, _)| *t == p.task) {
                Some(entry) => entry.1 = p.accuracy,
                None => final_by_task.push((p.task.clone(), p.accuracy)),
            }
        }
        let last = probes.last().map(|p| p.accuracy);
        let (impairment, recovered, fraction_recovered) = recovery(pre, post, last);
        let summary = ProtocolSummary {
            first_day: protocol.first_day,
            last_day: protocol.last_day,
            lesion_days,
            neurons_lost: self.killed,
            lesion_volume_mm3: lesion::volume_mm3(self.model, &self.status),
            pre_lesion: pre,
            post_lesion: post,
            final_performance: last,
            peak_after_lesion: peak,
            recovery_day,
            recovery_auc,
            impairment,
            recovered,
            fraction_recovered,
            training_trials: self.totals.training_trials,
            probe_trials: self.totals.probe_trials,
            final_by_task,
        };
        Ok((self.totals, summary))
    }
}
