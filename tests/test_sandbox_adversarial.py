"""Adversarial tests for `t2repro.tasks.sandbox`: every attack of the threat model in `nbs/33_sandbox.ipynb`.

Each attack program tries something hostile and then *claims success*: its tests assert that the attack worked.
So a sample that passes would mean the attack worked (or the completion marker was fooled). Every test checks that
the sample failed, within a time bound, that the harness is alive, and that nothing outside the sandbox changed
(a sentinel folder that is also the harness's working directory, `/tmp/pwned`, `~/x`, ...).
"""
import os, sys, json, time, socket, signal, hashlib, subprocess, tempfile, shutil
from pathlib import Path
import pytest
from t2repro.tasks import sandbox
from t2repro.tasks.sandbox import Verdict, run_program, run_many, isolation_level, sandbox_cli

LEVEL = isolation_level()
DROP = sandbox._DROP[LEVEL]
needs_isolation = pytest.mark.skipif(LEVEL == 'none', reason='no namespace isolation on this machine')
needs_fresh_uid = pytest.mark.skipif(not DROP, reason='the sandbox keeps the harness uid on this machine')
OUTSIDE = [Path('/tmp/pwned'), Path('/var/tmp/pwned'), Path('/dev/shm/pwned'), Path.home()/'x', Path.home()/'pwned']
HARNESS_PID = os.getpid()

def snapshot(d: Path) -> dict:
    "Every file and folder under `d` with its mode, size and content hash."
    out = {}
    for p in sorted(d.rglob('*')):
        st = p.lstat()
        out[str(p.relative_to(d))] = (st.st_mode, st.st_size, hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None)
    return out

