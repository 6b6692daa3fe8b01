from .rht_pose_estimator import RHTPoseEstimator

__all__ = ['RHTPoseEstimator']
