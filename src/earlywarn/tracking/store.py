"""The tracking store: where it is, whether it can be used, and the experiment runs go to.

The store is ``sqlite:///mlflow.db`` in the working directory unless ``MLFLOW_TRACKING_URI``
says otherwise; artifacts of an experiment earlywarn creates on SQLite go to ``mlartifacts/``
beside the database. Checking a store never creates one.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import mlflow
from mlflow.tracking import MlflowClient

from earlywarn.errors import ModelError, TrackingError

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
ARTIFACTS_DIR_NAME = "mlartifacts"
HEALTH_CHECK_TIMEOUT_SECONDS = 5.0


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///mlflow.db`` in the working directory."""
    return os.environ.get("MLFLOW_TRACKING_URI", "").strip() or DEFAULT_TRACKING_URI


def configure(uri: str | None = None) -> str:
    """Point MLflow's tracking and registry at ``uri`` (default :func:`tracking_uri`)."""
    uri = uri or tracking_uri()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def redact_uri(uri: str) -> str:
    """The URI without any user name or password, for messages."""
    parsed = urlparse(uri)
    if parsed.username or parsed.password:
        host = parsed.hostname or ""
        netloc = f"{host}:{parsed.port}" if parsed.port else host
        return urlunparse(parsed._replace(netloc=f"***@{netloc}"))
    return uri


def first_line(err: BaseException) -> str:
    """The first line of an error's message (at most 300 characters), for messages."""
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else ""


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (``None`` for an in-memory database)."""
    path = uri.removeprefix("sqlite://")
    path = path[1:] if path.startswith("/") else path
    if path in ("", ":memory:"):
        return None
    return Path(path)


def check_tracking_available(uri: str | None = None) -> None:
    """Fail fast, before any training, if the tracking store cannot be used; create nothing.

    A SQLite or file store needs a writable folder (a store not there yet is created by the
    first logged run, not here); a database store must answer, a server its health check
    within a few seconds; an existing store must then list experiments. Raises
    :class:`TrackingError`.
    """
    uri = uri or tracking_uri()
    shown = redact_uri(uri)
    scheme = urlparse(uri).scheme
    hint = (
        "start the server, or set MLFLOW_TRACKING_URI to a reachable server or to "
        f"{DEFAULT_TRACKING_URI}; nothing was logged or changed"
    )
    if scheme == "sqlite":
        if not _sqlite_store_ready(uri, shown):
            return  # the first logged run creates it
    elif scheme in ("", "file"):
        if not _file_store_ready(uri, scheme, shown):
            return  # the first logged run lays it out
    elif scheme in ("http", "https"):
        _check_server(uri, shown, hint)
    if _is_database(scheme) and not _has_tracking_tables(uri, shown, hint):
        return  # an empty database: MLflow lays out its tables when the first run is logged
    try:
        MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
    except Exception as err:
        raise TrackingError(
            f"tracking store {shown} cannot be used "
            f"({type(err).__name__}: {first_line(err)}): {hint}"
        ) from err


def _sqlite_store_ready(uri: str, shown: str) -> bool:
    """Whether a SQLite store's file exists; refuses an unwritable folder or file."""
    db = _sqlite_path(uri)
    if db is None:
        return True
    folder = db.resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise TrackingError(
            f"tracking store {shown}: folder {folder} does not exist or is not writable"
        )
    if db.exists() and (not db.is_file() or not os.access(db, os.W_OK)):
        raise TrackingError(f"tracking store {shown}: {db} is not a writable file")
    return db.exists()


def _file_store_ready(uri: str, scheme: str, shown: str) -> bool:
    """Whether a file store's folder holds anything; refuses an unwritable place."""
    folder = Path(urlparse(uri).path if scheme else uri).resolve()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not os.access(existing, os.W_OK):
        raise TrackingError(f"tracking store {shown}: {existing} is not writable")
    return folder.is_dir() and any(folder.iterdir())


def _check_server(uri: str, shown: str, hint: str) -> None:
    """A short probe of the server's health check instead of MLflow's retries."""
    import requests  # a dependency of mlflow

    timeout = _probe_timeout()
    try:
        response = requests.get(f"{uri.rstrip('/')}/health", timeout=timeout)
    except requests.RequestException as err:
        raise TrackingError(
            f"tracking server {shown} is unreachable "
            f"({type(err).__name__} within {timeout:g} s): {hint}"
        ) from err
    if response.status_code >= 500:
        raise TrackingError(
            f"tracking server {shown} answered HTTP {response.status_code} "
            f"to its health check: {hint}"
        )


def require_store(uri: str, what: str) -> None:
    """Refuse, creating nothing, to read from a tracking store that is not there yet (MLflow's
    client would create an empty one). A usage error (exit 2, :class:`ModelError`), not an
    unreachable service: trying again later will not make the store appear."""
    scheme = urlparse(uri).scheme
    db = _sqlite_path(uri) if scheme == "sqlite" else None
    shown = redact_uri(uri)
    if (db is not None and not db.is_file()) or (
        _is_database(scheme) and not _has_tracking_tables(uri, shown, "")
    ):
        where = db.resolve() if db is not None else shown
        raise ModelError(
            f"{what}: there is no tracking store at {where} "
            "(train a model first, or set MLFLOW_TRACKING_URI)"
        )


def _is_database(scheme: str) -> bool:
    """A SQLAlchemy store (``sqlite``, ``postgresql+psycopg2``, ``mysql``, ``mssql``)."""
    return scheme.split("+", 1)[0] in ("sqlite", "postgresql", "mysql", "mssql")


def _has_tracking_tables(uri: str, shown: str, hint: str) -> bool:
    """Whether a database store already holds MLflow's tables; it is connected to and read
    only (MLflow's own client would lay out the tables of an empty database)."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(uri)
        try:
            with engine.connect() as connection:
                return "experiments" in sqlalchemy.inspect(connection).get_table_names()
        finally:
            engine.dispose()
    except Exception as err:
        raise TrackingError(
            f"tracking store {shown} cannot be used "
            f"({type(err).__name__}: {first_line(err)})" + (f": {hint}" if hint else "")
        ) from err


def _probe_timeout() -> float:
    raw = os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT", "")
    try:
        seconds = float(raw) if raw else HEALTH_CHECK_TIMEOUT_SECONDS
    except ValueError:
        seconds = HEALTH_CHECK_TIMEOUT_SECONDS
    return min(seconds, HEALTH_CHECK_TIMEOUT_SECONDS)


def experiment_id(client: MlflowClient, name: str, uri: str) -> str:
    """The experiment's id, creating it (artifacts beside a SQLite database) if needed."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            raise TrackingError(
                f"experiment {name!r} is deleted in {redact_uri(uri)}; restore it "
                "(mlflow experiments restore) or change tracking.experiment"
            )
        return str(experiment.experiment_id)
    artifact_location = None
    if urlparse(uri).scheme == "sqlite" and (db := _sqlite_path(uri)) is not None:
        artifact_location = (db.resolve().parent / ARTIFACTS_DIR_NAME).as_uri()
    return str(client.create_experiment(name, artifact_location=artifact_location))
