"""Broken links and links to drafts: warnings by default, errors with --strict."""

from __future__ import annotations

from pathlib import Path

from conftest import make_site, run_cli, run_renderer, snapshot, tree

SITE = {
    "site.toml": """\
        [site]
        title = "Strict"

        [sources]
        posts = "content/posts/*.md"

        [[routes]]
        url = "/"
        template = "index.html"

        [[routes]]
        url = "/posts/<slug>/"
        template = "post.html"
        each = "posts"
        """,
    "templates/index.html": """\
        {% for post in data.posts %}<a href="{{ url_for('post', slug=post.slug) }}">x</a>
        {% endfor %}<a href="/posts/a">no slash</a> <a href="https://example.org/away/">away</a>
        <a href="#top">top</a> <a href="mailto:me@example.org">mail</a>
        <link rel="stylesheet" href="/style.css">
        """,
    "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n",
    "content/posts/a.md": "---\ntitle: A\n---\nSee [b](../b/) and [home](/).\n",
    "content/posts/b.md": "---\ntitle: B\n---\nBack to [a](/posts/a/).\n",
    "static/style.css": "body {}\n",
}


def test_a_site_with_good_links_has_no_warning(tmp_path: Path) -> None:
    site = make_site(tmp_path, SITE)
    code, stdout, stderr = run_cli("build", site, "--strict")
    assert code == 0, stderr
    assert "warning" not in stderr
    assert "0 warnings" in stdout


def test_broken_link_is_a_warning_then_an_error_with_strict(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "content/posts/b.md":
                                "---\ntitle: B\n---\nSee [gone](/posts/gone/) and [c](../c/).\n"})
    code, stdout, stderr = run_renderer("build", site, cwd=tmp_path)
    assert code == 0, stderr
    assert "2 warnings" in stdout
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, stderr
    assert all("site/build/posts/b/index.html" in line for line in warnings)
    assert any("/posts/gone/" in line for line in warnings)
    assert any("../c/" in line and "/posts/c/" in line for line in warnings)
    assert "a URL the site does not produce" in warnings[0]

    before = snapshot(site / "build")
    code, stdout, stderr = run_renderer("build", site, "--strict", cwd=tmp_path)
    assert code == 1
    assert stderr.startswith("error: ")
    assert "/posts/gone/" in stderr and "Traceback" not in stderr
    assert snapshot(site / "build") == before


def test_link_to_a_draft(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "content/posts/c.md":
                                "---\ntitle: C\ndraft: true\n---\nNot yet.\n",
                                "content/posts/b.md":
                                "---\ntitle: B\n---\nSoon: [c](/posts/c/).\n"})
    code, stdout, stderr = run_cli("build", site)
    assert code == 0, stderr
    assert "1 warning)" in stdout
    assert "draft" in stderr and "/posts/c/" in stderr
    assert "posts/c/index.html" not in tree(site / "build")
    assert b"/posts/c/" not in (site / "build" / "index.html").read_bytes()

    code, _, stderr = run_cli("build", site, "--strict")
    assert code == 1
    assert stderr.startswith("error: ") and "draft" in stderr

    code, stdout, stderr = run_cli("build", site, "--strict", "--drafts")
    assert code == 0, stderr
    assert "0 warnings" in stdout
    assert b"Not yet." in tree(site / "build")["posts/c/index.html"]
    assert b"/posts/c/" in (site / "build" / "index.html").read_bytes()


def test_a_single_draft_page_is_left_out(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **SITE,
        "site.toml": SITE["site.toml"] + '\n[[routes]]\nurl = "/soon/"\n'
                                         'template = "post.html"\npage = "soon"\n',
        "content/soon.md": "---\ntitle: Soon\ndraft: true\n---\nSoon.\n",
    })
    (site / "site.toml").write_text((site / "site.toml").read_text().replace(
        'posts = "content/posts/*.md"', 'posts = "content/posts/*.md"\nsoon = "content/soon.md"'))
    code, _, stderr = run_cli("build", site, "--strict")
    assert code == 0, stderr
    assert "soon/index.html" not in tree(site / "build")
    code, _, stderr = run_cli("build", site, "--strict", "--drafts")
    assert code == 0, stderr
    assert "soon/index.html" in tree(site / "build")


