//! Per-stage benchmarks (criterion): host construction, the `neurons` stage alone, a whole step
//! (neurons + propagate), the sample-time `connectivity` reduction, and the adapter's streaming
//! copy, on synthetic networks of 100 synapses per neuron firing at 5 Hz.
//!
//! `cargo bench --bench stages`; REWIRE_BENCH_SMALL=1 shrinks the networks (for CI smoke runs).
//! The propagate cost is the step minus neurons; `rewire bench` times stages with GPU timestamps.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rewire::bench::Synthetic;
use rewire::build::build_sharded;
use rewire::gpu::{AdapterChoice, GpuContext, GpuEngine, Stage};

fn sizes() -> Vec<u32> {
    if std::env::var_os("REWIRE_BENCH_SMALL").is_some() {
        vec![2_000]
    } else {
        vec![10_000, 100_000]
    }
}

fn stages(c: &mut Criterion) {
    let ctx = GpuContext::new(&AdapterChoice::default()).expect("benchmarks need a GPU adapter");
    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    for n in sizes() {
        let spec = Synthetic {
            neurons: n,
            synapses: 100,
            rate_hz: 5.0,
            dt_ms: 1.0,
        };
        let model = spec.model().unwrap();
        group.throughput(Throughput::Elements(n as u64 * 100));
        group.bench_with_input(BenchmarkId::new("build", n), &model, |b, m| {
            b.iter(|| build_sharded(m, ctx.shard_slots()).unwrap())
        });
        let net = build_sharded(&model, ctx.shard_slots()).unwrap();
        let mut engine = GpuEngine::new(&ctx, &net, 0).unwrap();
        engine.run_stage(Stage::Step, 20).unwrap();
        group.throughput(Throughput::Elements(n as u64 * 10));
        for (name, stage) in [("neurons x10", Stage::Neurons), ("step x10", Stage::Step)] {
            group.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter(|| engine.run_stage(stage, 10).unwrap())
            });
        }
        group.throughput(Throughput::Elements(net.slots()));
        group.bench_function(BenchmarkId::new("connectivity", n), |b| {
            b.iter(|| engine.run_stage(Stage::Connectivity, 1).unwrap())
        });
    }
    group.bench_function("stream copy", |b| {
        b.iter(|| rewire::gpu::bandwidth::measure(&ctx).unwrap())
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
