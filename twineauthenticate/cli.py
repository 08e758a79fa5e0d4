"""Command line: ``twineauthenticate [run|cleanup] [flags]``.

With no flag it reads exactly what the agent gives a task (``INPUT_*``, variables,
``ENDPOINT_*``). For a local run, each flag sets the same input or variable, so a
pipeline can be debugged on a laptop without pushing.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
from collections.abc import Sequence

from . import __version__
from .agent import Agent, env_key

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    import argparse

LOCAL_CONNECTION = "local-connection"

EPILOG = """\
Every flag maps onto what the agent would set; the environment is used for the rest.
Example (a feed of the organization, then twine):
  twineauthenticate --collection-uri https://dev.azure.com/contoso/ --server-type Hosted \\
      --feed MyProject/MyFeed --temp-dir /tmp/agent
  twine upload -r MyFeed --config-file "$PYPIRC_PATH" dist/*
The token is best given as SYSTEM_ACCESSTOKEN in the environment, not as a flag.
"""


def _parser() -> argparse.ArgumentParser:
    import argparse  # only for flags: the agent passes none, and argparse is slow to import

    parser = argparse.ArgumentParser(
        prog="twineauthenticate",
        description="Write a private .pypirc for twine upload, as TwineAuthenticate@1 does.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "step",
        nargs="?",
        choices=("run", "cleanup"),
        default="run",
        help="run the task (default) or the post-job cleanup",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add = parser.add_argument
    add(
        "--feed",
        action="append",
        metavar="FEED",
        help="input artifactFeed: 'feed' or 'project/feed' (repeat or separate with commas)",
    )
    add("--collection-uri", metavar="URL", help="variable System.TeamFoundationCollectionUri")
    add(
        "--server-type",
        metavar="TYPE",
        help="variable System.ServerType: 'Hosted' (Azure DevOps Services) or empty (Server)",
    )
    add(
        "--token",
        metavar="TOKEN",
        help="the build's access token (else SYSTEM_ACCESSTOKEN from the environment)",
    )
    add("--temp-dir", metavar="DIR", help="variable Agent.TempDirectory")
    add("--pypirc-path", metavar="PATH", help="variable PYPIRC_PATH: write the file there")
    add("--connection-url", metavar="URL", help="a Python upload service connection: its URL")
    add("--connection-name", metavar="NAME", help="... its endpoint name (the twine -r name)")
    add("--connection-token", metavar="TOKEN", help="... its API token (scheme Token)")
    add("--connection-username", metavar="USER", help="... its user name (scheme UsernamePassword)")
    add("--connection-password", metavar="PASSWORD", help="... its password")
    add("--federated-connection", metavar="ID", help="input azureDevOpsServiceConnection")
    add("--feed-url", metavar="URL", help="input feedUrl")
    add("--oidc-request-uri", metavar="URL", help="variable System.OidcRequestUri")
    add(
        "--no-verify",
        action="store_true",
        help="variable TwineAuthenticate.Verify=false: do not check the feeds before writing",
    )
    add(
        "--configure-publishers",
        action="store_true",
        help="input configurePublishers=true: also a netrc file and poetry's variables",
    )
    add("--debug", action="store_true", help="variable System.Debug=true")
    add("--culture", metavar="CULTURE", help="variable System.Culture, e.g. de-DE")
    return parser


def environment(args: argparse.Namespace, base: dict[str, str]) -> dict[str, str]:
    """The environment the agent would have built for these flags."""
    env = dict(base)

    def variable(name: str, value: str | None) -> None:
        if value is not None:
            env[env_key(name)] = value

    def task_input(name: str, value: str | None) -> None:
        if value is not None:
            env["INPUT_" + env_key(name)] = value

    if args.feed:
        task_input("artifactFeed", ",".join(args.feed))
    variable("System.TeamFoundationCollectionUri", args.collection_uri)
    variable("System.ServerType", args.server_type)
    variable("Agent.TempDirectory", args.temp_dir)
    variable("PYPIRC_PATH", args.pypirc_path)
    variable("System.OidcRequestUri", args.oidc_request_uri)
    variable("System.Culture", args.culture)
    if args.debug:
        variable("System.Debug", "true")
    if args.no_verify:
        variable("TwineAuthenticate.Verify", "false")
    if args.configure_publishers:
        task_input("configurePublishers", "true")
    if args.token is not None:
        env["SYSTEM_ACCESSTOKEN"] = args.token
    task_input("workloadIdentityServiceConnection", args.federated_connection)
    task_input("feedUrl", args.feed_url)
    if args.connection_url or args.connection_name:
        ident = LOCAL_CONNECTION
        if args.connection_token is not None:
            auth = {"scheme": "Token", "parameters": {"apitoken": args.connection_token}}
        else:
            auth = {
                "scheme": "UsernamePassword",
                "parameters": {
                    "username": args.connection_username or "",
                    "password": args.connection_password or "",
                },
            }
        env[f"ENDPOINT_URL_{ident}"] = args.connection_url or ""
        env[f"ENDPOINT_AUTH_{ident}"] = json.dumps(auth)
        env[f"ENDPOINT_DATA_{ident}_ENDPOINTNAME"] = args.connection_name or ""
        key = "INPUT_" + env_key("pythonUploadServiceConnection")
        env[key] = ",".join(x for x in (env.get(key, ""), ident) if x)
    return env


def main(argv: Sequence[str] | None = None) -> int:
    """Run the task (or its cleanup); 0 when it succeeded, 1 when it failed."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words in ([], ["run"], ["cleanup"]):
        # How the agent starts it: no flag, so the environment as it is (what
        # environment() returns for no flags), without building the parser.
        step = words[0] if words else "run"
        env = dict(os.environ)
    else:
        args = _parser().parse_args(words)
        step = args.step
        env = environment(args, dict(os.environ))
    agent = Agent(env)
    # At exit Python runs the garbage collector over every object still alive, most
    # of them made by the modules the run imported (requests above all): about 10 ms
    # of a run that makes requests. Freezing them first, at exit only, skips that.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    if step == "cleanup":
        from .cleanup import cleanup

        ok = cleanup(agent)
    else:
        from .task import run

        ok = run(agent)
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
