//! The LFP proxy (the `Lfp` readout; Mazzoni et al. 2015): each region's excitatory and
//! inhibitory synaptic currents, estimated from the spikes of every population in each step
//! (recorded by the `neurons` stage, on the GPU and its CPU twin alike) and the couplings of the
//! network as built, combined as `LFP(t) = I_E(t - 6 ms) - 1.65 I_I(t)`, and its power spectrum.
//!
//! The coupling of population p onto region r is the summed weight of p's synapses onto r's
//! neurons per neuron of p, apart for excitatory (w > 0) and inhibitory (w < 0, as |w|) weights,
//! with their mean delay (weighted by |w|). A spike of p at step t then brings `exc[p][r]` to r's
//! excitatory current at step `t + delay`, which decays by the targets' synaptic factor a step
//! (LIF: exp(-dt / tau_syn); Izhikevich neurons take their input in the step it arrives: 0; so
//! do iaf_psc_alpha and iaf_cond_exp here, whose alpha currents and conductances the proxy does
//! not follow yet). The
//! currents onto r are scaled by the fraction of r's neurons alive. Estimates, not measurements:
//! a spike brings its population's mean coupling (not its own synapses'), the couplings are those
//! as built (plasticity and rewiring after build are not followed), and inputs from outside the
//! network (Poisson, currents) are left out.

use crate::build::Network;
use crate::layout::{EMPTY, STATUS_ALIVE};
use crate::scene::model::LfpModel;

/// Mazzoni et al. 2015: the weight of the inhibitory current, and the excitatory current's lead.
pub const GABA_WEIGHT: f64 = 1.65;
pub const AMPA_LAG_MS: f64 = 6.0;

/// Frequency bands (Hz) of `lfp.csv`: [lo, hi).
pub const BANDS: [(&str, f64, f64); 5] = [
    ("delta", 1.0, 4.0),
    ("theta", 4.0, 8.0),
    ("alpha", 8.0, 13.0),
    ("beta", 13.0, 30.0),
    ("gamma", 30.0, 80.0),
];

/// Intervals shorter than this many steps have no spectrum.
pub const MIN_STEPS: usize = 64;

/// How each population's spikes reach each region (see the module header).
#[derive(Clone, Debug)]
pub struct Coupling {
    n_pops: usize,
    n_regions: usize,
    /// Per (population, region), row-major: excitatory and inhibitory coupling, and the mean
    /// delay of each (steps, rounded).
    exc: Vec<f64>,
    inh: Vec<f64>,
    exc_delay: Vec<usize>,
    inh_delay: Vec<usize>,
    /// Per region: its name, the synaptic current's decay factor a step, and its neurons as
    /// built; per neuron, its region.
    names: Vec<String>,
    decay: Vec<f64>,
    neurons: Vec<u64>,
    region_of: Vec<u32>,
    /// Steps of the excitatory current's lead, the window, the highest frequency written (Hz)
    /// and the step (ms).
    lag: usize,
    window: usize,
    max_hz: f64,
    dt_ms: f64,
}

/// One region's LFP over one sample interval.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LfpStat {
    pub region: String,
    /// Steps analysed.
    pub steps: usize,
    /// Power per band of [`BANDS`] (the power spectral density summed over the band's bins
    /// times their width; the proxy's unit squared).
    pub bands: Vec<f64>,
    /// The frequency (Hz) of the largest power from 1 Hz to `max_hz`.
    pub peak_hz: f64,
    /// The spectrum from the first bin above 0 Hz to `max_hz`: (Hz, power spectral density).
    pub spectrum: Vec<(f64, f64)>,
}

