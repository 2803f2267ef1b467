#!/usr/bin/env python
"""Where the shipped generation path spends its time: the evidence behind `generation_engine_vs_hf`'s explanation.

Usage (from the repository root): `python tools/engine_profile.py --n 64 --cap 128`

On one torch thread, with the embedded model in bf16 and the bench's workload (the first N GSM8K test prompts,
greedy, cap new tokens, `GEN_BATCH` rows, so the same shape as `t2repro bench`'s engine rounds), this records:
- the bf16 GEMM rate of an MLP-shaped and an `lm_head`-shaped matmul at 8, 64 and 256 rows, through `F.linear` and
  through a weight packed once (`t2repro.weights.packed`), the same kernel;
- one shipped run, its wall time split into prefills (batch 1, one per prompt, after the shared prefix) and decode
  steps, with the decode steps grouped by how many rows were active;
- the same run under `torch.profiler`: each operator's share of the self CPU time (the top ones);
- what each switch of the engine (`ENGINE`: packed weights, the KV cache with room, the shared prefix) is worth: the
  shipped path and the shipped path with one switch off, interleaved over two rounds, with each one's speed-up (the
  median tokens/s of the shipped path over the one without it) and the share of outputs it leaves identical; beside
  them the bench's old setting (`OLD_ENGINE`, 8 rows), so `speedup['old setting']` is `generation_engine_vs_hf`'s
  ratio measured again in this run.
Run under `ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16` (with `--out` to another file), oneDNN leaves AMX unused: the same
figures for a CPU without AMX, on this one. The file records the variable.
It writes `results/engine_profile.json`. A probe, not a benchmark target: the ratio lives in `results/bench.json`.
"""
from __future__ import annotations
import argparse, collections, statistics, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def gemm_rates(rows=(8, 64, 256), shapes=(('mlp', 896, 4864), ('lm_head', 896, 151936)), reps=5) -> list:
    "GFLOP/s of `[rows, k] x [n, k]^T` in bf16, `F.linear` and packed (`bench_run.bf16_matmul_gflops`, the median of `reps` calls)."
    from t2repro.experiments.bench_run import bf16_matmul_gflops
    return [dict(shape=name, k=k, n=n, rows=r, kind=kind, gflops=round(bf16_matmul_gflops(r, k, n, reps=reps, packed=kind == 'packed'), 1))
            for name, k, n in shapes for r in rows for kind in ('F.linear', 'packed')]


def timed_run(model, tok, ids, cap, batch):
    "One shipped `generate_ids` run with its prefill and decode-step times (decode grouped by active rows, in 16s)."
    import torch
    import t2repro.engine.generate as G
    parts, steps = collections.Counter(), collections.Counter()
    pre0, fwd0 = G._prefill, model.forward
    def pre(*a, **k):
        t = time.perf_counter()
        r = pre0(*a, **k)
        parts['prefill_s'] += time.perf_counter() - t
        parts['prefills'] += 1
        return r
    def fwd(*a, **k):
        t = time.perf_counter()
        r = fwd0(*a, **k)
        b, l = k['input_ids'].shape
        if l == 1:
            key = f'{16 * ((b - 1) // 16) + 1}-{16 * ((b - 1) // 16 + 1)}'
            parts['decode_s'] += time.perf_counter() - t
            steps[key + ' s'] += time.perf_counter() - t
            steps[key + ' steps'] += 1
        return r
    G._prefill, model.forward = pre, fwd
    try:
        t = time.perf_counter()
        out = G.generate_ids(model, tok, ids, max_new_tokens=cap, batch_size=batch)
        wall = time.perf_counter() - t
    finally:
        G._prefill = pre0
        del model.forward
    toks = sum(len(g) for g, _ in out)
    return dict(wall_s=round(wall, 2), tokens=toks, tok_per_s=round(toks / wall, 2), prefill_s=round(parts['prefill_s'], 2),
                prefills=parts['prefills'], decode_s=round(parts['decode_s'], 2), other_s=round(wall - parts['prefill_s'] - parts['decode_s'], 2),
                prefill_share=round(parts['prefill_s'] / wall, 4), decode_by_rows={k: round(v, 2) for k, v in sorted(steps.items())})


def op_shares(model, tok, ids, cap, batch, top=8) -> dict:
    "Self-CPU shares of the top operators over one shipped run under `torch.profiler`."
    from torch.profiler import profile, ProfilerActivity
    from t2repro.engine.generate import generate_ids
    with profile(activities=[ProfilerActivity.CPU]) as p:
        generate_ids(model, tok, ids, max_new_tokens=cap, batch_size=batch)
    ev = sorted(p.key_averages(), key=lambda e: -e.self_cpu_time_total)
    tot = sum(e.self_cpu_time_total for e in ev)
    return {e.key: round(e.self_cpu_time_total / tot, 4) for e in ev[:top]}


