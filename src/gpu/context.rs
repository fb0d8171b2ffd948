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
    /// Memory the device can hold buffers in (bytes), where the backend tells.
    pub memory: Option<u64>,
    /// Whether compute passes can write GPU timestamps (for per-stage timing).
    pub timestamps: bool,
    /// The first fault the device reported on its own (lost, out of memory, an error no scope
    /// caught), for the engine to report at its next readback instead of a panic.
    pub faults: Faults,
}

/// The first fault a device reported through its lost callback or its uncaptured-error
/// handler. wgpu's default handler panics; rewire records the fault and fails the run with it
/// at the next readback, so the run can say where it stopped and write what it has.
#[derive(Clone, Default)]
pub struct Faults(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl Faults {
    /// Routes `device`'s lost callback and uncaptured errors here.
    pub fn watch(device: &wgpu::Device) -> Faults {
        let f = Faults::default();
        let lost = f.clone();
        device.set_device_lost_callback(move |reason, message| {
            let why = match reason {
                wgpu::DeviceLostReason::Destroyed => "destroyed".to_string(),
                other => format!("{other:?}"),
            };
            let message = if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            };
            lost.note(format!("the GPU device was lost ({why}){message}"));
        });
        let errors = f.clone();
        device.on_uncaptured_error(std::sync::Arc::new(move |e: wgpu::Error| {
            let what = match &e {
                wgpu::Error::OutOfMemory { .. } => "the GPU ran out of memory",
                wgpu::Error::Validation { .. } => "the GPU refused a command",
                wgpu::Error::Internal { .. } => "the GPU driver failed",
            };
            errors.note(format!("{what}: {e}"));
        }));
        f
    }
    fn note(&self, fault: String) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(fault);
        }
    }
    /// The first fault reported, if any.
    pub fn first(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = backends;
    // wgpu checks every indirect dispatch's arguments with a hidden dispatch of its own (on in
    // release builds too). Ours are written by `prepare` (propagate.wgsl) within the limits (x at
    // most 65535, y the rest: at most n_neurons / 65535 + 1), so the check only costs time: on
    // lavapipe the scaled microcircuit runs 3-13 % faster without it (docs/PERFORMANCE.md). Off;
    // REWIRE_VALIDATE_INDIRECT=1 turns it back on.
    if !std::env::var("REWIRE_VALIDATE_INDIRECT").is_ok_and(|v| v == "1") {
        desc.flags.remove(wgpu::InstanceFlags::VALIDATION_INDIRECT_CALL);
    }
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

/// The memory an adapter can hold buffers in: on a software (CPU) adapter the host's physical
/// memory (lavapipe reports a 2 GiB heap but allocates beyond it from host memory); on Vulkan the
/// largest device-local heap; otherwise unknown (wgpu has no portable query).
/// `REWIRE_DEVICE_MEMORY_MIB` overrides it (for drivers whose heap figure is not a real limit).
pub fn device_memory(adapter: &wgpu::Adapter) -> Option<u64> {
    if let Some(mib) = std::env::var("REWIRE_DEVICE_MEMORY_MIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return Some(mib << 20);
    }
    let info = adapter.get_info();
    if info.device_type == wgpu::DeviceType::Cpu {
        return host_memory();
    }
    if info.backend == wgpu::Backend::Vulkan {
        // SAFETY: the hal adapter is only read (its physical-device memory properties), while the
        // wgpu adapter it belongs to is alive.
        let hal = unsafe { adapter.as_hal::<wgpu::hal::api::Vulkan>() }?;
        let props = unsafe {
            hal.shared_instance()
                .raw_instance()
                .get_physical_device_memory_properties(hal.raw_physical_device())
        };
        return props.memory_heaps[..props.memory_heap_count as usize]
            .iter()
            .filter(|h| h.flags.contains(ash::vk::MemoryHeapFlags::DEVICE_LOCAL))
            .map(|h| h.size)
            .max();
    }
    None
}

/// Physical memory of the host (bytes), from /proc/meminfo.
pub fn host_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Slots per shard on an adapter: the largest per-slot array (4 bytes a slot) fills one binding.
pub fn shard_slots(limits: &wgpu::Limits) -> u64 {
    limits.max_storage_buffer_binding_size.min(limits.max_buffer_size) / 4
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
        let memory = device_memory(&adapter);
        let features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("rewire"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::Gpu(format!("cannot open {}: {e}", describe(&info))))?;
        let faults = Faults::watch(&device);
        Ok(GpuContext {
            faults,
            device,
            queue,
            info,
            limits,
            memory,
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
        })
    }

    /// Slots per shard on this adapter.
    pub fn shard_slots(&self) -> u64 {
        shard_slots(&self.limits)
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| Error::Gpu(format!("device poll failed: {e}")))
    }
}
