"""The onHandshake policy editor shared by the API and product pages."""

import re
import textwrap

from django.contrib import messages
from django.shortcuts import redirect, render

from apis.forms import PolicyForm
from gateway.policies import SNIPPETS
from gateway.policies.snippets import CATALOG_SNIPPETS

_LINE = re.compile(r"^line (\d+):")


def policy_from_snippet(document: str) -> str:
    """The policy element(s) of a snippet document: the body of its first non-empty section
    (onHandshake <inbound>, or <on-message>'s <inbound>/<outbound>) without <base />."""
    for tag in ("inbound", "outbound"):
        start = document.index(f"<{tag}>", document.find("<on-message>") + 1) + len(tag) + 2
        end = document.index(f"</{tag}>", start)
        if "<on-message>" not in document or document[start:end].count("<") > 1:
            break
    lines = [line for line in document[start:end].splitlines() if line.strip() != "<base />"]
    return textwrap.dedent("\n".join(lines)).strip() + "\n"


def without_base(document: str) -> str:
    """The document without its `<base />` lines (the global scope has no parent)."""
    return "".join(
        line for line in document.splitlines(keepends=True) if line.strip() != "<base />"
    )


def snippet_choices(scope: str = "api") -> list[dict[str, str]]:
    """Every snippet, as a whole document (for an empty editor) and as a bare policy."""
    return [
        {
            "name": name,
            "document": without_base(document) if scope == "global" else document,
            "policy": policy_from_snippet(document),
        }
        for name, document in {**SNIPPETS, **CATALOG_SNIPPETS}.items()
    ]


# The document's own structure, which no snippet shows on its own.
_STRUCTURE = {
    "policies": [],
    "inbound": [],
    "backend": [],
    "outbound": [],
    "on-error": [],
    "on-message": [],
    "base": [],
}


def completion_vocabulary() -> dict[str, list[str]]:
    """Element name -> its attribute names, read from the snippets of the supported policies
    (one example per policy, kept in step with the policy library by its own tests)."""
    from defusedxml.ElementTree import fromstring

    found: dict[str, set[str]] = {tag: set() for tag in _STRUCTURE}
    for document in (*SNIPPETS.values(), *CATALOG_SNIPPETS.values()):
        for element in fromstring(document).iter():
            found.setdefault(element.tag, set()).update(element.attrib)
    return {tag: sorted(attributes) for tag, attributes in sorted(found.items())}


def error_line(form: PolicyForm) -> int | None:
    """The line a PolicyError named, to mark it in the editor's gutter."""
    return error_line_of(form, "policy_xml")


def error_line_of(form, field: str) -> int | None:
    for message in form.errors.get(field, []):
        match = _LINE.match(message)
        if match:
            return int(match.group(1))
    return None


def policy_page(
    request, *, template: str, context: dict, current_xml: str, save, done: str, scope="api"
):
    """Show the editor; on POST validate and save with `save(policy_xml=...)`."""
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid() and form.save_with(save, **form.cleaned_data) is not None:
            messages.success(request, "Policy saved.")
            return redirect(done)
    else:
        form = PolicyForm(initial={"policy_xml": current_xml})
    context = {
        **context,
        "form": form,
        "snippets": snippet_choices(scope),
        "vocabulary": completion_vocabulary(),
        "error_line": error_line(form),
    }
    return render(request, template, context)
