"""Are the 300-W points 0-based pixel centres or 1-based (Matlab)?

An independent check from the horizontal flip: a model trained with 50 %
horizontal flips, where a flip maps x to W - 1 - x (0-based pixel centres,
MMPose's convention), sees labels offset by +d in x on unflipped faces and
by -d on flipped ones, so it learns x without offset; y keeps its offset
+d. Against the files' points its mean residual (prediction - label) is
then (-d, 0): (0, 0) for 0-based labels, (-1, 0) px for 1-based ones on
crops that were not downscaled (-k on a crop downscaled by k). Mirrored
per-landmark biases cancel in the mean over all 68 points, so no landmark
is singled out. Run on the validation faces (never trained on), ground-
truth boxes, no flip test and no shape refiner (both would hide it).

    python tools/analysis/label_origin_check.py \
        configs/experiments/bundled/trans_res18_s_300w_val.py \
        checkpoints/stage3/trans_res18_s_300w2012_norefiner.pth
"""
import argparse
import os.path as osp

import cv2
import numpy as np
from mmengine.config import Config

from mmpose.apis import inference_topdown, init_model
from rht_mmpose.datasets.face_300w_pts_dataset import read_split_file
from rht_mmpose.utils.io import read_pts

# the crops of ../shared/data were downscaled to at most this longer side
MAX_SIDE = 512


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument(
        '--split-file',
        default='configs/experiments/splits/300w_train2012_val.txt')
    parser.add_argument(
        '--data-root', default='../shared/data/300w_subset')
    return parser.parse_args()


def mean_with_ci(values: np.ndarray) -> str:
    half = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
    return f'{values.mean():+.3f} +- {half:.3f}'


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.model.test_cfg.flip_test = False
    cfg.model.test_cfg.refine_shape = False
    model = init_model(cfg, args.checkpoint, device='cpu')
    rows = []  # (not downscaled, mean dx, mean dy) per face
    for rel in read_split_file(args.split_file):
        img_path = osp.join(args.data_root, rel)
        points = read_pts(osp.splitext(img_path)[0] + '.pts')  # (68, 2)
        box = np.concatenate([points.min(0), points.max(0)])[None]
        pred = inference_topdown(model, img_path, box)[0]
        residual = pred.pred_instances.keypoints[0] - points  # (68, 2)
        full_size = max(cv2.imread(img_path).shape[:2]) < MAX_SIDE
        rows.append((full_size, *residual.mean(0)))
    rows = np.array(rows)
    for name, mask in (('crops not downscaled', rows[:, 0] == 1),
                       ('downscaled crops', rows[:, 0] == 0),
                       ('all', np.ones(len(rows), bool))):
        if mask.sum() < 2:
            continue
        print(f'{name:22s} faces {int(mask.sum()):4d}  mean residual '
              f'x {mean_with_ci(rows[mask, 1])} px  '
              f'y {mean_with_ci(rows[mask, 2])} px')


if __name__ == '__main__':
    main()
