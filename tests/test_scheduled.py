"""Pages dated after the build's time (`[site] future = false`, the default): left out like
drafts, published by a later build without `--clean`, shown marked by `serve`, and
`renderer build --now TIME` to build as of another time. Dates are relative to the
clock, or set with `--now`: no test sleeps more than a few seconds.
"""

from __future__ import annotations

import datetime
import shutil
import time
from pathlib import Path

import pytest
from conftest import make_site, run_cli, run_renderer, tree
from serving import running
from werkzeug.test import Client

from renderer import create_app

SITE_TOML = """\
[site]
title = "Scheduled"

[sources]
posts = { glob = "content/posts/*.md", sort = "-date" }
about = "content/about.md"

[[routes]]
url = "/"
template = "index.html"

[[routes]]
url = "/posts/<slug>/"
template = "post.html"
each = "posts"

[[routes]]
url = "/about/"
template = "page.html"
page = "about"
"""


def stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_now(**delta: float) -> str:
    return stamp(datetime.datetime.now(datetime.UTC) + datetime.timedelta(**delta))


def post(title: str, date: str, body: str = "Text.") -> str:
    return f"---\ntitle: {title}\ndate: {date}\n---\n{body}\n"


def scheduled_site(tmp_path: Path, soon: str, **files: str) -> Path:
    return make_site(tmp_path, {
        "site.toml": SITE_TOML,
        "templates/index.html": "{% for p in data.posts %}{{ p.slug }}"
                                "{% if p.future %}(scheduled){% endif %} {% endfor %}",
        "templates/post.html": "<h1>{{ page.title }}</h1>{{ page.content }}",
        "templates/page.html": "{{ page.title }}",
        "content/about.md": post("About", "2020-01-01"),
        "content/posts/old.md": post("Old", "2020-01-01", "[next](/posts/soon/)"),
        "content/posts/soon.md": post("Soon", soon),
        **files,
    })


def built(site: Path, *args: str) -> str:
    code, stdout, stderr = run_cli("build", site, "--jobs", "1", *args)
    assert code == 0, stderr
    return stdout + stderr


def index(site: Path) -> str:
    return (site / "build" / "index.html").read_text()


def same_as_clean(site: Path, tmp_path: Path, *args: str) -> None:
    """A clean build of a copy, with the same arguments, gives the same files."""
    copy = tmp_path / "clean"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns(".renderer-cache", "build"))
    built(copy, "--clean", *args)
    assert tree(site / "build") == tree(copy / "build")


def test_a_post_dated_in_the_future_is_left_out_like_a_draft(tmp_path: Path) -> None:
    site = scheduled_site(tmp_path, from_now(days=1))
    output = built(site)
    assert index(site) == "old "
    assert not (site / "build/posts/soon").exists()
    assert "link to /posts/soon/, a URL the site does not produce" in output
    code, _, stderr = run_cli("build", site, "--strict")
    assert code == 1 and "(--strict)" in stderr


def test_future_true_builds_them_marked(tmp_path: Path) -> None:
    site = scheduled_site(tmp_path, from_now(days=1), **{
        "site.toml": SITE_TOML.replace('title = "Scheduled"',
                                       'title = "Scheduled"\nfuture = true')})
    built(site, "--strict")
    assert index(site) == "soon(scheduled) old "
    assert (site / "build/posts/soon/index.html").exists()


def test_future_must_be_a_boolean(tmp_path: Path) -> None:
    site = scheduled_site(tmp_path, from_now(days=1), **{
        "site.toml": SITE_TOML.replace('title = "Scheduled"', 'title = "Scheduled"\nfuture = 1')})
    code, _, stderr = run_cli("build", site)
    assert code == 1
    assert "site.toml:3: site.future: must be true or false, not a number" in stderr


def test_a_later_build_publishes_a_post_whose_date_has_come(tmp_path: Path) -> None:
    """The build remembers the date of the post it left out: once it has come, the posts
    that list it and its own page are made, without --clean."""
    site = scheduled_site(tmp_path, from_now(seconds=2))
    code, stdout, stderr = run_renderer("build", site, "--jobs", "1")
    assert code == 0, stderr
    assert index(site) == "old "
    time.sleep(2.5)
    output = built(site)
    assert index(site) == "soon old "
    assert "<h1>Soon</h1>" in (site / "build/posts/soon/index.html").read_text()
    # the index and the post; the old post links to it and is no longer broken
    assert "(2 rendered" in output and "0 warnings" in output
    same_as_clean(site, tmp_path)
    assert "(0 rendered" in built(site)  # and then nothing until the next date


