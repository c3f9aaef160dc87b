"""deepfake_detect — the Streamlit app: `streamlit run app.py` (or `make run`).

A shell over `deepfake_detect.predict.Predictor`: upload → stages → result card, timeline, faces with heatmaps,
details and a JSON report. No detection logic lives here.
"""
import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from deepfake_detect.predict import Predictor, Prediction, result_card_html, crops_strip
from deepfake_detect.video import VideoError
from deepfake_detect.model import CheckpointError

MAX_MB = 200
TYPES = ['mp4', 'avi', 'mov', 'mkv', 'webm']
STAGES = dict(frames=('Reading frames', 0.1), faces=('Finding faces', 0.35), model=('Scoring faces', 0.7), done=('Done', 1.0))

st.set_page_config(page_title='deepfake_detect', layout='wide')
st.markdown("""<style>
.block-container {max-width: 1100px; padding-top: 2rem}
.dd-note {color: #555; font-size: 0.92em; border-left: 3px solid #f4b400; padding: 4px 10px; background: #fffbe6}
@media (max-width: 640px) {.block-container {padding: 1rem 0.6rem}}
</style>""", unsafe_allow_html=True)


@st.cache_resource(show_spinner='Loading the model…')
def get_predictor():
    "One Predictor per server process: the model loads once."
    return Predictor().warmup()


MASK_NAMES = {'ellipse': 'whole face', 'hull': 'face outline', 'hull+forehead': 'face and forehead', 'mouth': 'lower face'}


def training_line(td):
    "What the model learned from, in one line of its training-data summary."
    n = lambda label: sum(v for k, v in td.get('train', {}).items() if k.startswith(label + '/'))
    masks = ', '.join(dict.fromkeys(MASK_NAMES.get(k, k) for k in td.get('blend_masks', ['ellipse'])))
    return f"Trained on {n('real')} real and {n('fake')} fake videos, and self-blended pseudo-fakes of the real ones ({masks})."


def model_card(cfg):
    "The shipped model's measured results, from its checkpoint config."
    m = cfg.get('metrics', {})
    st.markdown(f"**Model** `{cfg.get('model_id', '?')}` · {cfg['backbone']} + LSTM · {cfg['n_frames']} frames per video")
    if cfg.get('training_data', {}).get('train'): st.markdown(training_line(cfg['training_data']))
    if 'auc' in m:
        lo, hi = m.get('auc_ci', (float('nan'), float('nan')))
        st.markdown(f"Held-out AUC **{m.get('auc', float('nan')):.2f}** (95% CI {lo:.2f}–{hi:.2f}) on {m.get('n_scored', '?')} "
                    f"shared validation videos; paired win rate {m.get('pair_win', float('nan')):.2f}.")
        rows = [f"| {re.sub(r' *[(][^)]*[)]', '', r['method'])[:28]} | {r['n_fake']} | {r['auc']:.2f} | {r['detected']:.0%} |"
                for r in m.get('per_method', [])]
        if rows: st.markdown('| held-out fakes | n | AUC | flagged |\n|---|---|---|---|\n' + '\n'.join(rows))


def limits_note(cfg):
    "What the model is known to miss, from its per-method results."
    pm = pd.DataFrame(cfg.get('metrics', {}).get('per_method', []))
    weak = pm[pm.detected < 0.5].method.tolist() if len(pm) else []
    missed = f" In validation it flagged fewer than half of: {', '.join(weak)}." if weak else ''
    st.markdown(f"<div class='dd-note'><b>“Real” is not a guarantee.</b> This model learned blending seams from real "
                f"faces and a small set of fakes; it has seen only a few talking-head generators, it has been checked on "
                f"only a few genuine lip-sync videos, and it has never seen most generators.{missed} Use it as one signal "
                f"among others.</div>", unsafe_allow_html=True)


def timeline_chart(pred: Prediction):
    "Per-frame P(fake) of each face over time, on a 0–1 scale with the uncertain band shaded."
    import altair as alt
    rows = [dict(time=f['time'], face=f"face {t['track']}", p_fake=f['p_fake']) for t in pred.tracks for f in t['frames']]
    band = pd.DataFrame([dict(lo=pred.threshold - pred.uncertain_band, hi=pred.threshold + pred.uncertain_band)])
    y = alt.Y('p_fake:Q', title='P(fake)', scale=alt.Scale(domain=[0, 1]))
    lines = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(x=alt.X('time:Q', title='time (s)'), y=y, color='face:N')
    shade = alt.Chart(band).mark_rect(opacity=0.15, color='#f4b400').encode(y='lo:Q', y2='hi:Q')
    return (shade + lines).properties(height=220)


def show_prediction(predictor, pred: Prediction, name):
    st.markdown(result_card_html(pred), unsafe_allow_html=True)
    if pred.tracks:
        st.subheader('Score over time')
        st.altair_chart(timeline_chart(pred), use_container_width=True)
        st.caption(f"Threshold {pred.threshold:.2f}; between {pred.threshold - pred.uncertain_band:.2f} and "
                   f"{pred.threshold + pred.uncertain_band:.2f} the verdict is “Uncertain”.")
        st.subheader('Faces')
        st.image(crops_strip(pred), caption='Sampled faces, framed green (real) to red (fake) by their score',
                 use_container_width=True)
        try:
            from deepfake_detect.explain import explain
            items = explain(predictor, pred, k=4)
            cols = st.columns(len(items))
            for c, it in zip(cols, items):
                c.image(it['overlay'], caption=f"{it['time']:.2f}s · P(fake) {it['p_fake']:.2f}", use_container_width=True)
            st.caption('Heatmaps (Grad-CAM): regions that pushed the score towards “fake”. A hint where to look, not proof.')
        except Exception as e:   # an explanation is optional: never lose the result over it
            st.caption(f'Heatmaps unavailable: {e}')
    with st.expander('Details'):
        st.json(dict(video=pred.video, timings_s={k: round(v, 3) for k, v in pred.timings.items()}, warnings=pred.warnings,
                     model_id=pred.model_id))
    st.download_button('Download JSON report', pred.to_json(indent=1), file_name=f'{Path(name).stem}.deepfake.json',
                       mime='application/json')


def main():
    st.title('deepfake_detect')
    st.write('Upload a face video to check whether the face was manipulated (face swaps, reenactment, lip-sync).')
    try: predictor = get_predictor()
    except CheckpointError as e:
        st.error(f'The model could not be loaded: {e}'); st.stop()
    with st.sidebar:
        st.header('About the model'); model_card(predictor.cfg); limits_note(predictor.cfg)
    up = st.file_uploader(f'Video (.mp4, .avi, .mov, .mkv, .webm; up to {MAX_MB} MB)', type=TYPES)
    if up is None:
        st.info('Your video is processed on this server and not kept.'); return
    if up.size > MAX_MB * 2**20:
        st.error(f'{up.name} is {up.size / 2**20:.0f} MB: the limit is {MAX_MB} MB.'); return
    bar = st.progress(0.0, text='Starting…')
    def on_stage(stage, _):
        text, frac = STAGES[stage]
        bar.progress(frac, text=text)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / Path(up.name).name
        path.write_bytes(up.getbuffer())
        try:
            pred = predictor.predict(path, progress=on_stage)
        except VideoError as e:
            bar.empty(); st.error(f'Could not read {up.name}: {e}'); return
        except Exception as e:   # the app stays up whatever is uploaded
            bar.empty(); st.error(f'Something went wrong while analysing {up.name}: {type(e).__name__}: {e}'); return
    bar.empty()
    pred.path = up.name
    show_prediction(predictor, pred, up.name)


main()
