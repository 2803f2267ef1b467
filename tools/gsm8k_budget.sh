#!/usr/bin/env bash
# Issue 24's GSM8K at a real budget: Table 1's GSM8K units (base, LoRA, SVF) with 2 learning rates each, up to 24
# steps of 64 samples (SVF: REINFORCE, rollouts up to 512 tokens), validation on 100 held-out training items every
# 4 steps with patience 2 (the best step kept), every method scored on the whole test split (1,319 items).
# svf-rloo: SVF with 8 questions a step, 8 rollouts of each sampled at temperature 1, and a leave-one-out baseline.
# Units and candidates are resumable (checkpoint.pt + progress.json in each run folder, committed as they go):
#   bash tools/gsm8k_budget.sh candidate 0.006    # one learning-rate candidate per process, one thread each:
#   bash tools/gsm8k_budget.sh candidate 0.002    # SVF 0.002/0.006 and LoRA 0.0002/0.0005, one per core (svf and svf-rloo
#                                                 # share the SVF rates: one process trains both, one after the other)
#   bash tools/gsm8k_budget.sh                    # the rest (any candidate not yet trained, then the scoring), and
#                                                 # results/gsm8k/table1.json + results/gsm8k/figures/table1.png
#   bash tools/gsm8k_budget.sh base               # score the base model alone (1,319 items), beside a candidate
#   bash tools/gsm8k_budget.sh method lora        # one trained method alone (its candidates not yet trained, then its
#                                                 # scoring, then `collect`): lora and svf in two processes
#   bash tools/gsm8k_budget.sh collect            # rewrite the results file from the finished units only
# Memory: one SVF candidate process peaks near 13 GB (rollouts at batch 64, micro-batches of 4 for the gradient).
set -euo pipefail
cd "$(dirname "$0")/.."
ARGS=(--tasks gsm8k --methods base,lora,svf,svf-rloo --steps 24 --batch-size 64 --micro-batch 4 --val-limit 100 --val-every 4
      --patience 2 --test-limit all --rollout-max-new-tokens 512 --svf-lr 0.002,0.006 --lora-lr 0.0002,0.0005
      --eval-batch-size 64 --threads 1 --out results/gsm8k)
case "${1:-all}" in
  candidate) exec t2repro table1 "${ARGS[@]}" --candidate "$2" ;;
  base) exec t2repro table1 "${ARGS[@]}" --methods base ;;
  method) t2repro table1 "${ARGS[@]}" --methods "$2" && exec t2repro table1 "${ARGS[@]}" --collect ;;   # then the whole table
  collect) exec t2repro table1 "${ARGS[@]}" --collect ;;
  all) exec t2repro table1 "${ARGS[@]}" ;;
  *) echo "usage: bash tools/gsm8k_budget.sh [candidate LR | base | method M | collect]" >&2; exit 2 ;;
esac
