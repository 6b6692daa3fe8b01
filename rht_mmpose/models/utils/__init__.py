from .hard_transformer import HardTransformer, exact_affine_grid
from .local_feature_extractor import LocalFeatureExtractor
from .soft_transformer import SoftTransformer

__all__ = [
    'HardTransformer', 'LocalFeatureExtractor', 'SoftTransformer',
    'exact_affine_grid'
]
