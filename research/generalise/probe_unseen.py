"""PLAN.md amendment 27b (descriptive): the issue's floor, the plain probe, judged on the clips the frozen backbone
was not fine-tuned on, as amendment 26 judged the shipped `ens` (its control).

    python research/generalise/probe_unseen.py --run runs/head-bf16 --features runs/features-bf16 --out runs/probe-unseen

The probe (`train_head.HEADS['probe']`: logistic regression on the mean and spread of 16 frames of the frozen
features) trained on every clip out of fold, without each family and over the run's cross-dataset folds; its scores
of the backbone-unseen clips (chapter 02's `backbone_training_clips`) reported as `screen_row` does. OUT/screen.json.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from unseen import restrict   # noqa: E402   amendment 26's selection of the unseen clips' scores


def main():
    a, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    un, un_xd = th.unseen_masks(ix, ixs)
    make, sets, T = th.HEADS['probe']
    E = restrict({'probe': th.expert_scores(ix, ixs, th.feats(X, sets, T), at, make, fams)}, un, un_xd)
    ix_u, ixs_u = ix[un].reset_index(drop=True), ixs[un_xd].reset_index(drop=True)
    th.write_screen(a.out, th.screen_ensembles([('probe', ('probe',))], E, ix_u, ixs_u, y[un]))


if __name__ == '__main__': main()
