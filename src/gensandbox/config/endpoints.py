"""Where the server may be made to connect: the check every model or embedding endpoint passes before it is
registered, and the one for URLs that a caller puts inside a request (image parts).

Server-side request forgery is the risk: whoever can name a URL that the server (or an upstream it trusts)
then calls can reach what sits behind the firewall — a database's HTTP port, an admin console, and above all
the cloud's metadata service at 169.254.169.254, which hands out the machine's credentials. So a URL is
refused unless every address its host resolves to is a public one. An admin may allow internal addresses
(a llama.cpp or vLLM server on 127.0.0.1 or on the LAN), but never the link-local range where metadata
services live: no model server belongs there.

The check resolves the host when it is made; a host whose DNS later changes to an internal address (DNS
rebinding) is not caught here, only at registration. Registration is an admin's act, so that is the boundary.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from gensandbox.errors import UserError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Refused even when internal addresses are allowed: link-local (169.254/16 holds AWS, GCP, Azure and OpenStack
# metadata at 169.254.169.254; fe80::/10) and AWS's IPv6 metadata address, which sits in the ULA range.
ALWAYS_REFUSED = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
                  ipaddress.ip_network("fd00:ec2::254/128"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 addresses written inside IPv6 by NAT64 gateways
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # the deprecated ::a.b.c.d form
ALLOW_INTERNAL_HINT = ("an admin can allow internal addresses for a model server on this machine or the LAN "
                       "(allow_internal)")


def check_endpoint_url(url: str, *, allow_internal: bool) -> None:
    """Refuse (UserError) a URL the server must not call: not http(s), credentials in it, a host that does
    not resolve, or any address that is not public — unless `allow_internal`, an admin's explicit choice,
    which still never allows link-local (cloud metadata) addresses."""
    host, port = _host_and_port(url)
    for address in _addresses(host, port, url):
        problem = address_problem(address, allow_internal=allow_internal)
        if problem:
            raise UserError(f"endpoint {url}: {host} is {address}, {problem}")


def address_problem(address: IPAddress, *, allow_internal: bool) -> str | None:
    """Why the server may not connect to `address` (a phrase), or None when it may."""
    for candidate in _judged_as(address):
        if any(candidate in network for network in ALWAYS_REFUSED):
            return "a link-local address (where cloud metadata services answer); no model server may be there"
        if candidate.is_unspecified:
            return "the unspecified address; name the host that serves the model (e.g. 127.0.0.1)"
        if candidate.is_multicast:
            return "a multicast address; name the host that serves the model"
        if not allow_internal and _internal(candidate):
            return ("an internal address (loopback, private or reserved); use a public endpoint, or "
                    + ALLOW_INTERNAL_HINT)
    return None


def check_url_in_request(url: str, where: str) -> None:
    """A URL a caller put in a request (an image part): `data:` URLs carry their bytes and are fine; an http(s)
    URL must point at a public address, because the upstream that receives it may fetch it from inside our
    network (a model server on the LAN with libcurl, for one). `where` names the parameter, e.g.
    `messages[0].content[1].image_url`."""
    if url.startswith("data:"):
        return
    try:
        check_endpoint_url(url, allow_internal=False)
    except UserError as error:
        raise UserError(f"{where}: {error}; send the image inline as a data: URL instead") from None


def _internal(address: IPAddress) -> bool:
    return (not address.is_global or address.is_private or address.is_loopback or address.is_reserved
            or address.is_link_local)


def _judged_as(address: IPAddress) -> list[IPAddress]:
    """The addresses a connection to `address` may reach. An IPv6 address that only wraps an IPv4 one
    (::ffff:a.b.c.d, NAT64's 64:ff9b::/96, the old ::a.b.c.d) is that IPv4 host; 6to4 and Teredo addresses are
    judged both as themselves and as the IPv4 host inside."""
    if address.version == 4:
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    inside = [address.sixtofour] if address.sixtofour is not None else []
    return [address, *inside, *([address.teredo[1]] if address.teredo else [])]


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise UserError(f"endpoint {url!r}: only http:// and https:// URLs are allowed, e.g. https://api.example.com/v1")
    if parts.username is not None or parts.password is not None:
        raise UserError(f"endpoint {parts.scheme}://…@{parts.hostname}: a URL may not carry credentials; remove "
                        "them and name the environment variable that holds the key in api_key_env")
    if not parts.hostname:
        raise UserError(f"endpoint {url!r} names no host; write it like https://api.example.com/v1")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UserError(f"endpoint {url!r}: the port is not a number from 1 to 65535") from None
    return parts.hostname, port


def _addresses(host: str, port: int, url: str) -> list[IPAddress]:
    """Every address the host stands for: a literal one as written, a name as resolved now."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UserError(f"endpoint {url}: the host {host} does not resolve ({error}); check the spelling") from None
    # An IPv6 answer may carry a zone ("fe80::1%eth0"), which is no part of the address.
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
