#!/usr/bin/env python
"""Render the docs site without Quarto: nbdev's processed notebooks (`_proc/*.ipynb`) → static HTML in `_site/`.

Usage (from the repository root):
    python tools/render_site.py                 # nbdev's processing step (as `nbdev_proc_nbs`), then render to _site/
    python tools/render_site.py --no-proc       # render an existing _proc/ only
    python tools/render_site.py --out /tmp/site --no-mathjax

Where Quarto is installed, `nbdev_docs` builds the real site from `nbs/_quarto.yml` into `_docs/`. This script is the
fallback for machines without Quarto. It runs the same processing as `nbdev_proc_nbs` (frontmatter, `show_doc` cells,
hidden cells removed, doc links), but without nbdev's attempt to install Quarto (which, with no Quarto, runs
`sudo dpkg -i ...` and then `pip install -e ".[dev]"`), and renders:
- one page per notebook, named by its frontmatter `output-file` (e.g. `core.html`), with the sidebar of `sidebar.yml`
  (notebook order, grouped under one heading per layer), a table of contents, highlighted code and every output: PNG/JPEG figures inline as data URIs,
  SVG inline, DataFrame HTML and markdown tables as <table>, text and errors as <pre>;
- Quarto cell options honoured: `#| echo: false` (output only), `#| include: false` (nothing), `#| output: false`;
- `index.html` from `index.ipynb` (the README), or a list of the notebooks if there is none;
- other files of `_proc/` (figures saved next to the notebooks) copied as they are; images that markdown links from
  outside `_proc/` (e.g. `../results/figures/x.png`) inlined as data URIs;
- a name defined in several modules (`rl_step`: the training step and its benchmark) linked to the definition the page
  means: its own, else the nearest layer at or below the page's (`prefer_own_layer`; nbdev's lookup takes the first);
- cross-references relative: nbdev's absolute doc links (`doc_host`/`doc_baseurl` of settings.ini) point at the local
  pages, each anchor resolved against the ids that exist (`Class.method` → the class, else the page);
- `code-overflow: wrap` of `nbs/_quarto.yml` honoured (code and outputs wrap instead of scrolling);
- MathJax from a local copy when there is one (`$T2REPRO_MATHJAX`, Debian's `libjs-mathjax`, npm's `mathjax`),
  copied into the site, else from its CDN;
- stderr streams as `<pre class="stderr">`, error outputs as `<pre class="error">` (tests/test_docs_site.py fails on those);
- previous/next links at the foot of every page.
Needs only what nbdev and jupytext bring: nbformat-free JSON reading, markdown-it-py + mdit-py-plugins, pygments, PyYAML.
"""
from __future__ import annotations
import argparse, base64, html, json, os, re, shutil, sys
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

MATHJAX = 'https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js'
_ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
_DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]+)\s*(?::\s*(.*?))?\s*$')

CSS = """
*{box-sizing:border-box} body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#212529}
a{color:#2466a8} nav.sidebar{position:fixed;top:0;left:0;bottom:0;width:250px;overflow-y:auto;padding:1.2rem 1rem;
background:#f6f8fa;border-right:1px solid #e1e4e8} nav.sidebar .site{font-weight:700;font-size:1.15rem;display:block;margin-bottom:.8rem;
text-decoration:none;color:#212529} nav.sidebar ul{list-style:none;padding-left:0;margin:0} nav.sidebar ul ul{padding-left:.8rem}
nav.sidebar li{margin:.15rem 0} nav.sidebar a.active{font-weight:700} nav.sidebar .section{font-weight:600;margin-top:.6rem}
main{margin-left:250px;max-width:1000px;padding:1.5rem 2.5rem 4rem} h1.title{margin-bottom:.2rem} p.description{color:#555;font-size:1.1rem}
nav.toc{font-size:.9rem;border-left:3px solid #e1e4e8;padding-left:.8rem;margin:1rem 0 1.5rem} nav.toc ul{margin:0;padding-left:1rem}
pre{background:#f6f8fa;padding:.7rem .9rem;overflow-x:auto;border-radius:4px;font-size:.85rem;line-height:1.4}
code{font-size:.88em} .cell-output pre{background:#fff;border:1px solid #e1e4e8} .cell-output pre.error{background:#fff5f5;border-color:#f5c2c7}
.cell{margin:1rem 0} .cell-output img, main img{max-width:100%;height:auto} table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top} thead th{background:#f6f8fa}
hr{border:0;border-top:1px solid #e1e4e8;margin:1.5rem 0} .math.block{overflow-x:auto}
.cell-output pre.stderr{background:#fffbf0;border-color:#f0e0b0} details{margin:.4rem 0 1rem;font-size:.9rem}
details summary{cursor:pointer;color:#555} nav.pager{display:flex;justify-content:space-between;margin-top:3rem;padding-top:1rem;border-top:1px solid #e1e4e8}
.cell-output{overflow-x:auto}
@media (max-width:800px){nav.sidebar{position:static;width:auto;border-right:0}main{margin-left:0;padding:1rem}}
"""

