"""Screen for PLAN.md amendment 27: which logits the shipped verdict is calibrated on.

    python research/generalise/calibration.py --run runs/head-bf16 --out runs/calibration

Reads a finished `scripts/train_head.py` run (its `oof.csv` and `oof_crossdataset.csv`; no training) and compares the
calibrations of `train_head.CALIBRATE_ON` (chapter 06's `calibrate_verdicts` at its defaults): (a) `all`, the
out-of-fold logits of every clip, as shipped; (b) `backbone-unseen`, those of the clips the frozen backbone was not
fine-tuned on (chapter 02's `backbone_training_clips`); (c) `backbone-unseen-crossdataset`, those clips'
cross-dataset logits. Each is judged out of sample (`train_head.held_out_verdicts`: for every fold, fitted on the
clips outside it, labelling that fold's backbone-unseen clips). Judged set: the cross-dataset logits by cross-dataset
fold; beside it, the out-of-fold logits by group fold. Writes OUT/calibration.json and prints the rule's verdict.
"""
import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.data import backbone_training_clips   # noqa: E402
from deepfake_detect.evaluate import calibrate_verdicts   # noqa: E402

NAMES = dict(zip('abc', th.CALIBRATE_ON))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', required=True); ap.add_argument('--out', required=True)
    a = ap.parse_args()
    run, out = Path(a.run), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    oof, xd = pd.read_csv(run / 'oof.csv'), pd.read_csv(run / 'oof_crossdataset.csv')
    seen = backbone_training_clips(th.SHARED_MANIFEST)
    rows = {k: th.calibration_rows(on, oof, xd, seen) for k, on in NAMES.items()}
    unseen = {'cross-dataset': (rows['c'], xd), 'out-of-fold': (rows['b'], oof)}   # judged rows, their whole protocol
    print(f"{len(rows['b'])} backbone-unseen clips out of fold, {len(rows['c'])} on the cross-dataset folds", flush=True)
    res = {judged: {} for judged in unseen}
    for judged, (test, folds) in unseen.items():
        for k in NAMES:
            r = res[judged][k] = th.held_out_verdicts(test, rows[k], folds)
            print(f"{judged:13s} ({k}) m {r['m']:.3f} log-loss {r['log_loss']:.3f} max uncertain {r['max_uncertain']:.2f} "
                  f"| {json.dumps(r['verdict_mix'])}", flush=True)
    res['fitted'] = {}   # each calibration on all its rows: what would ship
    for k, d in rows.items():
        c = res['fitted'][k] = dict(calibrate_verdicts((d.label == 'fake').values.astype(int), d.logit.values), n=len(d), on=NAMES[k])
        print(f"fitted ({k}) on {len(d)}: T {c['temperature']:.3f} threshold {c['threshold']:.3f} band {c['uncertain_band']:.3f}", flush=True)
    j = res['cross-dataset']
    best = max('bc', key=lambda k: (j[k]['m'], k == 'b'))
    ok = j[best]['m'] >= j['a']['m'] + 0.03 and j[best]['log_loss'] <= j['a']['log_loss'] and j[best]['max_uncertain'] <= 0.20
    res['rule'] = dict(candidate=best, on=NAMES[best], taken=bool(ok),
                       text="m >= control's + 0.03, log-loss <= control's, <= 20 % UNCERTAIN in each class, on the unseen "
                            "clips' cross-dataset logits labelled out of sample by cross-dataset fold")
    (out / 'calibration.json').write_text(json.dumps(res, indent=1))
    print(f"rule: ({best}) {NAMES[best]} {'TAKEN' if ok else 'not taken'}", flush=True)


if __name__ == '__main__': main()
