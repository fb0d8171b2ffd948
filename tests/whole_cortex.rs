//! scenes/whole_cortex.ron on The Virtual Brain's 76-region connectome (connectivity_76.zip from
//! the `tvb-data` package, which `scripts/fetch-connectivity` puts in data/; `.ci/run` does):
//! every region present and firing, wiring that follows the connectome, lesions by label, and
//! the GPU equal to its CPU twin.

mod common;

use rewire::report::table::Table;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// data/connectivity_76.zip; a test without it fails, saying how to get it.
fn connectivity_76() -> PathBuf {
    let zip = repo().join("data/connectivity_76.zip");
    assert!(
        zip.is_file(),
        "{} is missing: run scripts/fetch-connectivity (it installs tvb-data from PyPI; .ci/run does)",
        zip.display()
    );
    zip
}

fn cpu() -> rewire::RunOptions {
    rewire::RunOptions {
        engine: rewire::EngineChoice::Cpu,
        duration_ms: None,
        progress: false,
    }
}

#[test]
fn tvb_76_imports_with_every_region_and_wiring_that_follows_the_weights() {
    let zip = connectivity_76();
    let c = rewire::connectome::read(&zip).unwrap();
    assert_eq!(c.len(), 76);
    let dir = common::temp_dir("whole-cortex-import");
    let out = dir.join("tvb76.ron");
    let mut opts = rewire::connectome::ImportOptions::new("tvb76", &zip);
    opts.wiring.neurons_per_region = 100;
    opts.duration_ms = 300.0;
    let (regions, tracts) = rewire::connectome::import(&zip, &out, &opts).unwrap();
    let present = (0..76)
        .flat_map(|i| (0..76).map(move |j| (i, j)))
        .filter(|&(i, j)| i != j && c.weights[i][j] > 0.0)
        .count();
    assert_eq!((regions, tracts), (76, present));
    let model = rewire::scene::load(&out).unwrap();
    let names: Vec<&str> = model.regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, c.labels.iter().map(String::as_str).collect::<Vec<_>>());
    for (r, label) in model.regions.iter().zip(&c.labels) {
        let side = if label.starts_with('r') { "right" } else { "left" };
        assert_eq!(r.hemisphere.map(|h| h.name()), Some(side), "{label}");
    }

    let run = dir.join("run");
    rewire::sim::run(model, &run, &cpu()).unwrap();
    // Spikes in every region.
    let regions = Table::read(&run, "regions.csv").unwrap();
    let mut spikes: HashMap<&str, f64> = HashMap::new();
    for (r, s) in regions
        .strs("region")
        .unwrap()
        .into_iter()
        .zip(regions.f64s("spikes").unwrap())
    {
        *spikes.entry(r).or_default() += s;
    }
    assert_eq!(spikes.len(), 76);
    let silent: Vec<_> = spikes.iter().filter(|(_, s)| **s == 0.0).collect();
    assert!(silent.is_empty(), "silent regions: {silent:?}");
    // Both populations of every region fire, interneurons faster than excitatory cells.
    let rates = Table::read(&run, "rates.csv").unwrap();
    let (mut e, mut i) = (Vec::new(), Vec::new());
    for (p, r) in rates
        .strs("population")
        .unwrap()
        .into_iter()
        .zip(rates.f64s("rate_hz").unwrap())
    {
        if p.ends_with("_E") { e.push(r) } else { i.push(r) }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        e.iter().chain(&i).all(|&r| r > 0.0),
        "a population fell silent in a sample"
    );
    assert!(
        (2.0..10.0).contains(&mean(&e)) && mean(&i) > mean(&e),
        "E {} Hz, I {} Hz",
        mean(&e),
        mean(&i)
    );

    // Synapses between regions follow the connectome: none where it has no tract, some on every
    // tract in its strongest quarter, and more on strong tracts than on weak ones.
    let conn = Table::read(&run, "connectivity.csv").unwrap();
    let first = conn.f64s("step").unwrap()[0];
    let index: HashMap<&str, usize> = c.labels.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
    let mut synapses = vec![vec![0.0; 76]; 76];
    for (((step, s), t), n) in conn
        .f64s("step")
        .unwrap()
        .into_iter()
        .zip(conn.strs("source").unwrap())
        .zip(conn.strs("target").unwrap())
        .zip(conn.f64s("synapses").unwrap())
    {
        if step == first {
            synapses[index[s]][index[t]] = n;
        }
    }
    // TVB: weights[target][source].
    let mut tracts: Vec<(f64, f64)> = Vec::new();
    for (from, row) in synapses.iter().enumerate() {
        for (to, &n) in row.iter().enumerate() {
            if from == to {
                continue;
            }
            let w = c.weight(from, to, false);
            if w == 0.0 {
                assert_eq!(n, 0.0, "{} -> {}: no tract, {n} synapses", c.labels[from], c.labels[to]);
            } else {
                tracts.push((w, n));
            }
        }
    }
    // Its weights are mostly the levels 1, 2 and 3 (and a few weaker ones): per level, the mean
    // synapse count rises with the weight, as weight / 3 * 16 synapses onto each of the target's
    // 80 excitatory neurons.
    let max = tracts.iter().map(|t| t.0).fold(0.0, f64::max);
    assert_eq!(max, 3.0);
    let mut levels: Vec<(f64, Vec<f64>)> = Vec::new();
    for &(w, n) in &tracts {
        match levels.iter_mut().find(|l| l.0 == w) {
            Some(l) => l.1.push(n),
            None => levels.push((w, vec![n])),
        }
    }
    levels.retain(|l| l.1.len() >= 20);
    levels.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(levels.iter().map(|l| l.0).collect::<Vec<_>>(), [1.0, 2.0, 3.0]);
    let means: Vec<f64> = levels
        .iter()
        .map(|l| l.1.iter().sum::<f64>() / l.1.len() as f64)
        .collect();
    for ((w, _), mean) in levels.iter().zip(&means) {
        let expected = w / max * 16.0 * 80.0;
        assert!(
            (mean / expected - 1.0).abs() < 0.05,
            "weight {w}: {mean} synapses per tract, expected {expected}"
        );
    }
    assert!(means.windows(2).all(|m| m[0] < m[1]), "{means:?}");
    assert!(
        levels.iter().all(|l| l.1.iter().all(|&n| n > 0.0)),
        "a tract without synapses"
    );
}

