"""The command line on bad input (issue 9): one-line errors with exit status 2 and no traceback, fast `--help`, every
option documented, `--data-dir` and `$T2REPRO_DATA`, bad experts refused before the weights load, resume with other
flags refused, results in runs/ with no machine path. Tiny models only."""
import io, os, sys, json, time, pickle, shutil, contextlib, subprocess
from pathlib import Path
import pytest
import t2repro.interface.cli as cli
from t2repro.interface.cli import COMMANDS, main
from t2repro.base.options import PARSERS, parser_for

ROOT = Path(__file__).resolve().parent.parent
TINY = ['--model', 'tiny-qwen2']
# the console script's target (settings.ini: t2repro=t2repro.interface.cli:main) in a fresh interpreter of this checkout; an installed
# `t2repro` script may come from another checkout's editable install
T2REPRO = [sys.executable, '-c', "import sys; sys.argv[0] = 't2repro'; from t2repro.interface.cli import main; sys.exit(main())"]

def run(*argv, env=None):
    "`t2repro *argv` in this process: (exit status, stdout, stderr)."
    so, se = io.StringIO(), io.StringIO()
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
            try: rc = main(list(argv))
            except SystemExit as e: rc = e.code
    finally:
        for k, v in old.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v
    return rc, so.getvalue(), se.getvalue()

def one_line_error(rc, err, *names):
    "Exit status 2, exactly one line on stderr (progress bars aside), no traceback, and the line names each of `names`."
    lines = [l for l in err.replace('\r', '\n').splitlines() if l.strip() and '%|' not in l]   # tqdm bars aside
    assert rc == 2 and len(lines) == 1 and 'Traceback' not in err, (rc, err)
    assert all(n in lines[0] for n in names), (names, lines[0])
    return lines[0]

# 1. numeric flags are checked at parse time
BAD_FLAGS = [
    (['train-svf', '--task', 'arc_easy', '--out', 'o', '--train-limit', '-5'], "--train-limit: '-5' is not a positive integer"),
    (['train-svf', '--task', 'arc_easy', '--out', 'o', '--steps', '0'], "--steps: '0' is not a positive integer"),
    (['train-svf', '--task', 'arc_easy', '--out', 'o', '--lr', '-1'], "--lr: '-1' is not a positive number"),
    (['train-svf', '--task', 'arc_easy', '--out', 'o', '--kl-coef', 'x'], "--kl-coef: 'x' is not a non-negative number"),
    (['train-lora', '--task', 'arc_easy', '--out', 'o', '--rank', '0'], "--rank: '0' is not a positive integer"),
    (['train-lora', '--task', 'arc_easy', '--out', 'o', '--dropout', '1.5'], "--dropout: '1.5' is not a fraction"),
    (['eval', '--task', 'arc_easy', '--batch-size', '0'], "--batch-size: '0' is not a positive integer"),
    (['eval', '--task', 'arc_easy', '--batch-size', '-1'], "--batch-size: '-1' is not a positive integer"),
    (['eval', '--task', 'arc_easy', '--limit', '0'], "--limit: '0' is not a positive integer"),
    (['eval', '--task', 'arc_easy', '--seed', '-3'], "--seed: '-3' is not a non-negative integer"),
    (['params', '--layers', '1,x'], "--layers: '1,x' is not a comma-separated list"),
    (['params', '--rank', '-2'], "--rank: '-2' is not a positive integer"),
    (['baseline', '--limit', '5,gsm8k=-1'], "--limit: 'gsm8k=-1'"),
    (['baseline', '--batch-size', '0'], "--batch-size: '0' is not a positive integer"),
    (['table1', '--steps', '0'], "--steps: '0'"),
    (['table1', '--test-limit', 'arc_easy=x'], "--test-limit: 'arc_easy=x'"),
    (['table1', '--svf-lr', '0'], "--svf-lr: '0' in '0': expected LR or TASK=LR with LR a positive number"),
    (['eval', '--task', 'gsm9k'], "unknown task"),
    (['eval', '--task', 'gsm8k', '--split', 'nope'], "gsm8k: unknown split 'nope'"),
    (['table1', '--methods', 'base,qlora'], 'methods are base, lora, svf'),
    (['table4', '--methods', 'base,svf-ffn'], 'methods are base, svf-mlp, svf-attn, svf-mlp-attn, svf-sft, lora-rl, lora-sft'),
    (['table4', '--only', 'lora'], "--only: 'lora': methods are base, svf-mlp"),
    (['table4', '--steps', '0'], "--steps: '0'"),
]

