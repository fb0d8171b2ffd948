//! The `neurons` stage: integrate every neuron one step and append spikes (shaders/neurons.wgsl).

use super::buffers::Buffers;
use super::stage;
use crate::build::Network;

/// Storage buffers the stage binds (bindings 1 to 15; 0 is the uniform globals).
pub const STORAGE_BUFFERS: u32 = 15;

pub struct Neurons {
    pipeline: wgpu::ComputePipeline,
    /// One bind group and dispatch size per part of the neurons (its ring, parameters and cue
    /// counters).
    parts: Vec<stage::PartDispatch>,
}

impl Neurons {
    pub fn new(device: &wgpu::Device, b: &Buffers, net: &Network, raster_steps: u32) -> Self {
        let spec = specialization(net, raster_steps);
        let pipeline = stage::specialized(device, "neurons", "main", &spec);
        let parts = stage::per_part(device, "neurons", &pipeline, &b.ring, |part| {
            vec![
                (0, &b.globals),
                (1, &b.pops),
                (2, &b.neurons),
                (3, &part.params),
                (4, &b.poisson),
                (5, &part.ring),
                (6, &b.sim),
                (7, &b.counters),
                (8, &b.traces),
                (9, &b.grow),
                (10, &b.status),
                (11, &b.task),
                (12, &b.neuron_ext),
                (13, &part.params_ext),
                (14, &part.info),
                (15, &part.rep),
            ]
        });
        Neurons { pipeline, parts }
    }

    /// Records one dispatch per part of the neurons, each over that part's neurons.
    pub fn record(&self, pass: &mut wgpu::ComputePass) {
        pass.set_pipeline(&self.pipeline);
        stage::dispatch_parts(pass, &self.parts);
    }
}

/// The shader's pipeline-overridable constants for `net` with `raster_steps` of raster: the
/// neuron models present, and whether any population has a noise current, traces or calcium,
/// any neuron a task map, whether the raster and the LFP record are kept, and whether the ring
/// has an inhibitory channel. A path no neuron of the network takes
/// is compiled out, with the same result bit for bit (software adapters run every path left in
/// under a lane mask, so it costs every neuron).
pub fn specialization(net: &Network, raster_steps: u32) -> Vec<(&'static str, f64)> {
    let models = net.pops.iter().fold(0u32, |m, p| m | 1 << p.model);
    let noise = net.pops.iter().any(|p| p.noise_sd > 0.0);
    let calcium = net.globals.structural != 0 && net.pops.iter().any(|p| p.grow_nu > 0.0);
    // A task's buffer holds per-region words past the fixed words, and its neurons cue counters.
    let task = !net.rep.is_empty() || net.status.iter().any(|s| s[3] != 0);
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    vec![
        ("MODELS", models as f64),
        ("NOISE", flag(noise)),
        ("TRACED", flag(net.globals.traced != 0)),
        ("CALCIUM", flag(calcium)),
        ("TASK", flag(task)),
        ("RASTER", flag(raster_steps > 0)),
        ("LFP", flag(net.globals.lfp_steps > 0)),
        ("SPLIT_INPUT", flag(net.globals.ring_channels > 1)),
    ]
}
