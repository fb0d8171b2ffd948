//! Resolution of a scene's `task`, `time` and `protocol` into a [`TaskModel`] and a
//! [`ProtocolModel`]: names become indices, milliseconds whole steps, and the protocol's phases
//! one plan per biological day. Every error names the file, line, column and field path.

use super::locate::Seg;
use super::model::*;
use super::schema::*;
use super::validate::{Ctx, Path, with};
use crate::error::Result;
use std::collections::HashMap;

use Seg::{Field as F, Index as I};

/// Days a protocol may span (first to last, both included).
const MAX_DAYS: i64 = 10_000;
/// Sessions a Train or Rehab phase may hold on one day.
const MAX_SESSIONS_PER_DAY: u32 = 100;

/// The names of a name -> index table, sorted, for error messages.
fn known(names: &HashMap<String, usize>) -> String {
    let mut v: Vec<&str> = names.keys().map(String::as_str).collect();
    v.sort();
    v.join(", ")
}

fn find_region(cx: &Ctx, path: &[Seg], name: &str, region_names: &HashMap<String, usize>) -> Result<usize> {
    region_names.get(name).copied().ok_or_else(|| {
        cx.err(
            path,
            format!("unknown region {name:?}; regions are: {}", known(region_names)),
        )
    })
}

/// The scene's `time`, validated: the legacy offline phase (steps, speedup), or the clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct TimeModel {
    pub offline_steps: u64,
    pub offline_speedup: f64,
    /// The biological clock: (steps per day, structural updates per day).
    pub clock: Option<(u64, u32)>,
}

/// Validates the scene's `time`.
pub(super) fn time(cx: &Ctx, t: &Time, dt_ms: f64) -> Result<TimeModel> {
    if let Some(day_ms) = t.day_ms {
        let at = |f: &'static str| vec![F("time"), F(f)];
        for (f, given) in [
            ("offline_ms", t.offline_ms.is_some()),
            ("offline_speedup", t.offline_speedup.is_some()),
        ] {
            if given {
                return Err(cx.err(
                    &cx.some(at(f)),
                    format!("{f} belongs to the legacy mapping; with `day_ms` every day runs its sessions and then offline to the end of the day"),
                ));
            }
        }
        let steps = (day_ms / dt_ms).round();
        if !(day_ms.is_finite() && (1.0..1e12).contains(&steps)) {
            return Err(cx.err(
                &cx.some(at("day_ms")),
                format!("a day of {day_ms} ms must be a finite number of at least one step"),
            ));
        }
        let updates = t.structural_updates_per_day.unwrap_or(10);
        if updates == 0 || !(steps as u64).is_multiple_of(updates as u64) {
            return Err(cx.err(
                &cx.some(at("structural_updates_per_day")),
                format!(
                    "{updates} structural updates a day must be at least 1 and divide the day's {} steps",
                    steps as u64
                ),
            ));
        }
        return Ok(TimeModel {
            offline_steps: 0,
            offline_speedup: 1.0,
            clock: Some((steps as u64, updates)),
        });
    }
    if t.structural_updates_per_day.is_some() {
        return Err(cx.err(
            &cx.some(vec![F("time"), F("structural_updates_per_day")]),
            "structural updates per day need the biological clock: give `day_ms` too",
        ));
    }
    let (offline_ms, speedup) = (t.offline_ms.unwrap_or(2000.0), t.offline_speedup.unwrap_or(10.0));
    let offline = (offline_ms / dt_ms).round();
    if !(offline_ms.is_finite() && offline_ms >= 0.0 && offline < 1e12) {
        return Err(cx.err(
            &cx.some(vec![F("time"), F("offline_ms")]),
            format!("offline phase {offline_ms} ms must be a finite number >= 0"),
        ));
    }
    if !(speedup.is_finite() && speedup >= 1.0) {
        return Err(cx.err(
            &cx.some(vec![F("time"), F("offline_speedup")]),
            format!("offline speedup {speedup} must be a finite number >= 1"),
        ));
    }
    Ok(TimeModel {
        offline_steps: offline as u64,
        offline_speedup: speedup,
        clock: None,
    })
}

