"""Publisher forms: each validates its fields, then saves through `apis.services`."""

from django import forms
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from apis import services
from apis.models import API_FIELD_GROUPS, Api, Certificate, Gateway, Product, Subscription
from apis.validators import (
    hide_refused_broker_secret,
    validate_backend_url,
    validate_header_name,
    validate_query_param_name,
    validate_url_suffix,
)

# Multiple choices as a checkbox list: one click never silently drops the other choices.
CHECKBOXES = forms.CheckboxSelectMultiple(attrs={"class": "choice-list"})

# Path words used by the publisher pages themselves (e.g. /publisher/apis/add/).
RESERVED_NAMES = frozenset({"add", "import"})


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError beside the form's fields (others go on top)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


class CatalogForm(forms.Form):
    """A form whose save() runs a service and maps its refusals onto fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def save_with(self, service, **values):
        try:
            return service(**values)
        except ValidationError as error:
            apply_service_errors(self, error)
            return None


def _clean_unique_name(form: forms.Form, model, instance, label: str) -> str:
    name = form.cleaned_data.get("name") or slugify(form.cleaned_data.get("display_name", ""))
    name = name[:80]
    if not name:
        return name
    if name in RESERVED_NAMES:
        raise ValidationError(f"'{name}' is reserved by the publisher pages; choose another name.")
    others = model.objects.filter(name=name)
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise ValidationError(f"{label} named '{name}' already exists; choose another name.")
    return name


class ApiForm(CatalogForm):
    """The "Add WebSocket API" form (and the API's Settings tab, with `instance`)."""

    display_name = forms.CharField(max_length=100)
    name = forms.SlugField(
        max_length=80,
        required=False,
        help_text="Filled from the display name; letters, digits, '-' and '_'.",
    )
    backend_url = forms.CharField(
        label="WebSocket URL",
        max_length=2000,
        validators=[validate_backend_url],
        help_text="The backend, e.g. wss://backend.example.com/socket, or an event broker: "
        "redis://127.0.0.1:6379/0, nats://127.0.0.1:4222, mqtt://127.0.0.1:1883. A broker's "
        "password is the name of a secret named value, never the password itself: "
        "redis://:{{redis-pass}}@host:6379/0, nats://user:{{nats-pass}}@host:4222 (or a token: "
        "nats://{{nats-token}}@host), mqtt://user:{{mqtt-pass}}@host:1883.",
    )
    source = forms.JSONField(
        label="Event source",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "code", "spellcheck": "false"}),
        help_text='For an event broker only, as JSON: {"subscribe": "prices", "allow": [], '
        '"publish": null, "envelope": true}. Leave empty for a WebSocket backend.',
    )
    url_scheme = forms.ChoiceField(label="URL scheme", choices=Api.Scheme.choices, initial="both")
    url_suffix = forms.CharField(
        label="API URL suffix",
        max_length=200,
        validators=[validate_url_suffix],
        help_text="Clients connect to the gateway at this path.",
    )
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.all(),
        required=False,
        widget=CHECKBOXES,
        help_text="Developers reach the API through the published products it is in.",
    )
    gateways = forms.ModelMultipleChoiceField(
        queryset=Gateway.objects.all(),
        required=False,
        widget=CHECKBOXES,
        help_text="The gateways that serve the API; on none, no client can connect.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    subscription_required = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, instance: Api | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{f: getattr(instance, f) for f in self.declared_fields if hasattr(instance, f)},
                "products": list(instance.products.all()),
                "gateways": list(instance.gateways.all()),
            }
        super().__init__(*args, **kwargs)
        if instance is None and not self.is_bound:
            self.initial.setdefault("gateways", [services.ensure_builtin_gateway()])
        self.fields["products"].queryset = Product.objects.order_by("display_name")
        self.fields["gateways"].queryset = Gateway.objects.order_by("name")

    def clean_name(self) -> str:
        return _clean_unique_name(self, Api, self.instance, "An API")

    def clean_source(self) -> dict:
        return self.cleaned_data.get("source") or {}  # empty: a WebSocket backend

    def clean(self):
        cleaned = super().clean()
        hide_refused_broker_secret(self)
        return cleaned

    def clean_url_suffix(self) -> str:
        suffix = self.cleaned_data["url_suffix"]
        others = Api.objects.filter(url_suffix__iexact=suffix)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(f"The suffix '{suffix}' is already used by another API.")
        return suffix

    def save(self) -> Api | None:
        values = dict(self.cleaned_data)
        if self.instance is None:
            return self.save_with(services.create_api, **values)
        return self.save_with(services.update_api, api=self.instance, **values)


# The API's relations, shown in the Settings tab's group they belong to.
CHOSEN_IN_GROUP = {"Connection": ("gateways",), "Subscription": ("products",)}


