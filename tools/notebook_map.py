#!/usr/bin/env python
"""Write the "Map of the notebooks" section of nbs/index.ipynb (and so of the README): one table per layer, a row per
notebook with its module and the one-line summary under its title. `python tools/notebook_map.py` rewrites the cell;
`tests/test_layers.py` checks that the committed map lists every notebook."""
from __future__ import annotations
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [('0', 'base', 'files, CIs, results with provenance, the runtime setting, torch-free config and options, models and caches'),
          ('1', 'weights', 'SVD factors, SVF (the one owner of z), experts and the mixture switch, kernels, offload'),
          ('2', 'engine', 'generation behind one interface: batching with refill, stop strings, every tensor on the device'),
          ('3', 'tasks', 'the task registry, LaTeX answers, the sandbox, the evaluation harness'),
          ('4', 'train', 'one training loop, its objectives (REINFORCE, exact gradient, next-token), LoRA'),
          ('5', 'adapt', "Transformer²'s two passes: few-shot CEM, the classifier expert, the Adapter, the adapt command"),
          ('6', 'ext', 'VQA, big models across devices, transfer across models, experts served by llama.cpp'),
          ('7', 'experiments', 'every command that writes a results file: baselines, Tables 1-3, transfer, demo, bench'),
          ('8', 'interface', 'the commands and the `t2repro` entry point')]
HEADING = '## Map of the notebooks'

def notebook_rows(nbs: Path = ROOT/'nbs') -> list:
    "(file stem, module, summary) of every numbered notebook, in order."
    rows = []
    for p in sorted(nbs.glob('[0-9]*.ipynb')):
        cells = [''.join(c['source']) for c in json.loads(p.read_text())['cells']]
        mod = next((c.split()[2] for c in cells if c.startswith('#| default_exp')), '')
        title = next((c for c in cells if c.startswith('# ')), '')
        m = re.search(r'^> (.*)$', title, re.M)
        rows.append((p.stem, f't2repro.{mod}' if mod else '', m.group(1).strip() if m else ''))
    return rows

def map_markdown(rows: list) -> str:
    "The map: the layers bottom to top, each a small table."
    out = [HEADING, 'The package is layered; a module imports only from its own layer or the layers listed before it '
           '(`tests/test_layers.py` fails on an upward import or a circle). A notebook\'s tens digit is its layer.', '']
    for digit, name, what in LAYERS:
        mine = [r for r in rows if r[0][0] == digit or (digit == '8' and r[0][0] == '9')]
        if not mine: continue
        out += [f'**{digit} · `{name}/`**: {what}', '', '| notebook | module | what it does |', '|---|---|---|']
        out += [f'| [`{s}`]({s}.ipynb) | `{m}` | {w} |' for s, m, w in mine]
        out.append('')
    return '\n'.join(out).rstrip() + '\n'

def write_map(index: Path = ROOT/'nbs'/'index.ipynb') -> bool:
    "Replace the map cell of `index`; True if it changed."
    nb = json.loads(index.read_text())
    cell = next(c for c in nb['cells'] if ''.join(c['source']).startswith(HEADING))
    new = map_markdown(notebook_rows(index.parent))
    if ''.join(cell['source']) == new: return False
    cell['source'] = new.splitlines(keepends=True)
    index.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return True

if __name__ == '__main__':
    print('map rewritten' if write_map() else 'map unchanged')
    sys.exit(0)
