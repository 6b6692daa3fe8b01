from .checkpoint import (atomic_write_bytes, atomic_write_text,
                         check_keypoint_count, load_checkpoint_safe,
                         mmengine_safe_globals,
                         register_mmengine_safe_globals,
                         remove_stale_tmp_files)
from .config_checks import DATA_ROOT_ENV, check_config_paths

# torch >= 2.6 loads with weights_only=True by default; allow-list
# mmengine's checkpoint objects so Runner.resume keeps working
# (a no-op on torch < 2.4).
register_mmengine_safe_globals()

__all__ = [
    'DATA_ROOT_ENV', 'check_config_paths', 'atomic_write_bytes',
    'atomic_write_text', 'check_keypoint_count', 'load_checkpoint_safe',
    'mmengine_safe_globals', 'register_mmengine_safe_globals',
    'remove_stale_tmp_files'
]
