"""Transformer²'s two passes (`t2repro.adapt.adapter`) on a tiny model: dispatch of a mixed batch, exact restore, bad input;
and `t2repro adapt` (`t2repro.adapt.run`) as a user runs it."""
import json, os, subprocess, sys
import pytest, torch
from t2repro.base.models import tiny_model, svf_targets
from t2repro.weights.svd import svd_factors
from t2repro.weights.svf import Expert, merged, SVF
from t2repro.weights.experts import mix, save_expert
from t2repro.tasks.evaluate import generate
from t2repro.adapt.classifier import chat_prompt
from t2repro.adapt.adapter import Adapter, Decision
from t2repro.adapt.run import CEMConfig, adapt_task

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
    out = Adapter(model, tok, factors, experts, generate_fn=gen, max_new_tokens=5, pass1='generate')(qs, strategy='prompt')
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


# --- `t2repro adapt` as a user runs it: a subprocess on tiny-qwen2 with experts made here ---
def _cli(*args, cwd=None):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get('PYTHONPATH', ''))
    return subprocess.run([sys.executable, '-c', 'import sys; from t2repro.interface.cli import main; sys.exit(main(sys.argv[1:]))', 'adapt', *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)

@pytest.fixture(scope='module')
def tiny_experts(tmp_path_factory):
    d = tmp_path_factory.mktemp('experts')
    model, _ = tiny_model('qwen2')             # what `--model tiny-qwen2` loads
    factors = svd_factors(model, svf_targets(model), cache=False)
    for i, t in enumerate(('gsm8k', 'mbpp', 'arc_easy', 'cls')):
        save_expert(SVF(model, factors, generator=torch.Generator().manual_seed(i)).expert(task=t), d/f'{t}.safetensors')
    return d

@pytest.mark.parametrize('strategy', ['prompt', 'cls', 'few-shot'])
def test_cli_task(tiny_experts, tmp_path, strategy):
    r = _cli('--strategy', strategy, '--task', 'arc_challenge', '--model', 'tiny-qwen2', '--experts', tiny_experts, '--limit', 2,
             '--k', 2, '--iterations', 1, '--population', 2, '--out', tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if ': pass 1 ' in l]
    assert len(lines) == 2 and all('→' in l for l in lines), r.stdout
    if strategy == 'few-shot': assert all('mixture α' in l and 'gsm8k' in l and 'cls' not in l for l in lines)
    else: assert all(l.split('pass 1 ')[1].split(' →')[0] in ('code', 'math', 'reasoning', 'others') for l in lines)
    assert f'{strategy} on arc_challenge:' in r.stdout
    s = json.loads((tmp_path/'adapt.json').read_text())
    assert s['n'] == 2 and s['method'] == strategy and len((tmp_path/'records.jsonl').read_text().splitlines()) == 2
    # a results file with its provenance (`core.write_results`), the score as its one row
    assert (s['model'], s['seed'], s['budget']['limit']) == ('tiny-qwen2', 0, 2) and s['revision'] and s['wall_time_s'] > 0
    assert s['rows'] == [{k: s[k] for k in ('method', 'task', 'score', 'ci_low', 'ci_high', 'n')}]

def test_cli_prompt(tiny_experts):
    r = _cli('--strategy', 'prompt', '--prompt', 'What is 2 + 2?', '--model', 'tiny-qwen2', '--experts', tiny_experts, '--max-new-tokens', 4)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count('pass 1 (prompt): ') == 1 and 'answer: ' in r.stdout, r.stdout

@pytest.mark.parametrize('args,msg', [
    (['--strategy', 'magic', '--task', 'math'], 'unknown strategy'),
    (['--strategy', 'prompt', '--task', 'gsm9k'], 'unknown task'),
    (['--strategy', 'prompt'], 'either --task'),
    (['--strategy', 'prompt', '--task', 'math', '--limit', '0'], '--limit must be'),
    (['--strategy', 'prompt', '--task', 'math', '--experts', 'no/such/expert.safetensors'], 'does not exist'),
    (['--strategy', 'few-shot', '--prompt', 'hi'], 'use --task'),
])
def test_cli_bad_input(args, msg):
    r = _cli(*args, '--model', 'no-such-model-would-fail-to-load')
    assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, (r.returncode, r.stderr)
