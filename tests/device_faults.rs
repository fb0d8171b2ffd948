//! Device faults: a GPU device lost in the middle of a run. The device is really destroyed
//! (wgpu's `Device::destroy`, through the `REWIRE_FAULT_LOSE_DEVICE_AT_STEP` test hook), so the
//! driver, wgpu's lost callback and the engine's readbacks all take the path a lost card takes.
//! The run stops with the steps in flight, writes the tables it has, points at its last
//! checkpoint, and `rewire resume` continues to the results of a run that never stopped.

mod common;

use rewire::engine::Engine;
use std::path::Path;

const SCENE: &str = "scenes/deafferentation.ron";
const FILES: [&str; 4] = common::STRUCTURE_TABLES;

fn run(out: &Path) -> std::process::Command {
    let mut c = common::rewire();
    c.args(["run", SCENE, "--duration", "20000", "--out"]).arg(out);
    c
}

#[test]
fn a_device_lost_mid_run_stops_with_its_steps_writes_what_it_has_and_resumes() {
    let dir = common::temp_dir("device-lost");
    let straight = dir.join("straight");
    let o = run(&straight).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let out = dir.join("lost");
    let o = run(&out)
        .args(["--checkpoint-every", "2s"])
        .env("REWIRE_FAULT_LOSE_DEVICE_AT_STEP", "5000")
        .output()
        .unwrap();
    let ckpt = out.join("checkpoint.rwck");
    // The scene samples every second: the last readback the device confirmed was at 4000.
    common::stopped_after_checkpoint(
        &o,
        &ckpt,
        4000,
        &["the GPU device was lost", "while it ran steps 4000 to 5000"],
    );
    // What it has: the tables up to the last sample, under their names, and the checkpoint.
    for f in FILES {
        assert!(out.join(f).is_file(), "{f}");
        assert!(!out.join(format!("{f}.partial")).exists(), "{f}.partial");
    }
    let rates = std::fs::read_to_string(out.join("rates.csv")).unwrap();
    let straight_rates = std::fs::read_to_string(straight.join("rates.csv")).unwrap();
    assert!(
        straight_rates.starts_with(&rates) && rates.len() < straight_rates.len(),
        "the lost run's rates are the straight run's up to the fault"
    );
    assert!(!out.join("summary.json").exists());
    assert!(!out.join(rewire::lock::LOCK_FILE).exists());

    // A new device: the run continues from the checkpoint to the straight run's results.
    let o = common::rewire().arg("resume").arg(&ckpt).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    common::same_files(&straight, &out, &FILES);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_readback_after_a_lost_device_is_an_error_not_a_panic() {
    let ctx = common::gpu();
    let model = rewire::scene::load(Path::new(SCENE)).unwrap();
    let net = rewire::build::build(&model);
    let mut e = rewire::gpu::GpuEngine::new(&ctx, &net, 0).unwrap();
    e.advance(100).unwrap();
    e.sample().unwrap();
    ctx.device.destroy();
    e.advance(100).unwrap();
    let lost = |r: rewire::Result<()>, what: &str| {
        let m = r.expect_err(what).to_string();
        assert!(m.contains("the GPU device was lost"), "{what}: {m}");
        assert!(m.contains("steps 100 to 200"), "{what}: {m}");
    };
    lost(e.sample().map(|_| ()), "sample");
    lost(e.save_state().map(|_| ()), "save_state");
    lost(e.weights().map(|_| ()), "weights");
}

/// A device that cannot allocate an array (here lavapipe or llvmpipe, whose buffers live in host
/// memory, under an address-space limit). The run is refused naming the array, with nothing
/// written, instead of panicking inside wgpu.
///
/// The scene makes a wide window of such limits: 40 000 neurons with few synapses but delays of
/// up to 200 ms at dt 0.1 ms, so the delay ring (2 001 steps, about 320 MB in parts of one
/// binding), which the device holds and the host never does, is most of the run's memory. Below
/// the window the driver or the build itself does not fit; above it the run fits. Since the
/// upload lets the host's rows go as the device's copy grows, the scaled microcircuit this test
/// used to run (most of its memory in synapses, held once on each side) left no window on
/// OpenGL. Lavapipe runs two compute threads here (`LP_NUM_THREADS=2`, pinned: the driver's
/// threads take address space too). The test tries limits down from 1.8 GB in steps of 10 MB, as
/// far as 0.5 GB, and asserts on the first that refuses a device allocation: a panic at any of
/// them fails it, and so does finding no such limit. (Measured: on OpenGL the run fits down to
/// about 0.76 GB and some limits below refuse `params[2]` cleanly while others fail an
/// allocation of the host, which aborts; on Vulkan the window lies higher.)
#[test]
fn an_allocation_the_device_cannot_make_names_the_array() {
    let dir = common::temp_dir("device-oom");
    let scene = dir.join("long_ring.ron");
    std::fs::write(
        &scene,
        r#"Scene(name: "long ring", seed: 4, dt_ms: 0.1, duration_ms: 5,
  regions: [Region(name: "A", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
    Population(name: "S", count: 2000, model: SpikeSource(rate_hz: 20)),
    Population(name: "L", count: 38000, model: Lif(v_init_mv: Uniform(-65, -55))),
  ])],
  projections: [Projection(from: "S", to: "L", rule: FixedInDegree(4), weight: 100, delay_ms: Uniform(0.1, 200))],
)"#,
    )
    .unwrap();
    let mut seen = Vec::new();
    for step in 0..=130i64 {
        let limit_kb = 1_800_000 - 10_000 * step;
        let out = dir.join(format!("out{limit_kb}"));
        let o = std::process::Command::new("sh")
            .env("LP_NUM_THREADS", "2")
            .arg("-c")
            .arg(format!(
                "ulimit -v {limit_kb} && exec {} run {} --out {}",
                env!("CARGO_BIN_EXE_rewire"),
                scene.display(),
                out.display()
            ))
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        // Below the window the host's own resources run out: an allocation that aborts, or a
        // build thread that cannot start (its stack); any other panic fails the test.
        assert!(
            !e.contains("panicked") || e.contains("failed to spawn thread"),
            "at {limit_kb} kB: {e}"
        );
        if o.status.code() == Some(1) && e.contains("out of GPU memory allocating `") {
            assert!(e.contains("of other arrays"), "{e}");
            assert!(!out.exists(), "nothing written");
            return;
        }
        seen.push(format!("{limit_kb} kB: {:?}", o.status.code()));
    }
    panic!("no limit refused a device allocation: {seen:?}");
}
