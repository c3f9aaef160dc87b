"""Screen for PLAN.md amendment 21: mirrored faces, as training copies for the heads and at test time.

    python research/generalise/mirror.py cache --run runs/head-bf16 --out runs/mirror
    python research/generalise/mirror.py screen --run runs/head-bf16 --features runs/features-bf16 --out runs/mirror

`cache`: the main track's 32 cached frames flipped left-right, through the shipped backbone under bf16 autocast
(the frames `ship_full` was computed from): OUT/<row>.npz with `ship_full` (32, 1280) fp16. `screen`: `ens` against
`ens-flipaug` (the mirrored clips added to every training fold), `ens-tta` (the mean of the logits on the original and
the mirrored frames) and `ens-flipaug-tta`, on the run's out-of-fold, leave-one-family-out and cross-dataset folds;
OUT/screen.json.
"""
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.data import load_record, normalize_clip, pick_frames   # noqa: E402
from deepfake_detect.model import autocast, load_default   # noqa: E402


def cache(run, out):
    net, cfg = load_default()
    def mirrored(r):
        tr = load_record(r.cache)['tracks'][0]
        crops = tr['crops'][pick_frames(len(tr['crops']), 32)].flip(-1)   # (T, 3, H, W): left-right
        with torch.inference_mode(), autocast('cpu'):
            f = net.backbone(normalize_clip(crops, cfg['mean'], cfg['std'])).float().numpy().astype(np.float16)
        return dict(ship_full=f, path=r.path)
    th.cache_clips(run, out, mirrored, 'mirror')


def screen(a):
    sys.argv = [sys.argv[0], '--run', a.run, '--features', a.features, '--out', a.out]
    _, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    Fm = np.stack([np.load(Path(a.out) / f'{r}.npz')['ship_full'].astype(np.float32) for r in ix.row])
    # each expert's scores as (original frames, mirrored frames); with augmentation every training fold also holds
    # its clips mirrored
    S = {(n, aug): th.expert_scores(ix, ixs, F, at, make, fams, extra=Fm if aug else None, also=Fm)
         for aug in (False, True) for n, make in (('lstm', th.LSTM), ('lr', th.LR))}
    as_read = lambda e, read: (read(e[0]), {f: read(s) for f, s in e[1].items()}, read(e[2]))
    E = {f'{n}{"-aug" if aug else ""}{"-tta" if tta else ""}': as_read(e, (lambda s: (s[0] + s[1]) / 2) if tta else (lambda s: s[0]))
         for (n, aug), e in S.items() for tta in (False, True)}
    th.write_screen(a.out, th.screen_ensembles((('ens', ('lstm', 'lr')), ('ens-flipaug', ('lstm-aug', 'lr-aug')),
                                                 ('ens-tta', ('lstm-tta', 'lr-tta')),
                                                 ('ens-flipaug-tta', ('lstm-aug-tta', 'lr-aug-tta'))), E, ix, ixs, y))


if __name__ == '__main__': th.cache_or_screen(__doc__, cache, screen)
