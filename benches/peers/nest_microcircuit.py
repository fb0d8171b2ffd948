"""The microcircuit scene of rewire run in NEST 3 (iaf_psc_exp), for a timing and rate comparison.

Usage: python nest_microcircuit.py [SCENE.ron] [--threads 2] [--duration MS] [--spikes FILE.npz]

Builds the populations, FixedTotalNumber connections (multapses and autapses allowed), weights,
delays, Poisson background and initial potentials read from the scene (see scene.py), at the
scene's dt, and simulates with `local_num_threads` threads. Prints:
  build_s  wall time of Create + Connect + Prepare (NEST sets up its connection infrastructure in
           Prepare, so it belongs to construction, not to stepping)
  sim_s    wall time of Run(duration): the stepping only
and the per-population rates over [100 ms, end), then one `RESULT {json}` line for run.sh.

Differences from rewire that do not change the statistics: NEST clips with nest.math.max/min
(rewire clips too, so both put the ~3-4% of delay draws below 0.1 ms at 0.1 ms); the Poisson
background reaches the neuron through a poisson_generator with a 1-step delay (rewire: no delay),
one independent train of rate 8 Hz x in_degree per neuron, as in rewire; NEST keeps separate
excitatory and inhibitory synaptic currents with equal time constants, whose sum is rewire's one
current.
"""

import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scene as scenefile  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("scene", nargs="?", default="scenes/microcircuit_scaled.ron")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--duration", type=float, default=None, help="simulated ms (default: the scene's)")
ap.add_argument("--spikes", default=None, help="write every population's spike times (ms) here (.npz)")
args = ap.parse_args()
sc = scenefile.load(args.scene)
duration = args.duration if args.duration is not None else sc["duration_ms"]

import nest  # noqa: E402  (after argument parsing: importing NEST prints a banner)

if hasattr(nest, "VerbosityLevel"):  # NEST >= 3.9
    nest.verbosity = nest.VerbosityLevel.WARNING
else:
    nest.set_verbosity("M_WARNING")
nest.ResetKernel()
t0 = time.perf_counter()
nest.SetKernelStatus(
    {
        "resolution": sc["dt_ms"],
        "local_num_threads": args.threads,
        "rng_seed": sc["seed"],
        "print_time": False,
    }
)
L = scenefile.LIF
neuron_params = {
    "C_m": L["C_m"],
    "tau_m": L["tau_m"],
    "tau_syn_ex": L["tau_syn"],
    "tau_syn_in": L["tau_syn"],
    "t_ref": L["t_ref"],
    "E_L": L["E_L"],
    "V_reset": L["V_reset"],
    "V_th": L["V_th"],
    "I_e": 0.0,
}


def dist(p):
    """A scene Param as a NEST parameter: Normal clipped to [lo, hi], or a constant."""
    if p["sd"] == 0.0:
        return p["mean"]
    x = nest.random.normal(mean=p["mean"], std=p["sd"])
    if p["lo"] > -float("inf"):
        x = nest.math.max(x, p["lo"])
    if p["hi"] < float("inf"):
        x = nest.math.min(x, p["hi"])
    return x


pops = []
recorders = []
for p in sc["populations"]:
    nodes = nest.Create("iaf_psc_exp", p["count"], params=neuron_params)
    nodes.V_m = dist(p["v_init"])
    pops.append(nodes)
    rec = nest.Create("spike_recorder")
    nest.Connect(nodes, rec)
    recorders.append(rec)
for inp in sc["inputs"]:
    pg = nest.Create("poisson_generator", params={"rate": inp["rate_hz"] * inp["in_degree"]})
    nest.Connect(pg, pops[inp["target"]], "all_to_all", {"weight": inp["weight"], "delay": sc["dt_ms"]})
for pr in sc["projections"]:
    nest.Connect(
        pops[pr["source"]],
        pops[pr["target"]],
        {"rule": "fixed_total_number", "N": pr["k"], "allow_autapses": True, "allow_multapses": True},
        {"synapse_model": "static_synapse", "weight": dist(pr["weight"]), "delay": dist(pr["delay"])},
    )
nest.Prepare()
build_s = time.perf_counter() - t0
synapses = nest.GetKernelStatus("num_connections")

t1 = time.perf_counter()
nest.Run(duration)
sim_s = time.perf_counter() - t1
nest.Cleanup()

names = [p["name"] for p in sc["populations"]]
times = [r.get("events")["times"] for r in recorders]
if args.spikes:
    import numpy as np

    np.savez(args.spikes, **{n: np.asarray(t, dtype=float) for n, t in zip(names, times)})
rates, fano = scenefile.rates_and_fano(times, [p["count"] for p in sc["populations"]], 100.0, duration)
print(f"NEST {nest.__version__}, {args.threads} threads: {sum(len(p) for p in pops)} neurons, {synapses} connections")
print(f"build {build_s:.2f} s, simulate {duration:.0f} ms in {sim_s:.2f} s")
print("rates (Hz, 100 ms to end): " + ", ".join(f"{n} {r:.2f}" for n, r in zip(names, rates)))
print(f"network spikes in 1 ms bins: Fano factor {fano:.2f}")
result = dict(tool=f"NEST {nest.__version__} ({args.threads} threads)", build_s=build_s, sim_s=sim_s,
              simulated_ms=duration, rates=dict(zip(names, rates)), fano=fano)
print("RESULT " + json.dumps(result))
