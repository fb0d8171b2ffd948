"""rewire from Python: scenes, runs, stepwise simulations, sweeps, comparisons and NWB files.

The simulator itself is the Rust library (``rewire._rewire``); this module turns its files and
aggregates into pandas DataFrames and numpy arrays. A run from Python writes the same files, byte
for byte, as ``rewire run`` with the same scene, seed and engine.

    import rewire
    scene = rewire.load_scene("scenes/stroke_rehab.ron").set("protocol.Rehab.days", (2, 8))
    run = rewire.run(scene, out="out/rehab", engine="gpu")
    run.performance            # a DataFrame of performance.csv
    run.summary["protocol"]    # summary.json as a dict

Units follow the files: times in ms (``t_ms``), rates in Hz, days as biological days.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import _rewire
from .errors import (
    CheckpointError,
    GpuError,
    Interrupted,
    NumericsError,
    RewireError,
    SceneError,
    StoppedError,
    TooLargeError,
    UsageError,
)

__version__ = _rewire.__version__

__all__ = [
    "Scene",
    "load_scene",
    "run",
    "Run",
    "read_run",
    "Simulation",
    "Sample",
    "sweep",
    "compare",
    "Comparison",
    "to_nwb",
    "RewireError",
    "SceneError",
    "UsageError",
    "CheckpointError",
    "GpuError",
    "TooLargeError",
    "NumericsError",
    "StoppedError",
    "Interrupted",
]


def _ron(value, field):
    """A Python value as RON text for ``Scene.set``: numbers, booleans, None, tuples, lists, or a
    str taken as RON text as it is (so a name is given with its quotes: ``'"M1"'``)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(value, str):
        return value
    if value is None:
        return "None"
    if isinstance(value, tuple):
        return "(" + ", ".join(_ron(v, field) for v in value) + ")"
    if isinstance(value, (list, np.ndarray)):
        return "[" + ", ".join(_ron(v, field) for v in value) + "]"
    raise SceneError(
        f"{field}: a {type(value).__name__} cannot be a scene value "
        "(give a number, a boolean, None, a tuple, a list, or RON text as a str)",
        field=field,
        reason="not a scene value",
    )


class Scene:
    """A validated scene: its text, the file it came from, and the settings applied to it.

    ``Scene.set(path, value)`` changes one field by the same paths as ``rewire run --set`` and
    validates the result at once; a refused value raises :class:`SceneError` naming the field.
    """

    def __init__(self, text: str, file: str = "<scene>"):
        if not isinstance(text, str):
            raise TypeError(f"scene text must be a str, not {type(text).__name__}")
        self._source = text
        self.file = str(file)
        self._settings: list[tuple[str, str]] = []
        self._text, info = _rewire.parse(self._source, self.file, [])
        self._info = json.loads(info)

    @classmethod
    def from_text(cls, text: str, file: str = "<text>") -> "Scene":
        """A scene from RON text; ``file`` names it in errors."""
        return cls(text, file)

    def set(self, path: str, value) -> "Scene":
        """Sets the field at ``path`` (``--set`` syntax: ``protocol.Rehab.days``,
        ``regions.M1.radius_mm``, ``seed``) to ``value``; returns the scene, for chaining."""
        if not isinstance(path, str) or not path:
            raise SceneError(f"a field path must be a non-empty str, not {path!r}", field=str(path))
        settings = self._settings + [(path, _ron(value, path))]
        try:
            text, info = _rewire.parse(self._source, self.file, settings)
        except SceneError as e:
            e.field = path
            raise
        except UsageError as e:
            raise SceneError(e.message, field=path, file=self.file, reason=e.message) from None
        self._settings, self._text, self._info = settings, text, json.loads(info)
        return self

    def copy(self) -> "Scene":
        other = Scene.__new__(Scene)
        other.__dict__.update(self.__dict__)
        other._settings = list(self._settings)
        return other

    @property
    def text(self) -> str:
        """The scene's RON text with every setting applied (what a run runs)."""
        return self._text

    @property
    def settings(self) -> list[tuple[str, str]]:
        """The settings applied, as (path, RON value) pairs."""
        return list(self._settings)

    @property
    def info(self) -> dict:
        """Names, sizes and times: name, seed, dt_ms, steps, duration_ms, neurons, regions,
        populations, and whether it has a protocol and structural plasticity."""
        return dict(self._info)

    name = property(lambda self: self._info["name"])
    seed = property(lambda self: self._info["seed"])
    neurons = property(lambda self: self._info["neurons"])
    dt_ms = property(lambda self: self._info["dt_ms"])
    duration_ms = property(lambda self: self._info["duration_ms"])
    regions = property(lambda self: [r["name"] for r in self._info["regions"]])
    populations = property(lambda self: [p["name"] for p in self._info["populations"]])

    def timeline(self) -> pd.DataFrame:
        """The protocol's schedule: one row per lesion, session, probe block and offline phase,
        with its day and its start and end in steps and in ms (empty without a protocol)."""
        return _timeline(self._text, self.file, self.dt_ms)

    def write(self, path) -> Path:
        """Writes the scene's text (settings applied) to ``path``."""
        path = Path(path)
        path.write_text(self._text)
        return path

    def __repr__(self):
        s = f", {len(self._settings)} settings" if self._settings else ""
        return f"Scene({self.name!r} from {self.file!r}: {self.neurons} neurons, {self.duration_ms} ms{s})"


