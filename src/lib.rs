//! rewire: a GPU simulator of cortical remodeling. A RON scene describes regions, populations,
//! projections and inputs; the network is built on the host, stepped by WGSL compute stages
//! through wgpu (or by the CPU reference), and aggregate statistics are read back and written.
//!
//! ```no_run
//! let model = rewire::scene::load(std::path::Path::new("scenes/quickstart.ron"))?;
//! let opts = rewire::RunOptions { engine: rewire::EngineChoice::Gpu(Default::default()), duration_ms: None, progress: false };
//! let summary = rewire::sim::run(model, std::path::Path::new("out"), &opts)?;
//! println!("{} spikes", summary.spikes);
//! # Ok::<(), rewire::Error>(())
//! ```

pub mod atomic;
pub mod bench;
pub mod build;
pub mod checkpoint;
pub mod connectome;
pub mod engine;
pub mod error;
pub mod gpu;
pub mod layout;
pub mod lock;
pub mod protocol;
pub mod reference;
pub mod report;
pub mod rng;
pub mod scene;
pub mod sensitivity;
pub mod shaders;
pub mod sim;
pub mod slurm;
pub mod stats;
pub mod stepper;
pub mod sweep;

pub use engine::{Engine, EngineState, RawSample};
pub use error::{Error, Result};
pub use scene::{Model, Scene};
pub use sim::{EngineChoice, RunOptions, Simulation, Summary};
pub use stats::Stats;
