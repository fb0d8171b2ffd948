//! The `propagate` stage: close the step's spike list, then deliver each spike through the
//! outgoing index into the delay ring, one workgroup per spike (shaders/propagate.wgsl), summing
//! the routes into the task's correct output group while counting is on.

use super::buffers::Buffers;
use super::stage;

pub struct Propagate {
    prepare: wgpu::ComputePipeline,
    prepare_bind: wgpu::BindGroup,
    /// Delivery through rows (`main`), in the compact static layout (`compact`) and through rows
    /// with delay bytes (`bytes`), where a shard has that layout.
    deliver: [Option<wgpu::ComputePipeline>; 3],
    /// One bind group per shard, with its layout (an index into `deliver`).
    deliver_binds: Vec<(usize, wgpu::BindGroup)>,
}

impl Propagate {
    pub fn new(device: &wgpu::Device, b: &Buffers) -> Self {
        let prepare = stage::pipeline(device, "propagate", "prepare");
        let prepare_bind = stage::bind(
            device,
            "propagate.prepare",
            &prepare,
            &[(0, &b.globals), (2, &b.sim), (3, &b.dispatch), (10, &b.modulators)],
        );
        // The compact static layout reads one delay byte a synapse.
        let deliver = [0, 1, 2].map(|layout| {
            b.shards.iter().any(|s| layout_of(s) == layout).then(|| {
                let entry = ["main", "compact", "bytes"][layout];
                stage::specialized(device, "propagate", entry, &specialization(b.ring_channels))
            })
        });
        let deliver_binds = b
            .shards
            .iter()
            .map(|s| {
                let layout = layout_of(s);
                let bind = stage::bind(
                    device,
                    "propagate.main",
                    deliver[layout].as_ref().expect("made for each layout a shard has"),
                    &[
                        (0, &b.globals),
                        (1, &b.pops),
                        (2, &b.sim),
                        (4, &s.out_start),
                        (5, &s.out_slots),
                        (6, &s.syn_weight),
                        (7, &s.syn_delay),
                        (8, &b.ring[s.ring_part].ring),
                        (9, &s.syn_owner),
                        (11, &b.neurons),
                        (12, &b.status),
                        (13, &b.task),
                        (14, &b.ring[s.ring_part].info),
                    ],
                );
                (layout, bind)
            })
            .collect();
        Propagate {
            prepare,
            prepare_bind,
            deliver,
            deliver_binds,
        }
    }

    /// Records only the closing of the step's spike list (no delivery): for timing `neurons` alone.
    pub fn record_prepare(&self, pass: &mut wgpu::ComputePass) {
        pass.set_pipeline(&self.prepare);
        pass.set_bind_group(0, &self.prepare_bind, &[]);
        pass.dispatch_workgroups(1, 1, 1);
    }

    /// Records each shard's delivery of the closed spike list; `dispatch` holds the
    /// spike-count-sized indirect arguments.
    pub fn record_deliver(&self, pass: &mut wgpu::ComputePass, dispatch: &wgpu::Buffer) {
        let mut set = None;
        for (layout, bind) in &self.deliver_binds {
            if set != Some(*layout) {
                pass.set_pipeline(
                    self.deliver[*layout]
                        .as_ref()
                        .expect("made for each layout a shard has"),
                );
                set = Some(*layout);
            }
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups_indirect(dispatch, 0);
        }
    }
}

/// A shard's delivery pipeline: 0 rows, 1 compact, 2 rows with delay bytes.
fn layout_of(s: &super::buffers::ShardBuffers) -> usize {
    if s.compact {
        1
    } else if s.delay_bytes {
        2
    } else {
        0
    }
}

/// The delivery's pipeline-overridable constants for a ring of `ring_channels` channels: with one,
/// the choice of channel is compiled out and each event does what it did before there were two.
pub fn specialization(ring_channels: u32) -> Vec<(&'static str, f64)> {
    vec![("SPLIT_INPUT", if ring_channels > 1 { 1.0 } else { 0.0 })]
}
