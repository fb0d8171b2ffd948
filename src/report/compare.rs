//! `rewire compare`: the numbers that tell recovery scenarios apart, one row per run folder, as a
//! terminal table and `comparison.csv`; with `--group-by`, the runs grouped (replicates of one
//! arm) and compared as groups (`groups.csv`, `contrasts.csv`, `groups.json`, see [`super::groups`]).

use super::Table;
use crate::error::{Error, Result};
use crate::stats::Pending;
use std::path::{Path, PathBuf};

/// How one tract (source region -> target region, source != target) changed over a run.
#[derive(Clone, Debug, PartialEq)]
pub struct TractChange {
    /// `"S1->M1"`.
    pub tract: String,
    /// Total synaptic weight (connectivity.csv `weight_sum`) at the last sample before the first
    /// lesion (the first sample without a lesion), and at the last sample.
    pub before: f64,
    pub end: f64,
}

impl TractChange {
    /// The change in per cent of the strength before (NaN for a tract that was empty before).
    pub fn change_pct(&self) -> f64 {
        if self.before == 0.0 {
            f64::NAN
        } else {
            100.0 * (self.end - self.before) / self.before.abs()
        }
    }
}

/// What `rewire compare` reports of one run folder.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMetrics {
    /// The folder's name.
    pub label: String,
    pub dir: PathBuf,
    /// The scene's name and seed (summary.json).
    pub scene: String,
    pub seed: Option<u64>,
    /// From summary.json's protocol block (None for runs without a protocol).
    /// Days of the run's lesions (summary.json).
    pub lesion_days: Vec<i64>,
    pub pre_lesion: Option<f64>,
    pub post_lesion: Option<f64>,
    pub final_performance: Option<f64>,
    pub peak_after_lesion: Option<f64>,
    pub recovery_day: Option<i64>,
    pub recovery_auc: Option<f64>,
    /// `pre - post`, `final - post` and their ratio (see [`crate::protocol::recovery`]).
    pub impairment: Option<f64>,
    pub recovered: Option<f64>,
    pub fraction_recovered: Option<f64>,
    /// Tracts between regions that carry weight before or at the end, in region order.
    pub tracts: Vec<TractChange>,
    /// Synapses formed plus eliminated from the first lesion's day on (the whole run without a
    /// lesion), onto neurons in the nearest distance bin of turnover_by_distance.csv, and beyond
    /// it (None without structural plasticity).
    pub turnover_near: Option<u64>,
    pub turnover_far: Option<u64>,
    /// Scalars of the run's readouts, by metric name (`bold:REGION`, `laterality`,
    /// `spine_survival:FIELD`; see [`READOUT_METRICS`]), read from its files.
    pub readouts: Vec<(String, f64)>,
}

