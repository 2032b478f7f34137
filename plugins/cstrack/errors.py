class CstrackError(Exception):
    """An expected failure: the CLI prints its message as one line and exits non-zero."""


class MappingError(CstrackError):
    """A catalogue mapping or codebook that does not fit its contract or its data file."""


class QualityGateFailed(CstrackError):
    """A critical expectation failed: nothing was published."""
