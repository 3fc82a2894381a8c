"""Data sources as a site author sees them in the built pages."""

from __future__ import annotations

from pathlib import Path

from conftest import make_site, run_cli


def build_index(tmp_path: Path, files: dict[str, str | None]) -> str:
    site = make_site(tmp_path, files)
    code, _, stderr = run_cli("build", site, "--strict")
    assert code == 0, stderr
    return (site / "build" / "index.html").read_text()


def test_sort_by_date_mixes_dates_and_date_times(tmp_path: Path) -> None:
    """Front matter gives a date for `2024-01-02` and a datetime for `2024-01-01 10:00`,
    with or without a zone: sorting by date must still work, newest first."""
    index = build_index(tmp_path, {
        "site.toml": '[sources]\nposts = { glob = "content/*.md", sort = "-date" }\n\n'
                     '[[routes]]\nurl = "/"\ntemplate = "index.html"\n',
        "templates/index.html": "{% for p in data.posts %}{{ p.slug }} {% endfor %}",
        "content/a.md": "---\ndate: 2024-01-02\n---\n",
        "content/b.md": "---\ndate: 2024-01-01 10:00:00\n---\n",
        "content/c.md": '---\ndate: "2024-01-03T08:00:00Z"\n---\n',
        "content/d.md": "+++\ndate = 2023-12-31T23:00:00+01:00\n+++\n",
        "content/e.md": "---\ntitle: no date\n---\n",
    })
    assert index.split() == ["c", "a", "b", "d", "e"]


def test_collection_of_data_files_and_python_arguments(tmp_path: Path) -> None:
    index = build_index(tmp_path, {
        "site.toml": '[site]\ntitle = "T"\n\n[sources]\n'
                     'people = { glob = "content/people/*", sort = "name" }\n'
                     'count = "content/count.py:count"\n\n'
                     '[[routes]]\nurl = "/"\ntemplate = "index.html"\n',
        "templates/index.html": "{% for p in data.people %}{{ p.slug }}={{ p.name }} "
                                "{% endfor %}{{ data.count }}",
        "content/people/zed.toml": 'name = "Zed"\n',
        "content/people/amy.json": '{"name": "Amy"}\n',
        "content/people/bob.yaml": "name: Bob\n",
        "content/count.py": "def count(data, site):\n"
                            "    return f\"{len(data.people)} in {site['title']}\"\n",
    })
    assert index == "amy=Amy bob=Bob zed=Zed 3 in T"
