#!/usr/bin/env bash
# The GPU check of hw, in one run, on a machine with CUDA:
#
#   1. the test suite's CUDA marks           (python -m pytest -m cuda)
#   2. training throughput of the synthesis network at paper size (3x400, stride 1), float32 and
#      bf16, at batch 32 and at the largest batch that fits (64, 128, ... up to --max-batch),
#      in time steps (batch x line length) per second, through the code `hw train` runs
#   3. `hw train synthesis` itself on CUDA for a few steps, float32 and bf16
#   4. `torchrun --nproc-per-node 1 -m hwcli train ...` under NCCL (and 2 processes when there
#      are 2 GPUs)
#   5. `hw write` with CUDA visible, and the same SVG bytes as with CUDA hidden
#
# Results go under $OUT (default ./gpu-check): summary.json (one object: the figures and each
# step's status) and one log per step. Exits 2 at once, saying so, when there is no CUDA device;
# 1 when a step failed (the others still run; summary.json names the failures).
#
#   bash bench/gpu_check.sh [--data FILE] [--steps 200] [--max-batch 1024] [--quick]
#
# --data: a dataset file from `hw preprocess` (default: a synthetic one of paper-length lines,
# made here from the generator in tests/conftest.py, so the check needs no data set).
# --quick: 30 steps and batches up to 128 (a few minutes at most).
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$PWD/gpu-check}"
python="${PYTHON:-python}"
data="" steps=200 max_batch=1024
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --max-batch) max_batch="$2"; shift 2 ;;
    --quick) steps=30; max_batch=128; shift ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$repo"
if ! "$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  reason="$("$python" -c "import torch; print(f'torch {torch.__version__}, CUDA build {torch.version.cuda}, devices {torch.cuda.device_count()}')" 2>&1 | tail -1)"
  echo "gpu_check: no CUDA device here ($reason); nothing was run. Run this on a machine with a GPU." >&2
  exit 2
fi

mkdir -p "$OUT/work"
work="$OUT/work"
export HW_HOME="$work/home"
failures=()
step() {  # step NAME COMMAND...: run, log to $OUT/NAME.log, remember a failure
  local name="$1"; shift
  echo "== $name" >&2
  if "$@" >"$OUT/$name.log" 2>&1; then
    echo "   ok" >&2
  else
    echo "   FAILED (exit $?): tail of $OUT/$name.log:" >&2
    tail -5 "$OUT/$name.log" | sed 's/^/   /' >&2
    failures+=("$name")
  fi
}

{ nvidia-smi || true; "$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0), torch.cuda.device_count(), 'devices')"; } >"$OUT/environment.txt" 2>&1

# bf16 by whichever flag `hw train` has.
help="$("$python" -m hwcli train --help 2>&1)"
if grep -q -- "--precision" <<<"$help"; then fp32_flag=(--precision fp32); bf16_flag=(--precision bf16)
else fp32_flag=(); bf16_flag=(--bf16); fi

if [ -z "$data" ]; then
  data="$work/synthetic.npz"
  step make_data "$python" - "$data" <<'EOF'
