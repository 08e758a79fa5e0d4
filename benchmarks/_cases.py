"""The scenarios (a job's sources, the emulator it talks to) and the cases measured."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks._measure_runs import FRESH_ENTRY, Case
from benchmarks._pythons import OtherPython
from benchmarks._setup import Setup
from tests.helpers import Tls, build_token_env, connection_env
from twineauthenticate.emulator import Emulator, Feed

TOKEN = "bench-build-token-5b8e2c"
PYPI_TOKEN = "pypi-bench-AgEIcHlwaS5vcmc"
WIF_CONNECTION = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
WIF_CLIENT = "0f1e2d3c-4b5a-4697-8877-665544332211"
WIF_TENANT = "99999999-8888-7777-6666-555555555555"
TEN_FEEDS = [Feed(f"Feed{i}") for i in range(5)] + [
    Feed(f"Feed{i}", project="Team Project") for i in range(5, 10)
]
# What the launcher cannot avoid: start node, spawn the interpreter (with the
# launcher's flags), wait for it.
SPAWN_ONLY = (
    "require('child_process').spawn(process.argv[1], ['-I', '-S', '-c', 'pass'],"
    " {stdio: 'inherit'})"
)
# Requests per run of each scenario, the feed check off.
EXPECTED_REQUESTS = {
    "services-feed": 2,
    "project-feed": 2,
    "server-feed": 1,
    "connection": 0,
    "ten-feeds": 2,
    "federated": 3,
}
# Requests the feed check (on unless `TwineAuthenticate.Verify` is false) adds to a
# run of a scenario, all sent in the rounds the lookup makes anyway.
# Services: the Packaging area and one GET per feed; Server: one GET per feed; the
# federated feed: its simple index with the exchanged token; connections: none.
CHECK_REQUESTS: dict[str, int] = {
    "services-feed": 2,
    "project-feed": 2,
    "server-feed": 1,
    "ten-feeds": 11,
    "federated": 1,
}
# The scenarios measured with and without the feed check, and their short names.
CHECKED = {"services-feed": "one feed", "ten-feeds": "ten feeds"}
COLD_SCENARIOS = ("connection", "services-feed")  # cold, with and without the bytecode
OTHER_PYTHON_SCENARIOS = ("services-feed",)  # cold, as shipped, with another Python
PROFILED_SCENARIOS = ("connection", "services-feed")  # python -X importtime


@dataclass(frozen=True)
class Variant:
    """The same scenario with other pipeline variables: rows of their own."""

    suffix: str  # the case key is "<scenario>+<suffix>"
    label: str  # added to the scenario's title
    env: dict[str, str]
    check: bool = True  # whether the task checks the feeds


NO_CHECK = Variant(
    "no-check",
    ", check off (`TwineAuthenticate.Verify` false)",
    {"TWINEAUTHENTICATE_VERIFY": "false"},
    check=False,
)
PUBLISHERS = Variant(
    "publishers",
    ", configurePublishers on (netrc file, poetry's variables)",
    {"INPUT_CONFIGUREPUBLISHERS": "true"},
)
VARIANTS: dict[str, tuple[Variant, ...]] = {key: (NO_CHECK,) for key in CHECKED}
VARIANTS["services-feed"] += (PUBLISHERS,)
VARIANTS["connection"] = (PUBLISHERS,)


@dataclass(frozen=True)
class Scenario:
    title: str
    emulator: Emulator
    env: dict[str, str]  # the job's environment


def expected_requests(key: str) -> int | None:
    """Requests per run of the scenario ``key`` (``name`` or ``name+variant``)."""
    base, _, suffix = key.partition("+")
    if base not in EXPECTED_REQUESTS:
        return None
    variant = next((v for v in VARIANTS.get(base, ()) if v.suffix == suffix), None)
    check = variant.check if variant is not None else True
    return EXPECTED_REQUESTS[base] + (CHECK_REQUESTS.get(base, 0) if check else 0)


@dataclass
class Emulators:
    services: Emulator
    server: Emulator
    federation: Emulator

    def all(self) -> list[Emulator]:
        return [self.services, self.server, self.federation]


@contextmanager
def emulators(tls: Tls) -> Iterator[Emulators]:
    with ExitStack() as stack:
        feeds = [Feed("MyFeed"), Feed("ProjFeed", project="My Project"), *TEN_FEEDS]
        services = stack.enter_context(Emulator(feeds=feeds, token=TOKEN))
        server = stack.enter_context(Emulator(feeds=[Feed("MyFeed")], token=TOKEN, mode="server"))
        federation = stack.enter_context(
            Emulator(
                feeds=[Feed("FedFeed", project="Other Project")],
                token=TOKEN,
                tls=(tls.cert, tls.key),
                service_connections={WIF_CONNECTION: WIF_CLIENT},
            )
        )
        yield Emulators(services, server, federation)


def job_env(setup: Setup, emu: Emulator, **extra: str) -> dict[str, str]:
    """The environment the agent gives the task in a job of ``emu``'s organization.

    Not tests.conftest.agent_env_for: its base environment sets PYTHONPATH and
    PYTHONDONTWRITEBYTECODE, which would change what is imported and make every
    run cold.
    """
    env = dict(setup.base_env)
    env.update(
        AGENT_TEMPDIRECTORY=str(setup.agent_temp),
        SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=emu.collection_url,
        SYSTEM_SERVERTYPE="Hosted" if emu.mode == "services" else "OnPremises",
        **build_token_env(TOKEN, emu.collection_url),
    )
    env.update(extra)
    return env


def _base_scenarios(setup: Setup, emus: Emulators) -> dict[str, Scenario]:
    services, server, fed = emus.services, emus.server, emus.federation
    pypi = connection_env(
        "bench-pypi", "https://upload.pypi.org/legacy/", "pypi", "Token", apitoken=PYPI_TOKEN
    )
    wif = connection_env(
        WIF_CONNECTION,
        "https://dev.azure.com/contoso/",
        "",
        "WorkloadIdentityFederation",
        serviceprincipalid=WIF_CLIENT,
        tenantid=WIF_TENANT,
    )
    wif[f"ENDPOINT_DATA_{WIF_CONNECTION}_ENVIRONMENTAUTHORITYURL"] = fed.authority_url
    ten = ",".join(f.name if f.project is None else f"{f.project}/{f.name}" for f in TEN_FEEDS)
    federated = job_env(
        setup,
        fed,
        AGENT_CAINFO=str(setup.tls.ca),
        SYSTEM_OIDCREQUESTURI=fed.oidc_request_uri,
        INPUT_WORKLOADIDENTITYSERVICECONNECTION=WIF_CONNECTION,
        INPUT_FEEDURL=fed.feed_upload_url("FedFeed", project="Other Project") + "/",
        **wif,
    )
    connection = dict(INPUT_PYTHONUPLOADSERVICECONNECTION="bench-pypi", **pypi)
    return {
        "services-feed": Scenario(
            "one organization feed, Services",
            services,
            job_env(setup, services, INPUT_ARTIFACTFEED="MyFeed"),
        ),
        "project-feed": Scenario(
            "one project feed, Services",
            services,
            job_env(setup, services, INPUT_ARTIFACTFEED="My Project/ProjFeed"),
        ),
        "server-feed": Scenario(
            "one feed, Server", server, job_env(setup, server, INPUT_ARTIFACTFEED="MyFeed")
        ),
        "connection": Scenario(
            "one service connection only", services, job_env(setup, services, **connection)
        ),
        "ten-feeds": Scenario(
            "ten feeds at once, Services",
            services,
            job_env(setup, services, INPUT_ARTIFACTFEED=ten),
        ),
        "federated": Scenario("one federated feed (TLS)", fed, federated),
    }


def scenarios(setup: Setup, emus: Emulators) -> dict[str, Scenario]:
    """key -> scenario; each one's variants follow it, as ``key+suffix``."""
    found = {}
    for key, scenario in _base_scenarios(setup, emus).items():
        found[key] = scenario
        for variant in VARIANTS.get(key, ()):
            found[f"{key}+{variant.suffix}"] = Scenario(
                scenario.title + variant.label,
                scenario.emulator,
                {**scenario.env, **variant.env},
            )
    return found


