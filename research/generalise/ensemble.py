"""The `ens` candidate of PLAN.md's second amendment: LSTM head + pooled logistic head on the same frozen features,
each logit divided by the spread of its own out-of-fold logits, summed. Out-of-fold and leave-one-family-out, side by
side with each head alone and the probe.

    python research/generalise/ensemble.py --features runs/features --out runs/ensemble
"""
import argparse, json, sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'scripts'))
from train_head import HEADS, feats, load_features, out_of_fold, report   # noqa: E402
from deepfake_detect.data import index_manifest, preprocess, default_cache_root   # noqa: E402
from deepfake_detect.train import roc_auc   # noqa: E402


def scores(ix, X, name, fams):
    "Out-of-fold scores, and per family the out-of-fold scores of a head trained without that family."
    make, sets, T = HEADS[name]
    F = feats(X, sets, T)
    return out_of_fold(ix, F, make), {f: out_of_fold(ix, F, make, drop=f) for f in fams}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=str(ROOT.parent / 'shared' / 'data' / 'manifest.csv'))
    ap.add_argument('--features', required=True); ap.add_argument('--out', required=True)
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    ix, X = load_features(preprocess(index_manifest(a.data), default_cache_root(), progress=False), a.features)
    fams = [f for f, n in ix[ix.label == 'fake'].family.value_counts().items() if f != 'unknown' and n >= 15]
    S = {}
    for name in ('lstm-ship', 'lr-ship', 'probe'):
        S[name] = scores(ix, X, name, fams)
        np.savez(out / f'{name}.npz', oof=S[name][0], **{f'lofo_{f}': v for f, v in S[name][1].items()})
    scale = {k: float(np.std(S[k][0])) for k in ('lstm-ship', 'lr-ship')}
    ens = lambda a, b: a / scale['lstm-ship'] + b / scale['lr-ship']
    S['ens'] = (ens(S['lstm-ship'][0], S['lr-ship'][0]), {f: ens(S['lstm-ship'][1][f], S['lr-ship'][1][f]) for f in fams})
    res = {}
    for name, (oof, lofo) in S.items():
        r = report(ix, oof, 200)
        keep = lambda f: ((ix.family == f) | (ix.label == 'real')).values
        r['lofo'] = {f: roc_auc(ix.label[keep(f)] == 'fake', lofo[f][keep(f)]) for f in fams}
        r['lofo_mean'] = float(np.mean(list(r['lofo'].values())))
        res[name] = r
        print(f"{name:10} AUC {r['auc']:.3f} [{r['auc_ci'][0]:.2f}, {r['auc_ci'][1]:.2f}] pair {r['pair_win']:.2f} LOFO "
              + ' '.join(f"{f} {v:.2f}" for f, v in r['lofo'].items()) + f" | mean {r['lofo_mean']:.3f}", flush=True)
    res['scale'] = scale
    (out / 'results.json').write_text(json.dumps(res, indent=1, default=float))


if __name__ == '__main__': main()
