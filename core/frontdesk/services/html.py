"""Sanitising inbound HTML (nh3): keep formatting, drop scripts, handlers and remote resources."""

from __future__ import annotations

import re

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div",
    "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"dir", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
_TAG_RE = re.compile(r"<[^>]+>")
_WS_RE = re.compile(r"[ \t]+")


def _keep_only_inline_images(tag: str, attr: str, value: str) -> str | None:
    # Remote images are how tracking pixels work, and the server never fetches them: only
    # images carried by the message itself (cid:) or inline data survive.
    if tag == "img" and attr == "src":
        return value if value.startswith(("cid:", "data:image/")) else None
    return value


def sanitize_html(html: str) -> str:
    """HTML safe to store and to show inside our pages."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid", "data"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_keep_only_inline_images,
        strip_comments=True,
    )


def html_to_text(html: str) -> str:
    """A rough plain-text rendering of (sanitised) HTML for search and previews."""
    import html as html_lib

    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>|</h\d>", "\n", html)
    text = html_lib.unescape(_TAG_RE.sub("", text))
    lines = [_WS_RE.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(lines).strip()