"""Paper-length synthetic lines (the made-up glyphs of tests/conftest.py): 2,048 training, 128 validation."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "tests")
from conftest import SYNTHETIC_TEXTS, synthetic_line  # noqa: E402

from hwcli.data import dataset as datasets  # noqa: E402
from hwcli.data.iamondb import Line  # noqa: E402
from hwcli.data.ink import strokes_to_offsets  # noqa: E402

rng = np.random.default_rng(0)
lines = []
for i in range(2176):
    text = SYNTHETIC_TEXTS[i % len(SYNTHETIC_TEXTS)]
    strokes = [s * np.array([1, -1]) for s in synthetic_line(text, rng)]  # the files' y down -> y up
    lines.append(Line(f"g{i // 4:04d}-000a-{i % 4 + 1:02d}", f"g{i // 4:04d}", text, strokes_to_offsets(strokes)))
split = np.array([datasets.TRAIN] * 2048 + [datasets.VALIDATION] * 128, np.uint8)
data = datasets.build(lines, split, {"source": "synthetic", "split_kind": "lists"})
datasets.save(data, Path(sys.argv[1]))
print(len(data), "lines,", len(data.offsets) / len(data), "points per line")
EOF
fi

# 1. the CUDA marks of the test suite
step pytest_cuda "$python" -m pytest -m cuda -p no:cacheprovider -rs tests

# 2. throughput, through session.run (what `hw train` calls), paper size, stride 1
step throughput "$python" - "$data" "$steps" "$max_batch" "$OUT/throughput.json" <<'EOF'
import dataclasses, json, statistics, sys, tempfile, time
from pathlib import Path

import torch

from hwcli.training import session
from hwcli.training.loop import TrainOptions

data, steps, max_batch, out = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
fields = {f.name for f in dataclasses.fields(TrainOptions)}
PAPER = dict(hidden=400, layers=3, mixtures=20, window_mixtures=10)


def options(batch, bf16, max_steps):
    # Say float32 too: the default precision (auto) is bf16 on CUDA 8.0+.
    if "precision" in fields:
        low = {"precision": "bf16" if bf16 else "fp32"}
    else:
        low = {"bf16": True} if bf16 else {}
    return TrainOptions(epochs=10_000, batch_size=batch, max_steps=max_steps, save_every_s=1e9, **low)


def run(batch, bf16, max_steps):
    speeds = []
    torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        session.run("synthesis", data, Path(home) / "m", dict(PAPER), options(batch, bf16, max_steps), "cuda", stride=1,
                    callback=lambda event, **d: speeds.append(d["steps_per_second"]) if event == "step" else None)
        wall = time.perf_counter() - started
    warm = speeds[min(10, len(speeds) // 2):]  # the first steps compile and warm up
    return {"batch": batch, "precision": "bf16" if bf16 else "fp32", "optimiser_steps": len(speeds),
            "time_steps_per_second": round(statistics.median(warm)), "wall_seconds": round(wall, 1),
            "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)}


def fits(batch, bf16):
    try:
        run(batch, bf16, 2)
        return True
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        return False


results = []
for bf16 in (False, True):
    results.append(run(32, bf16, steps))
    print(json.dumps(results[-1]), flush=True)
    big, batch = None, 64
    while batch <= max_batch and fits(batch, bf16):
        big, batch = batch, batch * 2
    if big:
        results.append({**run(big, bf16, steps), "largest_batch_that_fits": big, "capped_by_max_batch": batch > max_batch})
        print(json.dumps(results[-1]), flush=True)
out.write_text(json.dumps({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "sizes": PAPER,
                           "stride": 1, "data": str(data), "runs": results}, indent=1))
EOF

# 3. the command itself on CUDA
step train_cli_fp32 "$python" -m hwcli train synthesis --data "$data" --name cli-fp32 --device cuda --stride 1 \
  --batch-size 32 --max-steps 20 ${fp32_flag[@]+"${fp32_flag[@]}"}
step train_cli_bf16 "$python" -m hwcli train synthesis --data "$data" --name cli-bf16 --device cuda --stride 1 \
  --batch-size 32 --max-steps 20 ${bf16_flag[@]+"${bf16_flag[@]}"}

# 4. torchrun under NCCL: a world of one (every collective runs), and of two with two GPUs
torchrun_bin="$(dirname "$(command -v "$python")")/torchrun"
[ -x "$torchrun_bin" ] || torchrun_bin="torchrun"
gpus="$("$python" -c "import torch; print(torch.cuda.device_count())")"
for n in 1 2; do
  [ "$n" -le "$gpus" ] || continue
  step "torchrun_nccl_$n" "$torchrun_bin" --standalone --nproc-per-node "$n" -m hwcli train synthesis --data "$data" \
    --name "torchrun-$n" --device cuda --batch-size 32 --max-steps 20 --epochs 1
  [ -f "$HW_HOME/models/torchrun-$n/last.pt" ] || failures+=("torchrun_nccl_$n: no last.pt")
done

# 5. hw write with CUDA visible; the same bytes with it hidden
step write_cuda "$python" -m hwcli write "Good morning" -o "$OUT/write_cuda.svg" --seed 1
step write_cpu env CUDA_VISIBLE_DEVICES= "$python" -m hwcli write "Good morning" -o "$work/write_cpu.svg" --seed 1
if [ -f "$OUT/write_cuda.svg" ] && [ -f "$work/write_cpu.svg" ] && ! cmp -s "$OUT/write_cuda.svg" "$work/write_cpu.svg"; then
  failures+=("write: SVG with CUDA differs from the CPU one")
fi

"$python" - "$OUT" "${failures[@]+"${failures[@]}"}" <<'EOF'
import json, sys
from pathlib import Path

out, failures = Path(sys.argv[1]), sys.argv[2:]
throughput = out / "throughput.json"
summary = {"ok": not failures, "failures": failures,
           "throughput": json.loads(throughput.read_text()) if throughput.is_file() else None,
           "environment": (out / "environment.txt").read_text()[-2000:]}
(out / "summary.json").write_text(json.dumps(summary, indent=1))
print(json.dumps({"ok": summary["ok"], "failures": failures}))
EOF
[ ${#failures[@]} -eq 0 ]
