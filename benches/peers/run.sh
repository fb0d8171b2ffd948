#!/usr/bin/env bash
# Runs the scaled Potjans & Diesmann microcircuit in rewire and in each installed peer (NEST 3,
# Brian2), one after the other on this machine, and prints build and simulation times, the ratio
# of each simulator's simulation wall time to rewire's, and the per-population rates.
#
# Usage: benches/peers/run.sh [SCENE.ron]      (default scenes/microcircuit_scaled.ron)
# Environment: PYTHON   the Python with nest-simulator and/or brian2 (default /tmp/peers-venv/bin/python)
#              THREADS  threads for NEST and Brian2 (default 2)
#              OUT      where the outputs go (default: a new temp dir)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=benches/peers
scene="${1:-scenes/microcircuit_scaled.ron}"
py="${PYTHON:-/tmp/peers-venv/bin/python}"
threads="${THREADS:-2}"
out="${OUT:-$(mktemp -d /tmp/rewire-peers.XXXXXX)}"
mkdir -p "$out"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
[ -x "$py" ] || py=python3

echo "== rewire (cargo build --release)"
cargo build --release -q
target/release/rewire run "$scene" --out "$out/rewire" | tee "$out/rewire.log"

run_peer() { # name script module
    if ! "$py" -c "import $3" >/dev/null 2>&1; then
        echo "== $1: not installed in $py (skipped)"
        return
    fi
    echo "== $1 ($threads threads)"
    if "$py" "$here/$2" "$scene" --threads "$threads" > "$out/$1.log" 2>&1; then
        grep -v '^RESULT ' "$out/$1.log" | tail -4
        grep '^RESULT ' "$out/$1.log" | sed 's/^RESULT //' > "$out/$1.json"
    else
        echo "$1 failed; see $out/$1.log"; tail -5 "$out/$1.log"
    fi
}
run_peer nest nest_microcircuit.py nest
run_peer brian2 brian2_microcircuit.py brian2

python3 "$here/compare.py" "$scene" "$out"
echo "(outputs in $out)"
