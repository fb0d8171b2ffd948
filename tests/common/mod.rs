//! Shared helpers of the integration tests.
#![allow(dead_code)]

use rewire::gpu::{AdapterChoice, GpuContext};

/// The GPU the tests run on. With no adapter the test fails loudly: it never skips itself.
pub fn gpu() -> GpuContext {
    match GpuContext::new(&AdapterChoice::default()) {
        Ok(ctx) => {
            eprintln!("adapter: {}", rewire::gpu::context::describe(&ctx.info));
            ctx
        }
        Err(e) => panic!("GPU tests need an adapter and none could be opened: {e}"),
    }
}

/// Compares the whole synaptic and structural state of both engines, shard by shard: a shard in
/// the compact static layout as `compact_synapses` lists it, the others slot by slot.
pub fn same_state(gpu: &rewire::gpu::GpuEngine, cpu: &rewire::reference::CpuEngine, when: &str) {
    use rewire::gpu::ShardSynapses;
    let net = cpu.network();
    for (k, shard) in net.shards.iter().enumerate() {
        match gpu.shard_synapses(k).unwrap() {
            ShardSynapses::Compact(g) => {
                // The synapses that remain: a lesion marks a compact shard's synapses removed in
                // place, where the twin's next structural update drops them from its index.
                let (g, c) = (live(&g), live(&net.compact_synapses(k)));
                assert_eq!(g.len(), c.len(), "{when}: synapses of shard {k} differ in number");
                for (i, (g, c)) in g.iter().zip(&c).enumerate() {
                    assert_eq!(
                        g, c,
                        "{when}: synapse {i} of shard {k} (source, target, delay, weight bits) differs"
                    );
                }
            }
            ShardSynapses::Rows {
                pre,
                delay,
                born,
                weight,
                out_start,
                out_slots,
            } => {
                let (a, b) = (shard.first_slot as usize, shard.end_slot as usize);
                for (i, (&g, &c)) in pre.iter().zip(&net.syn_pre[a..b]).enumerate() {
                    assert_eq!(g, c, "{when}: source of slot {} differs", a + i);
                }
                assert_eq!(
                    delay,
                    net.syn_delay[a..b],
                    "{when}: delay and spine-state words of shard {k} differ"
                );
                let born_c = if net.syn_born.is_empty() {
                    &[][..]
                } else {
                    &net.syn_born[a..b]
                };
                assert_eq!(born, born_c, "{when}: birth steps of shard {k} differ");
                for (i, (g, c)) in weight.iter().zip(&net.syn_weight[a..b]).enumerate() {
                    assert_eq!(
                        g.to_bits(),
                        c.to_bits(),
                        "{when}: weight of slot {} differs: GPU {g} CPU {c}",
                        a + i
                    );
                }
                assert_eq!(out_start, shard.out_start, "{when}: out_start of shard {k} differs");
                assert_eq!(out_slots, shard.out_slots, "{when}: out_slots of shard {k} differs");
            }
        }
    }
}

/// Every slot's source, delay word and birth step in global slot order, as `GpuEngine::slots`
/// reads them, where shards in the compact layout (which neither learn nor grow) read as empty
/// slots (`EMPTY`, 0, 0).
pub fn row_slots(gpu: &rewire::gpu::GpuEngine, net: &rewire::build::Network) -> (Vec<u32>, Vec<u16>, Vec<u32>) {
    use rewire::gpu::ShardSynapses;
    let (mut pre, mut delay, mut born) = (Vec::new(), Vec::new(), Vec::new());
    for (k, shard) in net.shards.iter().enumerate() {
        match gpu.shard_synapses(k).unwrap() {
            ShardSynapses::Rows {
                pre: p,
                delay: d,
                born: b,
                ..
            } => {
                pre.extend(p);
                delay.extend(d);
                born.extend(b);
            }
            ShardSynapses::Compact(_) => {
                let n = shard.slots() as usize;
                pre.resize(pre.len() + n, rewire::layout::EMPTY);
                delay.resize(delay.len() + n, 0);
                if net.globals.structural != 0 {
                    born.resize(born.len() + n, 0);
                }
            }
        }
    }
    (pre, delay, born)
}

/// The synapses of a shard in the compact layout that no lesion removed, in order: (source,
/// target, delay byte, weight bits).
pub fn live(c: &rewire::build::CompactSynapses) -> Vec<(u32, u32, u32, u32)> {
    let mut all = Vec::new();
    for i in 0..c.out_start.len() - 1 {
        for e in c.out_start[i] as usize..c.out_start[i + 1] as usize {
            let byte = (c.delay[e / 4] >> (8 * (e % 4))) & 0xff;
            if byte & rewire::layout::COMPACT_REMOVED == 0 {
                all.push((i as u32, c.post[e], byte, c.weight[e].to_bits()));
            }
        }
    }
    all
}