def load_scene(path) -> Scene:
    """Reads and validates a scene file (errors name the file, line, column and field)."""
    path = os.fspath(path)
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise RewireError(f"{path}: {e.strerror or e}", path=path) from None
    return Scene(text, path)


def _scene(scene) -> Scene:
    if isinstance(scene, Scene):
        return scene
    if isinstance(scene, (str, os.PathLike)):
        return load_scene(scene)
    raise TypeError(f"expected a Scene or a scene file's path, not {type(scene).__name__}")


def _timeline(text, file, dt_ms) -> pd.DataFrame:
    rows = json.loads(_rewire.timeline(text, file))
    df = pd.DataFrame(rows, columns=["day", "phase", "what", "from_step", "to_step"])
    df["t_from_ms"] = df["from_step"] * dt_ms
    df["t_to_ms"] = df["to_step"] * dt_ms
    return df


# The tables a run folder may hold (README, "Outputs"), each a Run attribute.
TABLES = (
    "rates",
    "connectivity",
    "weights",
    "weight_hist",
    "dopamine",
    "structure",
    "turnover_by_distance",
    "growth",
    "regions",
    "hemispheres",
    "hemisphere_connectivity",
    "performance",
    "activation",
    "representation",
    "routes",
    "lesions",
    "tracts",
    "bold",
    "bold_fc",
    "bold_laterality",
    "spine_imaging",
    "spine_survival",
    "icms",
    "icms_areas",
    "lfp",
    "lfp_spectrum",
)


class Run:
    """A finished run folder: ``summary`` (summary.json as a dict), the scene it ran, and each
    table as a DataFrame (``run.rates``, ``run.performance``, ... or ``run.table(name)``; None when
    the run has no such file)."""

    def __init__(self, path):
        self.path = Path(path)
        summary = self.path / "summary.json"
        if not summary.is_file():
            raise RewireError(
                f"{self.path}: not a finished run folder (no summary.json)", path=str(self.path)
            )
        self.summary = json.loads(summary.read_text())
        self._tables: dict[str, pd.DataFrame] = {}

    @property
    def scene_text(self) -> str | None:
        """The scene as run (scene.ron), when the folder has it."""
        p = self.path / "scene.ron"
        return p.read_text() if p.is_file() else None

    @property
    def scene(self) -> Scene | None:
        text = self.scene_text
        return None if text is None else Scene(text, str(self.path / "scene.ron"))

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table the folder holds, by name."""
        return {name: self.table(name) for name in TABLES if (self.path / f"{name}.csv").is_file()}

    def table(self, name: str) -> pd.DataFrame | None:
        if name not in self._tables:
            p = self.path / f"{name}.csv"
            if not p.is_file():
                return None
            self._tables[name] = pd.read_csv(p)
        return self._tables[name]

    def timeline(self) -> pd.DataFrame | None:
        """The protocol's schedule the run followed (see :meth:`Scene.timeline`)."""
        text = self.scene_text
        if text is None:
            return None
        return _timeline(text, str(self.path / "scene.ron"), self.summary["dt_ms"])

    def __getattr__(self, name):
        if name in TABLES:
            return self.table(name)
        raise AttributeError(name)

    def __repr__(self):
        s = self.summary
        return f"Run({str(self.path)!r}: {s['scene']}, seed {s['seed']}, {s['simulated_ms']} ms on {s['engine']})"


def read_run(path) -> Run:
    """Loads a finished run folder (from Python or the command line)."""
    return Run(path)


