//! Lesions planned on the host from the model and the neurons' positions: which neurons die,
//! which survivors lose excitability and how close each is to the lesion, and which tracts are
//! cut. The engine applies the plan (`Engine::lesion`: shaders/lesion.wgsl and its twin).

use crate::build::Network;
use crate::layout::{STATUS_ALIVE, STATUS_SLOT_SHIFT};
use crate::rng;
use crate::scene::Model;
use crate::scene::model::{LesionKindModel, LesionModel};

/// Closeness below which a neuron is not counted as near a lesion (its window factor is ~1).
const NEAR_MIN: f32 = 1e-3;

/// What a lesion does, ready for `Engine::lesion`.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Every neuron's status words after the lesion.
    pub status: Vec<[u32; 4]>,
    /// Region x region: 1 where the tract is cut.
    pub cut: Vec<u32>,
    /// Neurons this lesion killed, per region.
    pub killed: Vec<u64>,
}

/// Plans lesion number `index` (its slot) on top of the current `status`. A survivor near the
/// lesion (or in its penumbra) takes this lesion's slot, so it follows the latest lesion that
/// reaches it.
pub fn plan(model: &Model, net: &Network, status: &[[u32; 4]], lesion: &LesionModel, index: usize) -> Plan {
    let regions = model.regions.len();
    let mut status = status.to_vec();
    let mut cut = vec![0u32; regions * regions];
    let mut killed = vec![0u64; regions];
    let slot = (index as u32) << STATUS_SLOT_SHIFT;
    let region_of = |n: usize| model.populations[model.population_of(n as u32)].region;
    let touch = |st: &mut [u32; 4], penumbra: f32, near: f32| {
        st[0] = STATUS_ALIVE | slot;
        st[1] = penumbra.to_bits();
        st[2] = near.to_bits();
    };
    // A window on a whole region (fraction and region lesions, tract cuts): its survivors at n = 1.
    let window_on = |status: &mut [[u32; 4]], region: usize| {
        if lesion.window.is_some() {
            for (n, st) in status.iter_mut().enumerate() {
                if st[0] & STATUS_ALIVE != 0 && region_of(n) == region {
                    touch(st, 0.0, 1.0);
                }
            }
        }
    };
    match &lesion.kind {
        LesionKindModel::Focal {
            centre_mm,
            core_mm,
            penumbra_mm,
            ..
        } => {
            for (n, st) in status.iter_mut().enumerate() {
                if st[0] & STATUS_ALIVE == 0 {
                    continue;
                }
                let p = net.positions[n];
                let d = ((0..3).map(|k| (p[k] as f64 - centre_mm[k]).powi(2)).sum::<f64>()).sqrt();
                if d <= *core_mm {
                    st[0] &= !STATUS_ALIVE;
                    killed[region_of(n)] += 1;
                    continue;
                }
                let beyond = d - core_mm;
                // Place in the penumbra: 1 at the core's edge, 0 at the penumbra's.
                let pen = if beyond < *penumbra_mm {
                    (1.0 - beyond / penumbra_mm) as f32
                } else {
                    0.0
                };
                let near = lesion
                    .window
                    .as_ref()
                    .map_or(0.0, |w| (-beyond / w.radius_mm).exp() as f32);
                if pen > 0.0 || near >= NEAR_MIN {
                    touch(st, pen, if near >= NEAR_MIN { near } else { 0.0 });
                }
            }
        }
        LesionKindModel::Fraction { population, fraction } => {
            let p = &model.populations[*population];
            kill_fraction(model, &mut status, &mut killed, p, *fraction, index);
            window_on(&mut status, p.region);
        }
        LesionKindModel::Region { region, fraction } => {
            for p in model.populations.iter().filter(|p| p.region == *region) {
                kill_fraction(model, &mut status, &mut killed, p, *fraction, index);
            }
            window_on(&mut status, *region);
        }
        LesionKindModel::TractCut { from, to } => {
            cut[from * regions + to] = 1;
            window_on(&mut status, *to);
        }
    }
    Plan { status, cut, killed }
}

/// Kills `round(fraction * count)` of population `p`'s neurons, the living ones with the lowest
/// hash of (lesion slot, neuron) first.
fn kill_fraction(
    model: &Model,
    status: &mut [[u32; 4]],
    killed: &mut [u64],
    p: &crate::scene::PopulationModel,
    fraction: f64,
    index: usize,
) {
    let key = rng::seed_key(model.seed);
    let mut living: Vec<(u32, u32)> = (p.first..p.first + p.count)
        .filter(|&n| status[n as usize][0] & STATUS_ALIVE != 0)
        .map(|n| (rng::draw(rng::base(key, rng::stream::LESION, index as u32, n), 0), n))
        .collect();
    living.sort_unstable();
    let k = (fraction * p.count as f64).round() as usize;
    for &(_, n) in living.iter().take(k) {
        status[n as usize][0] &= !STATUS_ALIVE;
        killed[p.region] += 1;
    }
}

/// The volume of tissue lost (mm^3): each region's volume times the share of its neurons dead.
pub fn volume_mm3(model: &Model, status: &[[u32; 4]]) -> f64 {
    model
        .regions
        .iter()
        .zip(census(model, status))
        .map(|(reg, (all, living))| {
            let v = 4.0 / 3.0 * std::f64::consts::PI * (reg.radius_mm.powi(3) - reg.inner_radius_mm.powi(3));
            v * (all - living) as f64 / all.max(1) as f64
        })
        .sum()
}

/// Per region: (neurons, living neurons).
pub fn census(model: &Model, status: &[[u32; 4]]) -> Vec<(u64, u64)> {
    let mut counts = vec![(0u64, 0u64); model.regions.len()];
    for p in &model.populations {
        let c = &mut counts[p.region];
        c.0 += p.count as u64;
        c.1 += (p.first..p.first + p.count)
            .filter(|&n| status[n as usize][0] & STATUS_ALIVE != 0)
            .count() as u64;
    }
    counts
}

/// A lesion's time courses `days` after it (`Globals` per lesion slot).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Course {
    /// Excitability lost at the penumbra's inner edge: `excitability_loss exp(-days / recovery_days)`.
    pub deficit: f32,
    /// The windows' extra factors on learning and on element growth (curve - 1).
    pub learn_window: f32,
    pub grow_window: f32,
    /// Tonic inhibitory current at the penumbra's inner edge, before drugs.
    pub tonic: f32,
}

/// The lesion's time courses `days` after it.
pub fn time_course(lesion: &LesionModel, days: f64) -> Course {
    let (deficit, tonic) = match &lesion.kind {
        LesionKindModel::Focal {
            excitability_loss,
            recovery_days,
            tonic,
            ..
        } => (
            excitability_loss * (-days / recovery_days).exp(),
            tonic
                .as_ref()
                .map_or(0.0, |(current, course)| current * course.at(days)),
        ),
        _ => (0.0, 0.0),
    };
    let (learn_window, grow_window) = lesion
        .window
        .as_ref()
        .map_or((0.0, 0.0), |w| (w.learning.at(days) - 1.0, w.growth.at(days) - 1.0));
    Course {
        deficit: deficit as f32,
        learn_window: learn_window as f32,
        grow_window: grow_window as f32,
        tonic: tonic as f32,
    }
}
