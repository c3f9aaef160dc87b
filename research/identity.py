"""Is the face's identity too steady for its motion? A cue no training recipe here uses: one-shot talking heads and
face swaps render one identity learned from one picture or one model, while a real face's identity descriptor drifts
with expression, light and pose. Per clip (first face track of the face cache): the identity spread, the mean
distance between dlib's face descriptors of its faces (128-d; 0.6 apart means another person, says dlib), and the
pose spread, the mean distance between its 5-landmark shapes (centred, scaled by the eye distance). A line fitted on
the training split's real clips, log identity spread against log pose spread, predicts how much a real face's
identity moves for that much motion; the steadiness of a clip is how far below that line it lies (higher: steadier
than a real face). No fake is used to fit anything.

Reported on the held-out split: AUC and paired win rate of the steadiness per method, of the model's video logits
(`--model`, default the shipped model; max over tracks of the cached faces), and of two label-free combinations of the
two (the mean of their z-scores and the mean of their ranks over the held-out videos). `--conditions` re-encodes the
held-out videos first (as scripts/robustness.py does) and detects their faces again. Needs the `train` extra (dlib).

    python research/identity.py --index runs/sbi-all/index.csv [--model PATH] [--conditions original crf35 half] [--out r.json]

`--train-split` checks the cue on the clips it was not found on, the training split (the model is not scored there:
it learned those clips): the real line is cross-fitted over 5 folds of person/scene groups, so no clip's own spread
fits the line it is measured against; identity spread alone and pose spread alone are reported beside it.
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from deepfake_detect.blend import _predictor, landmark_model_path
from deepfake_detect.data import load_record, preprocess
from deepfake_detect.evaluate import score_cached
from deepfake_detect.model import load_checkpoint, load_default
from deepfake_detect.train import _splits, paired_win_rate, roc_auc
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'scripts'))   # the product's robustness tool
from robustness import CONDITIONS, transcode

_FACE_MODEL = {}


def descriptors(crops, margin=1.3):
    "dlib's 128-d face descriptor of each uint8 RGB crop (n, S, S, 3) centred on its face box with `margin` around it."
    shape, dlib = _predictor()   # chapter 03's 68-point predictor, loaded once
    if not _FACE_MODEL:
        _FACE_MODEL['net'] = dlib.face_recognition_model_v1(str(landmark_model_path().parent/'dlib_face_recognition_resnet_model_v1.dat'))
    size = crops.shape[1]; s, c = size / margin, size / 2
    box = dlib.rectangle(*(round(v) for v in (c - s / 2, c - 0.4 * s, c + s / 2, c + 0.6 * s)))   # as landmarks68's
    return np.stack([np.array(_FACE_MODEL['net'].compute_face_descriptor(im, shape(im, box)))
                     for im in map(np.ascontiguousarray, crops)])


def mean_pairwise(x):
    "Mean Euclidean distance over all pairs of rows; NaN for fewer than two."
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    return float(d[np.triu_indices(len(x), 1)].mean()) if len(x) > 1 else float('nan')


def first_track(cache):
    "(crops uint8 (n, S, S, 3), landmarks (n, 5, 2)) of a cached clip's first face track."
    t = load_record(cache)['tracks'][0]
    return t['crops'].permute(0, 2, 3, 1).numpy(), t['landmarks'].numpy().astype(np.float64)


def identity_spread(cache, step=1):
    "Mean distance between the face descriptors of a cached clip's first track (every `step`-th face)."
    return mean_pairwise(descriptors(first_track(cache)[0][::step]))


def pose_spread(lm):
    "Mean distance between 5-landmark shapes (n, 5, 2), each centred and scaled by its eye distance."
    eyes = np.linalg.norm(lm[:, 1] - lm[:, 0], axis=1)[:, None, None]
    return mean_pairwise(((lm - lm.mean(1, keepdims=True)) / eyes).reshape(len(lm), -1))


def spreads(index):
    "The index's clips with at least 3 faces in their first track, with `identity` and `pose` spreads."
    rows = []
    for i, cache in enumerate(index[index.status == 'ok'].cache):
        crops, lm = first_track(cache)
        if len(crops) >= 3: rows.append(dict(row=i, identity=mean_pairwise(descriptors(crops)), pose=pose_spread(lm)))
    ok = index[index.status == 'ok'].reset_index(drop=True)
    r = pd.DataFrame(rows, columns=['row', 'identity', 'pose'])
    return ok.iloc[r.row].reset_index(drop=True).assign(identity=r.identity.values, pose=r.pose.values)


def fit_real_line(reals):
    "(slope, intercept) of log identity spread against log pose spread over real clips."
    return tuple(np.polyfit(np.log(reals.pose), np.log(reals.identity), 1))


def steadiness(df, line):
    "How far below the real clips' line a clip's identity spread lies (log scale; higher = steadier than real)."
    return np.polyval(line, np.log(df.pose)) - np.log(df.identity)


def cross_fitted_steadiness(df, folds=5, seed=0):
    "Steadiness of each clip against a line fitted on the real clips of the other folds of person/scene groups."
    groups = np.array(sorted(df.split_group.astype(str).unique()))
    np.random.default_rng(seed).shuffle(groups)
    fold = df.split_group.astype(str).map({g: i % folds for i, g in enumerate(groups)}).values
    out = np.full(len(df), np.nan)
    for k in range(folds):
        out[fold == k] = steadiness(df[fold == k], fit_real_line(df[(fold != k) & (df.label == 'real').values]))
    return out


def report(df, scores):
    "AUC and paired win rate of each score column, overall and per fake method (against all real clips)."
    y = (df.label == 'fake').values
    out = {}
    for name in scores:
        s = df[name].values
        r = dict(auc=roc_auc(y.astype(int), s), pair=paired_win_rate(df, s))
        for m, g in df[y].groupby('method'):
            r[f'auc {m}'] = roc_auc(np.r_[np.zeros((~y).sum()), np.ones(len(g))], np.r_[s[~y], s[g.index]])
        out[name] = r
        print(f"{name:12s} AUC {r['auc']:.3f}  paired {r['pair']:.3f}  " +
              '  '.join(f"{k[4:24]} {v:.2f}" for k, v in r.items() if k.startswith('auc ')), flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', default='runs/sbi-all/index.csv'); ap.add_argument('--model', default=None)
    ap.add_argument('--conditions', nargs='+', default=['original'], choices=list(CONDITIONS))
    ap.add_argument('--out', default=None)
    ap.add_argument('--train-split', action='store_true', help='the cue alone on the training split, cross-fitted')
    a = ap.parse_args()
    torch.set_num_threads(2)
    index = pd.read_csv(a.index)
    tr, va = _splits(index[index.status == 'ok'])
    if a.train_split:
        df = spreads(tr.reset_index(drop=True))
        df['steadiness'], df['identity only'], df['pose only'] = cross_fitted_steadiness(df), -np.log(df.identity), -np.log(df.pose)
        print(f'== training split: {len(df)} clips with faces ({(df.label == "fake").sum()} fake)')
        res = report(df, ['steadiness', 'identity only', 'pose only'])
        if a.out: Path(a.out).write_text(json.dumps(res, indent=1, default=float))
        return
    line = fit_real_line(spreads(tr[tr.label == 'real']))
    print(f'real clips of the training split: log identity spread = {line[0]:.3f} log pose spread + {line[1]:.3f}')
    model, cfg = load_checkpoint(a.model) if a.model else load_default()
    model = model.float().eval()
    res = {'model': a.model or 'default', 'line': line}
    with tempfile.TemporaryDirectory() as tmp:
        for cond in a.conditions:
            idx = va.reset_index(drop=True)
            if CONDITIONS[cond] is not None:
                idx = preprocess(transcode(idx, CONDITIONS[cond], Path(tmp)/cond), Path(tmp)/'faces', progress=False)
            df = spreads(idx)
            df['steadiness'] = steadiness(df, line)
            df['cnn'] = score_cached(model, cfg, df).logit
            z = lambda v: (v - v.mean()) / v.std()
            df['z mean'], df['rank mean'] = (z(df.cnn) + z(df.steadiness)) / 2, (df.cnn.rank() + df.steadiness.rank()) / 2
            print(f'\n== {cond}: {len(df)} held-out clips with faces ({(df.label == "fake").sum()} fake)')
            res[cond] = report(df, ['cnn', 'steadiness', 'z mean', 'rank mean'])
    if a.out: Path(a.out).write_text(json.dumps(res, indent=1, default=float))


if __name__ == '__main__':
    main()
