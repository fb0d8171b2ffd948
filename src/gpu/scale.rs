//! The `scale` stage: homeostatic synaptic scaling over every slot of every shard
//! (shaders/scale.wgsl), every `update_every_ms` when a population is scaled.

use super::buffers::Buffers;
use super::stage;

pub struct Scale {
    pipeline: wgpu::ComputePipeline,
    shards: Vec<(wgpu::BindGroup, (u32, u32))>,
}

impl Scale {
    pub fn new(device: &wgpu::Device, b: &Buffers) -> Self {
        let pipeline = stage::pipeline(device, "scale", "main");
        let shards = b
            .shards
            .iter()
            .filter(|s| s.slots > 0)
            .map(|s| {
                let bind = stage::bind(
                    device,
                    "scale",
                    &pipeline,
                    &[
                        (0, &b.globals),
                        (1, &b.pops),
                        (2, &b.neurons),
                        (3, &s.syn_pre),
                        (4, &s.syn_weight),
                        (5, &s.syn_owner),
                        (6, &b.traces),
                        (7, &b.rules),
                    ],
                );
                (bind, stage::groups(s.slots as u64, 256))
            })
            .collect();
        Scale { pipeline, shards }
    }

    pub fn record(&self, pass: &mut wgpu::ComputePass) {
        pass.set_pipeline(&self.pipeline);
        for (bind, groups) in &self.shards {
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
    }
}
