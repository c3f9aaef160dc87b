"""deepfake_detect — the Streamlit app: `streamlit run app.py` (or `make run`).

A shell over `deepfake_detect.predict.Predictor`: upload a video or a photo → stages → a verdict card, the timeline,
the faces, heatmaps where they help, details and a JSON report. No detection logic lives here.
"""
import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from deepfake_detect.video import MAX_FRAMES, VideoError, VIDEO_EXTENSIONS, IMAGE_EXTENSIONS
from deepfake_detect.model import CheckpointError, format_measure
from deepfake_detect.predict import (Predictor, Prediction, VERDICTS, percent, cut_percent, result_card_html, reading_guide,
                                     crops_strip)
from deepfake_detect.explain import explain, upload_path, GRADCAM_NOTE

MAX_MB = 200
TYPES = sorted({e.lstrip('.') for e in VIDEO_EXTENSIONS + IMAGE_EXTENSIONS})
STAGES = dict(frames=('Reading frames', 0.1), faces=('Finding faces', 0.35), model=('Scoring faces', 0.7), done=('Done', 1.0))
LOOK = {'Standard (the model\'s frames)': None, 'Closer (3× the frames)': 3, 'Closest (6× the frames, slow)': 6}

st.set_page_config(page_title='deepfake_detect', layout='wide')
st.markdown("""<style>
.block-container {max-width: 1100px; padding-top: 2rem}
.dd-note {color: #555; font-size: 0.92em; border-left: 3px solid #f4b400; padding: 4px 10px; background: #fffbe6}
@media (max-width: 640px) {.block-container {padding: 1rem 0.6rem}}
</style>""", unsafe_allow_html=True)


@st.cache_resource(show_spinner='Loading the model…')
def get_predictor():
    "One Predictor per server process, shared by every user (it is safe to use from several sessions at once)."
    return Predictor().warmup()


MASK_NAMES = {'ellipse': 'whole face', 'hull': 'face outline', 'hull+forehead': 'face and forehead', 'mouth': 'lower face'}


def training_line(td):
    "What the model learned from, in one line of its training-data summary."
    n = lambda label: sum(v for k, v in td.get('train', {}).items() if k.startswith(label + '/'))
    masks = ', '.join(dict.fromkeys(MASK_NAMES.get(k, k) for k in td.get('blend_masks', ['ellipse'])))
    if td.get('backbone_from'):   # heads trained on a frozen backbone's features: the self-blends were the backbone's
        return (f"Trained on {n('real')} real and {n('fake')} fake videos, reading the features of a frozen backbone "
                f"fine-tuned earlier on self-blended pseudo-fakes of real faces ({masks}).")
    return f"Trained on {n('real')} real and {n('fake')} fake videos, and self-blended pseudo-fakes of the real ones ({masks})."


def short(method):
    "A method's name for a narrow table: without its parenthesis, and named even when unknown."
    name = re.sub(r' *[(][^)]*[)]', '', str(method or '')).strip()
    return (name if name and name.lower() != 'unknown' else 'method not recorded')[:24]


def num(x, spec='.2f'):
    "A measured number as text; '—' for one the run could not measure (null or NaN in the checkpoint's JSON)."
    return format_measure(x, spec, missing='—')


