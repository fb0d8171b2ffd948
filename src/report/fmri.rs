//! What an fMRI analysis takes from `bold.csv` (the `Bold` readout's `fc_days` and
//! `laterality_regions`): region x region functional connectivity over windows of days
//! (`bold_fc.csv`), the laterality index of task activation per protocol day
//! (`bold_laterality.csv`), and the scalars `rewire compare` reads back from them.
//!
//! Functional connectivity is the Pearson correlation of two regions' TR samples whose day lies in
//! the window; a region whose signal does not vary there has none (an empty cell).
//!
//! Task activation of a region on a day is the mean BOLD over the TR samples in that day's task
//! phases (sessions and probe blocks, `protocol::timeline`) less the mean over its offline phase,
//! each phase shifted later by [`LAG_S`] (a block-design analysis without a fitted response
//! model). The laterality index (Ward et al. 2003) is `(C - I) / (|C| + |I|)`, with C and I the
//! mean activation of the chosen regions on the contralesional and the ipsilesional side: > 0 when
//! activation has shifted to the contralesional hemisphere. The ipsilesional side is the first
//! lesion's (a focal lesion's: that of the region nearest its centre; a tract cut's: its source
//! region's, else its target's); without a lesion, or a lesion on neither side, the index is left
//! minus right (the left side written as contralesional).

use super::Table;
use crate::error::{Error, Result};
use crate::scene::model::{LesionKindModel, Model};
use std::path::{Path, PathBuf};

/// The haemodynamic lag (s) by which task and offline phases are shifted before their TR samples
/// are averaged. Chosen, not measured: the time the Balloon model of `report::bold` takes to
/// reach half its plateau after a step of input (tested below), so that a phase's samples see
/// mostly its own response rather than the previous phase's.
pub const LAG_S: f64 = 4.5;

/// Below this variance (%^2) a region's signal in a window counts as constant (no correlation).
const FLAT: f64 = 1e-24;

/// The Pearson correlation of `a` and `b` (equal lengths, at least 2), None when either does not
/// vary or the lengths differ.
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len();
    if n < 2 || b.len() != n {
        return None;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n as f64, b.iter().sum::<f64>() / n as f64);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa / n as f64 <= FLAT || sbb / n as f64 <= FLAT {
        return None;
    }
    Some((sab / (saa * sbb).sqrt()).clamp(-1.0, 1.0))
}

/// The laterality index `(c - i) / (|c| + |i|)`, None when both are 0.
pub fn laterality(ipsilesional: f64, contralesional: f64) -> Option<f64> {
    let d = ipsilesional.abs() + contralesional.abs();
    (d > 0.0).then(|| (contralesional - ipsilesional) / d)
}

/// The BOLD samples of a run: times (s), days, and per region (in `regions` order) its values.
pub struct Samples {
    pub t_s: Vec<f64>,
    pub day: Vec<f64>,
    pub bold: Vec<Vec<f64>>,
}

impl Samples {
    /// Reads `bold.csv` from `dir` (None without it); the regions in order of first appearance.
    pub fn read(dir: &Path) -> Result<Option<(Vec<String>, Samples)>> {
        let Some(t) = Table::read_optional(dir, "bold.csv")? else {
            return Ok(None);
        };
        let (time, day, region, pct) = (t.f64s("t_s")?, t.f64s("day")?, t.strs("region")?, t.f64s("bold_pct")?);
        let mut names: Vec<String> = Vec::new();
        let mut s = Samples {
            t_s: Vec::new(),
            day: Vec::new(),
            bold: Vec::new(),
        };
        for i in 0..t.rows.len() {
            let r = match names.iter().position(|n| n == region[i]) {
                Some(r) => r,
                None => {
                    names.push(region[i].to_string());
                    s.bold.push(Vec::new());
                    names.len() - 1
                }
            };
            if r == 0 {
                s.t_s.push(time[i]);
                s.day.push(day[i]);
            }
            s.bold[r].push(pct[i]);
        }
        if s.bold.iter().any(|b| b.len() != s.t_s.len()) {
            return Err(Error::data(&t.path, "every region needs a value at every TR sample"));
        }
        Ok(Some((names, s)))
    }

