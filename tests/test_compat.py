"""Import paths from before the package was layered keep working, with a DeprecationWarning naming the new home."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CODE = """
import sys, warnings
warnings.simplefilter('always')
with warnings.catch_warnings(record=True) as w:
    from t2repro.core import data_dir
    from t2repro.tasks import get_task
    from t2repro.svf import Mixture, SVF
    from t2repro.rl import train_svf, reinforce_loss, TrainConfig
    from t2repro.experiments import table1_cli
    from t2repro.adapt import Adapter
    import t2repro.evaluate as E
from t2repro.tasks import registry
from t2repro.base.core import data_dir as new_data_dir
from t2repro.weights.experts import Mixture as NewMixture
from t2repro.train.expert import train_svf as new_train_svf
print(data_dir() == new_data_dir(), data_dir().name, get_task('gsm8k') is registry.get_task('gsm8k'))
print(Mixture is NewMixture, train_svf is new_train_svf, E.generate.__module__)
print(sorted({str(x.message).split()[0] for x in w if issubclass(x.category, DeprecationWarning)}))
"""

def test_old_import_paths(tmp_path):
    r = subprocess.run([sys.executable, '-c', CODE], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == 'True data True', lines
    assert lines[1] == 'True True t2repro.engine.generate', lines
    for old in ('t2repro.core', 't2repro.svf', 't2repro.rl', 't2repro.evaluate', 't2repro.tasks.get_task', 't2repro.adapt.Adapter'):
        assert old in lines[2], (old, lines[2])

def test_old_paths_keep_import_light_and_unknown_names_fail():
    code = ("import sys, t2repro; assert 'torch' not in sys.modules\n"
            "try:\n    from t2repro.tasks import no_such_name\nexcept ImportError as e: print('ImportError', 'no_such_name' in str(e))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.strip() == 'ImportError True', r.stdout + r.stderr
