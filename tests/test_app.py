"""The Streamlit app under streamlit's AppTest: every kind of upload renders a clear message, none raises."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip('streamlit')
from streamlit.testing.v1 import AppTest

from deepfake_detect.fixtures import TWO_FACES, cat, face_scene, write_bad_files, write_h264, write_photo, write_cover_art_audio
from deepfake_detect.model import default_model_path
from deepfake_detect.predict import Prediction

pytestmark = pytest.mark.skipif(not default_model_path().with_suffix('.json').exists(), reason='no shipped model')


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp('clips')
    out = dict(face=write_h264(d / 'face.mp4', face_scene(48, 640, 360), fps=24),
               cat=write_h264(d / 'cat.mp4', face_scene(24, 320, 240, image=cat()), fps=12),
               photo=write_photo(d / 'face.jpg'), song=write_cover_art_audio(d / 'song.mp4'),
               two=write_h264(d / 'two.mp4', face_scene(24, 640, 360, TWO_FACES), fps=12))
    out.update(write_bad_files(d / 'bad'))
    return out


def run_upload(name, data, mime='video/mp4', at=None):
    if at is None:
        at = AppTest.from_file(str(ROOT / 'app.py'), default_timeout=300)
        at.run()
        assert not at.exception
    at.file_uploader[0].upload(name, data, mime)
    at.run()
    assert not at.exception, at.exception
    return at


def plain(markdown):
    "What Streamlit shows of `markdown` that escapes its special characters (the app's `md`)."
    return re.sub(r'\\(.)', r'\1', markdown)


def texts(at):
    return ' '.join(plain(x) for x in [m.value for m in at.markdown] + [e.value for e in at.error] + [c.value for c in at.caption])


VERDICT_WORDS = ('Likely real', 'Likely manipulated', "Can't tell")


def test_landing_page():
    at = AppTest.from_file(str(ROOT / 'app.py'), default_timeout=300)
    at.run()
    assert not at.exception
    assert 'deepfake_detect' in at.title[0].value
    assert len(at.file_uploader) == 1
    assert 'not a guarantee' in texts(at)
    assert len(at.radio) == 1 and len(at.radio[0].options) == 3
    assert 'Trained on' in texts(at) and 'self-blended pseudo-fakes' in texts(at)   # what the model learned from
    td = json.loads((ROOT / 'deepfake_detect' / 'models' / 'default.json').read_text())['training_data']
    assert ('reading the features of a frozen backbone' in texts(at)) == bool(td.get('backbone_from'))   # whose self-blends
    assert 'Verdicts on held-out videos' in texts(at) and '(cross-fitted)' in texts(at)   # the verdict mix, both ways
    m = json.loads((ROOT / 'deepfake_detect' / 'models' / 'default.json').read_text())['metrics']
    assert f"sources never seen in training (cross-dataset): AUC {m['cross_dataset']['auc']:.2f}" in texts(at)   # and on unseen sources
    bu = m['backbone_unseen']   # the videos the backbone never saw (research/generalise/PLAN.md, amendments 25c and 27)
    assert f"fine-tuned on {bu['n_seen']} of them; on the other {bu['n']}, AUC **{bu['auc']:.2f}**" in texts(at)
    held = bu['cross_dataset']['verdict_mix_held_out']
    assert (f"each labelled by a calibration fitted without it: AUC {bu['cross_dataset']['auc']:.2f}; {held['real']['REAL']:.0%} of real "
            f"videos likely real, {held['fake']['FAKE']:.0%} of fakes likely manipulated") in texts(at)
    assert f"{m['n']} videos, each scored by heads trained without its people and scenes" in texts(at)   # out of fold
    assert f"Photos are scored by the frame head (each held-out video frame taken as a photo): AUC {m['photo']['frame_auc']:.2f}" in texts(at)


def _panel(root, cfg):
    import sys
    sys.path.insert(0, root)
    import app
    app.model_card(cfg); app.limits_note(cfg)


def test_model_panel_with_unmeasured_numbers():
    "A checkpoint written by a run that could not measure some numbers (null in its JSON) still gets its panel."
    cfg = json.loads((ROOT / 'deepfake_detect' / 'models' / 'default.json').read_text())
    m = cfg['metrics']
    m.update(pair_win=None, auc_ci=[None, None])
    m['per_family'][0]['auc'] = None
    m['cross_dataset']['auc'] = None
    at = AppTest.from_function(_panel, args=(str(ROOT), cfg), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert 'paired win rate —' in texts(at) and '(95% CI —–—)' in texts(at) and 'AUC —;' in texts(at)


def test_face_clip(clips):
    at = run_upload('face.mp4', clips['face'].read_bytes())
    t = texts(at)
    assert any(v in t for v in VERDICT_WORDS), t
    assert 'probability of manipulation' in t and 'Based on 1 face in 32 frames' in t
    assert "the video's score is its most suspicious face's" in t   # the chart's caption says what the score is
    assert len(at.get('download_button')) == 1
    assert '/tmp' not in str(at.get('download_button')[0].proto)      # no server folder in the report


def test_photo_then_second_upload(clips):
    at = run_upload('face.jpg', clips['photo'].read_bytes(), 'image/jpeg')
    t = texts(at)
    assert 'in a photo' in t and any(v in t for v in VERDICT_WORDS), t
    assert 'Result for face.jpg' in texts(at)                                # the card says which file it is about
    at = run_upload('song.mp4', clips['song'].read_bytes(), at=at)           # a second upload replaces the first
    assert len(at.error) == 1 and 'no video' in at.error[0].value and 'in a photo' not in texts(at)
    assert 'result' not in at.session_state                                  # the photo's result (crops) is let go
    at = run_upload('face.mp4', clips['face'].read_bytes(), at=at)
    assert isinstance(at.session_state['result'][1], Prediction) and at.session_state['result'][1].path == 'face.mp4'


def test_two_faces_show_the_one_behind_the_verdict(clips):
    at = run_upload('two.mp4', clips['two'].read_bytes())
    pred = at.session_state['result'][1]
    assert len(pred.tracks) == 2 and pred.tracks[pred.top_track]['p_fake'] == pred.p_fake
    captions = [i.caption for el in at.get('image') for i in el.proto.imgs]
    assert any(f'Sampled crops of face {pred.top_track}, the most suspicious of 2' in c for c in captions), captions


def test_a_quoted_name_as_the_browser_sends_it(clips):
    "Browsers send a name's double quotes as %22 (the WHATWG form encoding): shown as the user's disk spells it."
    at = run_upload('my %22quoted%22 clip.mp4', clips['text'].read_bytes())
    assert plain(at.error[0].value).startswith('Could not read my "quoted" clip.mp4'), at.error[0].value


def test_a_name_is_shown_as_written(clips):
    "Markdown and LaTeX in a file name are shown literally, not rendered (a price, a formula, a link)."
    name = '**bold** _it_ $5 vs $10 [link](http://example.com).mp4'
    at = run_upload(name, clips['text'].read_bytes())
    raw = at.error[0].value
    assert plain(raw).startswith(f'Could not read {name}') and '\\$5' in raw and '\\*\\*bold' in raw and '\\[link\\]' in raw


def test_look_closer(clips):
    at = AppTest.from_file(str(ROOT / 'app.py'), default_timeout=300)
    at.run()
    at.radio[0].set_value(at.radio[0].options[1])
    at = run_upload('face.mp4', clips['face'].read_bytes(), at=at)
    assert 'in 48 frames' in texts(at), texts(at)   # 3 × 32 asked, all 48 of the clip read


def test_upload_with_a_long_name(clips):
    "A name over the file system's 255 bytes (99 CJK characters) is saved under another: analysed, not a crash."
    name = '日本語の長いファイル名' * 9 + '.mp4'
    at = run_upload(name, clips['face'].read_bytes())
    t = texts(at)
    assert any(v in t for v in VERDICT_WORDS) and not at.error, t
    at = run_upload(name, clips['text'].read_bytes(), at=at)            # its errors name it, not the saved copy
    assert len(at.error) == 1 and f'{name} is a text file' in plain(at.error[0].value) and 'upload.mp4' not in at.error[0].value


def test_no_face_clip(clips):
    at = run_upload('cat.mp4', clips['cat'].read_bytes())
    assert 'No face found' in texts(at)


@pytest.mark.parametrize('kind,message', [('text', 'text file'), ('truncated', 'truncated'), ('empty', 'empty'),
                                          ('unknown_codec', 'codec')])
def test_bad_uploads(clips, kind, message):
    at = run_upload(Path(clips[kind]).name, clips[kind].read_bytes())
    assert len(at.error) == 1 and message in plain(at.error[0].value), texts(at)
