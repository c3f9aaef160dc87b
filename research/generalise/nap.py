"""Screen for PLAN.md amendment 15: nuisance attribute projection of the directions that tell real sources apart,
before the pooled expert of `ens`.

    python research/generalise/nap.py --index runs/shared_index.csv --features runs/features-bf16 --out runs/nap

Within each training fold: the mean frame feature of every real clip; the mean of each origin (the manifest's
`source_repo`, read from OOF_CROSSDATASET's `origin`) with >= 2 real clips, centred on the reals' grand mean and
weighted by the square root of its count; U = their top-k right singular vectors; every frame feature f becomes
f - U Uᵀ f before `lr-ship` is fitted and applied (NAP: Solomonoff, Quillen and Campbell, ICASSP 2005). The LSTM expert
is unchanged. Out of fold, leave-one-family-out and cross-dataset (the product's folds), against `ens` in the same run.
"""
import argparse, json, sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.model import set_threads   # noqa: E402
from deepfake_detect.train import roc_auc   # noqa: E402


class NAP:
    "`lr-ship` on features with the top-k between-origin directions of the training reals projected out."
    def __init__(self, k): self.k = k
    def fit(self, F, y, groups):
        X, origin = F[..., :-1], F[:, 0, -1].astype(int)   # the last channel carries the clip's origin code
        real = (y == 0) & (origin >= 0)
        m, o = X[real].mean(1), origin[real]
        grand = m.mean(0)
        rows = [np.sqrt((o == c).sum()) * (m[o == c].mean(0) - grand) for c in np.unique(o) if (o == c).sum() >= 2]
        self.U = np.linalg.svd(np.stack(rows), full_matrices=False)[2][:self.k].T.astype(np.float32)   # (D, k)
        self.lr = th.LR().fit(self.project(X), y, groups)
        return self
    def project(self, X): return X - (X @ self.U) @ self.U.T
    def __call__(self, F): return self.lr(self.project(F[..., :-1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--features', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--crossdataset', default='runs/head-bf16/oof_crossdataset.csv', help='its fold and origin columns are used')
    ap.add_argument('--ks', type=int, nargs='+', default=[4, 16])
    a = ap.parse_args()
    set_threads(2)
    index = pd.read_csv(a.index)
    ix, X = th.load_features(index, a.features)
    xd = pd.read_csv(a.crossdataset)
    origin = ix.path.map(dict(zip(xd.path, xd.origin)))
    codes = pd.Series(pd.factorize(origin)[0])            # -1 where unknown
    ixs, at = th.cross_dataset_rows(ix, xd)
    fams = th.lofo_families(ix)
    make_lstm, sets, T = th.HEADS['lstm-ship']
    F = th.feats(X, ('ship_full',), 32)
    Fo = np.concatenate([F, np.broadcast_to(codes.values[:, None, None], (len(F), F.shape[1], 1)).astype(np.float32)], 2)
    ens, ens_lofo, scale = th.head_scores(ix, X, 'ens', fams)
    lstm, lstm_lofo, _ = th.head_scores(ix, X, 'lstm-ship', fams)
    xd_lstm = th.out_of_fold(ixs, F[at], make_lstm)
    xd_lr = th.out_of_fold(ixs, F[at], th.LR)
    rows = {}
    def add(name, s, by_family, s_xd):
        r = dict(th.report(ix, s, 200), lofo=th.lofo(ix, by_family, 200), cross_dataset_auc=roc_auc(ixs.label == 'fake', s_xd))
        rows[name] = r
        print(th.head_line(name, r) + f" | cross-dataset {r['cross_dataset_auc']:.3f}", flush=True)
    add('ens', ens, ens_lofo, xd_lstm / scale['lstm-ship'] + xd_lr / scale['lr-ship'])
    for k in a.ks:
        make = lambda: NAP(k)
        s = th.out_of_fold(ix, Fo, make)
        by = {f: th.out_of_fold(ix, Fo, make, drop=f) for f in fams}
        s_xd = th.out_of_fold(ixs, Fo[at], make)
        add(f'lr-nap{k}', s, by, s_xd)
        c = float(np.std(s))
        add(f'ens-nap{k}', lstm / scale['lstm-ship'] + s / c, {f: lstm_lofo[f] / scale['lstm-ship'] + by[f] / c for f in fams},
            xd_lstm / scale['lstm-ship'] + s_xd / c)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    json.dump({k: {m: v[m] for m in ('auc', 'pair_win', 'cross_dataset_auc', 'lofo')} for k, v in rows.items()},
              open(Path(a.out) / 'screen.json', 'w'), indent=1, default=float)


if __name__ == '__main__': main()
