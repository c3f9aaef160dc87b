"""What a command costs before it scores anything: start-up time and the memory of one small job.

    python bench/bench_startup.py [--runs 5] [--imports]

Each measure runs in a fresh process, `--runs` times (medians, with min and max): `deepfake-detect --help`
(argument parsing only imports the package's modules), `import deepfake_detect.predict` (torch, OpenCV, MTCNN), and
`deepfake-detect predict` on one generated photo and on one generated 10 s 720p clip, each reporting its own peak
resident memory (VmHWM from /proc/self/status, read by the process itself just before it exits: `ru_maxrss` of a
child would include pages of the parent it was forked from). With `--imports`, the layers of that import instead:
torch with OpenCV; then torchvision and facenet-pytorch (MTCNN) on top, through the package (which marks triton
absent on a machine without a GPU), and the same with triton kept (`DEEPFAKE_DETECT_TRITON=1`).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / 'out'
PEAK = ("import atexit\n"
        "atexit.register(lambda: print('VmHWM', next(l.split()[1] for l in open('/proc/self/status') "
        "if l.startswith('VmHWM'))))\n")


def fixtures():
    "(a face photo, bench_predict.py's 10 s 720p clip), generated once into bench/out."
    from bench_predict import clip_720p
    from deepfake_detect.fixtures import write_photo
    OUT.mkdir(parents=True, exist_ok=True)
    photo = OUT / 'startup_face.jpg'
    if not photo.exists(): write_photo(photo)
    return photo, clip_720p()


def run(code, env=None):
    "(wall seconds, peak RSS MB) of `python -c code` in a fresh process (with `env` added to its environment)."
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, '-c', PEAK + code], capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t0
    if r.returncode != 0: raise SystemExit(f"failed: {code}\n{r.stderr[-2000:]}")
    kb = [l.split()[1] for l in r.stdout.splitlines() if l.startswith('VmHWM')]
    return wall, int(kb[-1]) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--imports', action='store_true', help='measure the layers of the import instead')
    a = ap.parse_args()
    mtcnn = "import deepfake_detect, torch, cv2, torchvision\nfrom facenet_pytorch import MTCNN"
    layers = [('`import torch, cv2`', "import torch, cv2", None),
              ('+ torchvision, MTCNN (triton marked absent)', mtcnn, None),
              ('+ torchvision, MTCNN, triton kept', mtcnn, {'DEEPFAKE_DETECT_TRITON': '1'})]
    if a.imports: return table(layers, a.runs)
    photo, clip = fixtures()
    cli = "from deepfake_detect.cli import main\nmain({!r})"
    cases = [('`deepfake-detect --help`', "import contextlib, io\nfrom deepfake_detect.cli import main\n"
                                           "with contextlib.redirect_stdout(io.StringIO()):\n"
                                           "    try: main(['--help'])\n    except SystemExit: pass"),
             ('`import deepfake_detect.predict`', "import deepfake_detect.predict"),
             ('`predict` one photo', cli.format(['predict', str(photo), '--threads', '2'])),
             ('`predict` one 10 s 720p clip', cli.format(['predict', str(clip), '--threads', '2']))]
    table([(name, code, None) for name, code in cases], a.runs)


def table(cases, n_runs):
    "Print one row per (name, code, env) of `cases`: medians, min and max of `n_runs` fresh processes."
    print('| command | median s | min s | max s | peak RSS MB (median) |\n|---|---|---|---|---|')
    for name, code, env in cases:
        runs = [run(code, env) for _ in range(n_runs)]
        secs = [r[0] for r in runs]
        print(f"| {name} | {statistics.median(secs):.2f} | {min(secs):.2f} | {max(secs):.2f} | "
              f"{statistics.median(r[1] for r in runs):.0f} |", flush=True)


if __name__ == '__main__': main()
