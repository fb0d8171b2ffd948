//! Whole-cortex scenes from a connectome: reads The Virtual Brain's connectivity zip format and
//! writes a scene with one region per row (docs/SCENES.md, "Importing a connectome").
//!
//! A zip holds `centres.txt` (label x y z per row, mm), `weights.txt` and `tract_lengths.txt`
//! (square matrices, mm for lengths) and optionally `areas.txt` (mm^2) and `cortical.txt` (0/1).
//! Each member may be bz2-compressed (`weights.txt.bz2`) and may sit in a subfolder. As in TVB
//! (tvb.simulator.coupling), `weights[i][j]` is the connection from region j to region i: rows
//! are targets, columns sources; [`ImportOptions::rows_are_sources`] reads the transpose.

use crate::error::{Error, Result};
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

/// A connectome as read from a zip; matrices as written in the file (`[row][column]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Connectome {
    /// Region labels, as written in `centres.txt`.
    pub labels: Vec<String>,
    /// Region centres in mm.
    pub centres: Vec<[f64; 3]>,
    /// Connection strengths, arbitrary units, >= 0 (TVB: `[target][source]`).
    pub weights: Vec<Vec<f64>>,
    /// Tract lengths in mm, >= 0, indexed as `weights`.
    pub tract_lengths: Vec<Vec<f64>>,
    /// Region areas in mm^2, when the zip has `areas.txt`.
    pub areas: Option<Vec<f64>>,
    /// Whether each region is cortical, when the zip has `cortical.txt`.
    pub cortical: Option<Vec<bool>>,
}

impl Connectome {
    /// Number of regions.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no regions.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The connection strength from region `from` to region `to`, under `rows_are_sources`.
    pub fn weight(&self, from: usize, to: usize, rows_are_sources: bool) -> f64 {
        if rows_are_sources {
            self.weights[from][to]
        } else {
            self.weights[to][from]
        }
    }

    /// The tract length (mm) from region `from` to region `to`, under `rows_are_sources`.
    pub fn tract_length(&self, from: usize, to: usize, rows_are_sources: bool) -> f64 {
        if rows_are_sources {
            self.tract_lengths[from][to]
        } else {
            self.tract_lengths[to][from]
        }
    }
}

/// How a connectome becomes a scene. Defaults as documented in docs/SCENES.md.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The scene's name.
    pub name: String,
    /// Neurons per region: 80 % excitatory (RegularSpiking), 20 % inhibitory (FastSpiking).
    pub neurons_per_region: u32,
    /// Axonal conduction velocity in m/s (= mm/ms): delay = tract length / velocity. Default 3
    /// (TVB's default conduction speed).
    pub velocity_m_per_s: f64,
    /// Connection probability of the strongest long-range connection; others scale linearly with
    /// their weight. Default 0.02.
    pub max_probability: f64,
    /// Radius of a region without an area (mm). Default 2.
    pub default_radius_mm: f64,
    /// Read matrix rows as sources (`weights[i][j]` from i to j) instead of TVB's targets.
    pub rows_are_sources: bool,
    /// The scene's time step (ms). Default 1.
    pub dt_ms: f64,
    /// The scene's duration (ms). Default 1000.
    pub duration_ms: f64,
    /// The scene's seed. Default 1.
    pub seed: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            name: "connectome".into(),
            neurons_per_region: 1000,
            velocity_m_per_s: 3.0,
            max_probability: 0.02,
            default_radius_mm: 2.0,
            rows_are_sources: false,
            dt_ms: 1.0,
            duration_ms: 1000.0,
            seed: 1,
        }
    }
}

