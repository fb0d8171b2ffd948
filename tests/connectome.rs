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

fn opts() -> ImportOptions {
    ImportOptions {
        name: "four".into(),
        neurons_per_region: 50,
        velocity_m_per_s: 5.0,
        max_probability: 0.2,
        ..Default::default()
    }
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
        assert!((q - w / 4.0 * 0.2).abs() < 1e-12, "{key:?}: p {q}");
        // A 2 mm tract at 5 m/s takes 0.4 ms: at least one time step.
        assert!((d - (len / 5.0f64).max(1.0)).abs() < 1e-12, "{key:?}: delay {d}");
    }

    // Rows as sources: the transpose.
    let t = connectome::scene(
        &a,
        &ImportOptions {
            rows_are_sources: true,
            ..opts()
        },
    );
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

    let e = refused(
        &dir,
        "nonsquare.zip",
        &with("weights.txt", b"0 1 0 0\n1 0 0 0\n0 0 0 1\n"),
    );
    assert!(e.contains("weights.txt") && e.contains("not square"), "{e}");

    let e = refused(&dir, "size.zip", &with("weights.txt", b"0 1 0\n1 0 0\n0 0 0\n"));
    assert!(
        e.contains("weights.txt") && e.contains("3 x 3") && e.contains("4 regions"),
        "{e}"
    );

    let e = refused(
        &dir,
        "row.zip",
        &with("tract_lengths.txt", b"0 1 1 1\n1 0 1\n1 1 0 1\n1 1 1 0\n"),
    );
    assert!(
        e.contains("tract_lengths.txt") && e.contains("line 2 has 3 values"),
        "{e}"
    );

    let e = refused(
        &dir,
        "nan.zip",
        &with("weights.txt", b"0 1 0 0\n1 0 NaN 0\n0 0 0 1\n0 0 1 0\n"),
    );
    assert!(
        e.contains("weights.txt") && e.contains("line 2, column 5 (value 3)") && e.contains("NaN"),
        "{e}"
    );

    let e = refused(
        &dir,
        "word.zip",
        &with("weights.txt", b"0 1 0 0\n1 0 0 0\n0 0 0 x1\n0 0 1 0\n"),
    );
    assert!(
        e.contains("line 3, column 7 (value 4)") && e.contains("not a number"),
        "{e}"
    );

    let e = refused(
        &dir,
        "centres.zip",
        &with("centres.txt", b"V1 1 2 3\nM1 1 2\nS1 0 0 0\nPFC 0 0 0\n"),
    );
    assert!(e.contains("centres.txt") && e.contains("line 2"), "{e}");

    let e = refused(&dir, "areas.zip", &with("areas.txt", b"1 2 3\n"));
    assert!(e.contains("areas.txt") && e.contains("3 values"), "{e}");

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
