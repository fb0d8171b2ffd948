//! `rewire compare`: the numbers that tell recovery scenarios apart, one row per run folder, as a
//! terminal table and `comparison.csv`.

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
    /// The scene's name (summary.json).
    pub scene: String,
    /// From summary.json's protocol block (None for runs without a protocol).
    /// Days of the run's lesions (summary.json).
    pub lesion_days: Vec<i64>,
    pub pre_lesion: Option<f64>,
    pub post_lesion: Option<f64>,
    pub final_performance: Option<f64>,
    pub peak_after_lesion: Option<f64>,
    pub recovery_day: Option<i64>,
    pub recovery_auc: Option<f64>,
    /// Tracts between regions that carry weight before or at the end, in region order.
    pub tracts: Vec<TractChange>,
    /// Synapses formed plus eliminated from the first lesion's day on (the whole run without a
    /// lesion), onto neurons in the nearest distance bin of turnover_by_distance.csv, and beyond
    /// it (None without structural plasticity).
    pub turnover_near: Option<u64>,
    pub turnover_far: Option<u64>,
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

    Ok(RunMetrics {
        label: super::figures::run_label(dir),
        dir: dir.to_path_buf(),
        scene: summary["scene"].as_str().unwrap_or("").to_string(),
        lesion_days,
        pre_lesion: p["pre_lesion"].as_f64(),
        post_lesion: p["post_lesion"].as_f64(),
        final_performance: p["final_performance"].as_f64(),
        peak_after_lesion: p["peak_after_lesion"].as_f64(),
        recovery_day: p["recovery_day"].as_i64(),
        recovery_auc: p["recovery_auc"].as_f64(),
        tracts,
        turnover_near: near,
        turnover_far: far,
    })
}

/// The scalar columns of the table, with how each is shown.
const COLUMNS: [&str; 8] = [
    "pre_lesion",
    "post_lesion",
    "final_performance",
    "peak_after_lesion",
    "recovery_day",
    "recovery_auc",
    "turnover_near",
    "turnover_far",
];

fn scalar(m: &RunMetrics, column: &str) -> Option<f64> {
    match column {
        "pre_lesion" => m.pre_lesion,
        "post_lesion" => m.post_lesion,
        "final_performance" => m.final_performance,
        "peak_after_lesion" => m.peak_after_lesion,
        "recovery_day" => m.recovery_day.map(|d| d as f64),
        "recovery_auc" => m.recovery_auc,
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
        let mut row = vec![r.label.replace(',', ";"), r.scene.replace(',', ";")];
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
            "recovered",
            "AUC",
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
                if c == 0 {
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
