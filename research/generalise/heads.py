"""Heads on frozen features, judged out-of-fold (group-held-out) and leave-one-family-out (issue 21, PLAN.md).

    python research/generalise/heads.py --index runs/shared_index.csv --features runs/features --out runs/heads

Prints one row per head: out-of-fold AUC [95 % CI], paired win rate, per-family AUC and leave-one-family-out AUC.
The heads and the protocol are the shipped recipe's (scripts/train_head.py); this only compares more of them.
"""
import argparse, json, sys
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
from train_head import HEADS, head_scores, load_features, lofo, lofo_families, report   # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--features', required=True)
    ap.add_argument('--out', required=True); ap.add_argument('--heads', nargs='*', default=list(HEADS))
    a = ap.parse_args()
    torch.set_num_threads(2)
    ix, X = load_features(pd.read_csv(a.index), a.features)
    fams, res = lofo_families(ix), {}
    for name in a.heads:
        s, by_family, _ = head_scores(ix, X, name, fams)
        r = res[name] = dict(report(ix, s, 200), lofo=lofo(ix, by_family, 200))
        print(f"{name:16} AUC {r['auc']:.3f} pair {r['pair_win']:.2f} | LOFO "
              + ' '.join(f"{x['family']} {x['auc']:.2f}" for x in r['lofo']), flush=True)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / 'results.json').write_text(json.dumps(res, indent=1, default=float))


if __name__ == '__main__': main()
