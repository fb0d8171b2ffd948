//! Tier 0 (no device): every WGSL stage parses and validates with naga, and every `#[repr(C)]`
//! struct shared with WGSL has naga's size and member offsets.

use rewire::layout::*;
use std::mem::{offset_of, size_of};

fn module(stage: &str) -> naga::Module {
    let src = rewire::shaders::source(stage);
    let module =
        naga::front::wgsl::parse_str(&src).unwrap_or_else(|e| panic!("{stage}.wgsl: {}", e.emit_to_string(&src)));
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{stage}.wgsl does not validate: {e:?}"));
    module
}

#[test]
fn every_stage_parses_and_validates() {
    for (stage, _) in rewire::shaders::STAGES {
        module(stage);
    }
}

/// (size, [(member, offset)]) of a WGSL struct as naga lays it out.
fn wgsl_layout(m: &naga::Module, name: &str) -> (u32, Vec<(String, u32)>) {
    for (_, ty) in m.types.iter() {
        if ty.name.as_deref() == Some(name) {
            if let naga::TypeInner::Struct { members, span } = &ty.inner {
                return (
                    *span,
                    members
                        .iter()
                        .map(|mb| (mb.name.clone().unwrap_or_default(), mb.offset))
                        .collect(),
                );
            }
        }
    }
    panic!("struct {name} not found in WGSL");
}

macro_rules! check_struct {
    ($m:expr, $ty:ty, [$($field:ident),* $(,)?]) => {{
        let (size, members) = wgsl_layout($m, stringify!($ty).rsplit("::").next().unwrap());
        let rust: Vec<(String, u32)> = vec![$((stringify!($field).to_string(), offset_of!($ty, $field) as u32)),*];
        assert_eq!(size as usize, size_of::<$ty>(), "size of {}", stringify!($ty));
        assert_eq!(members, rust, "member offsets of {}", stringify!($ty));
    }};
}

