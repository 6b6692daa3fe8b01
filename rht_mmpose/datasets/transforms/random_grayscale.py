"""Random grey conversion (RHT recipe: 20%).

MMPose 1.3.2 has no grey, blur or occlusion transform of its own (only
``Albumentation``, which would pull albumentations and scikit-image into the
environment), so the RHT recipe's three (this, ``RandomGaussianBlur``,
``RandomOcclusion``) are small OpenCV transforms. They work on
``results['img']`` (H, W, 3) BGR uint8 and leave the keypoints alone.
"""
import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS


def check_prob(prob: float) -> None:
    """The probability of a random transform, in [0, 1]."""
    if not 0. <= prob <= 1.:
        raise ValueError(f'prob {prob} must be in [0, 1]')


@TRANSFORMS.register_module()
class RandomGrayscale(BaseTransform):
    """Convert the image to grey (kept 3-channel) with probability ``prob``.

    Args:
        prob (float): Probability. Defaults to 0.2 (RHT recipe).
    """

    def __init__(self, prob: float = 0.2) -> None:
        check_prob(prob)
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() < self.prob:
            img = results['img']
            if img.ndim == 3 and img.shape[2] == 3:
                grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
                results['img'] = np.ascontiguousarray(
                    np.repeat(grey[..., None], 3, axis=2))
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'
