"""Django admin for the catalog: lists, filters, lifecycle actions, masked keys, access tokens."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from apis import selectors, services
from apis.asyncapi.contract import messages as contract_messages
from apis.certificate_admin import GatewayHostnameInline
from apis.models import (
    API_FIELD_GROUPS,
    Api,
    Gateway,
    GlobalPolicy,
    PersonalAccessToken,
    Product,
    Subscription,
)
from apis.validators import hide_refused_broker_secret


def mask(secret: str) -> str:
    return f"{secret[:4]}…{'•' * 6}" if secret else ""


# The inline rows of the many-to-many tables are named after what they link, not
# "Api_gateways object (2)" (Django's default for an auto-created through model).
Api.gateways.through.__str__ = lambda row: f"{row.api} on gateway {row.gateway}"
Product.apis.through.__str__ = lambda row: f"{row.api} in product {row.product}"


class ApiGatewayInline(admin.TabularInline):
    model = Api.gateways.through
    extra = 0
    verbose_name = "gateway"
    verbose_name_plural = "gateways"


class ProductApiInline(admin.TabularInline):
    model = Product.apis.through
    extra = 0
    verbose_name = "product"
    verbose_name_plural = "products"


class ApiAdminForm(forms.ModelForm):
    """Admin's API form; like the publisher form, it never shows a refused password back."""

    def full_clean(self) -> None:
        super().full_clean()  # the model's own validation runs last, in _post_clean
        hide_refused_broker_secret(self)