/// Reads what `rewire compare` reports from a run folder.
pub fn metrics(dir: &Path) -> Result<RunMetrics> {
    let summary = super::summary(dir)?.ok_or_else(|| {
        Error::data(
            dir.join("summary.json"),
            "missing: the run has not finished (compare reads finished runs)",
        )
    })?;
    let p = &summary["protocol"];
    let lesion_days: Vec<i64> = p["lesion_days"]
        .as_array()
        .map_or(Vec::new(), |a| a.iter().filter_map(|d| d.as_i64()).collect());
    let lesion = lesion_days.iter().copied().min();

    // Between-region tracts at the connectivity figure's first and last moments: the last sample
    // before the first lesion (the first sample without one) and the last sample.
    let mut tracts: Vec<TractChange> = Vec::new();
    if let Some(c) = super::figures::connectivity(dir)? {
        let (first, last) = (&c.weight_sum[0], &c.weight_sum[c.weight_sum.len() - 1]);
        let value = |x: f64| if x.is_nan() { 0.0 } else { x };
        for (a, from) in c.regions.iter().enumerate() {
            for (b, to) in c.regions.iter().enumerate() {
                let (before, end) = (value(first[a][b]), value(last[a][b]));
                if a != b && (before != 0.0 || end != 0.0) {
                    tracts.push(TractChange {
                        tract: format!("{from}->{to}"),
                        before,
                        end,
                    });
                }
            }
        }
    }

    let (mut near, mut far) = (None, None);
    if let Some(t) = Table::read_optional(dir, "turnover_by_distance.csv")? {
        let (days, lo) = (t.f64s("day")?, t.f64s("bin_lo_mm")?);
        let (formed, gone) = (t.f64s("formed")?, t.f64s("eliminated")?);
        let nearest = lo.iter().copied().fold(f64::INFINITY, f64::min);
        let (mut n, mut f) = (0u64, 0u64);
        for i in 0..t.rows.len() {
            if lesion.is_some_and(|l| days[i] < l as f64) {
                continue;
            }
            let turnover = (formed[i] + gone[i]) as u64;
            if lo[i] == nearest { n += turnover } else { f += turnover }
        }
        (near, far) = (Some(n), Some(f));
    }

    let mut readouts = super::fmri::metrics(dir, lesion)?;
    readouts.extend(super::imaging::metrics(dir, lesion)?);
    readouts.extend(super::icms::metrics(dir)?);
    readouts.extend(super::lfp::metrics(dir, lesion)?);

    let (pre, post, last) = (
        p["pre_lesion"].as_f64(),
        p["post_lesion"].as_f64(),
        p["final_performance"].as_f64(),
    );
    let (impairment, recovered, fraction_recovered) = crate::protocol::recovery(pre, post, last);
    Ok(RunMetrics {
        label: super::figures::run_label(dir),
        dir: dir.to_path_buf(),
        scene: summary["scene"].as_str().unwrap_or("").to_string(),
        seed: summary["seed"].as_u64(),
        lesion_days,
        pre_lesion: p["pre_lesion"].as_f64(),
        post_lesion: p["post_lesion"].as_f64(),
        final_performance: p["final_performance"].as_f64(),
        peak_after_lesion: p["peak_after_lesion"].as_f64(),
        recovery_day: p["recovery_day"].as_i64(),
        recovery_auc: p["recovery_auc"].as_f64(),
        impairment,
        recovered,
        fraction_recovered,
        tracts,
        turnover_near: near,
        turnover_far: far,
        readouts,
    })
}

/// The scalar columns of the table (and the metrics `--metrics` may name), with how each is shown.
pub const COLUMNS: [&str; 11] = [
    "pre_lesion",
    "post_lesion",
    "final_performance",
    "peak_after_lesion",
    "recovery_day",
    "recovery_auc",
    "impairment",
    "recovered",
    "fraction_recovered",
    "turnover_near",
    "turnover_far",
];

/// A metric on one tract: `tract:SOURCE->TARGET`, its weight's change in per cent from before the
/// first lesion to the end (the `Tracts` readout's end point, for group statistics).
pub const TRACT_METRIC: &str = "tract:";

/// Metrics of readouts, read from a run folder's files: the name (or its prefix, ending in `:`),
/// and what it is, for the error that lists the known metrics.
pub const READOUT_METRICS: [(&str, &str); 5] = [
    (
        "bold:",
        "bold:REGION (its mean BOLD change, %, from the last day before the first lesion to the last day)",
    ),
    (
        "laterality",
        "laterality (the BOLD laterality index on the last day with task activation)",
    ),
    (
        "spine_survival:",
        "spine_survival:FIELD (the fraction of the field's spines imaged last before the first lesion \
         that survive to the last imaging day)",
    ),
    (
        "icms_area:",
        "icms_area:REGION (its responsive ICMS map area on the last mapping day over the area before the first \
         lesion)",
    ),
    (
        "lfp:",
        "lfp:REGION:BAND (its LFP proxy's power in the band, delta to gamma, on the last day over the day before the \
         first lesion)",
    ),
];

pub fn scalar(m: &RunMetrics, column: &str) -> Option<f64> {
    if let Some(tract) = column.strip_prefix(TRACT_METRIC) {
        return m.tracts.iter().find(|t| t.tract == tract).map(TractChange::change_pct);
    }
    if let Some((_, v)) = m.readouts.iter().find(|(name, _)| name == column) {
        return Some(*v);
    }
    match column {
        "pre_lesion" => m.pre_lesion,
        "post_lesion" => m.post_lesion,
        "final_performance" => m.final_performance,
        "peak_after_lesion" => m.peak_after_lesion,
        "recovery_day" => m.recovery_day.map(|d| d as f64),
        "recovery_auc" => m.recovery_auc,
        "impairment" => m.impairment,
        "recovered" => m.recovered,
        "fraction_recovered" => m.fraction_recovered,
        "turnover_near" => m.turnover_near.map(|t| t as f64),
        "turnover_far" => m.turnover_far.map(|t| t as f64),
        _ => None,
    }
}

