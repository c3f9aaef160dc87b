"""Screen for PLAN.md amendment 17: the LSTM expert of `ens` scored on the windows it was trained on (16 frames), and
averaged over three seeds.

    python research/generalise/lstmvar.py --run runs/head-bf16 --features runs/features-bf16 --out runs/lstmvar

One fit of three LSTMs (seeds 0, 1, 2; the shipped recipe's `LSTM`) per training set gives all four readouts of the
LSTM expert: seed 0 on all 32 frames (= the shipped `ens`), seed 0 over 5 windows of 16 frames (starts 0, 4, 8, 12,
16), the mean of the three seeds on all 32, and on the windows. Each is mixed with the shipped pooled expert
(`lr-ship`), each over the spread of its out-of-fold logits. Out of fold, leave-one-family-out, and cross-dataset
(the folds of RUN/oof_crossdataset.csv); the verdict mix of each from `calibrate_verdicts` on its out-of-fold scores.
Writes OUT/screen.json.
"""
import json, sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402

SEEDS, WIN, STARTS = (0, 1, 2), 16, (0, 4, 8, 12, 16)
READOUTS = ('ens', 'ens-win', 'ens-3seed', 'ens-3seed-win')   # column j of SeedsWindows' output


class SeedsWindows:
    "Three LSTMs (SEEDS); scores (N, 4): seed 0 whole, seed 0 windowed, mean of seeds whole, mean of seeds windowed."
    def fit(self, F, y, groups=None):
        self.heads = [th.LSTM(seed=s).fit(F, y, groups) for s in SEEDS]
        return self

    def __call__(self, F):
        whole = np.stack([h(F) for h in self.heads])                                          # (3, N)
        win = np.stack([np.mean([h(F[:, s:s + WIN]) for s in STARTS], 0) for h in self.heads])  # (3, N)
        return np.stack([whole[0], win[0], whole.mean(0), win.mean(0)], 1)


def main():
    a, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    lr = th.out_of_fold(ix, F, th.LR)
    lr_lofo = {f: th.out_of_fold(ix, F, th.LR, drop=f) for f in fams}
    lr_xd = th.out_of_fold(ixs, F[at], th.LR)
    ls = th.out_of_fold(ix, F, SeedsWindows)
    ls_lofo = {f: th.out_of_fold(ix, F, SeedsWindows, drop=f) for f in fams}
    ls_xd = th.out_of_fold(ixs, F[at], SeedsWindows)
    res = {}
    for j, name in enumerate(READOUTS):
        c1, c2 = float(np.std(ls[:, j])), float(np.std(lr))
        mix = lambda a_, b_: a_ / c1 + b_ / c2
        res[name] = th.screen_row(name, ix, ixs, y, mix(ls[:, j], lr), {f: mix(ls_lofo[f][:, j], lr_lofo[f]) for f in fams},
                                  mix(ls_xd[:, j], lr_xd))
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / 'screen.json').write_text(json.dumps(res, indent=1, default=float))
    th.judge(res)


if __name__ == '__main__': main()
