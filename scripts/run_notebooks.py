"""Run chapter notebooks in place and keep the outputs a reader should see, so a code host shows the figures.

    python scripts/run_notebooks.py nbs/03_blend.ipynb            # one chapter (make notebooks NB=...)
    python scripts/run_notebooks.py nbs/[0-9]*.ipynb               # every chapter (make notebooks)
    python scripts/run_notebooks.py /tmp/copy/00_video.ipynb --cwd nbs   # a copy, run as if it sat in nbs/

Each notebook runs in its own process the way `nbdev_test` runs it (execnb's CaptureShell, cwd the notebook's
folder or --cwd, the repository on sys.path, IN_TEST=1): cells flagged with settings.ini's `tst_flags` (`slow`)
unless named in --flags, cells marked `#| eval: false` and `nbdev_export()` calls are not run, and their old
outputs are cleared. A cell that raises stops the notebook, and the file is left as it was.

What is kept: images (PNG, or JPEG when that is under half the size, as for photos; wider than --max-width pixels are scaled down),
small HTML and text tables, short printouts (stdout, --max-lines lines at most, progress-bar redraws collapsed).
What is dropped: stderr (warnings, progress bars), tracebacks, widget views and widget state, JavaScript, any
other application/* data, execution counts and timing, outputs of `#| output: false` cells. The notebook is then
cleaned exactly as `nbdev_clean` cleans it (settings.ini), so a later `nbdev_clean` changes nothing, and it must
end up under --max-bytes (1.5 MB): images are shrunk further until it is, or the run fails.
The file is not written if it changed on disk while it ran (someone saved an edit): run it again.
"""
import argparse
import base64
import io
import os
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDGET_MIME = 'application/vnd.jupyter.widget-view+json'
KEEP_MIMES = ('image/png', 'image/jpeg', 'image/svg+xml', 'text/html', 'text/markdown', 'text/latex', 'text/plain')
MAX_BYTES = 1_500_000
_ANSI = re.compile(r'\x1b\[[0-9;?]*[ -/]*[@-~]')


def _text(v): return ''.join(v) if isinstance(v, list) else (v or '')


def _lines(s): return s.splitlines(True)


def cap_text(s, max_lines):
    "`s` without ANSI colours or progress-bar redraws, cut to `max_lines` lines."
    s = _ANSI.sub('', s)
    s = '\n'.join(line.rsplit('\r', 1)[-1] if '\r' in line.rstrip('\r') else line.rstrip('\r') for line in s.split('\n'))
    lines = s.splitlines(True)
    if len(lines) > max_lines:
        n = len(lines) - (max_lines - 1)
        lines = lines[:max_lines - 1] + [f'… ({n} more lines)\n']
    return ''.join(lines)


def shrink_image(b64, mime, max_width, png_limit=40_000):
    "An image (base64) no wider than `max_width`, re-encoded: PNG, or JPEG when the PNG is large and JPEG half its size (photos, face strips; not charts)."
    from PIL import Image
    raw = base64.b64decode(b64)
    im = Image.open(io.BytesIO(raw))
    im.load()
    changed = im.width > max_width
    if changed: im = im.resize((max_width, max(1, round(im.height * max_width / im.width))), Image.LANCZOS)
    if not changed and len(raw) <= png_limit: return b64, mime
    out = io.BytesIO()
    (im if im.mode in ('RGB', 'RGBA', 'L', 'LA', 'P') else im.convert('RGBA')).save(out, 'PNG', optimize=True)
    best, best_mime = out.getvalue(), 'image/png'
    if len(best) > png_limit:
        rgb = im.convert('RGBA')
        flat = Image.new('RGB', rgb.size, 'white')
        flat.paste(rgb, mask=rgb.getchannel('A'))
        jpg = io.BytesIO()
        flat.save(jpg, 'JPEG', quality=85, optimize=True)
        if len(jpg.getvalue()) < 0.5 * len(best): best, best_mime = jpg.getvalue(), 'image/jpeg'
    if not changed and len(best) >= len(raw): return b64, mime
    return base64.b64encode(best).decode() + '\n', best_mime