class ApiSettingsForm(ApiForm):
    """The Settings tab: the add form plus the key names and connection limits, in groups."""

    subscription_key_header = forms.CharField(
        label="Header name",
        max_length=100,
        validators=[validate_header_name],
        help_text="The request header that carries the subscription key.",
    )
    subscription_key_query = forms.CharField(
        label="Query parameter name",
        max_length=100,
        validators=[validate_query_param_name],
        help_text="The query parameter that carries the key (browsers can only use this one).",
    )
    max_message_bytes = forms.IntegerField(
        label="Largest message (bytes)",
        min_value=1,
        help_text=Api._meta.get_field("max_message_bytes").help_text,
        widget=forms.NumberInput(attrs={"class": "number"}),
    )
    idle_timeout_seconds = forms.IntegerField(
        label="Idle timeout (seconds)",
        min_value=1,
        help_text=Api._meta.get_field("idle_timeout_seconds").help_text,
        widget=forms.NumberInput(attrs={"class": "number"}),
    )
    max_duration_seconds = forms.IntegerField(
        label="Longest connection (seconds)",
        min_value=1,
        help_text=Api._meta.get_field("max_duration_seconds").help_text,
        widget=forms.NumberInput(attrs={"class": "number"}),
    )
    max_connections_per_subscription = forms.IntegerField(
        label="Connections per subscription",
        min_value=1,
        required=False,
        help_text=Api._meta.get_field("max_connections_per_subscription").help_text,
        widget=forms.NumberInput(attrs={"class": "number"}),
    )

    # The model's groups, as the admin shows them (what the API is, how clients reach it, what
    # they need, what limits apply), with the gateways and products chosen where they belong.
    SECTIONS = tuple(
        (legend, (*names, *CHOSEN_IN_GROUP.get(legend, ()))) for legend, names in API_FIELD_GROUPS
    )

    def sections(self) -> list[tuple[str, list]]:
        """(legend, bound fields) per group; a field no group names joins the first group."""
        listed = {name for _legend, names in self.SECTIONS for name in names}
        groups = [
            (legend, [self[n] for n in names if n in self.fields])
            for legend, names in self.SECTIONS
        ]
        groups[0][1].extend(self[n] for n in self.fields if n not in listed)
        return groups


class PolicyForm(CatalogForm):
    """An onHandshake policy document; the owner's service validates it."""

    policy_xml = forms.CharField(
        label="Policy document",
        required=False,
        strip=False,  # keep the lines where they are, so error line numbers match the editor
        widget=forms.Textarea(attrs={"rows": 22, "class": "code", "spellcheck": "false"}),
    )

    def clean_policy_xml(self) -> str:
        return self.cleaned_data["policy_xml"].replace("\r\n", "\n")


