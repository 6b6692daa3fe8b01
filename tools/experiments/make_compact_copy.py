"""Make a downscaled copy of a folder tree of 300W-style faces (.pts +
image) to carry to a remote training machine with a small upload limit.

Each image is resized so its longer side is at most ``--max-side`` pixels
(never upscaled), re-encoded as JPEG, and its ``.pts`` points are scaled by
the same factor. NME is scale-invariant, so accuracy figures on the copy
and on the original agree up to resampling.

Example:
    python tools/experiments/make_compact_copy.py \
        ../shared/data/300w_subset .gpu/300w_subset \
        --folders afw helen/trainset --max-side 384
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np

IMG_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def read_pts_points(path: str) -> np.ndarray:
    """Read the (N, 2) points of a ``.pts`` file (``{ ... }`` block)."""
    with open(path) as f:
        lines = [ln.strip() for ln in f]
    start, end = lines.index('{') + 1, lines.index('}')
    return np.array([[float(v) for v in ln.split()] for ln in lines[start:end]])


def write_pts(path: str, points: np.ndarray) -> None:
    body = '\n'.join(f'{x:.3f} {y:.3f}' for x, y in points)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(f'version: 1\nn_points: {len(points)}\n{{\n{body}\n}}\n')
    os.replace(tmp, path)


def compact_folder(src: str, dst: str, max_side: int, quality: int) -> int:
    os.makedirs(dst, exist_ok=True)
    count = 0
    for name in sorted(os.listdir(src)):
        stem, ext = osp.splitext(name)
        if ext.lower() not in IMG_EXTS:
            continue
        pts_path = osp.join(src, stem + '.pts')
        if not osp.isfile(pts_path):
            continue
        img = cv2.imread(osp.join(src, name), cv2.IMREAD_COLOR)
        if img is None:
            raise IOError(f'cannot read image {osp.join(src, name)!r}')
        scale = min(1.0, max_side / max(img.shape[:2]))
        if scale < 1.0:
            size = (round(img.shape[1] * scale), round(img.shape[0] * scale))
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        h0, w0 = cv2.imread(osp.join(src, name)).shape[:2]
        fx, fy = img.shape[1] / w0, img.shape[0] / h0
        # pixel-centre convention: x' = (x + 0.5) * f - 0.5
        points = read_pts_points(pts_path)
        points = (points + 0.5) * np.array([fx, fy]) - 0.5
        out_img = osp.join(dst, stem + '.jpg')
        ok, buf = cv2.imencode('.jpg', img,
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        with open(out_img + '.tmp', 'wb') as f:
            f.write(buf.tobytes())
        os.replace(out_img + '.tmp', out_img)
        write_pts(osp.join(dst, stem + '.pts'), points)
        count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src_root')
    parser.add_argument('dst_root')
    parser.add_argument('--folders', nargs='+', required=True)
    parser.add_argument('--max-side', type=int, default=384)
    parser.add_argument('--quality', type=int, default=90)
    args = parser.parse_args()
    for folder in args.folders:
        n = compact_folder(
            osp.join(args.src_root, folder), osp.join(args.dst_root, folder),
            args.max_side, args.quality)
        print(f'{folder}: {n} faces')


if __name__ == '__main__':
    main()