/// Every tract named by any run, in first-seen order.
fn tract_names(runs: &[RunMetrics]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in runs.iter().flat_map(|r| &r.tracts) {
        if !names.contains(&t.tract) {
            names.push(t.tract.clone());
        }
    }
    names
}

fn field(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or(String::new(), |x| format!("{x}"))
}

/// Writes `comparison.csv` into `out`: one row per run, the scalar columns, then each tract's
/// strength before, at the end and its change in per cent.
pub fn write_csv(runs: &[RunMetrics], out: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let tracts = tract_names(runs);
    let mut f = Pending::create(out, "comparison.csv")?;
    let mut header = vec!["run".to_string(), "scene".to_string()];
    header.extend(COLUMNS.iter().map(|c| c.to_string()));
    for t in &tracts {
        header.extend([format!("{t} before"), format!("{t} end"), format!("{t} change_pct")]);
    }
    f.line(&header.join(","))?;
    for r in runs {
        let mut row = vec![super::table::plain_field(&r.label), super::table::plain_field(&r.scene)];
        row.extend(COLUMNS.iter().map(|c| field(scalar(r, c))));
        for name in &tracts {
            let t = r.tracts.iter().find(|t| &t.tract == name);
            row.push(field(t.map(|t| t.before)));
            row.push(field(t.map(|t| t.end)));
            row.push(field(t.map(|t| t.change_pct())));
        }
        f.line(&row.join(","))?;
    }
    f.finish()?;
    Ok(out.join("comparison.csv"))
}

