#!/usr/bin/env bash
# The test command (what CI runs): every notebook's tests, `#| slow` cells included, which run the embedded default model
# end to end (GGUF from PyPI → SVD anatomy → SVF merge/restore → evaluation → the experiments' checks against the
# committed results); then tests/. The embedded model's SVD factors are computed by the first notebook that needs them
# and cached (~/.cache/t2repro or $T2REPRO_CACHE) for the others.
# T2REPRO_FAST=1 skips the slow cells (a quick local check; CI does not use it).
set -euo pipefail
cd "$(dirname "$0")/.."
# Notebook runs print for readers: no progress bars, no library chatter (tools/run_nb.py sets the same).
export TQDM_DISABLE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error TRANSFORMERS_NO_ADVISORY_WARNINGS=1

# First, every code cell of every notebook must compile on the oldest Python that settings.ini claims. nbdev_test
# (execnb) prints a cell's SyntaxError as ordinary output and goes on, so without this a cell that does not even
# parse (a 3.12-only f-string on 3.10/3.11) passes the suite and shows the error on its docs page.
python - <<'PY'
import ast, configparser, json, sys
from pathlib import Path
cfg = configparser.ConfigParser(); cfg.read('settings.ini')
oldest = tuple(int(x) for x in cfg['DEFAULT']['min_python'].split('.')[:2])
bad = []
for p in sorted(Path(cfg['DEFAULT'].get('nbs_path', 'nbs')).rglob('*.ipynb')):
    if '.ipynb_checkpoints' in p.parts: continue
    for i, c in enumerate(json.loads(p.read_text(encoding='utf-8'))['cells']):
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        # cell directives, IPython magics and shell escapes are not Python: blank them, keeping line numbers
        code = '\n'.join('' if l.lstrip().startswith(('#|', '%', '!')) else l for l in src.splitlines())
        try: ast.parse(code, filename=f'{p}:cell {i}', feature_version=oldest)
        except SyntaxError as e: bad.append(f'{p} cell {i}, line {e.lineno}: {e.msg}')
if bad: sys.exit(f'these notebook cells do not compile on Python {".".join(map(str, oldest))} (settings.ini min_python):\n  ' + '\n  '.join(bad))
print(f'every notebook code cell compiles on Python {".".join(map(str, oldest))}')
PY

if [ "${T2REPRO_FAST:-0}" = "1" ]; then
  nbdev_test --n_workers 2
else
  nbdev_test --n_workers 2 --flags slow
fi
bash tools/gpu_check.sh --cpu --out runs/gpu_check_cpu.json   # the GPU check's CPU mode (tools/gpu_check.sh), so it cannot rot
python -m pytest -q tests/