impl Coupling {
    /// The couplings of `net` as built (see the module header); `dt_ms` is the scene's step.
    pub fn new(net: &Network, m: &LfpModel, region_names: &[String], dt_ms: f64) -> Coupling {
        let (n_pops, n_regions) = (net.pops.len(), region_names.len());
        let cells = n_pops * n_regions;
        let (mut exc, mut inh) = (vec![0.0; cells], vec![0.0; cells]);
        let (mut exc_d, mut inh_d) = (vec![0.0; cells], vec![0.0; cells]);
        let region_of = |n: u32| net.pops[net.state[n as usize].pop as usize].region as usize;
        for (slot, &pre) in net.syn_pre.iter().enumerate() {
            if pre == EMPTY {
                continue;
            }
            let cell = net.state[pre as usize].pop as usize * n_regions + region_of(net.target_of(slot));
            let (w, d) = (net.syn_weight[slot] as f64, (net.syn_delay[slot] & 0xfff) as f64);
            if w > 0.0 {
                exc[cell] += w;
                exc_d[cell] += w * d;
            } else if w < 0.0 {
                inh[cell] -= w;
                inh_d[cell] -= w * d;
            }
        }
        let mean_delay = |sum: &[f64], total: &[f64]| -> Vec<usize> {
            sum.iter()
                .zip(total)
                .map(|(&s, &t)| if t > 0.0 { (s / t).round() as usize } else { 0 })
                .collect()
        };
        let (exc_delay, inh_delay) = (mean_delay(&exc_d, &exc), mean_delay(&inh_d, &inh));
        for p in 0..n_pops {
            let count = net.pops[p].count.max(1) as f64;
            for r in 0..n_regions {
                exc[p * n_regions + r] /= count;
                inh[p * n_regions + r] /= count;
            }
        }
        let (mut decay, mut neurons) = (vec![0.0; n_regions], vec![0u64; n_regions]);
        let mut region_of = Vec::with_capacity(net.state.len());
        for (n, st) in net.state.iter().enumerate() {
            let pop = &net.pops[st.pop as usize];
            let r = pop.region as usize;
            region_of.push(pop.region);
            neurons[r] += 1;
            // LIF (exact integration) keeps its synaptic current with P11 = exp(-dt / tau_syn).
            if pop.model == crate::layout::MODEL_LIF {
                decay[r] += net.params[n].p3 as f64;
            }
        }
        for r in 0..n_regions {
            decay[r] /= neurons[r].max(1) as f64;
        }
        Coupling {
            n_pops,
            n_regions,
            exc,
            inh,
            exc_delay,
            inh_delay,
            names: region_names.to_vec(),
            decay,
            neurons,
            region_of,
            lag: (AMPA_LAG_MS / dt_ms).round() as usize,
            window: m.window_steps as usize,
            max_hz: m.max_hz,
            dt_ms,
        }
    }

    /// The proxy of region `r` over `steps` steps of `counts` (step-major, populations within),
    /// with `alive` the fraction of r's neurons alive.
    pub fn proxy(&self, counts: &[u32], steps: usize, r: usize, alive: f64) -> Vec<f64> {
        let (mut ie, mut ii) = (vec![0.0; steps], vec![0.0; steps]);
        for p in 0..self.n_pops {
            let cell = p * self.n_regions + r;
            for (out, w, d) in [
                (&mut ie, self.exc[cell], self.exc_delay[cell]),
                (&mut ii, self.inh[cell], self.inh_delay[cell]),
            ] {
                if w == 0.0 {
                    continue;
                }
                for t in d..steps {
                    out[t] += w * counts[(t - d) * self.n_pops + p] as f64;
                }
            }
        }
        let k = self.decay[r];
        for current in [&mut ie, &mut ii] {
            for t in 1..steps {
                current[t] += k * current[t - 1];
            }
        }
        (0..steps)
            .map(|t| {
                let e = if t >= self.lag { ie[t - self.lag] } else { 0.0 };
                alive * (e - GABA_WEIGHT * ii[t])
            })
            .collect()
    }

    /// Every region's LFP over the interval of `interval` steps whose per-step counts are
    /// `counts` (RawSample::pop_steps), with the neurons' `status` now; none for an interval
    /// shorter than [`MIN_STEPS`].
    pub fn analyse(&self, counts: &[u32], interval: u64, status: &[[u32; 4]]) -> Vec<LfpStat> {
        let steps = (interval as usize).min(self.window);
        if steps < MIN_STEPS || counts.len() < steps * self.n_pops {
            return Vec::new();
        }
        let mut living = vec![0u64; self.n_regions];
        for (st, &r) in status.iter().zip(&self.region_of) {
            if st[0] & STATUS_ALIVE != 0 {
                living[r as usize] += 1;
            }
        }
        (0..self.n_regions)
            .map(|r| {
                let alive = living[r] as f64 / self.neurons[r].max(1) as f64;
                let signal = self.proxy(counts, steps, r, alive);
                let spectrum = spectrum(&signal, self.dt_ms, self.max_hz.max(BANDS[4].2));
                let bands = BANDS.iter().map(|&(_, lo, hi)| band_power(&spectrum, lo, hi)).collect();
                let written: Vec<(f64, f64)> = spectrum.into_iter().filter(|&(f, _)| f <= self.max_hz).collect();
                let peak_hz = written
                    .iter()
                    .filter(|&&(f, _)| f >= 1.0)
                    .fold(
                        (0.0, f64::NEG_INFINITY),
                        |best, &(f, p)| if p > best.1 { (f, p) } else { best },
                    )
                    .0;
                LfpStat {
                    region: self.names[r].clone(),
                    steps,
                    bands,
                    peak_hz,
                    spectrum: written,
                }
            })
            .collect()
    }
}

