//! Tier 0 (no device): iaf_psc_alpha and iaf_cond_exp scenes are refused with the file, line,
//! column and field of a bad parameter, and their propagators have the tau_syn = tau_m limit.

use rewire::error::Error;

/// The scene error of a one-population scene whose model is written `model` (on line 3).
fn refusal(model: &str) -> (usize, usize, String, String) {
    let src = format!(
        "Scene(seed: 1, dt_ms: 0.1, duration_ms: 10,\n  regions: [Region(name: \"R\", centre_mm: (0,0,0), radius_mm: 1, populations: [\n    Population(name: \"P\", count: 2, model: {model})])])"
    );
    match rewire::scene::parse(&src, "bad.ron") {
        Err(Error::Scene {
            line,
            column,
            field,
            message,
            ..
        }) => (line, column, field, message),
        Err(e) => panic!("{model}: not a scene error: {e}"),
        Ok(_) => panic!("{model}: should be refused"),
    }
}

#[test]
fn bad_iaf_parameters_are_refused_naming_the_field() {
    let field = |f: &str| format!("regions[0].populations[0].model.{f}");
    for (model, f, words) in [
        (
            "IafPscAlpha(tau_syn_ex_ms: 0)",
            "tau_syn_ex_ms",
            "excitatory synaptic time constant",
        ),
        (
            "IafPscAlpha(tau_syn_in_ms: -1)",
            "tau_syn_in_ms",
            "inhibitory synaptic time constant",
        ),
        ("IafPscAlpha(tau_m_ms: 0)", "tau_m_ms", "membrane time constant"),
        ("IafPscAlpha(c_m_pf: -250)", "c_m_pf", "capacitance"),
        ("IafPscAlpha(v_th_mv: -70)", "v_th_mv", "above the reset"),
        ("IafPscAlpha(t_ref_ms: -2)", "t_ref_ms", "refractory"),
        (
            "IafCondExp(tau_syn_ex_ms: 0)",
            "tau_syn_ex_ms",
            "excitatory synaptic time constant",
        ),
        (
            "IafCondExp(tau_syn_in_ms: Uniform(-1, 2))",
            "tau_syn_in_ms",
            "inhibitory synaptic time constant",
        ),
        ("IafCondExp(g_l_ns: 0)", "g_l_ns", "leak conductance"),
        ("IafCondExp(tau_m_ms: 0)", "tau_m_ms", "membrane time constant"),
        ("IafCondExp(g_l_ns: 10, tau_m_ms: 10)", "tau_m_ms", "not both"),
        ("IafCondExp(v_reset_mv: -50)", "v_th_mv", "above the reset"),
        (
            "IafCondExp(e_in_mv: -55)",
            "e_in_mv",
            "inhibitory reversal potential must lie below the threshold",
        ),
        (
            "IafCondExp(e_in_mv: Uniform(-90, -50))",
            "e_in_mv",
            "below the threshold",
        ),
        (
            "IafCondExp(e_ex_mv: -60)",
            "e_ex_mv",
            "excitatory reversal potential must lie above the threshold",
        ),
        ("IafCondExp(c_m_pf: 0)", "c_m_pf", "capacitance"),
    ] {
        let (line, column, got, message) = refusal(model);
        eprintln!("{model}: {line}:{column}: {got}: {message}");
        assert_eq!(line, 3, "{model}");
        assert!(column > 40, "{model}: column {column}");
        assert_eq!(got, field(f), "{model}: {message}");
        assert!(message.contains(words), "{model}: {message}");
    }
    // Defaults (NEST's) and a tau_syn equal to tau_m pass.
    for model in [
        "IafPscAlpha()",
        "IafCondExp()",
        "IafPscAlpha(tau_syn_ex_ms: 10, tau_m_ms: 10)",
        "IafCondExp(tau_m_ms: 15)",
    ] {
        let src = format!(
            "Scene(seed: 1, dt_ms: 0.1, duration_ms: 10, regions: [Region(name: \"R\", centre_mm: (0,0,0), radius_mm: 1, populations: [Population(name: \"P\", count: 2, model: {model})])])"
        );
        rewire::scene::parse(&src, "good.ron").unwrap_or_else(|e| panic!("{model}: {e}"));
    }
}

#[test]
fn alpha_propagators_take_their_limit_at_tau_syn_equal_to_tau_m() {
    // k = 1/tau_syn - 1/tau_m -> 0: P31 -> h^2 / (2 C) e^(-h/tau), P32 -> h / C e^(-h/tau).
    use rewire::build::neurons::phi12;
    let (p1, p2) = phi12(0.0);
    assert_eq!((p1, p2), (1.0, 0.5));
    // The series (|x| < 0.1) and the closed form meet continuously.
    for x in [-0.0999999, 0.0999999, 1e-7, -1e-7] {
        let (a1, a2) = phi12(x);
        let (b1, b2) = (-(-x).exp_m1() / x, (-(-x).exp_m1() - x * (-x).exp()) / (x * x));
        let tol = if x.abs() > 0.01 { 1e-13 } else { 1e-6 };
        assert!(
            (a1 - b1).abs() < tol && (a2 - b2).abs() < tol,
            "x = {x}: {a1} {b1}, {a2} {b2}"
        );
    }
    let model = rewire::scene::parse(
        "Scene(seed: 1, dt_ms: 0.1, duration_ms: 10, regions: [Region(name: \"R\", centre_mm: (0,0,0), radius_mm: 1, populations: [Population(name: \"P\", count: 1, model: IafPscAlpha(tau_syn_ex_ms: 10, tau_syn_in_ms: 2))])])",
        "t.ron",
    )
    .unwrap();
    let net = rewire::build::build(&model);
    let (h, c, tau) = (0.1f64, 250.0, 10.0);
    let e = (-h / tau).exp();
    let p31 = net.params[0].p1 as f64;
    let p32 = net.params[0].p3 as f64;
    assert!((p31 / (h * h / (2.0 * c) * e) - 1.0).abs() < 1e-6, "P31 {p31}");
    assert!((p32 / (h / c * e) - 1.0).abs() < 1e-6, "P32 {p32}");
}
