"""Pack the face cache of a run into one small file, and unpack it on another machine (e.g. a GPU box to fine-tune on).

    python scripts/pack_cache.py pack runs/default/index.csv faces.pack [--frames 16] [--quality 92]
    python scripts/pack_cache.py unpack faces.pack CACHE_DIR          # writes CACHE_DIR/*.pt and CACHE_DIR/index.csv

Crops are stored as JPEG (`--quality`) and each track keeps `--frames` evenly spaced faces, so the shared data's 1.2 GB
cache travels as a few tens of MB. Fine-tuning sees a few frames per clip and already JPEG-augments, so it loses little;
evaluate and train the LSTM (32 frames) on the full cache. Loading is tensors only (`weights_only=True`).
"""
import argparse
import io
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

from deepfake_detect.data import load_record, pick_frames

PER_FRAME = ('boxes', 'landmarks', 'frame_indices', 'timestamps', 'scores')   # 'missing' lists frames, kept whole


def _jpeg(crop_chw, quality):
    ok, buf = cv2.imencode('.jpg', np.ascontiguousarray(crop_chw.permute(1, 2, 0).numpy()[..., ::-1]),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return torch.from_numpy(buf.copy())


def _unjpeg(buf):
    return torch.from_numpy(cv2.imdecode(buf.numpy(), cv2.IMREAD_COLOR)[..., ::-1].copy()).permute(2, 0, 1)


def pack(index_csv, out, frames=16, quality=92):
    index = pd.read_csv(index_csv)
    index = index[index.status == 'ok'].reset_index(drop=True)
    records = {}
    for cache in index.cache:
        rec = load_record(cache)
        for tr in rec['tracks']:
            pos = pick_frames(len(tr['crops']), min(frames, len(tr['crops'])))
            for k in PER_FRAME: tr[k] = tr[k][pos]
            tr['crops'] = [_jpeg(c, quality) for c in tr['crops'][pos]]
        records[Path(cache).name] = rec
    buf = io.StringIO(); index.to_csv(buf, index=False)
    torch.save(dict(index_csv=buf.getvalue(), records=records), out)
    print(f'{len(records)} clips -> {out} ({Path(out).stat().st_size / 2**20:.1f} MB)')


def unpack(packed, cache_dir):
    cache_dir = Path(cache_dir); cache_dir.mkdir(parents=True, exist_ok=True)
    data = torch.load(packed, map_location='cpu', weights_only=True)
    for name, rec in data['records'].items():
        for tr in rec['tracks']: tr['crops'] = torch.stack([_unjpeg(b) for b in tr['crops']])
        torch.save(rec, cache_dir/name)
    index = pd.read_csv(io.StringIO(data['index_csv']))
    index['cache'] = [str(cache_dir/Path(c).name) for c in index.cache]
    index.to_csv(cache_dir/'index.csv', index=False)
    print(f'{len(index)} clips -> {cache_dir}')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('pack'); p.add_argument('index_csv'); p.add_argument('out')
    p.add_argument('--frames', type=int, default=16); p.add_argument('--quality', type=int, default=92)
    p = sub.add_parser('unpack'); p.add_argument('packed'); p.add_argument('cache_dir')
    a = ap.parse_args()
    if a.cmd == 'pack': pack(a.index_csv, a.out, a.frames, a.quality)
    else: unpack(a.packed, a.cache_dir)


if __name__ == '__main__':
    main()
