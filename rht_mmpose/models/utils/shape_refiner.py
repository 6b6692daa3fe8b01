"""A linear shape refiner fitted on a model's own training-set predictions.

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
from typing import Dict, Sequence

import numpy as np


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
    """Refine predicted shapes (N, K, 2) -> (N, K, 2), image coordinates."""
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
