"""The product tools in scripts/ that no notebook runs: the checks of scripts/train_head.py."""
import copy
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))
spec = importlib.util.spec_from_file_location('train_head', ROOT / 'scripts' / 'train_head.py')
th = importlib.util.module_from_spec(spec)
spec.loader.exec_module(th)

SHIPPED = ROOT / 'deepfake_detect' / 'models' / 'default'


@pytest.mark.skipif(not SHIPPED.with_suffix('.json').exists(), reason='no shipped model')
def test_ship_problems():
    cfg = json.loads(SHIPPED.with_suffix('.json').read_text())
    weights = SHIPPED.with_suffix('.safetensors')
    assert th.ship_problems(cfg, weights, cfg) == []                    # the shipped model may replace itself
    worse = copy.deepcopy(cfg)
    worse['metrics']['auc'] -= 0.01
    worse['metrics']['cross_dataset']['auc'] -= 0.01
    worse['metrics']['verdict_mix']['real']['REAL'] = 0.0
    worse['calibration']['n_fake'] = 10                                   # the videos the verdict was calibrated on
    old = copy.deepcopy(cfg)
    old.pop('calibration'); old['metrics']['n_fake'] = 12                 # a checkpoint from before: all its videos
    assert any('only 12 videos of a class' in p for p in th.ship_problems(old, weights, cfg))
    got = ' | '.join(th.ship_problems(worse, weights, cfg))
    for why in ('out-of-fold AUC', 'cross-dataset AUC', 'no held-out real video gets REAL', 'only 10 videos of a class'):
        assert why in got, (why, got)
    assert th.ship_problems(worse, weights, None) != []                   # no model shipped yet: the rest still count
    unmeasured = copy.deepcopy(cfg)                                        # a run without origins: no cross-dataset
    del unmeasured['metrics']['cross_dataset']
    unmeasured['metrics']['auc'] = float('nan')
    got = th.ship_problems(unmeasured, weights, cfg)
    assert any('cross-dataset AUC n/a' in p for p in got) and any('out-of-fold AUC n/a' in p for p in got), got


def test_whole_file_copies_are_checked(tmp_path):
    np.savez(tmp_path / '0.npz', ship_full=np.ones((4, 3), np.float16), path='/v/copy-a.mp4')
    np.savez(tmp_path / '1.npz', ship_full=np.ones((4, 3), np.float16), path='/v/another.mp4')
    ix, X = pd.DataFrame(dict(row=[0, 1, 2])), {'ship_aug': np.zeros((3, 4, 3), np.float32)}
    got = th.with_whole_file_copies(ix, X, tmp_path, {0: '/v/copy-a.mp4'})['ship_aug'][:, 0, 0]
    assert got.tolist() == [1, 0, 0]                                     # row 1's file is not a copy it asked for
    with pytest.raises(th.InputError, match='another manifest'):
        th.with_whole_file_copies(ix, X, tmp_path, {0: '/v/copy-a.mp4', 1: '/v/copy-b.mp4'})


