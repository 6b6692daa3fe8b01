"""Low-resolution references (the paper's Table VII).

The most correlated training face is shown to the reference branch at
32x32 or 64x64: its crop is resized down with bicubic interpolation and
back up to the reference size, so the branch sees the same R x R input
with the detail of a ``size`` x ``size`` image.
"""
import cv2
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LowResolution(BaseTransform):
    """Resize ``results['img']`` (H, W, 3) to ``size`` x ``size`` and back
    to (H, W), both bicubic; the keypoints are left alone.

    Put it after ``TopdownAffine`` in a reference pipeline (the crop is then
    the reference size R x R).

    Args:
        size (int): the low resolution (32 or 64 in the paper).
    """

    def __init__(self, size: int) -> None:
        if int(size) < 1:
            raise ValueError(f'size {size} must be a positive number of '
                             f'pixels')
        self.size = int(size)

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        small = cv2.resize(
            img, (self.size, self.size), interpolation=cv2.INTER_CUBIC)
        results['img'] = cv2.resize(
            small, (w, h), interpolation=cv2.INTER_CUBIC)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size={self.size})'
