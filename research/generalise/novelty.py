"""Screen for PLAN.md amendment 16: does the distance of a video to the training videos, in the pooled expert's
feature space, predict where the detector is wrong on origins it never saw?

    python research/generalise/novelty.py --run runs/head-bf16 --features runs/features-bf16 --out runs/novelty

Novelty (deep nearest neighbours: Sun, Ming, Zhu and Li, "Out-of-distribution detection with deep nearest
neighbors", ICML 2022): a clip's mean and standard deviation over its 32 frame features (the pooled expert's input,
2560 numbers), standardised by the training clips, projected on their top 64 principal directions, L2-normalised;
novelty = distance to the 5th nearest training clip. Fitted on each fold's training clips only, for the cross-dataset
folds (RUN/oof_crossdataset.csv, judged) and the group-held-out folds (RUN/oof.csv, reported). An error is a clip on
the wrong side of the run's threshold (RUN/model.json; the uncertain band ignored). Writes OUT/screen.json and
OUT/novelty.csv (per clip: protocol, novelty, error).
"""
import argparse, json, sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.evaluate import group_bootstrap   # noqa: E402
from deepfake_detect.model import sigmoid   # noqa: E402
from deepfake_detect.train import roc_auc   # noqa: E402

DIMS, K, TOP = 64, 5, 0.2   # fixed in the amendment


def pooled(F):
    "(N, T, D) frame features → (N, 2D) float64: mean and standard deviation over time (the pooled expert's input)."
    return np.concatenate([F.mean(1), F.std(1)], 1).astype(np.float64)


class Novelty:
    "Distance to the K-th nearest training clip in a standardised, PCA-projected, L2-normalised space."
    def fit(self, P):
        self.mu, self.sd = P.mean(0), P.std(0) + 1e-6
        Z = (P - self.mu) / self.sd
        self.basis = np.linalg.svd(Z, full_matrices=False)[2][:DIMS].T     # (2D, DIMS)
        self.ref = self.embed(P)
        return self

    def embed(self, P):
        E = ((P - self.mu) / self.sd) @ self.basis
        return E / np.linalg.norm(E, axis=1, keepdims=True)

    def __call__(self, P):
        d = np.linalg.norm(self.embed(P)[:, None] - self.ref[None], axis=2)
        return np.sort(d, axis=1)[:, K - 1]


def novelty_out_of_fold(P, folds):
    "Each clip's novelty against the clips of the other folds."
    out = np.full(len(P), np.nan)
    for k in np.unique(folds):
        te = folds == k
        out[te] = Novelty().fit(P[~te])(P[te])
    return out


def judge(df, name):
    "The amendment's two numbers (and a few for reading) for one protocol's per-clip frame `df`."
    auroc = roc_auc(df.error.values, df.novelty.values)
    lo, hi = group_bootstrap(lambda d: roc_auc(d.error.values, d.novelty.values), df, 'origin', n=1000)
    top = df.novelty >= df.novelty.quantile(1 - TOP)
    acc_top, acc_rest = 1 - df.error[top].mean(), 1 - df.error[~top].mean()
    y = (df.label == 'fake').values
    auc_all, auc_rest = roc_auc(y, df.logit.values), roc_auc(y[~top.values], df.logit.values[~top.values])
    r = dict(protocol=name, n=len(df), errors=int(df.error.sum()), auroc_error=auroc, auroc_ci=[lo, hi],
             acc_most_novel=acc_top, acc_rest=acc_rest, gap=acc_rest - acc_top, detection_auc_all=auc_all,
             detection_auc_least_novel=auc_rest,
             passes=bool(auroc >= 0.65 and lo > 0.55 and acc_rest - acc_top >= 0.10))
    print(f"{name}: n {r['n']}, errors {r['errors']} | novelty→error AUROC {auroc:.3f} [{lo:.2f}, {hi:.2f}] | accuracy "
          f"{acc_top:.2f} on the {TOP:.0%} most novel, {acc_rest:.2f} on the rest (gap {r['gap']:+.2f}) | detection AUC "
          f"{auc_all:.3f} all, {auc_rest:.3f} without the most novel | rule {'met' if r['passes'] else 'not met'}", flush=True)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--run', required=True, help="a scripts/train_head.py output folder (index.csv, oof.csv, "
                    "oof_crossdataset.csv, model.json)")
    ap.add_argument('--features', required=True); ap.add_argument('--out', required=True)
    a = ap.parse_args()
    run = Path(a.run)
    ix, X = th.load_features(pd.read_csv(run / 'index.csv'), a.features)
    P = pooled(th.feats(X, ('ship_full',), 32))
    at = pd.Series(np.arange(len(ix)), index=ix.path)
    cfg = json.loads((run / 'model.json').read_text())
    rows, res = [], {}
    for name, csv in (('cross-dataset', 'oof_crossdataset.csv'), ('group-held-out', 'oof.csv')):
        df = pd.read_csv(run / csv)
        df = df[df.path.isin(at.index)].reset_index(drop=True)
        if 'origin' not in df: df['origin'] = df.path.map(pd.read_csv(run / 'oof_crossdataset.csv').set_index('path').origin)
        p = sigmoid(df.logit.values / cfg['temperature'])
        df['error'] = ((p >= cfg['threshold']) != (df.label == 'fake').values).astype(int)
        df['novelty'] = novelty_out_of_fold(P[at[df.path].values], df.fold.values)
        res[name] = judge(df, name)
        rows.append(df.assign(protocol=name)[['protocol', 'path', 'label', 'origin', 'fold', 'logit', 'error', 'novelty']])
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / 'screen.json').write_text(json.dumps(res, indent=1, default=float))
    pd.concat(rows).to_csv(out / 'novelty.csv', index=False)


if __name__ == '__main__': main()
