"""The LFP proxy of the microcircuit in rewire and in NEST, side by side (issue 22's spectrum check).

Usage (from the repository root; NEST installed as in README.md):
    /tmp/peers-venv/bin/python benches/peers/lfp.py [SCENE.ron] [--duration MS] [--threads N]
        [--out DIR] [--cpu]

Runs the scene (default scenes/microcircuit_scaled.ron) for --duration ms (default 6000), sampled
every second, with `readouts: [Lfp(window_ms: 1000, max_hz: 200)]`, in rewire (GPU, or the CPU twin
with --cpu) and in NEST (nest_microcircuit.py, spike times recorded). NEST's spikes go through the
proxy of rewire's `Lfp` readout written out here in numpy (docs/MODEL.md, "LFP proxy"), with the
couplings the scene implies (per projection K x the mean weight over the source's neurons, at the
mean delay, both of the clipped distributions and rounded to steps as both simulators do); rewire's
own proxy uses the couplings it built (the same in expectation). Each 1 s window is analysed alone
and the first is left out (onset). Prints, per layer, each simulator's peak frequency and band
powers and their ratio, and writes DIR/lfp_compare.csv (region, freq_hz, rewire, nest).
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scene as scenefile  # noqa: E402

BANDS = [("delta", 1, 4), ("theta", 4, 8), ("alpha", 8, 13), ("beta", 13, 30), ("gamma", 30, 80), ("high", 80, 200)]

ap = argparse.ArgumentParser()
ap.add_argument("scene", nargs="?", default="scenes/microcircuit_scaled.ron")
ap.add_argument("--duration", type=float, default=6000.0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--out", default=None)
ap.add_argument("--cpu", action="store_true", help="run rewire on its CPU twin")
ap.add_argument("--rewire", default="target/release/rewire")
args = ap.parse_args()
out = args.out or tempfile.mkdtemp(prefix="rewire-lfp-")
os.makedirs(out, exist_ok=True)

# The scene with the run's length, one sample a second and the readout.
src = open(args.scene).read()
sc = scenefile.load(args.scene)
text = src.replace(f"duration_ms: {sc['duration_ms']}", f"duration_ms: {args.duration}", 1)
text = text.replace("sample_every_ms: 100.0", "sample_every_ms: 1000.0", 1)
end = text.rstrip().rfind(")")
text = text[:end] + "    readouts: [Lfp(window_ms: 1000, max_hz: 200)],\n)\n"
scene_path = os.path.join(out, "scene_lfp.ron")
open(scene_path, "w").write(text)

# Regions: each Population belongs to the last Region named before it.
regions, region_of = [], {}
for line in src.splitlines():
    line = line.split("//")[0]
    if "Region(" in line:
        regions.append(None)
    if regions and regions[-1] is None and 'name: "' in line and "Population(" not in line:
        regions[-1] = line.split('name: "')[1].split('"')[0]
    if "Population(" in line:
        region_of[line.split('name: "')[1].split('"')[0]] = regions[-1]

cmd = [args.rewire, "run", scene_path, "--out", os.path.join(out, "rewire")] + (["--cpu"] if args.cpu else [])
print("==", " ".join(cmd), flush=True)
subprocess.run(cmd, check=True)
spikes = os.path.join(out, "nest_spikes.npz")
cmd = [sys.executable, os.path.join(os.path.dirname(__file__), "nest_microcircuit.py"), scene_path,
       "--threads", str(args.threads), "--duration", str(args.duration), "--spikes", spikes]
print("==", " ".join(cmd), flush=True)
subprocess.run(cmd, check=True)

# rewire's spectrum, averaged over the windows after the first.
import pandas as pd  # noqa: E402

rw = pd.read_csv(os.path.join(out, "rewire", "lfp_spectrum.csv"))
rw = rw[rw.step > rw.step.min()].groupby(["region", "freq_hz"]).power.mean()
rw.index = rw.index.set_levels(np.round(rw.index.levels[1], 6), level=1)

# NEST's spikes through the same proxy.
dt = sc["dt_ms"]
pops = sc["populations"]
names = [p["name"] for p in pops]
layer_names = list(dict.fromkeys(region_of[n] for n in names))
rng = np.random.default_rng(1)


def clipped_mean(p, steps):
    """The mean of a scene Param as drawn, clipped and (for delays) rounded to whole steps."""
    if p["sd"] == 0.0:
        x = np.full(1, p["mean"])
    else:
        x = np.clip(rng.normal(p["mean"], p["sd"], 1_000_000), p["lo"], p["hi"])
    return (np.round(x / dt) if steps else x).mean()


R, P = len(layer_names), len(pops)
exc, inh = np.zeros((P, R)), np.zeros((P, R))
exc_d, inh_d = np.zeros((P, R)), np.zeros((P, R))
for pr in sc["projections"]:
    s, r = pr["source"], layer_names.index(region_of[names[pr["target"]]])
    w = clipped_mean(pr["weight"], False) * pr["k"] / pops[s]["count"]
    d = clipped_mean(pr["delay"], True)
    if w > 0:
        exc_d[s, r] += w * d
        exc[s, r] += w
    else:
        inh_d[s, r] += -w * d
        inh[s, r] += -w
exc_d = np.round(np.divide(exc_d, exc, out=np.zeros_like(exc), where=exc > 0)).astype(int)
inh_d = np.round(np.divide(inh_d, inh, out=np.zeros_like(inh), where=inh > 0)).astype(int)
k = math.exp(-dt / scenefile.LIF["tau_syn"])
lag = int(round(6.0 / dt))
window = int(round(1000.0 / dt))
times = np.load(spikes)
n_steps = int(round(args.duration / dt))
counts = np.zeros((n_steps, P))
for p, n in enumerate(names):
    # A spike in NEST's step (t - dt, t] is rewire's step t / dt - 1.
    idx = np.round(times[n] / dt).astype(int) - 1
    np.add.at(counts[:, p], idx[(idx >= 0) & (idx < n_steps)], 1)


def proxy(c, r):
    ie, ii = np.zeros(len(c)), np.zeros(len(c))
    for p in range(P):
        for cur, w, d in ((ie, exc[p, r], exc_d[p, r]), (ii, inh[p, r], inh_d[p, r])):
            if w > 0:
                cur[d:] += w * c[: len(c) - d, p]
    for cur in (ie, ii):
        for t in range(1, len(cur)):
            cur[t] += k * cur[t - 1]
    e = np.concatenate([np.zeros(lag), ie[:-lag]])
    return e - 1.65 * ii


def spectrum(x):
    n = len(x)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    X = np.fft.rfft((x - x.mean()) * w)
    fs = 1000.0 / dt
    f = np.arange(len(X)) * fs / n
    return f, 2 * np.abs(X) ** 2 / (fs * (w * w).sum())


nest_spec = {}
for r, layer in enumerate(layer_names):
    ps = []
    for start in range(window, n_steps - window + 1, window):
        f, p = spectrum(proxy(counts[start : start + window], r))
        ps.append(p)
    keep = (f > 0) & (f <= 200)
    nest_spec[layer] = pd.Series(np.mean(ps, 0)[keep], index=np.round(f[keep], 6))

rows = []
print(f"\nLFP proxy, mean over {int(args.duration / 1000) - 1} windows of 1 s (band powers: proxy units^2)")
print(f"{'layer':6} {'sim':7} {'peak Hz':>8} " + " ".join(f"{b:>10}" for b, _, _ in BANDS))
for layer in layer_names:
    for sim, s in (("rewire", rw[layer]), ("NEST", nest_spec[layer])):
        f, p = s.index.values.astype(float), s.values
        df = f[1] - f[0]
        bands = [p[(f >= lo) & (f < hi)].sum() * df for _, lo, hi in BANDS]
        peak = f[(f >= 1)][np.argmax(p[f >= 1])]
        print(f"{layer:6} {sim:7} {peak:8.0f} " + " ".join(f"{b:10.3g}" for b in bands))
    a, b = rw[layer], nest_spec[layer]
    ratio = [
        a[(a.index >= lo) & (a.index < hi)].sum() / b[(b.index >= lo) & (b.index < hi)].sum() for _, lo, hi in BANDS
    ]
    print(f"{layer:6} {'ratio':7} {'':8} " + " ".join(f"{x:10.2f}" for x in ratio))
    for f in a.index:
        rows.append((layer, f, a[f], b.get(f, float("nan"))))
pd.DataFrame(rows, columns=["region", "freq_hz", "rewire", "nest"]).to_csv(os.path.join(out, "lfp_compare.csv"), index=False)
print(f"\n{out}/lfp_compare.csv")
