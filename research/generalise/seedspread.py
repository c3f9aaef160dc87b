"""PLAN.md amendment 25b: how far the shipped recipe's numbers move with the LSTM expert's seed alone, on one run.

    python research/generalise/seedspread.py --run runs/head-bf16 --features runs/features-bf16 --out runs/seedspread

For seeds 0-4 of the LSTM expert (the shipped recipe's `LSTM`, otherwise unchanged) and the shipped pooled expert
(`lr-ship`, no seed): out-of-fold scores on the run's group folds and its cross-dataset folds; `ens` of each seed
mixed as shipped (each expert over the spread of its out-of-fold logits). Prints and writes OUT/seeds.json: per seed,
the LSTM's and `ens`'s AUC out of fold and on unseen origins, paired win rate, and `ens`'s verdict mix
(`calibrate_verdicts` on its own out-of-fold scores). Descriptive only: nothing is selected from it.
"""
import json, sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402

SEEDS = (0, 1, 2, 3, 4)


def main():
    a, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    ys = (ixs.label == 'fake').values
    lr, lr_xd = th.out_of_fold(ix, F, th.LR), th.out_of_fold(ixs, F[at], th.LR)
    res = dict(lr=dict(auc=th.roc_auc(y, lr), cross_dataset_auc=th.roc_auc(ys, lr_xd)))
    for s in SEEDS:
        make = lambda: th.LSTM(seed=s)
        ls, ls_xd = th.out_of_fold(ix, F, make), th.out_of_fold(ixs, F[at], make)
        c1, c2 = float(np.std(ls)), float(np.std(lr))
        ens, ens_xd = ls / c1 + lr / c2, ls_xd / c1 + lr_xd / c2
        rep = th.report(ix, ens, 200)
        res[f'seed{s}'] = dict(lstm_auc=th.roc_auc(y, ls), lstm_cross_dataset_auc=th.roc_auc(ys, ls_xd),
                               auc=rep['auc'], auc_ci=rep['auc_ci'], pair_win=rep['pair_win'],
                               cross_dataset_auc=th.roc_auc(ys, ens_xd),
                               verdict_mix=th.calibrate_verdicts(y, ens)['verdict_mix'])
        r = res[f'seed{s}']
        print(f"seed {s}: lstm {r['lstm_auc']:.3f} / unseen origins {r['lstm_cross_dataset_auc']:.3f} | ens {r['auc']:.3f} "
              f"pair {r['pair_win']:.2f} / unseen origins {r['cross_dataset_auc']:.3f} | reals REAL "
              f"{r['verdict_mix']['real']['REAL']:.0%}, fakes FAKE {r['verdict_mix']['fake']['FAKE']:.0%}", flush=True)
    for k in ('lstm_auc', 'auc', 'cross_dataset_auc'):
        v = [res[f'seed{s}'][k] for s in SEEDS]
        print(f"{k}: min {min(v):.3f} median {np.median(v):.3f} max {max(v):.3f}", flush=True)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / 'seeds.json').write_text(json.dumps(res, indent=1, default=float))


if __name__ == '__main__': main()