def procs_with(tag: str) -> list:
    "Pids whose command line contains `tag` (zombies excluded: they are dead, only not reaped yet)."
    out = []
    for d in os.listdir('/proc'):
        try:
            if (d.isdigit() and tag.encode() in Path(f'/proc/{d}/cmdline').read_bytes() and int(d) != os.getpid()
                and Path(f'/proc/{d}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'): out.append(int(d))
        except OSError: pass
    return out

def tag_for(name: str) -> str:
    "A unique string a hostile program puts in its children's argv, so the test can look for survivors."
    return f't2sbx-{name}-{os.getpid()}-{time.monotonic_ns()}'

def assert_no_survivors(tag: str):
    for _ in range(30):
        if not procs_with(tag): return
        time.sleep(0.1)
    raise AssertionError(f'processes outlived the sandbox: {procs_with(tag)}')

@pytest.fixture
def sentinel(monkeypatch):
    "A folder outside /tmp (so it is visible, read-only, inside bwrap) that is also the harness's working directory."
    d = Path(tempfile.mkdtemp(prefix='t2sbx-sentinel-', dir='/var/tmp' if os.path.isdir('/var/tmp') else None))
    d.chmod(0o777)
    (d/'keep.txt').write_text('precious\n'); (d/'sub').mkdir(); (d/'sub'/'data.json').write_text('{"a": 1}\n')
    for p in (d, d/'keep.txt', d/'sub', d/'sub'/'data.json'): p.chmod(0o777 if p.is_dir() else 0o666)
    for p in OUTSIDE: assert not p.exists(), f'{p} exists before the test: remove it'
    monkeypatch.chdir(d)
    before = snapshot(d)
    yield d
    assert snapshot(d) == before, 'the sentinel folder changed'
    for p in OUTSIDE: assert not p.exists(), f'the sandboxed program created {p}'
    assert Path.cwd() == d
    shutil.rmtree(d)

def attack(program, tests=None, max_seconds=5., status=None, **kw) -> Verdict:
    "Run a hostile program; it must fail (with `status` if given) within `max_seconds`, and the harness survive."
    t0 = time.monotonic()
    v = run_program(program, tests, **kw)
    took = time.monotonic() - t0
    assert isinstance(v, Verdict)
    assert v.passed is False, f'attack passed: {v}'
    assert v.status != 'ok' and v.status != 'error', v
    if status is not None: assert v.status in ((status,) if isinstance(status, str) else status), v
    assert took < max_seconds, f'took {took:.1f}s'
    assert v.isolation == LEVEL
    assert run_program('x = 1', 'assert x == 1').passed  # the harness still works
    return v

# --- leaving early ----------------------------------------------------------------------------------------------
PROG = 'def add(a, b):\n    return a + b\n'
TESTS = 'assert add(1, 2) == 3\nassert add(2, 2) == 4\n'

def test_correct_program_passes(sentinel):
    v = run_program(PROG, TESTS)
    assert (v.passed, v.status, v.returncode, v.isolation) == (True, 'ok', 0, LEVEL)

@pytest.mark.parametrize('early', ['exit(0)', 'quit()', 'import sys; sys.exit()', 'import sys; sys.exit(0)',
                                   'import os; os._exit(0)', 'raise SystemExit(0)', 'raise KeyboardInterrupt',
                                   'import os, signal; os.kill(os.getpid(), signal.SIGTERM)'])
def test_early_exit_in_program(sentinel, early):
    attack(PROG + early + '\n', TESTS + 'assert False, "never reached"\n')

@pytest.mark.parametrize('early', ['exit(0)', 'raise SystemExit(0)', 'import os; os._exit(0)'])
def test_early_exit_inside_tests(sentinel, early):
    attack(PROG, f'assert add(1, 2) == 3\n{early}\nassert add(1, 2) == 4\n', status='failed')

def test_forged_completion_marker(sentinel):
    prog = PROG + '''
import os, sys
for fd in range(0, 256):
    for s in (b"ok\\n", b"\\nok\\n", b"PASSED\\n", b'{"passed": true, "status": "ok"}\\n'):
        try: os.write(fd, s)
        except OSError: pass
print("ok"); sys.stdout.flush()
os._exit(0)
'''
    attack(prog, TESTS, status='failed')

def test_atexit_and_thread_forgery(sentinel):
    prog = PROG + '''
import atexit, os, threading, time
def spam():
    while True:
        for fd in range(3, 64):
            try: os.write(fd, b"\\nok\\n")
            except OSError: pass
        time.sleep(0.001)
threading.Thread(target=spam, daemon=True).start()
atexit.register(lambda: os.write(1, b"ok\\n"))
'''
    attack(prog, TESTS + 'assert add(1, 1) == 3\n', status='failed')

def test_monkeypatched_runtime(sentinel):
    prog = '''
import os, builtins, sys
os.write = lambda *a: len(a[1]); os._exit = lambda *a: None; sys.exit = lambda *a: None
builtins.isinstance = lambda *a: True; builtins.BaseException = object; builtins.AssertionError = type("A", (), {})
'''
    attack(prog, 'assert 1 == 2\n', status='failed')

def test_close_all_descriptors(sentinel):
    attack('import os\nos.closerange(0, 4096)\n', 'assert True\n')

def test_close_stdout_and_exit(sentinel):
    attack('import os, sys\nos.close(1); os.close(2)\nsys.exit(0)\n', 'assert True\n')

# --- resource exhaustion -----------------------------------------------------------------------------------------
def test_infinite_loop(sentinel):
    v = attack('while True: pass\n', max_seconds=4, status='timeout', timeout=1.5)
    assert 'timeout' in v.stderr

def test_sleep(sentinel):
    attack('import time\ntime.sleep(1000)\n', max_seconds=4, status='timeout', timeout=1.5)

def test_loop_ignoring_signals(sentinel):
    prog = '''import signal
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU, signal.SIGALRM):
    signal.signal(s, signal.SIG_IGN)
while True: pass
'''
    attack(prog, max_seconds=4, status='timeout', timeout=1.5)

def test_fork_bomb(sentinel):
    tag = tag_for('forkbomb')
    bomb = 'import os\nwhile True:\n    try: os.fork()\n    except OSError: pass\n'
    prog = f'''import os, sys
while True:
    try:
        if os.fork() == 0: os.execv(sys.executable, [sys.executable, "-c", {bomb!r}, {tag!r}])
    except OSError: pass
'''
    attack(prog, max_seconds=7, status=('timeout', 'killed', 'failed'), timeout=2)
    assert_no_survivors(tag)

def test_thread_bomb(sentinel):
    prog = '''import threading, time
ts = [threading.Thread(target=time.sleep, args=(100,), daemon=True) for _ in range(100000)]
for t in ts: t.start()
'''
    attack(prog, max_seconds=8, timeout=3)

def test_memory_bomb_big_allocation(sentinel):
    attack('x = bytearray(1 << 40)\n', status='memory', memory_mb=256)

def test_memory_bomb_growing(sentinel):
    attack('xs = []\nwhile True: xs.append(bytearray(1 << 20))\n', status='memory', memory_mb=256, max_seconds=8)

def test_recursion_error(sentinel):
    attack('def f(n): return f(n + 1)\nf(0)\n', status='failed')

def test_recursion_crash(sentinel):
    prog = 'import sys\nsys.setrecursionlimit(10**8)\ndef f(n): return f(n + 1) + 1\nf(0)\n'
    attack(prog, max_seconds=6, timeout=4, memory_mb=256)

def test_stdout_flood_lines(sentinel):
    v = attack('while True: print("x" * 100)\n', status='killed', max_output=100_000, timeout=5)
    assert len(v.stdout) <= 100_000 and 'output limit' in v.stderr

def test_stdout_flood_no_newline(sentinel):
    v = attack('import sys\nwhile True: sys.stdout.write("y" * 65536)\n', status='killed', max_output=200_000, timeout=5)
    assert len(v.stdout) <= 200_000 and '\n' not in v.stdout

def test_stderr_flood(sentinel):
    v = attack('import os\nwhile True: os.write(2, b"z" * 65536)\n', status='killed', max_output=200_000, timeout=5)
    assert len(v.stderr) <= 200_000 + 200

def test_disk_fill(sentinel):
    prog = '''import os
n = 0
try:
    with open("fill.bin", "wb") as f:
        while n < (4 << 30): f.write(b"\\0" * (1 << 20)); n += 1 << 20
except OSError: pass
'''
    attack(prog, 'assert n >= (4 << 30), n\n', max_seconds=10, timeout=8)

def test_stdin_read(sentinel):
    attack('x = input()\n', status='failed')

def test_syntax_error(sentinel):
    attack('def f(:\n', 'assert True\n', status='failed')

def test_self_segfault(sentinel):
    attack('import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n', 'assert True\n', status='killed')

# --- escaping ----------------------------------------------------------------------------------------------------
def writes_program(sentinel: Path) -> str:
    return f'''import os, shutil, glob
S = {str(sentinel)!r}
done, private = [], []
def tryit(name, f, into=done):
    try: f(); into.append(name)
    except BaseException: pass
# these succeed only inside the sandbox's own /tmp, /dev/shm and HOME (throw-away tmpfs): the host checks them
for p in ("/tmp/pwned", "/var/tmp/pwned", "/dev/shm/pwned", os.path.expanduser("~/x"), {str(Path.home()/'x')!r}, {str(Path.home()/'pwned')!r}):
    tryit(p, lambda: open(p, "w").write("pwned"), private)
def rm_cwd():
    fs = glob.glob("/proc/{HARNESS_PID}/cwd/*"); assert fs
    for f in fs: os.remove(f)
tryit("sentinel-new", lambda: open(os.path.join(S, "new.txt"), "w").write("pwned"))
tryit("sentinel-edit", lambda: open(os.path.join(S, "keep.txt"), "a").write("pwned"))
tryit("sentinel-chmod", lambda: os.chmod(os.path.join(S, "keep.txt"), 0o000))
tryit("sentinel-rm", lambda: os.remove(os.path.join(S, "sub", "data.json")))
tryit("sentinel-rmtree", lambda: shutil.rmtree(S))
tryit("harness-cwd", rm_cwd)
tryit("source", lambda: open({sandbox.__file__!r}, "a").write("#pwned"))
'''

@needs_isolation
def test_write_and_delete_outside(sentinel):
    v = attack(writes_program(sentinel), 'assert done, "no write got through"\nprint(done)\n', status='failed')
    assert 'no write got through' in v.stderr

@needs_isolation
def test_network(sentinel):
    srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(5); srv.setblocking(False)
    port = srv.getsockname()[1]
    prog = f'''import socket
ok = []
for addr in (("127.0.0.1", {port}), ("1.1.1.1", 53), ("8.8.8.8", 443)):
    try: socket.create_connection(addr, timeout=1).close(); ok.append(addr)
    except OSError: pass
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"x", ("1.1.1.1", 53)); ok.append("udp")
except OSError: pass
'''
    try:
        attack(prog, 'assert ok, "no connection"\n', status='failed')
        with pytest.raises(BlockingIOError): srv.accept()  # nobody knocked
    finally: srv.close()

@needs_isolation
def test_kill_parent_and_harness(sentinel):
    prog = f'''import os, signal
hit = []
for pid in (os.getppid(), {HARNESS_PID}, 1):
    try: os.kill(pid, signal.SIGKILL); hit.append(pid)
    except OSError: pass
'''
    attack(prog, 'assert {HARNESS_PID} in hit\n'.replace('{HARNESS_PID}', str(HARNESS_PID)))

def test_kill_process_group(sentinel):
    attack('import os, signal\ntry: os.killpg(0, signal.SIGKILL)\nexcept OSError: pass\n', 'assert False\n')

@needs_isolation
def test_kill_everything(sentinel):
    attack('import os, signal\ntry: os.kill(-1, signal.SIGKILL)\nexcept OSError: pass\n', 'assert False\n')

@needs_isolation
def test_daemon_is_killed(sentinel):
    tag = tag_for('daemon')
    prog = f'''import os, sys, subprocess
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", {tag!r}], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", {tag!r}])
    os._exit(0)
import time; time.sleep(0.3)
exit(0)
'''
    attack(prog, 'assert True\n')
    assert_no_survivors(tag)

@needs_isolation
def test_cannot_see_host_processes(sentinel):
    prog = f'''import os
try: seen = open("/proc/{HARNESS_PID}/cmdline", "rb").read()
except OSError: seen = b""
pids = [p for p in os.listdir("/proc") if p.isdigit()]
'''
    attack(prog, 'assert b"pytest" in seen or len(pids) > 10, pids\n', status='failed')

def test_environment_secrets(sentinel, monkeypatch):
    monkeypatch.setenv('T2REPRO_TEST_SECRET', 's3cr3t-value')
    prog = f'''import os
found = []
if "s3cr3t-value" in repr(dict(os.environ)): found.append("environ")
for p in ("/proc/self/environ", "/proc/1/environ", "/proc/%d/environ" % os.getppid(), "/proc/{HARNESS_PID}/environ"):
    try:
        if b"s3cr3t-value" in open(p, "rb").read(): found.append(p)
    except OSError: pass
print(sorted(os.environ))
'''
    v = attack(prog, 'assert found, "no secret"\n', status='failed')
    assert 's3cr3t' not in v.stdout and 's3cr3t' not in v.stderr
    assert 'T2REPRO_TEST_SECRET' not in v.stdout

@needs_fresh_uid
def test_cannot_regain_root(sentinel):
    attack('import os\ntry: os.setuid(0)\nexcept OSError: pass\n', 'assert os.getuid() == 0\n', status='failed')

@needs_isolation
def test_hidden_home(sentinel):
    if LEVEL != 'bwrap': pytest.skip('only bwrap hides /root and /home')
    prog = 'import os\nentries = [e for h in ("/root", "/home") if os.path.isdir(h) for e in os.listdir(h)]\n'
    attack(prog, 'assert any(e not in (".pyenv",) for e in entries), entries\n', status='failed')

# --- many jobs and the command line ------------------------------------------------------------------------------
def test_run_many_isolates_failures(sentinel):
    jobs = [(PROG, TESTS), ('while True: pass', None), ('import os; os._exit(0)', TESTS), ('x = bytearray(1 << 40)', None),
            (PROG, 'assert add(1, 1) == 3'), (None, None), (PROG, TESTS)]
    t0 = time.monotonic()
    vs = run_many(jobs, workers=2, timeout=1.5, memory_mb=256)
    assert time.monotonic() - t0 < 6
    assert [v.status for v in vs] == ['ok', 'timeout', 'failed', 'memory', 'failed', 'error', 'ok']
    assert [v.passed for v in vs] == [True, False, False, False, False, False, True]

def run_cli(*args, timeout=30):
    code = 'from t2repro.tasks.sandbox import sandbox_cli; sandbox_cli()'
    return subprocess.run([sys.executable, '-c', code, *args], capture_output=True, text=True, timeout=timeout)

def test_cli(tmp_path):
    (tmp_path/'p.py').write_text(PROG); (tmp_path/'t.py').write_text(TESTS)
    (tmp_path/'early.py').write_text(PROG + 'exit(0)\n'); (tmp_path/'loop.py').write_text('while True: pass\n')
    r = run_cli(str(tmp_path/'p.py'), '--tests', str(tmp_path/'t.py'))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) | {'seconds': 0} == dict(passed=True, status='ok', seconds=0, isolation=LEVEL)
    r = run_cli(str(tmp_path/'early.py'), '--tests', str(tmp_path/'t.py'))
    assert (r.returncode, json.loads(r.stdout)['passed'], json.loads(r.stdout)['status']) == (0, False, 'failed')
    r = run_cli(str(tmp_path/'loop.py'), '--timeout', '1')
    assert (r.returncode, json.loads(r.stdout)['status']) == (0, 'timeout')
    r = run_cli(str(tmp_path/'missing.py'))
    assert r.returncode == 2 and 'missing.py' in r.stderr and r.stdout == ''
    r = run_cli(str(tmp_path/'p.py'), '--tests', str(tmp_path/'nope.py'))
    assert r.returncode == 2 and 'nope.py' in r.stderr

