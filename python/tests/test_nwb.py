"""The NWB export: it reads back with pynwb to the run's numbers, passes the NWB Inspector, and
the command line's `rewire export-nwb` writes the same."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pynwb import NWBHDF5IO

import rewire
from conftest import ROOT


@pytest.fixture(scope="module")
def nwb_file(protocol_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("nwb") / "run.nwb"
    rewire.to_nwb(protocol_run, path, species="Rattus norvegicus", age="P90D")
    return path


def test_an_nwb_file_reads_back_to_the_runs_numbers(protocol_run, nwb_file):
    run = protocol_run
    with NWBHDF5IO(str(nwb_file), "r") as io:
        nwb = io.read()
        assert nwb.source_script == run.scene_text
        assert f"seed: {run.summary['seed']}" in nwb.notes
        assert run.summary["scene"] in nwb.session_description

        pops = nwb.processing["network"]["population_list"].to_dataframe()
        assert list(pops["population"]) == [p for p in run.rates["population"].unique()]
        regions = nwb.processing["network"]["region_list"].to_dataframe()
        assert regions["neurons"].sum() == run.summary["neurons"]

        rates = nwb.processing["rates"]["population_rates"]
        wide = run.rates.pivot_table(index="t_ms", columns="population", values="rate_hz").reindex(
            columns=pops["population"]
        )
        np.testing.assert_array_equal(rates.data[:], wide.to_numpy())
        np.testing.assert_array_equal(rates.timestamps[:], wide.index.to_numpy() / 1e3)
        assert rates.unit == "Hz"

        synapses = nwb.processing["rates"]["synapses"].data[:]
        last = run.connectivity[run.connectivity["t_ms"] == run.connectivity["t_ms"].max()]
        names = list(regions["region"])
        for row in last.itertuples():
            assert synapses[-1, names.index(row.source), names.index(row.target)] == row.synapses

        bold = nwb.processing["rates"]["bold"]
        wide = run.bold.pivot_table(index="t_s", columns="region", values="bold_pct").reindex(columns=names)
        np.testing.assert_array_equal(bold.data[:], wide.to_numpy())
        np.testing.assert_allclose(bold.get_timestamps(), wide.index.to_numpy(), rtol=1e-12)
        assert "tracts" in run.tables and "bold" in run.tables

        for name, table in run.tables.items():
            back = nwb.processing["tables"][name].to_dataframe().reset_index(drop=True)
            pd.testing.assert_frame_equal(back, table, check_dtype=False, obj=name)

        epochs = nwb.epochs.to_dataframe()
        timeline = run.timeline()
        spans = timeline[timeline["phase"] != "lesion"]
        assert len(epochs) == len(spans)
        np.testing.assert_array_equal(epochs["start_time"], spans["t_from_ms"] / 1e3)
        np.testing.assert_array_equal(epochs["stop_time"], spans["t_to_ms"] / 1e3)
        assert list(epochs["phase"]) == list(spans["phase"])
        assert set(epochs["phase"]) == {"train", "probe", "rehab", "booster", "offline"}
        lesions = nwb.processing["protocol"]["lesion_events"].to_dataframe()
        assert list(lesions["day"]) == run.summary["protocol"]["lesion_days"]


def test_the_nwb_inspector_finds_nothing_above_a_suggestion(nwb_file):
    from nwbinspector import Importance, inspect_nwbfile

    messages = list(inspect_nwbfile(nwbfile_path=str(nwb_file)))
    worse = [m for m in messages if m.importance.value > Importance.BEST_PRACTICE_SUGGESTION.value]
    assert not worse, "\n".join(f"{m.importance.name} {m.check_function_name}: {m.message}" for m in worse)


def test_the_command_line_exports_the_same_file(protocol_run, nwb_file, cli, tmp_path):
    out = tmp_path / "cli.nwb"
    r = subprocess.run(
        [str(cli), "export-nwb", str(protocol_run.path), str(out), "--python", sys.executable],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    with NWBHDF5IO(str(out), "r") as a, NWBHDF5IO(str(nwb_file), "r") as b:
        x, y = a.read(), b.read()
        np.testing.assert_array_equal(
            x.processing["rates"]["population_rates"].data[:], y.processing["rates"]["population_rates"].data[:]
        )
        assert x.source_script == y.source_script
    assert not list(tmp_path.glob("*.partial.nwb"))


def test_export_nwb_says_what_is_missing(protocol_run, cli, tmp_path):
    r = subprocess.run(
        [str(cli), "export-nwb", str(protocol_run.path), str(tmp_path / "x.nwb"), "--python", "/bin/false"],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "pip install ./python" in r.stderr, r.stderr
    r = subprocess.run(
        [str(cli), "export-nwb", str(tmp_path / "nowhere"), str(tmp_path / "x.nwb")], capture_output=True, text=True
    )
    assert r.returncode != 0 and "no such run folder" in r.stderr, r.stderr
    # A folder without the scene it ran (from before scene.ron was kept) is refused by name.
    old = tmp_path / "old"
    old.mkdir()
    (old / "summary.json").write_text((protocol_run.path / "summary.json").read_text())
    with pytest.raises(rewire.RewireError, match="no scene.ron"):
        rewire.to_nwb(old, tmp_path / "old.nwb")
    assert not (tmp_path / "old.nwb").exists()
