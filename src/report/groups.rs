//! Group statistics for `rewire compare --group-by`: per group and metric the n, mean, SD and a
//! 95 % confidence interval (Student's t), and between every two groups the difference of the
//! means with its interval, Hedges' g and a t-test: paired when the two groups hold the same
//! seeds (replicates of a sweep share their network realisation and lesion, so each seed is its
//! own control), Welch's otherwise; p-values corrected for the number of comparisons of that
//! metric by Holm's method (1979). The proportional recovery rule
//! (Prabhakaran et al. 2008; Winters et al. 2015) is read across runs from each run's impairment
//! and recovery.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval.
pub const LEVEL: f64 = 0.95;

/// The share of the initial impairment the proportional recovery rule predicts is recovered
/// (Prabhakaran et al. 2008: about 0.7).
pub const RULE: f64 = 0.7;

/// A run falls off the rule when it recovers less than this share of its impairment: half of what
/// the rule predicts (chosen, not measured; Winters et al. 2015 separate fitters from non-fitters
/// by clustering, which a handful of runs cannot support).
pub const OFF_RULE: f64 = RULE / 2.0;

/// One group's values of one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Describe {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n - 1).
    pub sd: f64,
    /// The 95 % interval of the mean: mean +- t(0.975, n - 1) sd / sqrt(n).
    pub ci: (f64, f64),
}

/// The two-sided t quantile for the interval at [`LEVEL`] with `df` degrees of freedom.
fn t_quantile(df: f64) -> f64 {
    let t = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    t.inverse_cdf(1.0 - (1.0 - LEVEL) / 2.0)
}

/// n, mean, SD and the t interval of `v`; `None` with fewer than two values (no interval).
pub fn describe(v: &[f64]) -> Option<Describe> {
    let n = v.len();
    if n < 2 {
        return None;
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let half = t_quantile((n - 1) as f64) * sd / (n as f64).sqrt();
    Some(Describe {
        n,
        mean,
        sd,
        ci: (mean - half, mean + half),
    })
}

/// Two groups compared on one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Contrast {
    /// mean(b) - mean(a).
    pub diff: f64,
    /// Its 95 % Welch interval.
    pub ci: (f64, f64),
    /// Hedges' g: the difference over the pooled SD, corrected for small samples
    /// (J = 1 - 3 / (4 (na + nb) - 9)). NaN when both groups have no spread.
    pub hedges_g: f64,
    /// The test's t, its degrees of freedom (Welch-Satterthwaite, or n - 1 paired) and two-sided
    /// p-value.
    pub t: f64,
    pub df: f64,
    pub p: f64,
    /// `"Welch"` or `"paired"`.
    pub test: &'static str,
}

/// The t statistic `diff / se` with `df` degrees of freedom: its two-sided p-value and the 95 %
/// interval of `diff`; exact (p 0 or 1, no width) when `se` is 0.
fn t_test(diff: f64, se: f64, df: f64) -> (f64, f64, (f64, f64)) {
    if se == 0.0 {
        let t = if diff == 0.0 {
            0.0
        } else {
            diff.signum() * f64::INFINITY
        };
        return (t, if diff == 0.0 { 1.0 } else { 0.0 }, (diff, diff));
    }
    let t = diff / se;
    let dist = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    let p = (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0);
    let half = t_quantile(df) * se;
    (t, p, (diff - half, diff + half))
}

/// Hedges' g of `b` against `a`: the difference over the pooled SD with the small-sample
/// correction; NaN without spread.
fn hedges(da: &Describe, db: &Describe) -> f64 {
    let (na, nb) = (da.n as f64, db.n as f64);
    let pooled = (((na - 1.0) * da.sd.powi(2) + (nb - 1.0) * db.sd.powi(2)) / (na + nb - 2.0)).sqrt();
    let j = 1.0 - 3.0 / (4.0 * (na + nb) - 9.0);
    if pooled > 0.0 {
        j * (db.mean - da.mean) / pooled
    } else {
        f64::NAN
    }
}

