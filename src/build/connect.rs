//! Connection rules: which sources each target neuron of a projection receives.
//!
//! Draws are keyed by (projection, target neuron), so targets are generated independently, in
//! parallel on all host cores, and the result does not depend on how the work is split.

use crate::rng::{Draws, stream};
use crate::scene::{Model, ProjectionModel, Rule};

/// The sources of one projection, grouped by target: target i (local index in its population)
/// receives `sources[start[i]..start[i + 1]]` (global neuron indices, ascending for Bernoulli rules).
/// Or, where `deferred` is set (`connect_or_defer`), no list: each target's sources are drawn
/// where they are used (`Connections::sources_of`), from the same streams.
#[derive(Default)]
pub struct Connections {
    /// u64: one projection may make more than 2^32 synapses.
    pub start: Vec<u64>,
    pub sources: Vec<u32>,
    pub deferred: Option<Deferred>,
}

/// A projection whose targets' in-degrees are known without its list: `FixedInDegree(k)` (k
/// each), `FixedTotalNumber` (each target's number, drawn first, as `connect` draws it) and
/// `FixedProbability` (counted by drawing each target's sources once and keeping the number).
pub struct Deferred {
    k: u32,
    /// Per target: FixedTotalNumber's numbers to draw, or FixedProbability's counted sources
    /// (`counted`); empty for FixedInDegree.
    per_target: Vec<u32>,
    counted: bool,
    /// The one source where the source population has one neuron and autapses are excluded:
    /// that neuron, as a target, receives none (every redraw hits it).
    lone: Option<u32>,
}

impl Connections {
    /// How many synapses target `t` (local index; `target` its global index) receives. Deferred:
    /// k or the target's number, or 0 for the lone source itself. (Where a source population of
    /// two or more neurons excludes autapses, a target of a fixed number could, with a chance of
    /// at most 2^-64 a synapse, draw itself 64 times and receive one fewer; that slot then stays
    /// empty.)
    pub fn count(&self, t: usize, target: u32) -> u64 {
        match &self.deferred {
            Some(d) if d.counted => d.per_target[t] as u64,
            Some(d) if d.lone == Some(target) => 0,
            Some(d) if d.per_target.is_empty() => d.k as u64,
            Some(d) => d.per_target[t] as u64,
            None => self.start[t + 1] - self.start[t],
        }
    }

    /// The sources of target `t` (local index; `target` its global index) of projection `j`:
    /// a slice of the list, or, deferred, drawn into `scratch` (cleared first) as `connect`
    /// draws them.
    pub fn sources_of<'a>(
        &'a self,
        model: &Model,
        j: usize,
        key: u32,
        t: usize,
        target: u32,
        scratch: &'a mut Vec<u32>,
    ) -> &'a [u32] {
        let Some(d) = &self.deferred else {
            return &self.sources[self.start[t] as usize..self.start[t + 1] as usize];
        };
        let total = (!d.counted).then(|| d.per_target.get(t).copied()).flatten();
        scratch.clear();
        targets_sources(model, &model.projections[j], j, key, target, total, &[], None, scratch);
        scratch
    }
}

/// `connect`, or for a rule whose targets' in-degrees are known without a list (`Deferred`)
/// no list at all: the build then draws each target's sources as it fills the target's row,
/// and never holds the projection's list (4 bytes a synapse, 8 a target) beside the rows.
/// FixedProbability's sources are drawn twice (counted here, kept there).
pub fn connect_or_defer(model: &Model, j: usize, key: u32, positions: &[[f32; 3]]) -> Connections {
    let p = &model.projections[j];
    let src = &model.populations[p.source];
    let (k, per_target, counted) = match p.rule {
        Rule::FixedInDegree(k) => (k, Vec::new(), false),
        Rule::FixedTotalNumber(n) => (0, totals(model, j, key, n), false),
        Rule::FixedProbability(_) => (0, each_target(model, j, key, positions, |s| s.len() as u32), true),
        _ => return connect(model, j, key, positions),
    };
    Connections {
        deferred: Some(Deferred {
            k,
            per_target,
            counted,
            lone: (src.count == 1 && !p.autapses).then_some(src.first),
        }),
        ..Default::default()
    }
}

