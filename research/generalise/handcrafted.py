"""Screen for PLAN.md amendment 11: a hand-made sharpness cue of the mouth against the eyes, as a third expert of `ens`.

    python research/generalise/handcrafted.py --index runs/shared_index.csv --features runs/features-reenc --out runs/handcrafted

Per clip (track 0 of the face cache, the same 32 frames as the features, the 5 MTCNN landmarks), 7 numbers: mean and
std over time of (1) fine(mouth) - fine(eyes), (2) slope(mouth) - slope(eyes), (3) slope(inner face) - slope(outer
ring), and the mean of (4) |Δ fine(mouth)| - |Δ fine(eyes)|; fine = log mean squared Laplacian of the grey region,
slope = fine - the same after a 2x downsampling. The same numbers for each clip's whole-file re-encoded copy (its own
face track in the cache). Experts `hf-lr` (logistic regression) and `hf-real` (Mahalanobis distance from the training
folds' reals), alone and added to `ens`, scored out of fold and leave-one-family-out as in scripts/train_head.py.
"""
import argparse, json, sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.data import default_cache_root, is_copy, load_record, pick_frames, with_reencoded_copies   # noqa: E402
from deepfake_detect.model import set_threads   # noqa: E402
from deepfake_detect.train import roc_auc   # noqa: E402


def _box(cx, cy, w, h, S):
    x0, x1 = int(np.clip(cx - w / 2, 0, S)), int(np.clip(cx + w / 2, 0, S))
    y0, y1 = int(np.clip(cy - h / 2, 0, S)), int(np.clip(cy + h / 2, 0, S))
    return (slice(y0, y1), slice(x0, x1)) if x1 - x0 >= 8 and y1 - y0 >= 8 else None


