"""Transformer²'s two passes (`t2repro.adapt`) on a tiny model: dispatch of a mixed batch, exact restore, bad input."""
import pytest, torch
from t2repro.models import tiny_model, svf_targets
from t2repro.svd import svd_factors
from t2repro.svf import Expert, merged, mix
from t2repro.evaluate import generate
from t2repro.adapt import Adapter, Decision, CEMConfig, chat_prompt, adapt_task

@pytest.fixture(scope='module')
def setup():
    model, tok = tiny_model('qwen2', initializer_range=0.2, max_position_embeddings=2048)
    names = svf_targets(model)
    factors = svd_factors(model, names, cache=False)
    g = torch.Generator().manual_seed(0)
    experts = {t: Expert({n: torch.sigmoid(0.1 + torch.randn(len(factors[n][1]), generator=g)) for n in names}, dict(task=t))
               for t in ('gsm8k', 'mbpp', 'arc_easy')}
    return model, tok, factors, experts, {n: p.detach().clone() for n, p in model.named_parameters()}

def _same_as_base(model, base):
    return all(torch.equal(p, base[n]) for n, p in model.named_parameters())

def _alone(model, tok, factors, q, z, mnt=5):
    "The answer to `q` generated alone, with `z` merged by hand (None: the base weights)."
    p = [chat_prompt(tok, [dict(role='user', content=q)])]
    if z is None: return generate(model, tok, p, max_new_tokens=mnt, progress=False)[0]
    with merged(model, factors, z): return generate(model, tok, p, max_new_tokens=mnt, progress=False)[0]

def test_mixed_batch_dispatch(setup):
    "Math, code and reasoning prompts classified in pass 1 go to three experts; one generate call per group; input order."
    model, tok, factors, experts, base = setup
    calls = []
    def gen(m, t, prompts, *, max_new_tokens, **kw):
        if 'Analyze the question' in prompts[0]:
            lab = dict(Compute='math', function='code', Why='reasoning')
            return [next((f'\\boxed{{{l}}}' for w, l in lab.items() if w in p.split('<|im_start|>user')[-1]), '?') for p in prompts]
        calls.append(len(prompts))
        return generate(m, t, prompts, max_new_tokens=max_new_tokens, progress=False)
    qs = ['Compute 7*6.', 'Write a function that reverses a list.', 'Why is the sky blue?', 'Compute 2+2.', 'Hi there', 'Why do leaves fall?']
    out = Adapter(model, tok, factors, experts, generate_fn=gen, max_new_tokens=5)(qs, strategy='prompt')
    assert [d.expert for d in out.decisions] == ['gsm8k', 'mbpp', 'arc_easy', 'gsm8k', None, 'arc_easy']
    assert calls == [1, 2, 1, 2]    # base, gsm8k, mbpp, arc_easy: one generate call per group
    assert _same_as_base(model, base)
    for q, d, a in zip(qs, out.decisions, out.answers):
        assert a == _alone(model, tok, factors, q, experts[d.expert].z if d.expert else None)
    assert len({out.answers[i] for i in (0, 1, 2)}) == 3   # three experts, three different answers

def test_mixture_switch_bf16_and_restore(setup):
    "The precomposed mixture switch on bf16 weights matches the recompose of the mixed z; restore is exact."
    model, tok, factors, experts, base = setup
    m16, t16 = tiny_model('qwen2', initializer_range=0.2, max_position_embeddings=2048)
    m16 = m16.to(torch.bfloat16)
    b16 = {n: p.detach().clone() for n, p in m16.named_parameters()}
    f16 = svd_factors(m16, list(factors), cache=False)
    ad = Adapter(m16, t16, f16, experts)
    alpha = torch.tensor([0.3, 0.2, 0.9])
    ad.switch(Decision('x', alpha=tuple(alpha.tolist())))
    W = {n: m16.get_parameter(n).detach().clone() for n in factors}
    ad.base()
    assert _same_as_base(m16, b16)
    with merged(m16, f16, mix(list(experts.values()), alpha)):
        for n in factors: torch.testing.assert_close(m16.get_parameter(n), W[n], atol=2e-2, rtol=2e-2)
    assert _same_as_base(m16, b16)

def test_bad_input(setup):
    model, tok, factors, experts, base = setup
    short = {n: z[:-1] for n, z in experts['gsm8k'].z.items()}
    with pytest.raises(ValueError, match='expert .bad.'): Adapter(model, tok, factors, {'bad': Expert(short)})
    with pytest.raises(ValueError, match='different target matrices'):
        Adapter(model, tok, factors, {'a': experts['gsm8k'], 'b': Expert(dict(list(experts['mbpp'].z.items())[:2]))})
    ad = Adapter(model, tok, factors, experts)
    with pytest.raises(ValueError, match='unknown expert'): ad.switch(Decision('x', 'gsm9k'))
    with pytest.raises(ValueError, match='unknown task'): adapt_task(model, tok, factors, experts, 'gsm9k')
    with pytest.raises(ValueError, match='population'): CEMConfig(population=1)
    assert _same_as_base(model, base)

def test_error_mid_pass_restores(setup):
    "An error in pass 2 leaves the base weights in place."
    model, tok, factors, experts, base = setup
    def boom(m, t, prompts, **kw): raise RuntimeError('generation failed')
    ad = Adapter(model, tok, factors, experts, generate_fn=boom)
    with pytest.raises(RuntimeError, match='generation failed'): ad(['a', 'b'], strategy=lambda qs: [Decision('math', 'gsm8k')] * len(qs))
    assert _same_as_base(model, base)
