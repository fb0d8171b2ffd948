//! scenes/cortex_stroke.ron, the whole-cortex stroke on TVB's 76-region connectome, at 100
//! neurons per region and a short protocol: it runs on the GPU, writes the showcase's files, the
//! focal lesion removes lM1 neurons, the remodeling regions form synapses, and the GPU equals its
//! CPU twin.

mod common;

use rewire::report::table::Table;
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The showcase's output files (a run of scenes/stroke_rehab.ron writes these, figures aside, and
/// `rewire run` adds the scene it ran, scene.ron).
const SHOWCASE_FILES: [&str; 24] = [
    "activation.csv",
    "bold.csv",
    "bold_fc.csv",
    "bold_laterality.csv",
    "connectivity.csv",
    "dopamine.csv",
    "growth.csv",
    "icms.csv",
    "icms_areas.csv",
    "lesions.csv",
    "lfp.csv",
    "lfp_spectrum.csv",
    "performance.csv",
    "rates.csv",
    "representation.csv",
    "routes.csv",
    "spine_imaging.csv",
    "spine_survival.csv",
    "structure.csv",
    "summary.json",
    "tracts.csv",
    "turnover_by_distance.csv",
    "weight_hist.csv",
    "weights.csv",
];

/// The scene at 100 neurons per region (7 680 neurons) over days -1 to 3 of 600 simulated ms,
/// with a few trials and probes, two ICMS sites, and the readouts' days inside the shorter
/// protocol. Calcium follows the shorter day (tau 150 ms, beta raised so that 5 Hz still sits at
/// the set point), and one structural update a day (nu lowered to keep the stability rule), so
/// that the GPU run on lavapipe stays short (the CPU twin takes a few seconds).
fn small() -> rewire::Model {
    let zip = repo().join("data/connectivity_76.zip");
    assert!(
        zip.is_file(),
        "{} is missing: run scripts/fetch-connectivity (it installs tvb-data from PyPI; .ci/run does)",
        zip.display()
    );
    let path = repo().join("scenes/cortex_stroke.ron");
    let src = std::fs::read_to_string(&path).unwrap();
    let settings: Vec<(String, String)> = [
        ("connectome.neurons_per_region", "100"),
        ("sample_every_ms", "600"),
        ("time.day_ms", "600"),
        ("time.structural_updates_per_day", "1"),
        ("connectome.growth.tau_ca_ms", "150"),
        ("connectome.growth.beta_ca", "0.0667"),
        ("connectome.growth.nu_per_ms", "1.5e-9"),
        ("dopamine.update_every_ms", "100"),
        ("protocol.Train.days", "(-1, -1)"),
        ("protocol.Train.trials", "2"),
        ("protocol[2].days", "(0, 0)"),
        ("protocol.Rehab.days", "(1, 1)"),
        ("protocol.Rehab.trials", "2"),
        ("protocol.Booster.days", "[2]"),
        ("protocol.Booster.trials", "2"),
        ("protocol[5].days", "(3, 3)"),
        ("protocol.Probe.trials", "1"),
        ("protocol.Probe.extra_days", "[0]"),
        ("readouts.Bold.tr_ms", "200"),
        ("readouts.Bold.fc_days", "[(-1, -1), (0, 1), (2, 3)]"),
        ("readouts.SpineImaging.days", "[-1, 0, 3]"),
        ("readouts.Icms.days", "[-1, 3]"),
        ("readouts.Icms.spacing_mm", "60.0"),
        ("readouts.Icms.currents", "[80]"),
    ]
    .iter()
    .map(|(p, v)| (p.to_string(), v.to_string()))
    .collect();
    // Parsed as the original file, so that the zip's relative path holds.
    rewire::scene::set::parse_with(&src, &path.display().to_string(), &settings).unwrap()
}

fn options(engine: rewire::EngineChoice) -> rewire::RunOptions {
    rewire::RunOptions {
        engine,
        duration_ms: None,
        progress: false,
    }
}

/// Sums `value` over the rows of `t` where `pick(row)` holds.
fn total(t: &Table, value: &str, pick: &dyn Fn(usize) -> bool) -> f64 {
    t.f64s(value)
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(i, _)| pick(*i))
        .map(|(_, v)| v)
        .sum()
}