    /// The mean of region `r`'s samples whose time lies in one of `spans` (s, `(from, to]`).
    fn mean_in(&self, r: usize, spans: &[(f64, f64)]) -> Option<f64> {
        let (mut sum, mut n) = (0.0, 0usize);
        for (k, &t) in self.t_s.iter().enumerate() {
            if spans.iter().any(|&(a, b)| t > a + 1e-9 && t <= b + 1e-9) {
                sum += self.bold[r][k];
                n += 1;
            }
        }
        (n > 0).then(|| sum / n as f64)
    }
}

/// The TR sample indices whose day lies in `first..=last`.
pub fn window(days: &[f64], first: i32, last: i32) -> Vec<usize> {
    (0..days.len())
        .filter(|&k| days[k] >= first as f64 && days[k] <= last as f64)
        .collect()
}

/// The first lesion's side (true: left), None without a lesion or on the midline.
fn lesion_side(model: &Model) -> Option<bool> {
    let p = model.protocol.as_ref()?;
    let first = p.lesions.iter().min_by_key(|l| l.day)?;
    let side = |r: usize| model.regions[r].left();
    match &first.kind {
        LesionKindModel::Focal { centre_mm, .. } => {
            let d2 = |c: &[f64; 3]| (0..3).map(|a| (c[a] - centre_mm[a]).powi(2)).sum::<f64>();
            let nearest = (0..model.regions.len())
                .min_by(|&a, &b| d2(&model.regions[a].centre_mm).total_cmp(&d2(&model.regions[b].centre_mm)))?;
            side(nearest)
        }
        LesionKindModel::Fraction { population, .. } => side(model.populations[*population].region),
        LesionKindModel::Region { region, .. } => side(*region),
        LesionKindModel::TractCut { from, to } => side(*from).or_else(|| side(*to)),
    }
}

/// One row of `bold_laterality.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Laterality {
    pub day: i32,
    /// Mean task activation (% BOLD, task less offline) of the chosen regions on each side.
    pub ipsilesional: Option<f64>,
    pub contralesional: Option<f64>,
    pub index: Option<f64>,
}

/// The laterality rows of a run of `model` from its samples (regions in model order).
pub fn laterality_rows(model: &Model, s: &Samples) -> Vec<Laterality> {
    let contra_left = lesion_side(model).is_none_or(|left| !left);
    let to_s = |step: u64| model.time_ms(step) / 1000.0;
    let timeline = crate::protocol::timeline(model);
    let mut days: Vec<i32> = timeline.iter().map(|p| p.day).collect();
    days.dedup();
    let mut out = Vec::new();
    for day in days {
        let spans = |task: bool| -> Vec<(f64, f64)> {
            timeline
                .iter()
                .filter(|p| p.day == day && p.to_step > p.from_step)
                .filter(|p| match p.phase.as_str() {
                    "train" | "rehab" | "booster" | "probe" => task,
                    "offline" => !task,
                    _ => false,
                })
                .map(|p| (to_s(p.from_step) + LAG_S, to_s(p.to_step) + LAG_S))
                .collect()
        };
        let (task, rest) = (spans(true), spans(false));
        if task.is_empty() {
            continue;
        }
        let side = |contra: bool| -> Option<f64> {
            let regions: Vec<usize> = model
                .readouts
                .bold_laterality
                .iter()
                .filter(|&&(_, left)| left == (contra == contra_left))
                .map(|&(r, _)| r)
                .collect();
            let mut sum = 0.0;
            for &r in &regions {
                sum += s.mean_in(r, &task)? - s.mean_in(r, &rest)?;
            }
            (!regions.is_empty()).then(|| sum / regions.len() as f64)
        };
        let (i, c) = (side(false), side(true));
        out.push(Laterality {
            day,
            ipsilesional: i,
            contralesional: c,
            index: i.zip(c).and_then(|(i, c)| laterality(i, c)),
        });
    }
    out
}

