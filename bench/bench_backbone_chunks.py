"""The model stage's time and working memory by backbone chunk: how many face crops per backbone call.

    python bench/bench_backbone_chunks.py [--chunks 32 16 8 4] [--runs 5] [--precision bf16 fp32]

Scores one random 32-crop face track with the shipped model (`score_track`; bf16 autocast as its checkpoint says,
where the CPU has bf16, or fp32 with `--precision fp32`) for each chunk size and precision, after a warm-up, in one
process; a thread samples VmRSS every 5 ms. Prints the median and minimum time and the peak resident memory above
the level before the runs.
"""
import argparse
import statistics
import threading
import time

import torch

import deepfake_detect.model as M


def rss_mb():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'): return int(line.split()[1]) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--chunks', type=int, nargs='+', default=[32, 16, 8, 4])
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--precision', nargs='+', default=['bf16'], choices=['bf16', 'fp32'])
    a = ap.parse_args()
    M.set_threads(2)
    peak = [0.0]
    def sample():
        while True:
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.005)
    threading.Thread(target=sample, daemon=True).start()
    model, cfg = M.load_default()
    crops = torch.randint(0, 255, (32, 3, 224, 224), dtype=torch.uint8)
    features = M.DeepfakeDetector.features
    print(f"bf16 on this CPU: {M.cpu_has_bf16()}")
    print('| precision | crops per call | median s | min s | peak memory above base (MB) |\n|---|---|---|---|---|')
    for precision in a.precision:
        run_cfg = dict(cfg, autocast=cfg.get('autocast', True) and precision == 'bf16')
        for chunk in a.chunks:
            M.DeepfakeDetector.features = lambda self, x, chunk=chunk: features(self, x, chunk)
            M.score_track(model, run_cfg, crops)   # warm-up: oneDNN picks its kernels for this shape
            base, ts = rss_mb(), []
            peak[0] = 0.0
            for _ in range(a.runs):
                t = time.perf_counter()
                M.score_track(model, run_cfg, crops)
                ts.append(time.perf_counter() - t)
            print(f'| {precision} | {chunk} | {statistics.median(ts):.3f} | {min(ts):.3f} | {peak[0] - base:.0f} |', flush=True)
    M.DeepfakeDetector.features = features


if __name__ == '__main__': main()
