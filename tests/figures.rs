//! Per-run figures (report::figures): drawn at the end of every run, from its CSV files.
//!
//! Two CPU runs are shared by the tests: the showcase scene (protocol, lesion, plasticity,
//! structure) with its protocol shortened to a few days, and the deafferentation scene (no
//! protocol, structure) shortened to 8 s.

mod common;

use rewire::report::figures::{self, Curve, select_moments};
use rewire::sim::{EngineChoice, RunOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const FIGURES: [&str; 10] = [
    "recovery",
    "connectivity",
    "turnover",
    "activation",
    "weights",
    "tracts",
    "bold",
    "spine_survival",
    "icms",
    "lfp",
];

fn run(model: rewire::Model, name: &str, duration_ms: Option<f64>) -> PathBuf {
    let dir = common::temp_dir(name);
    let opts = RunOptions {
        engine: EngineChoice::Cpu,
        duration_ms,
        progress: false,
    };
    let t = std::time::Instant::now();
    rewire::sim::run(model, &dir, &opts).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{name}: run and figures in {:.1} s", t.elapsed().as_secs_f64());
    dir
}

/// The showcase scene with a short protocol: training days -5..-1, the lesion on day 0,
/// rehabilitation on days 2-5, a booster on day 7, probes every 3 days and on days -1, 0 and 3.
fn protocol_run() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let src = rewire::scene::DEFAULT_SCENE;
        let mut short = src.to_string();
        for (from, to) in [
            ("Train(days: (-8, -1), trials: 40)", "Train(days: (-5, -1), trials: 40)"),
            ("Rehab(days: (2, 8), trials: 20)", "Rehab(days: (2, 5), trials: 20)"),
            ("Booster(days: [20], trials: 20)", "Booster(days: [7], trials: 20)"),
            ("Rest(days: (21, 28))", "Rest(days: (8, 9))"),
            (
                "Probe(every_days: 7, trials: 24, extra_days: [0, 3])",
                "Probe(every_days: 3, trials: 24, extra_days: [-1, 0, 3])",
            ),
        ] {
            assert!(
                short.contains(from),
                "the showcase scene no longer has {from:?}: update this test"
            );
            short = short.replace(from, to);
        }
        let model = rewire::scene::parse(&short, "stroke_rehab_short.ron").unwrap_or_else(|e| panic!("{e}"));
        run(model, "protocol", None)
    })
}

/// The deafferentation scene (no protocol, structural plasticity) for 8 simulated seconds.
fn plain_run() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let model = rewire::scene::load(Path::new("scenes/deafferentation.ron")).unwrap_or_else(|e| panic!("{e}"));
        run(model, "plain", Some(8000.0))
    })
}

/// A CSV file as a header and rows of text (read here independently of report::Table).
fn csv(dir: &Path, name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(str::to_string).collect();
    let rows = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The motor-task probe rows of performance.csv: (day, accuracy).
fn motor_probes(dir: &Path) -> Vec<(f64, f64)> {
    let (h, rows) = csv(dir, "performance.csv");
    let (phase, task, day, acc) = (
        column(&h, "phase"),
        column(&h, "task"),
        column(&h, "day"),
        column(&h, "accuracy"),
    );
    rows.iter()
        .filter(|r| r[phase] == "probe" && r[task] == "motor")
        .map(|r| (r[day].parse().unwrap(), r[acc].parse().unwrap()))
        .collect()
}

/// The value of attribute `name` in an SVG tag's text.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(tag[start..].split('"').next()?.to_string())
}

