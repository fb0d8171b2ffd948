"""The Python API against the command line: same files byte for byte, errors with positions,
stepwise control, Ctrl-C, sweeps and comparisons."""

import filecmp
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rewire
from conftest import ROOT, run_cli, short_protocol

QUICKSTART = ROOT / "scenes" / "quickstart.ron"


def same_outputs(a: Path, b: Path):
    """Every table and the scene text of two run folders are the same bytes."""
    names = sorted(p.name for p in a.iterdir() if p.suffix in (".csv", ".ron"))
    assert names == sorted(p.name for p in b.iterdir() if p.suffix in (".csv", ".ron"))
    assert "rates.csv" in names and "scene.ron" in names
    for n in names:
        assert filecmp.cmp(a / n, b / n, shallow=False), f"{n} differs between {a} and {b}"
    return names


@pytest.mark.parametrize("engine", ["cpu", "gpu"])
def test_a_run_from_python_writes_the_command_lines_files_byte_for_byte(tmp_path, cli, engine):
    scene = rewire.load_scene(QUICKSTART).set("seed", 11)
    run = rewire.run(scene, out=tmp_path / "py", engine=engine, duration_ms=500.0)
    args = ["run", QUICKSTART, "--set", "seed=11", "--duration", "500", "--out", tmp_path / "cli"]
    run_cli(cli, *args, *(["--cpu"] if engine == "cpu" else []))
    same_outputs(tmp_path / "py", tmp_path / "cli")
    assert run.summary["seed"] == 11 and run.summary["steps"] == 500
    assert run.summary["engine"] == rewire.read_run(tmp_path / "cli").summary["engine"]
    rates = pd.read_csv(tmp_path / "cli" / "rates.csv")
    pd.testing.assert_frame_equal(run.rates, rates)
    assert set(run.tables) == {"rates", "connectivity"}


def test_a_protocol_run_from_python_matches_the_command_line(tmp_path, cli, protocol_run):
    scene = tmp_path / "short.ron"
    scene.write_text(protocol_run.scene_text)
    run_cli(cli, "run", scene, "--cpu", "--out", tmp_path / "cli")
    names = same_outputs(protocol_run.path, tmp_path / "cli")
    assert "performance.csv" in names and "lesions.csv" in names
    perf = protocol_run.performance
    assert set(perf["phase"]) >= {"train", "rehab", "probe"}
    tl = protocol_run.timeline()
    # Every block of performance.csv ends where the timeline says its phase ends.
    ends = set(tl["t_to_ms"])
    assert all(t in ends for t in perf["t_ms"]), "a performance row ends off the timeline"
    assert tl["t_to_ms"].iloc[-1] == protocol_run.summary["simulated_ms"]


def test_scene_errors_carry_file_line_column_and_field(tmp_path):
    bad = QUICKSTART.read_text().replace("dt_ms: 1.0", "dt_ms: -1.0")
    path = tmp_path / "bad.ron"
    path.write_text(bad)
    with pytest.raises(rewire.SceneError) as e:
        rewire.load_scene(path)
    line = next(i + 1 for i, l in enumerate(bad.splitlines()) if "dt_ms: -1.0" in l)
    assert e.value.file == str(path) and e.value.line == line and e.value.field == "dt_ms"
    assert e.value.column > 0 and str(path) in str(e.value)

    with pytest.raises(rewire.SceneError) as e:
        rewire.Scene.from_text("(name: \"x\", seed: 1, dt_ms: 1.0, duraton_ms: 5.0)", "inline.ron")
    assert (e.value.file, e.value.line) == ("inline.ron", 1) and e.value.column > 1

    scene = rewire.load_scene(QUICKSTART)
    with pytest.raises(rewire.SceneError) as e:
        scene.set("regions.M9.radius_mm", 1.0)
    assert e.value.field == "regions.M9.radius_mm" and "M9" in str(e.value)
    with pytest.raises(rewire.SceneError) as e:
        scene.set("dt_ms", "fast")
    assert e.value.field == "dt_ms" and "expected a number" in str(e.value)
    with pytest.raises(rewire.SceneError) as e:
        scene.set("seed", object())
    assert e.value.field == "seed"
    with pytest.raises(rewire.SceneError) as e:
        scene.set("dt_ms", -0.5)
    assert e.value.field == "dt_ms" and e.value.line is not None
    # A refused setting leaves the scene as it was.
    assert scene.settings == [] and scene.dt_ms == 1.0
    assert scene.set("dt_ms", 0.5).dt_ms == 0.5