#[test]
fn rust_structs_match_wgsl_layouts() {
    let m = module("neurons");
    check_struct!(
        &m,
        Globals,
        [
            n_neurons,
            n_pops,
            n_regions,
            ring_len,
            key,
            raster_steps,
            raster_words,
            total_chunks,
            dt,
            half_dt,
            inv_dt,
            ring_scale,
            inv_ring_scale,
            conn_scale,
            opaque_zero,
            plastic,
            da_decay,
            da_tonic,
            modulated,
            sq_scale,
            scale_every,
            traced,
            capture_every,
            structural,
            learning,
            offline,
            lfp_steps,
            lfp_from,
            deficit,
            learn_window,
            grow_window,
            tonic,
            ring_channels,
            _gpad0,
            _gpad1,
            _gpad2
        ]
    );
    check_struct!(
        &m,
        Pop,
        [
            first,
            count,
            model,
            region,
            chunk_base,
            chunk_end,
            input_first,
            input_count,
            dc,
            noise_mean,
            noise_sd,
            trace_flags,
            pre_decay,
            post_decay,
            scale_target,
            scale_gain,
            act_decay,
            act_inc,
            scale_cap,
            ca_decay,
            ca_beta,
            grow_nu,
            grow_xi,
            grow_inv_zeta,
            grow_inv_eps,
            gain,
            learn,
            grow_flags,
            axon_nu,
            axon_xi,
            axon_inv_zeta,
            den_ex_nu,
            den_ex_xi,
            den_ex_inv_zeta,
            den_in_nu,
            den_in_xi,
            den_in_inv_zeta,
            grow_vacant,
            grow_caps,
            grow_cap_in
        ]
    );
    check_struct!(
        &module("learn"),
        StdpRule,
        [
            a_plus,
            a_minus,
            w_min,
            w_max,
            multiplicative,
            modulated,
            elig_decay,
            capture,
            tag_threshold,
            protein_threshold,
            early_decay,
            protein_decay,
            late_rate,
            _pad0,
            _pad1,
            _pad2
        ]
    );
    check_struct!(
        &m,
        PoissonSource,
        [exp_neg_lambda, weight, repeats, cap, start, end, _pad0, _pad1]
    );
    let st = module("structure");
    check_struct!(
        &st,
        StructParams,
        [
            n_rules,
            n_bins,
            persist_steps,
            stab_after_steps,
            stab_w,
            prune_w,
            r_stab,
            r_nascent,
            r_stable,
            trophin_decay,
            trophin_reward,
            tries,
            point,
            imaging
        ]
    );
    check_struct!(
        &st,
        SproutRule,
        [from_pop, to_pop, weight, delay, inv_len2, flags, distance, gain]
    );
    check_struct!(&m, NeuronState, [v, u, refr, pop]);
    check_struct!(&m, NeuronParams, [p0, p1, p2, p3, p4, p5, p6, p7]);
    // SimState is SimHeader followed by the spike list.
    let (_, members) = wgsl_layout(&m, "SimState");
    let header: Vec<(String, u32)> = vec![
        ("step".into(), offset_of!(SimHeader, step) as u32),
        ("n_spikes".into(), offset_of!(SimHeader, n_spikes) as u32),
        ("prop_count".into(), offset_of!(SimHeader, prop_count) as u32),
        ("prop_step".into(), offset_of!(SimHeader, prop_step) as u32),
        ("err_flags".into(), offset_of!(SimHeader, err_flags) as u32),
        ("err_step".into(), offset_of!(SimHeader, err_step) as u32),
        ("err_neuron".into(), offset_of!(SimHeader, err_neuron) as u32),
        ("_pad".into(), offset_of!(SimHeader, _pad) as u32),
        ("watch_pre".into(), offset_of!(SimHeader, watch_pre) as u32),
        ("watch_post".into(), offset_of!(SimHeader, watch_post) as u32),
        ("last_pre".into(), offset_of!(SimHeader, last_pre) as u32),
        ("last_post".into(), offset_of!(SimHeader, last_post) as u32),
        ("window".into(), offset_of!(SimHeader, window) as u32),
        ("delay_lo".into(), offset_of!(SimHeader, delay_lo) as u32),
        ("delay_span".into(), offset_of!(SimHeader, delay_span) as u32),
        ("reward_region".into(), offset_of!(SimHeader, reward_region) as u32),
        ("reward_amount".into(), offset_of!(SimHeader, reward_amount) as u32),
        ("_pad1".into(), offset_of!(SimHeader, _pad1) as u32),
        ("queue".into(), offset_of!(SimHeader, queue) as u32),
        ("spikes".into(), size_of::<SimHeader>() as u32),
    ];
    assert_eq!(members, header);
}

