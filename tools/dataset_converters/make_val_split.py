"""Carve a seeded validation split out of 300-W training faces, stratified
over the folders (each folder gives the same fraction), and write it as a
split file for ``Face300WPtsDataset(split_file=..., split='train' | 'val')``.

    python tools/dataset_converters/make_val_split.py \
        --folders afw helen/trainset lfpw/trainset --fraction 0.1 --seed 0 \
        --out configs/experiments/splits/300w_train2012_val.txt
"""
import argparse
import os
import os.path as osp
import re

import numpy as np

from rht_mmpose.datasets.pts_to_coco import find_image
from rht_mmpose.utils.io import atomic_write_text


# AFW / HELEN name the faces of one photo <photo id>_<face number>
_FACE_OF_PHOTO = re.compile(r'(\d+)_\d+')


def photo_of(stem: str) -> str:
    """The photo a face crop comes from (faces of one photo stay on one
    side of the split)."""
    match = _FACE_OF_PHOTO.fullmatch(stem)
    return match.group(1) if match else stem


def stratified_split(data_root: str, folders, fraction: float,
                     seed: int) -> list:
    """Validation image paths (relative to ``data_root``): per folder, the
    photos of a seeded permutation (the seed offset by the folder's
    position) are taken in order until ``round(fraction * n)`` of its n
    faces are chosen; a photo's faces are never split."""
    if not 0 < fraction < 1:
        raise ValueError(f'fraction {fraction} must be in (0, 1)')
    chosen = []
    for i, folder in enumerate(folders):
        full = osp.join(data_root, folder)
        if not osp.isdir(full):
            raise FileNotFoundError(f'folder {full!r} does not exist')
        stems = sorted(f[:-4] for f in os.listdir(full) if f.endswith('.pts'))
        photos = sorted({photo_of(s) for s in stems})
        n_val = int(round(fraction * len(stems)))
        picked = []
        for j in np.random.default_rng(seed + i).permutation(len(photos)):
            if len(picked) >= n_val:
                break
            picked += [s for s in stems if photo_of(s) == photos[j]]
        for stem in sorted(picked):
            image = find_image(osp.join(full, stem + '.pts'))
            chosen.append(osp.relpath(image, data_root).replace(os.sep, '/'))
    return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default=osp.join(
        os.environ.get('RHT_DATA_ROOT', '../shared/data'), '300w_subset'))
    parser.add_argument('--folders', nargs='+', required=True)
    parser.add_argument('--fraction', type=float, default=0.1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    val = stratified_split(args.data_root, args.folders, args.fraction,
                           args.seed)
    header = (f'# validation faces: {args.fraction:g} of each of '
              f'{" ".join(args.folders)} (seed {args.seed}), paths relative '
              f'to the 300w_subset data root; written by\n# python '
              f'tools/dataset_converters/make_val_split.py --folders '
              f'{" ".join(args.folders)} --fraction {args.fraction:g} --seed '
              f'{args.seed} --out {args.out}\n')
    atomic_write_text(header + '\n'.join(val) + '\n', args.out)
    print(f'{args.out}: {len(val)} validation faces')


if __name__ == '__main__':
    main()
