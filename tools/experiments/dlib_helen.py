"""dlib's 68-point shape predictor on the HELEN test faces, with the
ground-truth tight landmark box as the face box (the same box every method
gets). dlib is an optional extra: ``pip install dlib-bin
face_recognition_models`` (its model was trained on all of 300-W).

    python tools/experiments/dlib_helen.py --out work_dirs/dlib_helen.per_image.json
"""
import argparse
import json
import os
import os.path as osp

import cv2

from rht_mmpose.evaluation import face_nme, nme_summary
from rht_mmpose.evaluation.dlib_baseline import (dlib_landmarks,
                                                 load_dlib_predictor)
from rht_mmpose.utils.io import (atomic_write_json, find_image,
                                 read_face_points)


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
        img_path = find_image(osp.join(folder, name))
        gt = read_face_points(osp.join(folder, name), img_path)
        pred = dlib_landmarks(dlib, predictor, cv2.imread(img_path)[..., ::-1],
                              [*gt.min(0), *gt.max(0)])
        records.append(dict(img_path=img_path, nme={
            m: float(face_nme(pred, gt, m)[0])
            for m in ('inter_ocular', 'inter_pupil')}))
    summary = nme_summary([r['nme']['inter_ocular'] for r in records],
                          [r['nme']['inter_pupil'] for r in records])
    # the layout of FaceNMEMetric's per-image files (plot_ced.py reads it)
    atomic_write_json(dict(main_norm_mode='inter_ocular', summary=summary,
                           images=records), args.out, indent=1)
    print(json.dumps(summary))


if __name__ == '__main__':
    main()
