"""Screen for PLAN.md amendment 14: identity consistency (inner face against its context, and over time) as a third
expert of `ens`.

    python research/generalise/identity.py --index runs/shared_index.csv --features runs/features-reenc --out runs/identity
    python research/generalise/identity.py --index runs/shared_index.csv --features runs/features-reenc --out runs/identity \
        --motion-report runs/head-bf16/oof.csv      # then: the shipped verdicts by head motion

Per clip (track 0 of the face cache, the same 32 frames as the features): dlib's face-recognition ResNet (128-d, from
`face-recognition-models`; trained on real faces only) on a tight chip (padding 0, the inner face) and a wide chip
(padding 0.5, with hair, ears and jaw line) of each crop, aligned by dlib's 5-point shape predictor on the crop's
face box. 7 numbers: mean and std of the tight-wide distance (ICT, Dong et al., CVPR 2022: inner against outer
identity); mean and max consecutive tight distance (flicker); 90th percentile distance to the median tight
descriptor (spread); distance between the first and second halves' means (drift; ID-Reveal, Cozzolino et al., ICCV
2021, identity over time); mean consecutive wide distance (head motion). The same for each clip's whole-file copy.
Experts `id-lr` (logistic regression) and `id-sum` (cues z-scored on the training reals, averaged: no learnt
direction), alone and added to `ens`, out of fold, leave-one-family-out and on the cross-dataset folds.
"""
import argparse, importlib.util, json, sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.data import default_cache_root, load_record, pick_frames   # noqa: E402
from deepfake_detect.model import set_threads   # noqa: E402
from deepfake_detect.train import roc_auc   # noqa: E402
from handcrafted import HFLR as IDLR, all_cues   # noqa: E402  (amendment 11's LR on cues; clips and their copies)

MARGIN = 1.3   # the face cache's crop margin (chapter 01's crop_face): the face box is the crop's central 1/1.3


def _models():
    import dlib
    d = Path(importlib.util.find_spec('face_recognition_models').submodule_search_locations[0]) / 'models'
    return (dlib, dlib.shape_predictor(str(d / 'shape_predictor_5_face_landmarks.dat')),
            dlib.face_recognition_model_v1(str(d / 'dlib_face_recognition_resnet_model_v1.dat')))


_M = {}

def descriptors(crop):
    "Tight and wide dlib descriptors (2, 128) float64 of one crop (3, S, S) uint8 (RGB)."
    if not _M: _M['m'] = _models()
    dlib, sp, rec = _M['m']
    img = np.ascontiguousarray(crop.transpose(1, 2, 0))
    S = img.shape[0]; m = int(round(S * (1 - 1 / MARGIN) / 2))
    shape = sp(img, dlib.rectangle(m, m, S - m, S - m))
    return np.stack([np.array(rec.compute_face_descriptor(img, shape, 0, p)) for p in (0.0, 0.5)])


def clip_cues(cache, n_frames=32):
    "The 7 numbers of a clip from its face cache record (track 0, `n_frames` as the features pick them)."
    tr = load_record(cache)['tracks'][0]
    pos = np.unique(pick_frames(len(tr['crops']), n_frames))   # repeated frames would read as zero flicker
    D = np.stack([descriptors(c) for c in tr['crops'][pos].numpy()])      # (T, 2, 128)
    tight, wide = D[:, 0], D[:, 1]
    tw = np.linalg.norm(tight - wide, axis=1)
    step = lambda E: np.linalg.norm(np.diff(E, axis=0), axis=1) if len(E) > 1 else np.zeros(1)
    h = len(tight) // 2
    drift = np.linalg.norm(tight[:h].mean(0) - tight[h:].mean(0)) if h else 0.0
    spread = np.percentile(np.linalg.norm(tight - np.median(tight, 0), axis=1), 90)
    return np.array([tw.mean(), tw.std(), step(tight).mean(), step(tight).max(), spread, drift, step(wide).mean()])


class IDSum:
    "No learnt direction: each cue z-scored on the training reals, then averaged (higher = less consistent)."
    def fit(self, F, y, groups=None):
        r = F[y == 0]
        self.m, self.s = r.mean(0), r.std(0) + 1e-9
        return self
    def __call__(self, F): return ((F - self.m) / self.s).mean(1)


