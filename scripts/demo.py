"""The project's main command until the app lands: make a sample face video and run the pipeline on it."""
import tempfile
from pathlib import Path

from deepfake_detect.faces import extract_face_clips
from deepfake_detect.fixtures import face_scene, write_h264

with tempfile.TemporaryDirectory() as d:
    clip = write_h264(Path(d) / 'sample.mp4', face_scene(120, 1280, 720), fps=30)
    print(f'generated {clip.name}: 4 s of the astronaut photo moving over a background')
    fc = extract_face_clips(clip, n_frames=32)
    print(fc.summary())
    print('timings: ' + ', '.join(f'{k} {v:.2f} s' for k, v in fc.timings.items()))
