"""The endpoint check against server-side request forgery, on literal addresses (no DNS needed) and `localhost`."""

import ipaddress
import socket

import pytest

from gensandbox.config.endpoints import address_problem, check_endpoint_url, check_url_in_request
from gensandbox.errors import UserError

INTERNAL = ["http://127.0.0.1:8080/v1", "http://10.0.0.1/v1", "https://192.168.1.20/v1", "http://172.16.5.4/v1",
            "http://[::1]:8000/v1", "http://[::ffff:127.0.0.1]/v1", "http://[::ffff:10.0.0.1]/v1",
            "http://[fd12:3456::1]/v1", "http://100.64.0.1/v1", "http://localhost:8000/v1",
            "http://[64:ff9b::7f00:1]/v1", "http://[2002:a00:1::]/v1", "http://240.0.0.1/v1"]
ALWAYS = ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/v1", "http://[::ffff:169.254.169.254]/",
          "http://0.0.0.0:8000/v1", "http://[::]/v1", "http://224.0.0.1/v1", "http://[fd00:ec2::254]/"]


@pytest.mark.parametrize("url", INTERNAL + ALWAYS)
def test_internal_addresses_are_refused_by_default(url):
    with pytest.raises(UserError, match=r"^endpoint .*: .* is .*, (an internal|a link-local|the unspecified|a mult)"):
        check_endpoint_url(url, allow_internal=False)


@pytest.mark.parametrize("url", INTERNAL)
def test_an_admin_may_allow_loopback_and_lan_endpoints(url):
    check_endpoint_url(url, allow_internal=True)  # no error: a local model server is the admin's choice


@pytest.mark.parametrize("url", ALWAYS)
def test_metadata_unspecified_and_multicast_stay_refused_when_internal_is_allowed(url):
    with pytest.raises(UserError, match="link-local|unspecified|multicast"):
        check_endpoint_url(url, allow_internal=True)


def test_the_metadata_refusal_says_why():
    with pytest.raises(UserError, match="169.254.169.254 is 169.254.169.254, a link-local address .*cloud metadata"):
        check_endpoint_url("http://169.254.169.254/", allow_internal=True)


def test_the_internal_refusal_says_how_to_fix_it():
    with pytest.raises(UserError, match=r"use a public endpoint, or an admin can allow internal addresses"):
        check_endpoint_url("http://10.0.0.1/v1", allow_internal=False)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address), allow_internal=False) is None
    host = f"[{address}]" if ":" in address else address
    check_endpoint_url(f"https://{host}/v1", allow_internal=False)


@pytest.mark.parametrize("url, message", [
    ("file:///etc/passwd", "only http:// and https://"),
    ("gopher://8.8.8.8/", "only http:// and https://"),
    ("ftp://8.8.8.8/", "only http:// and https://"),
    ("8.8.8.8/v1", "only http:// and https://"),
    ("https://user:secret@8.8.8.8/v1", "may not carry credentials"),
    ("https:///v1", "names no host"),
    ("https://8.8.8.8:99999/v1", "port is not a number"),
])
def test_malformed_urls_are_refused_in_words(url, message):
    with pytest.raises(UserError, match=message) as caught:
        check_endpoint_url(url, allow_internal=True)
    assert "secret" not in str(caught.value)  # credentials in a refused URL are not repeated


def test_a_host_that_does_not_resolve_is_refused(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # no DNS query leaves the machine
    with pytest.raises(UserError, match="the host no-such-host.invalid does not resolve .*check the spelling"):
        check_endpoint_url("https://no-such-host.invalid/v1", allow_internal=True)


def test_every_address_a_name_resolves_to_is_checked(monkeypatch):
    """A name with one public and one internal address is refused: a connection may go to either."""
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", 443)),
               (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%eth0", 443, 0, 2))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(UserError, match="models.example.com is fe80::1, a link-local address"):
        check_endpoint_url("https://models.example.com/v1", allow_internal=True)


def test_urls_in_requests_are_inline_or_public():
    check_url_in_request("data:image/png;base64,iVBORw0KGgo=", "messages[0].content[1]")
    check_url_in_request("https://8.8.8.8/cat.png", "messages[0].content[1]")
    with pytest.raises(UserError, match=r"^messages\[0\]\.content\[1\]: endpoint .*internal.*data: URL instead"):
        check_url_in_request("http://10.0.0.1/admin", "messages[0].content[1]")
    with pytest.raises(UserError, match="only http:// and https://"):
        check_url_in_request("file:///etc/passwd", "messages[0].content[1]")
