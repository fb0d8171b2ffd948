//! The adapter's streaming memory bandwidth (shaders/stream.wgsl): a copy between two buffers of
//! one binding each, timed over several repetitions after a warm-up. Bytes moved count the read
//! and the write.

use super::context::GpuContext;
use super::stage;
use crate::error::{Error, Result};
use std::time::Instant;

/// Measured copy bandwidth (bytes per second).
pub fn measure(ctx: &GpuContext) -> Result<f64> {
    let binding = ctx
        .limits
        .max_storage_buffer_binding_size
        .min(ctx.limits.max_buffer_size);
    let bytes = binding.min(256 << 20) / 16 * 16;
    let device = &ctx.device;
    let make = |label| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    };
    let (src, dst) = (make("stream src"), make("stream dst"));
    let pipeline = stage::pipeline(device, "stream", "main");
    let bind = stage::bind(device, "stream", &pipeline, &[(2, &src), (3, &dst)]);
    let groups = stage::groups(bytes / 16, 256);
    let run = |reps: u32| -> Result<f64> {
        let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("stream") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("stream"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind, &[]);
            for _ in 0..reps {
                pass.dispatch_workgroups(groups.0, groups.1, 1);
            }
        }
        let t0 = Instant::now();
        ctx.queue.submit([enc.finish()]);
        ctx.wait()?;
        Ok(t0.elapsed().as_secs_f64())
    };
    // First touch commits the pages; time only the repetitions after it.
    run(1)?;
    let reps = 8;
    let t = run(reps)?;
    if t <= 0.0 {
        return Err(Error::Gpu("bandwidth probe took no measurable time".into()));
    }
    Ok(2.0 * bytes as f64 * reps as f64 / t)
}
