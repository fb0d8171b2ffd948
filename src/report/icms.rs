//! ICMS maps (the `Icms` readout): from the sites of `icms.csv`, each mapping day's map area per
//! region and movement (output group), and its mean threshold, as Nudo et al. 1996 report the
//! representation of each movement over recovery; the area relative to the reference map (the
//! last before the first lesion; without one, the first).

use super::Table;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One row of `icms_areas.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Area {
    pub day: i32,
    pub region: String,
    /// The movement: an output group's number, `any` (every responsive site) or `none`.
    pub response: String,
    pub sites: u64,
    /// Sites times the grid spacing squared (mm^2).
    pub area_mm2: f64,
    /// The mean threshold of the sites (None for `none`, or no site).
    pub mean_threshold: Option<f64>,
    /// The area over the reference map's for the same region and movement (None where that was 0).
    pub area_rel: Option<f64>,
}

/// The header of `icms_areas.csv`.
pub const HEADER: &str = "day,region,response,sites,area_mm2,mean_threshold,area_rel";

/// The reference map of `days`: the last before `lesion`; without one before it, the first.
pub fn reference_day(days: &[i32], lesion: Option<i32>) -> Option<i32> {
    let before = days.iter().copied().filter(|&d| lesion.is_some_and(|l| d < l)).max();
    before.or_else(|| days.iter().copied().min())
}

/// The areas of the maps in `t` (icms.csv), `spacing` mm apart, relative to the reference map.
pub fn areas(t: &Table, spacing: f64, lesion: Option<i32>) -> Result<Vec<Area>> {
    let (day, region) = (t.f64s("day")?, t.strs("region")?);
    let (response, threshold) = (t.strs("response")?, t.strs("threshold")?);
    let mut days: Vec<i32> = Vec::new();
    let mut regions: Vec<&str> = Vec::new();
    let mut groups: Vec<u32> = Vec::new();
    for i in 0..t.rows.len() {
        let d = day[i] as i32;
        if !days.contains(&d) {
            days.push(d);
        }
        if !regions.contains(&region[i]) {
            regions.push(region[i]);
        }
        if !response[i].is_empty() {
            let g: u32 = response[i].parse().map_err(|_| {
                Error::data(
                    Path::new("icms.csv"),
                    format!("row {}: response {:?} is not an output group", i + 2, response[i]),
                )
            })?;
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
    }
    groups.sort_unstable();
    let labels: Vec<String> = groups
        .iter()
        .map(u32::to_string)
        .chain(["any".to_string(), "none".to_string()])
        .collect();
    let matches = |i: usize, label: &str| match label {
        "any" => !response[i].is_empty(),
        "none" => response[i].is_empty(),
        g => response[i] == g,
    };
    let mut rows = Vec::new();
    for &d in &days {
        for &r in &regions {
            for label in &labels {
                let (mut sites, mut sum, mut timed) = (0u64, 0.0, 0u64);
                for i in 0..t.rows.len() {
                    if day[i] as i32 == d && region[i] == r && matches(i, label) {
                        sites += 1;
                        if let Ok(c) = threshold[i].parse::<f64>() {
                            sum += c;
                            timed += 1;
                        }
                    }
                }
                rows.push(Area {
                    day: d,
                    region: r.to_string(),
                    response: label.clone(),
                    sites,
                    area_mm2: sites as f64 * spacing * spacing,
                    mean_threshold: (timed > 0).then(|| sum / timed as f64),
                    area_rel: None,
                });
            }
        }
    }
    if let Some(reference) = reference_day(&days, lesion) {
        let before: Vec<(String, String, u64)> = rows
            .iter()
            .filter(|a| a.day == reference)
            .map(|a| (a.region.clone(), a.response.clone(), a.sites))
            .collect();
        for a in &mut rows {
            let base = before
                .iter()
                .find(|b| b.0 == a.region && b.1 == a.response)
                .map_or(0, |b| b.2);
            a.area_rel = (base > 0).then(|| a.sites as f64 / base as f64);
        }
    }
    Ok(rows)
}

/// Writes `dir/icms_areas.csv` for a run of `model` with the `Icms` readout (None without it).
pub fn write(dir: &Path, model: &crate::scene::Model) -> Result<Option<PathBuf>> {
    let Some(m) = &model.readouts.icms else {
        return Ok(None);
    };
    let t = Table::read(dir, "icms.csv")?;
    let lesion = model
        .protocol
        .as_ref()
        .and_then(|p| p.lesions.iter().map(|l| l.day).min());
    let opt = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    let mut text = format!("{HEADER}\n");
    for a in areas(&t, m.spacing_mm, lesion)? {
        text.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            a.day,
            super::table::plain_field(&a.region),
            a.response,
            a.sites,
            a.area_mm2,
            opt(a.mean_threshold),
            opt(a.area_rel)
        ));
    }
    let path = dir.join("icms_areas.csv");
    crate::atomic::write_file(&path, text.as_bytes(), false)?;
    Ok(Some(path))
}

/// The compare metrics of a run folder's `icms_areas.csv`: `icms_area:REGION`, the region's
/// responsive map area (any movement) on the last mapping day relative to the reference map's.
pub fn metrics(dir: &Path) -> Result<Vec<(String, f64)>> {
    let Some(t) = Table::read_optional(dir, "icms_areas.csv")? else {
        return Ok(Vec::new());
    };
    let (day, region, response, rel) = (
        t.f64s("day")?,
        t.strs("region")?,
        t.strs("response")?,
        t.strs("area_rel")?,
    );
    let last = day.iter().copied().fold(f64::NAN, f64::max);
    Ok((0..t.rows.len())
        .filter(|&i| day[i] == last && response[i] == "any")
        .filter_map(|i| {
            rel[i]
                .parse::<f64>()
                .ok()
                .map(|v| (format!("icms_area:{}", region[i]), v))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&str]) -> Table {
        let dir = std::env::temp_dir().join(format!("rewire-icms-{}-{}", std::process::id(), rows.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!("{}\n{}\n", crate::protocol::ICMS_HEADER, rows.join("\n"));
        std::fs::write(dir.join("icms.csv"), text).unwrap();
        let t = Table::read(&dir, "icms.csv").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        t
    }

    #[test]
    fn the_reference_map_is_the_last_before_the_lesion() {
        assert_eq!(reference_day(&[-3, -1, 3, 7], Some(0)), Some(-1));
        assert_eq!(reference_day(&[3, 7], Some(0)), Some(3), "no map before it: the first");
        assert_eq!(reference_day(&[3, 7], None), Some(3));
        assert_eq!(reference_day(&[], None), None);
    }

    #[test]
    fn areas_count_sites_per_movement_relative_to_before() {
        // Day -1: M1 has two sites of movement 0 and one of movement 1; day 3: one of movement 0,
        // two silent.
        let t = table(&[
            "-1,0,M1,0,0,0,0,5,0,10,12",
            "-1,0,M1,1,1,0,0,5,0,20,11",
            "-1,0,M1,2,2,0,0,5,1,10,10",
            "3,1,M1,0,0,0,0,5,0,40,10",
            "3,1,M1,1,1,0,0,0,,,0",
            "3,1,M1,2,2,0,0,5,,,3",
        ]);
        let a = areas(&t, 0.5, Some(0)).unwrap();
        let row = |d: i32, r: &str| a.iter().find(|x| x.day == d && x.response == r).unwrap();
        assert_eq!(row(-1, "0").sites, 2);
        assert_eq!(row(-1, "0").area_mm2, 0.5);
        assert_eq!(row(-1, "0").mean_threshold, Some(15.0));
        assert_eq!(row(-1, "any").sites, 3);
        assert_eq!(row(-1, "none").sites, 0);
        assert_eq!(row(3, "0").area_rel, Some(0.5));
        assert_eq!(row(3, "1").area_rel, Some(0.0));
        assert_eq!(row(3, "any").area_rel, Some(1.0 / 3.0));
        assert_eq!(row(3, "none").sites, 2);
        assert_eq!(row(3, "none").area_rel, None, "nothing silent before");
        assert_eq!(a.len(), 2 * 4);
    }

    #[test]
    fn the_area_metric_is_the_last_map_relative_to_the_reference() {
        let dir = std::env::temp_dir().join(format!("rewire-icms-metric-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rows = [
            "-1,M1,any,4,1,20,1",
            "-1,PMd,any,0,0,,",
            "3,M1,any,1,0.25,40,0.25",
            "3,PMd,any,2,0.5,40,",
        ];
        std::fs::write(dir.join("icms_areas.csv"), format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
        let m = metrics(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        // PMd had no map before: no ratio.
        assert_eq!(m, vec![("icms_area:M1".to_string(), 0.25)]);
    }
}