def test_build_now_previews_the_site_as_of_a_time_and_back(tmp_path: Path) -> None:
    site = scheduled_site(tmp_path, "2030-06-01T12:00:00Z",
                          **{"content/posts/later.md": post("Later", "2031-01-01")})
    built(site, "--now", "2030-06-01T12:00:00Z")
    assert index(site) == "soon old "
    same_as_clean(site, tmp_path, "--now", "2030-06-01T12:00:00Z")
    built(site, "--now", "2031-01-01")  # a date is midnight UTC: the later post is due
    assert index(site) == "later soon old "
    same_as_clean(site, tmp_path, "--now", "2031-01-01")
    built(site)  # today: both are in the future again, and their pages go
    assert index(site) == "old "
    assert not (site / "build/posts/soon").exists()
    assert not (site / "build/posts/later").exists()
    same_as_clean(site, tmp_path)


@pytest.mark.parametrize(("date", "now", "published"), [
    ("2030-01-01", "2030-01-01T00:00:00Z", True),  # a date is midnight UTC
    ("2030-01-01", "2029-12-31T23:59:59Z", False),
    ("2030-01-01", "2030-01-01T01:00:00+02:00", False),  # 23:00 UTC the day before
    ("2030-01-01T10:00", "2030-01-01T11:00:00+02:00", False),  # no offset: UTC
    ("2030-01-01T10:00", "2030-01-01T10:00", True),
    ("2030-01-01 12:00:00 +0200", "2030-01-01T10:00:00Z", True),
])
def test_dates_without_a_zone_are_utc(tmp_path: Path, date: str, now: str,
                                      published: bool) -> None:
    site = scheduled_site(tmp_path, f'"{date}"')
    built(site, "--now", now)
    assert index(site) == ("soon old " if published else "old ")


def test_a_future_page_source_makes_no_url(tmp_path: Path) -> None:
    site = scheduled_site(tmp_path, "2020-01-02",
                          **{"content/about.md": post("About", from_now(days=3))})
    built(site)
    assert not (site / "build/about").exists()
    assert index(site) == "soon old "


def test_a_now_that_is_no_time_is_a_usage_error(tmp_path: Path) -> None:
    site = scheduled_site(tmp_path, "2020-01-02")
    code, _, stderr = run_renderer("build", site, "--now", "tomorrow")
    assert code == 2
    assert "Invalid value for --now: 'tomorrow' is not a date or time" in stderr


def test_serve_shows_future_posts_marked_and_no_drafts_hides_them(tmp_path: Path) -> None:
    site = scheduled_site(tmp_path, from_now(days=1))
    with running(site) as server:
        assert server.get("/").text.startswith("soon(scheduled) old ")
        assert server.get("/posts/soon/").status == 200
    with running(site, "--no-drafts") as server:
        assert server.get("/").text.startswith("old ")
        assert server.get("/posts/soon/").status == 404


def test_create_app_publishes_a_post_when_its_date_comes(tmp_path: Path) -> None:
    """The production app keeps pages in memory: the date of the post it left out drops
    them, as an edit would."""
    site = scheduled_site(tmp_path, from_now(seconds=1.5))
    client = Client(create_app(site, check_interval=60))
    assert client.get("/").get_data(as_text=True) == "old "
    assert client.get("/posts/soon/").status_code == 404
    time.sleep(2)
    assert client.get("/").get_data(as_text=True) == "soon old "
    assert client.get("/posts/soon/").status_code == 200


def test_a_link_to_a_page_not_yet_published_follows_the_clock(tmp_path: Path) -> None:
    """A `.md` link resolves only to a published page: a page linking to one dated later
    than `--now` is rendered again, as a clean build would make it (the stateful test
    found the link kept)."""
    site = make_site(tmp_path, {
        "site.toml": """
            [sources]
            posts = { glob = "content/posts/*.md" }
            about = "content/about.md"
            [[routes]]
            url = "/posts/<slug>/"
            template = "post.html"
            each = "posts"
            [[routes]]
            url = "/about/"
            template = "post.html"
            page = "about"
        """,
        "content/posts/b.md": "---\ntitle: B\ndate: 2024-01-01\n---\nSee [about](../about.md).\n",
        "content/about.md": "---\ntitle: About\ndate: 2024-01-08\n---\nAbout.\n",
        "templates/post.html": "{{ page.content }}\n",
    })
    code, _, err = run_cli("build", site)
    assert code == 0, err
    assert '<a href="/about/">' in (site / "build/posts/b/index.html").read_text()
    code, _, err = run_cli("build", site, "--now", "2024-01-05")
    assert code == 0, err
    incremental = tree(site / "build")
    assert '<a href="/about/">' not in incremental["posts/b/index.html"].decode()
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns(".renderer-cache", "build"))
    code, _, err = run_cli("build", clean, "--now", "2024-01-05")
    assert code == 0, err
    assert incremental == tree(clean / "build")
