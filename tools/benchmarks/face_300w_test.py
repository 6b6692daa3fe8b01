"""Reproduce the README's results table from the shipped files, on the
300-W common subset (HELEN test 330 + LFPW test 224 faces) and each part,
with the ground-truth tight landmark box as every method's face box.

Each shipped model is one row: its test config and checkpoint, run exactly
as ``python tools/test.py CONFIG CHECKPOINT`` runs them (FaceNMEMetric
prints the figures). dlib's 68-point predictor (when installed: ``pip
install -e .[dlib]``) gets the same boxes. Writes FaceNMEMetric's
per-image files and one CED plot of the common set.

    python tools/benchmarks/face_300w_test.py --out-dir work_dirs/face_300w_test
    python tools/benchmarks/face_300w_test.py --num-faces 20 --no-flip  # quick look

The detector rows (each tool with its own face detector) come from
``tools/benchmarks/in_the_wild.py``.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np

from rht_mmpose.evaluation import face_nme, nme_summary
from rht_mmpose.evaluation.dlib_baseline import (dlib_landmarks,
                                                 load_dlib_predictor)
from rht_mmpose.utils.io import (atomic_write_json, atomic_write_text,
                                 read_face_points)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TEST_FOLDERS = ('helen/testset', 'lfpw/testset')
PARTS = ('helen', 'lfpw')
# (row, test config, checkpoint): the shipped models
SHIPPED = [
    ('RHT-MNv2 + match (bundled default)', 'configs/rht_mnv2_300w.py',
     'checkpoints/rht_mnv2_300w.pth'),
    ('Trans-MNv2 (baseline)', 'configs/trans_mnv2_300w.py',
     'checkpoints/trans_mnv2_300w.pth'),
    ('RHT-R-S + match (from scratch)', 'configs/rht_res18_s_match_300w.py',
     'checkpoints/rht_res18_s_match_300w.pth'),
    ('Trans-R-S (from scratch)', 'configs/trans_res18_s_300w.py',
     'checkpoints/trans_res18_s_300w.pth'),
]
METRICS = ('NME_io', 'NME_ip', 'FR@0.1', 'AUC@0.1')


def list_faces(folder: str, num_faces: int):
    stems = sorted(n[:-4] for n in os.listdir(folder) if n.endswith('.pts'))
    if num_faces:
        # evenly spread, deterministic
        idx = np.linspace(0, len(stems) - 1, num_faces).round().astype(int)
        stems = [stems[i] for i in sorted(set(idx))]
    return stems


def write_per_image(path: str, records: list) -> dict:
    """Write ``records`` with their summary in FaceNMEMetric's per-image
    layout (atomically) and return the summary."""
    summary = summarise(records)
    atomic_write_text(
        json.dumps(dict(main_norm_mode='inter_ocular', summary=summary,
                        images=records), indent=1), path)
    return summary


def summarise(records: list, thr: float = 0.1) -> dict:
    return nme_summary([r['nme']['inter_ocular'] for r in records],
                       [r['nme']['inter_pupil'] for r in records], thr)


def run_test_config(name: str, config: str, checkpoint: str, out_dir: str,
                    flip: bool, num_faces: int) -> dict:
    """tools/test.py on one row; returns its printed metrics and the path of
    its per-image file."""
    work = osp.join(out_dir, name)
    options = [f'test_evaluator.outfile_prefix={osp.join(work, name)}',
               f'model.test_cfg.flip_test={flip}']
    if num_faces:
        options.append(f'test_dataloader.dataset.indices={num_faces}')
    cmd = [sys.executable, osp.join(REPO, 'tools', 'test.py'),
           osp.join(REPO, config), osp.join(REPO, checkpoint),
           '--work-dir', work, '--out', osp.join(work, 'metrics.json'),
           '--cfg-options', *options]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f'{" ".join(cmd)} failed:\n'
                           f'{proc.stdout[-2000:]}{proc.stderr[-2000:]}')
    with open(osp.join(work, 'metrics.json')) as f:
        metrics = json.load(f)
    metrics['per_image'] = osp.join(work, f'{name}.per_image.json')
    return metrics


def part_metrics(records: list) -> dict:
    """The table's keys (``NME_io``, ``NME_io/helen``, ...) of per-face
    records whose img_path names their 300-W part."""
    out = {}
    for part in (None, ) + PARTS:
        sel = [r for r in records
               if part is None or f'/{part}/' in r['img_path']]
        if not sel:
            continue
        summary = summarise(sel)
        for key in METRICS:
            out[key if part is None else f'{key}/{part}'] = summary[key]
    return out


def run_dlib(data_root: str, out_dir: str, num_faces: int):
    """dlib with the ground-truth tight box; None when not installed."""
    try:
        dlib, predictor = load_dlib_predictor()
    except SystemExit as e:
        print('dlib skipped:', e)
        return None
    records = []
    for folder in TEST_FOLDERS:
        full = osp.join(data_root, '300w_subset', folder)
        for stem in list_faces(full, 0):
            img_path = osp.join(full, stem + '.jpg')
            gt = read_face_points(osp.join(full, stem + '.pts'), img_path)
            img = cv2.imread(img_path)[:, :, ::-1]
            pred = dlib_landmarks(dlib, predictor, img,
                                  np.concatenate([gt.min(0), gt.max(0)]))
            records.append(dict(
                img_path=osp.join(full, stem + '.jpg'),
                nme={m: float(face_nme(pred, gt, m)[0])
                     for m in ('inter_ocular', 'inter_pupil')}))
    if num_faces:  # the same first faces as the models' rows
        records = records[:num_faces]
    path = osp.join(out_dir, 'dlib.per_image.json')
    write_per_image(path, records)
    metrics = part_metrics(records)
    metrics['per_image'] = path
    return metrics


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data-root',
        default=os.environ.get('RHT_DATA_ROOT', '../shared/data'))
    parser.add_argument('--out-dir', default='work_dirs/face_300w_test')
    parser.add_argument('--num-faces', type=int, default=0,
                        help='only the first N faces (0 = all 554)')
    parser.add_argument('--no-flip', action='store_true')
    parser.add_argument('--no-dlib', action='store_true')
    args = parser.parse_args()
    out_dir = osp.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for label, config, checkpoint in SHIPPED:
        name = osp.splitext(osp.basename(checkpoint))[0]
        rows.append((label, run_test_config(name, config, checkpoint,
                                            out_dir, not args.no_flip,
                                            args.num_faces)))
    if not args.no_dlib:
        dlib_row = run_dlib(args.data_root, out_dir, args.num_faces)
        if dlib_row is not None:
            rows.append(('dlib 68-point', dlib_row))
    atomic_write_json({label: m for label, m in rows},
                      osp.join(out_dir, 'results.json'), indent=1)
    print('300-W common subset (HELEN test + LFPW test), ground-truth '
          'landmark boxes' + (f', first {args.num_faces} faces'
                              if args.num_faces else ''))
    header = f'{"method":36s} {"part":7s} ' + ' '.join(
        f'{m:>7s}' for m in METRICS)
    print(header)
    for label, m in rows:
        for part in ('common', ) + PARTS:
            keys = METRICS if part == 'common' else [
                f'{k}/{part}' for k in METRICS]
            if keys[0] not in m:
                continue
            print(f'{label:36s} {part:7s} ' + ' '.join(
                f'{m[k]:7.4f}' for k in keys))
    ced = osp.join(out_dir, 'ced_300w_common.png')
    subprocess.run([
        sys.executable, osp.join(REPO, 'tools', 'analysis', 'plot_ced.py'),
        *[m['per_image'] for _, m in rows], '--labels',
        *[label for label, _ in rows], '--out', ced
    ], check=True)
    print('CED plot:', ced)


if __name__ == '__main__':
    main()
