"""Make the small self-contained checkpoint that ships with the repo: a
plain MMPose checkpoint (``state_dict`` + ``meta``) that
``mmpose.apis.init_model``, ``tools/test.py``, the demo and the API load
alike. The network weights are stored in fp16; the reference pool (face
crops + landmarks, :class:`ReferencePool`) and the shape refiner
(:class:`LinearShapeRefiner`) are parts of the model's state dict; the
config (without its ``load_from``) and the dataset meta go into ``meta``.

    # a trained checkpoint + a 48-face pool + a fitted refiner
    python tools/deployment/make_bundle.py CONFIG work_dirs/.../epoch_20.pth \\
        --pool-dir ../shared/data/300w_subset/afw --pool-size 48 \\
        --shape-refiner work_dirs/shape_refiner/NAME.refiner.npz \\
        --out checkpoints/NAME.pth
    # a bundle of the earlier format (pool and refiner in its meta)
    python tools/deployment/make_bundle.py CONFIG --upgrade OLD.pth --out NEW.pth
"""
import argparse
import copy
import os.path as osp

import cv2
import numpy as np
import torch

from rht_mmpose.apis.inference import (init_face_model,
                                       pool_from_folder,
                                       set_user_reference_pool)
from rht_mmpose.utils.io import atomic_output

# state-dict prefixes kept at full precision: the pool (uint8 images,
# landmarks, descriptors) and the refiner (float64, like its fit)
FULL_PRECISION = ('reference_pool.', 'shape_refiner.')


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


def exclude_listed(images, keypoints, split_file: str):
    """The pool candidates without the faces a split file lists (matched
    by the listed path's end, e.g. ``afw/123_1.jpg``)."""
    from rht_mmpose.datasets.face_300w_pts_dataset import read_split_file
    listed = ['/' + p.strip('/') for p in read_split_file(split_file)]
    kept = [(img, kp) for img, kp in zip(images, keypoints)
            if not any(osp.abspath(img).replace(osp.sep, '/').endswith(p)
                       for p in listed)]
    if len(kept) == len(images):
        raise SystemExit(f'--pool-exclude {split_file!r}: none of its '
                         f'{len(listed)} faces is among the pool folders')
    print(f'pool candidates: {len(images)} - {len(images) - len(kept)} '
          f'listed in {split_file}')
    return [k[0] for k in kept], [k[1] for k in kept]


def load_legacy_bundle(model, path: str) -> None:
    """Weights, pool and refiner of a bundle of the earlier format (JPEG
    pool crops + landmarks and the refiner fit in ``meta``) into ``model``
    (the pool's JPEG pixels are kept exactly as that format decoded them)."""
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
    ckpt = torch.load(path, map_location='cpu')
    meta = ckpt.get('meta', {})
    _load_checkpoint_to_model(model, ckpt, strict=False)
    pool = meta.get('reference_pool_compact')
    if pool and model.with_reference:
        images = np.stack([
            cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR)
            for b in pool['jpegs']
        ])
        model.set_reference_pool(images,
                                 np.asarray(pool['keypoints'], np.float32))
    if meta.get('shape_refiner'):
        set_refiner(model, {k: np.asarray(v, np.float64)
                            for k, v in meta['shape_refiner'].items()},
                    path)


def set_refiner(model, fit: dict, source: str) -> None:
    if getattr(model, 'shape_refiner', None) is None:
        raise ValueError(f'{source}: a shape refiner was given but the '
                         'config declares none (model.shape_refiner)')
    model.shape_refiner.set_fit(fit)


def bundle_state(model) -> dict:
    """The model's state dict, network tensors in fp16."""
    return {
        k: (v.half() if v.is_floating_point()
            and not k.startswith(FULL_PRECISION) else v)
        for k, v in model.state_dict().items()
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='trained weights (not with --upgrade)')
    parser.add_argument('--upgrade', metavar='OLD', default=None,
                        help='rebuild a bundle of the earlier format')
    parser.add_argument('--pool-dir', nargs='+', default=[])
    parser.add_argument('--pool-size', type=int, default=48)
    parser.add_argument(
        '--pool-exclude', metavar='SPLIT_FILE', default=None,
        help='leave the faces this split file lists (a validation split, '
        'paths relative to the data root) out of the pool')
    parser.add_argument('--out', required=True)
    parser.add_argument('--note', default='')
    parser.add_argument(
        '--shape-refiner', default=None, metavar='NPZ',
        help='a refiner fitted on this checkpoint\'s training-face '
        'predictions (tools/analysis/shape_refiner_report.py writes '
        '*.refiner.npz)')
    args = parser.parse_args()
    if (args.checkpoint is None) == (args.upgrade is None):
        parser.error('give either a checkpoint or --upgrade OLD, not '
                     f'{"both" if args.checkpoint else "neither"}')

    if args.upgrade:
        model = init_face_model(args.config, None, device='cpu')
        load_legacy_bundle(model, args.upgrade)
        source = args.upgrade
    else:
        model = init_face_model(args.config, args.checkpoint, device='cpu')
        source = args.checkpoint
    if args.shape_refiner:
        with np.load(args.shape_refiner) as fit:
            set_refiner(model, {k: fit[k] for k in fit.files},
                        args.shape_refiner)
    if args.pool_dir and getattr(model, 'with_reference', False):
        images, keypoints = [], []
        for folder in args.pool_dir:
            imgs, kps = pool_from_folder(folder)
            images += list(imgs)
            keypoints += list(kps)
        if args.pool_exclude:
            images, keypoints = exclude_listed(images, keypoints,
                                               args.pool_exclude)
        images, keypoints = pick_pool(images, keypoints, args.pool_size)
        set_user_reference_pool(model, dict(images=images,
                                            keypoints=keypoints))
    elif getattr(model, 'reference_pool', None) is not None and \
            len(model.reference_pool):
        # a pool that came with the checkpoint (e.g. through a training
        # stage's load_from) has descriptors of the weights it was made
        # with: recompute them with these
        model.reference_pool.update_descriptors()
    cfg = copy.deepcopy(model.cfg)
    # the bundle is the weights: a stage-2 config's load_from (its stage-1
    # checkpoint, not shipped) must not follow it into a fine-tune
    cfg.load_from = None
    meta = dict(
        cfg=cfg.pretty_text,
        dataset_meta=model.dataset_meta,
        source_checkpoint=osp.basename(source),
        note=args.note)
    with atomic_output(args.out) as tmp:
        torch.save(dict(state_dict=bundle_state(model), meta=meta), tmp)
    pool_size = getattr(model, 'pool_size', 0)
    refined = getattr(model, 'shape_refiner', None) is not None \
        and model.shape_refiner.fitted
    print(f'{args.out}: {osp.getsize(args.out) / 2**20:.1f} MB, pool '
          f'{pool_size} faces, shape refiner {"on" if refined else "off"}')


if __name__ == '__main__':
    main()
