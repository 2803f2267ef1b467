"Tests of t2repro.tasks.registry and t2repro.tasks.data beyond the notebook: the data folder, the reference programs pass their tests (body-only completions through the sandbox), the hub path, the interface."
import gzip, hashlib, json, os, re, shutil, subprocess, sys, tempfile, textwrap
from pathlib import Path
import pytest
from t2repro.tasks import registry as tasks, data as task_data
from t2repro.base.config import ALL_TASKS, CLS_TASK
from t2repro.base.core import data_dir, repo_path
from t2repro.tasks.registry import TASKS, get_task, Task

DATA = repo_path('data')
needs_data = pytest.mark.skipif(not DATA.is_dir() and data_dir() is None, reason='neither a checkout with data/ nor $T2REPRO_DATA')

# Trusted reference solutions only (no model output): each program+tests runs in a fresh namespace, 10 s each.
_RUNNER = textwrap.dedent('''
    import json, signal, sys
    def _alarm(*a): raise TimeoutError('timed out')
    signal.signal(signal.SIGALRM, _alarm)
    failed = []
    for id, prog, tests in json.load(sys.stdin):
        signal.alarm(10)
        try: exec(compile(prog + "\\n" + tests, id, "exec"), {"__name__": "__t2repro_test__"})
        except BaseException as e: failed.append([id, repr(e)[:200]])
        finally: signal.alarm(0)
    print(json.dumps(failed))
''')

def _run_references(task, rows):
    items = [[r['id'], *task.test_program(r, task.extract(task.target(r), r))] for r in rows]
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run([sys.executable, '-c', _RUNNER], input=json.dumps(items), capture_output=True, text=True, cwd=d, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])

@needs_data
def test_humaneval_references_pass():
    he = get_task('humaneval'); rows = he.load('test')
    assert _run_references(he, rows) == []

@needs_data
def test_body_only_completions_in_the_sandbox():
    "A completion that is only the function body (indented or not) passes when right and fails when wrong."
    from t2repro.tasks.sandbox import run_many
    he = get_task('humaneval'); rows = he.load('test')[:6]
    good = [he.test_program(r, b) for r in rows for b in (r['canonical_solution'], textwrap.dedent(r['canonical_solution']))]
    bad = [he.test_program(r, '    return None\n') for r in rows]
    vs = run_many(good + bad, timeout=20)
    assert [v.passed for v in vs] == [True] * len(good) + [False] * len(bad), [(v.status, v.stderr[-300:]) for v in vs]
    assert all(v.status == 'failed' and 'Traceback' in v.stderr for v in vs[len(good):])
    mb = get_task('mbpp'); rows = mb.load('test')[:4]
    right = [mb.test_program(r, mb.extract(mb.target(r), r)) for r in rows]
    wrong = [mb.test_program(r, re.sub(r'(?m)^(\s+)return .*$', r'\1return None', r['code'])) for r in rows]
    vs = run_many(right + wrong, timeout=20)
    assert [v.passed for v in vs] == [True] * len(right) + [False] * len(wrong), [(v.status, v.stderr[-300:]) for v in vs]

@needs_data
@pytest.mark.parametrize('variant', ['sanitized', 'full'])
def test_mbpp_references_pass(variant):
    t = tasks.MBPP(variant=variant)
    rows = [r for s in ('train', 'val', 'test') for r in t.load(s)]
    assert _run_references(t, rows) == []

@needs_data
@pytest.mark.parametrize('name,split,lo', [('gsm8k', 'test', 1.0), ('gsm8k', 'train', 1.0), ('math', 'test', 0.99),
                                           ('math', 'test_full', 0.99), ('arc_easy', 'test', 1.0), ('arc_challenge', 'test', 1.0)])
def test_reference_rate(name, split, lo):
    t = get_task(name); rows = t.load(split)
    rate = sum(t.is_correct(r, t.extract(t.target(r), r)) for r in rows) / len(rows)
    assert rate >= lo, rate

