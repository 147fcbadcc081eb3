"""Filters on the management API's lists: query parameters such as `?state=active`."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from apis.models import Api, Gateway, Product, Subscription


class SearchFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search names")
    search_fields: tuple[str, ...] = ("name", "display_name")

    def search(self, queryset, name, value):
        query = Q()
        for field in self.search_fields:
            query |= Q(**{f"{field}__icontains": value})
        return queryset.filter(query)


class ApiFilterSet(SearchFilterSet):
    product = django_filters.CharFilter(field_name="products__name", distinct=True)
    gateway = django_filters.CharFilter(field_name="gateways__name", distinct=True)
    search_fields = ("name", "display_name", "url_suffix")

    class Meta:
        model = Api
        fields = ["name", "url_suffix", "url_scheme", "subscription_required"]


class ProductFilterSet(SearchFilterSet):
    api = django_filters.CharFilter(field_name="apis__name", distinct=True)

    class Meta:
        model = Product
        fields = ["name", "state", "approval_required"]


class GatewayFilterSet(SearchFilterSet):
    api = django_filters.CharFilter(field_name="apis__name", distinct=True)
    search_fields = ("name", "description")

    class Meta:
        model = Gateway
        fields = ["name", "kind"]


class SubscriptionFilterSet(django_filters.FilterSet):
    product = django_filters.CharFilter(field_name="product__name")
    api = django_filters.CharFilter(field_name="api__name")
    owner = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = Subscription
        fields = ["state", "scope"]


class UserFilterSet(django_filters.FilterSet):
    class Meta:
        model = get_user_model()
        fields = ["username", "is_staff", "is_superuser", "is_active"]