/// Validates the scene's task and converts its times into steps. `fed[p]`: some projection or
/// sprouting rule from another population reaches population p.
pub(super) fn task(
    cx: &Ctx,
    t: &Task,
    dt_ms: f64,
    populations: &[PopulationModel],
    fed: &[bool],
    find_pop: &dyn Fn(Path, &str) -> Result<usize>,
    region_names: &HashMap<String, usize>,
) -> Result<TaskModel> {
    // A struct in an option is written bare (implicit_some) or as `Some(field: ..)`: either way
    // its fields sit right under the option's path.
    let at = |more: &[Seg<'static>]| with(&[F("task")], more);
    let (c, o) = (&t.cues, &t.outputs);

    let cue_pop = find_pop(at(&[F("cues"), F("population")]), &c.population)?;
    if !(1..=MAX_CUES).contains(&c.count) {
        return Err(cx.err(
            &at(&[F("cues"), F("count")]),
            format!("{} cues: the count must lie in 1..={MAX_CUES}", c.count),
        ));
    }
    if c.neurons == 0 {
        return Err(cx.err(&at(&[F("cues"), F("neurons")]), "a cue needs at least 1 neuron"));
    }
    if !c.current.is_finite() {
        return Err(cx.err(&at(&[F("cues"), F("current")]), "cue current must be finite"));
    }
    let transfer_shared = match &t.transfer {
        None => None,
        Some(tr) => {
            let path = at(&[F("transfer"), F("shared")]);
            if !(0.0..=1.0).contains(&tr.shared) {
                return Err(cx.err(&path, format!("shared fraction {} must lie in [0, 1]", tr.shared)));
            }
            Some((tr.shared * c.neurons as f64).round() as u32)
        }
    };
    let trained = c.count as u64 * c.neurons as u64;
    let new = transfer_shared.map_or(0, |s| c.count as u64 * (c.neurons - s) as u64);
    let cp = &populations[cue_pop];
    if trained + new > cp.count as u64 {
        let transfer = match transfer_shared {
            Some(s) => format!(" and {} transfer cues of {} new neurons each", c.count, c.neurons - s),
            None => String::new(),
        };
        return Err(cx.err(
            &at(&[F("cues"), F("neurons")]),
            format!(
                "{} cues of {} neurons{transfer} need {} neurons, but population {:?} has {}",
                c.count,
                c.neurons,
                trained + new,
                cp.name,
                cp.count
            ),
        ));
    }

    let out_pop = find_pop(at(&[F("outputs"), F("population")]), &o.population)?;
    if out_pop == cue_pop {
        return Err(cx.err(
            &at(&[F("outputs"), F("population")]),
            format!(
                "the outputs must be another population than the one the cues drive ({:?})",
                o.population
            ),
        ));
    }
    if !fed[out_pop] {
        // An effector with no inputs: no region could carry the response (routes.csv).
        return Err(cx.err(
            &at(&[F("outputs"), F("population")]),
            format!(
                "output population {:?} receives no projection from another population, so no region \
                 can carry the task's response; add a Projection onto it",
                o.population
            ),
        ));
    }
    if o.neurons == 0 {
        return Err(cx.err(
            &at(&[F("outputs"), F("neurons")]),
            "an output group needs at least 1 neuron",
        ));
    }
    let op = &populations[out_pop];
    if c.count as u64 * o.neurons as u64 > op.count as u64 {
        return Err(cx.err(
            &at(&[F("outputs"), F("neurons")]),
            format!(
                "{} output groups (one per cue) of {} neurons need {} neurons, but population {:?} has {}",
                c.count,
                o.neurons,
                c.count as u64 * o.neurons as u64,
                op.name,
                op.count
            ),
        ));
    }

    let mut guided = Vec::new();
    for (i, name) in t.guided.iter().enumerate() {
        let path = at(&[F("guided"), I(i)]);
        let p = find_pop(path.clone(), name)?;
        if p == out_pop || p == cue_pop || guided.contains(&p) {
            return Err(cx.err(
                &path,
                format!(
                    "population {name:?} is already {}; a guided population is one the guidance drives besides the outputs",
                    if p == out_pop {
                        "the outputs"
                    } else if p == cue_pop {
                        "the cue population"
                    } else {
                        "guided"
                    }
                ),
            ));
        }
        if c.count as u64 * o.neurons as u64 > populations[p].count as u64 {
            return Err(cx.err(
                &path,
                format!(
                    "{} guided groups (one per cue) of {} neurons need {} neurons, but population {name:?} has {}",
                    c.count,
                    o.neurons,
                    c.count as u64 * o.neurons as u64,
                    populations[p].count
                ),
            ));
        }
        guided.push(p);
    }

    let steps = |ms: f64| (ms / dt_ms).round();
    let trial = steps(t.trial_ms);
    if !(t.trial_ms.is_finite() && t.trial_ms > 0.0 && (1.0..1e9).contains(&trial)) {
        return Err(cx.err(
            &at(&[F("trial_ms")]),
            format!(
                "trial length {} ms must be from one step ({dt_ms} ms) to 1e9 steps",
                t.trial_ms
            ),
        ));
    }
    if !(c.cue_ms.is_finite() && c.cue_ms > 0.0 && c.cue_ms <= t.trial_ms) {
        return Err(cx.err(
            &at(&[F("cues"), F("cue_ms")]),
            format!(
                "cue duration {} ms must be > 0 and at most the trial length {} ms",
                c.cue_ms, t.trial_ms
            ),
        ));
    }
    let (a, b) = o.window_ms;
    let window_path = at(&[F("outputs"), F("window_ms")]);
    if !(a.is_finite() && b.is_finite() && 0.0 <= a && a < b && b <= t.trial_ms) {
        return Err(cx.err(
            &window_path,
            format!(
                "response window ({a}, {b}) ms must have 0 <= start < end <= trial_ms ({} ms)",
                t.trial_ms
            ),
        ));
    }
    let w0 = steps(a);
    let w1 = steps(b).max(w0 + 1.0);
    if w1 > trial {
        return Err(cx.err(
            &window_path,
            format!("response window ({a}, {b}) ms ends after the trial's {trial} steps of {dt_ms} ms"),
        ));
    }

    let r = &t.reward;
    let rp = at(&[F("reward")]);
    if !(r.error.is_finite() && r.error <= 0.0) {
        return Err(cx.err(
            &with(&rp, &[F("error")]),
            format!(
                "dopamine on an error {} must be a finite number <= 0 (a dip below baseline)",
                r.error
            ),
        ));
    }
    if !(r.amount.is_finite() && r.amount >= 0.0) {
        return Err(cx.err(
            &with(&rp, &[F("amount")]),
            format!("reward amount {} must be a finite number >= 0", r.amount),
        ));
    }
    if !(r.delay_ms.is_finite() && r.delay_ms >= 0.0) {
        return Err(cx.err(
            &with(&rp, &[F("delay_ms")]),
            format!("reward delay {} ms must be a finite number >= 0", r.delay_ms),
        ));
    }
    let delay = steps(r.delay_ms);
    if b + r.delay_ms >= t.trial_ms || w1 + delay >= trial {
        // Without a delay the window's end is what is too late.
        let path = if r.delay_ms > 0.0 {
            with(&rp, &[F("delay_ms")])
        } else {
            window_path
        };
        return Err(cx.err(
            &path,
            format!(
                "the reward falls due at {} ms (the window's end {b} ms plus the delay {} ms), which must come \
                 before the trial ends at {} ms",
                b + r.delay_ms,
                r.delay_ms,
                t.trial_ms
            ),
        ));
    }
    let reward_region = match &r.region {
        None => None,
        Some(name) => Some(find_region(
            cx,
            &cx.some(with(&rp, &[F("region")])),
            name,
            region_names,
        )?),
    };
    if !(t.guidance.is_finite() && t.guidance >= 0.0) {
        return Err(cx.err(
            &at(&[F("guidance")]),
            format!("guidance current {} must be a finite number >= 0", t.guidance),
        ));
    }
    if !(0.0..1.0).contains(&t.variability) {
        return Err(cx.err(
            &at(&[F("variability")]),
            format!("variability {} must lie in [0, 1)", t.variability),
        ));
    }
    let distractor = match &t.distractor {
        None => None,
        Some(d) => {
            let dp = at(&[F("distractor")]);
            if !(d.strength > 0.0 && d.strength < 1.0) {
                return Err(cx.err(
                    &with(&dp, &[F("strength")]),
                    format!(
                        "distractor strength {} must lie in (0, 1) (a fraction of the cue)",
                        d.strength
                    ),
                ));
            }
            if c.count < 2 {
                return Err(cx.err(
                    &dp,
                    "a distractor is a second, different cue: the task needs at least 2 cues",
                ));
            }
            Some(d.strength)
        }
    };
    Ok(TaskModel {
        cue_pop,
        cues: c.count,
        cue_neurons: c.neurons,
        cue_current: c.current,
        cue_steps: steps(c.cue_ms).max(1.0) as u64,
        out_pop,
        out_neurons: o.neurons,
        window: (w0 as u64, w1 as u64),
        threshold: o.threshold.max(1),
        trial_steps: trial as u64,
        reward_amount: r.amount,
        error_amount: r.error,
        reward_delay_steps: delay as u64,
        reward_region,
        guidance: t.guidance,
        guided,
        variability: t.variability,
        transfer_shared,
        distractor,
    })
}

fn phase_name(p: &Phase) -> &'static str {
    match p {
        Phase::Train(_) => "Train",
        Phase::Rehab(_) => "Rehab",
        Phase::Booster(_) => "Booster",
        Phase::Lesion(_) => "Lesion",
        Phase::Probe(_) => "Probe",
        Phase::Drug(_) => "Drug",
        Phase::Rest(_) => "Rest",
    }
}

