//! `rewire import-connectome`: TVB connectivity zips become scenes that parse and run; malformed
//! zips are refused with a message naming the member.

mod common;

use rewire::connectome::{self, ImportOptions};
use rewire::scene::schema::{Param, Rule};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const CENTRES: &str = "V1 -10.0 -80.0 5.0\nM1 -35 -10 55\nctx(3) 20.5 0 10\nPFC 0 50 20\n";
/// TVB's convention: row = target, column = source.
const WEIGHTS: &str = "0 2 0 1\n4 0 0 0\n0 0 0 3\n1 0 0 0\n";
const LENGTHS: &str = "0 40 50 60\n40 0 60 70\n50 60 0 80\n2 70 80 0\n";
const AREAS: &str = "100\n200\n0\n50\n";
const CORTICAL: &str = "1 1 0 1\n";

fn bz2(bytes: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn make_zip(dir: &Path, name: &str, members: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(name);
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (n, bytes) in members {
        z.start_file(*n, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
    path
}

fn members() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("centres.txt", CENTRES.into()),
        ("weights.txt", WEIGHTS.into()),
        ("tract_lengths.txt", LENGTHS.into()),
        ("areas.txt", AREAS.into()),
        ("cortical.txt", CORTICAL.into()),
    ]
}

fn zip_of(dir: &Path, name: &str, m: &[(&str, Vec<u8>)]) -> PathBuf {
    let refs: Vec<(&str, &[u8])> = m.iter().map(|(n, b)| (*n, &b[..])).collect();
    make_zip(dir, name, &refs)
}

/// 50 neurons per region (40 E), 5 m/s, and 8 synapses per E neuron from the strongest tract:
/// a tract of weight w has probability w / 4 * 8 / 40.
fn opts() -> ImportOptions {
    let mut o = ImportOptions::new("four", Path::new("c.zip"));
    o.wiring.neurons_per_region = 50;
    o.wiring.velocity_m_per_s = 5.0;
    o.wiring.max_in_degree = 8.0;
    o
}

#[test]
fn four_regions_plain_and_bz2_import_alike() {
    let dir = common::temp_dir("connectome-four");
    let plain = zip_of(&dir, "plain.zip", &members());
    // The bz2 variant keeps its members in a subfolder, as TVB's own zips sometimes do.
    let names: Vec<String> = members().iter().map(|(n, _)| format!("conn/{n}.bz2")).collect();
    let packed: Vec<(&str, Vec<u8>)> = members()
        .iter()
        .zip(&names)
        .map(|((_, b), n)| (n.as_str(), bz2(b)))
        .collect();
    let packed = zip_of(&dir, "bz2.zip", &packed);

    let a = connectome::read(&plain).unwrap();
    let b = connectome::read(&packed).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.areas.as_deref(), Some(&[100.0, 200.0, 0.0, 50.0][..]));
    assert_eq!(a.cortical.as_deref(), Some(&[true, true, false, true][..]));
    let text = connectome::scene(&a, &opts());
    assert_eq!(text, connectome::scene(&b, &opts()));

    let model = common::model(&text);
    let names: Vec<&str> = model.regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["V1", "M1", "ctx_3_", "PFC"]);
    assert_eq!(model.regions[0].centre_mm, [-10.0, -80.0, 5.0]);
    assert_eq!(model.regions[2].centre_mm, [20.5, 0.0, 10.0]);
    let r0 = (100.0 / std::f64::consts::PI).sqrt();
    assert!((model.regions[0].radius_mm - r0).abs() < 1e-12);
    assert_eq!(model.regions[2].radius_mm, 2.0, "an area of 0 takes the default radius");
    assert_eq!(model.populations.len(), 8);
    assert_eq!((model.populations[0].count, model.populations[1].count), (40, 10));
    assert!(
        model.regions.iter().all(|r| r.hemisphere.is_none()),
        "no label names a side"
    );

    // The local template: fixed in-degrees, E->E 40, E->I 80, I->E 20, I->I 20, in every region.
    for r in 0..4 {
        let (e, i) = (2 * r, 2 * r + 1);
        let local: Vec<(usize, usize, u32)> = model
            .projections
            .iter()
            .filter(|p| model.populations[p.source].region == r && model.populations[p.target].region == r)
            .map(|p| {
                let Rule::FixedInDegree(k) = p.rule else {
                    panic!("{:?}", p.rule)
                };
                (p.source, p.target, k)
            })
            .collect();
        assert_eq!(local, [(e, e, 40), (e, i, 80), (i, e, 20), (i, i, 20)]);
    }

    // Long-range projections: E -> E between different regions.
    let region_of = |pop: usize| model.populations[pop].region;
    let mut long: HashMap<(usize, usize), (f64, f64)> = HashMap::new();
    for p in &model.projections {
        let (s, t) = (region_of(p.source), region_of(p.target));
        if s == t {
            continue;
        }
        assert!(model.populations[p.source].name.ends_with("_E") && model.populations[p.target].name.ends_with("_E"));
        let Rule::FixedProbability(q) = p.rule else {
            panic!("{:?}", p.rule)
        };
        let Param::Const(d) = p.delay_ms else {
            panic!("{:?}", p.delay_ms)
        };
        assert!(long.insert((s, t), (q, d)).is_none());
    }
    // weights[to][from] = 2 (1 -> 0), 1 (3 -> 0), 4 (0 -> 1), 3 (3 -> 2), 1 (0 -> 3); max 4.
    let expected = [
        ((1, 0), 2.0, 40.0),
        ((3, 0), 1.0, 60.0),
        ((0, 1), 4.0, 40.0),
        ((3, 2), 3.0, 80.0),
        ((0, 3), 1.0, 2.0),
    ];
    assert_eq!(long.len(), expected.len(), "{long:?}");
    for (key, w, len) in expected {
        let (q, d) = long[&key];
        assert!((q - w / 4.0 * 8.0 / 40.0).abs() < 1e-12, "{key:?}: p {q}");
        // A 2 mm tract at 5 m/s takes 0.4 ms: at least one time step.
        assert!((d - (len / 5.0f64).max(1.0)).abs() < 1e-12, "{key:?}: delay {d}");
    }

    // Rows as sources: the transpose.
    let mut transposed = opts();
    transposed.wiring.rows_are_sources = true;
    let t = connectome::scene(&a, &transposed);
    let mt = common::model(&t);
    let pairs: Vec<(usize, usize)> = mt
        .projections
        .iter()
        .map(|p| (region_of(p.source), region_of(p.target)))
        .filter(|(s, t)| s != t)
        .collect();
    assert!(pairs.contains(&(0, 1)) && pairs.contains(&(2, 3)) && !pairs.contains(&(3, 2)));
}

