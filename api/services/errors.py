"""The errors services raise; `api.errors` answers each with its status and `{"detail": ...}`.

ServiceError
├── InvalidError          422  the input breaks a rule the schema cannot say
├── ConflictError         409  the current state forbids it (lesson not ready, no consent)
├── NotReadyError         404  a file processing has not made (yet, or ever)
├── TooLargeError         413  a recording over the size limit
├── UnsupportedError      415  not a recording (judged by its content)
└── UnavailableError      503  the queue or a render is not there yet (with Retry-After)
"""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal a client can act on; `status` is the HTTP status it is answered with, `code`
    (when given) a stable name for it, answered beside the detail."""

    status = 400

    def __init__(
        self, detail: str, code: str | None = None, *, retry_after: int | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return None if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class InvalidError(ServiceError):
    status = 422


class ConflictError(ServiceError):
    status = 409


class NotReadyError(ServiceError):
    status = 404


class TooLargeError(ServiceError):
    status = 413


class UnsupportedError(ServiceError):
    status = 415


class UnavailableError(ServiceError):
    status = 503


def too_large_detail(size: int, limit: int) -> str:
    return (
        f"The recording is {size / 1024**2:.1f} MB; this server accepts up to "
        f"{limit / 1024**2:.0f} MB per recording."
    )
