"""Stub of mmcv's compiled ops for mmcv-lite: RHT and mmpose's models call
no compiled mmcv op; any op that is called fails loudly."""


def __getattr__(name):

    def _missing(*args, **kwargs):
        raise RuntimeError(f'mmcv._ext.{name} is not available (mmcv-lite '
                           f'stub; install full mmcv for compiled ops)')

    return _missing
