"""Are the 300-W points 0-based pixel centres or 1-based (Matlab)?

If the files' points sit d px right of and below the true 0-based pixel
centres, a landmark model cannot know d: it sees every face at one size
(the crop is normalised to the face box), where d is d / s input pixels,
s = image pixels per input pixel. Its residual (prediction - label), in
input pixels, is then c - d / s: a constant c (whatever offset the model
learnt on average, the flip-stride misalignment of heatmaps, decoding
biases) plus a term falling with the face's size. A least-squares line of
the residual against 1 / s over faces of many sizes has slope -d, in x and
in y: 0 for 0-based points, -1 for 1-based ones. The line is fitted on
crops that were not downscaled. A crop downscaled by k carries offset k d
crop px, k unknown per face (../shared/data keeps no original size); with
c from the line, each such face gives k d = (c - residual) s, whose mean
is the offset to remove from the downscaled crops' points.
Ground-truth boxes, the config's test padding; no flip test, no shape
refiner.

    python tools/analysis/label_origin_check.py \
        configs/experiments/bundled/trans_res18_s_300w_val.py \
        checkpoints/stage3/trans_res18_s_300w2012_norefiner.pth \
        --folders afw lfpw/trainset
"""
import argparse
import glob
import os.path as osp

import numpy as np
from mmengine.config import Config

from mmpose.apis import inference_topdown, init_model
from rht_mmpose.utils.face_geometry import pipeline_box_padding
from rht_mmpose.utils.io import (image_size, is_downscaled_crop,
                                 read_face_points, read_pts)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--folders', nargs='+', required=True)
    parser.add_argument('--data-root', default='../shared/data/300w_subset')
    parser.add_argument(
        '--max-faces', type=int, default=400,
        help='the first N faces of each kind, not downscaled and '
        'downscaled (sorted paths)')
    parser.add_argument(
        '--zero-based', action='store_true',
        help='check the points as the package loads them (0-based pixel '
        'centres, read_face_points) instead of the files\' own values')
    return parser.parse_args()


def fit_line(inv_scale: np.ndarray, residual: np.ndarray):
    """Least squares ``residual = c + slope * inv_scale``; returns slope,
    its 95 % half-width and c."""
    design = np.stack([np.ones_like(inv_scale), inv_scale], 1)  # (N, 2)
    coef, *_ = np.linalg.lstsq(design, residual, rcond=None)
    dof = len(residual) - 2
    sigma2 = ((residual - design @ coef)**2).sum() / dof
    cov = sigma2 * np.linalg.inv(design.T @ design)
    return coef[1], 1.96 * np.sqrt(cov[1, 1]), coef[0]


def mean_downscaled_offset(const: float, inv_scale: np.ndarray,
                           residual: np.ndarray):
    """Mean offset, in crop pixels, of the labels of downscaled crops, and
    its 95 % half-width: each face's residual is ``const - offset / s``."""
    offsets = (const - residual) / inv_scale
    return offsets.mean(), 1.96 * offsets.std(ddof=1) / np.sqrt(len(offsets))


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.model.test_cfg.flip_test = False
    cfg.model.test_cfg.refine_shape = False
    input_side = cfg.codec.input_size[0]
    padding = pipeline_box_padding(cfg)
    model = init_model(cfg, args.checkpoint, device='cpu')
    images = sorted(
        p for folder in args.folders
        for p in glob.glob(osp.join(args.data_root, folder, '*.jpg')))
    # (1 / s, mean residual x, y in input pixels) per face, by whether
    # its crop was downscaled
    rows = {False: [], True: []}
    for img_path in images:
        group = rows[is_downscaled_crop(image_size(img_path))]
        if len(group) == args.max_faces:
            continue
        pts_path = osp.splitext(img_path)[0] + '.pts'
        points = (read_face_points(pts_path, img_path) if args.zero_based
                  else read_pts(pts_path))  # (68, 2)
        box = np.concatenate([points.min(0), points.max(0)])[None]
        pred = inference_topdown(model, img_path, box)[0]
        # image pixels per input pixel: the box padded (GetBBoxCenterScale),
        # squared by TopdownAffine
        scale = padding * (box[0, 2:] - box[0, :2]).max() / input_side
        residual = (pred.pred_instances.keypoints[0] - points) / scale
        group.append((1 / scale, *residual.mean(0)))
        if all(len(g) == args.max_faces for g in rows.values()):
            break
    full, downscaled = (np.array(rows[k]).reshape(-1, 3)
                        for k in (False, True))
    print(f'{len(full)} faces not downscaled, 1/s from '
          f'{full[:, 0].min():.2f} to {full[:, 0].max():.2f} input px per '
          f'image px; {len(downscaled)} downscaled')
    for axis, name in ((1, 'x'), (2, 'y')):
        slope, half, const = fit_line(full[:, 0], full[:, axis])
        print(f'{name}: offset of the labels d = {-slope:+.2f} +- {half:.2f} '
              f'image px (constant {const:+.3f} input px)')
        if len(downscaled) > 1:
            mean, half = mean_downscaled_offset(const, downscaled[:, 0],
                                                downscaled[:, axis])
            print(f'   downscaled crops: mean offset {mean:+.2f} +- '
                  f'{half:.2f} crop px')


if __name__ == '__main__':
    main()
