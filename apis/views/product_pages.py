"""Publisher pages for products: list, add, edit, policy and the product's subscriptions."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from apis import selectors, services
from apis.config_warnings import product_warnings
from apis.forms import ProductForm
from apis.models import Product
from apis.views.access import breadcrumbs, publisher_required
from apis.views.policy_editor import policy_page
from apis.views.subscription_pages import subscription_rows


def product_tabs(product: Product, current: str) -> list[dict]:
    tabs = [
        ("settings", "Settings", reverse("publisher:product-edit", args=[product.name])),
        # One document edits both onHandshake and onMessage: the tab names neither alone.
        ("policy", "Policies", reverse("publisher:product-policy", args=[product.name])),
        (
            "subscriptions",
            "Subscriptions",
            reverse("publisher:product-subscriptions", args=[product.name]),
        ),
    ]
    return [
        {"key": k, "label": label, "url": url, "current": k == current} for k, label, url in tabs
    ]


def _product(name: str) -> Product:
    return get_object_or_404(selectors.product_list(), name=name)


def product_crumbs(product: Product, current: str) -> list[dict]:
    """Products > the product > its tab `current`."""
    tab = next(t for t in product_tabs(product, current) if t["current"])
    return breadcrumbs(
        "products",
        (product.display_name, reverse("publisher:product-edit", args=[product.name])),
        (tab["label"], None),
    )


def _context(product: Product, tab: str) -> dict:
    return {
        "product": product,
        "tabs": product_tabs(product, tab),
        "crumbs": product_crumbs(product, tab),
        "section": "products",
    }


@publisher_required
def product_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    products = selectors.product_list(search=search)
    return render(
        request,
        "apis/product_list.html",
        {"products": products, "q": search, "section": "products"},
    )


@publisher_required
def product_create(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        product = form.save()
        if product is not None:
            messages.success(request, f"Added the product {product.display_name}.")
            return redirect("publisher:product-edit", product.name)
    context = {"form": form, "section": "products"}
    context["crumbs"] = breadcrumbs("products", ("Add product", None))
    return render(request, "apis/product_form.html", context)


@publisher_required
def product_edit(request: HttpRequest, name: str) -> HttpResponse:
    product = _product(name)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            messages.success(request, f"Saved the product {saved.display_name}.")
            return redirect("publisher:product-edit", saved.name)
        product.refresh_from_db()
    context = {**_context(product, "settings"), "form": form}
    context["warnings"] = product_warnings(product)
    return render(request, "apis/product_form.html", context)


@publisher_required
def product_policy(request: HttpRequest, name: str) -> HttpResponse:
    product = _product(name)
    return policy_page(
        request,
        template="apis/product_policy.html",
        context=_context(product, "policy"),
        current_xml=product.policy_xml,
        save=lambda policy_xml: services.update_product(product=product, policy_xml=policy_xml),
        done=reverse("publisher:product-policy", args=[product.name]),
    )


@publisher_required
def product_subscriptions(request: HttpRequest, name: str) -> HttpResponse:
    product = _product(name)
    rows = subscription_rows(selectors.subscription_list(product=product))
    return render(
        request,
        "apis/product_subscriptions.html",
        {**_context(product, "subscriptions"), "rows": rows},
    )