/// The days a phase takes, for the overlap checks.
enum Occupies<'a> {
    Range(i32, i32),
    Days(&'a [i32]),
    Nothing,
}

fn occupies(p: &Phase) -> Occupies<'_> {
    match p {
        Phase::Train(s) | Phase::Rehab(s) => Occupies::Range(s.days.0, s.days.1),
        Phase::Rest(r) => Occupies::Range(r.days.0, r.days.1),
        Phase::Booster(b) => Occupies::Days(&b.days),
        Phase::Lesion(_) | Phase::Probe(_) | Phase::Drug(_) => Occupies::Nothing,
    }
}

/// Validates the protocol and lays it out day by day; returns it with its length in steps.
#[allow(clippy::too_many_arguments)]
pub(super) fn protocol(
    cx: &Ctx,
    phases: &[Phase],
    time: TimeModel,
    task: Option<&TaskModel>,
    regions: &[RegionModel],
    find_pop: &dyn Fn(Path, &str) -> Result<usize>,
    region_names: &HashMap<String, usize>,
) -> Result<(ProtocolModel, u64)> {
    let n_regions = regions.len();
    let mut lesions: Vec<LesionModel> = Vec::new();
    let mut probe: Option<(usize, &Probe)> = None;
    let mut span: Option<(i32, i32)> = None;
    // Per phase: the per-region (excitability, plasticity) factors of its sessions.
    let mut factors: Vec<Option<(Vec<f64>, Vec<f64>)>> = Vec::new();

    // Each phase on its own.
    for (i, phase) in phases.iter().enumerate() {
        let pp: Path = vec![F("protocol"), I(i)];
        let at = |f: &'static str| with(&pp, &[F(f)]);
        let name = phase_name(phase);
        if task.is_none() && !matches!(phase, Phase::Lesion(_) | Phase::Rest(_) | Phase::Drug(_)) {
            return Err(cx.err(
                &pp,
                format!("a {name} phase runs trials of the scene's task, and the scene has no `task: Task(...)`"),
            ));
        }
        let mut days: Vec<i32> = Vec::new();
        let mut f = None;
        match phase {
            Phase::Train(s) | Phase::Rehab(s) => {
                f = Some(sessions(cx, &pp, s, n_regions, region_names)?);
                days.extend([s.days.0, s.days.1]);
            }
            Phase::Rest(r) => {
                let (a, b) = r.days;
                if a > b {
                    return Err(cx.err(&at("days"), format!("days ({a}, {b}) run backwards")));
                }
                days.extend([a, b]);
            }
            Phase::Booster(b) => {
                if b.trials == 0 {
                    return Err(cx.err(&at("trials"), "a booster session needs at least 1 trial"));
                }
                if b.days.is_empty() {
                    return Err(cx.err(&at("days"), "a Booster phase needs at least one day"));
                }
                days.extend(&b.days);
            }
            Phase::Lesion(l) => {
                if lesions.len() == MAX_LESIONS {
                    return Err(cx.err(&pp, format!("more than {MAX_LESIONS} lesions")));
                }
                lesions.push(lesion(cx, &pp, l, regions, find_pop, region_names)?);
                days.push(l.day);
            }
            Phase::Drug(d) => {
                let (a, b) = d.days;
                if a > b {
                    return Err(cx.err(&at("days"), format!("days ({a}, {b}) run backwards")));
                }
                if let Some(name) = &d.region {
                    find_region(cx, &cx.some(at("region")), name, region_names)?;
                }
                for (f, v) in [
                    ("tonic_inhibition", d.tonic_inhibition),
                    ("excitability", d.excitability),
                    ("plasticity", d.plasticity),
                ] {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(cx.err(&at(f), format!("{f} factor {v} must be a finite number >= 0")));
                    }
                }
                days.extend([a, b]);
            }
            Phase::Probe(p) => {
                if let Some((first, _)) = probe {
                    return Err(cx.err(
                        &pp,
                        format!("a second Probe phase (the first is protocol[{first}]); one Probe phase sets every probe day"),
                    ));
                }
                if p.every_days == 0 {
                    return Err(cx.err(&at("every_days"), "every_days must be at least 1"));
                }
                if p.trials == 0 {
                    return Err(cx.err(&at("trials"), "a probe needs at least 1 trial per task"));
                }
                probe = Some((i, p));
            }
        }
        factors.push(f);
        for d in days {
            span = Some(span.map_or((d, d), |(a, b)| (a.min(d), b.max(d))));
        }
    }
    let Some((first_day, last_day)) = span else {
        return Err(cx.err(
            &[F("protocol")],
            "the protocol names no day: it needs a Train, Rehab, Booster, Lesion or Rest phase",
        ));
    };
    let n_days = last_day as i64 - first_day as i64 + 1;
    if n_days > MAX_DAYS {
        return Err(cx.err(
            &[F("protocol")],
            format!("the protocol spans {n_days} days (day {first_day} to day {last_day}); at most {MAX_DAYS}"),
        ));
    }

    // Phases against each other, each reported at the one written second.
    let first_lesion = lesions.iter().map(|l| l.day).min();
    for (j, phase) in phases.iter().enumerate() {
        let pp: Path = vec![F("protocol"), I(j)];
        let at = |f: &'static str| with(&pp, &[F(f)]);
        let name = phase_name(phase);
        match phase {
            Phase::Rehab(s) => match first_lesion {
                None => {
                    return Err(cx.err(
                        &at("days"),
                        "rehab sessions follow a lesion, and the protocol has none; use Train for training \
                         without a lesion",
                    ));
                }
                Some(l) if s.days.0 < l => {
                    return Err(cx.err(
                        &at("days"),
                        format!(
                            "rehab session on day {} comes before the first lesion (day {l}); use Train for \
                             training before a lesion",
                            s.days.0
                        ),
                    ));
                }
                _ => {}
            },
            Phase::Booster(b) => {
                let early = |&d: &i32| first_lesion.is_none_or(|l| d < l);
                if let Some(k) = b.days.iter().position(early) {
                    let path = with(&at("days"), &[I(k)]);
                    return Err(cx.err(
                        &path,
                        match first_lesion {
                            None => "booster sessions follow a lesion, and the protocol has none; use Train for \
                                     training without a lesion"
                                .to_string(),
                            Some(l) => format!(
                                "booster session on day {} comes before the first lesion (day {l}); use Train \
                                 for training before a lesion",
                                b.days[k]
                            ),
                        },
                    ));
                }
                if let Some(k) = (1..b.days.len()).find(|&k| b.days[..k].contains(&b.days[k])) {
                    return Err(cx.err(
                        &with(&at("days"), &[I(k)]),
                        format!("Booster day {} is listed twice", b.days[k]),
                    ));
                }
            }
            Phase::Probe(p) => {
                if let Some(k) = p.extra_days.iter().position(|d| !(first_day..=last_day).contains(d)) {
                    return Err(cx.err(
                        &with(&at("extra_days"), &[I(k)]),
                        format!(
                            "probe day {} lies outside the protocol's days {first_day} to {last_day}",
                            p.extra_days[k]
                        ),
                    ));
                }
            }
            _ => {}
        }
        for (i, earlier) in phases[..j].iter().enumerate() {
            let other = phase_name(earlier);
            let both_rest = matches!((earlier, phase), (Phase::Rest(_), Phase::Rest(_)));
            match (occupies(earlier), occupies(phase)) {
                (Occupies::Range(c, d), Occupies::Range(a, b)) if !both_rest && a <= d && c <= b => {
                    return Err(cx.err(
                        &at("days"),
                        format!("{name} days ({a}, {b}) overlap {other} days ({c}, {d}) (protocol[{i}])"),
                    ));
                }
                (Occupies::Days(ds), Occupies::Range(a, b)) => {
                    if let Some(d) = ds.iter().find(|d| (a..=b).contains(d)) {
                        return Err(cx.err(
                            &at("days"),
                            format!("{name} days ({a}, {b}) overlap Booster day {d} (protocol[{i}])"),
                        ));
                    }
                }
                (Occupies::Range(c, d), Occupies::Days(ds)) => {
                    if let Some(k) = ds.iter().position(|x| (c..=d).contains(x)) {
                        return Err(cx.err(
                            &with(&at("days"), &[I(k)]),
                            format!("Booster day {} overlaps {other} days ({c}, {d}) (protocol[{i}])", ds[k]),
                        ));
                    }
                }
                (Occupies::Days(di), Occupies::Days(dj)) => {
                    if let Some(k) = dj.iter().position(|x| di.contains(x)) {
                        return Err(cx.err(
                            &with(&at("days"), &[I(k)]),
                            format!("Booster day {} is also a Booster day of protocol[{i}]", dj[k]),
                        ));
                    }
                }
                _ => {}
            }
        }
    }

    // One plan per day.
    let mut days: Vec<DayPlan> = (first_day..=last_day)
        .map(|day| DayPlan {
            day,
            lesions: Vec::new(),
            sessions: Vec::new(),
            probe_trials: 0,
            enrichment: 1.0,
            tonic_factor: 1.0,
            excitability: vec![1.0; n_regions],
            plasticity: vec![1.0; n_regions],
        })
        .collect();
    let index = |d: i32| (d as i64 - first_day as i64) as usize;
    for (li, l) in lesions.iter().enumerate() {
        days[index(l.day)].lesions.push(li);
    }
    for (phase, f) in phases.iter().zip(&factors) {
        let kind = match phase {
            Phase::Train(_) => "train",
            Phase::Rehab(_) => "rehab",
            _ => "booster",
        };
        match (phase, task) {
            (Phase::Train(s) | Phase::Rehab(s), Some(t)) => {
                let (excitability, plasticity) = f.clone().unwrap_or_default();
                let plan = SessionPlan {
                    trials: s.trials,
                    guidance: s.guidance.unwrap_or(t.guidance),
                    variability: s.variability.unwrap_or(t.variability),
                    reward: s.reward,
                    excitability,
                    plasticity,
                    kind,
                };
                for d in s.days.0..=s.days.1 {
                    let day = &mut days[index(d)];
                    day.enrichment = s.enrichment;
                    day.sessions
                        .extend(std::iter::repeat_n(&plan, s.sessions_per_day as usize).cloned());
                }
            }
            (Phase::Drug(d), _) => {
                let region = d.region.as_ref().map(|name| region_names[name]);
                for day in &mut days[index(d.days.0)..=index(d.days.1)] {
                    day.tonic_factor *= d.tonic_inhibition;
                    for r in (0..n_regions).filter(|&r| region.is_none_or(|x| x == r)) {
                        day.excitability[r] *= d.excitability;
                        day.plasticity[r] *= d.plasticity;
                    }
                }
            }
            (Phase::Booster(b), Some(t)) => {
                for &d in &b.days {
                    days[index(d)].sessions.push(SessionPlan {
                        trials: b.trials,
                        guidance: t.guidance,
                        variability: t.variability,
                        reward: true,
                        excitability: vec![1.0; n_regions],
                        plasticity: vec![1.0; n_regions],
                        kind,
                    });
                }
            }
            _ => {}
        }
    }
    if let Some((_, p)) = probe {
        for day in &mut days {
            let since = day.day as i64 - first_day as i64;
            if since % p.every_days as i64 == 0 || p.extra_days.contains(&day.day) || day.day == last_day {
                day.probe_trials = p.trials;
            }
        }
    }

    // The length: each day's session and probe trials, then its offline phase.
    let (trial_steps, probed) = task.map_or((0, 0), |t| {
        let probed = 1 + t.transfer_shared.is_some() as u128 + t.distractor.is_some() as u128;
        (t.trial_steps as u128, probed)
    });
    if let Some((day_steps, _)) = time.clock {
        for (i, day) in days.iter().enumerate() {
            let sessions = day.sessions.iter().map(|s| s.trials as u128).sum::<u128>() * trial_steps;
            if sessions > day_steps as u128 {
                let phase = phases
                    .iter()
                    .position(|p| match p {
                        Phase::Train(s) | Phase::Rehab(s) => (s.days.0..=s.days.1).contains(&day.day),
                        Phase::Booster(b) => b.days.contains(&day.day),
                        _ => false,
                    })
                    .expect("a day with sessions has a session phase");
                return Err(cx.err(
                    &[F("protocol"), I(phase)],
                    format!(
                        "day {}'s sessions take {sessions} steps, more than the day's {day_steps} (`time.day_ms`)",
                        first_day as i64 + i as i64
                    ),
                ));
            }
        }
    }
    let offline = |day: &DayPlan| match time.clock {
        None => time.offline_steps as u128,
        Some((d, _)) => d as u128 - day.sessions.iter().map(|s| s.trials as u128).sum::<u128>() * trial_steps,
    };
    let steps: u128 = days
        .iter()
        .map(|day| {
            let trials =
                day.sessions.iter().map(|s| s.trials as u128).sum::<u128>() + day.probe_trials as u128 * probed;
            trials * trial_steps + offline(day)
        })
        .sum();
    let steps = u64::try_from(steps).map_err(|_| {
        cx.err(
            &[F("protocol")],
            format!("the protocol runs {steps} steps, more than 2^64"),
        )
    })?;
    Ok((
        ProtocolModel {
            first_day,
            last_day,
            offline_steps: time.offline_steps,
            offline_speedup: time.offline_speedup,
            day_steps: time.clock.map(|c| c.0),
            days,
            lesions,
        },
        steps,
    ))
}