#[test]
fn import_writes_a_scene_that_loads() {
    let dir = common::temp_dir("connectome-import");
    let zip = zip_of(&dir, "c.zip", &members());
    let out = dir.join("four.ron");
    let (regions, tracts) = connectome::import(&zip, &out, &opts()).unwrap();
    assert_eq!((regions, tracts), (4, 5));
    let model = rewire::scene::load(&out).unwrap();
    assert_eq!(model.name, "four");
}

#[test]
fn labels_are_sanitized_and_unique() {
    let labels: Vec<String> = ["lh.V1", "a b", "a_b", "", "x/y", "a_b"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        connectome::region_names(&labels),
        ["lh.V1", "a_b", "a_b_2", "region3", "x_y", "a_b_3"]
    );
}

fn refused(dir: &Path, name: &str, m: &[(&str, Vec<u8>)]) -> String {
    let zip = zip_of(dir, name, m);
    let e = connectome::read(&zip).expect_err(name).to_string();
    assert!(e.contains(name), "the message names the zip: {e}");
    e
}

fn with(member: &str, bytes: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    members()
        .into_iter()
        .map(|(n, b)| if n == member { (n, bytes.to_vec()) } else { (n, b) })
        .collect()
}

#[test]
fn malformed_zips_are_refused_naming_the_member() {
    let dir = common::temp_dir("connectome-bad");
    let missing: Vec<_> = members()
        .into_iter()
        .filter(|(n, _)| *n != "tract_lengths.txt")
        .collect();
    let e = refused(&dir, "missing.zip", &missing);
    assert!(e.contains("tract_lengths.txt") && e.contains("missing"), "{e}");

    // (zip, member, its content, what the message says)
    let cases: [(&str, &str, &[u8], &[&str]); 7] = [
        (
            "nonsquare.zip",
            "weights.txt",
            b"0 1 0 0\n1 0 0 0\n0 0 0 1\n",
            &["weights.txt", "not square"],
        ),
        (
            "size.zip",
            "weights.txt",
            b"0 1 0\n1 0 0\n0 0 0\n",
            &["weights.txt", "3 x 3", "4 regions"],
        ),
        (
            "row.zip",
            "tract_lengths.txt",
            b"0 1 1 1\n1 0 1\n1 1 0 1\n1 1 1 0\n",
            &["tract_lengths.txt", "line 2 has 3 values"],
        ),
        (
            "nan.zip",
            "weights.txt",
            b"0 1 0 0\n1 0 NaN 0\n0 0 0 1\n0 0 1 0\n",
            &["weights.txt", "line 2, column 5 (value 3)", "NaN"],
        ),
        (
            "word.zip",
            "weights.txt",
            b"0 1 0 0\n1 0 0 0\n0 0 0 x1\n0 0 1 0\n",
            &["line 3, column 7 (value 4)", "not a number"],
        ),
        (
            "centres.zip",
            "centres.txt",
            b"V1 1 2 3\nM1 1 2\nS1 0 0 0\nPFC 0 0 0\n",
            &["centres.txt", "line 2"],
        ),
        ("areas.zip", "areas.txt", b"1 2 3\n", &["areas.txt", "3 values"]),
    ];
    for (zip, member, bytes, needles) in cases {
        let e = refused(&dir, zip, &with(member, bytes));
        assert!(needles.iter().all(|n| e.contains(n)), "{zip}: {e}");
    }

    let mut m = members();
    m[1] = ("weights.txt.bz2", b"BZh91AY&SY this is not a bz2 stream".to_vec());
    let e = refused(&dir, "bz2.zip", &m);
    assert!(e.contains("weights.txt.bz2") && e.contains("bz2"), "{e}");

    std::fs::write(dir.join("notzip.zip"), b"plain text").unwrap();
    let e = connectome::read(&dir.join("notzip.zip")).unwrap_err().to_string();
    assert!(e.contains("notzip.zip") && e.contains("not a zip"), "{e}");
}

