//! Counter-based randomness shared bit for bit with `shaders/common.wgsl`.
//!
//! Every draw is a hash of (seed key, stream, step, element, index): no state, no order
//! dependence, the same value on the GPU, in the CPU reference and in parallel host code.
//! Only integer operations and exact float conversions are used, so both sides agree exactly.

/// Streams keep unrelated draws independent. Values are part of the format: never reuse one.
pub mod stream {
    /// Per-neuron noise current (simulation).
    pub const NOISE: u32 = 1;
    /// Spike-source spikes (simulation).
    pub const SOURCE: u32 = 2;
    /// Delays of pair rewards (simulation).
    pub const REWARD: u32 = 3;
    /// Spine transitions per slot at a structural update (simulation).
    pub const SPINE: u32 = 4;
    /// Partner choice of a neuron's free spines at a structural update (simulation).
    pub const FORM: u32 = 5;
    /// Acceptance of a proposed synapse by its source's free boutons (simulation).
    pub const ACCEPT: u32 = 6;
    /// Per-neuron Poisson input counts: `POISSON_SIM + (source << 8) + repeat` (simulation).
    pub const POISSON_SIM: u32 = 0x1000_0000;
    /// Neuron parameters at build time.
    pub const PARAMS: u32 = 1000;
    /// Neuron positions at build time.
    pub const POSITION: u32 = 1001;
    /// Neurons a fraction lesion removes (host, per lesion).
    pub const LESION: u32 = 1002;
    /// Task trials: cue order, cue and context jitter (host, per trial).
    pub const TASK: u32 = 1003;
    /// Connectivity at build time: projection index (< 2^20) is added.
    pub const CONNECT: u32 = 0x0200_0000;
    /// Synapse weights at build time: projection index (< 2^20) is added.
    pub const WEIGHT: u32 = 0x0300_0000;
    /// Synapse delays at build time: projection index (< 2^20) is added.
    pub const DELAY: u32 = 0x0400_0000;
    /// Targets of fixed-total-number projections: projection index (< 2^20) is added.
    pub const TOTAL: u32 = 0x0500_0000;
}

