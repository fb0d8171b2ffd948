//! The wgpu instance, adapter choice and device, with the adapter's own limits requested.

use crate::error::{Error, Result};

/// How to choose an adapter. Backends also follow `WGPU_BACKEND` (e.g. `vulkan`, `gl`).
#[derive(Clone, Debug, Default)]
pub struct AdapterChoice {
    /// Backend names, comma separated (`vulkan`, `gl`, `metal`, `dx12`); None: WGPU_BACKEND or all.
    pub backend: Option<String>,
    /// An adapter index (as listed by `rewire info`) or a case-insensitive part of its name.
    pub adapter: Option<String>,
}

/// A device ready for compute, and what it is.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
}

fn instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = backends;
    wgpu::Instance::new(desc)
}

/// Every adapter found for the chosen backends. With none chosen (and no WGPU_BACKEND), the
/// primary backends (Vulkan, Metal, DX12) are tried first and OpenGL only when they find nothing.
pub fn adapters(choice: &AdapterChoice) -> Vec<wgpu::Adapter> {
    let list = |b: wgpu::Backends| pollster::block_on(instance(b).enumerate_adapters(b));
    let chosen = match &choice.backend {
        Some(b) => Some(wgpu::Backends::from_comma_list(b)),
        None => wgpu::Backends::from_env(),
    };
    match chosen {
        Some(b) => list(b),
        None => {
            let primary = list(wgpu::Backends::PRIMARY);
            if primary.is_empty() {
                list(wgpu::Backends::SECONDARY)
            } else {
                primary
            }
        }
    }
}

/// A one-line description of an adapter.
pub fn describe(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{} ({:?}, {:?}, driver {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    )
}

impl GpuContext {
    /// Opens the chosen adapter (the first one found when none is named). Fails loudly when none.
    pub fn new(choice: &AdapterChoice) -> Result<Self> {
        let list = adapters(choice);
        if list.is_empty() {
            return Err(Error::Gpu(format!(
                "no GPU adapter found (backends: {}); install a Vulkan driver (e.g. Mesa's lavapipe: \
                 apt-get install mesa-vulkan-drivers) or set WGPU_BACKEND=gl",
                choice
                    .backend
                    .clone()
                    .or_else(|| std::env::var("WGPU_BACKEND").ok())
                    .unwrap_or_else(|| "all".into())
            )));
        }
        let adapter = match &choice.adapter {
            None => list.into_iter().next(),
            Some(want) => match want.parse::<usize>() {
                Ok(i) => list.into_iter().nth(i),
                Err(_) => {
                    let w = want.to_lowercase();
                    list.into_iter().find(|a| a.get_info().name.to_lowercase().contains(&w))
                }
            },
        }
        .ok_or_else(|| {
            Error::Gpu(format!(
                "no adapter matches {:?}; `rewire info` lists them",
                choice.adapter
            ))
        })?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("rewire"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::Gpu(format!("cannot open {}: {e}", describe(&info))))?;
        Ok(GpuContext {
            device,
            queue,
            info,
            limits,
        })
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| Error::Gpu(format!("device poll failed: {e}")))
    }
}
