"""The shipped recipe: a new temporal head (and frame head) on the shipped backbone's frozen features, judged
group-held-out and leave-one-family-out, calibrated so every verdict is reachable, and shipped with its model card.

    python scripts/train_head.py --data ../shared/data/manifest.csv --out runs/head [--recipe shipped] [--FIELD ...] [--ship]

Steps (each cached, so a rerun with the same manifest resumes; a feature folder made for another manifest is
refused): faces of every clip (chapter 02's cache, ~10 min on 2 cores); frozen per-frame features of the main face
track (the shipped backbone under bf16 autocast, and its crop-level degraded copy); out-of-fold scores over 5 group
folds, leave-one-family-out scores and, when the manifest gives each clip's origin, cross-dataset scores
(research/generalise/PLAN.md); the final head on every clip; temperature, threshold and uncertain band from the
cross-dataset scores of the clips the frozen backbone never saw (`--calibrate-on`, amendment 27); the checkpoint
OUT/model.{safetensors,json} and OUT/fold0.* ... OUT/fold4.* (each trained without its fold, for scripts/robustness.py
with OUT/index.csv); with --ship, the package's default model and docs/model_card.md.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torchvision.transforms.v2.functional as TF
from torch import nn

from deepfake_detect.cli import UsageError, add_recipe_args, args_recipe
from deepfake_detect.data import (assign_folds, backbone_training_clips, cross_dataset_folds, default_cache_root, family_of, index_manifest, is_copy, load_record, merged_groups,
                                  normalize_clip, pick_frames, preprocess, video_fingerprint, with_reencoded_copies)
from deepfake_detect.evaluate import (MIN_BOOT, MIN_CALIBRATION_VIDEOS, calibrate_verdicts, cross_fit_verdicts, group_bootstrap,
                                      log_loss, screen_verdict, verdict_mix, verdict_shares)
from deepfake_detect.model import DeepfakeDetector, cpu_summary, default_model_path, format_measure, load_default, save_checkpoint, set_threads, sigmoid, unmeasured
from deepfake_detect.train import HEAD_FIELDS, Recipe, paired_win_rate, roc_auc

ROOT = Path(__file__).resolve().parents[1]
SETS = ('ship_full', 'ship_mouth', 'img_full', 'img_mouth')


# ---------------------------------------------------------------- features
def mouth_square(landmarks, S):
    """(x0, y0, side) in px, ints: the lower-face square of a face crop S px wide whose MTCNN landmarks (5, 2) are
    `landmarks` (crop coordinates): centred between the nose and the mouth corners, 2.4 x the mouth's width (0.35-0.7 S)."""
    nose, ml, mr = landmarks[2], landmarks[3], landmarks[4]
    cx, cy = float((ml[0] + mr[0] + nose[0]) / 3), float((ml[1] + mr[1]) / 2 * 0.75 + nose[1] * 0.25)
    side = float(np.clip(2.4 * abs(mr[0] - ml[0]), 0.35 * S, 0.7 * S))
    return int(np.clip(cx - side / 2, 0, S - side)), int(np.clip(cy - side / 2, 0, S - side)), int(side)


def mouth_crops(crops, landmarks, out=224):
    "Lower-face squares (T, 3, out, out) uint8 (`mouth_square`) of each crop (T, 3, S, S) uint8."
    S, views = crops.shape[-1], []
    for c, lm in zip(crops, landmarks):
        x0, y0, side = mouth_square(lm, S)
        views.append(TF.resize(c[:, y0:y0 + side, x0:x0 + side], [out, out], antialias=True))
    return torch.stack(views)


