"""A run folder as an NWB file (Neurodata Without Borders, through pynwb).

What goes where (times in seconds of simulated time, as NWB counts them; the files' ``t_ms``
divided by 1 000):

- the file's metadata: the scene's name as the session description, the scene text
  (``scene.ron``) as ``source_script``, the seed, engine and sizes in ``experiment_description``
  and ``notes``;
- ``processing["network"]``: the ``regions`` (name, centre and radius in mm, neurons) and
  ``populations`` (name, region, neurons) tables;
- ``processing["rates"]``: a ``TimeSeries`` ``population_rates`` (samples x populations, Hz,
  the populations named in its description and in the ``population_list`` table's order), the
  ``synapses`` and ``weight_sum`` series (samples x source region x target region), and with the
  ``Bold`` readout ``bold`` (TRs x regions, %);
- ``processing["tables"]``: every table of the run folder (rates, connectivity, performance,
  structure, ...) as a ``DynamicTable`` of the same name, column for column;
- the protocol as epochs: one per training, rehab and booster session, probe block and offline
  phase, with its ``day``, ``phase`` and ``what`` (the task); lesions, which take no time, as the
  table ``processing["protocol"]["lesion_events"]`` (day, time, kind);
- performance as its own ``performance`` table (in ``processing["tables"]``);
- the subject: the simulated network, named by scene and seed. The species and age it stands
  for are the lab's to state (``species=``, ``age=``, as DANDI asks): without an age the NWB
  Inspector reports the subject's age missing (importance CRITICAL), and nothing else above a
  suggestion.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import Run, RewireError, TABLES, read_run


def _nwb_modules():
    try:
        import pynwb
        from hdmf.common import DynamicTable
    except ImportError as e:  # pragma: no cover - pynwb is a dependency of the package
        raise RewireError(f"the NWB export needs pynwb ({e}); install it with `pip install pynwb`") from None
    return pynwb, DynamicTable


# What the columns of the run's tables hold, with units (README, "Outputs"); a column not named
# here is described by its table.
COLUMNS = {
    "step": "simulation step at the end of the sample interval",
    "t_ms": "simulated time (ms)",
    "day": "biological day the row stands for",
    "hour_from": "hour of the day the interval starts (biological clock; empty without one)",
    "hour_to": "hour of the day the interval ends (biological clock; empty without one)",
    "population": "population name",
    "region": "region name",
    "source": "source region",
    "target": "target region",
    "spikes": "spikes in the interval",
    "rate_hz": "mean firing rate over the interval (Hz)",
    "synapses": "synapse count",
    "weight_sum": "summed synaptic weight (mV per spike for Izhikevich neurons, pA for LIF)",
    "weight_mean": "mean synaptic weight (units of weight_sum)",
    "phase": "train, rehab, booster or probe",
    "task": "task probed or trained",
    "trials": "trials in the block",
    "correct": "correct trials",
    "accuracy": "fraction of trials correct (0 to 1)",
    "no_response": "trials without a response",
    "latency_ms": "mean cue-to-response latency of correct trials (ms)",
    "neurons": "neurons",
    "dopamine": "dopamine concentration (arbitrary units)",
    "formed": "synapses formed in the interval",
    "pruned": "spines pruned in the interval",
    "retracted": "synapses deleted by element retraction in the interval",
    "eliminated": "synapses eliminated in the interval",
    "tract": "tract, SOURCE->TARGET regions",
    "synapses_rel": "synapses relative to the last sample before the first lesion",
    "weight_rel": "summed weight relative to the last sample before the first lesion",
    "time_s": "simulated time (s)",
    "t_s": "simulated time (s)",
    "field": "field of view (its index in the SpineImaging readout)",
    "imaged_day": "the imaging day of the cohort",
    "surviving": "spines of the cohort still present",
    "spines_imaged": "spines in the field on the imaging day",
    "survival": "fraction of the cohort still present",
    "gained": "spines gained since the previous session",
    "lost": "spines lost since the previous session",
    "gained_pct_per_day": "spines gained per day, % of the previous session's",
    "lost_pct_per_day": "spines lost per day, % of the previous session's",
    "bold_pct": "BOLD signal change from rest (%)",
    "kind": "kind",
}


def _table(DynamicTable, name, df: pd.DataFrame, description: str):
    """A DynamicTable with the DataFrame's columns (text stays text, empty cells NaN)."""
    df = df.reset_index(drop=True).copy()
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype(str)
    columns = [
        {"name": str(c), "description": COLUMNS.get(str(c), f"{c}: see {name}.csv in the README's Outputs")}
        for c in df.columns
    ]
    return DynamicTable.from_dataframe(df, name=name, table_description=description, columns=columns)


