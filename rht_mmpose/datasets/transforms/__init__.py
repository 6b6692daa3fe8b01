"""Data transforms of the RHT training recipe (grey, blur, occlusion), the
paper's low-resolution references, COFW's occluded-point weights and the
fixed views of test-time augmentation."""
from .fixed_bbox_transform import FixedBBoxTransform
from .low_resolution import LowResolution
from .occluded_keypoint_weights import OccludedKeypointWeights
from .random_gaussian_blur import RandomGaussianBlur
from .random_grayscale import RandomGrayscale
from .random_occlusion import RandomOcclusion

__all__ = [
    'FixedBBoxTransform', 'LowResolution', 'OccludedKeypointWeights',
    'RandomGrayscale', 'RandomGaussianBlur', 'RandomOcclusion'
]
