from .atomic_checkpoint_hook import AtomicCheckpointHook, AtomicLocalBackend
from .bad_sample_report_hook import BadSampleReportHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .rng_state_hook import RNGStateHook, get_rng_state, set_rng_state
from .time_budget_hook import TimeBudgetHook

__all__ = [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'BadSampleReportHook',
    'NonFiniteLossError', 'NonFiniteLossHook', 'RNGStateHook',
    'TimeBudgetHook', 'get_rng_state', 'set_rng_state'
]
