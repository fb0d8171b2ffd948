//! `rewire sweep`: a grid of scenarios from one scene and `--set` options, run one after another
//! into their own folders, resumable, and compared at the end.

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::report::compare::{self, GroupReport, RunMetrics};
use crate::scene::set::{self, SetOption};
use crate::scene::{self, Model};
use crate::sim::{self, Checkpointing, RunOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The shared days' checkpoint in a sweep's folder (of a sweep without replicates).
pub const PREFIX_FILE: &str = "prefix.rwck";

/// The `--set` path of the scene's seed (see [`crate::scene::set::SEED_PATH`]): a sweep that
/// varies it runs replicates, and every seed has its own shared days (`prefix_seed=N.rwck`).
pub use crate::scene::set::SEED_PATH;

/// The checkpoint of the shared days of the replicate with `seed` (`None`: a sweep without
/// replicates).
pub fn prefix_file(seed: Option<&str>) -> String {
    match seed {
        Some(s) => format!("prefix_seed={}.rwck", folder_safe(s)),
        None => PREFIX_FILE.to_string(),
    }
}

/// The seeds `--seeds` names: `N` (1 to N), a range `A-B` (inclusive) or a list `A,B,C`. Refuses
/// 0 replicates, an empty or reversed range, a repeated seed and anything not a whole number.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>> {
    let bad = |why: &str| {
        Error::Usage(format!(
            "--seeds {text:?}: {why} (give N for seeds 1 to N, A-B, or A,B,C)"
        ))
    };
    let num = |t: &str| {
        t.trim()
            .parse::<u64>()
            .map_err(|_| bad(&format!("{:?} is not a whole number", t.trim())))
    };
    let seeds: Vec<u64> = if text.contains(',') {
        text.split(',').map(num).collect::<Result<_>>()?
    } else if let Some((a, b)) = text.split_once('-') {
        let (a, b) = (num(a)?, num(b)?);
        if b < a {
            return Err(bad("the range ends before it starts"));
        }
        (a..=b).collect()
    } else {
        let n = num(text)?;
        if n == 0 {
            return Err(bad("0 replicates"));
        }
        (1..=n).collect()
    };
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != seeds.len() {
        return Err(bad("a seed is named twice"));
    }
    Ok(seeds)
}

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

impl Scenario {
    /// The replicate's seed, when the sweep varies it.
    pub fn seed(&self) -> Option<&str> {
        self.settings
            .iter()
            .find(|(p, _)| p == SEED_PATH)
            .map(|(_, v)| v.as_str())
    }

    /// The scenario's group: its settings but the seed, the replicates of one arm.
    pub fn group(&self) -> String {
        crate::scene::set::arm_label(&self.settings)
    }
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
        return Err(Error::Usage(
            "sweep: give at least one --set PATH=V1,V2, or --seeds N for replicates".into(),
        ));
    }
    if sets.iter().filter(|o| o.path == SEED_PATH).count() > 1 {
        return Err(Error::Usage(
            "sweep: the seed is set twice (--seeds and --set seed=...): give one".into(),
        ));
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
    plan_design(src, scene_path, sets, grid)
}

/// A plan of the scenarios `design` lists (each its settings, in order), read from `src` at
/// `scene_path`; `sets` names every path and value they use (for `sweep.csv`). A sweep's grid is
/// one design; a sensitivity screening (`crate::sensitivity`) another.
pub fn plan_design(src: &str, scene_path: &Path, sets: &[SetOption], grid: Vec<Vec<(String, String)>>) -> Result<Plan> {
    let file = scene_path.display().to_string();
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
    /// The replicates' group statistics (a sweep with `--seeds`).
    pub groups: Option<GroupReport>,
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
        // By path: a design's scenarios need not set every path (empty: the scene's value).
        for o in &plan.sets {
            match s.settings.iter().find(|(p, _)| *p == o.path) {
                Some((_, v)) => index.push_str(&format!(",\"{}\"", v.replace('"', "'"))),
                None => index.push(','),
            }
        }
    }
    index.push('\n');
    crate::atomic::write_file(&out.join("sweep.csv"), index.as_bytes(), false)
}

