//! ICMS motor maps (the `Icms` readout): at the end of a mapping day, each site's column of
//! living neurons is stimulated by a pulse train, from the weakest current up, with plasticity
//! frozen; the task's output group that responds (as a trial's response is decided: the one group
//! with most spikes in the response window, with at least the task's threshold) and the lowest
//! current that evokes it are the site's movement and threshold (Nudo et al. 1996). The engine's
//! whole state is saved before the map and restored after it, so mapping changes nothing else of
//! the run.

use crate::engine::{Control, Engine};
use crate::error::Result;
use crate::layout::{STATUS_ALIVE, TASK_CHANNELS};
use crate::scene::Model;
use crate::scene::model::{IcmsModel, TaskModel};

/// The cue channel the stimulus drives (every other channel is silent while mapping).
const CHANNEL: usize = 0;

/// What one site gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    /// Living neurons stimulated.
    pub neurons: u32,
    /// The responding output group (None: no current evoked a response).
    pub response: Option<u32>,
    /// The lowest current that evoked it (input current units).
    pub threshold: Option<f64>,
    /// The responding group's spikes in the window at threshold; without a response, the most
    /// spikes of any group at the strongest current.
    pub spikes: u32,
}

/// The neurons a site stimulates: those of its region within `radius` of it in the x-y plane.
pub fn column(model: &Model, positions: &[[f32; 3]], region: usize, at: [f64; 3], radius: f64) -> Vec<u32> {
    let mut out = Vec::new();
    for p in model.populations.iter().filter(|p| p.region == region) {
        for n in p.first..p.first + p.count {
            let q = positions[n as usize];
            let (dx, dy) = (q[0] as f64 - at[0], q[1] as f64 - at[1]);
            if dx * dx + dy * dy <= radius * radius {
                out.push(n);
            }
        }
    }
    out
}

/// The steps at which a train's drive changes: each pulse's onset and end (one step long, every
/// `every` steps while `t < train`), the response window's ends, and the trial's end.
fn marks(train: u64, every: u64, window: (u64, u64), end: u64) -> Vec<u64> {
    let mut marks = vec![0, window.0, window.1, end];
    let mut t = 0;
    while t < train {
        marks.extend([t, t + 1]);
        t += every;
    }
    marks.retain(|&m| m <= end);
    marks.sort_unstable();
    marks.dedup();
    marks
}

/// One train at `current` from the engine's current step: the counts of the window, decided.
fn train(engine: &mut dyn Engine, task: &TaskModel, m: &IcmsModel, current: f32) -> Result<(Option<u32>, u32)> {
    let (w0, w1) = task.window;
    let end = m.train_steps.max(w1) + m.rest_steps;
    let mut stim = [0f32; TASK_CHANNELS];
    stim[CHANNEL] = current;
    let off = [0f32; TASK_CHANNELS];
    let mut decided = None;
    let marks = marks(m.train_steps, m.pulse_every_steps, task.window, end);
    for pair in marks.windows(2) {
        let (at, next) = (pair[0], pair[1]);
        if at == w1 {
            decided = Some(engine.task_counts()?);
        }
        let pulse = at < m.train_steps && at % m.pulse_every_steps == 0;
        engine.task_drive(if pulse { &stim } else { &off }, &off, at >= w0 && at < w1);
        engine.advance(next - at)?;
    }
    let counts = match decided {
        Some(c) => c,
        None => engine.task_counts()?,
    };
    engine.task_drive(&off, &off, false);
    let groups = &counts.groups[..task.cues as usize];
    let best = groups.iter().map(|g| g.spikes).max().unwrap_or(0);
    Ok((super::task::winner(groups, task.threshold), best))
}

/// Maps every site of `m` from the engine's present state, under the day's control `base`
/// (learning off, plasticity frozen), with the neurons' present `status`; restores the state
/// before returning, whatever happened.
pub fn map(
    engine: &mut dyn Engine,
    model: &Model,
    m: &IcmsModel,
    task: &TaskModel,
    positions: &[[f32; 3]],
    status: &[[u32; 4]],
    base: &Control,
) -> Result<Vec<Site>> {
    let saved = engine.save_state()?;
    let result = map_from(engine, model, m, task, positions, status, base);
    engine.load_state(&saved)?;
    result
}

fn map_from(
    engine: &mut dyn Engine,
    model: &Model,
    m: &IcmsModel,
    task: &TaskModel,
    positions: &[[f32; 3]],
    status: &[[u32; 4]],
    base: &Control,
) -> Result<Vec<Site>> {
    let mut c = base.clone();
    c.learning = 0.0;
    c.frozen = true;
    engine.control(&c);
    // No cue channel drives anyone: only the stimulated column gets the stimulus channel.
    let quiet: Vec<[u32; 4]> = status
        .iter()
        .map(|s| [s[0], s[1], s[2], s[3] & !((1u32 << TASK_CHANNELS) - 1)])
        .collect();
    engine.task_counts()?;
    let mut sites = Vec::with_capacity(m.sites.len());
    for &(region, at) in &m.sites {
        let living: Vec<u32> = column(model, positions, region, at, m.radius_mm)
            .into_iter()
            .filter(|&n| status[n as usize][0] & STATUS_ALIVE != 0)
            .collect();
        let mut site = Site {
            neurons: living.len() as u32,
            response: None,
            threshold: None,
            spikes: 0,
        };
        if !living.is_empty() {
            let mut st = quiet.clone();
            for &n in &living {
                st[n as usize][3] |= 1 << CHANNEL;
            }
            engine.set_status(&st);
            for &current in &m.currents {
                let (response, spikes) = train(engine, task, m, current as f32)?;
                site.spikes = spikes;
                if response.is_some() {
                    site.response = response;
                    site.threshold = Some(current);
                    break;
                }
            }
        }
        sites.push(site);
    }
    Ok(sites)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_train_pulses_every_few_steps_and_the_window_is_marked() {
        // 39 steps of train, a pulse every 3 (13: steps 0 to 36), window 5..80, quiet to 180.
        let m = marks(39, 3, (5, 80), 180);
        let pulses: Vec<u64> = m
            .windows(2)
            .filter(|p| p[0] < 39 && p[0] % 3 == 0)
            .map(|p| p[0])
            .collect();
        assert_eq!(pulses.len(), 13);
        assert_eq!(pulses.last(), Some(&36));
        assert!(
            m.windows(2)
                .filter(|p| p[0] < 39 && p[0] % 3 == 0)
                .all(|p| p[1] == p[0] + 1),
            "one-step pulses"
        );
        assert!(m.contains(&5) && m.contains(&80) && *m.last().unwrap() == 180);
        // A pulse every step is a continuous current.
        let m = marks(4, 1, (2, 6), 6);
        assert_eq!(m, vec![0, 1, 2, 3, 4, 6]);
    }
}
