"""Probe for PLAN.md amendment 5: do earlier layers of the shipped backbone help the pooled expert generalise?

    python research/generalise/multilevel.py --index runs/shared_index.csv --features runs/features-bf16 --taps runs/features-taps

First writes TAPS/<row>.npz with `ship_taps` (T, 768) fp16 for each clip of the index with a face: the global average
of the output of EfficientNet-Lite0 blocks 2, 4, 7, 10, 14 and 15 (the last block of each later stage; 24, 40, 80,
112, 192, 320 channels) on the main face track's 32 cached crops, under bf16 autocast where the CPU has it, as the
Predictor runs the backbone. Then the pooled logistic expert of the shipped `ens` on the last layer alone (`lr-ship`)
against the same with the taps appended (`lr-taps`) and the taps alone (`lr-tapsonly`); same 5 group folds, same
leave-one-family-out protocol as scripts/train_head.py. Prints one row per head.
"""
import argparse, sys, time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.data import load_record, normalize_clip, pick_frames   # noqa: E402
from deepfake_detect.model import autocast, load_default, set_threads   # noqa: E402

TAP_BLOCKS = (2, 4, 7, 10, 14, 15)


def tapped(model):
    "The shipped backbone with forward hooks; returns (model, list the hooks fill with (N, C) pooled outputs)."
    got = []
    for i in TAP_BLOCKS:
        model.backbone.net._blocks[i].register_forward_hook(lambda m, inp, out: got.append(out.float().mean((2, 3))))
    return got


def tap_features(index, out, n_frames=32):
    "Write OUT/<row>.npz {'ship_taps': (T, 768) fp16} for each clip of `index` with a face (cached ones skipped)."
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    model, cfg = load_default()
    got = tapped(model)
    t0, done = time.time(), 0
    for row, r in index.iterrows():
        dst = out / f'{row}.npz'
        if dst.exists() or r.status != 'ok': continue
        tr = load_record(r.cache)['tracks'][0]
        crops = tr['crops'][pick_frames(len(tr['crops']), n_frames)]
        got.clear()
        with torch.inference_mode(), autocast('cpu', enabled=True):
            model.backbone(normalize_clip(crops, cfg['mean'], cfg['std']))
        np.savez(dst, ship_taps=torch.cat(got, 1).numpy().astype(np.float16), path=r.path)
        done += 1
        if done % 50 == 0: print(f"taps: {done} clips, {(time.time() - t0) / done:.1f} s/clip", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--features', required=True)
    ap.add_argument('--taps', required=True); ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    set_threads(a.threads)
    index = pd.read_csv(a.index)
    tap_features(index, a.taps)
    ix, X = th.load_features(index, a.features)
    ix_t, T = th.load_features(index, a.taps)
    assert (ix_t.row.values == ix.row.values).all(), 'the taps and the features cover different clips'
    X['ship_taps'] = T['ship_taps']
    th.HEADS['lr-taps'] = (th.LR, ('ship_full', 'ship_taps'), 32)
    th.HEADS['lr-tapsonly'] = (th.LR, ('ship_taps',), 32)
    th.print_heads(ix, X, ('lr-ship', 'lr-taps', 'lr-tapsonly'))


if __name__ == '__main__': main()
