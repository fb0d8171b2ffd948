//! The `rewire` command line: run, resume, sweep (here or on Slurm), compare, plot, validate, info, bench.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use rewire::gpu::{AdapterChoice, context};
use rewire::{EngineChoice, RunOptions, scene};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "rewire",
    version,
    about = "GPU simulator of cortical remodeling after lesions and during rehabilitation"
)]
struct Cli {
    /// Graphics backends to use, comma separated: vulkan, gl, metal, dx12 (default: WGPU_BACKEND or all).
    #[arg(long, global = true, env = "WGPU_BACKEND")]
    backend: Option<String>,
    /// Adapter to use: its index in `rewire info` or part of its name (default: the first found).
    #[arg(long, global = true)]
    adapter: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scene and write rates.csv, connectivity.csv and summary.json.
    Run {
        /// The scene file (RON). Default: the embedded stroke and rehabilitation showcase.
        scene: Option<PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Simulated duration in ms, overriding the scene's.
        #[arg(long)]
        duration: Option<f64>,
        /// Run on the CPU reference engine instead of the GPU (slow; for checking).
        #[arg(long)]
        cpu: bool,
        /// Write a checkpoint (OUT/checkpoint.rwck) this often: simulated time for scenes without
        /// a protocol (e.g. 10s, 500ms, 2min; at the next sample) or days for protocol scenes
        /// (e.g. 2d; at the end of a day). Ctrl-C always writes one before stopping.
        #[arg(long, value_name = "T")]
        checkpoint_every: Option<rewire::sim::Every>,
        /// Change a field of the scene: PATH=VALUE (e.g. `protocol.Rehab.days=(14, 20)`,
        /// `regions.M1.radius_mm=2`); repeatable. See `rewire sweep` for paths.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Continue a run from its checkpoint (written by --checkpoint-every or Ctrl-C), on the
    /// engine and adapter it started on, into the folder it was writing (or --out).
    Resume {
        /// The checkpoint file (e.g. out/checkpoint.rwck).
        checkpoint: PathBuf,
        /// Output directory (default: the run's own).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Keep writing checkpoints this often (as for `run`).
        #[arg(long, value_name = "T")]
        checkpoint_every: Option<rewire::sim::Every>,
    },
    /// Compare run folders: final and peak performance, recovery day, area under the recovery
    /// curve, tract strength changes, spine turnover near and far from the lesion; writes
    /// comparison.csv and comparison.png/.svg (overlaid recovery curves).
    Compare {
        /// Run folders (each written by `rewire run` or `rewire sweep`).
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// Where to write comparison.csv and the figure.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Group the runs and compare the groups: `settings` (a sweep scenario's settings but the
        /// seed: its replicates), `folder` (the folder's name without a trailing replicate number,
        /// `rehab-3` -> `rehab`), `scene` (the scene's name), or a `--set` path (the value a sweep
        /// scenario's settings give it). Writes groups.csv, contrasts.csv and groups.json (n, mean,
        /// SD, 95 % t interval; between groups the difference with its Welch interval, Hedges' g
        /// and Welch's t-test, Holm-corrected), and draws each group's mean curve with its interval.
        #[arg(long, value_name = "KEY")]
        group_by: Option<rewire::report::compare::Grouping>,
        /// With --group-by: the metrics to compare (comma separated; default every metric all
        /// runs have): pre_lesion, post_lesion, final_performance, peak_after_lesion,
        /// recovery_day, recovery_auc, impairment, recovered, fraction_recovered, turnover_near,
        /// turnover_far; and of readouts tract:SRC->DST, bold:REGION, laterality,
        /// spine_survival:FIELD, icms_area:REGION, lfp:REGION:BAND.
        #[arg(long, value_delimiter = ',', requires = "group_by")]
        metrics: Vec<String>,
    },
    /// Run a grid of scenarios from one scene, each into its own folder, then compare them.
    /// Paths name fields with dots; list elements by position (`protocol[3]`), by variant
    /// (`protocol.Rehab`) or by name (`regions.M1`). Every scenario is validated before any runs;
    /// scenarios already finished in DIR are skipped, so an interrupted sweep resumes.
    Sweep {
        /// The scene file (RON).
        scene: PathBuf,
        /// PATH=V1,V2,... (RON values; commas inside brackets belong to the value); repeatable,
        /// the grid is every combination.
        #[arg(long = "set", value_name = "PATH=V1,V2", required_unless_present = "seeds")]
        set: Vec<String>,
        /// Replicates: run every scenario with each of these seeds (N: seeds 1 to N; A-B; or
        /// A,B,C). A replicate changes the network's realisation, the noise and the task's trial
        /// order; each seed's shared days run once. The comparison groups the replicates of each
        /// scenario (as `compare --group-by settings`).
        #[arg(long, value_name = "N|A-B|A,B")]
        seeds: Option<String>,
        /// Run K scenarios at once, each with its own engine (on the GPU its own device on the
        /// same adapter: small networks leave most of a large GPU idle one at a time; with --cpu
        /// one core each). The files are the same as one at a time.
        #[arg(long, value_name = "K", default_value_t = 1)]
        jobs: usize,
        /// Output directory: one folder per scenario, sweep.csv, comparison.csv and figure.
        #[arg(long)]
        out: PathBuf,
        /// Run on the CPU reference engine instead of the GPU.
        #[arg(long)]
        cpu: bool,
        /// Do not run here: write the plan and Slurm job scripts into OUT (plan.json, a prefix job
        /// when the scenarios share days, an array job, a comparison job, submit.sh).
        #[arg(long)]
        slurm: bool,
        /// With --slurm: scenarios per array task.
        #[arg(long, value_name = "K", default_value_t = 1)]
        per_task: usize,
        #[command(flatten)]
        cluster: Cluster,
        /// With --slurm: submit the jobs with sbatch and print their ids.
        #[arg(long)]
        submit: bool,
    },
    /// Which parameters matter: a one-at-a-time screening. Per seed, the scene as written (the
    /// baseline) and each --vary factor at its low and its high value, every other parameter as
    /// written; each level's effect on each metric is its paired difference from the baseline
    /// over the seeds, with a 95 % t interval and Holm-corrected p. Writes the runs (resumable, as
    /// a sweep), sensitivity.csv and a tornado figure per metric (tornado_METRIC.png/.svg).
    Sensitivity {
        /// The scene file (RON).
        scene: PathBuf,
        /// PATH=LOW,HIGH (RON values, as for --set); repeatable, one factor each.
        #[arg(long = "vary", value_name = "PATH=LOW,HIGH", required = true)]
        vary: Vec<String>,
        /// Replicates: N (seeds 1 to N), A-B or A,B,C; at least two.
        #[arg(long, value_name = "N|A-B|A,B", default_value = "5")]
        seeds: String,
        /// Metrics (comma separated; default final_performance, recovery_auc and
        /// fraction_recovered, those every run has).
        #[arg(long, value_delimiter = ',')]
        metrics: Vec<String>,
        /// Output directory: one folder per run, sensitivity.csv, the tornado figures.
        #[arg(long)]
        out: PathBuf,
        /// Run K runs at once (as for sweep).
        #[arg(long, value_name = "K", default_value_t = 1)]
        jobs: usize,
        /// Run on the CPU reference engine instead of the GPU.
        #[arg(long)]
        cpu: bool,
    },
    /// Run one step of a sweep written with `rewire sweep --slurm` (what its Slurm jobs run):
    /// `prefix` (the shared days), an array task's INDEX (default: SLURM_ARRAY_TASK_ID), or
    /// `compare`. A finished scenario is not run again.
    SweepTask {
        /// The sweep folder (holding plan.json).
        dir: PathBuf,
        /// `prefix`, an array task index, or `compare`.
        step: Option<String>,
        /// Run on the CPU reference engine instead of the GPU.
        #[arg(long)]
        cpu: bool,
    },
    /// List the scenarios of a Slurm sweep without a finished folder, and the jobs that would run
    /// exactly those again (the array tasks as `--array=LIST`, the prefix job if its checkpoint
    /// is missing, a new comparison); --submit submits them.
    SweepResubmit {
        /// The sweep folder (holding plan.json).
        dir: PathBuf,
        #[command(flatten)]
        cluster: Cluster,
        /// Submit the jobs with sbatch and print their ids.
        #[arg(long)]
        submit: bool,
    },
    /// (Re)draw the figures of existing run folders (PNG and SVG, beside their CSV files).
    Plot {
        /// Run folders, as written by `rewire run --out`.
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// Biological days at which to show the weight distributions, comma separated (each the
        /// last sample on or before the day; default: before the lesion, after it, the end).
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        days: Vec<f64>,
    },
    /// Check a scene without touching the GPU; print what it would build.
    Validate {
        /// The scene file (RON).
        scene: PathBuf,
        /// Change a field of the scene before checking it, as for `run` (e.g.
        /// `connectome.neurons_per_region=131579`); repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Write a whole-cortex scene from a connectome in The Virtual Brain's zip format
    /// (centres.txt, weights.txt, tract_lengths.txt, optional areas.txt, cortical.txt and
    /// hemispheres.txt, each plain or .bz2): one region per row, E and I populations, long-range
    /// E->E tracts.
    ImportConnectome {
        /// The connectivity zip.
        zip: PathBuf,
        /// Neurons per region (80 % excitatory, 20 % inhibitory). Default 1000.
        #[arg(long)]
        neurons_per_region: Option<u32>,
        /// The scene file to write.
        #[arg(short, long)]
        out: PathBuf,
        /// Axonal conduction velocity in m/s (delay = tract length / velocity). Default 3.
        #[arg(long)]
        velocity_m_per_s: Option<f64>,
        /// Expected synapses onto each excitatory neuron from the strongest tract's source region;
        /// a tract brings this times its weight over the largest weight. Default 16.
        #[arg(long)]
        max_in_degree: Option<f64>,
        /// Radius (mm) of a region the zip gives no area for. Default 2.
        #[arg(long)]
        default_radius_mm: Option<f64>,
        /// Read matrix rows as sources (weights[i][j] from i to j) instead of TVB's targets.
        #[arg(long)]
        rows_are_sources: bool,
        /// The scene's name (default: the output file's stem).
        #[arg(long)]
        name: Option<String>,
    },
    /// List every adapter found, its backend and limits, and how large a network fits; with a
    /// scene, whether it fits each adapter (the bytes it needs and there are, or the array that
    /// refuses it) and, for a connectome scene, the largest `neurons_per_region` that fits
    Info {
        /// A scene to size against each adapter (RON).
        scene: Option<PathBuf>,
        /// Change a field of the scene first, as for `run`; repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Write a finished run folder as an NWB file (Neurodata Without Borders), through the Python
    /// package's exporter and pynwb (`pip install ./python`): the scene and seed as metadata,
    /// regions and populations, the sampled tables as time series, the protocol as epochs.
    ExportNwb {
        /// The run folder (with summary.json and the scene it ran, scene.ron).
        run: PathBuf,
        /// The NWB file to write.
        out: PathBuf,
        /// The Python interpreter that has the rewire package installed.
        #[arg(long, env = "REWIRE_PYTHON", default_value = "python3")]
        python: String,
    },
    /// Time synthetic networks (a sweep over sizes and rates) and scenes on the GPU; print a
    /// table and write JSON (build time, bytes per synapse, steps/s, events/s, time per stage).
    Bench {
        /// Scenes to time (RON); with none and no --neurons, a default sweep of synthetic networks.
        scenes: Vec<PathBuf>,
        /// Synthetic networks: neuron counts, comma separated (default 10000,100000,1000000 when
        /// no scene is given).
        #[arg(long, value_delimiter = ',')]
        neurons: Vec<u32>,
        /// Synthetic networks: incoming synapses per neuron, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "100")]
        synapses: Vec<u32>,
        /// Synthetic networks: firing rate of every neuron (Hz), comma separated.
        #[arg(long, value_delimiter = ',', default_value = "5")]
        rate: Vec<f64>,
        /// Synthetic networks: time step (ms).
        #[arg(long, default_value_t = 1.0)]
        dt: f64,
        /// Timed steps per network (after a warm-up of a tenth as many).
        #[arg(long, default_value_t = 1000)]
        steps: u64,
        /// JSON output file.
        #[arg(long, default_value = "bench.json")]
        out: PathBuf,
        /// Change a field of every timed scene, as for `run` (e.g.
        /// `connectome.neurons_per_region=13158`); repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
}

/// What Slurm jobs ask for (written into the scripts by `sweep --slurm`, given on the sbatch command
/// line by `sweep-resubmit`, where they override the scripts').
#[derive(clap::Args)]
struct Cluster {
    /// Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// GPUs per array task and for the prefix job (`--gres=gpu:N`).
    #[arg(long, value_name = "N")]
    gpus_per_task: Option<u32>,
    /// Time limit per job (`HH:MM:SS`, or any form sbatch takes).
    #[arg(long)]
    time: Option<String>,
    /// A further sbatch option for every job, e.g. `--sbatch=--account=lab`; repeatable.
    #[arg(long = "sbatch", value_name = "OPTION", allow_hyphen_values = true)]
    sbatch: Vec<String>,
}

impl Cluster {
    fn given(&self) -> bool {
        self.partition.is_some() || self.gpus_per_task.is_some() || self.time.is_some() || !self.sbatch.is_empty()
    }
    fn resources(&self) -> rewire::slurm::Resources {
        rewire::slurm::Resources {
            partition: self.partition.clone(),
            gpus_per_task: self.gpus_per_task,
            time: self.time.clone(),
            extra: self.sbatch.clone(),
        }
    }
}

/// Mesa's software adapters (lavapipe, llvmpipe) run compute dispatches on LP_NUM_THREADS
/// threads, one a core by default. Each step is a few short dispatches whose workgroups those
/// threads share out, and with one thread a core a thread that loses its core to the host holds
/// up the whole dispatch: with two a core the scaled microcircuit runs about 1.5x faster on two
/// cores (docs/PERFORMANCE.md). A value the user set is kept; other adapters ignore it.
fn software_adapter_threads() {
    if std::env::var_os("LP_NUM_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: called first in `main`, before any other thread exists to read the environment.
        unsafe { std::env::set_var("LP_NUM_THREADS", (2 * cores).to_string()) };
    }
}

fn main() -> std::process::ExitCode {
    software_adapter_threads();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if let Some(rewire::Error::Interrupted(why)) = e.downcast_ref::<rewire::Error>() {
                eprintln!("{why}");
                return std::process::ExitCode::from(130);
            }
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let choice = AdapterChoice {
        backend: cli.backend.clone(),
        adapter: cli.adapter.clone(),
    };
    match cli.command.unwrap_or(Command::Run {
        scene: None,
        out: "out".into(),
        duration: None,
        cpu: false,
        checkpoint_every: None,
        set: Vec::new(),
    }) {
        Command::Run {
            scene: path,
            out,
            duration,
            cpu,
            checkpoint_every,
            set,
        } => {
            let settings = single_settings(&set)?;
            let (src, file) = match &path {
                Some(p) => (
                    std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
                    p.display().to_string(),
                ),
                None => (scene::DEFAULT_SCENE.to_string(), "stroke_rehab.ron".to_string()),
            };
            let model = scene::set::parse_with(&src, &file, &settings)?;
            let text = if settings.is_empty() {
                src
            } else {
                scene::set::apply(&src, &settings)?
            };
            eprintln!(
                "running {} ({} neurons, {:.1} ms simulated)",
                model.name,
                model.neurons,
                duration.unwrap_or(model.steps as f64 * model.dt_ms)
            );
            let opts = run_options(cpu, choice, duration);
            let ck = rewire::sim::Checkpointing {
                every: checkpoint_every,
                stop: Some(stop_on_signals()?),
                scene_file: file,
                scene_text: text,
                ..Default::default()
            };
            execute(model, &out, &opts, &ck)?;
        }
        Command::Resume {
            checkpoint,
            out,
            checkpoint_every,
        } => {
            let c = rewire::checkpoint::read(&checkpoint)?;
            anyhow::ensure!(
                !rewire::stepper::wrote(&c),
                "{}: written by a stepwise simulation (the Python package's Simulation.save), which has no run to \
                 continue: continue it with rewire.Simulation.resume",
                checkpoint.display()
            );
            let h = &c.header;
            let mut model = scene::parse(&h.scene_text, &h.scene_file)
                .with_context(|| format!("the scene stored in {}", checkpoint.display()))?;
            model.steps = h.steps;
            let out = out.unwrap_or_else(|| h.out.clone());
            eprintln!(
                "resuming {} at {:.1} of {:.1} ms simulated (step {}) on {}, into {}",
                model.name,
                model.time_ms(h.position.step),
                model.time_ms(h.steps),
                h.position.step,
                h.engine,
                out.display()
            );
            let opts = run_options(h.engine == rewire::reference::CpuEngine::DESCRIPTION, choice, None);
            let ck = rewire::sim::Checkpointing {
                every: checkpoint_every,
                path: Some(checkpoint.clone()),
                stop: Some(stop_on_signals()?),
                scene_file: h.scene_file.clone(),
                scene_text: h.scene_text.clone(),
                resume: Some(c),
                ..Default::default()
            };
            execute(model, &out, &opts, &ck).with_context(|| format!("resuming {}", checkpoint.display()))?;
        }
        Command::Compare {
            runs,
            out,
            group_by,
            metrics,
        } => {
            use rewire::report::compare;
            let files = match group_by {
                Some(by) => {
                    let (runs, files, report) = compare::compare_groups(&runs, &out, &by, &metrics)?;
                    print!("{}", compare::table(&runs));
                    println!();
                    print!("{}", compare::group_table(&report));
                    files
                }
                None => {
                    let (runs, files) = compare::compare(&runs, &out)?;
                    print!("{}", compare::table(&runs));
                    files
                }
            };
            for f in files {
                eprintln!("written {}", f.display());
            }
        }
        Command::Sweep {
            scene: path,
            set,
            out,
            cpu,
            slurm,
            per_task,
            cluster,
            submit,
            seeds,
            jobs,
        } => {
            let mut sets = Vec::new();
            if let Some(seeds) = seeds {
                // The seed varies slowest: each replicate's scenarios run together from its own
                // shared days.
                let seeds = rewire::sweep::parse_seeds(&seeds)?;
                sets.push(scene::set::SetOption {
                    path: rewire::sweep::SEED_PATH.to_string(),
                    values: seeds.iter().map(u64::to_string).collect(),
                });
            }
            for s in &set {
                sets.push(scene::set::SetOption::parse(s)?);
            }
            if !slurm && (cluster.given() || submit || per_task != 1) {
                anyhow::bail!(
                    "--partition, --gpus-per-task, --time, --sbatch, --per-task and --submit go with --slurm"
                );
            }
            if slurm && jobs != 1 {
                anyhow::bail!("--jobs runs scenarios here at once; on Slurm each array task runs its own (--per-task)");
            }
            let plan = rewire::sweep::plan(&path, &sets)?;
            if slurm {
                return sweep_on_slurm(&plan, &out, per_task, &cluster, submit, cpu, &choice);
            }
            eprintln!(
                "sweep of {}: {} scenarios into {}",
                path.display(),
                plan.scenarios.len(),
                out.display()
            );
            let opts = run_options(cpu, choice, None);
            let outcome = rewire::sweep::run_jobs(&plan, &out, &opts, jobs, |line| eprintln!("{line}"))?;
            print!("{}", rewire::report::compare::table(&outcome.runs));
            if let Some(g) = &outcome.groups {
                println!();
                print!("{}", rewire::report::compare::group_table(g));
            }
            for f in outcome.files {
                eprintln!("written {}", f.display());
            }
        }
        Command::Sensitivity {
            scene: path,
            vary,
            seeds,
            metrics,
            out,
            cpu,
            jobs,
        } => {
            let factors = vary
                .iter()
                .map(|v| rewire::sensitivity::Factor::parse(v))
                .collect::<rewire::Result<Vec<_>>>()?;
            let seeds = rewire::sweep::parse_seeds(&seeds)?;
            rewire::sensitivity::check_metrics(&metrics)?;
            let plan = rewire::sensitivity::design(&path, &factors, &seeds)?;
            eprintln!(
                "sensitivity of {}: {} factors x 2 levels + baseline, {} seeds: {} runs into {}",
                path.display(),
                factors.len(),
                seeds.len(),
                plan.scenarios.len(),
                out.display()
            );
            let opts = run_options(cpu, choice, None);
            rewire::sweep::run_jobs(&plan, &out, &opts, jobs, |line| eprintln!("{line}"))?;
            let (_, effects) = rewire::sensitivity::analyse(&plan, &out, &factors, &metrics)?;
            print!("{}", rewire::sensitivity::table(&effects));
            for f in rewire::sensitivity::write(&effects, &out)? {
                eprintln!("written {}", f.display());
            }
        }
        Command::SweepTask { dir, step, cpu } => {
            let step: rewire::slurm::Step = match step {
                Some(s) => s.parse()?,
                None => std::env::var("SLURM_ARRAY_TASK_ID")
                    .context("sweep-task: give the step (prefix, INDEX or compare), or run in a Slurm array job")?
                    .parse()?,
            };
            if !cpu && step != rewire::slurm::Step::Compare {
                warn_if_gpus_are_shared(&choice);
            }
            let opts = run_options(cpu, choice, None);
            rewire::slurm::task(&dir, step, &opts, |line| eprintln!("{line}"))?;
        }
        Command::SweepResubmit { dir, cluster, submit } => {
            let r = rewire::slurm::resubmit(&dir, &cluster.resources())?;
            if r.missing.is_empty() {
                eprintln!("every scenario in {} has finished", dir.display());
            } else {
                eprintln!("{} scenarios have not finished:", r.missing.len());
                for m in &r.missing {
                    eprintln!("  {m}");
                }
                eprintln!(
                    "array tasks to run again: {}{}",
                    rewire::slurm::array_list(&r.tasks),
                    if r.prefix {
                        " (after the prefix job: its checkpoint is missing)"
                    } else {
                        ""
                    }
                );
            }
            if r.submissions.is_empty() {
                eprintln!("and the comparison is written: nothing to resubmit");
            } else if submit {
                for (what, id) in rewire::slurm::submit(&r.submissions)? {
                    println!("{what} {id}");
                }
            } else {
                eprintln!("submit them with --submit, or with:");
                print!("{}", rewire::slurm::submit_script(&r.submissions));
            }
        }
        Command::Plot { runs, days } => {
            let options = rewire::report::figures::PlotOptions { weight_days: days };
            for dir in &runs {
                anyhow::ensure!(dir.is_dir(), "{}: no such run folder", dir.display());
                let written = rewire::report::figures::draw_run_with(dir, &options)
                    .with_context(|| format!("drawing the figures of {}", dir.display()))?;
                if written.is_empty() {
                    eprintln!("{}: no files to draw figures from", dir.display());
                }
                for p in written {
                    println!("{}", p.display());
                }
            }
        }
        Command::ImportConnectome {
            zip,
            neurons_per_region,
            out,
            velocity_m_per_s,
            max_in_degree,
            default_radius_mm,
            rows_are_sources,
            name,
        } => {
            let mut opts = rewire::connectome::ImportOptions::new(
                name.unwrap_or_else(|| rewire::connectome::default_name(&out)),
                &zip,
            );
            let w = &mut opts.wiring;
            w.neurons_per_region = neurons_per_region.unwrap_or(w.neurons_per_region);
            w.velocity_m_per_s = velocity_m_per_s.unwrap_or(w.velocity_m_per_s);
            w.max_in_degree = max_in_degree.unwrap_or(w.max_in_degree);
            w.default_radius_mm = default_radius_mm.unwrap_or(w.default_radius_mm);
            w.rows_are_sources = rows_are_sources;
            let (regions, tracts) = rewire::connectome::import(&zip, &out, &opts)?;
            println!("{}: {regions} regions, {tracts} long-range projections", out.display());
        }
        Command::ExportNwb { run, out, python } => {
            anyhow::ensure!(run.is_dir(), "{}: no such run folder", run.display());
            let status = std::process::Command::new(&python)
                .args(["-m", "rewire", "export-nwb"])
                .arg(&run)
                .arg(&out)
                .status()
                .with_context(|| format!("starting {python} (give the interpreter with --python or REWIRE_PYTHON)"))?;
            anyhow::ensure!(
                status.success(),
                "`{python} -m rewire export-nwb` failed ({status}): the NWB export runs in the Python package; \
                 install it into that interpreter with `pip install ./python` (it brings pynwb)"
            );
        }
        Command::Validate { scene: path, set } => {
            let model = load_with(&path, &single_settings(&set)?)?;
            let synapses = model.expected_synapses();
            if synapses > rewire::build::MAX_SLOTS as f64 {
                anyhow::bail!(
                    "{}: about {synapses:.3e} synapses exceed the 2^35 slots one network holds",
                    path.display()
                );
            }
            println!(
                "{}: ok: {} regions, {} populations, {} neurons, about {:.0} synapses, {} steps of {} ms, a sample every {} steps",
                path.display(),
                model.regions.len(),
                model.populations.len(),
                model.neurons,
                synapses,
                model.steps,
                model.dt_ms,
                model.sample_every_steps
            );
            if let Some(p) = &model.protocol {
                let sessions: usize = p.days.iter().map(|d| d.sessions.len()).sum();
                let trials: u64 = p.days.iter().flat_map(|d| &d.sessions).map(|s| s.trials as u64).sum();
                let probes = p.days.iter().filter(|d| d.probe_trials > 0).count();
                let days = match p.day_steps {
                    Some(d) => format!(
                        "every day is {} simulated ms (sessions, then offline to its end; probes outside it)",
                        d as f64 * model.dt_ms
                    ),
                    None => format!(
                        "each day ends with {} offline ms at {}x structural and homeostatic rates",
                        p.offline_steps as f64 * model.dt_ms,
                        p.offline_speedup
                    ),
                };
                println!(
                    "protocol: days {} to {}, {} lesions (days {:?}), {sessions} sessions of {trials} trials in all, \
                     {probes} probe days; {days}",
                    p.first_day,
                    p.last_day,
                    p.lesions.len(),
                    p.lesions.iter().map(|l| l.day).collect::<Vec<_>>(),
                );
            }
            if let Some(st) = &model.structure
                && let Some(day_steps) = model.protocol.as_ref().and_then(|p| p.day_steps)
            {
                println!(
                    "structural plasticity: {} sprouting rules, {} updates a day, each standing for {} biological ms",
                    st.sprouts.len(),
                    day_steps / st.every_steps,
                    st.bio_ms
                );
            } else if let Some(st) = &model.structure {
                println!(
                    "structural plasticity: {} sprouting rules, an update every {} steps standing for {} biological ms \
                     ({} simulated s stand for {:.2} biological days)",
                    st.sprouts.len(),
                    st.every_steps,
                    st.bio_ms,
                    model.time_ms(model.steps) * 1e-3,
                    model.time_ms(model.steps) * st.speedup / 86.4e6
                );
            }
            let r = &model.readouts;
            if let Some(t) = &r.tracts {
                let names: Vec<String> = t
                    .iter()
                    .map(|&(a, b)| format!("{}->{}", model.regions[a].name, model.regions[b].name))
                    .collect();
                println!("readout: tract strength of {}", names.join(", "));
            }
            if let Some(im) = &r.imaging {
                println!(
                    "readout: spine imaging of {} fields of view on days {:?}",
                    im.fields.len(),
                    im.days
                );
            }
            if let Some(tr) = r.bold_tr_ms {
                println!("readout: BOLD of {} regions every {tr} ms", model.regions.len());
                if !r.bold_fc_days.is_empty() {
                    println!("readout: BOLD functional connectivity over days {:?}", r.bold_fc_days);
                }
                if !r.bold_laterality.is_empty() {
                    let names: Vec<&str> = r
                        .bold_laterality
                        .iter()
                        .map(|&(i, _)| model.regions[i].name.as_str())
                        .collect();
                    println!("readout: BOLD laterality index of {}", names.join(", "));
                }
            }
            if let Some(l) = &r.lfp {
                println!(
                    "readout: LFP proxy of {} regions over the first {} steps of each sample interval, to {} Hz",
                    model.regions.len(),
                    l.window_steps,
                    l.max_hz
                );
            }
            if let Some(m) = &r.icms {
                let trains = m.sites.len() * m.currents.len();
                let trial = m.train_steps.max(model.task.as_ref().map_or(0, |t| t.window.1)) + m.rest_steps;
                println!(
                    "readout: ICMS maps of {} sites on days {:?} (at most {trains} trains, {:.1} s simulated a map)",
                    m.sites.len(),
                    m.days,
                    model.time_ms(trains as u64 * trial) * 1e-3
                );
            }
        }
        Command::Bench {
            scenes,
            neurons,
            synapses,
            rate,
            dt,
            steps,
            out,
            set,
        } => {
            let settings = single_settings(&set)?;
            bench(&choice, scenes, &settings, neurons, synapses, rate, dt, steps, &out)?
        }
        Command::Info { scene: path, set } => {
            let settings = single_settings(&set)?;
            let model = match &path {
                Some(p) => Some(load_with(p, &settings)?),
                None => None,
            };
            let list = context::adapters(&choice);
            if list.is_empty() {
                anyhow::bail!(
                    "no GPU adapter found; install a Vulkan driver (apt-get install mesa-vulkan-drivers) or set WGPU_BACKEND=gl"
                );
            }
            for (i, a) in list.iter().enumerate() {
                let l = a.limits();
                let binding = l.max_storage_buffer_binding_size.min(l.max_buffer_size);
                println!("[{i}] {}", context::describe(&a.get_info()));
                println!(
                    "    max storage binding {} MiB, max buffer {} MiB, {} storage buffers per stage, {} workgroups per dimension",
                    binding >> 20,
                    l.max_buffer_size >> 20,
                    l.max_storage_buffers_per_shader_stage,
                    l.max_compute_workgroups_per_dimension
                );
                let memory = context::device_memory(a);
                println!(
                    "    device memory {}; synapse arrays sharded in {} slots per binding",
                    memory.map_or("unknown (no query on this backend)".into(), rewire::error::human_bytes),
                    context::shard_slots(&l),
                );
                println!(
                    "    GPU timestamps: {}",
                    if a.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
                        "yes (rewire bench times each stage)"
                    } else {
                        "no (rewire bench times whole steps)"
                    }
                );
                // The delay ring grows with the longest delay in steps: two typical settings, and
                // the second with the two ring channels of iaf_psc_alpha and iaf_cond_exp.
                for (ring, channels, what) in [
                    (17, 1, "dt 1 ms, delays up to 16 ms"),
                    (201, 1, "dt 0.1 ms, delays up to 20 ms"),
                    (201, 2, "dt 0.1 ms, delays up to 20 ms, iaf_psc_alpha or iaf_cond_exp"),
                ] {
                    let shared = a.get_info().device_type == wgpu::DeviceType::Cpu;
                    let fit =
                        rewire::build::capacity_with(&l, memory, context::host_memory(), shared, 1000, ring, channels);
                    println!(
                        "    largest network ({what}): about {} neurons with 1000 synapses each ({:.2e} synapses), {}",
                        fit.neurons,
                        fit.neurons as f64 * 1000.0,
                        fit.limited_by
                    );
                }
                if let (Some(model), Some(p)) = (&model, &path) {
                    let adapter = context::describe(&a.get_info());
                    let shared = a.get_info().device_type == wgpu::DeviceType::Cpu;
                    scene_fit(p, &settings, model, &l, memory, shared, &adapter)?;
                }
            }
        }
    }
    Ok(())
}

/// `rewire sweep --slurm`: writes the plan and the job scripts into `out`, and with `submit`
/// submits them, printing each job's id.
fn sweep_on_slurm(
    plan: &rewire::sweep::Plan,
    out: &std::path::Path,
    per_task: usize,
    cluster: &Cluster,
    submit: bool,
    cpu: bool,
    choice: &AdapterChoice,
) -> Result<()> {
    let mut args = Vec::new();
    if cpu {
        args.push("--cpu".to_string());
    } else {
        for (flag, v) in [("--backend", &choice.backend), ("--adapter", &choice.adapter)] {
            if let Some(v) = v {
                args.extend([flag.to_string(), v.clone()]);
            }
        }
    }
    let cmd = rewire::slurm::Command {
        exe: std::env::current_exe().context("finding the rewire binary the jobs are to run")?,
        args,
    };
    let (stored, subs) = rewire::slurm::write(plan, out, per_task, &cluster.resources(), &cmd)?;
    eprintln!(
        "sweep of {}: {} scenarios in {} array tasks{}{}",
        plan.scene.display(),
        stored.scenarios.len(),
        stored.tasks,
        if per_task > 1 {
            format!(" of up to {per_task}")
        } else {
            String::new()
        },
        if stored.shared_days > 0 {
            format!(
                ", after a prefix job running the {} protocol days they share",
                stored.shared_days
            )
        } else {
            String::new()
        }
    );
    if stored.tasks > 1000 {
        eprintln!("warning: more than 1000 array tasks exceed Slurm's default MaxArraySize; use --per-task");
    }
    for s in &subs {
        eprintln!("written {}", s.script.display());
    }
    let dir = std::path::absolute(out)?;
    eprintln!(
        "written {} and {}",
        dir.join("plan.json").display(),
        dir.join("submit.sh").display()
    );
    if submit {
        for (what, id) in rewire::slurm::submit(&subs)? {
            println!("{what} {id}");
        }
    } else {
        eprintln!("submit with {} (or add --submit)", dir.join("submit.sh").display());
    }
    Ok(())
}

/// Under Slurm, warns when a task sees more than one GPU: rewire takes the first (or --adapter's),
/// so unless the cluster confines each job to its own GPUs (cgroup ConstrainDevices), tasks
/// sharing a node would all pick the same one. wgpu does not read CUDA_VISIBLE_DEVICES.
fn warn_if_gpus_are_shared(choice: &AdapterChoice) {
    if choice.adapter.is_some() || std::env::var_os("SLURM_JOB_ID").is_none() {
        return;
    }
    let gpus: Vec<String> = context::adapters(choice)
        .iter()
        .map(|a| a.get_info())
        .filter(|i| i.device_type != wgpu::DeviceType::Cpu)
        .map(|i| i.name)
        .collect();
    if gpus.len() > 1 {
        eprintln!(
            "warning: this Slurm task sees {} GPUs ({}) and uses the first; unless the cluster confines each job to              its own GPUs (ConstrainDevices=yes in cgroup.conf), tasks on one node share it: pass --adapter",
            gpus.len(),
            gpus.join(", ")
        );
    }
}

/// The options of a run on the CPU twin (`cpu`) or the chosen GPU, with a progress bar on a terminal.
fn run_options(cpu: bool, choice: AdapterChoice, duration_ms: Option<f64>) -> RunOptions {
    RunOptions {
        engine: if cpu {
            EngineChoice::Cpu
        } else {
            EngineChoice::Gpu(choice)
        },
        duration_ms,
        progress: std::io::stderr().is_terminal(),
    }
}

/// Runs a model with checkpoints and prints its summary.
fn execute(
    model: rewire::Model,
    out: &std::path::Path,
    opts: &RunOptions,
    ck: &rewire::sim::Checkpointing,
) -> Result<()> {
    let s = rewire::sim::run_with(model, out, opts, ck).with_context(|| format!("running into {}", out.display()))?;
    println!(
        "{}: {} neurons, {} synapses on {}\n{} steps in {:.2} s ({:.0} steps/s, {:.3}x real time), {} spikes, {:.3e} synaptic events/s\nresults in {}",
        s.scene,
        s.neurons,
        s.synapses,
        s.engine,
        s.steps,
        s.wall_s,
        s.steps_per_s,
        s.realtime_factor,
        s.spikes,
        s.synaptic_events_per_s,
        out.display()
    );
    Ok(())
}

/// A flag that Ctrl-C (SIGINT) or SIGTERM sets: the run stops at its next sample or day with a
/// checkpoint. A second signal ends the process at once.
fn stop_on_signals() -> Result<std::sync::Arc<std::sync::atomic::AtomicBool>> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    ctrlc::set_handler(move || {
        if f.swap(true, Ordering::SeqCst) {
            eprintln!("\nstopping now, without a new checkpoint");
            std::process::exit(130);
        }
        eprintln!(
            "\nstopping at the next sample (or end of day) with a checkpoint; press Ctrl-C again to stop at once"
        );
    })
    .context("installing the Ctrl-C handler")?;
    Ok(flag)
}

/// `rewire info SCENE`: whether the scene fits the adapter with `limits` and `memory`, and for a
/// connectome scene the largest `neurons_per_region` that does.
fn scene_fit(
    path: &std::path::Path,
    settings: &[(String, String)],
    model: &rewire::Model,
    limits: &wgpu::Limits,
    memory: Option<u64>,
    shared: bool,
    adapter: &str,
) -> Result<()> {
    let host = rewire::gpu::context::host_memory();
    let fits = |m: &rewire::Model| rewire::sim::check_model_fits_limits(m, limits, memory, host, shared, adapter);
    let human = rewire::error::human_bytes;
    match fits(model) {
        Ok(f) => println!(
            "    {}: fits: {} neurons, about {:.3e} synapses, {} of {}; {} of host memory at the build or the run; largest binding `{}` {} of {}; delay ring and parameters in {} part(s)",
            path.display(),
            model.neurons,
            model.expected_synapses(),
            human(f.bytes as u64),
            f.memory.map_or("unknown memory".into(), human),
            human(f.host_bytes as u64),
            f.largest.0,
            human(f.largest.1 as u64),
            human(f.binding),
            f.ring_parts
        ),
        Err(e) => println!("    {}: does not fit: {e}", path.display()),
    }
    let Some(per_region) = model.neurons_per_region else {
        return Ok(());
    };
    // The largest scale: the scene with `connectome.neurons_per_region` = v, for v found by
    // doubling from (or halving to) one that fits, then bisection. The scene may not validate
    // below some size (a task's groups need their neurons): those count as not fitting.
    let at = |v: u64| -> Option<rewire::Model> {
        let mut s = settings.to_vec();
        s.push(("connectome.neurons_per_region".into(), v.to_string()));
        load_with(path, &s).ok().filter(|m| fits(m).is_ok())
    };
    let mut good = per_region as u64;
    if at(good).is_none() {
        while good > 1 && at(good).is_none() {
            good /= 2;
        }
        if at(good).is_none() {
            println!("    no neurons_per_region of this scene fits");
            return Ok(());
        }
    }
    let mut bad = good.saturating_mul(2).max(2);
    while bad < 1 << 31 && at(bad).is_some() {
        good = bad;
        bad = bad.saturating_mul(2);
    }
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if at(mid).is_some() { good = mid } else { bad = mid }
    }
    if let Some(m) = at(good) {
        println!(
            "    largest scale of this scene: --set connectome.neurons_per_region={good} ({} neurons, about {:.3e} synapses)",
            m.neurons,
            m.expected_synapses()
        );
        // What refuses the next size up.
        let mut s = settings.to_vec();
        s.push(("connectome.neurons_per_region".into(), bad.to_string()));
        match load_with(path, &s) {
            Ok(m) => {
                if let Err(e) = fits(&m) {
                    println!("    at {bad}: {e}");
                }
            }
            Err(e) => println!("    at {bad}: {e}"),
        }
    }
    Ok(())
}

/// `--set PATH=VALUE` options of a command that takes one value per field (`run`, `validate`,
/// `bench`; a sweep takes several).
fn single_settings(set: &[String]) -> Result<Vec<(String, String)>> {
    set.iter()
        .map(|s| {
            let o = scene::set::SetOption::parse(s)?;
            match &o.values[..] {
                [v] => Ok((o.path, v.clone())),
                _ => Err(anyhow::anyhow!(
                    "--set {s}: one value per field in a run (a sweep takes several)"
                )),
            }
        })
        .collect()
}

/// Loads a scene file after `settings` (`--set`), as `run` does; relative paths in it (a
/// connectome's zip) stay relative to the file.
fn load_with(path: &std::path::Path, settings: &[(String, String)]) -> Result<rewire::Model> {
    let src = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(scene::set::parse_with(&src, &path.display().to_string(), settings)?)
}

#[expect(clippy::too_many_arguments, reason = "one argument per command-line option")]
fn bench(
    choice: &AdapterChoice,
    scenes: Vec<PathBuf>,
    settings: &[(String, String)],
    mut neurons: Vec<u32>,
    synapses: Vec<u32>,
    rates: Vec<f64>,
    dt: f64,
    steps: u64,
    out: &std::path::Path,
) -> Result<()> {
    use rewire::bench;
    if scenes.is_empty() && neurons.is_empty() {
        neurons = vec![10_000, 100_000, 1_000_000];
    }
    let mut models = Vec::new();
    for path in &scenes {
        models.push(load_with(path, settings)?);
    }
    for &n in &neurons {
        for &k in &synapses {
            for &r in &rates {
                let s = bench::Synthetic {
                    neurons: n,
                    synapses: k,
                    rate_hz: r,
                    dt_ms: dt,
                };
                models.push(
                    s.model()
                        .with_context(|| format!("synthetic network {n} x {k} at {r} Hz"))?,
                );
            }
        }
    }
    let ctx = rewire::gpu::GpuContext::new(choice)?;
    let adapter = context::describe(&ctx.info);
    eprintln!("adapter: {adapter}");
    let bw = bench::bandwidth(&ctx)?;
    eprintln!("streaming copy bandwidth: {:.2} GB/s", bw * 1e-9);
    println!(
        "{:<36} {:>9} {:>11} {:>6} {:>7} {:>9} {:>9} {:>10} {:>10} {:>8}  stages (ms/step)",
        "network", "neurons", "synapses", "B/syn", "build s", "steps/s", "x realtime", "events/s", "ms/step", "peak GB"
    );
    let mut results = Vec::new();
    for m in &models {
        let r = bench::run(&ctx, m, steps, Some(bw)).with_context(|| format!("benchmarking {}", m.name))?;
        let stages: Vec<String> = r
            .stages
            .iter()
            .map(|s| format!("{} {:.3}", s.stage, s.s_per_step * 1e3))
            .collect();
        println!(
            "{:<36} {:>9} {:>11} {:>6.2} {:>7.2} {:>9.1} {:>9.4} {:>10.3e} {:>10.3} {:>8}  {}",
            r.name,
            r.neurons,
            r.synapses,
            r.gpu_bytes_per_synapse,
            r.build_s,
            r.steps_per_s,
            r.realtime_factor,
            r.synaptic_events_per_s,
            r.s_per_step * 1e3,
            r.peak_host_rss_bytes
                .map_or("-".to_string(), |b| format!("{:.2}", b as f64 * 1e-9)),
            stages.join(", ")
        );
        results.push(r);
    }
    #[derive(serde::Serialize)]
    struct Report {
        adapter: String,
        bandwidth_bytes_per_s: f64,
        results: Vec<rewire::bench::BenchResult>,
    }
    let report = Report {
        adapter,
        bandwidth_bytes_per_s: bw,
        results,
    };
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .context("--out must name a file")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    rewire::stats::write_json(dir, name, &report)?;
    eprintln!("written {}", out.display());
    Ok(())
}
