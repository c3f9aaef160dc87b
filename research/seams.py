"""How well a checkpoint finds self-blend seams in held-out real faces, per mask kind and per degradation (applied
after blending, to real and blended clips alike: JPEG, down-scaling, or the face clip re-encoded as H.264), and its
per-frame scores on the held-out genuine fakes (AUC, paired win rate, AUC per method). Uses the face cache of the
run's index; one fixed blend per real clip (seeded). Kind `mouth-swap` is a manipulation no training recipe makes: the
lower face of another moment of the same clip, aligned on the landmarks and pasted without any colour change, a crude
lip-sync. Kind `face-swap` is another crude manipulation no recipe trains on: the inner face of another held-out person
(another group), aligned on the 5 landmarks, colour-matched inside the face (mean and spread per LAB channel, as
DeepFaceLab's colour transfer does) and blended through a whole-face ellipse: a swap of identity, not a seam of the
face onto itself. Kind `self-swap` is `mouth-swap` over the whole face: the same face from another moment of the clip,
no colour or texture change, only a misaligned structure. Several `--model`s are scored as one ensemble: the mean of
their logits.

    python research/seams.py --index runs/sbi-all/index.csv --model deepfake_detect/models/default [--out r.json]
"""
import argparse, json, tempfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from deepfake_detect.blend import MASK_KINDS, SelfBlendDataset, blend, blend_mask, draw_blend_params
from deepfake_detect.data import ClipAugment, FaceClipDataset, load_face_clip
from deepfake_detect.fixtures import write_h264
from deepfake_detect.video import sample_frames
from deepfake_detect.model import load_checkpoint, set_threads
from deepfake_detect.train import _splits, roc_auc, score_dataset, valid_metrics

NEUTRAL = dict(scale=(1, 1), ratio=(1, 1), p_flip=0, max_rotate=0, brightness=0, contrast=0, saturation=0, hue=0, p_blur=0,
               p_jpeg=0, p_downscale=0)


class H264:
    "A clip augmentation that re-encodes the (blended) face clip as H.264 at `crf`, optionally at `scale` of its size."
    def __init__(self, crf=35, scale=1.0): self.crf, self.scale = crf, scale

    def __call__(self, clip, g=None):
        x = clip.permute(0, 2, 3, 1).numpy()
        size = x.shape[1]
        small = [cv2.resize(f, (round(size * self.scale),) * 2, interpolation=cv2.INTER_AREA) for f in x] if self.scale != 1 else list(x)
        with tempfile.TemporaryDirectory() as d:
            back = sample_frames(write_h264(Path(d)/'c.mp4', small, fps=10, crf=self.crf), n=len(small)).frames
        out = [cv2.resize(f, (size, size), interpolation=cv2.INTER_LINEAR) for f in back]
        return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2)


