"""Reproduce the shipped default model: chapter 05's train_default (same as `deepfake-detect train`).

    python scripts/train_default.py --data ../shared/data --out runs/default

Then scripts/ship_default.py evaluates, calibrates and ships it (chapter 06).
"""
import argparse

from deepfake_detect.train import train_default

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='../shared/data')
    ap.add_argument('--out', default='runs/default')
    ap.add_argument('--cache', default=None, help='face-clip cache root (default: $DEEPFAKE_CACHE or ~/.cache/deepfake_detect)')
    ap.add_argument('--skip-baseline', action='store_true')
    ap.add_argument('--ft-epochs', type=int, default=30)
    ap.add_argument('--ft-blocks', type=int, default=5)
    ap.add_argument('--lstm-epochs', type=int, default=40)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    train_default(a.data, a.out, a.cache, baseline=not a.skip_baseline, ft_epochs=a.ft_epochs, ft_blocks=a.ft_blocks,
                  lstm_epochs=a.lstm_epochs, workers=a.workers, seed=a.seed)
