"""Admin API for mail templates: see the defaults, store overrides, preview, go back."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from frontdesk.ui import access

from .api import blp, json_body, problem
from .mailtemplates import (
    KINDS,
    LOCALE_RE,
    MAX_TEMPLATE_CHARS,
    Template,
    delete_override,
    get_template,
    known_locales,
    render_template,
    sample_context,
    save_override,
    validate_template,
)


class TemplateInputSchema(ma.Schema):
    """An admin's version of a template (Jinja syntax, rendered in a sandbox)."""

    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))
    body_text = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=MAX_TEMPLATE_CHARS)
    )
    body_html = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(max=MAX_TEMPLATE_CHARS)
    )


def _dump(template: Template) -> dict[str, Any]:
    return {
        "kind": template.kind,
        "locale": template.locale,
        "overridden": template.overridden,
        "subject": template.subject,
        "body_text": template.body_text,
        "body_html": template.body_html,
        "variables": sorted(sample_context(template.kind)),
    }


def _checked(kind: str, locale: str) -> Any:
    if kind not in KINDS:
        return problem(404, f"no template kind {kind!r}; kinds: {', '.join(KINDS)}")
    if not LOCALE_RE.match(locale):
        return problem(404, f"{locale!r} is not a locale such as 'en' or 'pt-BR'")
    return None


@blp.route("/templates", methods=["GET"])
@access("admin")
def list_templates() -> Any:
    """Every kind in every known locale, saying which ones an admin changed."""
    items = []
    for locale in known_locales():
        for kind in KINDS:
            template = get_template(kind, locale)
            items.append(
                {
                    "kind": kind,
                    "locale": locale,
                    "exists": template is not None,
                    "overridden": bool(template and template.overridden),
                }
            )
    return {"kinds": list(KINDS), "items": items}


@blp.route("/templates/<kind>/<locale>", methods=["GET"])
@access("admin")
def get_one(kind: str, locale: str) -> Any:
    if (refusal := _checked(kind, locale)) is not None:
        return refusal
    template = get_template(kind, locale)
    if template is None:
        return problem(404, f"no {kind} template in {locale!r} yet; PUT one to add it")
    return _dump(template)


@blp.route("/templates/<kind>/<locale>", methods=["PUT"])
@access("admin")
def put_one(kind: str, locale: str) -> Any:
    """Store an override; a template that does not render with the sample data is refused."""
    if (refusal := _checked(kind, locale)) is not None:
        return refusal
    data = TemplateInputSchema().load(json_body())
    return _dump(save_override(kind, locale, data))


@blp.route("/templates/<kind>/<locale>", methods=["DELETE"])
@access("admin")
def delete_one(kind: str, locale: str) -> Any:
    """Drop the override and use the shipped default again."""
    if (refusal := _checked(kind, locale)) is not None:
        return refusal
    if not delete_override(kind, locale):
        return problem(404, f"the {kind} template in {locale!r} is not overridden")
    return "", 204


@blp.route("/templates/<kind>/<locale>/preview", methods=["POST"])
@access("admin")
def preview(kind: str, locale: str) -> Any:
    """Render the stored template, or the draft in the body, with example data."""
    if (refusal := _checked(kind, locale)) is not None:
        return refusal
    body = json_body()
    if body:
        data = TemplateInputSchema().load(body)
        validate_template(kind, data)
        template = Template(kind, locale, data["subject"], data["body_text"], data.get("body_html"))
    else:
        template = get_template(kind, locale)
        if template is None:
            return problem(404, f"no {kind} template in {locale!r}")
    rendered = render_template(template, sample_context(kind))
    return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}
