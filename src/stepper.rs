//! Stepwise control of one simulation, for scripts (the Python package's `Simulation`): advance
//! by any number of steps, sample the aggregates since the previous sample, lesion, reward, save a
//! checkpoint and continue from one. A scene's protocol is not scheduled here: the script is the
//! schedule (`sim::run` runs protocols).

use crate::checkpoint::{self, Checkpoint, Position, Source};
use crate::error::{Error, Result};
use crate::layout::STATUS_ALIVE;
use crate::protocol::lesion;
use crate::scene::Model;
use crate::scene::model::{LesionKindModel, LesionModel};
use crate::sim::{EngineChoice, Simulation};
use crate::stats::Stats;
use std::path::{Path, PathBuf};

/// The host's copy of the neurons' status words in a stepper's checkpoint (the protocol runner
/// keeps its own under the same name).
const STATUS_FILE: &str = "state/protocol.status";

/// Whether checkpoint `c` was written by [`Stepper::save`] (a stepwise simulation has no run
/// schedule for `rewire resume` to continue).
pub fn wrote(c: &Checkpoint) -> bool {
    c.header
        .position
        .protocol
        .as_ref()
        .and_then(|p| p.get("stepper"))
        .is_some()
}

/// What a lesion by hand removes.
#[derive(Clone, Debug, PartialEq)]
pub enum Lesion {
    /// A fraction (0 to 1) of every population of a region, chosen at random.
    Region { region: String, fraction: f64 },
    /// A fraction (0 to 1) of one population, chosen at random.
    Population { population: String, fraction: f64 },
    /// Every synapse from one region onto another.
    Tract { from: String, to: String },
}

/// One network under a script's control.
pub struct Stepper {
    pub sim: Simulation,
    scene_file: String,
    scene_text: String,
    /// The neurons' status words as last applied (lesions plan on top of them).
    status: Vec<[u32; 4]>,
    /// Lesions applied so far (each takes the next lesion slot).
    lesions: usize,
    /// The step of the previous sample, and samples taken.
    sampled_at: u64,
    samples: usize,
}

impl Stepper {
    /// Builds the scene `text` (named `file` in errors) on `engine`.
    pub fn new(text: &str, file: &str, engine: &EngineChoice) -> Result<Stepper> {
        let model = crate::scene::parse(text, file)?;
        Stepper::from_model(model, text, file, engine)
    }

    fn from_model(model: Model, text: &str, file: &str, engine: &EngineChoice) -> Result<Stepper> {
        let sim = Simulation::new(model, engine, 0)?;
        Ok(Stepper {
            status: sim.network.status.clone(),
            sim,
            scene_file: file.to_string(),
            scene_text: text.to_string(),
            lesions: 0,
            sampled_at: 0,
            samples: 0,
        })
    }

    pub fn model(&self) -> &Model {
        &self.sim.model
    }

    /// Steps done (or queued).
    pub fn step(&self) -> u64 {
        self.sim.engine.step()
    }

    /// Queues `steps` more steps, at most `chunk` at a time, calling `between` after each chunk
    /// (a script checks for Ctrl-C there; an error from it stops the advance where it is).
    pub fn advance(&mut self, steps: u64, chunk: u64, mut between: impl FnMut() -> Result<()>) -> Result<()> {
        let mut left = steps;
        while left > 0 {
            let n = left.min(chunk.max(1));
            self.sim.engine.advance(n)?;
            left -= n;
            between()?;
        }
        Ok(())
    }

    /// The aggregates since the previous sample (or the start): rates, connectivity, weights,
    /// dopamine and structure, as written to a run's files.
    pub fn sample(&mut self) -> Result<Stats> {
        let raw = self.sim.engine.sample()?;
        let interval = raw.step - self.sampled_at;
        self.sampled_at = raw.step;
        self.samples += 1;
        let mut stats = Stats::from_raw(&self.sim.model, &raw, interval, &self.sim.network.globals);
        stats.lfp = self.sim.lfp(&raw, interval, &self.status);
        Ok(stats)
    }

    /// Adds `amount` of dopamine to `region` (None: every region) at the next step.
    pub fn reward(&mut self, region: Option<&str>, amount: f64) -> Result<()> {
        if !amount.is_finite() {
            return Err(Error::Usage(format!(
                "reward: the amount must be a finite number, not {amount}"
            )));
        }
        let region = region.map(|r| self.region(r)).transpose()?;
        self.sim.engine.reward(region.map(|r| r as u32), amount as f32);
        Ok(())
    }

