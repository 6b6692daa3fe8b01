"""Data transforms of the RHT training recipe (grey, blur, occlusion)."""
from .random_gaussian_blur import RandomGaussianBlur
from .random_grayscale import RandomGrayscale
from .random_occlusion import RandomOcclusion

__all__ = ['RandomGrayscale', 'RandomGaussianBlur', 'RandomOcclusion']