/// FixedTotalNumber's number of synapses per target: one stream of target draws per chunk of
/// 2^20 synapses, counted on all cores.
fn totals(model: &Model, j: usize, key: u32, n: u64) -> Vec<u32> {
    const CHUNK: u64 = 1 << 20;
    let tgt = &model.populations[model.projections[j].target];
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
    counts
}

/// `work` over the targets `0..count` of a projection, split into one contiguous range a host
/// core (`crate::build::threads`), each range on its own thread: the results in target order.
/// Every target draws from its own stream, so the split changes nothing drawn.
fn over_targets<R: Send>(count: usize, work: impl Fn(std::ops::Range<usize>) -> R + Sync) -> Vec<R> {
    let per = count.div_ceil(crate::build::threads()).max(1);
    let work = &work;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..count)
            .step_by(per)
            .map(|lo| s.spawn(move || work(lo..(lo + per).min(count))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("connection thread panicked"))
            .collect()
    })
}

/// `keep` of each target's sources of projection `j` (a rule that needs no totals and no grid),
/// in target order, on all host cores (each thread drawing into one scratch list).
fn each_target<T: Send>(
    model: &Model,
    j: usize,
    key: u32,
    positions: &[[f32; 3]],
    keep: impl Fn(&[u32]) -> T + Sync,
) -> Vec<T> {
    let p = &model.projections[j];
    let tgt = &model.populations[p.target];
    let parts = over_targets(tgt.count as usize, |range| {
        let mut out = Vec::with_capacity(range.len());
        let mut sources = Vec::new();
        for t in range {
            sources.clear();
            targets_sources(
                model,
                p,
                j,
                key,
                tgt.first + t as u32,
                None,
                positions,
                None,
                &mut sources,
            );
            out.push(keep(&sources));
        }
        out
    });
    parts.into_iter().flatten().collect()
}

/// Generates projection `j` of the model.
pub fn connect(model: &Model, j: usize, key: u32, positions: &[[f32; 3]]) -> Connections {
    let p = &model.projections[j];
    let tgt = &model.populations[p.target];
    // Fixed total number: first the number of synapses per target (one sequential stream of
    // target draws), then each target's sources from its own stream.
    let totals: Option<Vec<u32>> = match p.rule {
        Rule::FixedTotalNumber(n) => Some(totals(model, j, key, n)),
        _ => None,
    };
    // DistanceDependent: the sources near enough to connect at all, found through a grid.
    let near = match p.rule {
        Rule::DistanceDependent { p0, sigma_mm } => {
            let src = &model.populations[p.source];
            Some(Near::new(
                &positions[src.first as usize..(src.first + src.count) as usize],
                reach_mm(p0, sigma_mm),
            ))
        }
        _ => None,
    };
    let near = near.as_ref();
    let totals = totals.as_deref();
    let parts = over_targets(tgt.count as usize, |range| {
        let mut counts = Vec::with_capacity(range.len());
        let mut sources = Vec::new();
        for t in range {
            let before = sources.len();
            let k = totals.map(|c| c[t]);
            targets_sources(model, p, j, key, tgt.first + t as u32, k, positions, near, &mut sources);
            counts.push((sources.len() - before) as u32);
        }
        (counts, sources)
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
    Connections {
        start,
        sources,
        deferred: None,
    }
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
    near: Option<&Near>,
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
            // Only the sources in the grid cells around the target can have a probability of
            // FLOOR or more; each is tested with the draw it has in the sweep over every source
            // (two words a source), so the work follows the neighbourhood, not the population.
            // Cheap tests first, each implied by the full one: beyond the reach (with a margin
            // for rounding) p is below FLOOR, and a draw of p0 or more is above any p.
            if p0 < FLOOR {
                return;
            }
            let pt = positions[target as usize];
            let inv = 1.0 / (2.0 * sigma_mm * sigma_mm);
            let beyond = (reach_mm(p0, sigma_mm).powi(2) * 1.001).max(f64::MIN_POSITIVE);
            let before = out.len();
            let near = near.expect("a grid for DistanceDependent");
            near.around(pt, |i, ps| {
                let s = src.first + i;
                let d2: f64 = (0..3).map(|k| (ps[k] as f64 - pt[k] as f64).powi(2)).sum();
                if d2 > beyond {
                    return;
                }
                d.seek(2 * i);
                let u = d.unit();
                if u >= p0 {
                    return;
                }
                let p = p0 * (-d2 * inv).exp();
                if p >= FLOOR && u < p && !excluded(s) {
                    out.push(s);
                }
            });
            out[before..].sort_unstable();
        }
    }
}

