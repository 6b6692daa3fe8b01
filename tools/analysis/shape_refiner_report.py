"""Fit the linear shape refiner (rht_mmpose.models.utils.shape_refiner) on a
model's predictions for its training faces and measure the validation
faces with and without it. Training faces: the 2012 of AFW + HELEN train +
LFPW train minus the validation split (``--split-file``); the ridge penalty
is chosen by 5-fold cross-validation on them. No test face is read: test
figures come from ``tools/test.py`` with the bundle.

    python tools/analysis/shape_refiner_report.py            # shipped pair
    python tools/analysis/shape_refiner_report.py --models X=ckpt.pth

Predictions are cached per checkpoint in --out-dir (delete them to
recompute); the fitted refiners are saved there as ``*.refiner.npz``.
"""
import argparse
import hashlib
import os
import os.path as osp

import cv2
import numpy as np

from rht_mmpose.evaluation import face_nme, nme_summary
from rht_mmpose.models.utils import apply_shape_refiner, fit_shape_refiner
from rht_mmpose.utils.io import PTS_CONVERSION, find_image, read_face_points

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

RIDGES = (0.01, 0.1, 1.0, 10.0)
DEFAULT_MODELS = [
    'bundled (RHT-MNv2 + match)=' +
    osp.join(REPO, 'checkpoints', 'rht_mnv2_300w.pth'),
    'Trans-MNv2 (baseline)=' +
    osp.join(REPO, 'checkpoints', 'trans_mnv2_300w.pth'),
]


def face_stems(root, folders, split_file=None, side='train'):
    """Image stems (path without extension) of ``folders`` under ``root``;
    with ``split_file``, only its ``side`` ('train': the faces it does not
    list, 'val': the faces it lists)."""
    from rht_mmpose.datasets.face_300w_pts_dataset import read_split_stems
    listed = None if split_file is None else read_split_stems(split_file)
    stems = []
    for folder in folders:
        for name in sorted(os.listdir(osp.join(root, folder))):
            if not name.endswith('.pts'):
                continue
            stem = name[:-4]
            rel = f'{folder}/{stem}'
            if listed is None or (rel in listed) == (side == 'val'):
                stems.append(osp.join(root, folder, stem))
    return stems


def file_digest(path: str) -> str:
    """The checkpoint's sha1, salted with the annotations' conversion (a
    cache of other annotations must not be reused)."""
    h = hashlib.sha1(PTS_CONVERSION.encode())
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def cached_predictions(cache: str, stems, digest: str, flip: bool):
    """(pred, gt) from ``cache`` when it holds these faces, from this very
    checkpoint file and flip setting (two checkpoints of one name, e.g.
    stage 3 and stage 4 bundles, must not share predictions); else None."""
    if not osp.isfile(cache):
        return None
    with np.load(cache) as data:
        same = (list(data['stems']) == stems
                and 'digest' in data.files and str(data['digest']) == digest
                and bool(data['flip']) == flip)
        return (data['pred'], data['gt']) if same else None


def predict(checkpoint, stems, flip, cache):
    """(N, 68, 2) raw predictions and annotations, cached in ``cache``."""
    digest = file_digest(checkpoint)
    hit = cached_predictions(cache, stems, digest, flip)
    if hit is not None:
        return hit
    from rht_mmpose.apis import inference_faces, init_face_model
    model = init_face_model(checkpoint=checkpoint)
    model.test_cfg['flip_test'] = flip
    pred, gt = [], []
    for stem in stems:
        img = find_image(stem + '.pts')
        gt.append(read_face_points(stem + '.pts', img))
        box = np.concatenate([gt[-1].min(0), gt[-1].max(0)])[None]
        # the raw output, also for a bundle that already has a refiner
        pred.append(inference_faces(model, cv2.imread(img), box,
                                    refine=False)[0].pred_instances
                    .keypoints[0])
    pred, gt = np.stack(pred), np.stack(gt)
    tmp = cache + '.tmp.npz'
    np.savez(tmp, pred=pred, gt=gt, stems=np.array(stems),
             digest=np.array(digest), flip=np.array(flip))
    os.replace(tmp, cache)
    return pred, gt