@pytest.mark.skipif(not SHIPPED.with_suffix('.json').exists(), reason='no shipped model')
def test_reproduction_is_recorded_beside_the_shipped_numbers(tmp_path):
    spec = importlib.util.spec_from_file_location('model_card', ROOT / 'scripts' / 'model_card.py')
    mc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mc)
    cfg = json.loads(SHIPPED.with_suffix('.json').read_text())
    cfg['metrics'].pop('backbone_unseen', None)     # a checkpoint from before amendment 25c: read from its rebuild
    row = lambda c, auc, pair, real, fake: dict(condition=c, n=112, no_face=0, errors=0, auc=auc, auc_ci=[auc - 0.07, auc + 0.07],
                                                pair_win=pair, real_flagged=real, fake_flagged=fake)
    cfg['robustness'] = {r['condition']: r for r in (row('original', 0.8849, 0.92, 0.20, 0.80), row('crf35', 0.7774, 0.81, 0.16, 0.52),
                                                     row('half', 0.7810, 0.83, 0.26, 0.62))}   # fold 0 alone, as before amendment 25
    ck = tmp_path / 'model.json'
    ck.write_text(json.dumps(cfg))
    rerun = copy.deepcopy(cfg)                      # the same recipe, run again elsewhere
    rerun['metrics']['auc'] = 0.8512
    rerun['metrics']['cross_dataset']['auc'] = float('nan')
    rerun['run'].update(wall_s=1500, features_s_per_clip=0.7, machine='Test CPU, 2 cores, bf16 (avx512_bf16)', date='2026-12-01')
    mix = {'real': {'REAL': 0.5, 'FAKE': 0.3, 'UNCERTAIN': 0.2}, 'fake': {'REAL': 0.15, 'FAKE': 0.62, 'UNCERTAIN': 0.23}}
    rerun['metrics']['backbone_unseen'] = dict(n=392, n_seen=165, auc=0.7414, auc_ci=[0.69, 0.80], seen_auc=0.9738,
                                               pair_win=0.91, per_family=[dict(family='reenactment', auc=0.521)],
                                               verdict_mix=mix, cross_dataset=dict(auc=0.7095, auc_ci=[0.61, 0.80]))
    (tmp_path / 'run').mkdir()
    (tmp_path / 'run' / 'model.json').write_text(json.dumps(rerun))
    got = mc.merge_reproduction(ck, tmp_path / 'run')['reproductions'][-1]
    assert (got['auc'], got['machine'], got['wall_s'], got['date']) == (0.8512, 'Test CPU, 2 cores, bf16 (avx512_bf16)', 1500, '2026-12-01')
    assert got['robustness_auc'] is None                                   # robustness.py did not run on it
    (tmp_path / 'run' / 'robustness.json').write_text(json.dumps([{'condition': 'original', 'auc': 0.871}, {'condition': 'crf35', 'auc': 0.7612}]))
    reps = mc.merge_reproduction(ck, tmp_path / 'run')['reproductions']   # the same run again: replaced, not repeated
    assert len(reps) == len(cfg.get('reproductions', [])) + 1 and reps[-1]['robustness_auc'] == {'original': 0.871, 'crf35': 0.7612}
    text = mc.card(json.loads(ck.read_text()))
    assert 'Rebuilt** with the same command on 2026-12-01 (Test CPU' in text and '25 min' in text
    assert f"(shipped {cfg['metrics']['auc']:.3f})" in text and 'cross-dataset AUC n/a' in text
    assert f"crf35 0.761 (shipped {cfg['robustness']['crf35']['auc']:.3f})" in text
    assert 'shipped' not in str(cfg['metrics'].get('backbone_unseen'))   # the shipped run predates it: read from the rebuild
    assert ('itself fine-tuned on 165 of these 557 videos' in text and 'On the 392 others (measured on the rebuild of '
            '2026-12-01 on Test CPU, 2 cores, bf16 (avx512_bf16), with the same command: its heads and calibration, under '
            'Results): out-of-fold AUC 0.74 [0.69, 0.80] (on the 165: 0.974)' in text)
    assert 'reenactment 0.52' in text and 'Cross-dataset on them: AUC 0.71 [0.61, 0.80]' in text and 'Likely real 50%' in text
    other = copy.deepcopy(rerun)
    other['recipe']['seed'] = 1                     # another recipe is not a reproduction
    (tmp_path / 'run' / 'model.json').write_text(json.dumps(other))
    with pytest.raises(SystemExit, match='not a run of'):
        mc.merge_reproduction(ck, tmp_path / 'run')
    rerun['run']['machine'] = 'Test CPU, 2 cores, no native bf16 (fp32)'   # a CPU without bf16: the card says so
    (tmp_path / 'run' / 'model.json').write_text(json.dumps(rerun))
    mc.merge_reproduction(ck, tmp_path / 'run', note='Its folds changed.')
    text = mc.card(json.loads(ck.read_text()))
    assert 'features were computed in fp32' in text and 'Its folds changed.' in text
    (tmp_path / 'run' / 'robustness.json').write_text(json.dumps(   # robustness.py --folds: every fold's files, pooled
        [dict(condition='crf35', auc=0.8123, auc_ci=[0.78, 0.85], folds=[0, 1, 2, 3, 4], backbone_unseen_auc=0.6553)]))
    mc.merge_reproduction(ck, tmp_path / 'run')
    text = mc.card(json.loads(ck.read_text()))
    assert (f"its 5 fold models, each on its own fold's files, pooled (scripts/robustness.py): crf35 0.812 [0.78, 0.85] "
            f"(shipped, fold 0: {cfg['robustness']['crf35']['auc']:.3f}); on the videos the backbone never saw: crf35 0.655") in text
    rows = [dict(cfg['robustness'][c], folds=[0, 1, 2, 3, 4]) for c in cfg['robustness']]
    text = mc.card(mc.merge_robustness(ck, rows))                      # the checkpoint's own block, pooled over folds
    assert "Every fold's videos (112), each scored by the heads trained without its fold" in text and ' --folds --conditions ' in text
    assert f"crf35 0.812 [0.78, 0.85] (shipped {cfg['robustness']['crf35']['auc']:.3f})" in text   # the same videos now


