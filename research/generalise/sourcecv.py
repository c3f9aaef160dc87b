"""PLAN.md amendment 13: the pooled expert's C chosen by an inner CV grouped by source instead of by person/scene.

    python research/generalise/sourcecv.py --index runs/shared_index.csv --sources runs/head-bf16/index.csv \
        --features runs/features-bf16 --out runs/sourcecv

`ens` (control) and `ens-srcC` (the pooled LR's inner 3-fold CV grouped by chapter 02's cross-dataset groups) on the
same outer folds: group-held-out out of fold, leave-one-family-out, and cross-dataset (`cross_dataset_folds`). The
LSTM part is shared (it selects nothing). Prints one line per head and protocol, and the C each fit chose.
"""
import argparse, collections, json, sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.data import cross_dataset_folds   # noqa: E402
from deepfake_detect.evaluate import calibrate_verdicts   # noqa: E402
from deepfake_detect.model import set_threads   # noqa: E402

CHOSEN = collections.Counter()


class LRLogged(th.LR):
    "train_head's LR, counting the C its inner CV chooses."
    def fit(self, F, y, groups):
        super().fit(F, y, groups)
        CHOSEN[self.C] += 1
        return self


def protocols(ix, ixs, F, make, fams):
    "(group OOF, {family: LOFO scores}, cross-dataset OOF) of head factory `make`."
    return (th.out_of_fold(ix, F, make), {f: th.out_of_fold(ix, F, make, drop=f) for f in fams},
            th.out_of_fold(ixs, F, make))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for k in ('index', 'features', 'out'): ap.add_argument(f'--{k}', required=True)
    ap.add_argument('--sources', required=True, help="an index with an `origin` column (train_head's OUT/index.csv)")
    a = ap.parse_args()
    set_threads(2)
    index = pd.read_csv(a.index)
    index['origin'] = index.path.map(dict(pd.read_csv(a.sources)[['path', 'origin']].values))
    ix, X = th.load_features(index, a.features)
    xd = cross_dataset_folds(ix, 5, seed=0)
    ix_src = ix.assign(split_group=xd.split_group.values)   # same outer folds, inner CV by source
    fams = th.lofo_families(ix)
    F = th.feats(X, ('ship_full',), 32)
    y = (ix.label == 'fake').values.astype(int)
    lstm = protocols(ix, xd, F, th.LSTM, fams)
    rows = {}
    for name, ix_inner, xd_inner in (('ens', ix, xd), ('ens-srcC', ix_src, xd)):
        CHOSEN.clear()
        lr = protocols(ix_inner, xd_inner, F, LRLogged, fams)
        k = {'lstm': float(np.std(lstm[0])), 'lr': float(np.std(lr[0]))}
        mix = lambda a, b: a / k['lstm'] + b / k['lr']
        oof, by, cross = mix(lstm[0], lr[0]), {f: mix(lstm[1][f], lr[1][f]) for f in fams}, mix(lstm[2], lr[2])
        r = dict(th.report(ix, oof, 200), lofo=th.lofo(ix, by, 200), cross_auc=th.roc_auc((xd.label == 'fake').values, cross),
                 verdict_mix=calibrate_verdicts(y, oof)['verdict_mix'], C_chosen=dict(CHOSEN))
        rows[name] = r
        print(th.head_line(name, r) + f" | cross-dataset {r['cross_auc']:.3f} | C {dict(CHOSEN)} | verdicts {r['verdict_mix']}", flush=True)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    json.dump(rows, open(Path(a.out) / 'sourcecv.json', 'w'), indent=1, default=float)


if __name__ == '__main__': main()
