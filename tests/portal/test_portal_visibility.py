"""Who sees which products and APIs in the portal: groups, staff, unpublished, search."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from apis import services
from apis.models import Product

pytestmark = pytest.mark.django_db


def group(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]


def make_product(name: str, *groups: str, published: bool = True, suffix: str = "") -> Product:
    api = services.create_api(
        display_name=f"{name} API",
        backend_url="ws://127.0.0.1:9/",
        url_suffix=suffix or f"{name.lower()}-api",
        description=f"The {name} stream",
    )
    state = Product.State.PUBLISHED if published else Product.State.NOT_PUBLISHED
    return services.create_product(
        display_name=name, state=state, apis=[api], groups=[group(g) for g in groups]
    )


@pytest.fixture
def products():
    return {
        "guest": make_product("Guestbook", "Guests"),
        "dev": make_product("Devkit", "Developers"),
        "partner": make_product("Partner", "Partners"),
        "hidden": make_product("Draft", "Guests", "Developers", published=False),
    }


def names_on(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def visible(client, products) -> set[str]:
    page = names_on(client, reverse("portal:home"))
    return {key for key, product in products.items() if product.display_name in page}


def test_anonymous_visitor_sees_guest_products_only(client, products):
    assert visible(client, products) == {"guest"}
    assert "Guestbook API" in names_on(client, reverse("portal:apis"))
    assert "Devkit API" not in names_on(client, reverse("portal:apis"))


def test_developer_sees_developer_products_not_guest_only_ones(client, products):
    user = User.objects.create_user("dev", password="pw-long-enough-1")
    user.groups.add(group("Developers"))
    client.force_login(user)
    assert visible(client, products) == {"dev"}


def test_custom_group_member_also_sees_that_groups_products(client, products):
    user = User.objects.create_user("partner", password="pw-long-enough-1")
    user.groups.add(group("Developers"), group("Partners"))
    client.force_login(user)
    assert visible(client, products) == {"dev", "partner"}
    assert client.get(reverse("portal:product", args=["partner"])).status_code == 200


def test_staff_and_administrators_see_every_published_product(client, products):
    admin = User.objects.create_user("boss", password="pw-long-enough-1")
    admin.groups.add(group("Administrators"))
    client.force_login(admin)
    assert visible(client, products) == {"guest", "dev", "partner"}
    staff = User.objects.create_user("staff", password="pw-long-enough-1", is_staff=True)
    client.force_login(staff)
    assert visible(client, products) == {"guest", "dev", "partner"}


def test_unpublished_product_and_its_only_api_are_404_even_for_staff(client, products):
    staff = User.objects.create_user("staff", password="pw-long-enough-1", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("portal:product", args=["draft"])).status_code == 404
    assert client.get(reverse("portal:api", args=["draft-api"])).status_code == 404
    assert "Draft" not in names_on(client, reverse("portal:products"))


def test_invisible_product_and_api_are_404_by_direct_url(client, products):
    assert client.get(reverse("portal:product", args=["devkit"])).status_code == 404
    assert client.get(reverse("portal:api", args=["devkit-api"])).status_code == 404
    assert client.get(reverse("portal:api", args=["guestbook-api"])).status_code == 200


def test_api_in_a_visible_and_an_invisible_product_shows_only_the_visible_one(client, products):
    products["dev"].apis.add(products["guest"].apis.get())
    page = names_on(client, reverse("portal:api", args=["guestbook-api"]))
    assert "Guestbook" in page
    assert "Devkit" not in page


def test_search_filters_products_and_apis(client, products):
    user = User.objects.create_user("partner", password="pw-long-enough-1")
    user.groups.add(group("Developers"), group("Partners"))
    client.force_login(user)
    page = names_on(client, reverse("portal:home") + "?q=partner")
    assert "Partner API" in page
    assert "Devkit" not in page
    apis = names_on(client, reverse("portal:apis") + "?q=devkit")
    assert "Devkit API" in apis and "Partner API" not in apis
    assert "No products match." in names_on(client, reverse("portal:products") + "?q=zzz")


def test_developer_never_sees_publisher_navigation(client, products):
    user = User.objects.create_user("dev", password="pw-long-enough-1")
    user.groups.add(group("Developers"))
    client.force_login(user)
    page = names_on(client, reverse("portal:home"))
    assert reverse("publisher:index") not in page
    assert reverse("admin:index") not in page
    assert reverse("portal:subscriptions") in page and reverse("portal:profile") in page
