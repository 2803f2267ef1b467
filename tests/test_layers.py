"""The package's folders are its architecture: imports only run down the layers, with no circle (lazy imports included),
and the size limits that keep it readable (modules, statements per line, notebooks)."""
import ast, json, shutil, subprocess, sys, tokenize
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ('base', 'weights', 'engine', 'tasks', 'train', 'adapt', 'ext', 'experiments', 'interface')  # bottom to top
MAX_MODULE_LINES, MAX_NOTEBOOK_CELLS = 400, 50


def modules(pkg: Path) -> dict:
    "{dotted module name: path} of every source module of the package folder `pkg`."
    out = {}
    for p in sorted(pkg.rglob('*.py')):
        if p.name == '_modidx.py': continue
        parts = p.relative_to(pkg.parent).with_suffix('').parts
        out['.'.join(parts[:-1] if p.name == '__init__.py' else parts)] = p
    return out


def imports_of(name: str, path: Path, known: set) -> set:
    "The package modules that module `name` imports anywhere in its file (top level, functions, `import_module` strings)."
    pkg = name if path.name == '__init__.py' else name.rsplit('.', 1)[0]
    found = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom):
            base = pkg.split('.')[:len(pkg.split('.')) - n.level + 1] if n.level else []
            mod = '.'.join([*base, *([n.module] if n.module else [])])
            cands = [mod, *(f'{mod}.{a.name}' for a in n.names)]
        elif isinstance(n, ast.Import): cands = [a.name for a in n.names]
        elif isinstance(n, ast.Call) and getattr(n.func, 'attr', getattr(n.func, 'id', None)) == 'import_module' and n.args \
                and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str): cands = [n.args[0].value]
        else: continue
        for c in cands:
            while c and c not in known: c = c.rpartition('.')[0]  # `import a.b.c` names module a.b.c (or its package)
            if c and c != name and c.count('.') >= 1: found.add(c)
    return found


def graph(pkg: Path) -> dict:
    "{module: set of package modules it imports}."
    mods = modules(pkg)
    return {m: imports_of(m, p, set(mods)) for m, p in mods.items()}


def layer(mod: str) -> int:
    "Index of the layer a dotted module name sits in (-1 for the package's top-level modules)."
    parts = mod.split('.')
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else -1


def upward(g: dict) -> list:
    "`(importer, imported)` pairs where the imported module sits in a higher layer, or outside every layer."
    bad = []
    for m, ts in g.items():
        for t in ts:
            if layer(m) >= 0 and (layer(t) < 0 or layer(t) > layer(m)): bad.append((m, t))
    return sorted(bad)


def circles(g: dict) -> list:
    "The strongly connected components of more than one module (Tarjan), each sorted."
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in sorted(g):
        if v not in index: visit(v)
    return out


def test_every_module_sits_in_a_layer():
    mods = [m for m in modules(ROOT/'t2repro') if m.count('.') >= 1 and not m.endswith('._modidx')]
    assert [m for m in mods if layer(m) < 0] == []
    assert {m.split('.')[1] for m in mods} == set(LAYERS)


def test_imports_run_down_without_circles():
    g = graph(ROOT/'t2repro')
    assert upward(g) == []
    assert circles(g) == []


def test_checker_catches_a_planted_upward_import_and_circle(tmp_path):
    pkg = tmp_path/'t2repro'
    shutil.copytree(ROOT/'t2repro', pkg, ignore=shutil.ignore_patterns('__pycache__', '*.so'))
    core = pkg/'base'/'core.py'
    core.write_text(core.read_text() + '\n\ndef _planted():\n    from ..adapt.adapter import Adapter  # lazy, and upward\n    return Adapter\n')
    g = graph(pkg)
    assert ('t2repro.base.core', 't2repro.adapt.adapter') in upward(g)
    assert any('t2repro.base.core' in c and 't2repro.adapt.adapter' in c for c in circles(g))


