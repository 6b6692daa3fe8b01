from .cpu_distributed import (CPUAwareDistributedDataParallel,
                              patch_mmengine_cpu_init_dist)
from .hooks import (AtomicCheckpointHook, AtomicLocalBackend,
                    BadSampleReportHook,
                    NonFiniteLossError, NonFiniteLossHook, RNGStateHook,
                    TimeBudgetHook,
                    get_rng_state, set_rng_state)

patch_mmengine_cpu_init_dist()

__all__ = [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'BadSampleReportHook',
    'CPUAwareDistributedDataParallel', 'NonFiniteLossError',
    'NonFiniteLossHook', 'RNGStateHook', 'TimeBudgetHook', 'get_rng_state',
    'patch_mmengine_cpu_init_dist', 'set_rng_state'
]
