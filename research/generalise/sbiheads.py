"""Screen for PLAN.md amendment 30: self-blends (SBI, Shiohara & Yamasaki, CVPR 2022) in the heads, mixed into the
genuine-fake experts' training folds (`ens+sbi`) or as a third expert of their own (`ens+lr-sbi`; ProDet, NeurIPS
2024, reports that mixing blends with genuine fakes hurts).

    python research/generalise/sbiheads.py cache --run runs/head-bf16 --out runs/sbiheads
    python research/generalise/sbiheads.py screen --run runs/head-bf16 --features runs/features-bf16 --out runs/sbiheads

`cache`: for every real clip of the run, track 0: the 32 cached crops the run's features were made from, one
`self_blend_clip` of them (chapter 03; lower face only with probability 0.5, seeded by the clip's row) and the shipped
backbone's features of the blend under bf16 autocast, as `ship_full` is made (`sbi`, (32, 1280) float16), with the
clip's `path` (every 25th row also `orig`, its unblended features, checked against the run's); fakes get the path only. `screen`: `ens`, `ens+sbi`, `lr-sbi` and `ens+lr-sbi` out of fold, without each family and over the
run's cross-dataset folds, read on the backbone-unseen clips (all clips beside); OUT/screen.json and OUT/experts.npz.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from unseen import RULE_29, judge_unseen, screen_unseen_and_all   # noqa: E402   amendment 30 keeps 29's rule
from deepfake_detect.blend import self_blend_clip   # noqa: E402
from deepfake_detect.model import load_default   # noqa: E402

FRAMES = 32


# ---------------------------------------------------------------- cache
def blend_features(ship, cfg):
    "compute(row) for `th.cache_clips`: {'sbi': (32, 1280) float16, 'path'} of a real clip's self-blend, {'path'} for a fake."
    def features(crops): return th.backbone_features(ship.backbone, crops, cfg, bf16=True)

    def compute(r):
        if r.label != 'real': return {'path': r.path}
        crops, lms = th.clip_frames(r.cache, FRAMES)   # the frames `clip_features` reads, so each blend matches its real
        hwc, _ = self_blend_clip(crops.permute(0, 2, 3, 1).numpy(), lms, np.random.default_rng([30, int(r.row)]), p_mouth=0.5)
        out = {'path': r.path, 'sbi': features(torch.from_numpy(hwc).permute(0, 3, 1, 2))}
        # every 25th row also keeps its unblended features: the screen checks them against the run's `ship_full`, so
        # a blend and its real went through the same pipeline (no shortcut for `lr-sbi`)
        if int(r.row) % 25 == 0: out['orig'] = features(crops)
        return out
    return compute


def cache(run, out):
    ship, cfg = load_default()
    th.cache_clips(run, out, blend_features(ship.eval(), cfg), 'blends')


# ---------------------------------------------------------------- screen
def blends_of(ix, X, out):
    """(S (N, 32, 1280) float32, zeros where a clip has no blend; has (N,) bool: the real clips whose blend is cached).
    Raises SystemExit when a cached file belongs to another clip, when the unblended features kept for the check
    differ from the run's `ship_full` (X), or when fewer than 95 % of the real clips have a blend."""
    S, has, checked = np.zeros((len(ix), FRAMES, 1280), np.float32), np.zeros(len(ix), bool), 0
    for i, (row, path) in enumerate(zip(ix.row.values, ix.path.astype(str).values)):
        f = Path(out) / f'{row}.npz'
        if not f.exists(): continue
        with np.load(f) as z:
            if str(z['path']) != path: raise SystemExit(f"{f}: made for {z['path']}, not {path}: rebuild the cache")
            if 'sbi' in z: S[i], has[i] = z['sbi'].astype(np.float32), True
            if 'orig' in z:
                gap = float(np.abs(z['orig'].astype(np.float32) - X['ship_full'][i]).max())
                if gap > 0.05: raise SystemExit(f"{f}: unblended features differ from the run's by {gap:.3f}: not one pipeline")
                checked += 1
    reals = int((ix.label == 'real').sum())
    if has.sum() < 0.95 * reals: raise SystemExit(f"only {has.sum()} of {reals} real clips have a blend in {out}: run `cache` first")
    print(f"blends: {has.sum()} of {reals} real clips; {checked} unblended copies equal the run's features", flush=True)
    return S, has


def out_of_fold_with(ix, F, S, has, make, drop=None, genuine=True):
    """Out-of-fold scores of every clip of `ix` (features F) from a head trained on the other folds with each training
    real's self-blend (S, where `has`) added as a fake in its real's group; without the fakes of family `drop`; without
    `genuine`, on the training reals and their blends only."""
    y, g = (ix.label == 'fake').values.astype(int), ix.split_group.values
    s = np.full(len(ix), np.nan)
    for k in sorted(ix.fold.unique()):
        tr = (ix.fold != k).values
        if drop: tr = tr & (ix.family != drop).values
        if not genuine: tr = tr & (y == 0) & has   # reals against their own blends
        b = tr & has
        head = make().fit(np.concatenate([F[tr], S[b]]), np.r_[y[tr], np.ones(b.sum(), int)], np.r_[g[tr], g[b]])
        s[(ix.fold == k).values] = head(F[(ix.fold == k).values])
    return s


def scores_with(ix, ixs, at, F, S, has, make, fams, genuine=True):
    "`th.expert_scores`' triple for a head trained with the blends (the same for every family without `genuine`)."
    run = lambda d, Fx, Sx, hx, drop=None: out_of_fold_with(d, Fx, Sx, hx, make, drop, genuine)
    oof = run(ix, F, S, has)
    lofo = {f: (oof if not genuine else run(ix, F, S, has, f)) for f in fams}
    return oof, lofo, run(ixs, F[at], S[at], has[at])


def screen(a):
    sys.argv = [sys.argv[0], '--run', a.run, '--features', a.features, '--out', a.out]
    _, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    S, has = blends_of(ix, X, a.out)
    E = {'lstm': th.expert_scores(ix, ixs, F, at, th.LSTM, fams), 'lr': th.expert_scores(ix, ixs, F, at, th.LR, fams),
         'lstm+sbi': scores_with(ix, ixs, at, F, S, has, th.LSTM, fams),
         'lr+sbi': scores_with(ix, ixs, at, F, S, has, th.LR, fams),
         'lr-sbi': scores_with(ix, ixs, at, F, S, has, th.LR, fams, genuine=False)}
    th.save_experts(a.out, E)
    combos = (('ens', ('lstm', 'lr')), ('ens+sbi', ('lstm+sbi', 'lr+sbi')), ('lr-sbi', ('lr-sbi',)),
              ('ens+lr-sbi', ('lstm', 'lr', 'lr-sbi')))
    unseen, pooled = screen_unseen_and_all(combos, E, ix, ixs, y)
    taken, verdicts = judge_unseen(unseen, ('ens+sbi', 'ens+lr-sbi'), 30)
    res = {'blends': int(has.sum()), 'unseen': unseen, 'all': pooled, 'rule': RULE_29, 'taken': taken, 'verdicts': verdicts}
    (Path(a.out) / 'screen.json').write_text(json.dumps(res, indent=1, default=float))


if __name__ == '__main__': th.cache_or_screen(__doc__, cache, screen)
