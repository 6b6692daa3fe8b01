from .cpu_distributed import (CPUAwareDistributedDataParallel,
                              init_cpu_process_group, prepare_run)
from .hooks import (AtomicCheckpointHook, AtomicLocalBackend,
                    BadSampleReportHook,
                    NonFiniteLossError, NonFiniteLossHook, RNGStateHook,
                    TimeBudgetHook,
                    get_rng_state, set_rng_state)
from .optim_wrappers import BF16AutocastOptimWrapper

__all__ = [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'BadSampleReportHook',
    'BF16AutocastOptimWrapper',
    'CPUAwareDistributedDataParallel', 'NonFiniteLossError',
    'NonFiniteLossHook', 'RNGStateHook', 'TimeBudgetHook', 'get_rng_state',
    'init_cpu_process_group', 'prepare_run', 'set_rng_state'
]
