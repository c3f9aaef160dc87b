"""Screen for PLAN.md amendment 19: flicker, the change of the frame features between *adjacent* frames (40 ms apart),
where generators that render each frame on their own jitter and a camera shows almost nothing moving.

    python research/generalise/flicker.py cache --run runs/head-bf16 --out runs/flicker
    python research/generalise/flicker.py screen --run runs/head-bf16 --features runs/features-bf16 --out runs/flicker

`cache`: for every second of the main track's 32 cached frames, that frame and the file's next one (the previous one
at the end), both cut with the cached box by chapter 01's `crop_face` and passed through the shipped backbone under
bf16 autocast; OUT/<row>.npz with `now`, `next` (16, 1280) fp16 and `recut_error` (mean absolute difference of the
re-cut frames from the cached crops, grey levels). `screen`: `ens` against `ens-flicker` (its pooled expert also reads
the mean over pairs of |f(t+1) - f(t)|) and `lr-flicker-only`, on the run's out-of-fold, leave-one-family-out and
cross-dataset folds, and `ens+flicker` (amendment 20: the flicker-only regression as a third expert); OUT/screen.json
and each expert's scores in OUT/experts.npz.
"""
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.data import load_record, normalize_clip, pick_frames   # noqa: E402
from deepfake_detect.faces import crop_face   # noqa: E402
from deepfake_detect.model import autocast, load_default   # noqa: E402
from deepfake_detect.video import read_frames_at   # noqa: E402

PAIRS, MAX_RECUT_ERROR = 16, 2.0


def neighbours(path, idx, n_frames):
    "{frame index: RGB frame} for `idx` and each one's next frame (the previous one where there is no next)."
    want = set(idx) | {i + 1 if i + 1 < n_frames else i - 1 for i in idx}
    got = {}
    read_frames_at(path, sorted(want), lambda i, f: got.__setitem__(i, f))
    for i in idx:   # a frame count that overstates the file: fall back to the previous frame
        if i + 1 not in got and i - 1 not in got and i - 1 >= 0: read_frames_at(path, [i - 1], lambda j, f: got.__setitem__(j, f))
    return got


def clip_pairs(r, net, cfg):
    "(now, next) features (PAIRS, 1280) float16 and the re-cut error of one clip of the run's index."
    tr = load_record(r.cache)['tracks'][0]
    pos = pick_frames(len(tr['crops']), 32)[::2]
    idx = [int(tr['frame_indices'][p]) for p in pos]
    frames = neighbours(r.path, idx, 1 << 30)
    now, nxt, err = [], [], []
    for p, i in zip(pos, idx):
        j = i + 1 if i + 1 in frames else i - 1
        box, cached = tr['boxes'][p].numpy(), tr['crops'][p].permute(1, 2, 0).numpy()
        a, _ = crop_face(frames[i], box)
        b, _ = crop_face(frames[j], box)
        err.append(np.abs(a.astype(np.float32) - cached).mean())
        now.append(a); nxt.append(b)
    x = torch.from_numpy(np.stack(now + nxt)).permute(0, 3, 1, 2)
    with torch.inference_mode(), autocast('cpu'):
        f = net.backbone(normalize_clip(x, cfg['mean'], cfg['std'])).float().numpy().astype(np.float16)
    return f[:len(now)], f[len(now):], float(np.mean(err))


def cache(run, out):
    net, cfg = load_default()
    def pairs(r):
        now, nxt, err = clip_pairs(r, net, cfg)
        return dict(now=now, next=nxt, recut_error=err)
    th.cache_clips(run, out, pairs, 'flicker')   # a clip that cannot be re-cut keeps zeros, counted in the screen


def flicker_of(ix, flicker_dir):
    "(N, 1280) mean |f(t+1) - f(t)| for each row of `ix` (zeros where the clip could not be re-cut) and the count."
    out, bad = np.zeros((len(ix), 1280), np.float32), 0
    for k, r in enumerate(ix.row):
        p = Path(flicker_dir) / f'{r}.npz'
        z = np.load(p) if p.exists() else None
        if z is None or float(z['recut_error']) > MAX_RECUT_ERROR: bad += 1; continue
        out[k] = np.abs(z['next'].astype(np.float32) - z['now'].astype(np.float32)).mean(0)
    return out, bad


class WithFlicker:
    "A pooled head on (N, T, 1280 + 1280) inputs: the frames, then the clip's flicker repeated along time."
    def __init__(self, only=False): self.only = only
    def pool(self, F):
        fl = F[:, 0, 1280:]
        return fl if self.only else np.concatenate([th.pooled(F[..., :1280]), fl], 1)
    def fit(self, F, y, groups):
        self.m = th.LR(pool=self.pool).fit(F, y, groups)
        return self
    def __call__(self, F): return self.m(F)


def screen(a):
    sys.argv = [sys.argv[0], '--run', a.run, '--features', a.features, '--out', a.out]
    _, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    fl, bad = flicker_of(ix, a.out)
    print(f"flicker: {len(ix) - bad} clips re-cut, {bad} kept zeros", flush=True)
    FF = np.concatenate([F, np.repeat(fl[:, None], F.shape[1], 1)], 2)
    E = {'lstm': th.expert_scores(ix, ixs, F, at, th.LSTM, fams), 'lr': th.expert_scores(ix, ixs, F, at, th.LR, fams),
         'lr-flicker': th.expert_scores(ix, ixs, FF, at, WithFlicker, fams),
         'lr-flicker-only': th.expert_scores(ix, ixs, FF, at, lambda: WithFlicker(only=True), fams)}
    th.save_experts(a.out, E)
    combos = (('ens', ('lstm', 'lr')), ('ens-flicker', ('lstm', 'lr-flicker')), ('lr-flicker-only', ('lr-flicker-only',)),
              ('ens+flicker', ('lstm', 'lr', 'lr-flicker-only')))   # amendment 20
    th.write_screen(a.out, {'recut_zeros': bad, **th.screen_ensembles(combos, E, ix, ixs, y)})


if __name__ == '__main__': th.cache_or_screen(__doc__, cache, screen)
