"""The microcircuit scene of rewire run in Brian2 (cpp_standalone, OpenMP), for a timing and rate
comparison.

Usage: python brian2_microcircuit.py [SCENE.ron] [--threads 2] [--duration MS] [--dir DIR]

Why cpp_standalone: the whole simulation (construction included) runs as one generated C++ program,
without Python in the loop; it is Brian2's fastest CPU mode and the only one that uses several
threads (OpenMP). The runtime modes (numpy, cython) call back into Python for every code object in
every step (55 synapse pathways + 8 groups, 10 000 steps), and numpy would be much slower still
with 3e7 synapses.

Model: per population a NeuronGroup with the iaf_psc_exp equations integrated exactly ('exact':
the same propagators as NEST and rewire), threshold v >= V_th, reset to V_reset, v held for t_ref;
for each projection K uniform (source, target) pairs drawn here with replacement (FixedTotalNumber,
multapses and autapses allowed, as NEST's fixed_total_number), with weights and delays drawn here as
clip(mean + sd N(0,1), lo, hi) and delays rounded to steps by Brian2; Poisson background
as PoissonInput (in_degree trains of 8 Hz per neuron, drawn as a binomial count per step, no delay).

Prints:
  build_s    Python-side construction (drawing the K pairs, setting up objects, code generation)
             plus the part of the compiled program's run before the simulation loop (loading the
             arrays, creating synapses, drawing weights and delays)
  compile_s  compiling the generated C++ (make); reported separately, not counted in build_s
  sim_s      the simulation loop, as timed by Brian2 itself (device._last_run_time)
and the per-population rates over [100 ms, end), then one `RESULT {json}` line for run.sh.
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scene as scenefile  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("scene", nargs="?", default="scenes/microcircuit_scaled.ron")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--duration", type=float, default=None, help="simulated ms (default: the scene's)")
ap.add_argument("--dir", default=None, help="where Brian2 writes the generated project (default: a temp dir)")
args = ap.parse_args()
sc = scenefile.load(args.scene)
duration = args.duration if args.duration is not None else sc["duration_ms"]
workdir = args.dir or tempfile.mkdtemp(prefix="brian2-microcircuit-")

import numpy as np  # noqa: E402
import brian2 as b2  # noqa: E402
from brian2 import ms, mV, pA, pF, Hz  # noqa: E402

t0 = time.perf_counter()
b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
b2.prefs.devices.cpp_standalone.openmp_threads = args.threads
# Brian2's default is an unbounded `make -j`, which runs a compiler per code object at once.
b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{args.threads}"]
b2.prefs.logging.console_log_level = "WARNING"
b2.defaultclock.dt = sc["dt_ms"] * ms
b2.seed(sc["seed"])
rng = np.random.default_rng(sc["seed"])

L = scenefile.LIF
ns = dict(
    C_m=L["C_m"] * pF,
    tau_m=L["tau_m"] * ms,
    tau_syn=L["tau_syn"] * ms,
    E_L=L["E_L"] * mV,
    V_reset=L["V_reset"] * mV,
    V_th=L["V_th"] * mV,
)
eqs = """
dv/dt = -(v - E_L) / tau_m + I / C_m : volt (unless refractory)
dI/dt = -I / tau_syn : amp
"""
BIG = 1e30


def expr(p, unit):
    """A scene Param as a Brian2 expression string."""
    lo = p["lo"] if p["lo"] > -float("inf") else -BIG
    hi = p["hi"] if p["hi"] < float("inf") else BIG
    if p["sd"] == 0.0:
        return f"{p['mean']!r}*{unit}"
    return f"clip({p['mean']!r} + {p['sd']!r}*randn(), {lo!r}, {hi!r})*{unit}"


# One NeuronGroup for all neurons (populations are contiguous slices, in scene order) and one
# Synapses object for all projections: the same network as 8 groups and 55 Synapses, but ~15
# generated code objects instead of ~300, so it compiles in well under a minute on 2 cores.
counts = [p["count"] for p in sc["populations"]]
first = np.concatenate([[0], np.cumsum(counts)])
allg = b2.NeuronGroup(
    int(first[-1]), eqs, threshold="v >= V_th", reset="v = V_reset", refractory=L["t_ref"] * ms,
    method="exact", namespace=ns, name="neurons",
)
allg.I = 0 * pA
groups = [allg[int(first[i]):int(first[i + 1])] for i in range(len(counts))]
for p, g in zip(sc["populations"], groups):
    g.v = expr(p["v_init"], "mV")
monitor = b2.SpikeMonitor(allg)
inputs = [
    b2.PoissonInput(groups[i["target"]], "I", N=i["in_degree"], rate=i["rate_hz"] * Hz, weight=f"{i['weight']!r}*pA")
    for i in sc["inputs"]
]


def draw(p, n):
    """n draws of a scene Param: Normal clipped to [lo, hi] (as rewire), or a constant."""
    return np.clip(p["mean"] + p["sd"] * rng.standard_normal(n), p["lo"], p["hi"])


pre, post, w, d = [], [], [], []
for pr in sc["projections"]:
    s, t, k = pr["source"], pr["target"], pr["k"]
    pre.append(first[s] + rng.integers(0, counts[s], k, dtype=np.int32))
    post.append(first[t] + rng.integers(0, counts[t], k, dtype=np.int32))
    w.append(draw(pr["weight"], k))
    d.append(draw(pr["delay"], k))
syn = b2.Synapses(allg, allg, "w : amp", on_pre="I_post += w", name="synapses")
syn.connect(i=np.concatenate(pre), j=np.concatenate(post))
syn.w = np.concatenate(w) * pA
syn.delay = np.concatenate(d) * ms
del pre, post, w, d
net = b2.Network(allg, monitor, inputs, syn)
net.run(duration * ms)
t1 = time.perf_counter()
b2.device.build(directory=workdir, compile=False, run=False)
t2 = time.perf_counter()
b2.device.compile_source(workdir, None, False, False)
t3 = time.perf_counter()
b2.device.run(directory=workdir, with_output=True, run_args=None)
t4 = time.perf_counter()
sim_s = b2.device._last_run_time
build_s = (t2 - t0) + (t4 - t3 - sim_s)
compile_s = t3 - t2

names = [p["name"] for p in sc["populations"]]
spike_i, spike_t = np.asarray(monitor.i), np.asarray(monitor.t / ms)
times = [spike_t[(spike_i >= first[k]) & (spike_i < first[k + 1])] for k in range(len(counts))]
rates, fano = scenefile.rates_and_fano(times, [p["count"] for p in sc["populations"]], 100.0, duration)
n_syn = len(syn)
print(f"Brian2 {b2.__version__} cpp_standalone, {args.threads} OpenMP threads: {len(allg)} neurons, {n_syn} synapses")
print(f"build {build_s:.2f} s (+ compile {compile_s:.2f} s), simulate {duration:.0f} ms in {sim_s:.2f} s")
print("rates (Hz, 100 ms to end): " + ", ".join(f"{n} {r:.2f}" for n, r in zip(names, rates)))
print(f"network spikes in 1 ms bins: Fano factor {fano:.2f}")
result = dict(tool=f"Brian2 {b2.__version__} cpp_standalone ({args.threads} threads)", build_s=build_s,
              compile_s=compile_s, sim_s=sim_s, simulated_ms=duration, rates=dict(zip(names, rates)), fano=fano)
print("RESULT " + json.dumps(result))
