#!/usr/bin/env python
"""The reproduction beside the paper: `results/paper_vs_repro.json` and `results/figures/paper_vs_repro.png`.

Usage (from the repository root): `python tools/paper_vs_repro.py`

Reads the committed results files (`results/table1.json`, `table2.json`, `table3.json` and `pass1/table3.json`, `transfer.json`,
`gsm8k/table4.json`: Table 4's GSM8K rows) and puts each
of our numbers next to the paper's (typed below from the paper: Llama-3-8B-Instruct for Tables 1-3, Llama-3-8B experts
on Mistral-7B for transfer). The models differ (8B on GPUs against the embedded 0.5B on two CPU cores), so the
comparison is of *changes*: each method's difference from its base model, in points, with our paired 95% interval.
The landing page (nbs/index.ipynb) shows the table from the JSON file and the figure.
"""
from __future__ import annotations
import sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from t2repro.base.core import load_json, save_figure, write_results

# The paper's numbers (accuracy %, pass@1 for code), Transformer² (arXiv 2501.06252).
PAPER = {
    'table1': {'model': 'Llama-3-8B-Instruct', 'base': {'gsm8k': 75.89, 'mbpp': 64.65, 'arc_easy': 88.59},
               'lora': {'gsm8k': 77.18, 'mbpp': 67.68, 'arc_easy': 88.97}, 'svf': {'gsm8k': 79.15, 'mbpp': 66.67, 'arc_easy': 89.56}},
    'table2': {'model': 'Llama-3-8B-Instruct', 'base': {'math': 24.54, 'humaneval': 60.98, 'arc_challenge': 80.63},
               'lora': {'math': 24.12, 'humaneval': 52.44, 'arc_challenge': 81.06},
               'prompt': {'math': 25.22, 'humaneval': 61.59, 'arc_challenge': 81.74},
               'cls': {'math': 25.18, 'humaneval': 62.80, 'arc_challenge': 81.37},
               'few-shot': {'math': 25.47, 'humaneval': 62.99, 'arc_challenge': 82.61}},
    'table3': {'model': 'Llama-3-8B-Instruct', 'prompt': {'math': 13.0, 'humaneval': 19.0, 'arc_challenge': 47.0}},  # pass 1 / pass 2, %
    'table4': {'model': 'Llama-3-8B-Instruct', 'base': {'gsm8k': 75.89}, 'svf-mlp-attn': {'gsm8k': 79.23}, 'svf-sft': {'gsm8k': 60.50},
               'lora-rl': {'gsm8k': 57.92}},   # Table 4's GSM8K column (its base: Table 1's)
    'transfer': {'model': 'Llama-3-8B experts on Mistral-7B-Instruct', 'ordered': {'math': 11.96, 'humaneval': 45.12, 'arc_challenge': 72.01},
                 'shuffled': {'math': 10.52, 'humaneval': 40.24, 'arc_challenge': 70.82}},
}
NAMES = {'gsm8k': 'GSM8K', 'mbpp': 'MBPP', 'arc_easy': 'ARC-Easy', 'math': 'MATH', 'humaneval': 'HumanEval', 'arc_challenge': 'ARC-Challenge',
         'lora': 'LoRA', 'svf': 'SVF', 'svf-exact': 'SVF (exact gradient)', 'svf-rloo': 'SVF (RLOO)',
         'svf-mlp-attn': 'SVF on MLP + attention (RL)', 'svf-sft': 'SVF on attention (next-token)', 'lora-rl': 'LoRA (RL)', 'prompt': 'prompt', 'cls': 'classifier expert', 'few-shot': 'few-shot CEM'}

def _reading(d, lo, hi) -> str:
    "What our paired interval lets one say."
    if lo is None: return ''
    if lo > 0: return 'gain (interval above 0)'
    if hi < 0: return 'loss (interval below 0)'
    return 'no difference this test set can see'

