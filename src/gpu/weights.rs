//! The `weights` stage: statistics of every plastic projection at a sample
//! (shaders/weights.wgsl), over every slot of every shard.

use super::buffers::Buffers;
use super::stage;

/// Slots each thread sums (`SPAN` in shaders/weights.wgsl).
const SPAN: u64 = 32;

pub struct Weights {
    pipeline: wgpu::ComputePipeline,
    shards: Vec<(wgpu::BindGroup, (u32, u32))>,
}

impl Weights {
    pub fn new(device: &wgpu::Device, b: &Buffers, stats: &wgpu::Buffer) -> Self {
        let pipeline = stage::pipeline(device, "weights", "main");
        let shards = b
            .shards
            .iter()
            .filter(|s| s.slots > 0)
            .map(|s| {
                let bind = stage::bind(
                    device,
                    "weights",
                    &pipeline,
                    &[
                        (0, &b.globals),
                        (2, &b.neurons),
                        (3, &s.syn_pre),
                        (4, &s.syn_weight),
                        (5, &s.syn_elig),
                        (6, &s.syn_owner),
                        (7, &b.rules),
                        (8, stats),
                        (9, &s.syn_late),
                    ],
                );
                (bind, stage::groups(s.slots as u64, 256 * SPAN))
            })
            .collect();
        Weights { pipeline, shards }
    }

    pub fn record(&self, pass: &mut wgpu::ComputePass) {
        pass.set_pipeline(&self.pipeline);
        for (bind, groups) in &self.shards {
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
    }
}
