"""Reproduce the shipped default model (chapter 05): preprocess, split, baseline, two-stage training.

    python scripts/train_default.py --data ../shared/data --out runs/default

Then chapter 06 / scripts/ship_default.py evaluates, calibrates and ships it.
"""
import argparse
import json
import time
from pathlib import Path

import torch

from deepfake_detect.data import SHARED_HOLDOUT, default_cache_root, index_videos, preprocess, split_by_method, split_table
from deepfake_detect.model import set_threads
from deepfake_detect.train import train_baseline, train_two_stage


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='../shared/data')
    ap.add_argument('--out', default='runs/default')
    ap.add_argument('--cache', default=None, help='face-clip cache root (default: $DEEPFAKE_CACHE or ~/.cache/deepfake_detect)')
    ap.add_argument('--skip-baseline', action='store_true')
    ap.add_argument('--ft-epochs', type=int, default=12)
    ap.add_argument('--ft-blocks', type=int, default=3)
    ap.add_argument('--lstm-epochs', type=int, default=40)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    set_threads(2)
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    logf = open(out/'train.log', 'a')
    def log(s):
        line = f"{time.strftime('%H:%M:%S')} {s}"
        print(line, flush=True); logf.write(line + '\n'); logf.flush()
    index = preprocess(index_videos(args.data), args.cache or default_cache_root(), workers=args.workers)
    index = split_by_method(index[index.status == 'ok'], valid_frac=0.3, holdout=SHARED_HOLDOUT, seed=args.seed)
    index.to_csv(out/'index.csv', index=False)
    log('split:\n' + split_table(index).to_string())
    if not args.skip_baseline:
        log('stage 1: frozen ImageNet features + LSTM (the original recipe)')
        train_baseline(index, out, seed=args.seed, log=log)
    log('stage 2: fine-tune on real vs self-blended + genuine fakes, then LSTM on tuned features')
    train_two_stage(index, out, n_blocks=args.ft_blocks, ft_epochs=args.ft_epochs, lstm_epochs=args.lstm_epochs,
                    seed=args.seed, log=log, workers=args.workers)
    log('done')


if __name__ == '__main__':
    main()
