from .hard_transformer import HardTransformer, exact_affine_grid
from .local_feature_extractor import LocalFeatureExtractor
from .reference_batch import ReferenceBatch, ReferenceFeatures
from .reference_pool import ReferencePool
from .shape_refiner import (LinearShapeRefiner, apply_shape_refiner,
                            fit_shape_refiner)
from .soft_transformer import SoftTransformer

__all__ = [
    'HardTransformer', 'LinearShapeRefiner', 'LocalFeatureExtractor',
    'ReferenceBatch', 'ReferenceFeatures', 'ReferencePool',
    'SoftTransformer', 'apply_shape_refiner', 'exact_affine_grid',
    'fit_shape_refiner'
]
