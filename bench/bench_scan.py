"""Scan throughput: local engine vs Ray with 1 and 2 workers, over generated 10 s clips, on this machine.

    python bench/bench_scan.py [--clips 50]

Prints videos per second for each engine and the parallel efficiency of Ray
(throughput with N workers / (N x throughput with 1 worker)). Clips are cached in bench/out/scan_clips.
"""
import argparse
import tempfile
from pathlib import Path

from deepfake_detect.fixtures import face_scene, write_h264, TWO_FACES
from deepfake_detect.scale import scan

OUT = Path(__file__).resolve().parent / 'out' / 'scan_clips'


def clips(n):
    OUT.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        p = OUT / f'clip{k:03d}.mp4'
        if not p.exists():
            sprites = TWO_FACES if k % 5 == 0 else [((.1 + .01 * (k % 30), .1, .7), (.3, .05, .8))]
            write_h264(p, face_scene(300, 640, 360, sprites), fps=30)
    return OUT


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--clips', type=int, default=50)
    args = ap.parse_args()
    src = clips(args.clips)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name, kw in [('local (1 process, 2 threads)', dict(engine='local', threads=2)),
                         ('ray, 1 worker x 2 threads', dict(engine='ray', num_cpus=2, workers=1, threads_per_worker=2)),
                         ('ray, 1 worker x 1 thread', dict(engine='ray', num_cpus=2, workers=1)),
                         ('ray, 2 workers x 1 thread', dict(engine='ray', num_cpus=2, workers=2))]:
            s = scan(src, Path(d) / f'{len(rows)}.csv', progress=False, **kw)
            rows.append((name, s['videos_per_second'], s['seconds']))
    one = rows[2][1]
    print(f'{args.clips} generated 10 s 640x360 H.264 clips, 2 CPU cores\n')
    print('| engine | videos/s | seconds (incl. start-up) |\n|---|---|---|')
    for name, vps, secs in rows: print(f'| {name} | {vps:.2f} | {secs:.1f} |')
    print(f'\nRay efficiency with 2 workers: {rows[3][1] / (2 * one):.0%} of 2 x the 1-worker (1 thread) throughput')


if __name__ == '__main__':
    main()
