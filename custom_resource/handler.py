"""Lambda entry point: check the event, then dispatch through crhelper to one hop.

crhelper gives us request-type dispatch and JSON logs that carry the stack, logical id
and request id. Everything that talks to CloudFormation is ours; the seam below switches
off the three crhelper behaviours we must not inherit:

- ``_set_timeout``: its watchdog would send FAILED with whatever physical id is current
  (often empty) 0.5 s before the Lambda deadline, racing our hand-off to the next hop;
- ``_cfn_response``: it would answer after every call, also when a hop handed off;
- ``_send``: its sender retries forever, ignores the HTTP status and logs the URL.
  The only callers left are crhelper's own failure paths; they answer through ours.

crhelper also catches every exception of a hop. A response that could not be delivered
must fail the invocation all the same, so that Lambda retries the event and, once it
gives up, the last-resort responder answers: the seam keeps that error
and ``Provider`` raises it once crhelper has returned.

crhelper also builds Lambda, EventBridge and CloudWatch Logs clients for its polling
transport, which we never use: about a third of a second of every cold start. Its own
switch for skipping them is the ``AWS_SAM_LOCAL`` variable, read once in its constructor.

``tests/test_crhelper_seam.py`` fails if an upgrade of crhelper moves this seam.

How much is logged is the deployer's choice (``WFC_LOG_LEVEL``, the template's LogLevel
parameter), handed to crhelper's log setup; the first line of every invocation names the
provider's release and the function version it runs as.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from crhelper import CfnResource

from .lifecycle import Runtime, check_answerable, respond, run_hop
from .progress import Failed
from .request import CfnRequest, NotARequestError, mask_url, parse_request
from .response import ResponseNotDeliveredError, UnsafeResponseURLError
from .settings import Settings
from .version import running_version

logger = logging.getLogger(__name__)


class _Seam(CfnResource):
    """crhelper's dispatch and logging, with its transport and watchdog switched off."""

    def __init__(self, runtime: Runtime) -> None:
        with _without_polling_clients():
            super().__init__(
                json_logging=True,
                log_level=runtime.settings.log_level,
                boto_level="WARNING",
                sleep_on_delete=0,
            )
        # DEBUG is for this provider's own polls. The SDK's wire logs stay out of it, and so
        # does crhelper's: at DEBUG it logs each event whole, its ResponseURL unmasked.
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        self._sam_local = None
        self.runtime = runtime
        self.request: CfnRequest | None = None
        self.context: Any = None
        self.undelivered: ResponseNotDeliveredError | UnsafeResponseURLError | None = None
        """What ends the invocation with an error once crhelper has returned."""
        self.create(self._hop)
        self.update(self._hop)
        self.delete(self._hop)

    def run(self, request: CfnRequest, context: Any) -> None:
        """Run one hop; raise ``ResponseNotDeliveredError`` after crhelper has returned."""
        self.request, self.context, self.undelivered = request, context, None
        try:
            super().__call__(dict(request.event), context)
            undelivered = self.undelivered
        finally:
            self.request, self.context, self.undelivered = None, None, None
        if undelivered is not None:
            raise undelivered

    def _hop(self, event: dict[str, Any], context: Any) -> None:
        request = self.request
        assert request is not None
        logger.info(
            "%s %s (hop %d) on WaitForCertificate %s, response to %s",
            request.request_type,
            request.logical_resource_id,
            request.relay.hop if request.relay else 1,
            running_version(context),
            mask_url(request.response_url),
        )
        try:
            run_hop(request, context, self.runtime)
        except (ResponseNotDeliveredError, UnsafeResponseURLError) as exc:
            self.undelivered = exc  # raised after crhelper, whose failure path would PUT

    def _set_timeout(self) -> None:
        """No watchdog: the relay hands off before the deadline."""

    def _cfn_response(self, event: dict[str, Any]) -> None:
        """The hop has already answered, or handed off to the next hop."""

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        """crhelper's own failure paths answer FAILED through our sender."""
        if self.request is None:
            logger.error("crhelper failed outside a request: %s", reason)
            return
        try:
            respond(self.request, Failed(reason or "crhelper failed"), self.context, self.runtime)
        except ResponseNotDeliveredError as exc:
            self.undelivered = exc


@contextlib.contextmanager
def _without_polling_clients() -> Iterator[None]:
    previous = os.environ.get(_SKIP_CLIENTS)
    os.environ[_SKIP_CLIENTS] = "true"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[_SKIP_CLIENTS]
        else:
            os.environ[_SKIP_CLIENTS] = previous


_SKIP_CLIENTS = "AWS_SAM_LOCAL"
QUIET_LOGGERS = ("boto3", "botocore", "urllib3", "crhelper")


class Provider:
    """Checks that an event is a CloudFormation request before anything else sees it."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self.runtime = runtime or Runtime()
        self._seam = _Seam(self.runtime)

    def __call__(self, event: Any, context: Any) -> None:
        """Run one hop; raises ``ResponseNotDeliveredError`` so that Lambda retries it, and
        ``UnsafeResponseURLError`` when it refuses the address it was given (loudly: the
        invocation fails where Lambda's Errors metric and the provider's alarm see it)."""
        try:
            request = parse_request(event)
        except NotARequestError as exc:
            logger.error(
                "WaitForCertificate %s: ignoring an event that is not a CloudFormation request: %s",
                running_version(context),
                exc,
            )
            return
        self._seam.run(request, context)

    def refuse(self, event: Any, context: Any, problem: Exception) -> None:
        """Answer FAILED without doing anything: the function itself is misconfigured.

        Raises ``ResponseNotDeliveredError`` like a hop does.
        """
        try:
            request = parse_request(event)
        except NotARequestError:
            return
        reason = f"The WaitForCertificate provider is misconfigured: {problem}"
        check_answerable(request, self.runtime.settings)
        respond(request, Failed(reason), context, self.runtime)


_provider: Provider | None = None


def handler(event: Any, context: Any) -> None:
    """The function's Handler: ``custom_resource.handler.handler``."""
    global _provider
    if _provider is None:
        try:
            _provider = Provider()
        except ValueError as exc:
            version = running_version(context)
            logger.error("WaitForCertificate %s is misconfigured: %s", version, exc)
            Provider(Runtime(settings=Settings())).refuse(event, context, exc)
            return
    _provider(event, context)
