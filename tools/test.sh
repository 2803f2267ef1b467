#!/usr/bin/env bash
# The test command (what CI runs): every notebook's tests, `#| slow` cells included, which run the embedded default model
# end to end (GGUF from PyPI → SVD anatomy → SVF merge/restore → evaluation → the experiments' checks against the
# committed results); then tests/. The embedded model's SVD factors are computed by the first notebook that needs them
# and cached (~/.cache/t2repro or $T2REPRO_CACHE) for the others.
# T2REPRO_FAST=1 skips the slow cells (a quick local check; CI does not use it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${T2REPRO_FAST:-0}" = "1" ]; then
  nbdev_test --n_workers 2
else
  nbdev_test --n_workers 2 --flags slow
fi
bash tools/gpu_check.sh --cpu --out runs/gpu_check_cpu.json   # the GPU check's CPU mode (tools/gpu_check.sh), so it cannot rot
python -m pytest -q tests/