def _math(content, opts):
    tex = html.escape(content)
    return f'<div class="math block">\\[{tex}\\]</div>' if opts.get('display_mode') else f'<span class="math inline">\\({tex}\\)</span>'

def markdown_renderer() -> MarkdownIt:
    "CommonMark + tables + strikethrough + `{attrs}` + `$math$` + heading ids (like Quarto's, so doc links resolve)."
    return (MarkdownIt('commonmark', {'html': True}).enable(['table', 'strikethrough'])
            .use(attrs_plugin).use(dollarmath_plugin, renderer=_math).use(anchors_plugin, min_level=1, max_level=4))

def _src(x) -> str: return ''.join(x) if isinstance(x, list) else (x or '')

def directives(source: str) -> tuple[dict, str]:
    "Split the leading `#| key: value` lines of a code cell from the rest of its source."
    opts, lines = {}, source.splitlines()
    i = 0
    while i < len(lines) and (m := _DIRECTIVE.match(lines[i])):
        opts[m.group(1)] = (m.group(2) or 'true').strip().strip('"\''); i += 1
    return opts, '\n'.join(lines[i:]).strip('\n')

def _false(v) -> bool: return str(v).lower() in ('false', 'no', '0')

def _highlight(code: str, lang: str = 'python') -> str:
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import get_lexer_by_name
        return highlight(code, get_lexer_by_name(lang), HtmlFormatter(nowrap=True))
    except Exception: return html.escape(code)

class Renderer:
    "Renders processed notebooks to HTML pages sharing a sidebar."
    def __init__(self, md: MarkdownIt, links: dict, base: Path|None = None): self.md, self.links, self.base = md, links, base

    def _inline_img(self, m) -> str:
        "A markdown image that lies outside the processed folder (`../results/figures/x.png`), inlined as a data URI."
        src = html.unescape(m.group(1))
        f = (self.base/src).resolve() if self.base else None
        if not f or not f.is_file() or (self.base.resolve() in f.parents): return m.group(0)
        mime = {'jpg': 'jpeg', 'svg': 'svg+xml'}.get(m.group(2), m.group(2))
        return f'<img src="data:image/{mime};base64,{base64.b64encode(f.read_bytes()).decode()}"'

    def markdown(self, text: str) -> str:
        out = self.md.render(text)
        out = re.sub(r'<img src="([^":]+\.(png|jpe?g|gif|svg))"', self._inline_img, out)
        # links to other notebooks point at their pages, as Quarto does
        return re.sub(r'href="([^":#?]+)\.ipynb(#[^"]*)?"', lambda m: f'href="{self.links.get(Path(m.group(1)).name, Path(m.group(1)).name + ".html")}{m.group(2) or ""}"', out)

    def output(self, o: dict) -> str:
        t = o.get('output_type')
        if t == 'stream':
            cls = ' class="stderr"' if o.get('name') == 'stderr' else ''
            return f'<pre{cls}>{html.escape(_ANSI.sub("", _src(o.get("text"))))}</pre>'
        if t == 'error':
            tb = '\n'.join(o.get('traceback') or [f"{o.get('ename')}: {o.get('evalue')}"])
            return f'<pre class="error">{html.escape(_ANSI.sub("", tb))}</pre>'
        d = o.get('data', {})
        for mime in ('image/png', 'image/jpeg', 'image/gif'):
            if mime in d:
                b64 = _src(d[mime]).replace('\n', '')
                alt = html.escape(_src(d.get('text/plain', 'figure')))[:200]
                return f'<img src="data:{mime};base64,{b64}" alt="{alt}">'
        if 'image/svg+xml' in d: return _src(d['image/svg+xml'])
        if 'text/html' in d: return _src(d['text/html'])
        if 'text/markdown' in d: return self.markdown(_src(d['text/markdown']))
        if 'text/latex' in d: return f'<div class="math block">{html.escape(_src(d["text/latex"]))}</div>'
        if 'text/plain' in d: return f'<pre>{html.escape(_ANSI.sub("", _src(d["text/plain"])))}</pre>'
        return ''

    def cell(self, c: dict) -> str:
        if c['cell_type'] == 'markdown':
            return f'<div class="cell markdown">{self.markdown(_src(c["source"]))}</div>'
        if c['cell_type'] != 'code': return ''
        opts, code = directives(_src(c['source']))
        if _false(opts.get('include', 'true')): return ''
        parts = []
        if code and not _false(opts.get('echo', 'true')):
            parts.append(f'<pre class="cell-code"><code class="language-python">{_highlight(code)}</code></pre>')
        if not _false(opts.get('output', 'true')):
            outs = ''.join(self.output(o) for o in c.get('outputs', []))
            if outs: parts.append(f'<div class="cell-output">{outs}</div>')
        return f'<div class="cell code">{"".join(parts)}</div>' if parts else ''