/// The table for the terminal: the scalar columns per run, then each tract's change (%) per run.
pub fn table(runs: &[RunMetrics]) -> String {
    let show = |v: Option<f64>, column: &str| match v {
        None => "-".to_string(),
        Some(x) if column.starts_with("turnover") || column == "recovery_day" => format!("{x:.0}"),
        Some(x) if column == "recovery_auc" => format!("{x:.1}"),
        Some(x) => format!("{x:.2}"),
    };
    let mut rows: Vec<Vec<String>> = vec![
        [
            "run",
            "pre",
            "post",
            "final",
            "peak",
            "recovery day",
            "AUC",
            "impairment",
            "recovered",
            "fraction",
            "turnover near",
            "far",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in runs {
        let mut row = vec![r.label.clone()];
        row.extend(COLUMNS.iter().map(|c| show(scalar(r, c), c)));
        rows.push(row);
    }
    let mut out = align(&rows);
    let tracts = tract_names(runs);
    if !tracts.is_empty() {
        let mut rows = vec![
            std::iter::once("tract strength change".to_string())
                .chain(runs.iter().map(|r| r.label.clone()))
                .collect::<Vec<_>>(),
        ];
        for name in &tracts {
            let mut row = vec![name.clone()];
            for r in runs {
                let pct = r.tracts.iter().find(|t| &t.tract == name).map(TractChange::change_pct);
                row.push(match pct {
                    Some(p) if p.is_finite() => format!("{p:+.1} %"),
                    Some(_) => "new".to_string(),
                    None => "-".to_string(),
                });
            }
            rows.push(row);
        }
        out.push('\n');
        out.push_str(&align(&rows));
    }
    out
}

fn align(rows: &[Vec<String>]) -> String {
    align_left(rows, 1)
}

/// `rows` as a text table: the first `left` columns left-aligned, the rest right-aligned.
pub(crate) fn align_left(rows: &[Vec<String>], left: usize) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, s)| {
                if c < left {
                    format!("{s:<w$}", w = width[c])
                } else {
                    format!("{s:>w$}", w = width[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Compares run folders: reads each one's metrics, writes `comparison.csv` (and the overlaid
/// recovery curves) into `out`, and returns the metrics and the files written.
pub fn compare(dirs: &[PathBuf], out: &Path) -> Result<(Vec<RunMetrics>, Vec<PathBuf>)> {
    if dirs.is_empty() {
        return Err(Error::Usage("compare: no run folders given".into()));
    }
    let runs: Vec<RunMetrics> = dirs.iter().map(|d| metrics(d)).collect::<Result<_>>()?;
    let mut files = vec![write_csv(&runs, out)?];
    let mut curves = Vec::new();
    let mut lesion_days: Vec<i32> = Vec::new();
    for (r, dir) in runs.iter().zip(dirs) {
        if let Some(mut c) = super::figures::recovery_curve(dir)? {
            c.label = r.label.clone();
            curves.push(c);
        }
        for d in r.lesion_days.iter().map(|&d| d as i32) {
            if !lesion_days.contains(&d) {
                lesion_days.push(d);
            }
        }
    }
    if !curves.is_empty() {
        files.extend(super::figures::draw_comparison(&curves, &lesion_days, out)?);
    }
    Ok((runs, files))
}

/// How `rewire compare --group-by` puts runs into groups.
#[derive(Clone, Debug, PartialEq)]
pub enum Grouping {
    /// A sweep scenario's settings (its `settings.txt`) but the seed: the replicates of one arm.
    Settings,
    /// The folder's name without a trailing replicate number (`rehab-3`, `rehab_seed=3` -> `rehab`).
    Folder,
    /// The scene's name (summary.json), without a `seed=N` a sweep puts in it.
    Scene,
    /// The value a run's settings give one `--set` path (e.g. `protocol.Lesion.kind.core_mm`).
    Path(String),
}

impl std::str::FromStr for Grouping {
    type Err = Error;
    fn from_str(s: &str) -> Result<Grouping> {
        Ok(match s.trim() {
            "" => {
                return Err(Error::Usage(
                    "--group-by: give settings, folder, scene or a --set path".into(),
                ));
            }
            "settings" => Grouping::Settings,
            "folder" => Grouping::Folder,
            "scene" => Grouping::Scene,
            p => Grouping::Path(p.to_string()),
        })
    }
}

/// A sweep scenario's settings (`PATH=VALUE` per line of `settings.txt`), when the folder has them.
fn settings(dir: &Path) -> Result<Option<Vec<(String, String)>>> {
    let path = dir.join("settings.txt");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    Ok(Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| match l.split_once('=') {
                Some((p, v)) => (p.trim().to_string(), v.trim().to_string()),
                None => (l.trim().to_string(), String::new()),
            })
            .collect(),
    ))
}

/// `name` without a trailing replicate number: `_seed=N`, `-seed=N`, `_N`, `-N` or `seedN`.
fn without_replicate(name: &str) -> String {
    let digits = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if digits.len() == name.len() || digits.is_empty() {
        return name.to_string();
    }
    let stem = digits
        .strip_suffix("seed=")
        .or_else(|| digits.strip_suffix("seed"))
        .unwrap_or(digits);
    let stem = stem.trim_end_matches(['_', '-', '.']);
    if stem.is_empty() {
        name.to_string()
    } else {
        stem.to_string()
    }
}

/// A scene's name without the seed a sweep writes into it: `rehab [seed=3 days=(2, 8)]` ->
/// `rehab [days=(2, 8)]`, `rehab [seed=3]` -> `rehab`.
fn scene_without_seed(name: &str) -> String {
    let Some((base, settings)) = name.strip_suffix(']').and_then(|n| n.rsplit_once(" [")) else {
        return name.to_string();
    };
    // Settings are `path=value` separated by spaces, and a value may hold spaces: a new setting
    // starts at a word holding `=` before any bracket.
    let mut kept: Vec<String> = Vec::new();
    let mut skipping = false;
    for word in settings.split(' ') {
        let starts = word
            .split_once('=')
            .is_some_and(|(p, _)| !p.is_empty() && !p.contains(['(', '[', '"']));
        if starts {
            skipping = word.starts_with("seed=");
            if !skipping {
                kept.push(word.to_string());
            }
        } else if !skipping {
            match kept.last_mut() {
                Some(last) => {
                    last.push(' ');
                    last.push_str(word);
                }
                None => kept.push(word.to_string()),
            }
        }
    }
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base} [{}]", kept.join(" "))
    }
}

/// The group of the run in `dir` (its metrics `m`).
fn group_of(dir: &Path, m: &RunMetrics, by: &Grouping) -> Result<String> {
    let need_settings = || -> Result<Vec<(String, String)>> {
        settings(dir)?.ok_or_else(|| {
            Error::Usage(format!(
                "compare --group-by: {} has no settings.txt (it is not a sweep scenario): group by folder or scene",
                dir.display()
            ))
        })
    };
    Ok(match by {
        Grouping::Settings => crate::scene::set::arm_label(&need_settings()?),
        Grouping::Folder => without_replicate(&m.label),
        Grouping::Scene => scene_without_seed(&m.scene),
        Grouping::Path(path) => {
            let found = need_settings()?.into_iter().find(|(p, _)| p == path);
            match found {
                Some((_, v)) => format!("{path}={v}"),
                None => {
                    return Err(Error::Usage(format!(
                        "compare --group-by {path}: {} does not set it (settings.txt)",
                        dir.display()
                    )));
                }
            }
        }
    })
}

/// One group's numbers of one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupStat {
    pub group: String,
    pub metric: String,
    pub stat: super::groups::Describe,
}

