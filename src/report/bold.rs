//! BOLD (the `Bold` readout): a Balloon-Windkessel haemodynamic model per region, driven by the
//! synaptic input the region receives, sampled every repetition time (TR).
//!
//! The drive comes from aggregates the engine already samples (on the GPU or its CPU twin): in
//! each sample interval, the synaptic events arriving in region j are estimated as
//! `sum_i spikes_i * synapses_ij / living_i` (rates.csv, connectivity.csv, lesions.csv), per
//! second. The model's neural input is `x = efficacy * (drive / reference - 1)`, the drive relative
//! to its mean before the first lesion (without a lesion, over the run), held constant over each
//! sample interval (chosen, not measured: it keeps the signal in per cent of a resting baseline
//! whatever the network's size, and with `x >= -efficacy` the flow stays positive).
//!
//! The haemodynamics (Friston et al. 2000; Stephan et al. 2007, eqs. 4-10 and the revised
//! non-linear signal equation 13), integrated by Heun's method every `STEP_S`:
//!
//! ```text
//! ds/dt = x - kappa s - gamma (f - 1)        df/dt = s
//! tau dv/dt = f - v^(1/alpha)                tau dq/dt = f (1 - (1 - E0)^(1/f)) / E0 - v^(1/alpha) q / v
//! BOLD (%) = V0 (k1 (1 - q) + k2 (1 - q/v) + k3 (1 - v)),  k1 = 4.3 nu0 E0 TE, k2 = eps r0 E0 TE, k3 = 1 - eps
//! ```

use super::Table;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The integration step of the haemodynamics (s); its time constants are seconds.
pub const STEP_S: f64 = 0.01;

/// The haemodynamic and signal constants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Balloon {
    /// Neuronal efficacy: the neural input per unit of relative drive. Chosen, not measured: with
    /// `gamma` it sets how far the flow falls when a region falls silent (x = -efficacy), to
    /// `1 - efficacy / gamma` = 0.69, a fall the model follows smoothly; at 0.25 the flow falls
    /// to a fifth and the volume's lag gives a spurious positive rebound of the signal.
    /// (Friston et al. 2000 estimate 0.54, with their faster gamma of 0.41.)
    pub efficacy: f64,
    /// Signal decay kappa (1/s), flow-dependent elimination gamma (1/s), transit time tau (s),
    /// Grubb's exponent alpha, resting oxygen extraction E0: Stephan et al. 2007's priors.
    pub kappa: f64,
    pub gamma: f64,
    pub tau: f64,
    pub alpha: f64,
    pub e0: f64,
    /// Resting venous volume (%), so that BOLD is in per cent signal change; frequency offset nu0
    /// (1/s), intravascular relaxation slope r0 (1/s), echo time TE (s), intra- to extravascular
    /// signal ratio eps: the revised signal equation's constants as The Virtual Brain's
    /// BalloonModel defaults them (1.5 T).
    pub v0: f64,
    pub nu0: f64,
    pub r0: f64,
    pub te: f64,
    pub eps: f64,
}

impl Default for Balloon {
    fn default() -> Self {
        Balloon {
            efficacy: 0.1,
            kappa: 0.64,
            gamma: 0.32,
            tau: 2.0,
            alpha: 0.32,
            e0: 0.4,
            v0: 4.0,
            nu0: 40.3,
            r0: 25.0,
            te: 0.04,
            eps: 0.5,
        }
    }
}

/// The haemodynamic state of one region: signal s, flow f, volume v, deoxyhaemoglobin q.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct State {
    pub s: f64,
    pub f: f64,
    pub v: f64,
    pub q: f64,
}

impl State {
    pub const REST: State = State {
        s: 0.0,
        f: 1.0,
        v: 1.0,
        q: 1.0,
    };
}

impl Balloon {
    fn derivative(&self, y: State, x: f64) -> State {
        // The flow stays positive for x >= -efficacy; a floor keeps the powers defined if not.
        let f = y.f.max(1e-6);
        let v = y.v.max(1e-6);
        let out = v.powf(1.0 / self.alpha);
        State {
            s: x - self.kappa * y.s - self.gamma * (y.f - 1.0),
            f: y.s,
            v: (f - out) / self.tau,
            q: (f * (1.0 - (1.0 - self.e0).powf(1.0 / f)) / self.e0 - out * y.q / v) / self.tau,
        }
    }

