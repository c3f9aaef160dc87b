"""`make demo`: make a sample face video and run the whole pipeline on it with the shipped model (no browser)."""
import sys
import tempfile
from pathlib import Path

from deepfake_detect.fixtures import face_scene, write_h264
from deepfake_detect.predict import Predictor


def main():
    with tempfile.TemporaryDirectory() as d:
        clip = write_h264(Path(d) / 'sample.mp4', face_scene(120, 1280, 720), fps=30)
        print(f'generated {clip.name}: 4 s of the astronaut photo moving over a background', flush=True)
        pred = Predictor().warmup().predict(clip)
        print(pred.summary())
        print('timings: ' + ', '.join(f'{k} {v:.2f} s' for k, v in pred.timings.items()))
        print('warnings: ' + ('; '.join(pred.warnings) or 'none'))


if __name__ == '__main__':
    try: main()
    except KeyboardInterrupt:   # Ctrl-C: the sample is deleted with its folder; a traceback would say nothing more
        print('stopped', file=sys.stderr)
        sys.exit(130)
