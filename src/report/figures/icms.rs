//! The figure `icms`: each mapping day's ICMS map, a square per site coloured by the movement it
//! evoked (grey: none), over the x-y plane.

use super::*;

/// At most this many maps are drawn (the readout allows eight days).
const MAX_MAPS: usize = 8;

/// A map: its day, and each site as (x, y, movement).
type Map = (i32, Vec<(f64, f64, Option<u32>)>);

pub(super) struct IcmsMaps {
    title: String,
    /// Per day: (day, sites as (x, y, response)).
    maps: Vec<Map>,
    groups: u32,
}

pub(super) fn icms(dir: &Path, info: &RunInfo) -> Result<Option<IcmsMaps>> {
    let Some(t) = Table::read_optional(dir, "icms.csv")? else {
        return Ok(None);
    };
    let (day, x, y, response) = (t.f64s("day")?, t.f64s("x_mm")?, t.f64s("y_mm")?, t.strs("response")?);
    let mut maps: Vec<Map> = Vec::new();
    let mut groups = 0;
    for i in 0..t.rows.len() {
        let d = day[i] as i32;
        let r = response[i].parse::<u32>().ok();
        groups = groups.max(r.map_or(0, |g| g + 1));
        match maps.iter_mut().find(|m| m.0 == d) {
            Some(m) => m.1.push((x[i], y[i], r)),
            None => maps.push((d, vec![(x[i], y[i], r)])),
        }
    }
    if maps.is_empty() {
        return Ok(None);
    }
    maps.truncate(MAX_MAPS);
    Ok(Some(IcmsMaps {
        title: format!("{}: ICMS motor maps", info.scene),
        maps,
        groups,
    }))
}

impl Figure for IcmsMaps {
    fn size(&self) -> (u32, u32) {
        (1100, if self.maps.len() > 4 { 700 } else { 420 })
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let note =
            "the movement (output group) each site evokes at its threshold; grey: none up to the strongest current";
        let body = titled(root, &self.title, note, 60)?;
        let (plots, side) = body.split_horizontally(900);
        let rows = if self.maps.len() > 4 { 2 } else { 1 };
        let cols = self.maps.len().div_ceil(rows);
        let panels = plots.split_evenly((rows, cols));
        let sites = self.maps.iter().flat_map(|m| &m.1);
        let range = |pick: fn(&(f64, f64, Option<u32>)) -> f64| {
            let lo = sites.clone().map(pick).fold(f64::INFINITY, f64::min);
            let hi = sites.clone().map(pick).fold(f64::NEG_INFINITY, f64::max);
            let pad = ((hi - lo) * 0.08).max(0.5);
            (lo - pad, hi + pad)
        };
        let (xr, yr) = (range(|s| s.0), range(|s| s.1));
        // A square per site, 0.8 of the grid's spacing (the nearest distinct coordinates).
        let mut coords: Vec<f64> = sites.clone().flat_map(|s| [s.0, s.1]).collect();
        coords.sort_by(f64::total_cmp);
        let spacing = coords
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|&d| d > 1e-6)
            .fold(f64::INFINITY, f64::min);
        let half = if spacing.is_finite() { 0.4 * spacing } else { 0.2 };
        for (panel, (day, map)) in panels.iter().zip(&self.maps) {
            let ((x, xfmt), (y, yfmt)) = (axis(xr.0, xr.1, 5), axis(yr.0, yr.1, 5));
            let mut chart = ChartBuilder::on(panel)
                .margin(8)
                .caption(format!("day {day}"), font(15.0))
                .x_label_area_size(36)
                .y_label_area_size(48)
                .build_cartesian_2d(x, y)?;
            chart
                .configure_mesh()
                .x_label_formatter(&xfmt)
                .y_label_formatter(&yfmt)
                .x_desc("x (mm)")
                .y_desc("y (mm)")
                .label_style(font(12.0))
                .axis_desc_style(font(13.0))
                .disable_mesh()
                .draw()?;
            chart.draw_series(map.iter().map(|&(x, y, r)| {
                let style = match r {
                    Some(g) => PALETTE[g as usize % PALETTE.len()].filled(),
                    None => NO_DATA.filled(),
                };
                Rectangle::new([(x - half, y - half), (x + half, y + half)], style)
            }))?;
        }
        let mut entries: Vec<(Icon, String)> = (0..self.groups)
            .map(|g| {
                (
                    Icon::Block(PALETTE[g as usize % PALETTE.len()].mix(1.0)),
                    format!("group {g}"),
                )
            })
            .collect();
        entries.push((Icon::Block(NO_DATA.mix(1.0)), "no response".into()));
        side.draw(&Text::new("movement", (8, 30), font(14.0)))?;
        legend(&side, 64, &entries)
    }
}
