"""Probe for PLAN.md amendment 4: does the pooled expert gain from motion statistics of the frame features?

    python research/generalise/temporal.py --index runs/head-bf16/index.csv --features runs/features-bf16

The pooled logistic expert of the shipped `ens` (`lr-ship`: mean and spread over time of each frame feature) against
the same with the mean and spread of |f[t+1] - f[t]| added (`lr-motion`); same 5 group folds, same leave-one-family-out
protocol as scripts/train_head.py. Prints one row per head.
"""
import argparse, sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402


def motion_pooled(F):
    "[mean, std, mean |Δ|, std |Δ|] over time of frame features F (N, T, D): (N, 4D)."
    d = np.abs(np.diff(F, axis=1))
    return np.concatenate([F.mean(1), F.std(1), d.mean(1), d.std(1)], 1)


class LRMotion(th.LR):
    "The pooled expert on motion_pooled features (the same inner-CV choice of C)."
    def fit(self, F, y, groups):
        orig = th.pooled
        th.pooled = motion_pooled
        try: return super().fit(F, y, groups)
        finally: th.pooled = orig
    def __call__(self, F): return self.m.decision_function(motion_pooled(F))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--features', required=True)
    a = ap.parse_args()
    torch.set_num_threads(2)
    ix, X = th.load_features(pd.read_csv(a.index), a.features)
    th.HEADS['lr-motion'] = (LRMotion, ('ship_full',), 32)
    th.print_heads(ix, X, ('lr-ship', 'lr-motion'))


if __name__ == '__main__': main()