def test_links_are_found_in_every_linking_tag_however_it_is_written(tmp_path: Path) -> None:
    """HTML's tag and attribute names are case-blind: a link written `<A HREF=...>` or
    spread over lines is checked like `<a href=...>`; an attribute of another tag is not
    a link."""
    page = """\
        <A HREF="/gone/upper-a/">x</A> <a
          class="x" href='/gone/lower-a/'>y</a>
        <IMG SRC="/gone/img.png"> <Script src="/gone/app.js"></Script>
        <LINK rel="icon" Href="/gone/icon.png"> <iframe src="/gone/frame/"></iframe>
        <video><Source SRC="/gone/clip.webm"></video>
        <abbr href="/gone/abbr/">not a link</abbr> <span src="/gone/span/">nor this</span>
        <a href="/posts/a/">fine</a> <IMG src="/style.css?v=2">
        """
    site = make_site(tmp_path, {**SITE, "templates/index.html": page})
    code, stdout, stderr = run_cli("build", site)
    assert code == 0, stderr
    reported = {line.split("link to ")[1].split(",")[0]
                for line in stderr.splitlines() if line.startswith("warning: ")}
    assert reported == {"/gone/upper-a/", "/gone/lower-a/", "/gone/img.png", "/gone/app.js",
                        "/gone/icon.png", "/gone/frame/", "/gone/clip.webm"}, stderr


def test_script_style_and_comments_hold_no_links(tmp_path: Path) -> None:
    """`href=` inside a script, a style sheet or a comment is text, not a link; a
    `<script src>` is one. A static HTML file is checked like a rendered page."""
    page = """\
        <!doctype html>
        <script>document.write('<a href="/gone/in-script/">x</a>');</script>
        <SCRIPT type="module">const s = `<img src="/gone/in-module.png">`;</SCRIPT>
        <style>.x { background: url("/gone/in-style.png") } /* <a href="/gone/css/"> */</style>
        <!-- <a href="/gone/commented/">old</a>
             <img src="/gone/commented.png"> -->
        <script src="/gone/app.js"></script> <a href="/gone/after/">after</a>
        """
    site = make_site(tmp_path, {**SITE, "static/legacy.html": page})
    code, _, stderr = run_cli("build", site)
    assert code == 0, stderr
    reported = {line.split("link to ")[1].split(",")[0]
                for line in stderr.splitlines() if line.startswith("warning: ")}
    assert reported == {"/gone/app.js", "/gone/after/"}, stderr
    good = make_site(tmp_path, {**SITE, "static/legacy.html": page.replace(
        '<script src="/gone/app.js"></script> <a href="/gone/after/">after</a>', "")},
        folder="good")
    code, _, stderr = run_cli("build", good, "--strict")
    assert code == 0, stderr


BASE_SITE = {
    **SITE,
    "site.toml": SITE["site.toml"].replace('title = "Strict"', 'title = "Strict"\n'
                                           'base_url = "https://example.org/docs/"'),
    "templates/index.html": """\
        {% for post in data.posts %}<a href="{{ url_for('post', slug=post.slug) }}">x</a>
        {% endfor %}
        <a href="/blog/">the blog</a> <a href="/legacy/old/">old</a> <a href="/docs">home</a>
        """,
    "content/posts/a.md": "---\ntitle: A\n---\nSee [b](../b/).\n\nThe [blog](/blog/).\n",
}


