"""Distributed training on CPU-only machines (gloo), for CI and for users
without GPUs.

mmengine 0.10.7 assumes a GPU in two places of ``--launcher pytorch``:

1. ``mmengine.dist.utils._init_dist_pytorch`` calls
   ``torch.cuda.set_device(LOCAL_RANK)``, which raises "Found no NVIDIA
   driver" on a CPU-only machine. :func:`patch_mmengine_cpu_init_dist`
   (applied when ``rht_mmpose`` is imported) skips that call *only when no
   CUDA device is available*; with a GPU mmengine's function runs unchanged.
2. ``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to
   ``MMDistributedDataParallel``, which torch refuses for a CPU module.
   :class:`CPUAwareDistributedDataParallel` drops ``device_ids`` when the
   model is on the CPU.

A CPU distributed run therefore needs::

    env_cfg = dict(dist_cfg=dict(backend='gloo'))
    model_wrapper_cfg = dict(type='CPUAwareDistributedDataParallel')

e.g. ``torchrun --nproc_per_node 2 tools/train.py CONFIG --launcher pytorch
--cfg-options env_cfg.dist_cfg.backend=gloo
model_wrapper_cfg.type=CPUAwareDistributedDataParallel``.
"""
import functools

import torch
import mmengine.dist.utils as mmengine_dist_utils
from mmengine.model import MMDistributedDataParallel
# mmengine's Runner.wrap_model looks the wrapper type up with
# ``MODEL_WRAPPERS.get`` on mmengine's root registry, which does not search
# mmpose's child registry; so this one class registers there (mmpose's scope
# still finds it through its parent).
from mmengine.registry import MODEL_WRAPPERS

_original_init_dist_pytorch = mmengine_dist_utils._init_dist_pytorch


def _has_accelerator() -> bool:
    from mmengine.device import (is_mlu_available, is_musa_available,
                                 is_npu_available)
    return (torch.cuda.is_available() or is_mlu_available()
            or is_npu_available() or is_musa_available())


@functools.wraps(_original_init_dist_pytorch)
def _init_dist_pytorch_cpu_aware(backend, init_backend='torch', **kwargs):
    if _has_accelerator():
        return _original_init_dist_pytorch(
            backend, init_backend=init_backend, **kwargs)
    if backend != 'gloo':
        raise ValueError(
            f'distributed backend {backend!r} needs a GPU and none is '
            f'available; expected \'gloo\' on the CPU '
            f'(--cfg-options env_cfg.dist_cfg.backend=gloo)')
    if init_backend != 'torch':
        raise ValueError(f'init_backend {init_backend!r} is not supported '
                         f'on the CPU, expected \'torch\'')
    torch.distributed.init_process_group(backend=backend, **kwargs)


def patch_mmengine_cpu_init_dist() -> None:
    """Install the CPU-aware ``_init_dist_pytorch`` (idempotent)."""
    mmengine_dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu_aware


@MODEL_WRAPPERS.register_module()
class CPUAwareDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also wraps a model on the CPU.

    Differs only in ``__init__``: when every parameter of ``module`` is on
    the CPU, ``device_ids`` and ``output_device`` are set to None (torch
    requires that for CPU modules; mmengine's runner always passes
    ``device_ids=[LOCAL_RANK]``). On a GPU it is ``MMDistributedDataParallel``.
    """

    def __init__(self, module, detect_anomalous_params: bool = False,
                 **kwargs) -> None:
        devices = {p.device.type for p in module.parameters()}
        if devices == {'cpu'}:
            kwargs['device_ids'] = None
            kwargs['output_device'] = None
        super().__init__(
            module=module,
            detect_anomalous_params=detect_anomalous_params,
            **kwargs)
