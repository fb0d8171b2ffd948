//! The `capture` stage: synaptic tagging and capture, one thread per neuron of each shard
//! (shaders/capture.wgsl), every `update_every_ms` when a rule has capture.

use super::buffers::Buffers;
use super::stage;

pub struct Capture {
    pipeline: wgpu::ComputePipeline,
    shards: Vec<(wgpu::BindGroup, (u32, u32))>,
}

impl Capture {
    pub fn new(device: &wgpu::Device, b: &Buffers) -> Self {
        let pipeline = stage::pipeline(device, "capture", "main");
        let shards = b
            .shards
            .iter()
            .filter(|s| s.neurons > 0)
            .map(|s| {
                let bind = stage::bind(
                    device,
                    "capture",
                    &pipeline,
                    &[
                        (0, &b.globals),
                        (2, &b.neurons),
                        (3, &s.rows),
                        (4, &s.syn_pre),
                        (5, &s.syn_weight),
                        (6, &s.syn_elig),
                        (7, &s.syn_late),
                        (8, &b.traces),
                        (9, &b.rules),
                    ],
                );
                (bind, stage::groups(s.neurons as u64, 64))
            })
            .collect();
        Capture { pipeline, shards }
    }

    pub fn record(&self, pass: &mut wgpu::ComputePass) {
        pass.set_pipeline(&self.pipeline);
        for (bind, groups) in &self.shards {
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
    }
}
