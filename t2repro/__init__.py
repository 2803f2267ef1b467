__version__ = "0.1.0"

# Hand-written (nbdev only rewrites the version line). The import paths from before the package was layered
# (`t2repro.core`, `t2repro.svf`, `t2repro.tasks.get_task`, ...) keep working, with a DeprecationWarning that names
# the new home; nothing here is imported until an old path is used, so `import t2repro` stays torch-free.
import importlib as _importlib
import importlib.abc as _abc
import importlib.util as _util
import sys as _sys
import types as _types
import warnings as _warnings

_MOVED = {  # old module -> the modules its names live in now (first match wins)
    'core': ('base.core',), 'models': ('base.models', 'base.embedded', 'base.config'), 'svd': ('weights.svd',),
    'offload': ('weights.offload',), 'kernels': ('weights.kernels',), 'svf': ('weights.svf', 'weights.experts'),
    'latex': ('tasks.latex',), 'tasks': ('tasks.registry', 'tasks.data', 'base.config'), 'sandbox': ('tasks.sandbox',),
    'evaluate': ('tasks.evaluate', 'engine.generate', 'base.runtime', 'base.config'),
    'rl': ('train.objectives', 'train.loop', 'train.expert', 'base.config'), 'lora': ('train.lora', 'base.config'),
    'adapt': ('adapt.adapter', 'adapt.classifier', 'base.config'),
    'adapt_run': ('adapt.run', 'adapt.cem', 'adapt.adapter', 'adapt.classifier', 'base.config'),
    'vqa': ('ext.vqa', 'ext.vqa_train'), 'bigmodels': ('ext.bigmodels',), 'transfer': ('ext.transfer',),
    'experiments': ('experiments.common', 'experiments.tables', 'experiments.table1', 'experiments.demo', 'base.config'),
    'adaptation_experiments': ('experiments.adaptation',), 'bench': ('experiments.bench', 'experiments.bench_run'),
    'options': ('base.options', 'base.flags'), 'commands': ('interface.commands',), 'cli': ('interface.cli',)}
_PACKAGES = ('tasks', 'adapt', 'experiments')  # old modules whose names are now layer folders


def _lookup(old, name):
    "The object `name` of the old module `old`, from the first new module that has it."
    for new in _MOVED[old]:
        mod = _importlib.import_module(f'{__name__}.{new}')
        if hasattr(mod, name):
            _warnings.warn(f'{__name__}.{old}.{name} moved to {__name__}.{new}.{name}', DeprecationWarning, stacklevel=3)
            return getattr(mod, name)
    raise AttributeError(f'module {__name__}.{old} has no attribute {name!r}')


class _OldPaths(_abc.MetaPathFinder, _abc.Loader):
    "Finds `t2repro.<old module>` and builds it from the modules its names moved to."
    def find_spec(self, fullname, path=None, target=None):
        old = fullname.removeprefix(f'{__name__}.')
        if old != fullname and old in _MOVED and old not in _PACKAGES: return _util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        old = module.__name__.removeprefix(f'{__name__}.')
        _warnings.warn(f'{module.__name__} moved: its names are now in ' + ', '.join(f'{__name__}.{n}' for n in _MOVED[old]),
                       DeprecationWarning, stacklevel=2)
        for new in reversed(_MOVED[old]):
            mod = _importlib.import_module(f'{__name__}.{new}')
            module.__dict__.update({k: v for k, v in vars(mod).items() if not k.startswith('__')})


def _package_getattr(old):
    "A PEP 562 `__getattr__` for a layer folder that has the name of an old module."
    def __getattr__(name):
        if name.startswith('__') or _util.find_spec(f'{__name__}.{old}.{name}') is not None:
            raise AttributeError(name)   # dunders and the folder's own submodules: the ordinary import machinery
        return _lookup(old, name)
    return __getattr__


_sys.meta_path.append(_OldPaths())
for _old in _PACKAGES:
    _importlib.import_module(f'{__name__}.{_old}').__getattr__ = _package_getattr(_old)
