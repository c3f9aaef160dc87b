"""End-to-end speed of the Predictor, against a naive pipeline like the original design's app.

    python bench/bench_predict.py [--runs 5] [--naive-frames 300] [--kernel-cache N]

On a generated 10 s 1280x720 30 fps H.264 clip, 32 frames, after a warm-up: medians of each stage of
`Predictor.predict` with the shipped model; then once, the naive way: decode every frame into memory, run MTCNN on
every full-resolution frame, ResNeXt50 in fp32 (+ LSTM) on the first 32 frames with a face. Prints a Markdown table
and the ratio. Both run on the same machine in the same process, threads set to 2.
"""
import argparse
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from deepfake_detect.faces import FaceDetector, crop_face
from deepfake_detect.fixtures import face_scene, write_h264
from deepfake_detect.model import DeepfakeDetector, set_threads
from deepfake_detect.predict import Predictor

OUT = Path(__file__).resolve().parent / 'out'


def clip_720p():
    p = OUT / 'bench_10s_720p.mp4'
    if not p.exists(): write_h264(p, face_scene(300, 1280, 720), fps=30)
    return p


def naive(path, n=32, max_frames=300):
    "The original app's way: every frame in RAM, faces on every full-size frame, ResNeXt50 fp32 on the first n faces."
    t0 = time.perf_counter()
    cap, frames = cv2.VideoCapture(str(path)), []
    while len(frames) < max_frames:
        ok, f = cap.read()
        if not ok: break
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    t1 = time.perf_counter()
    det = FaceDetector(max_side=10_000, min_face=20, retry_min_face=None, batch_size=1)   # full resolution, frame by frame
    crops = []
    for f in frames:   # every frame, as the original app did
        d = det(f[None])[0]
        if len(d): crops.append(crop_face(f, d.boxes[0], size=224)[0])
    crops = crops[:n]
    t2 = time.perf_counter()
    model = DeepfakeDetector('resnext50_32x4d', pretrained=False).eval()   # same cost as with ImageNet weights
    x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float()[None] / 255
    with torch.inference_mode(): model(x)
    t3 = time.perf_counter()
    return dict(frames=t1 - t0, faces=t2 - t1, model=t3 - t2, total=t3 - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--naive-frames', type=int, default=300)
    ap.add_argument('--kernel-cache', type=int, default=None,
                    help="oneDNN's kernel cache capacity (default: the Predictor's; 1024 is oneDNN's own)")
    args = ap.parse_args()
    if args.kernel_cache is not None:   # read by oneDNN at the first convolution, which is the Predictor's warm-up
        os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'] = str(args.kernel_cache)
    set_threads(2)
    OUT.mkdir(exist_ok=True)
    clip = clip_720p()
    pred = Predictor(threads=2).warmup()
    pred.predict(clip)
    runs = [pred.predict(clip).timings for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    nv = naive(clip, max_frames=args.naive_frames)
    print(f'10 s 1280x720 H.264, 32 frames, 2 threads, {args.runs} runs after warm-up (medians)\n')
    print('| stage | Predictor (s) | naive (s) |\n|---|---|---|')
    for k in ('frames', 'faces', 'model', 'total'): print(f'| {k} | {med[k]:.3f} | {nv[k]:.2f} |')
    print(f'\nPredictor total min {min(r["total"] for r in runs):.3f} s, max {max(r["total"] for r in runs):.3f} s; '
          f'naive / Predictor = {nv["total"] / med["total"]:.0f}x')


if __name__ == '__main__':
    main()
