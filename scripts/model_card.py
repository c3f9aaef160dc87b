"""Print the model card's result tables (Markdown) from scripts/ship_default.py's comparison.json.

    python scripts/model_card.py runs/default/comparison.json
"""
import argparse
import json
import math

NAMES = {'a_baseline_frozen_lstm': '(a) frozen ImageNet features + LSTM (original recipe)',
         'b_sbi_finetuned_lstm': '(b) SBI fine-tuned backbone + LSTM',
         'c_sbi_finetuned_frame_mean': '(c) (b) without the LSTM (mean of per-frame scores)'}


def missing(x): return x is None or (isinstance(x, float) and math.isnan(x))


def ci(v, lohi):
    "A value with its interval; 'n/a' without a value, the value alone without an interval."
    if missing(v): return 'n/a'
    lo, hi = lohi if lohi else (None, None)
    return f'{v:.2f}' if missing(lo) or missing(hi) else f'{v:.2f} [{lo:.2f}, {hi:.2f}]'


def main(path):
    comp = json.load(open(path))
    print('| model | AUC [95% CI] | paired win rate [95% CI] (pairs) | balanced acc. | log-loss (cross-fitted T) |')
    print('|---|---|---|---|---|')
    for k, r in comp.items():
        print(f"| {NAMES.get(k, k)} | {ci(r['auc'], r['auc_ci'])} | {ci(r['pair_win'], r['pair_ci'])} ({r['pairs']}) | "
              f"{r['balanced_accuracy']:.2f} | {r['log_loss_crossfit']:.3f} |")
    print()
    methods = sorted({m['method'] for r in comp.values() for m in r['per_method']})
    print('| fake method (validation fakes) | ' + ' | '.join(f'{k[:1]}: AUC · paired win' for k in comp) + ' |')
    print('|---|' + '---|' * len(comp))
    for m in methods:
        cells = []
        for r in comp.values():
            row = next((x for x in r['per_method'] if x['method'] == m), None)
            cells.append('—' if row is None else f"{ci(row['auc'], row['auc_ci'])} · {ci(row['pair_win'], row['pair_ci'])}")
        n = next(x['n_fake'] for r in comp.values() for x in r['per_method'] if x['method'] == m)
        print(f'| {m} ({n}) | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('comparison', nargs='?', default='runs/default/comparison.json', help="ship_default.py's comparison.json")
    main(ap.parse_args().comparison)
