"""rht_mmpose: Reference Heatmap Transformer as an MMPose plugin.

Importing this package registers every module into MMPose's own registries
(MODELS, DATASETS, TRANSFORMS, KEYPOINT_CODECS, METRICS, HOOKS), so one
``custom_imports = dict(imports=['rht_mmpose'])`` line in a config is all the
wiring a user needs.
"""
from . import (codecs, datasets, engine, evaluation, models, utils,  # noqa: F401
               visualization)
from .version import __version__

__all__ = ['__version__', 'codecs', 'datasets', 'engine', 'evaluation', 'models']
