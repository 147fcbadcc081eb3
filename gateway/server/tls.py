"""TLS where the gateway stands: one server context whose SNI callback picks each host name's
certificate from the current snapshot, or a single certificate from files.

TLS 1.2 and later with forward-secret AEAD ciphers only. A new snapshot rebuilds the per-host
contexts (`on_swap`); handshakes after it use the new certificate, while connections already
open keep the session they negotiated. Keys are loaded from memory files (memfd), never written
to disk by the node and never logged.
"""

import logging
import os
import ssl
from contextlib import contextmanager

log = logging.getLogger("portico.gateway")

# Mozilla's "intermediate" TLS 1.2 suites (TLS 1.3's are always on): ECDHE with AES-GCM or
# ChaCha20-Poly1305.
TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)


def server_context() -> ssl.SSLContext:
    """A server context with the gateway's protocol floor and ciphers, and no certificate yet."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.set_alpn_protocols(["http/1.1"])
    return context


@contextmanager
def memory_file(text: str):
    """A path to `text` held in memory only (Linux memfd), for APIs that read files."""
    fd = os.memfd_create("portico-tls", os.MFD_CLOEXEC)
    try:
        os.write(fd, text.encode())
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


# OpenSSL's X509_V_FLAG_NO_CHECK_TIME: an expired client certificate still completes the TLS
# handshake, so validate-client-certificate can answer 403 with its reason (as Azure does).
NO_CHECK_TIME = 0x200000


def context_for(
    certificate_pem: str, key_pem: str, *, client_cas: str | None = None
) -> ssl.SSLContext:
    """A server context serving this chain and key (ssl.SSLError if they do not load);
    `client_cas` (PEM, possibly empty) asks clients for a certificate issued by one of them."""
    context = server_context()
    with memory_file(certificate_pem) as certfile, memory_file(key_pem) as keyfile:
        context.load_cert_chain(certfile, keyfile)
    if client_cas is not None:
        context.verify_mode = ssl.CERT_OPTIONAL
        context.verify_flags |= NO_CHECK_TIME
        if client_cas:
            context.load_verify_locations(cadata=client_cas)
    return context


class ServerCertificates:
    """The certificates a gateway process serves, by host name, behind one SNI callback.

    `default` (from --certfile/--keyfile) answers clients that send no server name or one the
    catalog has no certificate for; without it those handshakes fail with unrecognized_name.
    """

    def __init__(self, *, certfile: str | None = None, keyfile: str | None = None) -> None:
        self.context = server_context()
        self.has_default = bool(certfile)
        if certfile:
            self.context.load_cert_chain(certfile, keyfile or None)
        self.by_host: dict[str, ssl.SSLContext] = {}
        self._served: dict[str, tuple] = {}  # host -> (chain, key, client CAs) now loaded
        self.context.sni_callback = self._pick

    def _pick(self, connection: ssl.SSLObject, server_name: str | None, _context):
        chosen = self.find(server_name or "")
        if chosen is not None:
            connection.context = chosen
            return None
        if self.has_default:
            return None
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

    def find(self, server_name: str) -> ssl.SSLContext | None:
        """The context for `server_name`: an exact host name, else a `*.` wildcard one level up."""
        name = server_name.lower().rstrip(".")
        found = self.by_host.get(name)
        if found is None and "." in name:
            found = self.by_host.get("*." + name.split(".", 1)[1])
        return found

    def update(self, hostnames, client_ca_pem: str = "") -> None:
        """Serve the certificates of `hostnames` (HostnameEntry values) from now on; a host
        name whose chain and key did not change keeps its context (and its session cache).
        Client certificates issued by `client_ca_pem` are asked for once a host name negotiates
        them: on every host name, since OpenSSL keeps the listening context's verify mode when
        SNI switches the certificate (only the trust store comes from the host's context)."""
        hostnames = list(hostnames)
        negotiate = any(e.negotiate_client_certificate for e in hostnames)
        self.context.verify_mode = ssl.CERT_OPTIONAL if negotiate else ssl.CERT_NONE
        if negotiate:
            self.context.verify_flags |= NO_CHECK_TIME
        by_host, served = {}, {}
        for entry in hostnames:
            if not (entry.certificate_pem and entry.key_pem):
                continue
            cas = client_ca_pem if negotiate else None
            pair = (entry.certificate_pem, entry.key_pem, cas)
            if self._served.get(entry.hostname) == pair:
                by_host[entry.hostname] = self.by_host[entry.hostname]
            else:
                try:
                    by_host[entry.hostname] = context_for(*pair[:2], client_cas=cas)
                except (ssl.SSLError, OSError) as exc:
                    log.error(
                        "certificate %r for host %s cannot be loaded (%s): not served",
                        entry.certificate_name,
                        entry.hostname,
                        type(exc).__name__,
                    )
                    continue
            served[entry.hostname] = pair
        self.by_host, self._served = by_host, served

    def on_swap(self, old, new) -> None:
        """A snapshot-store listener: follow the catalog's host names and certificates."""
        if old is None or (old.hostnames, old.client_ca_pem) != (
            new.hostnames,
            new.client_ca_pem,
        ):
            self.update(new.hostnames.values(), new.client_ca_pem)
