//! WGSL sources of the kernel stages: `shaders/common.wgsl` followed by the stage's own file.

/// The shared layouts, RNG and helpers, prepended to every stage.
pub const COMMON: &str = include_str!("../shaders/common.wgsl");

/// Every stage, in the order a step runs them (connectivity runs at samples).
pub const STAGES: &[(&str, &str)] = &[
    ("neurons", include_str!("../shaders/neurons.wgsl")),
    ("propagate", include_str!("../shaders/propagate.wgsl")),
    ("learn", include_str!("../shaders/learn.wgsl")),
    ("modulate", include_str!("../shaders/modulate.wgsl")),
    ("scale", include_str!("../shaders/scale.wgsl")),
    ("capture", include_str!("../shaders/capture.wgsl")),
    ("connectivity", include_str!("../shaders/connectivity.wgsl")),
    ("weights", include_str!("../shaders/weights.wgsl")),
    ("structure", include_str!("../shaders/structure.wgsl")),
    ("lesion", include_str!("../shaders/lesion.wgsl")),
    ("represent", include_str!("../shaders/represent.wgsl")),
    // Not a simulation stage: the bandwidth probe of `rewire bench`.
    ("stream", include_str!("../shaders/stream.wgsl")),
];

/// The complete WGSL of a stage.
pub fn source(stage: &str) -> String {
    let body = STAGES
        .iter()
        .find(|(name, _)| *name == stage)
        .map(|(_, src)| *src)
        .unwrap_or_else(|| panic!("unknown stage {stage}"));
    format!("{COMMON}\n{body}")
}
