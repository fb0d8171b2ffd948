//! `rewire sensitivity`: which parameters matter. A one-at-a-time screening around the scene as
//! written: for every replicate seed the baseline, and each factor at its low and at its high value
//! with every other parameter as written. Each level's effect on each metric is the paired
//! difference from the baseline over the seeds (the same network realisation and lesion), with
//! its 95 % t interval and p-value, Holm-corrected over the factors' levels of that metric; the
//! swing (high minus low) ranks the factors in a tornado figure. Runs go through the sweep
//! machinery: validated before anything runs, resumable, each seed's shared days once.

use crate::error::{Error, Result};
use crate::report::compare::{self, RunMetrics};
use crate::report::groups::{self, Contrast};
use crate::scene::set::SetOption;
use crate::sweep::{self, Plan, SEED_PATH};
use std::path::{Path, PathBuf};

/// A factor of the screening: a `--set` path and the low and high values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    pub path: String,
    pub low: String,
    pub high: String,
}

impl Factor {
    /// `PATH=LOW,HIGH` (RON values, as for `--set`).
    pub fn parse(arg: &str) -> Result<Factor> {
        let o = SetOption::parse(arg).map_err(|e| Error::Usage(e.to_string().replace("--set", "--vary")))?;
        match o.values.as_slice() {
            [low, high] if low != high => Ok(Factor {
                path: o.path,
                low: low.clone(),
                high: high.clone(),
            }),
            _ => Err(Error::Usage(format!(
                "--vary {arg:?}: give two different values, PATH=LOW,HIGH"
            ))),
        }
    }
}

/// The screening's scenarios: per seed (slowest) the baseline, then each factor low and high.
pub fn design(scene_path: &Path, factors: &[Factor], seeds: &[u64]) -> Result<Plan> {
    if factors.is_empty() {
        return Err(Error::Usage(
            "sensitivity: give at least one --vary PATH=LOW,HIGH".into(),
        ));
    }
    if seeds.len() < 2 {
        return Err(Error::Usage(
            "sensitivity: give --seeds with at least two seeds (the effects' intervals need replicates)".into(),
        ));
    }
    for (i, f) in factors.iter().enumerate() {
        if f.path == SEED_PATH {
            return Err(Error::Usage(
                "sensitivity: the seed is the replicate, not a factor: use --seeds".into(),
            ));
        }
        if factors[..i].iter().any(|g| g.path == f.path) {
            return Err(Error::Usage(format!("sensitivity: {} is varied twice", f.path)));
        }
    }
    let src = std::fs::read_to_string(scene_path).map_err(|e| Error::io(scene_path, e))?;
    crate::scene::parse(&src, &scene_path.display().to_string())?;
    let mut sets = vec![SetOption {
        path: SEED_PATH.into(),
        values: seeds.iter().map(u64::to_string).collect(),
    }];
    sets.extend(factors.iter().map(|f| SetOption {
        path: f.path.clone(),
        values: vec![f.low.clone(), f.high.clone()],
    }));
    let mut grid = Vec::new();
    for s in seeds {
        let seed = (SEED_PATH.to_string(), s.to_string());
        grid.push(vec![seed.clone()]);
        for f in factors {
            for v in [&f.low, &f.high] {
                grid.push(vec![seed.clone(), (f.path.clone(), v.clone())]);
            }
        }
    }
    sweep::plan_design(&src, scene_path, &sets, grid)
}

/// One factor level's effect on one metric, against the baseline, paired over the seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    pub factor: String,
    /// `low` or `high`, and the value.
    pub level: &'static str,
    pub value: String,
    pub metric: String,
    /// The level's mean and the baseline's (n seeds each).
    pub n: usize,
    pub mean: f64,
    pub baseline: f64,
    /// mean - baseline, its interval, Hedges' g and the paired t-test.
    pub effect: Contrast,
    /// Holm-corrected over every level of every factor of this metric.
    pub p_holm: f64,
}

/// Refuses a metric `rewire compare` does not know, before anything runs.
pub fn check_metrics(metrics: &[String]) -> Result<()> {
    compare::check_known(metrics, "sensitivity")
}

/// Reads the finished runs of `plan` from `out` and computes every level's effect on `metrics`
/// (empty: final_performance, recovery_auc and fraction_recovered, those every run has). A
/// named metric a run lacks is refused.
pub fn analyse(
    plan: &Plan,
    out: &Path,
    factors: &[Factor],
    metrics: &[String],
) -> Result<(Vec<RunMetrics>, Vec<Effect>)> {
    let runs: Vec<RunMetrics> = plan
        .scenarios
        .iter()
        .map(|s| compare::metrics(&out.join(&s.name)))
        .collect::<Result<_>>()?;
    let chosen = compare::choose_metrics(
        &runs,
        metrics,
        &["final_performance", "recovery_auc", "fraction_recovered"],
        "sensitivity",
    )?;
    if chosen.is_empty() {
        return Err(Error::Usage(
            "sensitivity: no metric that every run has (a protocol with a lesion and probes gives them): name one with --metrics"
                .into(),
        ));
    }
    // The runs of one level, in seed order (the design lists seeds slowest).
    let level_runs = |setting: Option<(&str, &str)>| -> Vec<&RunMetrics> {
        plan.scenarios
            .iter()
            .zip(&runs)
            .filter(|(s, _)| {
                let other: Vec<&(String, String)> = s.settings.iter().filter(|(p, _)| p != SEED_PATH).collect();
                match setting {
                    None => other.is_empty(),
                    Some((path, value)) => other.len() == 1 && other[0].0 == path && other[0].1 == value,
                }
            })
            .map(|(_, r)| r)
            .collect()
    };
    let base = level_runs(None);
    let mut effects = Vec::new();
    for m in &chosen {
        let values = |rs: &[&RunMetrics]| -> Vec<f64> { rs.iter().filter_map(|r| compare::scalar(r, m)).collect() };
        let b = values(&base);
        let mut family = Vec::new();
        for f in factors {
            for (level, value) in [("low", &f.low), ("high", &f.high)] {
                let v = values(&level_runs(Some((&f.path, value))));
                let effect = groups::paired(&b, &v).ok_or_else(|| {
                    Error::Usage(format!("sensitivity: {}={value} has not run with every seed", f.path))
                })?;
                family.push(Effect {
                    factor: f.path.clone(),
                    level,
                    value: value.clone(),
                    metric: m.clone(),
                    n: v.len(),
                    mean: v.iter().sum::<f64>() / v.len() as f64,
                    baseline: b.iter().sum::<f64>() / b.len() as f64,
                    effect,
                    p_holm: f64::NAN,
                });
            }
        }
        let corrected = groups::holm(&family.iter().map(|e| e.effect.p).collect::<Vec<_>>());
        for (mut e, p) in family.into_iter().zip(corrected) {
            e.p_holm = p;
            effects.push(e);
        }
    }
    Ok((runs, effects))
}