/// Group `b` against group `a` where `a[i]` and `b[i]` come from the same replicate (seed): the
/// paired t-test on the differences `b[i] - a[i]` (n - 1 degrees of freedom) and their 95 %
/// interval; Hedges' g as for independent groups, so that effect sizes compare across designs.
/// `None` unless both have the same length, at least two.
pub fn paired(a: &[f64], b: &[f64]) -> Option<Contrast> {
    if a.len() != b.len() {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let dd = describe(&d)?;
    let (da, db) = (describe(a)?, describe(b)?);
    let se = dd.sd / (dd.n as f64).sqrt();
    let df = (dd.n - 1) as f64;
    let (t, p, ci) = t_test(dd.mean, se, df);
    Some(Contrast {
        diff: dd.mean,
        ci,
        hedges_g: hedges(&da, &db),
        t,
        df,
        p,
        test: "paired",
    })
}

/// Group `b` against group `a` (each at least two values), independent: Welch's t-test and the
/// Welch interval of the difference of the means.
pub fn contrast(a: &[f64], b: &[f64]) -> Option<Contrast> {
    let (da, db) = (describe(a)?, describe(b)?);
    let (na, nb) = (da.n as f64, db.n as f64);
    let diff = db.mean - da.mean;
    let (va, vb) = (da.sd.powi(2) / na, db.sd.powi(2) / nb);
    let se = (va + vb).sqrt();
    let df = if se == 0.0 {
        na + nb - 2.0
    } else {
        (va + vb).powi(2) / (va.powi(2) / (na - 1.0) + vb.powi(2) / (nb - 1.0))
    };
    let (t, p, ci) = t_test(diff, se, df);
    Some(Contrast {
        diff,
        ci,
        hedges_g: hedges(&da, &db),
        t,
        df,
        p,
        test: "Welch",
    })
}

/// Holm's step-down correction of `p` (one family: the comparisons of one metric), in the same
/// order: sorted ascending, the k-th smallest (from 0) is multiplied by m - k, kept monotone, and
/// capped at 1.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((m - k) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// The proportional recovery rule across runs: (initial impairment, change recovered) of each.
#[derive(Clone, Debug, PartialEq)]
pub struct Proportional {
    /// Runs with an impairment (> 0) to recover from.
    pub n: usize,
    /// Least squares slope of recovered on impairment through the origin (the rule's form:
    /// recovered = slope x impairment; the rule says about 0.7).
    pub slope: f64,
    /// The ordinary least squares fit with an intercept (NaN with fewer than two impairments).
    pub ols_slope: f64,
    pub ols_intercept: f64,
    /// Pearson's r between impairment and recovery.
    pub r: f64,
    /// Runs that recover less than [`OFF_RULE`] of their impairment.
    pub off_rule: usize,
}

/// The rule read from `(impairment, recovered)` pairs; pairs without impairment (<= 0) are left
/// out. `None` when none is left.
pub fn proportional(pairs: &[(f64, f64)]) -> Option<Proportional> {
    let v: Vec<(f64, f64)> = pairs
        .iter()
        .copied()
        .filter(|(i, r)| *i > 0.0 && r.is_finite())
        .collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let slope = v.iter().map(|(x, y)| x * y).sum::<f64>() / v.iter().map(|(x, _)| x * x).sum::<f64>();
    let (mx, my) = (
        v.iter().map(|p| p.0).sum::<f64>() / n,
        v.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = v.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let syy: f64 = v.iter().map(|(_, y)| (y - my).powi(2)).sum();
    let sxy: f64 = v.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let ols_slope = if sxx > 0.0 { sxy / sxx } else { f64::NAN };
    let r = if sxx > 0.0 && syy > 0.0 {
        sxy / (sxx * syy).sqrt()
    } else {
        f64::NAN
    };
    Some(Proportional {
        n: v.len(),
        slope,
        ols_slope,
        ols_intercept: my - ols_slope * mx,
        r,
        off_rule: v.iter().filter(|(i, r)| r / i < OFF_RULE).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn describe_gives_the_t_interval() {
        // 1..5: mean 3, SD sqrt(2.5) = 1.5811; t(0.975, 4) = 2.7764; half width 1.9632.
        let d = describe(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(d.n, 5);
        assert!(close(d.mean, 3.0, 1e-12));
        assert!(close(d.sd, 2.5f64.sqrt(), 1e-12));
        assert!(
            close(d.ci.0, 3.0 - 1.963_243, 1e-5) && close(d.ci.1, 3.0 + 1.963_243, 1e-5),
            "{d:?}"
        );
        assert!(describe(&[1.0]).is_none(), "one value has no interval");
    }

    #[test]
    fn welch_matches_a_worked_example() {
        // a = 1..5 (mean 3, var 2.5), b = 3,5,7,9,11 (mean 7, var 10): se = sqrt(0.5 + 2) = 1.5811,
        // t = 2.5298, df = 2.5^2 / (0.25/4 + 4/4) = 5.8824, two-sided p = 0.04546 (integrated numerically).
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [3.0, 5.0, 7.0, 9.0, 11.0];
        let c = contrast(&a, &b).unwrap();
        assert!(close(c.diff, 4.0, 1e-12));
        assert!(close(c.t, 2.529_822, 1e-5), "{c:?}");
        assert!(close(c.df, 5.882_353, 1e-5), "{c:?}");
        assert!(close(c.p, 0.04546, 1e-4), "{c:?}");
        assert!(c.ci.0 > 0.0 && c.ci.1 > c.diff, "{c:?}");
        // Hedges' g: pooled SD sqrt((4 * 2.5 + 4 * 10) / 8) = 2.5, d = 1.6, J = 1 - 3/31.
        assert!(close(c.hedges_g, 1.6 * (1.0 - 3.0 / 31.0), 1e-9), "{c:?}");
        // Swapped groups: the sign turns, p stays.
        let s = contrast(&b, &a).unwrap();
        assert!(close(s.diff, -4.0, 1e-12) && close(s.p, c.p, 1e-12));
    }

    #[test]
    fn equal_groups_do_not_differ() {
        let c = contrast(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(c.diff, 0.0);
        assert!(close(c.p, 1.0, 1e-12));
        assert!(c.ci.0 < 0.0 && c.ci.1 > 0.0);
        // No spread at all: exact.
        let c = contrast(&[1.0, 1.0], &[2.0, 2.0]).unwrap();
        assert_eq!((c.diff, c.p, c.ci), (1.0, 0.0, (1.0, 1.0)));
        assert!(contrast(&[1.0], &[2.0, 3.0]).is_none());
    }

    #[test]
    fn paired_differences_use_each_replicate_as_its_own_control() {
        // b = a + (1, 2, 3, 4): differences mean 2.5, SD 1.2910, se 0.6455, t 3.873 on 3 df,
        // two-sided p = 0.03047; the groups' own spread (a spans 10 to 40) hides it from Welch.
        let a = [10.0, 20.0, 30.0, 40.0];
        let b = [11.0, 22.0, 33.0, 44.0];
        let c = paired(&a, &b).unwrap();
        assert_eq!(c.test, "paired");
        assert!(close(c.diff, 2.5, 1e-12) && close(c.df, 3.0, 0.0));
        assert!(close(c.t, 3.872_983, 1e-5), "{c:?}");
        assert!(close(c.p, 0.03047, 1e-4), "{c:?}");
        assert!(c.ci.0 > 0.0, "{c:?}");
        let w = contrast(&a, &b).unwrap();
        assert_eq!(w.test, "Welch");
        assert!(w.p > 0.5 && w.ci.0 < 0.0, "{w:?}");
        assert_eq!(c.hedges_g, w.hedges_g);
        assert!(paired(&a, &b[..3]).is_none() && paired(&a[..1], &b[..1]).is_none());
        // Identical differences: exact.
        let e = paired(&[1.0, 2.0], &[2.0, 3.0]).unwrap();
        assert_eq!((e.diff, e.p, e.ci), (1.0, 0.0, (1.0, 1.0)));
    }

    #[test]
    fn holm_steps_down_and_stays_monotone() {
        let p = holm(&[0.01, 0.04, 0.03, 0.005]);
        // Sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.06.
        assert_eq!(p, vec![0.03, 0.06, 0.06, 0.02]);
        assert_eq!(holm(&[0.6, 0.5]), vec![1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn proportional_recovery_is_read_from_the_pairs() {
        // Three runs on the rule (0.7 of the impairment), one that recovers nothing, one with no
        // impairment (left out).
        let pairs = [(0.2, 0.14), (0.4, 0.28), (0.6, 0.42), (0.8, 0.0), (0.0, 0.0)];
        let p = proportional(&pairs).unwrap();
        assert_eq!(p.n, 4);
        assert_eq!(p.off_rule, 1);
        // Through the origin: (0.028 + 0.112 + 0.252) / (0.04 + 0.16 + 0.36 + 0.64) = 0.3267.
        assert!(close(p.slope, 0.392 / 1.2, 1e-12), "{p:?}");
        let on = proportional(&pairs[..3]).unwrap();
        assert!(close(on.slope, 0.7, 1e-12) && close(on.ols_slope, 0.7, 1e-12) && close(on.r, 1.0, 1e-12));
        assert_eq!(on.off_rule, 0);
        assert!(proportional(&[(0.0, 0.1)]).is_none());
    }
}
