"""The demo's AWS: moto's server on 127.0.0.1 (a free port), patched, and sessions for it.

Everything it starts is stopped by ``stop()``: the server thread, its listening socket
(moto's own ``stop()`` leaves that open) and the connections of every client it made.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import urllib.request
import warnings
from typing import Any

import boto3
from moto.acm.models import acm_backends
from moto.awslambda.models import lambda_backends
from moto.cloudformation.models import cloudformation_backends
from moto.server import ThreadedMotoServer

from tools.emulator import VirtualClock

from .moto_patches import Dispatch, MotoPatches

QUIET_LOGGERS = ("werkzeug", "moto.cloudformation.parsing")
"""Request lines and "not supported" notes; the driver reports unsupported types itself."""
ACCOUNT = "123456789012"
"""moto's default account: what fake credentials map to."""
FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}


class LocalSession:
    """A boto3 session whose clients all talk to the emulation, with fake credentials.

    It offers what ``custom_resource.aws.Clients`` uses (``client``, ``region_name``)
    plus ``events`` for hooks, and closes every client it made on ``close()``.
    """

    def __init__(self, endpoint: str, region: str) -> None:
        self.endpoint = endpoint
        self._session = boto3.session.Session(region_name=region, **FAKE_CREDENTIALS)
        self._clients: list[Any] = []
        self._lock = threading.Lock()

    @property
    def region_name(self) -> str:
        return str(self._session.region_name)

    @property
    def events(self) -> Any:
        return self._session.events

    def client(self, service: str, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", self.endpoint)
        with self._lock:
            client = self._session.client(service, **kwargs)
            self._clients.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()


class Emulation:
    """moto's server plus the patches of ``moto_patches``; use as a context manager."""

    def __init__(
        self,
        dispatch: Dispatch,
        clock: VirtualClock,
        validation_wait: float,
        fail_validation: str | None = None,
        region: str = "us-east-1",
    ) -> None:
        self.region = region
        self.clock = clock
        self._dispatch = dispatch
        self._validation_wait = validation_wait
        self._fail_validation = fail_validation
        self._server: ThreadedMotoServer | None = None
        self._patches: MotoPatches | None = None
        self._sessions: list[LocalSession] = []
        self._quiet: warnings.catch_warnings[list[warnings.WarningMessage]] | None = None
        self._log_levels: dict[str, int] = {}
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def patches(self) -> MotoPatches:
        assert self._patches is not None, "the emulation is not running"
        return self._patches

    def __enter__(self) -> Emulation:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._log_levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        self._quiet = warnings.catch_warnings(record=True)
        self._quiet.__enter__()
        warnings.filterwarnings("ignore", category=UserWarning, module="moto")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        self._server = server
        self.port = server.get_host_and_port()[1]
        self._patches = MotoPatches(
            self.port, self._dispatch, self.clock, self._validation_wait, self._fail_validation
        ).__enter__()
        self.reset()

    def stop(self) -> None:
        for session in self._sessions:
            session.close()
        self._sessions.clear()
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):
                self.reset()  # moto's state is global to the process: leave none behind
            server.stop()  # shutdown() and join the thread ...
            if server._server is not None:
                server._server.server_close()  # ... but moto leaves the socket listening
        if self._patches is not None:
            self._patches.__exit__(None, None, None)
            self._patches = None
        if self._quiet is not None:
            self._quiet.__exit__(None, None, None)
            self._quiet = None
        for name, level in self._log_levels.items():
            logging.getLogger(name).setLevel(level)

    def reset(self) -> None:
        """Forget every emulated resource (moto's state is per process)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def session(self, region: str | None = None) -> LocalSession:
        session = LocalSession(self.endpoint, region or self.region)
        self._sessions.append(session)
        return session

    # Reading and nudging the emulated state directly (what AWS itself would do).

    def acm_backend(self, region: str) -> Any:
        return acm_backends[ACCOUNT][region]

    def certificates(self) -> list[tuple[str, str]]:
        """(ARN, status) of every certificate in every region."""
        found = []
        for region in acm_backends[ACCOUNT]:
            for arn, cert in list(self.acm_backend(region)._certificates.items()):
                found.append((arn, str(cert.status)))
        return found

    def occupy(self, arn: str, users: list[str], seconds: float) -> None:
        """Something (e.g. a CloudFront distribution) uses the certificate for ``seconds``
        of virtual time."""
        region = arn.split(":")[3]
        self.patches.occupy(arn, users, seconds, self.acm_backend(region))

    def function_configuration(self, function_arn: str) -> dict[str, Any]:
        region = function_arn.split(":")[3]
        function = lambda_backends[ACCOUNT][region].get_function(function_arn)
        return dict(function.get_configuration())

    def function_versions(self, function_arn: str) -> tuple[list[str], dict[str, str]]:
        """The function's published versions and its aliases (name -> version), as moto's
        CloudFormation made them."""
        backend = lambda_backends[ACCOUNT][function_arn.split(":")[3]]
        name = function_arn.split(":")[6]
        versions = [str(f.version) for f in backend.list_versions_by_function(name)]
        aliases = {a.name: str(a.function_version) for a in backend.list_aliases(name)}
        return [v for v in versions if v != "$LATEST"], aliases

    def stack(self, stack_id: str) -> Any:
        region = stack_id.split(":")[3]
        return cloudformation_backends[ACCOUNT][region].get_stack(stack_id)

    def finish_rollback(self, stack_id: str) -> None:
        """CloudFormation's last step once the rollback Delete succeeded."""
        stack = self.stack(stack_id)
        stack.status = "ROLLBACK_COMPLETE"
        stack._add_stack_event("ROLLBACK_COMPLETE")
