"""One fixed view of a face for test-time augmentation: the crop's box
scaled and turned by set amounts (``RandomBBoxTransform``'s scale and
rotation, without the randomness), so that ``TestTimeAug`` can list the
views a :class:`~rht_mmpose.models.FaceTTAModel` averages."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class FixedBBoxTransform(BaseTransform):
    """Scale ``bbox_scale`` by ``scale_factor`` and set ``bbox_rotation``
    to ``rotation`` degrees (counter-clockwise, as ``TopdownAffine`` turns
    the crop). Goes after ``GetBBoxCenterScale``, before ``TopdownAffine``.

    Args:
        scale_factor (float): > 0; above 1 the crop shows more context
            (the face is smaller in it). Defaults to 1.
        rotation (float): Degrees. Defaults to 0.
    """

    def __init__(self, scale_factor: float = 1., rotation: float = 0.):
        if not scale_factor > 0:
            raise ValueError(f'scale_factor must be > 0, got {scale_factor}')
        self.scale_factor = float(scale_factor)
        self.rotation = float(rotation)

    def transform(self, results: dict) -> dict:
        if 'bbox_scale' not in results:
            raise KeyError('FixedBBoxTransform needs bbox_scale: put it '
                           'after GetBBoxCenterScale')
        results['bbox_scale'] = results['bbox_scale'] * self.scale_factor
        n = len(results['bbox_scale'])
        results['bbox_rotation'] = np.full(n, self.rotation, np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale_factor='
                f'{self.scale_factor}, rotation={self.rotation})')