#[test]
fn imported_scene_runs_on_the_cpu_with_every_region_active() {
    let dir = common::temp_dir("connectome-run");
    let zip = zip_of(&dir, "c.zip", &members());
    let c = connectome::read(&zip).unwrap();
    let model = common::model(&connectome::scene(&c, &opts()));
    let out = dir.join("run");
    let opts = rewire::RunOptions {
        engine: rewire::EngineChoice::Cpu,
        duration_ms: Some(200.0),
        progress: false,
    };
    rewire::sim::run(model, &out, &opts).unwrap();
    let rates = std::fs::read_to_string(out.join("rates.csv")).unwrap();
    let mut lines = rates.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (region, spikes) = (col("region"), col("spikes"));
    let mut per_region: HashMap<String, u64> = HashMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        *per_region.entry(f[region].to_owned()).or_default() += f[spikes].parse::<u64>().unwrap();
    }
    for r in ["V1", "M1", "ctx_3_", "PFC"] {
        assert!(per_region.get(r).copied().unwrap_or(0) > 0, "{r}: {per_region:?}");
    }
}

#[test]
fn hemispheres_come_from_labels_or_from_hemispheres_txt() {
    use rewire::scene::schema::Hemisphere::{Left, Right};
    for (label, side) in [
        ("lM1", Some(Left)),
        ("rPFCDL", Some(Right)),
        ("lh_V1", Some(Left)),
        ("ctx-rh-precentral", Some(Right)),
        ("M1_R", Some(Right)),
        ("Left-Thalamus", Some(Left)),
        ("rh.V1", Some(Right)),
        ("V1", None),
        ("lateral", None),
        ("rostral", None),
        ("L_M1_R", None),
        ("CC", None),
    ] {
        assert_eq!(connectome::hemisphere_of(label), side, "{label}");
    }
    let dir = common::temp_dir("connectome-sides");
    let mut m = members();
    m[0].1 = b"lV1 0 0 0\nrM1 1 0 0\nCC 2 0 0\nR_PFC 3 0 0\n".to_vec();
    let by_label = connectome::read(&zip_of(&dir, "labels.zip", &m)).unwrap();
    assert_eq!(
        connectome::hemispheres(&by_label),
        [Some(Left), Some(Right), None, Some(Right)]
    );
    // hemispheres.txt (TVB: 1 = right) wins over the labels.
    m.push(("hemispheres.txt", b"1\n0\n0\n1\n".to_vec()));
    let listed = connectome::read(&zip_of(&dir, "listed.zip", &m)).unwrap();
    let sides = connectome::hemispheres(&listed);
    assert_eq!(sides, [Some(Right), Some(Left), Some(Left), Some(Right)]);
    let model = common::model(&connectome::scene(&listed, &opts()));
    let got: Vec<_> = model.regions.iter().map(|r| r.hemisphere).collect();
    assert_eq!(got, sides);
    m.last_mut().unwrap().1 = b"1 0 2 1\n".to_vec();
    let e = refused(&dir, "badside.zip", &m);
    assert!(e.contains("hemispheres.txt") && e.contains("not 0 or 1"), "{e}");
}