def degrade(crops, crf, half):
    """Face crops (T, 3, S, S) uint8 as a re-encoded source would give them: with `half`, shrunk to S/2 px (the face of
    a half-resolution copy) and scaled back up after decoding; then the track encoded as one H.264 clip at `crf`
    (libx264, veryfast) and decoded. A crop-level stand-in for re-encoding whole files (compression erases blend
    seams; research/generalise/PLAN.md, amendment 3)."""
    import tempfile
    from deepfake_detect.video import ffmpeg_exe
    T, _, S, _ = crops.shape
    x = TF.resize(crops, [S // 2] * 2, antialias=True) if half else crops
    s = x.shape[-1]
    raw = x.permute(0, 2, 3, 1).contiguous().numpy().tobytes()
    with tempfile.TemporaryDirectory() as d:
        mp4 = Path(d) / 'track.mp4'
        enc = [ffmpeg_exe(), '-y', '-nostdin', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{s}x{s}',
               '-r', '10', '-i', '-', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', str(crf), '-pix_fmt', 'yuv420p', mp4]
        subprocess.run(enc, input=raw, check=True, capture_output=True)
        dec = [ffmpeg_exe(), '-nostdin', '-loglevel', 'error', '-i', mp4, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']
        out = subprocess.run(dec, check=True, capture_output=True).stdout
    y = torch.from_numpy(np.frombuffer(out, np.uint8).reshape(-1, s, s, 3)[:T].copy()).permute(0, 3, 1, 2)
    return TF.resize(y, [S, S], antialias=True) if half else y


def degradation(row, seed=0):
    "The (crf, half) drawn for clip `row`: CRF uniform in 23..40; half resolution for half the clips (CRF 23-32 then)."
    rng = np.random.default_rng([seed, int(row)])
    half = bool(rng.random() < 0.5)
    return int(rng.integers(23, 33 if half else 41)), half


class InputError(ValueError):
    "What the user gave cannot be used as it is (a feature folder of another manifest): one line, no traceback."


def has_features(npz, path):
    """True when feature file `npz` holds the features of video `path`; False when it is absent or unreadable (a run
    interrupted while writing: compute it again); ValueError when it holds another video's (the folder was made for
    another manifest or index, whose rows differ: never read, never overwritten)."""
    try:
        with np.load(npz) as z: theirs = str(z['path'])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile): return False
    if Path(theirs).resolve() != Path(path).resolve():
        raise InputError(f"{Path(npz).parent}: {Path(npz).name} holds the features of {theirs}, not of {path}: the "
                         "folder was made for another manifest or index (or the videos moved); give a new --features folder")
    return True


def clip_frames(cache, n_frames=32):
    """(face crops (n_frames, 3, S, S) uint8, their 5-point landmarks (n_frames, 5, 2) float32 numpy) of track 0 of a
    face cache (chapter 02), at `pick_frames`' evenly spread positions: the frames every clip-level feature is read from."""
    tr = load_record(cache)['tracks'][0]
    pos = pick_frames(len(tr['crops']), n_frames)
    return tr['crops'][pos], tr['landmarks'][pos].numpy()


def backbone_features(backbone, crops, cfg, bf16=False):
    """(T, F) float16 numpy: `backbone` ((T, 3, S, S) float32 -> (T, F)) on face crops (T, 3, S, S) uint8, normalised by
    the checkpoint config `cfg`'s mean and std, without gradients and, with `bf16`, under bf16 autocast where the CPU
    has it (as the Predictor runs)."""
    from deepfake_detect.model import autocast
    with torch.inference_mode(), autocast('cpu', enabled=bf16):
        return backbone(normalize_clip(crops, cfg['mean'], cfg['std'])).float().numpy().astype(np.float16)


def clip_features(index, out, n_frames=32, log=print, sets=SETS, bf16=False):
    """Write OUT/<row>.npz ({set: (T, 1280) fp16} for `sets`) for each clip with a face; returns the seconds per
    clip computed now (None when all were cached). Sets: ship_/img_ (the shipped
    or ImageNet backbone) × full/mouth (whole face, lower face), and ship_aug (the whole face after `degrade`).
    With `bf16`, the backbones run under bf16 autocast where the CPU has it, as the Predictor does."""
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    ship, cfg = load_default()
    img = DeepfakeDetector('efficientnet_lite0', pretrained=True).eval()
    nets = dict(ship=ship, img=img)
    t0, done = time.time(), 0
    for row, r in index.iterrows():
        dst = out / f'{row}.npz'
        if r.status != 'ok' or has_features(dst, r.path): continue
        crops, lms = clip_frames(r.cache, n_frames)
        views = dict(full=lambda: crops, mouth=lambda: mouth_crops(crops, lms),
                     aug=lambda: degrade(crops, *degradation(row)))
        feats = {name: backbone_features(nets[name.split('_')[0]].backbone, views[name.split('_')[1]](), cfg, bf16)
                 for name in sets}
        part = dst.with_name(f'{row}.part.npz')
        np.savez(part, **feats, path=r.path)
        os.replace(part, dst)   # whole or absent, never half-written
        done += 1
        if done % 50 == 0: log(f"features: {done} clips, {(time.time() - t0) / done:.1f} s/clip", flush=True)
    return (time.time() - t0) / done if done else None


def whole_file_copies(index, out, cache, seed=0, log=print):
    """Features of one copy of each clip with a face re-encoded from the whole file (chapter 02's `reencoded_copies`:
    H.264, CRF 23-40, frame scale 1, 0.75 or 0.5; written once under CACHE/reencoded), its faces found again by
    `preprocess`: OUT/<row>.npz ({'ship_full': (T, 1280) fp16}) under the row of its source clip, for each copy with a
    face. Returns ({row: the copy's path} of the copies with a face, the number of clips whose copy has none: they
    keep the crop-level copy)."""
    ok = index[index.status == 'ok']
    both = with_reencoded_copies(ok.assign(split='train'), cache, copies=1, seed=seed, workers=2, progress=False)
    copies = both[is_copy(both)]
    rows = ok['row'] if 'row' in ok else ok.index   # an index written by a run keeps its feature rows (load_features)
    copies = copies.set_index(copies.source.map(dict(zip(ok.path, rows))))   # each copy under its source's row
    clip_features(copies, out, sets=('ship_full',), bf16=True, log=log)
    found = copies[copies.status == 'ok']
    return dict(zip(found.index, found.path)), int(len(ok) - len(found))


def with_whole_file_copies(ix, X, copies, paths):
    """X with `ship_aug` replaced, clip by clip, by the whole-file copy's features in folder `copies` where there is
    one: `paths` {row: the copy's path}, as `whole_file_copies` returns it; a file holding another video's features is
    an InputError (`has_features`)."""
    aug = [np.load(copies / f'{r}.npz')['ship_full'].astype(np.float32)
           if r in paths and has_features(copies / f'{r}.npz', paths[r]) else X['ship_aug'][i] for i, r in enumerate(ix.row)]
    return dict(X, ship_aug=np.stack(aug))


def load_features(index, features):
    "(index of the clips with features, folds and families; {set: (N, T, F) float32})."
    ix = index[index.status == 'ok'].copy()
    ix['row'] = ix['row'] if 'row' in ix else ix.index   # an index written by a run keeps its feature rows
    ix = ix[[(Path(features) / f'{r}.npz').exists() for r in ix.row]].reset_index(drop=True)
    for r, p in zip(ix.row, ix.path):
        if not has_features(Path(features) / f'{r}.npz', p):
            raise InputError(f"{features}/{r}.npz: unreadable (an interrupted run? computing the features again replaces it)")
    X = {}
    for r in ix.row:
        z = np.load(Path(features) / f'{r}.npz')
        for s in z.files:
            if s != 'path': X.setdefault(s, []).append(z[s].astype(np.float32))
    ix = assign_folds(ix, 5, seed=0)
    ix['family'] = [family_of(m, l) for m, l in zip(ix.method, ix.label)]
    return ix, {s: np.stack(v) for s, v in X.items()}


# ---------------------------------------------------------------- heads
def pooled(F): return np.concatenate([F.mean(1), F.std(1)], 1)


class LR:
    """Standardised logistic regression on time-pooled features (`pool`: (N, T, F) → (N, D), default mean and spread);
    C picked by inner group 3-fold CV on AUC."""
    def __init__(self, Cs=(0.001, 0.01, 0.1), pool=None): self.Cs, self.pool = Cs, pool or pooled
    def fit(self, F, y, groups):
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GroupKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        X = self.pool(F)
        make = lambda C: make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, class_weight='balanced'))
        def inner(C):
            s = np.zeros(len(y))
            for tr, va in GroupKFold(3).split(X, y, groups): s[va] = make(C).fit(X[tr], y[tr]).decision_function(X[va])
            return roc_auc(y, s)
        self.C = max(self.Cs, key=inner) if len(self.Cs) > 1 else self.Cs[0]
        self.m = make(self.C).fit(X, y)
        return self
    def __call__(self, F): return self.m.decision_function(self.pool(F))
    def linear(self):
        "(weight (2F,), bias) of the same function on raw pooled features: the scaler folded into the regression."
        sc, lr = self.m.named_steps['standardscaler'], self.m.named_steps['logisticregression']
        w = lr.coef_[0] / sc.scale_
        return w, float(lr.intercept_[0] - (w * sc.mean_).sum())


class LSTMHead(nn.Module):
    "The product's temporal head (chapter 04): 2-layer LSTM over frame features, mean over time, dropout, linear."
    def __init__(self, F, hidden=256, layers=2, dropout=0.3):
        super().__init__()
        self.lstm = nn.LSTM(F, hidden, layers, batch_first=True, dropout=dropout)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, 1))
    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out.mean(1)).squeeze(-1)


