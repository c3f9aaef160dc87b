"""Benchmark of chapters 00-01: frame sampling and face extraction, medians over several runs.

    python bench/bench_video_faces.py [--runs 5] [--shared 10] [--mem-runs 3] [--no-long | --mem-only]

1. a generated 10 s 1280x720 30 fps H.264 clip: sample 32 frames; detect faces on them; the whole extract_face_clips;
   beside them, what `sample_frames` avoids or builds on: seeking to each of the 32 frames (OpenCV's
   CAP_PROP_POS_FRAMES, then read) and decoding every frame without converting any (`count_frames`);
2. shared clips (../shared/data), when present: the same stages per clip;
3. peak memory (RSS) of extract_face_clips on a generated 10-minute 1080p H.264 clip, in a fresh process per run
   (the kernel's VmHWM of that process: ru_maxrss is not used, since a child started by exec inherits its parent's
   ru_maxrss, i.e. this benchmark process's own peak).
Prints a Markdown table. Generated clips are cached in bench/out/ (ignored by git).
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from deepfake_detect.faces import default_detector, extract_face_clips
from deepfake_detect.fixtures import astronaut, face_scene, ffmpeg, write_h264
from deepfake_detect.video import count_frames, even_indices, open_video, sample_frames

OUT = Path(__file__).resolve().parent / 'out'
SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'data'


def timed(fn, runs):
    "Median and min/max seconds of `runs` calls of fn, after one warm-up call."
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return statistics.median(ts), min(ts), max(ts)


def clip_720p():
    p = OUT / 'bench_10s_720p.mp4'
    if not p.exists(): write_h264(p, face_scene(300, 1280, 720), fps=30)
    return p


def clip_10min_1080p():
    "A 10-minute 1080p H.264 clip: ffmpeg's test pattern with the astronaut photo sliding over it."
    p = OUT / 'bench_10min_1080p.mp4'
    if not p.exists():
        import cv2
        png = OUT / 'astronaut.png'
        cv2.imwrite(str(png), cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))
        ffmpeg('-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=30:d=600', '-loop', '1', '-i', png, '-filter_complex',
               "[0][1]overlay=x='mod(t*40,1400)':y=200:shortest=1", '-c:v', 'libx264', '-preset', 'ultrafast',
               '-crf', '28', '-pix_fmt', 'yuv420p', p, timeout=3600)
    return p


def seek_each(path, n=32):
    "The naive way to the same frames: seek to each of `n` evenly spaced frames and read it (OpenCV)."
    import cv2
    cap = open_video(path)
    try:
        for i in even_indices(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), n):
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(i)); cap.read()
    finally: cap.release()


def stage_times(path, runs, n=32):
    det = default_detector()
    s = sample_frames(path, n=n, max_side=1280)
    return {'seek to each of 32 frames (naive)': timed(lambda: seek_each(path, n), runs),
            'decode every frame, convert none': timed(lambda: count_frames(path), runs),
            'sample 32 frames': timed(lambda: sample_frames(path, n=n, max_side=1280), runs),
            'detect faces (32 frames)': timed(lambda: det(s.frames), runs),
            'extract_face_clips (all)': timed(lambda: extract_face_clips(path, n_frames=n), runs)}


def peak_rss(path):
    """Peak RSS (MB) of a fresh process that only imports the library and runs extract_face_clips on `path`.
    Read from /proc/self/status (VmHWM: this process's own high-water mark). `resource.getrusage().ru_maxrss` would be
    wrong here: across fork/exec the kernel keeps the larger of the parent's and the child's, so it reports this
    benchmark process's peak (torch, MTCNN and the clips timed above) whenever that is higher."""
    code = ("import time, torch; torch.set_num_threads(2)\n"
            "from deepfake_detect.faces import extract_face_clips\n"
            f"t = time.perf_counter(); fc = extract_face_clips({str(path)!r}, n_frames=32)\n"
            "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
            "print(len(fc.tracks), time.perf_counter() - t, hwm / 1024)")
    tracks, secs, mb = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()
    return int(tracks), float(secs), float(mb)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--shared', type=int, default=10, help='number of shared clips to time (0: none)')
    ap.add_argument('--mem-runs', type=int, default=3, help='fresh processes for the 10-minute 1080p memory test')
    ap.add_argument('--no-long', action='store_true', help='skip the 10-minute 1080p memory test')
    ap.add_argument('--mem-only', action='store_true', help='only the 10-minute 1080p memory test')
    args = ap.parse_args()
    torch.set_num_threads(2)
    OUT.mkdir(exist_ok=True)
    rows = [] if args.mem_only else [('generated 10 s 720p', k, v) for k, v in stage_times(clip_720p(), args.runs).items()]
    if args.shared and not args.mem_only and (SHARED / 'manifest.csv').exists():
        import pandas as pd
        man = pd.read_csv(SHARED / 'manifest.csv').sample(args.shared, random_state=0)
        per = [stage_times(SHARED / c, max(1, args.runs // 2)) for c in man['clip']]
        for k in per[0]:
            meds = [p[k][0] for p in per]
            rows.append((f'{args.shared} shared clips (median of medians)', k, (statistics.median(meds), min(meds), max(meds))))
    if rows: print('| clip | stage | median s | min s | max s |\n|---|---|---|---|---|')
    for clip, stage, (med, lo, hi) in rows: print(f'| {clip} | {stage} | {med:.3f} | {lo:.3f} | {hi:.3f} |')
    if not args.no_long:
        clip = clip_10min_1080p()
        res = [peak_rss(clip) for _ in range(args.mem_runs)]
        secs, mbs = [r[1] for r in res], [r[2] for r in res]
        print(f'\n10-minute 1080p H.264 clip, {args.mem_runs} fresh processes: extract_face_clips in {statistics.median(secs):.1f} s '
              f'(median), {res[0][0]} track(s), peak RSS (VmHWM) median {statistics.median(mbs):.0f} MB, '
              f'min {min(mbs):.0f}, max {max(mbs):.0f}')


if __name__ == '__main__':
    main()
