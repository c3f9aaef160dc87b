"""A real browser on the real app: Debian's chromium driven by playwright, a generated face clip uploaded through the
page's file input, the result card and the timeline awaited, a screenshot saved (docs/app.png when asked)."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = '/usr/bin/chromium'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic']

playwright = pytest.importorskip('playwright.sync_api')
from deepfake_detect.fixtures import face_scene, write_h264
from deepfake_detect.model import default_model_path

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason='Debian chromium not installed'),
              pytest.mark.skipif(not default_model_path().with_suffix('.json').exists(), reason='no shipped model')]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


@pytest.fixture(scope='module')
def app_url():
    port = free_port()
    proc = subprocess.Popen([sys.executable, '-m', 'streamlit', 'run', str(ROOT / 'app.py'), '--server.port', str(port),
                             '--server.address', '127.0.0.1', '--server.headless', 'true',
                             '--browser.gatherUsageStats', 'false'], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):   # up to 60 s for the server to answer
            try:
                with socket.create_connection(('127.0.0.1', port), timeout=0.5): break
            except OSError: time.sleep(0.5)
        else: pytest.fail('streamlit did not start')
        yield url
    finally:
        proc.terminate()
        try: proc.wait(timeout=10)
        except subprocess.TimeoutExpired: proc.kill()


def test_upload_in_browser(app_url, tmp_path):
    clip = write_h264(tmp_path / 'face.mp4', face_scene(72, 640, 360), fps=24)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 1500})
            page.goto(app_url, timeout=60_000)
            page.wait_for_selector('input[type=file]', state='attached', timeout=120_000)
            page.set_input_files('input[type=file]', str(clip))
            page.get_by_text('Probability of manipulation').wait_for(timeout=180_000)
            page.get_by_text('Score over time').wait_for(timeout=60_000)
            page.wait_for_selector('canvas, svg.marks', timeout=60_000)   # the timeline chart
            page.get_by_text('Download JSON report').wait_for(timeout=60_000)
            time.sleep(2)   # let charts and images settle for the screenshot
            shot = tmp_path / 'app.png'
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            if os.environ.get('DEEPFAKE_SCREENSHOT'): shutil.copy(shot, os.environ['DEEPFAKE_SCREENSHOT'])
        finally:
            browser.close()