/// The least probability `DistanceDependent` gives a pair: one step of a 53-bit uniform draw.
/// A pair whose `p0 exp(-d^2 / 2 sigma^2)` is smaller never connects (where every pair was
/// tested, it connected only on a draw of exactly 0, once in 9e15).
pub const FLOOR: f64 = 1.0 / 9_007_199_254_740_992.0;

/// The distance beyond which `DistanceDependent(p0, sigma)` gives every pair less than FLOOR:
/// sigma sqrt(2 ln(p0 / FLOOR)), 8.5 sigma at p0 = 0.3 (0 when p0 < FLOOR).
pub fn reach_mm(p0: f64, sigma_mm: f64) -> f64 {
    if p0 < FLOOR {
        return 0.0;
    }
    sigma_mm * (2.0 * (p0 / FLOOR).ln()).sqrt()
}

/// Sources in a grid of cubes of half the reach (a little more, so a source outside the 125
/// cubes around a point lies farther than the reach from it): each occupied cube's sources, by
/// index within their population, ascending.
pub struct Near {
    side: f64,
    /// Each occupied cube's sources: index within the population and position, together so a
    /// visit reads them in order.
    cells: std::collections::HashMap<[i64; 3], Vec<(u32, [f32; 3])>>,
}

impl Near {
    pub fn new(positions: &[[f32; 3]], reach: f64) -> Self {
        // A reach of 0 (nothing connects) puts every source in one cube. The side is a little
        // longer than half the reach, so that a pair three cubes apart along an axis is farther
        // than the reach, with room for the rounding of its distance and exponential.
        let side = if reach > 0.0 && reach.is_finite() {
            reach * 1.0001 / 2.0
        } else {
            f64::INFINITY
        };
        let mut cells: std::collections::HashMap<[i64; 3], Vec<(u32, [f32; 3])>> = std::collections::HashMap::new();
        for (i, p) in positions.iter().enumerate() {
            cells.entry(Self::cell(side, *p)).or_default().push((i as u32, *p));
        }
        Near { side, cells }
    }

    fn cell(side: f64, p: [f32; 3]) -> [i64; 3] {
        if side.is_infinite() {
            return [0; 3];
        }
        p.map(|x| (x as f64 / side).floor() as i64)
    }

