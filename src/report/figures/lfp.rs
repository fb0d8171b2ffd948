//! The figure `lfp`: each region's mean LFP-proxy power spectrum over the samples before the
//! first lesion (solid) and from it on (dashed; without a lesion, one line over every sample),
//! on a log scale.

use super::*;

/// Regions drawn at most (the files hold them all).
const MAX_REGIONS: usize = 10;

/// A region's name and its mean spectra before and after the first lesion: (Hz, power).
type Spectra = (String, Vec<(f64, f64)>, Vec<(f64, f64)>);

pub(super) struct Lfp {
    title: String,
    regions: Vec<Spectra>,
    lesioned: bool,
    left_out: usize,
}

/// The mean of each frequency's power over the rows `pick` selects: (Hz, mean), by frequency.
fn mean(freq: &[f64], power: &[f64], pick: impl Fn(usize) -> bool) -> Vec<(f64, f64)> {
    let mut sums: Vec<(f64, f64, u32)> = Vec::new();
    for i in (0..freq.len()).filter(|&i| pick(i)) {
        match sums.iter_mut().find(|s| s.0 == freq[i]) {
            Some(s) => {
                s.1 += power[i];
                s.2 += 1;
            }
            None => sums.push((freq[i], power[i], 1)),
        }
    }
    sums.sort_by(|a, b| a.0.total_cmp(&b.0));
    sums.into_iter().map(|(f, s, n)| (f, s / n as f64)).collect()
}

pub(super) fn lfp(dir: &Path, info: &RunInfo) -> Result<Option<Lfp>> {
    let Some(t) = Table::read_optional(dir, "lfp_spectrum.csv")? else {
        return Ok(None);
    };
    let (day, region) = (t.f64s("day")?, t.strs("region")?);
    let (freq, power) = (t.f64s("freq_hz")?, t.f64s("power")?);
    let mut names: Vec<&str> = Vec::new();
    for r in &region {
        if !names.contains(r) {
            names.push(r);
        }
    }
    if names.is_empty() {
        return Ok(None);
    }
    let left_out = names.len().saturating_sub(MAX_REGIONS);
    names.truncate(MAX_REGIONS);
    let lesion = info.lesion_days.iter().copied().fold(f64::INFINITY, f64::min);
    let regions = names
        .iter()
        .map(|&n| {
            let before = mean(&freq, &power, |i| region[i] == n && day[i] < lesion);
            let after = mean(&freq, &power, |i| region[i] == n && day[i] >= lesion);
            (n.to_string(), before, after)
        })
        .collect();
    Ok(Some(Lfp {
        title: format!("{}: LFP proxy power spectrum by region", info.scene),
        regions,
        lesioned: lesion.is_finite(),
        left_out,
    }))
}

impl Figure for Lfp {
    fn size(&self) -> (u32, u32) {
        (900, 520)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let note = if self.left_out > 0 {
            format!(
                "(the first {MAX_REGIONS} regions; {} more in lfp_spectrum.csv)",
                self.left_out
            )
        } else if self.lesioned {
            "mean over the samples before the first lesion (solid) and from it on (dashed)".to_string()
        } else {
            "mean over the samples; I_E(t - 6 ms) - 1.65 I_I(t) (Mazzoni et al. 2015)".to_string()
        };
        let body = titled(root, &self.title, &note, 60)?;
        let (plot, side) = body.split_horizontally(700);
        let points = self.regions.iter().flat_map(|r| r.1.iter().chain(&r.2));
        let hi = points.clone().map(|p| p.0).fold(0.0f64, f64::max).max(1.0);
        let logs = points.clone().filter(|p| p.1 > 0.0).map(|p| p.1.log10());
        let top = logs.clone().fold(f64::NEG_INFINITY, f64::max);
        let bottom = logs.fold(f64::INFINITY, f64::min);
        let (bottom, top) = if top > bottom {
            (bottom, top)
        } else {
            (bottom - 1.0, bottom + 1.0)
        };
        let ((x, xfmt), (y, yfmt)) = (axis(0.0, hi, 8), axis(bottom, top + 0.1 * (top - bottom), 6));
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .x_desc("frequency (Hz)")
            .y_desc("log10 power (proxy units^2 / Hz)")
            .label_style(font(13.0))
            .axis_desc_style(font(14.0))
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        let log = |pts: &[(f64, f64)]| -> Vec<(f64, f64)> {
            pts.iter().filter(|p| p.1 > 0.0).map(|p| (p.0, p.1.log10())).collect()
        };
        for (k, (_, before, after)) in self.regions.iter().enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            chart.draw_series(LineSeries::new(log(before), colour.stroke_width(2)))?;
            chart.draw_series(DashedLineSeries::new(log(after), 6, 4, colour.stroke_width(2)))?;
        }
        let entries: Vec<(Icon, String)> = self
            .regions
            .iter()
            .enumerate()
            .map(|(k, r)| (Icon::Line(PALETTE[k % PALETTE.len()]), r.0.clone()))
            .collect();
        side.draw(&Text::new("region", (8, 30), font(14.0)))?;
        legend(&side, 64, &entries)
    }
}
