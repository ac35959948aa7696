"""The errors earlywarn raises on purpose; the CLI prints them and exits 2."""


class EarlywarnError(Exception):
    """A problem the user can fix (bad input, bad config); never a bug."""


class SchemaError(EarlywarnError):
    """Input tables break the data contract; the message lists every problem found."""


class ConfigError(EarlywarnError):
    """A configuration file is missing, unreadable or invalid."""


class ModelError(EarlywarnError):
    """A model cannot be loaded or does not fit the installed code."""


class TrackingError(ModelError):
    """The tracking server or model registry cannot be reached or refused a request."""


class PromotionRefused(EarlywarnError):
    """A model version was not promoted because it does not beat what it would replace."""


class OutputError(EarlywarnError):
    """An output cannot be written where it was asked for (a folder missing rights, a file
    in the way); raised before the work starts, so nothing was written."""


class PersonalDataError(EarlywarnError):
    """Personal data (names, ID numbers, phones, addresses) was about to leave its table."""
