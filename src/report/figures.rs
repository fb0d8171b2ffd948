//! Figures of one run, drawn from the CSV files in its folder: each as `NAME.png` (to look at) and
//! `NAME.svg` (to edit or print), beside the files they come from.
//!
//! - `recovery`: motor-task probe accuracy by day, lesion day(s), training days, pre-lesion level
//!   (protocol scenes).
//! - `connectivity`: region x region summed synaptic weight before the lesion, just after it, at the
//!   end, and the change (end minus before); without a lesion: start, end and change.
//! - `turnover`: spines formed and eliminated by distance from the lesion centre, by day (scenes
//!   with structural plasticity).
//! - `activation`: firing rate of each population during the motor-task probes, by day (or, without
//!   probes, at every sample).
//! - `weights`: weight distribution of each plastic projection at the moments of `connectivity`.
//! - `spine_survival` (the `SpineImaging` readout): the first imaging day's spines still present
//!   on each later imaging day, and the spines gained and lost per day between sessions, per field.
//! - `bold` (the `Bold` readout): each region's BOLD signal (% change) over simulated time.
//! - `tracts` (the `Tracts` readout): each tract's summed weight and synapses relative to before
//!   the first lesion, by day (or simulated time).
//! - `icms` (the `Icms` readout): each mapping day's motor map, the movement each site evokes.
//! - `lfp` (the `Lfp` readout): each region's mean LFP-proxy power spectrum before and after
//!   the first lesion.
//!
//! A figure is drawn into memory and written under a `.partial` name, then renamed, so an
//! interrupted run never leaves half a figure under its real name. The same files give the same
//! bytes: no timestamps, no hash-ordered maps, text in an embedded font (DejaVu Sans).

mod icms;
mod lfp;

use super::table::Table;
use crate::atomic::write_file;
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};

/// The figure font, embedded so that text renders on machines without fonts (see assets/fonts).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// What synaptic weights are measured in (docs/MODEL.md, "Units").
pub const WEIGHT_UNIT: &str = "≈ mV per spike (Izhikevich), pA (LIF)";

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font (checked by the figure tests); a failure would
        // surface as a drawing error naming the missing font.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/// One run's recovery curve: its motor-task probes as (biological day, accuracy), in the order
/// of performance.csv.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// One group's recovery curves (the replicates of one arm): per probe day the mean over the runs
/// that probed that day and its 95 % t interval (the mean itself with one run), and the runs.
#[derive(Clone, Debug)]
pub struct Band {
    pub label: String,
    /// (day, mean, interval low, interval high, runs).
    pub points: Vec<(f64, f64, f64, f64, usize)>,
    pub runs: Vec<Curve>,
}

impl Band {
    pub fn of(label: &str, runs: &[Curve]) -> Band {
        let mut days: Vec<f64> = runs.iter().flat_map(|c| c.points.iter().map(|p| p.0)).collect();
        days.sort_by(f64::total_cmp);
        days.dedup();
        let points = days
            .into_iter()
            .map(|d| {
                let v: Vec<f64> = runs
                    .iter()
                    .filter_map(|c| c.points.iter().find(|p| p.0 == d).map(|p| p.1))
                    .collect();
                match super::groups::describe(&v) {
                    Some(s) => (d, s.mean, s.ci.0.max(0.0), s.ci.1.min(1.0), v.len()),
                    None => (d, v[0], v[0], v[0], 1),
                }
            })
            .collect();
        Band {
            label: label.to_string(),
            points,
            runs: runs.to_vec(),
        }
    }
}

/// The motor-task probes of the run in `dir` (performance.csv rows with phase `probe` and task
/// `motor`), labelled with the folder's name; `None` when the run has no performance.csv (a scene
/// without a protocol) or no motor probe.
pub fn recovery_curve(dir: &Path) -> Result<Option<Curve>> {
    let Some(t) = Table::read_optional(dir, "performance.csv")? else {
        return Ok(None);
    };
    let (phase, task) = (t.strs("phase")?, t.strs("task")?);
    let (day, acc) = (t.f64s("day")?, t.f64s("accuracy")?);
    let points: Vec<(f64, f64)> = (0..t.rows.len())
        .filter(|&i| phase[i] == "probe" && task[i] == "motor")
        .map(|i| (day[i], acc[i]))
        .collect();
    if points.is_empty() {
        return Ok(None);
    }
    Ok(Some(Curve {
        label: run_label(dir),
        points,
    }))
}

pub(crate) fn run_label(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// What summary.json and lesions.csv say about the run as a whole.
struct RunInfo {
    scene: String,
    /// A protocol scene: rows carry whole biological days.
    protocol: bool,
    lesion_days: Vec<f64>,
    pre_lesion: Option<f64>,
}

fn run_info(dir: &Path) -> Result<RunInfo> {
    let summary = super::summary(dir)?;
    let protocol = summary
        .as_ref()
        .and_then(|s| s.get("protocol"))
        .filter(|p| !p.is_null());
    let mut lesion_days: Vec<f64> = protocol
        .and_then(|p| p.get("lesion_days"))
        .and_then(|d| d.as_array())
        .map(|a| a.iter().filter_map(|d| d.as_f64()).collect())
        .unwrap_or_default();
    if lesion_days.is_empty()
        && let Some(t) = Table::read_optional(dir, "lesions.csv")?
    {
        lesion_days = t.f64s("day")?;
    }
    lesion_days.retain(|d| d.is_finite());
    lesion_days.sort_by(f64::total_cmp);
    lesion_days.dedup();
    Ok(RunInfo {
        scene: summary
            .as_ref()
            .and_then(|s| s.get("scene"))
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| run_label(dir)),
        protocol: protocol.is_some() || dir.join("performance.csv").exists(),
        lesion_days,
        pre_lesion: protocol.and_then(|p| p.get("pre_lesion")).and_then(|v| v.as_f64()),
    })
}

/// One sample of a run's time series (all the rows sharing one `step`), as compared by the
/// connectivity and weight figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Moment {
    /// "before lesion", "after lesion", "end"; without a lesion "first sample", "last sample".
    pub name: String,
    pub step: u64,
    pub day: f64,
    pub t_ms: f64,
}

/// Picks the samples to compare among `samples` (step, day, t_ms; in time order): with a lesion
/// on `lesion_day`, the last sample before that day ("before lesion"; the first sample when none
/// is earlier, "first sample"), the first on or after it ("after lesion", when there is one) and
/// the last ("end"); without a lesion, the first ("first sample") and the last ("last sample").
/// The first moment is the baseline that differences are taken from.
pub fn select_moments(samples: &[(u64, f64, f64)], lesion_day: Option<f64>) -> Vec<Moment> {
    let Some(&last) = samples.last() else {
        return Vec::new();
    };
    let m = |name: &str, s: (u64, f64, f64)| Moment {
        name: name.to_string(),
        step: s.0,
        day: s.1,
        t_ms: s.2,
    };
    let mut out = Vec::new();
    match lesion_day {
        Some(l) => {
            match samples.iter().rposition(|s| s.1 < l) {
                Some(i) => out.push(m("before lesion", samples[i])),
                None => out.push(m("first sample", samples[0])),
            }
            if let Some(s) = samples.iter().find(|s| s.1 >= l) {
                out.push(m("after lesion", *s));
            }
        }
        None => out.push(m("first sample", samples[0])),
    }
    out.push(m(if lesion_day.is_some() { "end" } else { "last sample" }, last));
    out
}

/// For each of `days`, the last of `samples` (step, day, t_ms; in time order) on or before it,
/// named "chosen"; an error names a day before the first sample.
pub fn moments_on_days(samples: &[(u64, f64, f64)], days: &[f64]) -> std::result::Result<Vec<Moment>, String> {
    days.iter()
        .map(|&d| {
            let s = samples.iter().rev().find(|s| s.1 <= d).ok_or_else(|| {
                let first = samples.first().map_or(f64::NAN, |s| s.1);
                format!("no sample on or before day {d} (the first is on day {first})")
            })?;
            Ok(Moment {
                name: "chosen".to_string(),
                step: s.0,
                day: s.1,
                t_ms: s.2,
            })
        })
        .collect()
}

/// The distinct samples (step, day, t_ms) of a table with those columns, in row order.
fn samples_of(t: &Table) -> Result<Vec<(u64, f64, f64)>> {
    let (step, day, t_ms) = (t.f64s("step")?, t.f64s("day")?, t.f64s("t_ms")?);
    let mut out: Vec<(u64, f64, f64)> = Vec::new();
    for i in 0..t.rows.len() {
        let s = step[i] as u64;
        if out.last().is_none_or(|l| l.0 != s) {
            out.push((s, day[i], t_ms[i]));
        }
    }
    Ok(out)
}

