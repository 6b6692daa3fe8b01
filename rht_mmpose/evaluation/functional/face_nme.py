"""Face-alignment errors as functions, the one definition
:class:`FaceNMEMetric` and every benchmark script use (formulas:
docs/metrics.md).

Note:
    - N: faces
    - K: landmarks
"""
from typing import Dict, Optional, Sequence

import numpy as np

from rht_mmpose.codecs.face_schemes import FACE_SCHEMES, find_face_scheme


def eye_distance(gt: np.ndarray, eyes: Sequence[Sequence[int]]) -> np.ndarray:
    """(N,) distance between two eye points of each face (N, K, 2), each
    the mean of its landmark indices (``eyes`` = [a, b], index lists)."""
    gt = np.asarray(gt, np.float64)
    a, b = (gt[:, list(idx)].mean(axis=1) for idx in eyes)
    return np.linalg.norm(a - b, axis=-1)


def face_nme(pred: np.ndarray, gt: np.ndarray,
             norm_mode: str = 'inter_ocular',
             eyes: Optional[Sequence[Sequence[int]]] = None) -> np.ndarray:
    """(N,) mean point-to-point error of each face (N, K, 2) over its
    normaliser: the distance of the ``norm_mode`` eye points
    (``inter_ocular``: outer eye corners; ``inter_pupil``: eye centres) of
    the keypoint scheme with K landmarks, or of ``eyes``."""
    gt = np.asarray(gt, np.float64).reshape(-1, *np.shape(gt)[-2:])
    pred = np.asarray(pred, np.float64).reshape(gt.shape)
    if eyes is None:
        spec = FACE_SCHEMES[find_face_scheme(gt.shape[1])]['normalisers']
        if norm_mode not in spec:
            raise ValueError(f'norm_mode {norm_mode!r} is not defined for '
                             f'{gt.shape[1]} keypoints, expected one of '
                             f'{sorted(spec)}')
        eyes = spec[norm_mode]
    return np.linalg.norm(pred - gt, axis=-1).mean(-1) / eye_distance(
        gt, eyes)


def auc_fr(errors: np.ndarray, threshold: float) -> Dict[str, float]:
    """Exact AUC of the cumulative error distribution and failure rate.

    The CED is the step function ``CED(e) = #{i: e_i <= e} / N``. Its integral
    over ``[0, t]`` is ``sum_i max(0, t - e_i) / N``, so

    ``AUC@t = (1 / t) * int_0^t CED(e) de = mean_i max(0, 1 - e_i / t)``

    (exact, no sampling) and ``FR@t = #{i: e_i > t} / N``.

    Args:
        errors (np.ndarray): (N,) per-image NME.
        threshold (float): t > 0.

    Returns:
        dict: ``auc`` and ``fr`` in [0, 1].
    """
    if threshold <= 0:
        raise ValueError(f'threshold must be > 0, got {threshold}')
    errors = np.asarray(errors, dtype=np.float64).reshape(-1)
    if errors.size == 0:
        return dict(auc=float('nan'), fr=float('nan'))
    auc = float(np.mean(np.clip(1.0 - errors / threshold, 0.0, 1.0)))
    fr = float(np.mean(errors > threshold))
    return dict(auc=auc, fr=fr)


def nme_summary(nme_io: np.ndarray, nme_ip: Optional[np.ndarray] = None,
                threshold: float = 0.1) -> Dict[str, float]:
    """The rows the benchmarks print from per-face errors (N,): ``faces``,
    ``NME_io``, ``NME_ip`` (when given), ``FR@t`` and ``AUC@t`` of
    NME_io."""
    nme_io = np.asarray(nme_io, np.float64).reshape(-1)
    out = dict(faces=len(nme_io), NME_io=float(nme_io.mean()))
    if nme_ip is not None:
        out['NME_ip'] = float(np.mean(nme_ip))
    fit = auc_fr(nme_io, threshold)
    out[f'FR@{threshold:g}'] = fit['fr']
    out[f'AUC@{threshold:g}'] = fit['auc']
    return out
