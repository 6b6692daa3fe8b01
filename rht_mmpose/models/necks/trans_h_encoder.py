"""Trans-H encoder of RHT (TransPose-H layout, RHT sizes)."""
from mmpose.registry import MODELS
from .transpose_encoder import TransPoseEncoder


@MODELS.register_module()
class TransHEncoder(TransPoseEncoder):
    """Trans-H encoder: HRNet-W48 stage-3 1/4 branch (48 ch) -> 1x1 conv to
    64 -> 4 layers, 1 head, FFN 128 -> F_G (B, 64, 64, 64) for a 256x256
    input. Only the defaults differ from :class:`TransPoseEncoder`."""

    def __init__(self,
                 in_channels: int = 48,
                 embed_dims: int = 64,
                 num_layers: int = 4,
                 num_heads: int = 1,
                 feedforward_channels: int = 128,
                 **kwargs):
        super().__init__(in_channels, embed_dims, num_layers, num_heads,
                         feedforward_channels, **kwargs)
