//! `rewire sweep`: a grid of scenarios from one scene and `--set` options, run one after another
//! into their own folders, resumable, and compared at the end.

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::report::compare::{self, RunMetrics};
use crate::scene::set::{self, SetOption};
use crate::scene::{self, Model};
use crate::sim::{self, Checkpointing, RunOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The shared days' checkpoint in a sweep's folder.
pub const PREFIX_FILE: &str = "prefix.rwck";

/// One scenario of a sweep: its settings, the scene text they give, and the validated model.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub index: usize,
    /// The folder's name: the index and the settings, e.g. `01_days=14-20_core_mm=0.75`.
    pub name: String,
    pub settings: Vec<(String, String)>,
    pub text: String,
    pub model: Model,
}

/// A sweep's grid, every scenario validated.
#[derive(Clone, Debug)]
pub struct Plan {
    pub scene: PathBuf,
    pub sets: Vec<SetOption>,
    pub scenarios: Vec<Scenario>,
}

/// The last step of a path, for folder names: `protocol.Rehab.days` -> `days`.
fn short(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// A folder-safe rendering of a value: `(2, 8)` -> `2-8`, `"a b"` -> `a_b`.
fn folder_safe(value: &str) -> String {
    let mut s = String::new();
    for c in value.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' => s.push(c),
            '-' if s.is_empty() => s.push(c),
            ',' => s.push('-'),
            ' ' | '"' | '(' | ')' | '[' | ']' => {}
            _ => s.push('_'),
        }
    }
    if s.is_empty() { "x".to_string() } else { s }
}

/// Expands the grid (the first `--set` varies slowest) and validates every scenario's scene
/// before anything runs: a path that leads nowhere, a value of the wrong kind or a scene the
/// values make invalid is refused here.
pub fn plan(scene_path: &Path, sets: &[SetOption]) -> Result<Plan> {
    let src = std::fs::read_to_string(scene_path).map_err(|e| Error::io(scene_path, e))?;
    plan_text(&src, scene_path, sets)
}

/// [`plan`] of the scene text `src`, read from `scene_path` (a stored plan is expanded again
/// from the text it stored).
pub fn plan_text(src: &str, scene_path: &Path, sets: &[SetOption]) -> Result<Plan> {
    let file = scene_path.display().to_string();
    scene::parse(src, &file)?;
    if sets.is_empty() {
        return Err(Error::Usage("sweep: give at least one --set PATH=V1,V2".into()));
    }
    let mut grid: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for o in sets {
        grid = grid
            .into_iter()
            .flat_map(|g| {
                o.values.iter().map(move |v| {
                    let mut g = g.clone();
                    g.push((o.path.clone(), v.clone()));
                    g
                })
            })
            .collect();
    }
    let width = (grid.len().saturating_sub(1)).to_string().len().max(2);
    let mut scenarios = Vec::new();
    for (index, settings) in grid.into_iter().enumerate() {
        let text = set::apply(src, &settings)?;
        let mut model = set::parse_with(src, &file, &settings)?;
        let shown: Vec<String> = settings.iter().map(|(p, v)| format!("{p}={v}")).collect();
        model.name = format!("{} [{}]", model.name, shown.join(" "));
        let mut name = format!("{index:0width$}");
        for (p, v) in &settings {
            name.push_str(&format!("_{}={}", short(p), folder_safe(v)));
        }
        scenarios.push(Scenario {
            index,
            name,
            settings,
            text,
            model,
        });
    }
    Ok(Plan {
        scene: scene_path.to_path_buf(),
        sets: sets.to_vec(),
        scenarios,
    })
}

/// What a sweep did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Scenario folders run now, and those found finished and skipped.
    pub ran: Vec<String>,
    pub skipped: Vec<String>,
    pub runs: Vec<RunMetrics>,
    pub files: Vec<PathBuf>,
}

