//! Routes to behaviour: per source region, the synaptic input that reached the correct output
//! group in the response windows of a block of probe trials (`routes.csv`), summed from each
//! trial's fixed-point route words (shaders/propagate.wgsl, `main`).

/// The route sums of a block of trials, per source region, in fixed point (scale `conn_scale`).
#[derive(Clone, Debug, PartialEq)]
pub struct BlockRoutes {
    sums: Vec<u128>,
}

/// One region's part of a block: input in model units (summed |weight|, the scene's weight unit),
/// and its share of the total over regions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Route {
    pub input: f64,
    pub share: f64,
}

impl BlockRoutes {
    /// An empty block over `regions` source regions.
    pub fn new(regions: usize) -> Self {
        BlockRoutes { sums: vec![0; regions] }
    }

    /// Adds one trial's route words (one per region; a shorter list adds nothing to the rest).
    pub fn add(&mut self, trial: &[u64]) {
        for (s, &t) in self.sums.iter_mut().zip(trial) {
            *s += t as u128;
        }
    }

    /// Each region's input (the fixed-point sum divided by `scale`) and share: its sum over the
    /// sum of all regions, 0 when nothing reached the group. Shares are taken from the integer
    /// sums, so they add up to 1 up to rounding.
    pub fn routes(&self, scale: f32) -> Vec<Route> {
        let total: u128 = self.sums.iter().sum();
        self.sums
            .iter()
            .map(|&s| Route {
                input: s as f64 / scale as f64,
                share: if total == 0 { 0.0 } else { s as f64 / total as f64 },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_fractions_of_the_total_and_zero_without_input() {
        let mut b = BlockRoutes::new(3);
        assert_eq!(b.routes(4.0), vec![Route { input: 0.0, share: 0.0 }; 3]);
        // Two trials: region 0 gets 3 + 1, region 1 nothing, region 2 12 + 0 (scale 4).
        b.add(&[12, 0, 48]);
        b.add(&[4, 0, 0]);
        let r = b.routes(4.0);
        assert_eq!(r.iter().map(|r| r.input).collect::<Vec<_>>(), [4.0, 0.0, 12.0]);
        assert_eq!(r.iter().map(|r| r.share).collect::<Vec<_>>(), [0.25, 0.0, 0.75]);
        // A missing trial list (no task words) adds nothing.
        b.add(&[]);
        assert_eq!(b.routes(4.0), r);
    }

    #[test]
    fn block_sums_do_not_overflow_where_a_trials_words_would() {
        let mut b = BlockRoutes::new(2);
        b.add(&[u64::MAX, 1]);
        b.add(&[u64::MAX, 1]);
        let r = b.routes(1.0);
        assert_eq!(r[0].input, 2.0 * u64::MAX as f64);
        assert!((r[0].share - 1.0).abs() < 1e-15 && r[1].share > 0.0);
    }
}
