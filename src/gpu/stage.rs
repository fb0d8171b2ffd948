//! What every stage module shares: compiling its shader and binding buffers by number.

use crate::shaders;

/// Builds the compute pipeline of one entry point of a stage (layout derived from the shader).
pub fn pipeline(device: &wgpu::Device, stage: &str, entry: &str) -> wgpu::ComputePipeline {
    specialized(device, stage, entry, &[])
}

/// `pipeline` with the stage's pipeline-overridable constants set to `constants` (name, value).
pub fn specialized(
    device: &wgpu::Device,
    stage: &str,
    entry: &str,
    constants: &[(&str, f64)],
) -> wgpu::ComputePipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(stage),
        source: wgpu::ShaderSource::Wgsl(shaders::source(stage).into()),
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(&format!("{stage}.{entry}")),
        layout: None,
        module: &module,
        entry_point: Some(entry),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants,
            ..Default::default()
        },
        cache: None,
    })
}

/// A bind group for group 0 of `pipeline`, binding buffer `b` at number `i` for each `(i, b)`.
pub fn bind(
    device: &wgpu::Device,
    label: &str,
    pipeline: &wgpu::ComputePipeline,
    entries: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = entries
        .iter()
        .map(|(i, b)| wgpu::BindGroupEntry {
            binding: *i,
            resource: b.as_entire_binding(),
        })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    })
}

/// A bind group over one part of the neurons (`buffers::RingPart`) and its dispatch size in
/// workgroups of 64 (x, y).
pub type PartDispatch = (wgpu::BindGroup, (u32, u32));

/// One bind group of `pipeline` per part of the neurons, each with the entries `entries` gives
/// for that part, and a dispatch of one thread per neuron of the part.
pub fn per_part<'a>(
    device: &wgpu::Device,
    label: &str,
    pipeline: &wgpu::ComputePipeline,
    parts: &'a [super::buffers::RingPart],
    entries: impl Fn(&'a super::buffers::RingPart) -> Vec<(u32, &'a wgpu::Buffer)>,
) -> Vec<PartDispatch> {
    parts
        .iter()
        .map(|part| {
            let bind = bind(device, label, pipeline, &entries(part));
            (bind, groups(part.neurons as u64, 64))
        })
        .collect()
}

/// Records one dispatch per part of the neurons (`per_part`), with the pipeline already set.
pub fn dispatch_parts(pass: &mut wgpu::ComputePass, parts: &[PartDispatch]) {
    for (bind, groups) in parts {
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups(groups.0, groups.1, 1);
    }
}

/// Workgroup counts for `items` threads in groups of `size`, spilling past 65535 into y
/// (shaders flatten with MAX_GROUPS_X).
pub fn groups(items: u64, size: u64) -> (u32, u32) {
    const MAX_X: u64 = 65535;
    let g = items.div_ceil(size);
    if g <= MAX_X {
        (g as u32, 1)
    } else {
        (MAX_X as u32, g.div_ceil(MAX_X) as u32)
    }
}

/// One pipeline dispatched once per shard, each shard with its own bind group and workgroup
/// counts (the slot-parallel stages: connectivity, modulate, scale, weights; capture per neuron).
/// Two such (`join`) give each shard the pipeline of its layout.
pub struct PerShard {
    pipelines: Vec<wgpu::ComputePipeline>,
    /// (shard index, its pipeline, bind group, workgroups) of each shard with work, by shard.
    shards: Vec<(usize, usize, wgpu::BindGroup, (u32, u32))>,
}

impl PerShard {
    /// `items(shard)` is the thread count of a shard (shards with none are skipped), `entries`
    /// its bindings; `group` the shader's workgroup size times the items each thread takes.
    pub fn new<'a>(
        device: &wgpu::Device,
        stage: &str,
        shards: &'a [super::buffers::ShardBuffers],
        group: u64,
        items: impl Fn(&super::buffers::ShardBuffers) -> u64,
        entries: impl Fn(&'a super::buffers::ShardBuffers) -> Vec<(u32, &'a wgpu::Buffer)>,
    ) -> Self {
        Self::entry(device, stage, "main", shards, group, items, entries)
    }

    /// As `new`, for the entry point `entry` of the stage's shader.
    pub fn entry<'a>(
        device: &wgpu::Device,
        stage: &str,
        entry: &str,
        shards: &'a [super::buffers::ShardBuffers],
        group: u64,
        items: impl Fn(&super::buffers::ShardBuffers) -> u64,
        entries: impl Fn(&'a super::buffers::ShardBuffers) -> Vec<(u32, &'a wgpu::Buffer)>,
    ) -> Self {
        let pipeline = pipeline(device, stage, entry);
        let shards = shards
            .iter()
            .enumerate()
            .filter(|(_, s)| items(s) > 0)
            .map(|(k, s)| {
                (
                    k,
                    0,
                    bind(device, stage, &pipeline, &entries(s)),
                    groups(items(s), group),
                )
            })
            .collect();
        PerShard {
            pipelines: vec![pipeline],
            shards,
        }
    }

    /// Both stages' shards, each with its own pipeline, in shard order (for stages whose shards
    /// are of two layouts, each taken by one of the two).
    pub fn join(mut self, other: PerShard) -> PerShard {
        let base = self.pipelines.len();
        self.pipelines.extend(other.pipelines);
        self.shards
            .extend(other.shards.into_iter().map(|(k, p, bind, g)| (k, p + base, bind, g)));
        self.shards.sort_by_key(|s| s.0);
        self
    }

    pub fn record(&self, pass: &mut wgpu::ComputePass) {
        self.record_where(pass, |_| true);
    }

    /// Records the shards `k` for which `keep(k)` holds, in order.
    pub fn record_where(&self, pass: &mut wgpu::ComputePass, keep: impl Fn(usize) -> bool) {
        let mut set = None;
        for (_, p, bind, groups) in self.shards.iter().filter(|(k, ..)| keep(*k)) {
            if set != Some(*p) {
                pass.set_pipeline(&self.pipelines[*p]);
                set = Some(*p);
            }
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
    }

    /// Records shard `k` alone (nothing when it has no work).
    pub fn record_one(&self, pass: &mut wgpu::ComputePass, k: usize) {
        self.record_where(pass, |j| j == k);
    }
}