/// Every `<circle>` of an SVG file: (cx, cy), in document order.
fn circles(svg: &str) -> Vec<(f64, f64)> {
    svg.split("<circle")
        .skip(1)
        .map(|t| {
            let tag = &t[..t.find('>').unwrap()];
            (
                attr(tag, "cx").unwrap().parse().unwrap(),
                attr(tag, "cy").unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// Every `<text>` of an SVG file: (attributes, content).
fn texts(svg: &str) -> Vec<(String, String)> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let close = t.find('>').unwrap();
            let content = &t[close + 1..t.find("</text>").unwrap()];
            (t[..close].to_string(), content.trim().to_string())
        })
        .collect()
}

/// The position of a text with this exact content and anchor (an axis tick label).
fn label_at(svg: &str, content: &str, anchor: &str) -> (f64, f64) {
    let found: Vec<(f64, f64)> = texts(svg)
        .iter()
        .filter(|(a, c)| c == content && attr(a, "text-anchor").as_deref() == Some(anchor))
        .map(|(a, _)| {
            (
                attr(a, "x").unwrap().parse().unwrap(),
                attr(a, "y").unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "tick label {content:?} ({anchor}) found {} times",
        found.len()
    );
    found[0]
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn recovery_markers_are_the_motor_probes_of_performance_csv() {
    let dir = protocol_run();
    let probes = motor_probes(dir);
    assert!(probes.len() >= 4, "too few probes to test: {probes:?}");
    assert!(
        probes.iter().any(|p| p.1 < 0.5) && probes.iter().any(|p| p.1 > 0.5),
        "the probes should span accuracies: {probes:?}"
    );
    let svg = String::from_utf8(read(&dir.join("recovery.svg"))).unwrap();
    let marks = circles(&svg);
    assert_eq!(marks.len(), probes.len(), "one marker per motor probe row");
    // The y axis runs 0..1: its tick labels "0.0" and "1.0" sit at the pixel rows of 0 and 1.
    let (_, y0) = label_at(&svg, "0.0", "end");
    let (_, y1) = label_at(&svg, "1.0", "end");
    assert!(y0 > y1 + 100.0, "y axis from {y0} (0) up to {y1} (1)");
    // The outermost day ticks give the x scale.
    let days: Vec<(f64, f64)> = texts(&svg)
        .iter()
        .filter(|(a, _)| attr(a, "text-anchor").as_deref() == Some("middle"))
        .filter_map(|(a, c)| Some((c.parse::<i32>().ok()? as f64, attr(a, "x")?.parse().ok()?)))
        .collect();
    assert!(days.len() >= 3, "day ticks: {days:?}");
    let ((d0, x0), (d1, x1)) = (days[0], days[days.len() - 1]);
    assert!(d1 > d0 && x1 > x0 + 100.0, "day ticks: {days:?}");
    for (k, (&(day, acc), &(cx, cy))) in probes.iter().zip(&marks).enumerate() {
        let acc_drawn = (y0 - cy) / (y0 - y1);
        assert!(
            ((y0 - cy) - acc * (y0 - y1)).abs() <= 1.5,
            "probe {k} (day {day}): accuracy {acc} in the CSV, {acc_drawn:.4} drawn (cy {cy})"
        );
        let day_drawn = d0 + (cx - x0) / (x1 - x0) * (d1 - d0);
        assert!(
            ((cx - x0) - (day - d0) * (x1 - x0) / (d1 - d0)).abs() <= 1.5,
            "probe {k}: day {day} in the CSV, {day_drawn:.3} drawn (cx {cx})"
        );
        if k > 0 {
            let (prev_day, prev_cx) = (probes[k - 1].0, marks[k - 1].0);
            assert!(
                day > prev_day && cx > prev_cx,
                "markers follow the days: {probes:?} {marks:?}"
            );
        }
    }
    // The curve that comparisons use is the same rows, exactly.
    let curve = figures::recovery_curve(dir)
        .unwrap()
        .expect("a protocol run has a recovery curve");
    assert_eq!(curve.points, probes);
    assert_eq!(curve.label, dir.file_name().unwrap().to_string_lossy());
}

fn assert_png(path: &Path, min_w: u32, min_h: u32) {
    let b = read(path);
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{}: not a PNG", path.display());
    assert_eq!(&b[12..16], b"IHDR");
    let w = u32::from_be_bytes(b[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(b[20..24].try_into().unwrap());
    assert!(
        (min_w..=4000).contains(&w) && (min_h..=4000).contains(&h),
        "{}: {w}x{h}",
        path.display()
    );
    assert!(b.len() > 5_000, "{}: only {} bytes", path.display(), b.len());
}

fn assert_svg(path: &Path) -> String {
    let s = String::from_utf8(read(path)).unwrap();
    assert!(
        s.starts_with("<svg") && s.trim_end().ends_with("</svg>"),
        "{}: not a whole SVG",
        path.display()
    );
    assert!(s.len() > 2_000, "{}: only {} bytes", path.display(), s.len());
    s
}

/// The SVG's text, with the entities that label text needs decoded.
fn all_text(svg: &str) -> String {
    texts(svg)
        .into_iter()
        .map(|t| {
            t.1.replace("&gt;", ">")
                .replace("&lt;", "<")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_protocol_run_with_structure_has_every_figure_as_png_and_svg() {
    let dir = protocol_run();
    for f in FIGURES {
        assert_png(&dir.join(format!("{f}.png")), 600, 400);
        assert_svg(&dir.join(format!("{f}.svg")));
    }
    let partial: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(partial.is_empty(), "left behind: {partial:?}");
}

#[test]
fn axes_and_colour_scales_state_their_units() {
    let dir = protocol_run();
    let text = |f: &str| all_text(&assert_svg(&dir.join(format!("{f}.svg"))));
    let recovery = text("recovery");
    for s in [
        "biological day (0 = lesion)",
        "motor task accuracy (fraction correct)",
        "lesion (day 0)",
    ] {
        assert!(recovery.contains(s), "recovery.svg lacks {s:?}:\n{recovery}");
    }
    for s in ["training day", "rehabilitation day", "booster day", "pre-lesion level"] {
        assert!(recovery.contains(s), "recovery.svg lacks the legend entry {s:?}");
    }
    let activation = text("activation");
    assert!(activation.contains("firing rate (Hz)") && activation.contains("biological day"));
    let connectivity = text("connectivity");
    for s in [
        "mV",
        "source region",
        "target region",
        "before lesion, day -1",
        "after lesion, day 0",
        "change: day",
    ] {
        assert!(
            connectivity.contains(s),
            "connectivity.svg lacks {s:?}:\n{connectivity}"
        );
    }
    let turnover = text("turnover");
    assert!(turnover.contains("biological day") && turnover.contains(" mm") && turnover.contains("spines per day"));
    let weights = text("weights");
    assert!(weights.contains("synaptic weight (≈ mV per spike") && weights.contains("synapses"));
    assert!(
        weights.contains("S1_E -> M1L_E"),
        "a panel per plastic projection:\n{weights}"
    );
}

#[test]
fn connectivity_compares_the_samples_around_the_lesion_and_the_last() {
    let dir = protocol_run();
    let (h, rows) = csv(dir, "connectivity.csv");
    let (step, day, src, dst, w) = (
        column(&h, "step"),
        column(&h, "day"),
        column(&h, "source"),
        column(&h, "target"),
        column(&h, "weight_sum"),
    );
    // Samples in file order, and the lesion day from lesions.csv.
    let mut samples: Vec<(u64, f64)> = Vec::new();
    for r in &rows {
        let s: u64 = r[step].parse().unwrap();
        if samples.last().map(|l| l.0) != Some(s) {
            samples.push((s, r[day].parse().unwrap()));
        }
    }
    let (lh, lrows) = csv(dir, "lesions.csv");
    let lesion: f64 = lrows[0][column(&lh, "day")].parse().unwrap();
    let before = samples
        .iter()
        .rposition(|s| s.1 < lesion)
        .expect("samples before the lesion");
    assert!(samples[before + 1].1 >= lesion);
    let c = figures::connectivity(dir).unwrap().expect("connectivity.csv");
    let names: Vec<&str> = c.moments.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["before lesion", "after lesion", "end"]);
    assert_eq!((c.moments[0].step, c.moments[0].day), samples[before]);
    assert_eq!((c.moments[1].step, c.moments[1].day), samples[before + 1]);
    assert_eq!((c.moments[2].step, c.moments[2].day), *samples.last().unwrap());
    // Every matrix entry is its CSV row, and the difference is end minus before.
    let mut by: BTreeMap<(u64, String, String), f64> = BTreeMap::new();
    for r in &rows {
        by.insert(
            (r[step].parse().unwrap(), r[src].clone(), r[dst].clone()),
            r[w].parse().unwrap(),
        );
    }
    let mut checked = 0;
    for (a, ra) in c.regions.iter().enumerate() {
        for (b, rb) in c.regions.iter().enumerate() {
            for (k, m) in c.moments.iter().enumerate() {
                match by.get(&(m.step, ra.clone(), rb.clone())) {
                    Some(&v) => assert_eq!(c.weight_sum[k][a][b], v, "{ra} -> {rb} at step {}", m.step),
                    None => assert!(c.weight_sum[k][a][b].is_nan()),
                }
            }
            let get = |s: u64| by.get(&(s, ra.clone(), rb.clone())).copied();
            if let (Some(x), Some(y)) = (get(c.moments[0].step), get(c.moments[2].step)) {
                assert_eq!(c.difference[a][b], y - x, "{ra} -> {rb}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "only {checked} region pairs compared");
    // The lesion removes most of M1_L: its summed input falls from before to after the lesion.
    let m1 = c.regions.iter().position(|r| r == "M1_L").expect("region M1_L");
    assert!(c.weight_sum[1][m1][m1] < c.weight_sum[0][m1][m1]);
}

#[test]
fn moments_without_a_lesion_or_without_earlier_samples() {
    let s = [(10, 0.5, 10.0), (20, 1.0, 20.0), (30, 2.0, 30.0)];
    let steps = |l: Option<f64>| -> Vec<(String, u64)> {
        select_moments(&s, l).into_iter().map(|m| (m.name, m.step)).collect()
    };
    let named = |v: &[(&str, u64)]| -> Vec<(String, u64)> { v.iter().map(|(n, k)| (n.to_string(), *k)).collect() };
    assert_eq!(steps(None), named(&[("first sample", 10), ("last sample", 30)]));
    assert_eq!(
        steps(Some(1.0)),
        named(&[("before lesion", 10), ("after lesion", 20), ("end", 30)])
    );
    assert_eq!(
        steps(Some(0.0)),
        named(&[("first sample", 10), ("after lesion", 10), ("end", 30)])
    );
    assert_eq!(steps(Some(5.0)), named(&[("before lesion", 30), ("end", 30)]));
    assert!(select_moments(&[], Some(0.0)).is_empty());
    // Chosen days: the last sample on or before each; a day before every sample is refused.
    let chosen = figures::moments_on_days(&s, &[0.7, 1.5, 9.0]).unwrap();
    assert_eq!(chosen.iter().map(|m| m.step).collect::<Vec<_>>(), [10, 20, 30]);
    let e = figures::moments_on_days(&s, &[0.1]).unwrap_err();
    assert!(e.contains("no sample on or before day 0.1"), "{e}");
}

#[test]
fn weight_distributions_at_chosen_days() {
    // A copy of the protocol run, so the shared folder's figures stay as drawn.
    let dir = common::temp_dir("chosen");
    std::fs::create_dir_all(&dir).unwrap();
    // Another test may be redrawing the shared folder's figures: a figure is written under a
    // `.partial` name and renamed, so such a name can be gone by the time it is copied.
    for e in std::fs::read_dir(protocol_run()).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy().ends_with(".partial") {
            continue;
        }
        match std::fs::copy(e.path(), dir.join(e.file_name())) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            r => {
                r.unwrap();
            }
        }
    }
    let options = figures::PlotOptions {
        weight_days: vec![-1.0, 3.0],
    };
    figures::draw_run_with(&dir, &options).unwrap();
    let text = all_text(&assert_svg(&dir.join("weights.svg")));
    assert!(
        text.contains("chosen, day -1") && text.contains("chosen, day 3"),
        "{text}"
    );
    assert!(!text.contains("before lesion"), "{text}");
    let bad = figures::PlotOptions {
        weight_days: vec![-100.0],
    };
    let e = figures::draw_run_with(&dir, &bad).unwrap_err().to_string();
    assert!(e.contains("weight_hist.csv") && e.contains("day -100"), "{e}");
}

#[test]
fn a_plain_scene_draws_connectivity_activation_and_turnover_but_no_recovery() {
    let dir = plain_run();
    for f in ["connectivity", "activation", "turnover"] {
        assert_png(&dir.join(format!("{f}.png")), 600, 400);
        assert_svg(&dir.join(format!("{f}.svg")));
    }
    for f in ["recovery", "weights"] {
        assert!(!dir.join(format!("{f}.png")).exists() && !dir.join(format!("{f}.svg")).exists());
    }
    assert!(figures::recovery_curve(dir).unwrap().is_none());
    let activation = all_text(&assert_svg(&dir.join("activation.svg")));
    assert!(activation.contains("simulated time (s)") && activation.contains("firing rate (Hz)"));
    let connectivity = all_text(&assert_svg(&dir.join("connectivity.svg")));
    assert!(connectivity.contains("first sample") && connectivity.contains("last sample"));
    // Redrawing lists exactly the figures present.
    let written = figures::draw_run(dir).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "connectivity.png",
            "connectivity.svg",
            "turnover.png",
            "turnover.svg",
            "activation.png",
            "activation.svg"
        ]
    );
}

#[test]
fn drawing_again_gives_the_same_bytes() {
    let dir = protocol_run();
    let before: Vec<(String, Vec<u8>)> = FIGURES
        .iter()
        .flat_map(|f| [format!("{f}.png"), format!("{f}.svg")])
        .map(|n| (n.clone(), read(&dir.join(&n))))
        .collect();
    let t = std::time::Instant::now();
    let written = figures::draw_run(dir).unwrap();
    eprintln!(
        "{} figures redrawn in {:.2} s",
        FIGURES.len(),
        t.elapsed().as_secs_f64()
    );
    assert_eq!(written.len(), 2 * FIGURES.len());
    for (n, bytes) in before {
        assert!(read(&dir.join(&n)) == bytes, "{n} changed when drawn again");
    }
}

#[test]
fn comparison_overlays_one_curve_per_run() {
    let dir = protocol_run();
    let a = figures::recovery_curve(dir).unwrap().unwrap();
    let b = Curve {
        label: "no rehabilitation".into(),
        points: a.points.iter().map(|&(d, y)| (d, y * 0.5)).collect(),
    };
    let out = common::temp_dir("comparison");
    let written = figures::draw_comparison(&[a.clone(), b.clone()], &[0], &out).unwrap();
    assert_eq!(written, [out.join("comparison.png"), out.join("comparison.svg")]);
    assert_png(&written[0], 600, 400);
    let svg = assert_svg(&written[1]);
    assert_eq!(circles(&svg).len(), a.points.len() + b.points.len());
    let text = all_text(&svg);
    // Run names longer than the legend column are cut.
    let start: String = a.label.chars().take(20).collect();
    assert!(text.contains(&start) && text.contains("no rehabilitation") && text.contains("lesion (day 0)"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn rewire_plot_draws_from_a_run_folders_files_and_lists_them() {
    // A copy of the plain run's data files only (the other tests redraw the run's own folder).
    let dir = &common::temp_dir("plot");
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(plain_run()).unwrap() {
        let p = e.unwrap().path();
        if matches!(p.extension().and_then(|x| x.to_str()), Some("csv" | "json")) {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    let out = common::rewire().args(["plot", dir.to_str().unwrap()]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<PathBuf> = stdout.lines().map(PathBuf::from).collect();
    assert_eq!(listed.len(), 6, "{stdout}");
    assert!(listed.iter().all(|p| p.starts_with(dir) && p.exists()), "{stdout}");
    let missing = std::env::temp_dir().join(format!("rewire-figures-{}-missing", std::process::id()));
    let out = common::rewire()
        .args(["plot", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such run folder"));
    for f in ["connectivity.svg", "activation.svg", "turnover.svg"] {
        assert!(
            read(&dir.join(f)) == read(&plain_run().join(f)),
            "{f} differs from the run's own"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
