"""A run folder as an NWB file (Neurodata Without Borders, through pynwb).

What goes where (times in seconds of simulated time, as NWB counts them; the files' ``t_ms``
divided by 1 000):

- the file's metadata: the scene's name as the session description, the scene text
  (``scene.ron``) as ``source_script``, the seed, engine and sizes in ``experiment_description``
  and ``notes``;
- ``processing["network"]``: the ``regions`` (name, centre and radius in mm, neurons) and
  ``populations`` (name, region, neurons) tables;
- ``processing["rates"]``: a ``TimeSeries`` ``population_rates`` (samples x populations, Hz,
  the populations named in its description and in the ``populations`` table's order), one
  ``synapses`` and one ``weight_sum`` series (samples x region pairs, source-major);
- ``processing["tables"]``: every table of the run folder (rates, connectivity, performance,
  structure, ...) as a ``DynamicTable`` of the same name, column for column;
- the protocol as epochs: one per lesion, training, rehab and booster session, probe block and
  offline phase, with its ``day``, ``phase`` and ``what`` (a lesion's kind, a probe's task);
  a lesion, which takes no time, is an epoch whose start and stop are equal;
- performance as its own ``performance`` table (in ``processing["tables"]``).
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


def _table(DynamicTable, name, df: pd.DataFrame, description: str):
    """A DynamicTable with the DataFrame's columns (text stays text, empty cells NaN)."""
    df = df.reset_index(drop=True).copy()
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype(str)
    return DynamicTable.from_dataframe(df, name=name, table_description=description)


def to_nwb(run, path) -> Path:
    """Writes ``run`` (a :class:`rewire.Run` or a finished run folder) to the NWB file ``path``,
    written under a temporary name and renamed when complete."""
    pynwb, DynamicTable = _nwb_modules()
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.base import ProcessingModule

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
    )

    net = nwb.create_processing_module("network", "The simulated network: regions and populations")
    regions = pd.DataFrame(
        {
            "name": [x["name"] for x in info["regions"]],
            "centre_x_mm": [x["centre_mm"][0] for x in info["regions"]],
            "centre_y_mm": [x["centre_mm"][1] for x in info["regions"]],
            "centre_z_mm": [x["centre_mm"][2] for x in info["regions"]],
            "radius_mm": [x["radius_mm"] for x in info["regions"]],
        }
    )
    regions["neurons"] = [
        sum(p["count"] for p in info["populations"] if p["region"] == name) for name in regions["name"]
    ]
    net.add(_table(DynamicTable, "regions", regions, "Regions of the scene: centre and radius (mm), neurons"))
    pops = pd.DataFrame(
        {
            "name": [p["name"] for p in info["populations"]],
            "region": [p["region"] for p in info["populations"]],
            "neurons": [p["count"] for p in info["populations"]],
        }
    )
    net.add(_table(DynamicTable, "populations", pops, "Populations of the scene, in the order of the rate series"))

    rates = r.rates
    if rates is not None and len(rates):
        series = nwb.create_processing_module("rates", "Sampled aggregates as time series")
        wide = rates.pivot_table(index="t_ms", columns="population", values="rate_hz", sort=False)
        wide = wide.reindex(columns=pops["name"]).sort_index()
        series.add(
            TimeSeries(
                name="population_rates",
                data=wide.to_numpy(dtype=np.float64),
                unit="Hz",
                timestamps=wide.index.to_numpy(dtype=np.float64) / 1e3,
                description="Mean firing rate of each population over each sample interval, at the interval's end; "
                "columns: " + ", ".join(wide.columns),
                comments="columns in the order of processing/network/populations",
            )
        )
        conn = r.connectivity
        if conn is not None and len(conn):
            pairs = [(a, b) for a in regions["name"] for b in regions["name"]]
            key = conn["source"] + "->" + conn["target"]
            order = [f"{a}->{b}" for a, b in pairs]
            for column, unit, what in (
                ("synapses", "synapses", "Synapses from each region onto each region"),
                ("weight_sum", "weight units (mV or pA per spike)", "Summed weight from each region onto each region"),
            ):
                w = conn.assign(pair=key).pivot_table(index="t_ms", columns="pair", values=column, sort=False)
                w = w.reindex(columns=order).sort_index()
                series.add(
                    TimeSeries(
                        name=column,
                        data=w.to_numpy(dtype=np.float64),
                        unit=unit,
                        timestamps=w.index.to_numpy(dtype=np.float64) / 1e3,
                        description=f"{what}, at each sample; columns (source->target): " + ", ".join(order),
                    )
                )

    tables = nwb.create_processing_module("tables", "Every table of the run folder, column for column")
    for name in TABLES:
        df = r.table(name)
        if df is not None and len(df):
            tables.add(_table(DynamicTable, name, df, f"{name}.csv of the run folder"))

    timeline = r.timeline()
    if timeline is not None and len(timeline):
        nwb.add_epoch_column(name="day", description="biological day of the protocol")
        nwb.add_epoch_column(name="phase", description="lesion, train, rehab, booster, probe or offline")
        nwb.add_epoch_column(name="what", description="a lesion's kind, a probe's or session's task")
        for row in timeline.itertuples(index=False):
            nwb.add_epoch(
                start_time=row.t_from_ms / 1e3,
                stop_time=row.t_to_ms / 1e3,
                day=int(row.day),
                phase=row.phase,
                what=row.what or "none",
            )

    partial = path.with_name(path.name + ".partial")
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
    args = parser.parse_args(argv)
    try:
        written = to_nwb(args.run, args.out)
    except RewireError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(written)
    return 0