/// Reads a TVB connectivity zip.
pub fn read(path: &Path) -> Result<Connectome> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| err(path, "(archive)", format!("not a zip: {e}")))?;
    let mut names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    names.sort();
    let mut member = |base: &str, required: bool| -> Result<Option<(String, String)>> {
        let found = names.iter().find(|n| {
            let file = n.rsplit('/').next().unwrap_or(n);
            file == base || file.strip_suffix(".bz2") == Some(base)
        });
        let Some(name) = found else {
            return if required {
                Err(err(path, base, "missing member (nor as .bz2)"))
            } else {
                Ok(None)
            };
        };
        let mut bytes = Vec::new();
        zip.by_name(name)
            .and_then(|mut f| f.read_to_end(&mut bytes).map_err(Into::into))
            .map_err(|e| err(path, name, format!("cannot read: {e}")))?;
        if name.ends_with(".bz2") {
            let mut out = Vec::new();
            bzip2::read::MultiBzDecoder::new(&bytes[..])
                .read_to_end(&mut out)
                .map_err(|e| err(path, name, format!("bad bz2 stream: {e}")))?;
            bytes = out;
        }
        let text = String::from_utf8(bytes).map_err(|e| err(path, name, format!("not UTF-8 text: {e}")))?;
        Ok(Some((name.clone(), text)))
    };
    let (centres_name, centres_text) = member("centres.txt", true)?.expect("required");
    let weights = member("weights.txt", true)?.expect("required");
    let lengths = member("tract_lengths.txt", true)?.expect("required");
    let areas = member("areas.txt", false)?;
    let cortical = member("cortical.txt", false)?;

    let mut labels = Vec::new();
    let mut centres = Vec::new();
    for (line, toks) in rows(&centres_text) {
        if toks.len() != 4 {
            return Err(err(
                path,
                &centres_name,
                format!("line {line}: expected a label and x y z, found {} values", toks.len()),
            ));
        }
        labels.push(toks[0].1.to_owned());
        let mut c = [0.0; 3];
        for (k, t) in toks[1..].iter().enumerate() {
            c[k] = number(path, &centres_name, line, k + 2, *t)?;
        }
        centres.push(c);
    }
    if labels.is_empty() {
        return Err(err(path, &centres_name, "no regions"));
    }
    let n = labels.len();
    let weights = matrix(path, &weights.0, &weights.1, n)?;
    let tract_lengths = matrix(path, &lengths.0, &lengths.1, n)?;
    let areas = match areas {
        None => None,
        Some((name, text)) => {
            let v = vector(path, &name, &text, n, |line, col, t| {
                let x = number(path, &name, line, col, t)?;
                if x < 0.0 {
                    return Err(at(path, &name, line, col, t, "a negative area"));
                }
                Ok(x)
            })?;
            Some(v)
        }
    };
    let cortical = match cortical {
        None => None,
        Some((name, text)) => Some(vector(path, &name, &text, n, |line, col, t| {
            match t.1.to_ascii_lowercase().as_str() {
                "1" | "1.0" | "true" => Ok(true),
                "0" | "0.0" | "false" => Ok(false),
                _ => Err(at(path, &name, line, col, t, "not 0 or 1")),
            }
        })?),
    };
    Ok(Connectome {
        labels,
        centres,
        weights,
        tract_lengths,
        areas,
        cortical,
    })
}

fn err(path: &Path, member: &str, message: impl Into<String>) -> Error {
    Error::Connectome {
        path: path.to_path_buf(),
        member: member.to_owned(),
        message: message.into(),
    }
}

/// A token: its 1-based character column and its text.
type Tok<'a> = (usize, &'a str);

fn at(path: &Path, member: &str, line: usize, value: usize, t: Tok, what: &str) -> Error {
    err(
        path,
        member,
        format!("line {line}, column {} (value {value}): {:?} is {what}", t.0, t.1),
    )
}

/// Non-blank lines (1-based numbers) split on whitespace; lines starting with '#' are skipped.
fn rows(text: &str) -> impl Iterator<Item = (usize, Vec<Tok<'_>>)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        if l.trim_start().starts_with('#') {
            return None;
        }
        let toks: Vec<Tok> = l
            .char_indices()
            .filter(|&(k, c)| !c.is_whitespace() && (k == 0 || l[..k].ends_with(char::is_whitespace)))
            .map(|(k, _)| {
                let rest = &l[k..];
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (l[..k].chars().count() + 1, &rest[..end])
            })
            .collect();
        (!toks.is_empty()).then_some((i + 1, toks))
    })
}

