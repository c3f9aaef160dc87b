"""A real browser on the real app: Debian's chromium driven by playwright through a face clip, a photo, a bad file and
a second upload; the verdict, the threshold line and the details must be on the page. The screenshot of the first
upload is the README's picture when DEEPFAKE_SCREENSHOT names where to save it (scripts/app_screenshot.py)."""
import importlib.util
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location('app_screenshot', ROOT / 'scripts' / 'app_screenshot.py')
shots = importlib.util.module_from_spec(spec); spec.loader.exec_module(shots)

pytest.importorskip('playwright.sync_api')
from deepfake_detect.fixtures import face_scene, write_h264, write_photo
from deepfake_detect.model import default_model_path

pytestmark = [pytest.mark.skipif(not Path(shots.CHROMIUM).exists(), reason='Debian chromium not installed'),
              pytest.mark.skipif(not default_model_path().with_suffix('.json').exists(), reason='no shipped model')]
VERDICTS = ('Likely real', 'Likely manipulated', "Can't tell")


@pytest.fixture(scope='module')
def app_url():
    with shots.serve_app() as url: yield url


def page_text(page): return page.inner_text('body')


def gone(page, text, timeout=60_000):
    """True once no element shows `text`: a rerun marks the previous result stale and removes it only when the run
    ends, which on a busy CPU comes a moment after the new result shows."""
    page.get_by_text(text).first.wait_for(state='detached', timeout=timeout)
    return text not in page_text(page)


def test_uploads_in_browser(app_url, tmp_path):
    clip = write_h264(tmp_path / 'face.mp4', face_scene(72, 640, 360), fps=24)
    with shots.browser_page() as page:
        shot = shots.screenshot_clip(page, app_url, clip, tmp_path / 'app.png')
        assert shot.stat().st_size > 20_000
        if os.environ.get('DEEPFAKE_SCREENSHOT'): shutil.copy(shot, os.environ['DEEPFAKE_SCREENSHOT'])
        text = page_text(page)
        assert any(v in text for v in VERDICTS) and 'Based on 1 face in 32 frames' in text
        assert 'dashed lines mark the threshold' in text                        # the chart's threshold line, explained
        assert page.locator('canvas, svg.marks').count() >= 1                  # and the chart itself
        page.get_by_text('More about this score').first.click()                # details behind a click
        page.get_by_text('probabilities are calibrated', exact=False).first.wait_for(timeout=30_000)
        page.get_by_text('Technical details').first.click()
        page.get_by_text('"kind"').first.wait_for(timeout=30_000)

        shots.upload(page, write_photo(tmp_path / 'face.jpg'), 'in a photo')   # a second upload: a photo
        assert gone(page, 'Score over time')                                     # nothing left from the video

        bad = tmp_path / 'notes.mp4'; bad.write_text('These are my notes, not a video.\n' * 20)
        shots.upload(page, bad, 'Could not read notes.mp4')
        assert gone(page, 'in a photo')