def frontmatter(nb: dict) -> dict:
    "The YAML frontmatter nbdev puts in a processed notebook's first raw cell (title, description, output-file)."
    for c in nb['cells']:
        if c['cell_type'] == 'raw':
            s = _src(c['source']).strip()
            if s.startswith('---'):
                try: return yaml.safe_load(s.strip('-\n ')) or {}
                except yaml.YAMLError: return {}
    return {}

def _sidebar_files(proc: Path) -> list:
    "Notebooks in sidebar order: nbdev's `sidebar.yml` if present (sections flattened), else sorted with index first."
    sb = proc/'sidebar.yml'
    if sb.exists():
        def flat(items):
            for it in items or []:
                if isinstance(it, str): yield it
                elif isinstance(it, dict):
                    if 'href' in it: yield it['href']
                    yield from flat(it.get('contents'))
        files = [f for f in flat(yaml.safe_load(sb.read_text())['website']['sidebar']['contents']) if f.endswith('.ipynb')]
        files = [f for f in dict.fromkeys(files) if (proc/f).exists()]
        if files: return files
    return sorted((p.relative_to(proc).as_posix() for p in proc.rglob('*.ipynb')), key=lambda f: (not f.startswith('index.'), f))

LAYERS = {'0': 'Base: files, runtime, config, models', '1': 'Weights: SVD, SVF, the switch', '2': 'Engine: generation',
          '3': 'Tasks and scoring', '4': 'Training', '5': 'Adaptation', '6': 'Extensions', '7': 'Experiments',
          '8': 'Interface', '9': 'Interface'}  # a notebook's tens digit is its layer (tests/test_layers.py)

def layer_of(src) -> str|None:
    "The layer heading of a notebook file named `NN_name.ipynb`, None for unnumbered ones (index)."
    m = re.match(r'(\d)\d[a-z]?_', Path(src).name) if src else None
    return LAYERS.get(m.group(1)) if m else None

def _nav_items(pages, current, depth) -> str:
    "Sidebar list items: one heading per layer, then its pages in notebook order."
    items, last = [], None
    for q in pages:
        sec = layer_of(q['src']) or (None if q['out'] == 'index.html' else 'Guides')  # unnumbered pages (Running it)
        if sec and sec != last:
            items.append(f'<li class="section">{html.escape(sec)}</li>')
            last = sec
        active = ' class=active' if q is current else ''
        items.append(f'<li><a href="{depth}{q["out"]}"{active}>{html.escape(q["title"])}</a></li>')
    return ''.join(items)

MATHJAX_LOCAL = [  # (where, kind): a MathJax 3 `es5/` folder or a MathJax 2 folder, first found wins
    (os.environ.get('T2REPRO_MATHJAX', ''), 'auto'), ('/usr/share/javascript/mathjax', 'v2'),   # Debian: libjs-mathjax
    ('/usr/share/nodejs/mathjax-full/es5', 'v3'), ('/usr/share/nodejs/mathjax/es5', 'v3'), ('node_modules/mathjax/es5', 'v3')]

def find_mathjax() -> tuple:
    "A local MathJax: `(folder, 'v2'|'v3')`, or `(None, None)`."
    for d, kind in MATHJAX_LOCAL:
        d = Path(d) if d else None
        if not d or not d.is_dir(): continue
        if (d/'tex-mml-chtml.js').is_file(): return d, 'v3'
        if (d/'es5'/'tex-mml-chtml.js').is_file(): return d/'es5', 'v3'
        if (d/'MathJax.js').is_file() and (d/'config'/'TeX-AMS_CHTML.js').is_file(): return d, 'v2'
    return None, None

