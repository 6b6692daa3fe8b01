"""Random rectangle occlusion (RHT recipe: 40%; see random_grayscale.py)."""
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from ...utils.face_geometry import landmark_box
from .random_grayscale import check_prob


@TRANSFORMS.register_module()
class RandomOcclusion(BaseTransform):
    """Paint a random rectangle over the face with probability ``prob``.

    The rectangle lies inside the face box: the tight box of the visible
    ``transformed_keypoints`` when present (after ``TopdownAffine``), else
    ``bbox`` (xyxy), else the whole image. Its area is a uniform fraction
    ``area_range`` of that box, its aspect ratio log-uniform in
    ``aspect_range``; it is filled with one random colour or with uniform
    noise (half the time each). Keypoint labels are unchanged: occluded
    landmarks are still supervised, as in the paper.

    Args:
        prob (float): Probability. Defaults to 0.4 (RHT recipe).
        area_range (tuple): Area fraction of the face box. Defaults to
            (0.05, 0.25).
        aspect_range (tuple): Height / width. Defaults to (0.5, 2.0).
    """

    def __init__(self,
                 prob: float = 0.4,
                 area_range: Tuple[float, float] = (0.05, 0.25),
                 aspect_range: Tuple[float, float] = (0.5, 2.0)) -> None:
        check_prob(prob)
        if not 0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError(f'area_range {area_range} must be in (0, 1]')
        self.prob = prob
        self.area_range = tuple(area_range)
        self.aspect_range = tuple(aspect_range)

    @staticmethod
    def _face_box(results: dict, h: int, w: int) -> np.ndarray:
        kpts: Optional[np.ndarray] = results.get('transformed_keypoints')
        if kpts is not None and np.ndim(kpts) == 3 and kpts.size:
            pts = kpts[0, :, :2]
            vis = results.get('keypoints_visible')
            if vis is not None:
                vis = np.asarray(vis).reshape(kpts.shape[0], -1)[0] > 0
                pts = pts[vis]
            if len(pts):
                return landmark_box(pts)
        if results.get('bbox') is not None:
            return np.asarray(results['bbox'], np.float32).reshape(-1, 4)[0]
        return np.array([0, 0, w - 1, h - 1], np.float32)

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        img = results['img']
        h, w = img.shape[:2]
        x0, y0, x1, y1 = self._face_box(results, h, w)
        x0, x1 = np.clip([x0, x1], 0, w - 1)
        y0, y1 = np.clip([y0, y1], 0, h - 1)
        bw, bh = max(x1 - x0, 1.), max(y1 - y0, 1.)
        area = np.random.uniform(*self.area_range) * bw * bh
        aspect = np.exp(np.random.uniform(*np.log(self.aspect_range)))
        rw = int(min(max(np.sqrt(area / aspect), 1), bw))
        rh = int(min(max(np.sqrt(area * aspect), 1), bh))
        rx = int(np.random.uniform(x0, max(x1 - rw, x0) + 1e-6))
        ry = int(np.random.uniform(y0, max(y1 - rh, y0) + 1e-6))
        img = img.copy()
        c = img.shape[2] if img.ndim == 3 else 1
        patch = img[ry:ry + rh, rx:rx + rw]
        if np.random.rand() < 0.5:
            patch[...] = np.random.randint(0, 256, size=c, dtype=np.uint8) \
                if img.ndim == 3 else np.random.randint(0, 256)
        else:
            patch[...] = np.random.randint(
                0, 256, size=patch.shape, dtype=np.uint8)
        results['img'] = img
        results['occlusion_box'] = np.array([rx, ry, rx + rw, ry + rh],
                                            np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'area_range={self.area_range}, '
                f'aspect_range={self.aspect_range})')
