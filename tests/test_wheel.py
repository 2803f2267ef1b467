"""The wheel is complete: built from a clean copy of the sources, installed in a fresh venv, it runs `t2repro --help`
and imports every module that the checkout's `t2repro/` holds (discovered, so new notebooks are covered at once).

Torch and friends are not reinstalled: the new venv sees the *running* interpreter's site-packages through a `.pth`
file (not `--system-site-packages`, which would point at the base interpreter and miss a venv's packages). Plain
folder lines in a `.pth` are not themselves scanned for `.pth` files, so the checkout's editable install is not
activated in the new venv. `pip install --no-deps --force-reinstall` puts t2repro itself in the venv (its own
site-packages comes first on `sys.path`), and every check runs from an empty working directory and asserts that
`t2repro` is imported from the venv, not from the editable checkout.
"""
import json, os, shutil, subprocess, sys, sysconfig, venv
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT/'t2repro').glob('*.py') if p.stem != '__init__')

def _current_site_dirs() -> list:
    "The site-packages folders the running interpreter imports from (a venv's own, the user's, the base's), checkout excluded."
    out = []
    for p in sys.path:
        if p and os.path.isdir(p) and Path(p).name in ('site-packages', 'dist-packages') and ROOT not in Path(p).resolve().parents:
            out.append(str(Path(p).resolve()))
    return list(dict.fromkeys(out))

def _venv_seeing_current_packages(env: Path, with_pip: bool) -> Path:
    "A fresh venv whose interpreter also imports the running interpreter's packages (appended after its own)."
    venv.EnvBuilder(system_site_packages=False, with_pip=with_pip, clear=True).create(env)
    py = env/'bin'/'python'
    purelib = subprocess.run([str(py), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                             capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    (Path(purelib)/'_t2repro_test_parent_env.pth').write_text('\n'.join(_current_site_dirs()) + '\n')
    return py

@pytest.fixture(scope='module')
def wheel_env(tmp_path_factory):
    "A wheel built from a copy of the sources (so no build/ or egg-info lands in the checkout), installed in a new venv."
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp/'src'; src.mkdir()
    for f in ('settings.ini', 'setup.py', 'pyproject.toml', 'MANIFEST.in', 'README.md', 'LICENSE'):
        if (ROOT/f).exists(): shutil.copy2(ROOT/f, src/f)
    shutil.copytree(ROOT/'t2repro', src/'t2repro', ignore=shutil.ignore_patterns('__pycache__'))
    dist = tmp/'dist'
    r = subprocess.run([sys.executable, '-m', 'build', '--wheel', '--no-isolation', '--outdir', str(dist), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    whl, = dist.glob('t2repro-*.whl')
    env = tmp/'venv'
    py = _venv_seeing_current_packages(env, with_pip=False)
    r = subprocess.run([sys.executable, '-m', 'pip', '--python', str(py), 'install', '--no-deps', '--force-reinstall',
                        '--no-index', '--quiet', str(whl)], capture_output=True, text=True, timeout=600)
    if r.returncode and 'no such option: --python' in r.stderr:  # pip < 22.3: use the venv's own pip
        py = _venv_seeing_current_packages(env, with_pip=True)
        r = subprocess.run([str(py), '-m', 'pip', 'install', '--no-deps', '--force-reinstall', '--no-index', '--quiet', str(whl)],
                           capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    work = tmp/'cwd'; work.mkdir()
    environ = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH',)}
    environ['PATH'] = f"{env/'bin'}{os.pathsep}{environ.get('PATH', '')}"
    return dict(py=py, env=env, cwd=work, environ=environ, whl=whl)

def _run(w, *args, timeout=600):
    return subprocess.run(list(map(str, args)), cwd=w['cwd'], env=w['environ'], capture_output=True, text=True, timeout=timeout)

def test_wheel_holds_every_module(wheel_env):
    import zipfile
    names = set(zipfile.ZipFile(wheel_env['whl']).namelist())
    missing = [m for m in MODULES if f't2repro/{m}.py' not in names]
    assert not missing, f'modules missing from the wheel: {missing}'
    assert any(n.startswith('t2repro/configs/') and n.endswith('.json') for n in names), 'packaged model configs missing'

def test_cli_help_from_wheel(wheel_env):
    exe = wheel_env['env']/'bin'/'t2repro'
    assert exe.exists(), 'the wheel did not install the t2repro console script'
    r = _run(wheel_env, exe, '--help', timeout=120)
    assert r.returncode == 0, r.stderr
    assert 'usage: t2repro' in r.stdout

def test_import_every_module_from_wheel(wheel_env):
    code = ("import importlib, json, pkgutil, sys, t2repro\n"
            "mods = sorted(m.name for m in pkgutil.iter_modules(t2repro.__path__))\n"
            "for m in mods: importlib.import_module('t2repro.' + m)\n"
            "print(json.dumps(dict(file=t2repro.__file__, prefix=sys.prefix, mods=mods)))")
    r = _run(wheel_env, wheel_env['py'], '-c', code)
    assert r.returncode == 0, r.stderr[-4000:]
    info = json.loads(r.stdout.strip().splitlines()[-1])
    assert Path(info['file']).resolve().is_relative_to(wheel_env['env'].resolve()), f"t2repro came from {info['file']}, not the wheel"
    assert set(MODULES) <= set(info['mods']), f'the installed package lacks {set(MODULES) - set(info["mods"])}'

def test_data_from_wheel(wheel_env):
    "Outside a checkout the installed package has no data folder (the tasks use the hub); $T2REPRO_DATA points to one."
    code = ("import t2repro.base.core as c, t2repro.tasks.registry as t\n"
            "d = c.data_dir(); print(d)\n"
            "if d is not None: print(len(t.get_task('humaneval').load('test')))")
    r = _run(wheel_env, wheel_env['py'], '-c', code)
    assert r.returncode == 0 and r.stdout.split() == ['None'], r.stdout + r.stderr[-2000:]
    r = _run(wheel_env | {'environ': wheel_env['environ'] | {'T2REPRO_DATA': str(ROOT/'data')}}, wheel_env['py'], '-c', code)
    assert r.returncode == 0 and r.stdout.split() == [str(ROOT/'data'), '164'], r.stdout + r.stderr[-2000:]