def summary(pred, gt):
    return nme_summary(face_nme(pred, gt), face_nme(pred, gt, 'inter_pupil'))


def choose_ridge(pred, gt, folds=5, seed=0):
    """The ridge of RIDGES with the lowest cross-validated NME_io."""
    order = np.random.default_rng(seed).permutation(len(pred))
    parts = np.array_split(order, folds)
    scores = {}
    for ridge in RIDGES:
        errs = []
        for i in range(folds):
            held = parts[i]
            fit = np.concatenate([parts[j] for j in range(folds) if j != i])
            ref = fit_shape_refiner(pred[fit], gt[fit], ridge=ridge)
            errs.append(summary(apply_shape_refiner(pred[held], ref),
                                gt[held])['NME_io'] * len(held))
        scores[ridge] = sum(errs) / len(pred)
    return min(scores, key=scores.get), scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data-root',
        default=os.environ.get('RHT_DATA_ROOT', '../shared/data'))
    parser.add_argument('--models', nargs='*', default=DEFAULT_MODELS,
                        help='self-contained checkpoints as LABEL=PATH')
    parser.add_argument('--out-dir', default='work_dirs/shape_refiner')
    parser.add_argument('--no-flip', action='store_true')
    parser.add_argument('--folders', nargs='+',
                        default=['afw', 'helen/trainset', 'lfpw/trainset'],
                        help='training folders under 300w_subset')
    parser.add_argument(
        '--split-file',
        default=osp.join(REPO, 'configs', 'experiments', 'splits',
                         '300w_train2012_val.txt'),
        help='validation faces: left out of the fit, reported')
    args = parser.parse_args()
    root = osp.join(args.data_root, '300w_subset')
    train = face_stems(root, args.folders, args.split_file, 'train')
    val = face_stems(root, args.folders, args.split_file, 'val')
    if not train or not val:
        raise SystemExit(f'{len(train)} training and {len(val)} validation '
                         f'faces in {args.folders} with {args.split_file}')
    os.makedirs(args.out_dir, exist_ok=True)
    rows = []
    for item in args.models:
        label, ckpt = item.split('=', 1)
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'--models {item}: no file {ckpt}')
        name = osp.splitext(osp.basename(ckpt))[0]
        flip = not args.no_flip
        p_tr, g_tr = predict(ckpt, train, flip,
                             osp.join(args.out_dir, f'{name}.train.npz'))
        p_va, g_va = predict(ckpt, val, flip,
                             osp.join(args.out_dir, f'{name}.val.npz'))
        ridge, cv = choose_ridge(p_tr, g_tr)
        refiner = fit_shape_refiner(p_tr, g_tr, ridge=ridge)
        out = osp.join(args.out_dir, f'{name}.refiner.npz')
        np.savez(out + '.tmp.npz', **refiner)
        os.replace(out + '.tmp.npz', out)
        print(f'{label}: ridge {ridge} (5-fold CV NME_io on train: ' +
              ', '.join(f'{k}: {v:.4f}' for k, v in cv.items()) + ')')
        rows.append((label, 'raw', summary(p_va, g_va)))
        rows.append((label, 'refined',
                     summary(apply_shape_refiner(p_va, refiner), g_va)))
        rows.append((label, 'train raw', summary(p_tr, g_tr)))
    print(f'\nvalidation split ({len(val)} faces; refiner fitted on '
          f'{len(train)} training faces), flip {not args.no_flip}')
    print(f'{"model":30s} {"":10s} {"NME_io":>7s} {"NME_ip":>7s} '
          f'{"FR@0.1":>7s} {"AUC@0.1":>8s}')
    for label, kind, s in rows:
        print(f'{label:30s} {kind:10s} {s["NME_io"]:7.4f} '
              f'{s["NME_ip"]:7.4f} {s["FR@0.1"]:7.3f} {s["AUC@0.1"]:8.3f}')


if __name__ == '__main__':
    main()