/// The scenarios by replicate: one entry per seed in first-seen order (one entry, seed `None`,
/// for a sweep without replicates). Each replicate's scenarios share its own first days.
pub fn replicates(plan: &Plan) -> Vec<(Option<&str>, Vec<&Scenario>)> {
    let mut out: Vec<(Option<&str>, Vec<&Scenario>)> = Vec::new();
    for s in &plan.scenarios {
        match out.iter_mut().find(|(seed, _)| *seed == s.seed()) {
            Some((_, v)) => v.push(s),
            None => out.push((s.seed(), vec![s])),
        }
    }
    out
}

/// How many leading protocol days the scenarios of one replicate share (every replicate alike:
/// they differ only in the seed): they run once per replicate, into `out/prefix.rwck` (or
/// `out/prefix_seed=N.rwck`), and each scenario forks from there (0: no shared prefix; a
/// replicate of a single scenario has none).
pub fn shared_days(plan: &Plan) -> usize {
    let Some((_, first)) = replicates(plan).into_iter().next() else {
        return 0;
    };
    if first.len() < 2 {
        return 0;
    }
    let models: Vec<Model> = first.iter().map(|s| s.model.clone()).collect();
    crate::checkpoint::shared_days(&models)
}

/// Runs every scenario not yet finished into `out/NAME` (through `out/NAME.partial`, renamed when
/// complete), then compares all of them into `out`. `log` receives one line per scenario.
pub fn run(plan: &Plan, out: &Path, opts: &RunOptions, log: impl FnMut(&str) + Send) -> Result<Outcome> {
    run_jobs(plan, out, opts, 1, log)
}

