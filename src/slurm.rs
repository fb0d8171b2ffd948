//! Sweeps on a Slurm cluster: the stored plan (`DIR/plan.json`), the sbatch scripts and their
//! submission, and the steps the jobs run (`rewire sweep-task DIR prefix|INDEX|compare`).
//!
//! A sweep folder holds `plan.json`, `prefix.sbatch` (when the scenarios share their first days),
//! `array.sbatch` (one array task per scenario, or per chunk of `per_task` scenarios),
//! `compare.sbatch` and `submit.sh`, which submits them in that order: the array after the prefix
//! job succeeded (`afterok`, with `--kill-on-invalid-dep=yes` so a failed prefix cancels the
//! array instead of leaving it pending), the comparison after every array task ended however it
//! ended (`afterany`: it then lists what is missing and how to resubmit it).

use crate::error::{Error, Result};
use crate::scene::set::SetOption;
use crate::sim::RunOptions;
use crate::sweep::{self, Plan, Scenario};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

mod scripts;
pub use scripts::{Command, Resources, Submission, array_list, scripts, submissions, submit, submit_script};

/// The version of plan.json's layout; a plan of another version, or written by another rewire
/// version, is refused (its scenarios might not expand or run the same).
pub const PLAN_FORMAT: u32 = 1;
pub const PLAN_FILE: &str = "plan.json";

/// What `DIR/plan.json` holds: the scene text once, the grid, and for each scenario its folder,
/// settings and the hash of the scene text they give (the text itself is in the finished
/// folder's scene.ron; storing it here would repeat a large scene hundreds of times).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StoredPlan {
    pub format_version: u32,
    pub written_by: String,
    /// The scene file (absolute), its text and the text's hash: a task refuses to run when the
    /// file has changed since.
    pub scene_file: PathBuf,
    pub scene_hash: String,
    pub scene_text: String,
    /// The `--set` options, in order (the first varies slowest).
    pub sets: Vec<StoredSet>,
    /// Protocol days every scenario shares: they run once, as the prefix job, into `prefix`.
    pub shared_days: usize,
    pub prefix: Option<String>,
    /// Scenarios per array task, and the number of array tasks.
    pub per_task: usize,
    pub tasks: usize,
    pub scenarios: Vec<StoredScenario>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StoredSet {
    pub path: String,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StoredScenario {
    pub index: usize,
    pub name: String,
    pub settings: Vec<(String, String)>,
    pub scene_hash: String,
}

/// A plan read back and expanded again: what a task runs.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub dir: PathBuf,
    pub stored: StoredPlan,
    pub plan: Plan,
}

impl Loaded {
    /// The scenarios of array task `task`.
    pub fn chunk(&self, task: usize) -> &[Scenario] {
        &self.plan.scenarios[chunk(task, self.stored.per_task, self.plan.scenarios.len())]
    }
    /// The scenarios without a finished folder.
    pub fn missing(&self) -> Vec<&Scenario> {
        self.plan
            .scenarios
            .iter()
            .filter(|s| !sweep::finished(&self.dir, s))
            .collect()
    }
}

/// The scenarios array task `task` runs, of `n`, `per_task` to a task.
pub fn chunk(task: usize, per_task: usize, n: usize) -> std::ops::Range<usize> {
    (task * per_task).min(n)..((task + 1) * per_task).min(n)
}

fn version() -> String {
    format!("rewire {}", env!("CARGO_PKG_VERSION"))
}

/// What plan.json stores of `plan`, with `per_task` scenarios per array task.
pub fn store(plan: &Plan, per_task: usize) -> Result<StoredPlan> {
    if per_task == 0 {
        return Err(Error::Usage("--per-task must be at least 1".into()));
    }
    let text = std::fs::read_to_string(&plan.scene).map_err(|e| Error::io(&plan.scene, e))?;
    let shared = sweep::shared_days(plan);
    Ok(StoredPlan {
        format_version: PLAN_FORMAT,
        written_by: version(),
        scene_file: std::path::absolute(&plan.scene).map_err(|e| Error::io(&plan.scene, e))?,
        scene_hash: crate::checkpoint::scene_hash(&text),
        scene_text: text,
        sets: plan
            .sets
            .iter()
            .map(|o| StoredSet {
                path: o.path.clone(),
                values: o.values.clone(),
            })
            .collect(),
        shared_days: shared,
        // One checkpoint per replicate: `prefix_seed=*.rwck` when the sweep varies the seed.
        prefix: (shared > 0).then(|| {
            if plan.scenarios.iter().any(|s| s.seed().is_some()) {
                "prefix_seed=*.rwck".to_string()
            } else {
                sweep::PREFIX_FILE.to_string()
            }
        }),
        per_task,
        tasks: plan.scenarios.len().div_ceil(per_task),
        scenarios: stored_scenarios(plan),
    })
}

fn stored_scenarios(plan: &Plan) -> Vec<StoredScenario> {
    plan.scenarios
        .iter()
        .map(|s| StoredScenario {
            index: s.index,
            name: s.name.clone(),
            settings: s.settings.clone(),
            scene_hash: crate::checkpoint::scene_hash(&s.text),
        })
        .collect()
}

