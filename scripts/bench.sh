#!/usr/bin/env bash
# Side-by-side timing of eoskit and the PyTorch reference on the MLP workload
# of BENCHMARKS.md: a two-layer tanh MLP with MSE, n = 500, d = 3072, width
# 512, 10 classes, float64, 2 threads.
#
#   scripts/bench.sh [ROUNDS] [OUTDIR]      (defaults: 7, out/bench)
#
# Each round runs `eos bench gemm`, `eos bench mlp` and the PyTorch script
# one after the other, the order of the last two alternating between rounds
# so that a drift in the machine's load hits both alike. The raw JSON lines
# go to OUTDIR/{eos,torch,gemm}.jsonl with the load average before each run
# in OUTDIR/load.txt; the medians and ratios to OUTDIR/summary.md, which is
# also printed.
#
# Needs Debian's python3-torch (apt-get install -y python3-torch) and, for
# the OpenBLAS backend, libopenblas-dev. TORCH_SCRIPT names the reference
# script; EOS_BENCH_FLAGS adds flags to `eos bench mlp` (for example
# --check).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-7}
out=${2:-out/bench}
torch_script=${TORCH_SCRIPT:-/work/shared/bench/torch_mlp_eos.py}
n=500 d=3072 h=512 k=10 steps=20 threads=2

[ -r "$torch_script" ] || { echo "bench: reference script $torch_script not found (set TORCH_SCRIPT)" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
	{ echo "bench: /usr/bin/python3 cannot import torch: apt-get install -y python3-torch" >&2; exit 1; }

export GOTOOLCHAIN=local GOWORK=off
tags=""
ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ' && tags=openblas
mkdir -p .bin "$out"
go build -tags "$tags" -o .bin/eos-bench ./cmd/eos

# Two threads everywhere: Go's scheduler, OpenBLAS (for eoskit and for
# PyTorch, which Debian links against the same OpenBLAS) and OpenMP.
export GOMAXPROCS=$threads OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads

{
	echo "date: $(date -u +%FT%TZ)"
	echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores)"
	echo "kernel: $(uname -r)"
	echo "go: $(go version)"
	echo "openblas: $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo none)"
	echo "torch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (modified)')"
} >"$out/machine.txt"
: >"$out/eos.jsonl"
: >"$out/torch.jsonl"
: >"$out/gemm.jsonl"
: >"$out/load.txt"

run_eos() {
	echo "round $1 eos: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/load.txt"
	# shellcheck disable=SC2086
	.bin/eos-bench bench mlp --n $n --d $d --width $h --classes $k --steps $steps ${EOS_BENCH_FLAGS:-} >>"$out/eos.jsonl"
}
run_torch() {
	echo "round $1 torch: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/load.txt"
	/usr/bin/python3 "$torch_script" $n $d $h $k $steps float64 $threads >>"$out/torch.jsonl"
}

for ((r = 1; r <= rounds; r++)); do
	echo "bench: round $r of $rounds" >&2
	.bin/eos-bench bench gemm --size 2048 --reps 5 >>"$out/gemm.jsonl"
	if ((r % 2)); then
		run_eos "$r"
		run_torch "$r"
	else
		run_torch "$r"
		run_eos "$r"
	fi
done

/usr/bin/python3 - "$out" <<'PY' | tee "$out/summary.md"
import json, statistics, sys
out = sys.argv[1]
rows = lambda name: [json.loads(l) for l in open(f"{out}/{name}.jsonl") if l.strip()]
eos, torch, gemm = rows("eos"), rows("torch"), rows("gemm")
med = lambda rs, f: statistics.median(r[f] for r in rs)
print(f"{len(eos)} rounds; medians (seconds unless stated)\n")
print("| quantity | eoskit | PyTorch | ratio | target |")
print("|---|---|---|---|---|")
for f, target in [("step_s", 0.9), ("hvp_s", 0.6), ("sharpness_s", 0.25)]:
    e, t = med(eos, f), med(torch, f)
    print(f"| {f} | {e:.4g} | {t:.4g} | {e / t:.3f} | ≤ {target} {'met' if e / t <= target else 'MISSED'} |")
print(f"| hvp_cold_s | {med(eos, 'hvp_cold_s'):.4g} | | {med(eos, 'hvp_cold_s') / med(torch, 'hvp_s'):.3f} | (HVP at changing parameters) |")
print(f"| model_step_s | {med(eos, 'model_step_s'):.4g} | | | |")
print(f"| sharpness HVPs | {med(eos, 'sharpness_hvps'):.0f} | 20 | | |")
peak = med(gemm, "gflops")
flops = lambda r: 4 * r["n"] * (r["d"] * r["h"] + r["h"] * r["k"]) + 2 * r["n"] * r["h"] * r["k"]
tg = statistics.median(flops(r) / r["step_s"] / 1e9 for r in torch)
print(f"| step GFLOP/s | {med(eos, 'step_gflops'):.4g} | {tg:.4g} | | |")
print(f"| DGEMM 2048 peak GFLOP/s | {peak:.4g} | | | |")
print(f"| step / peak | {med(eos, 'step_gflops') / peak:.3f} | {tg / peak:.3f} | | |")
print()
print("step GFLOP/s of both count the products a step does, 4n(dh+hk)+2nhk flops;")
print("the PyTorch script's own step_gflops counts 6n(dh+hk).")
PY