fn cell(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or(String::new(), |x| format!("{x}"))
}

/// Writes `bold_fc.csv` and `bold_laterality.csv` into `dir` for a run of `model`, as its `Bold`
/// readout asks (after `bold.csv`); returns the files written.
pub fn write(dir: &Path, model: &Model) -> Result<Vec<PathBuf>> {
    let r = &model.readouts;
    if r.bold_tr_ms.is_none() || (r.bold_fc_days.is_empty() && r.bold_laterality.is_empty()) {
        return Ok(Vec::new());
    }
    let Some((names, s)) = Samples::read(dir)? else {
        return Ok(Vec::new());
    };
    if names.len() != model.regions.len() || names.iter().zip(&model.regions).any(|(a, b)| *a != b.name) {
        return Err(Error::data(dir.join("bold.csv"), "its regions are not the scene's"));
    }
    let mut files = Vec::new();
    if !r.bold_fc_days.is_empty() {
        let mut text = String::from("window,first_day,last_day,samples,region_a,region_b,correlation\n");
        for (w, &(first, last)) in r.bold_fc_days.iter().enumerate() {
            let k = window(&s.day, first, last);
            let pick = |j: usize| k.iter().map(|&i| s.bold[j][i]).collect::<Vec<f64>>();
            for a in 0..names.len() {
                for b in a + 1..names.len() {
                    let c = if k.len() >= 3 {
                        pearson(&pick(a), &pick(b))
                    } else {
                        None
                    };
                    text.push_str(&format!(
                        "{w},{first},{last},{},{},{},{}\n",
                        k.len(),
                        names[a],
                        names[b],
                        cell(c)
                    ));
                }
            }
        }
        let path = dir.join("bold_fc.csv");
        crate::atomic::write_file(&path, text.as_bytes(), false)?;
        files.push(path);
    }
    if !r.bold_laterality.is_empty() {
        let contra = if lesion_side(model).is_none_or(|left| !left) {
            "left"
        } else {
            "right"
        };
        let mut text = String::from("day,ipsilesional_pct,contralesional_pct,laterality,contralesional_side\n");
        for l in laterality_rows(model, &s) {
            text.push_str(&format!(
                "{},{},{},{},{contra}\n",
                l.day,
                cell(l.ipsilesional),
                cell(l.contralesional),
                cell(l.index)
            ));
        }
        let path = dir.join("bold_laterality.csv");
        crate::atomic::write_file(&path, text.as_bytes(), false)?;
        files.push(path);
    }
    Ok(files)
}