def model_card(cfg):
    "The shipped model's measured results, from its checkpoint config."
    m = cfg.get('metrics', {})
    heads = 'LSTM + a pooled expert' if cfg.get('pooled') else 'LSTM'
    st.markdown(f"**Model** `{cfg.get('model_id', '?')}` · {cfg['backbone']} + {heads} · {cfg['n_frames']} frames per video")
    if cfg.get('training_data', {}).get('train'): st.markdown(training_line(cfg['training_data']))
    if 'auc' in m:
        lo, hi = m.get('auc_ci') or (None, None)
        bu = m.get('backbone_unseen')
        st.markdown(f"Held-out AUC **{num(m['auc'])}** (95% CI {num(lo)}–{num(hi)}) on "
                    f"{m.get('n_scored', m.get('n', '?'))} videos, each scored by heads trained without its people and "
                    f"scenes ({m.get('protocol', 'group-held-out')}); paired win rate {num(m.get('pair_win'))}."
                    + (f" Its frozen backbone was fine-tuned on {bu['n_seen']} of them; on the other {bu['n']}, AUC **{num(bu['auc'])}**."
                       if bu else ''))
    mix = m.get('verdict_mix')
    if mix:   # a Markdown table wraps to the sidebar's width; a dataframe would be cut off
        rows = [f"| {VERDICTS[l]} | {num(mix['real'][l], '.0%')} | {num(mix['fake'][l], '.0%')} |" for l in ('REAL', 'FAKE', 'UNCERTAIN')]
        st.markdown('Verdicts on held-out videos:\n\n| verdict | real | fake |\n|---|---|---|\n' + '\n'.join(rows))
        cx = m.get('verdict_mix_crossfit')
        if cx: st.caption(f"With threshold and band fitted on other videos (cross-fitted): {num(cx['real']['REAL'], '.0%')} of real "
                          f"videos {VERDICTS['REAL'].lower()}, {num(cx['fake']['FAKE'], '.0%')} of fakes {VERDICTS['FAKE'].lower()}.")
    xd = m.get('cross_dataset')
    if xd: st.caption(f"On videos from sources never seen in training (cross-dataset): AUC {num(xd['auc'])}; "
                      f"{num(xd['verdict_mix']['real']['REAL'], '.0%')} of real videos {VERDICTS['REAL'].lower()}, "
                      f"{num(xd['verdict_mix']['fake']['FAKE'], '.0%')} of fakes {VERDICTS['FAKE'].lower()}.")
    new = (m.get('backbone_unseen') or {}).get('cross_dataset') or {}
    held = new.get('verdict_mix_held_out')
    fitted_here = (cfg.get('calibration') or {}).get('on') == 'backbone-unseen-crossdataset'
    if held: st.caption("On videos the backbone never saw, from sources the heads never saw (the nearest to a video you "
                        f"upload), each labelled by a calibration fitted without it: AUC {num(new['auc'])}; "
                        f"{num(held['real']['REAL'], '.0%')} of real videos {VERDICTS['REAL'].lower()}, "
                        f"{num(held['fake']['FAKE'], '.0%')} of fakes {VERDICTS['FAKE'].lower()}."
                        + (" The verdict's threshold and band are fitted on such videos." if fitted_here else ''))
    photo = m.get('photo') or {}
    if photo.get('verdict_mix'): st.caption(f"Photos are scored by the frame head (each held-out video frame taken as a photo): AUC "
                         f"{num(photo.get('frame_auc'))}; {num(photo['verdict_mix']['real']['REAL'], '.0%')} of real frames "
                         f"{VERDICTS['REAL'].lower()}, {num(photo['verdict_mix']['fake']['FAKE'], '.0%')} of fake frames "
                         f"{VERDICTS['FAKE'].lower()}.")
    table = m.get('per_family') or m.get('per_method', [])
    if table:
        key = 'family' if 'per_family' in m else 'method'
        df = pd.DataFrame([{'held-out fakes': short(r[key]), 'n': r['n_fake'], 'AUC': num(r['auc'])} for r in table])
        st.dataframe(df, hide_index=True, width='stretch')


def limits_note(cfg):
    "What the model is known to miss, from its per-family (or per-method) results."
    m = cfg.get('metrics', {})
    pm = pd.DataFrame(m.get('per_family') or m.get('per_method', []))
    key = 'family' if 'per_family' in m else 'method'
    weak = [short(x) for x in pm[pd.to_numeric(pm.auc) < 0.7][key]] if len(pm) and 'auc' in pm else []
    missed = f" It is weakest on: {', '.join(weak)}." if weak else ''
    st.markdown(f"<div class='dd-note'><b>“{VERDICTS['REAL']}” is not a guarantee.</b> This model learned from a few "
                f"hundred public videos and self-blended faces; it has never seen most generators.{missed} Use it as one "
                f"signal among others.</div>", unsafe_allow_html=True)


