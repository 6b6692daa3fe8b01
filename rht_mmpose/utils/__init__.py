from .config_checks import DATA_ROOT_ENV, check_config_paths

__all__ = ['DATA_ROOT_ENV', 'check_config_paths']
