from pycocotools.coco import COCO  # noqa: F401
