"""Screen for PLAN.md amendment 24: up-sampling traces at the native resolution (NPR: the relation of neighbouring
pixels in 2 x 2 blocks; Tan et al., "Rethinking the up-sampling operations in CNN-based generative network for
generalizable deepfake detection", CVPR 2024), learnt by a small CNN from scratch and added to `ens` as a third expert.

    python research/generalise/npr.py cache --run runs/head-bf16 --out runs/npr
    python research/generalise/npr.py screen --run runs/head-bf16 --features runs/features-bf16 --out runs/npr

`cache`: for 16 of the main track's 32 cached frames (`pick_frames`), the frame decoded at full resolution and a
WIN x WIN px window cut at the face box's centre at even pixel coordinates (the 2 x 2 grid is the frame's own), no
resize: OUT/<row>.npz with `win` (16, WIN, WIN, 3) uint8. `screen`: `ens` (the LSTM and pooled experts of the run)
against `ens+npr` and `ens+npr-up` (the CNN trained also on up-sampled real windows as fakes), on the run's out-of-fold,
leave-one-family-out and cross-dataset folds; `npr` and `npr-up` alone beside them; OUT/screen.json and the experts'
scores in OUT/experts.npz.
"""
import sys, time
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as Fn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from deepfake_detect.data import load_record, pick_frames   # noqa: E402
from deepfake_detect.video import read_frames_at   # noqa: E402

WIN, PATCH, FRAMES = 96, 64, 16


def even_window(box, H, W, side=WIN):
    "(y0, x0) of a `side` px square centred on `box` (x0, y0, x1, y1, source pixels), inside the frame, at even coordinates."
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    at = lambda c, n: int(np.clip(c - side / 2, 0, max(n - side, 0))) // 2 * 2
    return at(cy, H), at(cx, W)


def clip_windows(r):
    "(FRAMES, WIN, WIN, 3) uint8 native-resolution windows of one clip of the run's index."
    tr = load_record(r.cache)['tracks'][0]
    pos = pick_frames(len(tr['crops']), 32)[::2][:FRAMES]
    idx = [int(tr['frame_indices'][p]) for p in pos]
    got = {}
    read_frames_at(r.path, sorted(set(idx)), lambda i, f: got.__setitem__(i, f))
    out = np.zeros((FRAMES, WIN, WIN, 3), np.uint8)
    for k, (p, i) in enumerate(zip(pos, idx)):
        if i not in got: continue
        f = got[i]
        y0, x0 = even_window(tr['boxes'][p].numpy(), *f.shape[:2])
        w = f[y0:y0 + WIN, x0:x0 + WIN]
        out[k, :w.shape[0], :w.shape[1]] = w
    return out


def cache(run, out):
    th.cache_clips(run, out, lambda r: dict(win=clip_windows(r)), 'npr')


def npr(x):
    "NPR residual of images (B, 3, H, W) float, H and W even: x minus the nearest up-sampling of its 2x nearest down-sampling."
    return x - x[:, :, ::2, ::2].repeat_interleave(2, 2).repeat_interleave(2, 3)


