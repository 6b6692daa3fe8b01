"""DARK sub-pixel refinement (Zhang et al., CVPR 2020) that cannot leave
the maximum's neighbourhood.

MMPose's ``refine_keypoints_dark`` takes the Newton step
``-H^-1 g`` of the log of the blurred heatmap at the argmax pixel whenever
the Hessian H is invertible. Where the blurred heatmap is not locally
concave there (two peaks after flip-test averaging, a flat plateau), that
step is no step towards a maximum and can be arbitrarily long: on HELEN
test one landmark of a trained model was sent 7000 pixels away, which alone
moved the mean NME of 330 faces by 0.5 points. Here the step is taken only
where H is negative definite, and each coordinate is clipped to
``max_offset`` pixels (the quadratic model holds within about a pixel of
the discrete maximum); elsewhere the argmax stays.
"""
import numpy as np
from mmpose.codecs.utils import gaussian_blur


def refine_keypoints_dark_bounded(keypoints: np.ndarray,
                                  heatmaps: np.ndarray,
                                  blur_kernel_size: int,
                                  max_offset: float = 1.0) -> np.ndarray:
    """Refine heatmap-maximum keypoints with a bounded DARK step.

    Args:
        keypoints (np.ndarray): (N, K, 2) argmax locations in heatmap pixels
        heatmaps (np.ndarray): (K, H, W) heatmaps (N = 1 instance, as in
            MMPose's top-down decoding)
        blur_kernel_size (int): Gaussian blur of DARK's modulation (odd)
        max_offset (float): largest refinement per coordinate, in pixels

    Returns:
        np.ndarray: the refined (N, K, 2) keypoints (a new array)
    """
    if max_offset <= 0:
        raise ValueError(f'max_offset is {max_offset}, expected > 0')
    keypoints = np.array(keypoints, dtype=np.float32, copy=True)
    n, k = keypoints.shape[:2]
    h, w = heatmaps.shape[1:]
    if heatmaps.shape[0] != k:
        raise ValueError(f'heatmaps have {heatmaps.shape[0]} channels, '
                         f'expected {k} (one per keypoint)')
    # DARK's modulation: blur, then log (a Gaussian becomes a quadratic)
    logs = gaussian_blur(np.array(heatmaps, dtype=np.float32, copy=True),
                         blur_kernel_size)
    np.maximum(logs, 1e-10, logs)
    np.log(logs, logs)

    xy = keypoints[..., :2].astype(int)  # (N, K, 2)
    x, y = xy[..., 0], xy[..., 1]
    # the 5x5 stencil must fit inside the map
    inside = (x > 1) & (x < w - 2) & (y > 1) & (y < h - 2)
    xc, yc = np.clip(x, 2, w - 3), np.clip(y, 2, h - 3)
    ch = np.broadcast_to(np.arange(k), (n, k))

    def at(dy, dx):
        return logs[ch, yc + dy, xc + dx]

    dx = 0.5 * (at(0, 1) - at(0, -1))
    dy = 0.5 * (at(1, 0) - at(-1, 0))
    dxx = 0.25 * (at(0, 2) - 2 * at(0, 0) + at(0, -2))
    dyy = 0.25 * (at(2, 0) - 2 * at(0, 0) + at(-2, 0))
    dxy = 0.25 * (at(1, 1) - at(-1, 1) - at(1, -1) + at(-1, -1))
    det = dxx * dyy - dxy**2
    # negative definite Hessian: the log-heatmap is a local maximum there
    concave = inside & (dxx < 0) & (det > 0)
    safe_det = np.where(concave, det, 1.0)
    # -H^-1 g with H^-1 = [[dyy, -dxy], [-dxy, dxx]] / det
    off_x = -(dyy * dx - dxy * dy) / safe_det
    off_y = -(-dxy * dx + dxx * dy) / safe_det
    offset = np.stack([off_x, off_y], axis=-1)  # (N, K, 2)
    offset = np.clip(offset, -max_offset, max_offset)
    keypoints[..., :2] += np.where(concave[..., None], offset, 0.0)
    return keypoints
