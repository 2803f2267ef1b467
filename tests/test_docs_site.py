"""The docs site builds without Quarto and opens in a real browser (headless Debian Chromium).

Builds the fallback site (`python tools/render_site.py`) from a copy of the checkout in a temporary folder (so the
checkout's `_proc/`, `nbs/sidebar.yml` and `t2repro/_modidx.py` are left alone), serves it on localhost, and opens
EVERY page in Chromium, driven through ChromeDriver's W3C WebDriver HTTP API (no Python client needed): each shows its
title, and none shows an error output, a `Traceback`, a `SyntaxError`, a progress bar, a library warning, an absolute
machine path in an output, or an image that did not load; every link between pages resolves to a page and an anchor
that exist. A planted page with an error output, a machine path and a broken image must be caught by the same checks.
CI installs the browser with `apt-get install -y chromium chromium-driver`; without Chromium those tests are skipped,
saying so.
"""
import base64, functools, http.server, json, os, re, shutil, socket, struct, subprocess, sys, threading, time, zlib
import urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
CHROMEDRIVER = shutil.which('chromedriver')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--window-size=1200,900']
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason='Chromium is not installed (CI: apt-get install -y chromium chromium-driver)')

def _png(w=16, h=8) -> bytes:
    "A small valid PNG, made without any imaging library."
    raw = b''.join(b'\x00' + bytes([200, 40, 40]) * w for _ in range(h))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')

FIXTURE = {'cells': [
    {'cell_type': 'markdown', 'metadata': {}, 'source': '# Docs fixture\n> A page with a figure and a table.'},
    {'cell_type': 'markdown', 'metadata': {}, 'source': '## A table\n| ratio | value |\n|---|---|\n| a | 1.0 |'},
    {'cell_type': 'code', 'metadata': {}, 'execution_count': 1, 'source': 'plot()', 'outputs': [
        {'output_type': 'display_data', 'metadata': {}, 'data': {'image/png': base64.b64encode(_png()).decode(), 'text/plain': '<Figure>'}}]}],
    'metadata': {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}}, 'nbformat': 4, 'nbformat_minor': 5}

