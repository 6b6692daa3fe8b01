from .metrics import FaceNMEMetric, auc_fr, resolve_keypoint_scheme

__all__ = ['FaceNMEMetric', 'auc_fr', 'resolve_keypoint_scheme']