def _energy(grey, mask=None):
    "(fine, slope): log mean squared Laplacian at full size, and fine minus the same after a 2x area downsampling."
    lap = lambda g: cv2.Laplacian(g, cv2.CV_32F, ksize=3) ** 2
    f = lap(grey)
    small = cv2.resize(grey, (grey.shape[1] // 2, grey.shape[0] // 2), interpolation=cv2.INTER_AREA)
    c = lap(small)
    if mask is not None:
        f, c = f[mask], c[cv2.resize(mask.astype(np.uint8), small.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0]
    fine, coarse = np.log(f.mean() + 1), np.log(c.mean() + 1)
    return fine, fine - coarse


def frame_cues(crop, lm):
    "Per-frame cues (4,) of one crop (3, S, S) uint8 with landmarks (5, 2): NaN where a region is off the crop."
    S = crop.shape[-1]
    grey = cv2.cvtColor(np.ascontiguousarray(crop.transpose(1, 2, 0)), cv2.COLOR_RGB2GRAY).astype(np.float32)
    iod = float(np.hypot(*(lm[1] - lm[0])))
    eyes = _box(*(lm[0] + lm[1]) / 2, 1.6 * iod, 0.6 * iod, S)
    mouth = _box(*(lm[3] + lm[4]) / 2, 1.6 * iod, 0.6 * iod, S)
    if eyes is None or mouth is None or iod < 4: return np.full(4, np.nan)
    fe, se = _energy(grey[eyes]); fm, sm = _energy(grey[mouth])
    _, si = _energy(grey[S // 4:3 * S // 4, S // 4:3 * S // 4])
    ring = np.ones((S, S), bool); ring[S // 8:-(S // 8), S // 8:-(S // 8)] = False
    ring &= cv2.dilate((grey > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0   # not the black padding
    ring &= cv2.erode((grey > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0    # nor its edge
    sr = _energy(grey, ring)[1] if ring.sum() > 64 else np.nan
    return np.array([fm - fe, sm - se, si - sr, fm])   # the last: fine(mouth), for its change over time


def clip_cues(cache, n_frames=32):
    "The 7 numbers of a clip from its face cache record (track 0, `n_frames` as the features pick them)."
    tr = load_record(cache)['tracks'][0]
    pos = pick_frames(len(tr['crops']), n_frames)
    crops, lms = tr['crops'][pos].numpy(), tr['landmarks'][pos].numpy()
    per = np.stack([frame_cues(c, l) for c, l in zip(crops, lms)])
    fe = per[:, 3] - per[:, 0]                                   # fine(eyes)
    d = np.abs(np.diff(per[:, 3])) - np.abs(np.diff(fe))
    with np.errstate(all='ignore'):
        out = np.concatenate([np.nanmean(per[:, :3], 0), np.nanstd(per[:, :3], 0), [np.nanmean(d)]])
    return np.nan_to_num(out)


def all_cues(ix, index, out, cache_root, cues=None, workers=1):
    """(N, K) cues of the clips of `ix` and of their whole-file copies, cached in OUT/cues.npz: `cues` (default
    `clip_cues`) maps a face cache record to K numbers; with `workers` > 1, in that many processes."""
    f = Path(out) / 'cues.npz'
    if f.exists():
        z = np.load(f)
        if list(z['rows']) == list(ix.row): return z['orig'], z['copy']
    ok = index[index.status == 'ok']
    both = with_reencoded_copies(ok.assign(split='train'), cache_root, copies=1, seed=0, workers=2, progress=False)
    copies = both[is_copy(both) & (both.status == 'ok')]
    copy_of = dict(zip(copies.source.map(dict(zip(ok.path, ok.index))), copies.cache))
    todo = list(ix.cache) + [copy_of[r] for r in ix.row if r in copy_of]
    if workers > 1:
        from multiprocessing import Pool
        with Pool(workers) as pool: done = dict(zip(todo, pool.map(cues or clip_cues, todo, chunksize=4)))
    else: done = {c: (cues or clip_cues)(c) for c in todo}
    orig = np.stack([done[c] for c in ix.cache])
    copy = np.stack([done[copy_of[r]] if r in copy_of else o for r, o in zip(ix.row, orig)])
    Path(out).mkdir(parents=True, exist_ok=True)
    np.savez(f, rows=ix.row.values, orig=orig, copy=copy)
    return orig, copy


class HFLR:
    "Logistic regression on a clip's cues (standardised; C by inner group 3-fold CV on AUC), as train_head's LR."
    def fit(self, F, y, groups):
        self.lr = th.LR(Cs=(0.01, 0.1, 1.0)).fit(F[:, None, :], y, groups)
        return self
    def __call__(self, F): return self.lr(F[:, None, :])


class HFReal:
    "One-class: Mahalanobis distance of the 7 cues from the training reals (Ledoit-Wolf covariance); no fake is used."
    def fit(self, F, y, groups=None):
        from sklearn.covariance import LedoitWolf
        self.m = LedoitWolf().fit(F[y == 0])
        return self
    def __call__(self, F): return np.sqrt(self.m.mahalanobis(F))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--features', required=True)
    ap.add_argument('--out', required=True); ap.add_argument('--cache', default=None)
    a = ap.parse_args()
    set_threads(2)
    index = pd.read_csv(a.index)
    ix, X = th.load_features(index, a.features)
    orig, copy = all_cues(ix, index, a.out, Path(a.cache) if a.cache else default_cache_root())
    print(f"cues: {len(ix)} clips; per-cue AUC (fake > real): "
          + ' '.join(f"{roc_auc(ix.label == 'fake', orig[:, j]):.2f}" for j in range(orig.shape[1])), flush=True)
    fams = th.lofo_families(ix)
    y = (ix.label == 'fake').values
    ens, ens_lofo, _ = th.head_scores(ix, X, 'ens', fams)
    parts = {n: th.head_scores(ix, X, n, fams) for n in th.ENSEMBLE}
    scale = {n: float(np.std(parts[n][0])) for n in th.ENSEMBLE}
    ens_copy = sum(th.DEGRADED[n, False] / scale[n] for n in th.ENSEMBLE)
    rows = {}
    def add(name, s, by_family, s_copy):
        r = dict(th.report(ix, s, 200), lofo=th.lofo(ix, by_family, 200), degraded_auc=roc_auc(y, s_copy))
        rows[name] = r
        print(th.head_line(name, r), flush=True)
    add('ens', ens, ens_lofo, ens_copy)
    for name, make in (('hf-lr', HFLR), ('hf-real', HFReal)):
        s, s_copy = th.out_of_fold(ix, orig, make, also=copy)
        by = {f: th.out_of_fold(ix, orig, make, drop=f) for f in fams}
        add(name, s, by, s_copy)
        k = float(np.std(s))
        add(f'ens+{name}', ens + s / k, {f: ens_lofo[f] + by[f] / k for f in fams}, ens_copy + s_copy / k)
    json.dump({k: {m: v[m] for m in ('auc', 'pair_win', 'degraded_auc', 'lofo')} for k, v in rows.items()},
              open(Path(a.out) / 'screen.json', 'w'), indent=1, default=float)


if __name__ == '__main__': main()
