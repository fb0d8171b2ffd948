"""Draws docs/figures/ei_growth.png: calcium and synapse counts over time of scenes/ei_growth.ron in
rewire (with and without element types) and NEST 3, mean and range over seeds.

Usage: python plot_ei_growth.py --rewire DIR... --nest CSV... [--untyped DIR...] --out FILE.png

DIR: `rewire run` folders (growth.csv); CSV: `nest_ei_growth.py --out` files. Needs matplotlib.
"""

import argparse
import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def rewire_run(d):
    rows = {}
    for r in csv.DictReader(open(os.path.join(d, "growth.csv"))):
        t = float(r["t_ms"]) / 1000.0
        o = rows.setdefault(t, {})
        o["ca_" + r["population"]] = float(r["calcium"])
        o["syn_" + r["population"]] = float(r["connected_boutons"])
    return rows


def nest_run(f):
    rows = {}
    for r in csv.DictReader(open(f)):
        t = float(r["t_s"])
        p = r["population"]
        o = rows.setdefault(t, {})
        o["ca_" + p] = float(r["calcium"])
        o["syn_" + p] = float(r["Axon_ex_connected"] if p == "E" else r["Axon_in_connected"])
    return rows


def series(runs, key):
    ts = sorted(set.intersection(*[set(r) for r in runs]))
    v = np.array([[r[t][key] for t in ts] for r in runs])
    return np.array(ts), v.mean(0), v.min(0), v.max(0)


ap = argparse.ArgumentParser()
ap.add_argument("--rewire", nargs="+", required=True)
ap.add_argument("--nest", nargs="+", required=True)
ap.add_argument("--untyped", nargs="*", default=[])
ap.add_argument("--out", required=True)
a = ap.parse_args()
arms = [
    (f"rewire ({len(a.rewire)} seeds)", [rewire_run(d) for d in a.rewire], "-"),
    (f"NEST 3.10 ({len(a.nest)} seeds)", [nest_run(f) for f in a.nest], "--"),
]
if a.untyped:
    arms.append((f"rewire, no element types ({len(a.untyped)} seeds)", [rewire_run(d) for d in a.untyped], ":"))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
for pop, color, eps in (("E", "tab:blue", 0.05), ("I", "tab:red", 0.2)):
    ax1.axhline(eps, color=color, linewidth=3, alpha=0.25)
    for name, runs, style in arms:
        t, m, lo, hi = series(runs, "ca_" + pop)
        ax1.plot(t * 5, m, style, color=color, label=f"{pop}, {name}")
        ax1.fill_between(t * 5, lo, hi, color=color, alpha=0.15)
        t, m, lo, hi = series(runs, "syn_" + pop)
        kind = "excitatory (from E)" if pop == "E" else "inhibitory (from I)"
        ax2.plot(t * 5, m, style, color=color, label=f"{kind}, {name}")
        ax2.fill_between(t * 5, lo, hi, color=color, alpha=0.15)
ax1.set_xlabel("growth time (s; rewire's simulated s x speedup 5)")
ax1.set_ylabel("mean calcium (set points: thick lines)")
ax1.set_ylim(0, 0.22)
ax1.legend(fontsize=7, loc="upper left")
ax2.set_xlabel("growth time (s)")
ax2.set_ylabel("synapses")
ax2.legend(fontsize=7, loc="upper left")
fig.suptitle("scenes/ei_growth.ron: 800 E + 200 I LIF neurons grown from no synapses (mean and range over seeds)", fontsize=9)
fig.tight_layout()
fig.savefig(a.out, dpi=110)
print("wrote", a.out)
