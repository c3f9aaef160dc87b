"""How long fine-tuning takes on this machine, per recipe, to estimate a run's wall time before starting it.

    python bench/bench_train.py [--steps 6] [--threads 2] [--index runs/default/index.csv]

Times training steps of EfficientNet-Lite0 (bf16 autocast where the CPU has it, as `fit` does) on batches of
16 clips x 8 frames with the last 5 blocks or all blocks trainable, and, with an index of cached faces, the
self-blending data pipeline per clip (one process). Prints medians and the estimated minutes per epoch and per run.
"""
import argparse
import statistics
import time

import pandas as pd
import torch

from deepfake_detect.model import DeepfakeDetector, autocast, set_threads
from deepfake_detect.train import frame_loss, set_trainable


def step_seconds(n_blocks, steps, batch=16, frames=8):
    torch.manual_seed(0)
    model = DeepfakeDetector('efficientnet_lite0', pretrained=True)
    params = set_trainable(model, n_blocks) + list(model.frame_head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-4)
    model.train()
    x, y = torch.randn(batch, frames, 3, 224, 224), (torch.arange(batch) % 2).float()
    times = []
    for _ in range(steps + 1):   # the first step warms up and is dropped
        t0 = time.perf_counter()
        with autocast('cpu'): loss, _, _ = frame_loss(model, (x, y, None))
        opt.zero_grad(); loss.backward(); opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def blend_seconds(index_csv, n=20, frames=8):
    from deepfake_detect.blend import SelfBlendDataset
    from deepfake_detect.data import ClipAugment
    idx = pd.read_csv(index_csv)
    tr = idx[(idx.split == 'train') & (idx.status == 'ok')].reset_index(drop=True)
    ds = SelfBlendDataset(tr, n_frames=frames, augment=ClipAugment(224), train=True)
    blends = [k for k in range(len(ds)) if ds.items[k][1] == 'blend'][:n]
    times = []
    for k in blends:
        t0 = time.perf_counter(); ds[k]; times.append(time.perf_counter() - t0)
    return statistics.median(times), len(ds)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--steps', type=int, default=6); ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--index', default=None, help='index.csv of a run, to time the data pipeline and size an epoch')
    ap.add_argument('--epochs', type=int, default=60)
    a = ap.parse_args()
    set_threads(a.threads)
    clips, data_s = 278, None
    if a.index:
        data_s, clips = blend_seconds(a.index)
        print(f'self-blend clip of 8 frames (one process): {data_s:.3f} s; {clips} clips per epoch')
    print('| trainable | s / step (16 clips x 8 frames) | images / s | min / epoch | min / run |')
    print('|---|---|---|---|---|')
    for n_blocks, name in [(5, 'last 5 blocks'), (20, 'all blocks')]:
        s = step_seconds(n_blocks, a.steps)
        epoch = clips / 16 * s / 60
        print(f'| {name} | {s:.2f} | {16 * 8 / s:.0f} | {epoch:.1f} | {epoch * a.epochs:.0f} ({a.epochs} epochs) |')
    if data_s: print(f'(the data pipeline adds about {clips * data_s / 60:.1f} core-minutes per epoch)')


if __name__ == '__main__':
    main()
