"""The error type of bad user input (reported without a traceback)."""


class FaceInputError(ValueError):
    """A user error: bad image, path, checkpoint or argument.

    The demo prints the message and exits non-zero without a traceback;
    programming errors keep their own types (and their tracebacks).
    """