fn number(path: &Path, member: &str, line: usize, value: usize, t: Tok) -> Result<f64> {
    match t.1.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err(at(path, member, line, value, t, "not a finite number")),
        Err(_) => Err(at(path, member, line, value, t, "not a number")),
    }
}

/// A square n x n matrix of finite, non-negative numbers.
fn matrix(path: &Path, member: &str, text: &str, n: usize) -> Result<Vec<Vec<f64>>> {
    let mut m: Vec<Vec<f64>> = Vec::new();
    let mut width = 0;
    for (line, toks) in rows(text) {
        if m.is_empty() {
            width = toks.len();
        } else if toks.len() != width {
            return Err(err(
                path,
                member,
                format!("line {line} has {} values, the first row {width}", toks.len()),
            ));
        }
        let mut row = Vec::with_capacity(width);
        for (k, t) in toks.into_iter().enumerate() {
            let x = number(path, member, line, k + 1, t)?;
            if x < 0.0 {
                return Err(at(path, member, line, k + 1, t, "negative"));
            }
            row.push(x);
        }
        m.push(row);
    }
    if m.len() != width {
        return Err(err(
            path,
            member,
            format!("not square: {} rows of {width} values", m.len()),
        ));
    }
    if width != n {
        return Err(err(
            path,
            member,
            format!("a {width} x {width} matrix, but centres.txt has {n} regions"),
        ));
    }
    Ok(m)
}

/// n values, one per region, on one or several lines.
fn vector<T>(
    path: &Path,
    member: &str,
    text: &str,
    n: usize,
    mut parse: impl FnMut(usize, usize, Tok) -> Result<T>,
) -> Result<Vec<T>> {
    let mut v = Vec::new();
    for (line, toks) in rows(text) {
        for (k, t) in toks.into_iter().enumerate() {
            v.push(parse(line, k + 1, t)?);
        }
    }
    if v.len() != n {
        return Err(err(
            path,
            member,
            format!("{} values, but centres.txt has {n} regions", v.len()),
        ));
    }
    Ok(v)
}

/// Region names from labels: characters other than ASCII letters, digits, '_', '-' and '.'
/// become '_', an empty label becomes `region<i>` (i from 0), and a repeated name gets `_2`,
/// `_3`, ... appended.
pub fn region_names(labels: &[String]) -> Vec<String> {
    let mut used = std::collections::HashSet::new();
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut base: String = l
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if base.is_empty() {
                base = format!("region{i}");
            }
            let mut name = base.clone();
            let mut k = 2;
            while !used.insert(name.clone()) {
                name = format!("{base}_{k}");
                k += 1;
            }
            name
        })
        .collect()
}

/// The local template of every region: (from, to, probability, weight, delay), populations
/// `E` and `I` (Izhikevich 2003's weight ranges).
const LOCAL: [(&str, &str, f64, &str, &str); 4] = [
    ("E", "E", 0.05, "Uniform(0.0, 0.5)", "Uniform(1.0, 5.0)"),
    ("E", "I", 0.1, "Uniform(0.0, 0.5)", "1.0"),
    ("I", "E", 0.1, "Uniform(-1.0, 0.0)", "1.0"),
    ("I", "I", 0.1, "Uniform(-1.0, 0.0)", "1.0"),
];
/// Long-range excitatory weights.
const LONG_RANGE_WEIGHT: &str = "Uniform(0.0, 0.5)";
/// Noise input (sd) of the excitatory and inhibitory populations (Izhikevich 2003's thalamic
/// input).
const NOISE_SD: (f64, f64) = (5.0, 2.0);

