#!/usr/bin/env bash
# The test command. Every notebook's tests (nbdev_test), a smoke test of the embedded default model (the slow cells
# of 00_models: assemble + verify + dequantize the GGUF from PyPI, generate, count parameters), then tests/.
# T2REPRO_SLOW=1 runs every notebook's `#| slow` cells too (the embedded model end to end: SVD anatomy, SVF
# merge/restore, evaluation samples; ~15-30 min on 2 cores), the nightly-style run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${T2REPRO_SLOW:-0}" = "1" ]; then
  nbdev_test --n_workers 2 --flags slow
else
  nbdev_test --n_workers 2
  nbdev_test --flags slow --path nbs/00_models.ipynb
fi
python -m pytest -q tests/