def comparison_rows(res: Path = ROOT/'results') -> list:
    "One row per (experiment, task, method): the paper's Δ from base and ours with its paired 95% interval, in points."
    rows = []
    for table, f in (('table1', 'table1.json'), ('table2', 'table2.json'), ('table4', 'gsm8k/table4.json')):
        if not (res/f).exists(): continue
        ours = {(r['method'], r['task']): r for r in load_json(res/f)['rows']}
        P = PAPER[table]
        methods = [m for m in P if m not in ('model', 'base')] + (['svf-exact', 'svf-rloo'] if table == 'table1' else [])
        for task in P['base']:
            for m in methods:
                o, b = ours.get((m, task)), ours.get(('base', task))
                if o is None and m not in P: continue
                p = P.get(m, {}).get(task)
                row = dict(experiment=table, task=task, method=m, score=None, paper_base=P['base'][task], paper=p,
                           paper_delta=None if p is None else round(p - P['base'][task], 2))
                if o and b:
                    row.update(base=round(100*b['score'], 1), score=o['score'], ours=round(100*o['score'], 1), n=o.get('n'),
                               delta=round(100*o['delta'], 1), delta_ci_low=round(100*o['delta_ci_low'], 1), delta_ci_high=round(100*o['delta_ci_high'], 1))
                    row['reading'] = _reading(row['delta'], row['delta_ci_low'], row['delta_ci_high'])
                rows.append(row)
    for f, how in (('pass1/table3.json', 'prompt, pass 1 scored (default)'), ('table3.json', 'prompt, pass 1 generated')):   # both protocols
        for r in load_json(res/f)['rows'] if (res/f).exists() else []:
            if r['method'] != 'prompt': continue
            rows.append(dict(experiment='table3', task=r['task'], method=how, paper=PAPER['table3']['prompt'][r['task']],
                             score=r['score'], ours=round(100*r['score'], 1), n=r.get('n'),
                             reading='pass 1 cheaper than pass 2' if r['score'] < 1 else 'pass 1 costs more than pass 2'))
    P = PAPER['transfer']
    for task in P['ordered']:
        rows.append(dict(experiment='transfer', task=task, method='ordered vs shuffled σ (paper: Llama-3-8B → Mistral-7B)',
                         score=None, paper=P['ordered'][task], paper_delta=round(P['ordered'][task] - P['shuffled'][task], 2)))
    for r in load_json(res/'transfer.json')['rows']:
        vs = r.get('vs_shuffled')
        if not vs: continue
        d, lo, hi = (round(100*vs[k], 1) for k in ('delta', 'ci_low', 'ci_high'))
        rows.append(dict(experiment='transfer', task='arc_easy', method=f"{r['method']} vs shuffled σ (ours: {r['model']})", score=r['score'],
                         ours=round(100*r['score'], 1), n=r['n'], delta=d, delta_ci_low=lo, delta_ci_high=hi, reading=_reading(d, lo, hi)))
    return rows

def figure(rows: list, path: Path):
    "Δ from base (points): the paper's bar beside ours with its 95% interval; Table 3 as the pass-1/pass-2 ratio."
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), gridspec_kw=dict(width_ratios=[3, 6, 2.2]))
    for ax, table, title in [(axes[0], 'table1', 'Table 1: training tasks, Δ vs base (points)'),
                             (axes[1], 'table2', 'Table 2: unseen tasks, Δ vs base (points)')]:
        rs = [r for r in rows if r['experiment'] == table]
        x = range(len(rs))
        ax.bar([i - 0.2 for i in x], [r['paper_delta'] if r['paper_delta'] is not None else 0 for r in rs], 0.4,
               color='#b8c7dc', label=f"paper ({PAPER[table]['model']})")
        ax.bar([i + 0.2 for i in x], [r.get('delta', 0) for r in rs], 0.4, color='#d9822b', label='ours (Qwen2.5-Coder-0.5B, CPU)',
               yerr=[[r.get('delta', 0) - r.get('delta_ci_low', 0) for r in rs], [r.get('delta_ci_high', 0) - r.get('delta', 0) for r in rs]],
               capsize=2, error_kw=dict(lw=0.8))
        ax.axhline(0, color='k', lw=0.6)
        ax.set_xticks(list(x), [f"{NAMES[r['task']]}\n{NAMES.get(r['method'], r['method'])}" for r in rs], rotation=45, ha='right', fontsize=8)
        ax.set_ylabel('Δ vs base (points)')
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc='upper left')
    rs = [r for r in rows if r['experiment'] == 'table3']
    ax = axes[2]
    x = range(len(rs))
    ax.bar([i - 0.2 for i in x], [r['paper'] for r in rs], 0.4, color='#b8c7dc', label='paper')
    ax.bar([i + 0.2 for i in x], [r['ours'] for r in rs], 0.4, color='#d9822b', label='ours')
    ax.set_yscale('log')
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f'{v:g}%'))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.axhline(100, color='k', lw=0.6, ls='--')
    ax.set_xticks(list(x), [f"{NAMES[r['task']]}\n{'scored' if 'scored' in r['method'] else 'generated'}" for r in rs], rotation=45, ha='right', fontsize=8)
    ax.set_title('Table 3: pass 1 / pass 2 time (%), prompt', fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)

def main():
    t0 = time.time()
    res = ROOT/'results'
    rows = comparison_rows(res)
    fig = figure(rows, res/'figures'/'paper_vs_repro.png')
    srcs = {n: load_json(res/f'{n}.json').get('revision', '')[:12] for n in ('table1', 'table2', 'table3', 'pass1/table3', 'transfer', 'gsm8k/table4')
            if (res/f'{n}.json').exists()}
    write_results(res/'paper_vs_repro.json', rows, model=load_json(res/'table1.json')['model'], seed=0,
                  budget={'sources': {f'results/{n}.json': f'revision {v}' for n, v in srcs.items()}, 'paper': PAPER},
                  wall_time_s=round(time.time() - t0, 2), command='python tools/paper_vs_repro.py',
                  figures=[fig.relative_to(res).as_posix()])
    print(f'wrote results/paper_vs_repro.json ({len(rows)} rows) and {fig.relative_to(ROOT)}')

if __name__ == '__main__': main()
