"""PLAN.md amendment 12: cross-dataset folds (grouped by source repository) and a verdict calibration fitted on them.

    python research/generalise/crossdataset.py --index runs/shared_index.csv --features runs/features-bf16 \
        --manifest ../shared/data/manifest.csv --oof runs/head-bf16/oof.csv --out runs/crossdataset

Every clip is scored by the shipped recipe's `ens` heads (scripts/train_head.py) trained on 4 of 5 folds grouped by
the manifest's `source_repo` (joined through `pair_group`), mixed with the shipped checkpoint's `mix_scale`. Prints
the cross-dataset AUC, paired win rate and per-family AUC, the shipped calibration's verdict mix on these scores, and
the candidate calibration (fitted on them) judged by the rule written in PLAN.md; writes OUT/crossdataset.json and
OUT/oof.csv.
"""
import argparse, json, sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.data import assign_folds   # noqa: E402
from deepfake_detect.evaluate import calibrate_verdicts, cross_fit_verdict_mix, verdict_mix   # noqa: E402
from deepfake_detect.model import load_config, set_threads, sigmoid   # noqa: E402


def source_folds(ix, manifest, n=5, seed=0):
    "ix with `fold` and `split_group` by source repository (joined through pair_group), stratified by label."
    m = pd.read_csv(manifest)
    src = dict(zip([str((Path(manifest).parent / c).resolve()) for c in m['clip']], m.source_repo.fillna('?')))
    by_source = ix.drop(columns=['fold', 'split_group']).assign(group=[src[str(Path(p).resolve())] for p in ix.path])
    return ix.assign(**{c: assign_folds(by_source, n, seed)[c].values for c in ('fold', 'split_group')}), by_source.group


def share_line(mix):
    return ' | '.join(f"{c}s: " + ', '.join(f"{k} {v:.0%}" for k, v in mix[c].items()) for c in ('real', 'fake'))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for k in ('index', 'features', 'manifest', 'oof', 'out'): ap.add_argument(f'--{k}', required=True)
    ap.add_argument('--model', default=None, help='checkpoint whose calibration and mix_scale are used (default: shipped)')
    a = ap.parse_args()
    set_threads(2)
    cfg = load_config(a.model or Path(th.ROOT) / 'deepfake_detect' / 'models' / 'default')
    ix, X = th.load_features(pd.read_csv(a.index), a.features)
    ixs, source = source_folds(ix, a.manifest)
    print(f"{len(ixs)} clips, {source.nunique()} source repositories, "
          f"{ixs.split_group.nunique()} source groups; fold sizes {ixs.fold.value_counts().sort_index().tolist()}", flush=True)
    y = (ixs.label == 'fake').values.astype(int)
    z = sum(th.out_of_fold(ixs, th.feats(X, sets, T), make) / cfg['mix_scale'][n]
            for n, (make, sets, T) in ((n, th.HEADS[n]) for n in th.ENSEMBLE))
    r = th.report(ixs, z, 300)
    print(f"cross-dataset ens: AUC {r['auc']:.3f} [{r['auc_ci'][0]:.2f}, {r['auc_ci'][1]:.2f}] pair {r['pair_win']:.2f} | "
          + ' '.join(f"{f['family']} {f['auc']:.2f} ({f['n_fake']})" for f in r['per_family']), flush=True)
    shipped = dict(temperature=cfg['temperature'], threshold=cfg['threshold'], uncertain_band=cfg['uncertain_band'])
    mix_shipped = verdict_mix(y, sigmoid(z / shipped['temperature']), shipped['threshold'], shipped['uncertain_band'])
    cand = calibrate_verdicts(y, z)
    mix_cand = cross_fit_verdict_mix(y, z, ixs.fold.values)
    oof = pd.read_csv(a.oof)
    assert list(oof.path) == list(ixs.path), "the group-held-out scores must be of the same clips, in the same order"
    yg = (oof.label == 'fake').values.astype(int)
    mix_group = verdict_mix(yg, sigmoid(oof.logit.values / cand['temperature']), cand['threshold'], cand['uncertain_band'])
    print('shipped calibration', {k: round(v, 3) for k, v in shipped.items()}, 'on cross-dataset scores:', share_line(mix_shipped))
    print('candidate', {k: round(cand[k], 3) for k in shipped}, 'cross-fitted on cross-dataset scores:', share_line(mix_cand))
    print('candidate on group-held-out scores:', share_line(mix_group))
    worst = lambda m: min(m['real']['REAL'], m['fake']['FAKE'])
    rule1 = worst(mix_cand) >= worst(mix_shipped) + 0.05 and max(mix_cand['real']['UNCERTAIN'], mix_cand['fake']['UNCERTAIN']) <= 0.20
    rule2 = mix_group['real']['REAL'] >= 0.70 and mix_group['fake']['FAKE'] >= 0.70 and max(
        mix_group['real']['UNCERTAIN'], mix_group['fake']['UNCERTAIN']) <= 0.20
    print(f"rule (1) cross-dataset gain: {rule1}; rule (2) group-held-out mix holds: {rule2}", flush=True)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    ixs.assign(source=source.values, logit=z)[['path', 'label', 'method', 'family', 'source', 'fold', 'logit']].to_csv(out / 'oof.csv', index=False)
    json.dump(dict(report=r, shipped=dict(shipped, verdict_mix=mix_shipped), candidate=dict(cand, verdict_mix_crossfit=mix_cand,
                   verdict_mix_group=mix_group), rule1=rule1, rule2=rule2), open(out / 'crossdataset.json', 'w'), indent=1, default=float)


if __name__ == '__main__': main()