/// Each factor's swing on `metric`: the high level's effect minus the low level's, largest
/// magnitude first (the tornado's order).
pub fn swings<'a>(effects: &'a [Effect], metric: &str) -> Vec<(&'a Effect, &'a Effect)> {
    let mut v: Vec<(&Effect, &Effect)> = Vec::new();
    for low in effects.iter().filter(|e| e.metric == metric && e.level == "low") {
        if let Some(high) = effects
            .iter()
            .find(|e| e.metric == metric && e.level == "high" && e.factor == low.factor)
        {
            v.push((low, high));
        }
    }
    let swing = |p: &(&Effect, &Effect)| (p.1.effect.diff - p.0.effect.diff).abs();
    v.sort_by(|a, b| swing(b).total_cmp(&swing(a)));
    v
}

/// Writes `sensitivity.csv` (one row per factor, level and metric) and the tornado figure of each
/// metric (`tornado_METRIC.png`/`.svg`) into `out`.
pub fn write(effects: &[Effect], out: &Path) -> Result<Vec<PathBuf>> {
    let mut f = crate::stats::Pending::create(out, "sensitivity.csv")?;
    f.line("metric,factor,level,value,n,mean,baseline,effect,ci_low,ci_high,hedges_g,t,df,p,p_holm")?;
    let quote = crate::report::table::quoted_field;
    let num = |x: f64| if x.is_finite() { x.to_string() } else { String::new() };
    for e in effects {
        let c = &e.effect;
        f.line(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            e.metric,
            quote(&e.factor),
            e.level,
            quote(&e.value),
            e.n,
            e.mean,
            e.baseline,
            c.diff,
            c.ci.0,
            c.ci.1,
            num(c.hedges_g),
            num(c.t),
            c.df,
            c.p,
            e.p_holm
        ))?;
    }
    f.finish()?;
    let mut files = vec![out.join("sensitivity.csv")];
    let mut metrics: Vec<&str> = Vec::new();
    for e in effects {
        if !metrics.contains(&e.metric.as_str()) {
            metrics.push(&e.metric);
        }
    }
    for m in metrics {
        let bars: Vec<crate::report::figures::TornadoBar> = swings(effects, m)
            .into_iter()
            .map(|(lo, hi)| crate::report::figures::TornadoBar {
                label: format!("{} ({} / {})", lo.factor, lo.value, hi.value),
                low: (lo.effect.diff, lo.effect.ci.0, lo.effect.ci.1),
                high: (hi.effect.diff, hi.effect.ci.0, hi.effect.ci.1),
            })
            .collect();
        let baseline = effects.iter().find(|e| e.metric == m).map_or(f64::NAN, |e| e.baseline);
        files.extend(crate::report::figures::draw_tornado(&bars, m, baseline, out)?);
    }
    Ok(files)
}

/// The terminal table: per metric, the factors by swing, each level's effect and interval.
pub fn table(effects: &[Effect]) -> String {
    let mut rows: Vec<Vec<String>> = vec![
        [
            "metric", "factor", "level", "value", "mean", "effect", "95 % CI", "p (Holm)",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut metrics: Vec<&str> = Vec::new();
    for e in effects {
        if !metrics.contains(&e.metric.as_str()) {
            metrics.push(&e.metric);
        }
    }
    for m in metrics {
        let base = effects.iter().find(|e| e.metric == m).map_or(f64::NAN, |e| e.baseline);
        rows.push(vec![
            m.to_string(),
            "baseline".into(),
            "".into(),
            "".into(),
            format!("{base:.3}"),
        ]);
        for (lo, hi) in swings(effects, m) {
            for e in [lo, hi] {
                rows.push(vec![
                    m.to_string(),
                    e.factor.clone(),
                    e.level.to_string(),
                    e.value.clone(),
                    format!("{:.3}", e.mean),
                    format!("{:+.3}", e.effect.diff),
                    format!("[{:.3}, {:.3}]", e.effect.ci.0, e.effect.ci.1),
                    format!("{:.3}", e.p_holm),
                ]);
            }
        }
    }
    compare::align_left(&rows, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_take_two_different_values() {
        let f = Factor::parse("protocol.Rehab.days=(2, 8),(14, 20)").unwrap();
        assert_eq!((f.low.as_str(), f.high.as_str()), ("(2, 8)", "(14, 20)"));
        for bad in ["a.b=1", "a.b=1,2,3", "a.b=1,1", "=1,2", "a.b"] {
            assert!(Factor::parse(bad).unwrap_err().to_string().contains("--vary"), "{bad}");
        }
    }
}