/// The region x region summed weights of a run at the moments of [`select_moments`].
#[derive(Clone, Debug)]
pub struct Connectivity {
    /// Regions in the order they first appear in connectivity.csv.
    pub regions: Vec<String>,
    pub moments: Vec<Moment>,
    /// For each moment, `weight_sum[source][target]` (NaN where the file has no row).
    pub weight_sum: Vec<Vec<Vec<f64>>>,
    /// The last moment minus the first (a missing row counts as 0; NaN where both are missing).
    pub difference: Vec<Vec<f64>>,
}

/// Reads connectivity.csv of the run in `dir` (None when absent or empty) at the moments the
/// connectivity figure shows.
pub fn connectivity(dir: &Path) -> Result<Option<Connectivity>> {
    let Some(t) = Table::read_optional(dir, "connectivity.csv")? else {
        return Ok(None);
    };
    if t.rows.is_empty() {
        return Ok(None);
    }
    let info = run_info(dir)?;
    let moments = select_moments(&samples_of(&t)?, info.lesion_days.first().copied());
    let (src, dst) = (t.strs("source")?, t.strs("target")?);
    let (step, w) = (t.f64s("step")?, t.f64s("weight_sum")?);
    let mut regions: Vec<String> = Vec::new();
    for r in src.iter().chain(dst.iter()) {
        if !regions.iter().any(|x| x == r) {
            regions.push(r.to_string());
        }
    }
    let idx = |r: &str| regions.iter().position(|x| x == r).unwrap_or(0);
    let n = regions.len();
    let mut weight_sum = vec![vec![vec![f64::NAN; n]; n]; moments.len()];
    for i in 0..t.rows.len() {
        for (k, m) in moments.iter().enumerate() {
            if step[i] as u64 == m.step {
                weight_sum[k][idx(src[i])][idx(dst[i])] = w[i];
            }
        }
    }
    let (first, last) = (&weight_sum[0], &weight_sum[moments.len() - 1]);
    let difference = (0..n)
        .map(|a| {
            (0..n)
                .map(|b| {
                    let (x, y) = (first[a][b], last[a][b]);
                    if x.is_nan() && y.is_nan() {
                        f64::NAN
                    } else {
                        (if y.is_nan() { 0.0 } else { y }) - (if x.is_nan() { 0.0 } else { x })
                    }
                })
                .collect()
        })
        .collect();
    Ok(Some(Connectivity {
        regions,
        moments,
        weight_sum,
        difference,
    }))
}

// ---------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------

/// Choices a user makes about a run's figures.
#[derive(Clone, Debug, Default)]
pub struct PlotOptions {
    /// Biological days at which to show the weight distributions (each the last sample on or
    /// before the day); empty: the moments of the connectivity figure.
    pub weight_days: Vec<f64>,
}

/// Draws every figure that the files in `dir` allow (see the module documentation) and returns
/// the paths written, PNG then SVG for each figure.
pub fn draw_run(dir: &Path) -> Result<Vec<PathBuf>> {
    draw_run_with(dir, &PlotOptions::default())
}

/// [`draw_run`] with choices.
pub fn draw_run_with(dir: &Path, options: &PlotOptions) -> Result<Vec<PathBuf>> {
    let info = run_info(dir)?;
    let mut written = Vec::new();
    if let Some(curve) = recovery_curve(dir)? {
        let sessions = training_days(dir)?;
        let fig = Recovery {
            title: format!("{}: recovery of the motor task", info.scene),
            curves: vec![curve],
            bands: Vec::new(),
            sessions,
            lesion_days: info.lesion_days.clone(),
            pre_lesion: info.pre_lesion,
        };
        written.extend(save(dir, "recovery", &fig)?);
    }
    if let Some(c) = connectivity(dir)? {
        let fig = ConnectivityFigure {
            title: format!("{}: summed synaptic weight between regions", info.scene),
            c,
            protocol: info.protocol,
        };
        written.extend(save(dir, "connectivity", &fig)?);
    }
    if let Some(fig) = turnover(dir, &info)? {
        written.extend(save(dir, "turnover", &fig)?);
    }
    if let Some(fig) = activation(dir, &info)? {
        written.extend(save(dir, "activation", &fig)?);
    }
    if let Some(fig) = weights(dir, &info, &options.weight_days)? {
        written.extend(save(dir, "weights", &fig)?);
    }
    if let Some(fig) = tracts(dir, &info)? {
        written.extend(save(dir, "tracts", &fig)?);
    }
    if let Some(fig) = bold(dir, &info)? {
        written.extend(save(dir, "bold", &fig)?);
    }
    if let Some(fig) = spine_survival(dir, &info)? {
        written.extend(save(dir, "spine_survival", &fig)?);
    }
    if let Some(fig) = icms::icms(dir, &info)? {
        written.extend(save(dir, "icms", &fig)?);
    }
    if let Some(fig) = lfp::lfp(dir, &info)? {
        written.extend(save(dir, "lfp", &fig)?);
    }
    Ok(written)
}

/// Overlays the recovery curves of several runs in `out_dir/comparison.png` and `.svg`, one colour
/// per run, with the lesion day(s) marked; returns the paths written.
pub fn draw_comparison(curves: &[Curve], lesion_days: &[i32], out_dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let fig = Recovery {
        title: "recovery of the motor task, compared".into(),
        curves: curves.to_vec(),
        bands: Vec::new(),
        sessions: Vec::new(),
        lesion_days: lesion_days.iter().map(|&d| d as f64).collect(),
        pre_lesion: None,
    };
    save(out_dir, "comparison", &fig)
}

/// Draws `comparison.png` / `.svg` in `out_dir` for groups of runs: each group's mean motor
/// recovery curve with its 95 % interval shaded and the group's runs faint behind it.
pub fn draw_group_comparison(bands: &[Band], lesion_days: &[i32], out_dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let fig = Recovery {
        title: "recovery of the motor task, groups (mean, 95 % CI)".into(),
        curves: Vec::new(),
        bands: bands.to_vec(),
        sessions: Vec::new(),
        lesion_days: lesion_days.iter().map(|&d| d as f64).collect(),
        pre_lesion: None,
    };
    save(out_dir, "comparison", &fig)
}

/// One factor of a sensitivity screening: its label and each level's effect against the baseline
/// as (effect, interval low, interval high).
#[derive(Clone, Debug)]
pub struct TornadoBar {
    pub label: String,
    pub low: (f64, f64, f64),
    pub high: (f64, f64, f64),
}

/// Draws `tornado_METRIC.png` / `.svg` in `out_dir`: per factor (largest swing first, at the
/// top) a bar from 0 to the low level's effect and one to the high level's, each with its 95 %
/// interval.
pub fn draw_tornado(bars: &[TornadoBar], metric: &str, baseline: f64, out_dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let fig = Tornado {
        title: format!("sensitivity of {metric} (one factor at a time, mean and 95 % CI)"),
        metric: metric.to_string(),
        baseline,
        bars: bars.to_vec(),
    };
    save(out_dir, &format!("tornado_{metric}"), &fig)
}

struct Tornado {
    title: String,
    metric: String,
    baseline: f64,
    bars: Vec<TornadoBar>,
}

impl Figure for Tornado {
    fn size(&self) -> (u32, u32) {
        (900, 160 + 90 * self.bars.len().max(1) as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (plot, side) = root.split_horizontally(720);
        let values = self
            .bars
            .iter()
            .flat_map(|b| [b.low.0, b.low.1, b.low.2, b.high.0, b.high.1, b.high.2])
            .chain([0.0])
            .filter(|x| x.is_finite());
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        let pad = ((hi - lo) * 0.08).max(1e-6);
        let (x, xfmt) = axis(lo - pad, hi + pad, 8);
        let n = self.bars.len() as f64;
        let mut chart = ChartBuilder::on(&plot)
            .caption(&self.title, font(16.0))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(10)
            .build_cartesian_2d(x, -0.5f64..(n - 0.5).max(0.5))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_label_formatter(&xfmt)
            .x_desc(format!(
                "effect on {} (level - baseline {:.3})",
                self.metric, self.baseline
            ))
            .label_style(font(13.0))
            .axis_desc_style(font(15.0))
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        chart.draw_series(LineSeries::new(
            vec![(0.0, -0.5), (0.0, n - 0.5)],
            BLACK.stroke_width(1),
        ))?;
        let (low_c, high_c) = (PALETTE[0], PALETTE[1]);
        for (i, b) in self.bars.iter().enumerate() {
            // The largest swing at the top.
            let k = n - 1.0 - i as f64;
            chart.draw_series(std::iter::once(Text::new(
                b.label.clone(),
                (lo - pad * 0.8, k + 0.38),
                font(13.0),
            )))?;
            for (v, y, c) in [(b.low, k + 0.12, low_c), (b.high, k - 0.18, high_c)] {
                if !v.0.is_finite() {
                    continue;
                }
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0f64.min(v.0), y - 0.1), (0.0f64.max(v.0), y + 0.1)],
                    c.mix(0.7).filled(),
                )))?;
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(v.1, y), (v.2, y)],
                    BLACK.stroke_width(2),
                )))?;
                for end in [v.1, v.2] {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(end, y - 0.05), (end, y + 0.05)],
                        BLACK.stroke_width(2),
                    )))?;
                }
            }
        }
        legend(
            &side,
            60,
            &[
                (Icon::Block(low_c.mix(0.7)), "low value".into()),
                (Icon::Block(high_c.mix(0.7)), "high value".into()),
                (Icon::Line(BLACK), "95 % CI".into()),
            ],
        )
    }
}