def stage(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class NPRNet(nn.Module):
    """Small CNN on the NPR residual of uint8-range images (B, 3, H, W) float: one logit each (B,). Each 2 x 2 block's
    three non-zero residuals become channels (pixel unshuffle: 9 channels at half size), so the block grid is kept."""
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(stage(9, 32, 1), stage(32, 32, 1), stage(32, 64, 2), stage(64, 128, 2), stage(128, 128, 1))
        self.head = nn.Linear(128, 1)
        self.register_buffer('keep', torch.tensor([c * 4 + k for c in range(3) for k in (1, 2, 3)]), persistent=False)
    def forward(self, x):
        r = Fn.pixel_unshuffle(npr(x / 255.0) * 20, 2)[:, self.keep]
        return self.head(self.body(r).mean((2, 3))).squeeze(-1)


def upsampled(x, g):
    "Windows (B, 3, H, W) float shrunk 2x (area) and grown back (nearest or bilinear, at random per window): pseudo-fakes."
    small = Fn.avg_pool2d(x, 2)
    near = Fn.interpolate(small, scale_factor=2, mode='nearest')
    lin = Fn.interpolate(small, scale_factor=2, mode='bilinear', align_corners=False)
    pick = (torch.rand(len(x), generator=g) < 0.5).view(-1, 1, 1, 1)
    return torch.where(pick, near, lin).round().clamp(0, 255)


class NPR:
    """The `npr` expert on native windows (N, FRAMES, WIN, WIN, 3) uint8: NPRNet trained on random PATCH px crops at even
    offsets (2 frames of each clip an epoch, left-right flips, balanced BCE); a clip scores its mean logit over whole
    windows. `up`: real windows also shown as up-sampled fakes."""
    def __init__(self, up=False, epochs=8, lr=1e-3, seed=0, per_clip=2): self.up, self.epochs, self.lr, self.seed, self.per_clip = up, epochs, lr, seed, per_clip

    def batches(self, W, y, g):
        N, T = W.shape[:2]
        clip = torch.arange(N).repeat_interleave(self.per_clip)
        frame = torch.randint(0, T, (len(clip),), generator=g)
        order = torch.randperm(len(clip), generator=g)
        for b in order.split(64):
            c, t = clip[b], frame[b]
            oy, ox = (torch.randint(0, (WIN - PATCH) // 2 + 1, (2,), generator=g) * 2).tolist()
            x = torch.from_numpy(W[c.numpy(), t.numpy(), oy:oy + PATCH, ox:ox + PATCH]).permute(0, 3, 1, 2).float()
            flip = torch.rand(len(b), generator=g) < 0.5
            x[flip] = x[flip].flip(-1)
            lab = torch.from_numpy(y[c.numpy()].astype(np.float32))
            if self.up and (lab == 0).any():
                x = torch.cat([x, upsampled(x[lab == 0], g)]); lab = torch.cat([lab, torch.ones(int((lab == 0).sum()))])
            yield x, lab

    def fit(self, W, y, groups=None):
        torch.manual_seed(self.seed)
        g = torch.Generator().manual_seed(self.seed)
        self.net = NPRNet()
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=1e-2)
        n_pos = y.sum() + (len(y) - y.sum()) * self.up
        pos = torch.tensor((len(y) - y.sum()) / max(n_pos, 1), dtype=torch.float32)
        steps = self.epochs * int(np.ceil(len(y) * self.per_clip / 64))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, self.lr, total_steps=steps)
        self.net.train()
        for _ in range(self.epochs):
            for x, lab in self.batches(W, y, g):
                loss = Fn.binary_cross_entropy_with_logits(self.net(x), lab, pos_weight=pos)
                opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        self.net.eval()
        return self

    def __call__(self, W):
        N, T = W.shape[:2]
        flat = W.reshape(N * T, WIN, WIN, 3)
        with torch.inference_mode():
            s = torch.cat([self.net(torch.from_numpy(flat[i:i + 256]).permute(0, 3, 1, 2).float())
                           for i in range(0, len(flat), 256)])
        return s.view(N, T).mean(1).numpy()


def windows_of(ix, out):
    "(N, FRAMES, WIN, WIN, 3) uint8 windows of every row of `ix` (zeros where the clip could not be read) and that count."
    W, bad = np.zeros((len(ix), FRAMES, WIN, WIN, 3), np.uint8), 0
    for k, r in enumerate(ix.row):
        p = Path(out) / f'{r}.npz'
        if p.exists(): W[k] = np.load(p)['win']
        else: bad += 1
    return W, bad


def screen(a):
    sys.argv = [sys.argv[0], '--run', a.run, '--features', a.features, '--out', a.out]
    _, (ix, X, ixs, at, fams, F, y) = th.screen_args(__doc__)
    W, bad = windows_of(ix, a.out)
    print(f"npr: {len(ix) - bad} clips with windows, {bad} kept zeros", flush=True)
    E = {}
    for name, make in (('npr', NPR), ('npr-up', lambda: NPR(up=True)), ('lstm', th.LSTM), ('lr', th.LR)):
        t0 = time.time()
        E[name] = th.expert_scores(ix, ixs, W if name.startswith('npr') else F, at, make, fams)
        print(f"{name}: {time.time() - t0:.0f} s", flush=True)
        th.save_experts(a.out, E)   # after each expert: a stopped screen keeps what it has
    combos = (('ens', ('lstm', 'lr')), ('ens+npr', ('lstm', 'lr', 'npr')), ('ens+npr-up', ('lstm', 'lr', 'npr-up')),
              ('npr', ('npr',)), ('npr-up', ('npr-up',)))
    th.write_screen(a.out, {'window_zeros': bad, **th.screen_ensembles(combos, E, ix, ixs, y)})


if __name__ == '__main__': th.cache_or_screen(__doc__, cache, screen)
