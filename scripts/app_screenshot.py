"""The app in a real browser: start it on the shipped model, upload files through the page, save a screenshot.

    python scripts/app_screenshot.py docs/app.png

Makes the README's picture from what the app shows today (a generated face clip, scored by the shipped model), so it
cannot go stale; tests/test_browser.py drives the same functions. Needs Debian's chromium (`make browser`) and the
`playwright` Python package (no browser download).
"""
import argparse
import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = '/usr/bin/chromium'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(timeout=60):
    "The app on a free local port; yields its URL and stops it afterwards. RuntimeError if it does not come up."
    port = free_port()
    proc = subprocess.Popen([sys.executable, '-m', 'streamlit', 'run', str(ROOT / 'app.py'), '--server.port', str(port),
                             '--server.address', '127.0.0.1', '--server.headless', 'true',
                             '--browser.gatherUsageStats', 'false'], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(timeout * 2):
            try:
                with socket.create_connection(('127.0.0.1', port), timeout=0.5): break
            except OSError: time.sleep(0.5)
        else: raise RuntimeError('streamlit did not start')
        yield f'http://127.0.0.1:{port}'
    finally:
        proc.terminate()
        try: proc.wait(timeout=10)
        except subprocess.TimeoutExpired: proc.kill()


@contextlib.contextmanager
def browser_page(width=1280, height=1500):
    "A page of headless Debian chromium, driven by playwright."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try: yield browser.new_page(viewport={'width': width, 'height': height})
        finally: browser.close()


def upload(page, path, wait_text, timeout=180_000):
    "Upload `path` through the page's file input and wait until `wait_text` shows."
    page.wait_for_selector('input[type=file]', state='attached', timeout=120_000)
    page.set_input_files('input[type=file]', str(path))
    page.get_by_text(wait_text).first.wait_for(timeout=timeout)


def screenshot_clip(page, url, clip, out):
    "Open the app, upload `clip`, wait for the card and the chart, and save a full-page screenshot to `out`."
    page.goto(url, timeout=60_000)
    upload(page, clip, 'probability of manipulation')
    page.get_by_text('Score over time').wait_for(timeout=60_000)
    page.wait_for_selector('canvas, svg.marks', timeout=60_000)
    page.get_by_text('Download JSON report').wait_for(timeout=120_000)   # the last thing the page draws
    time.sleep(2)   # let charts and images settle
    page.screenshot(path=str(out), full_page=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out', nargs='?', default=str(ROOT / 'docs' / 'app.png'))
    a = ap.parse_args()
    import tempfile
    from deepfake_detect.fixtures import face_scene, write_h264
    with tempfile.TemporaryDirectory() as d, serve_app() as url, browser_page() as page:
        clip = write_h264(Path(d) / 'face.mp4', face_scene(72, 640, 360), fps=24)
        print(screenshot_clip(page, url, clip, a.out))


if __name__ == '__main__': main()