def test_registry_and_interface():
    assert tuple(TASKS)[:6] == ALL_TASKS
    assert set(list(TASKS)[6:]) <= {CLS_TASK}   # the classifier expert's task registers itself once t2repro.adapt.adapter is imported
    if CLS_TASK not in TASKS:                   # the registry does not import adapt (a higher layer): it says so
        with pytest.raises(ValueError, match='registers when t2repro.adapt is imported'): get_task(CLS_TASK)
    else: assert get_task(CLS_TASK).name == CLS_TASK   # registered by t2repro.adapt.adapter (tested there)
    for t in TASKS.values():
        assert isinstance(t, Task) and t.kind in ('gen', 'mc', 'code') and t.max_new_tokens > 0 and isinstance(t.stop, (list, tuple))
        assert 'test' in t.splits
    with pytest.raises(ValueError, match='valid names'): get_task('nope')
    with pytest.raises(NotImplementedError, match='sandbox'): get_task('mbpp').reward({}, 'x')

def test_prompt_with_tiny_tokenizer():
    from t2repro.base.models import tiny_tokenizer
    tok = tiny_tokenizer()
    row = dict(id='x', question='Which is a gas?', choices=['ice', 'steam', 'rock'], labels=['A', 'B', 'C'], answer='B')
    p = get_task('arc_easy').prompt(row, tok)
    assert p.endswith('<|im_start|>assistant\n') and 'C. rock' in p
    tok.chat_template = None
    with pytest.raises(ValueError, match='no chat template'): get_task('arc_easy').prompt(row, tok)

def test_hub_path(monkeypatch, tmp_path):
    recs = {'openai/openai_humaneval': [dict(task_id=f'HumanEval/{i}', prompt='def f():\n    """x"""\n', entry_point='f',
                                             canonical_solution='    return 1\n', test='def check(c):\n    assert c() == 1\n') for i in range(12)],
            'HuggingFaceH4/MATH-500': [dict(problem='1+1?', solution='$\\boxed{2}$', answer='2', subject='Algebra', level=1, unique_id='test/a/1.json')]}
    monkeypatch.setattr(tasks, '_hub_rows', lambda path, config, split: recs[path])   # where the tasks look it up
    he = get_task('humaneval')
    assert [len(he.load(s, source='hub')) for s in ('test', 'fewshot', 'test_rest')] == [12, 10, 2]
    monkeypatch.setattr(task_data, 'find_data_dir', lambda d=None: None)   # an installed package outside a checkout: the hub
    assert len(he.load('test')) == 12
    r = get_task('math').load('test', source='hub')[0]
    assert r['answer'] == '2' and r['level'] == 1
    with pytest.raises(FileNotFoundError, match='T2REPRO_DATA'): get_task('math').load('test', source='local')

# --- the data folder: found on its own, or from $T2REPRO_DATA / data_dir=, with clear errors --------------------------
def test_checkout_data_is_found():
    assert data_dir() == DATA or os.environ.get('T2REPRO_DATA')
    assert task_data.resolve_source(folder='gsm8k')[0] == 'local'

def test_data_manifest():
    "Every file listed in data/README.md is there with the listed size and sha256 (of the uncompressed bytes); every folder has a SOURCE.md."
    rows = re.findall(r'^\| `([^`]+)` \| ([\d,]+) \| ([\d,]+) \| `([0-9a-f]{64})` \|$', (DATA/'README.md').read_text(), re.M)
    assert len(rows) == 16
    for name, size, raw_size, sha in rows:
        b = (DATA/name).read_bytes(); raw = gzip.decompress(b) if name.endswith('.gz') and 'HumanEval' not in name else b
        assert (len(b), len(raw), hashlib.sha256(raw).hexdigest()) == (int(size.replace(',', '')), int(raw_size.replace(',', '')), sha), name
    for d in DATA.iterdir():
        if d.is_dir(): assert (d/'SOURCE.md').exists(), d
    listed = {n for n, *_ in rows}
    on_disk = {str(p.relative_to(DATA)) for p in DATA.rglob('*') if p.is_file() and p.name not in ('SOURCE.md', 'README.md', 'README.txt')}
    assert listed == on_disk

