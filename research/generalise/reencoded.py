"""Whole-file re-encoded copies of every shared clip as a feature folder for scripts/train_head.py (PLAN.md amendment 7).

    python research/generalise/reencoded.py --index runs/shared_index.csv --features runs/features-bf16 --out runs/features-reenc

Each clip with a face gets one copy re-encoded from the whole file, its faces found again, and the main track's 32
crops through the shipped backbone under bf16 autocast (scripts/train_head.py's `whole_file_copies`, seed 0).
Writes OUT/<row>.npz with `ship_full` (the original clip's, copied from FEATURES) and `ship_aug` (the whole-file copy's;
where no face is found in the copy, FEATURES' crop-level copy). `train_head.py --degraded-copies --features OUT` then
trains and scores with these copies.
"""
import argparse, sys, tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
from train_head import load_features, whole_file_copies, with_whole_file_copies   # noqa: E402
from deepfake_detect.data import default_cache_root   # noqa: E402
from deepfake_detect.model import set_threads   # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--features', required=True)
    ap.add_argument('--out', required=True); ap.add_argument('--cache', default=None)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    set_threads(a.threads)
    index = pd.read_csv(a.index)
    ix, X = load_features(index, a.features)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        paths, lost = whole_file_copies(index, tmp, Path(a.cache) if a.cache else default_cache_root())
        X = with_whole_file_copies(ix, X, Path(tmp), paths)
    for i, (row, path) in enumerate(zip(ix.row, ix.path)):   # fp16 as stored; exact back from float32
        np.savez(out / f'{row}.npz', **{k: X[k][i].astype(np.float16) for k in ('ship_full', 'ship_aug')}, path=path)
    print(f"wrote {len(ix)} clips to {out}; {lost} without a face in their copy keep the crop-level copy", flush=True)


if __name__ == '__main__': main()
