"""The library as a researcher meets it: values checked (no silent NaN), fingerprints wherever an expert meets a model,
custom tasks from rows through the Python API and the CLI, and the Adapter's public surface (issue 20)."""
import math
import pytest
import torch

# ---------------------------------------------------------------------------------------------------------------------
# shared: a tiny model, its factors, two experts of it
@pytest.fixture(scope='module')
def tiny():
    from t2repro.base.models import tiny_model, svf_targets
    from t2repro.weights.svd import svd_factors
    from t2repro.weights.svf import SVFConfig, Expert
    model, tok = tiny_model('qwen2', initializer_range=0.2, max_position_embeddings=2048)
    names = svf_targets(model)
    factors = svd_factors(model, names, cache=False)
    g = torch.Generator().manual_seed(0)
    svf = SVFConfig(parametrization='identity').to_dict()
    experts = {f'e{k}': Expert({n: 0.5 + torch.rand(len(factors[n][1]), generator=g) for n in names},
                               dict(svf=svf, fingerprint=factors.fingerprint)) for k in range(2)}
    return model, tok, factors, experts


class AlwaysA:
    "A two-choice task whose gold label is always the first one: what NaN logits 'predict' (argmax of NaNs)."
    name, kind, max_new_tokens, stop = 'always_a', 'mc', 4, ()
    def prompt(self, row, tok): return tok.apply_chat_template([dict(role='user', content=row['q'])], tokenize=False, add_generation_prompt=True)
    def user_message(self, row): return row['q']
    def choices(self, row): return ['A', 'B']
    def answer_label(self, row): return 'A'
    def extract(self, text, row=None): return text.strip()[:1]
    def is_correct(self, row, answer): return answer == 'A'
    def reward(self, row, answer): return 1. if self.is_correct(row, answer) else -1.
    def target(self, row): return 'A'


def _zero_candidate_seed(K=2, population=8, init_std=1.0):
    "A CEM seed whose first population holds a candidate clipped to α = 0 everywhere (cem's own sampling, replayed)."
    for seed in range(200):
        g = torch.Generator().manual_seed(seed)
        pop = (torch.full((K,), 1 / K) + init_std * torch.randn(population, K, generator=g)).clamp(0, 1)
        if (pop.sum(1) == 0).any(): return seed
    raise AssertionError('no seed draws an all-zero candidate')


# ---------------------------------------------------------------------------------------------------------------------
# 1. values, not only shapes
def test_few_shot_never_scores_nan_weights(tiny):
    "Issue 20's NaN run: a clipped CEM candidate α = 0 made c = Σσ/Σ(σ∘z') divide by zero, the weights NaN, and the score 100%."
    from t2repro.base.config import CEMConfig
    from t2repro.adapt.adapter import Adapter
    from t2repro.adapt.cem import few_shot_score
    model, tok, factors, experts = tiny
    rows = [dict(id=i, q=f'Question number {i}: pick one.') for i in range(4)]
    seen = []
    def score(m, t, task, shots):
        finite = all(bool(torch.isfinite(m.get_parameter(n)).all()) for n in factors)
        seen.append(finite)
        return few_shot_score(m, t, task, shots, loglik_only=False)
    ad = Adapter(model, tok, factors, experts)
    cfg = CEMConfig(population=8, iterations=2, init_std=1.0, seed=_zero_candidate_seed(), k=2, precision='fp32')
    res = ad.fit_few_shot(AlwaysA(), rows, cfg, score_fn=score)
    assert all(seen), f'{seen.count(False)} of {len(seen)} candidates were scored with NaN weights'
    assert bool((res.alpha > 0).any()) and all(math.isfinite(x) for x in res.score), (res.alpha, res.score)
    ad.switch(__import__('t2repro.adapt.adapter', fromlist=['Decision']).Decision('x', alpha=tuple(res.alpha.tolist())))
    assert all(bool(torch.isfinite(model.get_parameter(n)).all()) for n in factors)
    ad.restore() if hasattr(ad, 'restore') else ad.base()


# ---------------------------------------------------------------------------------------------------------------------
# 2. fingerprints wherever an expert meets a model, in memory as on disk
def test_in_memory_expert_of_another_model_refused(tiny):
    from t2repro.base.models import tiny_model
    from t2repro.weights.svd import svd_factors
    from t2repro.adapt.adapter import Adapter
    from t2repro.tasks.evaluate import with_expert
    model, tok, factors, experts = tiny
    other, _ = tiny_model('qwen2', seed=1, initializer_range=0.2, max_position_embeddings=2048)   # same shapes, other weights
    of = svd_factors(other, list(factors), cache=False)
    with pytest.raises(ValueError, match="expert 'e0': fingerprint mismatch"): Adapter(other, tok, of, experts)
    with pytest.raises(ValueError, match='fingerprint mismatch'): with_expert(other, experts['e0'], factors=of).__enter__()
    Adapter(other, tok, of, experts, check_fingerprint=False)   # the one opt-out
    Adapter(model, tok, factors, experts)


# ---------------------------------------------------------------------------------------------------------------------
# 3. a task of your own, from rows: trains, evaluates and adapts, from Python and from the command line
ROWS = [dict(question=f'Is {n} an even number?', choices=['yes', 'no'], answer='yes' if n % 2 == 0 else 'no') for n in range(10)]

