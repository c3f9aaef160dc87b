"""Resident memory of one long local scan: does it stay flat? (issue: a 500-video scan must peak <= 1.2 GB, and the
last quarter's peak must be no higher than the first quarter's).

    python bench/bench_scan_memory.py [--videos 500] [--no-trim] [--threads 2] [--kernel-cache N] [--folder DIR]

Generates a pool of mixed clips (256 px to 1080p, one or two faces, no face, variable frame rate, 10 to 60 fps) in
bench/out/memory_pool, hard-links them under distinct names up to --videos files, and scans them with the local
engine in a child process while this process samples the child's VmRSS (and RssAnon: the part not backed by files,
i.e. without the shared libraries' pages) from /proc every 0.2 s; the peak is the kernel's high-water mark,
reset at each sample, so short spikes count. `--no-trim` replaces `release_memory` (called by
the Predictor between its stages and by the scan after each file) with a no-op, and `--kernel-cache N` sets oneDNN's
kernel cache (the Predictor's default is 256; 1024 is oneDNN's own), to see what each saves. `--folder DIR` scans
real footage instead (the first --videos videos under DIR, each once). Prints the peak overall and per quarter.
"""
import argparse, os, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / 'out'
SIZES = [(256, 256), (480, 270), (640, 360), (854, 480), (1280, 720), (1920, 1080)]


def pool():
    from deepfake_detect.fixtures import face_scene, write_h264, write_vfr, TWO_FACES, cat
    d = OUT / 'memory_pool'
    d.mkdir(parents=True, exist_ok=True)
    for k, (w, h) in enumerate(SIZES):
        for kind in ('one', 'two', 'none'):
            p = d / f'{kind}_{w}x{h}.mp4'
            if p.exists(): continue
            kw = dict(sprites=TWO_FACES) if kind == 'two' else dict(image=cat()) if kind == 'none' else {}
            write_h264(p, face_scene(int(3 * (10 + 10 * k)), w, h, **kw), fps=10 + 10 * k)
    if not (d / 'vfr.mp4').exists(): write_vfr(d / 'vfr.mp4')
    return sorted(d.glob('*.mp4'))


def rss_kb(pid):
    """(peak RSS since the last call, RssAnon now) of process `pid` in kB. The peak is the kernel's VmHWM, reset
    after each reading (`clear_refs`), so a spike between two samples is not missed; RssAnon is the part not
    backed by files (heap, tensors), sampled. Falls back to VmRSS where the peak cannot be reset."""
    try: st = dict(l.split(':', 1) for l in Path(f'/proc/{pid}/status').read_text().splitlines() if ':' in l)
    except OSError: return None
    if 'VmRSS' not in st or 'RssAnon' not in st: return None   # a child that has exited (a zombie) has no memory
    try:
        Path(f'/proc/{pid}/clear_refs').write_text('5')
        peak = st['VmHWM']
    except OSError: peak = st['VmRSS']
    return int(peak.split()[0]), int(st['RssAnon'].split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--videos', type=int, default=500, help='files to scan (the pool of 19 clips repeated)')
    ap.add_argument('--no-trim', action='store_true', help='release_memory off')
    ap.add_argument('--threads', type=int, default=2, help="the scan's torch threads")
    ap.add_argument('--kernel-cache', type=int, default=None,
                    help="oneDNN's kernel cache capacity (default: the Predictor's)")
    ap.add_argument('--folder', default=None,
                    help='scan the first --videos videos of this folder (real footage) instead')
    a = ap.parse_args()
    from deepfake_detect.scale import source_files   # the files a scan of the folder would score, in its order
    src = source_files(a.folder)[:a.videos] if a.folder else pool()
    if a.folder: a.videos = len(src)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        target = d
        if a.folder:   # a manifest of the real files: scanned where they are, each once
            target = d / 'manifest.csv'
            target.write_text('clip,label\n' + ''.join(f'{p},real\n' for p in src))
        else:
            for i in range(a.videos):   # hard links: distinct paths (a scan keys on resolved paths), no extra disk
                os.link(src[i % len(src)], d / f'v{i:04d}_{src[i % len(src)].name}')
        out = d / 'scan.csv'
        code = ("import deepfake_detect.scale as s, deepfake_detect.predict as p\n"
                + ("s.release_memory = p.release_memory = lambda: None\n" if a.no_trim else "")
                + f"s.scan({str(target)!r}, {str(out)!r}, threads={a.threads}, progress=False)\n")
        env = dict(os.environ)
        if a.kernel_cache is not None: env['ONEDNN_PRIMITIVE_CACHE_CAPACITY'] = str(a.kernel_cache)
        errors = open(d / 'stderr.txt', 'w')
        child = subprocess.Popen([sys.executable, '-c', code], stderr=errors, env=env)
        samples = []   # (rows done, rss MB, anonymous rss MB)
        try:
            while child.poll() is None:
                r = rss_kb(child.pid)
                done = max(sum(1 for _ in open(out)) - 1, 0) if out.exists() else 0
                if r: samples.append((done, r[0] / 1024, r[1] / 1024))
                time.sleep(0.2)
        finally:
            if child.poll() is None: child.kill()   # never leave the scan running behind an interrupted benchmark
            errors.close()
        if child.returncode != 0 or not samples:   # a failed scan has no memory worth reporting
            raise SystemExit(f"the scan failed (exit {child.returncode}):\n" + (d / 'stderr.txt').read_text()[-3000:])
    s = np.array(samples)
    quarter = [(s[:, 0] >= a.videos * i / 4) & (s[:, 0] < a.videos * (i + 1) / 4) for i in range(4)]
    peaks = [float(s[q, 1].max()) if q.any() else float('nan') for q in quarter]
    anon = [float(s[q, 2].max()) if q.any() else float('nan') for q in quarter]
    where = f' from {a.folder}' if a.folder else ''
    print(f"{a.videos} videos ({min(len(src), a.videos)} distinct clips{where}), "
          f"release_memory {'off' if a.no_trim else 'on'}, "
          f"kernel cache {'default' if a.kernel_cache is None else a.kernel_cache}, "
          f"{a.threads} threads, exit {child.returncode}")
    print('| quarter | 1 | 2 | 3 | 4 | overall |\n|---|---|---|---|---|---|')
    print('| peak RSS (MB) | ' + ' | '.join(f'{p:.0f}' for p in peaks) + f' | {s[:, 1].max():.0f} |')
    print('| peak anonymous RSS (MB) | ' + ' | '.join(f'{p:.0f}' for p in anon) + f' | {s[:, 2].max():.0f} |')
    print(f"last / first quarter peak: {peaks[3] / peaks[0]:.3f}")




if __name__ == '__main__': main()