def test_links_outside_the_base_path_are_checked_and_ignore_links_skips(
        tmp_path: Path) -> None:
    site = make_site(tmp_path, BASE_SITE)
    code, stdout, stderr = run_renderer("build", site, cwd=tmp_path)
    assert code == 0, stderr
    warnings = sorted(line for line in stderr.splitlines() if line.startswith("warning: "))
    assert warnings == [
        # The Markdown link /blog/ got the base path: it is the site's own /blog/.
        "warning: site/content/posts/a.md:6: link to /docs/blog/ (/blog/), a URL the site "
        "does not produce (in site/build/posts/a/index.html)",
        "warning: site/templates/index.html:3: link to /blog/, outside the site's "
        "base path /docs/ (in site/build/index.html)",
        "warning: site/templates/index.html:3: link to /legacy/old/, outside "
        "the site's base path /docs/ (in site/build/index.html)",
    ], stderr

    (site / "site.toml").write_text((site / "site.toml").read_text()
                                    + '\n[build]\nignore_links = ["/legacy/*", "/blog/"]\n')
    code, stdout, stderr = run_cli("build", site, "--strict")
    assert code == 0, stderr
    assert "0 warnings" in stdout


def test_a_warning_names_the_data_file_a_link_came_from(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **SITE,
        "site.toml": SITE["site.toml"].replace('posts = "content/posts/*.md"',
                                               'posts = "content/posts/*.md"\n'
                                               'nav = "content/nav.yaml"'),
        "content/nav.yaml": "items:\n  - {label: Home, href: /}\n  - {label: Gone, href: /gone/}\n",
        "templates/index.html": '{% for item in data.nav["items"] %}'
                                '<a href="{{ item.href }}">{{ item.label }}</a>{% endfor %}\n'
                                '<a href="{{ \'/else\' ~ \'where/\' }}">made</a>\n',
    })
    code, _, stderr = run_cli("build", site, cwd=tmp_path)
    assert code == 0, stderr
    assert "warning: site/content/nav.yaml:3: link to /gone/, a URL the site does " \
           "not produce (in site/build/index.html)" in stderr
    # Written nowhere as it is: the page's template, without a line.
    assert "warning: site/templates/index.html: link to /elsewhere/" in stderr


def test_a_bad_build_table_is_a_located_error(tmp_path: Path) -> None:
    for table, message in (
            ('[build]\nignore_link = ["/x/*"]\n',
             'build.ignore_link: unknown key "ignore_link" (did you mean "ignore_links"?)'),
            ('[build]\nignore_links = "/x/*"\n',
             "build.ignore_links: must be a list of link patterns"),
            ("build = 3\n", "build: must be a table ([build])")):
        site = make_site(tmp_path, {**SITE, "site.toml": table + SITE["site.toml"]},
                         folder=f"site{len(message)}")
        code, _, stderr = run_cli("build", site, cwd=site)
        assert code == 1
        assert stderr.startswith(f"error: site.toml:{1 if 'build =' in table else 2}: {message}"), \
            stderr


def test_one_broken_link_on_many_pages_is_one_line(tmp_path: Path) -> None:
    """A typo in a template every post uses is one warning naming the first page and
    how many more, not one per page (5,000 posts would print 5,000 lines); the same link
    from different places stays a line each."""
    posts = {f"content/posts/p{n}.md": f"---\ntitle: P{n}\n---\nText.\n" for n in range(12)}
    site = make_site(tmp_path, {
        **SITE, **posts,
        "templates/post.html": "<h1>{{ page.title }}</h1>\n<a href='/abuot/'>about</a>\n"
                               "{{ page.content }}\n",
        "content/posts/b.md": "---\ntitle: B\n---\nSee [about](/abuot/).\n",
    })
    code, stdout, stderr = run_renderer("build", site, cwd=tmp_path)
    assert code == 0, stderr
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, stderr
    from_template = next(line for line in warnings if "templates/post.html" in line)
    assert "link to /abuot/" in from_template
    # 14 posts; on b's page the link is found in b.md first, and named there
    assert "(in site/build/posts/a/index.html and 12 more pages)" in from_template
    from_post = next(line for line in warnings if "content/posts/b.md:4" in line)
    assert "(in site/build/posts/b/index.html)" in from_post
    assert "2 warnings" in stdout
    strict = run_renderer("build", site, "--strict", cwd=tmp_path)
    assert strict.code == 1 and "2 broken links (--strict)" in strict.stderr