@pytest.mark.parametrize('argv,why', BAD_FLAGS, ids=[' '.join(a[:1] + a[-2:]) for a, _ in BAD_FLAGS])
def test_bad_flag_one_line(argv, why):
    rc, out, err = run(*argv)
    one_line_error(rc, err, why, f't2repro {argv[0]}: error:')
    assert 'usage:' not in err and 'loading' not in out

# 2. every option of every command has a help line and shows its default; required flags don't say (default: None)
@pytest.mark.parametrize('cmd', sorted(PARSERS))
def test_every_option_documented(cmd):
    p = parser_for(cmd)
    h = ' '.join(p.format_help().split())
    for a in p._actions:
        assert a.help and a.help.strip(), (cmd, a.option_strings)
        if a.option_strings and a.nargs != 0 and not a.required and a.default not in (None, ''):
            assert f'(default: {a.default})' in h or 'default:' in (a.help or ''), (cmd, a.option_strings, a.default)
    assert '(default: None)' not in h, cmd
    rc, out, err = run(cmd, '--help')
    assert rc == 0 and f't2repro {cmd}' in out

# 2b. one runtime setting: --device, --precision (choices: base.config.PRECISIONS) and --threads on every command that loads
# a model, each defined once (base.options.runtime_flags), and --model defined once (base.options.model_flag)
LOADS_MODEL = ('eval', 'baseline', 'train-svf', 'train-lora', 'table1', 'table4', 'adapt', 'table2', 'transfer', 'demo', 'bench', 'lm-eval')

@pytest.mark.parametrize('cmd', LOADS_MODEL)
def test_runtime_flags_in_help(cmd):
    from t2repro.base.config import PRECISIONS
    rc, out, err = run(cmd, '--help')
    assert rc == 0, err
    help_ = ' '.join(out.split())
    for flag in ('--device', '--precision', '--threads'): assert flag in help_, (cmd, flag)
    assert '{' + ','.join(PRECISIONS) + '}' in help_, cmd
    a = parser_for(cmd).parse_args([*(['--task', 'gsm8k'] if cmd in ('eval', 'train-svf', 'train-lora') else []),
                                    *(['--out', 'x'] if cmd.startswith('train-') else []), *(['--strategy', 'prompt'] if cmd == 'adapt' else []),
                                    '--device', 'cpu', '--precision', 'fp32', '--threads', '2'])
    assert (a.device, a.precision, a.threads) == ('cpu', 'fp32', 2)

@pytest.mark.parametrize('cmd', LOADS_MODEL)
def test_runtime_flags_checked(cmd):
    rc, out, err = run(cmd, '--precision', 'fp64')
    one_line_error(rc, err, 'fp64', f't2repro {cmd}: error:')
    rc, out, err = run(cmd, '--threads', '0')
    one_line_error(rc, err, "'0' is not a positive integer")

def test_runtime_flags_defined_once():
    text = ''.join((ROOT/'t2repro'/'base'/f).read_text() for f in ('flags.py', 'options.py'))  # options builds on flags
    for flag in ("'--device'", "'--precision'", "'--threads'", "'--model'"): assert text.count(flag) == 1, flag
    assert parser_for('params').get_default('device') is None   # params builds the model on the meta device: no runtime

def test_runtime_applied_by_every_loading_command():
    "Each loading command's function builds its `Runtime` from the parsed flags (`Runtime.from_args(...).apply()`)."
    import importlib, inspect
    for cmd in LOADS_MODEL:
        if cmd == 'adapt': continue   # t2repro.adapt.run (another layer's notebook) applies it
        mod, fn, _ = COMMANDS[cmd]
        assert 'Runtime.from_args(' in inspect.getsource(getattr(importlib.import_module(mod), fn)), cmd

