"""`renderer check`: every page rendered, nothing written, and what `build --strict` would
report, with its exit code (0 or 1). Each case runs check first, then the build it
stands for, on the same site: the messages must be the build's own."""

from __future__ import annotations

import os
import re
from pathlib import Path

from conftest import make_site, run_cli, run_renderer
from test_strict import SITE


def listing(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and folder under `folder` (hidden ones too): size, mtime (ns), mode."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            stat = path.lstat()
            found[path.relative_to(folder).as_posix()] = (stat.st_size, stat.st_mtime_ns,
                                                          stat.st_mode)
    return found


def errors(stderr: str) -> list[str]:
    """The `error:` messages of a run, each with its indented lines."""
    return [block.strip() for block in re.split(r"^error: ", stderr, flags=re.MULTILINE)
            if block.strip()]


def test_a_clean_site_checks_with_no_problem_and_writes_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **SITE,
        "site.toml": SITE["site.toml"] + '\n[[routes]]\nurl = "/team/"\n'
                                         'template = "team.html"\n',
        "content/team.py": "def people():\n    return ['Ada']\n",
        "templates/team.html": "{% for p in data.team %}{{ p }}{% endfor %}\n",
    }).resolve()
    config = site / "site.toml"
    config.write_text(config.read_text().replace(
        '[sources]\n', '[sources]\nteam = "content/team.py:people"\n'))
    before = listing(tmp_path)
    code, stdout, stderr = run_renderer("check", site, cwd=tmp_path)
    assert code == 0, stderr
    assert stderr == ""
    assert re.fullmatch(r"checked 4 pages and 1 static file in \d+\.\d\d s, no problems\n",
                        stdout), stdout
    assert listing(tmp_path) == before  # no build/, no .renderer-cache, no __pycache__


def test_a_broken_link_fails_with_the_message_of_build_strict(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "content/posts/b.md":
                                "---\ntitle: B\n---\nText.\n\nSee [gone](/posts/gone/).\n"})
    before = listing(site)
    checked = run_cli("check", site)
    assert checked.code == 1
    assert listing(site) == before
    message = errors(checked.stderr)
    assert len(message) == 1 and message[0].startswith("1 broken link (--strict):")
    assert re.search(r"content/posts/b\.md:6: link to /posts/gone/, .*\(in .*build/posts/b/"
                     r"index\.html\)", message[0]), message
    assert "1 problem" in checked.stdout
    built = run_cli("build", site, "--strict")
    assert built.code == 1
    assert errors(built.stderr) == message


def test_each_broken_link_counts_as_a_problem(tmp_path: Path) -> None:
    """The summary counts what the --strict error lists, one problem a line."""
    site = make_site(tmp_path, {**SITE, "content/posts/b.md":
                                "---\ntitle: B\n---\n[gone](/gone/), [lost](/lost/), "
                                "[away](/away/)\n"})
    checked = run_cli("check", site)
    assert checked.code == 1
    message = errors(checked.stderr)
    assert len(message) == 1 and message[0].startswith("3 broken links (--strict):")
    assert re.search(r": 3 problems\n$", checked.stdout), checked.stdout


def test_a_page_over_the_time_limit_names_the_option_of_check(tmp_path: Path) -> None:
    """A page that never finishes fails at its line, and the message names the option
    of the command that was typed."""
    site = make_site(tmp_path, {
        **SITE,
        "site.toml": SITE["site.toml"] + '\n[[routes]]\nurl = "/loop/"\n'
                                         'template = "loop.html"\ncontext = "loop.py:forever"\n',
        "templates/loop.html": "never\n",
        "loop.py": "def forever():\n    while True:\n        pass\n",
    })
    checked = run_renderer("check", site, "--timeout", "0.5", timeout=60)
    assert checked.code == 1, checked
    assert re.search(r"loop\.py:[23]: rendering /loop/ took longer than 0\.5 s.*the limit is "
                     r"renderer check --timeout SECONDS", checked.stderr), checked.stderr


def test_warnings_of_the_sources_fail_as_in_build_strict(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **SITE,
        "site.toml": SITE["site.toml"].replace('posts = "content/posts/*.md"',
                                               'posts = { glob = "content/posts/*.md", '
                                               'sort = "date" }'),
        "content/posts/a.md": "---\ntitle: A\ndate: 2024-01-01\n---\nSee [b](../b/).\n",
    })
    checked = run_cli("check", site)
    assert checked.code == 1
    message = errors(checked.stderr)
    assert len(message) == 1 and message[0].startswith("1 warning (--strict):")
    assert "b.md" in message[0] and '"date"' in message[0]
    assert errors(run_cli("build", site, "--strict").stderr) == message


def test_a_template_error_fails_naming_file_and_line(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "templates/post.html":
                                "<h1>{{ page.title }}</h1>\n{{ page.content | nope }}\n"})
    before = listing(site)
    checked = run_cli("check", site)
    assert checked.code == 1
    assert listing(site) == before
    message = errors(checked.stderr)
    assert len(message) == 1, message  # the same error of two posts, said once
    assert re.match(r".*templates/post\.html:2: .*nope", message[0]), message
    assert "2 pages failed, 1 problem" in checked.stdout
    built = run_cli("build", site, "--strict", "--jobs", "1")
    assert built.code == 1 and errors(built.stderr) == message


def test_a_link_to_a_draft_and_drafts(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "content/posts/b.md":
                                "---\ntitle: B\ndraft: true\n---\nBack to [a](/posts/a/).\n"})
    checked = run_cli("check", site)
    assert checked.code == 1
    assert "a draft" in checked.stderr
    assert errors(run_cli("build", site, "--strict").stderr) == errors(checked.stderr)
    assert run_cli("check", site, "--drafts").code == 0


def test_now_and_a_bad_site_toml(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "content/posts/b.md":
                                "---\ntitle: B\ndate: 2030-01-01\n---\nText.\n"})
    assert run_cli("check", site, "--now", "2031-01-01").code == 0
    later = run_cli("check", site, "--now", "2024-01-01")  # b is not out yet: a's link breaks
    assert later.code == 1 and "/posts/b/" in later.stderr
    bad = run_cli("check", site, "--now", "someday")
    assert bad.code == 2 and "--now" in bad.stderr
    (site / "site.toml").write_text("[site\n")
    broken = run_cli("check", site)
    assert broken.code == 1 and "site.toml:1" in broken.stderr
