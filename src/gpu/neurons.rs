//! The `neurons` stage: integrate every neuron one step and append spikes (shaders/neurons.wgsl).

use super::buffers::Buffers;
use super::stage;

pub struct Neurons {
    pipeline: wgpu::ComputePipeline,
    bind: wgpu::BindGroup,
    groups: (u32, u32),
}

impl Neurons {
    pub fn new(device: &wgpu::Device, b: &Buffers) -> Self {
        let pipeline = stage::pipeline(device, "neurons", "main");
        let bind = stage::bind(
            device,
            "neurons",
            &pipeline,
            &[
                (0, &b.globals),
                (1, &b.pops),
                (2, &b.neurons),
                (3, &b.params),
                (4, &b.poisson),
                (5, &b.ring),
                (6, &b.sim),
                (7, &b.counters),
                (8, &b.traces),
                (9, &b.grow),
                (10, &b.status),
                (11, &b.task),
            ],
        );
        Neurons {
            pipeline,
            bind,
            groups: stage::groups(b.n_neurons as u64, 64),
        }
    }

    pub fn record(&self, pass: &mut wgpu::ComputePass) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind, &[]);
        pass.dispatch_workgroups(self.groups.0, self.groups.1, 1);
    }
}
