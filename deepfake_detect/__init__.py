__version__ = "0.1.0"

import os as _os
import sys as _sys

# Written here, not in a notebook: it must run before any chapter's module imports torchvision.
GPU_DEVICES = ('/dev/nvidiactl', '/dev/kfd', '/dev/dxg')   # NVIDIA, AMD ROCm, WSL's GPU bridge


def _skip_triton_without_gpu():
    """Mark triton absent on a machine without a GPU. torchvision (MTCNN's dependency) imports torch._dynamo, which
    imports triton when it is installed, as it is with torch's CUDA wheels; triton only compiles GPU kernels, so on a
    CPU it costs ~75 MB of resident memory and ~0.4 s of start-up for nothing (bench/bench_startup.py,
    bench/bench_scan_memory.py). Skipped when a GPU device exists, triton is already imported, or
    DEEPFAKE_DETECT_TRITON=1."""
    if _os.environ.get('DEEPFAKE_DETECT_TRITON') == '1' or 'triton' in _sys.modules: return
    if any(_os.path.exists(p) for p in GPU_DEVICES): return
    _sys.modules['triton'] = None   # `import triton` now raises ImportError, which torch reads as "not installed"
    # torch.compile's flop counter would then warn "triton not found" on its first use: true, chosen, and no loss on a CPU
    import logging
    logging.getLogger('torch.utils.flop_counter').setLevel(logging.ERROR)


_skip_triton_without_gpu()
