from .backbones import HRNetStage3
from .heads import RHTHead
from .necks import MSFFMNeck, TransHEncoder, TransPoseEncoder, TransREncoder
from .pose_estimators import FaceTTAModel, RHTPoseEstimator
from .utils import (HardTransformer, LocalFeatureExtractor, SoftTransformer,
                    exact_affine_grid)

__all__ = [
    'HRNetStage3', 'RHTHead', 'MSFFMNeck', 'TransHEncoder',
    'TransPoseEncoder', 'TransREncoder', 'FaceTTAModel', 'RHTPoseEstimator',
    'HardTransformer', 'LocalFeatureExtractor', 'SoftTransformer',
    'exact_affine_grid'
]
