//! Checkpoints: the whole state of a run in one file, so that it can stop and later continue
//! bit for bit (`rewire run --checkpoint-every`, Ctrl-C, `rewire resume`).
//!
//! The file: the 8 bytes `REWIRECK`, the format version (u32), the length of a JSON header (u64)
//! and the header (scene text and hash, engine, step, the schedule's position, the names and
//! sizes of what follows), then the engine's arrays and the output files written so far, raw, in
//! the header's order, and last an FNV-1a 64 checksum of everything before it. Little endian
//! throughout. It is written under a temporary name and renamed, so an interrupted write never
//! replaces a good checkpoint.

use crate::engine::EngineState;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The version of the file layout and of what the header and arrays mean. A checkpoint of
/// another version is refused. 2: the last two words of each sprout rule in `structure`, padding
/// in version 1, hold its distance mode and gain (read as gain 0, a version-1 checkpoint would
/// resume without sprouting). 3: three element records a neuron (the inhibitory spine pool),
/// the neuron models' second ring channel and extended state and parameters (`neuron_ext`,
/// `params_ext`), and the larger Globals. 4: a GPU state keeps the three element records as
/// three arrays (`elem_axon`, `elem_spine`, `elem_spine_in`) where it kept one (`elem`), and the
/// neuron parameters in the delay ring's parts where it has several (`params`, `params[1]`, ...).
/// 5: a task's per-neuron cue counters are their own array (`rep`; on the GPU in the delay
/// ring's parts: `rep`, `rep[1]`, ...), no longer inside `task`, whose route words moved up.
pub const FORMAT_VERSION: u32 = 5;
const MAGIC: &[u8; 8] = b"REWIRECK";

/// Output files as written so far (name -> bytes), restored on resume.
pub type Files = BTreeMap<String, Vec<u8>>;

/// FNV-1a, 64 bits: the scene hash and the file checksum (not cryptographic; it detects
/// corruption and tells scenes apart).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The hash of a scene text, as checkpoints state it.
pub fn scene_hash(text: &str) -> String {
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// Where a run's schedule stands at a checkpoint, and what it has accumulated.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Position {
    /// Steps done.
    pub step: u64,
    /// Plain runs: samples taken, spikes, synaptic events, wall seconds so far, and the
    /// structural counts of summary.json.
    pub samples: usize,
    pub spikes: u64,
    pub events: f64,
    pub wall_s: f64,
    pub structure: Option<(u64, u64, u64, u64)>,
    /// Protocol runs: the runner's own state (the next day to run, performance rows, lesions
    /// applied, ...), as JSON.
    pub protocol: Option<serde_json::Value>,
}

/// What a checkpoint file states about itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub format_version: u32,
    /// The rewire version that wrote it.
    pub written_by: String,
    pub scene_name: String,
    /// The scene file it was run from (for messages), its text and the text's hash.
    pub scene_file: String,
    pub scene_text: String,
    pub scene_hash: String,
    /// The engine and adapter (`Engine::describe`).
    pub engine: String,
    /// The run's output folder.
    pub out: PathBuf,
    /// The run's length in steps (the scene's, or as `--duration` set it).
    pub steps: u64,
    pub position: Position,
    /// Names and byte sizes of the engine's arrays and of the files that follow.
    pub arrays: Vec<(String, u64)>,
    pub files: Vec<(String, u64)>,
}

/// A checkpoint in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub header: Header,
    pub state: EngineState,
    pub files: Files,
}

/// Where a checkpoint comes from: the scene (file name, text, name), the engine, the output folder.
#[derive(Clone, Debug)]
pub struct Source {
    pub file: String,
    pub text: String,
    pub name: String,
    pub engine: String,
    pub out: PathBuf,
    pub steps: u64,
}

impl Checkpoint {
    pub fn new(source: Source, position: Position, state: EngineState, files: Files) -> Checkpoint {
        Checkpoint {
            header: Header {
                format_version: FORMAT_VERSION,
                written_by: format!("rewire {}", env!("CARGO_PKG_VERSION")),
                scene_name: source.name,
                scene_file: source.file,
                scene_hash: scene_hash(&source.text),
                scene_text: source.text,
                engine: source.engine,
                out: std::path::absolute(&source.out).unwrap_or(source.out),
                steps: source.steps,
                position,
                arrays: state.arrays.iter().map(|(n, b)| (n.clone(), b.len() as u64)).collect(),
                files: files.iter().map(|(n, b)| (n.clone(), b.len() as u64)).collect(),
            },
            state,
            files,
        }
    }
}

