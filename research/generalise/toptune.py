"""Fine-tune the top of the shipped backbone on the CPU from cached activations (issue 21, PLAN.md amendment 8).

Stage `cache`: the frozen stages 1-5 of the shipped EfficientNet-Lite0 (stem + blocks 0-10) run once over 16 evenly
spaced frames of track 0 of every clip, in three versions: the original frames, the whole-file re-encoded copy's
(amendment 7; faces found again) and one self-blend of each real clip's frames (chapter 03). Saved as
OUT/acts-{orig,reenc,sbi}.safetensors ((N, 16, 112, 14, 14) bf16) and OUT/acts.csv (rows, versions present).
Stage `cache-c` (amendment 9) adds each real clip's crops and their self-blend re-encoded as one H.264 track with one
(CRF, size) draw: OUT/acts-{realc,sbic}.safetensors, indexed like acts-sbi.

Stage `cache-img` (amendment 10) saves the same crops themselves (uint8, OUT/imgs-{orig,reenc,sbi}.safetensors, same
rows) for `--first 0`, a tune of the whole backbone.

Stage `screen`: for test folds 0 and 1, one fine-tune on the other folds and one per leave-one-family-out family,
each scored by (i) the new frame classifier and (ii) the `ens` heads refitted on the tuned features; the baseline is
the same code with 0 epochs. Prints and writes OUT/screen-FIRST.json.

    python research/generalise/toptune.py cache --index runs/shared_index.csv --out runs/toptune
    python research/generalise/toptune.py screen --index runs/shared_index.csv --out runs/toptune --first 15
    python research/generalise/toptune.py screen --index runs/shared_index.csv --out runs/toptune --first 11 --no-baseline
    python research/generalise/toptune.py screen --index runs/shared_index.csv --out runs/toptune --first 15 --no-baseline --sbi-only
    python research/generalise/toptune.py cache-c --index runs/shared_index.csv --out runs/toptune
    python research/generalise/toptune.py screen --index runs/shared_index.csv --out runs/toptune --first 15 --no-baseline --sbi-only --compressed
    python research/generalise/toptune.py cache-img --index runs/shared_index.csv --out runs/toptune
    python research/generalise/toptune.py screen --index runs/shared_index.csv --out runs/toptune --first 0 --no-baseline --sbi-only --epochs 2

Amendment 28 reads the screen on the clips the shipped backbone was never fine-tuned on (chapter 02's
`backbone_training_clips`) over all five folds, without whole-file copies; each fold's scores are saved as it ends
(OUT/scores-TAG.npz) and the readout over the finished folds rewritten (OUT/screen-TAG.json, key `unseen`); stage
`judge-28` applies the amendment's rule to them (OUT/judge-28.json):

    python research/generalise/toptune.py cache-img --index runs/shared_index.csv --out runs/toptune28 --no-copies
    python research/generalise/toptune.py screen --index runs/shared_index.csv --out runs/toptune28 --first 0 --sbi-only --folds 0 1 2 3 4 --no-copies
    python research/generalise/toptune.py judge-28 --index runs/shared_index.csv --out runs/toptune28
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
from train_head import LR, LSTM, clip_frames, degradation, degrade, lofo, lofo_families, report, unseen_masks  # noqa: E402
from deepfake_detect.blend import self_blend_clip   # noqa: E402
from deepfake_detect.data import (assign_folds, default_cache_root, family_of, is_copy,  # noqa: E402
                                  normalize_clip, with_reencoded_copies)
from deepfake_detect.model import autocast, load_default, set_threads   # noqa: E402
from deepfake_detect.train import roc_auc   # noqa: E402

SPLIT, T = 11, 16   # blocks[:SPLIT] frozen and cached; frames per clip
VERSIONS = ('orig', 'reenc', 'sbi')
COMPRESSED = ('realc', 'sbic')   # amendment 9


# ---------------------------------------------------------------- the backbone cut in two
def bottom(net, x):
    "Stages 1-5 of an EfficientNet-Lite trunk `net` (the package's EfficientNet): (B, 3, 224, 224) → (B, 112, 14, 14)."
    x = net._swish(net._bn0(net._conv_stem(x)))
    for b in net._blocks[:SPLIT]: x = b(x)
    return x


def top(net, a, start=SPLIT):
    """Blocks start.. + head convolution of `net` on activations `a`, mean-pooled: (B, 1280) float32; `start` 0: `a`
    are normalised images (B, 3, 224, 224) and the stem runs first."""
    x = net._swish(net._bn0(net._conv_stem(a))) if start == 0 else a
    for b in net._blocks[start:]: x = b(x)
    return net._swish(net._bn1(net._conv_head(x))).mean((2, 3)).float()


def as_input(a):
    "Cached activations as float, or cached uint8 crops normalised as the shipped backbone expects (its mean and std)."
    return normalize_clip(a) if a.dtype == torch.uint8 else a.float()


# ---------------------------------------------------------------- cache
def frames_of(cache):
    "(16 face crops (T, 3, 224, 224) uint8, their 5-point landmarks (T, 5, 2)) of track 0 of a face cache."
    return clip_frames(cache, T)


def sbi(crops, lms, row):
    "One self-blend (whole or lower face, p 0.5) of crops (T, 3, S, S) uint8, seeded by the clip's row."
    hwc, _ = self_blend_clip(crops.permute(0, 2, 3, 1).numpy(), lms, np.random.default_rng([1, int(row)]), p_mouth=0.5)
    return torch.from_numpy(hwc).permute(0, 3, 1, 2)


def build_cache(index, out, log=print, images=False, copies=True):
    "Stage `cache` (`images`: stage `cache-img`, the crops themselves; without `copies`, no whole-file copy: amendment 28)."
    ship, cfg = load_default()
    net = ship.backbone.net.eval()
    ok = index[index.status == 'ok']
    copy_of = {}
    if copies:
        both = with_reencoded_copies(ok.assign(split='train'), default_cache_root(), copies=1, seed=0, workers=2, progress=False)
        made = both[is_copy(both) & (both.status == 'ok')]
        copy_of = dict(zip(made.source, made.cache))
    acts = {v: [] for v in VERSIONS}
    meta, t0 = [], time.time()
    act = lambda c: bottom(net, normalize_clip(c, cfg['mean'], cfg['std'])).to(torch.bfloat16)
    if images: act = lambda c: c
    with torch.inference_mode(), autocast('cpu'):
        for k, (row, r) in enumerate(ok.iterrows()):
            crops, lms = frames_of(r.cache)
            acts['orig'].append(act(crops))
            has_copy = r.path in copy_of
            if has_copy: acts['reenc'].append(act(frames_of(copy_of[r.path])[0]))
            if r.label == 'real': acts['sbi'].append(act(sbi(crops, lms, row)))
            meta.append(dict(row=row, reenc=len(acts['reenc']) - 1 if has_copy else -1,
                             sbi=len(acts['sbi']) - 1 if r.label == 'real' else -1))
            if (k + 1) % 50 == 0: log(f"cache: {k + 1}/{len(ok)} clips, {(time.time() - t0) / (k + 1):.1f} s/clip", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    prefix = 'imgs' if images else 'acts'
    for v in VERSIONS:
        if acts[v]: save_file({'acts': torch.stack(acts[v]).contiguous()}, str(out / f'{prefix}-{v}.safetensors'))
    meta = pd.DataFrame(meta)
    if images and (out / 'acts.csv').exists():   # both caches are read through one acts.csv
        assert meta.equals(pd.read_csv(out / 'acts.csv')), 'imgs-* rows differ from acts-*: rebuild both'
    meta.to_csv(out / 'acts.csv', index=False)


def build_compressed(index, out, log=print):
    """Amendment 9: OUT/acts-realc and acts-sbic, each real clip's 16 crops and their self-blend (`sbi`, same seed)
    through `degrade` with one `degradation(row, seed=1)` draw for both; row j of each = row j of acts-sbi."""
    ship, cfg = load_default()
    net = ship.backbone.net.eval()
    reals = pd.read_csv(out / 'acts.csv').query('sbi >= 0').sort_values('sbi')
    acts, t0 = {v: [] for v in COMPRESSED}, time.time()
    act = lambda c: bottom(net, normalize_clip(c, cfg['mean'], cfg['std'])).to(torch.bfloat16)
    with torch.inference_mode(), autocast('cpu'):
        for k, row in enumerate(reals.row):
            crops, lms = frames_of(index.loc[row].cache)
            crf, half = degradation(row, seed=1)
            acts['realc'].append(act(degrade(crops, crf, half)))
            acts['sbic'].append(act(degrade(sbi(crops, lms, row), crf, half)))
            if (k + 1) % 50 == 0: log(f"cache-c: {k + 1}/{len(reals)} real clips, {(time.time() - t0) / (k + 1):.1f} s/clip", flush=True)
    for v in COMPRESSED: save_file({'acts': torch.stack(acts[v]).contiguous()}, str(out / f'acts-{v}.safetensors'))


def cached_clips(index, out):
    "The cached clips' index (rows of OUT/acts.csv) with their folds (`assign_folds`, 5, seed 0) and families."
    meta = pd.read_csv(out / 'acts.csv')
    ix = index.loc[meta.row].copy()
    ix['row'], ix['reenc'], ix['sbi'] = meta.row.values, meta.reenc.values, meta.sbi.values
    ix = assign_folds(ix.reset_index(drop=True), 5, seed=0)
    ix['family'] = [family_of(m, l) for m, l in zip(ix.method, ix.label)]
    return ix


def load_cache(index, out, images=False):
    """(clips index with folds and families, {version: (n, T, 112, 14, 14) bf16}); index columns reenc/sbi point into
    them. `images`: {version: (n, T, 3, 224, 224) uint8} from the imgs-* files (amendment 10)."""
    ix = cached_clips(index, out)
    files = {v: out / f"{'imgs' if images else 'acts'}-{v}.safetensors" for v in VERSIONS + COMPRESSED}
    return ix, {v: load_file(str(f))['acts'] for v, f in files.items() if f.exists()}


# ---------------------------------------------------------------- fine-tune
def training_frames(ix, train, genuine=True, compressed=False):
    """(version, index into that version's acts, label) of every clip-version of the training clips `train` (bool);
    without `genuine`, the real clips' original frames and their self-blends only (amendment 8c); with `compressed`
    too, each real's whole-file copy and crop-level re-encoding (0) and its blend re-encoded the same way (1) (9)."""
    items = []
    for i in np.flatnonzero(train):
        r, y = ix.iloc[i], int(ix.label.iloc[i] == 'fake')
        if y and not genuine: continue
        items.append(('orig', i, y))
        if r.reenc >= 0 and genuine: items.append(('reenc', int(r.reenc), y))   # no blend of a copy: no shortcut
        if r.sbi >= 0: items.append(('sbi', int(r.sbi), 1))
        if compressed and r.sbi >= 0:
            if r.reenc >= 0: items.append(('reenc', int(r.reenc), 0))
            items += [('realc', int(r.sbi), 0), ('sbic', int(r.sbi), 1)]
    return items


def finetune(ix, A, train, epochs=2, first=SPLIT, seed=0, log=print, frames=8, batch=64, genuine=True, compressed=False):
    """A copy of the shipped trunk with blocks first.. tuned on the training clips, and its new frame classifier.
    `A`: the activations at the input of block `first` (`advance`d when first > SPLIT)."""
    ship, _ = load_default()
    net = ship.backbone.net.eval()
    for p in net.parameters(): p.requires_grad_(False)
    tuned = [*net._blocks[first:], net._conv_head, net._bn1] + ([net._conv_stem, net._bn0] if first == 0 else [])
    for m in tuned:
        for p in m.parameters(): p.requires_grad_(True)
    clf = nn.Linear(1280, 1)
    nn.init.zeros_(clf.weight); nn.init.zeros_(clf.bias)
    opt = torch.optim.AdamW([dict(params=[p for m in tuned for p in m.parameters()], lr=1e-4),
                             dict(params=clf.parameters(), lr=1e-3)], weight_decay=1e-2)
    items = training_frames(ix, train, genuine, compressed)
    y_items = np.array([y for *_, y in items])
    pos = torch.tensor((y_items == 0).sum() / max((y_items == 1).sum(), 1), dtype=torch.float32)
    g = torch.Generator().manual_seed(seed)
    t0 = time.time()
    for ep in range(epochs):
        pairs = [(k, int(t)) for k in range(len(items)) for t in torch.randperm(T, generator=g)[:frames]]
        order = torch.randperm(len(pairs), generator=g)
        total, n = 0.0, 0
        for b in order.split(batch):
            sel = [pairs[j] for j in b]
            a = as_input(torch.stack([A[items[k][0]][items[k][1], t] for k, t in sel]))
            yb = torch.tensor([float(items[k][2]) for k, _ in sel])
            with autocast('cpu'):
                logit = clf(top(net, a, first)).squeeze(-1)
            loss = nn.functional.binary_cross_entropy_with_logits(logit.float(), yb, pos_weight=pos)
            opt.zero_grad(); loss.backward(); opt.step()
            total, n = total + loss.item() * len(b), n + len(b)
        log(f"  epoch {ep + 1}: loss {total / n:.4f}, {time.time() - t0:.0f} s", flush=True)
    for p in net.parameters(): p.requires_grad_(False)
    return net, clf


def advance(net, a, first, chunk=256):
    "Activations (n, T, ...) bf16 carried through the frozen blocks SPLIT..first-1."
    out = []
    with torch.no_grad(), autocast('cpu'):
        for c in a.flatten(0, 1).split(chunk):
            x = c.float()
            for b in net._blocks[SPLIT:first]: x = b(x)
            out.append(x.to(torch.bfloat16))
    return torch.cat(out).reshape(*a.shape[:2], *out[0].shape[1:])


def tuned_features(net, clf, first, A, chunk=256):
    """{version: (frame features (n, T, 1280) float32, frame logits (n, T))} of every cached clip-version; `A` as for
    `finetune`."""
    out = {}
    with torch.inference_mode(), autocast('cpu'):
        for v, a in ((v, A[v]) for v in ('orig', 'reenc') if v in A):
            f = torch.cat([top(net, as_input(c), first) for c in a.flatten(0, 1).split(chunk)])
            out[v] = (f.reshape(*a.shape[:2], -1).numpy(), clf(f).squeeze(-1).float().reshape(*a.shape[:2]).numpy())
    return out


def ens_scores(F_tr, y_tr, g_tr, tests):
    "The shipped recipe's ens heads fitted on (F_tr, y_tr) and scored on each of `tests` (each part over its spread)."
    lstm, lr = LSTM().fit(F_tr, y_tr, g_tr), LR().fit(F_tr, y_tr, g_tr)
    parts = [(lstm(F), lr(F)) for F in tests]
    s1, s2 = np.std(parts[0][0]), np.std(parts[0][1])   # spread on the first test set (label-free)
    return [a / s1 + b / s2 for a, b in parts]


# ---------------------------------------------------------------- screening
def fold_features(ix, A, train, epochs, first, log, genuine=True, compressed=False):
    "`tuned_features` of a backbone tuned on `train` (the shipped one, untouched, when `epochs` is 0)."
    if epochs:
        net, clf = finetune(ix, A, train, epochs, first, log=log, genuine=genuine, compressed=compressed)
    else:
        ship, _ = load_default(); net, clf = ship.backbone.net.eval(), nn.Linear(1280, 1)
    return tuned_features(net, clf, first, A)


def run_one(ix, A, k, drop, epochs, first, log, genuine=True, compressed=False, feats=None):
    """Scores (readout i, readout ii) of test fold k's originals and whole-file copies from a run without fold k (and
    `drop`); `feats`: the fold's tuned features when they do not depend on `drop` (no genuine fake tuned on)."""
    train = (ix.fold != k).values
    if drop: train = train & (ix.family != drop).values
    test = (ix.fold == k).values
    if feats is None: feats = fold_features(ix, A, train, epochs, first, log, genuine, compressed)
    F, FL = feats['orig']
    y = (ix.label == 'fake').values.astype(int)
    # training set of the heads: the training clips' originals + their whole-file copies (the shipped recipe's; none
    # when no copy is cached, amendment 28)
    has = (ix.reenc >= 0).values & ('reenc' in feats)
    Fr, Fr_l = np.zeros_like(F), np.zeros_like(FL)
    if has.any(): Fr[has], Fr_l[has] = (v[ix.reenc[has].values] for v in feats['reenc'])
    tr_c, te_c = train & has, test & has
    F_tr = np.concatenate([F[train], Fr[tr_c]]); y_tr = np.concatenate([y[train], y[tr_c]])
    g_tr = np.concatenate([ix.split_group.values[train], ix.split_group.values[tr_c]])
    s_orig, *s_copy = ens_scores(F_tr, y_tr, g_tr, [F[test]] + [Fr[te_c]] * bool(te_c.any()))
    return dict(ens=(s_orig, s_copy[0] if s_copy else np.zeros(0)), frame=(FL[test].mean(1), Fr_l[te_c].mean(1)),
                test=test, test_copy=te_c)


def screen(ix, A, out, epochs, first, folds=(0, 1), log=print, baseline=True, genuine=True, compressed=False, unseen=None):
    """Both arms (0-epoch baseline, tuned) fold by fold; after each fold the scores so far are saved
    (OUT/scores-TAG.npz) and their readout written (OUT/screen-TAG.json): per arm and readout, AUC, copies AUC and
    leave-one-family-out on every finished clip, and with `unseen` (bool per row: the backbone never trained on the
    clip; amendment 28) `report` and `lofo` on those clips under key `unseen`."""
    if first > SPLIT:   # the frozen blocks SPLIT..first-1 run once for every run
        net = load_default()[0].backbone.net.eval()
        A = {v: advance(net, a, first) for v, a in A.items()}
    fams = lofo_families(ix)
    tag = f'{first}' + ('' if genuine else '-sbi') + ('c' if compressed else '') + (f'-e{epochs}' if epochs != 2 else '')
    arms = (('baseline', 0),) * baseline + ((f'tuned{tag}', epochs),)
    S = {(a, r, v): np.full(len(ix), np.nan) for a, _ in arms for r in ('ens', 'frame') for v in ('orig', 'copy')}
    L = {(a, r, f): np.full(len(ix), np.nan) for a, _ in arms for r in ('ens', 'frame') for f in fams}
    frozen = None   # the 0-epoch features do not depend on the fold
    for k in folds:
        for name, ep in arms:
            t0 = time.time()
            shared = None   # without genuine fakes the fold's backbone is the same for every family left out
            if not ep: shared = frozen = frozen or fold_features(ix, A, None, 0, first, log)
            elif not genuine: shared = fold_features(ix, A, (ix.fold != k).values, ep, first, log, genuine, compressed)
            o = run_one(ix, A, k, None, ep, first, log, genuine, compressed, shared)
            for r in ('ens', 'frame'): S[name, r, 'orig'][o['test']], S[name, r, 'copy'][o['test_copy']] = o[r]
            for f in fams:
                of = run_one(ix, A, k, f, ep, first, log, genuine, compressed, shared)
                for r in ('ens', 'frame'): L[name, r, f][of['test']] = of[r][0]
            log(f"{name} fold {k}: {time.time() - t0:.0f} s", flush=True)
        np.savez(out / f'scores-{tag}.npz', **{'|'.join(key): v for key, v in {**S, **L}.items()})
        res = {f'{name}-{r}': readout(ix, S, L, fams, name, r, unseen, log) for name, _ in arms for r in ('ens', 'frame')}
        (out / f'screen-{tag}.json').write_text(json.dumps(dict(res, folds=[int(j) for j in folds[:folds.index(k) + 1]]), indent=1))
    return res


def readout(ix, S, L, fams, name, r, unseen=None, log=print):
    "The screen's numbers of arm `name`, readout `r` on the clips scored so far (and on the `unseen` ones among them)."
    y = (ix.label == 'fake').values
    m, mc = ~np.isnan(S[name, r, 'orig']), ~np.isnan(S[name, r, 'copy'])
    lo = {f: roc_auc(y[d], L[name, r, f][d]) for f in fams for d in [m & ((ix.family == f).values | ~y)]}
    x = dict(auc=roc_auc(y[m], S[name, r, 'orig'][m]), copies_auc=roc_auc(y[mc], S[name, r, 'copy'][mc]) if mc.any() else None,
             lofo=lo, lofo_mean=float(np.mean(list(lo.values()))), n=int(m.sum()))
    log(f"{name}-{r:5} AUC {x['auc']:.3f}" + (f" copies {x['copies_auc']:.3f}" if mc.any() else '') + " | LOFO "
        + ' '.join(f"{f} {a:.2f}" for f, a in lo.items()) + f" | mean {x['lofo_mean']:.3f}", flush=True)
    if unseen is not None:
        x['unseen'] = u = held_out_numbers(ix, S[name, r, 'orig'], {f: L[name, r, f] for f in fams}, m & unseen)
        log(f"  on the {u['n']} backbone-unseen: AUC {u['auc']:.3f} [{u['auc_ci'][0]:.2f}, {u['auc_ci'][1]:.2f}] "
            f"paired {u['pair_win']:.2f} | LOFO " + ' '.join(f"{f} {a:.2f}" for f, a in u['lofo'].items())
            + f" | mean {u['lofo_mean']:.3f}", flush=True)
    return x


def held_out_numbers(ix, s, by_family, m):
    """Out-of-fold scores `s` (N,) and leave-one-family-out scores {family: (N,)} read on the rows `m` (bool): n, AUC
    with its group-bootstrap interval, paired win rate, per-family AUC, {family: left-out AUC} and their mean."""
    r = report(ix[m], s[m])
    lo = {d['family']: d['auc'] for d in lofo(ix[m], {f: v[m] for f, v in by_family.items()})}
    return dict(r, lofo=lo, lofo_mean=float(np.mean(list(lo.values()))))


RULE_28 = dict(lofo_mean=0.02, auc=-0.005, pair_win=-0.02, family=-0.03, min_folds=3)


def judge_28(ix, out, tag='0-sbi', unseen=None, rule=RULE_28):
    """Amendment 28's rule on OUT/scores-TAG.npz: the tuned arm's `ens` against the baseline's on the backbone-unseen
    clips of the finished folds (left-out mean, out-of-fold AUC, paired win rate, every family left out), with the
    same numbers on all their clips beside it. Returns {'unseen': {arm: numbers}, 'all': ..., 'deltas', 'taken'}."""
    Z = np.load(out / f'scores-{tag}.npz')
    arms = {'control': 'baseline', 'candidate': f'tuned{tag}'}
    fams = lofo_families(ix)
    done = ~np.isnan(Z[f"tuned{tag}|ens|orig"])
    res = {}
    for part, m in (('unseen', done & unseen), ('all', done)):
        res[part] = {arm: held_out_numbers(ix, Z[f'{name}|ens|orig'], {f: Z[f'{name}|ens|{f}'] for f in fams}, m)
                     for arm, name in arms.items()}
    u = res['unseen']
    d = {k: u['candidate'][k] - u['control'][k] for k in ('lofo_mean', 'auc', 'pair_win')}
    d['family'] = min(u['candidate']['lofo'][f] - u['control']['lofo'][f] for f in fams)
    n_folds = int(len(set(ix.fold[done])))
    res.update(deltas=d, folds=n_folds, complete=n_folds >= rule['min_folds'],
               taken=bool(n_folds >= rule['min_folds'] and all(d[k] >= rule[k] for k in d)))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('stage', choices=['cache', 'cache-c', 'cache-img', 'screen', 'speed', 'judge-28'])
    ap.add_argument('--index', required=True); ap.add_argument('--out', required=True)
    ap.add_argument('--no-baseline', action='store_true', help='skip the 0-epoch baseline (same for every --first)')
    ap.add_argument('--sbi-only', action='store_true', help='tune the backbone on reals and self-blends only (8c)')
    ap.add_argument('--compressed', action='store_true', help='with --sbi-only: their re-encoded versions too (9)')
    ap.add_argument('--folds', type=int, nargs='+', default=[0, 1], help='test folds, in order (amendment 28: 0 1 2 3 4)')
    ap.add_argument('--no-copies', action='store_true', help='no whole-file copies: cache-img without them, screen read on the originals only (28)')
    ap.add_argument('--epochs', type=int, default=2); ap.add_argument('--first', type=int, default=SPLIT,
                                                                     help='first tuned block (11: stages 6-7; 15: stage 7 only; 0: every layer, from the crops)')
    a = ap.parse_args()
    set_threads(2)
    index, out = pd.read_csv(a.index), Path(a.out)
    if a.stage == 'cache': return build_cache(index, out)
    if a.stage == 'cache-c': return build_compressed(index, out)
    if a.stage == 'cache-img': return build_cache(index, out, images=True, copies=not a.no_copies)
    if a.compressed and not a.sbi_only: ap.error('--compressed needs --sbi-only')
    if a.stage == 'judge-28':   # amendment 28's rule on the saved scores (no backbone needed)
        ix = cached_clips(index, out)
        res = judge_28(ix, out, unseen=unseen_masks(ix)[0])
        (out / 'judge-28.json').write_text(json.dumps(res, indent=1))
        for part in ('unseen', 'all'):
            for arm, x in res[part].items():
                print(f"{part:6} {arm:9} n {x['n']} AUC {x['auc']:.3f} [{x['auc_ci'][0]:.2f}, {x['auc_ci'][1]:.2f}] paired "
                      f"{x['pair_win']:.2f} | left out " + ' '.join(f"{f} {v:.2f}" for f, v in x['lofo'].items())
                      + f" | mean {x['lofo_mean']:.3f}")
        print(f"folds {res['folds']}; deltas on the unseen clips {json.dumps({k: round(v, 4) for k, v in res['deltas'].items()})}; "
              + ('taken' if res['taken'] else 'not taken' if res['complete'] else 'incomplete: not judged'))
        return
    ix, A = load_cache(index, out, images=a.first == 0)
    if a.no_copies: A.pop('reenc', None)
    if a.stage == 'speed':   # one epoch's time from 10 batches (amendment 8's rule on which blocks train)
        n = len(training_frames(ix, (ix.fold != 0).values)) * 8 / 64
        for first, bf16 in ((0, True),) if a.first == 0 else ((SPLIT, True), (SPLIT, False), (15, True), (15, False)):
            dt = time_steps(A, first, 6, bf16)
            print(f"first block {first}, bf16 {bf16}: {dt:.2f} s per batch of 64 frames, {dt * n / 60:.1f} min per epoch", flush=True)
        return
    if not a.no_copies and 'reenc' not in A: ap.error(f'{out} holds no whole-file copies: give --no-copies')
    screen(ix, A, out, a.epochs, a.first, a.folds, baseline=not a.no_baseline, genuine=not a.sbi_only,
           compressed=a.compressed, unseen=unseen_masks(ix)[0])


def time_steps(A, first, steps, bf16):
    "Seconds per training batch of 64 frames with blocks first.. trainable (median of `steps`)."
    ship, _ = load_default()
    net = ship.backbone.net.eval()
    params = [p for m in (*net._blocks[first:], net._conv_head, net._bn1) for p in m.parameters()]
    if first == 0: params += [*net._conv_stem.parameters(), *net._bn0.parameters()]
    opt = torch.optim.AdamW(params, lr=1e-4)
    a = A['orig'][:, :8].flatten(0, 1)[:64][:, None]
    a = as_input((advance(net, a, first) if first > SPLIT else a)[:, 0])
    times = []
    for _ in range(steps + 3):   # the first steps build kernels: not counted (amendment 8b)
        t0 = time.time()
        with autocast('cpu', enabled=bf16): loss = top(net, a, first).float().mean()
        opt.zero_grad(); loss.backward(); opt.step()
        times.append(time.time() - t0)
    return float(np.median(times[3:]))


if __name__ == '__main__': main()
