"""What a reader sees on the code host: the README is the rendering of nbs/index.ipynb, its links resolve, and the
chapter notebooks stay small enough to show, with no widget state (scripts/run_notebooks.py keeps them so)."""
import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT/'README.md'
INDEX = ROOT/'nbs'/'index.ipynb'
NBS = sorted(ROOT.joinpath('nbs').glob('[0-9]*.ipynb'))
WIDGET_MIME = 'application/vnd.jupyter.widget-view+json'
MAX_NB_BYTES = 1_500_000


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT/'scripts'/f'{name}.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


readme = _script('readme')


def test_readme_is_the_rendering_of_index():
    assert README.read_text(encoding='utf-8') == readme.render(INDEX), \
        'README.md is not the rendering of nbs/index.ipynb: edit the notebook, then `make readme`'


def test_readme_under_10kb():
    assert README.stat().st_size <= 10 * 1024, f'README.md is {README.stat().st_size} bytes: keep it under 10 KB'


def test_readme_links_resolve():
    "Every relative link and image in README.md names a file or folder of the repository (as a code host reads it)."
    text = re.sub(r'```.*?```', '', README.read_text(encoding='utf-8'), flags=re.S)
    targets = re.findall(r'!?\[[^\]]*\]\(([^)\s]+)', text) + re.findall(r'''(?:src|href)=["']([^"']+)''', text)
    local = [t.split('#')[0] for t in targets if not re.match(r'^([a-zA-Z][\w+.-]*:|#|/)', t)]
    assert 'docs/app.png' in local and 'docs/model_card.md' in local
    missing = [t for t in local if t and not (ROOT/t).exists()]
    assert not missing, f'README.md links to missing paths: {missing}'


def test_rebase_links():
    md = '![p](../docs/app.png) [c](00_video.ipynb#a) [w](https://x.org/a) [s](#quick-start)\n```\n[k](../z)\n```\n'
    assert readme.rebase_markdown(md) == \
        '![p](docs/app.png) [c](nbs/00_video.ipynb#a) [w](https://x.org/a) [s](#quick-start)\n```\n[k](../z)\n```\n'


def test_index_runs():
    "nbdev_test runs every notebook in nbs/, the front page too: it must not fail."
    from nbdev import test as nbdev_test
    ok, _ = nbdev_test.test_nb(INDEX)
    assert ok


@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.stem)
def test_notebook_small_without_widget_state(nb):
    size = nb.stat().st_size
    assert size < MAX_NB_BYTES, f'{nb.name} is {size} bytes: rerun scripts/run_notebooks.py (it shrinks images)'
    js = json.loads(nb.read_text(encoding='utf-8'))
    assert 'widgets' not in js.get('metadata', {}), f'{nb.name} keeps widget state in its metadata'
    for i, cell in enumerate(js['cells']):
        assert 'widgets' not in cell.get('metadata', {}), f'{nb.name} cell {i} keeps widget state'
        for o in cell.get('outputs', []):
            assert WIDGET_MIME not in o.get('data', {}), f'{nb.name} cell {i} keeps a widget view'
            assert o.get('output_type') != 'error', f'{nb.name} cell {i} keeps a traceback'


def test_keep_outputs():
    "scripts/run_notebooks.py keeps what a reader should see and drops the rest."
    run = _script('run_notebooks')
    outs = [dict(output_type='stream', name='stderr', text=['warning\n']),
            dict(output_type='stream', name='stdout', text=[f'{i}\n' for i in range(100)]),
            dict(output_type='stream', name='stdout', text=['10%\r50%\r100%\n']),
            dict(output_type='display_data', data={WIDGET_MIME: {'model_id': 'x'}, 'text/plain': ['HBox()']}, metadata={}),
            dict(output_type='execute_result', execution_count=7, metadata={},
                 data={'text/html': ['<table></table>'], 'text/plain': ['t'], 'application/javascript': ['x()']}),
            dict(output_type='error', ename='E', evalue='e', traceback=['tb'])]
    kept = run.keep_outputs(outs, max_lines=40)
    assert [o['output_type'] for o in kept] == ['stream', 'execute_result']
    text = ''.join(kept[0]['text'])
    assert len(text.splitlines()) == 40 and text.splitlines()[-1].startswith('…') and '\r' not in text
    assert kept[1]['data'] == {'text/html': ['<table></table>'], 'text/plain': ['t']} and kept[1]['execution_count'] is None


