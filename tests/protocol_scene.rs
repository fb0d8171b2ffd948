//! Scenes with a task and a protocol: a good one resolves, and each mistake gets one error naming
//! the file, the line and column of the offending value, its field path and what is wrong.

mod common;

const GOOD: &str = r#"// Training, a stroke on day 0, rest, rehabilitation, a booster and weekly probes.
Scene(
    seed: 1,
    dt_ms: 1.0,
    regions: [
        Region(name: "S1", centre_mm: (0, 0, 0), radius_mm: 2, populations: [
            Population(name: "S", count: 100, model: RegularSpiking),
        ]),
        Region(name: "M1", centre_mm: (10, 0, 0), radius_mm: 2, populations: [
            Population(name: "M", count: 50, model: RegularSpiking),
        ]),
    ],
    projections: [
        Projection(from: "S", to: "M", rule: FixedProbability(0.1), weight: 1.0, delay_ms: 1.0),
    ],
    task: Task(
        cues: Cues(population: "S", count: 2, neurons: 20, current: 10),
        outputs: Outputs(population: "M", neurons: 10),
        trial_ms: 300,
        reward: TaskReward(amount: 0.5, delay_ms: 100),
    ),
    time: Time(offline_ms: 500),
    protocol: [
        Train(days: (-7, -1), trials: 20),
        Lesion(day: 0, kind: Focal(centre_mm: (10, 1, 0), core_mm: 1, penumbra_mm: 1), window: Window(boost: 3, decay_days: 7)),
        Rest(days: (0, 2)),
        Rehab(days: (3, 14), trials: 30, neuromodulation: {"M1": (plasticity: 2)}),
        Booster(days: [21], trials: 30),
        Probe(every_days: 7, trials: 10),
    ],
)
"#;

/// The scene error of `src` (as "file.ron"): (line, column, field, message).
fn error(src: &str) -> (usize, usize, String, String) {
    common::scene_error(src, "file.ron")
}

use common::position;

/// `GOOD` with `from` replaced by `to` (each must change the scene).
fn edit(src: &str, from: &str, to: &str) -> String {
    assert!(src.contains(from), "`{from}` is not in the scene");
    src.replacen(from, to, 1)
}

/// Asserts that `src` is refused at the start of `at` (a unique piece of its text), with the
/// field path `field` and a message containing `words`.
fn expect(src: &str, at: &str, field: &str, words: &str) {
    let (line, column, got_field, message) = error(src);
    assert_eq!((line, column), position(src, at), "position of `{at}`: {message}");
    assert_eq!(got_field, field, "{message}");
    assert!(message.contains(words), "expected `{words}` in: {message}");
}

#[test]
fn the_good_scene_resolves() {
    let m = rewire::scene::parse(GOOD, "file.ron").unwrap();
    let p = m.protocol.unwrap();
    assert_eq!((p.first_day, p.last_day), (-7, 21));
    // Probes on days -7, 0, 7, 14 and the last day 21.
    let probe_days: Vec<i32> = p.days.iter().filter(|d| d.probe_trials > 0).map(|d| d.day).collect();
    assert_eq!(probe_days, [-7, 0, 7, 14, 21]);
    // 7 x 20 + 12 x 30 + 30 session trials and 5 x 10 probe trials of 300 steps; 29 days of 500.
    assert_eq!(m.steps, (140 + 360 + 30 + 50) * 300 + 29 * 500);
}

#[test]
fn a_lesion_outside_every_region() {
    let src = edit(
        GOOD,
        "centre_mm: (10, 1, 0), core_mm: 1",
        "centre_mm: (40, 0, 0), core_mm: 2",
    );
    expect(
        &src,
        "(40, 0, 0)",
        "protocol[1].kind.centre_mm",
        "lesion at (40, 0, 0) mm with core 2 mm lies outside every region",
    );
}

#[test]
fn a_rehab_session_before_the_lesion_that_needs_it() {
    let src = edit(GOOD, "Rehab(days: (3, 14)", "Rehab(days: (-3, 14)");
    let src = edit(&src, "Train(days: (-7, -1)", "Train(days: (-7, -4)");
    expect(
        &src,
        "(-3, 14)",
        "protocol[3].days",
        "rehab session on day -3 comes before the first lesion (day 0); use Train for training before a lesion",
    );
    // Without any lesion, and for a booster.
    let src = edit(GOOD, "Booster(days: [21]", "Booster(days: [-5]");
    expect(
        &src,
        "-5]",
        "protocol[4].days[0]",
        "booster session on day -5 comes before the first lesion (day 0)",
    );
    let lesion = &GOOD[GOOD.find("        Lesion").unwrap()..GOOD.find("        Rest").unwrap()];
    expect(
        &edit(GOOD, lesion, ""),
        "(3, 14)",
        "protocol[2].days",
        "rehab sessions follow a lesion, and the protocol has none",
    );
}

