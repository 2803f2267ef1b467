#!/usr/bin/env bash
# The test command: every notebook's tests (slow cells included: they load the embedded model), then tests/.
# Set T2REPRO_FAST=1 to skip the `#| slow` cells.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${T2REPRO_FAST:-0}" = "1" ]; then nbdev_test --n_workers 2; else nbdev_test --n_workers 2 --flags slow; fi
python -m pytest -q tests/
