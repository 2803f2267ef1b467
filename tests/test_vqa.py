"The VQA accuracy and normalisation on cases from the official evaluation, the reward, and the offline loaders."
import os, time, pytest
from t2repro.ext.vqa import normalize_answer, vqa_accuracy, vqa_reward, synthetic_vqa, load_vqa

@pytest.mark.parametrize('raw,norm', [('Two', '2'), ('the cat.', 'cat'), ("isnt", "isn't"), ('yes!', 'yes'),
                                      ('10:30', '10:30'), ('1,500', '1500'), ('ten dollars', '10 dollars'),
                                      ('an apple', 'apple'), ('red/blue', 'red blue'), ('x - y', 'x y'), ('3.14', '3.14')])
def test_normalize(raw, norm): assert normalize_answer(raw) == norm

def test_accuracy_modes():
    ans = ['yes'] * 3 + ['no'] * 7
    assert vqa_accuracy('yes', ans, 'simple') == 1.0
    assert abs(vqa_accuracy('yes', ans) - 0.9) < 1e-9       # leave-one-out: 3 subsets keep only two "yes"
    assert vqa_accuracy('No.', ans) == 1.0
    assert vqa_reward('maybe', ans) == -0.1 and vqa_reward('no', ans) == 1.0

def test_synthetic_is_seeded_and_answerable():
    a, b = synthetic_vqa(12, seed=4), synthetic_vqa(12, seed=4)
    assert [r['answers'] for r in a] == [r['answers'] for r in b]
    assert a[0]['image'].tobytes() == b[0]['image'].tobytes()
    assert all(vqa_accuracy(r['truth'], r['answers']) >= 0.9 for r in a)

