"""The publisher's AsyncAPI forms: add an API from a document, or update one from a new version."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import slugify

from apis.asyncapi.errors import AsyncApiError
from apis.asyncapi.loading import MAX_DOCUMENT_BYTES
from apis.asyncapi.reading import read
from apis.asyncapi.services import import_asyncapi
from apis.forms import CatalogForm, _clean_unique_name
from apis.models import Api, Gateway, Product
from apis.validators import validate_backend_url, validate_url_suffix


class AsyncApiImportForm(CatalogForm):
    """Upload or paste a document; with `instance`, the document updates that API."""

    document_file = forms.FileField(
        label="AsyncAPI file",
        required=False,
        help_text="YAML or JSON, AsyncAPI 3.0.0 or 2.x (up to 2.6.0).",
    )
    document_text = forms.CharField(
        label="…or paste the document",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "class": "code", "spellcheck": "false"}),
    )
    server = forms.CharField(
        label="Backend server",
        required=False,
        widget=forms.Select,
        help_text="The document's ws/wss server that is the backend, when it lists several.",
    )
    backend_url = forms.CharField(
        label="Backend URL instead",
        max_length=2000,
        required=False,
        validators=[validate_backend_url],
        help_text="Leave empty to use the document's server.",
    )
    url_suffix = forms.CharField(
        label="API URL suffix",
        max_length=200,
        validators=[validate_url_suffix],
        help_text="Clients connect to the gateway at this path.",
    )
    name = forms.SlugField(
        max_length=80, required=False, help_text="Left empty, derived from the document's title."
    )
    products = forms.ModelMultipleChoiceField(queryset=Product.objects.all(), required=False)
    gateways = forms.ModelMultipleChoiceField(
        queryset=Gateway.objects.all(),
        required=False,
        help_text="Left empty, the built-in managed gateway.",
    )

    def __init__(self, *args, instance: Api | None = None, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)
        self.fields["products"].queryset = Product.objects.order_by("display_name")
        self.fields["gateways"].queryset = Gateway.objects.order_by("name")
        self.fields["server"].widget.choices = [("", "(the only ws/wss server)")]
        if instance is not None:
            for field in ("url_suffix", "name", "products", "gateways"):
                del self.fields[field]
            keep = f"Leave this and the server empty to keep the backend ({instance.backend_url})."
            self.fields["backend_url"].help_text = keep

    def clean_name(self) -> str:
        if not self.cleaned_data.get("name"):
            return ""
        return _clean_unique_name(self, Api, None, "An API")

    def clean(self):
        data = super().clean()
        upload = data.get("document_file")
        if upload is not None:
            if upload.size > MAX_DOCUMENT_BYTES:
                raise ValidationError("The file is larger than 1 MiB.")
            source = upload.read()
            try:  # shown again in the text box, so a second try needs no new upload
                self.data = self.data.copy()
                self.data["document_text"] = source.decode("utf-8-sig")
            except UnicodeDecodeError:
                pass
        else:
            source = data.get("document_text", "")
        if not source or not source.strip():
            raise ValidationError("Upload an AsyncAPI file or paste the document.")
        try:
            imported = read(source, need_backend=False)
        except AsyncApiError as error:
            for problem in error.problems:
                self.add_error(None, str(problem))
            return data
        data["document"] = source
        if self.instance is None and "name" in data:
            data["name"] = data["name"] or slugify(imported.display_name)[:80]
            if Api.objects.filter(name=data["name"]).exists():
                self.add_error(
                    "name",
                    f"An API named '{data['name']}' already exists: update it from its AsyncAPI "
                    "tab, or choose another name.",
                )
        servers = imported.servers  # never the Portico gateway's own (an API's export)
        blank = "(keep the backend)" if self.instance is not None else "(choose a server)"
        self.fields["server"].widget.choices = [("", blank)] + [
            (name, f"{name}: {url}") for name, url in servers
        ]
        if not data.get("backend_url"):
            self._check_server(data.get("server"), imported)
        return data

    def _check_server(self, chosen: str | None, imported) -> None:
        """A chosen server must be a backend; a new API needs one, an update keeps its own."""
        servers = imported.servers
        if chosen:
            if chosen not in [name for name, _ in servers]:
                self.add_error("server", "Choose one of the document's ws/wss servers.")
        elif self.instance is not None:
            return
        elif len(servers) > 1:
            self.add_error("server", "The document lists several ws/wss servers: choose one.")
        elif not servers and imported.gateway_servers:
            message = "The document's servers are the Portico gateway, not a backend"
            self.add_error("backend_url", f"{message}: enter the backend URL.")
        elif not servers:
            message = "The document has no ws/wss server"
            self.add_error("backend_url", f"{message}: enter the backend URL.")

    def save(self) -> tuple[Api, bool] | None:
        data = self.cleaned_data
        values = {
            "document": data["document"],
            "server": data.get("server") or None,
            "backend_url": data.get("backend_url") or None,
        }
        if self.instance is not None:
            values["api"] = self.instance
        else:
            values |= {
                "name": data.get("name") or None,
                "url_suffix": data["url_suffix"],
                "products": data.get("products") or (),
                "gateways": data.get("gateways") or None,
            }
        return self.save_with(import_asyncapi, **values)
