from .hrnet_stage3 import HRNetStage3
from .torchvision_mobilenet_v2 import TorchvisionMobileNetV2

__all__ = ['HRNetStage3', 'TorchvisionMobileNetV2']
