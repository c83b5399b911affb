"""Access by client certificates: `make run TLS=1` over HTTPS (Python's `ssl` verifying client
certificates, handing them to the app as API Gateway's mutual TLS does), certificates issued by the
admin CLI from a provider CA, registered, scoped and revoked per tenant."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error

import pytest

from chalicelib import admin, certificates
from chalicelib.authority import Authority
from tests.reliability import localstack

LIVE = pytest.mark.slow  # a subprocess: the local stack over HTTPS

AUTH = {"Authorization": "Basic " + base64.b64encode(b"demo:demo").decode()}
KEY = {"X-Api-Key": "demo-key"}


def test_a_fingerprint_is_normalized_and_a_refusal_says_why(tmp_path):
    pem = Authority.load_or_create(tmp_path).issue_client("x")
    fp = pem.fingerprint
    assert certificates.fingerprint(pem.certificate_pem.decode()) == fp
    assert certificates.normalized(":".join(fp[i : i + 2].upper() for i in range(0, 64, 2))) == fp
    with pytest.raises(ValueError, match="не SHA-256"):
        certificates.normalized("abc")
    both, shop, exchange = certificates.Surface.BOTH, certificates.Surface.SHOP, certificates.Surface.EXCHANGE
    assert certificates.refusal((), both, shop, None) is None  # nothing registered: nothing asked
    assert certificates.refusal((fp,), both, shop, None) is certificates.Refusal.NOT_PRESENTED
    other = certificates.refusal(("0" * 64,), both, shop, pem.certificate_pem.decode())
    assert other is certificates.Refusal.NOT_REGISTERED and "не зарегистрирован" in other.ru
    assert certificates.refusal((fp,), both, exchange, pem.certificate_pem.decode()) is None
    assert certificates.refusal((fp,), shop, exchange, None) is None  # the exchange is not guarded
    assert certificates.presented({"identity": {"clientCert": {"clientCertPem": "x"}}}) == "x"
    assert certificates.presented({"identity": {"sourceIp": "1.2.3.4"}}) is None


@pytest.fixture(scope="module")
def tls_stack(tmp_path_factory):
    """Its own stack on moto: the suite's shared stack keeps the worker's DynamoDB Local tables."""
    stack = localstack.start(schedule_seconds=60, dynamodb="moto", tls=tmp_path_factory.mktemp("ca"))
    yield stack
    stack.stop()


def checkauth(stack, certificate=None) -> list[str]:
    status, body = stack.http(
        "GET", "/1c_exchange?type=catalog&mode=checkauth", headers=AUTH, certificate=certificate
    )
    assert status == 200
    return body.decode().split("\n")


def cli(stack, *argv: str) -> None:
    with stack.admin():
        assert admin.main(["certificates", *argv]) == 0


@LIVE
def test_a_tenant_with_registered_certificates_is_served_only_with_one_over_https(tls_stack, capsys):
    stack, folder = tls_stack, tls_stack.tls
    assert stack.http("GET", "/api/v1/groups", headers=KEY)[0] == 200  # nothing registered yet
    cli(stack, "issue", "demo", "--ca", str(folder), "--out", str(folder / "a"))
    cli(stack, "issue", "demo", "--ca", str(folder), "--out", str(folder / "b"))
    assert "2 certificate(s), guarding 1C exchange and shop API" in capsys.readouterr().out
    a, b = folder / "a" / "demo", folder / "b" / "demo"
    stranger = Authority.load_or_create(folder).issue_client("stranger")  # the same CA, never registered
    (folder / "stranger.crt").write_bytes(stranger.certificate_pem)
    (folder / "stranger.key").write_bytes(stranger.key_pem)

    assert stack.http("GET", "/api/v1/groups", headers=KEY, certificate=a)[0] == 200
    status, body = stack.http("GET", "/api/v1/groups", headers=KEY)
    error = json.loads(body)["error"]
    assert (status, error["code"]) == (403, "client_certificate_required"), body
    assert "none was presented" in error["message"]
    status, body = stack.http("GET", "/api/v1/groups", headers=KEY, certificate=folder / "stranger")
    assert status == 403 and "not registered" in json.loads(body)["error"]["message"]
    assert checkauth(stack, a)[0] == "success"
    refused = checkauth(stack)
    assert refused[0] == "failure" and "сертификатом клиента" in refused[1], refused

    cli(stack, "guard", "demo", "shop")  # 1C's calls no longer need one; the shop API still does
    assert checkauth(stack)[0] == "success"
    assert stack.http("GET", "/api/v1/groups", headers=KEY)[0] == 403

    cli(stack, "remove", "demo", fingerprint_of(a))  # revoked: refused on the next call
    assert stack.http("GET", "/api/v1/groups", headers=KEY, certificate=a)[0] == 403
    assert stack.http("GET", "/api/v1/groups", headers=KEY, certificate=b)[0] == 200


@LIVE
def test_a_certificate_from_another_authority_never_gets_through_tls(tls_stack, tmp_path):
    other = Authority.load_or_create(tmp_path / "other").issue_client("demo")
    (tmp_path / "demo.crt").write_bytes(other.certificate_pem)
    (tmp_path / "demo.key").write_bytes(other.key_pem)
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        tls_stack.http("GET", "/health", certificate=tmp_path / "demo")


def fingerprint_of(name) -> str:
    found = certificates.fingerprint(name.with_suffix(".crt").read_text())
    assert found
    return found