/// Two groups compared on one metric: `b` against `a`, and the p-value Holm-corrected over every
/// pair of groups of that metric.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupContrast {
    pub metric: String,
    pub a: String,
    pub b: String,
    pub contrast: super::groups::Contrast,
    pub p_holm: f64,
}

/// What `rewire compare --group-by` finds.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupReport {
    /// Groups in first-seen order, with the indices of their runs.
    pub groups: Vec<(String, Vec<usize>)>,
    pub metrics: Vec<String>,
    pub stats: Vec<GroupStat>,
    pub contrasts: Vec<GroupContrast>,
    /// The proportional recovery rule across every run with an impairment.
    pub proportional: Option<super::groups::Proportional>,
}

/// Refuses a metric that is not one of [`COLUMNS`] or a tract's (`tract:S->T`); `who` names the
/// command in the message.
pub fn check_known(metrics: &[String], who: &str) -> Result<()> {
    let readout = |m: &str| {
        READOUT_METRICS.iter().any(|(name, _)| match name.strip_suffix(':') {
            Some(_) => m.strip_prefix(name).is_some_and(|rest| !rest.is_empty()),
            None => m == *name,
        })
    };
    let known =
        |m: &str| COLUMNS.contains(&m) || m.strip_prefix(TRACT_METRIC).is_some_and(|t| t.contains("->")) || readout(m);
    match metrics.iter().find(|m| !known(m)) {
        Some(m) => Err(Error::Usage(format!(
            "{who} --metrics: unknown metric {m:?}; known: {}, {TRACT_METRIC}SOURCE->TARGET (a tract's weight \
             change, %), {}",
            COLUMNS.join(", "),
            READOUT_METRICS.map(|(_, what)| what).join(", ")
        ))),
        None => Ok(()),
    }
}

/// The metrics a comparison of `runs` reports: those `named`, each known and present in every
/// run, or when none is named those of `defaults` that every run has. `who` names the command in
/// the messages.
pub fn choose_metrics(runs: &[RunMetrics], named: &[String], defaults: &[&str], who: &str) -> Result<Vec<String>> {
    let has = |r: &RunMetrics, m: &str| scalar(r, m).is_some_and(f64::is_finite);
    if named.is_empty() {
        return Ok(defaults
            .iter()
            .filter(|m| runs.iter().all(|r| has(r, m)))
            .map(|m| m.to_string())
            .collect());
    }
    check_known(named, who)?;
    for m in named {
        if let Some(r) = runs.iter().find(|r| !has(r, m)) {
            return Err(Error::Usage(format!(
                "{who} --metrics: run {} has no {m} (e.g. no lesion, no impairment, no structural plasticity, or \
                 not that readout)",
                r.dir.display()
            )));
        }
    }
    Ok(named.to_vec())
}