class ProductForm(CatalogForm):
    """Add or edit a product: state, approval, limits, terms, visibility and APIs."""

    display_name = forms.CharField(max_length=100)
    name = forms.SlugField(max_length=80, required=False, help_text="Filled from the display name.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    state = forms.ChoiceField(choices=Product.State.choices, initial=Product.State.NOT_PUBLISHED)
    subscription_required = forms.BooleanField(required=False, initial=True)
    approval_required = forms.BooleanField(required=False)
    subscriptions_limit = forms.IntegerField(
        min_value=0, required=False, help_text="Per user; empty for no limit."
    )
    max_connections_per_subscription = forms.IntegerField(
        label="Connections per subscription",
        min_value=1,
        required=False,
        help_text=Product._meta.get_field("max_connections_per_subscription").help_text,
    )
    legal_terms = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    groups = forms.ModelMultipleChoiceField(
        label="Visible to groups",
        queryset=Group.objects.all(),
        required=False,
        widget=CHECKBOXES,
        help_text="Guests: anonymous visitors; Developers: every signed-in developer.",
    )
    apis = forms.ModelMultipleChoiceField(
        label="APIs", queryset=Api.objects.all(), required=False, widget=CHECKBOXES
    )

    def __init__(self, *args, instance: Product | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{f: getattr(instance, f) for f in self.declared_fields if hasattr(instance, f)},
                "groups": list(instance.groups.all()),
                "apis": list(instance.apis.all()),
            }
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = Group.objects.order_by("name")
        self.fields["apis"].queryset = Api.objects.order_by("display_name")

    def clean_name(self) -> str:
        return _clean_unique_name(self, Product, self.instance, "A product")

    def save(self) -> Product | None:
        values = dict(self.cleaned_data)
        if self.instance is None:
            return self.save_with(services.create_product, **values)
        return self.save_with(services.update_product, product=self.instance, **values)


CLIENT_CERTIFICATES = "client-certificates"


def hostnames_text(gateway: Gateway) -> str:
    """A gateway's host names as the form's text shows them, one per line."""
    lines = []
    for row in gateway.hostnames.select_related("certificate").order_by("hostname"):
        words = [row.hostname]
        if row.certificate:
            words.append(row.certificate.name)
        if row.negotiate_client_certificate:
            words.append(CLIENT_CERTIFICATES)
        lines.append(" ".join(words))
    return "\n".join(lines)


class GatewayForm(CatalogForm):
    """Add or edit a self-hosted gateway, and choose the APIs it serves."""

    name = forms.SlugField(max_length=80, help_text="Gateway nodes run with PORTICO_GATEWAY=name.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    location_name = forms.CharField(label="Location", max_length=100, required=False)
    location_city = forms.CharField(label="City", max_length=100, required=False)
    location_district = forms.CharField(label="District", max_length=100, required=False)
    location_country = forms.CharField(label="Country/region", max_length=100, required=False)
    apis = forms.ModelMultipleChoiceField(
        label="APIs", queryset=Api.objects.all(), required=False, widget=CHECKBOXES
    )
    hostnames = forms.CharField(
        label="Host names",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One per line: the host name, then the name of the certificate TLS serves on "
        "it, then “client-certificates” to ask clients for theirs, e.g. "
        "“api.example.com api-cert”. Once there is one, other Host names get 421.",
    )

    def __init__(self, *args, instance: Gateway | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{f: getattr(instance, f) for f in self.declared_fields if hasattr(instance, f)},
                "apis": list(instance.apis.all()),
                "hostnames": hostnames_text(instance),
            }
        super().__init__(*args, **kwargs)
        self.fields["apis"].queryset = Api.objects.order_by("display_name")
        if instance is not None and instance.is_builtin:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "The built-in gateway keeps its name."

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name in RESERVED_NAMES:
            raise ValidationError(f"'{name}' is reserved by the publisher pages; choose another.")
        others = Gateway.objects.filter(name=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(f"A gateway named '{name}' already exists; choose another name.")
        return name

    def clean_hostnames(self) -> list[dict]:
        entries = []
        for number, line in enumerate(self.cleaned_data["hostnames"].splitlines(), start=1):
            words = line.split()
            if not words:
                continue
            flag = len(words) > 1 and words[-1] == CLIENT_CERTIFICATES
            if flag:
                words = words[:-1]
            if len(words) > 2:
                raise ValidationError(f"Line {number}: a host name and one certificate name.")
            certificate = None
            if len(words) == 2:
                certificate = Certificate.objects.filter(name=words[1]).first()
                if certificate is None:
                    raise ValidationError(f"Line {number}: no certificate named '{words[1]}'.")
            entries.append(
                {
                    "hostname": words[0],
                    "certificate": certificate,
                    "negotiate_client_certificate": flag,
                }
            )
        return entries

    def save(self) -> Gateway | None:
        values = dict(self.cleaned_data)
        apis = values.pop("apis")
        hostnames = values.pop("hostnames")
        try:
            with transaction.atomic():
                if self.instance is None:
                    gateway = services.create_gateway(**values)
                else:
                    gateway = services.update_gateway(gateway=self.instance, **values)
                services.set_gateway_hostnames(gateway=gateway, hostnames=hostnames)
                return services.set_gateway_apis(gateway=gateway, apis=apis)
        except ValidationError as error:
            apply_service_errors(self, error)
            return None


class SubscriptionFilterForm(forms.Form):
    """Filters of the subscriptions list."""

    state = forms.ChoiceField(
        choices=[("", "Any state"), *Subscription.State.choices],
        required=False,
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.order_by("display_name"), required=False, empty_label="Any product"
    )


class StateChangeForm(forms.Form):
    """The optional reason for a state change; the developer sees it as the note."""

    comment = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to the developer as the note on the subscription.",
    )


class SubscriptionCreateForm(CatalogForm):
    """A publisher adds a subscription for a user (or a standalone one) to any scope."""

    display_name = forms.CharField(label="Display name", max_length=100)
    owner = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Nobody (standalone subscription)",
        help_text="The developer who sees the subscription and its keys in the portal.",
    )
    scope = forms.ChoiceField(
        choices=Subscription.Scope.choices,
        initial=Subscription.Scope.PRODUCT,
        widget=forms.RadioSelect,
        help_text="Which APIs the keys open.",
    )
    product = forms.ModelChoiceField(
        label="Which product", queryset=None, required=False, help_text="For scope Product."
    )
    api = forms.ModelChoiceField(
        label="Which API", queryset=None, required=False, help_text="For scope API."
    )
    state = forms.ChoiceField(
        choices=[
            (s, label)
            for s, label in Subscription.State.choices
            if s in (Subscription.State.ACTIVE, Subscription.State.SUBMITTED)
        ],
        initial=Subscription.State.ACTIVE,
        help_text="Active keys work at once; submitted ones wait for approval.",
    )

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.order_by("username")
        self.fields["product"].queryset = Product.objects.order_by("display_name")
        self.fields["api"].queryset = Api.objects.order_by("display_name")

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope == Subscription.Scope.PRODUCT and not data.get("product"):
            self.add_error("product", "Choose the product this subscription opens.")
        if scope == Subscription.Scope.API and not data.get("api"):
            self.add_error("api", "Choose the API this subscription opens.")
        # The other scope's choice is ignored rather than refused: the form keeps both lists.
        if scope != Subscription.Scope.PRODUCT:
            data["product"] = None
        if scope != Subscription.Scope.API:
            data["api"] = None
        return data

    def save(self) -> Subscription | None:
        return self.save_with(services.create_subscription, **self.cleaned_data)