class LSTM:
    "Train an LSTMHead on frame features (N, T, F): AdamW, balanced BCE, one-cycle, random windows of 8-16 frames."
    def __init__(self, epochs=15, lr=1e-3, seed=0, window=(8, 16)): self.epochs, self.lr, self.seed, self.window = epochs, lr, seed, window
    def fit(self, F, y, groups=None):
        torch.manual_seed(self.seed)
        g = torch.Generator().manual_seed(self.seed)
        X, Y = torch.from_numpy(F), torch.from_numpy(y.astype(np.float32))
        self.net = LSTMHead(F.shape[-1])
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=1e-2)
        pos = torch.tensor((len(y) - y.sum()) / max(y.sum(), 1), dtype=torch.float32)
        steps = self.epochs * int(np.ceil(len(y) / 32))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, self.lr, total_steps=steps)
        self.net.train()
        for _ in range(self.epochs):
            for b in torch.randperm(len(y), generator=g).split(32):
                T = X.shape[1]
                L = int(torch.randint(self.window[0], min(self.window[1], T) + 1, (1,), generator=g))
                s = int(torch.randint(0, T - L + 1, (1,), generator=g))
                x = X[b, s:s + L] + 0.05 * torch.randn(len(b), L, X.shape[2], generator=g) * X[b, s:s + L].std()
                loss = nn.functional.binary_cross_entropy_with_logits(self.net(x), Y[b], pos_weight=pos)
                opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        self.net.eval()
        return self
    def __call__(self, F):
        with torch.inference_mode(): return self.net(torch.from_numpy(F)).numpy()


class FrameLR:
    "The per-frame head: standardised logistic regression on single frames' features (for timelines and photos)."
    def fit(self, F, y, groups=None):
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
        X, Y = F.reshape(-1, F.shape[-1]), np.repeat(y, F.shape[1])
        self.scaler = StandardScaler().fit(X)
        self.m = LogisticRegression(C=0.01, max_iter=2000, class_weight='balanced').fit(self.scaler.transform(X), Y)
        return self
    def __call__(self, F): return self.m.decision_function(self.scaler.transform(F.reshape(-1, F.shape[-1]))).reshape(F.shape[:2])
    def linear(self):
        "(weight (F,), bias) of the same function on raw features: the scaler folded into the regression."
        w = self.m.coef_[0] / self.scaler.scale_
        return w, float(self.m.intercept_[0] - (w * self.scaler.mean_).sum())


# The shared data beside the repository (never copied into it): the manifest the shipped backbone and heads learnt from
SHARED_MANIFEST = ROOT.parent / 'shared' / 'data' / 'manifest.csv'

HEADS = {   # name: (head factory, feature sets, frames)
    'probe': (lambda: LR(Cs=(1.0,)), ('ship_full',), 16),
    'lr-ship': (LR, ('ship_full',), 32),
    'lr-img': (LR, ('img_full',), 32),
    'lr-ship+mouth': (LR, ('ship_full', 'ship_mouth'), 32),
    'lr-all': (LR, SETS, 32),
    'lstm-ship': (LSTM, ('ship_full',), 32),
    'lstm-img': (LSTM, ('img_full',), 32),
    'lstm-ship+mouth': (LSTM, ('ship_full', 'ship_mouth'), 32),
}