/// The `rewire` command-line program built with the tests.
pub fn rewire() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_rewire"))
}

/// The files `names` are byte-identical in folders `a` and `b`.
pub fn same_files<S: AsRef<str>>(a: &std::path::Path, b: &std::path::Path, names: &[S]) {
    for f in names.iter().map(AsRef::as_ref) {
        let x = std::fs::read(a.join(f)).unwrap_or_else(|e| panic!("{}/{f}: {e}", a.display()));
        let y = std::fs::read(b.join(f)).unwrap_or_else(|e| panic!("{}/{f}: {e}", b.display()));
        assert!(x == y, "{f} differs between {} and {}", a.display(), b.display());
    }
}

/// A fresh, empty folder for one test's files: `rewire-test-PID-NAME` in the temporary folder.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rewire-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs scene text to its end on `engine` into a fresh folder `name` (panicking with the error).
pub fn run_scene(src: &str, engine: rewire::sim::EngineChoice, name: &str) -> std::path::PathBuf {
    let out = temp_dir(name);
    let opts = rewire::sim::RunOptions {
        engine,
        duration_ms: None,
        progress: false,
    };
    rewire::sim::run(model(src), &out, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    out
}

/// Parses scene text (panicking with the scene error).
pub fn model(src: &str) -> rewire::Model {
    rewire::scene::parse(src, "test.ron").unwrap_or_else(|e| panic!("{e}"))
}

/// Number of set bits in a raster.
pub fn spikes_in(raster: &[u32]) -> u32 {
    raster.iter().map(|w| w.count_ones()).sum()
}

/// A small random network with fast turnover: growth below and above the set point, pruning,
/// stabilization, STDP with eligibility and dopamine (so empty slots' eligibility is tidied).
pub const TURNOVER: &str = r#"Scene(seed: 5, dt_ms: 1.0, duration_ms: 600, sample_every_ms: 100,
    regions: [
        Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 0.5,
               populations: [
                   Population(name: "E", count: 120, model: RegularSpiking, capacity: 24,
                       growth: Growth(eps: 0.04, eta: 0.002, nu_per_ms: 2e-6, tau_ca_ms: 200, beta_ca: 0.01)),
                   Population(name: "I", count: 30, model: FastSpiking),
               ]),
        Region(name: "B", centre_mm: (3, 0, 0), radius_mm: 0.5,
               populations: [
                   Population(name: "F", count: 60, model: RegularSpiking, capacity: 16,
                       growth: Growth(eps: 0.02, nu_per_ms: 3e-6, tau_ca_ms: 200, beta_ca: 0.01),
                       scaling: Scaling(target_hz: 5, tau_ms: 2000, activity_tau_ms: 500, update_every_ms: 50)),
               ]),
    ],
    projections: [
        Projection(from: "E", to: "E", rule: FixedInDegree(8), weight: Uniform(2, 6), delay_ms: Uniform(1, 5),
                   plasticity: Stdp(eligibility_tau_ms: 1000, w_max: 8)),
        Projection(from: "E", to: "I", rule: FixedProbability(0.2), weight: 4.0, delay_ms: 1.0),
        Projection(from: "I", to: "E", rule: FixedProbability(0.2), weight: -5.0, delay_ms: 1.0),
        Projection(from: "E", to: "F", rule: FixedInDegree(5), weight: 3.0, delay_ms: 4.0),
    ],
    inputs: [
        Poisson(to: "E", rate_hz: 600, in_degree: 10, weight: 1.5),
        Poisson(to: "F", rate_hz: 500, in_degree: 10, weight: 1.5, until_ms: 300),
        Poisson(to: "I", rate_hz: 500, in_degree: 10, weight: 1.5),
    ],
    dopamine: Dopamine(),
    rewards: [Reward(at_ms: 150, amount: 0.5)],
    structure: Structure(
        every_ms: 20, speedup: 100000, check_stability: false,
        sprouting: [
            Sprout(from: "E", to: "E", length_mm: 0.4),
            Sprout(from: "E", to: "F", length_mm: 0.3),
            Sprout(from: "F", to: "F", length_mm: 0.3, weight: 2.0, delay_ms: 2),
        ],
        spines: Spines(stabilize_above_w: 3.0, stabilize_tau_ms: 4e6, nascent_lifetime_ms: 4e6,
                       stable_lifetime_ms: 4e7, prune_below_w: 1.0),
        glia: {"B": 2.0},
        persistent_after_ms: 5e7,
        distance_bins_mm: [0.2, 0.4, 1.0],
    ),
)"#;

