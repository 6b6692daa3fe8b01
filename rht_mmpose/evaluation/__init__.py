from .metrics import FaceNMEMetric, auc_fr, resolve_keypoint_scheme
from .shape_refiner import apply_shape_refiner, fit_shape_refiner

__all__ = [
    'FaceNMEMetric', 'auc_fr', 'resolve_keypoint_scheme',
    'fit_shape_refiner', 'apply_shape_refiner'
]
