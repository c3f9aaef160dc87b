"""Add the fingerprints of its training clips to a checkpoint made before scripts/train_head.py recorded them, so the
Predictor notes when a file was training data and `deepfake-detect evaluate` counts such files (chapter 07's
`was_trained_on`; chapter 02's `video_fingerprint`: size and first and last 64 kB of each file).

    python scripts/record_training_clips.py --run runs/head-bf16 [--model deepfake_detect/models/default]

RUN/index.csv (written by scripts/train_head.py) must hold exactly the clips the checkpoint counts in its
`training_data` (per label and method, and per fake family); otherwise nothing is written. Only the JSON changes.
"""
import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_head as th   # noqa: E402
from deepfake_detect.model import checkpoint_paths, strict_json   # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def with_fingerprints(cfg, ix):
    "`cfg` with training_data.fingerprints of the clips `ix`; ValueError unless `ix` is what `cfg` says it trained on."
    td, got = cfg.get('training_data', {}), th.training_counts(ix)
    for key in ('train', 'families'):
        if td.get(key) != got[key]:
            raise ValueError(f"the run's clips do not match the checkpoint's training_data.{key}: "
                             f"{len(ix)} clips, {sum(got[key].values())} counted against {sum(td.get(key, {}).values())}")
    return dict(cfg, training_data=dict(td, fingerprints=got['fingerprints']))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--run', required=True, help='a scripts/train_head.py output folder (index.csv)')
    ap.add_argument('--model', default=str(ROOT / 'deepfake_detect' / 'models' / 'default'), help='the checkpoint to update')
    a = ap.parse_args()
    js = checkpoint_paths(a.model)[1]
    cfg = json.loads(js.read_text())
    try: new = with_fingerprints(cfg, pd.read_csv(Path(a.run) / 'index.csv'))
    except ValueError as e: sys.exit(f"nothing written: {e}")
    js.write_text(strict_json(new, indent=1))
    print(f"{js}: {len(new['training_data']['fingerprints'])} training clips' fingerprints recorded")


if __name__ == '__main__': main()
