"""Write docs/model_card.md from a checkpoint's JSON (default: the shipped model), optionally merging in a robustness
table measured by scripts/robustness.py, the cross-fitted verdict mix of the training run's out-of-fold scores, or
the numbers of a rerun of the model's own command (a reproduction), first, so that every measured number in the card
is the checkpoint's own.

    python scripts/model_card.py [--model deepfake_detect/models/default] [--robustness runs/head/robustness.json]
                                 [--oof runs/head/oof.csv] [--reproduction runs/head-rebuilt] [--out docs/model_card.md]
"""
import argparse
import json
import time
from pathlib import Path

from deepfake_detect.evaluate import BAND_ACCURACY, MAX_UNCERTAIN, band_accuracy
from deepfake_detect.model import checkpoint_paths, cpu_summary, format_measure, unmeasured

ROOT = Path(__file__).resolve().parents[1]
VERDICT = dict(REAL='Likely real', FAKE='Likely manipulated', UNCERTAIN="Can't tell")


def lofo_mean(rows):
    "The mean AUC of leave-one-family-out rows [{family, auc, ...}]; None without rows."
    return sum(x['auc'] for x in rows) / len(rows) if rows else None


def ci(v, lohi=None, digits=2):
    "A value with its interval; 'n/a' without a value."
    lo, hi = lohi if lohi else (None, None)
    v_text = format_measure(v, f'.{digits}f')
    return v_text if unmeasured(v) or unmeasured(lo) or unmeasured(hi) else f'{v_text} [{lo:.2f}, {hi:.2f}]'


def update_config(json_path, change):
    "Apply `change(cfg)` to the checkpoint config at `json_path` and write it back; returns the config."
    from deepfake_detect.model import strict_json
    cfg = json.loads(Path(json_path).read_text(encoding='utf-8'))
    change(cfg)
    Path(json_path).write_text(strict_json(cfg, indent=1), encoding='utf-8')   # NaN → null, as save_checkpoint
    return cfg


def merge_robustness(json_path, rows):
    "Store scripts/robustness.py's rows in the checkpoint config as {condition: row}."
    return update_config(json_path, lambda cfg: cfg.update(robustness={r['condition']: r for r in rows}))


def merge_crossfit(json_path, oof_csv):
    """Store the cross-fitted verdict mix (chapter 06's `cross_fit_verdict_mix`) of a training run's out-of-fold
    scores in the checkpoint config, after checking they are this checkpoint's (same AUC), for a checkpoint calibrated
    on every clip's out-of-fold scores (one calibrated otherwise had it recorded by scripts/train_head.py itself)."""
    import pandas as pd
    from deepfake_detect.evaluate import cross_fit_verdict_mix
    from deepfake_detect.train import roc_auc
    oof = pd.read_csv(oof_csv)
    y, z = (oof.label == 'fake').astype(int).values, oof.logit.values

    def change(cfg):
        if (cfg.get('calibration') or {}).get('on', 'all') != 'all':
            raise SystemExit(f"--oof: this checkpoint's verdict is calibrated on {cfg['calibration']['on']}, and its run "
                             "recorded the cross-fitted mix that way; refitting it on every clip would misstate it")
        if abs(roc_auc(y, z) - cfg['metrics']['auc']) > 1e-9:
            raise SystemExit(f"{oof_csv}: its AUC {roc_auc(y, z):.4f} is not the checkpoint's {cfg['metrics']['auc']:.4f}: another run's scores")
        cfg['metrics']['verdict_mix_crossfit'] = cross_fit_verdict_mix(y, z, oof.fold.values)
    return update_config(json_path, change)


def run_backbone_unseen(run, rc):
    """scripts/train_head.py's `backbone_unseen` of a run that predates it, from the run's own out-of-fold and
    cross-dataset scores (RUN/oof.csv, RUN/oof_crossdataset.csv) and calibration (`rc`: RUN/model.json), for the
    shared manifest beside the repository; None when a file is missing or the manifest is not the shared one."""
    import sys
    import pandas as pd
    sys.path.insert(0, str(ROOT / 'scripts'))
    import train_head as th
    run, manifest = Path(run), th.SHARED_MANIFEST
    if not ((run / 'oof.csv').exists() and manifest.exists()): return None
    oof = pd.read_csv(run / 'oof.csv')
    xd = pd.read_csv(run / 'oof_crossdataset.csv') if (run / 'oof_crossdataset.csv').exists() else None
    cal = {k: rc[k] for k in ('temperature', 'threshold', 'uncertain_band')}
    return th.backbone_unseen(manifest, oof, oof.logit.values, cal, xd)