# 3. --help answers without importing torch, for every command (all but sandbox, itself torch-free, parse in t2repro.base.options)
def test_every_command_has_a_torch_free_parser():
    assert set(COMMANDS) - set(PARSERS) == {'sandbox'} and set(PARSERS) <= set(COMMANDS)

HELP = ("import sys, time; t = time.time(); from t2repro.interface.cli import main\n"
        "try: main([sys.argv[1], '--help'])\nexcept SystemExit: pass\n"
        "print('RESULT', 'torch' in sys.modules, round(time.time() - t, 3), file=sys.stderr)")

@pytest.mark.parametrize('cmd', list(COMMANDS))
def test_help_fast_and_torch_free(cmd):
    t0 = time.time()
    r = subprocess.run([sys.executable, '-c', HELP, cmd], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    wall = time.time() - t0
    torch_loaded, inner = r.stderr.split('RESULT')[1].split()
    print(f't2repro {cmd} --help: {wall:.2f} s wall (interpreter included), {inner} s after start; torch imported: {torch_loaded}')
    assert r.returncode == 0 and f't2repro {cmd}' in r.stdout, r.stderr
    assert torch_loaded == 'False', f'{cmd} --help imported torch'
    assert float(inner) < 1.0, f'{cmd} --help took {inner} s'

# 4. the dispatcher: user errors in one line, bugs with their traceback
def test_user_error_one_line_bug_traceback(monkeypatch):
    one_line_error(*run('params', '--model', 'no-such-model')[::2], "unknown model 'no-such-model'")
    for cmd in (['eval', '--task', 'arc_easy'], ['train-svf', '--task', 'arc_easy', '--out', 'no-such-run'], ['baseline'], ['table1']):
        rc, out, err = run(*cmd, '--model', 'no-such-model')
        one_line_error(rc, err, "unknown model 'no-such-model'")
    assert not Path('no-such-run').exists()
    import t2repro.interface.commands as C
    def boom(argv): raise OSError('disk says no\nsecond line')
    monkeypatch.setattr(C, 'params_cli', boom)
    assert one_line_error(*run('params')[::2]) == 't2repro params: error: disk says no second line'
    def bug(argv): raise RuntimeError('a bug')
    monkeypatch.setattr(C, 'params_cli', bug)
    with pytest.raises(RuntimeError, match='a bug'): main(['params'])
    r = subprocess.run([*T2REPRO, 'eval', '--task', 'arc_easy', '--data-dir', '/no/such/dir'],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    one_line_error(r.returncode, r.stderr, '/no/such/dir is not a folder')

# 5. --data-dir and $T2REPRO_DATA, through the command line
@pytest.fixture(scope='module')
def data(tmp_path_factory):
    "A data folder with only ARC-Easy, its test split cut to 3 rows (so a run shows which folder it read)."
    d = tmp_path_factory.mktemp('data')
    (d/'arc').mkdir()
    lines = (ROOT/'data'/'arc'/'ARC-Easy-Test.jsonl').read_text().splitlines()[:3]
    (d/'arc'/'ARC-Easy-Test.jsonl').write_text('\n'.join(lines) + '\n')
    shutil.copy(ROOT/'data'/'arc'/'ARC-Easy-Train.jsonl', d/'arc')
    shutil.copy(ROOT/'data'/'arc'/'ARC-Easy-Dev.jsonl', d/'arc')
    return d

@pytest.mark.parametrize('how', ['--data-dir', 'T2REPRO_DATA'])
def test_data_dir_and_env(data, tmp_path, how):
    flag, env = (['--data-dir', str(data)], None) if how == '--data-dir' else ([], {'T2REPRO_DATA': str(data)})
    rc, out, err = run('eval', *TINY, '--task', 'arc_easy', '--limit', '10', '--out', str(tmp_path), *flag, env=env)
    assert rc == 0, err
    assert json.loads((tmp_path/'eval'/'arc_easy-tiny-qwen2.json').read_text())['rows'][0]['n'] == 3   # read from `data`
    for cmd in (['eval'], ['baseline', '--tasks', 'gsm8k'], ['train-svf', '--out', str(tmp_path/'t')],
                ['train-lora', '--out', str(tmp_path/'t')], ['table1', '--tasks', 'gsm8k', '--out', str(tmp_path)]):
        extra = ['--task', 'gsm8k'] if cmd[0] in ('eval', 'train-svf', 'train-lora') else []
        rc, out, err = run(*cmd, *TINY, *extra, *flag, env=env)
        one_line_error(rc, err, str(data/'gsm8k'), 'missing task data')
        assert 'loading' not in out and not (tmp_path/'t').exists()

# 6. bad experts: refused before the weights load, in one line; the fingerprint after the load
@pytest.fixture(scope='module')
def experts(tmp_path_factory):
    import torch
    from t2repro.base.models import tiny_model, svf_targets
    from t2repro.weights.svf import Expert, SVFConfig
    from t2repro.weights.experts import save_expert
    from safetensors.torch import save_file
    d = tmp_path_factory.mktemp('experts')
    m, _ = tiny_model('qwen2')
    z = {n: torch.ones(min(m.get_parameter(n).shape)) for n in svf_targets(m)}
    cfg = dict(svf=SVFConfig(parametrization='identity').to_dict())
    save_expert(Expert(z, cfg), d/'good.safetensors')
    save_expert(Expert(z, dict(cfg, fingerprint='0' * 64)), d/'otherweights.safetensors')
    (d/'truncated.safetensors').write_bytes((d/'good.safetensors').read_bytes()[:200])
    (d/'random.safetensors').write_bytes(os.urandom(4096))
    class Boom:
        def __reduce__(self): return (os.system, (f'touch {d}/PWNED',))
    (d/'pickle.safetensors').write_bytes(pickle.dumps(Boom()))
    save_file({'w': torch.zeros(3)}, d/'notexpert.safetensors')
    save_expert(Expert({n.replace('layers.0', 'layers.99'): v for n, v in z.items()}, cfg), d/'othermodel.safetensors')
    return d

BAD_EXPERTS = [('truncated', 'not a readable safetensors file'), ('random', 'not a readable safetensors file'),
               ('pickle', 'not a readable safetensors file'), ('notexpert', 'not a t2repro expert'),
               ('othermodel', 'unknown parameter name')]

@pytest.mark.parametrize('name,why', BAD_EXPERTS)
def test_bad_expert_before_weights(experts, monkeypatch, name, why):
    import t2repro.interface.commands as C
    def no_weights(*a, **k): raise AssertionError('the weights were loaded before the expert was checked')
    monkeypatch.setattr(C, 'load_model', no_weights)
    rc, out, err = run('eval', *TINY, '--task', 'arc_easy', '--expert', str(experts/f'{name}.safetensors'))
    one_line_error(rc, err, f'{name}.safetensors', why)
    assert not (experts/'PWNED').exists()
    # an expert of the tiny model against a bigger model's architecture (meta device, no weights anywhere)
    if name == 'othermodel':
        rc, out, err = run('eval', '--model', 'llama3-8b-instruct', '--task', 'arc_easy', '--expert', str(experts/'good.safetensors'))
        one_line_error(rc, err, 'good.safetensors', 'singular values')

def test_fingerprint_after_load(experts, tmp_path):
    argv = ['eval', *TINY, '--task', 'arc_easy', '--limit', '2', '--out', str(tmp_path), '--expert', str(experts/'otherweights.safetensors')]
    line = one_line_error(*run(*argv)[::2], 'fingerprint mismatch', '--no-check-fingerprint')
    assert 'check_fingerprint=False' not in line
    rc, out, err = run(*argv, '--no-check-fingerprint')
    assert rc == 0, err

# 7. a resume with other flags is refused, naming them; the same flags resume
def test_resume_other_flags_refused(tmp_path):
    small = ['train-svf', *TINY, '--task', 'arc_easy', '--steps', '1', '--batch-size', '2', '--micro-batch', '2',
             '--train-limit', '2', '--val-limit', '2', '--no-val-at-start', '--out', str(tmp_path/'run')]
    assert run(*small)[0] == 0
    cfg = (tmp_path/'run'/'config.json').read_text()
    one_line_error(*run(*small, '--lr', '0.01', '--seed', '1')[::2], 'config.lr 0.002 → 0.01', 'config.seed 0 → 1', str(tmp_path/'run'))
    assert (tmp_path/'run'/'config.json').read_text() == cfg   # the saved settings stay those that ran
    rc, out, err = run(*small)
    assert rc == 0 and 'resumed from' in out, err

# 8. runs/ by default, `--out results` for the committed files; no machine path in a results file
def test_default_out_is_runs():
    from t2repro.experiments.common import results_dir
    from t2repro.base.core import repo_path
    for cmd in ('baseline', 'table1', 'eval'):
        assert parser_for(cmd).get_default('out') is None and 'runs/' in ' '.join(parser_for(cmd).format_help().split())
    assert results_dir(None, 'runs') == repo_path('runs') and results_dir('results') == Path('results')
    assert 'runs/' in (ROOT/'.gitignore').read_text().split()

def _strings(o):
    if isinstance(o, dict): yield from (s for v in o.values() for s in _strings(v))
    elif isinstance(o, list): yield from (s for v in o for s in _strings(v))
    elif isinstance(o, str): yield o

def test_no_machine_path_in_results(experts, tmp_path):
    out = tmp_path/'out'
    r = subprocess.run([*T2REPRO, 'table1', *TINY, '--tasks', 'arc_easy', '--methods', 'base',
                        '--test-limit', '3', '--out', str(out)], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1'))
    assert r.returncode == 0, r.stderr[-2000:]
    assert run('eval', *TINY, '--task', 'arc_easy', '--limit', '2', '--out', str(out), '--expert', str(experts/'good.safetensors'))[0] == 0
    files = [out/'table1.json', out/'eval'/'arc_easy-tiny-qwen2-good.json']
    for f in files:
        for s in _strings(json.loads(f.read_text())):
            assert str(tmp_path) not in s and not s.startswith('/'), (f.name, s)
    assert json.loads(files[0].read_text())['units_folder'] == 'table1'
    assert json.loads(files[1].read_text())['expert'] == 'good.safetensors'

# 9. lm-eval (79_lm_eval): the harness's command fails in one line too, reads --data-dir, and writes no machine path
LM_EVAL_BAD = [('truncated', 'not a readable safetensors file'), ('othermodel', 'unknown parameter name'),
               ('otherweights', 'pass --no-check-fingerprint')]

@pytest.mark.parametrize('name,why', LM_EVAL_BAD)
def test_lm_eval_bad_expert_before_scoring(experts, monkeypatch, name, why):
    pytest.importorskip('lm_eval')
    import t2repro.experiments.lm_eval as L
    def no_scoring(*a, **k): raise AssertionError('the harness ran before the expert was checked')
    monkeypatch.setattr(L, 'harness_run', no_scoring)
    rc, out, err = run('lm-eval', *TINY, '--tasks', 'arc_easy', '--limit', '2', '--expert', str(experts/f'{name}.safetensors'))
    one_line_error(rc, err, f'{name}.safetensors', why, 't2repro lm-eval: error:')

def test_lm_eval_harness_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, 'lm_eval', None)   # as if lm-evaluation-harness were not installed
    one_line_error(*run('lm-eval', *TINY)[::2], 'lm-evaluation-harness is not installed', "pip install 'lm-eval==")

def test_lm_eval_data_dir_and_paths(data, experts, tmp_path):
    pytest.importorskip('lm_eval')
    one_line_error(*run('lm-eval', *TINY, '--tasks', 'arc_challenge', '--data-dir', str(data))[::2], 'ARC-Challenge-Test.jsonl', 'missing task data file')
    rc, out, err = run('lm-eval', *TINY, '--tasks', 'arc_easy', '--limit', '10', '--threads', '1', '--data-dir', str(data), '--out', str(tmp_path),
                       '--expert', str(experts/'good.safetensors'))
    assert rc == 0, err
    r = json.loads((tmp_path/'lm_eval-tiny-qwen2.json').read_text())
    assert r['budget']['items'] == {'arc_easy': 3} and r['budget']['split_items'] == {'arc_easy': 3}   # read from `data`
    assert [x['n'] for x in r['rows']] == [3] * 4 and r['experts'] == ['good.safetensors']
    for s in _strings(r): assert str(tmp_path) not in s and not s.startswith('/'), s
