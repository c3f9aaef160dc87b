"""Frozen per-frame features of every cached face clip, for the head experiments of issue 21 (research, not product).

For each clip of an index with a face cache (`deepfake-detect train --stage split` or `data.preprocess`), the main
face track's frames (32, repeated when fewer) go through two frozen EfficientNet-Lite0 backbones, the shipped model's
(fine-tuned on self-blends) and ImageNet's, on two views: the whole face crop and the lower face (around the mouth,
from MTCNN's 5 landmarks). Saves OUT/<row>.npz with arrays ship_full, ship_mouth, img_full, img_mouth (T, 1280) fp16.

    python research/generalise/features.py --index runs/shared_index.csv --out runs/features
"""
import argparse, time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torchvision.transforms.v2.functional as TF

from deepfake_detect.data import load_record, normalize_clip, pick_frames
from deepfake_detect.model import DeepfakeDetector, load_default, set_threads


def mouth_crops(crops, landmarks, out=224):
    "Lower-face squares (T, 3, out, out) uint8 around the nose and mouth corners of each crop (T, 3, S, S)."
    S, views = crops.shape[-1], []
    for c, lm in zip(crops, landmarks):
        nose, ml, mr = lm[2], lm[3], lm[4]
        cx, cy = float((ml[0] + mr[0] + nose[0]) / 3), float((ml[1] + mr[1]) / 2 * 0.75 + nose[1] * 0.25)
        side = float(np.clip(2.4 * abs(mr[0] - ml[0]), 0.35 * S, 0.7 * S))
        x0, y0 = int(np.clip(cx - side / 2, 0, S - side)), int(np.clip(cy - side / 2, 0, S - side))
        views.append(TF.resize(c[:, y0:y0 + int(side), x0:x0 + int(side)], [out, out], antialias=True))
    return torch.stack(views)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--out', required=True)
    ap.add_argument('--frames', type=int, default=32); ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    set_threads(a.threads)
    ix = pd.read_csv(a.index)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    ship, cfg = load_default()
    img = DeepfakeDetector('efficientnet_lite0', pretrained=True).eval()
    t0, done = time.time(), 0
    for row, r in ix.iterrows():
        dst = out/f'{row}.npz'
        if dst.exists() or r.status != 'ok': continue
        tr = load_record(r.cache)['tracks'][0]
        pos = pick_frames(len(tr['crops']), a.frames)
        crops, lms = tr['crops'][pos], tr['landmarks'][pos].numpy()
        views = dict(full=crops, mouth=mouth_crops(crops, lms))
        feats = {}
        with torch.inference_mode():
            for vname, v in views.items():
                x = normalize_clip(v, cfg['mean'], cfg['std'])
                for mname, m in (('ship', ship), ('img', img)):
                    feats[f'{mname}_{vname}'] = m.backbone(x).float().numpy().astype(np.float16)
        np.savez(dst, **feats, path=r.path)
        done += 1
        if done % 20 == 0: print(f"{done} clips, {(time.time() - t0) / done:.2f} s/clip", flush=True)
    print('done', done, flush=True)


if __name__ == '__main__': main()