/// Whether `out/NAME` holds a finished run of exactly scenario `s`: a folder only gets its final
/// name once its run is complete, and it keeps the scene text it ran.
pub fn finished(out: &Path, s: &Scenario) -> bool {
    let dir = out.join(&s.name);
    dir.join("summary.json").is_file() && std::fs::read_to_string(dir.join("scene.ron")).is_ok_and(|t| t == s.text)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// Writes `out/sweep.csv`: each scenario's index, folder and settings.
pub fn write_index(plan: &Plan, out: &Path) -> Result<()> {
    let mut index = String::from("index,folder");
    for o in &plan.sets {
        index.push(',');
        index.push_str(&o.path.replace(',', ";"));
    }
    for s in &plan.scenarios {
        index.push_str(&format!("\n{},{}", s.index, s.name));
        for (_, v) in &s.settings {
            index.push_str(&format!(",\"{}\"", v.replace('"', "'")));
        }
    }
    index.push('\n');
    crate::stats::write_atomic(&out.join("sweep.csv"), index.as_bytes(), false)
}

/// How many leading protocol days every scenario shares: they run once, into `out/prefix.rwck`,
/// and each scenario forks from there (0: no shared prefix; a single scenario has none).
pub fn shared_days(plan: &Plan) -> usize {
    if plan.scenarios.len() < 2 {
        return 0;
    }
    let models: Vec<Model> = plan.scenarios.iter().map(|s| s.model.clone()).collect();
    crate::checkpoint::shared_days(&models)
}

/// Runs every scenario not yet finished into `out/NAME` (through `out/NAME.partial`, renamed when
/// complete), then compares all of them into `out`. `log` receives one line per scenario.
pub fn run(plan: &Plan, out: &Path, opts: &RunOptions, mut log: impl FnMut(&str)) -> Result<Outcome> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    write_index(plan, out)?;
    let total = plan.scenarios.len();
    let todo: Vec<&Scenario> = plan.scenarios.iter().filter(|s| !finished(out, s)).collect();
    let mut outcome = Outcome {
        ran: Vec::new(),
        skipped: Vec::new(),
        runs: Vec::new(),
        files: Vec::new(),
    };
    for s in &plan.scenarios {
        if !todo.iter().any(|t| t.index == s.index) {
            log(&format!(
                "[{}/{total}] {}: finished earlier, skipped",
                s.index + 1,
                s.name
            ));
            outcome.skipped.push(s.name.clone());
        }
    }
    // Scenarios that share their first protocol days start from one run of them (a fork).
    let shared = shared_days(plan);
    let prefix = match shared {
        1.. if !todo.is_empty() => Some(prefix(plan, out, opts, shared, &mut log)?),
        _ => None,
    };
    let started = Instant::now();
    for (k, s) in todo.iter().enumerate() {
        let t0 = Instant::now();
        run_scenario(plan, s, out, opts, prefix.as_ref(), &mut log)?;
        let left = todo.len() - k - 1;
        let eta = started.elapsed().as_secs_f64() / (k + 1) as f64 * left as f64;
        log(&format!(
            "[{}/{total}] {}: done in {:.1} s; {left} to go{}",
            s.index + 1,
            s.name,
            t0.elapsed().as_secs_f64(),
            if left > 0 {
                format!(", about {eta:.0} s left")
            } else {
                String::new()
            }
        ));
        outcome.ran.push(s.name.clone());
    }
    let (runs, files) = compare_all(plan, out)?;
    outcome.runs = runs;
    outcome.files = files;
    Ok(outcome)
}

