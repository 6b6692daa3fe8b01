from .checkpoint import (load_checkpoint_safe, mmengine_safe_globals,
                         register_mmengine_safe_globals)
from .config_checks import DATA_ROOT_ENV, check_config_paths
from .errors import FaceInputError
from .io import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, PtsFormatError,
                 atomic_output, atomic_savez, atomic_write_bytes,
                 atomic_write_json, atomic_write_text, check_writable_dir,
                 imwrite_atomic, load_image, read_face_points, read_pts,
                 remove_stale_tmp_files, to_bgr_uint8, write_pts)

__all__ = [
    'DATA_ROOT_ENV', 'FaceInputError', 'IMAGE_EXTENSIONS', 'PtsFormatError',
    'VIDEO_EXTENSIONS', 'atomic_output', 'atomic_savez',
    'atomic_write_bytes', 'atomic_write_json', 'atomic_write_text',
    'check_config_paths', 'check_writable_dir', 'imwrite_atomic',
    'load_image', 'to_bgr_uint8',
    'load_checkpoint_safe', 'mmengine_safe_globals', 'read_face_points',
    'read_pts',
    'register_mmengine_safe_globals', 'remove_stale_tmp_files', 'write_pts'
]