def run(
    scene,
    out="out",
    engine: str = "gpu",
    backend: str | None = None,
    adapter: str | None = None,
    duration_ms: float | None = None,
    checkpoint_every: str | None = None,
    progress: bool = False,
) -> Run:
    """Runs a scene (a :class:`Scene` or a file's path) into the folder ``out``, as ``rewire run``.

    ``engine``: "gpu" (``backend``: "vulkan", "gl", ...; ``adapter``: an index or part of a name,
    as ``rewire info`` lists) or "cpu" (the CPU reference). ``duration_ms`` overrides a plain
    scene's length; ``checkpoint_every`` is ``"10s"`` or ``"2d"`` as on the command line. The
    interpreter is released while the engine works; Ctrl-C stops the run at its next sample or
    day with a checkpoint and raises :class:`Interrupted`.
    """
    s = _scene(scene)
    _rewire.run(
        s.text,
        s.file,
        os.fspath(out),
        engine=engine,
        backend=backend,
        adapter=adapter,
        duration_ms=duration_ms,
        checkpoint_every=checkpoint_every,
        progress=progress,
    )
    return Run(out)


class Sample:
    """The aggregates of one sample interval of a :class:`Simulation`.

    ``rates_hz`` and ``spikes`` per population (order of ``populations``); ``synapses`` and
    ``weight_sum`` as region x region matrices (source rows, target columns, order of
    ``regions``); ``dopamine`` per region (scenes with dopamine); ``weights`` and ``structure``
    as DataFrames (scenes with plasticity and with structure); ``raw`` the whole sample as a dict.
    """

    def __init__(self, raw: dict, regions: list[str]):
        self.raw = raw
        self.step = raw["step"]
        self.t_ms = raw["t_ms"]
        self.populations = [p["population"] for p in raw["populations"]]
        self.regions = list(regions)
        self.rates_hz = np.array([p["rate_hz"] for p in raw["populations"]], dtype=np.float64)
        self.spikes = np.array([p["spikes"] for p in raw["populations"]], dtype=np.int64)
        index = {r: i for i, r in enumerate(self.regions)}
        n = len(self.regions)
        self.synapses = np.zeros((n, n), dtype=np.int64)
        self.weight_sum = np.zeros((n, n), dtype=np.float64)
        for c in raw["connectivity"]:
            i, j = index[c["source"]], index[c["target"]]
            self.synapses[i, j] = c["synapses"]
            self.weight_sum[i, j] = c["weight_sum"]
        self.dopamine = np.array([d[1] for d in raw["dopamine"]], dtype=np.float64)
        self.weights = pd.DataFrame(raw["weights"]).drop(columns=["histogram"], errors="ignore")
        self.structure = pd.DataFrame(raw["structure"])

    def __repr__(self):
        return f"Sample(step {self.step}, {self.t_ms} ms, {int(self.spikes.sum())} spikes)"


class Simulation:
    """One network under a script's control: advance it, sample it, lesion it, reward it, save it.

    The scene's protocol is not scheduled here (the script is the schedule; :func:`run` runs
    protocols). The interpreter is released while the engine works, and Ctrl-C is looked at
    every 1 000 steps: a ``KeyboardInterrupt`` leaves the network at the step it reached.
    """

    def __init__(self, scene, engine: str = "gpu", backend: str | None = None, adapter: str | None = None):
        s = _scene(scene)
        self._native = _rewire.Stepwise(s.text, s.file, engine=engine, backend=backend, adapter=adapter)
        self._model = json.loads(self._native.model)

    @classmethod
    def resume(cls, path, engine: str = "gpu", backend: str | None = None, adapter: str | None = None):
        """Continues a checkpoint written by :meth:`save`, bit for bit, on the engine and adapter
        that wrote it."""
        self = cls.__new__(cls)
        self._native = _rewire.Stepwise.resume(os.fspath(path), engine=engine, backend=backend, adapter=adapter)
        self._model = json.loads(self._native.model)
        return self

    @property
    def dt_ms(self) -> float:
        return self._model["dt_ms"]

    @property
    def step(self) -> int:
        """Steps run so far."""
        return self._native.step

    @property
    def time_ms(self) -> float:
        return self._native.step * self.dt_ms

    @property
    def regions(self) -> list[str]:
        return [r["name"] for r in self._model["regions"]]

    @property
    def populations(self) -> list[str]:
        return [p["name"] for p in self._model["populations"]]

    @property
    def engine(self) -> str:
        """The engine and its adapter, as outputs name them."""
        return self._native.engine

    def advance(self, ms: float) -> "Simulation":
        """Runs ``ms`` more milliseconds (rounded to whole steps of ``dt_ms``)."""
        if not (isinstance(ms, numbers.Real) and math.isfinite(ms) and ms >= 0):
            raise UsageError(f"advance: ms must be a finite number >= 0, not {ms!r}")
        self._native.advance(int(round(ms / self.dt_ms)))
        return self

    def sample(self) -> Sample:
        """The aggregates since the previous sample (or the start)."""
        return Sample(json.loads(self._native.sample()), self.regions)

    def reward(self, amount: float, region: str | None = None) -> None:
        """Adds ``amount`` of dopamine to ``region`` (None: every region) at the next step."""
        self._native.reward(float(amount), region)

    def lesion(self, region=None, population=None, fraction=None, tract=None) -> dict[str, int]:
        """Removes ``fraction`` (0 to 1) of the neurons of a ``region`` or a ``population``,
        chosen at random from the scene's seed, or every synapse of a ``tract`` (a pair of region
        names, from and to), from the next step on. Returns the neurons killed per region."""
        given = [x is not None for x in (region, population, tract)]
        if sum(given) != 1:
            raise UsageError("lesion: give one of region=, population= or tract=")
        if tract is not None:
            if fraction is not None:
                raise UsageError("lesion: a tract is cut whole (no fraction)")
            a, b = tract
            killed = self._native.lesion("tract", a, b)
        elif fraction is None:
            raise UsageError("lesion: give fraction= (0 to 1) with region= or population=")
        elif region is not None:
            killed = self._native.lesion("region", region, None, float(fraction))
        else:
            killed = self._native.lesion("population", population, None, float(fraction))
        return dict(zip(self.regions, killed))

    def living(self) -> dict[str, int]:
        """Living neurons per region."""
        return dict(zip(self.regions, self._native.living()))

    def save(self, path) -> Path:
        """Writes a checkpoint (atomically) that :meth:`resume` continues bit for bit."""
        self._native.save(os.fspath(path))
        return Path(path)

    def __repr__(self):
        return f"Simulation({self._model['name']!r} at {self.time_ms} ms on {self.engine})"


