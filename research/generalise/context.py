"""Screen for PLAN.md amendment 32: the face in its context. A crop twice the face box (hair, ears, neck, background),
where generators that synthesise the whole frame (first-order-model, talking heads, avatars) leave what the tight crop
cuts away (RESEARCH.md recommendation 6; ICT, Dong et al., CVPR 2022, reads the face against its context).

    python research/generalise/context.py cache --run runs/head-bf16 --out runs/context
    python research/generalise/context.py screen --run runs/head-bf16 --features runs/features-bf16 --out runs/context

`cache`: for every clip of the run, track 0, the 32 positions its `ship_full` features were read at: each frame decoded
again at full resolution and cut with the cached box at margin 2.0 (224 px); OUT/<row>.npz holds `wide` (the shipped
backbone's pooled features) and `wideimg` (the ImageNet EfficientNet-Lite0's), each (32, 1280) float16 under bf16
autocast, `recut_error` (mean grey-level difference of the margin-1.3 recut from the cached crops: the box check),
`missing` (positions whose frame could not be decoded: their features are a black crop's) and `path`. A clip
whose check fails keeps zeros.
`screen`: `ens`, `lr-wide`, `lr-wideimg`, `ens+wide` and `ens+wideimg` out of fold, without each family and over the
run's cross-dataset folds, read on the backbone-unseen clips (all clips beside); OUT/screen.json and OUT/experts.npz.
"""
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from unseen import cached, screen_third_experts   # noqa: E402   amendment 32 keeps 29's rule
from deepfake_detect.data import load_record, pick_frames   # noqa: E402
from deepfake_detect.faces import crop_face   # noqa: E402
from deepfake_detect.model import DeepfakeDetector, load_default   # noqa: E402
from deepfake_detect.video import read_frames_at   # noqa: E402

FRAMES, WIDE_MARGIN, MAX_RECUT_ERROR = 32, 2.0, 2.0


# ---------------------------------------------------------------- cache
def recut(r, views):
    """({name: crops (32, 3, 224, 224) uint8}, recut error in grey levels, number of positions not decoded) of track 0
    of clip `r` (a row of the run's index), at the positions `clip_frames` reads: each of `views` ({name: view(frame,
    box (4,), landmarks (5, 2) in the cached crop's coordinates) -> (224, 224, 3) uint8}) cut from the frame decoded
    again, one frame in memory at a time; the error compares the margin-1.3 recut with the cached crops (the box check)."""
    tr = load_record(r.cache)['tracks'][0]
    pos = pick_frames(len(tr['crops']), FRAMES).numpy()
    idx, boxes, lms = (tr[k][pos].numpy() for k in ('frame_indices', 'boxes', 'landmarks'))
    tight = tr['crops'][pos].permute(0, 2, 3, 1).numpy().astype(np.float32)
    out, err, seen = {n: np.zeros((FRAMES, 224, 224, 3), np.uint8) for n in views}, [], np.zeros(FRAMES, bool)

    def cut(i, frame):
        for k in np.flatnonzero(idx == i):   # a short track repeats positions
            for n, view in views.items(): out[n][k] = view(frame, boxes[k], lms[k])
            err.append(np.abs(crop_face(frame, boxes[k])[0].astype(np.float32) - tight[k]).mean())
            seen[k] = True
    read_frames_at(r.path, sorted(set(idx.tolist())), cut)
    crops = {n: torch.from_numpy(v).permute(0, 3, 1, 2) for n, v in out.items()}
    return crops, float(np.mean(err)) if err else np.inf, int((~seen).sum())


def recut_features(nets, views, cfg):
    """compute(row) for `th.cache_clips`: {feature: pooled features (32, 1280) float16 of `net` on the view} for each
    feature: (net, view name) of `nets`, the views cut by `recut`, with `recut_error`, `missing` and `path`; a clip
    whose box check fails keeps zeros."""
    def compute(r):
        crops, err, missing = recut(r, views)
        ok = err <= MAX_RECUT_ERROR
        feats = {k: th.backbone_features(net.backbone, crops[v], cfg, bf16=True) if ok else np.zeros((FRAMES, 1280), np.float16)
                 for k, (net, v) in nets.items()}
        return {**feats, 'recut_error': err, 'missing': missing, 'path': r.path}
    return compute


def cache(run, out):
    ship, cfg = load_default()
    img = DeepfakeDetector('efficientnet_lite0', pretrained=True).eval()
    wide = {'wide': lambda frame, box, lm: crop_face(frame, box, margin=WIDE_MARGIN)[0]}
    th.cache_clips(run, out, recut_features({'wide': (ship, 'wide'), 'wideimg': (img, 'wide')}, wide, cfg), 'context')


# ---------------------------------------------------------------- screen
def cache_health(ix, folder):
    "Printed: clips whose recut check failed (zeros) and positions not decoded, over the rows of `ix`."
    err, miss = [], []
    for row in ix.row.values:
        with np.load(Path(folder) / f'{row}.npz') as z: err.append(float(z['recut_error'])); miss.append(int(z['missing']))
    err, miss = np.array(err), np.array(miss)
    print(f"recut check: {(err > MAX_RECUT_ERROR).sum()} of {len(err)} clips failed (zeros); median error "
          f"{np.median(err):.2f} grey levels; {(miss > 0).sum()} clips with {miss.sum()} positions not decoded", flush=True)


def screen(a):
    def load(ix):
        cache_health(ix, a.out)
        return {'wide': cached(ix, a.out, 'wide', FRAMES), 'wideimg': cached(ix, a.out, 'wideimg', FRAMES)}
    screen_third_experts(a, __doc__, load, 32)


if __name__ == '__main__': th.cache_or_screen(__doc__, cache, screen)
