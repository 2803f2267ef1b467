#!/usr/bin/env python
"""Execute notebooks in place (every cell, `#| slow` ones included) so their outputs show in the docs.

Usage: python tools/run_nb.py nbs/10_svd.ipynb [more.ipynb ...] [--skip-flags gpu] [--keep-flags slow]
Cells marked `#| eval: false` are skipped, as nbdev does. `--skip-flags` cells are skipped and lose their outputs;
`--keep-flags` cells are skipped and keep the outputs they have (to refresh a notebook's quick cells only). Outputs are written back and then cleaned with nbdev_clean.
"""
import os, sys, time, subprocess
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def _skip(cell, skip_flags):
    src = cell.source.lstrip()
    lines = [l.strip() for l in src.splitlines() if l.strip().startswith('#|')]
    for l in lines:
        d = l[2:].strip()
        if d.replace(' ', '') in ('eval:false',): return True
        if any(d.split()[:1] == [f] for f in skip_flags): return True
    return False

def run(path, skip_flags=('gpu',), keep_flags=()):
    path = Path(path).resolve()
    nb = read_nb(path)
    cwd = os.getcwd(); os.chdir(path.parent)
    t0 = time.time()
    try:
        sh = CaptureShell(path)
        for i, c in enumerate(nb.cells):
            if c.cell_type != 'code': continue
            if keep_flags and _skip(c, keep_flags) and not _skip(c, ()): continue
            if _skip(c, skip_flags): c.outputs = []; continue
            t = time.time()
            sh.cell(c)
            errs = [o for o in c.get('outputs', []) if o.get('output_type') == 'error']
            print(f'  cell {i}: {time.time()-t:.1f}s', flush=True)
            if errs:
                print('\n'.join(errs[0].get('traceback', [])), file=sys.stderr)
                raise SystemExit(f'{path.name}: cell {i} failed: {errs[0].get("ename")}: {errs[0].get("evalue")}')
    finally: os.chdir(cwd)
    write_nb(nb, path)
    print(f'{path.name}: ran in {time.time()-t0:.1f}s')

if __name__ == '__main__':
    args = sys.argv[1:]
    skip, keep = ['gpu'], []
    if '--skip-flags' in args:
        i = args.index('--skip-flags'); skip = args[i+1].split(','); del args[i:i+2]
    if '--keep-flags' in args:
        i = args.index('--keep-flags'); keep = args[i+1].split(','); del args[i:i+2]
    for p in args: run(p, skip, keep)
    for p in args: subprocess.run(['nbdev_clean', '--fname', p], check=False)