/// Calls `f` on every item, `jobs` at a time on their own threads, and returns the results in
/// the items' order; after the first error no item is started and that error is returned.
fn pool<T: Sync, R: Send>(jobs: usize, items: &[T], f: impl Fn(&T) -> Result<R> + Sync) -> Result<Vec<R>> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<R>>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(items.len()).max(1) {
            scope.spawn(|| {
                loop {
                    if failed.load(Ordering::SeqCst) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if r.is_err() {
                        failed.store(true, Ordering::SeqCst);
                    }
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    let mut out = Vec::new();
    for r in results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
    {
        out.push(r?);
    }
    Ok(out)
}

/// [`run`] with `jobs` scenarios at once (`--jobs`): each on its own thread with its own engine
/// (on the GPU its own device on the same adapter, so a small network leaves less of a large GPU
/// idle; on the CPU twin one core each). Each seed's shared days run first, `jobs` at a time. The
/// files of every run are the same as one at a time.
pub fn run_jobs(
    plan: &Plan,
    out: &Path,
    opts: &RunOptions,
    jobs: usize,
    log: impl FnMut(&str) + Send,
) -> Result<Outcome> {
    run_jobs_until(plan, out, opts, jobs, None, log)
}

/// [`run_jobs`] that stops when `stop` is set (Ctrl-C in a script): each running scenario at its
/// next sample or day, as `Error::Interrupted`, leaving its `NAME.partial` folder; no scenario
/// starts after it. Running the same sweep again runs the unfinished scenarios.
pub fn run_jobs_until(
    plan: &Plan,
    out: &Path,
    opts: &RunOptions,
    jobs: usize,
    stop: Option<&std::sync::Arc<std::sync::atomic::AtomicBool>>,
    log: impl FnMut(&str) + Send,
) -> Result<Outcome> {
    if jobs == 0 {
        return Err(Error::Usage("--jobs must be at least 1".into()));
    }
    let log = std::sync::Mutex::new(log);
    let say = |line: &str| (log.lock().unwrap_or_else(|e| e.into_inner()))(line);
    // One sweep at a time in a folder (each scenario's run also locks its own folder).
    let _lock = crate::lock::OutputLock::acquire(out)?;
    write_index(plan, out)?;
    let total = plan.scenarios.len();
    let todo: Vec<&Scenario> = plan.scenarios.iter().filter(|s| !finished(out, s)).collect();
    let mut outcome = Outcome {
        ran: Vec::new(),
        skipped: Vec::new(),
        runs: Vec::new(),
        files: Vec::new(),
        groups: None,
    };
    for s in &plan.scenarios {
        if !todo.iter().any(|t| t.index == s.index) {
            say(&format!(
                "[{}/{total}] {}: finished earlier, skipped",
                s.index + 1,
                s.name
            ));
            outcome.skipped.push(s.name.clone());
        }
    }
    // Progress bars of parallel runs would overwrite each other.
    let opts = RunOptions {
        progress: opts.progress && jobs == 1,
        ..opts.clone()
    };
    // Scenarios that share their first protocol days start from one run of them (a fork), one
    // per replicate.
    let shared = shared_days(plan);
    let mut seeds: Vec<Option<&str>> = Vec::new();
    for s in &todo {
        if shared > 0 && !seeds.contains(&s.seed()) {
            seeds.push(s.seed());
        }
    }
    let prefixes: Vec<(Option<&str>, Checkpoint)> = pool(jobs, &seeds, |seed| {
        prefix(plan, out, &opts, shared, *seed, &mut |l: &str| say(l)).map(|c| (*seed, c))
    })?;
    let started = Instant::now();
    let done = std::sync::atomic::AtomicUsize::new(0);
    outcome.ran = pool(jobs, &todo, |s| {
        let start = prefixes.iter().find(|(seed, _)| *seed == s.seed()).map(|(_, c)| c);
        let t0 = Instant::now();
        if stop.is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst)) {
            return Err(Error::Interrupted(format!(
                "the sweep into {} stopped before scenario {}: run it again to run the unfinished scenarios",
                out.display(),
                s.name
            )));
        }
        run_scenario_until(plan, s, out, &opts, start, stop, &mut |l: &str| say(l))?;
        let k = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let left = todo.len() - k;
        let eta = started.elapsed().as_secs_f64() / k as f64 * left as f64;
        say(&format!(
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
        Ok(s.name.clone())
    })?;
    let (runs, files, groups) = compare_all(plan, out)?;
    outcome.runs = runs;
    outcome.files = files;
    outcome.groups = groups;
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
    run_scenario_until(plan, s, out, opts, prefix, None, log)
}

/// [`run_scenario`] that stops at the next sample or day once `stop` is set (`Error::Interrupted`).
fn run_scenario_until(
    plan: &Plan,
    s: &Scenario,
    out: &Path,
    opts: &RunOptions,
    prefix: Option<&Checkpoint>,
    stop: Option<&std::sync::Arc<std::sync::atomic::AtomicBool>>,
    log: &mut impl FnMut(&str),
) -> Result<sim::Summary> {
    let dir = out.join(&s.name);
    let partial = out.join(format!("{}.partial", s.name));
    for stale in [&partial, &dir] {
        // A folder another live process is writing into is not stale: refuse, leave it be.
        crate::lock::check_free(stale)?;
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
        stop: stop.cloned(),
        ..Default::default()
    };
    let summary = sim::run_with(s.model.clone(), &partial, opts, &ck).map_err(|e| match e {
        Error::Interrupted(m) => Error::Interrupted(format!("scenario {}: {m}", s.name)),
        e => Error::Usage(format!("scenario {}: {e}", s.name)),
    })?;
    std::fs::rename(&partial, &dir).map_err(|e| Error::io(&dir, e))?;
    Ok(summary)
}

/// `rewire compare` over every scenario folder of `plan`, into `out`; a sweep with replicates
/// groups them by their settings but the seed (`--group-by settings`) for the group statistics.
pub fn compare_all(plan: &Plan, out: &Path) -> Result<(Vec<RunMetrics>, Vec<PathBuf>, Option<GroupReport>)> {
    let dirs: Vec<PathBuf> = plan.scenarios.iter().map(|s| out.join(&s.name)).collect();
    if replicated(plan) {
        let (runs, files, report) = compare::compare_groups(&dirs, out, &compare::Grouping::Settings, &[])?;
        Ok((runs, files, Some(report)))
    } else {
        let (runs, files) = compare::compare(&dirs, out)?;
        Ok((runs, files, None))
    }
}

/// Whether the sweep runs replicates (it varies the seed over at least two values).
pub fn replicated(plan: &Plan) -> bool {
    plan.sets.iter().any(|o| o.path == SEED_PATH && o.values.len() > 1)
}

/// The first scenario of the replicate with `seed`.
fn first_of<'a>(plan: &'a Plan, seed: Option<&str>) -> Option<&'a Scenario> {
    plan.scenarios.iter().find(|s| s.seed() == seed)
}

/// The checkpoint of the first `days` protocol days of the replicate with `seed` of `plan`
/// ([`prefix_file`] in `out`), when it is there, whole, and of those days of this plan's scene
/// and seed.
pub fn read_prefix(plan: &Plan, out: &Path, days: usize, seed: Option<&str>) -> Option<Checkpoint> {
    let first = first_of(plan, seed)?;
    let c = crate::checkpoint::read(&out.join(prefix_file(seed))).ok()?;
    let next = c.header.position.protocol.as_ref().and_then(|p| p["next_day"].as_u64());
    (next == Some(days as u64) && crate::checkpoint::check_fork(&c, &first.model).is_ok()).then_some(c)
}

/// The checkpoint after the first `days` protocol days that every scenario of the replicate with
/// `seed` shares ([`prefix_file`] in `DIR`), run now unless a checkpoint of the same days of the
/// same scene and seed is there.
pub fn prefix(
    plan: &Plan,
    out: &Path,
    opts: &RunOptions,
    days: usize,
    seed: Option<&str>,
    log: &mut impl FnMut(&str),
) -> Result<Checkpoint> {
    let first = first_of(plan, seed)
        .ok_or_else(|| Error::Usage(format!("sweep: no scenario has the seed {}", seed.unwrap_or("-"))))?;
    let file = prefix_file(seed);
    let path = out.join(&file);
    let day = first.model.protocol.as_ref().map_or(0, |p| p.days[days].day);
    let whose = seed.map_or(String::new(), |s| format!(" of seed {s}"));
    if let Some(c) = read_prefix(plan, out, days, seed) {
        log(&format!(
            "[prefix] the days before day {day} shared by every scenario{whose}: finished earlier"
        ));
        return Ok(c);
    }
    log(&format!(
        "[prefix] running the {days} days before day {day} once: every scenario{whose} starts from them"
    ));
    let dir = out.join(format!("{}.partial", file.trim_end_matches(".rwck")));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_a_count_a_range_or_a_list() {
        assert_eq!(parse_seeds("3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_seeds("5-7").unwrap(), vec![5, 6, 7]);
        assert_eq!(parse_seeds("4, 9,2").unwrap(), vec![4, 9, 2]);
        for (bad, why) in [
            ("0", "0 replicates"),
            ("7-5", "ends before it starts"),
            ("1,2,1", "named twice"),
            ("x", "not a whole number"),
            ("-2", "not a whole number"),
            ("", "not a whole number"),
        ] {
            let e = parse_seeds(bad).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("--seeds"), "{bad:?}: {e}");
        }
        assert_eq!(prefix_file(None), "prefix.rwck");
        assert_eq!(prefix_file(Some("12")), "prefix_seed=12.rwck");
    }
}
