"""Serializers of the management API: shapes and field checks here, every write in apis.services."""

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apis import selectors, services
from apis.api.certificate_serializers import HostnameSerializer
from apis.models import (
    API_EDITABLE_FIELDS,
    GATEWAY_EDITABLE_FIELDS,
    PRODUCT_EDITABLE_FIELDS,
    Api,
    Certificate,
    Gateway,
    NamedValue,
    PolicyFragment,
    Product,
    Subscription,
)


def mask(secret: str) -> str:
    """Enough of a key to tell two apart, never enough to use it."""
    return "…" + secret[-4:] if secret else ""


def editable(fields: tuple[str, ...], *, without: tuple[str, ...]) -> list[str]:
    """A model's editable fields in their order, less those shown elsewhere or first."""
    return [f for f in fields if f not in without]


def names(queryset, **kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="name", queryset=queryset, many=True, required=False, **kwargs
    )


class ApiSerializer(serializers.ModelSerializer):
    products = names(Product.objects.all())
    gateways = names(Gateway.objects.all(), help_text="Defaults to the built-in gateway.")
    backend_kind = serializers.CharField(
        read_only=True, help_text="websocket, redis, nats or mqtt: what backend_url names."
    )
    backend_ca_certificate = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Certificate.objects.all(),
        required=False,
        allow_null=True,
        help_text="A certificate's name: its chain is the only CA a wss:// backend is verified "
        "against (null: the system's CA store). Backends are always verified.",
    )

    class Meta:
        model = Api
        # The policy and the AsyncAPI document have their own endpoints.
        fields = [
            "id",
            "name",
            *editable(API_EDITABLE_FIELDS, without=("name", "policy_xml", "asyncapi_contract")),
            "products",
            "gateways",
            "backend_kind",
            "backend_ca_certificate",
            "created_at",
            "updated_at",
        ]

    @transaction.atomic
    def create(self, validated_data) -> Api:
        ca = validated_data.pop("backend_ca_certificate", None)
        api = services.create_api(**validated_data)
        if ca is not None:
            services.set_api_backend_ca(api=api, certificate=ca)
        return api

    @transaction.atomic
    def update(self, instance: Api, validated_data) -> Api:
        missing = object()
        ca = validated_data.pop("backend_ca_certificate", missing)
        api = services.update_api(api=instance, **validated_data)
        if ca is not missing:
            services.set_api_backend_ca(api=api, certificate=ca)
        return api


class ProductSerializer(serializers.ModelSerializer):
    apis = names(Api.objects.all())

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            *editable(PRODUCT_EDITABLE_FIELDS, without=("name", "policy_xml")),
            "apis",
            "created_at",
            "updated_at",
        ]

    def create(self, validated_data) -> Product:
        return services.create_product(**validated_data)

    def update(self, instance: Product, validated_data) -> Product:
        return services.update_product(product=instance, **validated_data)


class GatewaySerializer(serializers.ModelSerializer):
    apis = names(Api.objects.all(), help_text="The APIs this gateway serves.")
    status = serializers.SerializerMethodField(help_text="From the nodes' heartbeats.")
    hostnames = HostnameSerializer(
        many=True,
        required=False,
        help_text="Public host names: URLs Portico shows use them; the gateway answers 421 for "
        "any other Host once there is one. Sending the list replaces it.",
    )

    class Meta:
        model = Gateway
        fields = [
            "id",
            *GATEWAY_EDITABLE_FIELDS,
            "apis",
            "hostnames",
            "status",
            "last_seen_at",
            "node_count",
            "node_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["last_seen_at", "node_count", "node_version"]

    @extend_schema_field(serializers.ChoiceField(["online", "offline", "never seen"]))
    def get_status(self, gateway: Gateway) -> str:
        return selectors.gateway_status(gateway)

    @transaction.atomic
    def create(self, validated_data) -> Gateway:
        apis = validated_data.pop("apis", None)
        hostnames = validated_data.pop("hostnames", None)
        gateway = services.create_gateway(**validated_data)
        if apis is not None:
            services.set_gateway_apis(gateway=gateway, apis=apis)
        if hostnames is not None:
            services.set_gateway_hostnames(gateway=gateway, hostnames=hostnames)
        return gateway

    @transaction.atomic
    def update(self, instance: Gateway, validated_data) -> Gateway:
        apis = validated_data.pop("apis", None)
        hostnames = validated_data.pop("hostnames", None)
        gateway = services.update_gateway(gateway=instance, **validated_data)
        if apis is not None:
            services.set_gateway_apis(gateway=gateway, apis=apis)
        if hostnames is not None:
            services.set_gateway_hostnames(gateway=gateway, hostnames=hostnames)
        return gateway


class SubscriptionSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        help_text="Username; empty for a standalone subscription.",
    )
    product = serializers.SlugRelatedField(
        slug_field="name", queryset=Product.objects.all(), required=False, allow_null=True
    )
    api = serializers.SlugRelatedField(
        slug_field="name", queryset=Api.objects.all(), required=False, allow_null=True
    )
    state = serializers.ChoiceField(
        Subscription.State.choices,
        required=False,
        help_text="Defaults to submitted when the product needs approval, else active.",
    )
    primary_key = serializers.SerializerMethodField(help_text="Masked: use listSecrets.")
    secondary_key = serializers.SerializerMethodField(help_text="Masked: use listSecrets.")

    class Meta:
        model = Subscription
        fields = [
            "id",
            "display_name",
            "owner",
            "scope",
            "product",
            "api",
            "state",
            "state_comment",
            "primary_key",
            "secondary_key",
            "created_at",
            "start_date",
            "expiration_date",
            "end_date",
            "updated_at",
        ]
        read_only_fields = ["state_comment", "start_date", "end_date"]

    def get_primary_key(self, subscription: Subscription) -> str:
        return mask(subscription.primary_key)

    def get_secondary_key(self, subscription: Subscription) -> str:
        return mask(subscription.secondary_key)

    def create(self, validated_data) -> Subscription:
        return services.create_subscription(**validated_data)


