//! Semantic checks of a parsed scene and its resolution into a [`Model`]; every error names the
//! file, line, column and field path.

use super::locate::{self, Seg};
use super::model::*;
use super::protocol;
use super::schema::*;
use crate::error::{Error, Result};
use crate::layout::MAX_ELEMENTS;
use std::collections::HashMap;

pub(super) type Path = Vec<Seg<'static>>;

pub(super) struct Ctx<'a> {
    pub(super) src: &'a str,
    pub(super) file: &'a str,
    /// The first region a `connectome` generated (the file's own regions come before it).
    pub(super) generated: usize,
}

impl Ctx<'_> {
    /// Where `path` is written (or the nearest enclosing value that is).
    pub(super) fn at(&self, path: &[Seg]) -> At {
        match self.err(path, "") {
            Error::Scene {
                file,
                line,
                column,
                field,
                ..
            } => At {
                file,
                line,
                column,
                field,
            },
            _ => unreachable!("Ctx::err makes scene errors"),
        }
    }

    pub(super) fn err(&self, path: &[Seg], message: impl Into<String>) -> Error {
        // A generated region is not in the text: its population's field is the connectome's
        // (`regions[80].populations[0].growth.eps` is `connectome.growth.eps`).
        let remapped: Vec<Seg>;
        let path = match path {
            [Seg::Field("regions"), Seg::Index(r), rest @ ..] if *r >= self.generated => {
                let rest = match rest {
                    [Seg::Field("populations"), Seg::Index(_), more @ ..] => more,
                    _ => &[],
                };
                remapped = [Seg::Field("connectome")].iter().chain(rest).copied().collect();
                &remapped[..]
            }
            _ => path,
        };
        // A field left out (its default applies) is not in the text: point at the nearest
        // enclosing value that is.
        let loc = (0..=path.len())
            .rev()
            .find_map(|k| locate::locate(self.src, &path[..k]))
            .unwrap_or(locate::Location { line: 1, column: 1 });
        Error::Scene {
            file: self.file.to_string(),
            line: loc.line,
            column: loc.column,
            field: path_text(path),
            message: message.into(),
        }
    }

    /// The path of an optional plain value (a number, a string): `path` itself, or `path[0]`
    /// where it is written `Some(x)` (RON's implicit_some lets a scene write either). A struct in
    /// an option is written bare or as `Some(field: ..)`, its fields right under `path`.
    pub(super) fn some<'p>(&self, mut path: Vec<Seg<'p>>) -> Vec<Seg<'p>> {
        if locate::value_name(self.src, &path).as_deref() == Some("Some") {
            path.push(Seg::Index(0));
        }
        path
    }

    /// Checks a parameter's written constructor name and its values.
    fn param(&self, path: &[Seg<'static>], p: &Param) -> Result<()> {
        let written = locate::value_name(self.src, path);
        if written.as_deref() == Some("Some") {
            // An optional parameter written `Some(x)`: check what it wraps.
            return self.param(&with(path, &[Seg::Index(0)]), p);
        }
        // A value not in the text (a default, or generated from a `connectome`) is as parsed.
        let in_text = locate::locate(self.src, path).is_some();
        if in_text && written.as_deref() != p.written_name() {
            let expected = p.written_name().unwrap_or("a plain number");
            return Err(self.err(
                path,
                format!(
                    "written as {}, but its contents are those of {expected}; use a number, \
                     Uniform(lo, hi), Normal(mean: m, sd: s) or R(base: b, scale: s, pow: p)",
                    written.as_deref().unwrap_or("an unnamed value"),
                ),
            ));
        }
        let finite = match *p {
            Param::Const(x) => x.is_finite(),
            Param::Uniform(lo, hi) => lo.is_finite() && hi.is_finite(),
            Param::Normal { mean, sd, min, max } => {
                mean.is_finite() && sd.is_finite() && !min.is_nan() && !max.is_nan()
            }
            Param::R { base, scale, pow } => base.is_finite() && scale.is_finite() && pow.is_finite(),
        };
        if !finite {
            return Err(self.err(path, "values must be finite numbers"));
        }
        match *p {
            Param::Uniform(lo, hi) if lo > hi => {
                Err(self.err(path, format!("Uniform({lo}, {hi}): lo must not exceed hi")))
            }
            Param::Normal { sd, .. } if sd < 0.0 => Err(self.err(path, format!("sd {sd} must be >= 0"))),
            Param::Normal { min, max, .. } if min > max => Err(self.err(path, format!("min {min} exceeds max {max}"))),
            Param::R { pow, .. } if pow <= 0.0 => Err(self.err(path, format!("pow {pow} must be > 0"))),
            _ => Ok(()),
        }
    }

    /// A parameter that must stay within [lo, hi] for every draw.
    fn param_in(&self, path: &[Seg<'static>], p: &Param, lo: f64, hi: f64, what: &str) -> Result<()> {
        self.param(path, p)?;
        let (a, b) = p.bounds();
        if a < lo || b > hi {
            return Err(self.err(
                path,
                format!("{what}: values range over [{a}, {b}], allowed [{lo}, {hi}]"),
            ));
        }
        Ok(())
    }
}

const NAME_RULE: &str = "names are letters, digits, '_', '-' and '.' (they become CSV fields)";
/// The largest calcium set point (eta, eps) a growth curve may have: far above any calcium level
/// the model reaches, and small enough that the curve's midpoint and width stay finite in f32.
const MAX_CALCIUM: f64 = 1e6;

/// The largest synaptic weight (|w|, pA or mV as the model reads it) a scene may give: input is
/// summed in fixed point, whose scale (a power of two, at least 2^-24) holds a row of 2^24 such
/// synapses below 2^30. Physiological weights are below 1e3; chosen, not measured.
const MAX_WEIGHT: f64 = 1e6;

/// The largest |weight| a parameter can draw (a normal's Irwin-Hall draw stays within 6 sd).
fn weight_reach(p: &Param) -> f64 {
    match *p {
        Param::Normal { mean, sd, .. } if sd != 0.0 => mean.abs() + 6.0 * sd.abs(),
        _ => {
            let (lo, hi) = p.bounds();
            lo.abs().max(hi.abs())
        }
    }
}

/// Refuses a finite `reach` beyond [`MAX_WEIGHT`] at `path`, saying `why` of the number.
fn check_magnitude(cx: &Ctx, path: &[Seg], reach: f64, why: impl Fn(String, String) -> String) -> Result<()> {
    if reach.is_finite() && reach <= MAX_WEIGHT {
        return Ok(());
    }
    Err(cx.err(path, why(shown(reach), shown(MAX_WEIGHT))))
}

/// Refuses a weight beyond [`MAX_WEIGHT`] at `path`.
fn check_weight(cx: &Ctx, path: &[Seg], reach: f64) -> Result<()> {
    check_magnitude(cx, path, reach, |x, max| {
        format!("weights up to {x} are beyond the {max} the summed input's fixed point holds")
    })
}

/// Refuses an input current beyond [`MAX_WEIGHT`] at `path`: neuron state is single precision,
/// and a current past any physiological one (1e6, as for weights; chosen, not measured) only
/// drives it to infinity, where the engines' handling of non-numbers may differ.
fn check_current(cx: &Ctx, path: &[Seg], reach: f64) -> Result<()> {
    check_magnitude(cx, path, reach, |x, max| {
        format!("{x} is beyond {max}, the largest input current taken")
    })
}

/// A number for a message: as written when of ordinary size, in exponent form when huge.
fn shown(x: f64) -> String {
    if x.abs() >= 1e9 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn path_text(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Field(f) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(f);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    if s.is_empty() { "scene".into() } else { s }
}

pub(super) fn with<'p>(path: &[Seg<'p>], more: &[Seg<'p>]) -> Vec<Seg<'p>> {
    path.iter().chain(more).copied().collect()
}

pub(super) fn resolve(mut scene: Scene, src: &str, file: &str, default_name: String) -> Result<Model> {
    use Seg::{Field as F, Index as I};
    // Regions from `generated` on are the connectome's, generated rather than written in the file.
    let cx = Ctx {
        src,
        file,
        generated: scene.regions.len(),
    };
    if let Some(c) = scene.connectome.clone() {
        connectome(&cx, &mut scene, &c)?;
    }

    if !(scene.dt_ms.is_finite() && scene.dt_ms > 0.0) {
        return Err(cx.err(&[F("dt_ms")], format!("time step {} ms must be > 0", scene.dt_ms)));
    }
    // A protocol sets the scene's length; without one, `duration_ms` does.
    let duration_ms = match (scene.duration_ms, scene.protocol.is_empty()) {
        (Some(_), false) => {
            return Err(cx.err(
                &[F("duration_ms")],
                "a scene with a protocol takes its length from the protocol (its days' sessions, probes and \
                 offline phases); remove `duration_ms`",
            ));
        }
        (None, true) => return Err(cx.err(&[], "a scene without a protocol needs `duration_ms`")),
        (d, _) => d.unwrap_or(0.0),
    };
    if !(duration_ms.is_finite() && duration_ms >= 0.0) {
        return Err(cx.err(&[F("duration_ms")], format!("duration {} ms must be >= 0", duration_ms)));
    }
    if !(scene.sample_every_ms.is_finite() && scene.sample_every_ms >= scene.dt_ms) {
        return Err(cx.err(
            &[F("sample_every_ms")],
            format!(
                "sample interval {} ms must be at least one step ({} ms)",
                scene.sample_every_ms, scene.dt_ms
            ),
        ));
    }
    if scene.regions.is_empty() {
        return Err(cx.err(
            &[F("regions")],
            "a scene needs at least one region (in `regions`, or from a `connectome`)",
        ));
    }

    let mut regions = Vec::new();
    let mut populations: Vec<PopulationModel> = Vec::new();
    let mut region_names = HashMap::new();
    let mut pop_names: HashMap<String, usize> = HashMap::new();
    let mut neurons: u64 = 0;
    for (ri, r) in scene.regions.iter().enumerate() {
        let rp = [F("regions"), I(ri)];
        if !plain_name(&r.name) {
            return Err(cx.err(&with(&rp, &[F("name")]), NAME_RULE));
        }
        if region_names.insert(r.name.clone(), ri).is_some() {
            return Err(cx.err(
                &with(&rp, &[F("name")]),
                format!("region name {:?} is used twice", r.name),
            ));
        }
        if !(r.radius_mm.is_finite() && r.radius_mm >= 0.0) {
            return Err(cx.err(&with(&rp, &[F("radius_mm")]), "radius must be a finite number >= 0 mm"));
        }
        if !(r.inner_radius_mm.is_finite()
            && r.inner_radius_mm >= 0.0
            && (r.inner_radius_mm < r.radius_mm || r.inner_radius_mm == 0.0))
        {
            return Err(cx.err(
                &with(&rp, &[F("inner_radius_mm")]),
                format!(
                    "inner radius {} mm must be >= 0 and below the radius {} mm",
                    r.inner_radius_mm, r.radius_mm
                ),
            ));
        }
        let (x, y, z) = r.centre_mm;
        if ![x, y, z].iter().all(|v| v.is_finite()) {
            return Err(cx.err(&with(&rp, &[F("centre_mm")]), "centre coordinates must be finite"));
        }
        regions.push(RegionModel {
            name: r.name.clone(),
            centre_mm: [x, y, z],
            radius_mm: r.radius_mm,
            inner_radius_mm: r.inner_radius_mm,
            hemisphere: r.hemisphere,
        });
        for (pi, p) in r.populations.iter().enumerate() {
            let pp = with(&rp, &[F("populations"), I(pi)]);
            if !plain_name(&p.name) {
                return Err(cx.err(&with(&pp, &[F("name")]), NAME_RULE));
            }
            if pop_names.insert(p.name.clone(), populations.len()).is_some() {
                return Err(cx.err(
                    &with(&pp, &[F("name")]),
                    format!("population name {:?} is used twice", p.name),
                ));
            }
            if p.count == 0 {
                return Err(cx.err(&with(&pp, &[F("count")]), "count must be at least 1"));
            }
            let neuron = neuron_kind(&cx, &with(&pp, &[F("model")]), &p.model, scene.dt_ms)?;
            let scaling = match &p.scaling {
                None => None,
                Some(s) => {
                    let at = |f: &'static str| with(&pp, &[F("scaling"), F(f)]);
                    for (f, v) in [
                        ("target_hz", s.target_hz),
                        ("tau_ms", s.tau_ms),
                        ("activity_tau_ms", s.activity_tau_ms),
                    ] {
                        if !(v.is_finite() && v > 0.0) {
                            return Err(cx.err(&at(f), format!("{f} {v} must be > 0")));
                        }
                    }
                    let every = (s.update_every_ms / scene.dt_ms).round();
                    if !(1.0..1e9).contains(&every) {
                        return Err(cx.err(
                            &at("update_every_ms"),
                            format!("update interval {} ms must be at least one step", s.update_every_ms),
                        ));
                    }
                    if let Some(o) = populations
                        .iter()
                        .filter_map(|q: &PopulationModel| q.scaling.as_ref())
                        .find(|o| o.every_steps != every as u64)
                    {
                        return Err(cx.err(
                            &at("update_every_ms"),
                            format!(
                                "every scaled population must share one update interval ({} steps before here)",
                                o.every_steps
                            ),
                        ));
                    }
                    Some(ScalingModel {
                        target_hz: s.target_hz,
                        tau_ms: s.tau_ms,
                        activity_tau_ms: s.activity_tau_ms,
                        every_steps: every as u64,
                    })
                }
            };
            let growth = match &p.growth {
                None => None,
                Some(gr) => Some(population_growth(&cx, &pp, gr)?),
            };
            let capacity = match p.capacity {
                None => None,
                Some(c) => {
                    let path = with(&pp, &[F("capacity")]);
                    if c == 0 || c > 1 << 24 {
                        return Err(cx.err(&path, format!("capacity {c} must be between 1 and 2^24 slots")));
                    }
                    Some((c, cx.at(&path)))
                }
            };
            populations.push(PopulationModel {
                name: p.name.clone(),
                region: ri,
                first: neurons as u32,
                count: p.count,
                neuron,
                scaling,
                growth,
                capacity,
            });
            neurons += p.count as u64;
            if neurons > (1 << 31) {
                return Err(cx.err(&with(&pp, &[F("count")]), "more than 2^31 neurons in all"));
            }
        }
    }
    if populations.is_empty() {
        return Err(cx.err(&[F("regions")], "a scene needs at least one population"));
    }

    let find_pop = |path: Path, name: &str| -> Result<usize> {
        pop_names.get(name).copied().ok_or_else(|| {
            let mut known: Vec<&str> = pop_names.keys().map(String::as_str).collect();
            known.sort();
            cx.err(
                &path,
                format!("unknown population {name:?}; populations are: {}", known.join(", ")),
            )
        })
    };

    if scene.projections.len() > 1 << 20 {
        return Err(cx.err(&[F("projections")], "more than 2^20 projections"));
    }
    let mut projections = Vec::new();
    for (i, p) in scene.projections.iter().enumerate() {
        let pp = [F("projections"), I(i)];
        let source = find_pop(with(&pp, &[F("from")]), &p.from)?;
        let target = find_pop(with(&pp, &[F("to")]), &p.to)?;
        let rule_path = with(&pp, &[F("rule")]);
        match p.rule {
            Rule::FixedProbability(q) if !(0.0..=1.0).contains(&q) => {
                return Err(cx.err(&rule_path, format!("probability {q} must lie in [0, 1]")));
            }
            Rule::DistanceDependent { p0, sigma_mm } => {
                if !(0.0..=1.0).contains(&p0) {
                    return Err(cx.err(&rule_path, format!("p0 {p0} must lie in [0, 1]")));
                }
                if !(sigma_mm.is_finite() && sigma_mm > 0.0) {
                    return Err(cx.err(&rule_path, format!("sigma_mm {sigma_mm} must be > 0")));
                }
            }
            Rule::Topographic {
                block_from,
                block_to,
                p_in,
                p_out,
            } => {
                if block_from == 0 || block_to == 0 {
                    return Err(cx.err(&rule_path, "blocks must hold at least one neuron"));
                }
                if !(0.0..=1.0).contains(&p_in) || !(0.0..=1.0).contains(&p_out) {
                    return Err(cx.err(
                        &rule_path,
                        format!("probabilities p_in {p_in} and p_out {p_out} must lie in [0, 1]"),
                    ));
                }
            }
            Rule::FixedTotalNumber(n) if n > u32::MAX as u64 => {
                return Err(cx.err(&rule_path, format!("{n} synapses in one projection exceed 2^32")));
            }
            _ => {}
        }
        for (f, v) in [("weight", &p.weight), ("delay_ms", &p.delay_ms)] {
            if let Param::R { .. } = v {
                return Err(cx.err(
                    &with(&pp, &[F(f)]),
                    "R(..) draws once per neuron; per synapse use Uniform or Normal",
                ));
            }
        }
        cx.param(&with(&pp, &[F("weight")]), &p.weight)?;
        check_weight(&cx, &with(&pp, &[F("weight")]), weight_reach(&p.weight))?;
        // Delays are whole steps from 1 to MAX_DELAY_STEPS; an unclipped normal's tail is clipped.
        let max_delay = crate::layout::MAX_DELAY_STEPS as f64 * scene.dt_ms;
        let hi = if p.delay_ms.bounds().1.is_infinite() {
            f64::INFINITY
        } else {
            max_delay
        };
        cx.param_in(&with(&pp, &[F("delay_ms")]), &p.delay_ms, 0.0, hi, "delay (ms)")?;
        if !(p.headroom.is_finite() && (1.0..=64.0).contains(&p.headroom)) {
            return Err(cx.err(
                &with(&pp, &[F("headroom")]),
                format!("headroom {} must lie in [1, 64]", p.headroom),
            ));
        }
        let plasticity = match &p.plasticity {
            None => None,
            Some(Plasticity::Stdp(s)) => {
                let at = |f: &'static str| with(&pp, &[F("plasticity"), F(f)]);
                for (f, v) in [("a_plus", s.a_plus), ("a_minus", s.a_minus)] {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(cx.err(&at(f), format!("{f} {v} must be a finite number >= 0")));
                    }
                }
                for (f, v) in [("tau_plus_ms", s.tau_plus_ms), ("tau_minus_ms", s.tau_minus_ms)] {
                    if !(v.is_finite() && v > 0.0) {
                        return Err(cx.err(&at(f), format!("time constant {v} ms must be > 0")));
                    }
                }
                if !(s.w_min.is_finite() && s.w_max.is_finite() && s.w_min < s.w_max) {
                    return Err(cx.err(
                        &at("w_max"),
                        format!("weight bounds [{}, {}] are inverted or not finite", s.w_min, s.w_max),
                    ));
                }
                check_weight(&cx, &at("w_max"), s.w_max.abs().max(s.w_min.abs()))?;
                let (lo, hi) = p.weight.bounds();
                if lo < s.w_min || hi > s.w_max {
                    return Err(cx.err(
                        &with(&pp, &[F("weight")]),
                        format!(
                            "initial weights span [{lo}, {hi}] but the plasticity keeps them in [{}, {}]; \
                             clip the distribution (min:, max:) or widen the bounds",
                            s.w_min, s.w_max
                        ),
                    ));
                }
                let m = StdpModel {
                    a_plus: s.a_plus,
                    a_minus: s.a_minus,
                    tau_plus_ms: s.tau_plus_ms,
                    tau_minus_ms: s.tau_minus_ms,
                    w_min: s.w_min,
                    w_max: s.w_max,
                    multiplicative: s.form == StdpForm::Multiplicative,
                    nearest: s.traces == TraceMode::Nearest,
                    eligibility_tau_ms: s.eligibility_tau_ms,
                    capture: match &s.capture {
                        None => None,
                        Some(c) => {
                            let cat = |f: &'static str| with(&pp, &[F("plasticity"), F("capture"), F(f)]);
                            if s.eligibility_tau_ms.is_some() {
                                return Err(cx.err(
                                    &at("capture"),
                                    "a rule has either an eligibility trace (dopamine) or tagging and capture",
                                ));
                            }
                            for (f, v) in [
                                ("tag_threshold", c.tag_threshold),
                                ("protein_threshold", c.protein_threshold),
                            ] {
                                if !(v.is_finite() && v >= 0.0) {
                                    return Err(cx.err(&cat(f), format!("{f} {v} must be >= 0")));
                                }
                            }
                            for (f, v) in [
                                ("tau_early_ms", c.tau_early_ms),
                                ("tau_protein_ms", c.tau_protein_ms),
                                ("tau_late_ms", c.tau_late_ms),
                            ] {
                                if !(v.is_finite() && v > 0.0) {
                                    return Err(cx.err(&cat(f), format!("time constant {v} ms must be > 0")));
                                }
                            }
                            let every = (c.update_every_ms / scene.dt_ms).round();
                            if !(1.0..1e9).contains(&every) {
                                return Err(cx.err(
                                    &cat("update_every_ms"),
                                    format!("update interval {} ms must be at least one step", c.update_every_ms),
                                ));
                            }
                            let m = CaptureModel {
                                tag_threshold: c.tag_threshold,
                                protein_threshold: c.protein_threshold,
                                tau_early_ms: c.tau_early_ms,
                                tau_protein_ms: c.tau_protein_ms,
                                tau_late_ms: c.tau_late_ms,
                                every_steps: every as u64,
                            };
                            // Proteins belong to neurons: capture rules onto one population share
                            // their parameters, and all capture rules one update interval.
                            for (j, q) in projections.iter().enumerate() {
                                let q: &ProjectionModel = q;
                                if let Some(o) = q.plasticity.as_ref().and_then(|o| o.capture.as_ref())
                                    && (o.every_steps != m.every_steps || (q.target == target && *o != m))
                                {
                                    return Err(cx.err(
                                        &at("capture"),
                                        format!(
                                            "projection {j} has different capture parameters; capture rules onto one \
                                             population must be identical, and all share update_every_ms"
                                        ),
                                    ));
                                }
                            }
                            Some(m)
                        }
                    },
                };
                if let Some(tau) = s.eligibility_tau_ms {
                    if !(tau.is_finite() && tau > 0.0) {
                        return Err(cx.err(&at("eligibility_tau_ms"), format!("time constant {tau} ms must be > 0")));
                    }
                    if scene.dopamine.is_none() {
                        return Err(cx.err(
                            &at("eligibility_tau_ms"),
                            "an eligibility trace needs the scene's `dopamine: Dopamine(...)` to turn it into weight",
                        ));
                    }
                }
                // Traces live on neurons: every plastic projection leaving a population shares its
                // presynaptic trace, every one entering shares the postsynaptic trace.
                for (j, q) in projections.iter().enumerate() {
                    let q: &ProjectionModel = q;
                    if let Some(o) = &q.plasticity {
                        if q.source == source && (o.tau_plus_ms != m.tau_plus_ms || o.nearest != m.nearest) {
                            return Err(cx.err(
                                &at("tau_plus_ms"),
                                format!(
                                    "projection {j} from {:?} keeps a different presynaptic trace (tau_plus_ms {}, \
                                     traces {}); plastic projections from one population must share it",
                                    p.from,
                                    o.tau_plus_ms,
                                    if o.nearest { "Nearest" } else { "AllToAll" }
                                ),
                            ));
                        }
                        if q.target == target && (o.tau_minus_ms != m.tau_minus_ms || o.nearest != m.nearest) {
                            return Err(cx.err(
                                &at("tau_minus_ms"),
                                format!(
                                    "projection {j} onto {:?} keeps a different postsynaptic trace (tau_minus_ms \
                                     {}); plastic projections onto one population must share it",
                                    p.to, o.tau_minus_ms
                                ),
                            ));
                        }
                    }
                }
                Some(m)
            }
        };
        // Plastic synapses are recognised by their (source, target) populations.
        if let Some(j) = projections
            .iter()
            .position(|q: &ProjectionModel| q.source == source && q.target == target)
            && (plasticity.is_some() || projections[j].plasticity.is_some())
        {
            return Err(cx.err(
                &with(&pp, &[F("plasticity")]),
                format!(
                    "projection {j} already connects {:?} to {:?}; a plastic projection must be the only one \
                     between its two populations",
                    p.from, p.to
                ),
            ));
        }
        projections.push(ProjectionModel {
            source,
            target,
            rule: p.rule.clone(),
            weight: p.weight.clone(),
            delay_ms: p.delay_ms.clone(),
            headroom: p.headroom,
            autapses: p.autapses,
            plasticity,
        });
    }

    let mut inputs = Vec::new();
    for (i, input) in scene.inputs.iter().enumerate() {
        let ip = [F("inputs"), I(i)];
        let target = find_pop(with(&ip, &[F("to")]), input.target())?;
        let kind = match *input {
            Input::Poisson {
                rate_hz,
                in_degree,
                weight,
                from_ms,
                until_ms,
                ..
            } => {
                if !(from_ms.is_finite() && from_ms >= 0.0) {
                    return Err(cx.err(&with(&ip, &[F("from_ms")]), format!("time {from_ms} ms must be >= 0")));
                }
                let until = until_ms.unwrap_or(f64::INFINITY);
                if until.is_nan() || until < from_ms {
                    return Err(cx.err(
                        &with(&ip, &[F("until_ms")]),
                        format!("end {until} ms must not come before the start {from_ms} ms"),
                    ));
                }
                let to_step = |ms: f64| ((ms / scene.dt_ms).round()).min(u32::MAX as f64) as u64;
                if !(rate_hz.is_finite() && rate_hz >= 0.0) {
                    return Err(cx.err(&with(&ip, &[F("rate_hz")]), format!("rate {rate_hz} Hz must be >= 0")));
                }
                check_weight(&cx, &with(&ip, &[F("weight")]), weight.abs())?;
                if rate_hz * in_degree as f64 * scene.dt_ms * 1e-3 > 7000.0 {
                    return Err(cx.err(
                        &ip,
                        "more than 7000 expected input spikes per step; lower rate_hz or in_degree",
                    ));
                }
                InputKind::Poisson {
                    rate_hz,
                    in_degree,
                    weight,
                    start: to_step(from_ms),
                    end: to_step(until),
                }
            }
            Input::Dc { amplitude, .. } => {
                check_current(&cx, &with(&ip, &[F("amplitude")]), amplitude.abs())?;
                InputKind::Dc { amplitude }
            }
            Input::Noise { sd, mean, .. } => {
                if sd.is_nan() || sd < 0.0 {
                    return Err(cx.err(&with(&ip, &[F("sd")]), format!("sd {sd} must be >= 0")));
                }
                check_current(&cx, &with(&ip, &[F("sd")]), sd)?;
                check_current(&cx, &with(&ip, &[F("mean")]), mean.abs())?;
                InputKind::Noise { mean, sd }
            }
        };
        inputs.push(InputModel { target, kind });
    }

    let dopamine = match &scene.dopamine {
        None => None,
        Some(d) => {
            let at = |f: &'static str| vec![F("dopamine"), F(f)];
            if !(d.tonic.is_finite()) {
                return Err(cx.err(&at("tonic"), "tonic must be finite"));
            }
            if !(d.tau_ms.is_finite() && d.tau_ms > 0.0) {
                return Err(cx.err(&at("tau_ms"), format!("time constant {} ms must be > 0", d.tau_ms)));
            }
            let every = (d.update_every_ms / scene.dt_ms).round();
            if !(1.0..1e9).contains(&every) {
                return Err(cx.err(
                    &at("update_every_ms"),
                    format!("update interval {} ms must be at least one step", d.update_every_ms),
                ));
            }
            Some(DopamineModel {
                tonic: d.tonic,
                tau_ms: d.tau_ms,
                every_steps: every as u64,
            })
        }
    };
    let mut rewards = Vec::new();
    for (i, r) in scene.rewards.iter().enumerate() {
        let rp = [F("rewards"), I(i)];
        if dopamine.is_none() {
            return Err(cx.err(&rp, "rewards need the scene's `dopamine: Dopamine(...)`"));
        }
        if !(r.at_ms.is_finite() && r.at_ms >= 0.0) {
            return Err(cx.err(&with(&rp, &[F("at_ms")]), format!("time {} ms must be >= 0", r.at_ms)));
        }
        if !r.amount.is_finite() {
            return Err(cx.err(&with(&rp, &[F("amount")]), "amount must be finite"));
        }
        let region = match &r.region {
            None => None,
            Some(name) => Some(region_names.get(name).copied().ok_or_else(|| {
                let mut known: Vec<&str> = region_names.keys().map(String::as_str).collect();
                known.sort();
                cx.err(
                    &with(&rp, &[F("region")]),
                    format!("unknown region {name:?}; regions are: {}", known.join(", ")),
                )
            })?),
        };
        rewards.push(((r.at_ms / scene.dt_ms).round() as u64, region, r.amount));
    }
    rewards.sort_by_key(|r| r.0);
    let pair_reward = match &scene.pair_reward {
        None => None,
        Some(r) => {
            let at = |f: &'static str| vec![F("pair_reward"), F(f)];
            if dopamine.is_none() {
                return Err(cx.err(
                    &[F("pair_reward")],
                    "a pair reward needs the scene's `dopamine: Dopamine(...)`",
                ));
            }
            let neuron = |f: &'static str, (name, i): &(String, u32)| -> Result<u32> {
                let p = find_pop(at(f), name)?;
                let pop = &populations[p];
                if *i >= pop.count {
                    return Err(cx.err(
                        &at(f),
                        format!("index {i} is outside population {name:?} of {} neurons", pop.count),
                    ));
                }
                Ok(pop.first + i)
            };
            let (pre, post) = (neuron("pre", &r.pre)?, neuron("post", &r.post)?);
            let steps = |ms: f64| (ms / scene.dt_ms).round();
            if !(r.window_ms.is_finite() && steps(r.window_ms) >= 1.0 && steps(r.window_ms) < 1e9) {
                return Err(cx.err(&at("window_ms"), "window must be at least one step"));
            }
            let (lo, hi) = r.delay_ms;
            if !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo <= hi && steps(hi) < 1e9) {
                return Err(cx.err(
                    &at("delay_ms"),
                    format!("delay range ({lo}, {hi}) ms must have 0 < low <= high"),
                ));
            }
            if !r.amount.is_finite() {
                return Err(cx.err(&at("amount"), "amount must be finite"));
            }
            let region = match &r.region {
                None => None,
                Some(name) => Some(
                    region_names
                        .get(name)
                        .copied()
                        .ok_or_else(|| cx.err(&at("region"), format!("unknown region {name:?}")))?,
                ),
            };
            Some(PairRewardModel {
                pre,
                post,
                window_steps: steps(r.window_ms) as u32,
                delay_lo: steps(lo).max(1.0) as u32,
                delay_span: (steps(hi) - steps(lo).max(1.0)).max(0.0) as u32,
                amount: r.amount,
                region,
                start_weight: r.start_weight,
            })
        }
    };

    if scene.structure.is_none()
        && let Some((ri, pi)) = scene
            .regions
            .iter()
            .enumerate()
            .find_map(|(ri, r)| r.populations.iter().position(|p| p.growth.is_some()).map(|pi| (ri, pi)))
    {
        return Err(cx.err(
            &[F("regions"), I(ri), F("populations"), I(pi), F("growth")],
            "growth needs the scene's `structure: Structure(...)` (its interval and sprouting rules)",
        ));
    }
    let time = protocol::time(&cx, &scene.time, scene.dt_ms)?;
    let structure = match &scene.structure {
        None => None,
        Some(st) => Some(structure(
            &cx,
            st,
            &scene,
            &populations,
            &projections,
            &find_pop,
            &region_names,
            time.clock,
        )?),
    };
    // A capacity must hold the initial synapses; fixed in-degrees are known now, the rest are
    // checked when the network is built.
    for (pi, p) in populations.iter().enumerate() {
        let Some((cap, at)) = &p.capacity else { continue };
        let fixed: u64 = projections
            .iter()
            .filter(|pr| pr.target == pi)
            .map(|pr| match pr.rule {
                Rule::FixedInDegree(k) => k as u64,
                _ => 0,
            })
            .sum();
        if fixed > *cap as u64 {
            return Err(at.err(format!(
                "capacity {cap} slots is smaller than the initial in-degree {fixed} of population {:?}",
                p.name
            )));
        }
    }

    // Populations some other population reaches, by a projection or a sprouting rule.
    let mut fed = vec![false; populations.len()];
    let sprouts = structure
        .iter()
        .flat_map(|st| &st.sprouts)
        .map(|r| (r.source, r.target));
    for (source, target) in projections.iter().map(|p| (p.source, p.target)).chain(sprouts) {
        fed[target] |= source != target;
    }
    let task = match &scene.task {
        None => None,
        Some(t) => Some(protocol::task(
            &cx,
            t,
            scene.dt_ms,
            &populations,
            &fed,
            &find_pop,
            &region_names,
        )?),
    };
    let (protocol, steps) = if scene.protocol.is_empty() {
        (None, (duration_ms / scene.dt_ms).round() as u64)
    } else {
        let (p, steps) = protocol::protocol(
            &cx,
            &scene.protocol,
            time,
            task.as_ref(),
            &regions,
            &find_pop,
            &region_names,
        )?;
        (Some(p), steps)
    };
    if let Some(st) = &structure {
        let checked = scene.structure.as_ref().is_none_or(|s| s.check_stability);
        if !checked && protocol.is_some() {
            return Err(cx.err(
                &[F("structure"), F("check_stability")],
                "a protocol's rewiring must be resolved in time: its stability rules are always checked",
            ));
        }
        if checked {
            stability(&cx, &scene, &populations, st, protocol.as_ref(), task.as_ref())?;
        }
    }
    let mut readouts = readouts(
        &cx,
        &scene,
        &region_names,
        &populations,
        &projections,
        structure.as_ref(),
    )?;
    imaging(
        &cx,
        &scene,
        &mut readouts,
        &regions,
        &populations,
        structure.as_ref(),
        protocol.as_ref(),
        task.as_ref(),
    )?;
    super::readouts::lfp(&cx, &scene, &mut readouts)?;
    super::readouts::icms(
        &cx,
        &scene,
        &mut readouts,
        &region_names,
        &regions,
        protocol.as_ref(),
        task.as_ref(),
    )?;
    bold_analyses(
        &cx,
        &scene,
        &mut readouts,
        &regions,
        &region_names,
        protocol.as_ref(),
        task.as_ref(),
    )?;
    let sample_every_steps = ((scene.sample_every_ms / scene.dt_ms).round() as u64).max(1);
    Ok(Model {
        name: if scene.name.is_empty() {
            default_name
        } else {
            scene.name
        },
        seed: scene.seed,
        dt_ms: scene.dt_ms,
        neurons_per_region: scene.connectome.as_ref().map(|c| c.neurons_per_region),
        steps,
        sample_every_steps,
        regions,
        populations,
        projections,
        inputs,
        dopamine,
        rewards,
        pair_reward,
        structure,
        task,
        readouts,
        start_from: match scene.start_from {
            Some(p) if scene.protocol.is_empty() => {
                return Err(cx.err(
                    &[F("start_from")],
                    format!("{p:?}: only a protocol scene starts from a checkpoint (at the end of one of its days)"),
                ));
            }
            Some(p) => {
                let folder = std::path::Path::new(file).parent().unwrap_or(std::path::Path::new(""));
                Some(folder.join(p))
            }
            None => None,
        },
        protocol,
        neurons: neurons as u32,
    })
}

