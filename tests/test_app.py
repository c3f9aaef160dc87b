"""The Streamlit app under streamlit's AppTest: every kind of upload renders a clear message, none raises."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip('streamlit')
from streamlit.testing.v1 import AppTest

from deepfake_detect.fixtures import cat, face_scene, write_bad_files, write_h264
from deepfake_detect.model import default_model_path

pytestmark = pytest.mark.skipif(not default_model_path().with_suffix('.json').exists(), reason='no shipped model')


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp('clips')
    out = dict(face=write_h264(d / 'face.mp4', face_scene(48, 640, 360), fps=24),
               cat=write_h264(d / 'cat.mp4', face_scene(24, 320, 240, image=cat()), fps=12))
    out.update(write_bad_files(d / 'bad'))
    return out


def run_upload(name, data, mime='video/mp4'):
    at = AppTest.from_file(str(ROOT / 'app.py'), default_timeout=300)
    at.run()
    assert not at.exception
    at.file_uploader[0].upload(name, data, mime)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at):
    return ' '.join([m.value for m in at.markdown] + [e.value for e in at.error] + [c.value for c in at.caption])


def test_landing_page():
    at = AppTest.from_file(str(ROOT / 'app.py'), default_timeout=300)
    at.run()
    assert not at.exception
    assert 'deepfake_detect' in at.title[0].value
    assert len(at.file_uploader) == 1
    assert 'not a guarantee' in texts(at)
    assert 'Trained on' in texts(at) and 'self-blended pseudo-fakes' in texts(at)   # what the model learned from


def test_face_clip(clips):
    at = run_upload('face.mp4', clips['face'].read_bytes())
    t = texts(at)
    assert any(v in t for v in ('Real', 'DeepFake', 'Uncertain')), t
    assert 'Probability of manipulation' in t
    assert len(at.get('download_button')) == 1


def test_no_face_clip(clips):
    at = run_upload('cat.mp4', clips['cat'].read_bytes())
    assert 'No face found' in texts(at)


@pytest.mark.parametrize('kind,message', [('text', 'text file'), ('truncated', 'truncated'), ('empty', 'empty'),
                                          ('unknown_codec', 'codec')])
def test_bad_uploads(clips, kind, message):
    at = run_upload(Path(clips[kind]).name, clips[kind].read_bytes())
    assert len(at.error) == 1 and message in at.error[0].value, texts(at)