def colour_transfer(src, dst, mask):
    "`src` (uint8 RGB) with the mean and spread of each LAB channel inside `mask` (> 0.5) matched to `dst`'s."
    m = mask > 0.5
    if not m.any(): return src
    s, d = (cv2.cvtColor(x, cv2.COLOR_RGB2LAB).astype(np.float32) for x in (src, dst))
    s = (s - s[m].mean(0)) / (s[m].std(0) + 1e-6) * d[m].std(0) + d[m].mean(0)
    return cv2.cvtColor(s.clip(0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def probe_params(g, mask):
    "One blend draw from the clip's generator, with the mask kind fixed and the blend at full strength."
    return dict(draw_blend_params(np.random.default_rng(int(torch.randint(0, 2**62, (), generator=g)))), mask=mask, ratio=1.0)


def aligned_paste(hwc, lms, src, src_lms, frame_of, p, match_colour=False):
    "Each frame t of `hwc` with the face of `src` frame `frame_of(t)`, aligned on the landmarks, pasted through draw `p`'s mask."
    out = []
    for t in range(len(hwc)):
        s = frame_of(t)
        M = cv2.estimateAffinePartial2D(src_lms[s], lms[t])[0]   # the source face onto this one
        face = src[s] if M is None else cv2.warpAffine(src[s], M, hwc[t].shape[1::-1], borderMode=cv2.BORDER_REFLECT_101)
        mask = blend_mask(lms[t], hwc.shape[1], p)
        out.append(blend(colour_transfer(face, hwc[t], mask) if match_colour else face, hwc[t], mask))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2)


def numpy_clip(clip, lms):
    "A face clip (T, 3, S, S) and its landmarks as numpy (T, S, S, 3) frames and (T, 5, 2) points."
    return clip.permute(0, 2, 3, 1).numpy(), lms.numpy()


class MouthSwapDataset(SelfBlendDataset):
    "Real clips (label 0) and, for each, every frame's lower face replaced by that of the frame half the clip away (label 1)."
    mask = 'mouth'

    def __getitem__(self, k):
        i, kind = self.items[k]
        if kind != 'blend': return super().__getitem__(k)
        g = self.generator(k)
        hwc, lms = numpy_clip(*load_face_clip(self.index.cache[i], self.n_frames, g, self.train))
        T = len(hwc)
        out = aligned_paste(hwc, lms, hwc, lms, lambda t: (t + T // 2) % T, probe_params(g, self.mask))
        return self.finish(out, g), torch.tensor(1.0), i


class SelfSwapDataset(MouthSwapDataset):
    "As MouthSwapDataset, the whole face: the same person, colour and texture, only the moment (pose, expression) differs."
    mask = 'ellipse'


class FaceSwapDataset(SelfBlendDataset):
    "Real clips (label 0) and, for each, its faces replaced by those of another group's real clip, colour-matched (label 1)."
    def __getitem__(self, k):
        i, kind = self.items[k]
        if kind != 'blend': return super().__getitem__(k)
        g = self.generator(k)
        donors = [j for j, _ in self.items if self.index.label[j] == 'real' and self.index.split_group[j] != self.index.split_group[i]]
        j = donors[int(torch.randint(0, len(donors), (), generator=g))]
        hwc, lms = numpy_clip(*load_face_clip(self.index.cache[i], self.n_frames, g, self.train))
        src, src_lms = numpy_clip(*load_face_clip(self.index.cache[j], self.n_frames, g, self.train))
        out = aligned_paste(hwc, lms, src, src_lms, lambda t: t % len(src), probe_params(g, 'ellipse'), match_colour=True)
        return self.finish(out, g), torch.tensor(1.0), i


class Ensemble(nn.Module):
    "Checkpoints of one input size and normalisation scored together: the mean of their clip and per-frame logits."
    def __init__(self, models):
        super().__init__()
        if len({(m.input_size, tuple(m.spec.mean), tuple(m.spec.std)) for m in models}) > 1:
            raise ValueError('an ensemble needs checkpoints of one input size and normalisation')
        self.members, self.input_size, self.spec = nn.ModuleList(models), models[0].input_size, models[0].spec

    def forward(self, x):
        outs = [m(x) for m in self.members]
        return {k: torch.stack([o[k] for o in outs]).mean(0) for k in ('logit', 'frame_logits')}


PROBES = {'mouth-swap': MouthSwapDataset, 'self-swap': SelfSwapDataset, 'face-swap': FaceSwapDataset}
CODECS = {'h264crf35': H264(35), 'half+h264crf28': H264(28, 0.5)}
CONDITIONS = {'clean': {}, 'jpeg40': dict(p_jpeg=1, jpeg_quality=(40, 40)),
              'half+jpeg60': dict(p_downscale=1, downscale=(0.5, 0.5), p_jpeg=1, jpeg_quality=(60, 60))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--model', required=True, nargs='+')
    ap.add_argument('--frames', type=int, default=8); ap.add_argument('--out', default=None)
    ap.add_argument('--kinds', nargs='+', default=list(MASK_KINDS), choices=list(MASK_KINDS) + list(PROBES))
    ap.add_argument('--conditions', nargs='+', default=list(CONDITIONS) + list(CODECS), choices=list(CONDITIONS) + list(CODECS))
    a = ap.parse_args()
    set_threads(2)
    _, va = _splits(pd.read_csv(a.index))
    models = [load_checkpoint(m)[0].float() for m in a.model]
    model = models[0] if len(models) == 1 else Ensemble(models)
    norm = dict(size=model.input_size, mean=model.spec.mean, std=model.spec.std, n_frames=a.frames)
    res = {'model': a.model[0] if len(a.model) == 1 else a.model}
    for cond in a.conditions:
        aug = CODECS.get(cond) or (ClipAugment(model.input_size, **dict(NEUTRAL, **CONDITIONS[cond])) if CONDITIONS[cond] else None)
        for kind in a.kinds:
            make = PROBES.get(kind, SelfBlendDataset)
            ds = make(va[va.label == 'real'], dense_masks=kind.startswith('hull'), mask_kind=kind, seed=7, augment=aug, **norm)
            s = score_dataset(model, ds, frames=True)
            res[f'sbi {cond} {kind}'] = roc_auc([ds.label(k) for k in range(len(ds))], s)
            print(cond, kind, round(res[f'sbi {cond} {kind}'], 3), flush=True)
    s = score_dataset(model, FaceClipDataset(va, **norm), frames=True)
    m = valid_metrics(va, s)
    res.update(auc=m['valid_auc'], pair=m['valid_pair'])
    y = (va.label == 'fake').values
    for meth in sorted(va[y].method.unique()):
        k = (va.method == meth).values | ~y
        res[f'auc {meth}'] = roc_auc(y[k], s[k])
    print(json.dumps(res, indent=1))
    if a.out: json.dump(res, open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()
