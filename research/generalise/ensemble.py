"""The `ens` candidate of PLAN.md's second amendment: LSTM head + pooled logistic head on the same frozen features,
each logit divided by the spread of its own out-of-fold logits, summed; out-of-fold and leave-one-family-out, side
by side with each head alone and the probe. (The combination is the shipped recipe's `head_scores('ens')`.)

    python research/generalise/ensemble.py --features runs/features --out runs/ensemble
"""
import argparse, json, sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'scripts'))
from train_head import head_scores, load_features, lofo, lofo_families, report   # noqa: E402
from deepfake_detect.data import index_manifest, preprocess, default_cache_root   # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=str(ROOT.parent / 'shared' / 'data' / 'manifest.csv'))
    ap.add_argument('--features', required=True); ap.add_argument('--out', required=True)
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    ix, X = load_features(preprocess(index_manifest(a.data), default_cache_root(), progress=False), a.features)
    fams, res = lofo_families(ix), {}
    for name in ('lstm-ship', 'lr-ship', 'probe', 'ens'):
        s, by_family, scale = head_scores(ix, X, name, fams)
        r = res[name] = dict(report(ix, s, 200), lofo=lofo(ix, by_family, 200))
        r['lofo_mean'] = float(np.mean([x['auc'] for x in r['lofo']]))
        if scale: res['scale'] = scale
        print(f"{name:10} AUC {r['auc']:.3f} [{r['auc_ci'][0]:.2f}, {r['auc_ci'][1]:.2f}] pair {r['pair_win']:.2f} LOFO "
              + ' '.join(f"{x['family']} {x['auc']:.2f}" for x in r['lofo']) + f" | mean {r['lofo_mean']:.3f}", flush=True)
    (out / 'results.json').write_text(json.dumps(res, indent=1, default=float))


if __name__ == '__main__': main()