/// A figure that can be drawn on any plotters backend.
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Draws `fig` as `dir/NAME.png` and `dir/NAME.svg` (each written whole, then renamed).
fn save(dir: &Path, name: &str, fig: &impl Figure) -> Result<Vec<PathBuf>> {
    register_font();
    let (w, h) = fig.size();
    let png_path = dir.join(format!("{name}.png"));
    let svg_path = dir.join(format!("{name}.svg"));
    let failed = |path: &Path, e: Box<dyn std::error::Error>| Error::data(path, format!("drawing the figure: {e}"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(&svg_path, e.into()))?;
        fig.draw(&root).map_err(|e| failed(&svg_path, e))?;
        root.present().map_err(|e| failed(&svg_path, e.into()))?;
    }
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(&png_path, e.into()))?;
        fig.draw(&root).map_err(|e| failed(&png_path, e))?;
        root.present().map_err(|e| failed(&png_path, e.into()))?;
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let io = |e: png::EncodingError| Error::io(&png_path, std::io::Error::other(e));
        let mut wr = enc.write_header().map_err(io)?;
        wr.write_image_data(&rgb).map_err(io)?;
        wr.finish().map_err(io)?;
    }
    write_file(&png_path, &png, false)?;
    write_file(&svg_path, svg.as_bytes(), false)?;
    Ok(vec![png_path, svg_path])
}

// --- colours, numbers, legends ---

/// Ten distinct colours (matplotlib's "tab10").
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const LESION: RGBColor = RGBColor(0, 0, 0);
const NO_DATA: RGBColor = RGBColor(225, 225, 225);

fn mix(a: (f64, f64, f64), b: (f64, f64, f64), t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let c = |x: f64, y: f64| (x + (y - x) * t).round().clamp(0.0, 255.0) as u8;
    RGBColor(c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
}

/// Viridis, from dark purple (0) to yellow (1).
fn sequential(t: f64) -> RGBColor {
    const V: [(f64, f64, f64); 9] = [
        (68., 1., 84.),
        (71., 45., 123.),
        (59., 82., 139.),
        (44., 114., 142.),
        (33., 145., 140.),
        (40., 174., 128.),
        (94., 201., 98.),
        (173., 220., 48.),
        (253., 231., 37.),
    ];
    let x = if t.is_finite() { t.clamp(0.0, 1.0) * 8.0 } else { 0.0 };
    let i = (x.floor() as usize).min(7);
    mix(V[i], V[i + 1], x - i as f64)
}

/// Blue (-1) through white (0) to red (+1).
fn diverging(t: f64) -> RGBColor {
    const WHITE3: (f64, f64, f64) = (247., 247., 247.);
    if t < 0.0 {
        mix(WHITE3, (33., 102., 172.), -t)
    } else {
        mix(WHITE3, (178., 24., 43.), t)
    }
}

/// A colour scale: sequential from `lo` to `hi`, or diverging, symmetric about 0 (`-m..m`).
#[derive(Clone, Copy)]
enum Scale {
    Sequential(f64, f64),
    Diverging(f64),
}

impl Scale {
    fn of(values: impl Iterator<Item = f64>, diverging: bool) -> Scale {
        let finite = values.filter(|v| v.is_finite());
        if diverging {
            let m = finite.fold(0.0f64, |m, v| m.max(v.abs()));
            Scale::Diverging(if m > 0.0 { m } else { 1.0 })
        } else {
            let hi = finite.fold(0.0f64, f64::max);
            Scale::Sequential(0.0, if hi > 0.0 { hi } else { 1.0 })
        }
    }
    fn range(self) -> (f64, f64) {
        match self {
            Scale::Sequential(lo, hi) => (lo, hi),
            Scale::Diverging(m) => (-m, m),
        }
    }
    fn colour(self, v: f64) -> RGBColor {
        if !v.is_finite() {
            return NO_DATA;
        }
        match self {
            Scale::Sequential(lo, hi) => sequential((v - lo) / (hi - lo)),
            Scale::Diverging(m) => diverging(v / m),
        }
    }
}

/// A number in at most 4 significant digits, the same text for the same value.
fn num(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() {
        "–".into()
    } else if a < 1e-12 {
        "0".into()
    } else if !(1e-2..1e5).contains(&a) {
        format!("{x:.1e}")
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// A day, whole when it is.
fn day_text(d: f64) -> String {
    if (d - d.round()).abs() < 1e-9 {
        format!("{}", d.round() as i64)
    } else {
        format!("{d:.1}")
    }
}

/// About `n` round tick values (1, 2 or 5 x 10^k apart) covering `lo..hi`.
fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A linear axis from `lo` to `hi` with ticks (and labels) exactly at `ticks`, no minor lines.
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

fn ticked(range: std::ops::Range<f64>, ticks: Vec<f64>) -> Ticked {
    Ticked {
        lo: range.start,
        hi: range.end,
        ticks,
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        // As plotters maps its own f64 axes.
        let t = (v - self.lo) / (self.hi - self.lo);
        let len = (limit.1 - limit.0) as f64;
        if !t.is_finite() {
            return (limit.0 + limit.1) / 2;
        }
        if len >= 0.0 {
            limit.0 + (len * t + 1e-3).floor() as i32
        } else {
            limit.0 + (len * t - 1e-3).ceil() as i32
        }
    }
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// A tick value in as many decimals as the tick spacing `step` needs.
fn tick_text(v: f64, step: f64) -> String {
    if v.abs() < step.abs() * 1e-6 {
        return "0".into();
    }
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10() - 1e-9).ceil().max(0.0) as usize
    };
    format!("{v:.decimals$}")
}

/// A linear axis over `lo..hi` with about `n` round ticks, and the text of its ticks.
fn axis(lo: f64, hi: f64, n: usize) -> (Ticked, impl Fn(&f64) -> String) {
    let ticks = nice_ticks(lo, hi, n);
    let step = if ticks.len() > 1 { ticks[1] - ticks[0] } else { 1.0 };
    (ticked(lo..hi, ticks), move |v: &f64| tick_text(*v, step))
}

enum Icon {
    Line(RGBColor),
    Dashed(RGBColor),
    Block(RGBAColor),
    /// A line with a square on it (circles are kept for data points).
    LineMarker(RGBColor),
}

/// A column of legend entries drawn from the top left of `area`.
fn legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, top: i32, entries: &[(Icon, String)]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let style = font(14.0).pos(Pos::new(HPos::Left, VPos::Center));
    for (k, (icon, text)) in entries.iter().enumerate() {
        let y = top + 24 * k as i32;
        let (x0, x1) = (8, 36);
        match icon {
            Icon::Line(c) => area.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(2)))?,
            Icon::Dashed(c) => {
                for s in [x0, x0 + 11, x0 + 22] {
                    area.draw(&PathElement::new(vec![(s, y), (s + 6, y)], c.stroke_width(2)))?;
                }
            }
            Icon::Block(c) => area.draw(&Rectangle::new([(x0, y - 7), (x1, y + 7)], c.filled()))?,
            Icon::LineMarker(c) => {
                area.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(2)))?;
                area.draw(&Rectangle::new([(19, y - 3), (25, y + 3)], c.filled()))?;
            }
        }
        area.draw(&Text::new(text.clone(), (x1 + 8, y), style.clone()))?;
    }
    Ok(())
}

