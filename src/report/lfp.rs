//! The LFP readout's compare metrics (`rewire compare --metrics lfp:REGION:BAND`), from `lfp.csv`.

use super::Table;
use crate::error::Result;
use crate::stats::lfp::BANDS;
use std::path::Path;

/// `lfp:REGION:BAND`: the region's mean power in the band over the last day's samples over its
/// mean over the reference day's (the last day before the first lesion; without one, the first
/// day), for every region and band of `lfp.csv`; none where the reference power is 0.
pub fn metrics(dir: &Path, first_lesion: Option<i64>) -> Result<Vec<(String, f64)>> {
    let Some(t) = Table::read_optional(dir, "lfp.csv")? else {
        return Ok(Vec::new());
    };
    let (day, region) = (t.f64s("day")?, t.strs("region")?);
    let last = day.iter().copied().fold(f64::NAN, f64::max);
    let reference = match first_lesion {
        Some(l) => day.iter().copied().filter(|&d| d < l as f64).fold(f64::NAN, f64::max),
        None => day.iter().copied().fold(f64::NAN, f64::min),
    };
    if !(reference.is_finite() && last.is_finite() && reference < last) {
        return Ok(Vec::new());
    }
    let mut regions: Vec<&str> = Vec::new();
    for r in &region {
        if !regions.contains(r) {
            regions.push(r);
        }
    }
    let mut out = Vec::new();
    for (band, _, _) in BANDS {
        let power = t.f64s(band)?;
        let mean = |r: &str, d: f64| {
            let v: Vec<f64> = (0..t.rows.len())
                .filter(|&i| region[i] == r && day[i] == d)
                .map(|i| power[i])
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        for &r in &regions {
            let before = mean(r, reference);
            if before > 0.0 {
                out.push((format!("lfp:{r}:{band}"), mean(r, last) / before));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_band_is_its_last_days_power_over_the_reference_days() {
        let dir = std::env::temp_dir().join(format!("rewire-lfp-metric-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let head = "step,t_ms,day,region,steps,delta,theta,alpha,beta,gamma,peak_hz";
        let rows = [
            "1,1,-2,M1,100,1,1,9,1,1,10",
            "2,2,-1,M1,100,1,1,4,1,0,10",
            "3,3,-1,M1,100,1,1,2,1,0,10",
            "4,4,5,M1,100,1,1,1,1,2,10",
        ];
        std::fs::write(dir.join("lfp.csv"), format!("{head}\n{}\n", rows.join("\n"))).unwrap();
        let m = metrics(&dir, Some(0)).unwrap();
        let get = |name: &str| m.iter().find(|x| x.0 == name).map(|x| x.1);
        // Day -1 (the last before the lesion) against day 5: alpha 1 / mean(4, 2).
        assert_eq!(get("lfp:M1:alpha"), Some(1.0 / 3.0));
        assert_eq!(get("lfp:M1:delta"), Some(1.0));
        assert_eq!(get("lfp:M1:gamma"), None, "no gamma power before");
        // Without a lesion the first day is the reference.
        let m = metrics(&dir, None).unwrap();
        assert_eq!(m.iter().find(|x| x.0 == "lfp:M1:alpha").map(|x| x.1), Some(1.0 / 9.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
