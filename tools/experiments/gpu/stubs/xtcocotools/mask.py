from pycocotools.mask import *  # noqa: F401,F403
