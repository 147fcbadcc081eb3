"""One example document per supported policy (onHandshake and onMessage), for the editor."""

from __future__ import annotations


def _doc(body: str) -> str:
    return (
        "<policies>\n    <inbound>\n        <base />\n"
        + "".join(f"        {line}\n" for line in body.strip().splitlines())
        + "    </inbound>\n    <backend>\n        <base />\n    </backend>\n"
        "    <outbound>\n        <base />\n    </outbound>\n"
        "    <on-error>\n        <base />\n    </on-error>\n</policies>\n"
    )


def _message_doc(body: str, direction: str = "inbound") -> str:
    """A document whose <on-message> <inbound> (client messages) or <outbound> holds `body`."""
    policy = "".join(f"            {line}\n" for line in body.strip().splitlines())
    parts = {
        d: "            <base />\n" + (policy if d == direction else "")
        for d in ("inbound", "outbound")
    }
    return (
        "<policies>\n    <inbound>\n        <base />\n    </inbound>\n    <on-message>\n"
        f"        <inbound>\n{parts['inbound']}        </inbound>\n"
        f"        <outbound>\n{parts['outbound']}        </outbound>\n"
        "    </on-message>\n</policies>\n"
    )


SNIPPETS: dict[str, str] = {
    "check-header": _doc(
        """
<check-header name="X-Client" failed-check-httpcode="401"
    failed-check-error-message="Unknown client" ignore-case="true">
    <value>web</value>
    <value>mobile</value>
</check-header>
"""
    ),
    "validate-jwt": _doc(
        """
<validate-jwt header-name="Authorization" require-scheme="Bearer"
    failed-validation-httpcode="401" failed-validation-error-message="Unauthorized"
    output-token-variable-name="jwt">
    <openid-config url="https://login.example.com/.well-known/openid-configuration" />
    <audiences>
        <audience>api://portico</audience>
    </audiences>
    <issuers>
        <issuer>https://login.example.com/</issuer>
    </issuers>
    <required-claims>
        <claim name="scp" match="any" separator=" ">
            <value>chat.read</value>
        </claim>
    </required-claims>
</validate-jwt>
"""
    ),
    "validate-jwt (symmetric key)": _doc(
        """
<validate-jwt query-parameter-name="access_token" clock-skew="30">
    <issuer-signing-keys>
        <key>c2VjcmV0LXNpZ25pbmcta2V5LTMyLWJ5dGVzLWxvbmch</key>
    </issuer-signing-keys>
</validate-jwt>
"""
    ),
    "ip-filter": _doc(
        """
<ip-filter action="allow">
    <address>203.0.113.10</address>
    <address-range from="10.0.0.0" to="10.0.255.255" />
    <address>2001:db8::1</address>
</ip-filter>
"""
    ),
    "rate-limit": _doc('<rate-limit calls="20" renewal-period="60" />'),
    "rate-limit-by-key": _doc(
        '<rate-limit-by-key calls="10" renewal-period="60"\n'
        '    counter-key="@(context.Request.IpAddress)" />'
    ),
    "quota": _doc('<quota calls="10000" renewal-period="86400" />'),
    "quota-by-key": _doc(
        '<quota-by-key calls="1000" renewal-period="3600"\n'
        '    counter-key="@(context.Subscription.Id)" />'
    ),
    "limit-concurrency": _doc(
        '<limit-concurrency key="@(context.Subscription.Id)" max-count="5" />'
    ),
    "set-header": _doc(
        """
<set-header name="X-Subscription" exists-action="override">
    <value>@(context.Subscription.Name)</value>
</set-header>
"""
    ),
    "set-query-parameter": _doc(
        """
<set-query-parameter name="tenant" exists-action="skip">
    <value>@(context.Product.Name)</value>
</set-query-parameter>
"""
    ),
    "set-backend-service": _doc('<set-backend-service base-url="wss://backend.example.com/ws" />'),
    "return-response": _doc(
        """
<return-response>
    <set-status code="503" reason="Maintenance" />
    <set-header name="Retry-After" exists-action="override">
        <value>600</value>
    </set-header>
    <set-body>{"error": "down for maintenance"}</set-body>
</return-response>
"""
    ),
    "set-variable": _doc(
        '<set-variable name="tenant"\n'
        '    value=\'@(context.Request.Headers.GetValueOrDefault("X-Tenant", "none"))\' />'
    ),
    "set-connection-tag": _doc(
        '<set-connection-tag name="room"\n'
        '    value=\'@(context.Request.Headers.GetValueOrDefault("X-Room", "lobby"))\' />'
    ),
    "limit-message-size": _message_doc('<limit-message-size max-bytes="65536" />'),
    "rate-limit-messages": _message_doc(
        '<rate-limit-messages calls="50" renewal-period="10" action="close" />'
    ),
    "rate-limit-messages (shared counter)": _message_doc(
        '<rate-limit-messages calls="1000" renewal-period="60"\n'
        '    counter-key="@(context.Subscription.Id)" action="drop" />'
    ),
    "validate-message": _message_doc(
        """
<validate-message action="close">
    <schema>{"type": "object", "required": ["op"], "properties": {"op": {"type": "string"}}}
    </schema>
</validate-message>
"""
    ),
    "log-messages": _message_doc(
        """
<log-messages sampling-percentage="10" max-bytes="256">
    <redact path="$.token" />
    <redact path="$.items[*].card" />
</log-messages>
"""
    ),
    "validate-message (AsyncAPI, backend messages)": _message_doc(
        '<validate-message schema-source="asyncapi" action="log" />', "outbound"
    ),
    "choose (handshake)": _doc(
        """
<choose>
    <when condition='@(context.Request.Headers.GetValueOrDefault("X-Plan", "") == "free"
        &amp;&amp; !context.Request.Url.Query.GetValueOrDefault("room", "").StartsWith("public-"))'>
        <return-response>
            <set-status code="403" reason="Forbidden" />
            <set-body>{"error": "free plans join public rooms only"}</set-body>
        </return-response>
    </when>
    <otherwise>
        <set-header name="X-Plan-Checked" exists-action="override">
            <value>true</value>
        </set-header>
    </otherwise>
</choose>
"""
    ),
    "choose (messages)": _message_doc(
        """
<choose>
    <when condition='@(context.Message.IsBinary || context.Message.Json("op") == "debug")'>
        <validate-message action="drop">
            <schema>false</schema>
        </validate-message>
    </when>
    <when condition="@(context.Message.Size &gt; 4096)">
        <rate-limit-messages calls="10" renewal-period="60" action="close" />
    </when>
</choose>
"""
    ),
}


# Snippets that need the catalog: a named value and a fragment to exist (the editor offers them
# with the others; the names are examples to replace).
CATALOG_SNIPPETS: dict[str, str] = {
    "include-fragment": _doc('<include-fragment fragment-id="jwt-check" />'),
    "named value ({{name}})": _doc(
        """
<check-header name="X-Client-Secret" failed-check-httpcode="401"
    failed-check-error-message="Unknown client">
    <value>{{client-secret}}</value>
</check-header>
"""
    ),
    "include-fragment (messages)": _message_doc(
        '<include-fragment fragment-id="message-limits" />'
    ),
}