/// Validates a Train or Rehab phase; returns its per-region excitability and plasticity factors.
fn sessions(
    cx: &Ctx,
    pp: &[Seg<'static>],
    s: &Sessions,
    n_regions: usize,
    region_names: &HashMap<String, usize>,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let at = |f: &'static str| with(pp, &[F(f)]);
    let (a, b) = s.days;
    if a > b {
        return Err(cx.err(&at("days"), format!("days ({a}, {b}) run backwards")));
    }
    if !(1..=MAX_SESSIONS_PER_DAY).contains(&s.sessions_per_day) {
        return Err(cx.err(
            &at("sessions_per_day"),
            format!(
                "{} sessions a day: must lie in 1..={MAX_SESSIONS_PER_DAY}",
                s.sessions_per_day
            ),
        ));
    }
    if s.trials == 0 {
        return Err(cx.err(&at("trials"), "a session needs at least 1 trial"));
    }
    if let Some(g) = s.guidance
        && !(g.is_finite() && g >= 0.0)
    {
        return Err(cx.err(
            &cx.some(at("guidance")),
            format!("guidance current {g} must be a finite number >= 0"),
        ));
    }
    if let Some(v) = s.variability
        && !(0.0..1.0).contains(&v)
    {
        return Err(cx.err(
            &cx.some(at("variability")),
            format!("variability {v} must lie in [0, 1)"),
        ));
    }
    if !(s.enrichment.is_finite() && s.enrichment >= 0.0) {
        return Err(cx.err(
            &at("enrichment"),
            format!("enrichment {} must be a finite number >= 0", s.enrichment),
        ));
    }
    let mut excitability = vec![1.0; n_regions];
    let mut plasticity = vec![1.0; n_regions];
    let modulation = at("neuromodulation");
    for (name, m) in &s.neuromodulation {
        let np = with(&modulation, &[F(name)]);
        let r = find_region(cx, &np, name, region_names)?;
        for (f, v) in [("excitability", m.excitability), ("plasticity", m.plasticity)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(cx.err(
                    &with(&np, &[F(f)]),
                    format!("{f} factor {v} of region {name:?} must be a finite number >= 0"),
                ));
            }
        }
        excitability[r] = m.excitability;
        plasticity[r] = m.plasticity;
    }
    Ok((excitability, plasticity))
}