/// A vertical colour bar for `scale` with numbered ticks and `label` (the unit).
fn colour_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, scale: Scale, label: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (lo, hi) = scale.range();
    let (y, fmt) = axis(lo, hi, 5);
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(45)
        .margin_left(4)
        .right_y_label_area_size(86)
        .build_cartesian_2d(0f64..1f64, y)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_label_formatter(&fmt)
        .y_desc(label)
        .label_style(font(12.0))
        .axis_desc_style(font(13.0))
        .draw()?;
    let n = 64;
    chart.draw_series((0..n).map(|k| {
        let a = lo + (hi - lo) * k as f64 / n as f64;
        let b = lo + (hi - lo) * (k + 1) as f64 / n as f64;
        Rectangle::new([(0.0, a), (1.0, b)], scale.colour((a + b) / 2.0).filled())
    }))?;
    chart.draw_series(std::iter::once(Rectangle::new(
        [(0.0, lo), (1.0, hi)],
        BLACK.stroke_width(1),
    )))?;
    Ok(())
}

/// A heatmap: rows (top to bottom) x columns spanning `x_edges`, with a colour bar at the right.
struct Heatmap {
    title: String,
    rows: Vec<String>,
    /// ncols + 1 column edges on the x axis.
    x_edges: Vec<f64>,
    /// Tick positions and texts on x (categorical columns: their centres and names).
    x_ticks: Vec<(f64, String)>,
    x_desc: String,
    y_desc: String,
    /// values[row][col]
    values: Vec<Vec<f64>>,
    scale: Scale,
    unit: String,
    /// Write each cell's value in it.
    annotate: bool,
    /// Vertical lines (x, text), e.g. the lesion day.
    marks: Vec<(f64, String)>,
}

fn heatmap<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, h: &Heatmap) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let area = area.margin(0, 0, 0, 14);
    let (w, _) = area.dim_in_pixel();
    let (plot, bar) = area.split_horizontally(w.saturating_sub(122));
    let n = h.rows.len();
    let (x0, x1) = (h.x_edges[0], h.x_edges[h.x_edges.len() - 1]);
    let label_w = h.rows.iter().map(|r| r.chars().count()).max().unwrap_or(1) as u32 * 8 + 24;
    // Many rows or columns (a whole-cortex scene's 76 regions): label every k-th so that labels
    // do not overlap (about 16 px per row label, 8 px per character plus a gap per column label).
    let (pw, ph) = plot.dim_in_pixel();
    let ky = (16 * n).div_ceil(ph.saturating_sub(100).max(1) as usize).max(1);
    let chars = h.x_ticks.iter().map(|t| t.1.chars().count()).max().unwrap_or(1);
    let kx = ((chars * 8 + 10) * h.x_ticks.len()).div_ceil(pw.saturating_sub(label_w + 40).max(1) as usize);
    let xt: Vec<f64> = h.x_ticks.iter().step_by(kx.max(1)).map(|t| t.0).collect();
    let yt: Vec<f64> = (0..n).step_by(ky).map(|r| (n - r) as f64 - 0.5).collect();
    let mut chart = ChartBuilder::on(&plot)
        .caption(&h.title, font(16.0))
        .margin(8)
        .x_label_area_size(48)
        .y_label_area_size(label_w.max(60))
        .build_cartesian_2d(ticked(x0..x1, xt), ticked(0f64..n as f64, yt))?;
    let xfmt = |v: &f64| {
        h.x_ticks
            .iter()
            .find(|t| (t.0 - v).abs() < 1e-9)
            .map(|t| t.1.clone())
            .unwrap_or_default()
    };
    let yfmt = |v: &f64| {
        let r = n as i64 - 1 - v.floor() as i64;
        h.rows.get(r as usize).cloned().unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .x_desc(h.x_desc.as_str())
        .y_desc(h.y_desc.as_str())
        .label_style(font(13.0))
        .axis_desc_style(font(14.0))
        .draw()?;
    for (r, row) in h.values.iter().enumerate() {
        let (ya, yb) = ((n - r - 1) as f64, (n - r) as f64);
        chart.draw_series(
            row.iter().enumerate().map(|(c, &v)| {
                Rectangle::new([(h.x_edges[c], ya), (h.x_edges[c + 1], yb)], h.scale.colour(v).filled())
            }),
        )?;
        if h.annotate {
            chart.draw_series(row.iter().enumerate().map(|(c, &v)| {
                let RGBColor(cr, cg, cb) = h.scale.colour(v);
                let dark = (0.299 * cr as f64 + 0.587 * cg as f64 + 0.114 * cb as f64) < 128.0;
                let style = font(13.0)
                    .color(if dark { &WHITE } else { &BLACK })
                    .pos(Pos::new(HPos::Center, VPos::Center));
                Text::new(
                    num(v),
                    ((h.x_edges[c] + h.x_edges[c + 1]) / 2.0, (ya + yb) / 2.0),
                    style,
                )
            }))?;
        }
    }
    for (x, text) in &h.marks {
        chart.draw_series(LineSeries::new(vec![(*x, 0.0), (*x, n as f64)], LESION.stroke_width(2)))?;
        let style = font(12.0).color(&LESION).pos(Pos::new(HPos::Left, VPos::Top));
        chart.draw_series(std::iter::once(Text::new(text.clone(), (*x, n as f64), style)))?;
    }
    colour_bar(&bar, h.scale, &h.unit)
}

/// Titles the figure in a strip `height` pixels high and returns the area below it.
fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    note: &str,
    height: u32,
) -> std::result::Result<DrawingArea<DB, Shift>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let (top, rest) = root.split_vertically(height);
    let (w, _) = top.dim_in_pixel();
    let centre = Pos::new(HPos::Center, VPos::Top);
    top.draw(&Text::new(title.to_string(), (w as i32 / 2, 8), font(20.0).pos(centre)))?;
    if !note.is_empty() {
        let style = font(13.0).color(&RGBColor(70, 70, 70)).pos(centre);
        top.draw(&Text::new(note.to_string(), (w as i32 / 2, 34), style))?;
    }
    Ok(rest)
}

// --- (a) recovery, and comparisons ---

#[derive(Clone, Copy, PartialEq, Eq)]
enum Session {
    Train,
    Rehab,
    Booster,
}

impl Session {
    fn colour(self) -> RGBAColor {
        match self {
            Session::Train => RGBColor(70, 130, 180).mix(0.20),
            Session::Rehab => RGBColor(44, 160, 44).mix(0.25),
            Session::Booster => RGBColor(148, 103, 189).mix(0.30),
        }
    }
    fn text(self) -> &'static str {
        match self {
            Session::Train => "training day",
            Session::Rehab => "rehabilitation day",
            Session::Booster => "booster day",
        }
    }
}