#[test]
fn a_task_cue_on_a_population_that_does_not_exist() {
    let src = edit(GOOD, r#"population: "S","#, r#"population: "S9","#);
    expect(&src, r#""S9""#, "task.cues.population", r#"unknown population "S9""#);
}

#[test]
fn overlapping_phases_are_named_at_the_one_written_second() {
    // Training into the rest after the lesion: reported at the Rest (written second).
    let src = edit(GOOD, "Train(days: (-7, -1)", "Train(days: (-7, 1)");
    expect(
        &src,
        "(0, 2)",
        "protocol[2].days",
        "Rest days (0, 2) overlap Train days (-7, 1) (protocol[0])",
    );
    // Rehabilitation starting inside training.
    let src = edit(GOOD, "Rest(days: (0, 2)),", "");
    let src = edit(&src, "Train(days: (-7, -1)", "Train(days: (-7, 6)");
    expect(
        &src,
        "(3, 14)",
        "protocol[2].days",
        "Rehab days (3, 14) overlap Train days (-7, 6) (protocol[0])",
    );
    // A booster inside the rehabilitation, and one on a day given twice.
    let src = edit(GOOD, "Booster(days: [21]", "Booster(days: [21, 9]");
    expect(
        &src,
        "9]",
        "protocol[4].days[1]",
        "Booster day 9 overlaps Rehab days (3, 14) (protocol[3])",
    );
    let src = edit(GOOD, "Booster(days: [21]", "Booster(days: [21, 22, 21]");
    expect(&src, "21]", "protocol[4].days[2]", "Booster day 21 is listed twice");
}

#[test]
fn duration_ms_with_a_protocol() {
    let src = edit(GOOD, "    dt_ms: 1.0,\n", "    dt_ms: 1.0,\n    duration_ms: 5000,\n");
    expect(
        &src,
        "5000",
        "duration_ms",
        "a scene with a protocol takes its length from the protocol",
    );
}

#[test]
fn a_protocol_without_a_task() {
    let task = &GOOD[GOOD.find("    task:").unwrap()..GOOD.find("    time:").unwrap()];
    let src = edit(GOOD, task, "");
    expect(
        &src,
        "Train(",
        "protocol[0]",
        "a Train phase runs trials of the scene's task, and the scene has no `task: Task(...)`",
    );
}

#[test]
fn task_numbers_that_do_not_fit() {
    let src = edit(GOOD, "count: 2, neurons: 20", "count: 2, neurons: 60");
    expect(
        &src,
        "60",
        "task.cues.neurons",
        r#"2 cues of 60 neurons need 120 neurons, but population "S" has 100"#,
    );
    let src = edit(GOOD, "delay_ms: 100", "delay_ms: 250");
    expect(
        &src,
        "250",
        "task.reward.delay_ms",
        "the reward falls due at 360 ms (the window's end 110 ms plus the delay 250 ms), which must come \
         before the trial ends at 300 ms",
    );
    let src = edit(GOOD, r#"Outputs(population: "M""#, r#"Outputs(population: "S""#);
    expect(
        &src,
        r#""S", neurons: 10"#,
        "task.outputs.population",
        "another population than the one the cues drive",
    );
}

#[test]
fn protocol_details() {
    let src = edit(
        GOOD,
        r#"{"M1": (plasticity: 2)}"#,
        r#"{"M1": (plasticity: 2), "V1": ()}"#,
    );
    expect(
        &src,
        "()}",
        "protocol[3].neuromodulation.V1",
        r#"unknown region "V1"; regions are: M1, S1"#,
    );
    let src = edit(GOOD, "boost: 3", "boost: 0.5");
    expect(
        &src,
        "0.5, decay",
        "protocol[1].window.boost",
        "boost 0.5 must be a finite number >= 1",
    );
    let src = edit(
        GOOD,
        "Probe(every_days: 7, trials: 10)",
        "Probe(every_days: 7, trials: 10, extra_days: [30])",
    );
    expect(
        &src,
        "30]",
        "protocol[5].extra_days[0]",
        "probe day 30 lies outside the protocol's days -7 to 21",
    );
    let src = edit(GOOD, "    ],\n)", "        Probe(trials: 1),\n    ],\n)");
    expect(
        &src,
        "Probe(trials: 1)",
        "protocol[6]",
        "a second Probe phase (the first is protocol[5])",
    );
    let src = edit(
        GOOD,
        "Focal(centre_mm: (10, 1, 0), core_mm: 1, penumbra_mm: 1)",
        r#"TractCut(from: "M1", to: "M1")"#,
    );
    expect(&src, r#""M1")"#, "protocol[1].kind.to", "two different regions");
}

#[test]
fn window_curves_tonic_inhibition_and_drugs() {
    let good = edit(
        GOOD,
        "window: Window(boost: 3, decay_days: 7)",
        "tonic_inhibition: Tonic(current: 2), excitability_loss: 0), \
         window: Window(learning: Points([(0, 3), (14, 1)]), growth: Carmichael(peak: 4))",
    );
    let good = edit(&good, "penumbra_mm: 1)", "penumbra_mm: 1");
    let good = edit(
        &good,
        "Booster(days: [21], trials: 30),",
        r#"Booster(days: [21], trials: 30),
        Drug(days: (3, 14), tonic_inhibition: 0.25),
        Drug(days: (5, 6), region: "M1", excitability: 1.5, plasticity: 2),"#,
    );
    let m = rewire::scene::parse(&good, "file.ron").unwrap();
    let p = m.protocol.as_ref().unwrap();
    let w = p.lesions[0].window.as_ref().unwrap();
    assert_eq!(w.learning.at(7.0), 2.0, "halfway between (0, 3) and (14, 1)");
    assert_eq!(
        (w.learning.at(-1.0), w.learning.at(30.0)),
        (3.0, 1.0),
        "held at the ends"
    );
    assert_eq!(
        (w.growth.at(0.0), w.growth.at(5.0), w.growth.at(14.0), w.growth.at(40.0)),
        (1.0, 4.0, 2.5, 1.0)
    );
    let day = |d: i32| &p.days[(d - p.first_day) as usize];
    assert_eq!(day(2).tonic_factor, 1.0);
    assert_eq!(
        (day(3).tonic_factor, day(14).tonic_factor, day(15).tonic_factor),
        (0.25, 0.25, 1.0)
    );
    assert_eq!(
        (day(5).excitability.clone(), day(5).plasticity.clone()),
        (vec![1.0, 1.5], vec![1.0, 2.0])
    );
    assert_eq!(day(7).excitability, vec![1.0, 1.0]);

    let src = edit(&good, "Points([(0, 3), (14, 1)])", "Points([(0, 3), (14, 1), (10, 2)])");
    expect(
        &src,
        "10, 2)",
        "protocol[1].window.learning[0][2][0]",
        "day 10 comes after day 14: a curve's days must ascend",
    );
    let src = edit(&good, "Carmichael(peak: 4)", "Carmichael(peak: -4)");
    expect(
        &src,
        "-4)",
        "protocol[1].window.growth.peak",
        "peak -4 must be a finite number >= 0",
    );
    let src = edit(&good, "Window(learning:", "Window(boost: 2, decay_days: 5, learning:");
    expect(&src, "Points(", "protocol[1].window.learning", "not both");
    let src = edit(&good, r#"region: "M1", excitability"#, r#"region: "M2", excitability"#);
    expect(
        &src,
        r#""M2""#,
        "protocol[6].region",
        r#"unknown region "M2"; regions are: M1, S1"#,
    );
    let src = edit(&good, "tonic_inhibition: 0.25", "tonic_inhibition: -0.5");
    expect(
        &src,
        "-0.5)",
        "protocol[5].tonic_inhibition",
        "must be a finite number >= 0",
    );
    let src = edit(&good, "Drug(days: (3, 14)", "Drug(days: (14, 3)");
    expect(&src, "(14, 3)", "protocol[5].days", "run backwards");
    let src = edit(&good, "penumbra_mm: 1", "penumbra_mm: 0");
    expect(
        &src,
        "Tonic(",
        "protocol[1].kind.tonic_inhibition",
        "give `penumbra_mm`",
    );
    let src = edit(
        &good,
        "Tonic(current: 2)",
        "Tonic(current: 2, course: Points([(0, 0), (3, 1.5)]))",
    );
    expect(
        &src,
        "1.5)",
        "protocol[1].kind.tonic_inhibition.course[0][1][1]",
        "must lie in [0, 1]",
    );
}

#[test]
fn the_biological_clock_gives_every_day_the_same_time() {
    let src = edit(GOOD, "time: Time(offline_ms: 500)", "time: Time(day_ms: 12000)");
    let m = rewire::scene::parse(&src, "file.ron").unwrap();
    let p = m.protocol.as_ref().unwrap();
    assert_eq!(p.day_steps, Some(12000));
    // Sessions take their trials out of the day; the rest of it runs offline.
    let trial = m.task.as_ref().unwrap().trial_steps;
    for d in &p.days {
        let sessions: u64 = d.sessions.iter().map(|s| s.trials as u64).sum::<u64>() * trial;
        assert_eq!(sessions + p.offline_steps_of(d, trial), 12000, "day {}", d.day);
    }
    // 29 days of 12 000 steps, plus the probes (outside the clock): 5 x 10 trials of 300 steps.
    assert_eq!(m.steps, 29 * 12000 + 50 * 300);

    let bad = edit(&src, "Time(day_ms: 12000)", "Time(day_ms: 12000, offline_ms: 500)");
    expect(&bad, "500)", "time.offline_ms", "belongs to the legacy mapping");
    let bad = edit(&src, "Time(day_ms: 12000)", "Time(day_ms: 8000)");
    expect(
        &bad,
        "Rehab(days: (3, 14)",
        "protocol[3]",
        "day 3's sessions take 9000 steps, more than the day's 8000 (`time.day_ms`)",
    );
    let bad = edit(
        &src,
        "Time(day_ms: 12000)",
        "Time(day_ms: 12000, structural_updates_per_day: 9)",
    );
    expect(
        &bad,
        "9)",
        "time.structural_updates_per_day",
        "divide the day's 12000 steps",
    );
    let bad = edit(
        GOOD,
        "Time(offline_ms: 500)",
        "Time(offline_ms: 500, structural_updates_per_day: 11)",
    );
    expect(&bad, "11)", "time.structural_updates_per_day", "give `day_ms` too");
}

/// `GOOD` with growing M neurons and structural plasticity, under the clock of `time`.
fn growing(time: &str, growth: &str) -> String {
    let src = edit(
        GOOD,
        r#"Population(name: "M", count: 50, model: RegularSpiking)"#,
        &format!(r#"Population(name: "M", count: 50, model: RegularSpiking, growth: {growth})"#),
    );
    let src = edit(&src, "time: Time(offline_ms: 500)", time);
    edit(
        &src,
        "    protocol: [",
        r#"    structure: Structure(sprouting: [Sprout(from: "M", to: "M", length_mm: 1, weight: 1, delay_ms: 1)]),
    protocol: ["#,
    )
}

#[test]
fn stability_rules_of_structural_plasticity() {
    // 12 s a day and 10 updates: 8.64e6 biological ms per update; x the window's peak 3.
    let clock = "time: Time(day_ms: 12000)";
    let ok = growing(clock, "Growth(eps: 0.02, nu_per_ms: 1.5e-8, tau_ca_ms: 1000)");
    let m = rewire::scene::parse(&ok, "file.ron").unwrap();
    let st = m.structure.as_ref().unwrap();
    assert_eq!((st.every_steps, st.bio_ms, st.speedup), (1200, 8.64e6, 7200.0));
    let src = growing(clock, "Growth(eps: 0.02, nu_per_ms: 5e-8, tau_ca_ms: 1000)");
    expect(
        &src,
        "5e-8",
        "regions[1].populations[0].growth.nu_per_ms",
        "may grow 1.296 elements in one structural update",
    );
    let src = growing(clock, "Growth(eps: 0.02, nu_per_ms: 1.5e-8, tau_ca_ms: 5000)");
    expect(
        &src,
        "5000)",
        "regions[1].populations[0].growth.tau_ca_ms",
        "cannot follow a simulated day of 12000 ms",
    );
    let src = edit(&ok, "Structure(sprouting:", "Structure(every_ms: 100, sprouting:");
    expect(
        &src,
        "100, sprouting",
        "structure.every_ms",
        "sets the structure's every_ms",
    );
}
