"""Does training on structure-only pastes teach what DeepFaceLive's swaps need? A prototype, not part of the package.

    python research/selfswap.py --index runs/sbi-all/index.csv --out runs/selfswap [--epochs 8] [--p-swap 0.3]
    python research/seams.py --index runs/sbi-all/index.csv --model runs/selfswap/finetune/best --kinds ellipse self-swap face-swap --conditions clean

The shipped model finds pastes that change colour or texture (self-blends, another person's colour-matched face)
far better than a paste of the same face from another moment of the clip (seams.py `self-swap`), and DeepFaceLive's
swaps are colour- and texture-matched. This fine-tunes the shipped model as its lower-face step was trained (chapter
05: all blocks, AdamW 2e-4, 16 clips x 8 frames, half the self-blends on the lower face, epoch kept on held-out
self-blends) with `--p-swap` of the training self-blends replaced by such self-swaps, whole face or lower face
equally. Held-out self-blends used to pick the epoch stay plain self-blends.
"""
import argparse
from dataclasses import replace

import torch

import deepfake_detect.train as train
from deepfake_detect.blend import SelfBlendDataset
from deepfake_detect.data import load_face_clip
from seams import aligned_paste, numpy_clip, probe_params


class SwapBlendDataset(SelfBlendDataset):
    "SelfBlendDataset whose training self-blends are, with probability `p_swap`, another moment's face of the same clip."
    p_swap = 0.3

    def __getitem__(self, k):
        i, kind = self.items[k]
        if kind != 'blend' or not self.train: return super().__getitem__(k)
        g = self.generator(k)
        if torch.rand((), generator=g).item() >= self.p_swap: return super().__getitem__(k)
        hwc, lms = numpy_clip(*load_face_clip(self.index.cache[i], self.n_frames, g, self.train))
        n = len(hwc); shift = int(torch.randint(1, max(2, n), (), generator=g))
        mask = 'mouth' if torch.rand((), generator=g).item() < 0.5 else 'ellipse'
        out = aligned_paste(hwc, lms, hwc, lms, lambda t: (t + shift) % n, probe_params(g, mask))
        return self.finish(out, g), torch.tensor(1.0), i


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--out', required=True)
    ap.add_argument('--init', default='deepfake_detect/models/default'); ap.add_argument('--epochs', type=int, default=8)
    ap.add_argument('--p-swap', type=float, default=0.3); ap.add_argument('--workers', type=int, default=1)
    a = ap.parse_args()
    SwapBlendDataset.p_swap = a.p_swap
    train.SelfBlendDataset = SwapBlendDataset   # what train_two_stage builds its training data from
    recipe = replace(train.RECIPES['sbi-mouth'], init=a.init, epochs=a.epochs, workers=a.workers)
    train.train_default(None, a.out, recipe, index=a.index, stage='finetune')


if __name__ == '__main__':
    main()
