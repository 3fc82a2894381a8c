"""Dates in front matter, fields from file names (`filename = "{date}-{slug}"`) and the
warning for items that lack the sort key: real sites built with the real command, and
each bad input as a located message.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from conftest import make_site, run_cli, run_renderer
from serving import running

from renderer.dates import parse_date
from renderer.errors import display_path

SITE_TOML = """\
[site]
title = "Dates"

[sources]
posts = { glob = "content/posts/*.md", sort = "-date", filename = "{date}-{slug}" }

[[routes]]
url = "/"
template = "index.html"

[[routes]]
url = "/posts/<slug>/"
template = "post.html"
each = "posts"
"""
POSTS_LINE = 5  # `posts = ...` in SITE_TOML

BASE: dict[str, str | None] = {
    "site.toml": SITE_TOML,
    "templates/index.html": "{% for p in data.posts %}{{ p.slug }}={{ p.date.isoformat() }}\n"
                            "{% endfor %}",
    "templates/post.html": "{{ page.title }} {{ page.date.isoformat() }}",
    "content/posts/2024-05-01-hello.md": "---\ntitle: Hello\n---\nHello.\n",
    "content/posts/2019-09-25-jekyll.md": "---\ntitle: Jekyll\n"
                                          "date: 2019-09-25 20:29:15 +0200\n---\nOld.\n",
}


def site_with(tmp_path: Path, files: dict[str, str | None] | None = None) -> Path:
    return make_site(tmp_path, {**BASE, **(files or {})})


def build(site: Path, *args: str) -> tuple[int, str, str]:
    code, stdout, stderr = run_cli("build", site, "--jobs", "1", *args)
    return code, stdout, stderr


def built(site: Path, *args: str) -> str:
    code, stdout, stderr = build(site, *args)
    assert code == 0, stderr
    return stderr


def index(site: Path) -> list[str]:
    return (site / "build" / "index.html").read_text().split()


def where(site: Path, relative: str, line: int) -> str:
    return f"{display_path(site / relative)}:{line}"


# -- the formats --------------------------------------------------------------------------------

UTC = datetime.UTC
PLUS_TWO = datetime.timezone(datetime.timedelta(hours=2))


@pytest.mark.parametrize(("text", "value"), [
    ("2024-05-01", datetime.date(2024, 5, 1)),
    ("2024-05-01T10:00", datetime.datetime(2024, 5, 1, 10, 0)),
    ("2024-05-01 10:00:30", datetime.datetime(2024, 5, 1, 10, 0, 30)),
    ("2024-05-01T10:00:00Z", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)),
    ("2024-05-01T10:00:00.250+02:00", datetime.datetime(2024, 5, 1, 10, 0, 0, 250000, PLUS_TWO)),
    ("2019-09-25 20:29:15 +0200", datetime.datetime(2019, 9, 25, 20, 29, 15, tzinfo=PLUS_TWO)),
    ("2019-09-25 20:29:15 +02:00", datetime.datetime(2019, 9, 25, 20, 29, 15, tzinfo=PLUS_TWO)),
    ("Wed, 25 Sep 2019 20:29:15 +0200",
     datetime.datetime(2019, 9, 25, 20, 29, 15, tzinfo=PLUS_TWO)),
    ("25 Sep 2019 18:29:15 GMT", datetime.datetime(2019, 9, 25, 18, 29, 15, tzinfo=UTC)),
])
def test_the_formats_blogs_use_are_dates(text: str, value: datetime.date) -> None:
    assert parse_date(text) == value
    assert type(parse_date(text)) is type(value)


@pytest.mark.parametrize("text", ["2024", "May 4", "2024-02-30", "2024-05-01T25:00",
                                  "2024-05-01 and more", "Tuesday", "1/2/2024", ""])
def test_what_is_not_a_date_stays_text(text: str) -> None:
    assert parse_date(text) is None


def test_a_jekyll_date_with_an_offset_is_an_aware_date_time_and_sorts(tmp_path: Path) -> None:
    """It stayed a string, and sorting it beside dates failed naming no file."""
    site = site_with(tmp_path, {
        "content/posts/2019-09-25-utc.md": "---\ntitle: UTC\n"
                                           "date: 2019-09-25T19:00:00Z\n---\nUTC.\n"})
    built(site, "--strict")
    assert index(site) == ["hello=2024-05-01", "utc=2019-09-25T19:00:00+00:00",
                           "jekyll=2019-09-25T20:29:15+02:00"]


def test_only_values_that_state_a_date_become_dates(tmp_path: Path) -> None:
    site = site_with(tmp_path, {
        "templates/post.html": "{{ page.title is string }} {{ page.year is string }} "
                               "{{ page.published.isoformat() }} {{ page.date.isoformat() }}",
        "content/posts/2024-05-01-hello.md": '---\ntitle: "2024-05-01"\nyear: "2024"\n'
                                             "published: Wed, 1 May 2024 09:00:00 +0000\n"
                                             "---\nHello.\n",
        "content/posts/2019-09-25-jekyll.md": None})
    built(site)
    page = (site / "build/posts/hello/index.html").read_text()
    assert page == "False True 2024-05-01T09:00:00+00:00 2024-05-01"
    # (A title that is a date is a date: a string that states one is one, under any key.)


NOT_A_DATE = '"{}" is not a date: {}; write it like 2024-05-01'


@pytest.mark.parametrize(("text", "line", "message"), [
    ("---\ntitle: Hello\ndate: next tuesday\n---\n", 3,
     NOT_A_DATE.format("date", "'next tuesday'")),
    ('+++\ntitle = "Hello"\nlastmod = "soon"\n+++\n', 3, NOT_A_DATE.format("lastmod", "'soon'")),
    ("---\ntitle: Hello\ndate: 2024\n---\n", 3, NOT_A_DATE.format("date", "2024 (int)")),
    ('---\ntitle: Hello\n"date": [1, 2]\n---\n', 3, NOT_A_DATE.format("date", "[1, 2] (list)")),
    ('---\ntitle: Hello\nupdated: "2024-02-30"\n---\n', 3,
     NOT_A_DATE.format("updated", "'2024-02-30'")),
    # YAML itself reads it as a date, and fails (it was a traceback):
    ("---\ntitle: Hello\n\nupdated: 2024-13-01\n---\n", 4,
     "YAML error: '2024-13-01' is not a date (month must be in 1..12)"),
])
def test_a_date_that_is_no_date_is_an_error_at_its_line(tmp_path: Path, text: str, line: int,
                                                        message: str) -> None:
    site = site_with(tmp_path, {"content/posts/2024-05-01-hello.md": text})
    code, _, stderr = build(site)
    assert code == 1
    first = stderr.splitlines()[0]
    where_ = where(site, "content/posts/2024-05-01-hello.md", line)
    assert first.startswith(f"error: {where_}: {message}"), first


# -- fields from file names --------------------------------------------------------------------

def test_file_names_give_date_and_slug_and_front_matter_wins(tmp_path: Path) -> None:
    site = site_with(tmp_path, {
        "content/posts/2023-01-02-own-slug.md": "---\ntitle: Own\nslug: mine\n---\nOwn.\n"})
    built(site, "--strict")
    assert index(site) == ["hello=2024-05-01", "mine=2023-01-02",
                           "jekyll=2019-09-25T20:29:15+02:00"]
    assert (site / "build/posts/hello/index.html").read_text() == "Hello 2024-05-01"
    assert (site / "build/posts/mine/index.html").exists()


def test_placeholders_take_as_little_as_they_can_and_the_last_takes_the_rest(
        tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "site.toml": SITE_TOML.replace('sort = "-date", filename = "{date}-{slug}"',
                                       'sort = "slug", filename = "{year}-{slug}"'),
        "templates/index.html": "{% for p in data.posts %}{{ p.year }}/{{ p.slug }} "
                                "{% endfor %}",
        "templates/post.html": "{{ page.slug }}",
        "content/posts/2024-a-b.md": "A B.\n",
        "content/posts/1999-c.md": "C.\n",
    })
    built(site, "--strict")
    assert index(site) == ["2024/a-b", "1999/c"]


def test_file_names_carry_fields_for_data_files_too(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "site.toml": '[sources]\nevents = { glob = "content/events/*", sort = "date", '
                     'filename = "{date}-{slug}" }\n\n[[routes]]\nurl = "/"\n'
                     'template = "index.html"\n',
        "templates/index.html": "{% for e in data.events %}{{ e.slug }} {{ e.date.year }} "
                                "{{ e.name }};{% endfor %}",
        "content/events/2024-03-01-launch.toml": 'name = "Launch"\n',
        "content/events/2023-11-05-meetup.json": '{"name": "Meetup"}\n',
        "content/events/2025-01-01-party.yaml": "name: Party\nslug: new-year\n",
    })
    built(site, "--strict")
    assert (site / "build/index.html").read_text() == (
        "meetup 2023 Meetup;launch 2024 Launch;new-year 2025 Party;")


def test_a_file_name_that_does_not_match_warns_and_strict_fails(tmp_path: Path) -> None:
    site = site_with(tmp_path, {"templates/index.html": "{% for p in data.posts %}{{ p.slug }}="
                                                        "{{ p.date or 'none' }} {% endfor %}",
                                "templates/post.html": "{{ page.title }}",
                                "content/posts/notes.md": "---\ntitle: Notes\n---\nNotes.\n",
                                # matches not, but its front matter gives what it would:
                                "content/posts/about.md": "---\ntitle: About\n"
                                                          "date: 2020-01-01\n---\nAbout.\n"})
    stderr = built(site)
    warning = (f"warning: {display_path(site / 'content/posts/notes.md')}: the file name does "
               f'not match filename = "{{date}}-{{slug}}" '
               f'({where(site, "site.toml", POSTS_LINE)}, source "posts") and the front '
               "matter gives no date")
    assert warning in stderr.splitlines(), stderr
    assert "about.md" not in stderr
    assert index(site)[-1] == "notes=none"  # kept, last: it has no date to sort by
    # the same warnings from a build that reads nothing again, then --strict fails
    assert warning in built(site).splitlines()
    code, _, stderr = build(site, "--strict")
    assert code == 1 and "warnings (--strict)" in stderr and "notes.md: the file name" in stderr


@pytest.mark.parametrize(("pattern", "message"), [
    ("{date}-{slug", "has a brace that is not a placeholder"),
    ("{date}-{2x}", "has a brace that is not a placeholder"),
    ("post", 'has no placeholder; write one like "{date}-{slug}"'),
    ("{slug}-{slug}", '"{slug}" appears twice'),
    ("{date}/{slug}", "is matched against a file name"),
])
def test_a_bad_filename_pattern_is_a_located_config_error(tmp_path: Path, pattern: str,
                                                          message: str) -> None:
    site = site_with(tmp_path, {"site.toml": SITE_TOML.replace("{date}-{slug}", pattern)})
    code, _, stderr = build(site)
    assert code == 1
    first = stderr.splitlines()[0]
    assert first.startswith(f"error: {where(site, 'site.toml', POSTS_LINE)}: "
                            "sources.posts.filename: "), first
    assert message in first, first


def test_filename_on_a_single_file_is_a_config_error(tmp_path: Path) -> None:
    site = site_with(tmp_path, {
        "site.toml": SITE_TOML + '\n[sources.about]\npath = "content/about.md"\n'
                                 'filename = "{slug}"\n',
        "content/about.md": "About.\n"})
    code, _, stderr = build(site)
    assert code == 1
    assert 'sources.about.filename: "filename" applies to a collection (a glob) only' in stderr


# -- items without the sort key -----------------------------------------------------------------

UNDATED = {
    "site.toml": SITE_TOML.replace(', filename = "{date}-{slug}"', ""),
    "templates/index.html": "{% for p in data.posts %}{{ p.slug }} {% endfor %}",
    "templates/post.html": "{{ page.title }}",
    "content/posts/2024-05-01-hello.md": "---\ntitle: Hello\ndate: 2024-05-01\n---\n",
    "content/posts/b-undated.md": "---\ntitle: B\n---\n",
    "content/posts/a-undated.md": "---\ntitle: A\n---\n",
}


def test_items_without_the_sort_key_warn_naming_the_first_and_come_last(
        tmp_path: Path) -> None:
    site = make_site(tmp_path, UNDATED)
    code, stdout, stderr = run_renderer("build", site, "--jobs", "1")
    assert code == 0, stderr
    warning = (f'warning: {display_path(site / "content/posts/a-undated.md")} (and 1 more): '
               f'no "date", which source "posts" is sorted by '
               f'({where(site, "site.toml", POSTS_LINE)}); sorted last')
    assert warning in stderr.splitlines(), stderr
    assert "1 warning)" in stdout
    assert index(site) == ["2024-05-01-hello", "a-undated", "b-undated"]
    # Remembered: a rebuild that renders nothing says it again; fixed, it goes.
    assert warning in built(site).splitlines()
    (site / "content/posts/a-undated.md").write_text("---\ntitle: A\ndate: 2020-01-01\n---\n")
    assert 'content/posts/b-undated.md: no "date"' in built(site)
    (site / "content/posts/b-undated.md").write_text("---\ntitle: B\ndate: 2020-01-02\n---\n")
    assert "warning" not in built(site)


def test_strict_makes_a_missing_sort_key_an_error(tmp_path: Path) -> None:
    site = make_site(tmp_path, UNDATED)
    code, _, stderr = run_renderer("build", site, "--strict")
    assert code == 1
    assert stderr.startswith("error: 1 warning (--strict):"), stderr
    assert 'content/posts/a-undated.md (and 1 more): no "date"' in stderr
    assert not (site / "build").exists()


def test_mixed_types_stay_an_error_naming_both_files(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**UNDATED, "site.toml": UNDATED["site.toml"].replace(
        'sort = "-date"', 'sort = "rank"'),
        "content/posts/b-undated.md": "---\ntitle: B\nrank: 2\n---\n",
        "content/posts/a-undated.md": "---\ntitle: A\nrank: first\n---\n"})
    code, _, stderr = build(site)
    assert code == 1
    assert stderr.startswith(f"error: {where(site, 'site.toml', POSTS_LINE)}: "), stderr
    assert "content/posts/a-undated.md has rank 'first' (str)" in stderr
    assert "content/posts/b-undated.md has rank 2 (int)" in stderr


def test_serve_logs_a_warning_once_per_change(tmp_path: Path) -> None:
    site = make_site(tmp_path, UNDATED)
    with running(site) as server:
        assert server.get("/").status == 200
        assert server.get("/").status == 200
        warning = 'content/posts/a-undated.md (and 1 more): no "date"'
        server.wait_for("/", lambda reply: warning in server.log())
        assert server.log().count(warning) == 1, server.log()
        (site / "content/posts/a-undated.md").write_text("---\ntitle: A\ndate: 2020-01-01\n---\n")
        server.wait_for("/", lambda reply: 'content/posts/b-undated.md: no "date"' in server.log())
