"""`t2repro train-svf` killed with SIGKILL mid-run and restarted ends with exactly the expert of an uninterrupted run."""
import os, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file

STEPS = 6
ARGS = ['--model', 'tiny-qwen2', '--task', 'arc_easy', '--steps', str(STEPS), '--batch-size', '4', '--micro-batch', '2',
        '--train-limit', '8', '--val-limit', '4', '--val-every', '3', '--seed', '3']

# the CLI of this checkout (an installed `t2repro` script may belong to another tree), as `tests/test_adapt.py` runs it
MAIN = 'import sys; from t2repro.interface.cli import main; sys.exit(main(sys.argv[1:]))'

def _cmd(out): return [sys.executable, '-c', MAIN, 'train-svf', *ARGS, '--out', str(out)]

def _env(tmp):
    env = dict(os.environ, T2REPRO_CACHE=str(tmp/'cache'), PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.pop('CUDA_VISIBLE_DEVICES', None)
    return env

def _run(out, env):
    r = subprocess.run(_cmd(out), env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout

def _equal(a, b):
    ta, tb = load_file(a), load_file(b)
    return ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)

def test_kill_and_resume(tmp_path):
    env = _env(tmp_path)
    _run(tmp_path/'straight', env)
    # the same command, killed with SIGKILL once step 3 is checkpointed (the loop logs a step after checkpointing it)
    p = subprocess.Popen(_cmd(tmp_path/'killed'), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    killed_at, t0 = None, time.time()
    for line in p.stdout:
        if line.startswith('step 3 '):
            os.kill(p.pid, signal.SIGKILL); killed_at = 3; break
        assert time.time() - t0 < 90, 'training did not reach step 3'
    p.wait(timeout=30)
    assert killed_at == 3 and p.returncode == -signal.SIGKILL
    assert (tmp_path/'killed'/'checkpoint.pt').exists() and not (tmp_path/'killed'/'expert_last.safetensors').exists()
    out = _run(tmp_path/'killed', env)  # rerun the same command: resumes
    assert 'resumed from' in out, out
    assert _equal(tmp_path/'straight'/'expert_last.safetensors', tmp_path/'killed'/'expert_last.safetensors')
    assert _equal(tmp_path/'straight'/'expert.safetensors', tmp_path/'killed'/'expert.safetensors')