def merge_reproduction(json_path, run, note=None):
    """Record in the checkpoint config what its command gave when run again: RUN/model.json of `scripts/train_head.py`
    with the same model id and recipe, not shipped. Appends {command, date, machine, wall time, features' seconds a
    clip (None: cached), AUC, paired, mean left out, cross-dataset AUC, verdict shares, and the AUC (with its interval,
    and the folds it pooled: None for the fold-0 model alone) of each condition of RUN/robustness.json when
    scripts/robustness.py measured it, and `note`: what else differed, in a
    sentence} to `reproductions`, replacing a record of the same command, date and machine. A run that did not record
    its machine is taken to have run here."""
    rc = json.loads((Path(run) / 'model.json').read_text(encoding='utf-8'))
    m, r = rc['metrics'], rc['run']

    def change(cfg):
        if (rc.get('model_id'), rc.get('recipe')) != (cfg.get('model_id'), cfg.get('recipe')):
            raise SystemExit(f"{run}: not a run of {cfg.get('model_id')}'s recipe")
        rob = Path(run) / 'robustness.json'
        rows = json.loads(rob.read_text(encoding='utf-8')) if rob.exists() else []
        rob = {x['condition']: x['auc'] for x in rows} or None
        rec = dict(
            command=r['command'], date=r.get('date') or time.strftime('%Y-%m-%d', time.gmtime((Path(run) / 'model.json').stat().st_mtime)),
            machine=r.get('machine') or cpu_summary(), wall_s=r.get('wall_s'), features_s_per_clip=r.get('features_s_per_clip'),
            auc=m['auc'], auc_ci=m['auc_ci'], pair_win=m.get('pair_win'), lofo_mean=lofo_mean(m.get('lofo')),
            cross_dataset_auc=(m.get('cross_dataset') or {}).get('auc'), verdict_mix=m.get('verdict_mix'), robustness_auc=rob,
            robustness_ci={x['condition']: x.get('auc_ci') for x in rows} or None,
            robustness_folds=next((x['folds'] for x in rows if x.get('folds')), None),
            robustness_unseen={x['condition']: x['backbone_unseen_auc'] for x in rows if 'backbone_unseen_auc' in x} or None,
            backbone_unseen=m.get('backbone_unseen') or run_backbone_unseen(run, rc), note=note)
        same = lambda x: (x['command'], x['date'], x['machine']) == (rec['command'], rec['date'], rec['machine'])
        cfg['reproductions'] = [x for x in cfg.get('reproductions', []) if not same(x)] + [rec]
    return update_config(json_path, change)


CALIBRATED_ON = {'all': "the out-of-fold scores of every video",
                 'backbone-unseen': "the out-of-fold scores of the videos the backbone never saw",
                 'backbone-unseen-crossdataset': "the cross-dataset scores of the videos the backbone never saw"}
WHY_UNSEEN = ("They are fitted on those videos alone because every video a user uploads is one the backbone never saw; "
              "the videos it was fine-tuned on score far apart and would make the verdict surer than new videos warrant "
              "(research/generalise/PLAN.md, amendment 27). ")


def calibration_mix(m, on):
    "The verdict mix stored for the videos a calibration was fitted on (`calibration.on`), or None."
    bu = m.get('backbone_unseen') or {}
    return {'all': m.get('verdict_mix'), 'backbone-unseen': bu.get('verdict_mix'),
            'backbone-unseen-crossdataset': (bu.get('cross_dataset') or {}).get('verdict_mix')}.get(on)


def band_rule_text(m, cal):
    """How the band was fitted, and what it achieves on the videos it was fitted on (chapter 06's `band_accuracy`):
    the rule's aim is not claimed where the cap stopped the band first."""
    rule = (f"the narrowest band outside which at least {BAND_ACCURACY:.0%} of those videos' verdicts are right, "
            f"holding at most {MAX_UNCERTAIN:.0%} of them")
    mix = calibration_mix(m, cal['on'])
    if not mix: return rule
    acc, inside = band_accuracy(mix, cal['n_real'], cal['n_fake'])
    if acc >= BAND_ACCURACY: return f"{rule}: {acc:.0%} are right outside it, {inside:.0%} of the videos inside"
    return (f"as wide as the cap of {MAX_UNCERTAIN:.0%} of those videos inside allows ({inside:.1%} are); outside it "
            f"{acc:.0%} of their verdicts are right, short of the {BAND_ACCURACY:.0%} the band aims for")