def keep_outputs(outputs, max_lines=40, max_html=20_000, max_svg=200_000, max_width=1000):
    "The outputs of one cell that a reader should see (see the module docstring)."
    kept, printed = [], ''
    for o in outputs:
        o = dict(o)
        ot = o.get('output_type')
        if ot == 'stream':
            if o.get('name') == 'stdout': printed += _text(o.get('text'))
        elif ot in ('display_data', 'execute_result'):
            data = o.get('data', {})
            if WIDGET_MIME in data: continue                     # a widget: its text fallback is no use either
            new, meta = {}, {}
            for mime in KEEP_MIMES:
                if mime not in data: continue
                v = data[mime]
                if mime in ('image/png', 'image/jpeg'):
                    b64, m = shrink_image(_text(v), mime, max_width)
                    new[m] = b64
                    md = (o.get('metadata') or {}).get(mime) or {}
                    dims = {k: md[k] for k in ('width', 'height') if k in md and m == mime and b64 == _text(v)}
                    if dims: meta[m] = dims
                elif mime == 'image/svg+xml':
                    if len(_text(v)) <= max_svg: new[mime] = v
                elif mime == 'text/html':
                    s = _text(v)
                    if len(s) <= max_html and '<script' not in s.lower(): new[mime] = _lines(s)
                else:
                    new[mime] = _lines(cap_text(_text(v), max_lines))
            if not any(k != 'text/plain' for k in new) and not _text(new.get('text/plain')).strip(): continue
            out = dict(output_type=ot, data=new, metadata=meta)
            if ot == 'execute_result': out['execution_count'] = None
            kept.append(out)
        # 'error' outputs (tracebacks) and anything else: dropped
    printed = cap_text(printed, max_lines)                       # one printout per cell, capped as a whole
    if printed.strip(): kept.insert(0, dict(output_type='stream', name='stdout', text=_lines(printed)))
    return kept


def _images(nb):
    for cell in nb['cells']:
        for o in cell.get('outputs', []):
            for mime in ('image/png', 'image/jpeg'):
                if mime in o.get('data', {}): yield o, mime


def fit(nb, max_bytes, nb2str):
    "Shrink the largest images of `nb` until it is under `max_bytes`; False if it cannot be done."
    for _ in range(40):
        if len(nb2str(nb).encode()) < max_bytes: return True
        imgs = sorted(_images(nb), key=lambda om: -len(_text(om[0]['data'][om[1]])))
        if not imgs: return False
        o, mime = imgs[0]
        from PIL import Image
        w = Image.open(io.BytesIO(base64.b64decode(_text(o['data'][mime])))).width
        if w < 200: return False
        b64, m = shrink_image(_text(o['data'][mime]), mime, int(w * 0.75), png_limit=0)
        del o['data'][mime]
        o['data'][m] = b64
        o['metadata'] = {}
    return len(nb2str(nb).encode()) < max_bytes


