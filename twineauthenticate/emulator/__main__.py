"""Command line: run the emulator until SIGTERM or SIGINT.

Prints one JSON line with the URLs once it listens, e.g.::

    python -m twineauthenticate.emulator --feed MyFeed --feed "My Project/ProjFeed" \
        --permission "My Project/ProjFeed=read" --identity "My Project Build Service (contoso)"
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import IO

from ._emulator import DEFAULT_TENANT, DEFAULT_TOKEN, Emulator
from ._model import Feed, RequestRecord
from ._permissions import check_level, split_feed_key
from ._signin import SIGN_IN_MODES


def _feed(value: str) -> Feed:
    project, sep, name = value.partition("/")
    try:
        return Feed(name, project) if sep else Feed(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _connection(value: str) -> tuple[str, str]:
    connection_id, sep, client_id = value.partition("=")
    if not sep or not connection_id or not client_id:
        raise argparse.ArgumentTypeError("expected ID=CLIENTID")
    return connection_id, client_id


def _permission(value: str) -> tuple[str, str]:
    key, sep, level = value.rpartition("=")
    try:
        if not sep or not key:
            raise ValueError("expected FEED=LEVEL or PROJECT/FEED=LEVEL")
        split_feed_key(key)
        return key, check_level(level)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m twineauthenticate.emulator",
        description="Local Azure DevOps / Azure Artifacts PyPI feed emulator.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--org", default="contoso", help="organization name")
    parser.add_argument(
        "--feed",
        action="append",
        type=_feed,
        default=[],
        metavar="[PROJECT/]FEED",
        help="a feed (repeatable); default: MyFeed and 'My Project/ProjFeed'",
    )
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the accepted build token")
    parser.add_argument("--mode", choices=("services", "server"), default="services")
    parser.add_argument("--storage", metavar="DIR", help="keep uploaded files here")
    parser.add_argument("--tenant", default=DEFAULT_TENANT, help="tenant id (X-VSS-ResourceTenant)")
    parser.add_argument(
        "--pypi-token-rule",
        action="store_true",
        help="feeds accept only the user name __token__",
    )
    parser.add_argument("--latency", type=float, default=0.0, metavar="SEC")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N")
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--retry-after", type=float, default=None, metavar="S")
    parser.add_argument("--drop-first", type=int, default=0, metavar="N")
    parser.add_argument("--hang-first", type=int, default=0, metavar="N")
    parser.add_argument("--tls-cert", metavar="FILE")
    parser.add_argument("--tls-key", metavar="FILE")
    parser.add_argument(
        "--service-connection",
        action="append",
        type=_connection,
        default=[],
        metavar="ID=CLIENTID",
        help="a federated service connection and its ServicePrincipalId (repeatable)",
    )
    parser.add_argument(
        "--identity",
        metavar="NAME",
        help="the build identity's name (default: 'Project Collection Build Service (ORG)')",
    )
    parser.add_argument(
        "--permission",
        action="append",
        type=_permission,
        default=[],
        metavar="[PROJECT/]FEED=LEVEL",
        help="the identity's level on a feed: none, read or publish (the default); repeatable",
    )
    parser.add_argument(
        "--sign-in",
        choices=SIGN_IN_MODES,
        default="page",
        help="answer refused credentials on REST routes (without X-TFS-FedAuthRedirect: "
        "Suppress) with the 203 sign-in page or a 302 to it",
    )
    parser.add_argument("--log-file", metavar="FILE", help="append the request log as JSON lines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    tls = (args.tls_cert, args.tls_key) if args.tls_cert is not None else None

    log_stream: IO[str] | None = None
    log_lock = threading.Lock()

    def log_request(record: RequestRecord) -> None:
        if log_stream is None:
            return
        line = json.dumps(
            {
                "method": record.method,
                "path": record.path,
                "status": record.status,
                "auth_ok": record.auth_ok,
                "user": record.user,
            }
        )
        with log_lock:
            log_stream.write(line + "\n")
            log_stream.flush()

    try:
        emulator = Emulator(
            organization=args.org,
            feeds=args.feed or None,
            token=args.token,
            mode=args.mode,
            storage_dir=args.storage,
            tenant_id=args.tenant,
            tls=tls,
            pypi_token_rule=args.pypi_token_rule,
            latency=args.latency,
            port=args.port,
            service_connections=dict(args.service_connection),
            on_request=log_request,
            identity=args.identity,
            permissions=dict(args.permission),
            sign_in=args.sign_in,
        )
        emulator.inject_faults(
            args.fail_first, status=args.fail_status, retry_after=args.retry_after
        )
        emulator.inject_faults(args.drop_first, drop=True)
        emulator.inject_faults(args.hang_first, hang=True)
    except ValueError as exc:
        parser.error(str(exc))

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        if args.log_file:
            log_stream = open(args.log_file, "a", encoding="utf-8")  # noqa: SIM115
        emulator.start()
    except (OSError, ValueError) as exc:
        print(f"emulator: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        info = {
            "url": emulator.url,
            "collection_url": emulator.collection_url,
            "packaging_url": emulator.packaging_url,
            "feeds_url": emulator.feeds_url,
            "oidc_request_uri": emulator.oidc_request_uri,
            "authority_url": emulator.authority_url,
        }
        print(json.dumps(info), flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        emulator.stop()
        if log_stream is not None:
            with log_lock:
                log_stream.close()
                log_stream = None
    return 0


if __name__ == "__main__":
    sys.exit(main())
