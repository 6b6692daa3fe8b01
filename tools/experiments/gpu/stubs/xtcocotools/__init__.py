"""Stand-in for xtcocotools on machines where it has no wheel (Python 3.12
GPU boxes): mmpose only needs the COCO json reader, which pycocotools has."""
