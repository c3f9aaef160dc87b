"""Screen for PLAN.md amendment 18: transient evidence. `ens-max`: the pooled expert on the mean, spread and maximum
over time of the frame features; `ens+top8`: a third expert, the frame head read as the mean of a clip's 8 highest
frame logits (top-k pooling of multiple-instance learning).

    python research/generalise/transient.py --run runs/head-bf16 --features runs/features-bf16 --out runs/transient

Out of fold, leave-one-family-out and cross-dataset (the folds of RUN/oof_crossdataset.csv), each expert over the
spread of its out-of-fold logits, against `ens` in the same run; the verdict mix from `calibrate_verdicts` on each
candidate's out-of-fold scores. Writes OUT/screen.json.
"""
import json, sys
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


def experts(ix, ixs, F, at, make, fams):
    "(out-of-fold, {family: leave-one-family-out}, cross-dataset) scores of one expert."
    return (th.out_of_fold(ix, F, make), {f: th.out_of_fold(ix, F, make, drop=f) for f in fams},
            th.out_of_fold(ixs, F[at], make))


def main():
    a, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    E = {name: experts(ix, ixs, F, at, make, fams) for name, make in
         (('lstm', th.LSTM), ('lr', th.LR), ('lr-max', lambda: th.LR(pool=pooled_max)), ('top8', TopK))}
    res = {}
    for name, parts in (('ens', ('lstm', 'lr')), ('ens-max', ('lstm', 'lr-max')), ('ens+top8', ('lstm', 'lr', 'top8'))):
        scale = {p: float(np.std(E[p][0])) for p in parts}
        mix = lambda get: sum(get(p) / scale[p] for p in parts)
        res[name] = th.screen_row(name, ix, ixs, y, mix(lambda p: E[p][0]), {f: mix(lambda p: E[p][1][f]) for f in fams},
                                  mix(lambda p: E[p][2]))
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / 'screen.json').write_text(json.dumps(res, indent=1, default=float))
    th.judge(res)


if __name__ == '__main__': main()
