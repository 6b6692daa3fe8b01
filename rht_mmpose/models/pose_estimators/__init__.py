from .face_tta_model import FaceTTAModel
from .rht_pose_estimator import RHTPoseEstimator

__all__ = ['FaceTTAModel', 'RHTPoseEstimator']