#[test]
fn wgsl_constants_match_rust() {
    let src = rewire::shaders::COMMON;
    for (name, value) in [
        ("EMPTY", format!("0x{EMPTY:x}u")),
        ("DELAY_MASK", format!("0x{DELAY_MASK:x}u")),
        ("COMPACT_DELAY_MASK", format!("0x{COMPACT_DELAY_MASK:x}u")),
        ("COMPACT_REMOVED", format!("0x{COMPACT_REMOVED:x}u")),
        ("ROW_DELAY_BYTE_MASK", format!("0x{ROW_DELAY_BYTE_MASK:x}u")),
        ("MODEL_IZHIKEVICH", format!("{MODEL_IZHIKEVICH}u")),
        ("MODEL_LIF", format!("{MODEL_LIF}u")),
        ("MODEL_SPIKE_SOURCE", format!("{MODEL_SPIKE_SOURCE}u")),
        ("MODEL_PERIODIC", format!("{MODEL_PERIODIC}u")),
        ("MODEL_IAF_PSC_ALPHA", format!("{MODEL_IAF_PSC_ALPHA}u")),
        ("MODEL_IAF_COND_EXP", format!("{MODEL_IAF_COND_EXP}u")),
        ("TRACE_PRE_NEAREST", format!("{TRACE_PRE_NEAREST}u")),
        ("TRACE_POST_NEAREST", format!("{TRACE_POST_NEAREST}u")),
        ("NO_RULE", format!("0x{NO_RULE:x}u")),
        ("RULE_WORDS", format!("{RULE_WORDS}u")),
        ("PLASTIC_WORDS", format!("{PLASTIC_WORDS}u")),
        ("HIST_BINS", format!("{HIST_BINS}u")),
        ("ROW_CHUNK_SHIFT", format!("{ROW_CHUNK_SHIFT}u")),
        ("SPROUT_TOPOGRAPHIC", format!("{SPROUT_TOPOGRAPHIC}u")),
        ("SPROUT_ABSOLUTE", format!("{SPROUT_ABSOLUTE}u")),
        ("STREAM_SOURCE", format!("{}u", rewire::rng::stream::SOURCE)),
        ("STREAM_REWARD", format!("{}u", rewire::rng::stream::REWARD)),
        ("ERR_NONFINITE", format!("{ERR_NONFINITE}u")),
        ("STREAM_NOISE", format!("{}u", rewire::rng::stream::NOISE)),
        ("STREAM_POISSON", format!("0x{:x}u", rewire::rng::stream::POISSON_SIM)),
        ("STATUS_ALIVE", format!("{STATUS_ALIVE}u")),
        ("STATUS_SLOT_SHIFT", format!("{STATUS_SLOT_SHIFT}u")),
        ("TASK_GROUP_SHIFT", format!("{TASK_GROUP_SHIFT}u")),
        ("TASK_GROUP_MASK", format!("0x{TASK_GROUP_MASK:x}u")),
        ("TASK_GUIDED", format!("0x{TASK_GUIDED:x}u")),
        ("T_DRIVE", format!("{T_DRIVE}u")),
        ("T_GUIDE", format!("{T_GUIDE}u")),
        ("T_COUNTING", format!("{T_COUNTING}u")),
        ("T_COUNTS", format!("{T_COUNTS}u")),
        ("T_FIRST", format!("{T_FIRST}u")),
        ("T_CUE", format!("{T_CUE}u")),
        ("T_CUES", format!("{T_CUES}u")),
        ("T_MIN", format!("{T_MIN}u")),
        ("T_ROUTE", format!("{T_ROUTE}u")),
        ("TASK_WORDS", format!("{TASK_WORDS}u")),
        ("REP_CUES", format!("{REP_CUES}u")),
        ("POP_STRUCT_WORDS", format!("{POP_STRUCT_WORDS}u")),
        ("PS_CALCIUM_LO", format!("{PS_CALCIUM_LO}u")),
        ("PS_CALCIUM_HI", format!("{PS_CALCIUM_HI}u")),
        ("PS_NEURONS", format!("{PS_NEURONS}u")),
        ("PS_BOUTONS", format!("{PS_BOUTONS}u")),
        ("PS_SPINES", format!("{PS_SPINES}u")),
        ("PS_CONN_BOUTONS", format!("{PS_CONN_BOUTONS}u")),
        ("PS_CONN_SPINES", format!("{PS_CONN_SPINES}u")),
        ("PS_CENSUS_WORDS", format!("{PS_CENSUS_WORDS}u")),
        ("PS_SPINES_FORMED", format!("{PS_SPINES_FORMED}u")),
        ("PS_SPINES_DELETED", format!("{PS_SPINES_DELETED}u")),
        ("PS_BOUTONS_FORMED", format!("{PS_BOUTONS_FORMED}u")),
        ("PS_BOUTONS_DELETED", format!("{PS_BOUTONS_DELETED}u")),
        ("PS_SPINES_IN", format!("{PS_SPINES_IN}u")),
        ("PS_CONN_SPINES_IN", format!("{PS_CONN_SPINES_IN}u")),
        ("PS_SPINES_IN_FORMED", format!("{PS_SPINES_IN_FORMED}u")),
        ("PS_SPINES_IN_DELETED", format!("{PS_SPINES_IN_DELETED}u")),
        ("GROW_TYPED_DENDRITES", format!("{GROW_TYPED_DENDRITES}u")),
        ("SPROUT_AUTAPSES", format!("{SPROUT_AUTAPSES}u")),
        ("SPROUT_INHIBITORY", format!("{SPROUT_INHIBITORY}u")),
    ] {
        let line = format!("const {name}: u32 = {value};");
        assert!(src.contains(&line), "common.wgsl lacks `{line}`");
    }
}

