"""Every exported symbol has a docstring and renders with `show_doc`.

The symbols come from nbdev's index `t2repro._modidx.d['syms']` (so new notebooks are covered as soon as they are
exported). Checked: public functions and classes (in the module's `__all__`), and the public methods of those classes.
Skipped: private names (leading `_`, which nbdev does not document) and module-level constants (data, not code).
"""
import importlib, inspect
import pytest
from t2repro._modidx import d

def _resolve(qualname: str):
    "Import `t2repro.mod.name[.attr]` and return (module, object path, object)."
    mod_name = next(m for m in sorted(d['syms'], key=len, reverse=True) if qualname.startswith(m + '.'))
    mod = importlib.import_module(mod_name)
    path = qualname[len(mod_name) + 1:].split('.')
    obj = mod
    for p in path: obj = inspect.getattr_static(obj, p) if inspect.isclass(obj) else getattr(obj, p)
    if isinstance(obj, (staticmethod, classmethod)): obj = obj.__func__
    if isinstance(obj, property): obj = obj.fget
    return mod, path, obj

def _symbols():
    out = []
    for mod_name, syms in d['syms'].items():
        for q in syms:
            path = q[len(mod_name) + 1:].split('.')
            if any(p.startswith('_') for p in path): continue
            out.append(q)
    return sorted(out)

SYMS = _symbols()

@pytest.mark.parametrize('qualname', SYMS)
def test_docstring_and_show_doc(qualname):
    from nbdev.showdoc import show_doc
    mod, path, obj = _resolve(qualname)
    if len(path) == 1 and path[0] not in getattr(mod, '__all__', [path[0]]): pytest.skip(f'{qualname} is not in __all__')
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj) or inspect.isbuiltin(obj) or callable(obj)):
        pytest.skip(f'{qualname} is a constant ({type(obj).__name__})')
    if not (inspect.isfunction(obj) or inspect.isclass(obj)) and len(path) == 1:
        pytest.skip(f'{qualname} is a callable instance, not a function or class')
    doc = obj.__doc__ if inspect.isclass(obj) and obj.__doc__ is not None else inspect.getdoc(obj)
    assert doc and doc.strip(), f'{qualname} has no docstring'
    md = show_doc(obj, name=qualname.rsplit('.', 1)[-1] if len(path) == 1 else '.'.join(path))
    text = md._repr_markdown_() if hasattr(md, '_repr_markdown_') else str(md)
    assert path[-1] in text, f'show_doc({qualname}) did not render its name'

def test_index_is_not_empty():
    assert len(SYMS) > 10, 'nbdev index has almost no symbols: run nbdev_export'