def to_nwb(run, path, species: str | None = None, age: str | None = None, sex: str = "O") -> Path:
    """Writes ``run`` (a :class:`rewire.Run` or a finished run folder) to the NWB file ``path``,
    written under a temporary name and renamed when complete. ``species`` (a Latin binomial,
    e.g. "Rattus norvegicus") and ``age`` (ISO 8601, e.g. "P90D") state what the model stands
    for in the subject; ``sex`` defaults to "O" (other: a model)."""
    pynwb, DynamicTable = _nwb_modules()
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.file import Subject

    r = run if isinstance(run, Run) else read_run(run)
    path = Path(path)
    s = r.summary
    text = r.scene_text
    if text is None:
        raise RewireError(
            f"{r.path}: the run folder has no scene.ron (runs before the NWB export did not keep it); "
            "run the scene again to export it",
            path=str(r.path),
        )
    scene = r.scene
    info = scene.info
    # The time the run's summary was written: a run has no wall-clock start of its own worth more.
    stamp = _dt.datetime.fromtimestamp((r.path / "summary.json").stat().st_mtime, tz=_dt.timezone.utc)
    digest = hashlib.sha256(text.encode() + str(s["seed"]).encode()).hexdigest()[:16]
    nwb = NWBFile(
        session_description=f"rewire simulation of scene {s['scene']!r}",
        identifier=f"rewire-{s['scene']}-seed{s['seed']}-{digest}",
        session_start_time=stamp,
        experiment_description=(
            f"rewire {__import__('rewire').__version__}: scene {s['scene']!r}, seed {s['seed']}, engine {s['engine']}, "
            f"{s['neurons']} neurons, {s['synapses']} synapses, dt {s['dt_ms']} ms, "
            f"{s['simulated_ms']} ms simulated"
        ),
        notes=f"seed: {s['seed']}\nengine: {s['engine']}\nscene file: scene.ron (source_script)",
        source_script=text,
        source_script_file_name="scene.ron",
        keywords=["simulation", "rewire", "cortical remodeling"],
        subject=Subject(
            subject_id=f"{s['scene']}-seed{s['seed']}",
            description=f"a simulated cortical network (rewire scene {s['scene']!r}, seed {s['seed']}), no animal",
            sex=sex,
            species=species,
            age=age,
        ),
    )

    net = nwb.create_processing_module("network", "The simulated network: regions and populations")
    regions = pd.DataFrame(
        {
            "region": [x["name"] for x in info["regions"]],
            "centre_x_mm": [x["centre_mm"][0] for x in info["regions"]],
            "centre_y_mm": [x["centre_mm"][1] for x in info["regions"]],
            "centre_z_mm": [x["centre_mm"][2] for x in info["regions"]],
            "radius_mm": [x["radius_mm"] for x in info["regions"]],
        }
    )
    regions["neurons"] = [
        sum(p["count"] for p in info["populations"] if p["region"] == name) for name in regions["region"]
    ]
    net.add(_table(DynamicTable, "region_list", regions, "Regions of the scene: centre and radius (mm), neurons"))
    pops = pd.DataFrame(
        {
            "population": [p["name"] for p in info["populations"]],
            "region": [p["region"] for p in info["populations"]],
            "neurons": [p["count"] for p in info["populations"]],
        }
    )
    net.add(_table(DynamicTable, "population_list", pops, "Populations of the scene, in the order of the rate series"))

    rates = r.rates
    if rates is not None and len(rates):
        series = nwb.create_processing_module("rates", "Sampled aggregates as time series")
        wide = rates.pivot_table(index="t_ms", columns="population", values="rate_hz", sort=False)
        wide = wide.reindex(columns=pops["population"]).sort_index()
        series.add(
            TimeSeries(
                name="population_rates",
                data=wide.to_numpy(dtype=np.float64),
                unit="Hz",
                timestamps=wide.index.to_numpy(dtype=np.float64) / 1e3,
                description="Mean firing rate of each population over each sample interval, at the interval's end; "
                "columns: " + ", ".join(wide.columns),
                comments="columns in the order of processing/network/population_list",
            )
        )
        conn = r.connectivity
        if conn is not None and len(conn):
            names = list(regions["region"])
            times = np.sort(conn["t_ms"].unique())
            at = {t: i for i, t in enumerate(times)}
            index = {n: i for i, n in enumerate(names)}
            for column, unit, what in (
                ("synapses", "synapses", "Synapses from each region onto each region"),
                ("weight_sum", "weight units (mV or pA per spike)", "Summed weight from each region onto each region"),
            ):
                data = np.zeros((len(times), len(names), len(names)))
                for t, a, b, v in zip(conn["t_ms"], conn["source"], conn["target"], conn[column]):
                    data[at[t], index[a], index[b]] = v
                series.add(
                    TimeSeries(
                        name=column,
                        data=data,
                        unit=unit,
                        timestamps=times.astype(np.float64) / 1e3,
                        description=f"{what} at each sample: [time, source, target], regions in the order of "
                        "processing/network/region_list: " + ", ".join(names),
                    )
                )

    bold = r.table("bold")
    if bold is not None and len(bold):
        series = nwb.processing["rates"] if "rates" in nwb.processing else nwb.create_processing_module(
            "rates", "Sampled aggregates as time series"
        )
        wide = bold.pivot_table(index="t_s", columns="region", values="bold_pct", sort=False)
        wide = wide.reindex(columns=regions["region"]).sort_index()
        series.add(
            TimeSeries(
                name="bold",
                data=wide.to_numpy(dtype=np.float64),
                unit="percent",
                # Regular: every repetition time from the first.
                starting_time=float(wide.index[0]),
                rate=float(1.0 / (wide.index[1] - wide.index[0])) if len(wide) > 1 else 1.0,
                description="BOLD signal change from rest of each region (Balloon-Windkessel model, the Bold "
                "readout), every repetition time; columns: " + ", ".join(wide.columns),
            )
        )

    tables = nwb.create_processing_module("tables", "Every table of the run folder, column for column")
    for name in TABLES:
        df = r.table(name)
        if df is not None and len(df):
            tables.add(_table(DynamicTable, name, df, f"{name}.csv of the run folder"))

    timeline = r.timeline()
    if timeline is not None and len(timeline):
        # Phases that take time are epochs; lesions, which take none, are events in a table.
        spans = timeline[timeline["phase"] != "lesion"]
        nwb.add_epoch_column(name="day", description="biological day of the protocol")
        nwb.add_epoch_column(name="phase", description="train, rehab, booster, probe or offline")
        nwb.add_epoch_column(name="what", description="the task of a session or probe block; none offline")
        for row in spans.itertuples(index=False):
            nwb.add_epoch(
                start_time=row.t_from_ms / 1e3,
                stop_time=row.t_to_ms / 1e3,
                day=int(row.day),
                phase=row.phase,
                what=row.what or "none",
            )
        events = timeline[timeline["phase"] == "lesion"]
        if len(events):
            protocol = nwb.create_processing_module("protocol", "The protocol's instantaneous events")
            protocol.add(
                _table(
                    DynamicTable,
                    "lesion_events",
                    pd.DataFrame(
                        {
                            "day": events["day"].astype(int),
                            "time_s": events["t_from_ms"] / 1e3,
                            "kind": events["what"],
                        }
                    ),
                    "Lesions applied: their day, simulated time (s) and kind (focal, fraction, tract_cut, region)",
                )
            )

    partial = path.with_name(path.stem + ".partial.nwb")
    try:
        with NWBHDF5IO(str(partial), "w") as io:
            io.write(nwb)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rewire export-nwb", description="Write a run folder as an NWB file")
    parser.add_argument("run", help="the run folder")
    parser.add_argument("out", help="the NWB file to write")
    parser.add_argument("--species", help='the species the model stands for (e.g. "Rattus norvegicus")')
    parser.add_argument("--age", help='the age it stands for, ISO 8601 (e.g. "P90D")')
    args = parser.parse_args(argv)
    try:
        written = to_nwb(args.run, args.out, species=args.species, age=args.age)
    except RewireError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(written)
    return 0