/// scenes/rehab_timing.ron cut to days -2..4: two training days, the lesion on day 0, two rehab
/// days, probes every other day (a protocol that runs in a second on the CPU twin).
pub fn short_timing() -> String {
    let mut text = include_str!("../../scenes/rehab_timing.ron").to_string();
    for (from, to) in [
        ("Train(days: (-8, -1), trials: 40)", "Train(days: (-2, -1), trials: 12)"),
        ("Rehab(days: (2, 8), trials: 20)", "Rehab(days: (1, 2), trials: 8)"),
        ("Rest(days: (37, 40))", "Rest(days: (4, 4))"),
        ("Probe(every_days: 4, trials: 40)", "Probe(every_days: 2, trials: 8)"),
    ] {
        assert!(
            text.contains(from),
            "rehab_timing.ron no longer has {from:?}: update this helper"
        );
        text = text.replace(from, to);
    }
    text
}

/// What a protocol run writes besides its plain statistics, and the statistics every run writes
/// (without `structure.csv`): the files tests compare between runs.
pub const PROTOCOL_FILES: [&str; 8] = [
    "performance.csv",
    "activation.csv",
    "representation.csv",
    "routes.csv",
    "lesions.csv",
    "rates.csv",
    "connectivity.csv",
    "weights.csv",
];

/// A focal lesion at the centre of region 0 (core 0.3 mm, penumbra 0.2 mm, a window) and a cut
/// of the tract from region 1 onto region 0.
pub fn two_lesions() -> Vec<rewire::scene::model::LesionModel> {
    use rewire::scene::model::{CurveModel, LesionKindModel, LesionModel, WindowModel};
    vec![
        LesionModel {
            day: 0,
            kind: LesionKindModel::Focal {
                centre_mm: [0.0, 0.0, 0.0],
                core_mm: 0.3,
                penumbra_mm: 0.2,
                excitability_loss: 0.6,
                recovery_days: 5.0,
                tonic: Some((1.5, CurveModel::Constant(1.0))),
            },
            window: Some(WindowModel {
                learning: CurveModel::Exponential {
                    peak: 4.0,
                    decay_days: 10.0,
                },
                growth: CurveModel::Points(vec![(0.0, 1.0), (3.0, 5.0), (20.0, 1.0)]),
                radius_mm: 0.3,
            }),
        },
        LesionModel {
            day: 0,
            kind: LesionKindModel::TractCut { from: 1, to: 0 },
            window: None,
        },
    ]
}

/// The scene error of `src` parsed as `file`, checked to name that file: (line, column, field,
/// message). Panics on any other error or when the scene is accepted.
pub fn scene_error(src: &str, file: &str) -> (usize, usize, String, String) {
    match rewire::scene::parse(src, file) {
        Err(rewire::Error::Scene {
            file: f,
            line,
            column,
            field,
            message,
        }) => {
            assert_eq!(f, file);
            (line, column, field, message)
        }
        Err(e) => panic!("not a scene error: {e}"),
        Ok(_) => panic!("the scene should be refused:\n{src}"),
    }
}

/// The 1-based line and column where `needle`, which occurs once in `src`, begins.
pub fn position(src: &str, needle: &str) -> (usize, usize) {
    assert_eq!(src.matches(needle).count(), 1, "`{needle}` must occur once");
    let before = &src[..src.find(needle).unwrap()];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// The output of a run that failed after writing checkpoint `ckpt` at `step`: exit status 1, each
/// of `reasons` in its message, the checkpoint's step and the `rewire resume` command, no panic.
/// Returns the message.
pub fn stopped_after_checkpoint(
    o: &std::process::Output,
    ckpt: &std::path::Path,
    step: u64,
    reasons: &[&str],
) -> String {
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{e}");
    for want in reasons
        .iter()
        .map(|r| r.to_string())
        .chain([format!("from step {step}"), format!("rewire resume {}", ckpt.display())])
    {
        assert!(e.contains(&want), "{want:?} in {e}");
    }
    assert!(!e.contains("panicked"), "{e}");
    e
}

/// The tables a structural scene without plasticity writes (those without wall-clock times), for
/// comparing a resumed run with one that never stopped.
pub const STRUCTURE_TABLES: [&str; 4] = [
    "rates.csv",
    "connectivity.csv",
    "structure.csv",
    "turnover_by_distance.csv",
];
