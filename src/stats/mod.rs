//! Aggregate statistics from raw samples, and the CSV/JSON files they are written to.
//!
//! Files are written under a temporary name and renamed when complete, so a crash never leaves
//! a half-written result that looks whole.

pub mod lfp;

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

impl ConnStat {
    /// A cell of `synapses` whose weights sum to `weight_sum` (mean 0 when empty).
    fn new(source: String, target: String, synapses: u64, weight_sum: f64) -> Self {
        ConnStat {
            source,
            target,
            synapses,
            weight_sum,
            weight_mean: if synapses > 0 {
                weight_sum / synapses as f64
            } else {
                0.0
            },
        }
    }

    /// `source,target,synapses,weight_sum,weight_mean`: a row of connectivity.csv and
    /// hemisphere_connectivity.csv after its step, time and day.
    fn row(&self) -> String {
        format!(
            "{},{},{},{},{}",
            self.source,
            self.target,
            self.synapses,
            num(self.weight_sum),
            num(self.weight_mean)
        )
    }
}

/// Activity of a region or a hemisphere over one sample interval (scenes whose regions name
/// their hemisphere).
#[derive(Clone, Debug, Serialize)]
pub struct GroupStat {
    /// The region's name, or the hemisphere's ("left", "right").
    pub name: String,
    /// The hemisphere ("left", "right"; empty for a region without one).
    pub hemisphere: String,
    /// Regions in the group (1 for a region).
    pub regions: u32,
    pub neurons: u64,
    pub spikes: u64,
    /// Mean firing rate (Hz) over the interval, over all the group's neurons.
    pub rate_hz: f64,
}

/// Weights of one plastic projection at a sample.
#[derive(Clone, Debug, Serialize)]
pub struct WeightStat {
    /// "source -> target" populations.
    pub projection: String,
    pub synapses: u64,
    pub mean: f64,
    pub sd: f64,
    pub frac_at_min: f64,
    pub frac_at_max: f64,
    /// Mean eligibility (three-factor rules; 0 otherwise).
    pub mean_eligibility: f64,
    /// Synapses per bin of HIST_BINS equal bins over [w_min, w_max].
    pub histogram: Vec<u32>,
    /// Capture rules: synapses tagged (|early change| above the tag threshold) and consolidated
    /// (|late change| at least half the tag threshold).
    pub tagged: u64,
    pub consolidated: u64,
    pub w_min: f64,
    pub w_max: f64,
}

/// Structural plasticity of one region at a sample.
#[derive(Clone, Debug, Serialize)]
pub struct StructStat {
    pub region: String,
    /// Spines (synapses of sprouting pairs onto this region's neurons) by state at the sample,
    /// and those older than `persistent_after_ms`.
    pub spines: u64,
    pub nascent: u64,
    pub stable: u64,
    pub persistent: u64,
    /// Since the previous sample: synapses formed, spines pruned by the life cycle, synapses
    /// deleted by element retraction, and free spines that found no empty slot (capacity).
    pub formed: u64,
    pub pruned: u64,
    pub retracted: u64,
    pub capacity_misses: u64,
    /// At the last structural update: free boutons and spines, and all bouton and spine
    /// elements (whole elements, connected or free).
    pub free_boutons: u64,
    pub free_spines: u64,
    pub bouton_elements: u64,
    pub spine_elements: u64,
}

