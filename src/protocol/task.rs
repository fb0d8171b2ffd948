//! Trials of the task, run by the host between batches of GPU steps: cues on, output groups
//! counted in the response window, the response decided, dopamine on a correct training trial.

use crate::engine::{Engine, GroupCount, TaskCounts};
use crate::error::Result;
use crate::layout::TASK_CHANNELS;
use crate::scene::model::TaskModel;

/// Which task a trial belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    /// The trained cue set.
    Motor,
    /// The transfer cue set (shares part of each trained cue's neurons; never trained).
    Transfer,
    /// A trained cue with a weaker different cue at the same time (cognitive: ignore it).
    Distractor,
}

impl TaskKind {
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Motor => "motor",
            TaskKind::Transfer => "transfer",
            TaskKind::Distractor => "distractor",
        }
    }
}

/// How one trial is run.
#[derive(Clone, Copy, Debug)]
pub struct TrialSpec {
    pub kind: TaskKind,
    /// The cue shown (and the output group that is correct).
    pub cue: u32,
    /// The distractor cue (Distractor trials).
    pub distractor: u32,
    /// Cue amplitude factor (1 + cue jitter).
    pub amplitude: f32,
    /// Guidance current into the correct group during the cue (training only).
    pub guidance: f32,
    /// Dopamine released on a correct response, and on an error or no response (<= 0).
    pub reward: f32,
    pub error: f32,
    /// Sum the correct group's synaptic input per source region in the window (the routes).
    pub routes: bool,
}

/// What one trial gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The output group with most spikes in the window (None: a tie or no spike).
    pub response: Option<u32>,
    pub correct: bool,
    /// Steps from cue onset to the first counted spike of the chosen group.
    pub latency_steps: Option<u64>,
    /// With `TrialSpec::routes`, per source region the summed |weight| delivered onto the correct
    /// group in the window (fixed point at `conn_scale`); otherwise empty.
    pub routes: Vec<u64>,
}

/// The response: the group with most spikes, if it is the only one with that many and has at
/// least `threshold`; with the routes of the window when `routes`.
fn decide(counts: TaskCounts, cues: u32, threshold: u32, cue: u32, start: u64, routes: bool) -> Outcome {
    let groups = &counts.groups[..cues as usize];
    let routes = if routes { counts.routes } else { Vec::new() };
    match winner(groups, threshold) {
        Some(g) => Outcome {
            response: Some(g),
            correct: g == cue,
            latency_steps: groups[g as usize].first_step.map(|s| (s as u64).saturating_sub(start)),
            routes,
        },
        None => Outcome {
            response: None,
            correct: false,
            latency_steps: None,
            routes,
        },
    }
}

/// The group with most spikes, if it is the only one with that many and has at least
/// `threshold` (and at least one).
pub(crate) fn winner(groups: &[GroupCount], threshold: u32) -> Option<u32> {
    let best = groups.iter().map(|c| c.spikes).max().unwrap_or(0);
    let mut winners = (0..groups.len()).filter(|&g| groups[g].spikes == best);
    match (winners.next(), winners.next()) {
        (Some(g), None) if best >= threshold.max(1) => Some(g as u32),
        _ => None,
    }
}

/// Runs one trial of `task` from the engine's current step.
pub fn trial(
    engine: &mut dyn Engine,
    task: &TaskModel,
    reward_region: Option<u32>,
    spec: &TrialSpec,
) -> Result<Outcome> {
    let start = engine.step();
    let mut channels = [0f32; TASK_CHANNELS];
    let mut guide = [0f32; TASK_CHANNELS];
    let amp = (task.cue_current as f32 * spec.amplitude).max(0.0);
    match spec.kind {
        TaskKind::Motor => channels[spec.cue as usize] = amp,
        TaskKind::Transfer => channels[TASK_CHANNELS / 2 + spec.cue as usize] = amp,
        TaskKind::Distractor => {
            channels[spec.cue as usize] = amp;
            channels[spec.distractor as usize] = amp * task.distractor.unwrap_or(0.0) as f32;
        }
    }
    guide[spec.cue as usize] = spec.guidance;
    let (w0, w1) = task.window;
    let due = w1 + task.reward_delay_steps;
    let mut marks = vec![0, task.cue_steps, w0, w1, due, task.trial_steps];
    marks.sort_unstable();
    marks.dedup();
    let off = [0f32; TASK_CHANNELS];
    let none = TaskCounts {
        groups: Vec::new(),
        routes: Vec::new(),
    };
    let mut outcome = decide(none, 0, 1, spec.cue, start, false);
    if spec.routes {
        engine.record_routes(Some(spec.cue));
    }
    let read = |engine: &mut dyn Engine| -> Result<Outcome> {
        let counts = engine.task_counts()?;
        Ok(decide(counts, task.cues, task.threshold, spec.cue, start, spec.routes))
    };
    for pair in marks.windows(2) {
        let (at, next) = (pair[0], pair[1]);
        if at == w1 {
            outcome = read(engine)?;
        }
        if at == due {
            let amount = if outcome.correct { spec.reward } else { spec.error };
            if amount != 0.0 {
                engine.reward(reward_region, amount);
            }
        }
        let cue_on = at < task.cue_steps;
        let counting = at >= w0 && at < w1;
        if cue_on {
            engine.task_drive(&channels, &guide, counting);
        } else {
            engine.task_drive(&off, &off, counting);
        }
        engine.advance(next - at)?;
    }
    // A window that ends with the trial is read after it.
    if w1 == task.trial_steps {
        outcome = read(engine)?;
    }
    engine.task_drive(&off, &off, false);
    if spec.routes {
        engine.record_routes(None);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(spikes: &[u32]) -> Vec<GroupCount> {
        spikes
            .iter()
            .map(|&s| GroupCount {
                spikes: s,
                first_step: None,
            })
            .collect()
    }

    #[test]
    fn the_response_is_the_one_group_with_most_spikes_over_threshold() {
        assert_eq!(winner(&groups(&[3, 12, 4, 0]), 10), Some(1));
        assert_eq!(winner(&groups(&[3, 9, 4, 0]), 10), None, "below threshold");
        assert_eq!(winner(&groups(&[12, 12, 4, 0]), 10), None, "a tie");
        assert_eq!(winner(&groups(&[0, 0, 0, 0]), 0), None, "no spike is no response");
        assert_eq!(winner(&groups(&[0, 0, 1, 0]), 0), Some(2));
    }
}