def test_judge_applies_each_amendments_rule(capsys):
    "A screen's candidates against its control, by chapter 06's `screen_verdict`, with a stricter rule where one was fixed."
    fams = lambda *a: [dict(family=f, auc=v) for f, v in zip(('lip-sync', 'reenactment'), a)]
    mix = {'real': {'REAL': 0.74, 'UNCERTAIN': 0.07}, 'fake': {'FAKE': 0.74, 'UNCERTAIN': 0.09}}
    row = lambda auc, xd, lofo_mean, *lofo: dict(auc=auc, pair_win=0.9, lofo=fams(*lofo), lofo_mean=lofo_mean,
                                                 cross_dataset_auc=xd, verdict_mix=mix)
    res = dict(ens=row(0.857, 0.8194, 0.8132, 0.78, 0.70), a=row(0.867, 0.8292, 0.8201, 0.79, 0.70),
               b=row(0.867, 0.8292, 0.8201, 0.79, 0.60), recut_zeros=0)
    out = th.judge(res)
    assert out['a'] == (False, [out['a'][1][0]]) and out['a'][1][0].startswith('gain: cross-dataset +0.0098')
    assert out['b'][1][-1] == 'reenactment left out -0.100' and 'recut_zeros' not in out
    assert th.judge(res, rules={'a': dict(xd_gain=0.005)})['a'] == (True, [])
    assert 'a: taken' in capsys.readouterr().out
    assert th.judge({'probe': res['a']}) == {} and 'nothing judged' in capsys.readouterr().out   # descriptive: no control


def test_training_fingerprints_are_recorded_only_for_the_clips_counted(tmp_path):
    "scripts/record_training_clips.py adds each training clip's fingerprint, and refuses clips the checkpoint did not count."
    rc = importlib.util.module_from_spec(spec2 := importlib.util.spec_from_file_location('rc', ROOT / 'scripts' / 'record_training_clips.py'))
    spec2.loader.exec_module(rc)
    paths = []
    for k in range(3):
        (p := tmp_path / f'c{k}.mp4').write_bytes(bytes([k]) * 1000)
        paths.append(str(p))
    ix = pd.DataFrame(dict(path=paths, label=['real', 'fake', 'fake'], method=['original', 'swap', 'swap'],
                           family=['real', 'face swap', 'face swap'], codec=['h264'] * 3))
    cfg = dict(model_id='m', training_data={k: v for k, v in th.training_counts(ix).items() if k != 'fingerprints'})
    new = rc.with_fingerprints(cfg, ix)
    assert len(new['training_data']['fingerprints']) == 3 and 'fingerprints' not in cfg['training_data']
    with pytest.raises(ValueError, match='do not match'):
        rc.with_fingerprints(cfg, ix.iloc[:2])                            # one clip fewer than the checkpoint counts


@pytest.mark.skipif(not SHIPPED.with_suffix('.json').exists(), reason='no shipped model')
def test_shipped_model_lists_every_training_clip():
    td = json.loads(SHIPPED.with_suffix('.json').read_text())['training_data']
    # every clip counted is listed (two pairs of the shared clips are byte-identical copies: one fingerprint each)
    assert len(td["fingerprints"]) == len(set(td["fingerprints"])) >= sum(td["train"].values()) - 2