def test_offline_loader_error(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    t = time.time()
    with pytest.raises(ConnectionError, match='synthetic_vqa'): load_vqa('okvqa', 'test', limit=1)
    assert time.time() - t < 5


def test_tiny_llava_svf_step_evaluation_adaptation(tmp_path):
    "The whole VQA path on the tiny LLaVA-Next: an SVF run through the loop, evaluation, few-shot α; base weights untouched."
    import torch
    from t2repro.base.models import tiny_model
    from t2repro.weights.svd import svd_factors
    from t2repro.weights.svf import Expert
    from t2repro.ext.vqa import tiny_processor, vqa_targets, evaluate_vqa, generate_answers
    from t2repro.ext.vqa_train import train_vqa, VQAConfig, adapt_alpha
    m, tok = tiny_model('llava-next')
    proc = tiny_processor(m, tok)
    F = svd_factors(m, vqa_targets(m), cache=False)
    W0 = {n: m.get_parameter(n).detach().clone() for n in F}
    cfg = VQAConfig(steps=1, batch_size=2, micro_batch=2, lr=0.5, grad_clip=1.0, max_new_tokens=2, val_every=1, precision='fp32')
    ex, hist = train_vqa(m, proc, synthetic_vqa(4, seed=2), synthetic_vqa(2, seed=3), cfg, factors=F, out_dir=tmp_path/'run', log=None)
    assert [h['step'] for h in hist] == [0, 1] and ex.names == vqa_targets(m)
    assert (tmp_path/'run'/'checkpoint.pt').exists() and (tmp_path/'run'/'history.json').exists()
    rows = synthetic_vqa(2, seed=4)
    texts, _ = generate_answers(m, proc, rows, max_new_tokens=2)
    known = [dict(rows[0], answers=[texts[0]] * 10), dict(rows[1], answers=[texts[1]] * 2 + ['zzz'] * 8)]
    ev = evaluate_vqa(m, proc, known, max_new_tokens=2)
    assert ev['n'] == 2 and abs(ev['score'] - 0.8) < 1e-9   # accuracies 1 and 0.6 (two of ten annotators agree)
    other = Expert({n: torch.linspace(0.2, 0.9, len(F[n][1])) for n in ex.names})
    res = adapt_alpha(m, proc, F, [ex, other], synthetic_vqa(2, seed=5), grid=2, max_new_tokens=2)
    assert len(res['trials']) == 3   # the 2×2 grid less α = (0, 0), which mixing refuses
    assert res['score'] == max(t['score'] for t in res['trials'])
    assert all(torch.equal(m.get_parameter(n), W0[n]) for n in W0) and m.__dict__.get('_t2_svf') is None


def test_vqa_run_resumes_after_a_kill(tmp_path):
    "A VQA run killed after step 1 resumes from its checkpoint: no finished step is redone, and it ends at the z of an uninterrupted run."
    import torch
    from t2repro.base.models import tiny_model
    from t2repro.weights.svd import svd_factors
    from t2repro.weights.experts import load_expert
    from t2repro.ext.vqa import tiny_processor, vqa_targets
    from t2repro.ext.vqa_train import train_vqa, VQAConfig
    m, tok = tiny_model('llava-next')
    proc = tiny_processor(m, tok)
    F = svd_factors(m, vqa_targets(m), cache=False)
    train, val = synthetic_vqa(6, seed=2), synthetic_vqa(2, seed=3)
    cfg = VQAConfig(steps=3, batch_size=2, micro_batch=1, lr=0.5, grad_clip=1.0, max_new_tokens=2, val_every=2, precision='fp32')
    run = lambda name, log: train_vqa(m, proc, train, val, cfg, factors=F, out_dir=tmp_path/name, log=log)
    whole, _ = run('whole', None)
    class Killed(Exception): pass
    def kill_after_step_1(msg, **kw):
        if msg.startswith('step 1 loss'): raise Killed(msg)
    with pytest.raises(Killed): run('cut', kill_after_step_1)
    assert torch.load(tmp_path/'cut'/'checkpoint.pt', weights_only=False)['step'] == 1
    lines = []
    cut, hist = run('cut', lambda msg, **kw: lines.append(msg))
    assert lines[0].startswith('resumed from') and lines[0].endswith('at step 1')
    assert [l.split()[1] for l in lines[1:]] == ['2', '3']   # steps 2 and 3 only
    assert [h['step'] for h in hist] == [0, 1, 2, 3]
    z_cut, z_whole = (load_expert(tmp_path/r/'expert_last.safetensors').z for r in ('cut', 'whole'))
    assert all(torch.equal(z_cut[n], z_whole[n]) for n in z_whole)
    assert all(torch.equal(cut.z[n], whole.z[n]) for n in whole.z) and cut.meta['step'] == whole.meta['step']


def test_sharded_tiny_model_matches_unsharded(tmp_path):
    "The 70B recipe's code path on a tiny Llama: accelerate's device map, dispatch with a disk-offloaded layer, SVF live and merged."
    import torch
    from t2repro.base.models import tiny_model, svf_targets
    from t2repro.weights.svd import svd_factors
    from t2repro.weights.svf import SVF, SVFConfig, merged
    from t2repro.ext.bigmodels import auto_device_map, relabel, dispatch, factors_to_devices
    sh, _ = tiny_model('llama', num_hidden_layers=4)
    ref, _ = tiny_model('llama', num_hidden_layers=4)
    tn = svf_targets(sh, 'mlp', 'half')
    dm = relabel(auto_device_map(sh, 2, dtype=torch.float32), {0: 'cpu', 1: 'cpu'})
    dm['model.layers.1'] = 'disk'
    sh = dispatch(sh, dm, tmp_path)
    F = factors_to_devices(sh, svd_factors(ref, tn, cache=False))
    x, z = torch.randint(0, 400, (2, 7)), {n: torch.rand(len(F[n][1])) for n in tn}
    with torch.no_grad():
        with SVF(ref, F, SVFConfig(layers='half'), z=z).live(): want = ref(x).logits
        with SVF(sh, F, SVFConfig(layers='half'), z=z).live(): got = sh(x).logits
        assert torch.allclose(got, want, atol=1e-5)
        with merged(sh, F, z): assert torch.allclose(sh(x).logits, want, atol=1e-4)
        assert torch.allclose(sh(x).logits, ref(x).logits, atol=1e-6)