BAD_FIXTURE = {'cells': [
    {'cell_type': 'markdown', 'metadata': {}, 'source': '# Planted errors\n> A page the docs test must reject.'},
    {'cell_type': 'code', 'metadata': {}, 'execution_count': 1, 'source': 'boom()', 'outputs': [
        {'output_type': 'error', 'ename': 'NameError', 'evalue': "name 'boom' is not defined",
         'traceback': ['Traceback (most recent call last)', "NameError: name 'boom' is not defined"]}]},
    {'cell_type': 'code', 'metadata': {}, 'execution_count': 2, 'source': 'print(path)', 'outputs': [
        {'output_type': 'stream', 'name': 'stdout', 'text': 'wrote /root/.cache/t2repro/x.json\n'},
        {'output_type': 'stream', 'name': 'stderr', 'text': 'Loading: 100%|##########| 3/3 [00:00<00:00, 9.1it/s]\n'}]},
    {'cell_type': 'markdown', 'metadata': {}, 'source': '![missing](nowhere.png) and [a dangling link](core.html#no-such-anchor)'}],
    'metadata': {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}}, 'nbformat': 4, 'nbformat_minor': 5}

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "Build the site from a copy of the checkout, plus a fixture notebook guaranteeing a figure and a table."
    repo = tmp_path_factory.mktemp('repo')
    for f in ('settings.ini', 'setup.py', 'pyproject.toml', 'README.md'):
        if (ROOT/f).exists(): shutil.copy2(ROOT/f, repo/f)
    ignore = shutil.ignore_patterns('__pycache__', '.ipynb_checkpoints', '_proc', '_site', '_docs')
    for d in ('nbs', 't2repro', 'tools'): shutil.copytree(ROOT/d, repo/d, ignore=ignore)
    if (ROOT/'results'/'figures').is_dir(): shutil.copytree(ROOT/'results'/'figures', repo/'results'/'figures')  # pages link the committed figures
    (repo/'nbs'/'99_docs_fixture.ipynb').write_text(json.dumps(FIXTURE))
    (repo/'nbs'/'98_docs_bad_fixture.ipynb').write_text(json.dumps(BAD_FIXTURE))
    out = repo/'_site'
    r = subprocess.run([sys.executable, 'tools/render_site.py', '--out', str(out), '--no-mathjax'], cwd=repo,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return out

@pytest.fixture(scope='module')
def server(site):
    "The site served on localhost by http.server in a thread."
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown(); httpd.server_close()

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

PROBE = """return {title: document.title, h1: (document.querySelector('h1.title') || {}).textContent || '',
  imgs: Array.from(document.images).map(i => ({src: i.getAttribute('src') || '', loaded: i.complete && i.naturalWidth > 0})),
  tables: document.querySelectorAll('table').length,
  nav: Array.from(document.querySelectorAll('nav.sidebar a')).map(a => a.getAttribute('href')),
  sections: Array.from(document.querySelectorAll('nav.sidebar li.section')).map(li => li.textContent),
  errors: document.querySelectorAll('.cell-output pre.error, .cell-output .error').length,
  outputs: Array.from(document.querySelectorAll('.cell-output')).map(e => e.innerText).join('\\n'),
  text: document.body.innerText,
  links: Array.from(document.querySelectorAll('main a[href]')).map(a => a.getAttribute('href'))};"""

class WebDriver:
    "Just enough of the W3C WebDriver protocol, spoken to chromedriver over HTTP."
    def __init__(self):
        self.port = _free_port()
        self.proc = subprocess.Popen([CHROMEDRIVER, f'--port={self.port}'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                if self._call('GET', '/status')['value'].get('ready'): break
            except OSError: time.sleep(0.1)
        self.profile = Path(os.environ.get('TMPDIR', '/tmp'))/f'chromium-profile-{self.port}'
        caps = {'browserName': 'chrome', 'goog:chromeOptions': {'binary': CHROMIUM, 'args': FLAGS + [f'--user-data-dir={self.profile}']}}
        self.sid = self._call('POST', '/session', {'capabilities': {'alwaysMatch': caps}})['value']['sessionId']
    def _call(self, method, path, body=None):
        req = urllib.request.Request(f'http://127.0.0.1:{self.port}{path}', method=method,
                                     data=None if body is None else json.dumps(body).encode(), headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=60) as r: return json.loads(r.read())
    def probe(self, url):
        self._call('POST', f'/session/{self.sid}/url', {'url': url})  # returns once the page has loaded
        return self._call('POST', f'/session/{self.sid}/execute/sync', {'script': PROBE, 'args': []})['value']
    def close(self):
        try: self._call('DELETE', f'/session/{self.sid}')
        finally:
            self.proc.terminate(); self.proc.wait(10); shutil.rmtree(self.profile, ignore_errors=True)

def _dump_dom_probe(url, tmp):
    "Without chromedriver: Chromium's --dump-dom, and the figure checked by decoding its data URI."
    from html.parser import HTMLParser
    dom = subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={tmp}', '--dump-dom', url], capture_output=True, text=True, timeout=120).stdout
    class P(HTMLParser):
        title, h1, imgs, tables, nav, _in = '', '', [], 0, [], None
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == 'img':
                src = a.get('src') or ''
                ok = src.startswith('data:image/png;base64,') and base64.b64decode(src.split(',', 1)[1])[:8] == b'\x89PNG\r\n\x1a\n'
                self.imgs.append({'src': src, 'loaded': ok})
            if tag == 'table': self.tables += 1
            if tag == 'a' and 'href' in a and self._in == 'nav': self.nav.append(a['href'])
            if tag == 'nav': self._in = 'nav'
            if tag in ('title', 'h1'): self._in = tag
        def handle_endtag(self, tag):
            if tag in ('title', 'h1', 'nav'): self._in = None
        def handle_data(self, d):
            if self._in == 'title': self.title += d
            if self._in == 'h1': self.h1 += d
    p = P(); p.feed(dom)
    return dict(title=p.title, h1=p.h1, imgs=p.imgs, tables=p.tables, nav=p.nav)

@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    if CHROMEDRIVER:
        wd = WebDriver(); yield wd.probe; wd.close()
    else: yield lambda url: _dump_dom_probe(url, tmp_path_factory.mktemp('profile'))

def _pages(site):
    "(page, html) of every notebook page, the index first."
    return sorted(((p.name, p.read_text()) for p in site.glob('*.html')), key=lambda x: x[0] != 'index.html')

@needs_chromium
def test_site_has_a_page_per_notebook(site):
    nbs = [p for p in (ROOT/'nbs').glob('*.ipynb')]
    assert (site/'index.html').exists()
    assert len(list(site.glob('*.html'))) >= len(nbs) + 1  # every notebook, and the fixture
    for name, text in _pages(site):
        assert '<h1 class="title">' in text, name
        assert 'Traceback' not in text or name != 'index.html'
    assert 'pre-wrap' in (site/'style.css').read_text(), 'code-overflow: wrap (nbs/_quarto.yml) not honoured'

@needs_chromium
def test_index_in_browser(server, browser):
    info = browser(f'{server}/index.html')
    assert info['h1'].strip() and 't2repro' in info['title'], info
    hrefs = [h for h in info['nav'] if h.endswith('.html')]
    assert len(hrefs) >= 3, info['nav']  # the sidebar links every notebook, in notebook order
    heads = [x.split(':')[0] for x in info['sections']]  # grouped under the layers, bottom to top
    assert heads[:2] == ['Base', 'Weights'] and 'Adaptation' in heads and heads.index('Training') < heads.index('Adaptation'), info['sections']
    for h in hrefs:  # and every link resolves
        with urllib.request.urlopen(f'{server}/{h}', timeout=30) as r: assert r.status == 200, h

@needs_chromium
def test_notebook_page_in_browser(server, site, browser):
    # a real notebook page with a figure and a table if there is one yet, else the fixture page
    pick = next((n for n, t in _pages(site) if '<img' in t and '<table' in t and n != 'docs_fixture.html' and n != 'index.html'),
                '99_docs_fixture.html' if (site/'99_docs_fixture.html').exists() else 'docs_fixture.html')
    info = browser(f'{server}/{pick}')
    assert info['h1'].strip() and info['h1'].strip() in info['title'], info
    assert info['imgs'] and all(i['src'] for i in info['imgs']), info['imgs']
    assert any(i['loaded'] for i in info['imgs']), f'no figure loaded on {pick}'
    assert info['tables'] >= 1, f'no <table> on {pick}'

def title_cell(nb: dict):
    "The `# Title` markdown cell of a notebook (None if there is none)."
    return next((c for c in nb['cells'] if c['cell_type'] == 'markdown' and ''.join(c['source']).startswith('# ')), None)

def test_every_page_keeps_its_text():
    """nbdev keeps the first `>` line of the title cell as the page description and drops the rest of that cell: every
    title cell is `# Title` + one `> sentence.` line, and whatever else a notebook says is in the cells after it."""
    bad = []
    for p in sorted((ROOT/'nbs').glob('*.ipynb')):
        c = title_cell(json.loads(p.read_text(encoding='utf-8')))
        if c is None: bad.append(f'{p.name}: no `# Title` cell'); continue
        lines = ''.join(c['source']).strip().splitlines()
        if len(lines) != 2 or not lines[1].startswith('> '):
            bad.append(f'{p.name}: the title cell must be `# Title` and one `> description` line, not {len(lines)} lines (move the rest to the next cell)')
        elif not lines[1].rstrip().endswith(('.', '.)', '.*', '!', '?')):
            bad.append(f'{p.name}: the description does not end a sentence: {lines[1][-40:]!r}')
    assert not bad, '\n'.join(bad)

MACHINE_PATH = re.compile(r'(?<![\w.~<])/(root|tmp|home|work|Users|private/var)/\S*')
BAR = re.compile(r'\d+%\|[#█ ]*\||\bit/s\]|s/it\]')

def page_problems(info: dict) -> list:
    "What a reader should not see on a page: error outputs, tracebacks, syntax errors, progress bars, warnings, machine paths, broken images."
    out, text = info.get('outputs', ''), info.get('text', '')
    bad = []
    if info.get('errors'): bad.append(f"{info['errors']} error output(s)")
    for word in ('Traceback', 'SyntaxError'):
        if word in out: bad.append(f'{word} in an output')
    for word in ('FutureWarning', 'UserWarning', 'DeprecationWarning'):
        if word in out: bad.append(f'{word} in an output')
    if BAR.search(out): bad.append(f'a progress bar: {BAR.search(out).group(0)!r}')
    if MACHINE_PATH.search(out): bad.append(f'an absolute machine path in an output: {MACHINE_PATH.search(out).group(0)!r}')
    broken = [i['src'][:60] for i in info.get('imgs', []) if not i['loaded']]
    if broken: bad.append(f'images that did not load: {broken}')
    if not info.get('h1', '').strip(): bad.append('no title')
    return bad

def dangling_links(site: Path) -> list:
    "Links between pages (relative hrefs) whose page or anchor does not exist."
    pages = {p.name: p.read_text(encoding='utf-8') for p in site.glob('*.html')}
    ids = {n: set(re.findall(r'\bid="([^"]+)"', t)) for n, t in pages.items()}
    bad = []
    for n, t in pages.items():
        for h in re.findall(r'href="([^"]+)"', t):
            if re.match(r'[a-z]+:', h) or h.endswith('.css'): continue
            page, _, a = h.partition('#')
            page = page or n
            if page not in ids or (a and a not in ids[page]): bad.append(f'{n}: {h}')
    return bad

def _is_bad_fixture(name, site): return '<h1 class="title">Planted errors</h1>' in (site/name).read_text(encoding='utf-8')

@needs_chromium
def test_every_page_in_browser(server, site, browser):
    "Every page opens in Chromium with its title and without anything a reader should not see."
    bad = {}
    names = [n for n, _ in _pages(site) if not _is_bad_fixture(n, site)]
    assert len(names) >= len(list((ROOT/'nbs').glob('*.ipynb'))), names
    for name in names:
        probs = page_problems(browser(f'{server}/{name}'))
        if probs: bad[name] = probs
    assert not bad, '\n'.join(f'{n}: {"; ".join(p)}' for n, p in bad.items())

@needs_chromium
def test_planted_errors_are_caught(server, site, browser):
    "The same checks reject a page with an error output, a machine path, a progress bar and a broken image."
    name = next(n for n, _ in _pages(site) if _is_bad_fixture(n, site))
    probs = ' | '.join(page_problems(browser(f'{server}/{name}')))
    for what in ('error output', 'Traceback', 'machine path', 'progress bar', 'did not load'):
        assert what in probs, (what, probs)

@needs_chromium
def test_links_resolve(site):
    "Cross-references are relative (the site works offline, from a folder) and every page and anchor they name exists."
    absolute = [p.name for p in site.glob('*.html') if 't2repro.github.io' in p.read_text(encoding='utf-8')]
    assert not absolute, f'absolute doc links (https://t2repro.github.io/...) left on {absolute}'
    found = dangling_links(site)
    planted = [b for b in found if _is_bad_fixture(b.split(':')[0], site)]
    bad = [b for b in found if b not in planted]
    assert any('core.html#no-such-anchor' in b for b in planted), found   # the check sees the planted one
    assert not bad, f'{len(bad)} dangling links, e.g. ' + '; '.join(bad[:10])

def test_code_wraps_and_mathjax_choice(tmp_path):
    "`code-overflow: wrap` of nbs/_quarto.yml reaches the CSS; MathJax is local when a copy exists, else the CDN."
    sys.path.insert(0, str(ROOT/'tools'))
    import render_site as rs
    assert 'wrap' in yaml_get(ROOT/'nbs'/'_quarto.yml')
    d, kind = rs.find_mathjax()
    src = rs.install_mathjax(tmp_path)
    if d is None: assert src == rs.MATHJAX
    else: assert (tmp_path/src.split('?')[0]).is_file(), src
    assert 'MathJax' in rs.mathjax_head(src)

def yaml_get(p):
    import yaml
    return ((yaml.safe_load(p.read_text())['format']['html']) or {}).get('code-overflow', '')

def test_rl_step_links_to_the_objectives_page():
    "`rl_step` is defined twice (the training step in train.objectives, its benchmark in experiments.bench): a training page links the training step, the bench page its own."
    sys.path.insert(0, str(ROOT/'tools'))
    import render_site as rs
    dups = rs.symbol_pages(ROOT)
    assert sorted(dups['rl_step']) == ['bench.html#rl_step', 'objectives.html#rl_step'], dups.get('rl_step')
    pre = 'https://t2repro.github.io/t2repro/'
    link = f'<p>the gradient that <a href="{pre}bench.html#rl_step"><code>rl_step</code></a> accumulates</p>'   # nbdev's pick: the first module
    layers = {'expert.html': 4, 'objectives.html': 4, 'bench.html': 7, 'svf.html': 1}
    assert f'href="{pre}objectives.html#rl_step"' in rs.prefer_own_layer(link, pre, 'expert.html', layers, dups)
    assert f'href="{pre}bench.html#rl_step"' in rs.prefer_own_layer(link, pre, 'bench.html', layers, dups)       # a page's own definition first
    assert rs.prefer_own_layer(link, pre, 'svf.html', layers, dups) == link     # nothing at or below layer 1: nbdev's link kept
    out = rs.relative_links(rs.prefer_own_layer(link, pre, 'expert.html', layers, dups), pre, {'objectives.html': {'rl_step'}, 'bench.html': {'rl_step'}})
    assert 'href="objectives.html#rl_step"' in out, out
