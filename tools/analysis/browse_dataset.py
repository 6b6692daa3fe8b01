"""Save a picture of one batch of an RHT config's data: target image with
its landmarks and boundary heatmaps, reference image, reference landmark
heatmaps and reference boundary heatmaps (mirrors MMPose's
``tools/misc/browse_dataset.py``).

Example::

    python tools/analysis/browse_dataset.py configs/rht_res50_300w.py \
        --phase train --output-dir work_dirs/browse

One PNG per batch, one row per sample:
``target + landmarks + boundaries | reference + boundaries |
reference landmark heatmaps | reference boundary heatmaps``.
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Browse RHT data')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--phase',
        default='train',
        choices=['train', 'val', 'test'],
        help='which dataloader')
    parser.add_argument('--output-dir', default='work_dirs/browse')
    parser.add_argument('--n-batches', type=int, default=1)
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, key=value')
    return parser.parse_args(argv)


def colorize(maps: np.ndarray, size: int) -> np.ndarray:
    """(C, H, W) maps -> (size, size, 3) uint8 colour picture of their max."""
    m = maps.max(0) if len(maps) else np.zeros((8, 8), np.float32)
    m = np.clip(m, 0, 1)
    m = cv2.resize((m * 255).astype(np.uint8), (size, size),
                   interpolation=cv2.INTER_NEAREST)
    return cv2.applyColorMap(m, cv2.COLORMAP_JET)


def overlay(img: np.ndarray, maps: np.ndarray, alpha=0.5) -> np.ndarray:
    """Blend the max of ``maps`` (C, H, W) over ``img`` (S, S, 3)."""
    if not len(maps):
        return img
    m = cv2.resize(np.clip(maps.max(0), 0, 1), img.shape[1::-1])
    heat = cv2.applyColorMap((m * 255).astype(np.uint8), cv2.COLORMAP_JET)
    w = (m[..., None] * alpha)
    return (img * (1 - w) + heat * w).astype(np.uint8)


def draw_points(img: np.ndarray, pts: np.ndarray, color=(0, 255, 0)):
    for x, y in pts:
        if np.isfinite([x, y]).all():
            cv2.circle(img, (int(round(x)), int(round(y))), 2, color, -1,
                       cv2.LINE_AA)
    return img


def render_sample(sample: dict, num_keypoints: int, size: int = 256,
                  codec=None) -> np.ndarray:
    """One row picture of a packed sample (``inputs``, ``data_samples``)."""
    img = sample['inputs'].numpy().transpose(1, 2, 0).astype(np.uint8)
    img = cv2.resize(np.ascontiguousarray(img), (size, size))
    ds = sample['data_samples']
    k = num_keypoints
    tiles = []
    gt_fields = getattr(ds, 'gt_fields', None)
    if gt_fields is not None and 'heatmaps' in gt_fields:
        hm = gt_fields.heatmaps.numpy()
        tgt = overlay(img, hm[k:])
        if codec is not None:
            kpts, _ = codec.decode(hm)
            in_w = sample['inputs'].shape[-1]
            tgt = draw_points(tgt, kpts[0] * size / in_w)
    else:
        tgt = img.copy()
    tiles.append(tgt)
    if hasattr(ds, 'ref_img'):
        ref = ds.ref_img.numpy().transpose(1, 2, 0).astype(np.uint8)
        ref = cv2.resize(np.ascontiguousarray(ref), (size, size))
        rh = ds.ref_heatmaps.numpy()
        tiles.append(overlay(ref, rh[k:]))
        tiles.append(colorize(rh[:k], size))
        tiles.append(colorize(rh[k:], size))
        cv2.putText(tiles[1], f'ref {ds.metainfo.get("ref_id")}', (4, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
    return np.concatenate(tiles, axis=1)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS, KEYPOINT_CODECS

    import rht_mmpose  # noqa: F401  registers the plugin

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    np.random.seed(args.seed)
    loader = cfg.get(f'{args.phase}_dataloader')
    dataset = DATASETS.build(loader.dataset)
    codec = None
    if cfg.get('codec') is not None:
        codec = KEYPOINT_CODECS.build(cfg.codec)
    bs = args.batch_size or loader.get('batch_size', 4)
    k = dataset.metainfo['num_keypoints']
    os.makedirs(args.output_dir, exist_ok=True)
    order = np.random.permutation(len(dataset))
    for b in range(args.n_batches):
        idx = order[b * bs:(b + 1) * bs]
        if not len(idx):
            break
        rows = [render_sample(dataset[int(i)], k, codec=codec) for i in idx]
        width = max(r.shape[1] for r in rows)
        rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)))
                for r in rows]
        out = osp.join(args.output_dir, f'{args.phase}_batch{b}.png')
        cv2.imwrite(out, np.concatenate(rows, axis=0))
        print(f'saved {out}')


if __name__ == '__main__':
    main()