@admin.register(Api)
class ApiAdmin(admin.ModelAdmin):
    form = ApiAdminForm
    # Admin's integer box (5em) cuts off "4194304": the limits get a box wide enough.
    WIDE_NUMBERS = ("max_message_bytes", "idle_timeout_seconds", "max_duration_seconds")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in self.WIDE_NUMBERS and field is not None:
            field.widget.attrs["style"] = "width: 12em"
        return field

    list_display = (
        "display_name",
        "name",
        "url_suffix",
        "backend_url",
        "url_scheme",
        "subscription_required",
        "updated_at",
    )
    list_filter = ("url_scheme", "subscription_required", "gateways", "products")
    search_fields = ("display_name", "name", "url_suffix", "backend_url", "description")
    readonly_fields = ("created_at", "updated_at", "effective_policy", "asyncapi_messages")
    inlines = [ApiGatewayInline, ProductApiInline]
    fieldsets = (
        *((legend or None, {"fields": names}) for legend, names in API_FIELD_GROUPS),
        ("onHandshake policy", {"fields": ("policy_xml", "effective_policy")}),
        ("AsyncAPI", {"fields": ("asyncapi_messages",)}),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description="messages (import a document from the publisher pages or API)")
    def asyncapi_messages(self, obj: Api) -> str:
        rows = [
            (channel["name"], message["name"], ", ".join(message["directions"]) or "-")
            for channel, message in contract_messages(obj)
        ]
        if not rows:
            return "No AsyncAPI document imported."
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{} · {} (client: {})</li>", rows),
        )

    @admin.display(description="effective policy (with inherited scopes)")
    def effective_policy(self, obj: Api) -> str:
        if obj.pk is None:
            return "-"
        parts = []
        for variant in selectors.effective_policies(obj):
            if variant.effective is None:
                text = f"Cannot compute: {variant.error}"
            else:
                notes = "".join(f"\n<!-- warning: {w} -->" for w in variant.effective.warnings)
                text = variant.effective.to_xml() + notes
            parts.append(format_html("<p>For {}:</p><pre>{}</pre>", variant.applies_to, text))
        return format_html_join("", "{}", ((part,) for part in parts))


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = (
        "display_name",
        "name",
        "state",
        "subscription_required",
        "approval_required",
        "subscriptions_limit",
    )
    list_filter = ("state", "subscription_required", "approval_required", "groups")
    search_fields = ("display_name", "name", "description")
    filter_horizontal = ("apis", "groups")


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "location_name",
        "location_country",
        "node_count",
        "last_seen_at",
    )
    list_filter = ("kind", "location_country")
    search_fields = ("name", "description", "location_name", "location_city")
    readonly_fields = ("last_seen_at", "node_count", "node_version", "created_at", "updated_at")
    actions = ["regenerate_primary_token", "regenerate_secondary_token"]
    inlines = [GatewayHostnameInline]

    def _regenerate(self, request, queryset, which: str):
        # Only the hash is stored: the new tokens are on this response and nowhere else.
        tokens = [
            (gateway.name, services.regenerate_gateway_token(gateway=gateway, which=which))
            for gateway in queryset
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"New {which} node tokens",
            "which": which,
            "tokens": tokens,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/apis/gateway/new_tokens.html", context)

    @admin.action(description="Regenerate the primary node token (shown once)")
    def regenerate_primary_token(self, request, queryset):
        return self._regenerate(request, queryset, "primary")

    @admin.action(description="Regenerate the secondary node token (shown once)")
    def regenerate_secondary_token(self, request, queryset):
        return self._regenerate(request, queryset, "secondary")


def _lifecycle_action(action: str, label: str):
    def run(modeladmin, request, queryset) -> None:
        done, refused = 0, []
        for subscription in queryset:
            try:
                services.change_subscription_state(subscription=subscription, action=action)
                done += 1
            except ValidationError as exc:
                refused.append(f"{subscription}: {'; '.join(exc.messages)}")
        if done:
            modeladmin.message_user(request, f"{label}: {done} subscription(s).")
        for message in refused:
            modeladmin.message_user(request, message, level=messages.WARNING)

    run.__name__ = f"{action}_subscriptions"
    return admin.action(description=f"{label} selected subscriptions")(run)


def _regenerate_action(which: str):
    def run(modeladmin, request, queryset) -> None:
        for subscription in queryset:
            services.regenerate_subscription_key(subscription=subscription, which=which)
        modeladmin.message_user(request, f"Regenerated the {which} key of {queryset.count()}.")

    run.__name__ = f"regenerate_{which}_key"
    return admin.action(description=f"Regenerate the {which} key")(run)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    # Seven columns, not nine: scope and its target share one, both masked keys another, so
    # the list fits a 1280 px window beside the sidebar and the filters (static/css/admin.css).
    list_display = (
        "display_name",
        "owner",
        "target",
        "state",
        "masked_keys",
        "created_at",
        "expiration_date",
    )
    list_filter = ("state", "scope", "product")
    search_fields = (
        "display_name",
        "owner__username",
        "owner__email",
        "product__name",
        "api__name",
    )
    list_select_related = ("owner", "product", "api")
    raw_id_fields = ("owner",)
    readonly_fields = (
        "masked_primary_key",
        "masked_secondary_key",
        "created_at",
        "start_date",
        "end_date",
        "updated_at",
    )
    exclude = ("primary_key", "secondary_key")
    actions = [
        _lifecycle_action("approve", "Approve"),
        _lifecycle_action("reject", "Reject"),
        _lifecycle_action("suspend", "Suspend"),
        _lifecycle_action("reactivate", "Reactivate"),
        _lifecycle_action("cancel", "Cancel"),
        _regenerate_action("primary"),
        _regenerate_action("secondary"),
    ]

    @admin.display(description="scope", ordering="scope")
    def target(self, obj: Subscription) -> str:
        if obj.product:
            return f"Product: {obj.product}"
        return f"API: {obj.api}" if obj.api else "All APIs"

    @admin.display(description="keys (primary, secondary)")
    def masked_keys(self, obj: Subscription) -> str:
        return format_html(
            "<code>{}</code><br><code>{}</code>", mask(obj.primary_key), mask(obj.secondary_key)
        )

    @admin.display(description="primary key")
    def masked_primary_key(self, obj: Subscription) -> str:
        return format_html("<code>{}</code>", mask(obj.primary_key))

    @admin.display(description="secondary key")
    def masked_secondary_key(self, obj: Subscription) -> str:
        return format_html("<code>{}</code>", mask(obj.secondary_key))


@admin.register(GlobalPolicy)
class GlobalPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "updated_at")

    def has_add_permission(self, request) -> bool:
        return not GlobalPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "token_prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "token_prefix")
    readonly_fields = ("token_prefix", "created_at", "last_used_at")
    raw_id_fields = ("user",)

    def has_add_permission(self, request) -> bool:
        return False  # tokens are created in the portal, where the secret is shown once


# Named values and policy fragments: registered by their own module.
from apis import library_admin  # noqa: E402,F401