/// The group statistics of `runs` (from `dirs`), grouped `by`, on `metrics` (empty: every column
/// all runs have). Refuses a grouping that leaves a group of one run (no interval), a metric it
/// does not know, and a named metric that some run lacks.
pub fn group(runs: &[RunMetrics], dirs: &[PathBuf], by: &Grouping, metrics: &[String]) -> Result<GroupReport> {
    use super::groups::{contrast, describe, holm, paired, proportional};
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, (r, d)) in runs.iter().zip(dirs).enumerate() {
        let g = group_of(d, r, by)?;
        match groups.iter_mut().find(|(name, _)| *name == g) {
            Some((_, v)) => v.push(i),
            None => groups.push((g, vec![i])),
        }
    }
    for (g, members) in &groups {
        if members.len() < 2 {
            return Err(Error::Usage(format!(
                "compare --group-by: group {g:?} has one run ({}); an interval needs at least two: add replicates \
                 (`rewire sweep --seeds N`) or group differently",
                runs[members[0]].label
            )));
        }
    }
    let chosen = choose_metrics(runs, metrics, &COLUMNS, "compare")?;
    let values =
        |members: &[usize], m: &str| -> Vec<f64> { members.iter().filter_map(|&i| scalar(&runs[i], m)).collect() };
    let mut stats = Vec::new();
    let mut contrasts = Vec::new();
    for m in &chosen {
        for (g, members) in &groups {
            let stat = describe(&values(members, m)).expect("every group has two runs or more");
            stats.push(GroupStat {
                group: g.clone(),
                metric: m.clone(),
                stat,
            });
        }
        let mut family = Vec::new();
        for (i, (ga, ma)) in groups.iter().enumerate() {
            for (gb, mb) in &groups[i + 1..] {
                let c = match (by_seed(runs, ma), by_seed(runs, mb)) {
                    // The same replicates in both groups: each seed is its own control.
                    (Some(a), Some(b)) if a.iter().map(|x| x.0).eq(b.iter().map(|x| x.0)) => {
                        let (a, b): (Vec<usize>, Vec<usize>) =
                            (a.iter().map(|x| x.1).collect(), b.iter().map(|x| x.1).collect());
                        paired(&values(&a, m), &values(&b, m))
                    }
                    _ => contrast(&values(ma, m), &values(mb, m)),
                }
                .expect("two runs or more");
                family.push((ga.clone(), gb.clone(), c));
            }
        }
        let corrected = holm(&family.iter().map(|f| f.2.p).collect::<Vec<_>>());
        for ((a, b, contrast), p_holm) in family.into_iter().zip(corrected) {
            contrasts.push(GroupContrast {
                metric: m.clone(),
                a,
                b,
                contrast,
                p_holm,
            });
        }
    }
    let pairs: Vec<(f64, f64)> = runs.iter().filter_map(|r| r.impairment.zip(r.recovered)).collect();
    Ok(GroupReport {
        groups,
        metrics: chosen,
        stats,
        contrasts,
        proportional: proportional(&pairs),
    })
}

/// A group's runs as (seed, run index) sorted by seed, when every run has a seed and no seed is
/// there twice: the replicates a paired comparison matches.
fn by_seed(runs: &[RunMetrics], members: &[usize]) -> Option<Vec<(u64, usize)>> {
    let mut v: Vec<(u64, usize)> = members
        .iter()
        .map(|&i| runs[i].seed.map(|s| (s, i)))
        .collect::<Option<_>>()?;
    v.sort_unstable();
    v.windows(2).all(|w| w[0].0 != w[1].0).then_some(v)
}