def feats(X, sets, T):
    F = np.concatenate([X[s] for s in sets], -1)
    return F[:, ::F.shape[1] // T][:, :T] if T < F.shape[1] else F


# ---------------------------------------------------------------- protocol
def with_copies(F, y, groups, extra=None):
    "(features, labels, groups) of clips `F`, and of their degraded copies `extra` (same labels and groups) if given."
    if extra is None: return F, y, groups
    return np.concatenate([F, extra]), np.tile(y, 2), np.tile(groups, 2)


def out_of_fold(ix, F, make, drop=None, extra=None, also=None):
    """Scores of every clip from a head trained on the other folds (without the fakes of family `drop`). `extra`: other
    features of the same clips (N, T, F), e.g. degraded copies, added to each training fold; `also`: features of the
    same clips scored by the same heads, returned as a second array."""
    y, g = (ix.label == 'fake').values.astype(int), ix.split_group.values
    s, s2 = np.full(len(ix), np.nan), np.full(len(ix), np.nan)
    for k in sorted(ix.fold.unique()):
        tr = (ix.fold != k).values
        if drop: tr = tr & (ix.family != drop).values
        te = (ix.fold == k).values
        head = make().fit(*with_copies(F[tr], y[tr], g[tr], None if extra is None else extra[tr]))
        out = head(F[te])
        if s.ndim < out.ndim: s = np.full((len(ix), *out.shape[1:]), np.nan)
        s[te] = out
        if also is not None: s2[te] = head(also[te])
    return s if also is None else (s, s2)


ENSEMBLE = ('lstm-ship', 'lr-ship')   # PLAN.md, amendment 2: each logit over the spread of its out-of-fold logits


_SCORES, DEGRADED = {}, {}   # per (head, augment): out-of-fold scores; those of the degraded copies (ship_aug)

def head_scores(ix, X, name, fams, augment=False):
    """Out-of-fold scores of head `name` and, per family in `fams`, those of the head trained without that family.
    With `augment`, every training fold also holds the degraded copy of each of its clips (`ship_aug`). When the
    features have `ship_aug`, the out-of-fold scores of the degraded copies land in DEGRADED[name, augment]."""
    if (name, augment) not in _SCORES: _SCORES[name, augment] = _head_scores(ix, X, name, fams, augment)
    return _SCORES[name, augment]

def _head_scores(ix, X, name, fams, augment):
    if name == 'ens':
        parts = {n: head_scores(ix, X, n, fams, augment) for n in ENSEMBLE}
        scale = {n: float(np.std(parts[n][0])) for n in ENSEMBLE}
        mix = lambda get: sum(get(n) / scale[n] for n in ENSEMBLE)
        if all((n, augment) in DEGRADED for n in ENSEMBLE): DEGRADED[name, augment] = mix(lambda n: DEGRADED[n, augment])
        return mix(lambda n: parts[n][0]), {f: mix(lambda n: parts[n][1][f]) for f in fams}, scale
    make, sets, T = HEADS[name]
    F = feats(X, sets, T)
    Fd = feats(X, ('ship_aug',), T) if sets == ('ship_full',) and 'ship_aug' in X else None
    extra = Fd if augment else None
    if Fd is None: s = out_of_fold(ix, F, make, extra=extra)
    else: s, DEGRADED[name, augment] = out_of_fold(ix, F, make, extra=extra, also=Fd)
    return s, {f: out_of_fold(ix, F, make, drop=f, extra=extra) for f in fams}, None


def _auc(d): return roc_auc(d.label == 'fake', d.p_fake)


def report(ix, s, n_boot=300):
    "AUC [CI], paired win rate [CI], and per-family AUC [CI] (each family's fakes against all reals) of scores `s`."
    df = ix.assign(p_fake=s)
    fams = []
    for f in sorted(set(df.family) - {'real', 'unknown'}):
        d = df[(df.family == f) | (df.label == 'real')]
        fams.append(dict(family=f, n_fake=int((d.label == 'fake').sum()), auc=_auc(d), auc_ci=group_bootstrap(_auc, d, n=n_boot)))
    pair = lambda d: paired_win_rate(d.reset_index(drop=True), d.p_fake.values)
    return dict(n=int(len(df)), n_real=int((df.label == 'real').sum()), n_fake=int((df.label == 'fake').sum()),
                auc=_auc(df), auc_ci=group_bootstrap(_auc, df, n=n_boot), pair_win=pair(df),
                pair_ci=group_bootstrap(pair, df, n=n_boot), per_family=fams)


def verdicts_at(cal, y, z):
    "`verdict_mix` of logits `z` (N,) with labels `y` (N,) 0/1 under calibration `cal` (`calibrate_verdicts`' dict)."
    return verdict_mix(y, sigmoid(np.asarray(z, np.float64) / cal['temperature']), cal['threshold'], cal['uncertain_band'])


def backbone_unseen(manifest, ix, oof, cal, ixs=None, n_boot=300, cal_rows=None):
    """The run's numbers on the clips the frozen backbone was not fine-tuned on (chapter 02's `backbone_training_clips`;
    PLAN.md amendment 25c), or None when `manifest` is not the shared one the backbone was trained from: `report` of
    the out-of-fold logits `oof` on them, the AUC on the clips it was (`seen_auc`, `n_seen`), their verdict mix at
    the run's calibration `cal`, and, given `ixs` (the cross-dataset index with its `logit`), the same on those scores;
    given `cal_rows` (the rows `cal` was fitted on, `calibration_rows`), also their verdicts as new videos get them
    (`held_out_verdicts`, fold by fold): `verdict_mix_held_out`."""
    try: seen = backbone_training_clips(manifest)
    except ValueError: return None
    y = (ix.label == 'fake').values.astype(int)
    was = ix.path.astype(str).isin(seen).values
    un = ~was
    r = dict(report(ix[un], oof[un], n_boot), verdict_mix=verdicts_at(cal, y[un], oof[un]), n_seen=int(was.sum()),
             seen_auc=roc_auc(y[was], oof[was]) if len(set(y[was])) == 2 else float('nan'))
    if cal_rows is not None: r['verdict_mix_held_out'] = held_out_verdicts(ix[un].assign(logit=oof[un]), cal_rows, ix)['verdict_mix']
    if ixs is not None:
        u = ~ixs.path.astype(str).isin(seen).values
        ys = (ixs.label == 'fake').values.astype(int)
        d = report(ixs[u], ixs.logit.values[u], n_boot)
        r['cross_dataset'] = dict(auc=d['auc'], auc_ci=d['auc_ci'], pair_win=d['pair_win'], per_family=d['per_family'],
                                  verdict_mix=verdicts_at(cal, ys[u], ixs.logit.values[u]))
        if cal_rows is not None: r['cross_dataset']['verdict_mix_held_out'] = held_out_verdicts(ixs[u], cal_rows, ixs)['verdict_mix']
    return r


CALIBRATE_ON = ('all', 'backbone-unseen', 'backbone-unseen-crossdataset')


def calibration_rows(on, oof, xd=None, seen=()):
    """The rows (path, label, fold, logit) the verdict is calibrated on (PLAN.md amendment 27): 'all', every clip's
    out-of-fold logit (`oof`); 'backbone-unseen', those of the clips not in `seen` (chapter 02's
    `backbone_training_clips`); 'backbone-unseen-crossdataset', those clips' cross-dataset logits (`xd`, with its
    cross-dataset folds). ValueError for another name, or without `xd` for the last."""
    if on not in CALIBRATE_ON: raise ValueError(f"calibrate on {on!r}: one of {', '.join(CALIBRATE_ON)}")
    if on == 'all': return oof
    d = oof if on == 'backbone-unseen' else xd
    if d is None: raise ValueError(f"calibrating on {on!r} needs the run's cross-dataset scores")
    return d[~d.path.astype(str).isin(set(seen))]


def held_out_verdicts(test, fit, folds=None):
    """The verdicts of `test`'s rows (label, logit, path and its protocol's `fold`) as a new video would get them: for
    each fold, temperature, threshold and band fitted on the rows of `fit` whose clip is not in that fold (chapter 06's
    `cross_fit_verdicts`). `folds`: the whole protocol's rows (path, fold) when `test` is part of it (default `test`),
    so that no clip of the fold, tested or not, is in its calibration. Returns {'verdict_mix', 'm': min(share of reals
    REAL, of fakes FAKE), 'max_uncertain', 'log_loss'}."""
    folds = test if folds is None else folds
    y = (test.label == 'fake').values.astype(int)
    fit_fold = fit.path.map(dict(zip(folds.path, folds.fold))).fillna(-1).values   # -1: in none of the protocol's folds
    lab, p = cross_fit_verdicts(y, test.logit.values, test.fold.values,
                                fit=((fit.label == 'fake').values.astype(int), fit.logit.values, fit_fold))
    mix = verdict_shares(y, lab)
    return dict(verdict_mix=mix, m=min(mix['real']['REAL'], mix['fake']['FAKE']),
                max_uncertain=max(mix['real']['UNCERTAIN'], mix['fake']['UNCERTAIN']), log_loss=log_loss(y, p))


def fit_calibration(on, manifest, oof, xd=None):
    """(name used, `calibrate_verdicts`' dict, the rows it was fitted on) for the shipped verdict, calibrated on
    `on` (`CALIBRATE_ON`; `oof`: the run's out-of-fold rows, `xd`: its cross-dataset rows or None). Falls back to
    'all', saying so, when `manifest` is not the one the backbone was trained from (its clips are then all unseen) or
    the cross-dataset scores it needs are missing."""
    seen = ()
    if on != 'all':
        try: seen = backbone_training_clips(manifest)
        except ValueError: print(f"calibrating on every clip: {manifest} is not the manifest the backbone was fine-tuned from", flush=True); on = 'all'
    if on == 'backbone-unseen-crossdataset' and xd is None:
        print("calibrating on every clip: no cross-dataset scores (the manifest gives no origin)", flush=True); on = 'all'
    rows = calibration_rows(on, oof, xd, seen)
    return on, calibrate_verdicts((rows.label == 'fake').values.astype(int), rows.logit.values), rows


def lofo_families(ix, min_clips=15):
    """The families with >= min_clips fakes (not 'unknown') and other fakes left to train on without them: the
    leave-one-family-out rows (none when all fakes are of one family)."""
    n = ix[ix.label == 'fake'].family.value_counts()
    return sorted(f for f, k in n.items() if f != 'unknown' and k >= min_clips and n.sum() - k >= min_clips)


def lofo(ix, scores, n_boot=300):
    "Leave-one-family-out: per family, AUC of its fakes (scored by heads trained without it) vs held-out reals."
    rows = []
    for fam, s in sorted(scores.items()):
        d = ix.assign(p_fake=s)[((ix.family == fam) | (ix.label == 'real')).values]
        rows.append(dict(family=fam, n_fake=int((d.label == 'fake').sum()), auc=_auc(d), auc_ci=group_bootstrap(_auc, d, n=n_boot)))
    return rows


def screen_args(doc):
    """The command line of a screen on a finished run (research/generalise/*.py: --run, --features, --out), parsed, with
    torch on 2 threads; returns (args, `finished_run` of them)."""
    ap = argparse.ArgumentParser(description=doc.split('\n')[0])
    ap.add_argument('--run', required=True, help='a scripts/train_head.py output folder (index.csv, oof_crossdataset.csv)')
    ap.add_argument('--features', required=True); ap.add_argument('--out', required=True)
    a = ap.parse_args()
    set_threads(2)
    return a, finished_run(a.run, a.features)


def screen_row(name, ix, ixs, y, oof, by_family, xd):
    """One candidate of a screen on a finished run, printed: `report` and leave-one-family-out of its out-of-fold scores
    `oof` and {family: scores} `by_family`, their mean, the AUC of its cross-dataset scores `xd` (rows of `ixs`), and
    the calibration and verdict mix `calibrate_verdicts` fits on `oof` (labels `y`)."""
    r = dict(report(ix, oof, 200), lofo=lofo(ix, by_family, 200))
    r['lofo_mean'] = float(np.mean([x['auc'] for x in r['lofo']]))
    r['cross_dataset_auc'] = roc_auc((ixs.label == 'fake').values, xd)
    cal = calibrate_verdicts(y, oof)
    r['verdict_mix'], r['calibration'] = cal['verdict_mix'], {k: v for k, v in cal.items() if k != 'verdict_mix'}
    print(head_line(name, r) + f" | cross-dataset {r['cross_dataset_auc']:.3f} | verdicts {r['verdict_mix']}", flush=True)
    return r


def expert_scores(ix, ixs, F, at, make, fams, extra=None, also=None):
    """(out-of-fold, {family: leave-one-family-out}, cross-dataset) scores of one expert of a screen on a finished run
    (`out_of_fold` on `ix`, without each family, and on the cross-dataset rows `ixs` = rows `at` of `ix`); with
    `extra`/`also`, as `out_of_fold` takes them, each score a (scores, scores of `also`) pair."""
    at_ = lambda A: None if A is None else A[at]
    run = lambda drop=None: out_of_fold(ix, F, make, drop=drop, extra=extra, also=also)
    return run(), {f: run(f) for f in fams}, out_of_fold(ixs, F[at], make, extra=at_(extra), also=at_(also))


def screen_ensembles(combos, E, ix, ixs, y):
    """{name: `screen_row`} of each ensemble (name, expert names) of `combos`, the experts' `expert_scores` in E, each
    over the spread of its out-of-fold logits, as shipped."""
    res = {}
    for name, parts in combos:
        scale = {p: float(np.std(E[p][0])) for p in parts}
        mix = lambda get: sum(get(p) / scale[p] for p in parts)
        res[name] = screen_row(name, ix, ixs, y, mix(lambda p: E[p][0]), {f: mix(lambda p: E[p][1][f]) for f in E[parts[0]][1]},
                               mix(lambda p: E[p][2]))
    return res


def save_experts(out, E):
    """Each expert's `expert_scores` in E ({name: (out-of-fold, {family: left out}, cross-dataset)}) to OUT/experts.npz,
    keyed 'name/oof', 'name/xd' and 'name/lofo/family' (read back by research/generalise/pairrank.py)."""
    np.savez(Path(out) / 'experts.npz', **{f'{e}/{part}': v for e, (oof, lofo, xd) in E.items()
                                          for part, v in (('oof', oof), ('xd', xd), *((f'lofo/{f}', s) for f, s in lofo.items()))})


def unseen_masks(*indexes):
    """A bool mask (N,) for each index of the rows whose clip the frozen backbone was not fine-tuned on (chapter 02's
    `backbone_training_clips` of the shared manifest; research/generalise/PLAN.md amendment 25c)."""
    seen = backbone_training_clips(SHARED_MANIFEST)
    return tuple(~d.path.astype(str).isin(seen).values for d in indexes)


def write_screen(out, res, rules=None):
    "A screen's results `res` to OUT/screen.json, and each candidate judged (`judge`, with `rules`)."
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    (out / 'screen.json').write_text(json.dumps(res, indent=1, default=float))
    return judge(res, rules=rules)


def cache_clips(run, out, compute, name):
    """For every clip with a face of RUN/index.csv, OUT/<row>.npz holding the arrays {name: array} that `compute(row)`
    returns (a research screen's per-clip cache): clips already there are skipped, each file appears whole (written
    as .part, then renamed), and a clip that fails is printed and left out. Progress every 50 clips, as `name`."""
    ix = pd.read_csv(Path(run) / 'index.csv')
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    t0, done = time.time(), 0
    for r in ix[ix.status == 'ok'].itertuples():
        dst = out / f'{r.row}.npz'
        if dst.exists(): continue
        try: arrays = compute(r)
        except Exception as e:   # noqa: BLE001 (one clip that cannot be read again does not stop the cache)
            print(f"{r.path}: {type(e).__name__}: {e}", flush=True); continue
        np.savez(out / f'{r.row}.part.npz', **arrays)
        (out / f'{r.row}.part.npz').replace(dst)
        done += 1
        if done % 50 == 0: print(f"{name}: {done} clips, {(time.time() - t0) / done:.2f} s/clip", flush=True)


def cache_or_screen(doc, cache, screen):
    """The command line of a two-step screen (`cache --run RUN --out OUT`, then `screen --run RUN --features FEATURES
    --out OUT`): calls cache(run, out) on 2 threads, or screen(args)."""
    ap = argparse.ArgumentParser(description=doc.split('\n')[0])
    ap.add_argument('step', choices=('cache', 'screen')); ap.add_argument('--run', required=True)
    ap.add_argument('--features'); ap.add_argument('--out', required=True)
    a = ap.parse_args()
    if a.step == 'screen' and not a.features: ap.error('screen needs --features')
    if a.step == 'screen': return screen(a)
    set_threads(2)
    cache(a.run, a.out)


def judge(res, control='ens', rules=None):
    """Each candidate of a screen's results `res` ({name: `screen_row` dict}) against `res[control]` by chapter 06's
    `screen_verdict`, with `rules` ({name: keyword arguments}) where an amendment fixed another rule; printed, and
    returned as {name: (passed, failed conditions)}. Every entry with a verdict mix is judged, including those a
    plan reports beside its candidates (PLAN.md says which are candidates)."""
    out = {}
    if control not in res:   # a descriptive screen (PLAN.md says so): reported, not judged
        print(f"no {control!r} in this screen: nothing judged", flush=True); return out
    for name, r in res.items():
        if name == control or not isinstance(r, dict) or 'verdict_mix' not in r: continue
        out[name] = screen_verdict(r, res[control], **(rules or {}).get(name, {}))
        print(f"{name}: {'taken' if out[name][0] else 'not taken: ' + '; '.join(out[name][1])}", flush=True)
    return out


def cross_dataset_rows(ix, xd):
    """(`ixs`: the clips of `ix` that a run's cross-dataset scores (RUN/oof_crossdataset.csv, read as `xd`) cover, with
    their cross-dataset `fold`; `at`: each row of `ixs` as a row number of `ix`)."""
    ixs = ix.drop(columns=['fold']).merge(xd[['path', 'fold']], on='path', how='inner')
    return ixs, pd.Series(np.arange(len(ix)), index=ix.path)[ixs.path].values


def finished_run(run, features):
    """What a screen needs to compare heads on a finished run's protocol (research/generalise/*.py): (`ix` with its
    group folds, X {set: (N, T, F) float32}, `ixs`: the clips with the run's cross-dataset folds (RUN/oof_crossdataset.csv),
    `at`: each row of `ixs` as a row of `ix`, the leave-one-family-out families, F: 32 frames of `ship_full`, y 0/1)."""
    run = Path(run)
    ix, X = load_features(pd.read_csv(run / 'index.csv'), features)
    ixs, at = cross_dataset_rows(ix, pd.read_csv(run / 'oof_crossdataset.csv'))
    return ix, X, ixs, at, lofo_families(ix), feats(X, ('ship_full',), 32), (ix.label == 'fake').values.astype(int)


def cross_dataset(ixs, X, name, augment, scale, n_boot=300):
    """Cross-dataset evaluation (research/generalise/PLAN.md, amendment 12): head `name` (a HEADS key or 'ens') scored
    out of fold over the folds of `ixs`, the index as chapter 02's `cross_dataset_folds` returns it (no clip of a
    video's origin, person or pair was trained on). `X`: {feature set: (N, T, F) float32} aligned with `ixs`;
    `augment`: train with the degraded copies (`ship_aug`); `scale`: {head: spread} of the main run's out-of-fold
    logits, used to mix the ensemble (None for one head). Returns (`report`'s dict plus `n_sources` and `protocol`;
    `ixs` with a `logit` column)."""
    z = 0
    for n in (ENSEMBLE if name == 'ens' else (name,)):
        make, sets, T = HEADS[n]
        extra = feats(X, ('ship_aug',), T) if augment else None
        s = out_of_fold(ixs, feats(X, sets, T), make, extra=extra)
        z = z + (s / scale[n] if scale else s)
    return (dict(report(ixs, z, n_boot), n_sources=int(ixs.origin.nunique()),
                 protocol='5 folds by source (chapter 02 cross_dataset_folds), out-of-fold'), ixs.assign(logit=z))


def head_line(name, r):
    "One line of a head's results `r` (report + lofo): OOF AUC [CI], paired win rate, degraded AUC if any, LOFO AUCs."
    degraded = f" degraded {r['degraded_auc']:.3f}" if 'degraded_auc' in r else ''
    return (f"{name:11} AUC {r['auc']:.3f} [{r['auc_ci'][0]:.2f}, {r['auc_ci'][1]:.2f}] pair {r['pair_win']:.2f}{degraded} "
            "| LOFO " + (' '.join(f"{x['family']} {x['auc']:.2f}" for x in r['lofo'])
                         + f" | mean {np.mean([x['auc'] for x in r['lofo']]):.3f}" if r['lofo'] else 'n/a (no family to leave out)'))


def print_heads(ix, X, names, n_boot=200):
    "One line per head of `names` (in HEADS), as `head_line`."
    fams = lofo_families(ix)
    for name in names:
        s, by_family, _ = head_scores(ix, X, name, fams)
        print(head_line(name, dict(report(ix, s, n_boot), lofo=lofo(ix, by_family, n_boot))), flush=True)


# ---------------------------------------------------------------- the checkpoint
def _set_linear(layer, w, b):
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(w, dtype=torch.float32)[None]); layer.bias.fill_(b)