def timeline_chart(pred: Prediction):
    "Per-frame P(fake) of each face over time: the frame head's threshold and uncertain band, and the video's score, drawn in."
    import altair as alt
    rows = [dict(time=f['time'], face=f"face {t['track']}", p_fake=f['p_fake']) for t in pred.tracks for f in t['frames']]
    threshold, band = pred.frame_cut   # each frame is the frame head's score, read against that head's cut
    lo, hi = threshold - band, threshold + band
    y = alt.Y('p_fake:Q', title='P(fake) per frame', scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format='%'))
    lines = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(x=alt.X('time:Q', title='time (s)'), y=y, color='face:N')
    shade = alt.Chart(pd.DataFrame([dict(lo=lo, hi=hi)])).mark_rect(opacity=0.15, color='#f4b400').encode(y='lo:Q', y2='hi:Q')
    marks = pd.DataFrame([dict(p=threshold, what=f'frame threshold {cut_percent(threshold)}'),
                          dict(p=pred.p_fake, what=f"video's score {percent(pred.p_fake, pred.cuts)}")])
    colours = alt.Scale(domain=marks.what.tolist(), range=['#888888', '#c62828'])   # not a face's colour
    rules = alt.Chart(marks).mark_rule(strokeDash=[4, 3]).encode(y='p:Q', color=alt.Color('what:N', title=None, scale=colours))
    return (shade + rules + lines).resolve_scale(color='independent').properties(height=230)


def show_heatmaps(predictor, pred):
    "Grad-CAM overlays of the most suspicious frames, with what they do and do not show."
    with st.spinner('Drawing heatmaps… (a pass with gradients through the network for every frame: slower than the verdict)'):
        items = explain(predictor, pred, k=4)
    cols = st.columns(max(len(items), 1))
    for c, it in zip(cols, items):
        c.image(it['overlay'], caption=f"{it['time']:.1f} s · {percent(it['p_fake'])}", width='content')
    st.caption(GRADCAM_NOTE)


def show_prediction(predictor, pred: Prediction, name, key):
    st.caption(md(f'Result for {name}'))   # the card itself names no file: after a refused upload, this one is shown
    st.markdown(result_card_html(pred), unsafe_allow_html=True)
    if pred.tracks:
        if pred.kind == 'video' and len(pred.frames) > 1:   # one frame: no time to draw
            st.subheader('Score over time')
            st.altair_chart(timeline_chart(pred), width='stretch')
            st.caption(f"Each point is one sampled frame's calibrated score; dashed lines mark the threshold a frame "
                       f"is read against ({cut_percent(pred.frame_cut[0])}, shaded: its uncertain band) and the video's "
                       f"score ({percent(pred.p_fake, pred.cuts)}), which the verdict reads against the video's own cut: "
                       f"{reading_guide(pred)}")
        st.subheader('Faces')
        strip = crops_strip(pred)   # the face the verdict rests on
        who = f"face {pred.top_track}, the most suspicious of {len(pred.tracks)}" if len(pred.tracks) > 1 else 'the face'
        st.image(strip, caption=f'Sampled crops of {who}, framed green (real) to red (manipulated) by their score',
                 width='stretch' if strip.shape[1] > 700 else 'content')
        wanted = pred.label == 'FAKE' or st.toggle('Show heatmaps (where the model saw evidence)', key=f'heat-{key}')
        if wanted:
            try: show_heatmaps(predictor, pred)
            except Exception as e:   # an explanation is optional: never lose the result over it
                st.caption(f'Heatmaps unavailable: {e}')
    with st.expander('Technical details'):
        st.json(dict(file=name, kind=pred.kind, video=pred.video, warnings=pred.warnings, model_id=pred.model_id,
                     timings_s={k: round(v, 3) for k, v in pred.timings.items()}))
    st.download_button('Download JSON report', pred.to_json(indent=1), file_name=f'{Path(name).stem}.deepfake.json',
                       mime='application/json')


