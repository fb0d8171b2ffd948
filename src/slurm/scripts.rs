//! The sbatch side of a Slurm sweep: the job scripts, the order and dependencies they are
//! submitted in (as `submit.sh`, or run here with `sbatch --parsable`), and what they ask for.

use super::{StoredPlan, version};
use crate::error::{Error, Result};
use crate::sweep;
use std::path::{Path, PathBuf};

/// What the jobs ask of Slurm, and the rewire command they run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resources {
    /// `--partition`.
    pub partition: Option<String>,
    /// GPUs per array task (and for the prefix job): `--gres=gpu:N`.
    pub gpus_per_task: Option<u32>,
    /// `--time` (Slurm's forms: `MM`, `HH:MM:SS`, `D-HH:MM`, ...).
    pub time: Option<String>,
    /// Further sbatch options, each written as an `#SBATCH` line (`--account=lab`, `--mem=8G`).
    pub extra: Vec<String>,
}

impl Resources {
    /// Refuses values that would break the scripts (spaces, quotes, newlines).
    pub fn check(&self) -> Result<()> {
        let bad = |what: &str, v: &str| Error::Usage(format!("{what} {v:?}: not a valid sbatch value"));
        if let Some(p) = &self.partition
            && (p.is_empty() || p.chars().any(|c| c.is_whitespace() || c == '\'' || c == '"'))
        {
            return Err(bad("--partition", p));
        }
        if let Some(t) = &self.time
            && (t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || c == ':' || c == '-'))
        {
            return Err(bad("--time", t));
        }
        if self.gpus_per_task == Some(0) {
            return Err(bad("--gpus-per-task", "0"));
        }
        for e in &self.extra {
            if !e.starts_with('-') || e.contains('\n') {
                return Err(bad("--sbatch", e));
            }
        }
        Ok(())
    }
}

/// The rewire command the jobs run: the binary (absolute) and the options every task takes
/// (`--cpu`, `--backend`, `--adapter`).
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub exe: PathBuf,
    pub args: Vec<String>,
}