def backbone_unseen_text(cfg):
    """The card's paragraph on the clips the frozen backbone never saw (scripts/train_head.py's `backbone_unseen`),
    from the checkpoint's metrics or else from its latest reproduction that measured them (saying so), or []."""
    bu, where = cfg.get('metrics', {}).get('backbone_unseen'), ''
    if not bu:
        rep = next((r for r in reversed(cfg.get('reproductions') or []) if r.get('backbone_unseen')), None)
        if not rep: return []
        bu, where = rep['backbone_unseen'], (f" (measured on the rebuild of {rep['date']} on {rep['machine']}, with the same "
                                             "command: its heads and calibration, under Results)")
    mix, xd = bu.get('verdict_mix') or {}, bu.get('cross_dataset') or {}
    on = (cfg.get('calibration') or {}).get('on', 'all') if not where else 'all'
    own = " (at the shipped calibration, fitted on these very scores)"
    fams = ', '.join(f"{f['family']} {f['auc']:.2f}" for f in bu.get('per_family', []))
    return [f"**Clips the backbone never saw.** The frozen backbone was itself fine-tuned on {bu['n_seen']} of these "
            f"{bu['n'] + bu['n_seen']} videos (the training groups of the old 255-clip split, rebuilt by chapter 02's "
            "`backbone_training_clips`), so the pooled numbers mix videos whose features it learnt with videos it never "
            f"saw. On the {bu['n']} others{where}: out-of-fold AUC {ci(bu['auc'], bu.get('auc_ci'))} (on the "
            f"{bu['n_seen']}: {format_measure(bu.get('seen_auc'))}), paired win rate {ci(bu.get('pair_win'), bu.get('pair_ci'))}"
            + (f"; by family {fams}" if fams else '')
            + (f"; real videos {shares_text(mix['real'])}, fake videos {shares_text(mix['fake'])}"
               + (own if on == 'backbone-unseen' else '') if mix else '')
            + (f". Cross-dataset on them: AUC {ci(xd['auc'], xd.get('auc_ci'))}"
               + (f", real videos {shares_text(xd['verdict_mix']['real'])}, fake videos {shares_text(xd['verdict_mix']['fake'])}"
                  + (own if on == 'backbone-unseen-crossdataset' else '') if xd.get('verdict_mix') else '') if xd else '')
            + ". These are the nearer estimate of what the model does on videos from elsewhere"
            + (f". Labelled as new videos are (each fold's cross-dataset scores by a temperature, threshold and band fitted "
               f"without that fold's videos): real videos {shares_text(held['real'])}, fake videos {shares_text(held['fake'])}"
               if (held := xd.get('verdict_mix_held_out')) else '') + '.', '']


def reproduction_text(cfg):
    "The card's lines on the reruns of the shipped command (`merge_reproduction`), or []."
    m, reps = cfg.get('metrics', {}), cfg.get('reproductions') or []
    shipped = dict(auc=m.get('auc'), lofo_mean=lofo_mean(m.get('lofo')),
                   cross_dataset_auc=(m.get('cross_dataset') or {}).get('auc'))
    out = []
    for r in reps:
        mix = r.get('verdict_mix') or {}
        out += [f"**Rebuilt** with the same command on {r['date']} ({r['machine']}): "
                + (f"{r['wall_s'] / 60:.0f} min" if not unmeasured(r.get('wall_s')) else 'wall time not recorded')
                + (f", features computed in the run at {r['features_s_per_clip']:.1f} s a clip" if not unmeasured(r.get('features_s_per_clip'))
                   else ', features cached') + '. '
                + f"Out-of-fold AUC {ci(r['auc'], r.get('auc_ci'), 3)} (shipped {format_measure(shipped['auc'])}), paired win rate "
                f"{ci(r.get('pair_win'))}, mean left out {format_measure(r.get('lofo_mean'))} (shipped {format_measure(shipped['lofo_mean'])})"
                + (f", cross-dataset AUC {format_measure(r.get('cross_dataset_auc'))} (shipped {format_measure(shipped['cross_dataset_auc'])})"
                   if m.get('cross_dataset') else '')
                + (f"; real videos {shares_text(mix['real'])}, fake videos {shares_text(mix['fake'])}" if mix else '')
                + robustness_text(r.get('robustness_auc'), cfg.get('robustness'), r.get('robustness_ci'), r.get('robustness_folds'),
                                  r.get('robustness_unseen'))
                + '. ' + why_not_identical(r), '']
    return out