/// Writes the scene of a connectome (RON text; `rewire::scene::parse` accepts it).
pub fn scene(c: &Connectome, o: &ImportOptions) -> String {
    let names = region_names(&c.labels);
    let n_e = ((o.neurons_per_region as f64) * 0.8).round() as u32;
    let n_i = o.neurons_per_region - n_e;
    let n = c.len();
    let mut max_w = 0.0f64;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                max_w = max_w.max(c.weights[i][j]);
            }
        }
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Imported by `rewire import-connectome`: {n} regions of {} neurons (E {n_e}, I {n_i}),\n\
         // long-range E->E probability = weight / {max_w:?} * {:?}, delay = tract length / {:?} m/s.",
        o.neurons_per_region, o.max_probability, o.velocity_m_per_s
    );
    let _ = writeln!(s, "Scene(");
    let _ = writeln!(s, "    name: {:?},", o.name);
    let _ = writeln!(s, "    seed: {},", o.seed);
    let _ = writeln!(s, "    dt_ms: {:?},", o.dt_ms);
    let _ = writeln!(s, "    duration_ms: {:?},", o.duration_ms);
    let _ = writeln!(s, "    sample_every_ms: 100.0,");
    let _ = writeln!(s, "    regions: [");
    for (i, name) in names.iter().enumerate() {
        let radius = match &c.areas {
            Some(a) if a[i] > 0.0 => (a[i] / std::f64::consts::PI).sqrt(),
            _ => o.default_radius_mm,
        };
        let [x, y, z] = c.centres[i];
        let kind = match &c.cortical {
            Some(v) if !v[i] => ", subcortical",
            Some(_) => ", cortical",
            None => "",
        };
        let _ = writeln!(s, "        // {:?}{kind}", c.labels[i]);
        let _ = writeln!(s, "        Region(");
        let _ = writeln!(s, "            name: {name:?},");
        let _ = writeln!(s, "            centre_mm: ({x:?}, {y:?}, {z:?}),");
        let _ = writeln!(s, "            radius_mm: {radius:?},");
        let _ = writeln!(s, "            populations: [");
        let _ = writeln!(
            s,
            "                Population(name: \"{name}_E\", count: {n_e}, model: RegularSpiking),"
        );
        let _ = writeln!(
            s,
            "                Population(name: \"{name}_I\", count: {n_i}, model: FastSpiking),"
        );
        let _ = writeln!(s, "            ],");
        let _ = writeln!(s, "        ),");
    }
    let _ = writeln!(s, "    ],");
    let _ = writeln!(s, "    projections: [");
    for name in &names {
        for (from, to, p, w, d) in LOCAL {
            let _ = writeln!(
                s,
                "        Projection(from: \"{name}_{from}\", to: \"{name}_{to}\", rule: FixedProbability({p:?}), weight: {w}, delay_ms: {d}),"
            );
        }
    }
    if max_w > 0.0 {
        let _ = writeln!(s, "        // Long-range tracts.");
        for from in 0..n {
            for to in 0..n {
                let w = c.weight(from, to, o.rows_are_sources);
                if from == to || w <= 0.0 {
                    continue;
                }
                let p = w / max_w * o.max_probability;
                let delay = (c.tract_length(from, to, o.rows_are_sources) / o.velocity_m_per_s).max(o.dt_ms);
                let _ = writeln!(
                    s,
                    "        Projection(from: \"{}_E\", to: \"{}_E\", rule: FixedProbability({p:?}), weight: {LONG_RANGE_WEIGHT}, delay_ms: {delay:?}),",
                    names[from], names[to]
                );
            }
        }
    }
    let _ = writeln!(s, "    ],");
    let _ = writeln!(s, "    inputs: [");
    for name in &names {
        let _ = writeln!(s, "        Noise(to: \"{name}_E\", sd: {:?}),", NOISE_SD.0);
        let _ = writeln!(s, "        Noise(to: \"{name}_I\", sd: {:?}),", NOISE_SD.1);
    }
    let _ = writeln!(s, "    ],");
    let _ = writeln!(s, ")");
    s
}

/// Reads `zip`, writes its scene to `out` atomically after checking that it parses; returns the
/// number of regions and of long-range projections.
pub fn import(zip: &Path, out: &Path, o: &ImportOptions) -> Result<(usize, usize)> {
    let c = read(zip)?;
    let text = scene(&c, o);
    let model = crate::scene::parse(&text, &out.display().to_string())?;
    let long_range = model.projections.len() - LOCAL.len() * c.len();
    crate::stats::write_atomic(out, text.as_bytes(), false)?;
    Ok((c.len(), long_range))
}

/// The default scene name for an output path: its file stem.
pub fn default_name(out: &Path) -> String {
    out.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "connectome".into())
}
