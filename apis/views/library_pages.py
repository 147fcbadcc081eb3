"""Publisher pages for what policies share: named values, policy fragments, and the policy
reference (rendered from `gateway.policies.reference`, like the docs' table)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from apis import services
from apis.library_forms import NamedValueForm, PolicyFragmentForm
from apis.models import NamedValue, PolicyFragment
from apis.policy_validation import all_documents, users
from apis.views.access import breadcrumbs, publisher_required
from apis.views.policy_editor import error_line_of
from gateway.policies.reference import REFERENCE


def _users_by(kind: str, names: list[str]) -> dict[str, list]:
    docs = all_documents()
    key = "named_value" if kind == "named_value" else "fragment"
    return {name: users(**{key: name}, docs=docs) for name in names}


@publisher_required
def named_value_list(request: HttpRequest) -> HttpResponse:
    rows = list(NamedValue.objects.order_by("name"))
    used = _users_by("named_value", [r.name for r in rows])
    items = [{"named": r, "used_by": used[r.name]} for r in rows]
    return render(
        request, "apis/named_value_list.html", {"items": items, "section": "named-values"}
    )


def _named_value_page(request, instance: NamedValue | None) -> HttpResponse:
    form = NamedValueForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            verb = "Added" if instance is None else "Saved"
            messages.success(request, f"{verb} the named value {saved.name}.")
            return redirect("publisher:named-value-edit", saved.name)
    context = {"form": form, "named": instance, "section": "named-values"}
    context["crumbs"] = breadcrumbs("named-values", _leaf(instance, "Add named value"))
    if instance is not None:
        context["used_by"] = users(named_value=instance.name)
    return render(request, "apis/named_value_form.html", context)


@publisher_required
def named_value_create(request: HttpRequest) -> HttpResponse:
    return _named_value_page(request, None)


@publisher_required
def named_value_edit(request: HttpRequest, name: str) -> HttpResponse:
    return _named_value_page(request, get_object_or_404(NamedValue, name=name))


@publisher_required
def named_value_delete(request: HttpRequest, name: str) -> HttpResponse:
    named = get_object_or_404(NamedValue, name=name)
    return _delete_page(
        request,
        what=f"the named value {named.name}",
        used_by=users(named_value=named.name),
        delete=lambda: services.delete_named_value(named_value=named),
        cancel=("publisher:named-value-edit", named.name),
        done="publisher:named-value-list",
        section="named-values",
    )


@publisher_required
def fragment_list(request: HttpRequest) -> HttpResponse:
    rows = list(PolicyFragment.objects.order_by("name"))
    used = _users_by("fragment", [r.name for r in rows])
    items = [{"fragment": r, "used_by": used[r.name]} for r in rows]
    return render(request, "apis/fragment_list.html", {"items": items, "section": "fragments"})


def _fragment_page(request, instance: PolicyFragment | None) -> HttpResponse:
    form = PolicyFragmentForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            verb = "Added" if instance is None else "Saved"
            messages.success(request, f"{verb} the policy fragment {saved.name}.")
            return redirect("publisher:fragment-edit", saved.name)
    context = {
        "form": form,
        "fragment": instance,
        "section": "fragments",
        "crumbs": breadcrumbs("fragments", _leaf(instance, "Add policy fragment")),
        "error_line": error_line_of(form, "xml"),
    }
    if instance is not None:
        context["used_by"] = users(fragment=instance.name)
    return render(request, "apis/fragment_form.html", context)


@publisher_required
def fragment_create(request: HttpRequest) -> HttpResponse:
    return _fragment_page(request, None)


@publisher_required
def fragment_edit(request: HttpRequest, name: str) -> HttpResponse:
    return _fragment_page(request, get_object_or_404(PolicyFragment, name=name))


@publisher_required
def fragment_delete(request: HttpRequest, name: str) -> HttpResponse:
    fragment = get_object_or_404(PolicyFragment, name=name)
    return _delete_page(
        request,
        what=f"the policy fragment {fragment.name}",
        used_by=users(fragment=fragment.name),
        delete=lambda: services.delete_policy_fragment(fragment=fragment),
        cancel=("publisher:fragment-edit", fragment.name),
        done="publisher:fragment-list",
        section="fragments",
    )


def _leaf(instance, adding: str) -> tuple[str, None]:
    """The last breadcrumb of a named value's or fragment's page: its name, or `adding`."""
    return (adding if instance is None else instance.name, None)


def _delete_page(request, *, what, used_by, delete, cancel, done, section) -> HttpResponse:
    """Ask first (GET); delete on POST unless policies use it (then say which)."""
    if request.method == "POST" and not used_by:
        try:
            delete()
        except services.InUse as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Deleted {what}.")
            return redirect(done)
    context = {"what": what, "used_by": used_by, "cancel": cancel, "section": section}
    url_name, name = cancel
    context["crumbs"] = breadcrumbs(
        section, (name, reverse(url_name, args=[name])), ("Delete", None)
    )
    return render(request, "apis/library_delete.html", context, status=409 if used_by else 200)


@publisher_required
def policy_reference(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "apis/policy_reference.html",
        {
            "reference": REFERENCE,
            "section": "apis",
            "crumbs": breadcrumbs("apis", ("Policy reference", None)),
        },
    )