/// The days with training sessions (performance.csv rows of phase train, rehab or booster), each
/// once, in day order.
fn training_days(dir: &Path) -> Result<Vec<(f64, Session)>> {
    let Some(t) = Table::read_optional(dir, "performance.csv")? else {
        return Ok(Vec::new());
    };
    let (phase, day) = (t.strs("phase")?, t.f64s("day")?);
    let mut out: Vec<(f64, Session)> = Vec::new();
    for (p, &d) in phase.iter().zip(&day) {
        let s = match *p {
            "train" => Session::Train,
            "rehab" => Session::Rehab,
            "booster" => Session::Booster,
            _ => continue,
        };
        if !out.contains(&(d, s)) {
            out.push((d, s));
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(out)
}

struct Recovery {
    title: String,
    curves: Vec<Curve>,
    /// Groups of runs: each group's mean curve over a shaded 95 % interval, its runs faint.
    bands: Vec<Band>,
    sessions: Vec<(f64, Session)>,
    lesion_days: Vec<f64>,
    pre_lesion: Option<f64>,
}

impl Recovery {
    /// The legend column's width: room for the longest run name (cut at 60 characters).
    fn side(&self) -> u32 {
        let longest = self
            .curves
            .iter()
            .map(|c| c.label.chars().count().min(60))
            .chain(self.bands.iter().map(|b| b.label.chars().count().min(60) + 8))
            .max()
            .unwrap_or(0);
        if self.curves.len() + self.bands.len() > 1 {
            (60 + 8 * longest as u32).max(210)
        } else {
            210
        }
    }
}

impl Figure for Recovery {
    fn size(&self) -> (u32, u32) {
        (690 + self.side(), 600)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (plot, side) = root.split_horizontally(690);
        let xs = self
            .curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.0))
            .chain(self.bands.iter().flat_map(|b| b.points.iter().map(|p| p.0)))
            .chain(self.sessions.iter().map(|s| s.0))
            .chain(self.lesion_days.iter().copied())
            .filter(|x| x.is_finite());
        let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        let (lo, hi) = if lo.is_finite() {
            (lo - 1.0, hi + 1.0)
        } else {
            (-1.0, 1.0)
        };
        let x_desc = if self.lesion_days.first() == Some(&0.0) {
            "biological day (0 = lesion)"
        } else {
            "biological day"
        };
        let yt: Vec<f64> = (0..=10).map(|k| k as f64 / 10.0).collect();
        let (x, xfmt) = axis(lo, hi, 10);
        let mut chart = ChartBuilder::on(&plot)
            .caption(&self.title, font(18.0))
            .margin(12)
            .margin_top(16)
            .x_label_area_size(50)
            .y_label_area_size(64)
            .build_cartesian_2d(x, ticked(0f64..1f64, yt))?;
        chart
            .configure_mesh()
            .x_label_formatter(&xfmt)
            .y_label_formatter(&|v| format!("{v:.1}"))
            .x_desc(x_desc)
            .y_desc("motor task accuracy (fraction correct)")
            .label_style(font(13.0))
            .axis_desc_style(font(15.0))
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        let mut entries: Vec<(Icon, String)> = Vec::new();
        // Training days as shaded spans, consecutive days of one kind merged.
        let mut spans: Vec<(f64, f64, Session)> = Vec::new();
        for &(d, s) in &self.sessions {
            match spans.last_mut() {
                Some(last) if last.2 == s && (d - last.1 - 0.5).abs() < 1e-9 => last.1 = d + 0.5,
                _ => spans.push((d - 0.5, d + 0.5, s)),
            }
        }
        chart.draw_series(
            spans
                .iter()
                .map(|&(a, b, s)| Rectangle::new([(a.max(lo), 0.0), (b.min(hi), 1.0)], s.colour().filled())),
        )?;
        for s in [Session::Train, Session::Rehab, Session::Booster] {
            if spans.iter().any(|x| x.2 == s) {
                entries.push((Icon::Block(s.colour()), s.text().into()));
            }
        }
        for &l in &self.lesion_days {
            chart.draw_series(LineSeries::new(vec![(l, 0.0), (l, 1.0)], LESION.stroke_width(2)))?;
        }
        if !self.lesion_days.is_empty() {
            let days: Vec<String> = self.lesion_days.iter().map(|d| day_text(*d)).collect();
            let s = if days.len() > 1 { "s" } else { "" };
            entries.push((Icon::Line(LESION), format!("lesion (day{s} {})", days.join(", "))));
        }
        if let Some(p) = self.pre_lesion {
            let grey = RGBColor(90, 90, 90);
            chart.draw_series(DashedLineSeries::new(
                vec![(lo, p), (hi, p)],
                8,
                6,
                grey.stroke_width(2),
            ))?;
            entries.push((Icon::Dashed(grey), format!("pre-lesion level {p:.2}")));
        }
        for (k, b) in self.bands.iter().enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            for run in &b.runs {
                chart.draw_series(LineSeries::new(
                    run.points.iter().copied(),
                    colour.mix(0.25).stroke_width(1),
                ))?;
            }
            let mut outline: Vec<(f64, f64)> = b.points.iter().map(|p| (p.0, p.3)).collect();
            outline.extend(b.points.iter().rev().map(|p| (p.0, p.2)));
            chart.draw_series(std::iter::once(Polygon::new(outline, colour.mix(0.2).filled())))?;
            let mean: Vec<(f64, f64)> = b.points.iter().map(|p| (p.0, p.1)).collect();
            chart.draw_series(LineSeries::new(mean.iter().copied(), colour.stroke_width(2)))?;
            chart.draw_series(mean.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
            let text = if b.label.chars().count() > 60 {
                format!("{}…", b.label.chars().take(59).collect::<String>())
            } else {
                b.label.clone()
            };
            entries.insert(k, (Icon::LineMarker(colour), format!("{text} (n = {})", b.runs.len())));
        }
        let single = self.curves.len() == 1 && self.bands.is_empty();
        for (k, c) in self.curves.iter().enumerate() {
            let colour = if single { PALETTE[0] } else { PALETTE[k % PALETTE.len()] };
            chart.draw_series(LineSeries::new(c.points.iter().copied(), colour.stroke_width(2)))?;
            chart.draw_series(c.points.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
            // Long run names are cut to fit the legend column.
            let text = if single {
                "motor probe accuracy".to_string()
            } else if c.label.chars().count() > 60 {
                format!("{}…", c.label.chars().take(59).collect::<String>())
            } else {
                c.label.clone()
            };
            entries.insert(k, (Icon::LineMarker(colour), text));
        }
        legend(&side, 60, &entries)
    }
}

// --- (b) connectivity ---

struct ConnectivityFigure {
    title: String,
    c: Connectivity,
    protocol: bool,
}

fn moment_text(m: &Moment, protocol: bool) -> String {
    if protocol {
        format!("{}, day {}", m.name, day_text(m.day))
    } else {
        format!("{}, t = {} s", m.name, num(m.t_ms / 1000.0))
    }
}

impl Figure for ConnectivityFigure {
    fn size(&self) -> (u32, u32) {
        let cols = if self.c.moments.len() + 1 > 4 { 3 } else { 2 };
        (560 * cols, 860)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let c = &self.c;
        let note = format!(
            "rows: source region, columns: target region; weight = sum of the synapses' weights ({WEIGHT_UNIT}); \
             inhibitory weights count negative"
        );
        let body = titled(root, &self.title, &note, 60)?;
        let cols = if c.moments.len() + 1 > 4 { 3 } else { 2 };
        let panels = body.split_evenly((2, cols));
        let n = c.regions.len();
        let ticks: Vec<(f64, String)> = c
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| (i as f64 + 0.5, r.clone()))
            .collect();
        let edges: Vec<f64> = (0..=n).map(|i| i as f64).collect();
        let shared = Scale::of(c.weight_sum.iter().flatten().flatten().copied(), true);
        let annotate = n <= 8;
        for (k, m) in c.moments.iter().enumerate() {
            let h = Heatmap {
                title: moment_text(m, self.protocol),
                rows: c.regions.clone(),
                x_edges: edges.clone(),
                x_ticks: ticks.clone(),
                x_desc: "target region".into(),
                y_desc: "source region".into(),
                values: c.weight_sum[k].clone(),
                scale: shared,
                unit: "summed weight (≈ mV/spike)".into(),
                annotate,
                marks: Vec::new(),
            };
            heatmap(&panels[k], &h)?;
        }
        let (first, last) = (&c.moments[0], &c.moments[c.moments.len() - 1]);
        let title = if self.protocol {
            format!("change: day {} minus day {}", day_text(last.day), day_text(first.day))
        } else {
            format!(
                "change: {} s minus {} s",
                num(last.t_ms / 1000.0),
                num(first.t_ms / 1000.0)
            )
        };
        let h = Heatmap {
            title,
            rows: c.regions.clone(),
            x_edges: edges,
            x_ticks: ticks,
            x_desc: "target region".into(),
            y_desc: "source region".into(),
            values: c.difference.clone(),
            scale: Scale::of(c.difference.iter().flatten().copied(), true),
            unit: "change (≈ mV/spike)".into(),
            annotate,
            marks: Vec::new(),
        };
        heatmap(&panels[c.moments.len()], &h)
    }
}

// --- (c) turnover ---

struct Turnover {
    title: String,
    /// Bin texts, nearest first.
    bins: Vec<String>,
    /// (day, formed per bin, eliminated per bin), in day order.
    days: Vec<(f64, Vec<f64>, Vec<f64>)>,
    lesion_days: Vec<f64>,
    y_unit: String,
}

fn turnover(dir: &Path, info: &RunInfo) -> Result<Option<Turnover>> {
    let Some(t) = Table::read_optional(dir, "turnover_by_distance.csv")? else {
        return Ok(None);
    };
    if t.rows.is_empty() {
        return Ok(None);
    }
    let (day, lo, hi) = (t.f64s("structural_day")?, t.f64s("bin_lo_mm")?, t.strs("bin_hi_mm")?);
    let lo_text = t.strs("bin_lo_mm")?;
    let (formed, elim) = (t.f64s("formed")?, t.f64s("eliminated")?);
    let mut bins: Vec<(f64, String)> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for i in 0..t.rows.len() {
        if !bins.iter().any(|b| b.0 == lo[i] && b.1 == hi[i]) {
            bins.push((lo[i], hi[i].to_string()));
            texts.push(if hi[i] == "inf" {
                format!("≥ {} mm", lo_text[i])
            } else {
                format!("{}–{} mm", lo_text[i], hi[i])
            });
        }
    }
    // Nearest first (the file lists them so already).
    let mut order: Vec<usize> = (0..bins.len()).collect();
    order.sort_by(|&a, &b| bins[a].0.total_cmp(&bins[b].0));
    let bins: Vec<(f64, String)> = order.iter().map(|&k| bins[k].clone()).collect();
    let texts: Vec<String> = order.iter().map(|&k| texts[k].clone()).collect();
    let mut days: Vec<(f64, Vec<f64>, Vec<f64>)> = Vec::new();
    for i in 0..t.rows.len() {
        // A protocol's rows carry whole days: sum each day's samples.
        let d = day[i];
        let k = match days.iter().position(|x| x.0 == d) {
            Some(k) => k,
            None => {
                days.push((d, vec![0.0; bins.len()], vec![0.0; bins.len()]));
                days.len() - 1
            }
        };
        let b = bins.iter().position(|b| b.0 == lo[i] && b.1 == hi[i]).unwrap_or(0);
        days[k].1[b] += formed[i];
        days[k].2[b] += elim[i];
    }
    days.sort_by(|a, b| a.0.total_cmp(&b.0));
    let y_unit = if info.protocol {
        "spines per day".to_string()
    } else {
        let step = if days.len() > 1 {
            (days[days.len() - 1].0 - days[0].0) / (days.len() - 1) as f64
        } else {
            0.0
        };
        format!("spines per sample ({} days)", num(step))
    };
    let centre = if info.protocol {
        "the lesion centre"
    } else {
        "the scene's turnover centre"
    };
    Ok(Some(Turnover {
        title: format!("{}: spine turnover by distance from {centre}", info.scene),
        bins: texts,
        days,
        lesion_days: info.lesion_days.clone(),
        y_unit,
    }))
}