class SubscriptionRenameSerializer(SubscriptionSerializer):
    """Only the display name of an existing subscription changes; the rest has actions."""

    class Meta(SubscriptionSerializer.Meta):
        read_only_fields = [f for f in SubscriptionSerializer.Meta.fields if f != "display_name"]

    def update(self, instance: Subscription, validated_data) -> Subscription:
        name = validated_data.get("display_name", instance.display_name)
        return services.rename_subscription(subscription=instance, display_name=name)


class StateChangeSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why, for the subscription's history (optional).",
    )


class RegenerateKeySerializer(serializers.Serializer):
    key = serializers.ChoiceField(
        ["primary", "secondary"],
        help_text="Which key to replace; connections made with the other one keep working.",
    )


class SubscriptionSecretsSerializer(serializers.Serializer):
    primary_key = serializers.CharField(read_only=True)
    secondary_key = serializers.CharField(read_only=True)


class ConnectTicketRequestSerializer(serializers.Serializer):
    api = serializers.CharField(help_text="The API's name.")
    origin = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="If set, only a browser page of this Origin (e.g. https://app.example) may use "
        "the ticket.",
    )
    gateway = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="The gateway to connect through; by default the managed one when it serves "
        "the API, else the API's first gateway.",
    )
    expires_in = serializers.IntegerField(
        required=False, default=60, min_value=1, max_value=60, help_text="Seconds (at most 60)."
    )


class ConnectTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True, help_text="ws(s)://<host>/<suffix>?ticket=…")
    expires_at = serializers.DateTimeField(read_only=True)
    api = serializers.CharField(read_only=True)
    gateway = serializers.CharField(read_only=True)
    origin = serializers.CharField(read_only=True)


class RegenerateTokenSerializer(serializers.Serializer):
    token = serializers.ChoiceField(
        ["primary", "secondary"],
        default="primary",
        help_text="Which of the gateway's two node tokens to replace (default primary); nodes "
        "using the other one keep working, so nodes can move to a new token one at a time.",
    )


class GatewayNodeSerializer(serializers.Serializer):
    """One node of a gateway, from its worker processes' latest heartbeats."""

    node_id = serializers.CharField(read_only=True)
    hostname = serializers.CharField(read_only=True)
    version = serializers.CharField(read_only=True)
    revision = serializers.IntegerField(read_only=True, help_text="Configuration it serves.")
    revision_current = serializers.BooleanField(read_only=True)
    workers = serializers.IntegerField(read_only=True)
    workers_reporting = serializers.IntegerField(read_only=True)
    open_connections = serializers.IntegerField(read_only=True)
    last_error = serializers.CharField(read_only=True)
    last_seen_at = serializers.DateTimeField(read_only=True)
    online = serializers.BooleanField(read_only=True, help_text="Reported within 30 s.")


