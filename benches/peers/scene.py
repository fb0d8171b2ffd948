"""Reads the microcircuit scene (scenes/microcircuit*.ron) into plain Python, so that the peer
simulators build exactly the populations, K values, weights, delays and inputs that rewire runs.

This is not a RON parser: it reads the few constructs those scene files use (one Population,
Projection or Poisson per line; Normal(mean:, sd:, min:/max:) or plain numbers) and fails loudly on
anything else. The neuron parameters are the `Lif()` defaults (Potjans & Diesmann 2014), which the
scenes do not override; that is checked too.
"""

import math
import re

# The Lif() defaults of rewire (docs/SCENES.md), i.e. NEST iaf_psc_exp as Potjans & Diesmann use it.
LIF = dict(C_m=250.0, tau_m=10.0, tau_syn=0.5, t_ref=2.0, E_L=-65.0, V_reset=-65.0, V_th=-50.0)

NUM = r"-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"


def _param(text):
    """A Param as a dict(mean, sd, lo, hi): a plain number or Normal(mean:, sd:, min:, max:)."""
    text = text.strip()
    if re.fullmatch(NUM, text):
        return dict(mean=float(text), sd=0.0, lo=-math.inf, hi=math.inf)
    m = re.fullmatch(r"Normal\((.*)\)", text)
    if not m:
        raise ValueError(f"unsupported parameter form: {text}")
    fields = dict(re.findall(r"(\w+):\s*(" + NUM + ")", m.group(1)))
    unknown = set(fields) - {"mean", "sd", "min", "max"}
    if unknown:
        raise ValueError(f"unsupported Normal fields {unknown} in {text}")
    return dict(
        mean=float(fields["mean"]),
        sd=float(fields["sd"]),
        lo=float(fields.get("min", -math.inf)),
        hi=float(fields.get("max", math.inf)),
    )


def load(path):
    src = open(path).read()
    # Drop // comments (the scene has no strings containing //).
    src = "\n".join(line.split("//")[0] for line in src.splitlines())

    def scalar(field):
        m = re.search(r"\b" + field + r":\s*(" + NUM + ")", src)
        if not m:
            raise ValueError(f"{path}: no {field}")
        return float(m.group(1))

    scene = dict(seed=int(scalar("seed")), dt_ms=scalar("dt_ms"), duration_ms=scalar("duration_ms"))
    pops = []
    for m in re.finditer(r'Population\(name: "(\w+)", count: (\d+), model: Lif\((.*)\)\),', src):
        args = m.group(3)
        v = re.fullmatch(r"v_init_mv: (Normal\(.*\))", args.strip())
        if not v:
            raise ValueError(f"{path}: population {m.group(1)}: only v_init_mv may be set, got {args}")
        pops.append(dict(name=m.group(1), count=int(m.group(2)), v_init=_param(v.group(1))))
    if len(pops) != src.count("Population("):
        raise ValueError(f"{path}: could not read every Population")
    names = [p["name"] for p in pops]
    projs = []
    pat = (
        r'Projection\(from: "(\w+)", to: "(\w+)", rule: FixedTotalNumber\((\d+)\), '
        r"weight: (.*?), delay_ms: (.*?)\),\n"
    )
    for m in re.finditer(pat, src):
        projs.append(
            dict(
                source=names.index(m.group(1)),
                target=names.index(m.group(2)),
                k=int(m.group(3)),
                weight=_param(m.group(4)),
                delay=_param(m.group(5)),
            )
        )
    if len(projs) != src.count("Projection("):
        raise ValueError(f"{path}: could not read every Projection (only FixedTotalNumber is supported)")
    inputs = []
    for m in re.finditer(r'Poisson\(to: "(\w+)", rate_hz: (' + NUM + r"), in_degree: (\d+), weight: (" + NUM + r")\)", src):
        inputs.append(
            dict(target=names.index(m.group(1)), rate_hz=float(m.group(2)), in_degree=int(m.group(3)),
                 weight=float(m.group(4)))
        )
    if len(inputs) != src.count("Poisson("):
        raise ValueError(f"{path}: could not read every Poisson input")
    if any(w in src for w in ("Dc(", "Noise(")):
        raise ValueError(f"{path}: Dc and Noise inputs are not supported here")
    scene.update(populations=pops, projections=projs, inputs=inputs)
    return scene


def rates_and_fano(spike_times_ms, counts, t0_ms, t1_ms):
    """Per-population rates (Hz) over [t0, t1) and the Fano factor of the whole network's spike
    count in 1 ms bins over the same window (about 1 for independent neurons; larger when the
    population fires in synchronous waves)."""
    import numpy as np

    rates = []
    bins = np.zeros(int(round(t1_ms - t0_ms)))
    for times, n in zip(spike_times_ms, counts):
        t = np.asarray(times, dtype=float)
        t = t[(t >= t0_ms) & (t < t1_ms)]
        rates.append(len(t) / (n * (t1_ms - t0_ms) * 1e-3))
        bins += np.bincount(((t - t0_ms) // 1.0).astype(int), minlength=len(bins))[: len(bins)]
    mean = bins.mean()
    fano = bins.var() / mean if mean > 0 else float("nan")
    return rates, fano


if __name__ == "__main__":
    import sys

    s = load(sys.argv[1])
    print(len(s["populations"]), "populations,", sum(p["count"] for p in s["populations"]), "neurons,",
          len(s["projections"]), "projections,", sum(p["k"] for p in s["projections"]), "synapses")
