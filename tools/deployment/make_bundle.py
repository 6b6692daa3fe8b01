"""Make the small self-contained checkpoint that the demo and the API load
by default: fp16 weights, the config text, the dataset meta and a compact
reference pool (JPEG-encoded 128x128 face crops + their landmarks in crop
pixels; heatmaps are re-rendered with the codec at load time, which keeps
the file small).

    python tools/deployment/make_bundle.py \
        configs/rht_res18_s_300w_subset_cpu_match.py \
        work_dirs/cpu_s/match/epoch_40.pth \
        --pool-dir ../shared/data/300w_subset/afw --pool-size 48 \
        --out checkpoints/rht_res18_s_match_300w.pth
"""
import argparse
import copy
import os
import os.path as osp
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from rht_mmpose.apis.inference import (COMPACT_POOL_KEY,  # noqa: E402
                                       SHAPE_REFINER_KEY, _pool_from_folder,
                                       init_face_model,
                                       render_reference_pool)

POOL_BUFFERS = ('pool_images', 'pool_heatmaps', 'pool_descriptors')


def pick_pool(images, keypoints, size: int, seed: int = 0):
    """Spread the pool over head poses: farthest-point sampling on the
    landmarks normalised by their box (deterministic for a seed)."""
    shapes = []
    for kp in keypoints:
        kp = np.asarray(kp, np.float64)
        lo, hi = kp.min(0), kp.max(0)
        shapes.append(((kp - lo) / np.maximum(hi - lo, 1e-6)).ravel())
    shapes = np.stack(shapes)
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(shapes)))]
    dist = np.linalg.norm(shapes - shapes[chosen[0]], axis=1)
    while len(chosen) < min(size, len(shapes)):
        nxt = int(dist.argmax())
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(shapes - shapes[nxt], axis=1))
    return [images[i] for i in chosen], [keypoints[i] for i in chosen]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--pool-dir', nargs='+', default=[])
    parser.add_argument('--pool-size', type=int, default=48)
    parser.add_argument('--out', required=True)
    parser.add_argument('--jpeg-quality', type=int, default=90)
    parser.add_argument('--note', default='')
    parser.add_argument(
        '--shape-refiner', default=None, metavar='NPZ',
        help='a refiner fitted on this checkpoint\'s training-face '
        'predictions (tools/analysis/shape_refiner_report.py writes '
        '*.refiner.npz); inference_faces applies it')
    args = parser.parse_args()

    model = init_face_model(args.config, args.checkpoint, device='cpu')
    state = {
        k: (v.half() if v.is_floating_point() else v)
        for k, v in model.state_dict().items() if k not in POOL_BUFFERS
    }
    cfg = copy.deepcopy(model.cfg)
    # the bundle is the weights: a stage-2 config's load_from (its stage-1
    # checkpoint, not shipped) must not follow it into a fine-tune
    cfg.load_from = None
    meta = dict(
        cfg=cfg.pretty_text,
        dataset_meta=model.dataset_meta,
        source_checkpoint=osp.basename(args.checkpoint),
        note=args.note)
    if args.shape_refiner:
        with np.load(args.shape_refiner) as refiner:
            k = model.dataset_meta['num_keypoints']
            if refiner['weight'].shape != (2 * k, 2 * k):
                raise ValueError(
                    f'{args.shape_refiner}: fitted for '
                    f'{refiner["weight"].shape[0] // 2} landmarks, the model '
                    f'has {k}')
            meta[SHAPE_REFINER_KEY] = {
                name: refiner[name].tolist() for name in refiner.files
            }
    if args.pool_dir and getattr(model, 'with_reference', False):
        images, keypoints = [], []
        for folder in args.pool_dir:
            imgs, kps = _pool_from_folder(folder)
            images += list(imgs)
            keypoints += list(kps)
        images, keypoints = pick_pool(images, keypoints, args.pool_size)
        pool = render_reference_pool(model, images, keypoints)
        jpegs = []
        for img in pool['images']:
            ok, buf = cv2.imencode('.jpg', img,
                                   [cv2.IMWRITE_JPEG_QUALITY,
                                    args.jpeg_quality])
            assert ok
            jpegs.append(buf.tobytes())
        meta[COMPACT_POOL_KEY] = dict(
            jpegs=jpegs, keypoints=pool['keypoints'].astype(float).tolist())
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    torch.save(dict(state_dict=state, meta=meta), tmp)
    os.replace(tmp, args.out)
    print(f'{args.out}: {osp.getsize(args.out) / 2**20:.1f} MB, pool '
          f'{len(meta.get(COMPACT_POOL_KEY, {}).get("jpegs", []))} faces')


if __name__ == '__main__':
    main()
