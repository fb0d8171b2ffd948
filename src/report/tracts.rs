//! Tract strength (the `Tracts` readout): a DTI-like summary of chosen tracts over a run, from the
//! region x region connectivity the engine already samples (the `connectivity` stage on the GPU,
//! its twin on the CPU). Per tract and sample: synapses and summed weight, and both relative to
//! the reference sample, the last before the first lesion (without a lesion, the first sample),
//! as tractography of the corticospinal tract is compared with its value before the stroke.

use super::Table;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One row of `tracts.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct TractRow {
    pub step: u64,
    pub t_ms: f64,
    pub day: f64,
    pub source: String,
    pub target: String,
    pub synapses: f64,
    pub weight_sum: f64,
    /// Relative to the reference sample (None: the tract was empty there, or no sample precedes
    /// the first lesion).
    pub synapses_rel: Option<f64>,
    pub weight_rel: Option<f64>,
}

/// The header of `tracts.csv`.
pub const HEADER: &str = "step,t_ms,day,tract,source,target,synapses,weight_sum,synapses_rel,weight_rel";

/// The rows of `tracts` (source, target region names) in every sample of `conn` (a
/// connectivity.csv), relative to the last sample before `first_lesion_day` (days as the file
/// states them), or to the first sample without a lesion.
pub fn series(conn: &Table, tracts: &[(String, String)], first_lesion_day: Option<f64>) -> Result<Vec<TractRow>> {
    let (step, t_ms, day) = (conn.f64s("step")?, conn.f64s("t_ms")?, conn.f64s("day")?);
    let (source, target) = (conn.strs("source")?, conn.strs("target")?);
    let (synapses, weight) = (conn.f64s("synapses")?, conn.f64s("weight_sum")?);
    // The samples in file order, each with its day.
    let mut samples: Vec<(u64, f64)> = Vec::new();
    for i in 0..conn.rows.len() {
        if samples.last().is_none_or(|s| s.0 != step[i] as u64) {
            samples.push((step[i] as u64, day[i]));
        }
    }
    let reference = match first_lesion_day {
        None => samples.first().map(|s| s.0),
        Some(l) => samples.iter().rev().find(|s| s.1 < l).map(|s| s.0),
    };
    let index: std::collections::HashMap<(u64, &str, &str), usize> = (0..conn.rows.len())
        .map(|i| ((step[i] as u64, source[i], target[i]), i))
        .collect();
    let cell = |s: u64, (a, b): &(String, String)| index.get(&(s, a.as_str(), b.as_str())).copied();
    let mut rows = Vec::new();
    for &(s, _) in &samples {
        for tract in tracts {
            let i = cell(s, tract).ok_or_else(|| {
                Error::data(
                    &conn.path,
                    format!("no row for the tract {} -> {} at step {s}", tract.0, tract.1),
                )
            })?;
            let at_ref = reference.and_then(|r| cell(r, tract));
            let rel = |v: &[f64]| at_ref.map(|j| v[j]).filter(|&r| r != 0.0).map(|r| v[i] / r);
            rows.push(TractRow {
                step: s,
                t_ms: t_ms[i],
                day: day[i],
                source: tract.0.clone(),
                target: tract.1.clone(),
                synapses: synapses[i],
                weight_sum: weight[i],
                synapses_rel: rel(&synapses),
                weight_rel: rel(&weight),
            });
        }
    }
    Ok(rows)
}

/// Writes `dir/tracts.csv` for a run of `model` with the `Tracts` readout, from its
/// connectivity.csv; returns the file (None without the readout).
pub fn write(dir: &Path, model: &crate::scene::Model) -> Result<Option<PathBuf>> {
    let Some(tracts) = &model.readouts.tracts else {
        return Ok(None);
    };
    let names: Vec<(String, String)> = tracts
        .iter()
        .map(|&(a, b)| (model.regions[a].name.clone(), model.regions[b].name.clone()))
        .collect();
    let conn = Table::read(dir, "connectivity.csv")?;
    let first_lesion = model
        .protocol
        .as_ref()
        .and_then(|p| p.lesions.iter().map(|l| l.day).min())
        .map(f64::from);
    let rows = series(&conn, &names, first_lesion)?;
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
    let mut text = format!("{HEADER}\n");
    for r in &rows {
        text.push_str(&format!(
            "{},{},{},{}->{},{},{},{},{},{},{}\n",
            r.step,
            r.t_ms,
            r.day,
            r.source,
            r.target,
            r.source,
            r.target,
            r.synapses,
            r.weight_sum,
            opt(r.synapses_rel),
            opt(r.weight_rel)
        ));
    }
    let path = dir.join("tracts.csv");
    crate::atomic::write_file(&path, text.as_bytes(), false)?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        let dir = std::env::temp_dir().join(format!("rewire-tracts-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("connectivity.csv"), text).unwrap();
        let t = Table::read(&dir, "connectivity.csv").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        t
    }

    const CONN: &str = "step,t_ms,day,source,target,synapses,weight_sum,weight_mean
10,10,-1,A,B,100,50,0.5
10,10,-1,B,A,10,-5,-0.5
20,20,-1,A,B,120,60,0.5
20,20,-1,B,A,10,-4,-0.4
30,30,0,A,B,0,0,0
30,30,0,B,A,10,-2,-0.2
40,40,2,A,B,30,12,0.4
40,40,2,B,A,5,-1,-0.2
";

    fn ab() -> Vec<(String, String)> {
        vec![("A".into(), "B".into()), ("B".into(), "A".into())]
    }

    #[test]
    fn strength_is_relative_to_the_last_sample_before_the_lesion() {
        let rows = series(&table(CONN), &ab(), Some(0.0)).unwrap();
        assert_eq!(rows.len(), 8);
        // The reference is step 20 (day -1), the last before day 0.
        let at = |s: u64, a: &str| rows.iter().find(|r| r.step == s && r.source == a).unwrap();
        assert_eq!(at(20, "A").weight_rel, Some(1.0));
        assert_eq!(at(20, "A").synapses_rel, Some(1.0));
        assert_eq!(at(10, "A").weight_rel, Some(50.0 / 60.0));
        assert_eq!(at(30, "A").weight_rel, Some(0.0));
        assert_eq!(at(40, "A").synapses_rel, Some(0.25));
        // Inhibitory weights: the sign cancels.
        assert_eq!(at(40, "B").weight_rel, Some(0.25));
    }

    #[test]
    fn without_a_lesion_the_first_sample_is_the_reference() {
        let rows = series(&table(CONN), &ab(), None).unwrap();
        let first = rows.iter().find(|r| r.step == 20 && r.source == "A").unwrap();
        assert_eq!(first.weight_rel, Some(60.0 / 50.0));
    }

    #[test]
    fn no_sample_before_the_lesion_or_an_empty_reference_leaves_the_ratio_empty() {
        let rows = series(&table(CONN), &ab(), Some(-5.0)).unwrap();
        assert!(rows.iter().all(|r| r.weight_rel.is_none() && r.synapses_rel.is_none()));
        // Relative to step 30, where A -> B is empty.
        let rows = series(&table(CONN), &ab(), Some(1.0)).unwrap();
        assert!(rows.iter().filter(|r| r.source == "A").all(|r| r.weight_rel.is_none()));
        assert!(rows.iter().filter(|r| r.source == "B").all(|r| r.weight_rel.is_some()));
    }

    #[test]
    fn a_tract_missing_from_the_file_is_named() {
        let e = series(&table(CONN), &[("A".into(), "C".into())], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("A -> C") && e.contains("step 10"), "{e}");
    }
}