/// A scene that names the zip: `regions` (optional) first, then the connectome's.
fn referencing(zip: &str, regions: &str, rest: &str) -> String {
    format!(
        "Scene(\n    name: \"four\",\n    seed: 1,\n    dt_ms: 1.0,\n    {regions}\n    connectome: Connectome(\n        \
         file: {zip:?},\n        neurons_per_region: 50,\n        velocity_m_per_s: 5.0,\n        max_in_degree: 8.0,\n    \
         ),\n    {rest}\n)\n"
    )
}

fn load_in(dir: &Path, name: &str, text: &str) -> rewire::Result<rewire::Model> {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    rewire::scene::load(&path)
}

#[test]
fn a_scene_may_name_the_zip_and_scales_by_neurons_per_region() {
    let dir = common::temp_dir("connectome-ref");
    zip_of(&dir, "c.zip", &members());
    let c = connectome::read(&dir.join("c.zip")).unwrap();
    let imported = common::model(&connectome::scene(&c, &opts()));
    let mut named = load_in(&dir, "named.ron", &referencing("c.zip", "", "duration_ms: 1000.0,")).unwrap();
    // The same network; only the named scene remembers the scale it was generated at.
    assert_eq!(
        (imported.neurons_per_region, named.neurons_per_region),
        (None, Some(50))
    );
    named.neurons_per_region = None;
    assert_eq!(format!("{imported:?}"), format!("{named:?}"));

    // The scene's own regions come first; the connectome's follow.
    let own = r#"regions: [Region(name: "extra", centre_mm: (0, 0, 0), radius_mm: 1,
        populations: [Population(name: "extra_E", count: 10, model: RegularSpiking)])],"#;
    let both = load_in(&dir, "both.ron", &referencing("c.zip", own, "duration_ms: 100.0,")).unwrap();
    let names: Vec<&str> = both.regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["extra", "V1", "M1", "ctx_3_", "PFC"]);
    assert_eq!(both.projections.len(), imported.projections.len());

    // neurons_per_region alone scales the scene; each neuron's expected inputs stay the same.
    let text = referencing("c.zip", "", "duration_ms: 100.0,");
    let per_neuron = |n: &str| {
        let setting = ("connectome.neurons_per_region".to_string(), n.to_string());
        let src = rewire::scene::set::apply(&text, &[setting]).unwrap();
        let m = load_in(&dir, &format!("n{n}.ron"), &src).unwrap();
        (m.neurons, m.expected_synapses() / m.neurons as f64)
    };
    let (small, big) = (per_neuron("50"), per_neuron("5000"));
    assert_eq!((small.0, big.0), (200, 20_000));
    assert!((small.1 - big.1).abs() < 1e-9 * big.1, "{small:?} vs {big:?}");
}

