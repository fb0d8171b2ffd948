"""scenes/ei_growth.ron run in NEST 3 (structural plasticity with element types), for a side-by-side
comparison of growth from no synapses.

Usage: python nest_ei_growth.py [SCENE.ron] [--seed N] [--duration MS] [--dt MS] [--threads 1] [--out FILE.csv]

Reads the scene's populations (Lif() defaults, i.e. iaf_psc_exp), growth curves and element types,
Poisson drive, sprouting weights and delays, and the structural interval and speedup (this is not
a RON parser: it reads the constructs that scene uses and fails loudly on anything else).

rewire compresses growth: an update every `every_ms` of simulated time stands for
`every_ms * speedup` of growth. NEST has one clock, so it runs `speedup` times longer, with the
calcium time constant stretched by `speedup` and beta_Ca divided by it (the same calcium at the
same rate), and the structural update every `every_ms * speedup`. Rates and growth per calcium time
constant are then those of the rewire run; rewire's time t (s) is NEST's t * speedup.

Writes one row per population per sample (rewire's sample interval, scaled): time in rewire's
seconds, mean calcium, the population's connected axonal elements (its outgoing synapses) and
its elements of each type; prints one `RESULT {json}` line with the last sample.
"""

import argparse
import json
import re
import sys

NUM = r"-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"
# rewire's Lif() defaults (docs/SCENES.md): NEST's iaf_psc_exp with equal synaptic time constants.
LIF = dict(C_m=250.0, tau_m=10.0, tau_syn_ex=0.5, tau_syn_in=0.5, t_ref=2.0, E_L=-65.0, V_reset=-65.0, V_th=-50.0)
NEST_ELEMENT = dict(AxonEx="Axon_ex", AxonIn="Axon_in", DendriteEx="Den_ex", DendriteIn="Den_in")


def field(text, name, default=None):
    m = re.search(r"\b" + name + r":\s*(" + NUM + ")", text)
    if m:
        return float(m.group(1))
    if default is None:
        raise ValueError(f"{name} not found in: {text[:120]}")
    return default


def load(path):
    src = re.sub(r"//[^\n]*", "", open(path).read())
    sc = dict(
        seed=int(field(src, "seed")),
        dt_ms=field(src, "dt_ms"),
        duration_ms=field(src, "duration_ms"),
        sample_every_ms=field(src, "sample_every_ms"),
    )
    pops = []
    for m in re.finditer(r'Population\(name: "(\w+)", count: (\d+), model: (\w+)\(\)(.*?)\)\),\s*\n', src, re.S):
        name, count, model, rest = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        if model != "Lif":
            raise ValueError(f"population {name}: model {model}() is not read here (Lif() only)")
        g = re.search(r"growth: Growth\((.*?),\s*elements: \[(.*)\]", rest, re.S)
        if not g:
            raise ValueError(f"population {name}: a growth with elements is expected")
        curve = dict(eta=field(g.group(1), "eta"), eps=field(g.group(1), "eps"), nu=field(g.group(1), "nu_per_ms"))
        elements = {}
        for e in re.finditer(r"Element\(kind: (\w+)((?:, \w+: " + NUM + r")*)\)", g.group(2)):
            over = e.group(2)
            elements[NEST_ELEMENT[e.group(1)]] = dict(
                eta=field(over, "eta", curve["eta"]),
                eps=field(over, "eps", curve["eps"]),
                nu=field(over, "nu_per_ms", curve["nu"]),
            )
        pops.append(
            dict(
                name=name,
                count=count,
                tau_ca=field(g.group(1), "tau_ca_ms"),
                beta_ca=field(g.group(1), "beta_ca"),
                calcium_init=field(g.group(1), "calcium_init", curve["eps"]),
                vacant_decay=field(g.group(1), "vacant_decay", 0.0),
                elements=elements,
            )
        )
    if not pops:
        raise ValueError("no populations read")
    sc["pops"] = pops
    sc["inputs"] = [
        dict(to=m.group(1), rate=float(m.group(2)) * float(m.group(3)), weight=float(m.group(4)))
        for m in re.finditer(
            r'Poisson\(to: "(\w+)", rate_hz: (' + NUM + r"), in_degree: (\d+), weight: (" + NUM + r")\)", src
        )
    ]
    sc["every_ms"] = field(src, "every_ms")
    sc["speedup"] = field(src, "speedup")
    sc["sprouts"] = [
        dict(pre=m.group(1), post=m.group(2), weight=float(m.group(3)), delay=float(m.group(4)))
        for m in re.finditer(
            r'Sprout\(from: "(\w+)", to: "(\w+)", length_mm: ' + NUM + r", weight: (" + NUM + r"), delay_ms: (" + NUM + r")\)",
            src,
        )
    ]
    if len(sc["sprouts"]) != src.count("Sprout("):
        raise ValueError("a sprouting rule was not read (from, to, length_mm, weight, delay_ms expected)")
    return sc