def test_bad_options_and_files_raise_the_libraries_errors(tmp_path):
    with pytest.raises(rewire.UsageError, match="gpu.*cpu"):
        rewire.run(QUICKSTART, out=tmp_path / "x", engine="tpu")
    with pytest.raises(rewire.UsageError, match="checkpoint_every"):
        rewire.run(QUICKSTART, out=tmp_path / "x", engine="cpu", checkpoint_every="often")
    bad = tmp_path / "bad.rwck"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(rewire.CheckpointError) as e:
        rewire.Simulation.resume(bad, engine="cpu")
    assert Path(e.value.path) == bad
    with pytest.raises(rewire.RewireError, match="summary.json"):
        rewire.read_run(tmp_path)
    with pytest.raises(TypeError):
        rewire.Scene.from_text(42)


def test_a_panic_in_the_library_is_a_python_exception():
    with pytest.raises(rewire.RewireError, match="internal error.*on purpose"):
        rewire._rewire._panic_for_test()


@pytest.mark.parametrize("engine", ["cpu", "gpu"])
def test_a_stepwise_simulation_samples_lesions_and_resumes_bit_for_bit(tmp_path, engine):
    scene = rewire.load_scene(QUICKSTART)
    sim = rewire.Simulation(scene, engine=engine)
    assert sim.regions == ["S1", "M1"] and sim.populations == ["S1_E", "S1_I", "M1_E", "M1_I"]
    first = sim.advance(100).sample()
    assert first.step == 100 and sim.time_ms == 100.0
    assert first.rates_hz.shape == (4,) and (first.rates_hz > 0).all()
    assert first.synapses.shape == (2, 2) and first.synapses[0, 1] > 0 and first.synapses[1, 0] == 0
    assert np.isclose(first.rates_hz[0], first.spikes[0] / 800 / 0.1)
    killed = sim.lesion(region="M1", fraction=0.5)
    assert killed == {"S1": 0, "M1": 500} and sim.living() == {"S1": 1000, "M1": 500}
    cut = sim.lesion(tract=("S1", "M1"))
    assert cut == {"S1": 0, "M1": 0}
    sim.reward(0.5)
    path = sim.save(tmp_path / "sim.rwck")
    a = sim.advance(150).sample()
    assert a.synapses[0, 1] == 0, "the cut tract still has synapses"
    b = rewire.Simulation.resume(path, engine=engine)
    assert b.step == 100 and b.living() == sim.living()
    b_sample = b.advance(150).sample()
    assert b_sample.raw == a.raw
    with pytest.raises(rewire.UsageError, match="no region"):
        sim.reward(1.0, region="V1")
    with pytest.raises(rewire.UsageError, match="one of"):
        sim.lesion(fraction=0.5)
    with pytest.raises(rewire.UsageError, match="from 0 to 1"):
        sim.lesion(population="M1_E", fraction=2.0)
    with pytest.raises(rewire.UsageError):
        sim.advance(-5)


def test_the_interpreter_runs_other_threads_while_the_engine_works(tmp_path):
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    t = threading.Thread(target=count)
    t.start()
    start = time.perf_counter()
    rewire.run(QUICKSTART, out=tmp_path / "run", engine="cpu", duration_ms=2000.0)
    sim = rewire.Simulation(QUICKSTART, engine="cpu")
    sim.advance(3000)
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    # A thread blocked on the interpreter would tick once or not at all.
    assert len(during) > 0.3 * (end - start) / 0.005, f"{len(during)} ticks in {end - start:.2f} s"


