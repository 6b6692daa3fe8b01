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

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
from rht_mmpose.utils.io import (atomic_write_json,  # noqa: E402
                                 atomic_write_text, read_pts)
from tools.benchmarks.dlib_helen import (load_dlib_predictor,  # noqa: E402
                                         nme_io, nme_ip)

TEST_FOLDERS = ('helen/testset', 'lfpw/testset')
PARTS = ('helen', 'lfpw')
# (row, test config, checkpoint): the shipped models
SHIPPED = [
    ('RHT-R-S + match (bundled default)',
     'configs/rht_res18_s_match_300w.py',
     'checkpoints/rht_res18_s_match_300w.pth'),
    ('Trans-R-S (baseline)', 'configs/trans_res18_s_300w.py',
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
    io = np.array([r['nme']['inter_ocular'] for r in records])
    ip = np.array([r['nme']['inter_pupil'] for r in records])
    return {
        'faces': len(records), 'NME_io': float(io.mean()),
        'NME_ip': float(ip.mean()), f'FR@{thr}': float((io > thr).mean()),
        f'AUC@{thr}': float(np.clip(1 - io / thr, 0, None).mean())
    }


def predict_shapes(model, stems, refine: bool = True):
    """Landmarks of faces given as path stems (``STEM.pts`` beside
    ``STEM.jpg`` or ``STEM.png``), each with its ground-truth tight box.

    Returns:
        tuple: predictions and annotations, (N, 68, 2) each
    """
    from rht_mmpose.apis import inference_faces
    preds, gts = [], []
    for stem in stems:
        gt = read_pts(stem + '.pts')
        img_path = next((stem + ext for ext in ('.jpg', '.png')
                         if osp.isfile(stem + ext)), None)
        if img_path is None:
            raise FileNotFoundError(f'no .jpg or .png beside {stem}.pts')
        box = np.concatenate([gt.min(0), gt.max(0)])[None]
        sample = inference_faces(model, cv2.imread(img_path), box,
                                 refine=refine)[0]
        preds.append(sample.pred_instances.keypoints[0])
        gts.append(gt)
    return np.stack(preds), np.stack(gts)


def nme_records(names, preds, gts) -> list:
    """Per-face records in FaceNMEMetric's per-image layout."""
    return [
        dict(img_path=name, nme=dict(inter_ocular=nme_io(p, g),
                                     inter_pupil=nme_ip(p, g)))
        for name, p, g in zip(names, preds, gts)
    ]


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
            gt = read_pts(osp.join(full, stem + '.pts'))
            img = cv2.imread(osp.join(full, stem + '.jpg'))[:, :, ::-1]
            (x0, y0), (x1, y1) = gt.min(0), gt.max(0)
            shape = predictor(np.ascontiguousarray(img), dlib.rectangle(
                int(round(x0)), int(round(y0)), int(round(x1)),
                int(round(y1))))
            pred = np.array([[p.x, p.y] for p in shape.parts()], np.float64)
            records.append(dict(
                img_path=osp.join(full, stem + '.jpg'),
                nme=dict(inter_ocular=nme_io(pred, gt),
                         inter_pupil=nme_ip(pred, gt))))
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
