//! Whole-run benchmark: the quickstart scene on the first GPU adapter and on the CPU reference,
//! reported as steps per second and their ratio from the same run (`cargo bench --bench run`).
//! Per-stage benchmarks and `rewire bench` come with the scale and speed work.

use rewire::gpu::AdapterChoice;
use rewire::{EngineChoice, Simulation, scene};

fn steps_per_second(engine: &EngineChoice, steps: u64) -> f64 {
    let model = scene::parse(scene::QUICKSTART, "quickstart.ron").expect("quickstart parses");
    let mut sim = Simulation::new(model, engine, 0).expect("simulation");
    let totals = sim.run(steps, false, |_| Ok(())).expect("run");
    steps as f64 / totals.wall_s
}

fn main() {
    let steps = std::env::var("REWIRE_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let gpu = steps_per_second(&EngineChoice::Gpu(AdapterChoice::default()), steps);
    let cpu = steps_per_second(&EngineChoice::Cpu, steps);
    println!(
        "quickstart, {steps} steps: GPU {gpu:.0} steps/s, CPU reference {cpu:.0} steps/s, GPU/CPU {:.2}x",
        gpu / cpu
    );
}
