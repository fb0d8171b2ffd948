//! Shared helpers of the integration tests.
#![allow(dead_code)]

use rewire::gpu::{AdapterChoice, GpuContext};

/// The GPU the tests run on. With no adapter the test fails loudly: it never skips itself.
pub fn gpu() -> GpuContext {
    match GpuContext::new(&AdapterChoice::default()) {
        Ok(ctx) => {
            eprintln!("adapter: {}", rewire::gpu::context::describe(&ctx.info));
            ctx
        }
        Err(e) => panic!("GPU tests need an adapter and none could be opened: {e}"),
    }
}

/// Parses scene text (panicking with the scene error).
pub fn model(src: &str) -> rewire::Model {
    rewire::scene::parse(src, "test.ron").unwrap_or_else(|e| panic!("{e}"))
}

/// Number of set bits in a raster.
pub fn spikes_in(raster: &[u32]) -> u32 {
    raster.iter().map(|w| w.count_ones()).sum()
}
