//! `rewire._rewire`: the native half of the Python package. Each function takes plain values
//! (scene text, paths, names) and returns plain values or JSON text that the package's Python half
//! (`rewire/__init__.py`) turns into DataFrames and arrays. Long work runs with the interpreter
//! detached, so other Python threads go on; Ctrl-C is checked between steps. Every library error
//! becomes one of the classes of `rewire.errors` with its fields, and a panic becomes a
//! `rewire.errors.RewireError`, never an abort.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rewire::error::Error;
use rewire::gpu::AdapterChoice;
use rewire::sim::{Checkpointing, EngineChoice, Every, RunOptions};
use rewire::stepper::{Lesion, Stepper};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Steps a stepwise simulation runs between two looks at Ctrl-C.
const CHUNK: u64 = 1000;

/// The Python exception for a library error: the class of `rewire.errors` for its kind, with the
/// error's fields as attributes.
fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let message = e.to_string();
    to_py_saying(py, e, message)
}

/// [`to_py`] with another message (the error's fields kept).
fn to_py_saying(py: Python<'_>, e: Error, message: String) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let errors = py.import("rewire.errors")?;
        let kw = PyDict::new(py);
        let class = match &e {
            Error::Scene {
                file,
                line,
                column,
                field,
                message,
            } => {
                kw.set_item("file", file)?;
                kw.set_item("line", line)?;
                kw.set_item("column", column)?;
                kw.set_item("field", field)?;
                kw.set_item("reason", message)?;
                "SceneError"
            }
            Error::Usage(_) => "UsageError",
            Error::Interrupted(_) => "Interrupted",
            Error::Checkpoint { path, .. } => {
                kw.set_item("path", path)?;
                "CheckpointError"
            }
            Error::Gpu(_) => "GpuError",
            Error::TooLarge { needed, available, .. } | Error::TooMany { needed, available, .. } => {
                kw.set_item("needed", needed)?;
                kw.set_item("available", available)?;
                "TooLargeError"
            }
            Error::Numerics(_) => "NumericsError",
            Error::Stopped { checkpoint, step, .. } => {
                kw.set_item("checkpoint", checkpoint)?;
                kw.set_item("step", step)?;
                "StoppedError"
            }
            Error::Io { path, .. } | Error::Data { path, .. } | Error::Connectome { path, .. } => {
                kw.set_item("path", path)?;
                "RewireError"
            }
        };
        let value = errors.getattr(class)?.call((message.clone(),), Some(&kw))?;
        Ok(PyErr::from_value(value))
    };
    build().unwrap_or_else(|err| err)
}

/// The `rewire.errors.RewireError` for a panic inside the library.
fn panicked(py: Python<'_>, payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into());
    let message = format!("internal error in rewire (please report it): {what}");
    py.import("rewire.errors")
        .and_then(|m| m.getattr("RewireError")?.call1((message,)))
        .map(PyErr::from_value)
        .unwrap_or_else(|err| err)
}

/// Runs `f` with the interpreter detached; a library error or a panic becomes a Python exception.
fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> rewire::Result<T> + Send) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(py, e)),
        Err(p) => Err(panicked(py, p)),
    }
}

/// Waits for `handle` with the interpreter detached, looking at Ctrl-C every 50 ms: on the first,
/// sets `stop` (the run stops at its next sample or day with a checkpoint) and goes on waiting.
fn wait<T: Send + 'static>(py: Python<'_>, handle: JoinHandle<rewire::Result<T>>, stop: &AtomicBool) -> PyResult<T> {
    let mut signal: Option<PyErr> = None;
    while !handle.is_finished() {
        py.detach(|| std::thread::sleep(Duration::from_millis(50)));
        if signal.is_none()
            && let Err(e) = py.check_signals()
        {
            stop.store(true, Ordering::SeqCst);
            signal = Some(e);
        }
    }
    match handle.join() {
        Err(p) => Err(panicked(py, p)),
        Ok(Err(e)) => Err(to_py(py, e)),
        // Finished before the stop was seen: the result stands, the signal is raised.
        Ok(Ok(v)) => match signal {
            Some(s) => Err(s),
            None => Ok(v),
        },
    }
}

