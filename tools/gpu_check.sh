#!/usr/bin/env bash
# The GPU check: one prepared run that proves the GPU path on one CUDA GPU (80 GB) in under 8 minutes with no network.
#   1. the notebooks' `#| gpu` cells (if nbdev is installed), then every tiny-model path on the GPU: SVF REINFORCE and
#      exact-gradient steps, a LoRA step, evaluation (generation and multiple choice), adapt with prompt / cls / few-shot
#      CEM, a VQA step, a model sharded across the GPU and the CPU;
#   2. Llama-3-8B-Instruct's shape with random bf16 weights made on the GPU: SVD time, an SVF vs a PEFT LoRA REINFORCE
#      step on 8 x 512 tokens (time, peak memory, ratios), generation tok/s at batch 1 and 32, the mixture switch vs a copy;
#   3. results/gpu_check.json (device, versions, every figure, pass/fail per path) and a summary; status 0 if all passed.
# --cpu: the same script on a tiny shape on the CPU (seconds; tools/test.sh runs it). --out FILE: another results file.
# Needs python with torch, transformers, peft, accelerate, numpy and pillow; anything missing can be carried as wheels:
# T2REPRO_WHEELS=folder installs them first with `pip install --no-index` (no network).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -n "${T2REPRO_WHEELS:-}" ]; then pip install -q --no-index --find-links "$T2REPRO_WHEELS" "$T2REPRO_WHEELS"/*.whl; fi
cpu=0
for a in "$@"; do if [ "$a" = "--cpu" ]; then cpu=1; fi; done
if [ "$cpu" = 0 ] && command -v nbdev_test >/dev/null; then
  for nb in $(grep -l '#| gpu' nbs/*.ipynb); do timeout 120 nbdev_test --n_workers 1 --flags gpu --path "$nb"; done
fi
timeout 480 python -c "from t2repro.experiments.gpu_check import main; raise SystemExit(main())" "$@"
