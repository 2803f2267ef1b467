#!/usr/bin/env python
"""Execute notebooks in place (every cell, `#| slow` ones included) so their outputs show in the docs.

Usage: python tools/run_nb.py nbs/10_svd.ipynb [more.ipynb ...] [--skip-flags gpu] [--keep-flags slow]
       python tools/run_nb.py --tidy nbs/*.ipynb     # tidy the committed outputs only, running nothing
Cells marked `#| eval: false` are skipped, as nbdev does. `--skip-flags` cells are skipped and lose their outputs;
`--keep-flags` cells are skipped and keep the outputs they have (to refresh a notebook's quick cells only). Outputs are
written back, tidied for readers (`tidy_outputs`: no progress bars, library warnings or machine paths) and then
cleaned with nbdev_clean. Progress bars and library chatter are switched off for the run (the same environment as
tools/test.sh).
"""
import os, re, sys, time, subprocess
from pathlib import Path
for k, v in dict(TQDM_DISABLE='1', HF_HUB_DISABLE_PROGRESS_BARS='1', TRANSFORMERS_VERBOSITY='error',
                 TRANSFORMERS_NO_ADVISORY_WARNINGS='1').items(): os.environ.setdefault(k, v)
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

ROOT = Path(__file__).resolve().parents[1]
_BAR = re.compile(r'(\d+%\|)|(\bit/s\])|(s/it\])|(\?it/s)')        # a tqdm line
_WARN = re.compile(r'^\S.*:\d+: \w*Warning: ')                      # `file.py:12: FutureWarning: ...`
_TMP = re.compile(r'/tmp/tmp[\w-]+')

def tidy_text(text: str, root: Path = ROOT) -> str:
    "Output text for readers: machine paths relative or named (`~`, `<tmp>`), progress bars and library warnings dropped."
    home = str(Path.home())
    text = text.replace(str(root) + '/', '').replace(str(root), '.')
    text = _TMP.sub('<tmp>', text).replace(home + '/', '~/')
    lines, skip = [], False
    for line in text.replace('\r\n', '\n').split('\n'):
        last = line.split('\r')[-1] if '\r' in line else line     # what a terminal would show after carriage returns
        if _WARN.match(last): skip = True; continue               # a warning, then its indented continuation lines
        if skip and (last.startswith((' ', '\t')) or last.startswith('Consider ')): continue
        skip = False
        if _BAR.search(line) or ('\r' in line and not last.strip()): continue
        lines.append(last)
    return '\n'.join(lines)

def tidy_outputs(nb, root: Path = ROOT) -> int:
    "Tidy every output of `nb` in place (see `tidy_text`), dropping stderr streams left empty; the number of outputs changed."
    n = 0
    def fix(x):
        s = ''.join(x) if isinstance(x, list) else x
        t = tidy_text(s, root)
        return t, t != s
    for c in nb['cells']:
        keep = []
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream':
                t, ch = fix(o['text'])
                n += ch
                if o.get('name') == 'stderr' and not t.strip(): continue
                if ch: o['text'] = t
            for mime in ('text/plain', 'text/markdown', 'text/html'):
                if mime in o.get('data', {}):
                    t, ch = fix(o['data'][mime])
                    if ch: o['data'][mime] = t; n += 1
            keep.append(o)
        if 'outputs' in c: c['outputs'] = keep
    return n

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
    tidy_outputs(nb)
    write_nb(nb, path)
    print(f'{path.name}: ran in {time.time()-t0:.1f}s')

if __name__ == '__main__':
    args = sys.argv[1:]
    if '--tidy' in args:
        import json
        for p in (a for a in args if a != '--tidy'):
            nb = json.loads(Path(p).read_text(encoding='utf-8'))
            if tidy_outputs(nb): Path(p).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8'); print('tidied', p)
        for p in (a for a in args if a != '--tidy'): subprocess.run(['nbdev_clean', '--fname', p], check=False)
        sys.exit(0)
    skip, keep = ['gpu'], []
    if '--skip-flags' in args:
        i = args.index('--skip-flags'); skip = args[i+1].split(','); del args[i:i+2]
    if '--keep-flags' in args:
        i = args.index('--keep-flags'); keep = args[i+1].split(','); del args[i:i+2]
    for p in args: run(p, skip, keep)
    for p in args: subprocess.run(['nbdev_clean', '--fname', p], check=False)