def build_model(head, frame, pool=None, scale=None):
    """The shipped backbone with the new LSTM head and frame head as a DeepfakeDetector; with `pool` (an LR) and
    `scale` ({head: out-of-fold logit spread}), the ensemble: the pooled head and the mixing weights too."""
    shipped, _ = load_default()
    model = DeepfakeDetector('efficientnet_lite0', pretrained=False, pooled=pool is not None)
    model.backbone.load_state_dict(shipped.backbone.state_dict())   # every head is set below
    model.lstm.load_state_dict(head.net.lstm.state_dict())
    model.head.load_state_dict(head.net.head.state_dict())
    _set_linear(model.frame_head, *frame.linear())
    if pool is not None:
        _set_linear(model.pool_head, *pool.linear())
        model.mix.copy_(torch.tensor([1 / scale['lstm-ship'], 1 / scale['lr-ship']]))
    return model.eval()


def fit_heads(name, F, y, groups, extra=None):
    "(LSTM head, pooled LR head or None) fitted on every clip given (and on `extra`, their degraded copies)."
    F, y, groups = with_copies(F, y, groups, extra)
    if name == 'ens': return LSTM().fit(F, y, groups), LR().fit(F, y, groups)
    return HEADS[name][0]().fit(F, y, groups), None


def fold_model(out, k):
    "Where a run saves the heads trained without fold k (OUT/fold{k}.safetensors + .json): read by scripts/robustness.py."
    return Path(out) / f'fold{int(k)}'


