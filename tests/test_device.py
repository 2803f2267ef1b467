"""Every tensor the package makes lives on the model's device: the step builders run under `device_guard`
(`t2repro.base.runtime`), which records each tensor factory called from the package with no `device=`; a planted
CPU tensor is caught, and on the `meta` device PyTorch itself refuses to mix it in."""
import pytest, torch
from t2repro.base.runtime import device_guard
from t2repro.base.models import tiny_model, svf_targets
from t2repro.base.config import TrainConfig, LoRAConfig
from t2repro.tasks.registry import get_task
from t2repro.weights.svd import svd_factors
from t2repro.weights.svf import Expert
from t2repro.train.expert import SVFLearner
from t2repro.train.lora import LoRALearner
import t2repro.train.objectives as O
from t2repro.adapt.cem import answer_loglik, CEMConfig
from t2repro.adapt.adapter import Adapter
from t2repro.engine.generate import generate, next_token_logits, left_pad

# Host-side tensors on purpose (z's initial noise, the C kernel's multipliers, α and the CEM search state) are marked
# `# host` on their lines in the package: the guard checks every other factory call, with no allowance by function name.


@pytest.fixture(scope='module')
def setup():
    m, tok = tiny_model('qwen2')
    gsm, arc = get_task('gsm8k'), get_task('arc_easy')
    return m, tok, gsm, arc, gsm.load('test')[:2], arc.load('test')[:2], svd_factors(m, svf_targets(m), cache=False)


def _cfg(**kw): return TrainConfig(batch_size=2, micro_batch=kw.pop('micro_batch', 2), max_new_tokens=4, **kw)


def run_steps(m, tok, gsm, arc, g_rows, a_rows, F):
    "The step builders a GPU run goes through, once each."
    L = SVFLearner(m, F)
    O.rl_step(L, tok, gsm, g_rows, _cfg(micro_batch=1, kl_coef=0.1))            # REINFORCE, greedy rollouts, KL
    O.rl_step(L, tok, gsm, g_rows, _cfg(rollout='sample'))                       # sampled rollouts
    O.rl_step(L, tok, arc, a_rows, _cfg(mc_rollout='label', mc_grad='exact', kl_coef=0.1))      # exact MC gradient
    O.rl_step(L, tok, arc, a_rows, _cfg(mc_rollout='label', mc_grad='reinforce'))
    O.sft_step(L, tok, gsm, g_rows, _cfg())
    answer_loglik(m, tok, gsm, g_rows)
    generate(m, tok, ['hi', 'hello there'], max_new_tokens=3, progress=False)                  # refilled slots
    generate(m, tok, ['hi', 'hello there'], max_new_tokens=3, progress=False, refill=False, stop=['x'])
    next_token_logits(m, tok, ['a', 'bb'])


def test_step_builders_make_tensors_on_the_model_device(setup):
    m, tok, gsm, arc, g_rows, a_rows, F = setup
    with device_guard() as g:
        run_steps(m, tok, gsm, arc, g_rows, a_rows, F)
        LL = LoRALearner(tiny_model('qwen2')[0], LoRAConfig())
        O.rl_step(LL, tok, gsm, g_rows, _cfg(kl_coef=0.1))
        O.sft_step(LL, tok, gsm, g_rows, _cfg())
    assert g.found == [], '\n'.join(g.found)


def test_adapt_three_strategies_and_vqa_step(setup):
    m, tok, gsm, arc, g_rows, a_rows, F = setup
    from t2repro.ext.vqa import tiny_processor, vqa_targets, synthetic_vqa
    from t2repro.ext.vqa_train import VQALearner, vqa_rl_step, VQAConfig
    gen = torch.Generator().manual_seed(0)
    ex = {t: Expert({n: torch.sigmoid(torch.randn(len(F[n][1]), generator=gen)) for n in F}, dict(task=t)) for t in ('gsm8k', 'mbpp', 'arc_easy')}
    lv, lv_tok = tiny_model('llava-next')
    proc = tiny_processor(lv, lv_tok)
    Fv = svd_factors(lv, vqa_targets(lv), cache=False)
    with device_guard() as g:
        ad = Adapter(m, tok, F, {**ex, 'cls': ex['gsm8k']}, max_new_tokens=3, cls_max_new_tokens=4)
        for s in ('prompt', 'cls'): ad(['Compute 2+2.'], strategy=s)
        res = ad.fit_few_shot(gsm, g_rows, CEMConfig(population=2, iterations=1, k=2, elite_ratio=0.5, loglik_only=True))
        ad(['Compute 2+2.'], strategy='few-shot', alpha=res.alpha)
        vqa_rl_step(VQALearner(lv, Fv), proc, None, synthetic_vqa(2, seed=0), VQAConfig(batch_size=2, micro_batch=2))
    assert g.found == [], '\n'.join(g.found)


