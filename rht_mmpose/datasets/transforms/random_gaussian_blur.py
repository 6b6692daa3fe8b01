"""Random Gaussian blur (RHT recipe: 30%; see random_grayscale.py)."""
from typing import Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from .random_grayscale import check_prob


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Gaussian blur with a random sigma, with probability ``prob``.

    Args:
        prob (float): Probability. Defaults to 0.3 (RHT recipe).
        sigma_range (tuple): Blur sigma in pixels of the image the transform
            sees, drawn uniformly. Defaults to (0.5, 2.0).
    """

    def __init__(self,
                 prob: float = 0.3,
                 sigma_range: Tuple[float, float] = (0.5, 2.0)) -> None:
        check_prob(prob)
        if not 0 < sigma_range[0] <= sigma_range[1]:
            raise ValueError(f'sigma_range {sigma_range} must be increasing '
                             f'and positive')
        self.prob = prob
        self.sigma_range = tuple(sigma_range)

    def transform(self, results: dict) -> dict:
        if np.random.rand() < self.prob:
            sigma = np.random.uniform(*self.sigma_range)
            ksize = int(2 * np.ceil(3 * sigma) + 1)
            results['img'] = cv2.GaussianBlur(results['img'], (ksize, ksize),
                                              sigma)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'sigma_range={self.sigma_range})')