impl Figure for Turnover {
    fn size(&self) -> (u32, u32) {
        (900, 700)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(root, &self.title, "", 40)?;
        let (plots, side) = body.split_horizontally(730);
        let halves = plots.split_evenly((2, 1));
        let lo = self
            .days
            .first()
            .map(|d| d.0)
            .unwrap_or(0.0)
            .min(self.lesion_days.first().copied().unwrap_or(f64::INFINITY));
        let hi = self.days.last().map(|d| d.0).unwrap_or(1.0);
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
        let colour = |b: usize| sequential(0.85 * b as f64 / (self.bins.len().max(2) - 1) as f64);
        for (panel, (what, pick)) in halves.iter().zip([("formed", 0usize), ("eliminated", 1)]) {
            let series = |b: usize| -> Vec<(f64, f64)> {
                self.days
                    .iter()
                    .map(|d| (d.0, if pick == 0 { d.1[b] } else { d.2[b] }))
                    .collect()
            };
            let top = (0..self.bins.len())
                .flat_map(series)
                .map(|p| p.1)
                .fold(0.0f64, f64::max);
            let top = if top > 0.0 { top * 1.08 } else { 1.0 };
            let ((x, xfmt), (y, yfmt)) = (axis(lo, hi, 8), axis(0.0, top, 6));
            let mut chart = ChartBuilder::on(panel)
                .margin(10)
                .x_label_area_size(42)
                .y_label_area_size(70)
                .build_cartesian_2d(x, y)?;
            chart
                .configure_mesh()
                .x_label_formatter(&xfmt)
                .y_label_formatter(&yfmt)
                .x_desc("biological day")
                .y_desc(format!("{what} ({})", self.y_unit))
                .label_style(font(13.0))
                .axis_desc_style(font(14.0))
                .bold_line_style(RGBColor(225, 225, 225))
                .draw()?;
            for &l in &self.lesion_days {
                chart.draw_series(LineSeries::new(vec![(l, 0.0), (l, top)], LESION.stroke_width(2)))?;
            }
            for b in 0..self.bins.len() {
                chart.draw_series(LineSeries::new(series(b), colour(b).stroke_width(2)))?;
            }
        }
        let mut entries: Vec<(Icon, String)> = self
            .bins
            .iter()
            .enumerate()
            .map(|(b, t)| (Icon::Line(colour(b)), t.clone()))
            .collect();
        if !self.lesion_days.is_empty() {
            entries.push((Icon::Line(LESION), "lesion".into()));
        }
        side.draw(&Text::new("distance from centre", (8, 30), font(14.0)))?;
        legend(&side, 64, &entries)
    }
}

// --- (d) activation ---

