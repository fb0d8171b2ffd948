//! Connection rules: which sources each target neuron of a projection receives.
//!
//! Draws are keyed by (projection, target neuron), so targets are generated independently, in
//! parallel on all host cores, and the result does not depend on how the work is split.

use crate::rng::{Draws, stream};
use crate::scene::{Model, ProjectionModel, Rule};

/// The sources of one projection, grouped by target: target i (local index in its population)
/// receives `sources[start[i]..start[i + 1]]` (global neuron indices, ascending for Bernoulli rules).
pub struct Connections {
    /// u64: one projection may make more than 2^32 synapses.
    pub start: Vec<u64>,
    pub sources: Vec<u32>,
}

/// Generates projection `j` of the model.
pub fn connect(model: &Model, j: usize, key: u32, positions: &[[f32; 3]]) -> Connections {
    let p = &model.projections[j];
    let tgt = &model.populations[p.target];
    // Fixed total number: first the number of synapses per target (one sequential stream of
    // target draws), then each target's sources from its own stream.
    let totals: Option<Vec<u32>> = match p.rule {
        Rule::FixedTotalNumber(n) => {
            // Chunks of 2^20 synapses, each from its own stream, counted on all cores.
            const CHUNK: u64 = 1 << 20;
            let chunks = n.div_ceil(CHUNK);
            let per = chunks.div_ceil(crate::build::threads() as u64).max(1);
            let nt = tgt.count as u64;
            let parts: Vec<Vec<u32>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..chunks)
                    .step_by(per as usize)
                    .map(|lo| {
                        s.spawn(move || {
                            let mut counts = vec![0u32; nt as usize];
                            for chunk in lo..(lo + per).min(chunks) {
                                let mut d = Draws::new(key, stream::TOTAL + j as u32, chunk as u32, 0);
                                for _ in 0..CHUNK.min(n - chunk * CHUNK) {
                                    counts[((d.next_u32() as u64 * nt) >> 32) as usize] += 1;
                                }
                            }
                            counts
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("count thread panicked"))
                    .collect()
            });
            let mut counts = vec![0u32; nt as usize];
            for p in parts {
                for (c, x) in counts.iter_mut().zip(p) {
                    *c += x;
                }
            }
            Some(counts)
        }
        _ => None,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(16);
    let per = (tgt.count as usize).div_ceil(threads).max(1);
    let parts: Vec<(Vec<u32>, Vec<u32>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..tgt.count as usize)
            .step_by(per)
            .map(|lo| {
                let hi = (lo + per).min(tgt.count as usize);
                let totals = totals.as_deref();
                s.spawn(move || {
                    let mut counts = Vec::with_capacity(hi - lo);
                    let mut sources = Vec::new();
                    for t in lo..hi {
                        let before = sources.len();
                        let k = totals.map(|c| c[t]);
                        targets_sources(model, p, j, key, tgt.first + t as u32, k, positions, &mut sources);
                        counts.push((sources.len() - before) as u32);
                    }
                    (counts, sources)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("connection thread panicked"))
            .collect()
    });
    let mut start = Vec::with_capacity(tgt.count as usize + 1);
    let mut sources = Vec::new();
    start.push(0u64);
    for (counts, s) in parts {
        for c in counts {
            start.push(start.last().copied().unwrap_or(0) + c as u64);
        }
        sources.extend(s);
    }
    Connections { start, sources }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one target's draw needs the whole projection context"
)]
fn targets_sources(
    model: &Model,
    p: &ProjectionModel,
    j: usize,
    key: u32,
    target: u32,
    total: Option<u32>,
    positions: &[[f32; 3]],
    out: &mut Vec<u32>,
) {
    let src = &model.populations[p.source];
    let ns = src.count as u64;
    let mut d = Draws::new(key, stream::CONNECT + j as u32, target, 0);
    let excluded = |s: u32| !p.autapses && s == target;
    match p.rule {
        Rule::FixedProbability(q) => {
            if q <= 0.0 {
                return;
            }
            if q >= 1.0 {
                out.extend((src.first..src.first + src.count).filter(|&s| !excluded(s)));
                return;
            }
            // Geometric skipping: gaps between successes are Geometric(q).
            let log1mq = (1.0 - q).ln();
            let mut i: u64 = 0;
            loop {
                let u = 1.0 - d.unit();
                let gap = (u.ln() / log1mq).floor();
                if !gap.is_finite() || i as f64 + gap >= ns as f64 {
                    return;
                }
                i += gap as u64;
                let s = src.first + i as u32;
                if !excluded(s) {
                    out.push(s);
                }
                i += 1;
                if i >= ns {
                    return;
                }
            }
        }
        Rule::FixedInDegree(k) => draw_sources(&mut d, k, src.first, ns, excluded, out),
        Rule::FixedTotalNumber(_) => draw_sources(&mut d, total.unwrap_or(0), src.first, ns, excluded, out),
        Rule::Topographic {
            block_from,
            block_to,
            p_in,
            p_out,
        } => {
            let tb = (target - model.populations[p.target].first) / block_to;
            if p_out == 0.0 {
                // Only the target's own block of sources can connect: test those pairs alone,
                // each with the draw it has in the full sweep (two words a pair), so the
                // synapses are the same and the work follows the block, not the population.
                let lo = (tb as u64 * block_from as u64).min(ns) as u32;
                let hi = ((tb as u64 + 1) * block_from as u64).min(ns) as u32;
                for i in lo..hi {
                    d.seek(2 * i);
                    let s = src.first + i;
                    if d.unit() < p_in && !excluded(s) {
                        out.push(s);
                    }
                }
                return;
            }
            for (i, s) in (src.first..src.first + src.count).enumerate() {
                let q = if i as u32 / block_from == tb { p_in } else { p_out };
                if d.unit() < q && !excluded(s) {
                    out.push(s);
                }
            }
        }
        Rule::DistanceDependent { p0, sigma_mm } => {
            let pt = positions[target as usize];
            let inv = 1.0 / (2.0 * sigma_mm * sigma_mm);
            for s in src.first..src.first + src.count {
                let ps = positions[s as usize];
                let d2: f64 = (0..3).map(|i| (ps[i] as f64 - pt[i] as f64).powi(2)).sum();
                if d.unit() < p0 * (-d2 * inv).exp() && !excluded(s) {
                    out.push(s);
                }
            }
        }
    }
}

fn draw_sources(d: &mut Draws, k: u32, first: u32, ns: u64, excluded: impl Fn(u32) -> bool, out: &mut Vec<u32>) {
    for _ in 0..k {
        // A redraw avoids a forbidden autapse; give up after a few tries (a 1-neuron population).
        for _ in 0..64 {
            let s = first + d.below(ns) as u32;
            if !excluded(s) {
                out.push(s);
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A topographic map without off-block connections tests only the target's own block, with
    /// the draws the full sweep over every source gives it: the same synapses.
    #[test]
    fn topographic_without_off_block_pairs_draws_as_the_full_sweep() {
        let model = crate::scene::parse(
            r#"Scene(seed: 5, dt_ms: 1, duration_ms: 10,
  regions: [Region(name: "R", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
    Population(name: "A", count: 1003, model: RegularSpiking),
    Population(name: "B", count: 700, model: RegularSpiking),
  ])],
  projections: [
    Projection(from: "A", to: "B", rule: Topographic(block_from: 40, block_to: 30, p_in: 0.3, p_out: 0.0), weight: 1, delay_ms: 1),
    Projection(from: "B", to: "B", rule: Topographic(block_from: 7, block_to: 7, p_in: 0.5, p_out: 0.0), weight: 1, delay_ms: 1, autapses: false),
  ],
)"#,
            "topographic.ron",
        )
        .unwrap();
        let key = crate::rng::seed_key(model.seed);
        for j in 0..2 {
            let p = &model.projections[j];
            let (src, tgt) = (&model.populations[p.source], &model.populations[p.target]);
            let Rule::Topographic {
                block_from,
                block_to,
                p_in,
                ..
            } = p.rule
            else {
                unreachable!()
            };
            let got = connect(&model, j, key, &[]);
            let mut synapses = 0;
            for t in 0..tgt.count {
                // The full sweep: one draw (two words) for every source in order.
                let target = tgt.first + t;
                let mut d = Draws::new(key, stream::CONNECT + j as u32, target, 0);
                let expected: Vec<u32> = (0..src.count)
                    .filter(|&i| {
                        let q = if i / block_from == t / block_to { p_in } else { 0.0 };
                        d.unit() < q && (p.autapses || src.first + i != target)
                    })
                    .map(|i| src.first + i)
                    .collect();
                let range = got.start[t as usize] as usize..got.start[t as usize + 1] as usize;
                assert_eq!(got.sources[range], expected[..], "projection {j}, target {t}");
                synapses += expected.len();
            }
            assert!(synapses > 1000, "projection {j}: {synapses} synapses");
        }
    }
}
