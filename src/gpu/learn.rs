//! The `learn` stage: event-driven STDP on each shard (shaders/learn.wgsl). `record_post` runs
//! after the spike list is closed and before delivery; `record_pre` after delivery.

use super::buffers::Buffers;
use super::stage;

pub struct Learn {
    post: wgpu::ComputePipeline,
    pre: wgpu::ComputePipeline,
    /// Per shard: the bind groups of `post` and `pre`.
    shards: Vec<(wgpu::BindGroup, wgpu::BindGroup)>,
}

impl Learn {
    pub fn new(device: &wgpu::Device, b: &Buffers) -> Self {
        let post = stage::pipeline(device, "learn", "post");
        let pre = stage::pipeline(device, "learn", "pre");
        // Shards in the compact static layout hold no plastic synapse (Network::compact_shards).
        let shards = b
            .shards
            .iter()
            .filter(|s| !s.compact)
            .map(|s| {
                let post_bind = stage::bind(
                    device,
                    "learn.post",
                    &post,
                    &[
                        (0, &b.globals),
                        (2, &b.sim),
                        (3, &s.rows),
                        (4, &s.syn_pre),
                        (5, &s.syn_weight),
                        (6, &b.neurons),
                        (7, &b.traces),
                        (8, &b.rules),
                        (12, &s.syn_elig),
                        (1, &b.pops),
                        (13, &b.status),
                    ],
                );
                let pre_bind = stage::bind(
                    device,
                    "learn.pre",
                    &pre,
                    &[
                        (0, &b.globals),
                        (2, &b.sim),
                        (5, &s.syn_weight),
                        (6, &b.neurons),
                        (7, &b.traces),
                        (8, &b.rules),
                        (9, &s.out_start),
                        (10, &s.out_slots),
                        (11, &s.syn_owner),
                        (12, &s.syn_elig),
                        (1, &b.pops),
                        (4, &s.syn_pre),
                        (13, &b.status),
                    ],
                );
                (post_bind, pre_bind)
            })
            .collect();
        Learn { post, pre, shards }
    }

    /// Potentiation at this step's postsynaptic spikes; `dispatch` holds the per-spike arguments.
    pub fn record_post(&self, pass: &mut wgpu::ComputePass, dispatch: &wgpu::Buffer) {
        pass.set_pipeline(&self.post);
        for (bind, _) in &self.shards {
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups_indirect(dispatch, 0);
        }
    }

    /// Depression at this step's presynaptic spikes.
    pub fn record_pre(&self, pass: &mut wgpu::ComputePass, dispatch: &wgpu::Buffer) {
        pass.set_pipeline(&self.pre);
        for (_, bind) in &self.shards {
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups_indirect(dispatch, 0);
        }
    }
}
