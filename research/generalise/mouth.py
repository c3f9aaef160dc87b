"""Screen for PLAN.md amendment 33: the lower face at the file's own resolution. Lip-sync generators re-render the
mouth region at their own size (Wav2Lip: a 96-px face) and first-order-model the whole face at 256 px; the 224-px
tight crop has averaged a large face's mouth texture away before the backbone sees it (RESEARCH.md recommendation 6:
inputs at native resolution, before any resizing).

    python research/generalise/mouth.py cache --run runs/head-bf16 --out runs/mouth33
    python research/generalise/mouth.py screen --run runs/head-bf16 --features runs/features-bf16 --out runs/mouth33

`cache`: for every clip of the run, track 0, the 32 positions its `ship_full` features were read at: the lower-face
square of train_head's `mouth_square`, cut from the cached 224-px crop (`mouth`) and from the frame decoded again at
full resolution (`mouthnat`), each resized to 224 px and read by the shipped backbone; OUT/<row>.npz holds `mouth` and
`mouthnat` ((32, 1280) float16, bf16 autocast), `side` (32,) the square's side in the file's pixels, `recut_error`,
`missing` and `path` (as context.py's). A clip whose box check fails keeps zeros for `mouthnat`.
`screen`: `ens`, `lr-mouth`, `lr-mouthnat`, `ens+mouth` and `ens+mouthnat` out of fold, without each family and over
the run's cross-dataset folds, read on the backbone-unseen clips (all clips beside), judged by amendment 29's rule;
then the reading by the square's native size. OUT/screen.json, OUT/experts.npz and OUT/by_size.json.
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from context import FRAMES, cache_health, recut_features   # noqa: E402   amendment 33 recuts as 32 does
from unseen import cached, screen_third_experts   # noqa: E402
from deepfake_detect.data import load_record, pick_frames   # noqa: E402
from deepfake_detect.faces import crop_face, square_box   # noqa: E402
from deepfake_detect.model import load_default   # noqa: E402
from deepfake_detect.train import roc_auc   # noqa: E402

CROP, BIG = 224, 150   # the cached crops' side; a square at least BIG px wide in the file counts as large


# ---------------------------------------------------------------- cache
def native_square(box, landmarks):
    """(x0, y0, x1, y1) in the frame's pixels of the lower-face square (`mouth_square`) of the cached crop cut around
    `box` at margin 1.3 (chapter 01's `square_box`), whose landmarks (5, 2) are in that crop's coordinates."""
    sx, sy, sd = square_box(box)
    x0, y0, side = th.mouth_square(landmarks, CROP)
    k = sd / CROP
    return np.array([sx + x0 * k, sy + y0 * k, sx + (x0 + side) * k, sy + (y0 + side) * k], np.float32)


def native_mouth(frame, box, landmarks):
    "The lower-face square cut from the full-resolution `frame` and resized to 224 px (a `recut` view)."
    return crop_face(frame, native_square(box, landmarks), margin=1.0)[0]


def mouth_features(ship, cfg):
    "compute(row) for `th.cache_clips`: amendment 33's arrays of a clip (the module docstring lists them)."
    native = recut_features({'mouthnat': (ship, 'mouthnat')}, {'mouthnat': native_mouth}, cfg)

    def compute(r):
        tr = load_record(r.cache)['tracks'][0]
        pos = pick_frames(len(tr['crops']), FRAMES).numpy()
        crops, lms, boxes = tr['crops'][pos], tr['landmarks'][pos], tr['boxes'][pos].numpy()
        side = np.array([np.diff(native_square(b, lm)[::2])[0] for b, lm in zip(boxes, lms.numpy())], np.float32)
        mouth = th.backbone_features(ship.backbone, th.mouth_crops(crops, lms), cfg, bf16=True)
        return {**native(r), 'mouth': mouth, 'side': side}
    return compute


def cache(run, out):
    ship, cfg = load_default()
    th.cache_clips(run, out, mouth_features(ship, cfg), 'mouth')


# ---------------------------------------------------------------- screen
def by_size(ix, E, unseen, sides, families=('lip-sync', 'reenactment')):
    """{candidate: {family: {'large'|'small': (AUC, fakes)}}}: each `ens+` candidate's left-out scores of the unseen
    fakes of `families` whose lower-face square is at least BIG px (median over frames) or smaller, against every unseen
    real; the ensemble as `th.screen_ensembles` makes it (each expert over the spread of its unseen out-of-fold logits)."""
    out, y = {}, (ix.label == 'fake').values
    for cand, parts in (('ens+mouth', ('lstm', 'lr', 'lr-mouth')), ('ens+mouthnat', ('lstm', 'lr', 'lr-mouthnat'))):
        scale = {p: float(np.std(E[p][0][unseen])) for p in parts}
        out[cand] = {}
        for fam in families:
            s = sum(E[p][1][fam] / scale[p] for p in parts)
            out[cand][fam] = {}
            for size, keep in (('large', sides >= BIG), ('small', sides < BIG)):
                rows = unseen & (~y | ((ix.family == fam).values & keep))
                n = int((rows & y).sum())
                out[cand][fam][size] = (roc_auc(y[rows], s[rows]) if n else float('nan'), n)
    return out


def screen(a):
    def load(ix):
        cache_health(ix, a.out)
        return {'mouth': cached(ix, a.out, 'mouth', FRAMES), 'mouthnat': cached(ix, a.out, 'mouthnat', FRAMES)}
    ix, E, unseen = screen_third_experts(a, __doc__, load, 33)
    sides = np.array([float(np.median(np.load(Path(a.out) / f'{row}.npz')['side'])) for row in ix.row.values])
    print(f"lower-face square in the file: median {np.median(sides[unseen]):.0f} px on the unseen clips; "
          f"{(sides[unseen] >= BIG).sum()} of {unseen.sum()} at least {BIG} px", flush=True)
    res = by_size(ix, E, unseen, sides)
    for cand, fams in res.items():
        print(cand, '  '.join(f"{fam}: large {v['large'][0]:.3f} ({v['large'][1]} fakes), small {v['small'][0]:.3f} "
                              f"({v['small'][1]})" for fam, v in fams.items()), flush=True)
    (Path(a.out) / 'by_size.json').write_text(json.dumps(res, indent=1, default=float))


if __name__ == '__main__': th.cache_or_screen(__doc__, cache, screen)
