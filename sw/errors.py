"""The one exception type users see.

Anything that is the user's to fix (missing data, a corrupt file, a bad option, a wrong array)
raises :class:`EcgAlqError` with a message that says what is wrong and what was expected. The
command line prints that message and exits with status 2 instead of showing a traceback.
"""


class EcgAlqError(Exception):
    """A problem with the user's input, files or configuration, explained in its message."""


class OutputError(EcgAlqError):
    """An output path that cannot be written as asked (:mod:`ecg_alq.outputs`)."""
