from pycocotools.cocoeval import COCOeval  # noqa: F401
