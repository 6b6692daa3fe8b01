from .rht_head import RHTHead

__all__ = ['RHTHead']
