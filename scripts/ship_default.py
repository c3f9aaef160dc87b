"""Evaluate, calibrate and ship the default model trained by `deepfake-detect train` (chapters 05-06).

    python scripts/ship_default.py --run runs/default [--head lstm|frames] [--model-id ID] [--dry-run]

Scores the validation split with (a) the baseline, (b) the two-stage model with its LSTM, (c) the two-stage model
without its LSTM (mean per-frame logits); calibrates each on that split (runs/.../calibrated/), writes
runs/.../comparison.json, and copies (b) or (c) (--head) to deepfake_detect/models/default.{safetensors,json}
unless --dry-run.
"""
import argparse
import json
import shutil
from pathlib import Path

import pandas as pd

from deepfake_detect.evaluate import MIN_BOOT, calibrate_and_ship
from deepfake_detect.model import set_threads

PKG_MODELS = Path(__file__).resolve().parents[1] / 'deepfake_detect' / 'models'
KEYS = ('auc', 'auc_ci', 'pair_win', 'pair_ci', 'pairs', 'accuracy', 'balanced_accuracy', 'log_loss', 'log_loss_crossfit',
        'n_scored', 'n_no_face', 'threshold', 'temperature')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default='runs/default')
    ap.add_argument('--head', default='lstm', choices=['lstm', 'frames'], help='what the shipped model scores with')
    ap.add_argument('--boot', type=int, default=1000)
    ap.add_argument('--model-id', default='default-efficientnet_lite0-sbi', help='id prefix of the shipped model (+ -lstm/-frames)')
    ap.add_argument('--dry-run', action='store_true', help='evaluate and compare only; do not replace the shipped model')
    args = ap.parse_args()
    if args.boot < MIN_BOOT: ap.error(f"--boot {args.boot}: a 95 % interval needs at least {MIN_BOOT} resamples")
    set_threads(2)
    run = Path(args.run)
    if not (run/'index.csv').is_file(): ap.error(f"--run {run}: no index.csv of a training run in it (deepfake-detect train writes one)")
    index = pd.read_csv(run/'index.csv')
    out = {}
    for name, ck, head in [('a_baseline_frozen_lstm', run/'baseline'/'best', 'lstm'),
                           ('b_sbi_finetuned_lstm', run/'model', 'lstm'),
                           ('c_sbi_finetuned_frame_mean', run/'model', 'frames')]:
        if not Path(str(ck) + '.json').exists(): print(f'skip {name}: {ck} missing'); continue
        rep = calibrate_and_ship(ck, index, run/'calibrated'/name, n_boot=args.boot, head=head, head_used=head,
                                 model_id=f'{args.model_id}-{head}' if name[0] != 'a' else 'baseline-original-recipe')
        out[name] = dict({k: rep[k] for k in KEYS}, per_method=rep['per_method'])
        print(name, json.dumps({k: out[name][k] for k in KEYS}, default=float))
    (run/'comparison.json').write_text(json.dumps(out, indent=1, default=float))
    if not args.dry_run:
        src = run/'calibrated'/('b_sbi_finetuned_lstm' if args.head == 'lstm' else 'c_sbi_finetuned_frame_mean')
        PKG_MODELS.mkdir(exist_ok=True)
        for ext in ('.json', '.safetensors'): shutil.copy(str(src) + ext, PKG_MODELS/('default' + ext))
        print('shipped', src, '->', PKG_MODELS/'default.*')


if __name__ == '__main__':
    main()
