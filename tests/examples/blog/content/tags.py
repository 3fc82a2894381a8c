"""Tags and yearly archives, computed from the posts."""


def all_tags(data):
    tags = {}
    for post in data.posts:
        for tag in post.get("tags", []):
            tags.setdefault(tag, []).append(post)
    return dict(sorted(tags.items()))


def tag_urls(data):
    return [{"tag": tag} for tag in data.tags]


def tag_context(tag, data):
    return {"tagged": data.tags[tag], "tag_count": len(data.tags)}


def years(data):
    found = sorted({post["date"].year for post in data.posts})
    return [{"year": year} for year in found]