    /// One Heun step of `h` seconds under neural input `x`.
    pub fn step(&self, y: State, x: f64, h: f64) -> State {
        let d1 = self.derivative(y, x);
        let p = State {
            s: y.s + h * d1.s,
            f: y.f + h * d1.f,
            v: y.v + h * d1.v,
            q: y.q + h * d1.q,
        };
        let d2 = self.derivative(p, x);
        State {
            s: y.s + 0.5 * h * (d1.s + d2.s),
            f: y.f + 0.5 * h * (d1.f + d2.f),
            v: y.v + 0.5 * h * (d1.v + d2.v),
            q: y.q + 0.5 * h * (d1.q + d2.q),
        }
    }

    /// The BOLD signal (% change from rest) of a state.
    pub fn signal(&self, y: State) -> f64 {
        let k1 = 4.3 * self.nu0 * self.e0 * self.te;
        let k2 = self.eps * self.r0 * self.e0 * self.te;
        let k3 = 1.0 - self.eps;
        self.v0 * (k1 * (1.0 - y.q) + k2 * (1.0 - y.q / y.v) + k3 * (1.0 - y.v))
    }

    /// The signal every `tr_s` from 0 (rest) to `end_s`, under an input given piecewise: `input`
    /// holds (end of the piece in s, x), in time order; after the last piece x is 0.
    pub fn series(&self, input: &[(f64, f64)], tr_s: f64, end_s: f64) -> Vec<(f64, f64)> {
        let mut y = State::REST;
        let mut out = Vec::new();
        let (mut t, mut piece, mut next) = (0.0f64, 0usize, tr_s);
        let steps_per_tr = (tr_s / STEP_S).round().max(1.0) as u64;
        let h = tr_s / steps_per_tr as f64;
        while next <= end_s + 1e-9 {
            for _ in 0..steps_per_tr {
                while piece < input.len() && input[piece].0 <= t + 1e-12 {
                    piece += 1;
                }
                let x = input.get(piece).map_or(0.0, |p| p.1);
                y = self.step(y, x, h);
                t += h;
            }
            out.push((next, self.signal(y)));
            next += tr_s;
        }
        out
    }
}

/// One region's BOLD samples.
pub struct RegionBold {
    pub region: String,
    /// (time s, day, BOLD %).
    pub samples: Vec<(f64, f64, f64)>,
}

/// One sample interval of a run: its end (s), length (s) and day, the spikes of each region in it,
/// and the region x region synapses at its end (source-major).
struct Interval {
    end_s: f64,
    len_s: f64,
    day: f64,
    spikes: Vec<f64>,
    synapses: Vec<f64>,
}

/// The sample intervals of a run folder, from rates.csv and connectivity.csv.
fn intervals(dir: &Path, regions: &[String]) -> Result<Vec<Interval>> {
    let rates = Table::read(dir, "rates.csv")?;
    let conn = Table::read(dir, "connectivity.csv")?;
    let index: HashMap<&str, usize> = regions.iter().enumerate().map(|(i, r)| (r.as_str(), i)).collect();
    let region_of = |name: &str, path: &Path| {
        index
            .get(name)
            .copied()
            .ok_or_else(|| Error::data(path, format!("unknown region {name:?}")))
    };
    let n = regions.len();
    let (c_step, c_src, c_dst, c_syn) = (
        conn.f64s("step")?,
        conn.strs("source")?,
        conn.strs("target")?,
        conn.f64s("synapses")?,
    );
    let mut synapses: HashMap<u64, Vec<f64>> = HashMap::new();
    for i in 0..conn.rows.len() {
        let (a, b) = (region_of(c_src[i], &conn.path)?, region_of(c_dst[i], &conn.path)?);
        synapses.entry(c_step[i] as u64).or_insert_with(|| vec![0.0; n * n])[a * n + b] = c_syn[i];
    }
    let (step, t_ms, day) = (rates.f64s("step")?, rates.f64s("t_ms")?, rates.f64s("day")?);
    let (region, spikes) = (rates.strs("region")?, rates.f64s("spikes")?);
    let mut out = Vec::new();
    let mut counts = vec![0.0; n];
    let mut prev = 0.0;
    for i in 0..rates.rows.len() {
        counts[region_of(region[i], &rates.path)?] += spikes[i];
        if i + 1 < rates.rows.len() && step[i + 1] == step[i] {
            continue;
        }
        let end_s = t_ms[i] / 1000.0;
        let cells = synapses.get(&(step[i] as u64)).ok_or_else(|| {
            Error::data(
                &conn.path,
                format!("no connectivity sample at step {} (rates.csv has one)", step[i]),
            )
        })?;
        out.push(Interval {
            end_s,
            len_s: end_s - prev,
            day: day[i],
            spikes: std::mem::replace(&mut counts, vec![0.0; n]),
            synapses: cells.clone(),
        });
        prev = end_s;
    }
    Ok(out)
}