def _copy(tmp_path, *folders):
    d = tmp_path/'mydata'; d.mkdir()
    for f in folders: shutil.copytree(DATA/f, d/f)
    return d

@needs_data
def test_env_var_data_folder(tmp_path):
    "$T2REPRO_DATA is used (in a fresh process, as a command would), and it wins over the checkout's data/."
    d = _copy(tmp_path, 'gsm8k')
    lines = (d/'gsm8k'/'test.jsonl').read_text().splitlines()[:7]; (d/'gsm8k'/'test.jsonl').write_text('\n'.join(lines) + '\n')
    code = 'from t2repro.tasks.registry import get_task; from t2repro.base.core import data_dir; print(data_dir(), len(get_task("gsm8k").load("test")))'
    env = dict(os.environ, T2REPRO_DATA=str(d), PYTHONPATH=str(repo_path()))
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == [str(d), '7']
    env['T2REPRO_DATA'] = str(tmp_path/'nope')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert r.returncode != 0 and f"$T2REPRO_DATA {tmp_path/'nope'} is not a folder" in r.stderr

@needs_data
def test_explicit_data_folder(tmp_path, monkeypatch):
    d = _copy(tmp_path, 'arc')
    monkeypatch.setenv('T2REPRO_DATA', str(tmp_path/'ignored'))   # the explicit folder wins over the variable
    assert len(get_task('arc_challenge').load('test', data_dir=d)) == 1172
    with pytest.raises(FileNotFoundError, match=re.escape(f'{d}/gsm8k: missing task data folder')):
        get_task('gsm8k').load('test', data_dir=d)                 # no silent trip to the hub
    (d/'gsm8k').mkdir(); shutil.copy(DATA/'gsm8k'/'test.jsonl', d/'gsm8k')
    assert len(get_task('gsm8k').load('test', data_dir=d)) == 1319
    with pytest.raises(FileNotFoundError, match=re.escape(f'{d}/gsm8k/train.jsonl: missing task data file')):
        get_task('gsm8k').load('train', data_dir=d)

def test_bad_data_lines_are_named(tmp_path):
    d = tmp_path/'gsm8k'; d.mkdir()
    (d/'test.jsonl').write_text('{"question": "1+1?", "answer": "#### 2"}\n{"question": "a\tb", "answer": "#### 1"}\n')
    with pytest.raises(ValueError, match=re.escape(f'{d}/test.jsonl, line 2: not valid JSON (Invalid control character')):
        get_task('gsm8k').load('test', data_dir=tmp_path)
    (d/'test.jsonl').write_text('{"question": "1+1?", "answer": "#### 2"}\n\n{"question": "2+2?", "solution": "4"}\n')
    with pytest.raises(ValueError, match=re.escape(f"{d}/test.jsonl, line 3: missing field 'answer'")):
        get_task('gsm8k').load('test', data_dir=tmp_path)
    (tmp_path/'arc').mkdir()
    (tmp_path/'arc'/'ARC-Challenge-Test.jsonl').write_text('{"id": "x", "question": {"stem": "Q?", "choices": []}, "answerKey": "A"}\n')
    with pytest.raises(ValueError, match=re.escape('ARC-Challenge-Test.jsonl, line 1: bad record (ValueError: ARC x: answer key')):
        get_task('arc_challenge').load('test', data_dir=tmp_path)
    (tmp_path/'humaneval').mkdir()
    with gzip.open(tmp_path/'humaneval'/'HumanEval.jsonl.gz', 'wt') as f: f.write('{"task_id": "HumanEval/0", "prompt": "def f():\\n"}\n')
    with pytest.raises(ValueError, match=re.escape("HumanEval.jsonl.gz, line 1: missing field 'entry_point'")):
        get_task('humaneval').load('test', data_dir=tmp_path)

def test_hub_error_is_clear(monkeypatch):
    import datasets
    def boom(*a, **k): raise ConnectionError('offline')
    monkeypatch.setattr(datasets, 'load_dataset', boom)
    with pytest.raises(FileNotFoundError, match='data_dir'): get_task('gsm8k').load('test', source='hub')