/// Writes `groups.csv`, `contrasts.csv` and `groups.json` of `report` into `out`.
pub fn write_groups(report: &GroupReport, runs: &[RunMetrics], out: &Path) -> Result<Vec<PathBuf>> {
    use super::groups::{LEVEL, OFF_RULE, RULE};
    let quote = crate::report::table::quoted_field;
    let mut g = Pending::create(out, "groups.csv")?;
    g.line("group,metric,n,mean,sd,ci_low,ci_high")?;
    for s in &report.stats {
        g.line(&format!(
            "{},{},{},{},{},{},{}",
            quote(&s.group),
            s.metric,
            s.stat.n,
            s.stat.mean,
            s.stat.sd,
            s.stat.ci.0,
            s.stat.ci.1
        ))?;
    }
    g.finish()?;
    let mut c = Pending::create(out, "contrasts.csv")?;
    c.line("metric,group_a,group_b,test,diff,ci_low,ci_high,hedges_g,t,df,p,p_holm")?;
    for k in &report.contrasts {
        let x = &k.contrast;
        c.line(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            k.metric,
            quote(&k.a),
            quote(&k.b),
            x.test,
            x.diff,
            x.ci.0,
            x.ci.1,
            field(Some(x.hedges_g)),
            field(Some(x.t)),
            x.df,
            x.p,
            k.p_holm
        ))?;
    }
    c.finish()?;
    let num = |x: f64| {
        if x.is_finite() {
            serde_json::json!(x)
        } else {
            serde_json::Value::Null
        }
    };
    let json = serde_json::json!({
        "level": LEVEL,
        "interval": "Student's t: mean +- t(0.975, n - 1) SD / sqrt(n)",
        "difference": "mean(group_b) - mean(group_a); its interval from the test's t",
        "effect_size": "Hedges' g (pooled SD, small-sample correction 1 - 3 / (4 (na + nb) - 9))",
        "test": "two-sided t-test: paired over the seeds when both groups hold the same seeds once each (replicates of one sweep), Welch's otherwise",
        "correction": "Holm (1979) over the pairs of groups of each metric",
        "groups": report.groups.iter().map(|(g, members)| serde_json::json!({
            "group": g,
            "runs": members.iter().map(|&i| runs[i].label.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "stats": report.stats.iter().map(|s| serde_json::json!({
            "group": s.group, "metric": s.metric, "n": s.stat.n, "mean": num(s.stat.mean),
            "sd": num(s.stat.sd), "ci": [num(s.stat.ci.0), num(s.stat.ci.1)],
        })).collect::<Vec<_>>(),
        "contrasts": report.contrasts.iter().map(|k| serde_json::json!({
            "metric": k.metric, "group_a": k.a, "group_b": k.b, "diff": num(k.contrast.diff),
            "ci": [num(k.contrast.ci.0), num(k.contrast.ci.1)], "hedges_g": num(k.contrast.hedges_g),
            "test": k.contrast.test, "t": num(k.contrast.t), "df": num(k.contrast.df), "p": num(k.contrast.p), "p_holm": num(k.p_holm),
        })).collect::<Vec<_>>(),
        "proportional_recovery": report.proportional.as_ref().map(|p| serde_json::json!({
            "runs": p.n, "slope_through_origin": num(p.slope), "ols_slope": num(p.ols_slope),
            "ols_intercept": num(p.ols_intercept), "r": num(p.r), "rule": RULE,
            "off_rule": p.off_rule, "off_rule_below_fraction": OFF_RULE,
        })),
    });
    let path = out.join("groups.json");
    let text = serde_json::to_string_pretty(&json).map_err(|e| Error::data(&path, e.to_string()))?;
    crate::atomic::write_file(&path, (text + "\n").as_bytes(), false)?;
    Ok(vec![out.join("groups.csv"), out.join("contrasts.csv"), path])
}

/// The group table for the terminal: per metric each group's n, mean, SD and interval, then the
/// pairs' differences, effect sizes and p-values, and the proportional recovery rule.
pub fn group_table(report: &GroupReport) -> String {
    let mut rows: Vec<Vec<String>> = vec![
        ["metric", "group", "n", "mean", "sd", "95 % CI"]
            .map(String::from)
            .to_vec(),
    ];
    for s in &report.stats {
        rows.push(vec![
            s.metric.clone(),
            s.group.clone(),
            s.stat.n.to_string(),
            format!("{:.3}", s.stat.mean),
            format!("{:.3}", s.stat.sd),
            format!("[{:.3}, {:.3}]", s.stat.ci.0, s.stat.ci.1),
        ]);
    }
    let mut out = align(&rows);
    if !report.contrasts.is_empty() {
        let mut rows: Vec<Vec<String>> = vec![
            [
                "metric",
                "b - a",
                "difference",
                "95 % CI",
                "Hedges' g",
                "test",
                "p",
                "p (Holm)",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for k in &report.contrasts {
            let x = &k.contrast;
            rows.push(vec![
                k.metric.clone(),
                format!("{} - {}", k.b, k.a),
                format!("{:+.3}", x.diff),
                format!("[{:.3}, {:.3}]", x.ci.0, x.ci.1),
                if x.hedges_g.is_finite() {
                    format!("{:+.2}", x.hedges_g)
                } else {
                    "-".into()
                },
                x.test.to_string(),
                format!("{:.3}", x.p),
                format!("{:.3}", k.p_holm),
            ]);
        }
        out.push('\n');
        out.push_str(&align(&rows));
    }
    if let Some(p) = &report.proportional {
        out.push_str(&format!(
            "\nproportional recovery over {} runs with an impairment: recovered = {:.2} x impairment (the rule: \
             {:.1}); {} recover less than {:.2} of it\n",
            p.n,
            p.slope,
            super::groups::RULE,
            p.off_rule,
            super::groups::OFF_RULE
        ));
    }
    out
}

/// [`compare`], then the runs grouped `by` and compared as groups on `metrics` (empty: every
/// metric all runs have): `groups.csv`, `contrasts.csv`, `groups.json`, and the recovery figure
/// with each group's mean curve, its 95 % interval shaded and the runs faint behind it. Nothing is
/// written when the grouping or a metric is refused.
pub fn compare_groups(
    dirs: &[PathBuf],
    out: &Path,
    by: &Grouping,
    metrics: &[String],
) -> Result<(Vec<RunMetrics>, Vec<PathBuf>, GroupReport)> {
    if dirs.is_empty() {
        return Err(Error::Usage("compare: no run folders given".into()));
    }
    let runs: Vec<RunMetrics> = dirs.iter().map(|d| self::metrics(d)).collect::<Result<_>>()?;
    let report = group(&runs, dirs, by, metrics)?;
    let mut files = vec![write_csv(&runs, out)?];
    files.extend(write_groups(&report, &runs, out)?);
    let mut lesion_days: Vec<i32> = Vec::new();
    for d in runs.iter().flat_map(|r| r.lesion_days.iter().map(|&d| d as i32)) {
        if !lesion_days.contains(&d) {
            lesion_days.push(d);
        }
    }
    let mut bands = Vec::new();
    for (g, members) in &report.groups {
        let mut curves = Vec::new();
        for &i in members {
            if let Some(c) = super::figures::recovery_curve(&dirs[i])? {
                curves.push(c);
            }
        }
        if !curves.is_empty() {
            bands.push(super::figures::Band::of(g, &curves));
        }
    }
    if !bands.is_empty() {
        files.extend(super::figures::draw_group_comparison(&bands, &lesion_days, out)?);
    }
    Ok((runs, files, report))
}

#[cfg(test)]
mod group_tests {
    use super::*;

    #[test]
    fn replicate_numbers_come_off_folder_names() {
        assert_eq!(without_replicate("rehab-3"), "rehab");
        assert_eq!(without_replicate("rehab_seed=12"), "rehab");
        assert_eq!(without_replicate("00_core_mm=1.25_seed=2"), "00_core_mm=1.25");
        assert_eq!(without_replicate("rehab_core1.5-4"), "rehab_core1.5");
        assert_eq!(without_replicate("rehab"), "rehab");
        assert_eq!(without_replicate("42"), "42");
        assert_eq!("settings".parse::<Grouping>().unwrap(), Grouping::Settings);
        assert_eq!(
            "protocol.Lesion.kind.core_mm".parse::<Grouping>().unwrap(),
            Grouping::Path("protocol.Lesion.kind.core_mm".into())
        );
        assert!("".parse::<Grouping>().is_err());
        assert_eq!(
            scene_without_seed("rehab [seed=3 protocol.Rehab.days=(2, 8)]"),
            "rehab [protocol.Rehab.days=(2, 8)]"
        );
        assert_eq!(
            scene_without_seed("rehab [protocol.Rehab.days=(2, 8) seed=3]"),
            "rehab [protocol.Rehab.days=(2, 8)]"
        );
        assert_eq!(scene_without_seed("rehab [seed=12]"), "rehab");
        assert_eq!(
            scene_without_seed("M1 stroke, rehabilitation from day 2"),
            "M1 stroke, rehabilitation from day 2"
        );
        assert_eq!(scene_without_seed("a [b=1 c=x y]"), "a [b=1 c=x y]");
    }
}