class Comparison:
    """What ``rewire compare`` wrote: ``table`` (comparison.csv, one row per run), ``groups``
    (groups.csv, per group and metric, when grouped) and ``contrasts`` (contrasts.csv), and
    every file written."""

    def __init__(self, out, files):
        self.out = Path(out)
        self.files = [Path(f) for f in files]

        written = {f.name for f in self.files}

        def read(name):
            # Only what this comparison wrote: a file left by an earlier one in `out` is not its.
            p = self.out / name
            return pd.read_csv(p) if name in written and p.is_file() else None

        self.table = read("comparison.csv")
        self.groups = read("groups.csv")
        self.contrasts = read("contrasts.csv")

    def __repr__(self):
        return f"Comparison({str(self.out)!r}: {0 if self.table is None else len(self.table)} runs)"


def sweep(
    scene,
    set: dict | None = None,
    seeds=None,
    out="sweep",
    engine: str = "gpu",
    backend: str | None = None,
    adapter: str | None = None,
    jobs: int = 1,
) -> Comparison:
    """Runs every combination of the values in ``set`` (field path -> list of values), as
    ``rewire sweep``; ``seeds`` (an int, "3-10" or a list) runs each scenario once per seed.
    Scenario folders go under ``out``; the comparison is returned (with groups of replicates
    when seeds are given). Ctrl-C stops the running scenarios at their next sample and raises
    :class:`Interrupted`; the same call again runs only the unfinished scenarios."""
    s = _scene(scene)
    sets = []
    for path, values in (set or {}).items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        sets.append((path, [_ron(v, path) for v in values]))
    if seeds is not None and not isinstance(seeds, str):
        seeds = str(seeds) if isinstance(seeds, numbers.Integral) else ",".join(str(int(x)) for x in seeds)
    files = _rewire.sweep(
        s.text, s.file, sets, os.fspath(out), seeds=seeds, engine=engine, backend=backend, adapter=adapter, jobs=jobs
    )
    return Comparison(out, files)


def compare(runs, out="comparison", group_by: str | None = None, metrics=None) -> Comparison:
    """Compares run folders, as ``rewire compare``: recovery metrics per run, and with
    ``group_by`` ("settings", "folder", "scene" or a field path) per group with confidence
    intervals and contrasts."""
    runs = [os.fspath(r.path if isinstance(r, Run) else r) for r in runs]
    files = _rewire.compare(runs, os.fspath(out), group_by=group_by, metrics=list(metrics or []))
    return Comparison(out, files)


def to_nwb(run, path, species: str | None = None, age: str | None = None, sex: str = "O") -> Path:
    """Writes a run (a :class:`Run` or a run folder) as an NWB file through pynwb (see
    :mod:`rewire.nwb`); ``species`` and ``age`` state what the model stands for."""
    from .nwb import to_nwb as write

    return write(run, path, species=species, age=age, sex=sex)