/// Homeostatic growth of one growing population at a sample (growth.csv).
#[derive(Clone, Debug, Serialize)]
pub struct GrowthStat {
    pub population: String,
    pub region: String,
    /// Living neurons counted (a lesion's dead neurons are left out).
    pub neurons: u64,
    /// Their mean calcium at the sample, and the growth curve's set point (`eps`).
    pub calcium: f64,
    pub set_point: f64,
    /// At the last structural update, summed over those neurons: whole bouton and spine
    /// elements, and those connected (boutons: the neurons' outgoing structural synapses;
    /// spines: their incoming ones); spines of the excitatory dendrite (or of the one pool of a
    /// population without dendrite types) and of the inhibitory one.
    pub bouton_elements: u64,
    pub connected_boutons: u64,
    pub spine_elements: u64,
    pub connected_spines: u64,
    pub spine_in_elements: u64,
    pub connected_spines_in: u64,
    /// Since the previous sample: synapses of sprouting pairs formed onto the population's
    /// excitatory (or only) spines and deleted (pruned or retracted) there, likewise on its
    /// inhibitory spines, and out of its boutons.
    pub spines_formed: u64,
    pub spines_deleted: u64,
    pub spines_in_formed: u64,
    pub spines_in_deleted: u64,
    pub boutons_formed: u64,
    pub boutons_deleted: u64,
}

/// Spine imaging of one field of view at a sample.
#[derive(Clone, Debug, Serialize)]
pub struct ImagingStat {
    /// The field's index in the readout.
    pub field: usize,
    /// Structural spines onto the field's neurons.
    pub spines: u64,
    /// Per imaging day already imaged (its image taken at or before this sample): the spines
    /// formed no later than its image, i.e. those of its image still present. None before.
    pub surviving: Vec<Option<u64>>,
}

/// Formation and elimination in one distance bin since the previous sample.
#[derive(Clone, Debug, Serialize)]
pub struct BinStat {
    pub lo_mm: f64,
    /// Infinite for the last bin.
    pub hi_mm: f64,
    pub formed: u64,
    pub eliminated: u64,
}

/// Statistics at one sample.
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    pub step: u64,
    /// Simulated time at the end of the interval (ms).
    pub t_ms: f64,
    /// The biological day this time stands for.
    pub day: f64,
    /// Under a protocol's biological clock, the hours of that day the interval covers (a probe,
    /// an assay outside the clock, covers the moment it is taken: from = to).
    pub hours: Option<(f64, f64)>,
    pub populations: Vec<PopStat>,
    pub connectivity: Vec<ConnStat>,
    /// Per plastic projection, in scene order.
    pub weights: Vec<WeightStat>,
    /// Dopamine per region (scenes with `dopamine`).
    pub dopamine: Vec<(String, f64)>,
    /// Structural plasticity per region, and by distance from the turnover point (scenes with
    /// `structure`).
    pub structure: Vec<StructStat>,
    pub turnover: Vec<BinStat>,
    /// Calcium and elements per growing population (scenes with `structure`).
    pub growth: Vec<GrowthStat>,
    /// Spine imaging per field of view (scenes with the `SpineImaging` readout).
    pub imaging: Vec<ImagingStat>,
    /// Per region and per hemisphere, and hemisphere to hemisphere connectivity (scenes whose
    /// regions name their hemisphere; regions without one are left out of the hemispheres).
    pub regions: Vec<GroupStat>,
    pub hemispheres: Vec<GroupStat>,
    pub hemisphere_connectivity: Vec<ConnStat>,
    /// The LFP proxy per region (scenes with the `Lfp` readout; empty for an interval too short),
    /// set by the schedule from the sample's per-step counts (`lfp::Coupling::analyse`).
    pub lfp: Vec<lfp::LfpStat>,
}

