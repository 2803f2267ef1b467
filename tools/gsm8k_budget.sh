#!/usr/bin/env bash
# Issue 24's GSM8K at a real budget: `bash tools/real_budget.sh gsm8k ...` (its header says what runs and how to resume):
#   bash tools/gsm8k_budget.sh candidate 0.006 | candidate 0.002 | base | method M | collect | (nothing: the rest)
exec bash "$(dirname "$0")/real_budget.sh" gsm8k "$@"
