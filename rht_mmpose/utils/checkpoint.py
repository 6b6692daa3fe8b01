"""Checkpoint helpers: restricted loading, keypoint-count check.

Two problems these solve (see ``docs/reliability.md``; atomic writes live
in :mod:`rht_mmpose.utils.io`):

- ``torch.load`` runs arbitrary pickled code unless ``weights_only=True``,
  and mmengine 0.10.7 checkpoints hold non-tensor objects (the message hub's
  ``HistoryBuffer``, numpy arrays in ``dataset_meta``), which the restricted
  unpickler refuses (torch >= 2.6 makes it the default, so mmengine's own
  resume breaks): ``load_checkpoint_safe`` and
  ``register_mmengine_safe_globals``;
- a checkpoint trained for another keypoint count would load with a warning
  and predict nonsense: ``check_keypoint_count`` refuses it.
"""
import os
import os.path as osp
import pickle
import warnings
from typing import Callable, Dict, List, Optional, Union

import torch

def mmengine_safe_globals() -> list:
    """Non-tensor classes and functions that an mmengine 0.10.x / mmpose
    checkpoint pickles, to allow-list for ``torch.load(weights_only=True)``.

    Returns:
        list: ``HistoryBuffer`` (message hub); ``getattr``, because pickle
        protocol 2 stores the message hub's ``statistics_methods``
        (``HistoryBuffer.min`` ...) as ``getattr(HistoryBuffer, 'min')`` (the
        restricted unpickler still calls only allow-listed callables, so
        this lets a file look attributes up, not call them); and the numpy
        reconstructors, array, dtype and scalar types found in
        ``dataset_meta`` and in the logged scalars.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer
    try:  # numpy >= 2 moved the private module
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy < 2
        from numpy.core import multiarray
    allowed = [HistoryBuffer, getattr, multiarray._reconstruct,
               multiarray.scalar,
               np.ndarray, np.dtype]
    # numpy >= 1.25 pickles dtypes as instances of np.dtypes.*DType classes.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [getattr(dtypes, name) for name in dir(dtypes)
                    if name.endswith('DType')]
    return allowed


def _supports_safe_globals() -> bool:
    return hasattr(torch.serialization, 'add_safe_globals')


def register_mmengine_safe_globals() -> bool:
    """Allow-list :func:`mmengine_safe_globals` for every restricted
    ``torch.load`` in this process (torch >= 2.4).

    With torch >= 2.6, ``torch.load`` defaults to ``weights_only=True`` and
    mmengine 0.10.7's ``Runner.resume`` / ``load_checkpoint`` call it without
    the argument, so resume fails on mmengine's own checkpoints. Importing
    ``rht_mmpose`` calls this function, which makes them load again while
    still refusing arbitrary pickled code.

    Returns:
        bool: True if registered, False on torch < 2.4 (there ``torch.load``
        defaults to full unpickling, so nothing is needed).
    """
    if not _supports_safe_globals():
        return False
    torch.serialization.add_safe_globals(mmengine_safe_globals())
    return True


def load_checkpoint_safe(path: str,
                         map_location: Union[str, torch.device, Callable,
                                             None] = 'cpu',
                         allow_unsafe_fallback: bool = True) -> dict:
    """Load a checkpoint with ``torch.load(weights_only=True)``.

    - torch >= 2.4: mmengine's non-tensor objects
      (:func:`mmengine_safe_globals`) are allow-listed, so a full mmengine
      checkpoint (state dict, optimizer, message hub, meta) loads through the
      restricted unpickler; any other pickled global is refused.
    - torch < 2.4 (``add_safe_globals`` does not exist): a plain state dict
      (tensors, dicts, lists, numbers, strings) still loads with
      ``weights_only=True``. A full mmengine checkpoint is refused by that
      unpickler; if ``allow_unsafe_fallback`` it is then loaded with
      ``weights_only=False`` and a warning says so (only do that for files
      you wrote or trust), otherwise the ``UnpicklingError`` is raised.

    Args:
        path (str): Local checkpoint path.
        map_location: As for ``torch.load``. Defaults to ``'cpu'``.
        allow_unsafe_fallback (bool): See above. Defaults to True.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        RuntimeError: the file is truncated or not a torch checkpoint; the
            message names the path.
        pickle.UnpicklingError: the file needs a global that is not allowed.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} does not exist')
    try:
        if _supports_safe_globals():
            register_mmengine_safe_globals()
        try:
            return torch.load(path, map_location=map_location,
                              weights_only=True)
        except pickle.UnpicklingError:
            if _supports_safe_globals() or not allow_unsafe_fallback:
                raise
            warnings.warn(
                f'torch {torch.__version__} has no add_safe_globals, so the '
                f'restricted unpickler refuses the mmengine objects in '
                f'{path!r}; loading it with weights_only=False (trusted '
                f'files only)')
            return torch.load(path, map_location=map_location,
                              weights_only=False)
    except (EOFError, RuntimeError) as e:
        raise RuntimeError(
            f'checkpoint {path!r} is truncated or corrupt '
            f'({type(e).__name__}: {e}); use an earlier checkpoint') from e