class NewGatewayTokenSerializer(serializers.Serializer):
    gateway = serializers.CharField(read_only=True)
    token = serializers.ChoiceField(["primary", "secondary"], read_only=True)
    value = serializers.CharField(read_only=True, help_text="PORTICO_GATEWAY_TOKEN; shown once.")
    commands = serializers.CharField(
        read_only=True, help_text="Shell lines that start a node of this gateway with the token."
    )


class UserSubscriptionSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    api = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = Subscription
        fields = ["id", "display_name", "scope", "product", "api", "state"]


class UserSerializer(serializers.ModelSerializer):
    subscriptions = UserSubscriptionSerializer(many=True, read_only=True)

    class Meta:
        model = get_user_model()
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "is_staff",
            "is_superuser",
            "date_joined",
            "last_login",
            "subscriptions",
        ]


class PolicySerializer(serializers.Serializer):
    policy_xml = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text="The <policies> document; empty for none.",
    )
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


class EffectivePolicyPartSerializer(serializers.Serializer):
    applies_to = serializers.CharField(read_only=True, help_text="Who gets this policy.")
    policy_xml = serializers.CharField(read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True, required=False)
    error = serializers.CharField(
        read_only=True, required=False, help_text="Why a stored document cannot be merged."
    )


class ProductEffectivePolicySerializer(EffectivePolicyPartSerializer):
    product = serializers.CharField(read_only=True, help_text="The product's name.")


class EffectivePolicySerializer(EffectivePolicyPartSerializer):
    """Top level: all-APIs and API-scoped subscriptions (no product's policy applies to them)."""

    products = ProductEffectivePolicySerializer(
        many=True, read_only=True, help_text="What each product's subscribers get."
    )


class UsedByField(serializers.SerializerMethodField):
    """The documents (APIs, products, All APIs, fragments) that use the object."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", "Policies that use it (recompiled when it changes).")
        super().__init__(**kwargs)


def _documents(serializer) -> list:
    """All policy documents, read once per response (lists show every row's users)."""
    from apis.policy_validation import all_documents

    root = serializer.root if serializer.root is not None else serializer
    if "_policy_documents" not in root.context:
        root.context["_policy_documents"] = all_documents()
    return root.context["_policy_documents"]


class NamedValueSerializer(serializers.ModelSerializer):
    """A named value. A secret's value is write-only: answers carry `value: null`; omit it on
    update to keep the stored secret."""

    value = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        help_text="The value; null in answers for a secret (it is never shown, only replaced).",
    )
    used_by = UsedByField()

    class Meta:
        model = NamedValue
        fields = ["name", "description", "secret", "value", "used_by", "created_at", "updated_at"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_used_by(self, named: NamedValue) -> list[str]:
        from apis.policy_validation import users

        return [d.label for d in users(named_value=named.name, docs=_documents(self))]

    def to_representation(self, instance: NamedValue) -> dict:
        data = super().to_representation(instance)
        if instance.secret:
            data["value"] = None  # never the secret, not even its ciphertext
        return data

    def validate_name(self, value: str) -> str:
        if self.instance is not None and value != self.instance.name:
            raise serializers.ValidationError("A named value cannot be renamed.")
        return value

    def create(self, validated_data) -> NamedValue:
        if validated_data.get("value") is None:
            validated_data["value"] = ""
        return services.create_named_value(**validated_data)

    def update(self, instance: NamedValue, validated_data) -> NamedValue:
        validated_data.pop("name", None)
        return services.update_named_value(named_value=instance, **validated_data)


class PolicyFragmentSerializer(serializers.ModelSerializer):
    used_by = UsedByField()
    xml = serializers.CharField(
        trim_whitespace=False,
        help_text="<fragment> holding policy elements; included with <include-fragment "
        'fragment-id="name"/>.',
    )

    class Meta:
        model = PolicyFragment
        fields = ["name", "description", "xml", "used_by", "created_at", "updated_at"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_used_by(self, fragment: PolicyFragment) -> list[str]:
        from apis.policy_validation import users

        return [d.label for d in users(fragment=fragment.name, docs=_documents(self))]

    def validate_name(self, value: str) -> str:
        if self.instance is not None and value != self.instance.name:
            raise serializers.ValidationError("A policy fragment cannot be renamed.")
        return value

    def create(self, validated_data) -> PolicyFragment:
        return services.create_policy_fragment(**validated_data)

    def update(self, instance: PolicyFragment, validated_data) -> PolicyFragment:
        validated_data.pop("name", None)
        return services.update_policy_fragment(fragment=instance, **validated_data)
