#!/usr/bin/env python
"""Split notebook cells that mix top-level imports with other code into an import cell followed by the rest.
nbdev's docs processing runs import cells on their own, so a mixed cell fails out of context (see the nbdev FAQ).
Usage: python tools/split_imports.py nbs/10_svd.ipynb [...]"""
import re, sys, copy
from execnb.nbio import read_nb, write_nb

IMPORT = re.compile(r'^(import |from \S+ import )')

def split(path):
    nb = read_nb(path); out = []; n = 0
    for c in nb.cells:
        src = c.source
        if c.cell_type != 'code' or src.lstrip().startswith('#|') and ('export' in src.splitlines()[0]):
            out.append(c); continue
        lines = src.splitlines()
        imp = [l for l in lines if IMPORT.match(l) and not l.rstrip().endswith(('(', '\\'))]
        rest = [l for l in lines if l not in imp]
        if not imp or not any(l.strip() and not l.lstrip().startswith('#') for l in rest): out.append(c); continue
        flags = [l for l in rest if l.startswith('#|')]
        a = copy.deepcopy(c); a.source = '\n'.join([f for f in flags if 'hide' in f] + imp); a.outputs = []; a.pop('id', None)
        c.source = '\n'.join(rest)
        out += [a, c]; n += 1
    nb.cells = out; write_nb(nb, path)
    print(f'{path}: split {n} cells')

for p in sys.argv[1:]: split(p)