/// PCG-style integer hash (Jarzynski & Olano 2020, "Hash functions for GPU rendering").
#[inline]
pub fn pcg(v: u32) -> u32 {
    let state = v.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// Reduces a 64-bit seed to the 32-bit key every draw starts from.
pub fn seed_key(seed: u64) -> u32 {
    pcg((seed as u32) ^ pcg((seed >> 32) as u32 ^ 0x9e37_79b9))
}

/// The base hash of one (stream, step, element); draws within it are `draw(base, i)`.
#[inline]
pub fn base(key: u32, stream: u32, step: u32, element: u32) -> u32 {
    pcg(pcg(pcg(key ^ stream).wrapping_add(step)).wrapping_add(element))
}

/// The i-th 32-bit draw from a base hash.
#[inline]
pub fn draw(base: u32, i: u32) -> u32 {
    pcg(base.wrapping_add(i.wrapping_mul(0x9e37_79b9)))
}

/// exp(x) from f32 adds and multiplies only, identical to `exp_f32` in shaders/common.wgsl (a
/// driver's exp is not bit-exact): x = k ln2 + r, a degree-6 Taylor polynomial of e^r, times 2^k.
/// Relative error below 2e-7 over [-87, 88]; 0 below -87.
pub fn exp_f32(x: f32) -> f32 {
    if x < -87.0 {
        return 0.0;
    }
    let xc = x.min(88.0);
    let k = (xc * (std::f64::consts::LOG2_E as f32) + 0.5).floor();
    let r = (xc - k * f32::from_bits(0x3f31_7200)) - k * (1.428_606_765_3e-6_f64 as f32);
    let mut p = (1.0f64 / 720.0) as f32;
    p = p * r + (1.0f64 / 120.0) as f32;
    p = p * r + (1.0f64 / 24.0) as f32;
    p = p * r + (1.0f64 / 6.0) as f32;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    p * f32::from_bits(((k as i32 + 127) as u32) << 23)
}

/// 1 / x for a positive normal x, identical to common.wgsl's recip_f32 (no division: a GPU's
/// f32 division need not be correctly rounded): a first guess from the bits, then four Newton
/// steps y (2 - x y). Within 2 ulp of 1 / x.
#[inline]
pub fn recip_f32(x: f32) -> f32 {
    let mut y = f32::from_bits(0x7ef3_11c3u32.wrapping_sub(x.to_bits()));
    for _ in 0..4 {
        y *= 2.0 - x * y;
    }
    y
}

/// Uniform on [0, 1) with 24 bits, exactly representable in f32.
#[inline]
pub fn unit_f32(bits: u32) -> f32 {
    (bits >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Approximately standard normal: the Irwin-Hall sum of twelve 16-bit uniforms minus 6.
/// Exact in f32 (at most 20 significant bits), so GPU and CPU agree; tails end at +-6.
#[inline]
pub fn normal_f32(base: u32, first: u32) -> f32 {
    let mut s: u32 = 0;
    for i in 0..6 {
        let h = draw(base, first + i);
        s += (h & 0xffff) + (h >> 16);
    }
    (s + 6) as f32 * (1.0 / 65_536.0) - 6.0
}

/// Poisson count with mean lambda, by Knuth's product of uniforms against exp(-lambda)
/// (given precomputed, so no transcendental runs on the GPU). Meant for lambda <= 60.
#[inline]
pub fn poisson_knuth(base: u32, exp_neg_lambda: f32, cap: u32) -> u32 {
    let mut p = 1.0f32;
    let mut k = 0u32;
    loop {
        p *= unit_f32(draw(base, k));
        if p <= exp_neg_lambda || k >= cap {
            return k;
        }
        k += 1;
    }
}

/// A small deterministic host-side generator for build-time draws (f64 precision).
#[derive(Clone, Copy, Debug)]
pub struct Draws {
    base: u32,
    i: u32,
    /// The second normal of the last Box-Muller pair, not yet used.
    spare: Option<f64>,
}

impl Draws {
    pub fn new(key: u32, stream: u32, a: u32, b: u32) -> Self {
        Draws {
            base: base(key, stream, a, b),
            i: 0,
            spare: None,
        }
    }
    pub fn next_u32(&mut self) -> u32 {
        let v = draw(self.base, self.i);
        self.i = self.i.wrapping_add(1);
        v
    }
    /// Moves to the `i`-th 32-bit draw of the stream (counter-based: the draws from there on are
    /// those a fresh stream gives after `i` draws).
    pub fn seek(&mut self, i: u32) {
        self.i = i;
        self.spare = None;
    }
    /// Uniform on [0, 1) with 53 bits.
    pub fn unit(&mut self) -> f64 {
        let hi = (self.next_u32() >> 5) as u64;
        let lo = (self.next_u32() >> 6) as u64;
        ((hi << 26) | lo) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }
    /// Uniform integer in [0, n) (n > 0): multiply-shift of one 32-bit draw below 2^32 (each value
    /// within n / 2^32 of its share, e.g. 5e-6 for n = 20 000), of a 53-bit draw above.
    pub fn below(&mut self, n: u64) -> u64 {
        if n <= 1 << 32 {
            (self.next_u32() as u64 * n) >> 32
        } else {
            ((self.unit() * n as f64) as u64).min(n - 1)
        }
    }
    /// Standard normal by Marsaglia's polar method (host only): each accepted pair of uniforms
    /// gives two normals, the second kept for the next call; no trigonometry.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.unit() - 1.0;
            let v = 2.0 * self.unit() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let f = (-2.0 * s.ln() / s).sqrt();
                self.spare = Some(v * f);
                return u * f;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_f32_is_within_half_a_micro_of_exp() {
        let mut worst = 0.0f64;
        for i in -86_999..88_000 {
            let x = i as f32 * 1e-3;
            let rel = (exp_f32(x) as f64 / (x as f64).exp() - 1.0).abs();
            assert!(rel < 5e-7, "exp_f32({x}) = {} against {}", exp_f32(x), (x as f64).exp());
            worst = worst.max(rel);
        }
        assert!(worst < 5e-7, "largest relative error {worst:e}");
        assert_eq!(exp_f32(-100.0), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn recip_f32_is_within_two_ulp_of_division() {
        let mut worst = 0.0f64;
        let mut x = 1e-6f32;
        while x < 1e9 {
            let rel = (recip_f32(x) as f64 * x as f64 - 1.0).abs();
            worst = worst.max(rel);
            x *= 1.000_37;
        }
        assert!(worst < 2.5e-7, "largest relative error {worst:e}");
        // Not correctly rounded: 1 / 1 comes out one ulp low, the same on every device.
        assert!((recip_f32(1.0) - 1.0).abs() <= f32::EPSILON);
    }

    #[test]
    fn host_normal_pairs_are_standard_and_uncorrelated() {
        let mut d = Draws::new(9, stream::WEIGHT, 4, 0);
        let n = 40_000;
        let z: Vec<f64> = (0..n).map(|_| d.normal()).collect();
        let mean = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        let lag1 = z.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum::<f64>() / (n - 1) as f64 / var;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.03, "variance {var}");
        assert!(lag1.abs() < 0.02, "neighbouring draws correlate: {lag1}");
        let tail = z.iter().filter(|x| x.abs() > 3.0).count() as f64 / n as f64;
        assert!((tail - 0.0027).abs() < 0.0012, "P(|z| > 3) = {tail}");
    }

    #[test]
    fn normal_has_unit_variance() {
        let n = 20_000;
        let (mut m, mut v) = (0.0f64, 0.0f64);
        for e in 0..n {
            let z = normal_f32(base(7, stream::NOISE, 0, e), 0) as f64;
            m += z;
            v += z * z;
        }
        m /= n as f64;
        v = v / n as f64 - m * m;
        assert!(m.abs() < 0.03, "mean {m}");
        assert!((v - 1.0).abs() < 0.05, "variance {v}");
    }

    #[test]
    fn poisson_mean_matches_lambda() {
        let lambda = 3.5f64;
        let l = (-lambda).exp() as f32;
        let n = 20_000;
        let sum: u64 = (0..n)
            .map(|e| poisson_knuth(base(3, stream::POISSON_SIM, 1, e), l, 1000) as u64)
            .sum();
        let mean = sum as f64 / n as f64;
        assert!((mean - lambda).abs() < 0.06, "mean {mean}");
    }
}
