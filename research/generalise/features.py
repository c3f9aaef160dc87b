"""Frozen per-frame features of every cached face clip, for the head experiments of issue 21 (research, not product).

For each clip of an index with a face cache (`deepfake-detect train --stage split` or `data.preprocess`), the main
face track's frames (32, repeated when fewer) go through two frozen EfficientNet-Lite0 backbones, the shipped model's
and ImageNet's, on two views: the whole face and the lower face. Saves OUT/<row>.npz with ship_full, ship_mouth,
img_full, img_mouth (T, 1280) fp16. The extraction itself is the shipped recipe's (scripts/train_head.py).

    python research/generalise/features.py --index runs/shared_index.csv --out runs/features
"""
import argparse, sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
from train_head import clip_features   # noqa: E402
from deepfake_detect.model import set_threads   # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--out', required=True)
    ap.add_argument('--frames', type=int, default=32); ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    set_threads(a.threads)
    clip_features(pd.read_csv(a.index), a.out, a.frames)


if __name__ == '__main__': main()
