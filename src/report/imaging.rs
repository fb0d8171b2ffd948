//! Spine imaging (the `SpineImaging` readout): what two-photon imaging of the same fields over
//! sessions reports (Holtmaat et al. 2005; Mostany et al. 2010), from the counts the `census`
//! stage keeps per field of view (spine_imaging.csv): for each imaging day j and later session k,
//! the fraction of the spines present on day j still present on day k (a cohort only shrinks: a
//! pruned slot's next spine is born later), and between consecutive sessions the spines gained
//! and lost, per day, as a share of the spines of the earlier session.

use super::Table;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One row of `spine_survival.csv`: the cohort imaged on `imaged_day`, seen again on `day`.
#[derive(Clone, Debug, PartialEq)]
pub struct Survival {
    pub field: usize,
    pub imaged_day: i32,
    pub day: i32,
    /// Spines in the field on the imaging day, and those of them present on `day`.
    pub imaged: u64,
    pub surviving: u64,
    /// Consecutive sessions only (`imaged_day` the session before `day`): spines gained and lost
    /// between them, and each per day as a percentage of the earlier session's spines.
    pub turnover: Option<Turnover>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Turnover {
    pub gained: u64,
    pub lost: u64,
    pub gained_pct_per_day: f64,
    pub lost_pct_per_day: f64,
}

impl Survival {
    /// The surviving fraction (NaN for an empty cohort).
    pub fn fraction(&self) -> f64 {
        if self.imaged == 0 {
            f64::NAN
        } else {
            self.surviving as f64 / self.imaged as f64
        }
    }
}

/// The header of `spine_survival.csv`.
pub const HEADER: &str =
    "field,imaged_day,day,spines_imaged,surviving,survival,gained,lost,gained_pct_per_day,lost_pct_per_day";

/// The survival rows of the imaging sessions `(day, step)` from a spine_imaging.csv.
pub fn survival(t: &Table, sessions: &[(i32, u64)]) -> Result<Vec<Survival>> {
    let (step, field, spines) = (t.f64s("step")?, t.f64s("field")?, t.f64s("spines")?);
    let (imaged_day, surviving) = (t.f64s("imaged_day")?, t.strs("surviving")?);
    // (step, field, imaged day) -> (spines, surviving).
    let mut at: HashMap<(u64, usize, i32), (u64, Option<u64>)> = HashMap::new();
    let mut fields = 0;
    for i in 0..t.rows.len() {
        let f = field[i] as usize;
        fields = fields.max(f + 1);
        let n = if surviving[i].is_empty() {
            None
        } else {
            Some(
                surviving[i]
                    .parse::<u64>()
                    .map_err(|_| Error::data(&t.path, format!("row {}: `surviving` is not a count", i + 2)))?,
            )
        };
        at.insert((step[i] as u64, f, imaged_day[i] as i32), (spines[i] as u64, n));
    }
    let mut rows = Vec::new();
    for f in 0..fields {
        for (j, &(dj, sj)) in sessions.iter().enumerate() {
            let Some(&(imaged, _)) = at.get(&(sj, f, dj)) else {
                continue;
            };
            for (k, &(dk, sk)) in sessions.iter().enumerate().skip(j) {
                let Some(&(now, Some(kept))) = at.get(&(sk, f, dj)) else {
                    continue;
                };
                let turnover = (k == j + 1).then(|| {
                    let (gained, lost) = (now.saturating_sub(kept), imaged.saturating_sub(kept));
                    let per_day = |n: u64| 100.0 * n as f64 / imaged.max(1) as f64 / f64::from(dk - dj);
                    Turnover {
                        gained,
                        lost,
                        gained_pct_per_day: per_day(gained),
                        lost_pct_per_day: per_day(lost),
                    }
                });
                rows.push(Survival {
                    field: f,
                    imaged_day: dj,
                    day: dk,
                    imaged,
                    surviving: kept,
                    turnover,
                });
            }
        }
    }
    Ok(rows)
}

/// Writes `dir/spine_survival.csv` for a run of `model` with the readout, from its
/// spine_imaging.csv; returns the file (None without the readout).
pub fn write(dir: &Path, model: &crate::scene::Model) -> Result<Option<PathBuf>> {
    let Some(im) = &model.readouts.imaging else {
        return Ok(None);
    };
    let t = Table::read(dir, "spine_imaging.csv")?;
    let sessions: Vec<(i32, u64)> = im.days.iter().copied().zip(im.steps.iter().copied()).collect();
    let rows = survival(&t, &sessions)?;
    let mut text = format!("{HEADER}\n");
    for r in &rows {
        let fraction = r.fraction();
        let t = r.turnover.as_ref();
        text.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            r.field,
            r.imaged_day,
            r.day,
            r.imaged,
            r.surviving,
            if fraction.is_finite() {
                fraction.to_string()
            } else {
                String::new()
            },
            t.map_or(String::new(), |t| t.gained.to_string()),
            t.map_or(String::new(), |t| t.lost.to_string()),
            t.map_or(String::new(), |t| t.gained_pct_per_day.to_string()),
            t.map_or(String::new(), |t| t.lost_pct_per_day.to_string()),
        ));
    }
    let path = dir.join("spine_survival.csv");
    crate::atomic::write_file(&path, text.as_bytes(), false)?;
    Ok(Some(path))
}

