"""Hostile input with configurePublishers on in every run, and secrets a netrc file can
mostly hold, so that most successful runs write one: properties (a), (b) and (c) of
tests/test_hostile_inputs.py together, over 500 examples (fixed seed)."""

from __future__ import annotations

from typing import Any

from hypothesis import given

from tests.test_hostile_inputs import (
    SETTINGS,
    Inputs,
    check_commands,
    check_file,
    check_no_secret_in_clear,
    emulator,
    inputs,
    run_case,
)

__all__ = ["emulator"]  # the module-scoped fixture


@SETTINGS
@given(given=inputs(publishing=True))
def test_d_publishers_no_secret_exact_commands_faithful_files(emulator: Any, given: Inputs) -> None:
    with run_case(emulator, given) as case:
        outcome = case.outcome
        check_no_secret_in_clear(outcome.stdout, outcome.stderr, given.secrets)
        assert outcome.commands == outcome.meant
        check_commands(
            outcome.commands,
            outcome.succeeded,
            given.secrets,
            len(case.sources),
            case.publishing,
            True,
        )
        check_file(
            case.temp,
            outcome.succeeded,
            case.sources,
            case.problem,
            given.pypirc_name,
            case.publishing,
            given,
        )
