"""GET with retries for the outside world: 429, 5xx and dropped connections are retried with
exponential backoff (tenacity); any other answer goes back to the client, which judges its 4xx with a
one-line message. A secret passed in the query string (the Odds API's `apiKey`) never reaches a
message or a log line."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import httpx
import tenacity

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
_SECRET_PARAMETER = re.compile(r"((?:api_?key|apiKey|token)=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    """Any `apiKey=...` (or api_key=, token=) in a URL or message, with its value replaced by ***."""
    return _SECRET_PARAMETER.sub(r"\1***", str(text))


class _RedactingFilter(logging.Filter):
    """httpx logs every request's URL at INFO (and httpcore at DEBUG): the query string holds the key."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, (str, httpx.URL)) else a for a in record.args)
        record.msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
        return True


for _name in ("httpx", "httpcore"):
    if not any(isinstance(f, _RedactingFilter) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(_RedactingFilter())


class SourceError(RuntimeError):
    """A source answered with an error that retrying will not fix (one line, no secret)."""

    def __init__(self, message: str, status: int | None = None, body: str = ""):
        self.status = status
        self.body = redact(body)[:300]
        super().__init__(redact(message))


class RetryableStatus(SourceError):
    """429 or 5xx: worth another try."""


def json_fields(response: httpx.Response) -> dict:
    """The response's JSON body when it is an object (an API's error: error_code, message), else {}."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(response: httpx.Response) -> str:
    body = json_fields(response)
    return str(body.get("error_code") or body.get("message") or "")[:120]


class HttpSource:
    """A JSON source at `base_url`: `get(path, params)` returns the first answer that is not a retryable
    failure, after up to `attempts` tries, `retry_wait` seconds apart at first and doubling (at most 60)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float = 30.0,
        attempts: int = 5,
        retry_wait: float = 2.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.attempts = max(1, attempts)
        self.retry_wait = retry_wait
        self.client = httpx.Client(
            base_url=self.base_url, timeout=timeout, headers=dict(headers or {}), transport=transport
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _get_once(self, path: str, params: Mapping[str, object]) -> httpx.Response:
        try:
            response = self.client.get(path, params={k: v for k, v in params.items() if v is not None})
        except httpx.TransportError as exc:  # refused, reset, timed out: the network, not the request
            raise RetryableStatus(f"{self.name}: {type(exc).__name__} on {path}: {exc}") from None
        if response.status_code in RETRIED_STATUSES:
            raise RetryableStatus(
                f"{self.name}: HTTP {response.status_code} on {path} {_error_code(response)}".rstrip(),
                response.status_code,
                response.text,
            )
        return response

    def get(self, path: str, params: Mapping[str, object] | None = None) -> httpx.Response:
        """The response of GET path (any status but the retried ones; the caller judges 4xx)."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(RetryableStatus),
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=self.retry_wait, max=60),
            reraise=True,
        )
        return retrying(self._get_once, path, dict(params or {}))
