from .checkpoint import (load_checkpoint_safe, mmengine_safe_globals,
                         register_mmengine_safe_globals)
from .config_checks import DATA_ROOT_ENV, check_config_paths
from .io import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, PtsFormatError,
                 atomic_output, atomic_savez, atomic_write_bytes,
                 atomic_write_json, atomic_write_text, is_image_file,
                 read_pts, remove_stale_tmp_files, write_pts)

__all__ = [
    'DATA_ROOT_ENV', 'IMAGE_EXTENSIONS', 'PtsFormatError',
    'VIDEO_EXTENSIONS', 'atomic_output', 'atomic_savez',
    'atomic_write_bytes', 'atomic_write_json', 'atomic_write_text',
    'check_config_paths', 'is_image_file',
    'load_checkpoint_safe', 'mmengine_safe_globals', 'read_pts',
    'register_mmengine_safe_globals', 'remove_stale_tmp_files', 'write_pts'
]
