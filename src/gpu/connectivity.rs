//! The `connectivity` stage: region x region synapse counts and weight sums over every slot
//! (shaders/connectivity.wgsl), run at samples.

use super::buffers::Buffers;
use super::stage;

pub struct Connectivity {
    pipeline: wgpu::ComputePipeline,
    bind: wgpu::BindGroup,
    groups: (u32, u32),
}

impl Connectivity {
    pub fn new(device: &wgpu::Device, b: &Buffers) -> Self {
        let pipeline = stage::pipeline(device, "connectivity", "main");
        let bind = stage::bind(
            device,
            "connectivity",
            &pipeline,
            &[
                (0, &b.globals),
                (1, &b.pops),
                (2, &b.neurons),
                (3, &b.syn_pre),
                (4, &b.syn_weight),
                (5, &b.conn),
            ],
        );
        Connectivity {
            pipeline,
            bind,
            groups: stage::groups(b.total_slots as u64, 256),
        }
    }

    pub fn record(&self, pass: &mut wgpu::ComputePass) {
        if self.groups.0 == 0 {
            return;
        }
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind, &[]);
        pass.dispatch_workgroups(self.groups.0, self.groups.1, 1);
    }
}