fn activation(dir: &Path, info: &RunInfo) -> Result<Option<Heatmap>> {
    // Rows: populations (with their region); columns: probe days, or samples without probes.
    let (pops, xs, values, x_desc, what) = if let Some(t) = Table::read_optional(dir, "activation.csv")?
        && t.strs("task")?.contains(&"motor")
    {
        let (task, pop, reg) = (t.strs("task")?, t.strs("population")?, t.strs("region")?);
        let (day, rate) = (t.f64s("day")?, t.f64s("rate_hz")?);
        let rows: Vec<usize> = (0..t.rows.len()).filter(|&i| task[i] == "motor").collect();
        let x: Vec<f64> = rows.iter().map(|&i| day[i]).collect();
        let p: Vec<String> = rows.iter().map(|&i| format!("{} ({})", pop[i], reg[i])).collect();
        let r: Vec<f64> = rows.iter().map(|&i| rate[i]).collect();
        (
            p,
            x,
            r,
            "biological day (motor-task probes)".to_string(),
            "during the motor-task probes",
        )
    } else if let Some(t) = Table::read_optional(dir, "rates.csv")?
        && !t.rows.is_empty()
    {
        let (pop, reg) = (t.strs("population")?, t.strs("region")?);
        let (day, t_ms, rate) = (t.f64s("day")?, t.f64s("t_ms")?, t.f64s("rate_hz")?);
        let x: Vec<f64> = if info.protocol {
            day
        } else {
            t_ms.iter().map(|t| t / 1000.0).collect()
        };
        let p: Vec<String> = pop.iter().zip(&reg).map(|(p, r)| format!("{p} ({r})")).collect();
        let desc = if info.protocol {
            "biological day"
        } else {
            "simulated time (s)"
        };
        (p, x, rate, desc.to_string(), "at each sample")
    } else {
        return Ok(None);
    };
    let mut rows: Vec<String> = Vec::new();
    let mut cols: Vec<f64> = Vec::new();
    for (p, x) in pops.iter().zip(&xs) {
        if !rows.contains(p) {
            rows.push(p.clone());
        }
        if !cols.contains(x) {
            cols.push(*x);
        }
    }
    cols.sort_by(f64::total_cmp);
    // The mean rate of each population x column (a protocol may sample a day more than once).
    let mut sum = vec![vec![(0.0, 0u32); cols.len()]; rows.len()];
    for ((p, x), v) in pops.iter().zip(&xs).zip(&values) {
        let (r, c) = (rows.iter().position(|q| q == p), cols.iter().position(|y| y == x));
        if let (Some(r), Some(c)) = (r, c)
            && v.is_finite()
        {
            sum[r][c].0 += v;
            sum[r][c].1 += 1;
        }
    }
    let values: Vec<Vec<f64>> = sum
        .iter()
        .map(|row| {
            row.iter()
                .map(|&(s, k)| if k > 0 { s / k as f64 } else { f64::NAN })
                .collect()
        })
        .collect();
    // Cells reach halfway to their neighbours.
    let m = cols.len();
    let mut edges = Vec::with_capacity(m + 1);
    let half = |a: usize, b: usize| (cols[b] - cols[a]) / 2.0;
    let first_half = if m > 1 { half(0, 1) } else { 0.5 };
    edges.push(cols[0] - first_half);
    edges.extend(cols.windows(2).map(|w| (w[0] + w[1]) / 2.0));
    edges.push(cols[m - 1] + if m > 1 { half(m - 2, m - 1) } else { 0.5 });
    let ticks = nice_ticks(edges[0], edges[m], 8);
    let step = if ticks.len() > 1 { ticks[1] - ticks[0] } else { 1.0 };
    let ticks = ticks.into_iter().map(|v| (v, tick_text(v, step))).collect();
    // A probe on a lesion day comes after the lesion: mark the lesion at that column's left edge.
    let marks = if info.protocol {
        info.lesion_days
            .iter()
            .map(|&d| {
                let x = cols.iter().position(|&c| c >= d).map(|c| edges[c]).unwrap_or(d);
                (x, format!(" lesion (day {})", day_text(d)))
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Some(Heatmap {
        title: format!("{}: firing rate per population {what}", info.scene),
        scale: Scale::of(values.iter().flatten().copied(), false),
        rows,
        x_edges: edges,
        x_ticks: ticks,
        x_desc,
        y_desc: "population (region)".into(),
        values,
        unit: "firing rate (Hz)".into(),
        annotate: false,
        marks,
    }))
}

impl Figure for Heatmap {
    fn size(&self) -> (u32, u32) {
        (900, 520 + 14 * self.rows.len().saturating_sub(8) as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        heatmap(&root.margin(6, 6, 6, 6), self)
    }
}

// --- (e) weights ---

/// Projections drawn at most (the first ones in weight_hist.csv).
const MAX_PROJECTIONS: usize = 6;

/// A histogram bin: (lowest weight, highest weight, synapses).
type Bin = (f64, f64, f64);

struct Weights {
    title: String,
    moments: Vec<Moment>,
    protocol: bool,
    /// (projection, for each moment its bins).
    panels: Vec<(String, Vec<Vec<Bin>>)>,
    left_out: usize,
}

fn weights(dir: &Path, info: &RunInfo, days: &[f64]) -> Result<Option<Weights>> {
    let Some(t) = Table::read_optional(dir, "weight_hist.csv")? else {
        return Ok(None);
    };
    if t.rows.is_empty() {
        return Ok(None);
    }
    let samples = samples_of(&t)?;
    let moments = if days.is_empty() {
        select_moments(&samples, info.lesion_days.first().copied())
    } else {
        moments_on_days(&samples, days).map_err(|m| Error::data(&t.path, m))?
    };
    let (step, proj) = (t.f64s("step")?, t.strs("projection")?);
    let (lo, hi, n) = (t.f64s("bin_lo")?, t.f64s("bin_hi")?, t.f64s("synapses")?);
    let mut names: Vec<&str> = Vec::new();
    for p in &proj {
        if !names.contains(p) {
            names.push(p);
        }
    }
    let left_out = names.len().saturating_sub(MAX_PROJECTIONS);
    names.truncate(MAX_PROJECTIONS);
    let panels = names
        .iter()
        .map(|name| {
            let per_moment = moments
                .iter()
                .map(|m| {
                    (0..t.rows.len())
                        .filter(|&i| step[i] as u64 == m.step && proj[i] == *name)
                        .map(|i| (lo[i], hi[i], n[i]))
                        .collect()
                })
                .collect();
            (name.to_string(), per_moment)
        })
        .collect();
    Ok(Some(Weights {
        title: format!("{}: weight distribution per plastic projection", info.scene),
        moments,
        protocol: info.protocol,
        panels,
        left_out,
    }))
}

impl Figure for Weights {
    fn size(&self) -> (u32, u32) {
        let n = self.panels.len();
        let cols = n.clamp(1, 3) as u32;
        let rows = n.div_ceil(3).max(1) as u32;
        ((cols * 450).max(900), 100 + rows * 380)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let mut note = String::new();
        if self.left_out > 0 {
            note = format!(
                "(the first {MAX_PROJECTIONS} projections; {} more not shown)",
                self.left_out
            );
        }
        let body = titled(root, &self.title, &note, if note.is_empty() { 40 } else { 60 })?;
        let (key, grid) = body.split_vertically(40);
        let colours = [PALETTE[0], PALETTE[3], PALETTE[2], PALETTE[1], PALETTE[4]];
        let colour = |k: usize| {
            if k + 1 == self.moments.len() {
                BLACK
            } else {
                colours[k % colours.len()]
            }
        };
        // The key, in one row.
        let mut x = 20;
        for (k, m) in self.moments.iter().enumerate() {
            let y = 20;
            key.draw(&PathElement::new(vec![(x, y), (x + 28, y)], colour(k).stroke_width(2)))?;
            let text = moment_text(m, self.protocol);
            key.draw(&Text::new(
                text.clone(),
                (x + 36, y),
                font(14.0).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            x += 36 + 8 * text.chars().count() as i32 + 30;
        }
        let n = self.panels.len();
        let cols = n.clamp(1, 3);
        let rows = n.div_ceil(3).max(1);
        let cells = grid.split_evenly((rows, cols));
        for ((name, per_moment), cell) in self.panels.iter().zip(&cells) {
            let bins = per_moment.iter().flatten();
            let x0 = bins.clone().map(|b| b.0).fold(f64::INFINITY, f64::min);
            let x1 = bins.clone().map(|b| b.1).fold(f64::NEG_INFINITY, f64::max);
            let (x0, x1) = if x0.is_finite() && x1 > x0 {
                (x0, x1)
            } else {
                (0.0, 1.0)
            };
            let top = bins.map(|b| b.2).fold(0.0f64, f64::max);
            let top = if top > 0.0 { top * 1.08 } else { 1.0 };
            let ((x, xfmt), (y, yfmt)) = (axis(x0, x1, 6), axis(0.0, top, 5));
            let mut chart = ChartBuilder::on(cell)
                .caption(name, font(15.0))
                .margin(10)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(x, y)?;
            chart
                .configure_mesh()
                .x_label_formatter(&xfmt)
                .y_label_formatter(&yfmt)
                .x_desc("synaptic weight (≈ mV per spike; LIF: pA)")
                .y_desc("synapses")
                .label_style(font(12.0))
                .axis_desc_style(font(13.0))
                .bold_line_style(RGBColor(225, 225, 225))
                .draw()?;
            for (k, hist) in per_moment.iter().enumerate() {
                let steps = hist.iter().flat_map(|&(a, b, c)| [(a, c), (b, c)]);
                chart.draw_series(LineSeries::new(steps, colour(k).stroke_width(2)))?;
            }
        }
        Ok(())
    }
}

// --- (f) tract strength ---

/// Tracts drawn at most (the file holds them all).
const MAX_TRACTS: usize = 10;

/// A tract's name and its (x, weight_rel, synapses_rel) points where the ratio is known.
type TractLine = (String, Vec<(f64, f64, f64)>);

struct Tracts {
    title: String,
    x_desc: String,
    lines: Vec<TractLine>,
    left_out: usize,
    lesion_days: Vec<f64>,
}

fn tracts(dir: &Path, info: &RunInfo) -> Result<Option<Tracts>> {
    let Some(t) = Table::read_optional(dir, "tracts.csv")? else {
        return Ok(None);
    };
    let (tract, day, t_ms) = (t.strs("tract")?, t.f64s("day")?, t.f64s("t_ms")?);
    let (w, n) = (t.strs("weight_rel")?, t.strs("synapses_rel")?);
    let mut lines: Vec<TractLine> = Vec::new();
    for i in 0..t.rows.len() {
        let k = match lines.iter().position(|l| l.0 == tract[i]) {
            Some(k) => k,
            None => {
                lines.push((tract[i].to_string(), Vec::new()));
                lines.len() - 1
            }
        };
        if let (Ok(w), Ok(n)) = (w[i].parse::<f64>(), n[i].parse::<f64>()) {
            let x = if info.protocol { day[i] } else { t_ms[i] / 1000.0 };
            lines[k].1.push((x, w, n));
        }
    }
    lines.retain(|l| !l.1.is_empty());
    if lines.is_empty() {
        return Ok(None);
    }
    let left_out = lines.len().saturating_sub(MAX_TRACTS);
    lines.truncate(MAX_TRACTS);
    Ok(Some(Tracts {
        title: format!("{}: tract strength relative to before the lesion", info.scene),
        x_desc: if info.protocol {
            "biological day".into()
        } else {
            "simulated time (s)".into()
        },
        lines,
        left_out,
        lesion_days: info.lesion_days.clone(),
    }))
}

impl Figure for Tracts {
    fn size(&self) -> (u32, u32) {
        (900, 760)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let note = if self.left_out > 0 {
            format!("(the first {MAX_TRACTS} tracts; {} more in tracts.csv)", self.left_out)
        } else {
            "1 = the last sample before the first lesion (without a lesion, the first sample)".to_string()
        };
        let body = titled(root, &self.title, &note, 60)?;
        let (plots, side) = body.split_horizontally(700);
        let halves = plots.split_evenly((2, 1));
        let points = self.lines.iter().flat_map(|l| &l.1);
        let lo = points.clone().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let hi = points.clone().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
        for (panel, (what, pick)) in halves.iter().zip([("summed weight", 0usize), ("synapses", 1)]) {
            let value = |p: &(f64, f64, f64)| if pick == 0 { p.1 } else { p.2 };
            let top = points.clone().map(value).fold(1.0f64, f64::max) * 1.08;
            let bottom = points.clone().map(value).fold(0.0f64, f64::min);
            let ((x, xfmt), (y, yfmt)) = (axis(lo, hi, 8), axis(bottom, top, 6));
            let mut chart = ChartBuilder::on(panel)
                .margin(10)
                .x_label_area_size(42)
                .y_label_area_size(70)
                .build_cartesian_2d(x, y)?;
            chart
                .configure_mesh()
                .x_label_formatter(&xfmt)
                .y_label_formatter(&yfmt)
                .x_desc(self.x_desc.as_str())
                .y_desc(format!("{what}, relative"))
                .label_style(font(13.0))
                .axis_desc_style(font(14.0))
                .bold_line_style(RGBColor(225, 225, 225))
                .draw()?;
            chart.draw_series(DashedLineSeries::new(
                vec![(lo, 1.0), (hi, 1.0)],
                6,
                4,
                RGBColor(120, 120, 120).stroke_width(1),
            ))?;
            for &l in &self.lesion_days {
                chart.draw_series(LineSeries::new(vec![(l, bottom), (l, top)], LESION.stroke_width(2)))?;
            }
            for (k, (_, pts)) in self.lines.iter().enumerate() {
                let colour = PALETTE[k % PALETTE.len()];
                chart.draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, value(p))),
                    colour.stroke_width(2),
                ))?;
            }
        }
        let mut entries: Vec<(Icon, String)> = self
            .lines
            .iter()
            .enumerate()
            .map(|(k, l)| (Icon::Line(PALETTE[k % PALETTE.len()]), l.0.clone()))
            .collect();
        if !self.lesion_days.is_empty() {
            entries.push((Icon::Line(LESION), "lesion".into()));
        }
        side.draw(&Text::new("tract", (8, 30), font(14.0)))?;
        legend(&side, 64, &entries)
    }
}

// --- (g) BOLD ---

/// Regions drawn at most (the file holds them all).
const MAX_BOLD_REGIONS: usize = 10;

struct Bold {
    title: String,
    /// Per region: its name and (s, %) points.
    lines: Vec<(String, Vec<(f64, f64)>)>,
    left_out: usize,
}

fn bold(dir: &Path, info: &RunInfo) -> Result<Option<Bold>> {
    let Some(t) = Table::read_optional(dir, "bold.csv")? else {
        return Ok(None);
    };
    let (time, region, value) = (t.f64s("t_s")?, t.strs("region")?, t.f64s("bold_pct")?);
    let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for i in 0..t.rows.len() {
        match lines.iter_mut().find(|l| l.0 == region[i]) {
            Some(l) => l.1.push((time[i], value[i])),
            None => lines.push((region[i].to_string(), vec![(time[i], value[i])])),
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    let left_out = lines.len().saturating_sub(MAX_BOLD_REGIONS);
    lines.truncate(MAX_BOLD_REGIONS);
    Ok(Some(Bold {
        title: format!("{}: BOLD signal by region", info.scene),
        lines,
        left_out,
    }))
}

impl Figure for Bold {
    fn size(&self) -> (u32, u32) {
        (900, 520)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let note = if self.left_out > 0 {
            format!(
                "(the first {MAX_BOLD_REGIONS} regions; {} more in bold.csv)",
                self.left_out
            )
        } else {
            "Balloon-Windkessel model driven by each region's synaptic input; 0 = rest".to_string()
        };
        let body = titled(root, &self.title, &note, 60)?;
        let (plot, side) = body.split_horizontally(700);
        let points = self.lines.iter().flat_map(|l| &l.1);
        let lo = points.clone().map(|p| p.0).fold(f64::INFINITY, f64::min).min(0.0);
        let hi = points.clone().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let hi = if hi > lo { hi } else { lo + 1.0 };
        let top = points.clone().map(|p| p.1).fold(0.0f64, f64::max);
        let bottom = points.clone().map(|p| p.1).fold(0.0f64, f64::min);
        let span = (top - bottom).max(1e-3);
        let ((x, xfmt), (y, yfmt)) = (axis(lo, hi, 8), axis(bottom - 0.05 * span, top + 0.05 * span, 6));
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .x_desc("simulated time (s)")
            .y_desc("BOLD signal change (%)")
            .label_style(font(13.0))
            .axis_desc_style(font(14.0))
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        for (k, (_, pts)) in self.lines.iter().enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            chart.draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))?;
        }
        let entries: Vec<(Icon, String)> = self
            .lines
            .iter()
            .enumerate()
            .map(|(k, l)| (Icon::Line(PALETTE[k % PALETTE.len()]), l.0.clone()))
            .collect();
        side.draw(&Text::new("region", (8, 30), font(14.0)))?;
        legend(&side, 64, &entries)
    }
}

