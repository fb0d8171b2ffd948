//! The `connectivity` stage: region x region synapse counts and weight sums over every slot of
//! every shard (shaders/connectivity.wgsl), run at samples.

use super::buffers::Buffers;
use super::stage;

/// Slots each thread sums (`SPAN` in shaders/connectivity.wgsl).
const SPAN: u64 = 32;

pub struct Connectivity {
    pipeline: wgpu::ComputePipeline,
    /// Per non-empty shard: its bind group and workgroup counts.
    shards: Vec<(wgpu::BindGroup, (u32, u32))>,
}

impl Connectivity {
    pub fn new(device: &wgpu::Device, b: &Buffers) -> Self {
        let pipeline = stage::pipeline(device, "connectivity", "main");
        let shards = b
            .shards
            .iter()
            .filter(|s| s.slots > 0)
            .map(|s| {
                let bind = stage::bind(
                    device,
                    "connectivity",
                    &pipeline,
                    &[
                        (0, &b.globals),
                        (1, &b.pops),
                        (2, &b.neurons),
                        (3, &s.syn_pre),
                        (4, &s.syn_weight),
                        (5, &b.conn),
                        (6, &s.syn_owner),
                    ],
                );
                (bind, stage::groups(s.slots as u64, 256 * SPAN))
            })
            .collect();
        Connectivity { pipeline, shards }
    }

    pub fn record(&self, pass: &mut wgpu::ComputePass) {
        pass.set_pipeline(&self.pipeline);
        for (bind, groups) in &self.shards {
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
    }
}