def test_guard_catches_a_planted_cpu_tensor(setup, monkeypatch):
    "The same REINFORCE step with `pack`'s continuation mask rebuilt without a device: the guard names the line."
    m, tok, gsm, arc, g_rows, a_rows, F = setup
    real = O.pack
    def planted(prompts, conts, pad_id, device='cpu'):
        ids, att, pos, cmask = real(prompts, conts, pad_id, device)
        return ids, att, pos, torch.tensor(cmask.tolist())   # the planted bug: on the default device
    monkeypatch.setattr(O, 'pack', planted)
    with device_guard(roots=[O.__file__, __file__]) as g:
        O.rl_step(SVFLearner(m, F), tok, gsm, g_rows, _cfg())
    assert g.found and all('test_device.py' in f and 'planted: torch.tensor with no device' in f for f in g.found), g.found


def test_meta_device_refuses_the_planted_tensor():
    "Where the op allows, the `meta` device makes the mix an error: `pack` builds everything there; the planted mask is refused."
    ids, att, pos, cmask = O.pack([[1, 2, 3], [4]], [[5, 6], [7]], 0, device='meta')
    assert {t.device.type for t in (ids, att, pos, cmask)} == {'meta'}
    assert {t.device.type for t in left_pad([[1, 2], [3]], 0, 'meta')} == {'meta'}
    R = cmask.shape[1]
    torch.where(cmask, ids[:, -R:], torch.full_like(ids[:, -R:], -100))       # the SFT labels: fine on meta
    cpu_mask = torch.tensor([[True, True], [False, True]])
    with pytest.raises(RuntimeError, match='device'): torch.where(cpu_mask, ids[:, -R:], torch.full_like(ids[:, -R:], -100))


def test_plots_and_digests_move_z_to_the_host():
    "z on a GPU refuses `.numpy()`: `plot_z` and `expert_digest` move it to the CPU first (`OffHost` refuses the same way on a CPU)."
    import matplotlib
    matplotlib.use('Agg')
    from t2repro.base.runtime import OffHost
    from t2repro.weights.experts import plot_z
    from t2repro.experiments.adaptation import expert_digest
    z = {f'model.layers.{i}.mlp.gate_proj.weight': torch.linspace(0, 1, 4) + i for i in range(2)}
    zo = {n: v.as_subclass(OffHost) for n, v in z.items()}
    with pytest.raises(TypeError, match='cpu'): zo[next(iter(zo))].float().numpy()     # what a CUDA z does
    fig = plot_z(Expert(zo), ref=zo)
    assert fig.axes[0].images[0].get_array().shape == (2, 4)
    assert expert_digest(Expert(zo)) == expert_digest(Expert(z))


class _Loaded(BaseException):
    "Raised by the patched `load_model` once it has recorded its arguments: the command stops there."


@pytest.mark.parametrize('command', ['table1', 'transfer', 'bench', 'adapt', 'eval', 'baseline'])
def test_commands_hand_the_runtime_to_load_model(command, tmp_path, monkeypatch):
    "`--device` and `--precision` reach `load_model`: each command's parsed runtime loads the model (`meta`, bf16 here)."
    import t2repro.base.models as M
    import t2repro.experiments.table1 as T1, t2repro.experiments.adaptation as AD, t2repro.experiments.bench as B
    from t2repro.experiments.table1 import table1_cli
    from t2repro.experiments.adaptation import transfer_cli
    from t2repro.experiments.bench_run import bench_cli
    from t2repro.adapt.run import adapt_cli
    import t2repro.interface.commands as C, t2repro.experiments.tables as TB
    seen = []
    def load_model(name=None, **kw):
        seen.append(kw)
        raise _Loaded
    for mod in (M, T1, AD, B, C, TB): monkeypatch.setattr(mod, 'load_model', load_model)
    rt = ['--model', 'tiny-qwen2', '--device', 'meta', '--precision', 'bf16']
    cli, argv = dict(table1=(table1_cli, [*rt, '--tasks', 'arc_easy', '--methods', 'base', '--test-limit', '2', '--out', str(tmp_path)]),
                     transfer=(transfer_cli, [a for a in rt if a not in ('--model', 'tiny-qwen2')] + ['--models', 'tiny-qwen2', '--limit', '2', '--out', str(tmp_path)]),
                     bench=(bench_cli, [*rt, '--out', str(tmp_path)]),
                     adapt=(adapt_cli, [*rt, '--strategy', 'prompt', '--prompt', 'hi']),
                     eval=(C.eval_cli, [*rt, '--task', 'arc_easy', '--limit', '2', '--out', str(tmp_path)]),
                     baseline=(TB.baseline_cli, [*rt, '--tasks', 'arc_easy', '--limit', '2', '--out', str(tmp_path)]))[command]
    with pytest.raises(_Loaded): cli(argv)
    assert seen == [dict(device=torch.device('meta'), dtype=torch.bfloat16)], seen
