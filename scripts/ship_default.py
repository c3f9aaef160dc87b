"""Evaluate, calibrate and ship the default model trained by scripts/train_default.py (chapter 06).

    python scripts/ship_default.py --run runs/default

Scores the validation split with (a) the baseline, (b) the two-stage model with its LSTM, (c) the two-stage model
without its LSTM (mean per-frame logits); writes runs/default/comparison.json and ships (b) or (c), whichever is
chosen with --head, to deepfake_detect/models/default.{safetensors,json}.
"""
import argparse
import json
from pathlib import Path

import pandas as pd

from deepfake_detect.evaluate import calibrate_and_ship
from deepfake_detect.model import set_threads

PKG_MODELS = Path(__file__).resolve().parents[1] / 'deepfake_detect' / 'models'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default='runs/default')
    ap.add_argument('--head', default='lstm', choices=['lstm', 'frames'], help='what the shipped model scores with')
    ap.add_argument('--boot', type=int, default=1000)
    args = ap.parse_args()
    set_threads(2)
    run = Path(args.run)
    index = pd.read_csv(run/'index.csv')
    out = {}
    for name, ck, head in [('a_baseline_frozen_lstm', run/'baseline'/'best', 'lstm'),
                           ('b_sbi_finetuned_lstm', run/'model', 'lstm'),
                           ('c_sbi_finetuned_frame_mean', run/'model', 'frames')]:
        if not Path(str(ck) + '.json').exists(): print(f'skip {name}: {ck} missing'); continue
        rep = calibrate_and_ship(ck, index, run/'calibrated'/name, n_boot=args.boot, head=head)
        out[name] = {k: rep[k] for k in ('auc', 'auc_ci', 'pair_win', 'pair_ci', 'pairs', 'accuracy', 'balanced_accuracy',
                                         'log_loss', 'log_loss_crossfit', 'n_scored', 'n_no_face', 'threshold', 'temperature')}
        out[name]['per_method'] = rep['per_method']
        print(name, json.dumps({k: v for k, v in out[name].items() if k != 'per_method'}, default=float))
    (run/'comparison.json').write_text(json.dumps(out, indent=1, default=float))
    PKG_MODELS.mkdir(exist_ok=True)
    rep = calibrate_and_ship(run/'model', index, PKG_MODELS/'default', n_boot=args.boot, head=args.head,
                             model_id=f'default-efficientnet_lite0-sbi-{args.head}', head_used=args.head)
    print('shipped', PKG_MODELS/'default.safetensors', 'AUC', rep['auc'], 'pair win', rep['pair_win'])


if __name__ == '__main__':
    main()