/// Writes `dir/bold.csv` for a run of `model` with the `Bold` readout; returns the file (None
/// without the readout).
pub fn write(dir: &Path, model: &crate::scene::Model) -> Result<Option<PathBuf>> {
    let Some(tr_ms) = model.readouts.bold_tr_ms else {
        return Ok(None);
    };
    let regions: Vec<String> = model.regions.iter().map(|r| r.name.clone()).collect();
    let n = regions.len();
    let mut neurons = vec![0.0f64; n];
    for p in &model.populations {
        neurons[p.region] += p.count as f64;
    }
    let first_lesion = model
        .protocol
        .as_ref()
        .and_then(|p| p.lesions.iter().map(|l| l.day).min())
        .map(f64::from);
    let living = living(dir, &regions, &neurons)?;
    // Events per second arriving in each region, per interval: (end s, length s, day, per region).
    let events: Vec<(f64, f64, f64, Vec<f64>)> = intervals(dir, &regions)?
        .into_iter()
        .map(|iv| {
            let alive = living_on(&living, &neurons, iv.day);
            let e = (0..n)
                .map(|j| {
                    (0..n)
                        .filter(|&i| alive[i] > 0.0)
                        .map(|i| iv.spikes[i] * iv.synapses[i * n + j] / alive[i])
                        .sum::<f64>()
                        / iv.len_s.max(1e-12)
                })
                .collect();
            (iv.end_s, iv.len_s, iv.day, e)
        })
        .collect();
    let balloon = Balloon::default();
    let end_s = events.last().map_or(0.0, |e| e.0);
    let mut text = String::from("t_s,day,region,bold_pct\n");
    let mut per_region: Vec<Vec<(f64, f64)>> = Vec::new();
    for j in 0..n {
        // The reference: the mean drive before the first lesion (or over the run), by time.
        let before: Vec<&(f64, f64, f64, Vec<f64>)> =
            events.iter().filter(|e| first_lesion.is_none_or(|l| e.2 < l)).collect();
        let weight: f64 = before.iter().map(|e| e.1).sum();
        let reference = before.iter().map(|e| e.3[j] * e.1).sum::<f64>() / weight.max(1e-12);
        let input: Vec<(f64, f64)> = events
            .iter()
            .map(|e| {
                let u = if reference > 0.0 { e.3[j] / reference - 1.0 } else { 0.0 };
                (e.0, balloon.efficacy * u)
            })
            .collect();
        per_region.push(balloon.series(&input, tr_ms / 1000.0, end_s));
    }
    // The day of a TR sample: that of the sample interval it falls in (times rise: one pass).
    let mut at = 0usize;
    for (k, &(t, _)) in per_region.first().map_or(&[][..], Vec::as_slice).iter().enumerate() {
        while at + 1 < events.len() && events[at].0 + 1e-9 < t {
            at += 1;
        }
        let day = events.get(at).map_or(0.0, |e| e.2);
        for (j, r) in regions.iter().enumerate() {
            text.push_str(&format!("{t},{day},{r},{}\n", per_region[j][k].1));
        }
    }
    let path = dir.join("bold.csv");
    crate::atomic::write_file(&path, text.as_bytes(), false)?;
    Ok(Some(path))
}

/// Living neurons per region after each lesion day: (day, per region), from lesions.csv's
/// neurons lost (per lesion and region) and each region's neurons.
fn living(dir: &Path, regions: &[String], neurons: &[f64]) -> Result<Vec<(f64, Vec<f64>)>> {
    let mut out: Vec<(f64, Vec<f64>)> = Vec::new();
    let Some(l) = Table::read_optional(dir, "lesions.csv")? else {
        return Ok(out);
    };
    let rows = l
        .f64s("day")?
        .into_iter()
        .zip(l.strs("region")?)
        .zip(l.f64s("neurons_lost")?);
    for ((d, r), lost) in rows {
        let j = regions
            .iter()
            .position(|x| x == r)
            .ok_or_else(|| Error::data(&l.path, format!("unknown region {r:?}")))?;
        if out.last().is_none_or(|x| x.0 != d) {
            let prev = out.last().map_or_else(|| neurons.to_vec(), |x| x.1.clone());
            out.push((d, prev));
        }
        let alive = &mut out.last_mut().expect("pushed").1[j];
        *alive = (*alive - lost).max(0.0);
    }
    Ok(out)
}