/// Reads `dir/plan.json` and expands it again, refusing a missing or corrupt plan, one of
/// another version, and one whose scene file has changed since it was written.
pub fn load(dir: &Path) -> Result<Loaded> {
    let path = dir.join(PLAN_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Usage(format!(
                "{}: no sweep plan here (write one with `rewire sweep SCENE --set ... --out {} --slurm`)",
                path.display(),
                dir.display()
            ))
        } else {
            Error::io(&path, e)
        }
    })?;
    let refuse = |why: String| Error::data(&path, why);
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| refuse(format!("not a sweep plan (damaged?): {e}")))?;
    let (format, by) = (value["format_version"].as_u64(), value["written_by"].as_str());
    if format != Some(PLAN_FORMAT as u64) || by != Some(version().as_str()) {
        return Err(refuse(format!(
            "written by {} (plan format {}), and this is {} (format {PLAN_FORMAT}): write the plan again with \
             this rewire, into a new folder, or run the rewire that wrote it",
            by.unwrap_or("an unknown program"),
            format.map_or("unknown".to_string(), |f| f.to_string()),
            version()
        )));
    }
    let stored: StoredPlan =
        serde_json::from_value(value).map_err(|e| refuse(format!("not a sweep plan (damaged?): {e}")))?;
    let now = std::fs::read_to_string(&stored.scene_file).map_err(|e| {
        refuse(format!(
            "its scene file {} cannot be read ({e}); the plan runs only from the scene it was written from",
            stored.scene_file.display()
        ))
    })?;
    if crate::checkpoint::scene_hash(&now) != stored.scene_hash {
        return Err(refuse(format!(
            "the scene file {} has changed since the plan was written, so the scenarios would not be the ones \
             planned: restore it, or write a new plan into a new folder",
            stored.scene_file.display()
        )));
    }
    let sets: Vec<SetOption> = stored
        .sets
        .iter()
        .map(|o| SetOption {
            path: o.path.clone(),
            values: o.values.clone(),
        })
        .collect();
    let plan = sweep::plan_text(&stored.scene_text, &stored.scene_file, &sets)?;
    if stored_scenarios(&plan) != stored.scenarios || sweep::shared_days(&plan) != stored.shared_days {
        return Err(refuse(
            "it no longer expands to the scenarios it lists (edited by hand?): write the plan again".into(),
        ));
    }
    Ok(Loaded {
        dir: dir.to_path_buf(),
        stored,
        plan,
    })
}

/// Writes the plan, the scripts and submit.sh of `plan` into `dir` (made absolute), and the
/// logs folder; returns the stored plan and the submissions. A folder holding another plan is
/// refused (its queued tasks would run this one's scenarios).
pub fn write(
    plan: &Plan,
    dir: &Path,
    per_task: usize,
    res: &Resources,
    cmd: &Command,
) -> Result<(StoredPlan, Vec<Submission>)> {
    res.check()?;
    let dir = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
    let stored = store(plan, per_task)?;
    let path = dir.join(PLAN_FILE);
    if path.exists() {
        match load(&dir) {
            Ok(old) if old.stored.scenarios == stored.scenarios && old.stored.per_task == per_task => {}
            Ok(_) => {
                return Err(Error::Usage(format!(
                    "{} holds the plan of another sweep (other scenarios, or another --per-task): choose another --out",
                    dir.display()
                )));
            }
            Err(e) => return Err(Error::Usage(format!("{e}; choose another --out"))),
        }
    }
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| Error::io(&logs, e))?;
    let json = serde_json::to_string_pretty(&stored).map_err(|e| Error::data(&path, e.to_string()))?;
    crate::atomic::write_file(&path, (json + "\n").as_bytes(), true)?;
    sweep::write_index(plan, &dir)?;
    for (name, text) in scripts(&stored, &dir, res, cmd) {
        crate::atomic::write_file(&dir.join(name), text.as_bytes(), false)?;
    }
    let subs = submissions(&dir, stored.prefix.is_some(), None, &Resources::default());
    let submit_sh = dir.join("submit.sh");
    crate::atomic::write_file(&submit_sh, submit_script(&subs).as_bytes(), false)?;
    set_executable(&submit_sh)?;
    Ok((stored, subs))
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(|e| Error::io(path, e))
}

/// What a `rewire sweep-task` runs: the shared days, one array task, or the comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    Prefix,
    Task(usize),
    Compare,
}

impl std::str::FromStr for Step {
    type Err = Error;
    fn from_str(s: &str) -> Result<Step> {
        match s {
            "prefix" => Ok(Step::Prefix),
            "compare" => Ok(Step::Compare),
            _ => s.parse().map(Step::Task).map_err(|_| {
                Error::Usage(format!(
                    "sweep-task: {s:?} is neither an array task index, `prefix` nor `compare`"
                ))
            }),
        }
    }
}

