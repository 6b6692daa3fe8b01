from .msffm_neck import MSFFMNeck
from .trans_h_encoder import TransHEncoder
from .trans_r_encoder import TransREncoder
from .transpose_encoder import TransPoseEncoder

__all__ = ['MSFFMNeck', 'TransHEncoder', 'TransREncoder', 'TransPoseEncoder']
