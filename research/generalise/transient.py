"""Screen for PLAN.md amendment 18: transient evidence. `ens-max`: the pooled expert on the mean, spread and maximum
over time of the frame features; `ens+top8`: a third expert, the frame head read as the mean of a clip's 8 highest
frame logits (top-k pooling of multiple-instance learning).

    python research/generalise/transient.py --run runs/head-bf16 --features runs/features-bf16 --out runs/transient

Out of fold, leave-one-family-out and cross-dataset (the folds of RUN/oof_crossdataset.csv), each expert over the
spread of its out-of-fold logits, against `ens` in the same run; the verdict mix from `calibrate_verdicts` on each
candidate's out-of-fold scores. Writes OUT/screen.json.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402

TOP = 8


def pooled_max(F):
    "(N, T, D) → (N, 3D): mean, standard deviation and maximum over time."
    return np.concatenate([th.pooled(F), F.max(1)], 1)


class TopK:
    "The shipped recipe's frame head, a clip read as the mean of its TOP highest frame logits."
    def fit(self, F, y, groups=None):
        self.frame = th.FrameLR().fit(F, y, groups)
        return self

    def __call__(self, F): return np.sort(self.frame(F), 1)[:, -TOP:].mean(1)


def main():
    a, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    E = {name: th.expert_scores(ix, ixs, F, at, make, fams) for name, make in
         (('lstm', th.LSTM), ('lr', th.LR), ('lr-max', lambda: th.LR(pool=pooled_max)), ('top8', TopK))}
    th.write_screen(a.out, th.screen_ensembles((('ens', ('lstm', 'lr')), ('ens-max', ('lstm', 'lr-max')),
                                                 ('ens+top8', ('lstm', 'lr', 'top8'))), E, ix, ixs, y))


if __name__ == '__main__': main()
