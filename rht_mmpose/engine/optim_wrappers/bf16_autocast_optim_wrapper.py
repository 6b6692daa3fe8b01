"""bfloat16 autocast for training on any device, the CPU included."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mmpose.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16AutocastOptimWrapper(OptimWrapper):
    """:class:`OptimWrapper` whose forward runs under
    ``torch.autocast(<the model's device type>, dtype=torch.bfloat16)``.

    What differs from mmengine's ``AmpOptimWrapper``: it also runs on the
    CPU (``AmpOptimWrapper`` refuses a machine without an accelerator), and
    has no loss scaler, which bfloat16's float32 exponent range does not
    need. Parameters, gradients and the optimizer stay float32; validation
    and test run in float32 (only the training step is wrapped).
    """

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        device = next(model.parameters()).device
        with super().optim_context(model), torch.autocast(
                device_type=device.type, dtype=torch.bfloat16):
            yield