/// Refuses to continue checkpoint `c` on `sim` when the engine or adapter differs (results are
/// bit-identical only on the engine that wrote it).
pub fn check_fits(c: &Checkpoint, sim: &crate::sim::Simulation) -> Result<()> {
    let here = sim.engine.describe();
    if c.header.engine != here {
        return Err(Error::Usage(format!(
            "the checkpoint was written by the engine {:?}, and this run is on {here:?}: a run continues bit for \
             bit only on the engine and adapter it started on (choose it with --cpu, --backend or --adapter)",
            c.header.engine
        )));
    }
    let (at, end) = (c.header.position.step, sim.model.steps);
    if at > end {
        return Err(Error::Usage(format!(
            "the checkpoint is at step {at}, past the end of this run ({end} steps): it belongs to a longer run \
             (resume it with its own --duration) or is damaged"
        )));
    }
    Ok(())
}

/// Checks that `model` may continue from checkpoint `c` written by another scene (a fork): the
/// checkpoint ends a protocol day, and both scenes are the same in everything but their names and
/// their protocols from the next day on. Returns the biological day the fork starts on.
pub fn check_fork(c: &Checkpoint, model: &crate::scene::Model) -> Result<i32> {
    let refuse = |why: String| {
        Error::Usage(format!(
            "scene {:?} cannot start from the checkpoint of {:?} ({}): {why}",
            model.name, c.header.scene_name, c.header.scene_file
        ))
    };
    let base = crate::scene::parse(&c.header.scene_text, &c.header.scene_file)
        .map_err(|e| refuse(format!("its scene no longer parses: {e}")))?;
    let next = c
        .header
        .position
        .protocol
        .as_ref()
        .and_then(|p| p["next_day"].as_u64())
        .ok_or_else(|| refuse("it was not written at the end of a protocol day".into()))? as usize;
    let (Some(bp), Some(mp)) = (&base.protocol, &model.protocol) else {
        return Err(refuse("both scenes need a protocol".into()));
    };
    let Some(day) = mp.days.get(next).map(|d| d.day) else {
        return Err(refuse(format!("this scene's protocol has only {} days", mp.days.len())));
    };
    if bp.days.get(next).map(|d| d.day) != Some(day) {
        return Err(refuse("the protocols start on different days".into()));
    }
    // Everything but the names and the days from the fork on must be equal.
    let (a, b) = (prefix_parts(&base, next), prefix_parts(model, next));
    for ((field, x), (_, y)) in a.iter().zip(b.iter()) {
        if x != y {
            return Err(refuse(format!(
                "the scenes differ in `{field}`, which must be equal up to day {day} (the fork)"
            )));
        }
    }
    Ok(day)
}

/// What two scenes must share to fork after their first `days` protocol days: every part of the
/// model but the name and the protocol's later days (and their lesions), as text.
fn prefix_parts(m: &crate::scene::Model, days: usize) -> Vec<(&'static str, String)> {
    let mut m = m.clone();
    m.name.clear();
    m.steps = 0;
    m.start_from = None;
    if let Some(p) = &mut m.protocol {
        let day = p.days.get(days).map_or(i32::MAX, |d| d.day);
        p.days.truncate(days);
        p.lesions.retain(|l| l.day < day);
        p.last_day = 0;
    }
    vec![
        ("seed", format!("{:?}", m.seed)),
        ("dt_ms", format!("{:?}", m.dt_ms)),
        ("sample_every_ms", format!("{:?}", m.sample_every_steps)),
        ("regions", format!("{:?}", m.regions)),
        ("populations", format!("{:?}", m.populations)),
        ("projections", format!("{:?}", m.projections)),
        ("inputs", format!("{:?}", m.inputs)),
        ("dopamine", format!("{:?}", m.dopamine)),
        ("rewards", format!("{:?}", m.rewards)),
        ("pair_reward", format!("{:?}", m.pair_reward)),
        ("structure", format!("{:?}", m.structure)),
        ("task", format!("{:?}", m.task)),
        ("protocol (before the fork)", format!("{:?}", m.protocol)),
    ]
}

/// How many leading protocol days all `models` share (so that one run of them can be forked into
/// each), leaving at least one day to each; 0 when they differ outside their protocols or have
/// none.
pub fn shared_days(models: &[crate::scene::Model]) -> usize {
    let Some(first) = models.first() else { return 0 };
    let days = |m: &crate::scene::Model| m.protocol.as_ref().map_or(0, |p| p.days.len());
    let most = models.iter().map(days).min().unwrap_or(0).saturating_sub(1);
    let day_of = |m: &crate::scene::Model, k: usize| m.protocol.as_ref().and_then(|p| p.days.get(k)).map(|d| d.day);
    let mut shared = 0;
    for k in 1..=most {
        let same = models
            .iter()
            .all(|m| day_of(m, k) == day_of(first, k) && prefix_parts(m, k) == prefix_parts(first, k));
        if !same {
            break;
        }
        shared = k;
    }
    shared
}