#[test]
fn cortex_stroke_runs_on_the_gpu_lesions_lm1_remodels_and_equals_its_cpu_twin() {
    let model = small();
    assert_eq!((model.regions.len(), model.neurons), (77, 7680));
    let dir = common::temp_dir("cortex-stroke");
    let (gpu, cpu) = (dir.join("gpu"), dir.join("cpu"));
    if let Err(e) = rewire::sim::run(
        model.clone(),
        &gpu,
        &options(rewire::EngineChoice::Gpu(Default::default())),
    ) {
        panic!("the GPU run failed (GPU tests need an adapter): {e}");
    }
    for f in SHOWCASE_FILES {
        assert!(gpu.join(f).is_file(), "{f} is missing");
    }

    // The focal lesion on day 0 takes most of lM1 (and parts of its overlapping neighbours);
    // the spinal effector is out of its reach.
    let lesions = Table::read(&gpu, "lesions.csv").unwrap();
    let (region, lost) = (lesions.strs("region").unwrap(), lesions.f64s("neurons_lost").unwrap());
    let lost_in = |r: &str| {
        region
            .iter()
            .zip(&lost)
            .filter(|(x, _)| **x == r)
            .map(|(_, n)| n)
            .sum::<f64>()
    };
    assert!((40.0..80.0).contains(&lost_in("lM1")), "lM1 lost {}", lost_in("lM1"));
    assert_eq!(lost_in("Spinal"), 0.0);
    assert_eq!(lost_in("rM1"), 0.0);

    // Growth: the remodeling regions form synapses (structure.csv), others hold none of their
    // own; the grown populations report their elements (growth.csv).
    let st = Table::read(&gpu, "structure.csv").unwrap();
    let regions = st.strs("region").unwrap();
    for r in ["lM1", "lPMCDL", "rM1"] {
        let formed = total(&st, "formed", &|i| regions[i] == r);
        assert!(formed > 0.0, "{r} formed no synapses");
    }
    assert_eq!(total(&st, "formed", &|i| regions[i] == "lS1"), 0.0);
    let growth = Table::read(&gpu, "growth.csv").unwrap();
    let mut grown: Vec<&str> = growth.strs("population").unwrap();
    grown.sort();
    grown.dedup();
    assert_eq!(grown, ["lM1_E", "lPMCDL_E", "rM1_E"]);

    // The task ran: training, probes of the three tasks, and guided training trials that reach
    // the effector.
    let perf = Table::read(&gpu, "performance.csv").unwrap();
    let phases = perf.strs("phase").unwrap();
    for p in ["train", "probe", "rehab", "booster"] {
        assert!(phases.contains(&p), "no {p} rows");
    }
    let tasks = perf.strs("task").unwrap();
    for t in ["motor", "transfer", "distractor"] {
        assert!(tasks.contains(&t), "no {t} probes");
    }
    assert!(total(&perf, "correct", &|i| phases[i] == "train") > 0.0);

    // The readouts name the connectome's regions.
    let tracts = Table::read(&gpu, "tracts.csv").unwrap();
    let mut names: Vec<&str> = tracts.strs("tract").unwrap();
    names.dedup();
    assert_eq!(
        names[..6],
        [
            "lM1->Spinal",
            "lPMCDL->Spinal",
            "lPMCM->Spinal",
            "rM1->Spinal",
            "lM1->lPMCDL",
            "lPMCDL->lM1"
        ]
    );
    let icms = Table::read(&gpu, "icms.csv").unwrap();
    let mapped: Vec<&str> = icms.strs("region").unwrap();
    assert!(mapped.contains(&"lM1") && mapped.contains(&"lPMCDL"), "{mapped:?}");

    // The GPU equals its CPU twin.
    rewire::sim::run(model, &cpu, &options(rewire::EngineChoice::Cpu)).unwrap();
    let compared: Vec<&str> = SHOWCASE_FILES
        .iter()
        .copied()
        .filter(|f| *f != "summary.json")
        .chain(["regions.csv", "hemispheres.csv"])
        .collect();
    common::same_files(&cpu, &gpu, &compared);
}