def why_not_identical(rep):
    "Why a reproduction's heads are not bit for bit the shipped ones: its machine's precision, then its own note."
    why = (": this CPU has no native bf16, so its features were computed in fp32, while the shipped heads were fitted "
           "on bf16 features (research/README.md, third session, measures how far the two move a clip's score)."
           if 'no native bf16' in rep.get('machine', '') else   # chapter 04's cpu_summary wording
           ", most likely because features computed under bf16 differ in their last bits between kinds of CPU (each has "
           "its own bf16 kernels; the shipped run's machine was not recorded, and a second rebuild on the same machine "
           "repeated every number: research/README.md).")
    return "The rebuilt heads are not bit for bit the shipped ones" + why + (f" {rep['note'].strip()}" if rep.get('note') else '')


def robustness_text(rebuilt, shipped, cis=None, folds=None, unseen=None):
    """'; its fold-0 model on fold 0's files: original 0.880 (shipped 0.885), ...' for a reproduction, or ''. With
    `folds`, the AUCs pooled over those folds' files, each scored by its own fold's model (`robustness.py --folds`)."""
    if not rebuilt: return ''
    other = block_folds(shipped) != folds   # say so when the shipped block scored other videos
    was = lambda c: (f" (shipped{rob_scope(block_folds(shipped)) + ':' if other else ''} {format_measure(shipped[c].get('auc'))})"
                     if shipped and c in shipped else '')
    val = lambda c, a: ci(a, (cis or {}).get(c), 3) if cis else format_measure(a)
    return (f"; {rob_scope(folds, False)} (scripts/robustness.py): "
            + ', '.join(f"{c} {val(c, a)}{was(c)}" for c, a in rebuilt.items())
            + ("; on the videos the backbone never saw: " + ', '.join(f"{c} {format_measure(a)}" for c, a in unseen.items())
               if unseen else ''))


def block_folds(rob):
    "The folds a robustness block ({condition: row}) pooled (`robustness.py --folds`), or None: fold 0's model alone."
    return next((r.get('folds') for r in (rob or {}).values() if r.get('folds')), None)


def rob_scope(folds, short=True):
    """Which videos a robustness measure scored, given its `folds` (None: fold 0 alone): ', fold 0' / ', all 5 folds'
    (short), or a clause for the card."""
    if short: return f", all {len(folds)} folds" if folds else ', fold 0'
    return (f"its {len(folds)} fold models, each on its own fold's files, pooled" if folds
            else "its fold-0 model on fold 0's files")


def shares_text(shares):
    "'Likely real 74%, Likely manipulated 19%, Can't tell 8%' for one class of a verdict mix."
    return ', '.join(f"{VERDICT[l]} " + format_measure(shares[l], '.0%') for l in ('REAL', 'FAKE', 'UNCERTAIN'))


def table(rows, cols):
    head = '| ' + ' | '.join(c for c, _ in cols) + ' |\n|' + '---|' * len(cols)
    return head + '\n' + '\n'.join('| ' + ' | '.join(f(r) for _, f in cols) + ' |' for r in rows)


def inverted_families(rows):
    """Lines saying, for each family scored *lower* with its fakes in training than left out, what the intervals
    make of it (a reader would otherwise take the two columns for a mistake)."""
    out = []
    for r in rows:
        lo = r.get('lofo')
        if not lo or unmeasured(r['auc']) or unmeasured(lo['auc']) or r['auc'] >= lo['auc']: continue
        (_, hi), (lo_lo, _) = r.get('auc_ci') or (None, None), lo.get('auc_ci') or (None, None)
        if unmeasured(hi) or unmeasured(lo_lo): continue   # no intervals to read the gap with
        overlap = hi >= lo_lo
        out.append(f"{r['family'].capitalize()} scores lower with its fakes in training ({r['auc']:.2f}) than left out "
                   f"({lo['auc']:.2f}), on {r['n_fake']} held-out fakes: "
                   + ("the intervals overlap, so the gap is within the noise of so few videos; what it does show is "
                      "that these heads gain little from seeing the family's fakes." if overlap else
                      "the intervals do not overlap: the family's fakes in training mislead the heads."))
    return out + [''] if out else []


def worst_condition(rob):
    "The sentence on the robustness condition that cost most, with both AUCs to three places (so it adds up)."
    if 'original' not in rob: return ''
    worst = min(rob.values(), key=lambda r: r['auc'])
    a, b = rob['original']['auc'], worst['auc']
    return f"The worst condition, {worst['condition']}, cost {a - b:.3f} AUC ({a:.3f} → {b:.3f}):"


def cross_dataset_text(xd):
    "The paragraph on the cross-dataset folds (train_head's `metrics.cross_dataset`), or nothing."
    if not xd: return []
    return [f"**Cross-dataset** (chapter 02's `cross_dataset_folds` over the clips' {xd['n_sources']} origins): AUC "
            f"{ci(xd['auc'], xd['auc_ci'])}, paired win rate {ci(xd['pair_win'], xd.get('pair_ci'))}; by family "
            + ', '.join(f"{r['family']} {ci(r['auc'])}" for r in xd['per_family']) + '. Origins here can still share '
            "upstream footage or encoders, so sources from elsewhere may differ more.", '']


