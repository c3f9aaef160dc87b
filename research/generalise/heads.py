"""Heads on frozen features, judged out-of-fold (group-held-out) and leave-one-family-out (issue 21, PLAN.md).

    python research/generalise/heads.py --index runs/shared_index.csv --features runs/features --out runs/heads [--lofo]

Prints one table row per head: out-of-fold AUC [95 % CI], paired win rate, per-family AUC, and with --lofo the
leave-one-family-out AUC of every family with >= 15 clips. Writes OUT/oof_<head>.csv (out-of-fold logits) and
OUT/results.json.
"""
import argparse, json, time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from deepfake_detect.data import assign_folds, family_of
from deepfake_detect.train import roc_auc, paired_win_rate
from deepfake_detect.evaluate import group_bootstrap

SETS = ('ship_full', 'ship_mouth', 'img_full', 'img_mouth')


def load(index, features):
    "(index of clips with features, {set: (N, T, F) float32})."
    ix = pd.read_csv(index)
    ix = ix[ix.status == 'ok'].copy()
    ix['row'] = ix.index
    ix = ix[[(Path(features) / f'{r}.npz').exists() for r in ix.row]].reset_index(drop=True)
    X = {s: [] for s in SETS}
    for r in ix.row:
        z = np.load(Path(features) / f'{r}.npz')
        for s in SETS: X[s].append(z[s].astype(np.float32))
    ix = assign_folds(ix, 5, seed=0)
    ix['family'] = [family_of(m, l) for m, l in zip(ix.method, ix.label)]
    return ix, {s: np.stack(v) for s, v in X.items()}


def pooled(F): return np.concatenate([F.mean(1), F.std(1)], 1)


class LR:
    "Standardised logistic regression on time-pooled features; C picked by inner group 3-fold CV on AUC."
    def __init__(self, Cs=(0.001, 0.01, 0.1)): self.Cs = Cs
    def fit(self, F, y, groups):
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GroupKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        X = pooled(F)
        make = lambda C: make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, class_weight='balanced'))
        def inner(C):
            s = np.zeros(len(y))
            for tr, va in GroupKFold(3).split(X, y, groups): s[va] = make(C).fit(X[tr], y[tr]).decision_function(X[va])
            return roc_auc(y, s)
        self.C = max(self.Cs, key=inner) if len(self.Cs) > 1 else self.Cs[0]
        self.m = make(self.C).fit(X, y)
        return self
    def __call__(self, F): return self.m.decision_function(pooled(F))


class LSTMHead(nn.Module):
    "The product's temporal head: 2-layer LSTM over frame features, mean over time, dropout, linear (chapter 04)."
    def __init__(self, F, hidden=256, layers=2, dropout=0.3):
        super().__init__()
        self.lstm = nn.LSTM(F, hidden, layers, batch_first=True, dropout=dropout)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, 1))
    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out.mean(1)).squeeze(-1)


class LSTM:
    "Train an LSTMHead on frame features (N, T, F): AdamW, balanced BCE, random time windows of 8-16 frames."
    def __init__(self, epochs=15, lr=1e-3, seed=0, window=(8, 16)): self.epochs, self.lr, self.seed, self.window = epochs, lr, seed, window
    def fit(self, F, y, groups=None):
        torch.manual_seed(self.seed)
        g = torch.Generator().manual_seed(self.seed)
        X, Y = torch.from_numpy(F), torch.from_numpy(y.astype(np.float32))
        self.net = LSTMHead(F.shape[-1])
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=1e-2)
        pos = torch.tensor((len(y) - y.sum()) / max(y.sum(), 1), dtype=torch.float32)
        steps = self.epochs * int(np.ceil(len(y) / 32))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, self.lr, total_steps=steps)
        self.net.train()
        for _ in range(self.epochs):
            for b in torch.randperm(len(y), generator=g).split(32):
                T = X.shape[1]
                L = int(torch.randint(self.window[0], min(self.window[1], T) + 1, (1,), generator=g))
                s = int(torch.randint(0, T - L + 1, (1,), generator=g))
                x = X[b, s:s + L] + 0.05 * torch.randn(len(b), L, X.shape[2], generator=g) * X[b, s:s + L].std()
                loss = nn.functional.binary_cross_entropy_with_logits(self.net(x), Y[b], pos_weight=pos)
                opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        self.net.eval()
        return self
    def __call__(self, F):
        with torch.inference_mode(): return self.net(torch.from_numpy(F)).numpy()