impl Stats {
    /// Derives statistics from a raw sample; `interval_steps` is the length of the interval;
    /// `g` gives the fixed-point scales.
    pub fn from_raw(model: &Model, raw: &RawSample, interval_steps: u64, g: &crate::layout::Globals) -> Stats {
        let conn_scale = g.conn_scale;
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
                connectivity.push(ConnStat::new(src.name.clone(), dst.name.clone(), synapses, weight_sum));
            }
        }
        use crate::layout::{ELIG_SCALE, HIST_BINS, PLASTIC_WORDS};
        let weights = model
            .projections
            .iter()
            .filter_map(|p| p.plasticity.as_ref().map(|s| (p, s)))
            .zip(raw.plastic.chunks(PLASTIC_WORDS))
            .map(|((p, s), w)| {
                let n = w[0] as f64;
                let wide = |lo: u32, hi: u32| ((hi as u64) << 32 | lo as u64) as i64 as f64;
                let mean = wide(w[1], w[2]) / conn_scale as f64 / n.max(1.0);
                let sq = wide(w[3], w[4]) / g.sq_scale as f64 / n.max(1.0);
                WeightStat {
                    projection: format!(
                        "{} -> {}",
                        model.populations[p.source].name, model.populations[p.target].name
                    ),
                    synapses: w[0] as u64,
                    mean,
                    sd: (sq - mean * mean).max(0.0).sqrt(),
                    frac_at_min: w[5] as f64 / n.max(1.0),
                    frac_at_max: w[6] as f64 / n.max(1.0),
                    mean_eligibility: wide(w[7], w[8]) / ELIG_SCALE as f64 / n.max(1.0),
                    histogram: w[9..9 + HIST_BINS as usize].to_vec(),
                    tagged: w[29] as u64,
                    consolidated: w[30] as u64,
                    w_min: s.w_min,
                    w_max: s.w_max,
                }
            })
            .collect();
        let dopamine = model
            .regions
            .iter()
            .zip(&raw.dopamine)
            .map(|(r, &bits)| (r.name.clone(), f32::from_bits(bits) as f64))
            .collect();
        let (mut structure, mut turnover, mut imaging, mut growth) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        if let Some(st) = &model.structure
            && !raw.structure.is_empty()
        {
            use crate::layout::*;
            for (region, w) in model.regions.iter().zip(raw.structure.chunks(REGION_STRUCT_WORDS)) {
                structure.push(StructStat {
                    region: region.name.clone(),
                    spines: (w[SS_NASCENT] + w[SS_STABLE]) as u64,
                    nascent: w[SS_NASCENT] as u64,
                    stable: w[SS_STABLE] as u64,
                    persistent: w[SS_PERSISTENT] as u64,
                    formed: w[SS_FORMED] as u64,
                    pruned: w[SS_PRUNED] as u64,
                    retracted: w[SS_RETRACTED] as u64,
                    capacity_misses: w[SS_MISSES] as u64,
                    free_boutons: w[SS_FREE_BOUTONS] as u64,
                    free_spines: w[SS_FREE_SPINES] as u64,
                    bouton_elements: w[SS_BOUTONS] as u64,
                    spine_elements: w[SS_SPINES] as u64,
                });
            }
            let start = REGION_STRUCT_WORDS * model.regions.len();
            let end = start + 2 * (st.bins_mm.len() + 1);
            let bins = &raw.structure[start..end];
            for (b, fe) in bins.chunks(2).enumerate() {
                turnover.push(BinStat {
                    lo_mm: if b == 0 { 0.0 } else { st.bins_mm[b - 1] },
                    hi_mm: st.bins_mm.get(b).copied().unwrap_or(f64::INFINITY),
                    formed: fe[0] as u64,
                    eliminated: fe[1] as u64,
                });
            }
            if let Some(im) = &model.readouts.imaging {
                let per_field = imaging_words(im.days.len());
                for (f, w) in raw.structure[end..].chunks(per_field).take(im.fields.len()).enumerate() {
                    imaging.push(ImagingStat {
                        field: f,
                        spines: w[0] as u64,
                        surviving: im
                            .steps
                            .iter()
                            .zip(&w[1..])
                            .map(|(&at, &n)| (at <= raw.step).then_some(n as u64))
                            .collect(),
                    });
                }
            }
            let base = raw.structure.len() - model.populations.len() * POP_STRUCT_WORDS;
            for (p, w) in model
                .populations
                .iter()
                .zip(raw.structure[base..].chunks(POP_STRUCT_WORDS))
            {
                let Some(gm) = p.growth.as_ref().filter(|gm| gm.max_nu() > 0.0) else {
                    continue;
                };
                let calcium = ((w[PS_CALCIUM_HI] as u64) << 32 | w[PS_CALCIUM_LO] as u64) as f64;
                growth.push(GrowthStat {
                    population: p.name.clone(),
                    region: model.regions[p.region].name.clone(),
                    neurons: w[PS_NEURONS] as u64,
                    calcium: calcium / CALCIUM_SCALE as f64 / (w[PS_NEURONS] as f64).max(1.0),
                    set_point: gm.eps,
                    bouton_elements: w[PS_BOUTONS] as u64,
                    connected_boutons: w[PS_CONN_BOUTONS] as u64,
                    spine_elements: w[PS_SPINES] as u64,
                    connected_spines: w[PS_CONN_SPINES] as u64,
                    spine_in_elements: w[PS_SPINES_IN] as u64,
                    connected_spines_in: w[PS_CONN_SPINES_IN] as u64,
                    spines_formed: w[PS_SPINES_FORMED] as u64,
                    spines_deleted: w[PS_SPINES_DELETED] as u64,
                    spines_in_formed: w[PS_SPINES_IN_FORMED] as u64,
                    spines_in_deleted: w[PS_SPINES_IN_DELETED] as u64,
                    boutons_formed: w[PS_BOUTONS_FORMED] as u64,
                    boutons_deleted: w[PS_BOUTONS_DELETED] as u64,
                });
            }
        }
        let (regions, hemispheres, hemisphere_connectivity) = if model.regions.iter().any(|r| r.hemisphere.is_some()) {
            groups(model, raw, interval_s, &connectivity)
        } else {
            Default::default()
        };
        Stats {
            step: raw.step,
            t_ms,
            day: t_ms / MS_PER_DAY,
            hours: None,
            populations,
            connectivity,
            weights,
            dopamine,
            structure,
            turnover,
            growth,
            imaging,
            regions,
            hemispheres,
            hemisphere_connectivity,
            lfp: Vec::new(),
        }
    }
}

