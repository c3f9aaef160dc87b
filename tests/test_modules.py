"""The exported modules, scripts and app stand on their own.

A notebook runs top to bottom in one namespace, so exported code can use a name that only a test cell imported
(`plt`, `Path`) and every chapter test still passes; the package then fails the first time a user calls it.
pyflakes reads every file without running it and reports such undefined names.
"""
from pathlib import Path

import pytest

pyflakes_api = pytest.importorskip('pyflakes.api')
from pyflakes.messages import UndefinedName

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*ROOT.glob('deepfake_detect/*.py'), *ROOT.glob('scripts/*.py'), *ROOT.glob('research/**/*.py'), *ROOT.glob('bench/*.py'), ROOT/'app.py'])


class _Collect:
    def __init__(self): self.messages = []
    def flake(self, m): self.messages.append(m)
    def syntaxError(self, *a): self.messages.append(a)
    def unexpectedError(self, *a): self.messages.append(a)


@pytest.mark.parametrize('path', FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_undefined_names(path):
    r = _Collect()
    pyflakes_api.check(path.read_text(), str(path), r)
    bad = [m for m in r.messages if not hasattr(m, 'message_args') or isinstance(m, UndefinedName)]
    assert not bad, '\n'.join(str(m) for m in bad)


def test_inference_imports_no_training():
    "Scoring a video needs the data flow up to the model, never training, self-blending or the test fixtures."
    import subprocess, sys
    code = "import sys, deepfake_detect.predict; print(' '.join(sorted(m for m in sys.modules if m.startswith('deepfake_detect.'))))"
    loaded = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()
    assert not {'deepfake_detect.train', 'deepfake_detect.blend', 'deepfake_detect.fixtures',
                'deepfake_detect.evaluate'} & set(loaded), loaded


def test_triton_skipped_without_gpu():
    "On a machine without a GPU, scoring never loads triton (GPU kernels only: ~75 MB and ~0.4 s for nothing)."
    import os, subprocess, sys
    import deepfake_detect
    if any(os.path.exists(p) for p in deepfake_detect.GPU_DEVICES): pytest.skip('this machine has a GPU: triton stays')
    code = ("import sys, deepfake_detect.predict, torchvision\n"
            "print(sys.modules.get('triton', 'absent') is None, any(m.startswith('triton.') for m in sys.modules))")
    run = lambda env: subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                                     env=dict(os.environ, **env)).stdout.split()
    assert run({}) == ['True', 'False']   # marked absent, nothing of it loaded
    kept = run({'DEEPFAKE_DETECT_TRITON': '1'})
    assert kept[0] == 'False'   # the user's choice wins: triton imports as usual (where it is installed)


def test_compile_quiet_without_triton():
    "torch.compile still works after the package marked triton absent, without warning that it is missing."
    import os, subprocess, sys
    import deepfake_detect
    if any(os.path.exists(p) for p in deepfake_detect.GPU_DEVICES): pytest.skip('this machine has a GPU: triton stays')
    code = ("import torch, deepfake_detect\n"
            "print(torch.compile(lambda x: x * 2 + 1)(torch.ones(2)).tolist())")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.split() == ['[3.0,', '3.0]'], r.stderr[-2000:]
    assert 'triton' not in r.stderr, r.stderr[-2000:]
