"Tests of t2repro.tasks beyond the notebook: the reference programs pass their tests, the hub path, the interface."
import json, subprocess, sys, tempfile, textwrap
import pytest
from t2repro import tasks
from t2repro.core import data_dir
from t2repro.tasks import TASKS, get_task, Task

needs_data = pytest.mark.skipif(data_dir() is None, reason='no offline data folder (set $T2REPRO_DATA)')

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
    # the same with completions that are only the body, indented or not
    bodies = [[r['id'], *he.test_program(r, textwrap.dedent(r['canonical_solution']))] for r in rows[:20]]
    assert all('check(' in t for _, _, t in bodies)

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
    assert list(TASKS) == ['gsm8k', 'math', 'mbpp', 'humaneval', 'arc_easy', 'arc_challenge']
    for t in TASKS.values():
        assert isinstance(t, Task) and t.kind in ('gen', 'mc', 'code') and t.max_new_tokens > 0 and isinstance(t.stop, list)
        assert 'test' in t.splits
    with pytest.raises(ValueError, match='valid names'): get_task('nope')
    with pytest.raises(NotImplementedError, match='sandbox'): get_task('mbpp').reward({}, 'x')

def test_prompt_with_tiny_tokenizer():
    from t2repro.models import tiny_tokenizer
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
    monkeypatch.setattr(tasks, '_hub_rows', lambda path, config, split: recs[path])
    he = get_task('humaneval')
    assert [len(he.load(s, data_dir=tmp_path)) for s in ('test', 'fewshot', 'test_rest')] == [12, 10, 2]  # empty data dir → hub
    r = get_task('math').load('test', source='hub')[0]
    assert r['answer'] == '2' and r['level'] == 1
    with pytest.raises(FileNotFoundError, match='T2REPRO_DATA'): get_task('math').load('test', data_dir=tmp_path, source='local')

def test_hub_error_is_clear(monkeypatch):
    import datasets
    def boom(*a, **k): raise ConnectionError('offline')
    monkeypatch.setattr(datasets, 'load_dataset', boom)
    with pytest.raises(FileNotFoundError, match='data_dir'): get_task('gsm8k').load('test', source='hub')
