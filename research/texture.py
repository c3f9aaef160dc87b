"""Are the fakes smoother, or less steady, than the real clip they were made from? For every fake with a paired real
clip in a run's index: the fine detail inside the face (variance of the Laplacian of the grey crop over the cheeks
and nose, the median over 8 of the cached frames) against the same measure for its real clip, per method; also
relative to the crop's top and bottom bands (hair, background, neck), in case a whole video is softer; and the
flicker inside the face (mean absolute change between consecutive frames, 8 frame pairs from the video through one
box each) against its real clip's, where both clips share a timeline (the same motion); and the spread of the face's
identity over the clip (mean distance between dlib's face descriptors of 8 cached frames; needs the `train` extra),
in case a swap wavers between the two people. A diagnostic, not a detector: it asks whether "the swapped face lost
its skin texture", "the swap flickers" or "the swap's identity wavers" is a cue a recipe should teach.

    python research/texture.py --index runs/sbi-all/index.csv
"""
import argparse

import cv2
import numpy as np
import pandas as pd
import torch

from deepfake_detect.faces import crop_face
from deepfake_detect.video import _read_pass
from identity import identity_spread


def centre(a):
    "The cheeks and nose of a face crop (margin 1.3): inside the face whatever its pose."
    h = len(a)
    return a[int(h * .36):int(h * .67), int(h * .31):int(h * .69)]


def detail(cache, step=4):
    "(face detail, face detail / surroundings detail) of a cached face clip's first track, medians over frames."
    crops = torch.load(cache, weights_only=True)['tracks'][0]['crops'].permute(0, 2, 3, 1).numpy()
    rows = []
    for im in crops[::step]:
        lap = cv2.Laplacian(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F)
        h = len(lap)
        face = centre(lap)
        bands = np.concatenate([lap[:int(h * .18)].ravel(), lap[-int(h * .18):].ravel()])
        rows.append((face.var(), face.var() / max(bands.var(), 1e-6)))
    return tuple(np.median(np.array(rows), 0))


def flicker(path, cache, n=8):
    "Mean absolute change inside the face between consecutive frames, median over `n` frame pairs of the clip."
    t = torch.load(cache, weights_only=True)['tracks'][0]
    pick = np.linspace(0, len(t['frame_indices']) - 1, n).round().astype(int)
    starts = t['frame_indices'][pick].numpy()
    frames, got, *_ = _read_pass(path, sorted(set(starts) | set(starts + 1)))
    at = {int(i): f for i, f in zip(got, frames)}
    out = []
    for k, i in zip(pick, starts):
        if i in at and i + 1 in at:
            a, b = (crop_face(at[j], t['boxes'][k].numpy())[0].astype(np.float32) for j in (i, i + 1))
            out.append(centre(np.abs(a - b)).mean())
    return float(np.median(out)) if out else float('nan')


def paired_detail(index):
    "One row per fake with a paired real clip: the detail measures of both."
    ok = index[(index.status == 'ok') & index.pair_group.notna()]
    out = []
    for pg, d in ok.groupby('pair_group'):
        real = d[d.label == 'real']
        if not len(real): continue
        r, rf = detail(real.cache.iloc[0]), flicker(real.path.iloc[0], real.cache.iloc[0])
        ri = identity_spread(real.cache.iloc[0], step=4)
        for _, f in d[d.label == 'fake'].iterrows():
            fk = detail(f.cache)
            out.append(dict(method=f.method, pair_group=pg, split=f.split, real=r[0], fake=fk[0], real_rel=r[1], fake_rel=fk[1],
                            real_flicker=rf, fake_flicker=flicker(f.path, f.cache),
                            real_identity=ri, fake_identity=identity_spread(f.cache, step=4)))
    return pd.DataFrame(out)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', default='runs/sbi-all/index.csv')
    df = paired_detail(pd.read_csv(ap.parse_args().index))
    df['smoother'], df['smoother_rel'] = df.fake < df.real, df.fake_rel < df.real_rel
    df['flickers_more'], df['wavers_more'] = df.fake_flicker > df.real_flicker, df.fake_identity > df.real_identity
    t = df.groupby('method').agg(pairs=('smoother', 'size'), fake_smoother=('smoother', 'mean'),
                                 fake_smoother_than_surroundings=('smoother_rel', 'mean'),
                                 fake_flickers_more=('flickers_more', 'mean'),
                                 median_flicker_ratio=('fake_flicker', lambda s: (s / df.loc[s.index, 'real_flicker']).median()),
                                 fake_identity_wavers_more=('wavers_more', 'mean'),
                                 median_identity_ratio=('fake_identity', lambda s: (s / df.loc[s.index, 'real_identity']).median()))
    print(t.round(2).to_string())