/// Validates a lesion.
fn lesion(
    cx: &Ctx,
    pp: &[Seg<'static>],
    l: &Lesion,
    regions: &[RegionModel],
    find_pop: &dyn Fn(Path, &str) -> Result<usize>,
    region_names: &HashMap<String, usize>,
) -> Result<LesionModel> {
    let kp = with(pp, &[F("kind")]);
    let at = |f: &'static str| with(&kp, &[F(f)]);
    let kind = match &l.kind {
        &LesionKind::Focal {
            centre_mm,
            ref region,
            core_mm,
            penumbra_mm,
            excitability_loss,
            recovery_days,
            ref tonic_inhibition,
        } => {
            let (x, y, z) = match (centre_mm, region) {
                (Some(c), None) => c,
                (None, Some(name)) => {
                    let [x, y, z] = regions[find_region(cx, &at("region"), name, region_names)?].centre_mm;
                    (x, y, z)
                }
                (Some(_), Some(_)) => {
                    return Err(cx.err(
                        &at("region"),
                        "give the lesion's centre either as `centre_mm` or as a `region` (its centre), not both",
                    ));
                }
                (None, None) => {
                    return Err(cx.err(
                        &kp,
                        "a focal lesion needs its centre: `centre_mm: (x, y, z)` or `region: \"NAME\"`",
                    ));
                }
            };
            if ![x, y, z].iter().all(|v| v.is_finite()) {
                return Err(cx.err(&at("centre_mm"), "centre coordinates must be finite"));
            }
            if !(core_mm.is_finite() && core_mm > 0.0) {
                return Err(cx.err(&at("core_mm"), format!("core radius {core_mm} mm must be > 0")));
            }
            if !(penumbra_mm.is_finite() && penumbra_mm >= 0.0) {
                return Err(cx.err(
                    &at("penumbra_mm"),
                    format!("penumbra width {penumbra_mm} mm must be a finite number >= 0"),
                ));
            }
            if !(0.0..=1.0).contains(&excitability_loss) {
                return Err(cx.err(
                    &at("excitability_loss"),
                    format!("excitability loss {excitability_loss} must lie in [0, 1]"),
                ));
            }
            if !(recovery_days.is_finite() && recovery_days > 0.0) {
                return Err(cx.err(
                    &at("recovery_days"),
                    format!("recovery time {recovery_days} days must be > 0"),
                ));
            }
            let centre = [x, y, z];
            let distance = |r: &RegionModel| {
                let d2: f64 = (0..3).map(|k| (centre[k] - r.centre_mm[k]).powi(2)).sum();
                d2.sqrt()
            };
            if !regions.iter().any(|r| distance(r) < r.radius_mm + core_mm) {
                let nearest = regions
                    .iter()
                    .min_by(|p, q| (distance(p) - p.radius_mm).total_cmp(&(distance(q) - q.radius_mm)))
                    .expect("a scene has at least one region");
                return Err(cx.err(
                    &at("centre_mm"),
                    format!(
                        "lesion at ({x}, {y}, {z}) mm with core {core_mm} mm lies outside every region (the \
                         nearest, {:?}, has its centre {:.3} mm away and a radius of {} mm)",
                        nearest.name,
                        distance(nearest),
                        nearest.radius_mm
                    ),
                ));
            }
            let tonic = match tonic_inhibition {
                None => None,
                Some(t) => {
                    let tp = at("tonic_inhibition");
                    if !(t.current.is_finite() && t.current >= 0.0) {
                        return Err(cx.err(
                            &with(&tp, &[F("current")]),
                            format!("tonic current {} must be a finite number >= 0", t.current),
                        ));
                    }
                    if penumbra_mm <= 0.0 {
                        return Err(cx.err(
                            &tp,
                            "tonic inhibition acts in the penumbra, and this lesion has none: give `penumbra_mm`",
                        ));
                    }
                    let course = curve(cx, &with(&tp, &[F("course")]), &t.course)?;
                    if let CurveModel::Points(p) = &course
                        && let Some(k) = p.iter().position(|q| !(0.0..=1.0).contains(&q.1))
                    {
                        return Err(cx.err(
                            &with(&tp, &[F("course"), I(0), I(k), I(1)]),
                            format!("a share of the tonic current, {}, must lie in [0, 1]", p[k].1),
                        ));
                    }
                    Some((t.current, course))
                }
            };
            LesionKindModel::Focal {
                centre_mm: centre,
                core_mm,
                penumbra_mm,
                excitability_loss,
                recovery_days,
                tonic,
            }
        }
        LesionKind::Fraction { population, fraction } => {
            let population = find_pop(at("population"), population)?;
            if !(*fraction > 0.0 && *fraction <= 1.0) {
                return Err(cx.err(&at("fraction"), format!("fraction {fraction} must lie in (0, 1]")));
            }
            LesionKindModel::Fraction {
                population,
                fraction: *fraction,
            }
        }
        LesionKind::Region { name, fraction } => {
            let region = find_region(cx, &at("name"), name, region_names)?;
            if !(*fraction > 0.0 && *fraction <= 1.0) {
                return Err(cx.err(&at("fraction"), format!("fraction {fraction} must lie in (0, 1]")));
            }
            LesionKindModel::Region {
                region,
                fraction: *fraction,
            }
        }
        LesionKind::TractCut { from, to } => {
            let source = find_region(cx, &at("from"), from, region_names)?;
            let target = find_region(cx, &at("to"), to, region_names)?;
            if source == target {
                return Err(cx.err(
                    &at("to"),
                    format!("a tract cut joins two different regions; both are {to:?}"),
                ));
            }
            LesionKindModel::TractCut {
                from: source,
                to: target,
            }
        }
    };
    let window = match &l.window {
        None => None,
        Some(w) => {
            let wp = with(pp, &[F("window")]);
            let at = |f: &'static str| with(&wp, &[F(f)]);
            let shorthand = match (w.boost, w.decay_days) {
                (None, None) => None,
                (Some(boost), Some(decay_days)) => {
                    if !(boost.is_finite() && boost >= 1.0) {
                        return Err(cx.err(&at("boost"), format!("boost {boost} must be a finite number >= 1")));
                    }
                    if !(decay_days.is_finite() && decay_days > 0.0) {
                        return Err(cx.err(&at("decay_days"), format!("decay time {decay_days} days must be > 0")));
                    }
                    Some(CurveModel::Exponential {
                        peak: boost,
                        decay_days,
                    })
                }
                (Some(_), None) => return Err(cx.err(&at("boost"), "`boost` needs `decay_days` too")),
                (None, Some(_)) => return Err(cx.err(&at("decay_days"), "`decay_days` needs `boost` too")),
            };
            let mut curves = [CurveModel::Constant(1.0), CurveModel::Constant(1.0)];
            for (k, (f, given)) in [("learning", &w.learning), ("growth", &w.growth)]
                .into_iter()
                .enumerate()
            {
                curves[k] = match (given, &shorthand) {
                    (Some(_), Some(_)) => {
                        return Err(cx.err(
                            &cx.some(at(f)),
                            format!("give either the shorthand `boost`/`decay_days` or the `{f}` curve, not both"),
                        ));
                    }
                    (Some(c), None) => curve(cx, &cx.some(at(f)), c)?,
                    (None, Some(c)) => c.clone(),
                    (None, None) => CurveModel::Constant(1.0),
                };
            }
            if !(w.radius_mm.is_finite() && w.radius_mm > 0.0) {
                return Err(cx.err(&at("radius_mm"), format!("radius {} mm must be > 0", w.radius_mm)));
            }
            let [learning, growth] = curves;
            Some(WindowModel {
                learning,
                growth,
                radius_mm: w.radius_mm,
            })
        }
    };
    Ok(LesionModel {
        day: l.day,
        kind,
        window,
    })
}

/// Validates a time course: finite values >= 0, points with days in ascending order.
fn curve(cx: &Ctx, path: &[Seg<'static>], c: &Curve) -> Result<CurveModel> {
    let value = |p: Vec<Seg<'static>>, v: f64, what: &str| {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(cx.err(&p, format!("{what} {v} must be a finite number >= 0")))
        }
    };
    Ok(match c {
        Curve::Constant(v) => {
            value(with(path, &[I(0)]), *v, "value")?;
            CurveModel::Constant(*v)
        }
        &Curve::Exponential { peak, decay_days } => {
            value(with(path, &[F("peak")]), peak, "peak")?;
            if !(decay_days.is_finite() && decay_days > 0.0) {
                return Err(cx.err(
                    &with(path, &[F("decay_days")]),
                    format!("decay time {decay_days} days must be > 0"),
                ));
            }
            CurveModel::Exponential { peak, decay_days }
        }
        &Curve::Carmichael { peak } => {
            value(with(path, &[F("peak")]), peak, "peak")?;
            CurveModel::Points(vec![
                (0.0, 1.0),
                (3.0, peak),
                (7.0, peak),
                (14.0, (1.0 + peak) / 2.0),
                (28.0, 1.0),
            ])
        }
        Curve::Points(p) => {
            if p.is_empty() {
                return Err(cx.err(path, "a curve needs at least one (day, value) point"));
            }
            for (k, &(d, v)) in p.iter().enumerate() {
                if !d.is_finite() {
                    return Err(cx.err(&with(path, &[I(0), I(k), I(0)]), format!("day {d} must be finite")));
                }
                value(with(path, &[I(0), I(k), I(1)]), v, "value")?;
                if k > 0 && d <= p[k - 1].0 {
                    return Err(cx.err(
                        &with(path, &[I(0), I(k), I(0)]),
                        format!("day {d} comes after day {}: a curve's days must ascend", p[k - 1].0),
                    ));
                }
            }
            CurveModel::Points(p.clone())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    /// Two regions, a task with a transfer set, and a protocol of training, a lesion, rest,
    /// rehabilitation, a booster and probes.
    const SCENE: &str = r#"Scene(
    seed: 1,
    dt_ms: 0.5,
    regions: [
        Region(name: "S1", centre_mm: (0, 0, 0), radius_mm: 2, populations: [
            Population(name: "S", count: 100, model: RegularSpiking),
        ]),
        Region(name: "M1", centre_mm: (10, 0, 0), radius_mm: 2, populations: [
            Population(name: "M", count: 50, model: RegularSpiking),
        ]),
    ], projections: [Projection(from: "S", to: "M", rule: FixedProbability(0.1), weight: 1.0, delay_ms: 1.0)],
    task: Task(
        cues: Cues(population: "S", count: 2, neurons: 20, current: 10, cue_ms: 50),
        outputs: Outputs(population: "M", neurons: 10, window_ms: (10, 110)),
        trial_ms: 200,
        reward: TaskReward(amount: 0.4, delay_ms: 20, region: "M1"),
        guidance: 2,
        variability: 0.1,
        transfer: Transfer(shared: 0.5),
    ),
    time: Time(offline_ms: 100, offline_speedup: 20),
    protocol: [
        Train(days: (-3, -2), sessions_per_day: 2, trials: 10),
        Lesion(day: 0, kind: Focal(centre_mm: (10, 0, 0), core_mm: 1), window: Window(boost: 3, decay_days: 7)),
        Rest(days: (-1, 0)),
        Rehab(days: (1, 3), trials: 5, guidance: 4, reward: false, enrichment: 1.5,
              neuromodulation: {"M1": (excitability: 1.5, plasticity: 2)}),
        Lesion(day: 2, kind: TractCut(from: "S1", to: "M1")),
        Booster(days: [5], trials: 7),
        Probe(every_days: 3, trials: 4, extra_days: [1]),
    ],
)"#;

    fn parse(src: &str) -> crate::error::Result<Model> {
        crate::scene::parse(src, "scene.ron")
    }

    #[test]
    fn task_resolves_into_steps_and_indices() {
        let m = parse(SCENE).unwrap();
        let t = m.task.unwrap();
        assert_eq!(
            t,
            TaskModel {
                cue_pop: 0,
                cues: 2,
                cue_neurons: 20,
                cue_current: 10.0,
                cue_steps: 100,
                out_pop: 1,
                out_neurons: 10,
                window: (20, 220),
                threshold: 1,
                trial_steps: 400,
                reward_amount: 0.4,
                error_amount: 0.0,
                reward_delay_steps: 40,
                reward_region: Some(1),
                guidance: 2.0,
                guided: vec![],
                variability: 0.1,
                transfer_shared: Some(10),
                distractor: None,
            }
        );
    }

    #[test]
    fn protocol_lays_out_one_plan_per_day() {
        let m = parse(SCENE).unwrap();
        let p = m.protocol.unwrap();
        assert_eq!((p.first_day, p.last_day), (-3, 5));
        assert_eq!((p.offline_steps, p.offline_speedup), (200, 20.0));
        assert_eq!(
            p.days.iter().map(|d| d.day).collect::<Vec<_>>(),
            (-3..=5).collect::<Vec<_>>()
        );
        assert_eq!(p.lesions.len(), 2);
        assert_eq!(
            p.lesions[0],
            LesionModel {
                day: 0,
                kind: LesionKindModel::Focal {
                    centre_mm: [10.0, 0.0, 0.0],
                    core_mm: 1.0,
                    penumbra_mm: 0.0,
                    excitability_loss: 0.5,
                    recovery_days: 7.0,
                    tonic: None,
                },
                window: Some(WindowModel {
                    learning: CurveModel::Exponential {
                        peak: 3.0,
                        decay_days: 7.0
                    },
                    growth: CurveModel::Exponential {
                        peak: 3.0,
                        decay_days: 7.0
                    },
                    radius_mm: 2.0,
                }),
            }
        );
        assert_eq!(p.lesions[1].kind, LesionKindModel::TractCut { from: 0, to: 1 });
        let day = |d: i32| &p.days[(d + 3) as usize];
        let lesions: Vec<(i32, Vec<usize>)> = p.days.iter().map(|d| (d.day, d.lesions.clone())).collect();
        assert!(lesions.iter().all(|(d, l)| *l
            == if *d == 0 {
                vec![0]
            } else if *d == 2 {
                vec![1]
            } else {
                vec![]
            }));

        let train = &day(-3).sessions;
        assert_eq!(train.len(), 2);
        assert_eq!(
            train[0],
            SessionPlan {
                trials: 10,
                guidance: 2.0,
                variability: 0.1,
                reward: true,
                excitability: vec![1.0, 1.0],
                plasticity: vec![1.0, 1.0],
                kind: "train",
            }
        );
        assert_eq!(train[0], train[1]);
        assert_eq!(day(-2).sessions, *train);
        for d in [-1, 0, 4] {
            assert!(day(d).sessions.is_empty(), "day {d}");
        }
        for d in 1..=3 {
            assert_eq!(
                day(d).sessions,
                vec![SessionPlan {
                    trials: 5,
                    guidance: 4.0,
                    variability: 0.1,
                    reward: false,
                    excitability: vec![1.0, 1.5],
                    plasticity: vec![1.0, 2.0],
                    kind: "rehab",
                }],
                "day {d}"
            );
        }
        assert_eq!(
            day(5).sessions,
            vec![SessionPlan {
                trials: 7,
                guidance: 2.0,
                variability: 0.1,
                reward: true,
                excitability: vec![1.0, 1.0],
                plasticity: vec![1.0, 1.0],
                kind: "booster",
            }]
        );
        let enrichment: Vec<f64> = p.days.iter().map(|d| d.enrichment).collect();
        assert_eq!(enrichment, [1.0, 1.0, 1.0, 1.0, 1.5, 1.5, 1.5, 1.0, 1.0]);
        // Every third day from the first (-3, 0, 3), the extra day 1 and the last day 5.
        let probes: Vec<(i32, u32)> = p.days.iter().map(|d| (d.day, d.probe_trials)).collect();
        assert_eq!(
            probes,
            [
                (-3, 4),
                (-2, 0),
                (-1, 0),
                (0, 4),
                (1, 4),
                (2, 0),
                (3, 4),
                (4, 0),
                (5, 4)
            ]
        );
    }

    #[test]
    fn a_protocol_sets_the_number_of_steps() {
        let m = parse(SCENE).unwrap();
        // Session trials: 2 x 2 x 10 + 3 x 5 + 7 = 62; probe trials: 5 days x 4 x 2 tasks (motor
        // and transfer) = 40; 400 steps a trial; 9 offline phases of 200 steps.
        assert_eq!(m.steps, (62 + 40) * 400 + 9 * 200);
        // A distractor is a third probed task.
        let m = parse(&SCENE.replace("transfer:", "distractor: Distractor(strength: 0.5), transfer:")).unwrap();
        assert_eq!(m.task.as_ref().unwrap().distractor, Some(0.5));
        assert_eq!(m.steps, (62 + 60) * 400 + 9 * 200);
    }

    #[test]
    fn written_some_and_implicit_some_agree() {
        let explicit = SCENE
            .replace(
                "window: Window(boost: 3, decay_days: 7)",
                "window: Some(boost: 3, decay_days: 7)",
            )
            .replace("guidance: 4,", "guidance: Some(4),");
        assert_ne!(explicit, SCENE);
        let (a, b) = (parse(SCENE).unwrap(), parse(&explicit).unwrap());
        assert_eq!((a.task, a.protocol), (b.task, b.protocol));
        // Errors inside a written Some(...) still point at the value.
        let bad = explicit.replace("boost: 3,", "boost: 0.5,");
        match parse(&bad).unwrap_err() {
            Error::Scene { line, field, .. } => {
                assert_eq!(field, "protocol[1].window.boost");
                assert_eq!(line, 24);
            }
            e => panic!("{e}"),
        }
        let bad = explicit.replace("guidance: Some(4),", "guidance: Some(-4),");
        match parse(&bad).unwrap_err() {
            Error::Scene {
                line, column, field, ..
            } => {
                assert_eq!(field, "protocol[3].guidance[0]");
                assert_eq!((line, column), (26, 55), "the -4 inside Some(..)");
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn lesions_and_offline_phases_need_no_task() {
        let src = SCENE.replace(
            &SCENE[SCENE.find("    task:").unwrap()..SCENE.find("    time:").unwrap()],
            "",
        );
        let src = src.replace(
            &src[src.find("        Train").unwrap()..src.find("        Lesion").unwrap()],
            "",
        );
        let cut = src.find("        Rehab").unwrap()..src.find("    ],\n)").unwrap();
        let src = src.replace(&src[cut], "");
        let m = parse(&src).unwrap();
        assert!(m.task.is_none());
        let p = m.protocol.unwrap();
        assert_eq!((p.first_day, p.last_day), (-1, 0));
        assert!(p.days.iter().all(|d| d.sessions.is_empty() && d.probe_trials == 0));
        assert_eq!(m.steps, 2 * 200);
    }

    #[test]
    fn a_scene_without_a_protocol_keeps_its_duration() {
        let cut = SCENE.find("    time:").unwrap()..SCENE.find(")\"").unwrap_or(SCENE.len() - 1);
        let src = format!("{}    duration_ms: 1000,\n)", &SCENE[..cut.start]);
        let m = parse(&src).unwrap();
        assert!(m.protocol.is_none());
        assert!(m.task.is_some());
        assert_eq!(m.steps, 2000);
    }
}