#[test]
fn a_named_zip_that_is_missing_or_wired_wrong_is_refused_at_its_field() {
    let dir = common::temp_dir("connectome-ref-bad");
    zip_of(&dir, "c.zip", &members());
    let e = load_in(&dir, "missing.ron", &referencing("nope.zip", "", "duration_ms: 100.0,"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing.ron:7:15: connectome.file:") && e.contains("nope.zip"),
        "{e}"
    );
    let text =
        referencing("c.zip", "", "duration_ms: 100.0,").replace("neurons_per_region: 50", "neurons_per_region: 5");
    let e = load_in(&dir, "few.ron", &text).unwrap_err().to_string();
    assert!(
        e.contains("few.ron:8:29: connectome.neurons_per_region:") && e.contains("at least 10"),
        "{e}"
    );
    let text = referencing("c.zip", "", "duration_ms: 100.0,").replace("velocity_m_per_s: 5.0", "velocity_m_per_s: 0");
    let e = load_in(&dir, "slow.ron", &text).unwrap_err().to_string();
    assert!(e.contains("slow.ron:9:27: connectome.velocity_m_per_s:"), "{e}");
    // A malformed zip named by a scene: the scene's field, then the zip's member.
    let mut m = members();
    m[1].1 = b"0 1\n1 0\n".to_vec();
    zip_of(&dir, "bad.zip", &m);
    let e = load_in(&dir, "bad.ron", &referencing("bad.zip", "", "duration_ms: 100.0,"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.ron:7:15: connectome.file:") && e.contains("weights.txt") && e.contains("2 x 2"),
        "{e}"
    );
}

#[test]
fn lesions_name_regions_by_label() {
    use rewire::scene::model::LesionKindModel;
    let dir = common::temp_dir("connectome-lesion");
    zip_of(&dir, "c.zip", &members());
    let protocol = |lesion: &str| {
        format!("time: Time(offline_ms: 300.0),\n    protocol: [Rest(days: (-1, 1)), Lesion(day: 0, kind: {lesion})],")
    };
    let m = load_in(
        &dir,
        "focal.ron",
        &referencing("c.zip", "", &protocol(r#"Focal(region: "PFC", core_mm: 2.0)"#)),
    )
    .unwrap();
    let p = m.protocol.as_ref().unwrap();
    let LesionKindModel::Focal { centre_mm, core_mm, .. } = &p.lesions[0].kind else {
        panic!("{:?}", p.lesions[0].kind)
    };
    assert_eq!((*centre_mm, *core_mm), ([0.0, 50.0, 20.0], 2.0), "PFC's centre");

    for (lesion, needle) in [
        (
            r#"Focal(region: "PFC", centre_mm: (0, 0, 0), core_mm: 2.0)"#,
            "not both",
        ),
        ("Focal(core_mm: 2.0)", "needs its centre"),
        (
            r#"Focal(region: "Nowhere", core_mm: 2.0)"#,
            "unknown region \"Nowhere\"",
        ),
        (r#"Region(name: "Nowhere")"#, "unknown region \"Nowhere\""),
        (r#"Region(name: "M1", fraction: 1.5)"#, "fraction 1.5"),
    ] {
        let e = load_in(&dir, "bad.ron", &referencing("c.zip", "", &protocol(lesion)))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bad.ron:") && e.contains("protocol[1].kind") && e.contains(needle),
            "{lesion}: {e}"
        );
    }

    // Removing "M1" by label kills its 50 neurons and no others; it never fires again.
    let m = load_in(
        &dir,
        "region.ron",
        &referencing("c.zip", "", &protocol(r#"Region(name: "M1")"#)),
    )
    .unwrap();
    let out = dir.join("run");
    let opts = rewire::RunOptions {
        engine: rewire::EngineChoice::Cpu,
        duration_ms: None,
        progress: false,
    };
    rewire::sim::run(m, &out, &opts).unwrap();
    let lesions = rewire::report::table::Table::read(&out, "lesions.csv").unwrap();
    let lost: Vec<(String, f64)> = lesions
        .strs("region")
        .unwrap()
        .into_iter()
        .map(str::to_owned)
        .zip(lesions.f64s("neurons_lost").unwrap())
        .collect();
    for (region, n) in &lost {
        assert_eq!(*n, if region == "M1" { 50.0 } else { 0.0 }, "{lost:?}");
    }
    assert_eq!(lesions.strs("kind").unwrap(), vec!["region"; 4]);
    let rates = rewire::report::table::Table::read(&out, "rates.csv").unwrap();
    let rows = rates
        .strs("region")
        .unwrap()
        .into_iter()
        .zip(rates.f64s("day").unwrap())
        .zip(rates.f64s("spikes").unwrap());
    let (mut before, mut after) = (0.0, 0.0);
    for ((region, day), spikes) in rows {
        if region == "M1" {
            if day < 0.0 { before += spikes } else { after += spikes }
        }
    }
    assert!(before > 0.0 && after == 0.0, "M1 spikes before {before}, after {after}");
}

#[test]
fn statistics_add_up_per_region_and_per_hemisphere() {
    use rewire::report::table::Table;
    let dir = common::temp_dir("connectome-groups");
    let mut m = members();
    m.push(("hemispheres.txt", b"0 0 1 1\n".to_vec()));
    let c = connectome::read(&zip_of(&dir, "c.zip", &m)).unwrap();
    let model = common::model(&connectome::scene(&c, &opts()));
    let out = dir.join("run");
    let opts = rewire::RunOptions {
        engine: rewire::EngineChoice::Cpu,
        duration_ms: Some(300.0),
        progress: false,
    };
    rewire::sim::run(model, &out, &opts).unwrap();
    let read = |f: &str| Table::read(&out, f).unwrap();
    let (rates, regions, sides, conn, between) = (
        read("rates.csv"),
        read("regions.csv"),
        read("hemispheres.csv"),
        read("connectivity.csv"),
        read("hemisphere_connectivity.csv"),
    );
    let side = |region: &str| if matches!(region, "V1" | "M1") { "left" } else { "right" };
    // Sums keyed by (step, name).
    let sum = |t: &Table, key: &dyn Fn(&str) -> String, name: &str, value: &str| {
        let mut m: HashMap<(u64, String), f64> = HashMap::new();
        let steps = t.f64s("step").unwrap();
        for ((s, k), v) in steps.iter().zip(t.strs(name).unwrap()).zip(t.f64s(value).unwrap()) {
            *m.entry((*s as u64, key(k))).or_default() += v;
        }
        m
    };
    let same = |a: &HashMap<(u64, String), f64>, b: &HashMap<(u64, String), f64>, what: &str| {
        assert_eq!(a.len(), b.len(), "{what}");
        for (k, v) in a {
            assert!(
                (v - b[k]).abs() <= 1e-9 * v.abs().max(1.0),
                "{what} {k:?}: {v} vs {}",
                b[k]
            );
        }
    };
    let id = |s: &str| s.to_string();
    let by_region = sum(&rates, &id, "region", "spikes");
    same(
        &by_region,
        &sum(&regions, &id, "region", "spikes"),
        "regions.csv spikes",
    );
    assert!(by_region.values().all(|&s| s > 0.0), "{by_region:?}");
    let by_side = sum(&rates, &|r| side(r).to_string(), "region", "spikes");
    same(
        &by_side,
        &sum(&sides, &id, "hemisphere", "spikes"),
        "hemispheres.csv spikes",
    );
    assert_eq!(
        regions.strs("hemisphere").unwrap()[..4],
        ["left", "left", "right", "right"]
    );
    assert_eq!(sides.f64s("neurons").unwrap()[..2], [100.0, 100.0]);
    // Region pairs summed by side equal the hemisphere pairs.
    let steps = conn.f64s("step").unwrap();
    let mut pairs: HashMap<(u64, String), f64> = HashMap::new();
    for (((s, a), b), w) in steps
        .iter()
        .zip(conn.strs("source").unwrap())
        .zip(conn.strs("target").unwrap())
        .zip(conn.f64s("synapses").unwrap())
    {
        *pairs
            .entry((*s as u64, format!("{}>{}", side(a), side(b))))
            .or_default() += w;
    }
    let steps = between.f64s("step").unwrap();
    let mut got: HashMap<(u64, String), f64> = HashMap::new();
    for (((s, a), b), w) in steps
        .iter()
        .zip(between.strs("source").unwrap())
        .zip(between.strs("target").unwrap())
        .zip(between.f64s("synapses").unwrap())
    {
        got.insert((*s as u64, format!("{a}>{b}")), w);
    }
    same(&pairs, &got, "hemisphere_connectivity.csv synapses");
    // Tracts cross both ways (V1 -> PFC, PFC -> V1) and join M1 to V1 and ctx_3_ to PFC within
    // each side: every hemisphere pair has synapses.
    assert!(got.values().all(|&w| w > 0.0), "{got:?}");
}

#[test]
fn the_command_line_imports_or_says_why_not_leaving_nothing() {
    let dir = common::temp_dir("connectome-cli");
    let zip = zip_of(&dir, "c.zip", &members());
    let rewire = |args: &[&str]| common::rewire().args(args).output().unwrap();
    let out = dir.join("four.ron");
    let (zip_s, out_s) = (zip.to_str().unwrap(), out.to_str().unwrap());
    let o = rewire(&["import-connectome", zip_s, "--neurons-per-region", "5", "-o", out_s]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("--neurons-per-region") && err.contains("at least 20"),
        "{err}"
    );
    let o = rewire(&[
        "import-connectome",
        &dir.join("none.zip").display().to_string(),
        "-o",
        out_s,
    ]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("none.zip"));
    assert!(
        !out.exists() && !dir.join("four.ron.partial").exists(),
        "nothing is written"
    );

    let o = rewire(&[
        "import-connectome",
        zip_s,
        "--neurons-per-region",
        "40",
        "--velocity-m-per-s",
        "10",
        "-o",
        out_s,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("4 regions, 5 long-range projections"));
    let model = rewire::scene::load(&out).unwrap();
    assert_eq!((model.name.as_str(), model.neurons), ("four", 160));
    // 40 mm at 10 m/s.
    let delays: Vec<f64> = model
        .projections
        .iter()
        .filter(|p| model.populations[p.source].region == 1 && model.populations[p.target].region == 0)
        .map(|p| p.delay_ms.bounds().0)
        .collect();
    assert_eq!(delays, [4.0]);
}

/// `referencing` with more fields in its `Connectome(...)` (after `max_in_degree`, line 10).
fn with_fields(fields: &str, rest: &str) -> String {
    referencing("c.zip", "", rest).replace("max_in_degree: 8.0,", &format!("max_in_degree: 8.0, {fields}"))
}

#[test]
fn growth_and_headroom_reach_the_remodeling_regions_alone() {
    let dir = common::temp_dir("connectome-growth");
    zip_of(&dir, "c.zip", &members());
    let rest = "duration_ms: 100.0, structure: Structure(),";
    // Defaults: nothing grows, no headroom, every tract generated.
    let plain = load_in(&dir, "plain.ron", &referencing("c.zip", "", rest)).unwrap();
    assert!(plain.populations.iter().all(|p| p.growth.is_none()));
    assert!(plain.projections.iter().all(|p| p.headroom == 1.0));

    // By default every cortical region remodels (cortical.txt: ctx(3) is not cortical).
    let all = load_in(
        &dir,
        "all.ron",
        &with_fields("growth: Growth(eps: 0.05, nu_per_ms: 2e-7), headroom: 1.5,", rest),
    )
    .unwrap();
    let growing: Vec<&str> = all
        .populations
        .iter()
        .filter(|p| p.growth.is_some())
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(growing, ["V1_E", "M1_E", "PFC_E"]);
    let g = all.populations[0].growth.as_ref().unwrap();
    assert_eq!((g.eps, g.nu_per_ms), (0.05, 2e-7));

    // Named regions: growth on their E population, headroom on every E->E projection onto it
    // (the local one and the tracts), nothing else changed.
    let some = load_in(
        &dir,
        "some.ron",
        &with_fields(
            "growth: Growth(eps: 0.05), growth_regions: [\"M1\", \"PFC\"], headroom: 1.5,",
            rest,
        ),
    )
    .unwrap();
    let growing: Vec<&str> = some
        .populations
        .iter()
        .filter(|p| p.growth.is_some())
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(growing, ["M1_E", "PFC_E"]);
    let name = |i: usize| some.populations[i].name.as_str();
    let mut roomy = 0;
    for p in &some.projections {
        let onto = name(p.target);
        let expected = if name(p.source).ends_with("_E") && (onto == "M1_E" || onto == "PFC_E") {
            1.5
        } else {
            1.0
        };
        assert_eq!(p.headroom, expected, "{} -> {onto}", name(p.source));
        roomy += (expected > 1.0) as usize;
    }
    // M1_E: local, from V1; PFC_E: local, from V1 (weights[3][0] = 1).
    assert_eq!(roomy, 4);
    assert_eq!(some.neurons, plain.neurons);
    assert_eq!(some.projections.len(), plain.projections.len());

    // An omitted tract is not generated; the scene's own projection may take its place.
    let own = r#"projections: [Projection(from: "V1_E", to: "M1_E", rule: FixedInDegree(4), weight: 0.5, delay_ms: 2,
        plasticity: Stdp())],"#;
    let omitted = load_in(
        &dir,
        "omit.ron",
        &with_fields(
            "omit_tracts: [(\"V1\", \"M1\")],",
            &format!("duration_ms: 100.0, {own}"),
        ),
    )
    .unwrap();
    assert_eq!(omitted.projections.len(), plain.projections.len());
    let e = load_in(
        &dir,
        "kept.ron",
        &referencing("c.zip", "", &format!("duration_ms: 100.0, {own}")),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("a plastic projection must be the only one"), "{e}");
}

#[test]
fn bad_growth_headroom_and_region_lists_are_refused_at_their_field() {
    let dir = common::temp_dir("connectome-growth-bad");
    zip_of(&dir, "c.zip", &members());
    let rest = "duration_ms: 100.0,";
    for (fields, needles) in [
        (
            "headroom: 0.5,",
            &["bad.ron:10:", "connectome.headroom:", "headroom 0.5"][..],
        ),
        ("headroom: 100.0,", &["connectome.headroom:", "[1, 64]"]),
        (
            "growth: Growth(tau_ca_ms: -1.0),",
            &["bad.ron:10:", "connectome.growth.tau_ca_ms:", "must be > 0"],
        ),
        (
            "growth: Growth(vacant_decay: 2.0),",
            &["connectome.growth.vacant_decay:"],
        ),
        (
            "growth: Growth(), growth_regions: [\"M1\", \"Nowhere\"],",
            &["connectome.growth_regions[1]:", "unknown region \"Nowhere\""],
        ),
        (
            "growth: Growth(), growth_regions: [\"M1\", \"M1\"],",
            &["connectome.growth_regions[1]:", "named twice"],
        ),
        (
            "growth_regions: [\"M1\"],",
            &["connectome.growth_regions:", "neither `growth` nor `headroom`"],
        ),
        (
            "omit_tracts: [(\"V1\", \"Nowhere\")],",
            &["connectome.omit_tracts[0]:", "unknown region \"Nowhere\""],
        ),
        // weights[2][1] = 0: no tract from M1 to ctx_3_.
        (
            "omit_tracts: [(\"M1\", \"ctx_3_\")],",
            &["connectome.omit_tracts[0]:", "no tract from \"M1\" to \"ctx_3_\""],
        ),
    ] {
        let e = load_in(&dir, "bad.ron", &with_fields(fields, rest))
            .unwrap_err()
            .to_string();
        assert!(needles.iter().all(|n| e.contains(n)), "{fields}: {e}");
    }
    // The stability rule of the generated populations' growth points at the connectome's field.
    let e = load_in(
        &dir,
        "bad.ron",
        &with_fields(
            "growth: Growth(nu_per_ms: 0.01),",
            "duration_ms: 100.0, structure: Structure(),",
        ),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("connectome.growth.nu_per_ms:") && e.contains("stability"),
        "{e}"
    );
}

#[test]
fn a_scale_that_empties_a_population_is_refused_with_the_region() {
    let dir = common::temp_dir("connectome-empty");
    zip_of(&dir, "c.zip", &members());
    // Two neurons a region pass the in-degree rule (max_in_degree 1) but leave no inhibitory one.
    let text = referencing("c.zip", "", "duration_ms: 100.0,")
        .replace("neurons_per_region: 50", "neurons_per_region: 2")
        .replace("max_in_degree: 8.0", "max_in_degree: 1.0");
    let e = load_in(&dir, "empty.ron", &text).unwrap_err().to_string();
    assert!(
        e.contains("empty.ron:8:29: connectome.neurons_per_region:") && e.contains("region \"V1\" (V1_I) empty"),
        "{e}"
    );
    let o = common::rewire()
        .args(["import-connectome", dir.join("c.zip").to_str().unwrap()])
        .args(["--neurons-per-region", "2", "--max-in-degree", "1"])
        .args(["-o", dir.join("e.ron").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("--neurons-per-region") && err.contains("\"V1\""),
        "{err}"
    );
}