/// scenes/whole_cortex.ron with a shorter day: the right motor region removed by label on day 0,
/// a focal lesion centred on lPFCDL on day 2.
fn whole_cortex() -> rewire::Model {
    connectivity_76();
    let path = repo().join("scenes/whole_cortex.ron");
    let src = std::fs::read_to_string(&path).unwrap();
    let src = rewire::scene::set::apply(&src, &[("time.offline_ms".into(), "400.0".into())]).unwrap();
    // Parsed as the original file, so that the zip's relative path holds.
    rewire::scene::parse(&src, &path.display().to_string()).unwrap()
}

#[test]
fn whole_cortex_runs_lesions_by_label_and_the_gpu_equals_its_cpu_twin() {
    let dir = common::temp_dir("whole-cortex-run");
    let model = whole_cortex();
    assert_eq!((model.regions.len(), model.neurons), (76, 7600));
    let (cpu_out, gpu_out) = (dir.join("cpu"), dir.join("gpu"));
    rewire::sim::run(model.clone(), &cpu_out, &cpu()).unwrap();
    let gpu = rewire::RunOptions {
        engine: rewire::EngineChoice::Gpu(Default::default()),
        duration_ms: None,
        progress: false,
    };
    if let Err(e) = rewire::sim::run(model, &gpu_out, &gpu) {
        panic!("the GPU run failed (GPU tests need an adapter): {e}");
    }
    // The GPU equals its CPU twin.
    common::same_files(
        &cpu_out,
        &gpu_out,
        &[
            "rates.csv",
            "regions.csv",
            "hemispheres.csv",
            "connectivity.csv",
            "hemisphere_connectivity.csv",
            "lesions.csv",
            "tracts.csv",
            "bold.csv",
            "lfp.csv",
            "lfp_spectrum.csv",
        ],
    );
    // The LFP proxy: every region, once a day (each day's 400 ms offline phase is one sample).
    let lfp = Table::read(&cpu_out, "lfp.csv").unwrap();
    assert_eq!(lfp.rows.len(), 76 * 5);
    assert!(lfp.f64s("steps").unwrap().iter().all(|&s| s == 400.0));
    // BOLD: every region every 250 ms of the 2 s run.
    let bold = Table::read(&cpu_out, "bold.csv").unwrap();
    assert_eq!(bold.rows.len(), 76 * 8);
    assert!(bold.f64s("bold_pct").unwrap().iter().all(|b| b.is_finite()));

    // Tract strength: the tracts the scene names, rM1's gone with it from day 0.
    let tracts = Table::read(&cpu_out, "tracts.csv").unwrap();
    let (name, day, rel) = (
        tracts.strs("tract").unwrap(),
        tracts.f64s("day").unwrap(),
        tracts.strs("synapses_rel").unwrap(),
    );
    let mut named: Vec<&str> = name.clone();
    named.dedup();
    assert_eq!(
        named[..5],
        [
            "rM1->rPMCDL",
            "rPMCDL->rM1",
            "rM1->rPMCVL",
            "rS2->rM1",
            "lPFCDL->lPMCDL"
        ]
    );
    for i in 0..tracts.rows.len() {
        let expected = if day[i] < 0.0 {
            "1"
        } else if name[i].contains("rM1") {
            "0"
        } else {
            continue;
        };
        assert_eq!(rel[i], expected, "{} on day {}", name[i], day[i]);
    }
    let lesions = Table::read(&cpu_out, "lesions.csv").unwrap();
    let lost: Vec<(f64, &str, f64)> = lesions
        .f64s("day")
        .unwrap()
        .into_iter()
        .zip(lesions.strs("region").unwrap())
        .zip(lesions.f64s("neurons_lost").unwrap())
        .map(|((d, r), n)| (d, r, n))
        .filter(|l| l.2 > 0.0)
        .collect();
    assert!(lost.contains(&(0.0, "rM1", 100.0)), "{lost:?}");
    assert!(
        lost.iter().filter(|l| l.0 == 0.0).count() == 1,
        "the region lesion kills rM1 alone: {lost:?}"
    );
    assert!(lost.iter().any(|l| l.0 == 2.0 && l.1 == "lPFCDL"), "{lost:?}");

    let regions = Table::read(&cpu_out, "regions.csv").unwrap();
    let rows: Vec<((f64, &str), f64)> = regions
        .f64s("day")
        .unwrap()
        .into_iter()
        .zip(regions.strs("region").unwrap())
        .zip(regions.f64s("spikes").unwrap())
        .collect();
    let total =
        |pick: &dyn Fn(f64, &str) -> bool| rows.iter().filter(|((d, r), _)| pick(*d, r)).map(|r| r.1).sum::<f64>();
    assert!(total(&|d, r| d < 0.0 && r == "rM1") > 0.0);
    assert_eq!(
        total(&|d, r| d >= 0.0 && r == "rM1"),
        0.0,
        "rM1 fires after its removal"
    );
    // Left and right hemispheres: 38 regions each, both active throughout.
    let sides = Table::read(&cpu_out, "hemispheres.csv").unwrap();
    assert!(sides.f64s("regions").unwrap().iter().all(|&n| n == 38.0));
    assert!(sides.f64s("spikes").unwrap().iter().all(|&s| s > 0.0));
}
