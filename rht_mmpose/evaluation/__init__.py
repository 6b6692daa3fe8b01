from .functional import auc_fr, eye_distance, face_nme, nme_summary
from .metrics import FaceNMEMetric, resolve_keypoint_scheme

__all__ = [
    'FaceNMEMetric', 'auc_fr', 'eye_distance', 'face_nme', 'nme_summary',
    'resolve_keypoint_scheme'
]
