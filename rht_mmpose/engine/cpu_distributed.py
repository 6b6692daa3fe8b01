"""Distributed training on CPU-only machines (gloo), for CI and for users
without GPUs.

mmengine 0.10.7 assumes a GPU in two places of ``--launcher pytorch``:

1. ``mmengine.dist.utils._init_dist_pytorch`` calls
   ``torch.cuda.set_device(LOCAL_RANK)``, which raises "Found no NVIDIA
   driver" on a CPU-only machine. The Runner only initialises the process
   group when none exists, so ``tools/train.py`` / ``tools/test.py`` call
   :func:`init_cpu_process_group` first: with no accelerator it creates
   the gloo group itself; with one it does nothing and mmengine's own code
   runs. Nothing of mmengine is patched.
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
import torch
from mmengine.model import MMDistributedDataParallel
# mmengine's Runner.wrap_model looks the wrapper type up with
# ``MODEL_WRAPPERS.get`` on mmengine's root registry, which does not search
# mmpose's child registry; so this one class registers there (mmpose's scope
# still finds it through its parent).
from mmengine.registry import MODEL_WRAPPERS

def _has_accelerator() -> bool:
    from mmengine.device import (is_mlu_available, is_musa_available,
                                 is_npu_available)
    return (torch.cuda.is_available() or is_mlu_available()
            or is_npu_available() or is_musa_available())


def init_cpu_process_group(launcher: str, backend: str) -> bool:
    """Create the process group of a ``--launcher pytorch`` run on a machine
    without an accelerator (where mmengine's ``init_dist`` would fail) and
    return True; otherwise do nothing and return False.

    Args:
        launcher (str): ``'none' | 'pytorch' | 'slurm' | 'mpi'``
        backend (str): ``env_cfg.dist_cfg.backend``; must be ``'gloo'``
            on the CPU
    """
    if launcher != 'pytorch' or _has_accelerator() \
            or torch.distributed.is_initialized():
        return False
    if backend != 'gloo':
        raise ValueError(
            f'distributed backend {backend!r} needs a GPU and none is '
            f'available; expected \'gloo\' on the CPU '
            f'(--cfg-options env_cfg.dist_cfg.backend=gloo)')
    torch.distributed.init_process_group(backend=backend)
    return True


@MODEL_WRAPPERS.register_module()
class CPUAwareDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also wraps a model on the CPU.

    Differs only in ``__init__``: when every parameter of ``module`` is on
    the CPU, ``device_ids`` and ``output_device`` are set to None (torch
    requires that for CPU modules; mmengine's runner always passes
    ``device_ids=[LOCAL_RANK]``). On a GPU it is ``MMDistributedDataParallel``.
    """

    def __init__(self, module, **kwargs) -> None:
        if {p.device.type for p in module.parameters()} == {'cpu'}:
            kwargs.update(device_ids=None, output_device=None)
        super().__init__(module=module, **kwargs)


def prepare_run(cfg) -> None:
    """What ``tools/train.py`` and ``tools/test.py`` opt into before the
    Runner is built (importing ``rht_mmpose`` changes nothing of mmengine /
    torch): allow-list mmengine's checkpoint objects for torch's
    ``weights_only`` loading (a no-op on torch < 2.4), and create the gloo
    process group of a CPU ``--launcher pytorch`` run."""
    from rht_mmpose.utils import register_mmengine_safe_globals
    register_mmengine_safe_globals()
    backend = ((cfg.get('env_cfg', None) or {}).get('dist_cfg', None)
               or {}).get('backend', 'nccl')
    init_cpu_process_group(cfg.get('launcher', 'none'), backend)
