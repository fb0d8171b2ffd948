//! The figure `icms`: the ICMS maps, one panel per mapped region (rows) and mapping day
//! (columns), a square per site over the x-y plane coloured by the movement it evoked (grey: none).

use super::*;

/// At most this many days and regions are drawn (the readout allows eight days).
const MAX_DAYS: usize = 8;
const MAX_REGIONS: usize = 4;

/// A site: (x, y, movement).
type Site = (f64, f64, Option<u32>);

pub(super) struct IcmsMaps {
    title: String,
    days: Vec<i32>,
    /// Per region: its name, and per day of `days` its sites.
    regions: Vec<(String, Vec<Vec<Site>>)>,
    groups: u32,
    left_out: usize,
}

pub(super) fn icms(dir: &Path, info: &RunInfo) -> Result<Option<IcmsMaps>> {
    let Some(t) = Table::read_optional(dir, "icms.csv")? else {
        return Ok(None);
    };
    let (day, region) = (t.f64s("day")?, t.strs("region")?);
    let (x, y, response) = (t.f64s("x_mm")?, t.f64s("y_mm")?, t.strs("response")?);
    let mut days: Vec<i32> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for i in 0..t.rows.len() {
        if !days.contains(&(day[i] as i32)) {
            days.push(day[i] as i32);
        }
        if !names.contains(&region[i]) {
            names.push(region[i]);
        }
    }
    if days.is_empty() {
        return Ok(None);
    }
    days.truncate(MAX_DAYS);
    let left_out = names.len().saturating_sub(MAX_REGIONS);
    names.truncate(MAX_REGIONS);
    let mut regions: Vec<(String, Vec<Vec<Site>>)> = names
        .iter()
        .map(|n| (n.to_string(), vec![Vec::new(); days.len()]))
        .collect();
    let mut groups = 0;
    for i in 0..t.rows.len() {
        let (Some(r), Some(d)) = (
            names.iter().position(|n| *n == region[i]),
            days.iter().position(|&d| d == day[i] as i32),
        ) else {
            continue;
        };
        let g = response[i].parse::<u32>().ok();
        groups = groups.max(g.map_or(0, |g| g + 1));
        regions[r].1[d].push((x[i], y[i], g));
    }
    Ok(Some(IcmsMaps {
        title: format!("{}: ICMS motor maps", info.scene),
        days,
        regions,
        groups,
        left_out,
    }))
}

impl Figure for IcmsMaps {
    fn size(&self) -> (u32, u32) {
        let cols = self.days.len() as u32;
        (230 * cols + 200, 80 + 230 * self.regions.len() as u32).max((900, 420))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let note = if self.left_out > 0 {
            format!("(the first {MAX_REGIONS} regions; {} more in icms.csv)", self.left_out)
        } else {
            "the movement (output group) each site evokes at its threshold; grey: none up to the strongest current"
                .to_string()
        };
        let body = titled(root, &self.title, &note, 60)?;
        let (w, _) = body.dim_in_pixel();
        let (plots, side) = body.split_horizontally(w.saturating_sub(180));
        let panels = plots.split_evenly((self.regions.len(), self.days.len()));
        for (r, (name, maps)) in self.regions.iter().enumerate() {
            let sites = maps.iter().flatten();
            let range = |pick: fn(&Site) -> f64| {
                let lo = sites.clone().map(pick).fold(f64::INFINITY, f64::min);
                let hi = sites.clone().map(pick).fold(f64::NEG_INFINITY, f64::max);
                let pad = ((hi - lo) * 0.1).max(0.5);
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
            for (d, map) in maps.iter().enumerate() {
                let panel = &panels[r * self.days.len() + d];
                let ((x, xfmt), (y, yfmt)) = (axis(xr.0, xr.1, 4), axis(yr.0, yr.1, 4));
                let mut chart = ChartBuilder::on(panel)
                    .margin(8)
                    .caption(format!("{name}, day {}", self.days[d]), font(14.0))
                    .x_label_area_size(34)
                    .y_label_area_size(44)
                    .build_cartesian_2d(x, y)?;
                chart
                    .configure_mesh()
                    .x_label_formatter(&xfmt)
                    .y_label_formatter(&yfmt)
                    .x_desc("x (mm)")
                    .y_desc("y (mm)")
                    .label_style(font(11.0))
                    .axis_desc_style(font(12.0))
                    .disable_mesh()
                    .draw()?;
                chart.draw_series(map.iter().map(|&(x, y, g)| {
                    let style = match g {
                        Some(g) => PALETTE[g as usize % PALETTE.len()].filled(),
                        None => NO_DATA.filled(),
                    };
                    Rectangle::new([(x - half, y - half), (x + half, y + half)], style)
                }))?;
            }
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