HEADS = {
    'probe': (lambda: LR(Cs=(1.0,)), ('ship_full',), 16),
    'lr-ship': (LR, ('ship_full',), 32),
    'lr-img': (LR, ('img_full',), 32),
    'lr-ship+mouth': (LR, ('ship_full', 'ship_mouth'), 32),
    'lr-all': (LR, SETS, 32),
    'lstm-ship': (LSTM, ('ship_full',), 32),
    'lstm-img': (LSTM, ('img_full',), 32),
    'lstm-ship+mouth': (LSTM, ('ship_full', 'ship_mouth'), 32),
}


def feats(X, sets, T):
    F = np.concatenate([X[s] for s in sets], -1)
    return F[:, ::F.shape[1] // T][:, :T] if T < F.shape[1] else F


def out_of_fold(ix, F, make, drop=None):
    "Logits of every clip from a head trained on the other folds (without the fakes of family `drop`)."
    y, s = (ix.label == 'fake').values.astype(int), np.full(len(ix), np.nan)
    for k in sorted(ix.fold.unique()):
        tr = (ix.fold != k).values
        if drop: tr &= (ix.family != drop).values
        te = (ix.fold == k).values
        s[te] = make().fit(F[tr], y[tr], ix.split_group.values[tr])(F[te])
    return s


def report(ix, s):
    df = ix.assign(p_fake=s)
    auc = roc_auc(df.label == 'fake', s)
    lo, hi = group_bootstrap(lambda d: roc_auc(d.label == 'fake', d.p_fake), df, n=300)
    fams = {f: roc_auc(df[(df.family == f) | (df.label == 'real')].label == 'fake', df[(df.family == f) | (df.label == 'real')].p_fake)
            for f in sorted(df.family.unique()) if f not in ('real', 'unknown')}
    return dict(auc=auc, auc_ci=[lo, hi], pair=paired_win_rate(ix, s), families=fams)


def lofo(ix, F, make, min_clips=15):
    "Leave-one-family-out AUC per family: fakes of the family (never in training) against held-out reals."
    out = {}
    for fam, n in ix[ix.label == 'fake'].family.value_counts().items():
        if fam == 'unknown' or n < min_clips: continue
        s = out_of_fold(ix, F, make, drop=fam)
        keep = ((ix.family == fam) | (ix.label == 'real')).values
        out[fam] = roc_auc(ix.label[keep] == 'fake', s[keep])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--features', required=True)
    ap.add_argument('--out', required=True); ap.add_argument('--heads', nargs='*', default=list(HEADS))
    ap.add_argument('--lofo', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(2)
    ix, X = load(a.index, a.features)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    print(f"{len(ix)} clips ({(ix.label == 'fake').sum()} fake); families: {ix[ix.label == 'fake'].family.value_counts().to_dict()}")
    res = json.loads((out / 'results.json').read_text()) if (out / 'results.json').exists() else {}
    for name in a.heads:
        make, sets, T = HEADS[name]
        F, t0 = feats(X, sets, T), time.time()
        s = out_of_fold(ix, F, make)
        ix.assign(logit=s)[['path', 'label', 'method', 'family', 'fold', 'split_group', 'logit']].to_csv(out / f'oof_{name}.csv', index=False)
        r = report(ix, s)
        if a.lofo: r['lofo'] = lofo(ix, F, make); r['lofo_mean'] = float(np.mean(list(r['lofo'].values())))
        res[name] = r
        fam = ' '.join(f"{k[:8]} {v:.2f}" for k, v in r['families'].items())
        lf = (' | LOFO ' + ' '.join(f"{k[:8]} {v:.2f}" for k, v in r['lofo'].items()) + f" mean {r['lofo_mean']:.3f}") if a.lofo else ''
        print(f"{name:16} AUC {r['auc']:.3f} [{r['auc_ci'][0]:.2f}, {r['auc_ci'][1]:.2f}] pair {r['pair']:.2f} | {fam}{lf} "
              f"({time.time() - t0:.0f} s)", flush=True)
        (out / 'results.json').write_text(json.dumps(res, indent=1))


if __name__ == '__main__': main()