def test_custom_task_python(tiny, tmp_path):
    from t2repro.base.config import TrainConfig, CEMConfig
    from t2repro.tasks.custom import RowsTask
    from t2repro.tasks.evaluate import evaluate, with_expert
    from t2repro.train.expert import train_svf
    from t2repro.weights.experts import load_expert
    from t2repro.adapt.adapter import Adapter
    model, tok, factors, _ = tiny
    task = RowsTask('parity', ROWS)
    res = train_svf(model, tok, task, TrainConfig.quick(steps=2, batch_size=4, micro_batch=4, val_every=1), tmp_path/'parity', factors=factors, log=None)
    assert res['steps'] == 2 and res['n_train'] == 10
    ex = load_expert(tmp_path/'parity'/'expert.safetensors', model=model, factors=factors)
    assert ex.meta['task'] == 'parity'
    with with_expert(model, ex, factors=factors): r = evaluate(model, tok, task, task.load('test'), progress=False)
    assert r.n == 10 and r.pred_dist is not None
    # a custom reward reaches REINFORCE: every label is worth +2, so the mean rollout reward is 2
    paid = RowsTask('parity', ROWS, reward=lambda row, answer: 2.)
    res2 = train_svf(model, tok, paid, TrainConfig.quick(steps=1, batch_size=4, micro_batch=4, val_every=1), tmp_path/'paid', factors=factors, log=None)
    assert res2['history'][-1]['reward'] == 2.
    # a free-form task with its own judge
    gen = RowsTask('echo', [dict(question=f'Say {w}.', answer=w) for w in ('red', 'blue', 'green', 'gold')],
                   is_correct=lambda row, answer: row['answer'] in str(answer), max_new_tokens=4)
    res3 = train_svf(model, tok, gen, TrainConfig.quick(steps=1, batch_size=2, micro_batch=2, val_every=1, max_new_tokens=4), tmp_path/'echo', factors=factors, log=None)
    e2 = load_expert(tmp_path/'echo'/'expert.safetensors', factors=factors)
    ad = Adapter(model, tok, factors, {'parity': ex, 'echo': e2}, max_new_tokens=4)
    for strategy, kw in [('few-shot', dict(cem=CEMConfig(population=2, iterations=1, k=3, precision='fp32'))), ('mixture', dict(alpha=[0.5, 0.5])),
                         ('prompt', {}), ('base', {})]:
        out = ad.run_task(task, task.load('test'), strategy, **kw)
        assert out.strategy == strategy and out.n == (7 if strategy == 'few-shot' else 10) and 0 <= out.score <= 1
    assert out.records[0]['label'] == 'base'


def _cli(*argv):
    import contextlib, io
    from t2repro.interface.cli import main
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        try: rc = main(list(argv))
        except SystemExit as e: rc = e.code
    return rc, so.getvalue(), se.getvalue()


def test_custom_task_cli(tmp_path, monkeypatch):
    import json, sys
    f = tmp_path/'parity.jsonl'
    f.write_text(''.join(json.dumps(r) + '\n' for r in ROWS))
    tiny = ['--model', 'tiny-qwen2', '--precision', 'fp32']
    rc, out, err = _cli('train-svf', *tiny, '--task-file', str(f), '--steps', '1', '--batch-size', '2', '--micro-batch', '2',
                        '--val-every', '1', '--out', str(tmp_path/'run'))
    assert rc == 0, err
    assert 'on 10 ' in out and (tmp_path/'run'/'expert.safetensors').exists()
    rc, out, err = _cli('eval', *tiny, '--task-file', str(f), '--expert', str(tmp_path/'run'/'expert.safetensors'), '--out', str(tmp_path))
    assert rc == 0, err
    assert json.loads((tmp_path/'eval'/'parity-tiny-qwen2-expert.json').read_text())['rows'][0]['n'] == 10
    rc, out, err = _cli('adapt', *tiny, '--task-file', str(f), '--strategy', 'few-shot', '--experts', str(tmp_path/'run'), '--k', '2',
                        '--iterations', '1', '--population', '2', '--max-new-tokens', '4')
    assert rc == 0 and 'few-shot on parity' in out, err
    # --task module:Name: a Task subclass in your own module
    (tmp_path/'mytasks.py').write_text('from t2repro.tasks.custom import RowsTask\nimport json, pathlib\n'
                                       'class Parity(RowsTask):\n    def __init__(self): super().__init__("parity2", [json.loads(l) for l in '
                                       f'pathlib.Path({str(f)!r}).read_text().splitlines()])\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    rc, out, err = _cli('eval', *tiny, '--task', 'mytasks:Parity', '--limit', '3', '--out', str(tmp_path))
    assert rc == 0 and (tmp_path/'eval'/'parity2-tiny-qwen2.json').exists(), err
    # bad input: one line, exit 2, the file and line named
    (tmp_path/'bad.jsonl').write_text(json.dumps(ROWS[0]) + '\n' + json.dumps(dict(question='q')) + '\n')
    rc, out, err = _cli('eval', *tiny, '--task-file', str(tmp_path/'bad.jsonl'))
    assert rc == 2 and 'bad.jsonl, line 2' in err and len(err.strip().splitlines()) == 1, err
    rc, out, err = _cli('eval', *tiny, '--task', 'mytasks:Nope')
    assert rc == 2 and "cannot import 'Nope'" in err, err