def test_cli_in_process(tmp_path, capsys):
    (tmp_path/'p.py').write_text(PROG)
    assert sandbox_cli([str(tmp_path/'p.py')]) is None
    assert json.loads(capsys.readouterr().out)['passed'] is True
    with pytest.raises(SystemExit) as e: sandbox_cli([str(tmp_path/'p.py'), '--timeout', '-1'])
    assert e.value.code == 2

def test_bad_input_raises():
    with pytest.raises(TypeError): run_program(None)
    with pytest.raises(ValueError): run_program('pass', memory_mb=0)

# --- every isolation level, forced ---------------------------------------------------------------------------------
KILL_PARENT = 'import os\nos.kill(os.getppid(), 9)\nimport time; time.sleep(0.2)\n'

@pytest.mark.parametrize('drop', [True, False], ids=['fresh-uid', 'same-uid'])
@pytest.mark.parametrize('level', ['bwrap', 'unshare', 'none'])
def test_kill_parent_under_every_level(level, drop):
    "A job that kills its parent never passes, under any level (a namespace's PID 1 ignores SIGKILL, so the job's parent must not be one)."
    if drop and os.geteuid() != 0: pytest.skip('a fresh uid needs root')
    if level != 'none' and not sandbox._probe(level, drop): pytest.skip(f'isolation {level!r} (fresh uid: {drop}) does not work on this machine')
    kw = dict(timeout=10, memory_mb=1024, max_procs=64, max_output=10_000)
    v = sandbox._run(KILL_PARENT, 'assert True\n', level, drop, **kw)
    assert (v.passed, v.isolation) == (False, level) and v.status in ('failed', 'killed'), v
    w = sandbox._run('import os\nprint(os.getpid(), os.getppid())\n', None, level, drop, **kw)
    assert w.passed and 1 not in map(int, w.stdout.split()), w   # neither the job nor its parent is a PID 1

def test_forced_fallback_by_env():
    "T2REPRO_SANDBOX=unshare starts the search at the fallback; the verdict says which level ran, and the attack still fails."
    code = ('import json; from t2repro.tasks.sandbox import run_program, isolation_level\n'
            f'v = run_program({KILL_PARENT!r}, "assert True\\n"); print(json.dumps([isolation_level(), v.passed, v.isolation]))')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, T2REPRO_SANDBOX='unshare'))
    assert r.returncode == 0, r.stderr[-2000:]
    level, passed, isolation = json.loads(r.stdout.strip().splitlines()[-1])
    assert level in ('unshare', 'none') and isolation == level and passed is False
