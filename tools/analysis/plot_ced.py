# Copyright (c) rht_mmpose contributors. All rights reserved.
"""Draw cumulative error distribution (CED) curves into one PNG.

Inputs are the per-image error files written by ``FaceNMEMetric``
(``<prefix>.per_image.json`` or ``.csv``). Each curve is labelled with its
NME, FR and AUC at ``--threshold`` (formulas in ``docs/metrics.md``).

Example::

    python tools/analysis/plot_ced.py work_dirs/a/face_nme.per_image.json \
        work_dirs/b/face_nme.per_image.json --labels RHT-R RHT-H \
        --out ced.png --norm-mode inter_ocular --threshold 0.1 --size 800 600
"""
import argparse
import csv
import json
import os.path as osp
import sys
from typing import List, Optional, Tuple

import numpy as np

from rht_mmpose.evaluation.metrics.face_nme_metric import (NORM_ABBR,
                                                           NORM_MODES, auc_fr)

ABBR_TO_MODE = {v: k for k, v in NORM_ABBR.items()}


class ResultFileError(ValueError):
    """A result file that cannot be read as per-image errors."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('files', nargs='+', help='per-image error files '
                        '(.json or .csv from FaceNMEMetric)')
    parser.add_argument('--labels', nargs='+', help='one label per file '
                        '(default: file names)')
    parser.add_argument('--out', default='ced.png', help='output PNG')
    parser.add_argument(
        '--norm-mode', choices=list(NORM_MODES) + list(ABBR_TO_MODE),
        help='normaliser to plot (default: the main one of each file)')
    parser.add_argument('--threshold', type=float, default=0.1,
                        help='x-axis limit, FR and AUC threshold')
    parser.add_argument('--size', type=int, nargs=2, default=(800, 600),
                        metavar=('WIDTH', 'HEIGHT'), help='PNG size in px')
    args = parser.parse_args(argv)
    if args.labels is not None and len(args.labels) != len(args.files):
        parser.error(f'{len(args.labels)} labels for {len(args.files)} files')
    if args.threshold <= 0:
        parser.error(f'--threshold must be > 0, got {args.threshold}')
    if min(args.size) <= 0:
        parser.error(f'--size must be positive, got {args.size}')
    return args


def load_errors(path: str, norm_mode: Optional[str] = None
                ) -> Tuple[np.ndarray, str]:
    """Read per-image NME of one normaliser from a result file.

    Args:
        path (str): ``.json`` or ``.csv`` written by ``FaceNMEMetric``.
        norm_mode (str, optional): normaliser (full name or abbreviation);
            default: the file's main one (the first column of a csv).

    Returns:
        tuple: errors (N,) float64 (images without a value dropped) and the
        normaliser's name.

    Raises:
        ResultFileError: naming the file and what is wrong with it.
    """
    if norm_mode in ABBR_TO_MODE:
        norm_mode = ABBR_TO_MODE[norm_mode]
    if not osp.isfile(path):
        raise ResultFileError(f'{path}: no such file')
    try:
        if path.endswith('.csv'):
            with open(path, newline='') as f:
                rows = list(csv.DictReader(f))
            if not rows:
                raise ResultFileError(f'{path}: no rows')
            cols = [c for c in rows[0] if c and c.startswith('nme_')]
            if not cols:
                raise ResultFileError(f'{path}: no nme_* column, expected '
                                      f'a FaceNMEMetric per-image csv')
            if norm_mode is None:
                col = cols[0]
                norm_mode = ABBR_TO_MODE.get(col[4:], col[4:])
            else:
                col = f'nme_{NORM_ABBR[norm_mode]}'
                if col not in cols:
                    raise ResultFileError(
                        f'{path}: has no {col} column (has {cols})')
            vals = [r[col] for r in rows]
            errors = [float(v) for v in vals if v not in ('', None)]
        else:
            with open(path) as f:
                data = json.load(f)
            if not isinstance(data, dict) or not isinstance(
                    data.get('images'), list):
                raise ResultFileError(
                    f'{path}: expected a json object with an "images" list '
                    f'(a FaceNMEMetric per-image file)')
            if norm_mode is None:
                norm_mode = data.get('main_norm_mode')
            if norm_mode is None:
                raise ResultFileError(f'{path}: no main_norm_mode; pass '
                                      f'--norm-mode')
            errors = []
            for i, rec in enumerate(data['images']):
                nme = rec.get('nme') if isinstance(rec, dict) else None
                if not isinstance(nme, dict) or norm_mode not in nme:
                    raise ResultFileError(
                        f'{path}: image record {i} has no nme[{norm_mode!r}]')
                if nme[norm_mode] is not None:
                    errors.append(float(nme[norm_mode]))
    except ResultFileError:
        raise
    except (ValueError, TypeError, KeyError, UnicodeDecodeError,
            csv.Error) as e:
        raise ResultFileError(f'{path}: malformed result file ({e})') from e
    errors = np.asarray(errors, dtype=np.float64)
    if errors.size == 0:
        raise ResultFileError(f'{path}: no per-image errors')
    if not np.all(np.isfinite(errors)) or np.any(errors < 0):
        raise ResultFileError(f'{path}: errors must be finite and >= 0')
    return errors, norm_mode


def plot_ced(curves: List[Tuple[str, np.ndarray]], out: str,
             threshold: float, size: Tuple[int, int],
             norm_mode: str) -> None:
    """Draw the CED curves (step functions) and save a PNG of ``size`` px.

    Args:
        curves (list): (label, errors (N,)) pairs.
        out (str): PNG path.
        threshold (float): x-axis limit and FR / AUC threshold.
        size (tuple): (width, height) in pixels.
        norm_mode (str): normaliser name for the axis label.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    dpi = 100
    fig = plt.figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    for label, errors in curves:
        e = np.sort(errors)
        n = e.size
        xs = np.concatenate([[0.0], e, [max(threshold, e[-1])]])
        ys = np.concatenate([[0.0], np.arange(1, n + 1) / n, [1.0]])
        stats = auc_fr(e, threshold)
        t = f'{threshold:g}'
        ax.step(
            xs, ys, where='post',
            label=(f'{label}: NME {100 * e.mean():.2f}%, FR@{t} '
                   f'{100 * stats["fr"]:.2f}%, AUC@{t} '
                   f'{100 * stats["auc"]:.2f}%'))
    ax.set_xlim(0, threshold)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f'NME ({norm_mode})')
    ax.set_ylabel('fraction of images')
    ax.grid(True, alpha=0.3)
    ax.legend(loc='lower right', fontsize='small')
    fig.tight_layout()
    d = osp.dirname(osp.abspath(out))
    if not osp.isdir(d):
        raise ResultFileError(f'{out}: output folder {d} does not exist')
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    labels = args.labels or [
        osp.splitext(osp.basename(f))[0] for f in args.files
    ]
    curves = []
    modes = set()
    try:
        for label, path in zip(labels, args.files):
            errors, mode = load_errors(path, args.norm_mode)
            modes.add(mode)
            curves.append((label, errors))
        plot_ced(curves, args.out, args.threshold, tuple(args.size),
                 ' / '.join(sorted(modes)))
    except ResultFileError as e:
        print(f'plot_ced.py: error: {e}', file=sys.stderr)
        return 1
    print(f'CED of {len(curves)} file(s) saved to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