fn engine_choice(engine: &str, backend: Option<String>, adapter: Option<String>) -> rewire::Result<EngineChoice> {
    match engine {
        "gpu" => Ok(EngineChoice::Gpu(AdapterChoice { backend, adapter })),
        "cpu" if backend.is_none() && adapter.is_none() => Ok(EngineChoice::Cpu),
        "cpu" => Err(Error::Usage(
            "engine=\"cpu\" runs the CPU reference: backend and adapter choose a GPU".into(),
        )),
        e => Err(Error::Usage(format!("engine={e:?}: expected \"gpu\" or \"cpu\""))),
    }
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

/// What a script needs to know of a model: names, sizes and times.
fn describe(m: &rewire::Model) -> String {
    let regions: Vec<_> = m
        .regions
        .iter()
        .map(|r| serde_json::json!({ "name": r.name, "centre_mm": r.centre_mm, "radius_mm": r.radius_mm }))
        .collect();
    let populations: Vec<_> = m
        .populations
        .iter()
        .map(|p| serde_json::json!({ "name": p.name, "region": m.regions[p.region].name, "count": p.count, "first": p.first }))
        .collect();
    json(&serde_json::json!({
        "name": m.name,
        "seed": m.seed,
        "dt_ms": m.dt_ms,
        "steps": m.steps,
        "duration_ms": m.time_ms(m.steps),
        "sample_every_ms": m.sample_every_steps as f64 * m.dt_ms,
        "neurons": m.neurons,
        "regions": regions,
        "populations": populations,
        "protocol": m.protocol.is_some(),
        "structure": m.structure.is_some(),
    }))
}

/// Applies `settings` (`--set` paths and RON values) to scene `text` and validates the result:
/// returns the text and the model's description (JSON).
#[pyfunction]
fn parse(py: Python<'_>, text: String, file: String, settings: Vec<(String, String)>) -> PyResult<(String, String)> {
    let (t, f, s) = (text.clone(), file.clone(), settings.clone());
    let parsed = py.detach(move || rewire::scene::set::parse_with(&t, &f, &s));
    match parsed {
        Ok(model) => {
            let applied = detached(py, move || {
                if settings.is_empty() {
                    Ok(text)
                } else {
                    rewire::scene::set::apply(&text, &settings)
                }
            })?;
            Ok((applied, describe(&model)))
        }
        // A setting the scene refuses: the setting's message, with the position in the text as
        // set (a value of the wrong kind, or a path that leads nowhere, has none).
        Err(Error::Usage(message)) => {
            let whole = rewire::scene::set::apply(&text, &settings).and_then(|t| rewire::scene::parse(&t, &file));
            match whole {
                Err(e @ Error::Scene { .. }) => Err(to_py_saying(py, e, message)),
                _ => Err(to_py(py, Error::Usage(message))),
            }
        }
        Err(e) => Err(to_py(py, e)),
    }
}

/// The protocol's schedule of scene `text` (JSON list of phases; empty without a protocol).
#[pyfunction]
fn timeline(py: Python<'_>, text: String, file: String) -> PyResult<String> {
    detached(py, move || {
        let model = rewire::scene::parse(&text, &file)?;
        Ok(json(&rewire::protocol::timeline(&model)))
    })
}

/// Runs scene `text` into `out` as `rewire run` does; returns summary.json's text.
#[pyfunction]
#[pyo3(signature = (text, file, out, engine="gpu", backend=None, adapter=None, duration_ms=None, checkpoint_every=None, progress=false))]
#[expect(clippy::too_many_arguments, reason = "one argument per option of `rewire run`")]
fn run(
    py: Python<'_>,
    text: String,
    file: String,
    out: PathBuf,
    engine: &str,
    backend: Option<String>,
    adapter: Option<String>,
    duration_ms: Option<f64>,
    checkpoint_every: Option<String>,
    progress: bool,
) -> PyResult<String> {
    let engine = engine_choice(engine, backend, adapter).map_err(|e| to_py(py, e))?;
    let every = checkpoint_every
        .map(|s| s.parse::<Every>())
        .transpose()
        .map_err(|m| to_py(py, Error::Usage(format!("checkpoint_every: {m}"))))?;
    let model = detached(py, {
        let (text, file) = (text.clone(), file.clone());
        move || rewire::scene::parse(&text, &file)
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let opts = RunOptions {
        engine,
        duration_ms,
        progress,
    };
    let ck = Checkpointing {
        every,
        stop: Some(stop.clone()),
        scene_file: file,
        scene_text: text,
        ..Default::default()
    };
    let handle = std::thread::spawn(move || rewire::sim::run_with(model, &out, &opts, &ck));
    wait(py, handle, &stop).map(|s| json(&s))
}

/// Runs a sweep of scene `text` (named `file`) as `rewire sweep` does: `sets` are (path, values) pairs, `seeds` as `--seeds`;
/// returns the files the comparison wrote.
#[pyfunction]
#[pyo3(signature = (text, file, sets, out, seeds=None, engine="gpu", backend=None, adapter=None, jobs=1))]
#[expect(clippy::too_many_arguments, reason = "one argument per option of `rewire sweep`")]
fn sweep(
    py: Python<'_>,
    text: String,
    file: String,
    sets: Vec<(String, Vec<String>)>,
    out: PathBuf,
    seeds: Option<String>,
    engine: &str,
    backend: Option<String>,
    adapter: Option<String>,
    jobs: usize,
) -> PyResult<Vec<PathBuf>> {
    let engine = engine_choice(engine, backend, adapter).map_err(|e| to_py(py, e))?;
    let plan = detached(py, move || {
        let mut options = Vec::new();
        if let Some(seeds) = seeds {
            let seeds = rewire::sweep::parse_seeds(&seeds)?;
            options.push(rewire::scene::set::SetOption {
                path: rewire::sweep::SEED_PATH.to_string(),
                values: seeds.iter().map(u64::to_string).collect(),
            });
        }
        for (path, values) in &sets {
            options.push(rewire::scene::set::SetOption::parse(&format!(
                "{path}={}",
                values.join(",")
            ))?);
        }
        rewire::sweep::plan_text(&text, std::path::Path::new(&file), &options)
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let opts = RunOptions {
        engine,
        duration_ms: None,
        progress: false,
    };
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        rewire::sweep::run_jobs_until(&plan, &out, &opts, jobs, Some(&flag), |line| eprintln!("{line}"))
    });
    wait(py, handle, &stop).map(|o| o.files)
}

/// Compares run folders as `rewire compare` does; returns the files written.
#[pyfunction]
#[pyo3(signature = (runs, out, group_by=None, metrics=Vec::new()))]
fn compare(
    py: Python<'_>,
    runs: Vec<PathBuf>,
    out: PathBuf,
    group_by: Option<String>,
    metrics: Vec<String>,
) -> PyResult<Vec<PathBuf>> {
    detached(py, move || match group_by {
        Some(by) => {
            let by: rewire::report::compare::Grouping = by.parse()?;
            Ok(rewire::report::compare::compare_groups(&runs, &out, &by, &metrics)?.1)
        }
        None => Ok(rewire::report::compare::compare(&runs, &out)?.1),
    })
}

/// A test of the panic path: panics inside the library, as a bug would.
#[pyfunction]
fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
    detached(py, || -> rewire::Result<()> {
        panic!("a panic raised on purpose by _panic_for_test")
    })
}

/// One network under a script's control (the Python `Simulation` wraps it).
#[pyclass(module = "rewire._rewire")]
struct Stepwise {
    inner: Mutex<Stepper>,
}

impl Stepwise {
    fn lock(&self) -> MutexGuard<'_, Stepper> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl Stepwise {
    #[new]
    #[pyo3(signature = (text, file, engine="gpu", backend=None, adapter=None))]
    fn new(
        py: Python<'_>,
        text: String,
        file: String,
        engine: &str,
        backend: Option<String>,
        adapter: Option<String>,
    ) -> PyResult<Self> {
        let engine = engine_choice(engine, backend, adapter).map_err(|e| to_py(py, e))?;
        let s = detached(py, move || Stepper::new(&text, &file, &engine))?;
        Ok(Stepwise { inner: Mutex::new(s) })
    }

    #[staticmethod]
    #[pyo3(signature = (path, engine="gpu", backend=None, adapter=None))]
    fn resume(
        py: Python<'_>,
        path: PathBuf,
        engine: &str,
        backend: Option<String>,
        adapter: Option<String>,
    ) -> PyResult<Self> {
        let engine = engine_choice(engine, backend, adapter).map_err(|e| to_py(py, e))?;
        let s = detached(py, move || Stepper::resume(&path, &engine))?;
        Ok(Stepwise { inner: Mutex::new(s) })
    }

    /// Runs `steps` steps, looking at Ctrl-C every CHUNK steps (a KeyboardInterrupt leaves the
    /// network at the step reached).
    fn advance(&self, py: Python<'_>, steps: u64) -> PyResult<()> {
        let mut left = steps;
        while left > 0 {
            let n = left.min(CHUNK);
            detached(py, || self.lock().advance(n, n, || Ok(())))?;
            left -= n;
            py.check_signals()?;
        }
        Ok(())
    }

    /// The aggregates since the previous sample (JSON of the library's `Stats`).
    fn sample(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || self.lock().sample().map(|s| json(&s)))
    }

    #[pyo3(signature = (amount, region=None))]
    fn reward(&self, py: Python<'_>, amount: f64, region: Option<String>) -> PyResult<()> {
        detached(py, || self.lock().reward(region.as_deref(), amount))
    }

    /// `kind`: "region" (a = region, fraction), "population" (a = population, fraction) or
    /// "tract" (a = from, b = to). Returns the neurons killed per region.
    #[pyo3(signature = (kind, a, b=None, fraction=None))]
    fn lesion(
        &self,
        py: Python<'_>,
        kind: &str,
        a: String,
        b: Option<String>,
        fraction: Option<f64>,
    ) -> PyResult<Vec<u64>> {
        let what = match (kind, b, fraction) {
            ("region", None, Some(fraction)) => Lesion::Region { region: a, fraction },
            ("population", None, Some(fraction)) => Lesion::Population {
                population: a,
                fraction,
            },
            ("tract", Some(to), None) => Lesion::Tract { from: a, to },
            _ => {
                return Err(to_py(
                    py,
                    Error::Usage("lesion: give region= or population= with fraction=, or tract=(from, to)".into()),
                ));
            }
        };
        detached(py, || self.lock().lesion(&what))
    }

    fn living(&self) -> Vec<u64> {
        self.lock().living()
    }

    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        detached(py, || self.lock().save(&path))
    }

    #[getter]
    fn step(&self) -> u64 {
        self.lock().step()
    }

    #[getter]
    fn model(&self) -> String {
        describe(self.lock().model())
    }

    #[getter]
    fn engine(&self) -> String {
        self.lock().sim.engine.describe()
    }
}

#[pymodule]
fn _rewire(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(timeline, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_class::<Stepwise>()?;
    Ok(())
}
