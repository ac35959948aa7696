"""The errors earlywarn raises on purpose, and the exit code the CLI gives each.

The CLI prints them without a traceback: exit 2 for anything the user fixes (bad input, bad
config), exit 3 for a service that cannot be reached or used right now (the tracking store,
a Dask scheduler: trying again later may work). A traceback (exit 1) means a bug.
"""

#: Exit codes of the ``earlywarn`` command (README "Exit codes", docs/api.md).
EXIT_OK = 0
EXIT_BUG = 1
EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3
EXIT_DRIFT = 4


class EarlywarnError(Exception):
    """A problem the user can fix (bad input, bad config); never a bug."""

    exit_code: int = EXIT_BAD_INPUT


class SchemaError(EarlywarnError):
    """Input tables break the data contract; the message lists every problem found."""


class ConfigError(EarlywarnError):
    """A configuration file is missing, unreadable or invalid."""


class ServiceUnavailable(EarlywarnError):
    """A service earlywarn needs cannot be reached or used now; trying again later may work."""

    exit_code = EXIT_UNAVAILABLE


class ModelError(EarlywarnError):
    """A model cannot be loaded or does not fit the installed code."""


class TrackingError(ModelError, ServiceUnavailable):
    """The tracking server or model registry cannot be reached or refused a request."""

    exit_code = EXIT_UNAVAILABLE


class SchedulerError(ServiceUnavailable):
    """The Dask scheduler given with ``--scheduler`` cannot be reached."""


class PromotionRefused(EarlywarnError):
    """A model version was not promoted because it does not beat what it would replace."""


class OutputError(EarlywarnError):
    """An output cannot be written where it was asked for (a folder missing rights, a file
    in the way); raised before the work starts, so nothing was written."""


class PersonalDataError(EarlywarnError):
    """Personal data (names, ID numbers, phones, addresses) was about to leave its table."""
