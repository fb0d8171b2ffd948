"""Prints the comparison table of run.sh: reads rewire's summary.json and rates.csv from DIR/rewire
and the `RESULT` json lines the peers wrote to DIR/<peer>.json.

Usage: python compare.py SCENE.ron DIR
"""

import csv
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scene as scenefile  # noqa: E402

scene_path, d = sys.argv[1], sys.argv[2]
sc = scenefile.load(scene_path)
names = [p["name"] for p in sc["populations"]]
counts = {p["name"]: p["count"] for p in sc["populations"]}

summary = json.load(open(os.path.join(d, "rewire", "summary.json")))
spikes = {n: 0 for n in names}
t_end = 0.0
for row in csv.DictReader(open(os.path.join(d, "rewire", "rates.csv"))):
    t = float(row["t_ms"])
    t_end = max(t_end, t)
    if t > 100.0 + 1e-9:  # samples after the first 100 ms, as the peers' [100 ms, end) window
        spikes[row["population"]] += int(row["spikes"])
window_s = (t_end - 100.0) * 1e-3
results = [
    dict(
        tool="rewire (" + summary["engine"].split(" (")[0] + ")",
        build_s=summary["build_s"],
        sim_s=summary["wall_s"],
        simulated_ms=summary["simulated_ms"],
        rates={n: spikes[n] / (counts[n] * window_s) for n in names},
        fano=None,
    )
]
for peer in ("nest", "brian2"):
    path = os.path.join(d, peer + ".json")
    if os.path.exists(path):
        results.append(json.load(open(path)))

base = results[0]["sim_s"]
print(f"\n{scene_path}: {sum(counts.values())} neurons, "
      f"{sum(p['k'] for p in sc['projections'])} synapses, {results[0]['simulated_ms']:.0f} ms simulated")
print(f"{'simulator':44} {'build s':>8} {'compile s':>9} {'sim s':>8} {'sim/rewire':>10} {'realtime':>9}")
for r in results:
    compile_s = f"{r['compile_s']:.1f}" if r.get("compile_s") is not None else "-"
    rt = r["simulated_ms"] * 1e-3 / r["sim_s"]
    print(f"{r['tool']:44} {r['build_s']:8.1f} {compile_s:>9} {r['sim_s']:8.1f} {r['sim_s'] / base:10.2f} {rt:9.4f}")
print("\nrates (Hz, 100 ms to end); Fano: network spikes in 1 ms bins")
print(f"{'simulator':44} " + " ".join(f"{n:>6}" for n in names) + f" {'Fano':>6}")
for r in results:
    fano = f"{r['fano']:6.1f}" if r.get("fano") is not None else f"{'-':>6}"
    print(f"{r['tool']:44} " + " ".join(f"{r['rates'][n]:6.2f}" for n in names) + " " + fano)
print(f"{'Potjans & Diesmann 2014 (full scale)':44} " + " ".join(
    f"{x:6.2f}" for x in (0.9, 2.8, 4.4, 5.7, 7.6, 8.7, 1.1, 7.7)) + f" {'-':>6}")
