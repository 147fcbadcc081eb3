"""The catalog: home, API and product lists with search, a product's page and subscribing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apis import selectors, services
from apis.models import Product, Subscription
from portal.forms import SubscribeForm

SEARCH_MAX_LENGTH = 100


def _search_term(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]


def home(request: HttpRequest) -> HttpResponse:
    search = _search_term(request)
    context = {
        "search": search,
        "products": selectors.portal_products(request.user, search=search),
        "apis": selectors.portal_apis(request.user, search=search),
    }
    return render(request, "portal/home.html", context)


def api_list(request: HttpRequest) -> HttpResponse:
    search = _search_term(request)
    apis = selectors.portal_apis(request.user, search=search)
    return render(request, "portal/api_list.html", {"search": search, "apis": apis})


def product_list(request: HttpRequest) -> HttpResponse:
    search = _search_term(request)
    products = selectors.portal_products(request.user, search=search)
    return render(request, "portal/product_list.html", {"search": search, "products": products})


def _visible_product(request: HttpRequest, name: str) -> Product:
    return get_object_or_404(selectors.portal_products(request.user), name=name)


def _product_page(
    request: HttpRequest, product: Product, form: SubscribeForm | None = None, status: int = 200
) -> HttpResponse:
    held = Subscription.objects.none()
    if request.user.is_authenticated:
        held = selectors.subscriptions_of(request.user).filter(product=product)
        form = form or SubscribeForm(product=product)
    context = {
        "product": product,
        "apis": product.apis.order_by("display_name"),
        "form": form,
        "held": held,
    }
    return render(request, "portal/product_detail.html", context, status=status)


def product_detail(request: HttpRequest, name: str) -> HttpResponse:
    return _product_page(request, _visible_product(request, name))


@login_required
@require_POST
def subscribe(request: HttpRequest, name: str) -> HttpResponse:
    product = _visible_product(request, name)
    form = SubscribeForm(request.POST, product=product)
    if not product.subscription_required:
        form.add_error(None, "This product is open: its APIs need no subscription.")
        return _product_page(request, product, form, status=400)
    if not form.is_valid():
        return _product_page(request, product, form, status=400)
    display_name = (
        form.cleaned_data["display_name"]
        or (f"{product.display_name} ({request.user.get_username()})"[:100])
    )
    try:
        subscription = services.create_subscription(
            display_name=display_name, owner=request.user, product=product
        )
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return _product_page(request, product, form, status=400)
    if subscription.state == Subscription.State.SUBMITTED:
        messages.info(
            request,
            f"Your subscription to {product.display_name} is submitted: a publisher approves "
            "it before its keys work.",
        )
    else:
        messages.success(
            request, f"You are subscribed to {product.display_name}: your keys work now."
        )
    return redirect("portal:subscriptions")
