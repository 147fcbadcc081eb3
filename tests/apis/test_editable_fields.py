"""The editable fields of APIs, products and gateways are listed once (apis.models), and the
services, forms, serializers, declarative catalog and admin all follow that one list."""

import pytest
from django.contrib import admin

from apis import services
from apis.api import catalog
from apis.api.serializers import ApiSerializer, GatewaySerializer, ProductSerializer
from apis.forms import ApiSettingsForm, GatewayForm, ProductForm
from apis.models import (
    API_EDITABLE_FIELDS,
    API_FIELD_GROUPS,
    GATEWAY_EDITABLE_FIELDS,
    PRODUCT_EDITABLE_FIELDS,
    Api,
    Gateway,
    Product,
)

LISTS = [
    (Api, API_EDITABLE_FIELDS),
    (Product, PRODUCT_EDITABLE_FIELDS),
    (Gateway, GATEWAY_EDITABLE_FIELDS),
]


@pytest.mark.parametrize(("model", "fields"), LISTS, ids=lambda v: getattr(v, "__name__", ""))
def test_each_list_names_editable_fields_of_its_model_once(model, fields):
    assert len(set(fields)) == len(fields)
    for name in fields:
        field = model._meta.get_field(name)
        assert field.concrete and field.editable and not field.many_to_many, name


def test_forms_show_exactly_the_editable_fields_and_their_relations():
    assert set(ApiSettingsForm.base_fields) == (
        set(API_EDITABLE_FIELDS) - {"policy_xml", "asyncapi_contract"} | {"products", "gateways"}
    )
    assert set(ProductForm.base_fields) == set(PRODUCT_EDITABLE_FIELDS) - {"policy_xml"} | {
        "groups",
        "apis",
    }
    # A gateway's kind is chosen when it is made: self-hosted from the pages, managed built in.
    assert set(GatewayForm.base_fields) == set(GATEWAY_EDITABLE_FIELDS) - {"kind"} | {
        "apis",
        "hostnames",
    }


def test_the_settings_tab_and_the_admin_group_fields_alike():
    form_groups = [
        (legend, [n for n in names if n not in ("gateways", "products")])
        for legend, names in ApiSettingsForm.SECTIONS
    ]
    assert form_groups == [(legend, list(names)) for legend, names in API_FIELD_GROUPS]
    admin_groups = admin.site._registry[Api].fieldsets[: len(API_FIELD_GROUPS)]
    assert [list(options["fields"]) for _legend, options in admin_groups] == [
        list(names) for _legend, names in API_FIELD_GROUPS
    ]


def test_serializers_and_the_catalog_follow_the_lists_in_order():
    def in_order(shown, fields):
        return [name for name in shown if name in fields]

    assert in_order(ApiSerializer.Meta.fields, API_EDITABLE_FIELDS)[1:] == [
        f for f in API_EDITABLE_FIELDS if f not in ("name", "policy_xml", "asyncapi_contract")
    ]
    assert in_order(ProductSerializer.Meta.fields, PRODUCT_EDITABLE_FIELDS)[1:] == [
        f for f in PRODUCT_EDITABLE_FIELDS if f not in ("name", "policy_xml")
    ]
    assert in_order(GatewaySerializer.Meta.fields, GATEWAY_EDITABLE_FIELDS) == list(
        GATEWAY_EDITABLE_FIELDS
    )
    assert catalog.SECTIONS == {
        "gateways": tuple(f for f in GATEWAY_EDITABLE_FIELDS if f != "name"),
        "apis": tuple(f for f in API_EDITABLE_FIELDS if f not in ("name", "asyncapi_contract")),
        "products": tuple(f for f in PRODUCT_EDITABLE_FIELDS if f != "name"),
    }


@pytest.mark.django_db
def test_a_service_refuses_a_field_outside_the_list():
    gateway = services.create_gateway(name="edge")
    with pytest.raises(TypeError, match="node_count"):
        services.update_gateway(gateway=gateway, node_count=3)
    api = services.create_api(display_name="Chat", backend_url="ws://127.0.0.1:9/", url_suffix="c")
    with pytest.raises(TypeError, match="created_at"):
        services.update_api(api=api, created_at=None)
