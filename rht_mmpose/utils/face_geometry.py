"""Test-time face geometry, written once: the landmark box, box checks,
crop warps (mmpose's ``GetBBoxCenterScale`` + ``TopdownAffine``, plus a
rotation) and their inverse, input normalisation as the model's data
preprocessor does it, and the flip test's fusion of heatmaps.

Used by the model (reference pool, head), both inference backends, the
tracker and the datasets.

Note:
    - N: faces
    - K: landmarks
    - C: heatmap channels
"""
import itertools
import math
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .errors import FaceInputError

# GetBBoxCenterScale(padding=1.25): the training crops, the reference pool's
# crops and a test pipeline that names no other
BOX_PADDING = 1.25


def landmark_box(keypoints: np.ndarray) -> np.ndarray:
    """Tight xyxy box of landmarks, the box convention of the training
    faces: (K, 2) -> (4,), (N, K, 2) -> (N, 4), in their float precision."""
    kp = np.asarray(keypoints)
    if not np.issubdtype(kp.dtype, np.floating):
        kp = kp.astype(np.float32)
    return np.concatenate([kp.min(-2), kp.max(-2)], axis=-1)


def test_dataset_cfg(cfg):
    """The dataset of a model config's test dataloader (whose ``pipeline``
    mmpose's inference runs on a face), or None."""
    loader = cfg.get('test_dataloader', None) if cfg else None
    return loader.get('dataset', None) if loader else None


def pipeline_box_padding(cfg) -> float:
    """The box padding a model config's test pipeline crops with (its
    ``GetBBoxCenterScale``; mmpose's default 1.0 when it names none), so
    that every backend crops a face as ``tools/test.py`` does;
    :data:`BOX_PADDING` for a config without a test pipeline."""
    dataset = test_dataset_cfg(cfg)
    pipeline = dataset.get('pipeline', None) if dataset else None
    for step in pipeline or ():
        if step.get('type') in ('GetBBoxCenterScale',
                                'mmpose.GetBBoxCenterScale'):
            return float(step.get('padding', 1.0))
    return BOX_PADDING


def tta_views(cfg) -> List[Tuple[float, float]]:
    """The views of a model config's ``tta_pipeline`` as (scale factor,
    rotation in degrees) pairs, in its order: every combination of its
    ``TestTimeAug`` lists of ``FixedBBoxTransform`` (scales multiply, the
    last one sets the rotation, as the transforms do), so that
    :class:`~rht_mmpose.apis.FaceLandmarker` averages the views that
    ``tools/test.py --tta`` does."""
    pipeline = cfg.get('tta_pipeline', None) if cfg else None
    if not pipeline:
        raise FaceInputError('the model config has no tta_pipeline (see '
                             'configs/rht_mnv2_300w.py)')
    choices = []
    for step in pipeline:
        if step.get('type') != 'TestTimeAug':
            continue
        for options in step['transforms']:
            kinds = {o.get('type') for o in options}
            if kinds == {'FixedBBoxTransform'}:
                choices.append([(float(o.get('scale_factor', 1.)),
                                 float(o.get('rotation', 0.)))
                                for o in options])
            elif len(options) > 1:
                raise FaceInputError(
                    f'tta_pipeline alternates {sorted(kinds)}: only '
                    'FixedBBoxTransform views can be averaged here')
    if not choices:
        raise FaceInputError('the tta_pipeline has no FixedBBoxTransform '
                             'views')
    return [(float(np.prod([s for s, _ in combo])), combo[-1][1])
            for combo in itertools.product(*choices)]


def check_boxes(boxes, name: str = 'boxes') -> np.ndarray:
    """Boxes as (N, 4) or (N, 5) floats (one box (4,) or (5,) gives N =
    1, an empty array N = 0); FaceInputError for another shape or a NaN.

    Float boxes keep their precision: a crop computed from float64 boxes
    differs from the float32 one by float32 rounding, which STM's argmax
    can turn into 0.05 px (what mmpose's ``inference_topdown`` computes
    from the same boxes is what the model gives)."""
    b = np.asarray(boxes)
    if not np.issubdtype(b.dtype, np.floating):
        b = b.astype(np.float32)
    if b.size == 0:
        return np.zeros((0, 4), np.float32)
    if b.ndim == 1:
        b = b[None]
    if b.ndim != 2 or b.shape[1] not in (4, 5):
        raise FaceInputError(f'{name} must have shape (N, 4) or (N, 5), '
                             f'got {b.shape}')
    if not np.isfinite(b).all():
        raise FaceInputError(f'{name} contain NaN or infinite values')
    return b


