"""BigQuery client construction and the query-parameter bridge.

Against the emulator the client uses anonymous credentials and the emulator's
endpoint; in production the endpoint is empty and application default
credentials apply.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from google.api_core.client_options import ClientOptions
from google.api_core.exceptions import GoogleAPICallError, NotFound
from google.api_core.retry import Retry
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from requests.adapters import HTTPAdapter

from contracts.messages import JobPriority
from segment_runtime.settings import BigQuerySettings

# The client's default retry re-submits a query on timeouts; submission must be
# explicit about how long it tries, and job ids make a re-submit harmless.
SUBMIT_RETRY = Retry(initial=0.5, maximum=5.0, multiplier=2.0, timeout=30.0)
REQUEST_TIMEOUT_S = 60.0


def make_client(settings: BigQuerySettings, connections: int = 10) -> bigquery.Client:
    """`connections`: HTTP connections kept open, one per call in flight (the default
    pool keeps 10; a service that long-polls many jobs at once needs one per job, or it
    opens and drops a connection, a TLS handshake against Google, on every call)."""
    if settings.bigquery_endpoint:
        client = bigquery.Client(
            project=settings.bigquery_project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=settings.bigquery_endpoint),
        )
    else:
        client = bigquery.Client(
            project=settings.bigquery_project, location=settings.bigquery_location
        )
    if connections > 10:
        adapter = HTTPAdapter(pool_connections=connections, pool_maxsize=connections)
        # The client keeps its own requests session: a bigger pool is mounted on it.
        client._http.mount("https://", adapter)
        client._http.mount("http://", adapter)
    return client


_SCALAR_TYPES: dict[type, str] = {
    bool: "BOOL",
    int: "INT64",
    float: "FLOAT64",
    str: "STRING",
    date: "DATE",
    datetime: "TIMESTAMP",
}


def _element_type(values: list[Any] | tuple[Any, ...]) -> str:
    """One type for a whole array: ints and floats together are FLOAT64."""
    kinds = {_SCALAR_TYPES[type(v)] for v in values} or {"STRING"}
    if kinds == {"INT64", "FLOAT64"}:
        return "FLOAT64"
    if len(kinds) > 1:
        raise TypeError(f"an array parameter mixes {sorted(kinds)}")
    return kinds.pop()


def to_query_parameters(
    params: dict[str, Any],
) -> list[bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter]:
    """Turn {name: python value} into typed BigQuery parameters."""
    out: list[bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter] = []
    for name, value in params.items():
        if isinstance(value, list | tuple):
            elem = _element_type(value)
            items = [float(v) for v in value] if elem == "FLOAT64" else list(value)
            out.append(bigquery.ArrayQueryParameter(name, elem, items))
        else:
            out.append(bigquery.ScalarQueryParameter(name, _SCALAR_TYPES[type(value)], value))
    return out


def query_config(
    params: dict[str, Any],
    *,
    priority: JobPriority = JobPriority.INTERACTIVE,
    labels: dict[str, str] | None = None,
    dry_run: bool = False,
) -> bigquery.QueryJobConfig:
    """Every query the platform sends says its priority: a person waits on INTERACTIVE
    (previews, counts, reads); only a refresh run's builds may ask for BATCH."""
    return bigquery.QueryJobConfig(
        query_parameters=to_query_parameters(params),
        priority=priority.value,
        labels=labels or {},
        dry_run=dry_run,
        use_query_cache=not dry_run,
        use_legacy_sql=False,
    )


def table_missing(exc: GoogleAPICallError) -> bool:
    """The query named a table that does not exist: BigQuery says so with a 404, the
    emulator in words ("does not exist", DuckDB's "Catalog Error")."""
    message = str(getattr(exc, "message", exc))
    return isinstance(exc, NotFound) or "does not exist" in message or "Catalog Error" in message
