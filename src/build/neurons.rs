//! Per-neuron parameters, initial state and positions, drawn from the model's distributions.

use crate::layout::{NeuronExt, NeuronParams, NeuronState};
use crate::rng::{Draws, stream};
use crate::scene::Param;
use crate::scene::model::{CondExpModel, Leak, LifModel, NeuronKind, PscAlphaModel, RegionModel};

/// One neuron as built: parameters, initial state, and the two-channel models' further state and
/// parameters (layout::NeuronExt; zero for the other models).
pub struct Built {
    pub params: NeuronParams,
    pub state: NeuronState,
    pub ext: NeuronExt,
    pub params_ext: NeuronParams,
}

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
pub fn neuron(key: u32, n: u32, pop: u32, kind: &NeuronKind, dt: f64) -> Built {
    let mut d = Draws::new(key, stream::PARAMS, n, 0);
    let r = d.unit();
    let (params, state) = match kind {
        NeuronKind::IafPscAlpha(m) => return psc_alpha(m, r, &mut d, dt, pop),
        NeuronKind::IafCondExp(m) => return cond_exp(m, r, &mut d, dt, pop),
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
    };
    Built {
        params,
        state,
        ext: [0.0; 4],
        params_ext: NeuronParams::default(),
    }
}

/// (1 - e^-x) / x and (1 - e^-x (1 + x)) / x^2, by their series near 0 (where the quotients
/// cancel), so that the alpha propagators have no pole at tau_syn = tau_m: that case is their limit.
pub fn phi12(x: f64) -> (f64, f64) {
    if x.abs() < 0.1 {
        // phi1 = sum (-x)^k / (k + 1)!, phi2 = sum (-1)^k (k + 1) x^k / (k + 2)!; f = (-x)^k / (k + 2)!.
        let (mut p1, mut p2, mut f) = (0.0, 0.0, 0.5);
        for k in 0..16 {
            p1 += f * (k as f64 + 2.0);
            p2 += f * (k as f64 + 1.0);
            f *= -x / (k as f64 + 3.0);
        }
        (p1, p2)
    } else {
        let e = (-x).exp();
        (-(-x).exp_m1() / x, (-(-x).exp_m1() - x * e) / (x * x))
    }
}

/// NEST's iaf_psc_alpha: exact propagators over one step h (Rotter & Diesmann 1999) of
/// dV/dt = -V/tau_m + (I_ex + I_in + I_e)/C, each current with dI/dt = dI - I/tau_syn and
/// d(dI)/dt = -dI/tau_syn. With k = 1/tau_syn - 1/tau_m:
/// P31 = h^2/C e^(-h/tau_m) phi2(k h), P32 = h/C e^(-h/tau_m) phi1(k h) (layout::NeuronParams).
fn psc_alpha(m: &PscAlphaModel, r: f64, d: &mut Draws, h: f64, pop: u32) -> Built {
    let c = sample(&m.c_m_pf, r, d);
    let tau_m = sample(&m.tau_m_ms, r, d);
    let tau_ex = sample(&m.tau_syn_ex_ms, r, d);
    let tau_in = sample(&m.tau_syn_in_ms, r, d);
    let t_ref = sample(&m.t_ref_ms, r, d);
    let e_l = sample(&m.e_l_mv, r, d);
    let v_reset = sample(&m.v_reset_mv, r, d);
    let v_th = sample(&m.v_th_mv, r, d);
    let i_e = sample(&m.i_e_pa, r, d);
    let v0 = sample(&m.v_init_mv, r, d);
    let p33 = (-h / tau_m).exp();
    let p3x = |tau: f64| {
        let (phi1, phi2) = phi12((1.0 / tau - 1.0 / tau_m) * h);
        (h * h / c * p33 * phi2, h / c * p33 * phi1)
    };
    let (p31_ex, p32_ex) = p3x(tau_ex);
    let (p31_in, p32_in) = p3x(tau_in);
    let (p11_ex, p11_in) = ((-h / tau_ex).exp(), (-h / tau_in).exp());
    let e = std::f64::consts::E;
    Built {
        params: NeuronParams {
            p0: p33 as f32,
            p1: p31_ex as f32,
            p2: (-tau_m / c * (-h / tau_m).exp_m1()) as f32,
            p3: p32_ex as f32,
            p4: (v_th - e_l) as f32,
            p5: (v_reset - e_l) as f32,
            p6: i_e as f32,
            p7: (t_ref / h).round() as f32,
        },
        state: NeuronState {
            v: (v0 - e_l) as f32,
            u: 0.0,
            refr: 0,
            pop,
        },
        ext: [0.0; 4],
        params_ext: NeuronParams {
            p0: p31_in as f32,
            p1: p32_in as f32,
            p2: p11_ex as f32,
            p3: (h * p11_ex) as f32,
            p4: p11_in as f32,
            p5: (h * p11_in) as f32,
            p6: (e / tau_ex) as f32,
            p7: (e / tau_in) as f32,
        },
    }
}

/// NEST's iaf_cond_exp with the exponential-Euler step of shaders/neurons.wgsl (docs/MODEL.md):
/// the conductances' decay per step and their mean over a step per unit at its start.
fn cond_exp(m: &CondExpModel, r: f64, d: &mut Draws, h: f64, pop: u32) -> Built {
    let c = sample(&m.c_m_pf, r, d);
    let g_l = match &m.leak {
        Leak::GNs(g) => sample(g, r, d),
        Leak::TauMs(tau) => c / sample(tau, r, d),
    };
    let tau_ex = sample(&m.tau_syn_ex_ms, r, d);
    let tau_in = sample(&m.tau_syn_in_ms, r, d);
    let t_ref = sample(&m.t_ref_ms, r, d);
    let e_l = sample(&m.e_l_mv, r, d);
    let e_ex = sample(&m.e_ex_mv, r, d);
    let e_in = sample(&m.e_in_mv, r, d);
    let v_reset = sample(&m.v_reset_mv, r, d);
    let v_th = sample(&m.v_th_mv, r, d);
    let i_e = sample(&m.i_e_pa, r, d);
    let v0 = sample(&m.v_init_mv, r, d);
    let mean = |tau: f64| -tau / h * (-h / tau).exp_m1();
    Built {
        params: NeuronParams {
            p0: (-h / tau_ex).exp() as f32,
            p1: (-h / tau_in).exp() as f32,
            p2: (-h / c) as f32,
            p3: g_l as f32,
            p4: v_th as f32,
            p5: v_reset as f32,
            p6: i_e as f32,
            p7: (t_ref / h).round() as f32,
        },
        state: NeuronState {
            v: v0 as f32,
            u: 0.0,
            refr: 0,
            pop,
        },
        ext: [0.0; 4],
        params_ext: NeuronParams {
            p0: mean(tau_ex) as f32,
            p1: mean(tau_in) as f32,
            p2: (g_l * e_l) as f32,
            p3: e_ex as f32,
            p4: e_in as f32,
            ..Default::default()
        },
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