def install_mathjax(out: Path) -> str:
    "Copy a local MathJax into `out/mathjax` (only what TeX → CommonHTML needs) and return its script path, else the CDN's URL."
    d, kind = find_mathjax()
    if d is None: return MATHJAX
    dst = out/'mathjax'
    if kind == 'v3':
        shutil.copytree(d, dst, ignore=shutil.ignore_patterns('*.map', 'sre', 'mml-*', 'tex-svg*', 'tex-mml-svg*'))
        return 'mathjax/tex-mml-chtml.js'
    for part in ['MathJax.js', 'config/TeX-AMS_CHTML.js', 'extensions', 'jax/element', 'jax/input/TeX', 'jax/output/CommonHTML',
                 'fonts/HTML-CSS/TeX/woff', 'localization/en']:
        s = d/part
        if not s.exists(): continue
        (dst/part).parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir(): shutil.copytree(s, dst/part, dirs_exist_ok=True)
        else: shutil.copy2(s, dst/part)
    return 'mathjax/MathJax.js?config=TeX-AMS_CHTML'

def mathjax_head(src: str) -> str:
    "The `<head>` scripts for MathJax 2 or 3 at `src` (inline `\\(…\\)`, display `\\[…\\]`), or '' for none."
    if not src: return ''
    if 'MathJax.js' in src:
        return ('<script type="text/x-mathjax-config">MathJax.Hub.Config({tex2jax:{inlineMath:[["\\\\(","\\\\)"]],'
                'displayMath:[["\\\\[","\\\\]"]],processEscapes:true},messageStyle:"none"});</script>'
                f'<script src="{src}"></script>')
    return f'<script>MathJax={{tex:{{inlineMath:[["\\\\(","\\\\)"]]}}}}</script><script defer src="{src}"></script>'

def doc_prefix(root: Path) -> str|None:
    "The URL prefix of the published docs (`doc_host` + `doc_baseurl` of settings.ini), which nbdev writes into doc links."
    import configparser
    ini = root/'settings.ini'
    if not ini.is_file(): return None
    c = configparser.ConfigParser(); c.read(ini)
    d = c['DEFAULT']
    host = d.get('doc_host', '').rstrip('/')
    return (host + '/' + d.get('doc_baseurl', '').strip('/') + '/') if host else None

def relative_links(text: str, prefix: str|None, anchors: dict, depth: str = '') -> str:
    "Links into the published docs made relative to this site, each anchor one that exists (`Class.method` → `class`, else the page)."
    if not prefix: return text
    def fix(m):
        page, _, a = m.group(1).partition('#')
        page = page or 'index.html'
        if page not in anchors: return m.group(0)   # not a page of this site: leave it
        if a and a not in anchors[page]:
            head = a.split('.')[0]
            a = head if head in anchors[page] else ''
        return f'href="{depth}{page}' + (f'#{a}' if a else '') + '"'
    text = re.sub(r'\[`([^`\]]+)`\]\(' + re.escape(prefix) + r'[^)\s]*\)', r'\1', text)   # doc links nbdev wrote inside code (signatures)
    return re.sub(r'href="' + re.escape(prefix) + r'([^"]*)"', fix, text)

def symbol_pages(root: Path) -> dict:
    "`{short name: [page#anchor, ...]}` from the library's `_modidx.py` (nbdev's doc-link table), for names defined more than once."
    import configparser, runpy
    c = configparser.ConfigParser()
    c.read(root/'settings.ini')
    f = root/c['DEFAULT'].get('lib_path', c['DEFAULT'].get('lib_name', ''))/'_modidx.py'
    if not f.is_file(): return {}
    out = {}
    for mod, syms in runpy.run_path(str(f))['d'].get('syms', {}).items():
        for k, v in syms.items(): out.setdefault(k.removeprefix(mod + '.'), []).append(v[0])
    return {k: v for k, v in out.items() if len(v) > 1}

