"""Whole-file re-encoded copies of every shared clip as a feature folder for scripts/train_head.py (PLAN.md amendment 7).

    python research/generalise/reencoded.py --index runs/shared_index.csv --features runs/features-bf16 --out runs/features-reenc

Each clip with a face gets one copy re-encoded from the whole file (chapter 02's `reencoded_copies`: H.264, CRF 23-40,
frame scale 1, 0.75 or 0.5, seed 0; written once under CACHE/reencoded), its faces found again by `preprocess`, and the
main track's 32 crops through the shipped backbone under bf16 autocast (scripts/train_head.py's `clip_features`).
Writes OUT/<row>.npz with `ship_full` (the original clip's, copied from FEATURES) and `ship_aug` (the whole-file copy's;
where no face is found in the copy, FEATURES' crop-level copy). `train_head.py --degraded-copies --features OUT` then
trains and scores with these copies.
"""
import argparse, sys, tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
from train_head import clip_features   # noqa: E402
from deepfake_detect.data import default_cache_root, with_reencoded_copies   # noqa: E402
from deepfake_detect.model import set_threads   # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--features', required=True)
    ap.add_argument('--out', required=True); ap.add_argument('--cache', default=None)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    set_threads(a.threads)
    index = pd.read_csv(a.index)
    ok = index[index.status == 'ok']
    cache = Path(a.cache) if a.cache else default_cache_root()
    both = with_reencoded_copies(ok.assign(split='train'), cache, copies=1, seed=0, workers=2)
    copies = both[both.source.notna()] if 'source' in both else both.iloc[:0]
    row_of = {p: r for r, p in zip(ok.index, ok.path)}
    copies = copies.set_index(copies.source.map(row_of))     # each copy under its source's row number
    scales = copies.variant.str.split('-x').str[-1].value_counts().to_dict()
    print(f"{len(copies)} copies of {len(ok)} clips, {int((copies.status == 'ok').sum())} with a face; frame scales "
          f"{scales}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        clip_features(copies, tmp, sets=('ship_full',), bf16=True)
        out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
        fallback = 0
        for row, path in zip(ok.index, ok.path):
            src = np.load(Path(a.features) / f'{row}.npz')
            copy = Path(tmp) / f'{row}.npz'
            aug = np.load(copy)['ship_full'] if copy.exists() else src['ship_aug']
            fallback += not copy.exists()
            np.savez(out / f'{row}.npz', ship_full=src['ship_full'], ship_aug=aug, path=path)
    print(f"wrote {len(ok)} clips to {out}; {fallback} without a face in their copy keep the crop-level copy", flush=True)


if __name__ == '__main__': main()
