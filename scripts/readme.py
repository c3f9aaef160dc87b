"""Render the front page, nbs/index.ipynb, to README.md (what nbdev's `nbdev_readme` does, without quarto).

settings.ini names `readme_nb = index.ipynb`; nbdev_readme needs the quarto binary, which pip cannot install offline
(the `quarto-cli` package downloads it from the web when it is built). This script renders the notebook with
nbconvert's MarkdownExporter instead, and the output is deterministic, so tests/test_docs.py can require that
README.md is exactly the rendering of the notebook.

    python scripts/readme.py           # write README.md (make readme)
    python scripts/readme.py --check   # exit 1 if README.md is stale or over 10 KB, writing nothing

Links and images in the notebook are written relative to nbs/ (`../docs/app.png`), so they work when the notebook
itself is viewed; the README gets them relative to the repository root (`docs/app.png`). Code cells show as fenced
Python blocks with their text outputs; `#| hide` cells are left out, `#| output: false` hides a cell's outputs,
`#| echo: false` its code. Every `#|` line is dropped from what is shown.
"""
import argparse
import copy
import posixpath
import re
import sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parent.parent
NB = ROOT/'nbs'/'index.ipynb'
README = ROOT/'README.md'
MAX_BYTES = 10 * 1024
HEADER = '<!-- Generated from nbs/index.ipynb by scripts/readme.py (make readme): edit the notebook, not this file. -->\n\n'

_FENCE = re.compile(r'^\s*(```|~~~)')
_MD_LINK = re.compile(r'(!?\[[^\]]*\]\()([^)\s]+)((?:\s+"[^"]*")?\))')   # [text](target "title"), ![alt](target)
_HTML_SRC = re.compile(r'''((?:src|href)=["'])([^"']+)(["'])''')
_DIRECTIVE = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')


def rebase(target, src_dir='nbs'):
    "A link `target` written relative to `src_dir` (a folder under the root), made relative to the repository root."
    if not target or target.startswith(('#', '/')) or re.match(r'^[a-zA-Z][\w+.-]*:', target): return target
    path, hash_, anchor = target.partition('#')
    new = posixpath.normpath(posixpath.join(src_dir, path)) if path else path
    if path.endswith('/') and not new.endswith('/'): new += '/'
    return new + hash_ + anchor


def rebase_markdown(text, src_dir='nbs'):
    "`rebase` every Markdown and HTML link in `text`, leaving fenced code blocks alone."
    out, fenced = [], False
    for line in text.splitlines(True):
        if _FENCE.match(line): fenced = not fenced
        elif not fenced:
            line = _MD_LINK.sub(lambda m: m[1] + rebase(m[2], src_dir) + m[3], line)
            line = _HTML_SRC.sub(lambda m: m[1] + rebase(m[2], src_dir) + m[3], line)
        out.append(line)
    return ''.join(out)


def _directives(source):
    "The leading `#| name: value` lines of a code cell as a dict, and the source without them."
    lines, dirs = source.splitlines(True), {}
    while lines and _DIRECTIVE.match(lines[0]):
        m = _DIRECTIVE.match(lines.pop(0))
        dirs[m[1].lower()] = m[2].lower()
    return dirs, ''.join(lines)


def _prepare(nb):
    "A copy of `nb` as it should read on the front page."
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == 'markdown': cell.source = rebase_markdown(cell.source)
        elif cell.cell_type == 'code':
            dirs, cell.source = _directives(cell.source)
            if 'hide' in dirs or dirs.get('include') == 'false': continue
            if dirs.get('output') == 'false': cell.outputs = []
            if dirs.get('echo') == 'false': cell.metadata['transient'] = {'remove_source': True}
            for o in cell.get('outputs', []):
                if any(k.startswith('image/') for k in o.get('data', {})):
                    sys.exit(f'{NB.name}: a code cell has an image output; put the picture in docs/ and link it')
            cell.execution_count = None
        else: continue
        cells.append(cell)
    nb.cells = cells
    nb.metadata.setdefault('language_info', {'name': 'python'})   # fences say ```python
    return nb


def render(nb_path=NB):
    "README.md's text: the rendering of the notebook at `nb_path`."
    nb = nbformat.read(str(nb_path), as_version=4)
    exporter = MarkdownExporter()
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(_prepare(nb))
    lines, fenced = [], False
    for line in body.strip('\n').splitlines():
        line = line.rstrip()
        if _FENCE.match(line): fenced = not fenced
        if not fenced and not line and lines and not lines[-1]: continue   # one blank line between blocks
        lines.append(line)
    return HEADER + '\n'.join(lines) + '\n'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--check', action='store_true', help='exit 1 if README.md differs from the rendering; write nothing')
    args = p.parse_args(argv)
    text = render()
    size = len(text.encode())
    if size > MAX_BYTES: sys.exit(f'README.md would be {size} bytes, over {MAX_BYTES}: shorten nbs/index.ipynb')
    if args.check:
        if README.read_text(encoding='utf-8') != text:
            sys.exit('README.md is not the rendering of nbs/index.ipynb: run `make readme` (python scripts/readme.py)')
        print(f'README.md is up to date ({size} bytes)')
        return
    README.write_text(text, encoding='utf-8')
    print(f'wrote README.md ({size} bytes) from nbs/index.ipynb')


if __name__ == '__main__': main()