def interrupted_child(tmp_path, body):
    """Runs `body` in a child Python that is sent SIGINT once it has started; returns its output."""
    script = tmp_path / "child.py"
    # Python's own Ctrl-C handler, as an interactive session has it: a child started from a
    # background job inherits SIGINT ignored, and Python then installs none.
    prelude = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
    script.write_text(prelude + textwrap.dedent(body))
    child = subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    started = tmp_path / "started"
    deadline = time.time() + 120
    while not started.exists():
        assert child.poll() is None, child.communicate()
        assert time.time() < deadline, "the child never started"
        time.sleep(0.05)
    time.sleep(1.0)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    return out


def test_ctrl_c_stops_a_run_with_a_checkpoint_and_the_resumed_run_finishes(tmp_path, cli):
    out = interrupted_child(
        tmp_path,
        f"""
        import pathlib, rewire
        pathlib.Path("started").write_text("")
        try:
            rewire.run({str(QUICKSTART)!r}, out="run", engine="cpu", duration_ms=600000.0)
            print("finished")
        except rewire.Interrupted as e:
            print("interrupted:", e)
        """,
    )
    assert out.startswith("interrupted:") and "rewire resume" in out, out
    checkpoint = tmp_path / "run" / "checkpoint.rwck"
    assert checkpoint.is_file() and not (tmp_path / "run" / "summary.json").exists()
    rates = (tmp_path / "run" / "rates.csv").read_text().splitlines()
    assert len(rates) > 1, "the samples before the stop were not written"


def test_ctrl_c_stops_a_stepwise_advance_where_it_is(tmp_path):
    out = interrupted_child(
        tmp_path,
        f"""
        import pathlib, rewire
        sim = rewire.Simulation({str(QUICKSTART)!r}, engine="cpu")
        pathlib.Path("started").write_text("")
        try:
            sim.advance(10_000_000)
            print("finished")
        except KeyboardInterrupt:
            print("stopped at", sim.step)
        """,
    )
    assert out.startswith("stopped at"), out
    step = int(out.split()[-1])
    assert 0 < step < 10_000_000 and step % 1000 == 0, step


def test_a_sweep_and_a_comparison_from_python(tmp_path):
    scene = rewire.load_scene(QUICKSTART)
    c = rewire.sweep(scene, set={"duration_ms": [300.0, 400.0]}, seeds=[1, 2], out=tmp_path / "sweep", engine="cpu")
    assert len(c.table) == 4 and c.groups is not None
    folders = sorted(p for p in (tmp_path / "sweep").iterdir() if p.is_dir())
    assert len(folders) == 4 and all((f / "summary.json").is_file() for f in folders)
    again = rewire.compare([rewire.read_run(f) for f in folders], out=tmp_path / "cmp", group_by="settings")
    assert len(again.table) == 4 and set(again.groups.columns) >= {"group", "metric", "n", "mean"}
    assert (again.groups["n"] == 2).all()
    # Ungrouped into the same folder: the earlier groups.csv is not this comparison's.
    plain = rewire.compare(folders, out=tmp_path / "cmp")
    assert len(plain.table) == 4 and plain.groups is None and plain.contrasts is None


def test_the_example_script_runs(tmp_path):
    r = subprocess.run(
        [sys.executable, str(ROOT / "python" / "examples" / "stepwise_lesion.py"), "--cpu", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "lesion: {'S1': 0, 'M1': 500}" in r.stdout, r.stdout
    assert (tmp_path / "run.nwb").is_file() and (tmp_path / "lesioned.rwck").is_file()


def test_stepwise_on_the_gpu_equals_its_cpu_twin():
    samples = []
    for engine in ("gpu", "cpu"):
        sim = rewire.Simulation(QUICKSTART, engine=engine)
        first = sim.advance(120).sample()
        sim.lesion(population="M1_E", fraction=0.3)
        sim.lesion(tract=("S1", "M1"))
        second = sim.advance(130).sample()
        samples.append((first.raw, second.raw, sim.living()))
    assert samples[0] == samples[1]


def test_the_command_line_refuses_to_resume_a_stepwise_checkpoint(tmp_path, cli):
    sim = rewire.Simulation(QUICKSTART, engine="cpu")
    path = sim.advance(100).save(tmp_path / "s.rwck")
    r = subprocess.run([str(cli), "resume", str(path), "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode != 0 and "rewire.Simulation.resume" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()