def md(text):
    "`text` (a file name, an error message) shown literally in Streamlit's Markdown: `$`, `*`, `_`, `[`, `:` and the rest escaped."
    return re.sub(r'([\\`*_{}\[\]()#+\-.!$<>|~:])', r'\\\1', str(text))


def upload_name(up):
    """The uploaded file's name as the user's disk spells it: browsers send `"`, CR and LF in a form's file name as
    %22, %0D and %0A (the WHATWG multipart/form-data rule), and Streamlit passes the name on as it came."""
    return re.sub('%(22|0D|0A)', lambda m: bytes.fromhex(m[1]).decode(), up.name, flags=re.I)


def analyse(predictor, up, n_frames):
    """The Prediction for an upload, or an error shown. The session keeps its latest result only (toggles do not
    analyse it again; a result holds its face crops, tens of MB for a crowd, so older ones are not kept)."""
    key = f'{up.file_id}-{n_frames}'   # Streamlit's id of this upload: no need to hash 200 MB on every rerun
    last = st.session_state.get('result')
    if last and last[0] == key: return last[1], key
    st.session_state.pop('result', None)   # its memory goes before the next analysis, not after
    bar = st.progress(0.0, text='Starting…')
    def on_stage(stage, _):
        text, frac = STAGES[stage]
        bar.progress(frac, text=text)
    name = upload_name(up)
    with tempfile.TemporaryDirectory() as d:
        path = upload_path(d, name)
        try:
            path.write_bytes(up.getbuffer())
            pred = predictor.predict(path, progress=on_stage, n_frames=n_frames)
        except VideoError as e:   # its text names the saved file: name the upload instead
            bar.empty(); st.error(md(f'Could not read {name}: ' + str(e).replace(path.name, name))); return None, key
        except Exception as e:   # the app stays up whatever is uploaded
            shown = str(e).replace(str(d), '…')   # never the server's folder
            bar.empty(); st.error(md(f'Something went wrong while analysing {name}: {type(e).__name__}: {shown}')); return None, key
    bar.empty()
    pred.path = name
    st.session_state['result'] = (key, pred)
    return pred, key


def main():
    st.title('deepfake_detect')
    st.write('Upload a face video or photo to check whether the face was manipulated (face swaps, reenactment, '
             'lip-sync, generated talking heads).')
    try: predictor = get_predictor()
    except CheckpointError as e:
        st.error(md(f'The model could not be loaded: {e}')); st.stop()
    with st.sidebar:
        st.header('About the model'); model_card(predictor.cfg); limits_note(predictor.cfg)
    up = st.file_uploader(f'Video or photo (up to {MAX_MB} MB)', type=TYPES,
                          help='An iPhone photo (HEIC) is not read here: export it as JPEG first.')
    look = st.radio('How closely to look at a video', list(LOOK), horizontal=True,
                    help='More frames examine more of a long video, at the cost of time.')
    if up is None:
        st.info('Your file is processed on this server and not kept.'); return
    if up.size > MAX_MB * 2**20:   # the server's cap on maxUploadSize (MiB; browsers round it their own way)
        st.error(md(f'{upload_name(up)} is {up.size / 2**20:.0f} MB: the limit is {MAX_MB} MB.')); return
    n_frames = min(predictor.n_frames * LOOK[look], MAX_FRAMES) if LOOK[look] else None   # memory stays bounded
    pred, key = analyse(predictor, up, n_frames)
    if pred is not None: show_prediction(predictor, pred, upload_name(up), key)


if __name__ == '__main__':   # streamlit runs the script as __main__; a test may import its parts
    main()
