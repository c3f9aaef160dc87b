"""Screen for PLAN.md amendment 22: the pooled expert with a pairwise ranking term on each fake and its own source.

    python research/generalise/pairrank.py --run runs/head-bf16 --features runs/features-bf16 --out runs/pairrank \
        --lstm runs/flicker/experts.npz

`lr-pairrank`: `lr-ship` (standardised mean and spread over time, C by inner group CV) fitted on the clip rows plus,
for every (fake, real) pair of chapter 05's `fake_pairs` inside the training fold, the standardised difference
fake − real (label 1) and real − fake (label 0), all pairs together weighing as much as all clips (a ranking logistic
regression, as RankNet's loss on a linear scorer). `ens-pairrank` mixes it with the LSTM expert's saved scores of the
same run (`research/generalise/flicker.py screen`'s experts.npz), each over the spread of its out-of-fold logits, as
shipped; against `ens` = the same LSTM scores with `lr-ship` refitted here. With `--mirror` (amendment 23):
`ens-pairrank-tta`, both experts scored as the mean of their logits on the original and the mirrored frames (a
`mirror.py cache` folder). Writes OUT/screen.json.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.train import fake_pairs, roc_auc   # noqa: E402

CS, LAMBDA = (0.001, 0.01, 0.1), 1.0


def pair_rows(codes, y):
    "(fake, real) positions of clips sharing a pair code (`codes`: float pair ids, NaN for none), as `fake_pairs`."
    import pandas as pd
    df = pd.DataFrame(dict(pair_group=[None if np.isnan(c) else str(int(c)) for c in codes],
                           label=np.where(y == 1, 'fake', 'real')))
    return np.array(fake_pairs(df), np.int64).reshape(-1, 2)


def fit_ranked(P, y, pairs, C):
    "Standardised logistic regression on clip rows P (N, D) and the ranking rows of `pairs`; returns (scaler, model)."
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    sc = StandardScaler().fit(P)
    Z = sc.transform(P)
    w = np.where(y == 1, len(y) / (2 * max(y.sum(), 1)), len(y) / (2 * max((1 - y).sum(), 1)))
    rows, labels, weights = [Z], [y], [w]
    if len(pairs):
        D = Z[pairs[:, 0]] - Z[pairs[:, 1]]
        pw = LAMBDA * len(y) / (2 * len(D))
        rows += [D, -D]; labels += [np.ones(len(D)), np.zeros(len(D))]; weights += [np.full(2 * len(D), pw)]
    m = LogisticRegression(C=C, max_iter=3000).fit(np.concatenate(rows), np.concatenate(labels),
                                                   sample_weight=np.concatenate(weights))
    return sc, m


class PairRankLR:
    "The pooled expert with the ranking term; its input's last feature column carries each clip's pair code."
    def fit(self, F, y, groups):
        from sklearn.model_selection import GroupKFold
        P, codes = th.pooled(F[..., :-1]), F[:, 0, -1]
        def inner(C):
            s = np.zeros(len(y))
            for tr, va in GroupKFold(3).split(P, y, groups):
                sc, m = fit_ranked(P[tr], y[tr], pair_rows(codes[tr], y[tr]), C)
                s[va] = m.decision_function(sc.transform(P[va]))
            return roc_auc(y, s)
        self.C = max(CS, key=inner)
        self.sc, self.m = fit_ranked(P, y, pair_rows(codes, y), self.C)
        return self
    def __call__(self, F): return self.m.decision_function(self.sc.transform(th.pooled(F[..., :-1])))


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for k in ('--run', '--features', '--out', '--lstm'): ap.add_argument(k, required=True)
    ap.add_argument('--mirror', help="amendment 23: a `mirror.py cache` folder; adds `ens-pairrank-tta`")
    a = ap.parse_args()
    sys.argv = [sys.argv[0], '--run', a.run, '--features', a.features, '--out', a.out]
    _, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    codes = ix.pair_group.astype('category').cat.codes.astype(float).where(ix.pair_group.notna()).values
    FP = np.concatenate([F, np.repeat(codes[:, None, None], F.shape[1], 1)], 2).astype(np.float32)
    z = np.load(a.lstm)
    lstm = (z['lstm/oof'], {f: z[f'lstm/lofo/{f}'] for f in fams}, z['lstm/xd'])
    E = {'lstm': lstm, 'lr': th.expert_scores(ix, ixs, F, at, th.LR, fams),
         'lr-pairrank': th.expert_scores(ix, ixs, FP, at, PairRankLR, fams)}
    if not np.allclose(E['lr'][0], z['lr/oof'], atol=1e-6):   # the saved scores carry no row ids: same rows, same order?
        raise SystemExit(f"{a.lstm}: saved from another run or row order (its lr-ship scores differ from this run's)")
    combos = [('ens', ('lstm', 'lr')), ('lr-pairrank', ('lr-pairrank',)), ('ens-pairrank', ('lstm', 'lr-pairrank'))]
    if a.mirror:   # amendment 23: each expert the mean of its logits on the original and the mirrored frames
        Fm = np.stack([np.load(Path(a.mirror) / f'{r}.npz')['ship_full'].astype(np.float32) for r in ix.row])
        FPm = np.concatenate([Fm, FP[..., -1:]], 2)
        def tta(G, Gm, make):
            o, by, x = th.expert_scores(ix, ixs, G, at, make, fams, also=Gm)
            return np.mean(o, 0), {f: np.mean(s, 0) for f, s in by.items()}, np.mean(x, 0)
        E['lstm-tta'], E['lr-pairrank-tta'] = tta(F, Fm, th.LSTM), tta(FP, FPm, PairRankLR)
        combos.append(('ens-pairrank-tta', ('lstm-tta', 'lr-pairrank-tta')))
    th.write_screen(a.out, th.screen_ensembles(combos, E, ix, ixs, y),
                    rules={'ens-pairrank-tta': dict(lofo_gain=0.005, need_both=True)})   # amendment 23's stricter rule


if __name__ == '__main__': main()