def save_fold_models(ix, F, y, Fd, head, scale, cfg, out):
    """OUT/fold{k}.{safetensors,json} for every fold k: the heads trained without fold k's clips, with the run's
    calibration, so that scripts/robustness.py can score each fold's files with a model that never saw them
    (`--folds`; fold 0 alone with `--model OUT/fold0`, whose files OUT/index.csv marks 'valid')."""
    g = ix.split_group.values
    for k in sorted(ix.fold.unique()):
        keep = (ix.fold != k).values
        extra = None if Fd is None else Fd[keep]
        (h, p) = fit_heads(head, F[keep], y[keep], g[keep], extra)
        f = FrameLR().fit(*with_copies(F[keep], y[keep], g[keep], extra))
        save_checkpoint(build_model(h, f, p, scale), fold_model(out, k), **dict(cfg, model_id=f"{cfg['model_id']}-fold{k}"))
        print(f"fold {k}: heads trained without its {int((~keep).sum())} clips -> {fold_model(out, k)}", flush=True)


def training_counts(ix):
    """What a checkpoint records of its training clips `ix`: counts per label/method and per fake family, codecs, and
    each clip's `video_fingerprint` (chapter 07: the Predictor and `evaluate` say when a file was training data)."""
    count = lambda d: {f'{l}/{m}': int(n) for (l, m), n in d.groupby(['label', 'method']).size().items()}
    fam = ix[ix.label == 'fake'].family.value_counts().to_dict()
    return dict(train=count(ix), families={k: int(v) for k, v in fam.items()}, codecs=sorted(set(ix.codec.dropna()) - {''}),
                blend_masks=['ellipse', 'mouth'], backbone_from='default-efficientnet_lite0-sbi-mouth-lstm (frozen)',
                fingerprints=sorted({video_fingerprint(p) for p in ix.path}))