/// Runs scenario `s` of `plan` into `out/NAME`: into `out/NAME.partial` first (any stale one, and
/// any unfinished `out/NAME`, removed), renamed only once the run is complete, so a run killed at
/// any moment leaves no folder that looks finished. Starts from `prefix` when given (the shared
/// days). The local sweep and each Slurm array task (`rewire sweep-task`) run scenarios here.
pub fn run_scenario(
    plan: &Plan,
    s: &Scenario,
    out: &Path,
    opts: &RunOptions,
    prefix: Option<&Checkpoint>,
    log: &mut impl FnMut(&str),
) -> Result<sim::Summary> {
    let dir = out.join(&s.name);
    let partial = out.join(format!("{}.partial", s.name));
    for stale in [&partial, &dir] {
        if stale.exists() {
            std::fs::remove_dir_all(stale).map_err(|e| Error::io(stale, e))?;
        }
    }
    std::fs::create_dir_all(&partial).map_err(|e| Error::io(&partial, e))?;
    write(&partial.join("scene.ron"), &s.text)?;
    let settings: Vec<String> = s.settings.iter().map(|(p, v)| format!("{p}={v}")).collect();
    write(&partial.join("settings.txt"), &(settings.join("\n") + "\n"))?;
    log(&format!(
        "[{}/{}] {}: running {}",
        s.index + 1,
        plan.scenarios.len(),
        s.name,
        settings.join(" ")
    ));
    let ck = Checkpointing {
        scene_file: plan.scene.display().to_string(),
        scene_text: s.text.clone(),
        resume: prefix.cloned(),
        ..Default::default()
    };
    let summary = sim::run_with(s.model.clone(), &partial, opts, &ck)
        .map_err(|e| Error::Usage(format!("scenario {}: {e}", s.name)))?;
    std::fs::rename(&partial, &dir).map_err(|e| Error::io(&dir, e))?;
    Ok(summary)
}

/// `rewire compare` over every scenario folder of `plan`, into `out`.
pub fn compare_all(plan: &Plan, out: &Path) -> Result<(Vec<RunMetrics>, Vec<PathBuf>)> {
    let dirs: Vec<PathBuf> = plan.scenarios.iter().map(|s| out.join(&s.name)).collect();
    compare::compare(&dirs, out)
}

/// The checkpoint of the first `days` protocol days of `plan` in `out/prefix.rwck`, when it is
/// there, whole, and of those days of this plan's scene.
pub fn read_prefix(plan: &Plan, out: &Path, days: usize) -> Option<Checkpoint> {
    let c = crate::checkpoint::read(&out.join(PREFIX_FILE)).ok()?;
    let next = c.header.position.protocol.as_ref().and_then(|p| p["next_day"].as_u64());
    (next == Some(days as u64) && crate::checkpoint::check_fork(&c, &plan.scenarios[0].model).is_ok()).then_some(c)
}

/// The checkpoint after the first `days` protocol days that every scenario shares
/// (`DIR/prefix.rwck`), run now unless a checkpoint of the same days of the same scene is there.
pub fn prefix(
    plan: &Plan,
    out: &Path,
    opts: &RunOptions,
    days: usize,
    log: &mut impl FnMut(&str),
) -> Result<Checkpoint> {
    let first = &plan.scenarios[0];
    let path = out.join(PREFIX_FILE);
    let day = first.model.protocol.as_ref().map_or(0, |p| p.days[days].day);
    if let Some(c) = read_prefix(plan, out, days) {
        log(&format!(
            "[prefix] the days before day {day} shared by every scenario: finished earlier"
        ));
        return Ok(c);
    }
    log(&format!(
        "[prefix] running the {days} days before day {day} once: every scenario starts from them"
    ));
    let dir = out.join("prefix.partial");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    let ck = Checkpointing {
        stop_after_days: Some(days),
        path: Some(path.clone()),
        scene_file: plan.scene.display().to_string(),
        scene_text: first.text.clone(),
        ..Default::default()
    };
    match sim::run_with(first.model.clone(), &dir, opts, &ck) {
        Err(Error::Interrupted(_)) => {}
        Ok(_) => return Err(Error::Usage("sweep: the shared days ended the protocol".into())),
        Err(e) => return Err(e),
    }
    std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    crate::checkpoint::read(&path)
}
