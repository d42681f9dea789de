"""How the app is served, checked before any page: the bind address, the ``[auth]`` secrets
section, the identity provider, and how long a login lasts. Pure functions (no streamlit), so
each rule is tested alone; :mod:`rtm_app.auth` applies them.

- **No login configured** (no ``[auth]``): the app serves only on a loopback address
  (``make run`` binds 127.0.0.1). Bound anywhere else (Streamlit's default binds every
  address) it shows one line on configuring login, unless ``RTM_ALLOW_ANONYMOUS=1``.
- **A broken ``[auth]``** stops the app with one line naming the key or URL: a missing key, a
  ``redirect_uri`` that is not ``https://`` (plain ``http://`` only on localhost) or does not
  end in ``/oauth2callback``, a short ``cookie_secret``, or a provider that does not answer.
- **Sessions** last ``RTM_SESSION_HOURS`` (default 8) from the ID token's ``iat`` (when the
  user logged in): Streamlit's login cookie lasts 30 days and its ``exp`` is not checked.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from rtm_core.record.access import User

__all__ = [
    "Visitor",
    "LOCAL",
    "NOBODY",
    "ANONYMOUS",
    "REQUIRED_KEYS",
    "MIN_SECRET_LENGTH",
    "DEFAULT_SESSION_HOURS",
    "is_loopback",
    "auth_problem",
    "provider_problem",
    "session_expired",
    "NO_LOGIN_LINE",
]

#: the keys ``[auth]`` must hold (the department's identity provider, default provider)
REQUIRED_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret")
#: shortest ``cookie_secret`` accepted (the cookie is signed with it)
MIN_SECRET_LENGTH = 32
DEFAULT_SESSION_HOURS = 8.0
NO_LOGIN_LINE = (
    "Login is not configured and this server listens beyond this machine: add an [auth] "
    "section to .streamlit/secrets.toml (README: Serving it to your department), serve on "
    "127.0.0.1 only (make run), or set RTM_ALLOW_ANONYMOUS=1 to let anyone in."
)
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Visitor:
    """Who uses a session, and how the app is served.

    Attributes
    ----------
    user : User
        The logged-in user with their role; the machine's operator (an admin without an
        e-mail) when login is off.
    mode : {"local", "anonymous", "login"}
        No login on a loopback address; no login elsewhere with ``RTM_ALLOW_ANONYMOUS=1``;
        login through the identity provider.
    """

    user: User
    mode: str

    @property
    def login(self) -> bool:
        """Whether users log in (runs then have owners, and sharing matters)."""
        return self.mode == "login"

    @property
    def served(self) -> bool:
        """Whether others reach this server (login or anonymous): the audit log is written
        and the per-user job limits apply."""
        return self.mode != "local"


#: the machine's operator on a loopback address (``make run``): every right, as before logins
LOCAL = Visitor(User("", "admin", "local operator"), "local")
#: a session the gate has not let in (a page script run without ``app.py``): no access at all
NOBODY = Visitor(User("", None, "nobody"), "local")
#: anyone, when an operator lets the app serve without login (``RTM_ALLOW_ANONYMOUS=1``)
ANONYMOUS = Visitor(User("", "admin", "anonymous"), "anonymous")


def is_loopback(address: str | None) -> bool:
    """Whether Streamlit's ``server.address`` binds this machine only.

    Parameters
    ----------
    address : str or None
        The option's value; None or ``""`` (Streamlit's default) binds every address.

    Returns
    -------
    bool
        True for ``localhost`` and loopback IPs (``127.0.0.0/8``, ``::1``).
    """
    text = (address or "").strip().strip("[]")
    if not text:
        return False
    if text.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _https_or_local(url: str) -> bool:
    parts = urlparse(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS)


def auth_problem(section: Mapping) -> str:
    """What is wrong with the ``[auth]`` secrets section, in one line ("" when nothing).

    Parameters
    ----------
    section : mapping
        ``st.secrets["auth"]``.

    Returns
    -------
    str
    """
    keys = (*REQUIRED_KEYS, "server_metadata_url")
    for key in keys:
        value = section.get(key)
        if not isinstance(value, str) or not value.strip():
            return (
                f"Login is misconfigured: [auth] in secrets.toml has no {key}; add it "
                "(README: Serving it to your department)."
            )
    redirect = section["redirect_uri"].strip()
    if not redirect.endswith("/oauth2callback") or not _https_or_local(redirect):
        return (
            f"Login is misconfigured: [auth] redirect_uri {redirect} must be this app's "
            "https:// address ending in /oauth2callback (http:// only on localhost)."
        )
    metadata = section["server_metadata_url"].strip()
    if not _https_or_local(metadata):
        return (
            f"Login is misconfigured: [auth] server_metadata_url {metadata} must be an "
            "https:// address (http:// only on localhost)."
        )
    if len(section["cookie_secret"].strip()) < MIN_SECRET_LENGTH:
        return (
            f"Login is misconfigured: [auth] cookie_secret is shorter than {MIN_SECRET_LENGTH} "
            'characters; use a random one: python -c "import secrets; '
            'print(secrets.token_hex(32))"'
        )
    return ""


def provider_problem(url: str, *, timeout: float = 5.0) -> str:
    """Whether the identity provider answers at its discovery URL ("" when it does).

    Parameters
    ----------
    url : str
        ``server_metadata_url`` (``.../.well-known/openid-configuration``).
    timeout : float
        Seconds to wait.

    Returns
    -------
    str
        One line naming the URL and what went wrong, or "".
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            text = reply.read(1_000_000)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return (
            f"Login is unavailable: the identity provider at {url} does not answer ({reason}); "
            "check server_metadata_url in [auth] and that the provider is reachable."
        )
    try:
        metadata = json.loads(text)
    except ValueError:
        metadata = None
    missing = [
        key
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(metadata, dict) or not metadata.get(key)
    ]
    if missing:
        return (
            f"Login is unavailable: {url} is not an OpenID Connect discovery document "
            f"(no {', '.join(missing)}); check server_metadata_url in [auth]."
        )
    return ""


def session_expired(claims: Mapping, now: float, hours: float) -> bool:
    """Whether a login is older than the session lifetime.

    Parameters
    ----------
    claims : mapping
        ``st.user``: its ``iat`` (seconds since the epoch when the ID token was issued).
    now : float
        Seconds since the epoch.
    hours : float
        The lifetime (``RTM_SESSION_HOURS``).

    Returns
    -------
    bool
        True when ``iat`` is missing or unreadable (never trusted), or older than ``hours``.
    """
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, int | float | str):
        return True
    try:
        issued = float(issued)
    except ValueError:
        return True
    return not (now - hours * 3600.0 <= issued)