/// Runs one step of the sweep stored in `dir`. A task runs each scenario of its chunk that is not
/// finished yet (a finished one is left as it is, so a resubmitted task redoes only what failed),
/// starting from the shared days' checkpoint, which the prefix job must have written. The
/// comparison refuses while any scenario is unfinished, naming them and the command that
/// resubmits them.
pub fn task(dir: &Path, step: Step, opts: &RunOptions, mut log: impl FnMut(&str)) -> Result<Vec<std::path::PathBuf>> {
    let l = load(dir)?;
    let (plan, stored) = (&l.plan, &l.stored);
    match step {
        Step::Prefix => {
            if stored.shared_days == 0 {
                log("[prefix] the scenarios share no days: nothing to do");
                return Ok(Vec::new());
            }
            // Every replicate's shared days, one after another (each runs once: a finished one is
            // found and kept).
            let mut files = Vec::new();
            for (seed, _) in sweep::replicates(plan) {
                sweep::prefix(plan, dir, opts, stored.shared_days, seed, &mut log)?;
                files.push(dir.join(sweep::prefix_file(seed)));
            }
            Ok(files)
        }
        Step::Task(i) => {
            if i >= stored.tasks {
                return Err(Error::Usage(format!(
                    "sweep-task: index {i} is out of range: the plan in {} has {} array tasks (0 to {})",
                    dir.display(),
                    stored.tasks,
                    stored.tasks - 1
                )));
            }
            let mut prefixes: Vec<(Option<&str>, crate::checkpoint::Checkpoint)> = Vec::new();
            let mut ran = Vec::new();
            for s in l.chunk(i) {
                if sweep::finished(dir, s) {
                    log(&format!(
                        "[{}/{}] {}: done already",
                        s.index + 1,
                        plan.scenarios.len(),
                        s.name
                    ));
                    continue;
                }
                if stored.shared_days > 0 && !prefixes.iter().any(|(seed, _)| *seed == s.seed()) {
                    let c = sweep::read_prefix(plan, dir, stored.shared_days, s.seed()).ok_or_else(|| {
                        Error::Usage(format!(
                            "{}: missing, or not the shared days of this plan: the prefix job must succeed first \
                             (`rewire sweep-task {} prefix`)",
                            dir.join(sweep::prefix_file(s.seed())).display(),
                            dir.display()
                        ))
                    })?;
                    prefixes.push((s.seed(), c));
                }
                let prefix = prefixes.iter().find(|(seed, _)| *seed == s.seed()).map(|(_, c)| c);
                let t0 = std::time::Instant::now();
                let summary = sweep::run_scenario(plan, s, dir, opts, prefix, &mut log)?;
                log(&format!(
                    "[{}/{}] {}: done in {:.1} s on {}",
                    s.index + 1,
                    plan.scenarios.len(),
                    s.name,
                    t0.elapsed().as_secs_f64(),
                    summary.engine
                ));
                ran.push(dir.join(&s.name));
            }
            Ok(ran)
        }
        Step::Compare => {
            let missing = l.missing();
            if !missing.is_empty() {
                let names: Vec<&str> = missing.iter().map(|s| s.name.as_str()).collect();
                return Err(Error::Usage(format!(
                    "{} of {} scenarios have not finished: {}; resubmit them with `rewire sweep-resubmit {} --submit`",
                    missing.len(),
                    plan.scenarios.len(),
                    names.join(", "),
                    dir.display()
                )));
            }
            let (runs, files, groups) = sweep::compare_all(plan, dir)?;
            log(crate::report::compare::table(&runs).trim_end());
            if let Some(g) = groups {
                log(crate::report::compare::group_table(&g).trim_end());
            }
            Ok(files)
        }
    }
}

/// What `rewire sweep-resubmit` would submit: the unfinished scenarios, the array tasks that
/// hold them, whether the prefix must run again, and the submissions (none when everything,
/// the comparison included, is done).
#[derive(Clone, Debug)]
pub struct Resubmit {
    pub missing: Vec<String>,
    pub tasks: Vec<usize>,
    pub prefix: bool,
    pub submissions: Vec<Submission>,
}

/// The resubmission of the sweep in `dir`: exactly the array tasks with an unfinished scenario,
/// the prefix job first when its checkpoint is missing, and a new comparison. `res` overrides
/// the scripts' resources (a longer `--time`, another partition).
pub fn resubmit(dir: &Path, res: &Resources) -> Result<Resubmit> {
    res.check()?;
    let dir = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
    let l = load(&dir)?;
    let missing = l.missing();
    let mut tasks: Vec<usize> = missing.iter().map(|s| s.index / l.stored.per_task).collect();
    tasks.dedup();
    let prefix = l.stored.shared_days > 0
        && missing
            .iter()
            .any(|s| sweep::read_prefix(&l.plan, &dir, l.stored.shared_days, s.seed()).is_none());
    let done = missing.is_empty() && dir.join("comparison.csv").is_file();
    Ok(Resubmit {
        missing: missing.iter().map(|s| s.name.clone()).collect(),
        submissions: if done {
            Vec::new()
        } else {
            submissions(&dir, prefix, Some(&tasks), res)
        },
        tasks,
        prefix,
    })
}

#[cfg(test)]
mod tests;
