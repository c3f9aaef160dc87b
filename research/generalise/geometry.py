"""Screen for PLAN.md amendment 29: face geometry over time (dlib's 68 landmarks, iBUG 300-W), a cue the frozen
backbone's features do not carry: expression spread, mouth opening, the inner face's pose against the jaw line's
(Yang, Li & Lyu, ICASSP 2019) and landmark jitter between adjacent frames (LRNet, Sun et al., CVPR 2021, reads
calibrated landmark trajectories).

    python research/generalise/geometry.py cache --run runs/head-bf16 --out runs/geometry
    python research/generalise/geometry.py screen --run runs/head-bf16 --features runs/features-bf16 --out runs/geometry

`cache`: for every clip of the run, track 0: chapter 03's `landmarks68` on the 32 cached crops (`lm`, (32, 68, 2)
crop pixels) and, for every second one, on that frame's file neighbours re-cut with the cached box (`nb`, (16, 3, 68,
2): previous, the frame, next), with `recut_error` (grey levels) as amendment 19 measured it. `screen`: the 306
numbers of amendment 29 a clip, `lr-geom` alone and as a third expert of `ens` (`ens+geom`), out of fold, without each
family and over the run's cross-dataset folds, read on the backbone-unseen clips (all clips beside); OUT/screen.json
and each expert's scores in OUT/experts.npz.
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from unseen import RULE_29, screen_unseen_and_all   # noqa: E402
from deepfake_detect.blend import landmarks68   # noqa: E402
from deepfake_detect.data import load_record, pick_frames   # noqa: E402
from deepfake_detect.evaluate import screen_verdict   # noqa: E402
from deepfake_detect.faces import crop_face   # noqa: E402
from deepfake_detect.video import read_frames_at   # noqa: E402

FRAMES, MAX_RECUT_ERROR, REFERENCE_CLIPS = 32, 2.0, 100
STABLE = np.r_[27:48]             # nose and eyes: the points that move least with expression
INNER, JAW = np.r_[17:68], np.r_[0:17]
REGIONS = {'jaw': np.r_[0:17], 'brows': np.r_[17:27], 'nose': np.r_[27:36], 'eyes': np.r_[36:48],
           'outer_lips': np.r_[48:60], 'inner_lips': np.r_[60:68]}


# ---------------------------------------------------------------- cache
def triples(idx, got):
    "For each frame index of `idx`, (previous, it, next) among the decoded frames `got`, shifted inwards at the ends."
    out = []
    for i in idx:
        c = i if (i - 1 in got and i + 1 in got) else i + 1 if (i + 2 in got and i + 1 in got) else i - 1
        out.append((c - 1, c, c + 1) if all(j in got for j in (c - 1, c, c + 1)) else None)
    return out


def clip_landmarks(r):
    "`lm` (32, 68, 2), `nb` (16, 3, 68, 2) float32 crop pixels (NaN where a triple could not be read), `recut_error`."
    tr = load_record(r.cache)['tracks'][0]
    crops = tr['crops'].permute(0, 2, 3, 1).numpy()
    pos = pick_frames(len(crops), FRAMES).numpy()
    lm = np.stack([landmarks68(crops[p]) for p in pos])
    half = pos[::2]
    idx = [int(tr['frame_indices'][p]) for p in half]
    got = {}
    read_frames_at(r.path, sorted({j for i in idx for j in range(max(i - 2, 0), i + 3)}), lambda i, f: got.__setitem__(i, f))
    nb, err = np.full((len(half), 3, 68, 2), np.nan, np.float32), []
    for k, (p, i, t) in enumerate(zip(half, idx, triples(idx, got))):
        box = tr['boxes'][p].numpy()
        if i in got: err.append(np.abs(crop_face(got[i], box)[0].astype(np.float32) - crops[p]).mean())
        if t is not None: nb[k] = [landmarks68(crop_face(got[j], box)[0]) for j in t]
    return dict(lm=lm, nb=nb, recut_error=float(np.mean(err)) if err else np.inf)


def cache(run, out): th.cache_clips(run, out, clip_landmarks, 'geometry')


# ---------------------------------------------------------------- features
def similarity(src, dst):
    "Least-squares similarity transform src → dst (each (K, 2)) as complex (a, b): z' = a z + b."
    zs, zd = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    ms, md = zs.mean(), zd.mean()
    a = np.vdot(zs - ms, zd - md) / max(np.vdot(zs - ms, zs - ms).real, 1e-9)
    return a, md - a * ms


def apply(t, pts):
    z = t[0] * (pts[..., 0] + 1j * pts[..., 1]) + t[1]
    return np.stack([z.real, z.imag], -1)


def align(pts, ref):
    "68 points aligned to the reference shape on the stable points."
    return apply(similarity(pts[STABLE], ref[STABLE]), pts)


def reference_shape(shapes):
    """Mean of (N, 68, 2) shapes after two rounds of alignment on the stable points, in units of its inter-ocular
    distance, centred."""
    ref = shapes[0]
    for _ in range(2): ref = np.mean([align(s, ref) for s in shapes], 0)
    iod = np.linalg.norm(ref[42:48].mean(0) - ref[36:42].mean(0))
    return (ref - ref.mean(0)) / iod


def pose_gap(pts, ref):
    "Inner face's similarity fit against the jaw line's: angle (degrees), log scale, translation of the centroid (2)."
    ti, tj = similarity(pts[INNER], ref[INNER]), similarity(pts[JAW], ref[JAW])
    c = pts.mean(0)
    d = apply(ti, c[None])[0] - apply(tj, c[None])[0]
    return [np.degrees(np.angle(ti[0] / tj[0])), np.log(abs(ti[0]) / abs(tj[0])), d[0], d[1]]


def mouth(a):
    "Inner-lip opening and mouth width (T,) each of aligned shapes (T, 68, 2)."
    gap = lambda i, j: np.linalg.norm(a[:, i] - a[:, j], axis=-1)
    return (gap(62, 66) + gap(61, 67) + gap(63, 65)) / 3, gap(48, 54)


def stats4(v): return [v.mean(), v.std(), np.percentile(v, 10), np.percentile(v, 90)]


def jitter(nb, ref):
    """(16,) amendment 29 (e): per region mean |second difference| and |first difference|, and the lips/eyes log ratios;
    None when no triple of neighbours could be read."""
    ok = ~np.isnan(nb).any(axis=(1, 2, 3))
    if not ok.any(): return None
    a = np.stack([[align(s, ref) for s in t] for t in nb[ok]])   # (n, 3, 68, 2)
    d2 = np.linalg.norm(a[:, 2] - 2 * a[:, 1] + a[:, 0], axis=-1).mean(0)
    d1 = np.linalg.norm(a[:, 2] - a[:, 1], axis=-1).mean(0)
    per = lambda d: {k: d[v].mean() for k, v in REGIONS.items()}
    p2, p1 = per(d2), per(d1)
    ratio = lambda p, k: np.log((p[k] + 1e-6) / (p['eyes'] + 1e-6))
    return np.array([*p2.values(), *p1.values(), ratio(p2, 'inner_lips'), ratio(p2, 'outer_lips'),
                     ratio(p1, 'inner_lips'), ratio(p1, 'outer_lips')])


def clip_geometry(z, ref, size=224):
    "The 306 numbers of amendment 29 of one clip's cache `z`; (numbers, whether its jitter was kept)."
    lm = z['lm']
    a = np.stack([align(s, ref) for s in lm])
    op, wd = mouth(a)
    pose = np.array([pose_gap(s, ref) for s in lm])
    jit = jitter(z['nb'], ref) if float(z['recut_error']) <= MAX_RECUT_ERROR else None
    outside = ((lm < 0) | (lm >= size)).any(axis=(1, 2)).mean()
    iod = np.linalg.norm(lm[:, 42:48].mean(1) - lm[:, 36:42].mean(1), axis=-1).mean()
    return np.concatenate([a.std(0).ravel(), a.mean(0).ravel(), stats4(op), stats4(wd), pose.mean(0), pose.std(0),
                           np.zeros(16) if jit is None else jit, [outside, iod]]).astype(np.float32), jit is not None


def reference_of(ix, folder):
    """The reference shape (68, 2) of amendment 29: FOLDER/reference.npy when it is there, else computed from the first
    REFERENCE_CLIPS cached clips of `ix` and saved, with their rows (reference_rows.txt)."""
    f = Path(folder) / 'reference.npy'
    if f.exists(): return np.load(f)
    rows = [r for r in ix.row if (Path(folder) / f'{r}.npz').exists()][:REFERENCE_CLIPS]
    ref = reference_shape(np.concatenate([np.load(Path(folder) / f'{r}.npz')['lm'] for r in rows]))
    np.save(f, ref); (Path(folder) / 'reference_rows.txt').write_text('\n'.join(map(str, rows)) + '\n')
    return ref


def geometry_of(ix, folder):
    """(N, 306) numbers for each row of `ix` and the counts: clips without a cache or with a non-finite number
    (zeros), and clips whose jitter was left at zero."""
    ref = reference_of(ix, folder)
    G, missing, no_jitter = np.zeros((len(ix), 306), np.float32), 0, 0
    for k, r in enumerate(ix.row):
        p = Path(folder) / f'{r}.npz'
        if not p.exists(): missing += 1; continue
        with np.load(p) as z: g, kept = clip_geometry(dict(z), ref)
        if not np.isfinite(g).all(): missing += 1; continue
        G[k], no_jitter = g, no_jitter + (not kept)
    return G, missing, no_jitter


# ---------------------------------------------------------------- screen
def screen(a):
    sys.argv = [sys.argv[0], '--run', a.run, '--features', a.features, '--out', a.out]
    _, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    G, missing, no_jitter = geometry_of(ix, a.out)
    print(f"geometry: {len(ix) - missing} clips, {missing} missing (zeros), {no_jitter} without jitter", flush=True)
    lr_geom = lambda: th.LR(pool=lambda A: A[:, 0])
    E = {'lstm': th.expert_scores(ix, ixs, F, at, th.LSTM, fams), 'lr': th.expert_scores(ix, ixs, F, at, th.LR, fams),
         'lr-geom': th.expert_scores(ix, ixs, G[:, None], at, lr_geom, fams)}
    th.save_experts(a.out, E)
    combos = (('ens', ('lstm', 'lr')), ('lr-geom', ('lr-geom',)), ('ens+geom', ('lstm', 'lr', 'lr-geom')))
    unseen, pooled = screen_unseen_and_all(combos, E, ix, ixs, y)
    verdict = screen_verdict(unseen['ens+geom'], unseen['ens'], **RULE_29)
    print(f"amendment 29, ens+geom on the unseen clips: {'taken' if verdict[0] else 'not taken: ' + '; '.join(verdict[1])}", flush=True)
    res = {'missing': missing, 'no_jitter': no_jitter, 'unseen': unseen, 'all': pooled, 'rule': RULE_29,
           'taken': verdict[0], 'failed': verdict[1]}
    (Path(a.out) / 'screen.json').write_text(json.dumps(res, indent=1, default=float))


if __name__ == '__main__': th.cache_or_screen(__doc__, cache, screen)