/// The scalars `rewire compare` reads from `spine_survival.csv`: `spine_survival:FIELD`, the
/// surviving fraction, on the last imaging day, of the cohort imaged last before `first_lesion`
/// (the spines present before the stroke; without a lesion, the first imaging day's cohort). None
/// for a field imaged on that day alone or whose cohort was empty.
pub fn metrics(dir: &Path, first_lesion: Option<i64>) -> Result<Vec<(String, f64)>> {
    let Some(t) = Table::read_optional(dir, "spine_survival.csv")? else {
        return Ok(Vec::new());
    };
    let (field, imaged_day, day, survival) = (
        t.f64s("field")?,
        t.f64s("imaged_day")?,
        t.f64s("day")?,
        t.f64s("survival")?,
    );
    let mut fields: Vec<f64> = field.clone();
    fields.sort_by(f64::total_cmp);
    fields.dedup();
    let mut out = Vec::new();
    for f in fields {
        let rows: Vec<usize> = (0..t.rows.len()).filter(|&i| field[i] == f).collect();
        let imaged = rows.iter().map(|&i| imaged_day[i]);
        let cohort = match first_lesion {
            Some(l) => imaged.filter(|&d| d < l as f64).fold(f64::NAN, f64::max),
            None => imaged.fold(f64::NAN, f64::min),
        };
        let last = rows.iter().map(|&i| day[i]).fold(f64::NAN, f64::max);
        if cohort.is_nan() || last.is_nan() || cohort >= last {
            continue;
        }
        let value = rows
            .iter()
            .find(|&&i| imaged_day[i] == cohort && day[i] == last)
            .map(|&i| survival[i]);
        if let Some(v) = value.filter(|v| v.is_finite()) {
            out.push((format!("spine_survival:{f}"), v));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        let dir = std::env::temp_dir().join(format!("rewire-imaging-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("spine_imaging.csv"), text).unwrap();
        let t = Table::read(&dir, "spine_imaging.csv").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        t
    }

    /// Days -1, 0 and 2 imaged at steps 10, 20 and 40; a sample at step 30 between them.
    const IMAGING: &str = "step,t_ms,day,field,spines,imaged_day,surviving
10,10,-1,0,100,-1,100
10,10,-1,0,100,0,
10,10,-1,0,100,2,
20,20,0,0,90,-1,80
20,20,0,0,90,0,90
20,20,0,0,90,2,
30,30,1,0,95,-1,75
30,30,1,0,95,0,84
30,30,1,0,95,2,
40,40,2,0,96,-1,70
40,40,2,0,96,0,78
40,40,2,0,96,2,96
";

    #[test]
    fn cohorts_are_followed_from_their_imaging_day_and_turnover_is_per_day() {
        let rows = survival(&table(IMAGING), &[(-1, 10), (0, 20), (2, 40)]).unwrap();
        let row = |j: i32, k: i32| rows.iter().find(|r| r.imaged_day == j && r.day == k).unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(row(-1, -1).fraction(), 1.0);
        assert_eq!(row(-1, 0).fraction(), 0.8);
        assert_eq!(row(-1, 2).fraction(), 0.7);
        assert_eq!(row(0, 2).fraction(), 78.0 / 90.0);
        // Day -1 to 0: 80 of 100 kept, 10 new of the 90; per day (one day) in % of 100.
        let t = row(-1, 0).turnover.clone().unwrap();
        assert_eq!((t.gained, t.lost), (10, 20));
        assert_eq!((t.gained_pct_per_day, t.lost_pct_per_day), (10.0, 20.0));
        // Day 0 to 2: 78 of 90 kept, 18 new of the 96; over two days.
        let t = row(0, 2).turnover.clone().unwrap();
        assert_eq!((t.gained, t.lost), (18, 12));
        assert_eq!(t.gained_pct_per_day, 100.0 * 18.0 / 90.0 / 2.0);
        assert!(row(-1, 2).turnover.is_none() && row(2, 2).turnover.is_none());
    }
}
