"""How the shipped model's verdicts move when the same held-out videos are re-encoded or re-framed.

    python scripts/robustness.py --run runs/sbi-all [--model PATH | --folds] [--conditions ...] [--then-h264] [--boot 300] [--out r.json]

For each condition, every validation video of the run's split is transcoded with ffmpeg (libx264) into a temporary
folder, scored from the raw file by the `Predictor` (as a user would), and evaluated with the model's own
temperature and threshold: AUC, paired win rate, and how often real and fake videos are flagged. With --folds, every
video of the run is scored instead, each by RUN/fold{k}: the heads scripts/train_head.py trained without its fold k,
and the scores of all folds are pooled (as out-of-fold scores are): one fold's ~110 videos say more about which files
it holds than about the model. With --out r.json, each video's score per condition goes to r.scores.csv. When the
run's clips come from the shared manifest (--manifest), each row also gives the AUC on the clips the frozen backbone was
never fine-tuned on (chapter 02's `backbone_training_clips`; PLAN.md amendment 25c). Conditions:
  original   the file as it is
  crf35      heavy H.264 compression (CRF 35)
  half       half the resolution, CRF 28 (a re-upload at lower quality)
  padded     the frame padded to twice its size with black borders (the face smaller in a wider shot)
  hevc23     H.265 (libx265) at CRF 23: a good-quality re-encode in the codec phones record in
  hevc32     H.265 at CRF 32: a codec that re-encoded training copies (H.264 only) never show
  mpeg4q12   MPEG-4 part 2 at quantiser 12: the blocky artefacts of older encoders, also never trained on
With --then-h264, each condition's file is re-encoded once more as H.264 CRF 23 (libx264's default preset: the shared
clips' own encoding) before it is scored: does normalising every input to the training encoding help?
"""
import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from deepfake_detect.cli import manifest_scores
from deepfake_detect.data import backbone_training_clips
from deepfake_detect.evaluate import MIN_BOOT, evaluate_scores
from deepfake_detect.video import ffmpeg
from deepfake_detect.predict import Predictor, one_line
from deepfake_detect.scale import ScanError, check_writable
from deepfake_detect.train import roc_auc
from train_head import SHARED_MANIFEST, fold_model

CONDITIONS = {
    'original': None,
    'crf35': ['-c:v', 'libx264', '-crf', '35', '-preset', 'veryfast'],
    'half': ['-vf', 'scale=trunc(iw/4)*2:trunc(ih/4)*2', '-c:v', 'libx264', '-crf', '28', '-preset', 'veryfast'],
    'padded': ['-vf', 'pad=trunc(iw)*2:trunc(ih)*2:(ow-iw)/2:(oh-ih)/2', '-c:v', 'libx264', '-crf', '23', '-preset', 'veryfast'],
    'hevc23': ['-c:v', 'libx265', '-crf', '23', '-preset', 'veryfast', '-x265-params', 'log-level=error'],
    'hevc32': ['-c:v', 'libx265', '-crf', '32', '-preset', 'veryfast', '-x265-params', 'log-level=error'],
    'mpeg4q12': ['-c:v', 'mpeg4', '-q:v', '12'],
}
TRAINING_ENCODING = ['-c:v', 'libx264', '-crf', '23']


def transcode(index, args, folder):
    """The index with `path` pointing at transcoded copies (audio dropped, pixel format yuv420p), and `not_made`: why a
    file could not be transcoded ('' when it was), so that one missing or broken file is that file's error."""
    folder.mkdir(parents=True, exist_ok=True)
    before = index.not_made if 'not_made' in index else pd.Series('', index=index.index)   # a failed earlier step stays failed
    paths, not_made = [], []
    for i, (p, why) in enumerate(zip(index.path, before)):
        out = folder/f'{i:04d}.mp4'
        if not why:
            try: ffmpeg('-i', p, '-an', '-pix_fmt', 'yuv420p', *args, out)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e: why = f"{Path(p).name}: not transcoded ({one_line(e)})"
        paths.append(str(out) if not why else str(p)); not_made.append(why)
    return index.assign(path=paths, not_made=not_made)