/// Writes `c` to `path` through `path.partial`, flushed to disk before the rename.
pub fn write(path: &Path, c: &Checkpoint) -> Result<()> {
    let header = serde_json::to_vec(&c.header).map_err(|e| Error::data(path, format!("header: {e}")))?;
    let mut bytes: Vec<u8> = Vec::new();
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    for (_, b) in &c.state.arrays {
        bytes.extend_from_slice(b);
    }
    for b in c.files.values() {
        bytes.extend_from_slice(b);
    }
    let sum = fnv1a(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    crate::atomic::write_file(path, &bytes, true)
}

/// Reads a checkpoint, refusing with a reason a file that is not one, one of another format
/// version, a truncated or corrupt one.
pub fn read(path: &Path) -> Result<Checkpoint> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |why: String| Error::Checkpoint {
        path: path.to_path_buf(),
        message: why,
    };
    if bytes.len() < 20 || &bytes[..8] != MAGIC {
        return Err(bad("not a rewire checkpoint (it does not start with REWIRECK)".into()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "checkpoint format version {version}; this rewire reads version {FORMAT_VERSION} only"
        )));
    }
    let truncated = || {
        bad(format!(
            "truncated ({} bytes): the file ends before its contents do",
            bytes.len()
        ))
    };
    let header_len = u64::from_le_bytes(bytes[12..20].try_into().unwrap()) as usize;
    let header_end = 20usize.checked_add(header_len).ok_or_else(truncated)?;
    if bytes.len() < header_end + 8 {
        return Err(truncated());
    }
    let body_end = bytes.len() - 8;
    let sum = u64::from_le_bytes(bytes[body_end..].try_into().unwrap());
    let header: std::result::Result<Header, _> = serde_json::from_slice(&bytes[20..header_end]);
    let header = match header {
        Ok(h) => h,
        Err(e) if fnv1a(&bytes[..body_end]) != sum => {
            return Err(bad(format!("corrupt: the checksum does not match (header: {e})")));
        }
        Err(e) => return Err(bad(format!("unreadable header: {e}"))),
    };
    let needed: u64 = header.arrays.iter().chain(&header.files).map(|(_, n)| n).sum();
    if (body_end - header_end) as u64 != needed {
        return Err(if ((body_end - header_end) as u64) < needed {
            truncated()
        } else {
            bad(format!(
                "{} bytes of contents where the header lists {needed}",
                body_end - header_end
            ))
        });
    }
    if fnv1a(&bytes[..body_end]) != sum {
        return Err(bad("corrupt: the checksum does not match the contents".into()));
    }
    let mut at = header_end;
    let mut take = |n: u64| {
        let s = bytes[at..at + n as usize].to_vec();
        at += n as usize;
        s
    };
    let arrays = header.arrays.iter().map(|(name, n)| (name.clone(), take(*n))).collect();
    let files = header.files.iter().map(|(name, n)| (name.clone(), take(*n))).collect();
    Ok(Checkpoint {
        state: EngineState {
            step: header.position.step,
            arrays,
        },
        files,
        header,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        let state = EngineState {
            step: 42,
            arrays: vec![("ring".into(), vec![1, 2, 3, 4]), ("neurons".into(), vec![9; 16])],
        };
        let mut files = Files::new();
        files.insert("rates.csv".into(), b"step,t_ms\n1,2\n".to_vec());
        let position = Position {
            step: 42,
            samples: 1,
            spikes: 7,
            events: 70.0,
            wall_s: 0.5,
            structure: None,
            protocol: None,
        };
        let source = Source {
            file: "a.ron".into(),
            text: "Scene()".into(),
            name: "a".into(),
            engine: "CPU reference".into(),
            out: "/tmp/x".into(),
            steps: 100,
        };
        Checkpoint::new(source, position, state, files)
    }

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("rewire-ckpt-unit-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let c = sample();
        let path = dir().join("a.rwck");
        write(&path, &c).unwrap();
        assert_eq!(read(&path).unwrap(), c);
        let good = std::fs::read(&path).unwrap();
        let check = |bytes: &[u8], want: &str| {
            std::fs::write(&path, bytes).unwrap();
            let e = read(&path).unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        };
        check(&good[..good.len() - 5], "truncated");
        check(&good[..30], "truncated");
        check(b"hello world, not a checkpoint", "not a rewire checkpoint");
        let mut flipped = good.clone();
        let n = flipped.len();
        flipped[n - 12] ^= 0x10;
        check(&flipped, "corrupt");
        let mut next = good.clone();
        next[8] = FORMAT_VERSION as u8 + 1;
        check(&next, &format!("format version {}", FORMAT_VERSION + 1));
    }
}
