#!/usr/bin/env bash
# Issue 24's real budget for Table 1's generation tasks (gsm8k, mbpp), each in its own units folder (results/TASK/):
# base, LoRA and SVF with 2 learning rates each, up to 24 steps of 64 samples (SVF: REINFORCE, rollouts up to 512
# tokens), validation on 100 held-out training items every 4 steps with patience 2 (the best step kept), every method
# scored on the whole test split (GSM8K 1,319 items, MBPP 127).
# GSM8K adds svf-rloo: SVF with 8 questions a step, 8 rollouts of each sampled at temperature 1, and a leave-one-out
# baseline (plain REINFORCE stalls there, with most greedy rollouts wrong; MBPP's base rate is about 38%).
# Units and candidates are resumable (checkpoint.pt + progress.json in each run folder, committed as they go):
#   bash tools/real_budget.sh TASK candidate 0.006   # one learning-rate candidate per process, one thread each:
#   bash tools/real_budget.sh TASK candidate 0.002   # SVF 0.002/0.006 and LoRA 0.0002/0.0005, one per core (svf and
#                                                    # svf-rloo share the SVF rates: one process trains both in turn)
#   bash tools/real_budget.sh TASK                   # the rest (any candidate not yet trained, then the scoring), and
#                                                    # results/TASK/table1.json + results/TASK/figures/table1.png
#   bash tools/real_budget.sh TASK base              # score the base model alone, beside a candidate
#   bash tools/real_budget.sh TASK method lora       # one trained method alone (its candidates not yet trained, then
#                                                    # its scoring, then `collect`): lora and svf in two processes
#   bash tools/real_budget.sh TASK collect           # rewrite the results file from the finished units only
#   bash tools/real_budget.sh TASK table4 [ROW]      # Table 4's rows on TASK (results/TASK/table4.json): base, svf-mlp and
#                                                    # lora-sft read from Table 1's units, ROW (default svf-sft, the next-
#                                                    # token row) trained at the rates Table 1 selected (SVF 0.006, LoRA
#                                                    # 0.0002), one candidate each: the budget allows no more here
# `bash tools/gsm8k_budget.sh ...` is `bash tools/real_budget.sh gsm8k ...`.
# Memory: one GSM8K SVF candidate process peaks near 11-13 GB (rollouts at batch 64, micro-batches of 4 for the gradient).
set -euo pipefail
cd "$(dirname "$0")/.."
# Rows of these tables scored before session 14 were scored without the shared prompt prefix (20_generate), which
# flips a few near-tie greedy outputs: every unit here runs without it, so all rows of a table share one arithmetic.
export T2REPRO_SHARED_PREFIX=0
usage() { echo "usage: bash tools/real_budget.sh gsm8k|mbpp [candidate LR | base | method M | collect | table4 [ROW]]" >&2; exit 2; }
case "${1:-}" in
  gsm8k) METHODS=base,lora,svf,svf-rloo ;;
  mbpp) METHODS=base,lora,svf ;;
  *) usage ;;
esac
TASK=$1
shift
SPEC=(--steps 24 --batch-size 64 --micro-batch 4 --val-limit 100 --val-every 4
      --patience 2 --test-limit all --rollout-max-new-tokens 512 --svf-lr 0.002,0.006 --lora-lr 0.0002,0.0005
      --eval-batch-size 64 --threads 1 --out "results/$TASK")
ARGS=(--tasks "$TASK" --methods "$METHODS" "${SPEC[@]}")
case "${1:-all}" in
  candidate) [ $# -eq 2 ] || usage; exec t2repro table1 "${ARGS[@]}" --candidate "$2" ;;
  base) exec t2repro table1 "${ARGS[@]}" --methods base ;;
  method) [ $# -eq 2 ] || usage; t2repro table1 "${ARGS[@]}" --methods "$2" && exec t2repro table1 "${ARGS[@]}" --collect ;;   # then the whole table
  collect) exec t2repro table1 "${ARGS[@]}" --collect ;;
  all) exec t2repro table1 "${ARGS[@]}" ;;
  table4) [ $# -le 2 ] || usage
          exec t2repro table4 --tasks "$TASK" --methods base,svf-mlp,svf-attn,svf-mlp-attn,svf-sft,lora-rl,lora-sft "${SPEC[@]}" --svf-lr 0.006 --lora-lr 0.0002 --only "${2:-svf-sft}" ;;
  *) usage ;;
esac