/// A shell word: as it is when it is plain, else in single quotes.
pub(super) fn sh(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Slurm's `--array` list of `indices` (sorted, ranges joined): `[0, 1, 2, 5]` -> `0-2,5`.
pub fn array_list(indices: &[usize]) -> String {
    let mut v = indices.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut k = 0;
    while k < v.len() {
        let mut j = k;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        parts.push(if j == k {
            v[k].to_string()
        } else {
            format!("{}-{}", v[k], v[j])
        });
        k = j + 1;
    }
    parts.join(",")
}

/// The job name: `rewire-` and the sweep folder's name.
fn job_name(dir: &Path) -> String {
    let base = dir
        .file_name()
        .map_or("sweep".into(), |n| n.to_string_lossy().to_string());
    let safe: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("rewire-{safe}")
}

/// One sbatch script: a header, the `#SBATCH` lines and the command. A directive's value with
/// spaces (a path) is written in double quotes, which sbatch removes.
fn script(about: &str, directives: &[String], command: &[String]) -> String {
    let mut s = format!("#!/bin/bash\n# {about}\n# Written by {}.\n", version());
    for d in directives {
        match d.split_once('=') {
            Some((key, value)) if value.contains(char::is_whitespace) => {
                s.push_str(&format!("#SBATCH {key}=\"{value}\"\n"))
            }
            _ => s.push_str(&format!("#SBATCH {d}\n")),
        }
    }
    let words: Vec<String> = command.iter().map(|w| sh(w)).collect();
    s.push_str(&format!("exec {}\n", words.join(" ")));
    s
}

/// The scripts of a stored plan in (absolute) `dir`: (file name, text), in submission order.
pub fn scripts(stored: &StoredPlan, dir: &Path, res: &Resources, cmd: &Command) -> Vec<(String, String)> {
    let logs = dir.join("logs");
    let name = job_name(dir);
    let common = |suffix: &str, log: &str, gpus: bool| {
        let mut d = vec![
            format!("--job-name={name}{suffix}"),
            "--ntasks=1".to_string(),
            format!("--output={}", logs.join(log).display()),
        ];
        if let Some(p) = &res.partition {
            d.push(format!("--partition={p}"));
        }
        if let (Some(g), true) = (res.gpus_per_task, gpus) {
            d.push(format!("--gres=gpu:{g}"));
        }
        if let Some(t) = &res.time {
            d.push(format!("--time={t}"));
        }
        d.extend(res.extra.iter().cloned());
        d
    };
    let run = |step: Option<&str>, engine: bool| {
        let mut c = vec![
            cmd.exe.display().to_string(),
            "sweep-task".to_string(),
            dir.display().to_string(),
        ];
        c.extend(step.map(String::from));
        if engine {
            c.extend(cmd.args.iter().cloned());
        }
        c
    };
    let n = stored.scenarios.len();
    let mut out = Vec::new();
    if stored.prefix.is_some() {
        out.push((
            "prefix.sbatch".to_string(),
            script(
                &format!(
                    "rewire sweep of {}: the {} protocol days all {n} scenarios share, run once{} into {}.",
                    stored.scene_file.display(),
                    stored.shared_days,
                    if stored.prefix.as_deref() == Some(sweep::PREFIX_FILE) {
                        ""
                    } else {
                        " per seed"
                    },
                    dir.join(stored.prefix.as_deref().unwrap_or(sweep::PREFIX_FILE))
                        .display()
                ),
                &common("-prefix", "%j_prefix.out", true),
                &run(Some("prefix"), true),
            ),
        ));
    }
    let mut array = common("", "%A_%a.out", true);
    array.insert(1, format!("--array=0-{}", stored.tasks - 1));
    let what = if stored.per_task == 1 {
        "array task i runs scenario i".to_string()
    } else {
        format!(
            "array task i runs scenarios {0}i to {0}i+{1}",
            stored.per_task,
            stored.per_task - 1
        )
    };
    out.push((
        "array.sbatch".to_string(),
        script(
            &format!(
                "rewire sweep of {}: {n} scenarios in {} array tasks; {what} (SLURM_ARRAY_TASK_ID).",
                stored.scene_file.display(),
                stored.tasks
            ),
            &array,
            &run(None, true),
        ),
    ));
    out.push((
        "compare.sbatch".to_string(),
        script(
            &format!(
                "rewire sweep of {}: compares the {n} scenarios once every array task has ended.",
                stored.scene_file.display()
            ),
            &common("-compare", "%j_compare.out", false),
            &run(Some("compare"), false),
        ),
    ));
    out
}

/// One sbatch submission: a script, options on the command line (they override the script's),
/// and the job it waits for.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    /// `prefix`, `array` or `compare`.
    pub what: &'static str,
    pub script: PathBuf,
    pub options: Vec<String>,
    /// (`afterok` or `afterany`, the index of an earlier submission).
    pub after: Option<(&'static str, usize)>,
}

/// The submissions of a sweep: the prefix job (when `prefix`), the array over `tasks` (all of
/// them when None, else as `--array=LIST`), and the comparison. `res` (a resubmission's) is given
/// on sbatch's command line, overriding the scripts' values; its GPUs only to the jobs that run
/// scenarios.
pub fn submissions(dir: &Path, prefix: bool, tasks: Option<&[usize]>, res: &Resources) -> Vec<Submission> {
    let mut every: Vec<String> = Vec::new();
    every.extend(res.partition.iter().map(|p| format!("--partition={p}")));
    every.extend(res.time.iter().map(|t| format!("--time={t}")));
    every.extend(res.extra.iter().cloned());
    let mut runs = every.clone();
    runs.extend(res.gpus_per_task.map(|g| format!("--gres=gpu:{g}")));
    let mut subs = Vec::new();
    if prefix {
        subs.push(Submission {
            what: "prefix",
            script: dir.join("prefix.sbatch"),
            options: runs.clone(),
            after: None,
        });
    }
    if tasks.is_none_or(|t| !t.is_empty()) {
        let mut options: Vec<String> = tasks
            .map(|t| format!("--array={}", array_list(t)))
            .into_iter()
            .collect();
        options.extend(runs);
        if prefix {
            options.push("--kill-on-invalid-dep=yes".into());
        }
        subs.push(Submission {
            what: "array",
            script: dir.join("array.sbatch"),
            options,
            after: prefix.then_some(("afterok", 0)),
        });
    }
    let last = subs.len().checked_sub(1);
    subs.push(Submission {
        what: "compare",
        script: dir.join("compare.sbatch"),
        options: every,
        after: last.map(|k| ("afterany", k)),
    });
    subs
}

/// The submissions as a shell script (`submit.sh`, and what `sweep-resubmit` prints).
pub fn submit_script(subs: &[Submission]) -> String {
    let mut s = format!(
        "#!/bin/sh\n# Submits the sweep's jobs, each after the one it needs. Written by {}.\nset -e\n",
        version()
    );
    for sub in subs {
        let mut words = vec!["sbatch".to_string(), "--parsable".to_string()];
        words.extend(sub.options.iter().map(|o| sh(o)));
        if let Some((kind, k)) = sub.after {
            words.push(format!("--dependency={kind}:\"${{{}%%;*}}\"", subs[k].what));
        }
        words.push(sh(&sub.script.display().to_string()));
        s.push_str(&format!("{}=$({})\n", sub.what, words.join(" ")));
    }
    let ids: Vec<String> = subs.iter().map(|s| format!("{0} ${{{0}%%;*}}", s.what)).collect();
    s.push_str(&format!("echo \"submitted: {}\"\n", ids.join(", ")));
    s
}

/// Runs the submissions with `sbatch --parsable`; returns each one's job id.
pub fn submit(subs: &[Submission]) -> Result<Vec<(&'static str, String)>> {
    let mut ids: Vec<(&'static str, String)> = Vec::new();
    for sub in subs {
        let mut c = std::process::Command::new("sbatch");
        c.arg("--parsable").args(&sub.options);
        if let Some((kind, k)) = sub.after {
            c.arg(format!("--dependency={kind}:{}", ids[k].1));
        }
        c.arg(&sub.script);
        let o = c.output().map_err(|e| {
            Error::Usage(format!(
                "cannot run sbatch ({e}): submit from a machine with Slurm's commands, or run the sweep folder's \
                 submit.sh there"
            ))
        })?;
        let stdout = String::from_utf8_lossy(&o.stdout);
        let id = stdout.trim().split(';').next().unwrap_or("").to_string();
        if !o.status.success() || id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            let done: Vec<String> = ids.iter().map(|(w, i)| format!("{w} {i}")).collect();
            return Err(Error::Usage(format!(
                "sbatch {} failed ({}): {}{}",
                sub.script.display(),
                o.status,
                String::from_utf8_lossy(&o.stderr).trim(),
                if done.is_empty() {
                    String::new()
                } else {
                    format!(" (already submitted: {}; scancel them)", done.join(", "))
                }
            )));
        }
        ids.push((sub.what, id));
    }
    Ok(ids)
}
