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
