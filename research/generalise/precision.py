"""How much do the shipped heads' verdicts move on a CPU without native bf16?

    python research/generalise/precision.py --index runs/shared_index.csv --bf16 runs/features-bf16 --fp32 runs/features

The shipped heads were fitted on backbone features computed under bf16 autocast, as the Predictor computes them on
CPUs with AVX-512 BF16 or AMX. Elsewhere autocast falls back to fp32, so the heads get fp32 features. This scores
every shared clip's cached features of both kinds with the shipped model's heads and compares the clip logits and
the verdicts at the shipped threshold and band. The heads were fitted on these very clips, so the verdict mixes
printed are in-sample (not a measure of accuracy); what matters is how far the two precisions disagree.
"""
import argparse, sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.model import load_default, sigmoid   # noqa: E402
from deepfake_detect.predict import label_for   # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--bf16', required=True); ap.add_argument('--fp32', required=True)
    a = ap.parse_args()
    torch.set_num_threads(2)
    model, cfg = load_default()
    index = pd.read_csv(a.index)
    (ib, Xb), (i32, X32) = th.load_features(index, a.bf16), th.load_features(index, a.fp32)
    assert (ib.path.values == i32.path.values).all(), 'the two feature folders hold different clips'
    with torch.no_grad():
        lb, l32 = (model.temporal(torch.from_numpy(X['ship_full']))[0].float().numpy() for X in (Xb, X32))
    verdicts = lambda l: np.array([label_for(p, cfg['threshold'], cfg['uncertain_band']) for p in sigmoid(l / cfg['temperature'])])
    vb, v32 = verdicts(lb), verdicts(l32)
    d = np.abs(lb - l32)
    print(f"{len(lb)} clips · |logit(bf16) - logit(fp32)|: median {np.median(d):.3f}, mean {d.mean():.3f}, max {d.max():.3f}"
          f" · same verdict {np.mean(vb == v32):.1%} ({int((vb != v32).sum())} clips differ)")


if __name__ == '__main__': main()
