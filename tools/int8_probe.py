#!/usr/bin/env python
"""Would int8 matmuls be the faster rollout/evaluation engine? A probe for issue 24's `generation_engine_vs_hf`.

Usage (from the repository root, nothing else running): `python tools/int8_probe.py --n 32 --cap 256`

On a CPU without AMX, bf16 matmuls scale poorly with rows (`results/bench.json`'s `bf16_matmul_gflops`), so batching
alone gives the shipped path about 2× the old setting. AVX-512 VNNI int8 matmuls (fbgemm, through torch's dynamic
quantization: int8 weights per output channel, activations quantized per tensor at run time) run the MLP's shapes
about 2× faster than bf16. This scores the first N GSM8K test items four ways on one thread, one after the other:
the old setting (bf16, refill, batch 8), the shipped path (bf16, refill, batch `GEN_BATCH`), int8 (every Linear
dynamically quantized, refill, batch `GEN_BATCH`) and int8 per token (`W8A8Linear`: int8 weights per output channel,
activations quantized per token rather than per tensor, `torch._int_mm`, every Linear but the tied `lm_head`, which
stays bf16; refill, batch `GEN_BATCH`). It writes tokens/s, accuracy, identical outputs and paired differences to
`results/int8_probe.json`. It is a probe: int8 is not a path of the package.
"""
from __future__ import annotations
import argparse, copy, sys, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

def w8a8(model, skip=('lm_head',)):
    "A copy of `model` whose `nn.Linear`s (but those named in `skip`) are `W8A8Linear`s."
    import torch
    from torch import nn

    class W8A8Linear(nn.Module):
        "int8 weights per output channel, int8 activations per token (row), int32 accumulation: `torch._int_mm`."
        def __init__(self, lin):
            super().__init__()
            w = lin.weight.detach().float()
            s = w.abs().amax(1).clamp_min(1e-12) / 127
            self.register_buffer('wq', (w / s[:, None]).round().clamp(-127, 127).to(torch.int8).t().contiguous())
            self.register_buffer('ws', s)
            self.register_buffer('b', None if lin.bias is None else lin.bias.detach().float().clone())
            self.out_features = lin.out_features

        def forward(self, x):
            x2 = x.reshape(-1, x.shape[-1]).float()
            xs = x2.abs().amax(1, keepdim=True).clamp_min(1e-12) / 127
            xq = (x2 / xs).round_().clamp_(-127, 127).to(torch.int8)
            y = torch._int_mm(xq, self.wq).float().mul_(xs).mul_(self.ws)
            if self.b is not None: y.add_(self.b)
            return y.to(x.dtype).reshape(*x.shape[:-1], self.out_features)

    m = copy.deepcopy(model)
    for name, mod in list(m.named_modules()):
        for cn, c in list(mod.named_children()):
            if isinstance(c, nn.Linear) and not any(s in f'{name}.{cn}' for s in skip): setattr(mod, cn, W8A8Linear(c))
    return m

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=32, help='first N GSM8K test items')
    p.add_argument('--cap', type=int, default=256, help='new tokens per item at most')
    p.add_argument('--out', default=str(ROOT/'results'/'int8_probe.json'))
    a = p.parse_args(argv)
    if a.n < 2 or a.cap < 1: p.error('--n must be >= 2 and --cap >= 1')
    import torch
    from torch.ao.quantization import quantize_dynamic, per_channel_dynamic_qconfig
    from t2repro.base.core import paired_bootstrap, write_results
    from t2repro.base.config import DEFAULT_MODEL
    from t2repro.engine.generate import GEN_BATCH
    from t2repro.experiments.bench import bench_model
    from t2repro.tasks.evaluate import evaluate
    from t2repro.tasks.registry import get_task
    warnings.filterwarnings('ignore', category=UserWarning)
    torch.set_num_threads(1)
    t_all = time.time()
    model, tok, _ = bench_model(DEFAULT_MODEL)
    model = model.float().eval()
    task = get_task('gsm8k')
    rows = task.load('test')[:a.n]
    t = time.time()
    q = quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
    quant_s = time.time() - t
    qt = w8a8(model)
    runs = {}
    for name, m, b, prec in (('old: bf16, batch 8', model, 8, 'bf16'), (f'shipped: bf16, batch {GEN_BATCH}', model, GEN_BATCH, 'bf16'),
                             (f'int8 dynamic, batch {GEN_BATCH}', q, GEN_BATCH, 'fp32'),
                             (f'int8 per token (lm_head bf16), batch {GEN_BATCH}', qt, GEN_BATCH, 'bf16')):   # fp32: leave the quantized copy as it is
        t = time.time()
        res = evaluate(m, tok, task, rows, batch_size=b, progress=False, max_new_tokens=a.cap, precision=prec)
        dt = time.time() - t
        toks = sum(r['new_tokens'] for r in res.records)
        runs[name] = dict(res=res, seconds=dt, tokens=toks)
        print(f'{name}: {res.score:.3f} correct, {toks / dt:.1f} tok/s ({dt:.0f} s, {toks} tokens)', flush=True)
    old = list(runs.values())[0]
    out_rows = []
    for name, r in runs.items():
        row = dict(method=name, task='gsm8k', score=r['res'].score, ci_low=r['res'].ci_low, ci_high=r['res'].ci_high, n=r['res'].n,
                   tok_per_s=round(r['tokens'] / r['seconds'], 2), seconds=round(r['seconds'], 1), new_tokens=r['tokens'],
                   tok_per_s_vs_old=round((r['tokens'] / r['seconds']) / (old['tokens'] / old['seconds']), 3),
                   identical_to_old=sum(x['output'] == y['output'] for x, y in zip(r['res'].records, old['res'].records)))
        d, lo, hi = paired_bootstrap([float(x['correct']) for x in r['res'].records], [float(y['correct']) for y in old['res'].records])
        row.update(delta=d, delta_ci_low=lo, delta_ci_high=hi, delta_n=len(rows))
        out_rows.append(row)
    recs = [r['res'].records for r in runs.values()]
    sample = [dict(id=y['id'], old=y['output'][:300], int8=x['output'][:300], int8_per_token=z['output'][:300]) for y, x, z in zip(recs[0][:3], recs[2][:3], recs[3][:3])]
    write_results(a.out, out_rows, model=DEFAULT_MODEL, budget=dict(n=a.n, items='first n of the test split', cap=a.cap, threads=1),
                  seed=0, wall_time_s=time.time() - t_all, quantize_s=round(quant_s, 1), sample=sample,
                  note='delta: paired difference in accuracy from the old setting on the same items; tok_per_s_vs_old is the '
                       'generation_engine_vs_hf quantity (tokens/s of a path / of the old setting), from one run each, one after the other.')
    print(f'wrote {a.out}')

if __name__ == '__main__':
    main()