/// Activity per region and per hemisphere, and the region x region `connectivity` summed by
/// hemisphere (left, right).
fn groups(
    model: &Model,
    raw: &RawSample,
    interval_s: f64,
    connectivity: &[ConnStat],
) -> (Vec<GroupStat>, Vec<GroupStat>, Vec<ConnStat>) {
    use crate::scene::schema::Hemisphere;
    let rate = |spikes: u64, neurons: u64| {
        if interval_s > 0.0 && neurons > 0 {
            spikes as f64 / (neurons as f64 * interval_s)
        } else {
            0.0
        }
    };
    let side = |h: Option<Hemisphere>| h.map_or("", Hemisphere::name).to_string();
    let mut totals = vec![(0u64, 0u64); model.regions.len()];
    for (p, &s) in model.populations.iter().zip(&raw.pop_spikes) {
        totals[p.region].0 += p.count as u64;
        totals[p.region].1 += s as u64;
    }
    let regions: Vec<GroupStat> = model
        .regions
        .iter()
        .zip(&totals)
        .map(|(r, &(neurons, spikes))| GroupStat {
            name: r.name.clone(),
            hemisphere: side(r.hemisphere),
            regions: 1,
            neurons,
            spikes,
            rate_hz: rate(spikes, neurons),
        })
        .collect();
    let sides = [Hemisphere::Left, Hemisphere::Right];
    let hemispheres = sides
        .iter()
        .map(|&h| {
            let members: Vec<&GroupStat> = model
                .regions
                .iter()
                .zip(&regions)
                .filter(|(r, _)| r.hemisphere == Some(h))
                .map(|(_, g)| g)
                .collect();
            let neurons = members.iter().map(|g| g.neurons).sum();
            let spikes = members.iter().map(|g| g.spikes).sum();
            GroupStat {
                name: h.name().into(),
                hemisphere: h.name().into(),
                regions: members.len() as u32,
                neurons,
                spikes,
                rate_hz: rate(spikes, neurons),
            }
        })
        .collect();
    let r = model.regions.len();
    let mut between = Vec::new();
    for &a in &sides {
        for &b in &sides {
            let (mut synapses, mut weight_sum) = (0u64, 0.0f64);
            for (i, src) in model.regions.iter().enumerate() {
                for (j, dst) in model.regions.iter().enumerate() {
                    if src.hemisphere == Some(a) && dst.hemisphere == Some(b) {
                        synapses += connectivity[i * r + j].synapses;
                        weight_sum += connectivity[i * r + j].weight_sum;
                    }
                }
            }
            between.push(ConnStat::new(a.name().into(), b.name().into(), synapses, weight_sum));
        }
    }
    (regions, hemispheres, between)
}