/// The scalars `rewire compare` reads from a run folder's BOLD files: `bold:REGION`, each
/// region's mean BOLD (%) over the last day's TR samples less that over the reference day's (the
/// last day before `first_lesion`, without one the first day; none when it is the last day), and
/// `laterality`, the index on the last day that has one (bold_laterality.csv).
pub fn metrics(dir: &Path, first_lesion: Option<i64>) -> Result<Vec<(String, f64)>> {
    let mut out = Vec::new();
    if let Some((names, s)) = Samples::read(dir)? {
        let last = s.day.iter().copied().fold(f64::NAN, f64::max);
        let reference = match first_lesion {
            Some(l) => s.day.iter().copied().filter(|&d| d < l as f64).fold(f64::NAN, f64::max),
            None => s.day.iter().copied().fold(f64::NAN, f64::min),
        };
        if reference.is_finite() && last.is_finite() && reference < last {
            let mean = |r: usize, d: f64| {
                let v: Vec<f64> = (0..s.day.len())
                    .filter(|&k| s.day[k] == d)
                    .map(|k| s.bold[r][k])
                    .collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            };
            for (r, name) in names.iter().enumerate() {
                out.push((format!("bold:{name}"), mean(r, last) - mean(r, reference)));
            }
        }
    }
    if let Some(t) = Table::read_optional(dir, "bold_laterality.csv")? {
        if let Some(li) = t.f64s("laterality")?.into_iter().rev().find(|x| x.is_finite()) {
            out.push(("laterality".to_string(), li));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_matches_a_hand_computed_correlation() {
        // x = 1..5, y = (2, 4, 5, 4, 5): sxy = 6, sxx = 10, syy = 6 -> r = 6 / sqrt(60).
        let r = pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 5.0, 4.0, 5.0]).unwrap();
        assert!((r - 6.0 / 60f64.sqrt()).abs() < 1e-12, "{r}");
        assert!((r - 0.774_596_669).abs() < 1e-9);
        // A line and its mirror image.
        assert_eq!(pearson(&[1.0, 2.0, 3.0], &[3.0, 5.0, 7.0]), Some(1.0));
        assert_eq!(pearson(&[1.0, 2.0, 3.0], &[-1.0, -2.0, -3.0]), Some(-1.0));
        // Uncorrelated by construction.
        assert_eq!(pearson(&[1.0, -1.0, 1.0, -1.0], &[1.0, 1.0, -1.0, -1.0]), Some(0.0));
        // A constant signal has no correlation; nor do unequal or too short series.
        assert_eq!(pearson(&[1.0, 2.0, 3.0], &[0.5, 0.5, 0.5]), None);
        assert_eq!(pearson(&[1.0, 2.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(pearson(&[1.0], &[1.0]), None);
    }

    #[test]
    fn a_window_takes_the_samples_of_its_days_inclusive() {
        let days = [-2.0, -2.0, -1.0, -1.0, 0.0, 0.0, 1.0, 2.0];
        assert_eq!(window(&days, -1, 0), vec![2, 3, 4, 5]);
        assert_eq!(window(&days, -2, -2), vec![0, 1]);
        assert_eq!(window(&days, 1, 5), vec![6, 7]);
        assert!(window(&days, 3, 4).is_empty());
    }

    #[test]
    fn the_laterality_index_follows_ward_et_al() {
        // C = 0.3, I = 0.1: (0.3 - 0.1) / 0.4 = 0.5, towards the contralesional side.
        assert!((laterality(0.1, 0.3).unwrap() - 0.5).abs() < 1e-12);
        assert!((laterality(0.3, 0.1).unwrap() + 0.5).abs() < 1e-12);
        // A deactivated ipsilesional side: (0.2 - (-0.2)) / 0.4 = 1.
        assert_eq!(laterality(-0.2, 0.2), Some(1.0));
        assert_eq!(laterality(0.0, 0.4), Some(1.0));
        assert_eq!(laterality(0.4, 0.0), Some(-1.0));
        assert_eq!(laterality(0.0, 0.0), None);
    }

    #[test]
    fn the_lag_is_when_a_step_response_reaches_half_its_plateau() {
        let b = super::super::bold::Balloon::default();
        let r = b.series(&[(120.0, 0.2)], 0.1, 120.0);
        let plateau = r.last().unwrap().1;
        let half = r.iter().find(|s| s.1 >= 0.5 * plateau).unwrap().0;
        eprintln!("half the plateau ({plateau:.3} %) after {half:.1} s");
        assert!(
            (half - LAG_S).abs() <= 0.25,
            "half the plateau after {half} s, LAG_S = {LAG_S}"
        );
    }

    #[test]
    fn activation_means_samples_in_shifted_spans() {
        let s = Samples {
            t_s: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            day: vec![0.0; 6],
            bold: vec![vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]],
        };
        // (1, 3] holds 2 and 3 s; (3.5, 6] holds 4, 5, 6 s.
        assert_eq!(s.mean_in(0, &[(1.0, 3.0)]), Some(1.5));
        assert_eq!(
            s.mean_in(0, &[(1.0, 2.0), (3.5, 6.0)]),
            Some((1.0 + 3.0 + 4.0 + 5.0) / 4.0)
        );
        assert_eq!(s.mean_in(0, &[(6.0, 9.0)]), None);
    }
}
