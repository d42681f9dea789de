"""The serving rules of rtm_app.login_setup, alone: bind address, [auth] checks, the identity
provider's discovery document, and the session lifetime."""

from __future__ import annotations

import math
import secrets

import pytest

from rtm_app.login_setup import auth_problem, is_loopback, provider_problem, session_expired


@pytest.mark.parametrize(
    "address, loopback",
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        (None, False),  # Streamlit's default: every address
        ("", False),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("rtm.pd.example", False),
    ],
)
def test_only_loopback_addresses_count_as_this_machine(address, loopback):
    assert is_loopback(address) is loopback


def good_section(**changes) -> dict:
    section = {
        "redirect_uri": "https://rtm.pd.example/oauth2callback",
        "cookie_secret": secrets.token_hex(32),
        "client_id": "rtm",
        "client_secret": "x",
        "server_metadata_url": "https://login.pd.example/.well-known/openid-configuration",
    }
    return section | changes


def test_a_complete_section_passes():
    assert auth_problem(good_section()) == ""
    local = good_section(redirect_uri="http://localhost:8501/oauth2callback")
    assert auth_problem(local) == ""


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"client_id": ""}, "[auth] in secrets.toml has no client_id; add it"),
        ({"server_metadata_url": None}, "has no server_metadata_url"),
        ({"cookie_secret": 12345}, "has no cookie_secret"),
        ({"server_metadata_url": "http://login.pd.example/x"}, "must be an https:// address"),
        ({"redirect_uri": "https://rtm.pd.example/callback"}, "ending in /oauth2callback"),
    ],
)
def test_a_broken_section_names_its_key(changes, expected):
    problem = auth_problem(good_section(**changes))
    assert problem.startswith("Login is misconfigured: ") and expected in problem
    assert "\n" not in problem


def test_the_provider_must_answer_with_a_discovery_document(tmp_path):
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        base = f"http://localhost:{server.server_port}"
        assert provider_problem(f"{base}/.well-known/openid-configuration") == ""
        wrong = provider_problem(f"{base}/")  # the provider's home page, not its metadata
        assert "is not an OpenID Connect discovery document" in wrong
        missing = provider_problem(f"{base}/no-such-page")
        assert f"the identity provider at {base}/no-such-page does not answer" in missing


@pytest.mark.parametrize(
    "iat, expired",
    [
        (1_000_000.0, False),
        ("1000000", False),
        (1_000_000 - 8 * 3600 + 1, False),
        (1_000_000 - 8 * 3600 - 1, True),
        (None, True),
        ("yesterday", True),
        (True, True),
        (math.nan, True),
        ([1_000_000], True),
    ],
)
def test_a_session_lasts_its_hours_from_login(iat, expired):
    claims = {} if iat is None else {"iat": iat}
    assert session_expired(claims, now=1_000_000.0, hours=8) is expired