def motion_report(out, oof_csv, index, checkpoint_json):
    """How the shipped verdicts depend on head motion: the clips' mean consecutive wide-chip distance (cue 7, cached in
    OUT/cues.npz) in terciles within each class, and the share called FAKE at the shipped threshold and band."""
    z, cfg = np.load(Path(out) / 'cues.npz'), json.loads(Path(checkpoint_json).read_text())
    motion = pd.DataFrame(dict(path=index.loc[z['rows'], 'path'].values, motion=z['orig'][:, 6]))
    d = pd.read_csv(oof_csv).merge(motion, on='path')
    p = 1 / (1 + np.exp(-d.logit / cfg['temperature']))
    d['called_fake'] = p >= cfg['threshold'] + cfg['uncertain_band']
    for label in ('real', 'fake'):
        c = d[d.label == label].copy()
        c['motion'] = pd.qcut(c.motion, 3, labels=['stillest third', 'middle third', 'most moving third'])
        shares = c.groupby('motion', observed=True).called_fake.mean()
        print(f"{label} ({len(c)}): called FAKE " + ', '.join(f"{k} {v:.0%}" for k, v in shares.items()), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--features', required=True)
    ap.add_argument('--out', required=True); ap.add_argument('--cache', default=None)
    ap.add_argument('--crossdataset', default='runs/head-bf16/oof_crossdataset.csv')
    ap.add_argument('--motion-report', metavar='OOF_CSV', default=None,
                    help="only print the shipped verdicts by head motion, for the out-of-fold scores OOF_CSV (cues cached in OUT)")
    a = ap.parse_args()
    set_threads(2)
    index = pd.read_csv(a.index)
    if a.motion_report:
        return motion_report(a.out, a.motion_report, index, Path(__file__).resolve().parents[2] / 'deepfake_detect' / 'models' / 'default.json')
    ix, X = th.load_features(index, a.features)
    orig, copy = all_cues(ix, index, a.out, Path(a.cache) if a.cache else default_cache_root(), cues=clip_cues, workers=2)
    print(f"cues: {len(ix)} clips; per-cue AUC (fake > real): "
          + ' '.join(f"{roc_auc(ix.label == 'fake', orig[:, j]):.2f}" for j in range(orig.shape[1])), flush=True)
    fams = th.lofo_families(ix)
    y = (ix.label == 'fake').values
    xd = pd.read_csv(a.crossdataset)
    ixs = ix.drop(columns=['fold']).merge(xd[['path', 'fold', 'logit']], on='path', how='inner')
    at = ix.reset_index(drop=True).reset_index().set_index('path').loc[ixs.path, 'index'].values
    ens, ens_lofo, _ = th.head_scores(ix, X, 'ens', fams)
    parts = {n: th.head_scores(ix, X, n, fams) for n in th.ENSEMBLE}
    scale = {n: float(np.std(parts[n][0])) for n in th.ENSEMBLE}
    ens_copy = sum(th.DEGRADED[n, False] / scale[n] for n in th.ENSEMBLE)
    rows = {}
    def add(name, s, by_family, s_copy, s_xd):
        r = dict(th.report(ix, s, 200), lofo=th.lofo(ix, by_family, 200), degraded_auc=roc_auc(y, s_copy),
                 cross_dataset_auc=roc_auc(ixs.label == 'fake', s_xd))
        rows[name] = r
        print(th.head_line(name, r) + f" | cross-dataset {r['cross_dataset_auc']:.3f}", flush=True)
    add('ens', ens, ens_lofo, ens_copy, ixs.logit.values)
    for name, make in (('id-lr', IDLR), ('id-sum', IDSum)):
        s, s_copy = th.out_of_fold(ix, orig, make, also=copy)
        by = {f: th.out_of_fold(ix, orig, make, drop=f) for f in fams}
        s_xd = th.out_of_fold(ixs, orig[at], make)
        add(name, s, by, s_copy, s_xd)
        k = float(np.std(s))
        add(f'ens+{name}', ens + s / k, {f: ens_lofo[f] + by[f] / k for f in fams}, ens_copy + s_copy / k,
            ixs.logit.values + s_xd / k)
    json.dump({k: {m: v[m] for m in ('auc', 'pair_win', 'degraded_auc', 'cross_dataset_auc', 'lofo')} for k, v in rows.items()},
              open(Path(a.out) / 'screen.json', 'w'), indent=1, default=float)


if __name__ == '__main__': main()