@pytest.mark.skipif(not SHIPPED.with_suffix('.json').exists(), reason='no shipped model')
def test_robustness_pools_every_fold_with_its_own_model(tmp_path):
    "robustness.py --folds: each fold's videos scored by RUN/fold{k}, pooled; a missing fold model is named, not guessed."
    import shutil, subprocess
    from deepfake_detect.fixtures import face_scene, write_h264
    run, rows = tmp_path / 'run', []
    run.mkdir()
    for i, label in enumerate(['real', 'fake', 'real', 'fake']):   # the same face each time: the pooling is tested, not the model
        path = tmp_path / f'{i}.mp4'
        write_h264(path, face_scene(n_frames=24, width=320, height=180))
        rows.append(dict(path=str(path), label=label, method='test', family='face swap' if label == 'fake' else 'real',
                         fold=i // 2, split='valid' if i < 2 else 'train', status='ok', group=f'g{i}', split_group=f'g{i}'))
    rows.append(dict(rows[-1], path=str(tmp_path / 'moved.mp4'), group='g4', split_group='g4'))   # a video moved since
    pd.DataFrame(rows).to_csv(run / 'index.csv', index=False)
    cmd = [sys.executable, str(ROOT / 'scripts' / 'robustness.py'), '--run', str(run), '--folds', '--conditions', 'original',
           'half', '--boot', '40', '--out', str(run / 'results' / 'robustness.json')]   # a folder not made yet
    shutil.copy(SHIPPED.with_suffix('.json'), run / 'fold0.json')
    shutil.copy(SHIPPED.with_suffix('.safetensors'), run / 'fold0.safetensors')
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode != 0 and 'fold1' in r.stderr and 'missing' in r.stderr     # fold 1 has no model yet
    for ext in ('.json', '.safetensors'): shutil.copy(SHIPPED.with_suffix(ext), run / f'fold1{ext}')
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    original, half = json.loads((run / 'results' / 'robustness.json').read_text())
    assert (original['condition'], original['n'], original['folds']) == ('original', 5, [0, 1]) and len(original['models']) == 2
    assert original['auc'] == original['auc'] and original['errors'] == half['errors'] == 1   # the moved video: its error
    scores = pd.read_csv(run / 'results' / 'robustness.scores.csv')
    assert scores.fold.tolist() == [0, 0, 1, 1, 1] and scores['original'].notna().tolist() == [True] * 4 + [False]
    # at half of 320 x 180 the faces are too small to find: a row without AUC, not a crash
    assert half['no_face'] == 4 - scores['half'].notna().sum() and (half['auc'] == half['auc']) == (half['no_face'] == 0)


def test_robustness_refuses_what_it_cannot_use_before_scoring(tmp_path):
    "A run folder without a run's index.csv, too few resamples or an unwritable --out: one line each, before any video."
    import subprocess
    (tmp_path / 'notes.txt').write_text('x')
    (tmp_path / 'other').mkdir(); (tmp_path / 'other' / 'index.csv').write_text('clip,label\na.mp4,real\n')
    base = [sys.executable, str(ROOT / 'scripts' / 'robustness.py')]
    for args, says in [(['--run', str(tmp_path)], 'no readable index.csv'),
                       (['--run', str(tmp_path / 'other')], 'no column path, status, split'),
                       (['--run', str(tmp_path / 'other'), '--boot', '-5'], 'at least 40 resamples'),
                       (['--run', str(tmp_path / 'other'), '--out', str(tmp_path / 'notes.txt' / 'r.json')], 'is not a folder')]:
        r = subprocess.run(base + args, capture_output=True, text=True)
        assert r.returncode == 2 and says in r.stderr and 'Traceback' not in r.stderr, (args, r.stderr)


def test_cross_dataset_rows_point_back_at_the_run_index():
    ix = pd.DataFrame(dict(path=['a', 'b', 'c'], fold=[0, 1, 2], label=['real', 'fake', 'real']), index=[10, 11, 12])
    ixs, at = th.cross_dataset_rows(ix, pd.DataFrame(dict(path=['c', 'a'], fold=[4, 3])))
    assert ixs.path.tolist() == ['a', 'c'] and ixs.fold.tolist() == [3, 4]       # the cross-dataset folds, ix's order
    assert at.tolist() == [0, 2] and ix.path.values[at].tolist() == ixs.path.tolist()


def test_backbone_unseen_only_for_the_manifest_the_backbone_was_trained_from(tmp_path):
    "Another manifest than the shared one cannot say which clips the backbone saw: no numbers rather than wrong ones."
    mf = tmp_path / 'manifest.csv'
    pd.DataFrame({'clip': [f'c{i}.mp4' for i in range(8)], 'label': ['real', 'fake'] * 4}).to_csv(mf, index=False)
    ix = pd.DataFrame(dict(path=[str(tmp_path / f'c{i}.mp4') for i in range(8)], label=['real', 'fake'] * 4))
    assert th.backbone_unseen(mf, ix, np.zeros(8), dict(temperature=1.0, threshold=0.5, uncertain_band=0.1)) is None


def test_robustness_reports_the_backbone_unseen_videos_by_their_original_paths():
    spec = importlib.util.spec_from_file_location('robustness', ROOT / 'scripts' / 'robustness.py')
    rb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rb)
    paths = pd.Series(['/d/a.mp4', '/d/b.mp4', '/d/c.mp4', '/d/e.mp4'])            # the run's files
    scored = pd.DataFrame(dict(path=['/tmp/0.mp4', '/tmp/1.mp4', '/tmp/2.mp4', '/tmp/3.mp4'],   # their transcoded copies
                               label=['real', 'fake', 'real', 'fake'], logit=[0.9, 0.1, 0.2, 0.8], error=''))
    assert rb.unseen_auc(scored, paths, {'/d/a.mp4'}) == 0.5                        # a real the backbone saw is left out
    assert rb.unseen_auc(scored, paths, set()) == 0.25
    assert np.isnan(rb.unseen_auc(scored, paths, {'/d/b.mp4', '/d/e.mp4'}))          # no fake left: no AUC


def test_calibration_rows_and_held_out_verdicts():
    "PLAN.md amendment 27: the verdict calibrated on the backbone-unseen clips, judged fold by fold without its own clips."
    rng = np.random.default_rng(0)
    n = 120
    y = np.arange(n) % 2
    oof = pd.DataFrame(dict(path=[f'v{i}' for i in range(n)], label=np.where(y, 'fake', 'real'), fold=(np.arange(n) // 2) % 4,
                            logit=rng.normal(0, 1, n) + 2 * y))
    seen = {f'v{i}' for i in range(0, n, 3)}
    test_rows = th.calibration_rows('backbone-unseen', oof, seen=seen)
    assert len(test_rows) == n - len(seen) and not test_rows.path.isin(seen).any()
    assert th.calibration_rows('all', oof) is oof
    xd = oof.assign(fold=(np.arange(n) // 3) % 5, logit=oof.logit - 1)        # the same clips on cross-dataset folds
    got = th.calibration_rows('backbone-unseen-crossdataset', oof, xd, seen)
    assert got.path.tolist() == test_rows.path.tolist() and (got.logit.values == test_rows.logit.values - 1).all()
    with pytest.raises(ValueError): th.calibration_rows('backbone-unseen-crossdataset', oof, None, seen)
    with pytest.raises(ValueError): th.calibration_rows('everything', oof)
    r = th.held_out_verdicts(oof, oof)
    for k in ('real', 'fake'): assert abs(sum(r['verdict_mix'][k].values()) - 1) < 1e-9
    assert r['m'] > 0.5 and r['log_loss'] < np.log(2)                                # separable scores, labelled out of sample
    with pytest.raises(ValueError):   # fold 0's own clips are never in its calibration: nothing is left to fit it on
        th.held_out_verdicts(oof, oof[oof.fold == 0])
    unseen0 = test_rows[test_rows.fold == 0]   # judged: fold 0's unseen clips; fitted: all of fold 0, seen ones too
    with pytest.warns(Warning, match='too little evidence'):   # alone, the seen clips of the fold would stay in
        th.held_out_verdicts(unseen0, oof[oof.fold == 0])
    with pytest.raises(ValueError):   # given the whole protocol, every clip of the fold is left out, tested or not
        th.held_out_verdicts(unseen0, oof[oof.fold == 0], oof)


def test_fit_calibration_falls_back_to_every_clip_off_the_shared_manifest(tmp_path, capsys):
    mf = tmp_path / 'manifest.csv'
    pd.DataFrame({'clip': [f'c{i}.mp4' for i in range(40)], 'label': ['real', 'fake'] * 20}).to_csv(mf, index=False)
    oof = pd.DataFrame(dict(path=[f'c{i}' for i in range(40)], label=['real', 'fake'] * 20, fold=np.arange(40) % 5,
                            logit=np.tile([-1.0, 1.0], 20) + np.linspace(-1.5, 1.5, 40)))
    on, cal, rows = th.fit_calibration('backbone-unseen', mf, oof)
    assert on == 'all' and rows is oof and 'not the manifest' in capsys.readouterr().out
    assert set(cal) >= {'temperature', 'threshold', 'uncertain_band'}


def test_demo_stops_on_ctrl_c_without_a_traceback():
    "`make demo` interrupted: one word, exit status 130 (as a shell reports Ctrl-C), no Python traceback."
    import signal, subprocess
    p = subprocess.Popen([sys.executable, str(ROOT / 'scripts' / 'demo.py')], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith('generated')   # the sample is made: the model is loading or running
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 130 and err.strip().endswith('stopped') and 'Traceback' not in err, err
