"""bfloat16 autocast for training on any device, the CPU included."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mmpose.registry import OPTIM_WRAPPERS


def to_float32(output):
    """bfloat16 tensors in a (nested) tuple / list / dict as float32."""
    if isinstance(output, torch.Tensor):
        return output.float() if output.dtype == torch.bfloat16 else output
    if isinstance(output, (tuple, list)):
        return type(output)(to_float32(o) for o in output)
    if isinstance(output, dict):
        return {k: to_float32(v) for k, v in output.items()}
    return output


@OPTIM_WRAPPERS.register_module()
class BF16AutocastOptimWrapper(OptimWrapper):
    """:class:`OptimWrapper` whose forward runs under
    ``torch.autocast(<the model's device type>, dtype=torch.bfloat16)``.

    What differs from mmengine's ``AmpOptimWrapper``: it also runs on the
    CPU (``AmpOptimWrapper`` refuses a machine without an accelerator), and
    has no loss scaler, which bfloat16's float32 exponent range does not
    need. Parameters, gradients and the optimizer stay float32; validation
    and test run in float32 (only the training step is wrapped). The
    outputs of the model's ``head`` are handed to its loss as float32
    (mmpose's heads turn them into numpy arrays for their accuracy, which
    has no bfloat16).
    """

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        device = next(model.parameters()).device
        head = getattr(getattr(model, 'module', model), 'head', None)
        # heads call self.forward() inside loss(), past any forward hook:
        # the instance's forward is wrapped for the step, then restored
        wrapped = isinstance(head, torch.nn.Module)
        if wrapped:
            forward = head.forward
            head.forward = lambda *args, **kwargs: to_float32(
                forward(*args, **kwargs))
        try:
            with super().optim_context(model), torch.autocast(
                    device_type=device.type, dtype=torch.bfloat16):
                yield
        finally:
            if wrapped:
                del head.forward
