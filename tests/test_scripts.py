"""The product tools in scripts/ that no notebook runs: the checks of scripts/train_head.py."""
import copy
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))
spec = importlib.util.spec_from_file_location('train_head', ROOT / 'scripts' / 'train_head.py')
th = importlib.util.module_from_spec(spec)
spec.loader.exec_module(th)

SHIPPED = ROOT / 'deepfake_detect' / 'models' / 'default'


@pytest.mark.skipif(not SHIPPED.with_suffix('.json').exists(), reason='no shipped model')
def test_ship_problems():
    cfg = json.loads(SHIPPED.with_suffix('.json').read_text())
    weights = SHIPPED.with_suffix('.safetensors')
    assert th.ship_problems(cfg, weights, cfg) == []                    # the shipped model may replace itself
    worse = copy.deepcopy(cfg)
    worse['metrics']['auc'] -= 0.01
    worse['metrics']['cross_dataset']['auc'] -= 0.01
    worse['metrics']['verdict_mix']['real']['REAL'] = 0.0
    worse['metrics']['n_fake'] = 10
    got = ' | '.join(th.ship_problems(worse, weights, cfg))
    for why in ('out-of-fold AUC', 'cross-dataset AUC', 'no held-out real video gets REAL', 'only 10 videos of a class'):
        assert why in got, (why, got)
    assert th.ship_problems(worse, weights, None) != []                   # no model shipped yet: the rest still count
    unmeasured = copy.deepcopy(cfg)                                        # a run without origins: no cross-dataset
    del unmeasured['metrics']['cross_dataset']
    unmeasured['metrics']['auc'] = float('nan')
    got = th.ship_problems(unmeasured, weights, cfg)
    assert any('cross-dataset AUC n/a' in p for p in got) and any('out-of-fold AUC n/a' in p for p in got), got


def test_whole_file_copies_are_checked(tmp_path):
    np.savez(tmp_path / '0.npz', ship_full=np.ones((4, 3), np.float16), path='/v/copy-a.mp4')
    np.savez(tmp_path / '1.npz', ship_full=np.ones((4, 3), np.float16), path='/v/another.mp4')
    ix, X = pd.DataFrame(dict(row=[0, 1, 2])), {'ship_aug': np.zeros((3, 4, 3), np.float32)}
    got = th.with_whole_file_copies(ix, X, tmp_path, {0: '/v/copy-a.mp4'})['ship_aug'][:, 0, 0]
    assert got.tolist() == [1, 0, 0]                                     # row 1's file is not a copy it asked for
    with pytest.raises(th.InputError, match='another manifest'):
        th.with_whole_file_copies(ix, X, tmp_path, {0: '/v/copy-a.mp4', 1: '/v/copy-b.mp4'})