/// The one-sided power spectral density of `x` (sampled every `dt_ms`), mean removed and
/// Hann-tapered, at the bins k / T from the first above 0 up to `max_hz` (and the Nyquist
/// frequency): `2 |X_k|^2 / (fs sum w^2)`, in the signal's unit squared per Hz.
pub fn spectrum(x: &[f64], dt_ms: f64, max_hz: f64) -> Vec<(f64, f64)> {
    let n = x.len();
    if n < 2 {
        return Vec::new();
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let w: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect();
    let y: Vec<f64> = x.iter().zip(&w).map(|(v, w)| (v - mean) * w).collect();
    let fs = 1000.0 / dt_ms;
    let norm = 2.0 / (fs * w.iter().map(|w| w * w).sum::<f64>());
    let df = fs / n as f64;
    // Bin k's frequency, rounded to 1e-9 Hz so that k / T lands on the band edges it should
    // (1000 / (10 000 x 0.1) is 0.999... in floating point).
    let freq = |k: usize| (k as f64 * df * 1e9).round() / 1e9;
    let top = ((max_hz.min(fs / 2.0)) / df).floor() as usize;
    (1..=top.min(n / 2))
        .map(|k| {
            // One bin of the DFT, with the twiddle by recurrence (error ~1e-12 over 65 536 steps).
            let theta = -2.0 * std::f64::consts::PI * k as f64 / n as f64;
            let (c, s) = (theta.cos(), theta.sin());
            let (mut re, mut im, mut wr, mut wi) = (0.0, 0.0, 1.0f64, 0.0f64);
            for &v in &y {
                re += v * wr;
                im += v * wi;
                (wr, wi) = (wr * c - wi * s, wr * s + wi * c);
            }
            (freq(k), norm * (re * re + im * im))
        })
        .collect()
}

/// The power in [lo, hi): the density of the bins there times the bin width.
pub fn band_power(spectrum: &[(f64, f64)], lo: f64, hi: f64) -> f64 {
    let df = match spectrum {
        [a, b, ..] => b.0 - a.0,
        [a] => a.0,
        [] => return 0.0,
    };
    spectrum
        .iter()
        .filter(|&&(f, _)| f >= lo && f < hi)
        .map(|&(_, p)| p * df)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_has_its_power_at_its_frequency() {
        // 10 Hz, amplitude 2, sampled every ms for 1 s: the density peaks at 10 Hz, and summed over
        // the peak's bins the power is the variance, A^2 / 2 = 2 (Parseval; Hann spreads it over
        // three bins).
        let x: Vec<f64> = (0..1000)
            .map(|i| 2.0 * (2.0 * std::f64::consts::PI * 10.0 * i as f64 * 1e-3).sin() + 5.0)
            .collect();
        let s = spectrum(&x, 1.0, 100.0);
        assert_eq!(s.len(), 100);
        assert_eq!(s[0].0, 1.0);
        let peak = s.iter().fold((0.0, 0.0), |b, &(f, p)| if p > b.1 { (f, p) } else { b });
        assert_eq!(peak.0, 10.0);
        let power = band_power(&s, 8.0, 13.0);
        assert!((power - 2.0).abs() < 1e-6, "{power}");
        assert!(band_power(&s, 30.0, 80.0) < 1e-12);
    }

    #[test]
    fn bins_land_on_whole_frequencies_at_a_tenth_of_a_millisecond() {
        // 10 000 steps of 0.1 ms: bins every 1 Hz exactly, so 1-4 Hz holds bins 1, 2 and 3.
        let x: Vec<f64> = (0..10_000).map(|i| (i % 7) as f64).collect();
        let s = spectrum(&x, 0.1, 5.0);
        assert_eq!(s.iter().map(|p| p.0).collect::<Vec<_>>(), vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(band_power(&s, 1.0, 4.0), s[0].1 + s[1].1 + s[2].1);
    }

    #[test]
    fn white_noise_has_a_flat_density_of_its_variance_over_half_the_rate() {
        // Uniform noise of variance 1/12 at 1 kHz: density 2 * (1/12) / 1000 per Hz.
        let mut state = 12345u64;
        let x: Vec<f64> = (0..8192)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect();
        let s = spectrum(&x, 1.0, 500.0);
        let mean = s.iter().map(|p| p.1).sum::<f64>() / s.len() as f64;
        let expected = 2.0 / 12.0 / 1000.0;
        assert!((mean / expected - 1.0).abs() < 0.05, "{mean} vs {expected}");
    }
}
