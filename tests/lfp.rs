//! The LFP proxy (the `Lfp` readout): the Izhikevich (2003) network's spectrum has its alpha and
//! gamma peaks, a network of independent Poisson sources with the same couplings has neither,
//! the GPU gives its CPU twin's files, and bad settings are refused.

mod common;

use rewire::sim::EngineChoice;
use std::path::PathBuf;

/// scenes/izhikevich2003.ron sampled every second, its LFP proxy over each whole second.
fn izhikevich(duration_ms: f64) -> String {
    let src = std::fs::read_to_string("scenes/izhikevich2003.ron").unwrap();
    let out = src
        .replace("duration_ms: 1000.0,", &format!("duration_ms: {duration_ms},"))
        .replace("sample_every_ms: 10.0,", "sample_every_ms: 1000.0,");
    let at = out.rfind(')').unwrap();
    let out = format!("{}    readouts: [Lfp(window_ms: 1000, max_hz: 150)],\n)", &out[..at]);
    assert_ne!(out, src);
    out
}

fn run(src: &str, engine: EngineChoice, name: &str) -> PathBuf {
    common::run_scene(src, engine, name)
}

/// The mean spectrum over the samples after the first (the first second holds the onset):
/// (Hz, power), in frequency order.
fn mean_spectrum(dir: &std::path::Path) -> Vec<(f64, f64)> {
    let t = rewire::report::Table::read(dir, "lfp_spectrum.csv").unwrap();
    let (step, f, p) = (
        t.f64s("step").unwrap(),
        t.f64s("freq_hz").unwrap(),
        t.f64s("power").unwrap(),
    );
    let first = step.iter().copied().fold(f64::INFINITY, f64::min);
    let mut sums: Vec<(f64, f64, u32)> = Vec::new();
    for i in 0..t.rows.len() {
        if step[i] == first {
            continue;
        }
        match sums.iter_mut().find(|s| s.0 == f[i]) {
            Some(s) => {
                s.1 += p[i];
                s.2 += 1;
            }
            None => sums.push((f[i], p[i], 1)),
        }
    }
    sums.sort_by(|a, b| a.0.total_cmp(&b.0));
    sums.into_iter().map(|(f, s, n)| (f, s / n as f64)).collect()
}

fn mean_in(s: &[(f64, f64)], lo: f64, hi: f64) -> f64 {
    let v: Vec<f64> = s.iter().filter(|p| p.0 >= lo && p.0 <= hi).map(|p| p.1).collect();
    v.iter().sum::<f64>() / v.len() as f64
}

fn peak_in(s: &[(f64, f64)], lo: f64, hi: f64) -> f64 {
    s.iter()
        .filter(|p| p.0 >= lo && p.0 <= hi)
        .fold((0.0, f64::NEG_INFINITY), |b, &(f, p)| if p > b.1 { (f, p) } else { b })
        .0
}

#[test]
fn the_izhikevich_network_shows_alpha_and_gamma_and_poisson_sources_neither() {
    let dir = run(&izhikevich(20_000.0), EngineChoice::Cpu, "lfp-izhikevich");
    let s = mean_spectrum(&dir);
    let (alpha, beta_low, delta) = (mean_in(&s, 7.0, 12.0), mean_in(&s, 13.0, 18.0), mean_in(&s, 2.0, 5.0));
    let (gamma, high) = (mean_in(&s, 30.0, 45.0), mean_in(&s, 90.0, 150.0));
    let (alpha_peak, gamma_peak) = (peak_in(&s, 4.0, 20.0), peak_in(&s, 20.0, 150.0));
    eprintln!(
        "alpha peak {alpha_peak} Hz, gamma peak {gamma_peak} Hz; 7-12 Hz {alpha:.0}, 13-18 Hz {beta_low:.0}, 2-5 Hz \
         {delta:.0}, 30-45 Hz {gamma:.0}, 90-150 Hz {high:.0}"
    );
    assert!((7.0..=13.0).contains(&alpha_peak), "alpha peak at {alpha_peak} Hz");
    assert!((25.0..=60.0).contains(&gamma_peak), "gamma peak at {gamma_peak} Hz");
    assert!(alpha > 1.5 * beta_low && alpha > 2.0 * delta, "no alpha peak: {s:?}");
    assert!(gamma > 2.0 * high && gamma > 3.0 * beta_low, "no gamma peak: {s:?}");
    // lfp.csv: one row per region and sample, its peak within the spectrum written.
    let t = rewire::report::Table::read(&dir, "lfp.csv").unwrap();
    assert_eq!(t.rows.len(), 20);
    assert!(t.f64s("peak_hz").unwrap().iter().all(|&f| (1.0..=150.0).contains(&f)));

    // Control: the same couplings from independent Poisson sources at the network's rate (about
    // 8 Hz): no rhythm, so neither peak.
    let src = izhikevich(20_000.0);
    let exc = src.find("Population(name: \"exc\"").unwrap();
    let end = src.find("    projections:").unwrap();
    let control = format!(
        "{}Population(name: \"exc\", count: 800, model: SpikeSource(rate_hz: 8.0)),\n                \
         Population(name: \"inh\", count: 200, model: SpikeSource(rate_hz: 8.0)),\n            ],\n        ),\n    ],\n{}",
        &src[..exc],
        &src[end..]
    );
    let start = control.find("    inputs: [").unwrap();
    let stop = control[start..].find("    ],\n").unwrap() + start + "    ],\n".len();
    let control = format!("{}{}", &control[..start], &control[stop..]);
    let dir = run(&control, EngineChoice::Cpu, "lfp-poisson");
    let c = mean_spectrum(&dir);
    let (alpha_c, gamma_c) = (
        mean_in(&c, 7.0, 12.0) / mean_in(&c, 13.0, 18.0),
        mean_in(&c, 30.0, 45.0) / mean_in(&c, 90.0, 150.0),
    );
    eprintln!("Poisson control: 7-12 / 13-18 Hz {alpha_c:.2}, 30-45 / 90-150 Hz {gamma_c:.2}");
    assert!((0.7..1.3).contains(&alpha_c) && (0.7..1.3).contains(&gamma_c), "{c:?}");
}

#[test]
fn the_gpu_gives_its_twins_lfp() {
    let src = izhikevich(3000.0);
    let cpu = run(&src, EngineChoice::Cpu, "lfp-cpu");
    let gpu = run(&src, EngineChoice::Gpu(Default::default()), "lfp-gpu");
    common::same_files(&cpu, &gpu, &["lfp.csv", "lfp_spectrum.csv", "rates.csv"]);
}

#[test]
fn an_lfp_that_cannot_be_analysed_is_refused() {
    let src = izhikevich(3000.0);
    let readout = "Lfp(window_ms: 1000, max_hz: 150)";
    for (replacement, needle, field, message) in [
        (
            "Lfp(window_ms: 20)",
            "20)",
            "readouts[0].window_ms",
            "give 64 to 65536 steps",
        ),
        (
            "Lfp(max_hz: 600)",
            "600",
            "readouts[0].max_hz",
            "Nyquist frequency, 500 Hz",
        ),
        ("Lfp(max_hz: -3)", "-3", "readouts[0].max_hz", "must be > 0"),
        ("Lfp(), Lfp( )", "Lfp( )", "readouts[1]", "a second `Lfp`"),
    ] {
        let s = src.replace(readout, replacement);
        let (line, column, f, m) = common::scene_error(&s, "file.ron");
        assert_eq!((line, column, f.as_str()), {
            let (l, c) = common::position(&s, needle);
            (l, c, field)
        });
        assert!(m.contains(message), "{replacement}: {m}");
    }
}
