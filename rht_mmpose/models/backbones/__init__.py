from .hrnet_stage3 import HRNetStage3

__all__ = ['HRNetStage3']
