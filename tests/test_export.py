"""`t2repro export` (issue 23, experts out) on the tiny Qwen2 model: the PEFT adapter is the expert at full rank and
its best rank-k approximation below (error = the predicted tail energy), mixtures export their z' = Σ αₖ zₖ, the
GGUF and merged formats rebuild the merged model, and bad experts are refused in one line."""
import io, json, contextlib
from pathlib import Path
import pytest
import torch
from t2repro.interface.cli import main
from t2repro.base.models import load_model, svf_targets
from t2repro.weights.svd import svd_factors
from t2repro.weights.svf import Expert, SVFConfig, merged
from t2repro.weights.experts import save_expert, mix
from t2repro.adapt.export import VLLM_RANKS, delta_sigma

TINY = ['--model', 'tiny-qwen2']
IDS = torch.tensor([[3, 9, 4, 17, 5, 6]])


def cli(*argv):
    "`t2repro *argv` in this process: (exit status, stdout + stderr)."
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        try: rc = main(list(argv))
        except SystemExit as e: rc = e.code
    return rc, so.getvalue() + se.getvalue()


@pytest.fixture(scope='module')
def tiny():
    model, tok = load_model('tiny-qwen2')
    names = svf_targets(model)
    factors = svd_factors(model, names, cache=False)
    g = torch.Generator().manual_seed(1)
    zs = [{n: torch.sigmoid(torch.randn(len(factors[n][1]), generator=g)) for n in names} for _ in range(2)]
    return model, tok, names, factors, zs


@pytest.fixture
def files(tiny, tmp_path):
    _, _, _, _, zs = tiny
    return [save_expert(Expert(z, dict(task=f't{k}', svf=SVFConfig().to_dict())), tmp_path/f'e{k}.safetensors') for k, z in enumerate(zs)]


def logits(model, z=None, factors=None):
    with torch.no_grad():
        if z is None: return model(IDS).logits
        with merged(model, factors, z, SVFConfig()): return model(IDS).logits


def test_peft_full_rank_is_the_expert(tiny, files, tmp_path):
    from peft import PeftModel
    model, _, _, factors, zs = tiny
    rc, out = cli('export', str(files[0]), '--format', 'peft', '--rank', '64', '--out', str(tmp_path/'a'), *TINY)
    assert rc == 0, out
    cfg = json.loads((tmp_path/'a'/'adapter_config.json').read_text())
    assert (cfg['r'], cfg['lora_alpha'], cfg['peft_type']) == (64, 64, 'LORA')
    pm = PeftModel.from_pretrained(load_model('tiny-qwen2')[0], tmp_path/'a')
    with torch.no_grad(): got = pm(IDS).logits
    torch.testing.assert_close(got, logits(model, zs[0], factors), rtol=1e-4, atol=1e-4)


def test_rank_k_error_is_the_tail_energy(tiny, files, tmp_path):
    from peft import PeftModel
    model, _, names, factors, zs = tiny
    rc, out = cli('export', str(files[0]), '--format', 'peft', '--energy', '0.6', '--out', str(tmp_path/'k'), *TINY)
    assert rc == 0, out
    assert 'energy kept' in out and 'gate_proj' in out
    info = json.loads((tmp_path/'k'/'t2repro.json').read_text())
    pm = PeftModel.from_pretrained(load_model('tiny-qwen2')[0], tmp_path/'k').merge_and_unload()
    with merged(model, factors, zs[0], SVFConfig()): W1 = {n: model.get_parameter(n).detach().clone() for n in names}
    for n in names:
        r = info['matrices'][n.removesuffix('.weight')]['rank']
        assert r in VLLM_RANKS or r == len(factors[n][1])
        d = delta_sigma(factors[n][1], zs[0][n], SVFConfig())
        tail = float((d.abs().sort(descending=True).values[r:] ** 2).sum())
        err = float(((pm.get_parameter(n).detach() - W1[n]) ** 2).sum())
        assert err == pytest.approx(tail, rel=1e-3, abs=1e-9), n
        assert info['matrices'][n.removesuffix('.weight')]['energy'] >= 0.6


def test_mixture_exports_its_z(tiny, files, tmp_path):
    from peft import PeftModel
    model, _, _, factors, zs = tiny
    rc, out = cli('export', *map(str, files), '--alpha', '0.7,0.4', '--format', 'peft', '--rank', '64', '--out', str(tmp_path/'m'), *TINY)
    assert rc == 0, out
    pm = PeftModel.from_pretrained(load_model('tiny-qwen2')[0], tmp_path/'m')
    with torch.no_grad(): got = pm(IDS).logits
    torch.testing.assert_close(got, logits(model, mix(zs, [0.7, 0.4]), factors), rtol=1e-4, atol=1e-4)


def test_gguf_and_merged_rebuild_the_merged_model(tiny, files, tmp_path):
    import gguf
    from transformers import AutoModelForCausalLM
    model, _, _, factors, zs = tiny
    ref = logits(model, zs[0], factors)
    rc, out = cli('export', str(files[0]), '--format', 'gguf', '--outtype', 'f32', '--out', str(tmp_path/'g'), *TINY)
    assert rc == 0, out
    f = tmp_path/'g'/'model-f32.gguf'
    r = gguf.GGUFReader(f)
    assert bytes(r.fields['general.architecture'].parts[-1]).decode() == 'qwen2'
    assert {'tokenizer.ggml.tokens', 'tokenizer.ggml.merges', 'tokenizer.chat_template'} <= set(r.fields)
    gm = AutoModelForCausalLM.from_pretrained(f.parent, gguf_file=f.name).eval()
    with torch.no_grad(): torch.testing.assert_close(gm(IDS).logits, ref, rtol=1e-4, atol=1e-4)
    rc, out = cli('export', str(files[0]), '--format', 'merged', '--out', str(tmp_path/'hf'), *TINY)
    assert rc == 0, out
    mm = AutoModelForCausalLM.from_pretrained(tmp_path/'hf').eval()
    with torch.no_grad(): torch.testing.assert_close(mm(IDS).logits, ref, rtol=1e-5, atol=1e-5)
    assert (tmp_path/'hf'/'tokenizer.json').exists()


@pytest.mark.parametrize('zfill,why', [(float('nan'), 'NaN'), (0.5, 'ΔW = 0')])
def test_degenerate_expert_refused(tiny, tmp_path, zfill, why):
    _, _, names, factors, _ = tiny
    f = save_expert(Expert({n: torch.full((len(factors[n][1]),), zfill) for n in names}, dict(task='bad')), tmp_path/'bad.safetensors')
    rc, out = cli('export', str(f), '--format', 'peft', '--out', str(tmp_path/'x'), *TINY)
    assert rc == 2 and why in out and out.strip().count('\n') <= 1, out
    assert not (tmp_path/'x'/'adapter_model.safetensors').exists()


def test_bad_files_and_flags_one_line(files, tmp_path):
    junk = tmp_path/'junk.safetensors'
    junk.write_bytes(b'not a safetensors file')
    for argv, why in [([str(junk), '--format', 'peft'], 'not a readable safetensors file'),
                      ([str(tmp_path/'none.safetensors'), '--format', 'gguf'], 'does not exist'),
                      ([str(files[0]), '--format', 'peft', '--max-rank', '0'], 'not a positive integer'),
                      ([str(files[0]), '--format', 'peft', '--alpha', '1,nan'], 'finite numbers')]:
        rc, out = cli('export', *argv, '--out', str(tmp_path/'y'), *TINY)
        assert rc == 2 and why in out and 'Traceback' not in out, (argv, out)
