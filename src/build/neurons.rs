//! Per-neuron parameters, initial state and positions, drawn from the model's distributions.

use crate::layout::{NeuronParams, NeuronState};
use crate::rng::{Draws, stream};
use crate::scene::Param;
use crate::scene::model::{LifModel, NeuronKind, RegionModel};

/// Draws one value of a parameter. `r` is the neuron's shared uniform (for `R(..)`).
pub fn sample(p: &Param, r: f64, d: &mut Draws) -> f64 {
    match *p {
        Param::Const(x) => x,
        Param::Uniform(lo, hi) => lo + (hi - lo) * d.unit(),
        Param::Normal { mean, sd, min, max } => (mean + sd * d.normal()).clamp(min, max),
        Param::R { base, scale, pow } => base + scale * r.powf(pow),
    }
}

/// Parameters and initial state of neuron `n` (global index) of a population.
pub fn neuron(key: u32, n: u32, pop: u32, kind: &NeuronKind, dt: f64) -> (NeuronParams, NeuronState) {
    let mut d = Draws::new(key, stream::PARAMS, n, 0);
    let r = d.unit();
    match kind {
        NeuronKind::Izhikevich {
            a,
            b,
            c,
            d: dd,
            v_init_mv,
        } => {
            let (a, b, c, dd) = (
                sample(a, r, &mut d),
                sample(b, r, &mut d),
                sample(c, r, &mut d),
                sample(dd, r, &mut d),
            );
            let v = sample(v_init_mv, r, &mut d);
            let params = NeuronParams {
                p0: a as f32,
                p1: b as f32,
                p2: c as f32,
                p3: dd as f32,
                ..Default::default()
            };
            (
                params,
                NeuronState {
                    v: v as f32,
                    u: (b * v) as f32,
                    refr: 0,
                    pop,
                },
            )
        }
        NeuronKind::Lif(m) => lif(m, r, &mut d, dt, pop),
        NeuronKind::Periodic {
            period_steps,
            phase_steps,
            count,
        } => {
            let params = NeuronParams {
                p0: *period_steps as f32,
                p1: *phase_steps as f32,
                p2: *count as f32,
                ..Default::default()
            };
            (
                params,
                NeuronState {
                    pop,
                    ..Default::default()
                },
            )
        }
        NeuronKind::SpikeSource { rate_hz } => {
            let p = sample(rate_hz, r, &mut d) * dt * 1e-3;
            let params = NeuronParams {
                p0: p as f32,
                ..Default::default()
            };
            (
                params,
                NeuronState {
                    pop,
                    ..Default::default()
                },
            )
        }
    }
}

fn lif(m: &LifModel, r: f64, d: &mut Draws, h: f64, pop: u32) -> (NeuronParams, NeuronState) {
    let c = sample(&m.c_m_pf, r, d);
    let tau_m = sample(&m.tau_m_ms, r, d);
    let tau_s = sample(&m.tau_syn_ms, r, d);
    let t_ref = sample(&m.t_ref_ms, r, d);
    let e_l = sample(&m.e_l_mv, r, d);
    let v_reset = sample(&m.v_reset_mv, r, d);
    let v_th = sample(&m.v_th_mv, r, d);
    let i_e = sample(&m.i_e_pa, r, d);
    let v0 = sample(&m.v_init_mv, r, d);
    let p22 = (-h / tau_m).exp();
    let p11 = (-h / tau_s).exp();
    // Exact propagator of dV/dt = -V/tau_m + I/C, dI/dt = -I/tau_s over one step (NEST iaf_psc_exp);
    // the equal-time-constant case is its limit.
    let p21 = if (tau_m - tau_s).abs() < 1e-9 * tau_m {
        h / c * p22
    } else {
        tau_m * tau_s / (c * (tau_m - tau_s)) * (p22 - p11)
    };
    let p20 = tau_m / c * (1.0 - p22);
    let params = NeuronParams {
        p0: p22 as f32,
        p1: p21 as f32,
        p2: p20 as f32,
        p3: p11 as f32,
        p4: (v_th - e_l) as f32,
        p5: (v_reset - e_l) as f32,
        p6: i_e as f32,
        p7: (t_ref / h).round() as f32,
    };
    (
        params,
        NeuronState {
            v: (v0 - e_l) as f32,
            u: 0.0,
            refr: 0,
            pop,
        },
    )
}

/// A position drawn uniformly in the region's ball (mm).
pub fn position(key: u32, n: u32, region: &RegionModel) -> [f32; 3] {
    let mut d = Draws::new(key, stream::POSITION, n, 0);
    // Uniform in the shell between the inner radius and the radius (a ball when the inner is 0).
    let inner = (region.inner_radius_mm / region.radius_mm.max(f64::MIN_POSITIVE)).powi(2);
    loop {
        let p = [2.0 * d.unit() - 1.0, 2.0 * d.unit() - 1.0, 2.0 * d.unit() - 1.0];
        let r2 = p.iter().map(|x| x * x).sum::<f64>();
        if r2 <= 1.0 && r2 >= inner {
            return [0, 1, 2].map(|i| (region.centre_mm[i] + region.radius_mm * p[i]) as f32);
        }
    }
}
