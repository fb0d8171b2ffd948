//! Runs scenes/distal_reward.ron (Izhikevich 2007) and prints, every simulated minute, the
//! rewarded synapse's weight beside the other excitatory synapses' mean and 99th percentile, and
//! the rewards delivered so far. `cargo run --release --example distal_reward [MINUTES]`
//! (default 60; docs/VALIDATION.md has the hour's result).

use rewire::build::build;
use rewire::engine::Engine;
use rewire::gpu::{AdapterChoice, GpuContext, GpuEngine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let minutes: u64 = std::env::args().nth(1).map_or(Ok(60), |m| m.parse())?;
    let model = rewire::scene::load(std::path::Path::new("scenes/distal_reward.ron"))?;
    let net = build(&model);
    let pair = model.pair_reward.clone().ok_or("the scene has no pair_reward")?;
    let (a, b) = (
        net.row_start[pair.post as usize] as usize,
        net.row_start[pair.post as usize + 1] as usize,
    );
    let rewarded: Vec<usize> = (a..b).filter(|&k| net.syn_pre[k] == pair.pre).collect();
    if rewarded.is_empty() {
        return Err(format!("no synapse from neuron {} onto neuron {}", pair.pre, pair.post).into());
    }
    // The other excitatory -> excitatory synapses.
    let e = &model.populations[0];
    let others: Vec<usize> = (0..net.syn_pre.len())
        .filter(|&k| {
            let (p, t) = (net.syn_pre[k], net.target_of(k));
            p != rewire::layout::EMPTY && p < e.count && t < e.count && !rewarded.contains(&k)
        })
        .collect();
    let ctx = GpuContext::new(&AdapterChoice::default())?;
    let mut gpu = GpuEngine::new(&ctx, &net, 0)?;
    eprintln!(
        "{} rewarded synapse(s) {} -> {}, {} other E->E synapses, on {}",
        rewarded.len(),
        pair.pre,
        pair.post,
        others.len(),
        gpu.describe()
    );
    println!("minute,rewarded_weight,others_mean,others_p99,others_max,e_rate_hz");
    let t0 = std::time::Instant::now();
    for minute in 1..=minutes {
        gpu.advance(60_000)?;
        let raw = gpu.sample()?;
        let w = gpu.weights()?;
        let mut o: Vec<f32> = others.iter().map(|&k| w[k]).collect();
        o.sort_by(f32::total_cmp);
        let mean = o.iter().map(|&x| x as f64).sum::<f64>() / o.len() as f64;
        println!(
            "{minute},{},{mean:.4},{},{},{:.3}",
            w[rewarded[0]],
            o[o.len() * 99 / 100],
            o[o.len() - 1],
            raw.pop_spikes[0] as f64 / (e.count as f64 * 60.0)
        );
        eprintln!("minute {minute} done after {:.0} s", t0.elapsed().as_secs_f64());
    }
    Ok(())
}
