"""A linear shape refiner fitted on a model's own training-set predictions,
and :class:`LinearShapeRefiner`, the part of a model that applies it.

Small heatmap models leave semi-landmarks along a contour (nose ridge,
jaw) without a position along it: their heatmaps become one shared ridge
and every landmark of it decodes to the ridge centre. A ridge regression
from the whole predicted shape to the true one, in a frame fixed by two
well-localised landmarks (the outer eye corners), puts them back where
the rest of the face says they are. Fitted on training faces only.

Note:
    - N: faces
    - K: landmarks
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from torch import nn

from mmpose.registry import MODELS


def has_frame(shapes: np.ndarray, anchors: Sequence[int]) -> np.ndarray:
    """(N,) bool: the two anchor landmarks of each shape (N, K, 2) are
    apart, so the shape has a frame (degenerate predictions do not)."""
    a, b = (int(i) for i in anchors)
    return np.linalg.norm(shapes[:, b] - shapes[:, a], axis=1) > 0


def _frame(shapes: np.ndarray, anchors: Sequence[int]):
    """Origin, unit axes and scale of the frame of two anchor landmarks:
    origin at their midpoint, x along anchor 0 -> anchor 1, unit their
    distance. shapes (N, K, 2)."""
    a, b = shapes[:, anchors[0]], shapes[:, anchors[1]]
    origin = (a + b) / 2
    axis = b - a
    scale = np.linalg.norm(axis, axis=1)
    flat = ~has_frame(shapes, anchors)
    if flat.any():
        raise ValueError(f'anchor landmarks {tuple(anchors)} coincide in '
                         f'{int(flat.sum())} shape(s)')
    ex = axis / scale[:, None]
    ey = np.stack([-ex[:, 1], ex[:, 0]], axis=1)
    return origin, ex, ey, scale


def to_frame(shapes: np.ndarray, frame) -> np.ndarray:
    """(N, K, 2) image coordinates -> (N, K, 2) frame coordinates."""
    origin, ex, ey, scale = frame
    d = shapes - origin[:, None]
    return np.stack([(d * ex[:, None]).sum(2), (d * ey[:, None]).sum(2)],
                    axis=2) / scale[:, None, None]


def from_frame(coords: np.ndarray, frame) -> np.ndarray:
    """(N, K, 2) frame coordinates -> (N, K, 2) image coordinates."""
    origin, ex, ey, scale = frame
    c = coords * scale[:, None, None]
    return (origin[:, None] + c[..., :1] * ex[:, None]
            + c[..., 1:] * ey[:, None])


def _check_shapes(name: str, shapes) -> np.ndarray:
    shapes = np.asarray(shapes, dtype=np.float64)
    if shapes.ndim != 3 or shapes.shape[2] != 2:
        raise ValueError(f'{name} has shape {shapes.shape}, expected '
                         '(N, K, 2)')
    return shapes


def fit_shape_refiner(pred: np.ndarray,
                      gt: np.ndarray,
                      anchors: Sequence[int] = (36, 45),
                      ridge: float = 0.1) -> Dict[str, np.ndarray]:
    """Fit ``gt ~ W (pred - mean_pred) + mean_gt`` in the anchors' frame.

    Args:
        pred (np.ndarray): predicted landmarks of training faces (N, K, 2)
        gt (np.ndarray): their annotations (N, K, 2)
        anchors (Sequence[int]): two landmarks the frame is built from
            (default: 300-W / 68-point outer eye corners)
        ridge (float): L2 penalty on W, in frame units squared

    Returns:
        dict: ``anchors`` (2,), ``mean_pred`` / ``mean_gt`` (2K,),
        ``weight`` (2K, 2K)
    """
    pred, gt = _check_shapes('pred', pred), _check_shapes('gt', gt)
    if pred.shape != gt.shape:
        raise ValueError(f'pred {pred.shape} and gt {gt.shape} differ')
    n, k, _ = pred.shape
    if ridge < 0:
        raise ValueError(f'ridge must be >= 0, got {ridge}')
    if n < 2:
        raise ValueError(f'{n} face(s) given, at least 2 needed to fit')
    frame = _frame(pred, anchors)  # the prediction's frame, as at test time
    x = to_frame(pred, frame).reshape(n, 2 * k)
    y = to_frame(gt, frame).reshape(n, 2 * k)
    mean_x, mean_y = x.mean(0), y.mean(0)
    xc = x - mean_x
    weight = np.linalg.solve(xc.T @ xc + ridge * np.eye(2 * k),
                             xc.T @ (y - mean_y))
    return dict(anchors=np.asarray(anchors), mean_pred=mean_x,
                mean_gt=mean_y, weight=weight)


def apply_shape_refiner(pred: np.ndarray,
                        refiner: Dict[str, np.ndarray]) -> np.ndarray:
    """Refine predicted shapes (N, K, 2) -> (N, K, 2), image coordinates.
    Every shape needs a frame (:func:`has_frame`)."""
    pred = _check_shapes('pred', pred)
    n, k, _ = pred.shape
    if refiner['weight'].shape != (2 * k, 2 * k):
        raise ValueError(f'refiner fitted for '
                         f'{refiner["weight"].shape[0] // 2} landmarks, '
                         f'got shapes of {k}')
    frame = _frame(pred, [int(i) for i in refiner['anchors']])
    x = to_frame(pred, frame).reshape(n, 2 * k)
    y = (x - refiner['mean_pred']) @ refiner['weight'] + refiner['mean_gt']
    return from_frame(y.reshape(n, k, 2), frame)


REFINER_BUFFERS = ('anchors', 'mean_pred', 'mean_gt', 'weight')


@MODELS.register_module()
class LinearShapeRefiner(nn.Module):
    """The shape refiner of a model, declared in its head's config and saved
    in its state dict (``anchors`` (2,), ``mean_pred`` / ``mean_gt`` (2K,),
    ``weight`` (2K, 2K), float64 like the fit).

    Until :meth:`set_fit` installs a fit (or a checkpoint with one is
    loaded) it is the identity, so a model trains and tests unrefined and
    the same config later ships with its refiner. A shape whose anchor
    landmarks coincide has no frame and is returned raw.

    Args:
        num_keypoints (int): K
        anchors (Sequence[int], optional): the two landmarks of the frame;
            default: the ``refiner_anchors`` of the face scheme with K
            points (:mod:`rht_mmpose.codecs.face_schemes`; 300-W: the outer
            eye corners 36, 45)
    """

    def __init__(self, num_keypoints: int,
                 anchors: Optional[Sequence[int]] = None):
        super().__init__()
        if anchors is None:
            from rht_mmpose.codecs.face_schemes import (find_face_scheme,
                                                        get_face_scheme)
            anchors = get_face_scheme(
                find_face_scheme(num_keypoints))['refiner_anchors']
        anchors = [int(i) for i in anchors]
        if len(anchors) != 2 or anchors[0] == anchors[1] \
                or not all(0 <= i < num_keypoints for i in anchors):
            raise ValueError(f'anchors {tuple(anchors)} must be two '
                             f'different landmarks in [0, {num_keypoints})')
        self.num_keypoints = num_keypoints
        k2 = 2 * num_keypoints
        self.register_buffer('anchors', torch.tensor(anchors))
        self.register_buffer('mean_pred', torch.zeros(k2, dtype=torch.float64))
        self.register_buffer('mean_gt', torch.zeros(k2, dtype=torch.float64))
        # all zeros = not fitted (a fit of real shapes is never all zeros)
        self.register_buffer('weight', torch.zeros(k2, k2,
                                                   dtype=torch.float64))

    @property
    def fitted(self) -> bool:
        """Whether a fit is installed."""
        return bool(self.weight.abs().sum() > 0)

    def set_fit(self, fit: Dict[str, np.ndarray]) -> None:
        """Install a fit of :func:`fit_shape_refiner`."""
        k2 = 2 * self.num_keypoints
        weight = np.asarray(fit['weight'], np.float64)
        if weight.shape != (k2, k2):
            raise ValueError(f'refiner fitted for {weight.shape[0] // 2} '
                             f'landmarks, expected {self.num_keypoints}')
        for name in REFINER_BUFFERS:  # copy_ casts to the buffer's dtype
            getattr(self, name).copy_(torch.as_tensor(np.asarray(fit[name])))

    def get_fit(self) -> Optional[Dict[str, np.ndarray]]:
        """The installed fit as numpy arrays (None when not fitted)."""
        if not self.fitted:
            return None
        return {name: getattr(self, name).cpu().numpy()
                for name in REFINER_BUFFERS}

    def refine(self, keypoints: np.ndarray) -> np.ndarray:
        """(N, K, 2) -> (N, K, 2) image coordinates, same dtype; shapes
        without a frame stay as they are."""
        fit = self.get_fit()
        if fit is None:
            return keypoints
        kpts = np.asarray(keypoints)
        out = kpts.copy()
        ok = has_frame(kpts, fit['anchors'])
        if ok.any():
            out[ok] = apply_shape_refiner(kpts[ok], fit).astype(kpts.dtype)
        return out
