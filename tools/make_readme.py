#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb without Quarto: markdown cells as they are, visible code cells' outputs
(markdown, or plain text in a code block), cells whose source starts with `#| hide` left out. Links written for the
notebook folder are made to work from the repository root: `NN_x.ipynb` → `nbs/NN_x.ipynb`, `../results/...` → `results/...`."""
import json, re, sys
from pathlib import Path

def convert(nb_path='nbs/index.ipynb'):
    nb = json.loads(Path(nb_path).read_text())
    out = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown': out.append(src); continue
        if src.lstrip().startswith('#| hide'): continue
        if '#| echo: false' not in src: out.append('```python\n' + '\n'.join(l for l in src.splitlines() if not l.startswith('#|')) + '\n```')
        for o in c.get('outputs', []):
            d = o.get('data', {})
            if 'text/markdown' in d: out.append(''.join(d['text/markdown']))
            elif o.get('output_type') == 'stream': out.append('```\n' + ''.join(o['text']).rstrip() + '\n```')
            elif 'text/plain' in d: out.append('```\n' + ''.join(d['text/plain']) + '\n```')
    return root_links('\n\n'.join(out)) + '\n'

def root_links(text: str) -> str:
    "Markdown link targets relative to nbs/ rewritten relative to the repository root (where README.md is)."
    text = re.sub(r'\]\(\.\./', '](', text)
    return re.sub(r'\]\(([\w.-]+\.ipynb(?:#[^)]*)?)\)', r'](nbs/\1)', text)

if __name__ == '__main__':
    root = Path(__file__).resolve().parent.parent
    text = convert(root/'nbs'/'index.ipynb')
    if '--check' in sys.argv:
        sys.exit(0 if (root/'README.md').read_text() == text else 'README.md is out of date: run python tools/make_readme.py')
    (root/'README.md').write_text(text); print('wrote README.md')