/// The neuron stage is specialized to its network through the shader's pipeline-overridable
/// constants: the host sets every one of them (none is left at its keep-every-path default by a
/// misspelt name), and for shipped scenes it keeps exactly the paths their networks take.
#[test]
fn neuron_specialization_sets_every_override_and_the_paths_taken() {
    let m = module("neurons");
    let mut declared: Vec<String> = m.overrides.iter().filter_map(|(_, o)| o.name.clone()).collect();
    declared.sort();
    let spec = |path: &str, raster_steps: u32| {
        let model = rewire::scene::load(std::path::Path::new(path)).unwrap_or_else(|e| panic!("{e}"));
        let net = rewire::build::build(&model);
        rewire::gpu::neurons::specialization(&net, raster_steps)
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let quick = spec("scenes/quickstart.ron", 0);
    let set: Vec<String> = quick.keys().map(|k| k.to_string()).collect();
    assert_eq!(
        set, declared,
        "constants set by src/gpu/neurons.rs against overrides of neurons.wgsl"
    );
    // Izhikevich populations only, nothing traced, no task, raster or LFP.
    assert_eq!(quick["MODELS"], (1u32 << MODEL_IZHIKEVICH) as f64);
    for flag in ["TASK", "RASTER", "LFP", "CALCIUM", "SPLIT_INPUT"] {
        assert_eq!(quick[flag], 0.0, "quickstart: {flag}");
    }
    assert_eq!(spec("scenes/quickstart.ron", 100)["RASTER"], 1.0);
    // The stroke showcase: a task, the LFP readout, growing populations.
    let stroke = spec("scenes/stroke_rehab.ron", 0);
    for flag in ["TASK", "LFP", "CALCIUM", "TRACED"] {
        assert_eq!(stroke[flag], 1.0, "stroke_rehab: {flag}");
    }
}

/// The delivery is specialized the same way: `propagate::specialization` sets every override of
/// propagate.wgsl, and compiles the inhibitory channel out exactly when the ring has one channel.
#[test]
fn propagate_specialization_sets_every_override() {
    let m = module("propagate");
    let mut declared: Vec<String> = m.overrides.iter().filter_map(|(_, o)| o.name.clone()).collect();
    declared.sort();
    for channels in [1, 2] {
        let spec = rewire::gpu::propagate::specialization(channels);
        let mut set: Vec<String> = spec.iter().map(|(k, _)| k.to_string()).collect();
        set.sort();
        assert_eq!(
            set, declared,
            "constants set by src/gpu/propagate.rs against overrides of propagate.wgsl"
        );
        assert_eq!(spec[0].1, if channels == 2 { 1.0 } else { 0.0 });
    }
}

/// A network with a two-channel model (iaf_psc_alpha, iaf_cond_exp) gets the ring's second
/// channel and its neuron stage keeps the split path; one without keeps one channel.
#[test]
fn two_channel_models_set_the_ring_channels_and_split_input() {
    let scene = |model: &str| {
        format!(
            r#"Scene(seed: 1, dt_ms: 0.1, duration_ms: 10, regions: [Region(name: "R", centre_mm: (0,0,0), radius_mm: 1,
                populations: [Population(name: "A", count: 4, model: Lif()), Population(name: "B", count: 3, model: {model})])])"#
        )
    };
    for (model, channels) in [
        ("Lif()", 1),
        ("IafPscAlpha()", 2),
        ("IafCondExp()", 2),
        ("RegularSpiking", 1),
    ] {
        let m = rewire::scene::parse(&scene(model), "test.ron").unwrap_or_else(|e| panic!("{e}"));
        let net = rewire::build::build(&m);
        assert_eq!(net.globals.ring_channels, channels, "{model}");
        let ext = if channels == 2 { 7 } else { 1 };
        assert_eq!((net.neuron_ext.len(), net.params_ext.len()), (ext, ext), "{model}");
        let spec: std::collections::BTreeMap<_, _> =
            rewire::gpu::neurons::specialization(&net, 0).into_iter().collect();
        assert_eq!(spec["SPLIT_INPUT"], if channels == 2 { 1.0 } else { 0.0 }, "{model}");
        let models = spec["MODELS"] as u32;
        assert_eq!(models >> MODEL_IAF_PSC_ALPHA & 1, (model == "IafPscAlpha()") as u32);
        assert_eq!(models >> MODEL_IAF_COND_EXP & 1, (model == "IafCondExp()") as u32);
    }
}
