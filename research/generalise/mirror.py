"""Screen for PLAN.md amendment 21: mirrored faces, as training copies for the heads and at test time.

    python research/generalise/mirror.py cache --run runs/head-bf16 --out runs/mirror
    python research/generalise/mirror.py screen --run runs/head-bf16 --features runs/features-bf16 --out runs/mirror

`cache`: the main track's 32 cached frames flipped left-right, through the shipped backbone under bf16 autocast
(the frames `ship_full` was computed from): OUT/<row>.npz with `ship_full` (32, 1280) fp16. `screen`: `ens` against
`ens-flipaug` (the mirrored clips added to every training fold), `ens-tta` (the mean of the logits on the original and
the mirrored frames) and `ens-flipaug-tta`, on the run's out-of-fold, leave-one-family-out and cross-dataset folds;
OUT/screen.json.
"""
import json, sys, time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.data import load_record, normalize_clip, pick_frames   # noqa: E402
from deepfake_detect.model import autocast, load_default, set_threads   # noqa: E402


def cache(run, out):
    net, cfg = load_default()
    ix = pd.read_csv(Path(run) / 'index.csv')
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    t0, done = time.time(), 0
    for r in ix[ix.status == 'ok'].itertuples():
        dst = out / f'{r.row}.npz'
        if dst.exists(): continue
        tr = load_record(r.cache)['tracks'][0]
        crops = tr['crops'][pick_frames(len(tr['crops']), 32)].flip(-1)   # (T, 3, H, W): left-right
        with torch.inference_mode(), autocast('cpu'):
            f = net.backbone(normalize_clip(crops, cfg['mean'], cfg['std'])).float().numpy().astype(np.float16)
        np.savez(out / f'{r.row}.part.npz', ship_full=f, path=r.path)
        (out / f'{r.row}.part.npz').replace(dst)
        done += 1
        if done % 100 == 0: print(f"mirror: {done} clips, {(time.time() - t0) / done:.2f} s/clip", flush=True)


def expert(ix, ixs, F, Fm, at, make, fams, augment):
    """(out-of-fold, {family: leave-one-family-out}, cross-dataset) scores of one expert, each as (original frames,
    mirrored frames); with `augment`, every training fold also holds its clips mirrored."""
    run = lambda ix_, F_, Fm_, drop=None: th.out_of_fold(ix_, F_, make, drop=drop, extra=Fm_ if augment else None, also=Fm_)
    return run(ix, F, Fm), {f: run(ix, F, Fm, f) for f in fams}, run(ixs, F[at], Fm[at])


def screen(a):
    sys.argv = [sys.argv[0], '--run', a.run, '--features', a.features, '--out', a.out]
    _, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    Fm = np.stack([np.load(Path(a.out) / f'{r}.npz')['ship_full'].astype(np.float32) for r in ix.row])
    E = {(n, aug): expert(ix, ixs, F, Fm, at, make, fams, aug)
         for aug in (False, True) for n, make in (('lstm', th.LSTM), ('lr', th.LR))}
    res = {}
    for name, aug, tta in (('ens', False, False), ('ens-flipaug', True, False), ('ens-tta', False, True),
                           ('ens-flipaug-tta', True, True)):
        read = (lambda s: (s[0] + s[1]) / 2) if tta else (lambda s: s[0])
        oof = {n: read(E[n, aug][0]) for n in ('lstm', 'lr')}
        scale = {n: float(np.std(oof[n])) for n in oof}
        mix = lambda get: sum(get(n) / scale[n] for n in oof)
        res[name] = th.screen_row(name, ix, ixs, y, mix(lambda n: oof[n]),
                                  {f: mix(lambda n: read(E[n, aug][1][f])) for f in fams}, mix(lambda n: read(E[n, aug][2])))
    (Path(a.out) / 'screen.json').write_text(json.dumps(res, indent=1, default=float))
    th.judge(res)


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('step', choices=('cache', 'screen')); ap.add_argument('--run', required=True)
    ap.add_argument('--features'); ap.add_argument('--out', required=True)
    a = ap.parse_args()
    if a.step == 'screen' and not a.features: ap.error('screen needs --features')
    if a.step == 'cache':
        set_threads(2)
        cache(a.run, a.out)
    else: screen(a)


if __name__ == '__main__': main()