def test_no_module_over_the_line_limit():
    long = {str(p.relative_to(ROOT)): n for p in modules(ROOT/'t2repro').values()
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def semicolons(text: str) -> list:
    "Line numbers of statement-joining `;` (operator tokens, so none inside strings or comments)."
    toks = tokenize.generate_tokens(iter(text.splitlines(keepends=True)).__next__)
    return [t.start[0] for t in toks if t.type == tokenize.OP and t.string == ';']


def test_semicolon_checker_ignores_strings():
    assert semicolons("x = 'a; b'  # c; d\ny = 1; z = 2\n") == [2]


def test_one_statement_per_line():
    joined = {str(p.relative_to(ROOT)): ls for p in modules(ROOT/'t2repro').values() if (ls := semicolons(p.read_text()))}
    assert joined == {}


def test_no_notebook_over_the_cell_limit():
    big = {p.name: n for p in sorted((ROOT/'nbs').glob('*.ipynb')) if (n := len(json.loads(p.read_text())['cells'])) > MAX_NOTEBOOK_CELLS}
    assert big == {}


def test_notebooks_are_numbered_by_layer():
    "A notebook's tens digit is its module's layer (00-09 base, 10-19 weights, ... 80-99 interface)."
    wrong = {}
    for p in sorted((ROOT/'nbs').glob('[0-9]*.ipynb')):
        cells = json.loads(p.read_text())['cells']
        exp = next((''.join(c['source']).split()[2] for c in cells if ''.join(c['source']).startswith('#| default_exp')), None)
        if exp is None: continue
        want = min(LAYERS.index(exp.split('.')[0]), 8)
        if min(int(p.name[0]), 8) != want: wrong[p.name] = exp
    assert wrong == {}


def test_options_need_no_torch_and_parse_no_source():
    code = 'import sys, t2repro.base.options, t2repro.interface.cli; print("torch" in sys.modules, "transformers" in sys.modules)'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ['False', 'False']
    text = (ROOT/'t2repro'/'base'/'options.py').read_text()
    assert not any(s in text for s in ('ast.parse', 'find_spec', 'tokenize', 'getsource'))


def test_index_map_lists_every_notebook():
    "The README's map (nbs/index.ipynb) is what `tools/notebook_map.py` writes for today's notebooks."
    sys.path.insert(0, str(ROOT/'tools'))
    import notebook_map
    cell = next(''.join(c['source']) for c in json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells']
                if ''.join(c['source']).startswith(notebook_map.HEADING))
    assert cell == notebook_map.map_markdown(notebook_map.notebook_rows()), 'run python tools/notebook_map.py'


def test_modules_compile_without_warnings():
    "No invalid escape sequence (e.g. LaTeX in a module docstring) or other compile-time warning in the package."
    import warnings
    for name, p in modules(ROOT/'t2repro').items():
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            compile(p.read_text(), str(p), 'exec')


def test_test_cells_keep_imports_apart():
    "nbdev's docs processing runs every cell holding an import: a test or display cell must keep its imports in the notebook's import cells."
    mixed = []
    for p in sorted((ROOT/'nbs').glob('[0-9]*.ipynb')):
        for i, c in enumerate(json.loads(p.read_text())['cells']):
            s = ''.join(c['source'])
            if c['cell_type'] != 'code' or 'nbdev_export()' in s: continue
            if any(l.startswith(('#| export', '#| exports', '#| exporti', '#| exec_doc', '#| eval: false')) for l in s.splitlines()): continue
            t = ast.parse('\n'.join(l for l in s.splitlines() if not l.startswith(('#|', '%', '!'))))
            has_import = any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(t))
            if has_import and any(not isinstance(n, (ast.Import, ast.ImportFrom)) for n in t.body): mixed.append(f'{p.name} cell {i}')
    assert mixed == [], 'move these imports into the import cells (tools/split_imports.py)'
