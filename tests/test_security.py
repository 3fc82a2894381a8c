"""No value of a URL variable can place a file outside the output folder.

Whatever text an item holds (`..`, `/`, `\\`, `%2e%2e`, absolute paths, NUL, any unicode),
a build either fails with a clean site error or writes inside its output folder only.
Hypothesis tries many values in this process (the URL -> file mapping, then the site's
targets, then real builds); a few of the nastiest go through the real command.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from conftest import make_site, run_renderer, snapshot
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from renderer.build import build
from renderer.errors import SiteError
from renderer.routing import output_path
from renderer.site import Site

RULES = ("/a/<v>/", "/p/<path:v>", "/x/<v>.html", "/<v>")

SITE = {
    "site.toml": "\n".join(
        ['[site]\ntitle = "Security"\n\n[sources]\nvalues = "content/values.json"\n'] + [
            f'[[routes]]\nurl = "{rule}"\ntemplate = "page.html"\neach = "values"\n'
            f'name = "r{number}"\n' for number, rule in enumerate(RULES)]),
    "templates/page.html": "<p>{{ v }}</p>\n",
    "content/values.json": "[]\n",
}

NASTY = [
    "..", ".", "", "../../escaped", "..\\..\\escaped", "%2e%2e", "%2e%2e%2fescaped",
    "..%2f..%2fescaped", "/escaped", "//escaped", "/tmp/escaped", "C:\\escaped", "a\0b",
    "a/../../../escaped", "a/./b", "\u2025", "\uff0e\uff0e", "caf\u00e9/\u00fc", "~", "?", "#",
    "a b", "\n", "x" * 300, "\ud800",
]

# Every character, lone surrogates included (a Python source can return them).
values = st.text(st.characters(codec=None, exclude_categories=()), max_size=30) | \
    st.lists(st.sampled_from(["..", ".", "/", "\\", "%2e", "%2f", "%5c", "a", "\0", ":",
                              "\u00e9", "~"]), max_size=8).map("".join)


def check_inside(out: Path, relative: str) -> None:
    """`relative` is a safe relative path: inside `out`, no parent or empty segment."""
    assert not PurePosixPath(relative).is_absolute(), relative
    assert "\0" not in relative and "\\" not in relative, relative
    parts = relative.split("/")
    assert all(part not in ("", ".", "..") for part in parts), relative
    resolved = (out / relative).resolve()
    assert resolved.is_relative_to(out.resolve()) and resolved != out.resolve(), relative


@given(url=st.text(max_size=40).map(lambda text: "/" + text) | st.builds(
    lambda parts: "/" + "/".join(parts),
    st.lists(st.sampled_from(["..", ".", "", "%2e%2e", "%2E%2e", "%2f", "%5c", "a", "%00",
                              "b.xml", "%252e"]), max_size=6)))
@example(url="/a/%2e%2e/%2e%2e/escaped")
@example(url="/a/..%2f..%2fescaped/")
def test_output_path_stays_inside(url: str) -> None:
    out = Path("/srv/out")
    try:
        relative = output_path(url)
    except SiteError as error:
        assert str(error)
        return
    check_inside(out, relative)


@pytest.fixture(scope="module")
def security_site() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield make_site(Path(folder), SITE)


def check_value(site: Path, value: str) -> None:
    """Enumerate the site's targets with `value` as every rule's variable: a clean refusal
    naming site.toml, or outputs that all lie inside the output folder."""
    (site / "content" / "values.json").write_text(json.dumps([{"v": value}]))
    try:
        targets = Site.load(site).targets()
    except SiteError as error:
        assert str(error) and error.file is not None, "a refusal names site.toml"
        return
    for relative in targets:
        check_inside(site / "build", relative)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
def test_no_url_variable_value_targets_a_file_outside(security_site: Path, value: str) -> None:
    check_value(security_site, value)


@pytest.mark.parametrize("value", NASTY, ids=[repr(v)[:20] for v in NASTY])
def test_nasty_values_targets(security_site: Path, value: str) -> None:
    check_value(security_site, value)


def files_outside(root: Path, out: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `root` except the output folder and the site's build cache."""
    return {name: data for name, data in snapshot(root).items()
            if not (root / name).is_relative_to(out)
            and ".renderer-cache" not in Path(name).parts}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
@example(value="../../../escaped")
@example(value="a/../../../../escaped")
@example(value="x" * 300)
def test_a_real_build_writes_inside_the_output_folder_only(value: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        # The site lies deep, so that a file escaping by a few `..` would still be seen.
        root = Path(folder)
        site = make_site(root, SITE, folder="one/two/three/site")
        out = site / "build"
        (site / "content" / "values.json").write_text(json.dumps([{"v": value}]))
        before = files_outside(root, out)
        try:
            build(site, jobs=1)
        except SiteError as error:
            assert str(error)
            assert not out.exists() or not any(out.iterdir())
        assert files_outside(root, out) == before
        for path in out.rglob("*") if out.exists() else ():
            assert path.resolve().is_relative_to(out.resolve())


@pytest.mark.parametrize("value", ["../../../escaped", "a\0b", "x" * 300],
                         ids=["dot-dot", "nul", "too-long"])
def test_real_command_refuses_or_stays_inside(tmp_path: Path, value: str) -> None:
    site = make_site(tmp_path, SITE, folder="one/two/site")
    out = site / "build"
    (site / "content" / "values.json").write_text(json.dumps([{"v": value}]))
    before = files_outside(tmp_path, out)
    code, _, stderr = run_renderer("build", site, cwd=tmp_path)
    assert "Traceback" not in stderr, stderr
    assert code in (0, 1), stderr
    if code == 1:
        assert stderr.startswith("error: "), stderr
        assert not out.exists()
    assert files_outside(tmp_path, out) == before
    shutil.rmtree(out, ignore_errors=True)
