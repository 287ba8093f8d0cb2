"""The auth generator driven by hand, with no network (sans-IO)."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from dockyard.distribution.auth import Challenge, RegistryAuth, parse_challenges
from dockyard.distribution.credentials import Credentials
from dockyard.distribution.transport import Request, Response
from dockyard.errors import Unauthorized

SCOPE = ("repository:library/busybox:pull",)


def response(request, status, **headers):
    r = Response(request, None, lambda keep: None, status=status)
    for name, value in headers.items():
        r.headers[name.replace("_", "-")] = value
    return r


@pytest.mark.parametrize(
    "header,expected",
    [
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "https://auth.docker.io/token",
                        "service": "registry.docker.io",
                        "scope": "repository:library/busybox:pull",
                    },
                )
            ],
        ),
        ('Basic realm="basic-realm"', [Challenge("basic", {"realm": "basic-realm"})]),
        (
            'Basic realm="a", Bearer realm="b\\"c", error=invalid_token',
            [Challenge("basic", {"realm": "a"}), Challenge("bearer", {"realm": 'b"c', "error": "invalid_token"})],
        ),
        ("Negotiate", [Challenge("negotiate", {})]),
        ("", []),
    ],
)
def test_parse_challenges(header, expected):
    assert parse_challenges(header) == expected


def test_no_challenge_no_auth():
    flow = RegistryAuth().auth_flow(Request("GET", "http://r/v2/"), SCOPE)
    sent = next(flow)
    assert "Authorization" not in sent.headers
    with pytest.raises(StopIteration):
        flow.send(response(sent, 200))


def test_basic_challenge_retries_with_credentials_and_remembers():
    auth = RegistryAuth(Credentials("u", "p"))
    flow = auth.auth_flow(Request("GET", "http://r/v2/x"), SCOPE)
    first = next(flow)
    retry = flow.send(response(first, 401, WWW_Authenticate='Basic realm="r"'))
    assert retry.headers["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    # Later requests carry the header from the start: no 401 round trip, no body sent twice.
    second = next(auth.auth_flow(Request("PUT", "http://r/v2/y", body=b"data"), SCOPE))
    assert second.headers["Authorization"] == retry.headers["Authorization"]


def test_basic_challenge_without_credentials_gives_up():
    flow = RegistryAuth().auth_flow(Request("GET", "http://r/v2/"), SCOPE)
    first = next(flow)
    with pytest.raises(StopIteration):
        flow.send(response(first, 401, WWW_Authenticate='Basic realm="r"'))


def test_bearer_challenge_asks_the_token_server_for_our_scope():
    auth = RegistryAuth(Credentials("u", "p"))
    flow = auth.auth_flow(Request("GET", "http://r/v2/library/busybox/manifests/latest"), SCOPE)
    first = next(flow)
    token_request = flow.send(
        response(first, 401, WWW_Authenticate='Bearer realm="https://auth.example/token",service="reg"')
    )
    url = urlsplit(token_request.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "auth.example", "/token")
    assert parse_qs(url.query) == {"service": ["reg"], "scope": list(SCOPE)}
    assert token_request.headers["Authorization"].startswith("Basic ")


def test_identity_token_uses_oauth_refresh_grant():
    auth = RegistryAuth(Credentials(identity_token="refresh"))
    flow = auth.auth_flow(Request("GET", "http://r/v2/x"), SCOPE)
    first = next(flow)
    token_request = flow.send(
        response(first, 401, WWW_Authenticate='Bearer realm="https://auth.example/token",service="reg"')
    )
    assert token_request.method == "POST"
    form = parse_qs(token_request.body.decode())
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == ["refresh"]
    assert form["scope"] == list(SCOPE) and form["client_id"] == ["dockyard"]


def test_token_server_refusal_is_unauthorized():
    flow = RegistryAuth(Credentials("u", "bad")).auth_flow(Request("GET", "http://r/v2/x"), SCOPE)
    first = next(flow)
    token_request = flow.send(response(first, 401, WWW_Authenticate='Bearer realm="https://auth.example/token"'))
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        flow.send(response(token_request, 401))


def test_bad_realm_is_refused():
    flow = RegistryAuth().auth_flow(Request("GET", "http://r/v2/x"), SCOPE)
    first = next(flow)
    with pytest.raises(Unauthorized, match="invalid token auth challenge realm"):
        flow.send(response(first, 401, WWW_Authenticate='Bearer realm="file:///etc/passwd"'))
