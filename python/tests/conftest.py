"""Fixtures of the Python package's tests: the repository, the command line built beside it, and
one short protocol run shared by the tests that read a run folder."""

import os
import subprocess
from pathlib import Path

import pytest

import rewire

ROOT = Path(__file__).resolve().parents[2]


def short_protocol() -> rewire.Scene:
    """The showcase with a short protocol: training days -2..-1, the lesion on day 0, rest on
    days 0-1, rehab on day 2, a booster on day 3, a probe every 2 days from day -2 and on day 0."""
    s = rewire.load_scene(ROOT / "scenes" / "stroke_rehab.ron")
    for path, value in [
        ("protocol.Train.days", (-2, -1)),
        ("protocol.Rehab.days", (2, 2)),
        ("protocol.Booster.days", [3]),
        ("protocol[5].days", (4, 4)),
        ("protocol.Probe.every_days", 2),
        ("protocol.Probe.extra_days", [0]),
    ]:
        s.set(path, value)
    return s


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `rewire` command line of this checkout (REWIRE_BIN, or the release build)."""
    path = Path(os.environ.get("REWIRE_BIN", ROOT / "target" / "release" / "rewire"))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: build the command line first (cargo build --release)")
    return path


def run_cli(cli, *args):
    r = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, f"rewire {' '.join(map(str, args))} failed:\n{r.stderr}"
    return r


@pytest.fixture(scope="session")
def protocol_run(tmp_path_factory) -> rewire.Run:
    out = tmp_path_factory.mktemp("protocol") / "run"
    return rewire.run(short_protocol(), out=out, engine="cpu")
