class CstrackError(Exception):
    """An expected failure: the CLI prints its message as one line and exits non-zero."""


class MappingError(CstrackError):
    """A catalogue mapping or codebook that does not fit its contract or its data file."""


class QualityGateFailed(CstrackError):
    """A critical expectation failed: nothing was published."""


def one_line(exc: BaseException) -> str:
    """`<what>: <why>` for any exception, on one line: a CstrackError's own message; for anything else its
    kind and first line, named so a user can tell a warehouse outage from a bug."""
    if isinstance(exc, CstrackError):
        text = str(exc)
    else:
        first = (str(exc).strip().splitlines() or [""])[0]
        try:
            import psycopg

            if isinstance(exc, psycopg.OperationalError):
                return f"the warehouse connection failed: {first or 'server closed the connection'}"
        except ImportError:  # pragma: no cover - psycopg is a dependency
            pass
        if isinstance(exc, OSError) and exc.filename:
            text = f"{exc.filename}: {exc.strerror or first}"
        elif isinstance(exc, MemoryError):
            text = "out of memory"
        else:
            text = f"unexpected {type(exc).__name__}: {first}" if first else f"unexpected {type(exc).__name__}"
    return " ".join(text.split())  # one line, whatever the message held


def task_errors(func):
    """Decorator for Airflow task callables: a failure's reason is the CLI's one line, logged as
    `cstrack: error: ...` and raised as a CstrackError (Airflow shows `cstrack.errors.CstrackError: ...`
    as the task's failure), with the original exception chained for the task log's traceback."""
    import functools
    import logging

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            line = one_line(exc)
            logging.getLogger("cstrack").error("cstrack: error: %s", line)
            if isinstance(exc, CstrackError):
                raise
            raise CstrackError(line) from exc

    return wrapper