    /// Applies a lesion from the next step on; returns the neurons it killed per region.
    pub fn lesion(&mut self, what: &Lesion) -> Result<Vec<u64>> {
        let fraction_ok = |f: f64| {
            if (0.0..=1.0).contains(&f) {
                Ok(())
            } else {
                Err(Error::Usage(format!(
                    "lesion: the fraction must be from 0 to 1, not {f}"
                )))
            }
        };
        let kind = match what {
            Lesion::Region { region, fraction } => {
                fraction_ok(*fraction)?;
                LesionKindModel::Region {
                    region: self.region(region)?,
                    fraction: *fraction,
                }
            }
            Lesion::Population { population, fraction } => {
                fraction_ok(*fraction)?;
                let population = self
                    .sim
                    .model
                    .populations
                    .iter()
                    .position(|p| &p.name == population)
                    .ok_or_else(|| {
                        let names: Vec<_> = self.sim.model.populations.iter().map(|p| p.name.as_str()).collect();
                        Error::Usage(format!(
                            "lesion: no population {population:?} (the scene has {})",
                            names.join(", ")
                        ))
                    })?;
                LesionKindModel::Fraction {
                    population,
                    fraction: *fraction,
                }
            }
            Lesion::Tract { from, to } => LesionKindModel::TractCut {
                from: self.region(from)?,
                to: self.region(to)?,
            },
        };
        let l = LesionModel {
            day: 0,
            kind,
            window: None,
        };
        let plan = lesion::plan(&self.sim.model, &self.sim.network, &self.status, &l, self.lesions);
        self.sim.engine.lesion(&plan.status, &plan.cut)?;
        self.status = plan.status;
        self.lesions += 1;
        Ok(plan.killed)
    }

    /// Living neurons per region.
    pub fn living(&self) -> Vec<u64> {
        let mut alive = vec![0u64; self.sim.model.regions.len()];
        for (n, st) in self.status.iter().enumerate() {
            if st[0] & STATUS_ALIVE != 0 {
                alive[self.sim.model.populations[self.sim.model.population_of(n as u32)].region] += 1;
            }
        }
        alive
    }

    fn region(&self, name: &str) -> Result<usize> {
        self.sim
            .model
            .regions
            .iter()
            .position(|r| r.name == name)
            .ok_or_else(|| {
                let names: Vec<_> = self.sim.model.regions.iter().map(|r| r.name.as_str()).collect();
                Error::Usage(format!("no region {name:?} (the scene has {})", names.join(", ")))
            })
    }

    /// Writes a checkpoint of the network as it stands to `path` (atomically); `Stepper::resume`
    /// continues it bit for bit, on the same engine and adapter.
    pub fn save(&mut self, path: &Path) -> Result<()> {
        let step = self.step();
        let state = self.sim.engine.save_state()?;
        let mut files = checkpoint::Files::new();
        files.insert(STATUS_FILE.to_string(), bytemuck::cast_slice(&self.status).to_vec());
        let position = Position {
            step,
            samples: self.samples,
            spikes: 0,
            events: 0.0,
            wall_s: 0.0,
            structure: None,
            protocol: Some(
                serde_json::json!({ "stepper": { "lesions": self.lesions, "sampled_at": self.sampled_at } }),
            ),
        };
        let source = Source {
            file: self.scene_file.clone(),
            text: self.scene_text.clone(),
            name: self.sim.model.name.clone(),
            engine: self.sim.engine.describe(),
            out: path.parent().map_or_else(PathBuf::new, Path::to_path_buf),
            // A script may run past the scene's duration.
            steps: self.sim.model.steps.max(step),
        };
        checkpoint::write(path, &Checkpoint::new(source, position, state, files))
    }