def cli_env(env: dict[str, str], bundle: Path) -> dict[str, str]:
    """``env`` with the bundle's package and its ``_vendor/`` on PYTHONPATH."""
    return dict(env, PYTHONPATH=os.pathsep.join([str(bundle), str(bundle / "_vendor")]))


def warm_cases(setup: Setup, emus: Emulators, bundle: Path, idle: Path) -> list[Case]:
    python = str(setup.python_bin / "python3")
    cases = [
        Case("floor-node", "node -e 0", [setup.node, "-e", "0"], setup.base_env, expect=None),
        Case("floor-python", "python -c pass", [python, "-c", "pass"], setup.base_env, expect=None),
        Case(
            "spawn",
            "`node` spawning `python3 -I -S -c pass` and waiting for it",
            [setup.node, "-e", SPAWN_ONLY, python],
            setup.base_env,
            expect=None,
        ),
        Case(
            "idle",
            "`node index.js` with a bootstrap.py that does nothing",
            [setup.node, str(idle / "index.js")],
            setup.base_env,
            expect=None,
        ),
    ]
    for key, s in scenarios(setup, emus).items():
        agent = [setup.node, str(bundle / "index.js")]
        cases.append(Case(f"agent:{key}", s.title, agent, s.env, s.emulator))
        cli = [python, "-m", "twineauthenticate"]
        cases.append(Case(f"cli:{key}", s.title, cli, cli_env(s.env, bundle), s.emulator))
    return cases


def cold_cases(
    setup: Setup,
    emus: Emulators,
    plain_zip: Path,
    compiled_zip: Path,
    others: Sequence[OtherPython] = (),
) -> list[Case]:
    """From a fresh bundle every run: ``cold`` (no bytecode), ``cold-pyc`` (as shipped),
    and ``cold-pyc@<version>`` (as shipped, started by another Python alone on PATH)."""
    all_scenarios = scenarios(setup, emus)
    entry = [setup.node, FRESH_ENTRY]
    cases = []
    for key in COLD_SCENARIOS:
        s = all_scenarios[key]
        for variant, zip_path in (("cold", plain_zip), ("cold-pyc", compiled_zip)):
            cases.append(
                Case(f"{variant}:{key}", s.title, entry, s.env, s.emulator, fresh_bundle=zip_path)
            )
    for python in others:
        for key in OTHER_PYTHON_SCENARIOS:
            s = all_scenarios[key]
            env = dict(s.env, PATH=str(python.path_dir))
            cases.append(
                Case(
                    f"cold-pyc@{python.version}:{key}",
                    s.title,
                    entry,
                    env,
                    s.emulator,
                    fresh_bundle=compiled_zip,
                )
            )
    return cases
