"""Every chapter notebook is a test: run each one as nbdev_test does, one pytest case per notebook.

Cells flagged with a tst_flag (settings.ini: `slow`) are skipped unless named in DEEPFAKE_TEST_FLAGS,
e.g. `DEEPFAKE_TEST_FLAGS=slow make test`.
"""
import os
from pathlib import Path

import pytest
from nbdev import test as nbdev_test
from nbdev.config import get_config

NBS = sorted(Path(__file__).resolve().parent.parent.joinpath('nbs').glob('[0-9]*.ipynb'))


# a torch tensor handed to matplotlib (imshow of a crop) warns on numpy 2: plot arrays, `.permute(1, 2, 0).numpy()`
@pytest.mark.filterwarnings("error:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.stem)
def test_notebook(nb):
    skip = get_config().get('tst_flags', '').split()
    force = os.environ.get('DEEPFAKE_TEST_FLAGS', '').split()
    ok, _ = nbdev_test.test_nb(nb, skip_flags=skip, force_flags=force)
    assert ok, f'{nb.name} failed: see the traceback above'
