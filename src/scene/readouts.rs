//! Validation of the ICMS mapping readout (`Icms`): its sites, stimulus and days.

use super::locate::Seg;
use super::model::LfpModel;
use super::model::{ICMS_MAX_CURRENTS, ICMS_MAX_DAYS, ICMS_MAX_SITES};
use super::model::{IcmsModel, ProtocolModel, ReadoutsModel, RegionModel, TaskModel};
use super::schema::{IcmsReadout, Readout, Scene};
use super::validate::Ctx;
use crate::error::Result;
use std::collections::HashMap;

/// The grid sites of a region: points `spacing` apart in the x-y plane through its centre, on a
/// lattice anchored at the centre, no farther from it than its radius; row by row (y, then x).
pub fn grid(region: &RegionModel, spacing: f64) -> Vec<[f64; 3]> {
    let k = (region.radius_mm / spacing).floor() as i64;
    let mut sites = Vec::new();
    for j in -k..=k {
        for i in -k..=k {
            let (dx, dy) = (i as f64 * spacing, j as f64 * spacing);
            if dx * dx + dy * dy <= region.radius_mm * region.radius_mm * (1.0 + 1e-12) {
                let c = region.centre_mm;
                sites.push([c[0] + dx, c[1] + dy, c[2]]);
            }
        }
    }
    sites
}

/// The scene's `Icms` readout, validated: a task (its output groups are the responses) and a
/// protocol (the days), regions that exist, sites inside a region, a positive spacing and
/// radius, increasing positive currents, a train at least one step long with pulses at least one
/// step apart, increasing days of the protocol (days after its end are not mapped).
pub(super) fn icms(
    cx: &Ctx,
    scene: &Scene,
    readouts: &mut ReadoutsModel,
    region_names: &HashMap<String, usize>,
    regions: &[RegionModel],
    protocol: Option<&ProtocolModel>,
    task: Option<&TaskModel>,
) -> Result<()> {
    use Seg::{Field as F, Index as I};
    let mut found: Option<(usize, &IcmsReadout)> = None;
    for (i, r) in scene.readouts.iter().enumerate() {
        if let Readout::Icms(m) = r {
            if found.is_some() {
                return Err(cx.err(
                    &[F("readouts"), I(i)],
                    "a second `Icms` readout: give all its regions and sites in one",
                ));
            }
            found = Some((i, m));
        }
    }
    let Some((i, m)) = found else {
        return Ok(());
    };
    let at = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
        [F("readouts"), I(i)].into_iter().chain(rest.iter().cloned()).collect()
    };
    if task.is_none() {
        return Err(cx.err(
            &at(&[]),
            "ICMS maps which output group responds: the scene has no task (its outputs are the movements)",
        ));
    }
    let Some(protocol) = protocol else {
        return Err(cx.err(
            &at(&[F("days")]),
            "mapping days are days of a protocol: the scene has none",
        ));
    };
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(m.spacing_mm) {
        return Err(cx.err(
            &at(&[F("spacing_mm")]),
            format!("spacing {} mm must be > 0", m.spacing_mm),
        ));
    }
    if !positive(m.radius_mm) {
        return Err(cx.err(&at(&[F("radius_mm")]), format!("radius {} mm must be > 0", m.radius_mm)));
    }
    let mut sites = Vec::new();
    for (k, name) in m.regions.iter().enumerate() {
        let Some(&r) = region_names.get(name) else {
            let mut known: Vec<&str> = region_names.keys().map(String::as_str).collect();
            known.sort();
            return Err(cx.err(
                &at(&[F("regions"), I(k)]),
                format!("unknown region {name:?}; regions are: {}", known.join(", ")),
            ));
        };
        if m.regions[..k].contains(name) {
            return Err(cx.err(&at(&[F("regions"), I(k)]), format!("region {name:?} is named twice")));
        }
        sites.extend(grid(&regions[r], m.spacing_mm).into_iter().map(|p| (r, p)));
    }
    for (k, s) in m.sites.iter().enumerate() {
        let p = [s.0, s.1, s.2];
        if !p.iter().all(|x| x.is_finite()) {
            return Err(cx.err(&at(&[F("sites"), I(k)]), "a site must be finite"));
        }
        let inside = regions.iter().position(|g| {
            let d2: f64 = (0..3).map(|a| (g.centre_mm[a] - p[a]).powi(2)).sum();
            d2 <= g.radius_mm * g.radius_mm
        });
        let Some(r) = inside else {
            return Err(cx.err(
                &at(&[F("sites"), I(k)]),
                format!(
                    "site ({}, {}, {}) mm is outside every region: a site stimulates the region it lies in",
                    p[0], p[1], p[2]
                ),
            ));
        };
        sites.push((r, p));
    }
    if sites.is_empty() {
        return Err(cx.err(
            &at(&[F("regions")]),
            "no site to stimulate: name `regions` to map or `sites`",
        ));
    }
    if sites.len() > ICMS_MAX_SITES {
        return Err(cx.err(
            &at(&[F("spacing_mm")]),
            format!(
                "{} sites: at most {ICMS_MAX_SITES} (each costs a train per current); widen the spacing",
                sites.len()
            ),
        ));
    }
    if m.currents.is_empty() || m.currents.len() > ICMS_MAX_CURRENTS {
        return Err(cx.err(
            &at(&[F("currents")]),
            format!("{} currents: give 1 to {ICMS_MAX_CURRENTS}", m.currents.len()),
        ));
    }
    for (k, &c) in m.currents.iter().enumerate() {
        if !positive(c) {
            return Err(cx.err(&at(&[F("currents"), I(k)]), format!("current {c} must be > 0")));
        }
        if k > 0 && c <= m.currents[k - 1] {
            return Err(cx.err(
                &at(&[F("currents"), I(k)]),
                "currents must increase (the threshold is the first that evokes a response)",
            ));
        }
    }
    let dt = scene.dt_ms;
    let steps = |field: &'static str, ms: f64, least: f64| {
        if ms.is_finite() && ms >= least {
            Ok((ms / dt).round() as u64)
        } else {
            Err(cx.err(&at(&[F(field)]), format!("{field} {ms} ms must be at least {least} ms")))
        }
    };
    let train_steps = steps("train_ms", m.train_ms, dt)?;
    let pulse_every_steps = steps("pulse_every_ms", m.pulse_every_ms, dt)?;
    let rest_steps = steps("rest_ms", m.rest_ms, 0.0)?;
    if m.days.is_empty() || m.days.len() > ICMS_MAX_DAYS {
        return Err(cx.err(
            &at(&[F("days")]),
            format!("{} mapping days: give 1 to {ICMS_MAX_DAYS}", m.days.len()),
        ));
    }
    let mut days = Vec::new();
    for (k, &d) in m.days.iter().enumerate() {
        if k > 0 && d <= m.days[k - 1] {
            return Err(cx.err(&at(&[F("days"), I(k)]), "mapping days must increase"));
        }
        if d < protocol.first_day {
            return Err(cx.err(
                &at(&[F("days"), I(k)]),
                format!("day {d} is before the protocol's first day, {}", protocol.first_day),
            ));
        }
        if d <= protocol.last_day {
            days.push(d);
        }
    }
    if days.is_empty() {
        return Err(cx.err(
            &at(&[F("days")]),
            format!(
                "no mapping day falls within the protocol (days {} to {})",
                protocol.first_day, protocol.last_day
            ),
        ));
    }
    readouts.icms = Some(IcmsModel {
        sites,
        spacing_mm: m.spacing_mm,
        radius_mm: m.radius_mm,
        currents: m.currents.clone(),
        train_steps,
        pulse_every_steps,
        rest_steps,
        days,
    });
    Ok(())
}