    /// Continues a checkpoint written by [`Stepper::save`] on `engine` (the engine and adapter
    /// that wrote it).
    pub fn resume(path: &Path, engine: &EngineChoice) -> Result<Stepper> {
        let c = checkpoint::read(path)?;
        let h = &c.header;
        let refuse = |why: &str| Error::Checkpoint {
            path: path.to_path_buf(),
            message: why.to_string(),
        };
        let stepper = h
            .position
            .protocol
            .as_ref()
            .and_then(|p| p.get("stepper"))
            .ok_or_else(|| {
                refuse("not written by a stepwise simulation (resume a run's checkpoint with `rewire resume`)")
            })?;
        let lesions = stepper.get("lesions").and_then(|v| v.as_u64());
        let sampled_at = stepper.get("sampled_at").and_then(|v| v.as_u64());
        let (Some(lesions), Some(sampled_at)) = (lesions, sampled_at) else {
            return Err(refuse("its stepwise position is damaged"));
        };
        let mut model = crate::scene::parse(&h.scene_text, &h.scene_file)?;
        model.steps = h.steps;
        let mut s = Stepper::from_model(model, &h.scene_text, &h.scene_file, engine)?;
        checkpoint::check_fits(&c, &s.sim)?;
        let status = c
            .files
            .get(STATUS_FILE)
            .ok_or_else(|| refuse("the neurons' status words are missing"))?;
        if status.len() != s.status.len() * 16 {
            return Err(refuse("the neurons' status words are of another network"));
        }
        s.sim.engine.load_state(&c.state)?;
        s.status = bytemuck::pod_collect_to_vec(status);
        s.lesions = lesions as usize;
        s.sampled_at = sampled_at;
        s.samples = h.position.samples;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quickstart() -> Stepper {
        Stepper::new(crate::scene::QUICKSTART, "quickstart.ron", &EngineChoice::Cpu).unwrap()
    }

    #[test]
    fn a_saved_stepper_continues_bit_for_bit() {
        let dir = std::env::temp_dir().join(format!("rewire-stepper-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.rwck");
        let mut a = quickstart();
        a.advance(150, 64, || Ok(())).unwrap();
        a.sample().unwrap();
        a.lesion(&Lesion::Region {
            region: "M1".into(),
            fraction: 0.5,
        })
        .unwrap();
        a.save(&path).unwrap();
        a.advance(200, 64, || Ok(())).unwrap();
        let whole = a.sample().unwrap();
        let mut b = Stepper::resume(&path, &EngineChoice::Cpu).unwrap();
        assert_eq!(b.step(), 150);
        assert_eq!(b.living(), a.living());
        b.advance(200, 1000, || Ok(())).unwrap();
        let resumed = b.sample().unwrap();
        assert_eq!(
            serde_json::to_string(&whole).unwrap(),
            serde_json::to_string(&resumed).unwrap()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_region_lesion_kills_its_fraction_and_silences_the_dead() {
        let mut s = quickstart();
        let before = s.living();
        let killed = s
            .lesion(&Lesion::Region {
                region: "M1".into(),
                fraction: 1.0,
            })
            .unwrap();
        let m1 = s.model().regions.iter().position(|r| r.name == "M1").unwrap();
        assert_eq!(killed[m1], before[m1]);
        assert_eq!(s.living()[m1], 0);
        s.advance(200, 200, || Ok(())).unwrap();
        let st = s.sample().unwrap();
        for p in st.populations.iter().filter(|p| p.region == "M1") {
            assert_eq!(p.spikes, 0, "{} spiked after its region was removed", p.population);
        }
        assert!(st.populations.iter().any(|p| p.region != "M1" && p.spikes > 0));
    }

    #[test]
    fn bad_requests_are_refused_by_name() {
        let mut s = quickstart();
        let e = s.reward(Some("V9"), 1.0).unwrap_err().to_string();
        assert!(e.contains("no region \"V9\"") && e.contains("M1"), "{e}");
        let e = s
            .lesion(&Lesion::Population {
                population: "M1_E".into(),
                fraction: 1.5,
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("from 0 to 1"), "{e}");
        let e = s
            .lesion(&Lesion::Tract {
                from: "S1".into(),
                to: "X".into(),
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("no region \"X\""), "{e}");
    }

    #[test]
    fn the_advance_stops_where_the_callback_says() {
        let mut s = quickstart();
        let mut calls = 0;
        let r = s.advance(1000, 100, || {
            calls += 1;
            if calls == 3 {
                Err(Error::Interrupted("stop".into()))
            } else {
                Ok(())
            }
        });
        assert!(matches!(r, Err(Error::Interrupted(_))));
        assert_eq!(s.step(), 300);
    }
}