def test_run_notebooks_end_to_end(tmp_path):
    "A small notebook run in place: outputs kept, slow and eval: false cells not run, cleaned as nbdev_clean cleans."
    import subprocess, sys
    from nbformat.v4 import new_notebook, new_code_cell, new_markdown_cell
    import nbformat
    cells = [new_markdown_cell('# t'),
             new_code_cell("import matplotlib.pyplot as plt\nprint('\\n'.join(map(str, range(100))))"),
             new_code_cell("plt.plot([1, 2]); plt.show()"),
             new_code_cell("#| slow\nraise RuntimeError('slow ran')"),
             new_code_cell("#| eval: false\nraise RuntimeError('eval false ran')"),
             new_code_cell("import sys; sys.stderr.write('noise'); 6 * 7")]
    nb_path = tmp_path/'t.ipynb'
    nbformat.write(new_notebook(cells=cells, metadata={'widgets': {'state': {}}}), str(nb_path))
    r = subprocess.run([sys.executable, str(ROOT/'scripts'/'run_notebooks.py'), str(nb_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    js = json.loads(nb_path.read_text())
    outs = [c.get('outputs') for c in js['cells'] if c['cell_type'] == 'code']
    assert len(outs[0]) == 1 and len(''.join(outs[0][0]['text']).splitlines()) == 40
    assert 'image/png' in outs[1][0]['data']
    assert outs[2] == [] and outs[3] == []
    assert outs[4] == [{'data': {'text/plain': ['42']}, 'execution_count': None, 'metadata': {}, 'output_type': 'execute_result'}]
    assert 'widgets' not in js['metadata']
    test_notebook_small_without_widget_state(nb_path)
    from execnb.nbio import read_nb, nb2str   # and nbdev_clean leaves it as it is (outputs kept)
    from nbdev.clean import _nbdev_clean
    nb = read_nb(nb_path)
    _nbdev_clean(nb, path=None)
    assert nb2str(nb) == nb_path.read_text(encoding='utf-8')


def test_readme_model_summary_is_the_shipped_checkpoints():
    "The README's model paragraph names the shipped model and quotes its own numbers (they go stale when it changes)."
    cfg = json.loads((ROOT/'deepfake_detect'/'models'/'default.json').read_text())
    m = cfg['metrics']
    model = README.read_text(encoding='utf-8').split('## Model', 1)[1].split('\n## ', 1)[0]
    assert f"`{cfg['model_id']}`" in model
    lo, hi = m['auc_ci']
    assert f"AUC {m['auc']:.2f} [{lo:.2f}, {hi:.2f}]" in model
    assert f"paired win rate {m['pair_win']:.2f}" in model
    mix = m['verdict_mix']
    assert f"{mix['real']['REAL']:.0%}".replace('%', ' %') in model and f"{mix['fake']['FAKE']:.0%}".replace('%', ' %') in model
    lofo = sorted(m['lofo'], key=lambda r: r['auc'])
    assert f"{lofo[0]['auc']:.2f} ({lofo[0]['family']})" in model and f"{lofo[-1]['auc']:.2f} ({lofo[-1]['family']}s)" in model
    assert f"the {m['n']} shared clips that have a face" in model
    size = (ROOT/'deepfake_detect'/'models'/'default.safetensors').stat().st_size
    assert f"({size / 1e6:.0f} MB, fp16)" in model
    assert f"{cfg['run']['wall_s'] / 60:.0f} CPU minutes with faces and features cached" in ' '.join(model.split())
    probe, mean = m['compared']['probe'], lambda rows: sum(r['auc'] for r in rows) / len(rows)
    xd, flat = m['cross_dataset'], ' '.join(model.split())   # sentences wrap
    assert (f"AUC {m['auc']:.3f} vs {probe['auc']:.3f}, paired {m['pair_win']:.2f} vs {probe['pair_win']:.2f}, left-out mean "
            f"{mean(m['lofo']):.3f} vs {mean(probe['lofo']):.3f}") in flat
    pct = lambda share: f"{share:.0%}".replace('%', ' %')
    assert (f"AUC {xd['auc']:.2f} [{xd['auc_ci'][0]:.2f}, {xd['auc_ci'][1]:.2f}], {pct(xd['verdict_mix']['real']['REAL'])} of reals"
            in flat and f"{pct(xd['verdict_mix']['fake']['FAKE'])} of fakes" in flat)
    seen, rob = m['backbone_unseen'], cfg['robustness']   # the Limits sentence
    held = seen['cross_dataset']['verdict_mix_held_out']
    assert (f"fine-tuned on {seen['n_seen']} of these clips; on the {seen['n']} it never saw it scores AUC {seen['auc']:.2f} "
            f"({seen['cross_dataset']['auc']:.2f} across sources)") in flat
    assert (f"calls {pct(held['real']['REAL'])} of their reals *Likely real* and {pct(held['fake']['FAKE'])} of fakes "
            "*Likely manipulated*") in flat
    assert f"H.264 at CRF 35 costs it {rob['original']['auc'] - rob['crf35']['auc']:.2f} AUC" in flat


def test_model_card_is_the_rendering_of_the_shipped_checkpoint():
    "docs/model_card.md says what the shipped checkpoint's JSON holds: regenerated whenever either changes."
    card = _script('model_card')
    cfg = json.loads((ROOT/'deepfake_detect'/'models'/'default.json').read_text())
    assert (ROOT/'docs'/'model_card.md').read_text(encoding='utf-8') == card.card(cfg), \
        'docs/model_card.md is stale: run `python scripts/model_card.py`'


def test_model_card_reports_cross_dataset_only_when_measured():
    card = _script('model_card').card
    cfg = json.loads((ROOT/'deepfake_detect'/'models'/'default.json').read_text())
    xd = cfg['metrics']['cross_dataset']
    assert f"AUC {xd['auc']:.2f} [{xd['auc_ci'][0]:.2f}, {xd['auc_ci'][1]:.2f}]" in card(cfg).split('**Cross-dataset** (')[1]
    del cfg['metrics']['cross_dataset']   # a checkpoint trained before the protocol had it (and rebuilt before it, too)
    cfg['metrics']['backbone_unseen'].pop('cross_dataset')
    cfg.pop('calibration')                # calibrated on every clip's out-of-fold scores, as such a run did
    cfg.pop('reproductions', None)
    assert 'ross-dataset' not in card(cfg)


def test_model_card_reports_the_verdict_mix_and_its_cross_fit():
    card = _script('model_card').card
    cfg = json.loads((ROOT/'deepfake_detect'/'models'/'default.json').read_text())
    text = card(cfg)
    assert '## Verdicts' in text and 'cross-fitted' in text and '## Robustness' in text
    cal = cfg['calibration']   # what the verdict was fitted on, and on how many videos (PLAN.md amendment 27)
    assert f"{cal['n_real']} real and {cal['n_fake']} fake videos" in text
    if cal['on'] == 'backbone-unseen-crossdataset':
        assert 'equal error rate of the cross-dataset scores of the videos the backbone never saw' in text
        assert 'fitted on these very scores' in text.split('Cross-dataset on them', 1)[1].split('. ', 1)[0]
    cfg.pop('calibration')   # a checkpoint from before: calibrated on every clip's out-of-fold scores
    old = card(cfg)
    assert 'equal error rate of the out-of-fold scores of every video' in old and 'fitted on these very scores' not in old


def test_model_card_says_what_the_band_achieves():
    "The band's rule is claimed only where its accuracy was reached on the videos it was fitted on (chapter 06)."
    card = _script('model_card').card
    cfg = json.loads((ROOT/'deepfake_detect'/'models'/'default.json').read_text())
    mix = cfg['metrics']['backbone_unseen']['cross_dataset']['verdict_mix']
    cfg['calibration'] = dict(on='backbone-unseen-crossdataset', n_real=100, n_fake=100)
    mix.update(real=dict(REAL=0.5, FAKE=0.3, UNCERTAIN=0.2), fake=dict(REAL=0.3, FAKE=0.5, UNCERTAIN=0.2))
    assert 'outside it 62% of their verdicts are right, short of the 80%' in card(cfg)   # (50 + 50) / 160
    mix.update(real=dict(REAL=0.75, FAKE=0.1, UNCERTAIN=0.15), fake=dict(REAL=0.1, FAKE=0.75, UNCERTAIN=0.15))
    text = card(cfg)
    assert 'the band aims for' not in text and '88% are right outside it, 15% of the videos inside' in text


def test_readme_limits_quote_the_backbone_unseen_numbers():
    "The README's limits quote the shipped checkpoint's numbers on the clips the backbone never saw, and its robustness."
    cfg = json.loads((ROOT/'deepfake_detect'/'models'/'default.json').read_text())
    bu = cfg['metrics']['backbone_unseen']
    xd, mix = bu['cross_dataset'], bu['cross_dataset']['verdict_mix_held_out']
    flat = ' '.join(README.read_text(encoding='utf-8').split('## Model', 1)[1].split('\n## ', 1)[0].split())
    pct = lambda share: f"{share:.0%}".replace('%', ' %')
    assert (f"fine-tuned on {bu['n_seen']} of these clips; on the {bu['n']} it never saw it scores AUC {bu['auc']:.2f} "
            f"({xd['auc']:.2f} across sources), and the verdict, calibrated on other such videos, calls {pct(mix['real']['REAL'])} of "
            f"their reals *Likely real* and {pct(mix['fake']['FAKE'])} of fakes") in flat
    rob = {k: r['auc'] for k, r in cfg['robustness'].items()}
    assert f"CRF 35 costs it {rob['original'] - rob['crf35']:.2f} AUC" in flat