/// Adds the regions, projections and inputs of the scene's `connectome` after its own.
fn connectome(cx: &Ctx, scene: &mut Scene, c: &Connectome) -> Result<()> {
    use Seg::Field as F;
    crate::connectome::check(c).map_err(|(field, message)| cx.err(&[F("connectome"), F(field)], message))?;
    let folder = std::path::Path::new(cx.file)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    let zip = folder.join(&c.file);
    let data = crate::connectome::read(&zip).map_err(|e| cx.err(&[F("connectome"), F("file")], e.to_string()))?;
    crate::connectome::check_regions(&data, c)
        .map_err(|(field, message)| cx.err(&[F("connectome"), F(field)], message))?;
    crate::connectome::remodeling(&data, c).map_err(|(k, message)| {
        let mut at = cx.some(vec![F("connectome"), F("growth_regions")]);
        at.push(Seg::Index(k));
        cx.err(&at, message)
    })?;
    crate::connectome::omitted(&data, c)
        .map_err(|(k, message)| cx.err(&[F("connectome"), F("omit_tracts"), Seg::Index(k)], message))?;
    if let Some(g) = &c.growth {
        // Checked here, so that a bad value points at the connectome's field rather than at a
        // generated population the file does not spell out.
        population_growth(cx, &[F("connectome")], g)?;
    }
    let parts = crate::connectome::parts(&data, c, scene.dt_ms);
    let generated = |e: ron::error::SpannedError| {
        cx.err(
            &[F("connectome")],
            format!("the generated scene does not parse (a bug): {e}"),
        )
    };
    let regions: Vec<Region> = super::ron_options().from_str(&parts.regions).map_err(generated)?;
    let projections: Vec<Projection> = super::ron_options().from_str(&parts.projections).map_err(generated)?;
    let inputs: Vec<Input> = super::ron_options().from_str(&parts.inputs).map_err(generated)?;
    scene.regions.extend(regions);
    scene.projections.extend(projections);
    scene.inputs.extend(inputs);
    Ok(())
}