def crop_warps(boxes: np.ndarray, input_size: Tuple[int, int],
               angles: Optional[np.ndarray] = None,
               padding: float = BOX_PADDING) -> np.ndarray:
    """Affine warps (N, 2, 3) image -> crop, as the test pipeline's
    ``GetBBoxCenterScale`` + ``TopdownAffine`` make them.

    Args:
        boxes (np.ndarray): (N, 4+) xyxy landmark-style boxes
        input_size (tuple): (W, H) of the crop
        angles (np.ndarray, optional): (N,) degrees; a face whose eye line
            is turned ``a`` degrees counter-clockwise in the image is made
            upright in the crop (``bbox_rotation = -a`` in mmpose's terms)
        padding (float): box padding
    """
    from mmpose.structures.bbox import bbox_xyxy2cs, get_warp_matrix
    w, h = input_size
    boxes = check_boxes(boxes)  # their precision, as the pipeline keeps it
    center, scale = bbox_xyxy2cs(boxes[:, :4], padding=padding)
    warps, aspect = np.zeros((len(boxes), 2, 3)), w / h
    for i, (bw, bh) in enumerate(scale):
        # TopdownAffine._fix_aspect_ratio
        s = np.array([bw, bw / aspect] if bw > bh * aspect else
                     [bh * aspect, bh], scale.dtype)
        rot = 0. if angles is None else -float(angles[i])
        warps[i] = get_warp_matrix(center[i], s, rot, output_size=(w, h))
    return warps


def invert_warps(warps: np.ndarray) -> np.ndarray:
    """(N, 2, 3) image -> crop warps to (N, 2, 3) crop -> image warps."""
    return np.array([cv2.invertAffineTransform(m) for m in warps]).reshape(
        -1, 2, 3)


def warp_points(points: np.ndarray, warps: np.ndarray) -> np.ndarray:
    """Points (N, K, 2) through their face's affine warp (N, 2, 3)."""
    points = np.asarray(points, np.float64)
    return (np.einsum('nij,nkj->nki', warps[:, :, :2], points)
            + warps[:, None, :, 2]).astype(np.float32)


def pipeline_warp(metainfo: dict, rotation: float = 0.) -> np.ndarray:
    """The (2, 3) image -> crop warp that ``TopdownAffine`` made for a
    sample (``metainfo``: its ``input_center``, ``input_scale``,
    ``input_size``), the crop turned by ``rotation`` degrees (the
    sample's ``bbox_rotation``)."""
    from mmpose.structures.bbox import get_warp_matrix
    return get_warp_matrix(
        *(np.asarray(metainfo[k], np.float32)
          for k in ('input_center', 'input_scale')),
        float(rotation), output_size=metainfo['input_size'])


def unturn_keypoints(keypoints: np.ndarray, metainfo: dict,
                     rotation: float) -> np.ndarray:
    """Keypoints (N, K, 2) of a crop turned by ``rotation`` degrees, which
    the model mapped back to the image with the crop's centre and scale
    only (MMPose's top-down decoding ignores ``bbox_rotation``) -> where
    they are in the image (N, K, 2), through the inverse of the crop's
    own warp."""
    c, scale, size = (np.asarray(metainfo[k], np.float64) for k in
                      ('input_center', 'input_scale', 'input_size'))
    crop = (np.asarray(keypoints, np.float64) - c + 0.5 * scale) \
        / scale * size
    to_image = invert_warps(pipeline_warp(metainfo, rotation)[None])
    return warp_points(crop, np.repeat(to_image, len(crop), axis=0))