def prefer_own_layer(text: str, prefix: str|None, page: str, layer_of_page: dict, dups: dict) -> str:
    """A doc link whose name is defined in several modules points at the one this page means: its own page if it defines
    it, else the nearest layer at or below the page's (imports run down the layers), else nbdev's choice (the first)."""
    if not prefix or not dups: return text
    mine = layer_of_page.get(page)
    def fix(m):
        name = m.group(2).removesuffix('()')
        cands = dups.get(name)
        if not cands: return m.group(0)
        pages = [c.partition('#')[0] for c in cands]
        if page in pages: best = cands[pages.index(page)]
        else:
            below = [(layer_of_page.get(q), c) for q, c in zip(pages, cands) if mine is not None and layer_of_page.get(q) is not None and layer_of_page[q] <= mine]
            if not below: return m.group(0)
            best = max(below, key=lambda t: t[0])[1]
        return f'href="{prefix}{best}"{m.group(1)}<code>{m.group(2)}</code>'
    return re.sub(r'href="' + re.escape(prefix) + r'[^"]*"([^>]*>)<code>([\w.]+(?:\(\))?)</code>', fix, text)

def _page(site_title, title, description, body, toc, nav, mathjax, pager='') -> str:
    "One HTML page: head, sidebar, title block (description already rendered as inline HTML), table of contents, body."
    mj = mathjax_head(mathjax)
    desc = f'<p class="description">{description}</p>' if description else ''
    toc_html = f'<nav class="toc"><strong>On this page</strong><ul>{toc}</ul></nav>' if toc else ''
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)} – {html.escape(site_title)}</title><link rel="stylesheet" href="style.css">{mj}</head>'
            f'<body>{nav}<main><header><h1 class="title">{html.escape(title)}</h1>{desc}</header>{toc_html}{body}{pager}</main></body></html>\n')

def render_site(proc='_proc', # nbdev's processed notebooks (`nbdev_proc_nbs` output)
                out='_site', # where the static site goes (replaced)
                mathjax=MATHJAX, # MathJax script URL, 'local' (a local copy if found, else the CDN), or '' for none (TeX as written)
                root=None # the checkout (settings.ini: where doc links point); default: the parent of `proc`
               ) -> Path:
    "Render every processed notebook in `proc` to one HTML page in `out`, with `index.html` and a shared sidebar."
    proc, out = Path(proc), Path(out)
    if not proc.is_dir() or not any(proc.rglob('*.ipynb')):
        raise FileNotFoundError(f'{proc} has no processed notebooks: run `python tools/render_site.py` (or nbdev_proc_nbs) first')
    nbdev_yml = yaml.safe_load((proc/'nbdev.yml').read_text()) if (proc/'nbdev.yml').exists() else {}
    site_title = (nbdev_yml.get('website') or {}).get('title') or proc.resolve().parent.name
    files = _sidebar_files(proc)
    pages = []
    for f in files:
        nb = json.loads((proc/f).read_text(encoding='utf-8'))
        fm = frontmatter(nb)
        name = Path(f).with_suffix('.html').as_posix()
        if fm.get('output-file'): name = (Path(f).parent/fm['output-file']).as_posix()
        pages.append(dict(src=f, nb=nb, fm=fm, out=name, title=str(fm.get('title') or Path(f).stem)))
    if not any(p['out'] == 'index.html' for p in pages): pages.insert(0, dict(src=None, nb=None, fm={}, out='index.html', title=site_title))
    links = {Path(p['src']).stem: p['out'] for p in pages if p['src']}
    root = Path(root) if root else proc.resolve().parent
    r = Renderer(markdown_renderer(), links, base=proc)
    qy = proc/'_quarto.yml'
    fmt = ((yaml.safe_load(qy.read_text()) or {}).get('format') or {}).get('html') or {} if qy.exists() else {}
    wrap = fmt.get('code-overflow') == 'wrap'
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    for s in proc.rglob('*'):  # figures and other files next to the notebooks
        if s.is_file() and s.suffix not in ('.ipynb', '.yml', '.yaml') and not any(x.startswith('.') for x in s.relative_to(proc).parts):
            (out/s.relative_to(proc)).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(s, out/s.relative_to(proc))
    (out/'style.css').write_text(CSS + ('pre,pre code{white-space:pre-wrap;overflow-wrap:anywhere}\n' if wrap else ''))
    if mathjax == 'local': mathjax = install_mathjax(out)
    for p in pages:  # bodies first: the links between pages are resolved against every page's ids
        if p['nb'] is None:
            body = '<ul class="listing">' + ''.join(f'<li><a href="{q["out"]}">{html.escape(q["title"])}</a> — {r.md.renderInline(str(q["fm"].get("description", "")))}</li>'
                                                  for q in pages if q['src']) + '</ul>'
        else: body = '\n'.join(r.cell(c) for c in p['nb']['cells'])
        p['body'] = body
    anchors = {p['out']: set(re.findall(r'\bid="([^"]+)"', p['body'])) for p in pages}
    prefix = doc_prefix(root)
    dups = symbol_pages(root)
    layer_of_page = {p['out']: int(m.group(1)) for p in pages if p['src'] and (m := re.match(r'(\d)\d[a-z]?_', Path(p['src']).name))}
    for i, p in enumerate(pages):
        depth = '../' * (len(Path(p['out']).parts) - 1)
        items = _nav_items(pages, p, depth)
        nav = f'<nav class="sidebar"><a class="site" href="{depth}index.html">{html.escape(site_title)}</a><ul>{items}</ul></nav>'
        body = relative_links(prefer_own_layer(p['body'], prefix, p['out'], layer_of_page, dups), prefix, anchors, depth)
        toc = ''.join(f'<li><a href="#{m.group(1)}">{m.group(2)}</a></li>' for m in re.finditer(r'<h2 id="([^"]+)">(.*?)</h2>', body))
        desc = r.md.renderInline(str(p['fm'].get('description') or ''))
        prev_, next_ = (pages[i-1] if i > 0 else None), (pages[i+1] if i + 1 < len(pages) else None)
        pager = ('<nav class="pager">' + (f'<a href="{depth}{prev_["out"]}">← {html.escape(prev_["title"])}</a>' if prev_ else '<span></span>')
                 + (f'<a href="{depth}{next_["out"]}">{html.escape(next_["title"])} →</a>' if next_ else '<span></span>') + '</nav>')
        mj = mathjax if not mathjax or mathjax.startswith('http') else depth + mathjax
        html_page = _page(site_title, p['title'], desc, body, toc, nav, mj, pager)
        html_page = html_page.replace('href="style.css"', f'href="{depth}style.css"')
        (out/p['out']).parent.mkdir(parents=True, exist_ok=True)
        (out/p['out']).write_text(html_page, encoding='utf-8')
    return out