/// The most elements a neuron may grow or retract in one structural update (docs/MODEL.md,
/// "Time scales": growth per update well below one element, so the rate is resolved in time).
pub const MAX_GROWTH_PER_UPDATE: f64 = 0.5;
/// Calcium must relax within a simulated day: its time constant at most this share of the
/// shortest day (sessions and offline phase, probes excluded).
pub const MAX_CALCIUM_TAU_PER_DAY: f64 = 1.0 / 3.0;

/// Checks the structural model's stability rules for every growing population: growth per update
/// (with the offline speedup and the largest growth window of any lesion) and, in a protocol,
/// calcium's time constant against the shortest simulated day.
fn stability(
    cx: &Ctx,
    scene: &Scene,
    populations: &[PopulationModel],
    st: &StructureModel,
    protocol: Option<&ProtocolModel>,
    task: Option<&TaskModel>,
) -> Result<()> {
    use Seg::{Field as F, Index as I};
    let offline = protocol.map_or(1.0, |p| p.offline_speedup.max(1.0));
    let window = protocol
        .map(|p| {
            p.lesions
                .iter()
                .filter_map(|l| l.window.as_ref())
                .map(|w| w.growth.max())
                .fold(1.0, f64::max)
        })
        .unwrap_or(1.0);
    let shortest_day_ms = protocol.map(|p| {
        let trial = task.map_or(0, |t| t.trial_steps);
        p.days
            .iter()
            .map(|d| d.sessions.iter().map(|s| s.trials as u64).sum::<u64>() * trial + p.offline_steps_of(d, trial))
            .min()
            .unwrap_or(0) as f64
            * scene.dt_ms
    });
    let mut pi = 0;
    for (ri, region) in scene.regions.iter().enumerate() {
        for (k, _) in region.populations.iter().enumerate() {
            let p = &populations[pi];
            pi += 1;
            let Some(g) = &p.growth else { continue };
            let at = |f: &'static str| vec![F("regions"), I(ri), F("populations"), I(k), F("growth"), F(f)];
            let per_update = g.max_nu() * st.bio_ms * offline * window;
            if per_update > MAX_GROWTH_PER_UPDATE {
                return Err(cx.err(
                    &at("nu_per_ms"),
                    format!(
                        "population {:?} may grow {per_update:.3} elements in one structural update ({} per ms x \
                         {} biological ms per update x offline speedup {offline} x largest growth window {window}); \
                         the model's stability rule allows at most {MAX_GROWTH_PER_UPDATE}: lower nu_per_ms, the \
                         time per update or the window",
                        p.name,
                        g.max_nu(),
                        st.bio_ms
                    ),
                ));
            }
            if let Some(day_ms) = shortest_day_ms
                && g.tau_ca_ms > MAX_CALCIUM_TAU_PER_DAY * day_ms
            {
                return Err(cx.err(
                    &at("tau_ca_ms"),
                    format!(
                        "calcium of population {:?} (tau {} ms) cannot follow a simulated day of {day_ms} ms; the \
                         model's stability rule keeps tau_ca_ms at most a third of the shortest day",
                        p.name, g.tau_ca_ms
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Validates the scene's structural plasticity.
#[expect(
    clippy::too_many_arguments,
    reason = "the scene's resolved parts it checks against, each once"
)]
fn structure(
    cx: &Ctx,
    st: &Structure,
    scene: &Scene,
    populations: &[PopulationModel],
    projections: &[ProjectionModel],
    find_pop: &dyn Fn(Path, &str) -> Result<usize>,
    region_names: &HashMap<String, usize>,
    clock: Option<(u64, u32)>,
) -> Result<StructureModel> {
    use Seg::{Field as F, Index as I};
    let at = |f: &'static str| cx.some(vec![F("structure"), F(f)]);
    // The biological clock sets the interval and the speedup; the scene may not set them again.
    let (every_ms, speedup) = match clock {
        Some((day_steps, updates)) => {
            for (f, given) in [("every_ms", st.every_ms.is_some()), ("speedup", st.speedup.is_some())] {
                if given {
                    return Err(cx.err(
                        &at(f),
                        format!(
                            "the scene's biological clock (`time: Time(day_ms, structural_updates_per_day)`) sets \
                         the structure's {f}; remove it here"
                        ),
                    ));
                }
            }
            let day_ms = day_steps as f64 * scene.dt_ms;
            (day_ms / updates as f64, DAY_MS / day_ms)
        }
        None => (st.every_ms.unwrap_or(100.0), st.speedup.unwrap_or(1.0)),
    };
    let every = (every_ms / scene.dt_ms).round();
    if !(every_ms.is_finite() && (1.0..1e9).contains(&every)) {
        return Err(cx.err(
            &at("every_ms"),
            format!("structural interval {every_ms} ms must be at least one step"),
        ));
    }
    if !(speedup.is_finite() && speedup > 0.0) {
        return Err(cx.err(&at("speedup"), format!("speedup {speedup} must be > 0")));
    }
    let bio_ms = every * scene.dt_ms * speedup;
    let mut sprouts: Vec<SproutModel> = Vec::new();
    for (i, r) in st.sprouting.iter().enumerate() {
        let rp = vec![F("structure"), F("sprouting"), I(i)];
        let source = find_pop(with(&rp, &[F("from")]), &r.from)?;
        let target = find_pop(with(&rp, &[F("to")]), &r.to)?;
        for (f, p) in [("from", source), ("to", target)] {
            if populations[p].growth.is_none() {
                return Err(cx.err(
                    &with(&rp, &[F(f)]),
                    format!(
                        "population {:?} has no `growth`: sprouting needs boutons and spines on both sides",
                        populations[p].name
                    ),
                ));
            }
        }
        if sprouts.iter().any(|s| s.source == source && s.target == target) {
            return Err(cx.err(&rp, format!("a second sprouting rule for {} -> {}", r.from, r.to)));
        }
        if !(r.length_mm.is_finite() && r.length_mm > 0.0) {
            return Err(cx.err(
                &with(&rp, &[F("length_mm")]),
                format!("sprouting length {} mm must be > 0", r.length_mm),
            ));
        }
        let proj = projections.iter().find(|p| p.source == source && p.target == target);
        let weight = match (r.weight, proj) {
            (Some(w), _) => w,
            (None, Some(p)) => p.weight.typical(),
            (None, None) => {
                return Err(cx.err(
                    &with(&rp, &[F("weight")]),
                    format!(
                        "no projection {} -> {} to take a weight from: give `weight`",
                        r.from, r.to
                    ),
                ));
            }
        };
        check_weight(cx, &with(&rp, &[F("weight")]), weight.abs())?;
        let delay_ms = match (r.delay_ms, proj) {
            (Some(d), _) => d,
            (None, Some(p)) => p.delay_ms.typical(),
            (None, None) => {
                return Err(cx.err(
                    &with(&rp, &[F("delay_ms")]),
                    format!(
                        "no projection {} -> {} to take a delay from: give `delay_ms`",
                        r.from, r.to
                    ),
                ));
            }
        };
        let delay = (delay_ms / scene.dt_ms).round();
        if !(delay_ms.is_finite() && delay <= crate::layout::MAX_DELAY_STEPS as f64) {
            return Err(cx.err(
                &with(&rp, &[F("delay_ms")]),
                format!(
                    "delay {delay_ms} ms must be at most {} steps",
                    crate::layout::MAX_DELAY_STEPS
                ),
            ));
        }
        if !(r.gain.is_finite() && r.gain >= 0.0) {
            return Err(cx.err(
                &with(&rp, &[F("gain")]),
                format!("sprouting gain {} must be finite and >= 0", r.gain),
            ));
        }
        let inhibitory = sprout_type(cx, &rp, r, weight, &populations[source], &populations[target])?;
        sprouts.push(SproutModel {
            source,
            target,
            length_mm: r.length_mm,
            weight,
            delay_steps: delay.max(1.0) as u32,
            autapses: r.autapses,
            distance: r.distance,
            gain: r.gain,
            inhibitory,
        });
    }
    let sp = &st.spines;
    let sat = |f: &'static str| vec![F("structure"), F("spines"), F(f)];
    for (f, v) in [
        ("stabilize_tau_ms", sp.stabilize_tau_ms),
        ("nascent_lifetime_ms", sp.nascent_lifetime_ms),
        ("stable_lifetime_ms", sp.stable_lifetime_ms),
    ] {
        if v.is_nan() || v <= 0.0 {
            return Err(cx.err(&sat(f), format!("{f} {v} must be > 0 (a time)")));
        }
    }
    for (f, v) in [
        ("stabilize_above_w", sp.stabilize_above_w),
        ("stabilize_after_ms", sp.stabilize_after_ms),
        ("prune_below_w", sp.prune_below_w),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(cx.err(&sat(f), format!("{f} {v} must be a finite number >= 0")));
        }
    }
    let nt = &st.neurotrophin;
    if nt.tau_ms.is_nan() || nt.tau_ms <= 0.0 {
        return Err(cx.err(
            &[F("structure"), F("neurotrophin"), F("tau_ms")],
            format!("time constant {} ms must be > 0", nt.tau_ms),
        ));
    }
    if !nt.reward_gain.is_finite() {
        return Err(cx.err(
            &[F("structure"), F("neurotrophin"), F("reward_gain")],
            "reward_gain must be finite",
        ));
    }
    let mut glia = vec![1.0; region_names.len()];
    for (name, &v) in &st.glia {
        let Some(&r) = region_names.get(name) else {
            let mut known: Vec<&str> = region_names.keys().map(String::as_str).collect();
            known.sort();
            return Err(cx.err(
                &at("glia"),
                format!("unknown region {name:?}; regions are: {}", known.join(", ")),
            ));
        };
        if !(v.is_finite() && v > 0.0) {
            return Err(cx.err(&at("glia"), format!("glia factor {v} of {name:?} must be > 0")));
        }
        glia[r] = v;
    }
    if !(st.persistent_after_ms.is_finite() && st.persistent_after_ms >= 0.0) {
        return Err(cx.err(&at("persistent_after_ms"), "persistence age must be >= 0 ms"));
    }
    let point_mm = match st.turnover_from_mm {
        Some((x, y, z)) if [x, y, z].iter().all(|v| v.is_finite()) => [x, y, z],
        Some(_) => return Err(cx.err(&at("turnover_from_mm"), "coordinates must be finite")),
        None => {
            let (x, y, z) = scene.regions[0].centre_mm;
            [x, y, z]
        }
    };
    let bins = &st.distance_bins_mm;
    if bins.len() > 32 || bins.iter().any(|b| !(b.is_finite() && *b > 0.0)) || bins.windows(2).any(|w| w[0] >= w[1]) {
        return Err(cx.err(
            &at("distance_bins_mm"),
            "at most 32 bin edges, each > 0 mm, in ascending order",
        ));
    }
    // Persistence counts biological age in simulated steps.
    let persist_steps = (st.persistent_after_ms / speedup / scene.dt_ms)
        .ceil()
        .min(u32::MAX as f64) as u64;
    Ok(StructureModel {
        every_steps: every as u64,
        bio_ms,
        speedup,
        sprouts,
        spines: sp.clone(),
        trophin_tau_ms: nt.tau_ms,
        trophin_reward: nt.reward_gain,
        glia,
        persist_steps,
        point_mm,
        bins_mm: bins.clone(),
    })
}

fn neuron_kind(cx: &Ctx, path: &[Seg<'static>], m: &NeuronModel, dt_ms: f64) -> Result<NeuronKind> {
    use Seg::Field as F;
    Ok(match m {
        NeuronModel::RegularSpiking => izh(0.02, 0.2, -65.0, 8.0),
        NeuronModel::FastSpiking => izh(0.1, 0.2, -65.0, 2.0),
        NeuronModel::Izhikevich(p) => {
            let base = path.to_vec();
            for (name, v) in [
                ("a", &p.a),
                ("b", &p.b),
                ("c", &p.c),
                ("d", &p.d),
                ("v_init_mv", &p.v_init_mv),
            ] {
                cx.param(&with(&base, &[F(name)]), v)?;
            }
            NeuronKind::Izhikevich {
                a: p.a.clone(),
                b: p.b.clone(),
                c: p.c.clone(),
                d: p.d.clone(),
                v_init_mv: p.v_init_mv.clone(),
            }
        }
        NeuronModel::Periodic(p) => {
            let steps = |v: f64| (v / dt_ms).round();
            if !(p.period_ms.is_finite() && steps(p.period_ms) >= 1.0 && steps(p.period_ms) < 16_777_216.0) {
                return Err(cx.err(
                    &with(path, &[F("period_ms")]),
                    format!("period {} ms must be at least one step and finite", p.period_ms),
                ));
            }
            if !(p.phase_ms.is_finite() && p.phase_ms >= 0.0 && steps(p.phase_ms) < 16_777_216.0) {
                return Err(cx.err(
                    &with(path, &[F("phase_ms")]),
                    format!("phase {} ms must be >= 0", p.phase_ms),
                ));
            }
            if p.count.is_some_and(|c| c == 0 || c >= 1 << 24) {
                return Err(cx.err(&with(path, &[F("count")]), "count must lie in 1..2^24"));
            }
            NeuronKind::Periodic {
                period_steps: steps(p.period_ms) as u32,
                phase_steps: steps(p.phase_ms) as u32,
                count: p.count.unwrap_or(0),
            }
        }
        NeuronModel::SpikeSource(p) => {
            let at = with(path, &[F("rate_hz")]);
            cx.param_in(
                &at,
                &p.rate_hz,
                0.0,
                1e3 / dt_ms,
                "rate (Hz), at most one spike per step",
            )?;
            NeuronKind::SpikeSource {
                rate_hz: p.rate_hz.clone(),
            }
        }
        NeuronModel::Lif(p) => {
            let base = path.to_vec();
            let at = |f: &'static str| with(&base, &[F(f)]);
            cx.param_in(&at("c_m_pf"), &p.c_m_pf, 1e-3, 1e9, "capacitance (pF)")?;
            cx.param_in(&at("tau_m_ms"), &p.tau_m_ms, 1e-3, 1e9, "membrane time constant (ms)")?;
            cx.param_in(
                &at("tau_syn_ms"),
                &p.tau_syn_ms,
                1e-3,
                1e9,
                "synaptic time constant (ms)",
            )?;
            cx.param_in(&at("t_ref_ms"), &p.t_ref_ms, 0.0, 1e6, "refractory period (ms)")?;
            for f in ["e_l_mv", "v_reset_mv", "v_th_mv", "i_e_pa"] {
                let v = match f {
                    "e_l_mv" => &p.e_l_mv,
                    "v_reset_mv" => &p.v_reset_mv,
                    "v_th_mv" => &p.v_th_mv,
                    _ => &p.i_e_pa,
                };
                cx.param(&at(f), v)?;
            }
            if p.v_th_mv.bounds().0 <= p.v_reset_mv.bounds().1 {
                return Err(cx.err(
                    &at("v_th_mv"),
                    "threshold must lie above the reset potential for every neuron",
                ));
            }
            if let Some(v) = &p.v_init_mv {
                cx.param(&at("v_init_mv"), v)?;
            }
            NeuronKind::Lif(LifModel {
                c_m_pf: p.c_m_pf.clone(),
                tau_m_ms: p.tau_m_ms.clone(),
                tau_syn_ms: p.tau_syn_ms.clone(),
                t_ref_ms: p.t_ref_ms.clone(),
                e_l_mv: p.e_l_mv.clone(),
                v_reset_mv: p.v_reset_mv.clone(),
                v_th_mv: p.v_th_mv.clone(),
                i_e_pa: p.i_e_pa.clone(),
                v_init_mv: p.v_init_mv.clone().unwrap_or_else(|| p.e_l_mv.clone()),
            })
        }
        NeuronModel::IafPscAlpha(p) => {
            // tau_syn may equal tau_m: the propagators are then their limit (build::neurons::phi12).
            let base = path.to_vec();
            let at = |f: &'static str| with(&base, &[F(f)]);
            iaf_checks(
                cx,
                &at,
                &[
                    ("c_m_pf", &p.c_m_pf, 1e-3, 1e9, Some("capacitance (pF)")),
                    ("tau_m_ms", &p.tau_m_ms, 1e-3, 1e9, Some("membrane time constant (ms)")),
                    (
                        "tau_syn_ex_ms",
                        &p.tau_syn_ex_ms,
                        1e-3,
                        1e9,
                        Some("excitatory synaptic time constant (ms)"),
                    ),
                    (
                        "tau_syn_in_ms",
                        &p.tau_syn_in_ms,
                        1e-3,
                        1e9,
                        Some("inhibitory synaptic time constant (ms)"),
                    ),
                    ("t_ref_ms", &p.t_ref_ms, 0.0, 1e6, Some("refractory period (ms)")),
                    ("e_l_mv", &p.e_l_mv, 0.0, 0.0, None),
                    ("v_reset_mv", &p.v_reset_mv, 0.0, 0.0, None),
                    ("v_th_mv", &p.v_th_mv, 0.0, 0.0, None),
                    ("i_e_pa", &p.i_e_pa, 0.0, 0.0, None),
                ],
                &p.v_th_mv,
                &p.v_reset_mv,
            )?;
            if let Some(v) = &p.v_init_mv {
                cx.param(&at("v_init_mv"), v)?;
            }
            NeuronKind::IafPscAlpha(PscAlphaModel {
                c_m_pf: p.c_m_pf.clone(),
                tau_m_ms: p.tau_m_ms.clone(),
                tau_syn_ex_ms: p.tau_syn_ex_ms.clone(),
                tau_syn_in_ms: p.tau_syn_in_ms.clone(),
                t_ref_ms: p.t_ref_ms.clone(),
                e_l_mv: p.e_l_mv.clone(),
                v_reset_mv: p.v_reset_mv.clone(),
                v_th_mv: p.v_th_mv.clone(),
                i_e_pa: p.i_e_pa.clone(),
                v_init_mv: p.v_init_mv.clone().unwrap_or_else(|| p.e_l_mv.clone()),
            })
        }
        NeuronModel::IafCondExp(p) => {
            let base = path.to_vec();
            let at = |f: &'static str| with(&base, &[F(f)]);
            iaf_checks(
                cx,
                &at,
                &[
                    ("c_m_pf", &p.c_m_pf, 1e-3, 1e9, Some("capacitance (pF)")),
                    (
                        "tau_syn_ex_ms",
                        &p.tau_syn_ex_ms,
                        1e-3,
                        1e9,
                        Some("excitatory synaptic time constant (ms)"),
                    ),
                    (
                        "tau_syn_in_ms",
                        &p.tau_syn_in_ms,
                        1e-3,
                        1e9,
                        Some("inhibitory synaptic time constant (ms)"),
                    ),
                    ("t_ref_ms", &p.t_ref_ms, 0.0, 1e6, Some("refractory period (ms)")),
                    ("e_l_mv", &p.e_l_mv, 0.0, 0.0, None),
                    ("e_ex_mv", &p.e_ex_mv, 0.0, 0.0, None),
                    ("e_in_mv", &p.e_in_mv, 0.0, 0.0, None),
                    ("v_reset_mv", &p.v_reset_mv, 0.0, 0.0, None),
                    ("v_th_mv", &p.v_th_mv, 0.0, 0.0, None),
                    ("i_e_pa", &p.i_e_pa, 0.0, 0.0, None),
                ],
                &p.v_th_mv,
                &p.v_reset_mv,
            )?;
            let leak = match (&p.g_l_ns, &p.tau_m_ms) {
                (Some(_), Some(_)) => {
                    return Err(cx.err(&at("tau_m_ms"), "give the leak as g_l_ns or as tau_m_ms, not both"));
                }
                (Some(g), None) => {
                    cx.param_in(&at("g_l_ns"), g, 1e-6, 1e9, "leak conductance (nS)")?;
                    Leak::GNs(g.clone())
                }
                (None, Some(tau)) => {
                    cx.param_in(&at("tau_m_ms"), tau, 1e-3, 1e9, "membrane time constant (ms)")?;
                    Leak::TauMs(tau.clone())
                }
                (None, None) => Leak::GNs(Param::Const(crate::scene::schema::COND_EXP_G_L_NS)),
            };
            // Inhibition must pull below threshold and excitation above it, for every neuron.
            if p.e_in_mv.bounds().1 >= p.v_th_mv.bounds().0 {
                return Err(cx.err(
                    &at("e_in_mv"),
                    "the inhibitory reversal potential must lie below the threshold for every neuron",
                ));
            }
            if p.e_ex_mv.bounds().0 <= p.v_th_mv.bounds().1 {
                return Err(cx.err(
                    &at("e_ex_mv"),
                    "the excitatory reversal potential must lie above the threshold for every neuron",
                ));
            }
            if let Some(v) = &p.v_init_mv {
                cx.param(&at("v_init_mv"), v)?;
            }
            NeuronKind::IafCondExp(CondExpModel {
                c_m_pf: p.c_m_pf.clone(),
                leak,
                tau_syn_ex_ms: p.tau_syn_ex_ms.clone(),
                tau_syn_in_ms: p.tau_syn_in_ms.clone(),
                t_ref_ms: p.t_ref_ms.clone(),
                e_l_mv: p.e_l_mv.clone(),
                e_ex_mv: p.e_ex_mv.clone(),
                e_in_mv: p.e_in_mv.clone(),
                v_reset_mv: p.v_reset_mv.clone(),
                v_th_mv: p.v_th_mv.clone(),
                i_e_pa: p.i_e_pa.clone(),
                v_init_mv: p.v_init_mv.clone().unwrap_or_else(|| p.e_l_mv.clone()),
            })
        }
    })
}

/// Checks the parameters the integrate-and-fire models share, named as in `LifParams`: each
/// `(field, value, lo, hi, what)` within its range (what: None for any finite value), and the
/// threshold above the reset for every neuron.
fn iaf_checks(
    cx: &Ctx,
    at: &dyn Fn(&'static str) -> Vec<Seg<'static>>,
    ranges: &[(&'static str, &Param, f64, f64, Option<&str>)],
    v_th: &Param,
    v_reset: &Param,
) -> Result<()> {
    for &(f, v, lo, hi, what) in ranges {
        match what {
            Some(what) => cx.param_in(&at(f), v, lo, hi, what)?,
            None => cx.param(&at(f), v)?,
        }
    }
    if v_th.bounds().0 <= v_reset.bounds().1 {
        return Err(cx.err(
            &at("v_th_mv"),
            "threshold must lie above the reset potential for every neuron",
        ));
    }
    Ok(())
}

fn izh(a: f64, b: f64, c: f64, d: f64) -> NeuronKind {
    NeuronKind::Izhikevich {
        a: Param::Const(a),
        b: Param::Const(b),
        c: Param::Const(c),
        d: Param::Const(d),
        v_init_mv: Param::Const(-65.0),
    }
}

/// The scene's `readouts`, validated: each instrument at most once; a tract names two different
/// regions that a projection or a sprouting rule joins, once.
fn readouts(
    cx: &Ctx,
    scene: &Scene,
    region_names: &HashMap<String, usize>,
    populations: &[PopulationModel],
    projections: &[ProjectionModel],
    structure: Option<&StructureModel>,
) -> Result<ReadoutsModel> {
    use Seg::{Field as F, Index as I};
    let mut model = ReadoutsModel::default();
    // Region pairs some projection or sprouting rule joins (source != target).
    let sprouts = structure
        .iter()
        .flat_map(|st| &st.sprouts)
        .map(|r| (r.source, r.target));
    let mut joined: Vec<(usize, usize)> = Vec::new();
    for (a, b) in projections.iter().map(|p| (p.source, p.target)).chain(sprouts) {
        let pair = (populations[a].region, populations[b].region);
        if pair.0 != pair.1 && !joined.contains(&pair) {
            joined.push(pair);
        }
    }
    joined.sort();
    for (i, r) in scene.readouts.iter().enumerate() {
        match r {
            Readout::Tracts(t) => {
                let rp = [F("readouts"), I(i)];
                if model.tracts.is_some() {
                    return Err(cx.err(&rp, "a second `Tracts` readout: give all its tracts in one"));
                }
                if t.tracts.is_empty() {
                    if joined.is_empty() {
                        return Err(cx.err(
                            &rp,
                            "no two regions are joined by a projection or a sprouting rule: there is no tract to follow",
                        ));
                    }
                    model.tracts = Some(joined.clone());
                    continue;
                }
                let mut tracts = Vec::new();
                for (j, (from, to)) in t.tracts.iter().enumerate() {
                    let at = |k: usize| [F("readouts"), I(i), F("tracts"), I(j), I(k)];
                    let find = |name: &str, k: usize| {
                        region_names.get(name).copied().ok_or_else(|| {
                            let mut known: Vec<&str> = region_names.keys().map(String::as_str).collect();
                            known.sort();
                            cx.err(
                                &at(k),
                                format!("unknown region {name:?}; regions are: {}", known.join(", ")),
                            )
                        })
                    };
                    let pair = (find(from, 0)?, find(to, 1)?);
                    if pair.0 == pair.1 {
                        return Err(cx.err(&at(1), format!("a tract joins two different regions; both are {to:?}")));
                    }
                    if !joined.contains(&pair) {
                        return Err(cx.err(
                            &at(0),
                            format!(
                                "no projection or sprouting rule joins {from:?} to {to:?}: the tract would stay empty"
                            ),
                        ));
                    }
                    if tracts.contains(&pair) {
                        return Err(cx.err(&at(0), format!("the tract {from:?} -> {to:?} is named twice")));
                    }
                    tracts.push(pair);
                }
                model.tracts = Some(tracts);
            }
            // Validated with the protocol (`imaging`, `readouts::icms`).
            Readout::SpineImaging(_) | Readout::Icms(_) | Readout::Lfp(_) => {}
            Readout::Bold(b) => {
                let rp = [F("readouts"), I(i)];
                if model.bold_tr_ms.is_some() {
                    return Err(cx.err(&rp, "a second `Bold` readout: one samples every region"));
                }
                if !(b.tr_ms.is_finite() && b.tr_ms >= scene.dt_ms) {
                    return Err(cx.err(
                        &[F("readouts"), I(i), F("tr_ms")],
                        format!(
                            "repetition time {} ms must be at least one step ({} ms)",
                            b.tr_ms, scene.dt_ms
                        ),
                    ));
                }
                model.bold_tr_ms = Some(b.tr_ms);
            }
        }
    }
    Ok(model)
}

/// The scene's `SpineImaging` readout, validated: structural plasticity and a protocol, 1 to 4
/// fields that reach a population with spines (a sprouting rule's target), 1 to 8 increasing days
/// of the protocol; their imaging steps are the ends of those days.
#[expect(clippy::too_many_arguments, reason = "the parts of the scene imaging depends on")]
fn imaging(
    cx: &Ctx,
    scene: &Scene,
    readouts: &mut ReadoutsModel,
    regions: &[RegionModel],
    populations: &[PopulationModel],
    structure: Option<&StructureModel>,
    protocol: Option<&ProtocolModel>,
    task: Option<&TaskModel>,
) -> Result<()> {
    use Seg::{Field as F, Index as I};
    let mut found = None;
    for (i, r) in scene.readouts.iter().enumerate() {
        if let Readout::SpineImaging(m) = r {
            if found.is_some() {
                return Err(cx.err(
                    &[F("readouts"), I(i)],
                    "a second `SpineImaging` readout: give all its fields in one",
                ));
            }
            found = Some((i, m));
        }
    }
    let Some((i, m)) = found else {
        return Ok(());
    };
    fn at<'a>(i: usize, rest: &[Seg<'a>]) -> Vec<Seg<'a>> {
        [Seg::Field("readouts"), Seg::Index(i)]
            .into_iter()
            .chain(rest.iter().cloned())
            .collect()
    }
    let at = |rest: &[Seg<'static>]| at(i, rest);
    let Some(st) = structure else {
        return Err(cx.err(
            &at(&[]),
            "spine imaging needs `structure`: without structural plasticity there are no spines",
        ));
    };
    let Some(protocol) = protocol else {
        return Err(cx.err(
            &at(&[F("days")]),
            "imaging days are days of a protocol: the scene has none",
        ));
    };
    if m.fields.is_empty() || m.fields.len() > IMAGING_MAX_FIELDS {
        return Err(cx.err(
            &at(&[F("fields")]),
            format!("{} fields of view: give 1 to {IMAGING_MAX_FIELDS}", m.fields.len()),
        ));
    }
    if m.days.is_empty() || m.days.len() > IMAGING_MAX_DAYS {
        return Err(cx.err(
            &at(&[F("days")]),
            format!("{} imaging days: give 1 to {IMAGING_MAX_DAYS}", m.days.len()),
        ));
    }
    // Regions holding spines: those of the sprouting rules' targets.
    let with_spines: Vec<usize> = st.sprouts.iter().map(|r| populations[r.target].region).collect();
    let mut fields = Vec::new();
    for (k, f) in m.fields.iter().enumerate() {
        let c = [f.centre_mm.0, f.centre_mm.1, f.centre_mm.2];
        if !c.iter().all(|x| x.is_finite()) {
            return Err(cx.err(&at(&[F("fields"), I(k), F("centre_mm")]), "the centre must be finite"));
        }
        if !(f.radius_mm.is_finite() && f.radius_mm > 0.0) {
            return Err(cx.err(
                &at(&[F("fields"), I(k), F("radius_mm")]),
                format!("radius {} mm must be > 0", f.radius_mm),
            ));
        }
        let reaches = with_spines.iter().any(|&r| {
            let g = &regions[r];
            let d2: f64 = (0..3).map(|a| (g.centre_mm[a] - c[a]).powi(2)).sum();
            d2.sqrt() < f.radius_mm + g.radius_mm
        });
        if !reaches {
            return Err(cx.err(
                &at(&[F("fields"), I(k)]),
                "a field of view without spines: it reaches no region of a sprouting rule's target population",
            ));
        }
        fields.push((c, f.radius_mm));
    }
    let trial_steps = task.map_or(0, |t| t.trial_steps);
    let blocks = task.map_or(0, |t| {
        1 + t.transfer_shared.is_some() as u64 + t.distractor.is_some() as u64
    });
    let ends = protocol.day_ends(trial_steps, blocks);
    // Days after the protocol's last are not reached (a shortened protocol keeps its readout).
    let (mut days, mut steps) = (Vec::new(), Vec::new());
    for (k, &d) in m.days.iter().enumerate() {
        if k > 0 && d <= m.days[k - 1] {
            return Err(cx.err(&at(&[F("days"), I(k)]), "imaging days must increase"));
        }
        if d < protocol.first_day {
            return Err(cx.err(
                &at(&[F("days"), I(k)]),
                format!("day {d} is before the protocol's first day, {}", protocol.first_day),
            ));
        }
        if let Some(&(_, end)) = ends.iter().find(|e| e.0 == d) {
            days.push(d);
            steps.push(end);
        }
    }
    if days.is_empty() {
        return Err(cx.err(
            &at(&[F("days")]),
            format!(
                "no imaging day falls within the protocol (days {} to {})",
                protocol.first_day, protocol.last_day
            ),
        ));
    }
    readouts.imaging = Some(ImagingModel { fields, days, steps });
    Ok(())
}

/// The `Bold` readout's analyses, validated: functional connectivity windows (protocol days, each
/// within the protocol, in order, holding at least 3 TR samples) and the laterality index's
/// regions (each with a side; both sides present). Without a protocol both are refused when given.
fn bold_analyses(
    cx: &Ctx,
    scene: &Scene,
    readouts: &mut ReadoutsModel,
    regions: &[RegionModel],
    region_names: &HashMap<String, usize>,
    protocol: Option<&ProtocolModel>,
    task: Option<&TaskModel>,
) -> Result<()> {
    use Seg::{Field as F, Index as I};
    let (Some((i, b)), Some(tr_ms)) = (
        scene.readouts.iter().enumerate().find_map(|(i, r)| match r {
            Readout::Bold(b) => Some((i, b)),
            _ => None,
        }),
        readouts.bold_tr_ms,
    ) else {
        return Ok(());
    };
    let Some(protocol) = protocol else {
        if !b.fc_days.is_empty() {
            return Err(cx.err(
                &[F("readouts"), I(i), F("fc_days")],
                "connectivity windows are days of a protocol: the scene has none (bold.csv can be \
                 correlated over any span of seconds by hand)",
            ));
        }
        if !b.laterality_regions.is_empty() {
            return Err(cx.err(
                &[F("readouts"), I(i), F("laterality_regions")],
                "the laterality index compares task days of a protocol: the scene has none",
            ));
        }
        return Ok(());
    };
    let trial_steps = task.map_or(0, |t| t.trial_steps);
    let blocks = task.map_or(0, |t| {
        1 + t.transfer_shared.is_some() as u64 + t.distractor.is_some() as u64
    });
    let ends = protocol.day_ends(trial_steps, blocks);
    // TR samples at t = k * tr (k >= 1) with start < t <= end, t in steps.
    let tr_steps = tr_ms / scene.dt_ms;
    let samples = |from_step: u64, to_step: u64| {
        ((to_step as f64 / tr_steps + 1e-9).floor() - (from_step as f64 / tr_steps + 1e-9).floor()).max(0.0) as u64
    };
    // A window is cut to the protocol's days, and one wholly outside them is left out, so that a
    // protocol shortened by `--set` keeps the readout (as imaging days after the end are).
    let mut windows = Vec::new();
    for (k, &(first, last)) in b.fc_days.iter().enumerate() {
        if last < first {
            return Err(cx.err(
                &[F("readouts"), I(i), F("fc_days"), I(k), I(1)],
                format!("a window runs forward: day {last} is before its first day {first}"),
            ));
        }
        let (from, to) = (first.max(protocol.first_day), last.min(protocol.last_day));
        if from > to {
            continue;
        }
        let start = ends.iter().rev().find(|e| e.0 < from).map_or(0, |e| e.1);
        let end = ends.iter().find(|e| e.0 == to).map_or(start, |e| e.1);
        let n = samples(start, end);
        if n < 3 {
            if (from, to) != (first, last) {
                continue;
            }
            return Err(cx.err(
                &[F("readouts"), I(i), F("fc_days"), I(k)],
                format!("days {first} to {last} hold {n} TR samples of {tr_ms} ms: a correlation needs at least 3"),
            ));
        }
        windows.push((from, to));
    }
    if windows.is_empty() && !b.fc_days.is_empty() {
        return Err(cx.err(
            &[F("readouts"), I(i), F("fc_days")],
            format!(
                "no window falls within the protocol (days {} to {}) with 3 TR samples",
                protocol.first_day, protocol.last_day
            ),
        ));
    }
    readouts.bold_fc_days = windows;
    let at = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
        [F("readouts"), I(i), F("laterality_regions")]
            .into_iter()
            .chain(rest.iter().cloned())
            .collect()
    };
    let mut chosen: Vec<(usize, bool)> = Vec::new();
    if b.laterality_regions.is_empty() {
        chosen.extend(regions.iter().enumerate().filter_map(|(r, g)| g.left().map(|l| (r, l))));
    } else {
        for (k, name) in b.laterality_regions.iter().enumerate() {
            let Some(&r) = region_names.get(name) else {
                let mut known: Vec<&str> = region_names.keys().map(String::as_str).collect();
                known.sort();
                return Err(cx.err(
                    &at(&[I(k)]),
                    format!("unknown region {name:?}; regions are: {}", known.join(", ")),
                ));
            };
            let Some(left) = regions[r].left() else {
                return Err(cx.err(
                    &at(&[I(k)]),
                    format!("region {name:?} has no side: no `hemisphere` and its centre on the midline (x = 0)"),
                ));
            };
            if chosen.iter().any(|c| c.0 == r) {
                return Err(cx.err(&at(&[I(k)]), format!("region {name:?} is named twice")));
            }
            chosen.push((r, left));
        }
        if !(chosen.iter().any(|c| c.1) && chosen.iter().any(|c| !c.1)) {
            return Err(cx.err(
                &at(&[]),
                "the laterality index compares the hemispheres: name regions of both sides",
            ));
        }
        if trial_steps == 0
            || !protocol
                .days
                .iter()
                .any(|d| !d.sessions.is_empty() || d.probe_trials > 0)
        {
            return Err(cx.err(
                &at(&[]),
                "the laterality index compares task activation: the protocol has no session or probe",
            ));
        }
    }
    let both = chosen.iter().any(|c| c.1) && chosen.iter().any(|c| !c.1);
    let task_days = trial_steps > 0
        && protocol
            .days
            .iter()
            .any(|d| !d.sessions.is_empty() || d.probe_trials > 0);
    readouts.bold_laterality = if both && task_days { chosen } else { Vec::new() };
    Ok(())
}

/// A growth curve's own rules (the population's and each element type's): a rate between 0 and 1
/// element per ms, 0 <= eta < eps <= MAX_CALCIUM. Calcium set points are held in f32 on the GPU,
/// with their midpoint and width: far beyond any calcium level (1e6) they would overflow.
fn check_curve<'p>(cx: &Ctx, at: impl Fn(&'static str) -> Vec<Seg<'p>>, c: &ElementCurve) -> Result<()> {
    if !(c.nu_per_ms.is_finite() && (0.0..=1.0).contains(&c.nu_per_ms)) {
        return Err(cx.err(
            &at("nu_per_ms"),
            format!(
                "growth rate {} per ms must be between 0 and 1 element per ms",
                shown(c.nu_per_ms)
            ),
        ));
    }
    if !(c.eta.is_finite() && (0.0..=MAX_CALCIUM).contains(&c.eta)) {
        return Err(cx.err(
            &at("eta"),
            format!("eta {} must be between 0 and {MAX_CALCIUM}", shown(c.eta)),
        ));
    }
    if !(c.eps.is_finite() && c.eps > c.eta && c.eps <= MAX_CALCIUM) {
        return Err(cx.err(
            &at("eps"),
            format!(
                "eps {} must exceed eta {} (the curve grows between them) and be at most {MAX_CALCIUM}",
                shown(c.eps),
                shown(c.eta)
            ),
        ));
    }
    Ok(())
}

/// A population's growth, checked (`pp`: the population's path, or `connectome` for the growth it
/// gives its generated populations).
fn population_growth(cx: &Ctx, pp: &[Seg], gr: &Growth) -> Result<GrowthModel> {
    use Seg::Field as F;
    let at = |f: &'static str| with(pp, &[F("growth"), F(f)]);
    check_curve(
        cx,
        at,
        &ElementCurve {
            eta: gr.eta,
            eps: gr.eps,
            nu_per_ms: gr.nu_per_ms,
            capacity: MAX_ELEMENTS as u32,
        },
    )?;
    for (f, v) in [("tau_ca_ms", gr.tau_ca_ms), ("beta_ca", gr.beta_ca)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(cx.err(&at(f), format!("{f} {v} must be > 0")));
        }
    }
    if !(gr.vacant_decay.is_finite() && (0.0..=1.0).contains(&gr.vacant_decay)) {
        return Err(cx.err(
            &at("vacant_decay"),
            format!(
                "vacant_decay {} must be between 0 and 1 (a fraction of the vacant elements per update)",
                shown(gr.vacant_decay)
            ),
        ));
    }
    if let Some(c) = gr.calcium_init
        && !(c.is_finite() && (0.0..=MAX_CALCIUM).contains(&c))
    {
        return Err(cx.err(
            &at("calcium_init"),
            format!("calcium_init {} must be between 0 and {MAX_CALCIUM}", shown(c)),
        ));
    }
    growth_model(cx, pp, gr)
}

/// A population's validated growth with its element types (`pp`: the population's path): each
/// type named once, one axon type at most, every element's curve as the population's must be.
fn growth_model(cx: &Ctx, pp: &[Seg], gr: &Growth) -> Result<GrowthModel> {
    use Seg::{Field as F, Index as I};
    let pop = ElementCurve {
        eta: gr.eta,
        eps: gr.eps,
        nu_per_ms: gr.nu_per_ms,
        capacity: MAX_ELEMENTS as u32,
    };
    let mut m = GrowthModel {
        eta: gr.eta,
        eps: gr.eps,
        nu_per_ms: gr.nu_per_ms,
        tau_ca_ms: gr.tau_ca_ms,
        beta_ca: gr.beta_ca,
        calcium_init: gr.calcium_init.unwrap_or(gr.eps),
        vacant_decay: gr.vacant_decay,
        axon_inhibitory: None,
        axon: pop,
        dendrite_ex: Some(pop),
        dendrite_in: None,
        typed_dendrites: gr
            .elements
            .iter()
            .any(|e| matches!(e.kind, ElementKind::DendriteEx | ElementKind::DendriteIn)),
    };
    if m.typed_dendrites {
        m.dendrite_ex = None;
    }
    for (j, e) in gr.elements.iter().enumerate() {
        let at = |f: &'static str| with(pp, &[F("growth"), F("elements"), I(j), F(f)]);
        if gr.elements[..j].iter().any(|o| o.kind == e.kind) {
            return Err(cx.err(&at("kind"), format!("element type {:?} named twice", e.kind)));
        }
        let axon = matches!(e.kind, ElementKind::AxonEx | ElementKind::AxonIn);
        if axon && m.axon_inhibitory.is_some() {
            return Err(cx.err(
                &at("kind"),
                format!(
                    "a second axon type {:?}: a population's axon is excitatory or inhibitory",
                    e.kind
                ),
            ));
        }
        let c = ElementCurve {
            eta: e.eta.unwrap_or(gr.eta),
            eps: e.eps.unwrap_or(gr.eps),
            nu_per_ms: e.nu_per_ms.unwrap_or(gr.nu_per_ms),
            capacity: e.capacity.unwrap_or(MAX_ELEMENTS as u32),
        };
        check_curve(cx, at, &c)?;
        if !(1..=MAX_ELEMENTS as u32).contains(&c.capacity) {
            return Err(cx.err(
                &at("capacity"),
                format!(
                    "capacity {} must be between 1 and {} elements a neuron",
                    c.capacity, MAX_ELEMENTS as u32
                ),
            ));
        }
        match e.kind {
            ElementKind::AxonEx | ElementKind::AxonIn => {
                m.axon_inhibitory = Some(e.kind == ElementKind::AxonIn);
                m.axon = c;
            }
            ElementKind::DendriteEx => m.dendrite_ex = Some(c),
            ElementKind::DendriteIn => m.dendrite_in = Some(c),
        }
    }
    Ok(m)
}

/// Whether a sprouting rule's synapses are inhibitory: by the source's axon type where it
/// declares one (the weight's sign must agree), else by the weight's sign. The rule's dendrite,
/// named or implied, must match that sign and exist on a target with dendrite types.
fn sprout_type(
    cx: &Ctx,
    rp: &[Seg],
    r: &Sprout,
    weight: f64,
    source: &PopulationModel,
    target: &PopulationModel,
) -> Result<bool> {
    use Seg::Field as F;
    let (Some(gs), Some(gt)) = (&source.growth, &target.growth) else {
        return Ok(weight < 0.0);
    };
    let inhibitory = match gs.axon_inhibitory {
        Some(inh) => {
            if (inh && weight > 0.0) || (!inh && weight < 0.0) {
                let kind = if inh { "AxonIn" } else { "AxonEx" };
                return Err(cx.err(
                    &with(rp, &[F("weight")]),
                    format!(
                        "weight {} has the wrong sign for the synapses of {:?}'s {kind} axon",
                        shown(weight),
                        source.name
                    ),
                ));
            }
            inh
        }
        None => weight < 0.0,
    };
    let (sign, matching) = if inhibitory {
        ("an inhibitory", ElementKind::DendriteIn)
    } else {
        ("an excitatory", ElementKind::DendriteEx)
    };
    if let Some(d) = r.dendrite {
        if d != matching {
            return Err(cx.err(
                &with(rp, &[F("dendrite")]),
                format!(
                    "{d:?} cannot take the synapses of {sign} axon ({:?}): they pair with {matching:?}",
                    source.name
                ),
            ));
        }
        if !gt.typed_dendrites {
            return Err(cx.err(
                &with(rp, &[F("dendrite")]),
                format!(
                    "population {:?} declares no dendrite types in its growth `elements`: its one spine pool takes every rule",
                    target.name
                ),
            ));
        }
    }
    let has = if inhibitory {
        gt.dendrite_in.is_some()
    } else {
        gt.dendrite_ex.is_some()
    };
    if gt.typed_dendrites && !has {
        return Err(cx.err(
            &with(rp, &[F("to")]),
            format!(
                "population {:?} has no {matching:?} element for the synapses of {sign} axon ({:?})",
                target.name, source.name
            ),
        ));
    }
    Ok(inhibitory)
}
