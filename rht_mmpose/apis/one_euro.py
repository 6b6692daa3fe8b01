"""One Euro filter (Casiez, Roussel and Vogel, CHI 2012) for landmarks.

A low-pass filter whose cutoff rises with the speed of the signal: still
points are smoothed hard (less jitter), moving points little (less lag).

Note:
    - shape: any array shape, filtered elementwise (e.g. (K, 2) landmarks)
"""
import math
from typing import Optional

import numpy as np


def smoothing_factor(cutoff: np.ndarray, dt: float) -> np.ndarray:
    """Exponential smoothing weight of a first-order low-pass filter with
    cutoff frequency ``cutoff`` (Hz) sampled every ``dt`` seconds."""
    tau = 1.0 / (2 * math.pi * np.asarray(cutoff, np.float64))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filter a stream of arrays sampled at (possibly uneven) times.

    ``x_hat = a * x + (1 - a) * x_hat_prev`` with ``a`` from the cutoff
    ``min_cutoff + beta * |dx_hat|``, where ``dx_hat`` is the speed
    (units per second) low-passed at ``d_cutoff``.

    Args:
        min_cutoff (float): cutoff in Hz at rest; lower = smoother, more
            lag on slow motion.
        beta (float): cutoff increase per unit of speed (1 / units); higher
            = less lag on fast motion.
        d_cutoff (float): cutoff in Hz of the speed estimate.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05,
                 d_cutoff: float = 1.0):
        for name, v in (('min_cutoff', min_cutoff), ('d_cutoff', d_cutoff)):
            if not v > 0:
                raise ValueError(f'{name} must be > 0 Hz, got {v}')
        if beta < 0:
            raise ValueError(f'beta must be >= 0, got {beta}')
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next sample passes unchanged."""
        self.x_prev: Optional[np.ndarray] = None
        self.dx_prev: Optional[np.ndarray] = None
        self.t_prev: Optional[float] = None

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filter sample ``x`` taken at time ``t`` (seconds)."""
        x = np.asarray(x, np.float64)
        if self.x_prev is None:
            self.x_prev, self.dx_prev, self.t_prev = x, np.zeros_like(x), t
            return x.copy()
        if x.shape != self.x_prev.shape:
            raise ValueError(f'sample of shape {x.shape}, the filter '
                             f'follows {self.x_prev.shape}')
        dt = t - self.t_prev
        if not dt > 0:
            raise ValueError(f'time must increase: got {t} after '
                             f'{self.t_prev}')
        dx = (x - self.x_prev) / dt
        a_d = smoothing_factor(self.d_cutoff, dt)
        dx_hat = a_d * dx + (1 - a_d) * self.dx_prev
        cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
        a = smoothing_factor(cutoff, dt)
        x_hat = a * x + (1 - a) * self.x_prev
        self.x_prev, self.dx_prev, self.t_prev = x_hat, dx_hat, t
        return x_hat.copy()
