"""A lesion by hand, from Python: run the quickstart network, remove half of M1, watch the rates
and the S1 -> M1 synapses, save the state, and export a full run of the same scene to NWB.

    python python/examples/stepwise_lesion.py [--cpu] [--out DIR]

Prints a table of rates before and after the lesion and writes DIR/run (the run folder),
DIR/run.nwb and DIR/lesioned.rwck.
"""

import argparse
from pathlib import Path

import pandas as pd

import rewire

ROOT = Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="run on the CPU reference instead of the GPU")
    parser.add_argument("--out", default="out/python-example", help="output folder")
    args = parser.parse_args()
    engine = "cpu" if args.cpu else "gpu"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    scene = rewire.load_scene(ROOT / "scenes" / "quickstart.ron").set("seed", 3)
    sim = rewire.Simulation(scene, engine=engine)
    rows = []
    for phase in ("before", "after"):
        if phase == "after":
            killed = sim.lesion(region="M1", fraction=0.5)
            print(f"lesion: {killed} neurons killed; living now {sim.living()}")
        for _ in range(3):
            s = sim.advance(200).sample()
            rows += [
                {"phase": phase, "t_ms": s.t_ms, "population": p, "rate_hz": r, "S1->M1 synapses": s.synapses[0, 1]}
                for p, r in zip(s.populations, s.rates_hz)
            ]
    table = pd.DataFrame(rows)
    print(table.pivot_table(index="population", columns="phase", values="rate_hz").round(2))
    sim.save(out / "lesioned.rwck")

    run = rewire.run(scene, out=out / "run", engine=engine, duration_ms=1000.0)
    print(run, "\n", run.rates.groupby("population")["rate_hz"].mean().round(2))
    print("NWB:", rewire.to_nwb(run, out / "run.nwb"))


if __name__ == "__main__":
    main()
