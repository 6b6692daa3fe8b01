"""Convert folders of 300W-style ``.pts`` + images into one MMPose
COCO-style face json (the layout of MMPose's 300W annotations).

Example (the shared 300W subset)::

    python tools/dataset_converters/pts_to_coco.py \
        --root ../shared/data/300w_subset \
        --folders afw helen/trainset \
        --out work_dirs/300w_subset/train.json

``file_name`` is relative to ``--root``; coordinates are the ``.pts``
points (1-based, 300-W's convention) as 0-based pixel centres, MMPose's
(``rht_mmpose.utils.io.read_face_points``); the box is the tight landmark
box. A
malformed ``.pts`` file or a missing image stops the run with a
:class:`PtsFormatError` naming the file.
"""
import argparse
import sys

from rht_mmpose.datasets.pts_to_coco import (PtsFormatError, convert,
                                             read_pts)

__all__ = ['convert', 'read_pts', 'PtsFormatError', 'main']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', required=True, help='data root')
    parser.add_argument(
        '--folders',
        nargs='+',
        required=True,
        help='folders of .pts + images, relative to --root')
    parser.add_argument('--out', required=True, help='output json')
    parser.add_argument(
        '--num-points', type=int, default=68, help='points per face')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        coco = convert(
            args.folders,
            args.out,
            args.root,
            num_points=args.num_points,
            progress=not args.no_progress)
    except (PtsFormatError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {len(coco["annotations"])} faces to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