def check_trainable(index, n_folds=5):
    """SystemExit with one line unless the clips with a face (index `status` 'ok') hold real and fake videos in at
    least `n_folds` person/scene groups each (joined through pair_group): what 5 group folds need."""
    ok = index[index.status == 'ok']
    counts = index.status.value_counts().to_dict()
    print(f"{len(index)} clips: " + ', '.join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items()))
          + (" (reasons in the face cache's preprocess.log)" if len(ok) < len(index) else ''), flush=True)
    if not len(ok):
        raise SystemExit(f"train_head: none of the {len(index)} clips has a face to train on (clip paths are relative "
                         "to the manifest's folder)")
    per = ok.assign(g=merged_groups(ok).values).groupby('label').g.nunique().reindex(['real', 'fake'], fill_value=0)
    if per.min() < n_folds:
        raise SystemExit(f"train_head: {per['real']} real and {per['fake']} fake person/scene groups (joined through "
                         f"pair_group) have a face; {n_folds} folds need at least {n_folds} of each")


MAX_SHIP_MB = 25   # issue 21: the shipped checkpoint stays small enough for the package


def ship_problems(cfg, weights, shipped=None):
    """Why checkpoint config `cfg` (its safetensors at `weights`) should not replace the package's default: a list of
    one-line reasons, empty when it may. `shipped`: the current default's config, whose out-of-fold and cross-dataset
    AUC the new one must not fall below (a developer ships a worse model only on purpose: `--force`)."""
    m, out = cfg['metrics'], []
    mb = Path(weights).stat().st_size / 2 ** 20
    if mb > MAX_SHIP_MB: out.append(f"weights {mb:.1f} MB > {MAX_SHIP_MB} MB")
    cal = cfg.get('calibration') or m   # the videos temperature, threshold and band were fitted on
    n = min(cal.get('n_real', 0), cal.get('n_fake', 0))
    if n < MIN_CALIBRATION_VIDEOS: out.append(f"only {n} videos of a class: too few to calibrate a shipped verdict")
    mix = m.get('verdict_mix') or {}
    for k, label in (('real', 'REAL'), ('fake', 'FAKE')):
        share = (mix.get(k) or {}).get(label)
        if unmeasured(share) or share <= 0:
            out.append(f"no held-out {k} video gets {label}: that verdict is unreachable")
    for key, name in (('auc', 'out-of-fold AUC'), ('cross_dataset', 'cross-dataset AUC')):
        new, old = m.get(key), (shipped or {}).get('metrics', {}).get(key)
        if key == 'cross_dataset': new, old = (new or {}).get('auc'), (old or {}).get('auc')
        if not unmeasured(old) and (unmeasured(new) or new < old - 1e-9):   # unmeasured counts as below
            out.append(f"{name} {format_measure(new)} below the shipped model's {old:.3f}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default=str(SHARED_MANIFEST))
    ap.add_argument('--out', default='runs/head'); ap.add_argument('--cache', default=None)
    ap.add_argument('--features', default=None, help='feature folder (default OUT/features)')
    ap.add_argument('--compare', nargs='*', default=['probe', 'lstm-ship', 'lr-ship'], choices=['probe', 'lstm-ship', 'lr-ship'],
                    help='heads reported beside it (same protocol)')
    ap.add_argument('--boot', type=int, default=300); ap.add_argument('--model-id', default=None, help='default: default-efficientnet_lite0-sbi-HEAD-558')
    ap.add_argument('--ship', action='store_true', help='copy the model into the package and write docs/model_card.md, '
                    'unless it is larger than 25 MB, leaves a verdict unreachable, was calibrated on < 20 videos of a class, '
                    "or falls below the shipped model's out-of-fold or cross-dataset AUC")
    ap.add_argument('--force', action='store_true', help='with --ship: ship even when those checks fail')
    ap.add_argument('--calibrate-on', choices=CALIBRATE_ON, default='backbone-unseen-crossdataset',
                    help="the logits temperature, threshold and uncertain band are fitted on (PLAN.md amendment 27): every clip's "
                         "out-of-fold logit, those of the clips the frozen backbone was not fine-tuned on, or (default) their "
                         "cross-dataset logits; manifests other than the shared one use every clip")
    add_recipe_args(ap)   # chapter 05's Recipe: --recipe NAME, then --FIELD overrides (heads use head, degraded_copies)
    ap.set_defaults(recipe='shipped')
    a = ap.parse_args()
    try: recipe = args_recipe(a)
    except UsageError as e: ap.error(str(e))
    other = [f.name for f in fields(Recipe) if hasattr(a, f.name) and f.name not in HEAD_FIELDS]
    if other:
        ap.error(f"{', '.join('--' + n.replace('_', '-') for n in other)}: this script trains heads on the shipped backbone "
                 "and reads only --head, --degraded-copies and --reencode (it checks --backbone, --init and --heads-only; "
                 "the heads' own settings are fixed and "
                 "recorded under `heads` in the checkpoint); train a backbone with `deepfake-detect train`")
    if a.boot < MIN_BOOT: ap.error(f"--boot {a.boot}: a 95 % interval needs at least {MIN_BOOT} resamples (300 by default)")
    if not (recipe.heads_only and recipe.init == 'default' and recipe.backbone == 'efficientnet_lite0'):
        ap.error(f"recipe {a.recipe!r} is not a heads-only recipe on the shipped backbone: train it with "
                 "`deepfake-detect train` (chapter 05)")
    a.head, a.augment = ('lstm-ship' if recipe.head == 'lstm' else 'ens'), recipe.degraded_copies
    if recipe.reencode not in (0, 1): ap.error(f"--reencode {recipe.reencode}: here 0 or 1 (one whole-file copy a clip)")
    if recipe.reencode and not a.augment:
        ap.error("--reencode 1 makes the degraded copies from whole files: give it with --degraded-copies")
    set_threads(2)
    copies = '-reenc' if recipe.reencode else '-aug' if a.augment else ''
    a.model_id = a.model_id or f"default-efficientnet_lite0-sbi-{a.head}{copies}-558"
    t_start, out = time.time(), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    try: manifest = index_manifest(a.data)
    except ValueError as e: raise SystemExit(f"train_head: {e}") from None
    index = preprocess(manifest, a.cache or default_cache_root(), workers=2, progress=False)
    check_trainable(index)
    features = Path(a.features or out / 'features')
    s_per_clip = clip_features(index, features, sets=('ship_full', 'ship_aug'), bf16=True)   # as the Predictor does
    ix, X = load_features(index, features)
    if recipe.reencode:   # the degraded copies re-encoded from whole files, faces found again (PLAN.md amendment 7)
        paths, lost = whole_file_copies(index, features / 'reencoded', a.cache or default_cache_root(), seed=recipe.seed)
        X = with_whole_file_copies(ix, X, features / 'reencoded', paths)
        print(f"whole-file copies: {len(ix) - lost} with a face; {lost} keep the crop-level copy", flush=True)
    y = (ix.label == 'fake').values.astype(int)
    print(f"{len(ix)} clips with a face ({y.sum()} fake); fake families {ix[ix.label == 'fake'].family.value_counts().to_dict()}", flush=True)
    results, fams = {}, lofo_families(ix)
    runs = [(a.head, a.augment)] + [(a.head, False)] * a.augment + [(h, False) for h in a.compare if h != a.head]
    for name, aug in runs:
        s, by_family, sc = head_scores(ix, X, name, fams, aug)
        sets = ('ship_full',) if name == 'ens' else HEADS[name][1]
        key = name + ('+augment' if aug else '') + ('' if aug or not a.augment or name != a.head else ' (no augment)')
        results[key] = dict(report(ix, s, a.boot), lofo=lofo(ix, by_family, a.boot), features=list(sets))
        if (name, aug) in DEGRADED: results[key]['degraded_auc'] = roc_auc(y, DEGRADED[name, aug])
        print(head_line(key, results[key]), flush=True)
        if (name, aug) == (a.head, a.augment): oof, scale, main_key = s, sc, key
    cols = [c for c in ('path', 'label', 'method', 'family', 'fold', 'split_group', 'pair_group', 'logit') if c in ix or c == 'logit']
    oof_rows = ix.assign(logit=oof)[cols]
    oof_rows.to_csv(out / 'oof.csv', index=False)
    xd = None
    if 'origin' in ix:   # the manifest says where each clip comes from (the shared one's source_repo)
        try: ixs = cross_dataset_folds(ix, 5, seed=0)
        except ValueError as e: print(f"cross-dataset evaluation skipped: {e}", flush=True)
        else:
            xd, ixs = cross_dataset(ixs, X, a.head, a.augment, scale, a.boot)
            ixs = ixs[[c for c in cols if c in ixs] + ['origin']]
    on, cal, cal_rows = fit_calibration(a.calibrate_on, a.data, oof_rows, ixs if xd else None)
    print(f"verdict calibrated on {on} ({len(cal_rows)} clips): {json.dumps({k: v for k, v in cal.items() if k != 'verdict_mix'})}", flush=True)
    if xd: xd['verdict_mix'] = verdicts_at(cal, (ixs.label == 'fake').values.astype(int), ixs.logit.values)
    bu = backbone_unseen(a.data, ix, oof, cal, ixs if xd else None, a.boot, cal_rows)
    if bu:
        results[main_key]['backbone_unseen'] = bu
        print(f"on the {bu['n']} clips the backbone never saw: AUC {bu['auc']:.3f} [{bu['auc_ci'][0]:.2f}, {bu['auc_ci'][1]:.2f}]"
              f" (on the {bu['n_seen']} it was fine-tuned on: {bu['seen_auc']:.3f})"
              + (f", cross-dataset {bu['cross_dataset']['auc']:.3f}" if 'cross_dataset' in bu else ''), flush=True)
    if xd:
        results[main_key]['cross_dataset'] = xd
        ixs.to_csv(out / 'oof_crossdataset.csv', index=False)
        print(f"cross-dataset ({xd['n_sources']} sources): AUC {xd['auc']:.3f} [{xd['auc_ci'][0]:.2f}, {xd['auc_ci'][1]:.2f}] "
              f"pair {xd['pair_win']:.2f} | " + ' '.join(f"{f['family']} {f['auc']:.2f}" for f in xd['per_family'])
              + f" | verdicts {xd['verdict_mix']}", flush=True)
    F = feats(X, ('ship_full',), 32)
    Fd = feats(X, ('ship_aug',), 32) if a.augment else None
    frame_oof = out_of_fold(ix, F, FrameLR, extra=Fd)             # (N, T): every frame as if it were a photo
    fcal = calibrate_verdicts(np.repeat(y, F.shape[1]), frame_oof.reshape(-1))
    g = ix.split_group.values
    (head, pool) = fit_heads(a.head, F, y, g, Fd)
    frame = FrameLR().fit(*with_copies(F, y, g, Fd))
    metrics = dict({k: v for k, v in results[main_key].items()}, verdict_mix=verdicts_at(cal, y, oof),
                   verdict_mix_crossfit=held_out_verdicts(oof_rows, cal_rows)['verdict_mix'], protocol='5-fold group-held-out, out-of-fold',
                   compared={k: {m: v[m] for m in ('auc', 'auc_ci', 'pair_win', 'lofo', 'features', 'degraded_auc') if m in v}
                             for k, v in results.items() if k != main_key},
                   photo=dict(verdict_mix=fcal['verdict_mix'], frame_auc=roc_auc(np.repeat(y, F.shape[1]), frame_oof.reshape(-1))))
    cfg = dict(n_frames=32, temperature=cal['temperature'], threshold=cal['threshold'], uncertain_band=cal['uncertain_band'],
               calibration=dict(on=on, n_real=int((cal_rows.label == 'real').sum()), n_fake=int((cal_rows.label == 'fake').sum())),
               frame_temperature=fcal['temperature'], frame_threshold=fcal['threshold'], frame_uncertain_band=fcal['uncertain_band'],
               heads=dict(lstm=vars(LSTM()), pooled=dict(Cs=list(LR().Cs)) if a.head == 'ens' else None, frames=32),
               head_used='lstm', model_id=a.model_id, mix_scale=scale, autocast=True, metrics=metrics,
               training_data=dict(training_counts(ix), degraded_copies=a.augment,
                                  whole_file_copies=bool(recipe.reencode)), recipe=recipe.to_dict(),
               run=dict(command='python ' + ' '.join(['scripts/train_head.py'] + sys.argv[1:]), out=str(a.out),
                        wall_s=round(time.time() - t_start), features_s_per_clip=s_per_clip, machine=cpu_summary(),
                        date=time.strftime('%Y-%m-%d')))
    save_checkpoint(build_model(head, frame, pool, scale), out / 'model', **cfg)
    save_fold_models(ix, F, y, Fd, a.head, scale, cfg, out)
    ix.assign(split=np.where(ix.fold == 0, 'valid', 'train')).to_csv(out / 'index.csv', index=False)
    print(json.dumps({k: cfg[k] for k in ('temperature', 'threshold', 'uncertain_band', 'frame_threshold')}), metrics['verdict_mix'], flush=True)
    if a.ship:
        import shutil
        shipped = default_model_path().with_suffix('.json')
        problems = ship_problems(cfg, out / 'model.safetensors', json.loads(shipped.read_text()) if shipped.exists() else None)
        if problems and not a.force:
            raise InputError("not shipped (the run's model is in " + str(out) + "): " + '; '.join(problems)
                             + ". Ship it anyway with --force")
        for p in problems: print(f"shipped despite: {p}", flush=True)
        for ext in ('.json', '.safetensors'): shutil.copy(out / f'model{ext}', ROOT / 'deepfake_detect' / 'models' / f'default{ext}')
        subprocess.run([sys.executable, str(ROOT / 'scripts' / 'model_card.py')], check=True)
        print('shipped', out / 'model', flush=True)
        print("measure its robustness for the card and the Predictor's warnings (every fold's files, each scored by the "
              "heads trained without them, in three conditions):\n"
              f"  python scripts/robustness.py --run {out} --folds --conditions original crf35 half --out {out}/robustness.json\n"
              f"  python scripts/model_card.py --robustness {out}/robustness.json", flush=True)


if __name__ == '__main__':
    try: main()
    except (OSError, InputError) as e:   # a bad path, a foreign feature folder: one line (bugs keep their traceback)
        sys.exit(f"train_head: {e}")