def card(cfg):
    from deepfake_detect.predict import SMALL_FACE_PX   # the app's small-face warning, quoted in the limits
    m, td = cfg.get('metrics', {}), cfg.get('training_data', {})
    n = lambda label: sum(v for k, v in td.get('train', {}).items() if k.startswith(label + '/'))
    lofo = {r['family']: r for r in m.get('lofo', [])}
    fam_rows = [dict(r, lofo=lofo.get(r['family'])) for r in m.get('per_family', [])]
    mix = m.get('verdict_mix', {})
    out = [f"# Model card: `{cfg.get('model_id')}`", '',
           '*Generated by `scripts/model_card.py` from the checkpoint\'s JSON: every measurement of this model below is stored '
           'there; findings of other runs quoted beside them name research/README.md, where their commands are.*', '',
           '## What it is', '',
           f"`deepfake_detect/models/default.safetensors` + `.json` (fp16). {cfg['backbone']} features of each face crop "
           f"({cfg['input_size']} px, {cfg['n_frames']} frames sampled evenly in time) → {cfg['layers']}-layer LSTM (hidden {cfg['hidden']})"
           + (" and, beside it, a pooled expert (a logistic regression on the mean and spread of the features over time), "
              "their logits mixed with weights fixed by the spread of each one's held-out logits" if cfg.get('pooled') else '')
           + " → one logit per face track, calibrated by a temperature; the video takes its most suspicious face. A linear "
           "frame head scores single frames (the timeline) and photos.",
           '',
           f"**Recipe** `shipped` (`{cfg.get('run', {}).get('command', '?')}`): the backbone is the earlier shipped model's "
           "(EfficientNet-Lite0 fine-tuned on whole-face and lower-face self-blended pseudo-fakes and the genuine fakes "
           "of the earlier 255-clip split: research/README.md), "
           f"frozen; the clip head (`{cfg.get('recipe', {}).get('head', '?')}`) and the frame head are trained on "
           f"{n('real')} real and {n('fake')} fake videos of the shared data"
           + (", each also once as a degraded copy (its face crops encoded as one H.264 clip at CRF 23–40, half of the "
              "clips shrunk to half size first: a crop-level stand-in for re-encoded files)"
              if cfg.get('recipe', {}).get('degraded_copies') else '')
           + (", on features computed in bf16 exactly as the `Predictor` computes them (a CPU without bf16 support runs "
              "them in fp32, which moves a clip's logit by 0.06 at the median: research/README.md)" if cfg.get('autocast', True) else '')
           + ". Fake families in training: " + ', '.join(f'{k} {v}' for k, v in td.get('families', {}).items()) + '.'
           + (f" Wall time of this run ({cfg['run'].get('machine') or '2 CPU cores'}): {cfg['run']['wall_s'] / 60:.0f} min"
              + (f", of which {cfg['run']['features_s_per_clip']:.1f} s a clip computing frozen features"
                 if cfg['run'].get('features_s_per_clip') else
                 " (every clip's frozen features were cached by an earlier run)")
              + "; the faces of every clip are cached first, by chapter 02's `preprocess` (the script's first step)."
              if cfg.get('run', {}).get('wall_s') else '')
           + (f" The checkpoint lists the fingerprints of its training clips (chapter 02's `video_fingerprint`: size "
              f"and first and last 64 kB; {len(td['fingerprints'])} distinct files"
              + (f", as {sum(td['train'].values()) - len(td['fingerprints'])} of the {sum(td['train'].values())} clips "
                 "are byte-identical copies of others" if len(td['fingerprints']) < sum(td['train'].values()) else '')
              + "): the `Predictor` notes when a file is one of them, "
              "and `deepfake-detect evaluate` counts them, since on them its numbers measure memory (a re-encoded "
              "copy is not recognised)." if td.get('fingerprints') else ''), '',
           '## How it was judged', '',
           "Every number comes from videos the scoring head never saw: 5 folds over person/scene groups (a fake and the "
           "real video it was made from are always in the same fold), each video scored by the head trained on the other "
           "four (out-of-fold). **Leave-one-family-out**: for each generator family with at least 15 clips, the head is "
           "trained without any fake of that family and scored on that family's fakes against the held-out reals: the "
           "best stand-in here for a generator the model will meet after release."
           + (" **Cross-dataset**: the same heads trained on 5 folds cut by origin (the repository or dataset a clip "
              "comes from, joined with people and pairs) instead, so each video is scored by heads that saw nothing "
              "from its origin: the best stand-in here for videos from elsewhere." if m.get('cross_dataset') else '')
           + " Intervals are 95 % group-bootstrap.",
           '',
           "**Caveat.** The frozen backbone was fine-tuned on DeepFaceLive, SadTalker, AniPortrait, ghost, insightface "
           "and Wav2Lip fakes of the old split; those families are therefore not fully unseen in the leave-one-family-out "
           "rows for face swap, talking head and lip-sync." + (" The `ImageNet` comparison row uses a backbone that "
           "never saw a fake." if 'lr-img' in m.get('compared', {}) else ''), ''] + backbone_unseen_text(cfg) + [
           '## Results', '',
           f"Out-of-fold over {m.get('n', '?')} videos ({m.get('n_real', '?')} real, {m.get('n_fake', '?')} fake): "
           f"**AUC {ci(m.get('auc'), m.get('auc_ci'))}**, paired win rate (a fake scored above the real video it was made "
           f"from) {ci(m.get('pair_win'), m.get('pair_ci'))}.", '',
           table(fam_rows, [('family', lambda r: r['family']), ('held-out fakes', lambda r: str(r['n_fake'])),
                            ('AUC, trained with the family', lambda r: ci(r['auc'], r['auc_ci'])),
                            ('AUC, family left out', lambda r: ci(r['lofo']['auc'], r['lofo']['auc_ci']) if r['lofo'] else '—')]),
           ''] + inverted_families(fam_rows) + cross_dataset_text(m.get('cross_dataset'))
    comp = m.get('compared', {})
    if comp:
        rec = cfg.get('recipe', {})
        rows = [dict(name=rec.get('head', 'shipped') + ('+augment' if rec.get('degraded_copies') else '') + ' (shipped)',
                     auc=m['auc'], auc_ci=m['auc_ci'], pair=m['pair_win'], lofo=m.get('lofo', []),
                     features=m.get('features', []), degraded=m.get('degraded_auc'))]
        rows += [dict(name=k, auc=v['auc'], auc_ci=v['auc_ci'], pair=v['pair_win'], lofo=v['lofo'], features=v['features'],
                      degraded=v.get('degraded_auc')) for k, v in comp.items()]
        fams = [r['family'] for r in m.get('lofo', [])]
        deg = [('degraded copies', lambda r: ci(r['degraded']))] if any(not unmeasured(r['degraded']) for r in rows) else []
        d3 = lambda r: ci(r['auc'], r['auc_ci'], 3)   # three places: the heads are close
        out += ['Side by side, same folds (`probe`: logistic regression on the mean and spread of 16 frames of the same '
                'frozen features, the floor to beat, measured as it was first measured; the shipped heads read '
                f"{cfg.get('n_frames', 32)} frames"
                + ("; `lr-img`: the same on ImageNet features, no fake ever seen" if 'lr-img' in comp else '')
                + ("; *degraded copies*: AUC of the same out-of-fold heads on the held-out clips' degraded copies, a proxy "
                   "for compression; n/a where the run did not measure it" if deg else '') + '):', '',
                table(rows, [('head', lambda r: r['name']), ('features', lambda r: ', '.join(r['features'])),
                             ('AUC', d3), ('paired', lambda r: ci(r['pair']))] + deg
                      + [(f'left out: {f}', (lambda f: lambda r: ci(next((x['auc'] for x in r['lofo'] if x['family'] == f), None)))(f))
                         for f in fams]
                      + [('mean left out', lambda r: ci(lofo_mean(r['lofo']), digits=3) if r['lofo'] else '—')]), '']
    out += reproduction_text(cfg)
    if mix:
        cal = cfg.get('calibration') or dict(on='all', n_real=m['n'] - m['n_fake'], n_fake=m['n_fake'])
        out += ['## Verdicts', '',
                f"Threshold {cfg['threshold']:.2f} (equal error rate of {CALIBRATED_ON[cal['on']]}: "
                f"{cal['n_real']} real and {cal['n_fake']} fake videos), *{VERDICT['UNCERTAIN']}* "
                f"within ±{cfg['uncertain_band']:.3g} of it ({band_rule_text(m, cal)}), temperature {cfg['temperature']:.2f}. "
                "P(fake) is calibrated on those videos, "
                f"{cal['n_fake'] / (cal['n_real'] + cal['n_fake']):.0%} of them fake: where fakes are rarer, the same score means a lower chance. "
                + (WHY_UNSEEN if cal['on'] != 'all' else '')
                + "On all the out-of-fold videos (shares rounded, so a row may add up to 99 or 101 %):", '',
                table([dict(k=k, **v) for k, v in mix.items()], [('videos', lambda r: r['k'])] +
                      [(VERDICT[l], (lambda l: lambda r: f"{r[l]:.0%}")(l)) for l in ('REAL', 'FAKE', 'UNCERTAIN')]), '']
        cx = m.get('verdict_mix_crossfit')
        if cx:
            fitted_on = ('these scores' if cal['on'] == 'all' else
                         f"{CALIBRATED_ON[cal['on']]}, {cal['n_real'] + cal['n_fake']} of these videos")
            out += [f"Threshold and band were fitted on {fitted_on}, which could flatter the mix; cross-fitted "
                    "(each fold's videos labelled by a temperature, threshold and band fitted as above on the other four "
                    f"folds' videos): real videos {shares_text(cx['real'])}; fake videos "
                    f"{shares_text(cx['fake'])}.", '']
        xd = m.get('cross_dataset')
        if xd:
            out += [f"On the cross-dataset scores (sources never seen in training), at the same threshold and band: real "
                    f"videos {shares_text(xd['verdict_mix']['real'])}; fake videos {shares_text(xd['verdict_mix']['fake'])}.", '']
        ph = m.get('photo')
        if ph:
            out += [f"Photos are scored by the frame head, with their own calibration (every held-out frame taken as a "
                    f"photo: frame AUC {ph['frame_auc']:.2f}; threshold {cfg.get('frame_threshold', float('nan')):.2f}, "
                    f"band ±{cfg.get('frame_uncertain_band', float('nan')):.3g}): real frames "
                    f"{shares_text(ph['verdict_mix']['real'])}; fake frames {shares_text(ph['verdict_mix']['fake'])}.", '']
    rob, run = cfg.get('robustness'), cfg.get('run', {}).get('out', 'runs/head')
    if rob:
        pooled, n_rob = block_folds(rob) is not None, next(iter(rob.values())).get('n', '?')
        out += ['## Robustness', '',
                (f"Every fold's videos ({n_rob}), each scored by the heads trained without its fold (the scores pooled, as "
                 "out-of-fold ones are), " if pooled else f"Fold 0's {n_rob} videos (a head trained without them; one fold's "
                 "gap depends on which files it holds, as the rebuilds under Results show), ")
                + 're-encoded and scored from the files by the `Predictor` '
                f"(`python scripts/robustness.py --run {run} {'--folds' if pooled else f'--model {run}/fold0'} --conditions {' '.join(rob)} --out "
                f"{run}/robustness.json`, then `python scripts/model_card.py --robustness {run}/robustness.json`; "
                "*flagged*: P(fake) at or above the threshold, the *Can't tell* band ignored; a video in which no face is "
                "found has no score and is left out of that row). "
                + worst_condition(rob), '',
                table(list(rob.values()), [('condition', lambda r: r['condition']), ('AUC', lambda r: ci(r['auc'], r['auc_ci'])),
                                           ('paired', lambda r: ci(r['pair_win'])), ('real flagged', lambda r: f"{r['real_flagged']:.0%}"),
                                           ('fakes flagged', lambda r: f"{r['fake_flagged']:.0%}")]
                      + ([('no face found', lambda r: str(r.get('no_face', 0)))] if any(r.get('no_face') for r in rob.values()) else [])), '']
    out += ['## Limits', '',
            '- A few hundred public clips, most of them short and of one person: a held-back benchmark of unseen sources '
            'will score it lower than the group-held-out tables'
            + (' (the numbers on the clips the backbone never saw are the nearer estimate)' if backbone_unseen_text(cfg)
               else ' (the cross-dataset numbers are the nearer estimate)' if m.get('cross_dataset') else '')
            + ', and some generators (diffusion talking heads, new swaps) it has never seen.',
            '- Every training clip is H.264 (CRF 23, at most 480 px on the short side) without sound'
            + (': the heads also learnt from degraded copies of them' if cfg.get('training_data', {}).get('degraded_copies')
               else ': the heads saw no other encoding (only the backbone\'s fine-tuning added JPEG compression and '
                    'down-scaling)')
            + '; the audio track is never read, so a lip-sync fake is judged on its pixels alone.',
            '- The backbone is frozen: the head can only reweigh what self-blends and the old genuine fakes taught it. '
            'Tried and not taken, each '
            'against a rule written before its run (research/generalise/PLAN.md, numbers in research/README.md): '
            'motion statistics of the frame features, the backbone\'s earlier layers, and training on re-encoded copies '
            '(of the face crops: better at CRF 35, worse at half size; of whole files: smaller drops, but lower AUC on '
            'the original files and fewer real videos called real). Fine-tuning the backbone\'s last stages on the CPU '
            '(screened on two folds) helped on re-encoded copies when it learned from genuine fakes, but lowered the '
            'left-out families (reenactment most); on self-blends alone it changed little, and self-blends that went '
            'through compression (H.264 at random CRF and size, in both classes) did not make it more robust. Tuning '
            'every layer on self-blends, on the CPU, sharpened face swaps and talking heads and lost more of lip-sync and '
            'reenactment, the manipulations that leave no blend boundary. A hand-made cue (the sharpness of the mouth '
            'against the eyes) lifted left-out lip-sync and cost left-out talking heads as much: a cue made for one '
            'family. Identity consistency from a face-recognition model (the inner face against its context, and over time) '
            'found the fakes here *steadier* than the reals and learned that a still face is generated: it lifted '
            'left-out talking heads and avatars and cost left-out face swaps. Projecting out the feature directions that '
            'tell real sources apart helped the pooled expert on unseen sources but not the ensemble. Nor did reading '
            'the heads differently: the LSTM over several seeds or on its training windows, the maximum over time, the '
            'change of the features between adjacent frames (a generator\'s flicker), mirrored faces in training or at '
            'test time, or a ranking term on each fake and its own source clip; the closest to its rule, the ranking term with '
            'test-time mirroring, moved out-of-fold, left-out and unseen-origin AUC by +0.0096, +0.0069 and +0.0098 '
            '(inside the intervals; research/README.md). Nor did up-sampling traces of the face at its native resolution. '
            'Read on the clips the backbone never saw, nor did: heads trained without the backbone\'s own clips (they '
            'still teach what a swap looks like), tuning every layer on the self-blends of twice as many real clips, the face\'s '
            'landmark geometry over time (trained without lip-sync, it learned that a moving mouth is real), self-blends '
            'in the heads, experts on ImageNet backbones (Lite0 and Lite2: they see the avatars and little else), and the '
            'face in a crop twice as wide (small gains on three of its rule\'s four readouts, short of the margin it needed), and the lower face as a third expert (at the file\'s own resolution: +0.035 out of fold and +0.031 across sources, 0.001 short of the left-out margin, and on avatars and talking heads rather than the lip-sync it was meant for). What remains untried is a full '
            'fine-tune with a cue made for lip-sync and reenactment (motion, or the mouth against the audio where clips '
            'have sound), which needs more than self-blends, and a GPU.',
            '- Fakes with lively head motion are caught less often than still ones, and real videos are not (the verdicts '
            'by head-motion tercile, measured at an earlier model\'s calibration, research/README.md; for this one: `python '
            'research/generalise/identity.py --index runs/shared_index.csv --features runs/features-reenc --out runs/identity '
            f"--motion-report {run}/oof.csv`, after the same command without `--motion-report`): a talking-head generator that "
            'moves the head freely is harder for it than these still avatars.',
            f'- Scores degrade with heavy compression and small faces (the app warns about faces under {SMALL_FACE_PX} px and unknown codecs).',
            '- “Likely real” is not a guarantee. Use it as one signal among others, never as proof.', '']
    return '\n'.join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default=str(ROOT / 'deepfake_detect' / 'models' / 'default'))
    ap.add_argument('--robustness', default=None, help="scripts/robustness.py's --out JSON, merged into the checkpoint")
    ap.add_argument('--oof', default=None, help="the training run's oof.csv: its cross-fitted verdict mix, merged in")
    ap.add_argument('--reproduction', default=None, help="a rerun of the model's own command (scripts/train_head.py's "
                    "OUT folder, not shipped): its numbers and machine, recorded beside the shipped ones")
    ap.add_argument('--note', default=None, help="with --reproduction: what else differed from the shipped run, in a "
                    "sentence for the card (e.g. a change of the protocol since)")
    ap.add_argument('--out', default=str(ROOT / 'docs' / 'model_card.md'))
    a = ap.parse_args()
    if a.note and not a.reproduction: ap.error('--note describes a --reproduction')
    js = checkpoint_paths(a.model)[1]
    if a.robustness: merge_robustness(js, json.loads(Path(a.robustness).read_text(encoding='utf-8')))
    if a.oof: merge_crossfit(js, a.oof)
    if a.reproduction: merge_reproduction(js, a.reproduction, a.note)
    cfg = json.loads(js.read_text(encoding='utf-8'))
    Path(a.out).write_text(card(cfg), encoding='utf-8')
    print('wrote', a.out)


if __name__ == '__main__':
    main()
