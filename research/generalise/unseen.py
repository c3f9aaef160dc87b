"""Screen for PLAN.md amendment 26: the shipped recipe's heads trained without the clips the frozen backbone was
fine-tuned on, against the same heads trained on every clip, both judged on the backbone-unseen clips alone.

    python research/generalise/unseen.py --run runs/head-bf16 --features runs/features-bf16 --out runs/unseen

Control `ens`: LSTM (`lstm-ship`) and pooled (`lr-ship`) experts out of fold over the run's folds, without each
family, and over its cross-dataset folds, trained on every clip; their scores of the backbone-unseen clips (chapter
02's `backbone_training_clips` of the shared manifest). Candidate `ens-unseen`: the same with the backbone's 165
clips left out of every training set (and of the evaluation). Each ensemble over the spread of its own out-of-fold
logits; judged by `judge` (chapter 06's `screen_verdict`) on the unseen clips. Writes OUT/screen.json.
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.evaluate import screen_verdict   # noqa: E402

# amendment 29's rule, on the unseen clips (kept by amendments 30-32): left-out mean +0.02 and cross-dataset no lower
# than -0.01 (both), out of fold -0.005, paired -0.02, no family down more than 0.03; no verdict-mix condition
RULE_29 = dict(lofo_gain=0.02, xd_gain=-0.01, need_both=True, oof_loss=0.005, pair_loss=0.02, family_loss=0.03,
               min_right=0.0, max_uncertain=1.0)

def cached(ix, folder, key, frames=32):
    """(N, frames, 1280) float32 of `key` in FOLDER/<row>.npz for each row of `ix` (a screen's per-clip feature cache);
    SystemExit if a file is missing or holds another clip's."""
    out = np.zeros((len(ix), frames, 1280), np.float32)
    for i, (row, path) in enumerate(zip(ix.row.values, ix.path.astype(str).values)):
        f = Path(folder) / f'{row}.npz'
        if not f.exists(): raise SystemExit(f"{f}: missing: run `cache` first")
        with np.load(f) as z:
            if str(z['path']) != path: raise SystemExit(f"{f}: made for {z['path']}, not {path}: rebuild the cache")
            out[i] = z[key].astype(np.float32)
    return out


def experts(ix, ixs, F, at, fams):
    "{expert: (out-of-fold, {family: left out}, cross-dataset)} of the two experts of `ens` on index `ix`."
    return {n: th.expert_scores(ix, ixs, F, at, th.HEADS[n][0], fams) for n in th.ENSEMBLE}


def restrict(E, keep, keep_xd):
    "The experts' scores of the rows `keep` (out of fold, left out) and `keep_xd` (cross-dataset) only."
    return {n: (o[keep], {f: s[keep] for f, s in by.items()}, x[keep_xd]) for n, (o, by, x) in E.items()}


def screen_unseen_and_all(combos, E, ix, ixs, y):
    """(on the backbone-unseen clips, on all clips): `th.screen_ensembles` of `combos` over the experts' scores E of a
    screen on a finished run (`ix`, its cross-dataset rows `ixs`, labels `y`), each printed under its heading."""
    un, un_xd = th.unseen_masks(ix, ixs)
    print(f"-- the {un.sum()} backbone-unseen clips ({un_xd.sum()} on the cross-dataset folds)", flush=True)
    unseen = th.screen_ensembles(combos, restrict(E, un, un_xd), ix[un].reset_index(drop=True),
                                 ixs[un_xd].reset_index(drop=True), y[un])
    print("-- all clips", flush=True)
    return unseen, th.screen_ensembles(combos, E, ix, ixs, y)


def judge_unseen(unseen, candidates, amendment, rule=RULE_29):
    """Each of `candidates` judged against `ens` on the unseen clips (`screen_verdict` of `unseen`, the first result of
    `screen_unseen_and_all`, by `rule`), printed as amendment `amendment`'s; returns (the candidate taken: of those
    that pass, the highest left-out mean, or None; {candidate: {'passed': bool, 'failed': [str]}})."""
    verdicts = {c: screen_verdict(unseen[c], unseen['ens'], **rule) for c in candidates}
    for c, (ok, failed) in verdicts.items():
        print(f"amendment {amendment}, {c} on the unseen clips: {'taken' if ok else 'not taken: ' + '; '.join(failed)}", flush=True)
    passed = [c for c, (ok, _) in verdicts.items() if ok]
    taken = max(passed, key=lambda c: unseen[c]['lofo_mean']) if passed else None
    print(f"amendment {amendment}: {taken or 'nothing'} taken", flush=True)
    return taken, {c: {'passed': ok, 'failed': f} for c, (ok, f) in verdicts.items()}


def screen_third_experts(a, doc, load, amendment):
    """A screen of third experts beside `ens` (amendments 31 and 32): `ens`'s two experts and, for each features
    (N, T, 1280) of {name: features} = `load(ix)`, a pooled `LR` expert `lr-NAME` read alone and as a third expert
    of `ens` (`ens+NAME`); out of fold, without each family and over the run's cross-dataset folds (`a`: the step's
    arguments --run, --features, --out; `doc`: the script's docstring). Read on the backbone-unseen clips (all clips
    beside), the `ens+` candidates judged by RULE_29 as amendment `amendment`'s; writes OUT/experts.npz and
    OUT/screen.json; returns (the run's index, the experts' scores E, the unseen clips' mask)."""
    sys.argv = [sys.argv[0], '--run', a.run, '--features', a.features, '--out', a.out]
    _, (ix, X, ixs, at, fams, F, y) = th.screen_args(doc)
    feats = load(ix)
    E = {'lstm': th.expert_scores(ix, ixs, F, at, th.LSTM, fams), 'lr': th.expert_scores(ix, ixs, F, at, th.LR, fams)}
    E.update({f'lr-{n}': th.expert_scores(ix, ixs, G, at, th.LR, fams) for n, G in feats.items()})
    th.save_experts(a.out, E)
    combos = (('ens', ('lstm', 'lr')), *((f'lr-{n}', (f'lr-{n}',)) for n in feats),
              *((f'ens+{n}', ('lstm', 'lr', f'lr-{n}')) for n in feats))
    unseen, pooled = screen_unseen_and_all(combos, E, ix, ixs, y)
    taken, verdicts = judge_unseen(unseen, tuple(f'ens+{n}' for n in feats), amendment)
    res = {'unseen': unseen, 'all': pooled, 'rule': RULE_29, 'taken': taken, 'verdicts': verdicts}
    (Path(a.out) / 'screen.json').write_text(json.dumps(res, indent=1, default=float))
    return ix, E, th.unseen_masks(ix)[0]


def main():
    a, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    un, un_xd = th.unseen_masks(ix, ixs)
    print(f"{un.sum()} backbone-unseen clips of {len(ix)}; {un_xd.sum()} of {len(ixs)} on the cross-dataset folds", flush=True)
    ix_u, ixs_u = ix[un].reset_index(drop=True), ixs[un_xd].reset_index(drop=True)
    again, at_u = th.cross_dataset_rows(ix_u, ixs_u)
    assert (again.path.values == ixs_u.path.values).all()   # finished_run keeps ixs in ix's order: control and candidate align
    control = restrict(experts(ix, ixs, F, at, fams), un, un_xd)
    candidate = experts(ix_u, ixs_u, F[un], at_u, fams)
    res = {}
    res.update(th.screen_ensembles([('ens', th.ENSEMBLE)], control, ix_u, ixs_u, y[un]))
    res.update(th.screen_ensembles([('ens-unseen', th.ENSEMBLE)], candidate, ix_u, ixs_u, y[un]))
    th.write_screen(a.out, res)


if __name__ == '__main__': main()
