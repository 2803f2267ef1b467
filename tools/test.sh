#!/usr/bin/env bash
# The test command: every notebook's tests including the `#| slow` cells, which run the embedded default model
# end to end (GGUF from PyPI → SVD anatomy → SVF merge/restore → evaluation samples), then tests/.
# Measured on a fresh clone with an empty model cache, 2 cores: ~12 min for the notebooks, ~1.5 min for tests/.
# T2REPRO_FAST=1 skips the slow cells except the embedded-model smoke test in 00_models (~5 min in all).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${T2REPRO_FAST:-0}" = "1" ]; then
  nbdev_test --n_workers 2
  nbdev_test --flags slow --path nbs/00_models.ipynb
else
  nbdev_test --n_workers 2 --flags slow
fi
python -m pytest -q tests/