/// A file being written under `NAME.partial`, renamed to `NAME` by `finish`.
pub struct Pending {
    path: PathBuf,
    tmp: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

impl Pending {
    pub fn create(dir: &Path, name: &str) -> Result<Self> {
        let path = dir.join(name);
        let tmp = dir.join(format!("{name}.partial"));
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(Pending {
            path,
            tmp,
            out: std::io::BufWriter::new(file),
        })
    }
    /// Creates `NAME.partial` holding `restore[name]` when a resumed run has it (the file as it
    /// was at the checkpoint), else the header line alone.
    pub fn open(dir: &Path, name: &str, header: &str, restore: Option<&crate::checkpoint::Files>) -> Result<Self> {
        let mut p = Pending::create(dir, name)?;
        match restore.and_then(|f| f.get(name)) {
            Some(bytes) => p.out.write_all(bytes).map_err(|e| Error::io(&p.tmp, e))?,
            None => p.line(header)?,
        }
        Ok(p)
    }
    pub fn line(&mut self, s: &str) -> Result<()> {
        writeln!(self.out, "{s}").map_err(|e| Error::io(&self.tmp, e))
    }
    /// Flushes and adds what has been written so far to `files` under the file's name.
    pub fn save(&mut self, files: &mut crate::checkpoint::Files) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(&self.tmp, e))?;
        let bytes = std::fs::read(&self.tmp).map_err(|e| Error::io(&self.tmp, e))?;
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.insert(name, bytes);
        Ok(())
    }
    pub fn finish(mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// Writes `rates.csv` and `connectivity.csv` as samples arrive (tidy: one row per
/// time x population, and per time x source x target).
pub struct Recorder {
    rates: Pending,
    conn: Pending,
    /// weights.csv and weight_hist.csv (scenes with plasticity), dopamine.csv (with dopamine).
    weights: Option<(Pending, Pending)>,
    dopamine: Option<Pending>,
    /// structure.csv, turnover_by_distance.csv and growth.csv (scenes with structure), and the
    /// biological ms per simulated ms of structural updates.
    structure: Option<(Pending, Pending, Pending, f64)>,
    /// spine_imaging.csv (scenes with the `SpineImaging` readout), with the days imaged.
    imaging: Option<(Pending, Vec<i32>)>,
    /// regions.csv, hemispheres.csv and hemisphere_connectivity.csv (scenes whose regions name
    /// their hemisphere).
    groups: Option<[Pending; 3]>,
    /// lfp.csv and lfp_spectrum.csv (scenes with the `Lfp` readout).
    lfp: Option<(Pending, Pending)>,
    /// The scene runs on the biological clock: every row ends with `hour_from,hour_to`.
    clock: bool,
}

/// Formats a float so that the same value always prints the same text.
fn num(x: f64) -> String {
    format!("{x}")
}

impl Recorder {
    pub fn create(dir: &Path, model: &Model) -> Result<Self> {
        Recorder::open(dir, model, None)
    }

    /// Creates the files, or with `restore` (a resumed run) reopens them as they were at the
    /// checkpoint.
    pub fn open(dir: &Path, model: &Model, restore: Option<&crate::checkpoint::Files>) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let clock = model.protocol.as_ref().is_some_and(|p| p.day_steps.is_some());
        // Under the clock every header ends with the hours its rows cover.
        let head = |header: &str| {
            if clock {
                format!("{header},hour_from,hour_to")
            } else {
                header.to_string()
            }
        };
        let rates = Pending::open(
            dir,
            "rates.csv",
            &head("step,t_ms,day,population,region,spikes,rate_hz"),
            restore,
        )?;
        let conn = Pending::open(
            dir,
            "connectivity.csv",
            &head("step,t_ms,day,source,target,synapses,weight_sum,weight_mean"),
            restore,
        )?;
        let weights = if model.projections.iter().any(|p| p.plasticity.is_some()) {
            let w = Pending::open(
                dir,
                "weights.csv",
                &head(
                    "step,t_ms,day,projection,synapses,mean,sd,frac_at_min,frac_at_max,mean_eligibility,tagged,consolidated",
                ),
                restore,
            )?;
            let h = Pending::open(
                dir,
                "weight_hist.csv",
                &head("step,t_ms,day,projection,bin_lo,bin_hi,synapses"),
                restore,
            )?;
            Some((w, h))
        } else {
            None
        };
        let dopamine = match model.dopamine {
            Some(_) => Some(Pending::open(
                dir,
                "dopamine.csv",
                &head("step,t_ms,day,region,dopamine"),
                restore,
            )?),
            None => None,
        };
        let structure = match &model.structure {
            Some(st) => {
                let s = Pending::open(
                    dir,
                    "structure.csv",
                    &head(
                        "step,t_ms,day,structural_day,region,spines,nascent,stable,persistent,persistent_fraction,formed,\
                     pruned,retracted,capacity_misses,free_boutons,free_spines,bouton_elements,spine_elements",
                    ),
                    restore,
                )?;
                let t = Pending::open(
                    dir,
                    "turnover_by_distance.csv",
                    &head("step,t_ms,day,structural_day,bin_lo_mm,bin_hi_mm,formed,eliminated"),
                    restore,
                )?;
                let g = Pending::open(
                    dir,
                    "growth.csv",
                    &head(
                        "step,t_ms,day,structural_day,population,region,neurons,calcium,set_point,bouton_elements,\
                     connected_boutons,spine_elements,connected_spines,spine_in_elements,connected_spines_in,\
                     spines_formed,spines_deleted,spines_in_formed,spines_in_deleted,boutons_formed,boutons_deleted",
                    ),
                    restore,
                )?;
                // A protocol's rows carry the biological day itself.
                let speedup = if model.protocol.is_some() { 1.0 } else { st.speedup };
                Some((s, t, g, speedup))
            }
            None => None,
        };
        let imaging = match &model.readouts.imaging {
            Some(im) => Some((
                Pending::open(
                    dir,
                    "spine_imaging.csv",
                    &head("step,t_ms,day,field,spines,imaged_day,surviving"),
                    restore,
                )?,
                im.days.clone(),
            )),
            None => None,
        };
        let groups = if model.regions.iter().any(|r| r.hemisphere.is_some()) {
            let activity = "step,t_ms,day,region,hemisphere,neurons,spikes,rate_hz";
            Some([
                Pending::open(dir, "regions.csv", &head(activity), restore)?,
                Pending::open(
                    dir,
                    "hemispheres.csv",
                    &head("step,t_ms,day,hemisphere,regions,neurons,spikes,rate_hz"),
                    restore,
                )?,
                Pending::open(
                    dir,
                    "hemisphere_connectivity.csv",
                    &head("step,t_ms,day,source,target,synapses,weight_sum,weight_mean"),
                    restore,
                )?,
            ])
        } else {
            None
        };
        let lfp = match model.readouts.lfp {
            Some(_) => {
                let bands: Vec<&str> = lfp::BANDS.iter().map(|b| b.0).collect();
                Some((
                    Pending::open(
                        dir,
                        "lfp.csv",
                        &head(&format!("step,t_ms,day,region,steps,{},peak_hz", bands.join(","))),
                        restore,
                    )?,
                    Pending::open(
                        dir,
                        "lfp_spectrum.csv",
                        &head("step,t_ms,day,region,freq_hz,power"),
                        restore,
                    )?,
                ))
            }
            None => None,
        };
        Ok(Recorder {
            rates,
            conn,
            weights,
            dopamine,
            structure,
            imaging,
            groups,
            lfp,
            clock,
        })
    }

    /// Adds every file written so far to `files` (for a checkpoint).
    pub fn save(&mut self, files: &mut crate::checkpoint::Files) -> Result<()> {
        self.rates.save(files)?;
        self.conn.save(files)?;
        if let Some((w, h)) = &mut self.weights {
            w.save(files)?;
            h.save(files)?;
        }
        if let Some(d) = &mut self.dopamine {
            d.save(files)?;
        }
        if let Some((s, t, g, _)) = &mut self.structure {
            s.save(files)?;
            t.save(files)?;
            g.save(files)?;
        }
        if let Some((i, _)) = &mut self.imaging {
            i.save(files)?;
        }
        for g in self.groups.iter_mut().flatten() {
            g.save(files)?;
        }
        if let Some((a, b)) = &mut self.lfp {
            a.save(files)?;
            b.save(files)?;
        }
        Ok(())
    }

    /// What ends each row: `,hour_from,hour_to` under the clock (empty hours if the sample has
    /// none), nothing otherwise.
    fn tail(&self, s: &Stats) -> String {
        match (self.clock, s.hours) {
            (false, _) => String::new(),
            (true, Some((from, to))) => format!(",{},{}", num(from), num(to)),
            (true, None) => ",,".to_string(),
        }
    }

    pub fn record(&mut self, s: &Stats) -> Result<()> {
        let tail = self.tail(s);
        for p in &s.populations {
            self.rates.line(&format!(
                "{},{},{},{},{},{},{}{tail}",
                s.step,
                num(s.t_ms),
                num(s.day),
                p.population,
                p.region,
                p.spikes,
                num(p.rate_hz)
            ))?;
        }
        let head = format!("{},{},{}", s.step, num(s.t_ms), num(s.day));
        for c in &s.connectivity {
            self.conn.line(&format!("{head},{}{tail}", c.row()))?;
        }
        if let Some((w, h)) = &mut self.weights {
            for p in &s.weights {
                w.line(&format!(
                    "{},{},{},{},{},{},{},{},{},{},{},{}{tail}",
                    s.step,
                    num(s.t_ms),
                    num(s.day),
                    p.projection,
                    p.synapses,
                    num(p.mean),
                    num(p.sd),
                    num(p.frac_at_min),
                    num(p.frac_at_max),
                    num(p.mean_eligibility),
                    p.tagged,
                    p.consolidated
                ))?;
                let bins = p.histogram.len() as f64;
                for (k, &c) in p.histogram.iter().enumerate() {
                    let lo = p.w_min + (p.w_max - p.w_min) * k as f64 / bins;
                    let hi = p.w_min + (p.w_max - p.w_min) * (k + 1) as f64 / bins;
                    h.line(&format!(
                        "{},{},{},{},{},{},{}{tail}",
                        s.step,
                        num(s.t_ms),
                        num(s.day),
                        p.projection,
                        num(lo),
                        num(hi),
                        c
                    ))?;
                }
            }
        }
        if let Some(d) = &mut self.dopamine {
            for (region, da) in &s.dopamine {
                d.line(&format!(
                    "{},{},{},{},{}{tail}",
                    s.step,
                    num(s.t_ms),
                    num(s.day),
                    region,
                    num(*da)
                ))?;
            }
        }
        self.record_structure(s, &tail)?;
        self.record_lfp(s, &tail)?;
        self.record_groups(s, &tail)
    }

    fn record_lfp(&mut self, s: &Stats, tail: &str) -> Result<()> {
        let Some((bands, spectra)) = &mut self.lfp else {
            return Ok(());
        };
        let head = format!("{},{},{}", s.step, num(s.t_ms), num(s.day));
        for l in &s.lfp {
            let powers: Vec<String> = l.bands.iter().map(|&p| num(p)).collect();
            bands.line(&format!(
                "{head},{},{},{},{}{tail}",
                l.region,
                l.steps,
                powers.join(","),
                num(l.peak_hz)
            ))?;
            for &(f, p) in &l.spectrum {
                spectra.line(&format!("{head},{},{},{}{tail}", l.region, num(f), num(p)))?;
            }
        }
        Ok(())
    }

    fn record_groups(&mut self, s: &Stats, tail: &str) -> Result<()> {
        let Some([regions, hemispheres, between]) = &mut self.groups else {
            return Ok(());
        };
        let head = format!("{},{},{}", s.step, num(s.t_ms), num(s.day));
        for g in &s.regions {
            regions.line(&format!(
                "{head},{},{},{},{},{}{tail}",
                g.name,
                g.hemisphere,
                g.neurons,
                g.spikes,
                num(g.rate_hz)
            ))?;
        }
        for g in &s.hemispheres {
            hemispheres.line(&format!(
                "{head},{},{},{},{},{}{tail}",
                g.name,
                g.regions,
                g.neurons,
                g.spikes,
                num(g.rate_hz)
            ))?;
        }
        for c in &s.hemisphere_connectivity {
            between.line(&format!("{head},{}{tail}", c.row()))?;
        }
        Ok(())
    }

    fn record_structure(&mut self, s: &Stats, tail: &str) -> Result<()> {
        if let Some((file, days)) = &mut self.imaging {
            let head = format!("{},{},{}", s.step, num(s.t_ms), num(s.day));
            for i in &s.imaging {
                for (d, n) in days.iter().zip(&i.surviving) {
                    let n = n.map_or(String::new(), |n| n.to_string());
                    file.line(&format!("{head},{},{},{d},{n}{tail}", i.field, i.spines))?;
                }
            }
        }
        let Some((st, tb, gr, speedup)) = &mut self.structure else {
            return Ok(());
        };
        let head = format!("{},{},{},{}", s.step, num(s.t_ms), num(s.day), num(s.day * *speedup));
        for r in &s.structure {
            st.line(&format!(
                "{head},{},{},{},{},{},{},{},{},{},{},{},{},{},{}{tail}",
                r.region,
                r.spines,
                r.nascent,
                r.stable,
                r.persistent,
                num(r.persistent as f64 / r.spines.max(1) as f64),
                r.formed,
                r.pruned,
                r.retracted,
                r.capacity_misses,
                r.free_boutons,
                r.free_spines,
                r.bouton_elements,
                r.spine_elements
            ))?;
        }
        for b in &s.turnover {
            tb.line(&format!(
                "{head},{},{},{},{}{tail}",
                num(b.lo_mm),
                if b.hi_mm.is_finite() {
                    num(b.hi_mm)
                } else {
                    "inf".into()
                },
                b.formed,
                b.eliminated
            ))?;
        }
        for p in &s.growth {
            gr.line(&format!(
                "{head},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}{tail}",
                p.population,
                p.region,
                p.neurons,
                num(p.calcium),
                num(p.set_point),
                p.bouton_elements,
                p.connected_boutons,
                p.spine_elements,
                p.connected_spines,
                p.spine_in_elements,
                p.connected_spines_in,
                p.spines_formed,
                p.spines_deleted,
                p.spines_in_formed,
                p.spines_in_deleted,
                p.boutons_formed,
                p.boutons_deleted
            ))?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        self.rates.finish()?;
        self.conn.finish()?;
        if let Some((w, h)) = self.weights {
            w.finish()?;
            h.finish()?;
        }
        if let Some(d) = self.dopamine {
            d.finish()?;
        }
        if let Some((s, t, g, _)) = self.structure {
            s.finish()?;
            t.finish()?;
            g.finish()?;
        }
        if let Some((i, _)) = self.imaging {
            i.finish()?;
        }
        for g in self.groups.into_iter().flatten() {
            g.finish()?;
        }
        if let Some((a, b)) = self.lfp {
            a.finish()?;
            b.finish()?;
        }
        Ok(())
    }
}

pub fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<()> {
    let mut f = Pending::create(dir, name)?;
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::io(dir.join(name), std::io::Error::other(e)))?;
    f.line(&text)?;
    f.finish()
}