/// Living neurons per region on `day` (after that day's lesions).
fn living_on(living: &[(f64, Vec<f64>)], neurons: &[f64], day: f64) -> Vec<f64> {
    living
        .iter()
        .rev()
        .find(|(d, _)| *d <= day)
        .map_or_else(|| neurons.to_vec(), |(_, n)| n.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The response to a brief input (0.1 s at x = 1, i.e. the drive tripled) every 10 ms.
    fn impulse() -> Vec<(f64, f64)> {
        Balloon::default().series(&[(0.1, 1.0)], 0.01, 30.0)
    }

    #[test]
    fn a_brief_input_gives_a_response_that_peaks_after_about_five_seconds_and_undershoots() {
        let r = impulse();
        let peak = r
            .iter()
            .copied()
            .fold((0.0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
        let low = r
            .iter()
            .copied()
            .fold((0.0, f64::MAX), |a, b| if b.1 < a.1 { b } else { a });
        eprintln!(
            "peak {:.3} % at {:.2} s; undershoot {:.4} % at {:.2} s",
            peak.1, peak.0, low.1, low.0
        );
        assert!((4.5..=6.0).contains(&peak.0), "the peak at {} s", peak.0);
        assert!(peak.1 > 0.0);
        assert!(
            low.1 < 0.0 && low.0 > peak.0 + 3.0,
            "no undershoot after the peak: {low:?}"
        );
        assert!(low.1.abs() < 0.3 * peak.1, "the undershoot is a fraction of the peak");
        // Back to rest.
        assert!(r.last().unwrap().1.abs() < 0.05 * peak.1);
    }

    #[test]
    fn rest_stays_at_rest_and_a_sustained_rise_settles_at_a_positive_plateau() {
        let b = Balloon::default();
        let rest = b.series(&[], 2.0, 60.0);
        assert!(rest.iter().all(|s| s.1.abs() < 1e-9), "rest drifts: {:?}", rest.last());
        let on = b.series(&[(120.0, 0.5)], 2.0, 120.0);
        let (a, z) = (on[on.len() - 2].1, on[on.len() - 1].1);
        assert!(z > 0.0 && (a - z).abs() < 1e-3 * z, "no plateau: {a} then {z}");
        // A silenced region (x = -efficacy) falls below rest and stays defined.
        let off = b.series(&[(120.0, -b.efficacy)], 0.05, 120.0);
        assert!(off.iter().all(|s| s.1.is_finite()) && off.last().unwrap().1 < 0.0);
        let mut y = State::REST;
        let mut lowest = f64::MAX;
        for _ in 0..20_000 {
            y = b.step(y, -b.efficacy, STEP_S);
            lowest = lowest.min(y.f);
        }
        assert!(lowest > 0.6, "the flow fell to {lowest}");
        // Falling silent lowers the signal without a rebound above rest.
        let highest = off.iter().map(|s| s.1).fold(f64::MIN, f64::max);
        assert!(highest < 0.01, "a silenced region's signal rose to {highest} %");
        assert!((y.f - (1.0 - b.efficacy / b.gamma)).abs() < 1e-3, "settled at {}", y.f);
    }

    #[test]
    fn living_neurons_follow_the_lesions_of_each_day() {
        let dir = std::env::temp_dir().join(format!("rewire-bold-living-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("lesions.csv"),
            "day,lesion,kind,region,neurons_lost,neurons,volume_mm3\n\
             0,0,region,A,100,100,1\n0,0,region,B,0,50,1\n0,1,fraction,B,10,50,1\n\
             2,2,focal,A,0,100,1\n2,2,focal,B,15,50,1\n",
        )
        .unwrap();
        let regions = vec!["A".to_string(), "B".to_string()];
        let neurons = [100.0, 50.0];
        let l = living(&dir, &regions, &neurons).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(l, vec![(0.0, vec![0.0, 40.0]), (2.0, vec![0.0, 25.0])]);
        assert_eq!(living_on(&l, &neurons, -1.0), vec![100.0, 50.0]);
        assert_eq!(living_on(&l, &neurons, 0.0), vec![0.0, 40.0]);
        assert_eq!(living_on(&l, &neurons, 1.0), vec![0.0, 40.0]);
        assert_eq!(living_on(&l, &neurons, 5.0), vec![0.0, 25.0]);
    }

    #[test]
    fn the_integration_step_does_not_change_the_answer() {
        let b = Balloon::default();
        let coarse = b.series(&[(0.5, 1.0)], 0.5, 20.0);
        let fine = b.series(&[(0.5, 1.0)], 0.05, 20.0);
        for c in &coarse {
            let f = fine.iter().find(|f| (f.0 - c.0).abs() < 1e-9).unwrap();
            assert!((c.1 - f.1).abs() < 1e-3 * 0.2, "at {} s: {} against {}", c.0, c.1, f.1);
        }
    }
}