    /// Calls `f` with every source in the 125 cubes around `p` (each once) and its position.
    pub fn around(&self, p: [f32; 3], mut f: impl FnMut(u32, [f32; 3])) {
        let c = Self::cell(self.side, p);
        let span: &[i64] = if self.side.is_infinite() {
            &[0]
        } else {
            &[-2, -1, 0, 1, 2]
        };
        for &dx in span {
            for &dy in span {
                for &dz in span {
                    if let Some(list) = self.cells.get(&[c[0] + dx, c[1] + dy, c[2] + dz]) {
                        list.iter().for_each(|&(i, q)| f(i, q));
                    }
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

    /// The sweep over every source that `DistanceDependent` was before the grid: one draw (two
    /// words) a source in order, the pair connected where it is below p.
    fn full_sweep(model: &Model, j: usize, key: u32, positions: &[[f32; 3]], floor: bool) -> Vec<Vec<u32>> {
        let p = &model.projections[j];
        let (src, tgt) = (&model.populations[p.source], &model.populations[p.target]);
        let Rule::DistanceDependent { p0, sigma_mm } = p.rule else {
            unreachable!()
        };
        (tgt.first..tgt.first + tgt.count)
            .map(|target| {
                let mut d = Draws::new(key, stream::CONNECT + j as u32, target, 0);
                let pt = positions[target as usize];
                (src.first..src.first + src.count)
                    .filter(|&s| {
                        let ps = positions[s as usize];
                        let d2: f64 = (0..3).map(|i| (ps[i] as f64 - pt[i] as f64).powi(2)).sum();
                        let q = p0 * (-d2 / (2.0 * sigma_mm * sigma_mm)).exp();
                        let u = d.unit();
                        u < q && (!floor || q >= FLOOR) && (p.autapses || s != target)
                    })
                    .collect()
            })
            .collect()
    }

    fn by_target(c: &Connections) -> Vec<Vec<u32>> {
        (0..c.start.len() - 1)
            .map(|t| c.sources[c.start[t] as usize..c.start[t + 1] as usize].to_vec())
            .collect()
    }

    /// A FixedInDegree, FixedTotalNumber or FixedProbability projection built without a list
    /// gives each target the count and the sources its list holds, in order: with autapses
    /// excluded in a population of two neurons and of one (whose neuron receives none), from
    /// another population of one, and in a large population. Topographic keeps its list.
    #[test]
    fn rules_without_a_list_draw_what_the_list_holds() {
        let model = crate::scene::parse(
            r#"Scene(seed: 5, dt_ms: 1, duration_ms: 10,
  regions: [Region(name: "R", centre_mm: (0, 0, 0), radius_mm: 1, populations: [
    Population(name: "A", count: 2000, model: RegularSpiking),
    Population(name: "B", count: 2, model: RegularSpiking),
    Population(name: "C", count: 1, model: RegularSpiking),
  ])],
  projections: [
    Projection(from: "A", to: "A", rule: FixedInDegree(30), weight: 1, delay_ms: 1, autapses: false),
    Projection(from: "B", to: "B", rule: FixedInDegree(3), weight: 1, delay_ms: 1, autapses: false),
    Projection(from: "C", to: "C", rule: FixedInDegree(2), weight: 1, delay_ms: 1, autapses: false),
    Projection(from: "C", to: "A", rule: FixedInDegree(2), weight: 1, delay_ms: 1, autapses: false),
    Projection(from: "A", to: "B", rule: FixedProbability(0.1), weight: 1, delay_ms: 1),
    Projection(from: "A", to: "A", rule: FixedProbability(0.02), weight: 1, delay_ms: 1, autapses: false),
    Projection(from: "C", to: "C", rule: FixedProbability(1.0), weight: 1, delay_ms: 1, autapses: false),
    Projection(from: "A", to: "A", rule: FixedTotalNumber(50000), weight: 1, delay_ms: 1, autapses: false),
    Projection(from: "C", to: "C", rule: FixedTotalNumber(5), weight: 1, delay_ms: 1, autapses: false),
    Projection(from: "A", to: "A", rule: Topographic(block_from: 100, block_to: 100, p_in: 0.1, p_out: 0.01), weight: 1, delay_ms: 1),
  ],
)"#,
            "degrees.ron",
        )
        .unwrap();
        let key = crate::rng::seed_key(model.seed);
        let positions = crate::build::build(&model).positions;
        for j in 0..model.projections.len() {
            let listed = connect(&model, j, key, &positions);
            let lean = connect_or_defer(&model, j, key, &positions);
            let fixed = !matches!(model.projections[j].rule, Rule::Topographic { .. });
            assert_eq!(lean.deferred.is_some(), fixed, "projection {j}");
            assert_eq!(lean.sources.is_empty(), fixed, "projection {j}");
            let tgt = &model.populations[model.projections[j].target];
            let mut scratch = Vec::new();
            for t in 0..tgt.count as usize {
                let target = tgt.first + t as u32;
                let want = &listed.sources[listed.start[t] as usize..listed.start[t + 1] as usize];
                assert_eq!(lean.count(t, target), want.len() as u64, "projection {j}, target {t}");
                assert_eq!(
                    lean.sources_of(&model, j, key, t, target, &mut scratch),
                    want,
                    "projection {j}, target {t}"
                );
            }
        }
        // The lone neuron of C receives none of C's synapses; B's two each receive three.
        for j in [2, 6, 8] {
            let lean = connect_or_defer(&model, j, key, &positions);
            assert_eq!(lean.count(0, model.populations[2].first), 0, "projection {j}");
        }
        assert_eq!(
            connect_or_defer(&model, 1, key, &positions).count(1, model.populations[1].first + 1),
            3
        );
    }

    /// The scenes' distance-dependent projections connect exactly as the sweep over every pair
    /// did: the grid changes the work, not the synapses.
    #[test]
    fn distance_dependent_scenes_connect_as_the_full_sweep() {
        for path in ["scenes/deafferentation.ron", "scenes/diaschisis.ron"] {
            let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            let model = crate::scene::parse(&text, path).unwrap();
            let key = crate::rng::seed_key(model.seed);
            let positions = crate::build::build(&model).positions;
            let mut tested = 0;
            for j in 0..model.projections.len() {
                if !matches!(model.projections[j].rule, Rule::DistanceDependent { .. }) {
                    continue;
                }
                let got = by_target(&connect(&model, j, key, &positions));
                assert_eq!(
                    got,
                    full_sweep(&model, j, key, &positions, false),
                    "{path}, projection {j}"
                );
                tested += got.iter().map(Vec::len).sum::<usize>();
            }
            assert!(tested > 10_000, "{path}: only {tested} synapses compared");
        }
    }

    /// The pre-build estimate of a distance-dependent projection bounds what is built, and
    /// closely where sigma is small against the region (p0 x pairs, as it was, would be 1 700x).
    #[test]
    fn distance_dependent_estimate_bounds_the_synapses_built() {
        let model = crate::scene::parse(
            r#"Scene(seed: 3, dt_ms: 1, duration_ms: 10,
  regions: [Region(name: "R", centre_mm: (0, 0, 0), radius_mm: 3, populations: [
    Population(name: "E", count: 50000, model: RegularSpiking),
  ])],
  projections: [
    Projection(from: "E", to: "E", rule: DistanceDependent(p0: 0.5, sigma_mm: 0.1), weight: 1, delay_ms: 1, autapses: false),
  ],
)"#,
            "ball.ron",
        )
        .unwrap();
        let estimate = model.expected_synapses();
        let built = crate::build::build(&model).synapses as f64;
        assert!(
            estimate >= built && estimate < 1.1 * built,
            "estimate {estimate}, built {built}"
        );
    }

    /// On a sheet wide against sigma, the grid visits a neighbourhood of each target, a small
    /// part of the population, and connects the same pairs as the sweep over all of them.
    #[test]
    fn distance_dependent_on_a_wide_sheet_visits_only_the_neighbourhood() {
        let model = crate::scene::parse(
            r#"Scene(seed: 9, dt_ms: 1, duration_ms: 10,
  regions: [Region(name: "R", centre_mm: (0, 0, 0), radius_mm: 5, populations: [
    Population(name: "A", count: 6400, model: RegularSpiking),
    Population(name: "B", count: 2500, model: RegularSpiking),
  ])],
  projections: [
    Projection(from: "A", to: "B", rule: DistanceDependent(p0: 0.8, sigma_mm: 0.1), weight: 1, delay_ms: 1),
    Projection(from: "B", to: "B", rule: DistanceDependent(p0: 0.5, sigma_mm: 0.2), weight: 1, delay_ms: 1, autapses: false),
  ],
)"#,
            "sheet.ron",
        )
        .unwrap();
        // A on an 80 x 80 lattice and B on a 50 x 50 one, both 10 mm wide, in one plane.
        let lattice = |n: usize, step: f32| {
            (0..n * n).map(move |i| [(i % n) as f32 * step - 5.0, (i / n) as f32 * step - 5.0, 0.0])
        };
        let positions: Vec<[f32; 3]> = lattice(80, 10.0 / 80.0).chain(lattice(50, 10.0 / 50.0)).collect();
        let key = crate::rng::seed_key(model.seed);
        for j in 0..2 {
            let got = by_target(&connect(&model, j, key, &positions));
            assert_eq!(got, full_sweep(&model, j, key, &positions, true), "projection {j}");
            assert_eq!(got, full_sweep(&model, j, key, &positions, false), "projection {j}");
            let synapses: usize = got.iter().map(Vec::len).sum();
            assert!(synapses > 5_000, "projection {j}: {synapses} synapses");
        }
        // The neighbourhood of a point in the middle: the 125 cubes of side 4.3 sigma (0.43 mm
        // for A at sigma 0.1), about 7 % of A's 6 400 sources.
        let a = &positions[..6400];
        let near = Near::new(a, reach_mm(0.8, 0.1));
        let mut visited = 0;
        near.around([0.0, 0.0, 0.0], |_, _| visited += 1);
        assert!(visited > 0 && visited < 640, "{visited} of 6400 sources visited");
    }

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