// --- (h) spine imaging ---

/// A field's name, its (day, surviving fraction of the first session's spines) points, and its
/// (day, gained % per day, lost % per day) points at each later session.
type FieldImages = (String, Vec<(f64, f64)>, Vec<(f64, f64, f64)>);

struct SpineSurvival {
    title: String,
    fields: Vec<FieldImages>,
    first_day: f64,
    lesion_days: Vec<f64>,
}

fn spine_survival(dir: &Path, info: &RunInfo) -> Result<Option<SpineSurvival>> {
    let Some(t) = Table::read_optional(dir, "spine_survival.csv")? else {
        return Ok(None);
    };
    if t.rows.is_empty() {
        return Ok(None);
    }
    let (field, imaged, day) = (t.f64s("field")?, t.f64s("imaged_day")?, t.f64s("day")?);
    let (survival, gained, lost) = (
        t.strs("survival")?,
        t.strs("gained_pct_per_day")?,
        t.strs("lost_pct_per_day")?,
    );
    let first_day = imaged.iter().copied().fold(f64::INFINITY, f64::min);
    let mut fields: Vec<FieldImages> = Vec::new();
    for i in 0..t.rows.len() {
        let f = field[i] as usize;
        while fields.len() <= f {
            fields.push((format!("field {}", fields.len()), Vec::new(), Vec::new()));
        }
        if imaged[i] == first_day
            && let Ok(v) = survival[i].parse::<f64>()
        {
            fields[f].1.push((day[i], v));
        }
        if let (Ok(g), Ok(l)) = (gained[i].parse::<f64>(), lost[i].parse::<f64>()) {
            fields[f].2.push((day[i], g, l));
        }
    }
    Ok(Some(SpineSurvival {
        title: format!("{}: spine imaging", info.scene),
        fields,
        first_day,
        lesion_days: info.lesion_days.clone(),
    }))
}

impl Figure for SpineSurvival {
    fn size(&self) -> (u32, u32) {
        (900, 760)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let note = format!(
            "top: the spines of day {} still present; bottom: spines gained (solid) and lost (dashed) per day between \
             sessions, % of the earlier session's",
            day_text(self.first_day)
        );
        let body = titled(root, &self.title, &note, 60)?;
        let (plots, side) = body.split_horizontally(700);
        let halves = plots.split_evenly((2, 1));
        let days = self
            .fields
            .iter()
            .flat_map(|f| f.1.iter().map(|p| p.0).chain(f.2.iter().map(|p| p.0)));
        let lo = days.clone().fold(f64::INFINITY, f64::min).min(self.first_day);
        let hi = days.fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
        let colour = |k: usize| PALETTE[k % PALETTE.len()];
        // Survival.
        let ((x, xfmt), (y, yfmt)) = (axis(lo, hi, 8), axis(0.0, 1.05, 6));
        let mut chart = ChartBuilder::on(&halves[0])
            .margin(10)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .x_desc("biological day")
            .y_desc("fraction surviving")
            .label_style(font(13.0))
            .axis_desc_style(font(14.0))
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        for &l in &self.lesion_days {
            chart.draw_series(LineSeries::new(vec![(l, 0.0), (l, 1.05)], LESION.stroke_width(2)))?;
        }
        for (k, (_, pts, _)) in self.fields.iter().enumerate() {
            chart.draw_series(LineSeries::new(pts.iter().copied(), colour(k).stroke_width(2)))?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, colour(k).filled())))?;
        }
        // Turnover.
        let top = self
            .fields
            .iter()
            .flat_map(|f| f.2.iter().flat_map(|p| [p.1, p.2]))
            .fold(0.0f64, f64::max);
        let top = if top > 0.0 { top * 1.08 } else { 1.0 };
        let ((x, xfmt), (y, yfmt)) = (axis(lo, hi, 8), axis(0.0, top, 6));
        let mut chart = ChartBuilder::on(&halves[1])
            .margin(10)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .x_desc("biological day (the later session)")
            .y_desc("spines per day (%)")
            .label_style(font(13.0))
            .axis_desc_style(font(14.0))
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        for &l in &self.lesion_days {
            chart.draw_series(LineSeries::new(vec![(l, 0.0), (l, top)], LESION.stroke_width(2)))?;
        }
        for (k, (_, _, pts)) in self.fields.iter().enumerate() {
            chart.draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                colour(k).stroke_width(2),
            ))?;
            chart.draw_series(DashedLineSeries::new(
                pts.iter().map(|p| (p.0, p.2)),
                6,
                4,
                colour(k).stroke_width(2),
            ))?;
        }
        let mut entries: Vec<(Icon, String)> = self
            .fields
            .iter()
            .enumerate()
            .map(|(k, f)| (Icon::Line(colour(k)), f.0.clone()))
            .collect();
        if !self.lesion_days.is_empty() {
            entries.push((Icon::Line(LESION), "lesion".into()));
        }
        side.draw(&Text::new("field of view", (8, 30), font(14.0)))?;
        legend(&side, 64, &entries)
    }
}