def proc_nbs(path=None # notebooks folder (default: settings.ini's nbs_path)
            ) -> tuple[Path, list]:
    "nbdev's docs preprocessing (`nbdev_proc_nbs`) without its Quarto auto-install; returns `_proc` and the notebooks that failed."
    import nbdev.quarto as q, nbdev.serve as serve
    failed = []
    def _one(f, o):
        try: return f(o)
        except Exception as e:
            failed.append(o[0]); print(f'render_site: processing {o[0]} failed: {type(e).__name__}: {e}', file=sys.stderr)
    q._ensure_quarto = lambda: None  # with no Quarto, nbdev would run `sudo dpkg -i` and `pip install -e .[dev]`
    serve.parallel = lambda f, items, **kw: [_one(f, o) for o in items]  # one at a time, naming any notebook that fails
    cache, cfg, _ = q._pre_docs(path, n_workers=0)
    return Path(cache), failed

def main(argv=None):
    ap = argparse.ArgumentParser(description='Render the t2repro docs site without Quarto (see the module docstring).')
    ap.add_argument('--proc', default=None, help='processed notebooks folder (default: <repo>/_proc)')
    ap.add_argument('--out', default=None, help='output folder (default: <repo>/_site)')
    ap.add_argument('--no-proc', action='store_true', help='skip the nbdev processing step; render an existing _proc/')
    ap.add_argument('--no-mathjax', action='store_true', help='no MathJax at all (TeX shows as written)')
    ap.add_argument('--mathjax-cdn', action='store_true', help='MathJax from its CDN even where a local copy exists')
    a = ap.parse_args(argv)
    root = Path.cwd()
    for d in [root, *root.parents]:
        if (d/'settings.ini').exists(): root = d; break
    failed = []
    if a.proc or a.no_proc: proc = Path(a.proc) if a.proc else root/'_proc'
    else: proc, failed = proc_nbs()
    out = render_site(proc, a.out or root/'_site', mathjax='' if a.no_mathjax else MATHJAX if a.mathjax_cdn else 'local', root=root)
    print(f'site written to {out}/index.html ({len(list(out.glob("**/*.html")))} pages)')
    if failed:
        print('render_site: these notebooks failed nbdev\'s processing (their show_doc cells could not run), '
              'so their pages are missing or stale:\n  ' + '\n  '.join(map(str, failed)), file=sys.stderr)
        return 1
    return 0

if __name__ == '__main__': sys.exit(main())
