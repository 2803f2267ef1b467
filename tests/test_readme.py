"""README.md is generated from nbs/index.ipynb (tools/make_readme.py) and its first lines give the two commands."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def test_readme_in_sync_with_index():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'make_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr or r.stdout

def test_readme_starts_with_the_two_commands():
    head = (ROOT/'README.md').read_text().splitlines()[:15]
    text = '\n'.join(head)
    assert 'pip install -e ".[dev]"' in text and 't2repro demo' in text, 'set-up + main job command missing from the first lines'
    assert 'bash tools/test.sh' in text, 'test command missing from the first lines'
    assert 'bash tools/test.sh' in (ROOT/'.ci'/'run').read_text(), '.ci/run must run the README test command'

def test_test_command_runs_the_slow_cells_by_default():
    "The README's test command runs every notebook's `#| slow` cells (the embedded model) unless T2REPRO_FAST=1 says not to."
    import re
    sh = (ROOT/'tools'/'test.sh').read_text()
    m = re.search(r'^if \[ "\$\{T2REPRO_FAST[^\n]*\n(.*?)^else\n(.*?)^fi$', sh, re.M | re.S)
    default = m.group(2) if m else sh
    assert re.search(r'^\s*nbdev_test\b[^\n]*--flags slow', default, re.M), 'tools/test.sh must run nbdev_test --flags slow by default'
    assert '--path' not in default, 'the default run must cover every notebook, not one'

def test_test_command_compiles_every_cell_on_min_python():
    "nbdev_test prints a cell's SyntaxError and goes on, so tools/test.sh parses every code cell for settings.ini's min_python first."
    sh = (ROOT/'tools'/'test.sh').read_text()
    assert 'feature_version' in sh and 'min_python' in sh, 'tools/test.sh must parse every notebook cell for the oldest supported Python'
    assert sh.index('feature_version') < sh.index('nbdev_test --n_workers'), 'the compile check must run before the notebooks'