def run_one(path, cwd, skip_flags, force_flags, max_lines, max_bytes, max_width):
    "Run the notebook at `path` with cwd `cwd`, keep its outputs, write it back; a one-line summary."
    from execnb.nbio import read_nb, nb2str, write_nb
    from execnb.shell import CaptureShell
    from nbdev.clean import clean_nb
    from nbdev.config import get_config
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    from fastcore.basics import str2bool

    path = Path(path).resolve()
    cfg = get_config()
    before = path.read_bytes()
    flags = set(skip_flags) - set(force_flags)
    nb = read_nb(path)                                           # what gets written back: sources untouched
    run = NBProcessor(path, procs=FrontmatterProc, process=True).nb   # what nbdev_test runs
    fm = getattr(run, 'frontmatter_', {})
    if str2bool(fm.get('skip_exec', False)): return f'{path.name}: skip_exec, not run'
    by_id = {c.idx_: c for c in run.cells}

    def _no_eval(cell):                                          # nbdev.test.test_nb's rule, and quarto's output: false
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false': return True
        return bool(flags & direc.keys())

    os.environ['IN_TEST'] = '1'
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    start = time.time()
    shell = CaptureShell(cwd, mpl_format='png')
    os.chdir(cwd)
    ran = skipped = 0
    for cell in nb.cells:
        if cell.cell_type != 'code': continue
        rc = by_id.get(cell.idx_)
        cell.outputs, cell.execution_count = [], None
        if rc is None or _no_eval(rc): skipped += 1; continue
        outs = shell.run(rc.source)
        ran += 1
        if shell.exc:
            try: tb = shell.prettytb(fname=path)
            except AttributeError: tb = ''.join(traceback.format_exception(shell.exc))   # execnb before 0.1.7
            sys.stderr.write(tb + '\n')
            sys.exit(f'{path.name}: cell {cell.idx_} raised {type(shell.exc).__name__}; notebook left as it was')
        direc = getattr(rc, 'directives_', {}) or {}
        if direc.get('output:', [''])[0].lower() == 'false': continue
        cell.outputs = keep_outputs(outs, max_lines=max_lines, max_width=max_width)
    secs = time.time() - start

    nb.metadata.pop('widgets', None)
    clean_nb(nb, cfg.clear_all, cfg.get('allowed_metadata_keys', '').split(),
             cfg.get('allowed_cell_metadata_keys', '').split(), cfg.clean_ids)
    if not fit(nb, max_bytes, nb2str):
        sys.exit(f'{path.name}: outputs do not fit under {max_bytes} bytes; notebook left as it was')
    if path.read_bytes() != before:
        sys.exit(f'{path.name}: changed on disk while it ran; not written (run it again)')
    write_nb(nb, path)
    kinds = {}
    for c in nb.cells:
        for o in c.get('outputs', []):
            for k in (o.get('data') or {'stream': 1}):
                if k != 'text/plain' or len(o['data']) == 1: kinds[k] = kinds.get(k, 0) + 1
    size = path.stat().st_size
    kept = sum(bool(c.get('outputs')) for c in nb.cells if c.cell_type == 'code')
    return (f'{path.name}: {secs:.0f} s, {ran} cells run, {skipped} skipped, {kept} keep outputs '
            f'({", ".join(f"{v} {k}" for k, v in sorted(kinds.items())) or "none"}), {size / 1e3:.0f} KB')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--cwd', type=Path, help="run with this working directory (default: each notebook's folder)")
    p.add_argument('--flags', default='', help='space-separated tst_flags to run anyway, e.g. "slow"')
    p.add_argument('--max-lines', type=int, default=40, help='longest text output kept, in lines')
    p.add_argument('--max-bytes', type=int, default=MAX_BYTES, help='largest notebook file written')
    p.add_argument('--max-width', type=int, default=1000, help='widest image kept, in pixels')
    p.add_argument('--one', action='store_true', help=argparse.SUPPRESS)   # the child process: one notebook
    a = p.parse_args(argv)
    if a.one:
        from nbdev.config import get_config
        skip = get_config().get('tst_flags', '').split()
        nb = a.notebooks[0].resolve()
        print(run_one(nb, (a.cwd or nb.parent).resolve(), skip, a.flags.split(), a.max_lines, a.max_bytes, a.max_width))
        return
    failed = []
    for nb in a.notebooks:
        cmd = [sys.executable, str(Path(__file__).resolve()), '--one', str(nb.resolve()), '--flags', a.flags,
               '--max-lines', str(a.max_lines), '--max-bytes', str(a.max_bytes), '--max-width', str(a.max_width)]
        if a.cwd: cmd += ['--cwd', str(a.cwd.resolve())]
        r = subprocess.run(cmd, cwd=ROOT)   # settings.ini is found from the repository root
        if r.returncode: failed.append(nb.name)
    if failed: sys.exit(f'failed: {" ".join(failed)}')


if __name__ == '__main__': main()