def _state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), dict):
            return checkpoint[key]
    return checkpoint


def _final_head_weight(state_dict: Dict[str, torch.Tensor],
                       head_prefix: str) -> Optional[tuple]:
    """Return (key, weight) of the last conv layer of the head: the last
    4-d ``*.weight`` under ``head_prefix`` in state-dict order (mmpose heads
    register ``final_layer`` last)."""
    candidates = [(k, v) for k, v in state_dict.items()
                  if k.startswith(head_prefix) and k.endswith('.weight')
                  and hasattr(v, 'dim') and v.dim() == 4]
    final = [kv for kv in candidates if '.final_layer.' in kv[0]
             or kv[0].startswith(head_prefix + 'final_layer.')]
    if final:
        return final[-1]
    return candidates[-1] if candidates else None


def check_keypoint_count(state_dict: dict,
                         expected_k: int,
                         num_boundaries: int = 0,
                         head_prefix: str = 'head.') -> int:
    """Refuse a checkpoint whose head predicts another number of keypoints.

    The count is read from the output channels of the head's final conv
    (``head.final_layer.weight``, shape (C_out, C_in, kh, kw); the last 4-d
    head weight if there is no ``final_layer``). A heatmap head outputs K
    channels; an RHT head outputs K + P (landmarks then boundaries).

    Args:
        state_dict (dict): A state dict, or a checkpoint holding one under
            ``state_dict`` / ``model``; a ``module.`` prefix (DDP) is allowed.
        expected_k (int): K, the keypoints the config / dataset expects.
        num_boundaries (int): P, boundary channels after the K landmark
            channels (0 for a plain heatmap head). Defaults to 0.
        head_prefix (str): Key prefix of the head. Defaults to ``'head.'``.

    Returns:
        int: The checkpoint's keypoint count (equal to ``expected_k``).

    Raises:
        KeyError: no 4-d head weight under ``head_prefix``.
        ValueError: the counts differ; the message names both.
    """
    state_dict = _state_dict_of(state_dict)
    if any(k.startswith('module.') for k in state_dict):
        state_dict = {k[len('module.'):] if k.startswith('module.') else k: v
                      for k, v in state_dict.items()}
    found = _final_head_weight(state_dict, head_prefix)
    if found is None:
        raise KeyError(
            f'no conv weight under {head_prefix!r} in the checkpoint '
            f'(keys start with {sorted({k.split(".")[0] for k in state_dict})})'
        )
    key, weight = found
    channels = int(weight.shape[0])
    ckpt_k = channels - num_boundaries
    if ckpt_k != expected_k:
        detail = (f'{channels} output channels = {ckpt_k} keypoints + '
                  f'{num_boundaries} boundaries' if num_boundaries else
                  f'{channels} output channels')
        raise ValueError(
            f'checkpoint head predicts {ckpt_k} keypoints ({key}: {detail}), '
            f'expected {expected_k}; it was trained for another keypoint '
            f'layout (dataset) and cannot be used with this config')
    return ckpt_k