ap = argparse.ArgumentParser()
ap.add_argument("scene", nargs="?", default="scenes/ei_growth.ron")
ap.add_argument("--seed", type=int, default=None, help="default: the scene's")
ap.add_argument("--duration", type=float, default=None, help="rewire's simulated ms (default: the scene's)")
ap.add_argument("--dt", type=float, default=None, help="time step in ms (default: the scene's)")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--out", default=None, help="CSV of the samples")
args = ap.parse_args()
sc = load(args.scene)
if args.dt is not None:
    sc["dt_ms"] = args.dt
s = sc["speedup"]
duration = args.duration if args.duration is not None else sc["duration_ms"]

import nest  # noqa: E402  (after argument parsing: importing NEST prints a banner)
import numpy  # noqa: E402

if hasattr(nest, "VerbosityLevel"):  # NEST >= 3.9
    nest.verbosity = nest.VerbosityLevel.WARNING
else:
    nest.set_verbosity("M_WARNING")
nest.ResetKernel()
nest.SetKernelStatus(
    {
        "resolution": sc["dt_ms"],
        "local_num_threads": args.threads,
        "rng_seed": args.seed if args.seed is not None else sc["seed"],
    }
)
nest.structural_plasticity_update_interval = sc["every_ms"] * s
syn = {}
for r in sc["sprouts"]:
    kind = "ex" if r["weight"] > 0 else "in"
    name = f"synapse_{kind}"
    if name in syn:
        if syn[name] != (r["weight"], r["delay"]):
            raise ValueError(f"{name}: one weight and delay per synapse type in this comparison")
        continue
    syn[name] = (r["weight"], r["delay"])
    nest.CopyModel("static_synapse", name, {"weight": r["weight"], "delay": r["delay"]})
nest.structural_plasticity_synapses = {
    name: {
        "synapse_model": name,
        "pre_synaptic_element": "Axon_" + name[-2:],
        "post_synaptic_element": "Den_" + name[-2:],
        "allow_autapses": False,  # rewire's default
    }
    for name in syn
}
nodes = {}
for p in sc["pops"]:
    params = dict(LIF, tau_Ca=p["tau_ca"] * s, beta_Ca=p["beta_ca"] / s)
    n = nest.Create("iaf_psc_exp", p["count"], params)
    n.Ca = p["calcium_init"]
    n.synaptic_elements = {
        k: {
            "growth_curve": "gaussian",
            "growth_rate": c["nu"],
            "continuous": False,
            "eta": c["eta"],
            "eps": c["eps"],
            "tau_vacant": p["vacant_decay"],
        }
        for k, c in p["elements"].items()
    }
    nodes[p["name"]] = n
for i in sc["inputs"]:
    pg = nest.Create("poisson_generator", params={"rate": i["rate"]})
    nest.Connect(pg, nodes[i["to"]], "all_to_all", {"weight": i["weight"], "delay": sc["dt_ms"]})
nest.EnableStructuralPlasticity()

rows = []
every = sc["sample_every_ms"]
for k in range(int(round(duration / every))):
    nest.Simulate(every * s)
    for p in sc["pops"]:
        n = nodes[p["name"]]
        el = n.synaptic_elements
        row = dict(t_s=(k + 1) * every / 1000.0, population=p["name"], calcium=float(numpy.mean(n.Ca)))
        for e in p["elements"]:
            row[e + "_z"] = float(sum(x[e]["z"] for x in el))
            row[e + "_connected"] = int(sum(x[e]["z_connected"] for x in el))
        rows.append(row)
    print(json.dumps(rows[-len(sc["pops"]):]), file=sys.stderr, flush=True)
if args.out:
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(args.out, "w") as f:
        f.write(",".join(keys) + "\n")
        for r in rows:
            f.write(",".join(str(r.get(k, "")) for k in keys) + "\n")
print("RESULT " + json.dumps(rows[-len(sc["pops"]):]))