def switch_ablation(model, tok, ids, cap, batch, rounds=2) -> dict:
    "Tokens/s of the shipped path, of it with each `ENGINE` switch off in turn, and of the bench's old setting (`OLD_ENGINE`, 8 rows), interleaved; speed-ups and identical-output shares."
    from t2repro.engine.generate import ENGINE, engine_settings, generate_ids
    from t2repro.experiments.bench_run import OLD_ENGINE
    cfgs = {'shipped': ({}, batch), **{f'{k} off': ({k: False}, batch) for k in ENGINE if ENGINE[k]}, 'old setting': (OLD_ENGINE, 8)}
    tps, outs = {k: [] for k in cfgs}, {}
    for _ in range(rounds):
        for k, (kw, b) in cfgs.items():
            with engine_settings(**kw):
                t = time.perf_counter()
                out = generate_ids(model, tok, ids, max_new_tokens=cap, batch_size=b)
                tps[k].append(round(sum(len(g) for g, _ in out) / (time.perf_counter() - t), 2))
            outs.setdefault(k, [g for g, _ in out])
    med = {k: statistics.median(v) for k, v in tps.items()}
    return dict(tok_per_s=med, rounds=tps, speedup={k: round(med['shipped'] / med[k], 3) for k in cfgs if k != 'shipped'},
                identical_to_shipped={k: round(sum(a == b for a, b in zip(outs[k], outs['shipped'])) / len(ids), 4) for k in cfgs if k != 'shipped'})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=64, help='GSM8K test prompts (the bench uses 64)')
    ap.add_argument('--cap', type=int, default=128, help='new tokens per prompt at most (the bench uses 128)')
    ap.add_argument('--out', default='results/engine_profile.json')
    a = ap.parse_args(argv)
    if a.n < 1 or a.cap < 1:
        ap.error('--n and --cap must be positive')
    import os
    import torch
    from t2repro.base.config import DEFAULT_MODEL
    from t2repro.base.core import write_results
    from t2repro.base.runtime import as_dtype
    from t2repro.engine.generate import GEN_BATCH, generate_ids
    from t2repro.experiments.bench import bench_model
    from t2repro.experiments.bench_run import gsm8k_prompt_ids, matmul_flags
    torch.set_num_threads(1)
    t0, load0 = time.time(), os.getloadavg()
    gemm = gemm_rates()
    model, tok, label = bench_model(DEFAULT_MODEL)
    ids = gsm8k_prompt_ids(tok, a.n)
    with as_dtype(model, torch.bfloat16):
        generate_ids(model, tok, ids[:2], max_new_tokens=2, batch_size=2)   # warm-up
        run = timed_run(model, tok, ids, a.cap, GEN_BATCH)
        ops = op_shares(model, tok, ids, a.cap, GEN_BATCH)
        switches = switch_ablation(model, tok, ids, a.cap, GEN_BATCH)
    rows = [dict(method='shipped', task='gsm8k', score=run['tok_per_s'], n=a.n, metric='generated tokens/s')]
    rows += [dict(method=k if k == 'old setting' else f'shipped, {k}', task='gsm8k', score=switches['tok_per_s'][k], n=a.n, metric='generated tokens/s') for k in switches['speedup']]
    rows += [dict(method=f"{g['kind']} {g['shape']}", task=f"{g['rows']} rows", score=g['gflops'], metric='GFLOP/s') for g in gemm]
    p = write_results(a.out, rows, model=label, budget=dict(n=a.n, cap=a.cap, batch=GEN_BATCH, threads=1), seed=0,
                      wall_time_s=time.time() - t0, gemm=gemm, run=run, op_shares=ops, switches=switches, cpu_matmul_flags=matmul_flags(), onednn_max_cpu_isa=os.environ.get('ONEDNN_MAX_CPU_ISA'), loadavg_before=load0, loadavg_after=os.getloadavg(),
                      note='a probe of the shipped path (packed weights, the KV cache with room, shared prefix, GEN_BATCH rows); the ratio itself is results/bench.json')
    print(f"{run['tok_per_s']} tok/s; prefill {100 * run['prefill_share']:.0f}% of {run['wall_s']} s; ops {ops}; switches {switches['speedup']}; wrote {p}")


if __name__ == '__main__':
    main()