def heatmap_in_image(heatmaps: np.ndarray, warp: np.ndarray,
                     input_size: Sequence[int],
                     img_shape: Sequence[int]) -> np.ndarray:
    """The channel maximum of one face's heatmaps (C, h, w) in image
    pixels (H, W), through its crop warp (2, 3) image -> crop of
    ``input_size`` (W_in, H_in)."""
    hm = np.asarray(heatmaps, np.float32).max(0)
    to_crop = np.diag([input_size[0] / hm.shape[1],
                       input_size[1] / hm.shape[0], 1.])
    to_image = invert_warps(warp[None])[0] @ to_crop  # heatmap -> image
    return cv2.warpAffine(hm, to_image, (img_shape[1], img_shape[0]),
                          flags=cv2.INTER_LINEAR)


def crop_faces(img: np.ndarray, warps: np.ndarray,
               size: Tuple[int, int]) -> np.ndarray:
    """Crops (N, H, W[, 3]) of ``img`` through ``warps`` (N, 2, 3), bilinear
    as ``TopdownAffine``; ``size`` is (W, H)."""
    return np.stack([
        cv2.warpAffine(img, m, tuple(int(v) for v in size),
                       flags=cv2.INTER_LINEAR) for m in warps
    ])


def preprocessor_normalization(pre) -> dict:
    """``mean``, ``std`` (lists, None without normalisation) and
    ``bgr_to_rgb`` of an mmpose ``PoseDataPreprocessor``."""
    normalised = getattr(pre, '_enable_normalize', False)
    return dict(
        mean=pre.mean.flatten().tolist() if normalised else None,
        std=pre.std.flatten().tolist() if normalised else None,
        bgr_to_rgb=bool(getattr(pre, '_channel_conversion', False)))


def normalize_bgr(images: Tensor, mean: Optional[Sequence[float]],
                  std: Optional[Sequence[float]],
                  bgr_to_rgb: bool) -> Tensor:
    """(B, 3, H, W) BGR 0..255 -> float, as the data preprocessor
    normalises the inputs (channel flip first, then mean / std)."""
    x = images.float()
    if bgr_to_rgb:
        x = x[:, [2, 1, 0]]
    if mean is not None:
        m = torch.as_tensor(mean, dtype=x.dtype, device=x.device)
        s = torch.as_tensor(std, dtype=x.dtype, device=x.device)
        x = (x - m.view(1, -1, 1, 1)) / s.view(1, -1, 1, 1)
    return x


def shift_heatmaps_right(heatmaps: Tensor, shift: float) -> Tensor:
    """Move heatmap content ``shift`` pixels right (negative: left) by
    linear interpolation, the border column repeated.

    Args:
        heatmaps (Tensor): (B, C, H, W)
        shift (float): pixels, ``|shift| < W``

    Returns:
        Tensor: (B, C, H, W), ``out[..., x] = h(x - shift)``
    """
    w = heatmaps.shape[-1]
    if not abs(shift) < w:
        raise ValueError(f'shift {shift} must be smaller than the heatmap '
                         f'width {w}')
    whole = math.floor(shift)
    frac = shift - whole
    pad = abs(whole) + 1
    # (B, C, H, W + 2 * pad)
    padded = F.pad(heatmaps, (pad, pad, 0, 0), mode='replicate')
    # out[x] = (1 - frac) * h[x - whole] + frac * h[x - whole - 1]
    start = pad - whole
    near = padded[..., start:start + w]
    far = padded[..., start - 1:start - 1 + w]
    return (1 - frac) * near + frac * far


def flip_shift(test_cfg: dict) -> float:
    """The flip test's shift in heatmap pixels from ``shift_heatmap``:
    True is MMPose's 1 pixel (which :func:`shift_heatmaps_right`
    reproduces exactly), a number that many pixels."""
    shift = test_cfg.get('shift_heatmap', False)
    return 1.0 if shift is True else float(shift or 0.)


def fuse_flipped(heatmaps: Tensor, flipped: Tensor, perm: Sequence[int],
                 shift: float = 0.) -> Tensor:
    """Flip test: the mean of heatmaps (B, C, H, W) and those of the
    flipped input, flipped back (channels swapped by ``perm``) and shifted
    ``shift`` pixels right. Un-flipping a heatmap of stride s maps input x
    to W - 1 - x / s instead of W - 1 / s - x / s, so the exact shift is
    1 - 1 / s."""
    back = flipped.flip(-1)[:, list(perm)]
    if shift:
        back = shift_heatmaps_right(back, shift)
    return (heatmaps + back) * 0.5
