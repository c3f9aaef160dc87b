"""How the shipped model's verdicts move when the same held-out videos are re-encoded or re-framed.

    python scripts/robustness.py --run runs/sbi-all [--model PATH] [--conditions ...] [--then-h264] [--boot 300] [--out r.json]

For each condition, every validation video of the run's split is transcoded with ffmpeg (libx264) into a temporary
folder, scored from the raw file by the `Predictor` (as a user would), and evaluated with the model's own
temperature and threshold: AUC, paired win rate, and how often real and fake videos are flagged. Conditions:
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
import tempfile
from pathlib import Path

import pandas as pd

from deepfake_detect.cli import manifest_scores
from deepfake_detect.evaluate import evaluate_scores
from deepfake_detect.video import ffmpeg
from deepfake_detect.predict import Predictor

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
    "The index with `path` pointing at transcoded copies (audio dropped, pixel format yuv420p)."
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, p in enumerate(index.path):
        out = folder/f'{i:04d}.mp4'
        ffmpeg('-i', p, '-an', '-pix_fmt', 'yuv420p', *args, out)
        paths.append(str(out))
    return index.assign(path=paths)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default='runs/sbi-all'); ap.add_argument('--model', default=None)
    ap.add_argument('--boot', type=int, default=300); ap.add_argument('--out', default=None)
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: the cores this process may use)')
    ap.add_argument('--conditions', nargs='+', default=list(CONDITIONS), choices=list(CONDITIONS))
    ap.add_argument('--then-h264', action='store_true', help='re-encode every file as H.264 CRF 23 before scoring')
    a = ap.parse_args()
    index = pd.read_csv(Path(a.run)/'index.csv')
    index = index[(index.split == 'valid') & (index.status == 'ok')].reset_index(drop=True)
    pred = Predictor(a.model, threads=a.threads)
    T, thr = pred.cfg.get('temperature', 1.0), pred.cfg['threshold']
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.conditions:
            args = CONDITIONS[name]
            idx = index if args is None else transcode(index, args, Path(tmp)/name)
            if a.then_h264: idx = transcode(idx, TRAINING_ENCODING, Path(tmp)/f'{name}-h264')
            scored = manifest_scores(pred, idx, progress=False)
            ok = scored[scored.error == '']
            rep = evaluate_scores(ok, T, thr, n_boot=a.boot)
            (tn, fp), (fn, tp) = rep['confusion']   # at the model's threshold
            rows.append(dict(condition=name, n=len(scored), no_face=rep['n_no_face'], errors=int((scored.error != '').sum()),
                             auc=rep['auc'], auc_ci=rep['auc_ci'], pair_win=rep['pair_win'],
                             real_flagged=fp / (tn + fp), fake_flagged=tp / (fn + tp)))
            print(json.dumps(rows[-1], default=float), flush=True)
    print(f'\nmodel {pred.model_id}, {len(index)} held-out videos of {a.run}\n')
    print('| condition | AUC [95% CI] | paired win rate | real flagged | fakes flagged | no face |')
    print('|---|---|---|---|---|---|')
    for r in rows:
        lo, hi = r['auc_ci']
        print(f"| {r['condition']} | {r['auc']:.2f} [{lo:.2f}, {hi:.2f}] | {r['pair_win']:.2f} | {r['real_flagged']:.0%} | "
              f"{r['fake_flagged']:.0%} | {r['no_face']} |")
    if a.out: Path(a.out).write_text(json.dumps(rows, indent=1, default=float))


if __name__ == '__main__':
    main()
