"""The file: exact layout, names twine can use, values that read back, private atomic write."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from twineauthenticate import pypirc
from twineauthenticate.agent import Agent, Msg
from twineauthenticate.exceptions import TaskError
from twineauthenticate.repository import Repository


def repo(
    name: str, url: str = "https://x/upload", user: str = "build", pw: str = "t"
) -> Repository:
    return Repository(name, url, user, pw, "feed", Msg("Origin_Feed", name))


def test_layout_is_microsofts_byte_for_byte() -> None:
    text = pypirc.render([repo("MyFeed", pw="tok"), repo("extfeed", "https://e/", "u", "p")])
    assert text == (
        "[distutils]\nindex-servers=MyFeed extfeed\n\n"
        "[MyFeed]\nrepository=https://x/upload\nusername=build\npassword=tok\n\n"
        "[extfeed]\nrepository=https://e/\nusername=u\npassword=p"
    )


def shown(error: TaskError) -> str:
    """The error as a user sees it (English)."""
    return Agent({}).loc(error.key, *error.args_)


def test_no_source_gives_the_empty_configuration() -> None:
    assert pypirc.render([]) == "[distutils]\nindex-servers=\n\n"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("my feed", "white space"),
        ("a\nb", "white space"),
        ("a[1]", "'['"),
        ("DEFAULT", "defaults"),
        ("distutils", "lists the repositories"),
        ("a\x07", "control character"),
    ],
)
def test_unusable_names_are_refused_with_the_reason(name: str, why: str) -> None:
    with pytest.raises(TaskError) as info:
        pypirc.check_repositories([repo(name)])
    assert info.value.key == "Error_UnusableName"
    assert why in shown(info.value).split(" because ", 1)[1]


def test_duplicates_name_both_sources() -> None:
    first = repo("Feed")
    second = Repository(
        "Feed", "https://y/", "u", "p", "connection", Msg("Origin_Connection", "Feed")
    )
    with pytest.raises(TaskError) as info:
        pypirc.check_repositories([first, second])
    assert info.value.key == "Error_DuplicateName"
    assert shown(info.value).startswith(
        "Two sources would both be the repository 'Feed' (feed 'Feed' and service connection 'Feed')"
    )


@pytest.mark.parametrize("password", ["a\nb", "a\rb", " lead", "trail\t"])
def test_values_that_would_not_read_back_are_refused(password: str) -> None:
    with pytest.raises(TaskError) as info:
        pypirc.check_repositories([repo("f", pw=password)])
    assert info.value.key == "Error_UnsafeValue"


def test_awkward_values_that_do_read_back_are_kept(tmp_path: Path) -> None:
    awkward = repo("f", pw="%(x)s;#=: \u00e9\u2028[x]")
    pypirc.check_repositories([awkward])
    target = pypirc.Target(None, tmp_path / "twineAuthenticate")
    written = pypirc.write(target, pypirc.render([awkward]), [awkward])
    assert pypirc.read_back_problem(written.path, [awkward]) is None


def test_private_file_in_private_folder_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = pypirc.Target(None, tmp_path / "twineAuthenticate")
        written = pypirc.write(target, pypirc.render([repo("f")]), [repo("f")])
    finally:
        os.umask(old)
    assert stat.S_IMODE(written.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(written.path.parent.stat().st_mode) == 0o700
    assert written.path.name == ".pypirc"
    assert len(written.path.parent.name) == 6
    assert written.path.parent.parent == tmp_path / "twineAuthenticate"


def test_explicit_path_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "given" / "pypirc"
    path.parent.mkdir()
    path.write_text("old credentials")
    os.chmod(path, 0o644)
    written = pypirc.write(pypirc.Target(path, None), pypirc.render([repo("f")]), [repo("f")])
    assert written.path == path
    assert path.read_text().startswith("[distutils]")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["pypirc"]


def test_failed_read_back_leaves_the_previous_state(tmp_path: Path) -> None:
    path = tmp_path / "pypirc"
    path.write_text("previous")
    bad = repo("f", pw="x\ny")  # skipped the check on purpose: the read-back catches it
    with pytest.raises(TaskError) as info:
        pypirc.write(pypirc.Target(path, None), pypirc.render([bad]), [bad])
    assert info.value.key == "Error_ReadBack"
    assert path.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pypirc"]


def test_failed_write_removes_the_new_folder(tmp_path: Path) -> None:
    bad = repo("f", pw="x\ny")
    base = tmp_path / "twineAuthenticate"
    with pytest.raises(TaskError):
        pypirc.write(pypirc.Target(None, base), pypirc.render([bad]), [bad])
    assert list(base.iterdir()) == []


def test_symbolic_link_at_pypirc_path_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    link = tmp_path / "link"
    link.symlink_to(victim)
    agent = Agent({"PYPIRC_PATH": str(link)}, io.StringIO())
    with pytest.raises(TaskError) as info:
        pypirc.plan_target(agent)
    assert info.value.key == "Error_PypircIsLink"
    assert victim.read_text() == "keep me"


def test_no_temp_directory_is_a_clear_error() -> None:
    with pytest.raises(TaskError) as info:
        pypirc.plan_target(Agent({}, io.StringIO()))
    assert info.value.key == "Error_NoTempDirectory"


@pytest.mark.parametrize("name", ["default", "Default", "Distutils", "pypi", "my.feed_2-x"])
def test_names_that_only_look_reserved_are_fine(name: str, tmp_path: Path) -> None:
    pypirc.check_repositories([repo(name)])
    written = pypirc.write(pypirc.Target(None, tmp_path), pypirc.render([repo(name)]), [repo(name)])
    assert pypirc.read_back_problem(written.path, [repo(name)]) is None


def test_relative_pypirc_path_is_refused() -> None:
    with pytest.raises(TaskError) as info:
        pypirc.plan_target(Agent({"PYPIRC_PATH": "creds/.pypirc"}, io.StringIO()))
    assert info.value.key == "Error_PypircRelative"
