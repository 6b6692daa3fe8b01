"""Restricted checkpoint loading (see ``docs/reliability.md``; atomic
writes live in :mod:`rht_mmpose.utils.io`; a checkpoint trained for another
keypoint count is refused by ``rht_mmpose.apis.init_face_model``).

``torch.load`` runs arbitrary pickled code unless ``weights_only=True``,
and mmengine 0.10.7 checkpoints hold non-tensor objects (the message hub's
``HistoryBuffer``, numpy arrays in ``dataset_meta``), which the restricted
unpickler refuses (torch >= 2.6 makes it the default, so mmengine's own
resume breaks): ``load_checkpoint_safe`` and
``register_mmengine_safe_globals``.
"""
import os
import os.path as osp
import pickle
import warnings
from typing import Callable, Union

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
               multiarray.scalar, np.ndarray, np.dtype]
    # numpy >= 1.25 pickles dtypes as instances of np.dtypes.*DType classes.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [getattr(dtypes, name) for name in dir(dtypes)
                    if name.endswith('DType')]
    return allowed


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
    if not hasattr(torch.serialization, 'add_safe_globals'):
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
        safe_globals_registered = register_mmengine_safe_globals()
        try:
            return torch.load(path, map_location=map_location,
                              weights_only=True)
        except pickle.UnpicklingError:
            if safe_globals_registered or not allow_unsafe_fallback:
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
