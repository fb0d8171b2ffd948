//! Aggregate statistics from raw samples, and the CSV/JSON files they are written to.
//!
//! Files are written under a temporary name and renamed when complete, so a crash never leaves
//! a half-written result that looks whole.

use crate::engine::RawSample;
use crate::error::{Error, Result};
use crate::scene::Model;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Milliseconds per day: with no protocol, a biological day is 24 h of simulated time.
const MS_PER_DAY: f64 = 86_400_000.0;

/// Per-population activity over one sample interval.
#[derive(Clone, Debug, Serialize)]
pub struct PopStat {
    pub population: String,
    pub region: String,
    pub spikes: u64,
    /// Mean firing rate (Hz) over the interval.
    pub rate_hz: f64,
}

/// One region-to-region connectivity cell.
#[derive(Clone, Debug, Serialize)]
pub struct ConnStat {
    pub source: String,
    pub target: String,
    pub synapses: u64,
    pub weight_sum: f64,
    pub weight_mean: f64,
}

/// Statistics at one sample.
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    pub step: u64,
    /// Simulated time at the end of the interval (ms).
    pub t_ms: f64,
    /// The biological day this time stands for.
    pub day: f64,
    pub populations: Vec<PopStat>,
    pub connectivity: Vec<ConnStat>,
}

impl Stats {
    /// Derives statistics from a raw sample; `interval_steps` is the length of the interval.
    pub fn from_raw(model: &Model, raw: &RawSample, interval_steps: u64, conn_scale: f32) -> Stats {
        let t_ms = model.time_ms(raw.step);
        let interval_s = interval_steps as f64 * model.dt_ms * 1e-3;
        let populations = model
            .populations
            .iter()
            .zip(&raw.pop_spikes)
            .map(|(p, &s)| PopStat {
                population: p.name.clone(),
                region: model.regions[p.region].name.clone(),
                spikes: s as u64,
                rate_hz: if interval_s > 0.0 {
                    s as f64 / (p.count as f64 * interval_s)
                } else {
                    0.0
                },
            })
            .collect();
        let r = model.regions.len();
        let mut connectivity = Vec::with_capacity(r * r);
        for (i, src) in model.regions.iter().enumerate() {
            for (j, dst) in model.regions.iter().enumerate() {
                let synapses = raw.conn_count[i * r + j] as u64;
                let weight_sum = raw.conn_weight[i * r + j] as f64 / conn_scale as f64;
                connectivity.push(ConnStat {
                    source: src.name.clone(),
                    target: dst.name.clone(),
                    synapses,
                    weight_sum,
                    weight_mean: if synapses > 0 {
                        weight_sum / synapses as f64
                    } else {
                        0.0
                    },
                });
            }
        }
        Stats {
            step: raw.step,
            t_ms,
            day: t_ms / MS_PER_DAY,
            populations,
            connectivity,
        }
    }
}

/// A file being written under `NAME.partial`, renamed to `NAME` by `finish`.
struct Pending {
    path: PathBuf,
    tmp: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

impl Pending {
    fn create(dir: &Path, name: &str) -> Result<Self> {
        let path = dir.join(name);
        let tmp = dir.join(format!("{name}.partial"));
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(Pending {
            path,
            tmp,
            out: std::io::BufWriter::new(file),
        })
    }
    fn line(&mut self, s: &str) -> Result<()> {
        writeln!(self.out, "{s}").map_err(|e| Error::io(&self.tmp, e))
    }
    fn finish(mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// Writes `rates.csv` and `connectivity.csv` as samples arrive (tidy: one row per
/// time x population, and per time x source x target).
pub struct Recorder {
    rates: Pending,
    conn: Pending,
}

/// Formats a float so that the same value always prints the same text.
fn num(x: f64) -> String {
    format!("{x}")
}

impl Recorder {
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut rates = Pending::create(dir, "rates.csv")?;
        rates.line("step,t_ms,day,population,region,spikes,rate_hz")?;
        let mut conn = Pending::create(dir, "connectivity.csv")?;
        conn.line("step,t_ms,day,source,target,synapses,weight_sum,weight_mean")?;
        Ok(Recorder { rates, conn })
    }

    pub fn record(&mut self, s: &Stats) -> Result<()> {
        for p in &s.populations {
            self.rates.line(&format!(
                "{},{},{},{},{},{},{}",
                s.step,
                num(s.t_ms),
                num(s.day),
                p.population,
                p.region,
                p.spikes,
                num(p.rate_hz)
            ))?;
        }
        for c in &s.connectivity {
            self.conn.line(&format!(
                "{},{},{},{},{},{},{},{}",
                s.step,
                num(s.t_ms),
                num(s.day),
                c.source,
                c.target,
                c.synapses,
                num(c.weight_sum),
                num(c.weight_mean)
            ))?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        self.rates.finish()?;
        self.conn.finish()
    }
}

/// Writes a JSON document atomically (temporary name, then rename).
pub fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<()> {
    let mut f = Pending::create(dir, name)?;
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::io(dir.join(name), std::io::Error::other(e)))?;
    f.line(&text)?;
    f.finish()
}
