"""Trans-R encoder of RHT (TransPose-R-A4 layout)."""
from mmpose.registry import MODELS
from .transpose_encoder import TransPoseEncoder


@MODELS.register_module()
class TransREncoder(TransPoseEncoder):
    """Trans-R encoder: ResNet-50 layer2 (512 ch, stride 8) -> 1x1 conv to
    256 -> 4 layers, 8 heads, FFN 1024 -> F_G (B, 256, 32, 32) for a 256x256
    input. Only the defaults differ from :class:`TransPoseEncoder`."""

    def __init__(self,
                 in_channels: int = 512,
                 embed_dims: int = 256,
                 num_layers: int = 4,
                 num_heads: int = 8,
                 feedforward_channels: int = 1024,
                 **kwargs):
        super().__init__(in_channels, embed_dims, num_layers, num_heads,
                         feedforward_channels, **kwargs)