def load_predictors(run, index, model=None, folds=False, threads=None):
    """({fold k: Predictor of RUN/fold{k}} for every fold of the run's index with `folds`, else {None: Predictor(model)};
    temperature; threshold), each model loaded once for every condition. SystemExit naming the fold models missing, or
    when they disagree on temperature and threshold (not one run's)."""
    if not folds: paths = {None: model}
    else:
        if 'fold' not in index: raise SystemExit(f"{run}/index.csv has no `fold` column: not a scripts/train_head.py run")
        paths = {int(k): fold_model(run, k) for k in sorted(index.fold.unique())}
        missing = [str(m) for m in paths.values() if not m.with_suffix('.safetensors').exists()]
        if missing: raise SystemExit(f"--folds needs every fold's model; missing: {', '.join(missing)} "
                                     "(scripts/train_head.py saves them since PLAN.md amendment 25: rerun it)")
    preds = {k: Predictor(m, threads=threads) for k, m in paths.items()}
    cal = {(p.cfg.get('temperature', 1.0), p.cfg['threshold']) for p in preds.values()}
    if len(cal) != 1: raise SystemExit(f"the fold models disagree on temperature and threshold {sorted(cal)}: not one run's")
    return (preds, *cal.pop())


def score(preds, idx):
    """`manifest_scores` of idx, each fold's videos by its own model (`load_predictors`; None: every video by one); a
    video `transcode` could not make is not scored: its `error` says why."""
    failed = idx.not_made.ne('') if 'not_made' in idx else pd.Series(False, index=idx.index)
    parts = [idx[failed].assign(logit=float('nan'), error=idx.not_made[failed])] if failed.any() else []
    for k, pred in preds.items():
        todo = idx[~failed] if k is None else idx[~failed & (idx.fold == k)]
        parts.append(manifest_scores(pred, todo, progress=False))
        if k is not None: print(f"  fold {k}: {len(parts[-1])} videos scored by {pred.model_id}", flush=True)
    return pd.concat(parts).drop(columns='not_made', errors='ignore').sort_index()


def condition_row(name, scored, T, thr, n_boot):
    """One condition's measures from `manifest_scores` output: AUC with its group bootstrap interval, paired win rate,
    and the share of real / fake videos flagged at the model's threshold; NaN where no class pair had a face."""
    ok, errors = scored[scored.error == ''], int((scored.error != '').sum())
    faced = ok[ok.logit.notna()].label
    if not ((faced == 'real').any() and (faced == 'fake').any()):   # nothing to rank: say so and go on
        print(f"{name}: a face in {len(faced)} of {len(scored)} videos, not in both classes: no AUC", flush=True)
        nan = float('nan')
        return dict(condition=name, n=len(scored), no_face=len(ok) - len(faced), errors=errors, auc=nan, auc_ci=[nan, nan],
                    pair_win=nan, real_flagged=nan, fake_flagged=nan)
    rep = evaluate_scores(ok, T, thr, n_boot=n_boot)
    (tn, fp), (fn, tp) = rep['confusion']   # at the model's threshold
    return dict(condition=name, n=len(scored), no_face=rep['n_no_face'], errors=errors, auc=rep['auc'], auc_ci=rep['auc_ci'],
                pair_win=rep['pair_win'], real_flagged=fp / (tn + fp), fake_flagged=tp / (fn + tp))


def unseen_auc(scored, paths, seen):
    """AUC of the scored videos with a face whose original file (`paths`, aligned with `scored`'s index: the run's
    paths, not the transcoded copies) is not in `seen` (the backbone's training clips); NaN without both classes."""
    d = scored[(scored.error == '') & scored.logit.notna() & ~paths.loc[scored.index].astype(str).isin(seen)]
    return roc_auc(d.label == 'fake', d.logit) if d.label.nunique() == 2 else float('nan')