/// The scene's `Lfp` readout, validated: once, a window of 64 to 65 536 steps, a highest
/// frequency above 0 and at most the Nyquist frequency.
pub(super) fn lfp(cx: &Ctx, scene: &Scene, readouts: &mut ReadoutsModel) -> Result<()> {
    use Seg::{Field as F, Index as I};
    for (i, r) in scene.readouts.iter().enumerate() {
        let Readout::Lfp(m) = r else {
            continue;
        };
        if readouts.lfp.is_some() {
            return Err(cx.err(
                &[F("readouts"), I(i)],
                "a second `Lfp` readout: one records every region",
            ));
        }
        let steps = m.window_ms / scene.dt_ms;
        if !(steps.is_finite() && (64.0..=65536.0).contains(&steps.round())) {
            return Err(cx.err(
                &[F("readouts"), I(i), F("window_ms")],
                format!(
                    "window {} ms is {} steps of {} ms: give 64 to 65536 steps",
                    m.window_ms,
                    steps.round(),
                    scene.dt_ms
                ),
            ));
        }
        let nyquist = 500.0 / scene.dt_ms;
        if !(m.max_hz.is_finite() && m.max_hz > 0.0 && m.max_hz <= nyquist) {
            return Err(cx.err(
                &[F("readouts"), I(i), F("max_hz")],
                format!(
                    "highest frequency {} Hz must be > 0 and at most the Nyquist frequency, {nyquist} Hz",
                    m.max_hz
                ),
            ));
        }
        readouts.lfp = Some(LfpModel {
            window_steps: steps.round() as u32,
            max_hz: m.max_hz,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(radius: f64) -> RegionModel {
        RegionModel {
            name: "M1".into(),
            centre_mm: [1.0, 2.0, 3.0],
            radius_mm: radius,
            inner_radius_mm: 0.0,
            hemisphere: None,
        }
    }

    #[test]
    fn a_grid_covers_the_disc_through_the_centre() {
        // Radius 2, spacing 1: the lattice points with i^2 + j^2 <= 4 (13 of them).
        let g = grid(&region(2.0), 1.0);
        assert_eq!(g.len(), 13);
        assert!(g.contains(&[1.0, 2.0, 3.0]));
        assert!(g.contains(&[3.0, 2.0, 3.0]) && g.contains(&[1.0, 0.0, 3.0]));
        assert!(!g.contains(&[3.0, 3.0, 3.0]), "(2, 1) is outside radius 2");
        assert!(g.iter().all(|p| p[2] == 3.0));
        // Row by row: y rises, then x within a row.
        assert_eq!(g[0], [1.0, 0.0, 3.0]);
        // A spacing wider than the radius leaves the centre alone.
        assert_eq!(grid(&region(0.4), 1.0), vec![[1.0, 2.0, 3.0]]);
    }
}
