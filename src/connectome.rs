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
    /// Whether each region lies in the right hemisphere, when the zip has `hemispheres.txt`.
    pub right_hemisphere: Option<Vec<bool>>,
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

/// The scene around an imported connectome (`rewire import-connectome`); how the connectome is
/// wired is `wiring`, the same fields a scene's `connectome` states.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The scene's name.
    pub name: String,
    /// The scene's seed. Default 1.
    pub seed: u64,
    /// The scene's time step (ms). Default 1.
    pub dt_ms: f64,
    /// The scene's duration (ms). Default 1000.
    pub duration_ms: f64,
    pub wiring: Wiring,
}

/// How a connectome becomes regions and projections (docs/SCENES.md, "Importing a connectome");
/// `file` is the zip.
pub type Wiring = crate::scene::schema::Connectome;

impl ImportOptions {
    pub fn new(name: impl Into<String>, zip: &Path) -> Self {
        ImportOptions {
            name: name.into(),
            seed: 1,
            dt_ms: 1.0,
            duration_ms: 1000.0,
            wiring: Wiring::new(zip.display().to_string()),
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
    let hemispheres = member("hemispheres.txt", false)?;

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
    let flags = |member: Option<(String, String)>| -> Result<Option<Vec<bool>>> {
        let Some((name, text)) = member else {
            return Ok(None);
        };
        let v = vector(path, &name, &text, n, |line, col, t| {
            match t.1.to_ascii_lowercase().as_str() {
                "1" | "1.0" | "true" => Ok(true),
                "0" | "0.0" | "false" => Ok(false),
                _ => Err(at(path, &name, line, col, t, "not 0 or 1")),
            }
        })?;
        Ok(Some(v))
    };
    let cortical = flags(cortical)?;
    let right_hemisphere = flags(hemispheres)?;
    Ok(Connectome {
        labels,
        centres,
        weights,
        tract_lengths,
        areas,
        cortical,
        right_hemisphere,
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

/// The hemisphere of a region from its label: a token `l`, `lh` or `left` (or `r`, `rh`,
/// `right`) between '_', '-', '.' or spaces, in any case (`lh_M1`, `ctx-rh-precentral`, `M1_R`,
/// `Left-Thalamus`), or a leading `l` or `r` before a capital (`lM1`, `rPFCDL`, TVB's 76-region
/// labels). None when neither or both are found.
pub fn hemisphere_of(label: &str) -> Option<Hemisphere> {
    let side = |tok: &str| match tok.to_ascii_lowercase().as_str() {
        "l" | "lh" | "left" => Some(Hemisphere::Left),
        "r" | "rh" | "right" => Some(Hemisphere::Right),
        _ => None,
    };
    let mut found: Vec<Hemisphere> = label.split(['_', '-', '.', ' ']).filter_map(side).collect();
    if found.is_empty() {
        let mut chars = label.chars();
        if let (Some(first), Some(c)) = (chars.next(), chars.next())
            && c.is_ascii_uppercase()
            && matches!(first, 'l' | 'r')
        {
            found.extend(side(&first.to_string()));
        }
    }
    found.dedup();
    match found[..] {
        [h] => Some(h),
        _ => None,
    }
}

/// Each region's hemisphere: from `hemispheres.txt` when the zip has it (1 = right, as in TVB),
/// else from its label ([`hemisphere_of`]).
pub fn hemispheres(c: &Connectome) -> Vec<Option<Hemisphere>> {
    match &c.right_hemisphere {
        Some(v) => v
            .iter()
            .map(|&r| Some(if r { Hemisphere::Right } else { Hemisphere::Left }))
            .collect(),
        None => c.labels.iter().map(|l| hemisphere_of(l)).collect(),
    }
}

use crate::scene::schema::Hemisphere;

/// The local template of every region: (from, to, in-degree, weight, delay), populations `E` and
/// `I`. In-degrees are those of Izhikevich 2003's network thinned to 5 % (E->E) and 10 % (the
/// rest) at 1000 neurons (800 E, 200 I); fixed in-degrees keep every neuron's input the same at
/// any region size. E->E keeps that network's weights; E->I and I->E weights are raised (12x and
/// 4x its ranges) so that the thinned interneurons still fire and inhibit on TVB's 76 regions (excitatory cells about 5 Hz; interneurons fire about 10 Hz at 100 neurons per
/// region and 5 Hz at 1000, where their inputs share fewer sources).
const LOCAL: [(&str, &str, u32, &str, &str); 4] = [
    ("E", "E", 40, "Uniform(0.0, 0.5)", "Uniform(1.0, 5.0)"),
    ("E", "I", 80, "Uniform(0.0, 6.0)", "1.0"),
    ("I", "E", 20, "Uniform(-4.0, 0.0)", "1.0"),
    ("I", "I", 20, "Uniform(-1.0, 0.0)", "1.0"),
];
/// Long-range excitatory weights.
const LONG_RANGE_WEIGHT: &str = "Uniform(0.0, 0.5)";
/// Noise input (sd) of the excitatory and inhibitory populations (Izhikevich 2003's thalamic
/// input).
const NOISE_SD: (f64, f64) = (5.0, 2.0);

/// Excitatory neurons of a region of `n` neurons (80 %).
fn excitatory(n: u32) -> u32 {
    ((n as f64) * 0.8).round() as u32
}

/// Checks the wiring's numbers; an error names the field.
pub fn check(w: &Wiring) -> std::result::Result<(), (&'static str, String)> {
    let min = (w.max_in_degree / 0.8).ceil().max(2.0);
    if (w.neurons_per_region as f64) < min {
        return Err((
            "neurons_per_region",
            format!(
                "{} neurons per region are too few: the strongest tract brings {} synapses onto each excitatory \
                 neuron, so a region needs at least {min} (80 % excitatory)",
                w.neurons_per_region, w.max_in_degree
            ),
        ));
    }
    if !(w.velocity_m_per_s.is_finite() && w.velocity_m_per_s > 0.0) {
        return Err((
            "velocity_m_per_s",
            format!("velocity {} m/s must be > 0", w.velocity_m_per_s),
        ));
    }
    if !(w.max_in_degree.is_finite() && w.max_in_degree > 0.0) {
        return Err(("max_in_degree", format!("in-degree {} must be > 0", w.max_in_degree)));
    }
    if !(w.default_radius_mm.is_finite() && w.default_radius_mm > 0.0) {
        return Err((
            "default_radius_mm",
            format!("radius {} mm must be > 0", w.default_radius_mm),
        ));
    }
    if !(w.headroom.is_finite() && (1.0..=64.0).contains(&w.headroom)) {
        return Err(("headroom", format!("headroom {} must lie in [1, 64]", w.headroom)));
    }
    if w.growth_regions.is_some() && w.growth.is_none() && w.headroom == 1.0 {
        return Err((
            "growth_regions",
            "names the remodeling regions, but neither `growth` nor `headroom` is given for them".into(),
        ));
    }
    Ok(())
}

/// Checks the wiring against the connectome's regions (after [`check`]): every generated
/// population holds at least one neuron; an error names a region.
pub fn check_regions(c: &Connectome, w: &Wiring) -> std::result::Result<(), (&'static str, String)> {
    let n_e = excitatory(w.neurons_per_region);
    let n_i = w.neurons_per_region - n_e;
    if let Some(first) = region_names(&c.labels).first()
        && (n_e == 0 || n_i == 0)
    {
        let (side, name) = if n_i == 0 {
            ("inhibitory", "I")
        } else {
            ("excitatory", "E")
        };
        return Err((
            "neurons_per_region",
            format!(
                "{} neurons per region leave the {side} population of region {first:?} ({first}_{name}) empty, \
                 and that of every other region: each region is round(0.8 N) excitatory neurons and the rest \
                 inhibitory, so N must be at least 3",
                w.neurons_per_region
            ),
        ));
    }
    Ok(())
}

/// Which regions remodel (take `growth` and `headroom`), by region index: those `growth_regions`
/// names, or by default every cortical region (every region when the zip does not say). An
/// unknown or repeated name is refused with its position in `growth_regions`.
pub fn remodeling(c: &Connectome, w: &Wiring) -> std::result::Result<Vec<bool>, (usize, String)> {
    let names = region_names(&c.labels);
    let Some(list) = &w.growth_regions else {
        return Ok(match &c.cortical {
            Some(v) => v.clone(),
            None => vec![true; c.len()],
        });
    };
    let mut chosen = vec![false; c.len()];
    for (k, name) in list.iter().enumerate() {
        let Some(i) = names.iter().position(|n| n == name) else {
            return Err((
                k,
                format!(
                    "unknown region {name:?}; the connectome's regions are: {}",
                    names.join(", ")
                ),
            ));
        };
        if std::mem::replace(&mut chosen[i], true) {
            return Err((k, format!("region {name:?} is named twice")));
        }
    }
    Ok(chosen)
}

/// The tracts `omit_tracts` names, as (source, target) region indices; an unknown region, a pair
/// the connectome has no tract for, or a pair named twice is refused with its position.
pub fn omitted(c: &Connectome, w: &Wiring) -> std::result::Result<Vec<(usize, usize)>, (usize, String)> {
    let names = region_names(&c.labels);
    let find = |name: &str| {
        names.iter().position(|n| n == name).ok_or_else(|| {
            format!(
                "unknown region {name:?}; the connectome's regions are: {}",
                names.join(", ")
            )
        })
    };
    let mut out = Vec::new();
    for (k, (a, b)) in w.omit_tracts.iter().enumerate() {
        let pair = (find(a).map_err(|m| (k, m))?, find(b).map_err(|m| (k, m))?);
        if pair.0 == pair.1 || c.weight(pair.0, pair.1, w.rows_are_sources) <= 0.0 {
            return Err((k, format!("the connectome has no tract from {a:?} to {b:?} to omit")));
        }
        if out.contains(&pair) {
            return Err((k, format!("the tract from {a:?} to {b:?} is named twice")));
        }
        out.push(pair);
    }
    Ok(out)
}

/// A growth as RON, as a scene writes it (its numbers finite: validated first).
fn growth_ron(g: &crate::scene::schema::Growth) -> String {
    let elements: Vec<String> = g
        .elements
        .iter()
        .map(|e| {
            format!(
                "Element(kind: {:?}, eta: {:?}, eps: {:?}, nu_per_ms: {:?}, capacity: {:?})",
                e.kind, e.eta, e.eps, e.nu_per_ms, e.capacity
            )
        })
        .collect();
    format!(
        "Growth(eta: {:?}, eps: {:?}, nu_per_ms: {:?}, tau_ca_ms: {:?}, beta_ca: {:?}, calcium_init: {:?}, \
         vacant_decay: {:?}, elements: [{}])",
        g.eta,
        g.eps,
        g.nu_per_ms,
        g.tau_ca_ms,
        g.beta_ca,
        g.calcium_init,
        g.vacant_decay,
        elements.join(", ")
    )
}

/// A connectome's regions, projections and inputs as RON lists, each parseable on its own.
pub struct Parts {
    pub regions: String,
    pub projections: String,
    pub inputs: String,
    /// Long-range projections among `projections`.
    pub tracts: usize,
    /// The largest off-diagonal weight (the normalization).
    pub max_weight: f64,
}

/// Writes a connectome's regions, projections and inputs; `dt_ms` bounds delays from below.
/// `w` must have passed [`check`], [`check_regions`] and [`remodeling`] (and its growth the
/// scene's checks).
pub fn parts(c: &Connectome, w: &Wiring, dt_ms: f64) -> Parts {
    let names = region_names(&c.labels);
    let remodels = remodeling(c, w).unwrap_or_else(|_| vec![false; c.len()]);
    let omit = omitted(c, w).unwrap_or_default();
    let growth = w.growth.as_ref().map(|g| format!(", growth: {}", growth_ron(g)));
    // The headroom of an E->E projection onto region i's excitatory population.
    let headroom = |i: usize| {
        if remodels[i] && w.headroom != 1.0 {
            format!(", headroom: {:?}", w.headroom)
        } else {
            String::new()
        }
    };
    let sides = hemispheres(c);
    let n_e = excitatory(w.neurons_per_region);
    let n_i = w.neurons_per_region - n_e;
    let n = c.len();
    let mut max_w = 0.0f64;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                max_w = max_w.max(c.weights[i][j]);
            }
        }
    }
    let mut regions = String::from("[\n");
    for (i, name) in names.iter().enumerate() {
        let radius = match &c.areas {
            Some(a) if a[i] > 0.0 => (a[i] / std::f64::consts::PI).sqrt(),
            _ => w.default_radius_mm,
        };
        let [x, y, z] = c.centres[i];
        let kind = match &c.cortical {
            Some(v) if !v[i] => ", subcortical",
            Some(_) => ", cortical",
            None => "",
        };
        let _ = writeln!(regions, "    // {:?}{kind}", c.labels[i]);
        let _ = writeln!(regions, "    Region(");
        let _ = writeln!(regions, "        name: {name:?},");
        let _ = writeln!(regions, "        centre_mm: ({x:?}, {y:?}, {z:?}),");
        let _ = writeln!(regions, "        radius_mm: {radius:?},");
        if let Some(h) = sides[i] {
            let _ = writeln!(regions, "        hemisphere: {h:?},");
        }
        let _ = writeln!(regions, "        populations: [");
        let grows = growth.as_deref().filter(|_| remodels[i]).unwrap_or("");
        let _ = writeln!(
            regions,
            "            Population(name: \"{name}_E\", count: {n_e}, model: RegularSpiking{grows}),"
        );
        let _ = writeln!(
            regions,
            "            Population(name: \"{name}_I\", count: {n_i}, model: FastSpiking),"
        );
        let _ = writeln!(regions, "        ],");
        let _ = writeln!(regions, "    ),");
    }
    regions.push(']');
    let mut projections = String::from("[\n");
    for (i, name) in names.iter().enumerate() {
        for (from, to, k, weight, delay) in LOCAL {
            let room = if (from, to) == ("E", "E") {
                headroom(i)
            } else {
                String::new()
            };
            let _ = writeln!(
                projections,
                "    Projection(from: \"{name}_{from}\", to: \"{name}_{to}\", rule: FixedInDegree({k}), weight: {weight}, delay_ms: {delay}{room}),"
            );
        }
    }
    let mut tracts = 0;
    if max_w > 0.0 {
        let _ = writeln!(
            projections,
            "    // Long-range tracts: probability = weight / {max_w:?} * {:?} / {n_e}, delay = length / {:?} m/s.",
            w.max_in_degree, w.velocity_m_per_s
        );
        for from in 0..n {
            for to in 0..n {
                let weight = c.weight(from, to, w.rows_are_sources);
                if from == to || weight <= 0.0 || omit.contains(&(from, to)) {
                    continue;
                }
                let p = (weight / max_w * w.max_in_degree / n_e as f64).min(1.0);
                let delay = (c.tract_length(from, to, w.rows_are_sources) / w.velocity_m_per_s).max(dt_ms);
                let _ = writeln!(
                    projections,
                    "    Projection(from: \"{}_E\", to: \"{}_E\", rule: FixedProbability({p:?}), weight: {LONG_RANGE_WEIGHT}, delay_ms: {delay:?}{}),",
                    names[from],
                    names[to],
                    headroom(to)
                );
                tracts += 1;
            }
        }
    }
    projections.push(']');
    let mut inputs = String::from("[\n");
    for name in &names {
        let _ = writeln!(inputs, "    Noise(to: \"{name}_E\", sd: {:?}),", NOISE_SD.0);
        let _ = writeln!(inputs, "    Noise(to: \"{name}_I\", sd: {:?}),", NOISE_SD.1);
    }
    inputs.push(']');
    Parts {
        regions,
        projections,
        inputs,
        tracts,
        max_weight: max_w,
    }
}

/// Indents every line after the first by `pad`.
fn indent(text: &str, pad: &str) -> String {
    text.replace('\n', &format!("\n{pad}"))
}

/// Writes the scene of a connectome (RON text; `rewire::scene::parse` accepts it). `o.wiring`
/// must have passed [`check`].
pub fn scene(c: &Connectome, o: &ImportOptions) -> String {
    let w = &o.wiring;
    let n_e = excitatory(w.neurons_per_region);
    let p = parts(c, w, o.dt_ms);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Imported by `rewire import-connectome` from {}: {} regions of {} neurons (E {n_e}, I {}),\n\
         // long-range E->E probability = weight / {:?} * {:?} / {n_e}, delay = tract length / {:?} m/s.",
        w.file,
        c.len(),
        w.neurons_per_region,
        w.neurons_per_region - n_e,
        p.max_weight,
        w.max_in_degree,
        w.velocity_m_per_s
    );
    let _ = writeln!(s, "Scene(");
    let _ = writeln!(s, "    name: {:?},", o.name);
    let _ = writeln!(s, "    seed: {},", o.seed);
    let _ = writeln!(s, "    dt_ms: {:?},", o.dt_ms);
    let _ = writeln!(s, "    duration_ms: {:?},", o.duration_ms);
    let _ = writeln!(s, "    sample_every_ms: 100.0,");
    let _ = writeln!(s, "    regions: {},", indent(&p.regions, "    "));
    let _ = writeln!(s, "    projections: {},", indent(&p.projections, "    "));
    let _ = writeln!(s, "    inputs: {},", indent(&p.inputs, "    "));
    let _ = writeln!(s, ")");
    s
}

/// Reads `zip`, writes its scene to `out` atomically after checking that it parses; returns the
/// number of regions and of long-range projections. A wiring error names the field.
pub fn import(zip: &Path, out: &Path, o: &ImportOptions) -> Result<(usize, usize)> {
    let c = read(zip)?;
    let flag = |(field, message): (&str, String)| Error::Usage(format!("--{}: {message}", field.replace('_', "-")));
    check(&o.wiring).map_err(flag)?;
    check_regions(&c, &o.wiring).map_err(flag)?;
    remodeling(&c, &o.wiring).map_err(|(_, message)| flag(("growth_regions", message)))?;
    omitted(&c, &o.wiring).map_err(|(_, message)| flag(("omit_tracts", message)))?;
    let text = scene(&c, o);
    let model = crate::scene::parse(&text, &out.display().to_string())?;
    let long_range = model.projections.len() - LOCAL.len() * c.len();
    crate::atomic::write_file(out, text.as_bytes(), false)?;
    Ok((c.len(), long_range))
}

/// The default scene name for an output path: its file stem.
pub fn default_name(out: &Path) -> String {
    out.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "connectome".into())
}