def read_index(run, error):
    "The run's index.csv as a DataFrame, its clips with a face; `error` (argparse's) when it is missing or not a run's."
    try: index = pd.read_csv(Path(run)/'index.csv')
    except (OSError, ValueError, UnicodeDecodeError) as e:   # pandas' parser errors are ValueErrors
        error(f"--run {run}: no readable index.csv of a training run in it ({one_line(e)})")
    missing = [c for c in ('path', 'label', 'status', 'split') if c not in index]
    if missing: error(f"--run {run}: its index.csv is not a training run's (no column {', '.join(missing)})")
    return index[index.status == 'ok']


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default='runs/sbi-all'); ap.add_argument('--model', default=None)
    ap.add_argument('--folds', action='store_true', help="score every fold's videos with RUN/fold{k} and pool them")
    ap.add_argument('--boot', type=int, default=300, help=f'bootstrap resamples, at least {MIN_BOOT} (default: 300)')
    ap.add_argument('--out', default=None)
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: the cores this process may use)')
    ap.add_argument('--conditions', nargs='+', default=list(CONDITIONS), choices=list(CONDITIONS))
    ap.add_argument('--then-h264', action='store_true', help='re-encode every file as H.264 CRF 23 before scoring')
    ap.add_argument('--manifest', default=str(SHARED_MANIFEST),
                    help="the shared manifest, to report the backbone-unseen clips apart (skipped for another one)")
    a = ap.parse_args()
    try: seen = backbone_training_clips(a.manifest)
    except (OSError, ValueError): seen = None   # not the shared manifest, or none here: no subset to report
    if a.folds and a.model: ap.error("--folds scores each fold with the run's own fold models: give --model or --folds, not both")
    if a.boot < MIN_BOOT: ap.error(f"--boot {a.boot}: a 95 % interval needs at least {MIN_BOOT} resamples")
    if a.out:   # checked now, not after the first condition's hour of scoring
        try: check_writable(Path(a.out))
        except ScanError as e: ap.error(str(e))
    index = read_index(a.run, ap.error)
    if not a.folds: index = index[index.split == 'valid']
    index = index.reset_index(drop=True)
    preds, T, thr = load_predictors(a.run, index, a.model, a.folds, a.threads)
    ids = [p.model_id for p in preds.values()]
    rows, scores = [], index[[c for c in ('path', 'label', 'method', 'family', 'fold') if c in index]].copy()
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.conditions:
            args = CONDITIONS[name]
            idx = index if args is None else transcode(index, args, Path(tmp)/name)
            if a.then_h264: idx = transcode(idx, TRAINING_ENCODING, Path(tmp)/f'{name}-h264')
            scored = score(preds, idx)
            scores[name] = scored.logit.values
            rows.append(dict(condition_row(name, scored, T, thr, a.boot), **(dict(folds=sorted(preds)) if a.folds else {}), models=ids))
            if seen is not None: rows[-1]['backbone_unseen_auc'] = unseen_auc(scored, index.path, seen)
            print(json.dumps(rows[-1], default=float), flush=True)
            if a.out:   # after each condition, so that a stopped run keeps what it measured
                Path(a.out).write_text(json.dumps(rows, indent=1, default=float))
                scores.to_csv(Path(a.out).with_suffix('.scores.csv'), index=False)
    what = (f"every fold's videos, each scored by the heads trained without it ({', '.join(ids)})" if a.folds
            else f"model {ids[0]}, its held-out videos")
    print(f'\n{what}: {len(index)} videos of {a.run}\n')
    print('| condition | AUC [95% CI] | paired win rate | real flagged | fakes flagged | no face |')
    print('|---|---|---|---|---|---|')
    for r in rows:
        lo, hi = r['auc_ci']
        print(f"| {r['condition']} | {r['auc']:.2f} [{lo:.2f}, {hi:.2f}] | {r['pair_win']:.2f} | {r['real_flagged']:.0%} | "
              f"{r['fake_flagged']:.0%} | {r['no_face']} |")


if __name__ == '__main__':
    main()
