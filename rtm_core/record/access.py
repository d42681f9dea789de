"""Who may do what with a run: the access rules, as pure functions (no files, no streamlit).

**Roles.** A logged-in user's role comes from an ID-token claim (``RTM_ROLE_CLAIM``, default
``groups``) and their e-mail, matched against ``RTM_ADMINS``, ``RTM_ANALYSTS`` and
``RTM_PLANNERS`` (comma-separated group names or e-mail addresses; the first match in that
order wins: an admin who is also a planner is an admin). A user with no match, or whose
identity provider sent no e-mail (or says it is not verified), has no role and may do nothing.

**A run's ownership** is read from its manifest: ``owner`` (an e-mail) and ``shared_with``
(the role names ``analysts`` and ``planners``, and/or e-mail addresses). Anything else there
(a number, a list, ``"*"``, a group name as owner) is dropped: a tampered or foreign value never
grants more than a run without it, which admins alone may open.

**The rules** (:func:`decide`), per action of :data:`ACTIONS`:

- ``admin``: everything, on every run (with or without an owner);
- ``analyst``: every action on their own runs; ``open``, ``export`` and ``counts`` on
  runs shared with them or with ``analysts``; nothing on anyone else's private run;
- ``planner``: ``open`` and ``export`` (the Brief and its planner-safe files) on runs shared with
  them or with ``planners``; never ``counts``, ``config``, ``rerun``, ``delete`` or
  ``share``.

E-mail addresses match without regard to the case of ASCII letters only (``Alice@PD.example``
is ``alice@pd.example``); other characters must be equal (Unicode case folding would make
``\\u212aate@pd`` the same person as ``kate@pd``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rtm_core.config.environment import (
    ADMINS,
    ANALYSTS,
    PLANNERS,
    ROLE_CLAIM,
    names_from_env,
    text_from_env,
)
from rtm_core.errors import ConfigError

__all__ = [
    "ROLES",
    "ACTIONS",
    "SHARE_GROUPS",
    "OWNER_ACTIONS",
    "User",
    "Ownership",
    "Decision",
    "RoleRules",
    "decide",
    "normalise_email",
    "is_email",
    "login_email",
    "share_target",
]

#: the roles, strongest first
ROLES = ("admin", "analyst", "planner")
#: what can be done with a run: see its Brief, download the Brief's planner-safe files, see
#: and download what holds per-unit crime counts or incidents (Results, Stability, Export),
#: read its config and inputs, run it again on its raw inputs, delete it, change its sharing
ACTIONS = ("open", "export", "counts", "config", "rerun", "delete", "share")
#: actions only the owner (or an admin) may take, as a refusal words them
OWNER_ACTIONS = {
    "config": "read its config and inputs",
    "rerun": "run it again",
    "delete": "delete it",
    "share": "share it",
}
#: share targets naming a role -> the role they let in
SHARE_GROUPS = {"analysts": "analyst", "planners": "planner"}
#: what a planner may do with a run shared with them
_PLANNER_ACTIONS = ("open", "export")

_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def normalise_email(text: object) -> str:
    """An e-mail address (or group name) as compared: stripped, ASCII letters lower-cased.

    Parameters
    ----------
    text : object
        Anything; a value that is not a string gives ``""``.

    Returns
    -------
    str
    """
    return text.strip().translate(_ASCII_LOWER) if isinstance(text, str) else ""


def is_email(text: object) -> bool:
    """Whether ``text`` reads as one e-mail address (``name@domain``, no spaces or commas)."""
    return isinstance(text, str) and _EMAIL.fullmatch(text.strip()) is not None


def login_email(text: str, field: str = "--owner") -> str:
    """A login e-mail given on the command line (``--owner``, ``--as``), normalised.

    Parameters
    ----------
    text : str
    field : str
        The option, for the message.

    Returns
    -------
    str

    Raises
    ------
    ConfigError
        ``text`` is not one e-mail address.
    """
    if not is_email(text):
        raise ConfigError(
            "rtm",
            field,
            f"{text!r} is not an e-mail address",
            "give a login e-mail, e.g. alice@pd.example",
        )
    return normalise_email(text)


def share_target(text: str) -> str:
    """Check one entry given to "share with": a role name or an e-mail address.

    Parameters
    ----------
    text : str
        ``"planners"``, ``"analysts"`` or an e-mail address.

    Returns
    -------
    str
        The entry as stored (role names and addresses normalised).

    Raises
    ------
    ConfigError
        Anything else (the message names the value and what to give instead).
    """
    value = normalise_email(text)
    if value in SHARE_GROUPS or is_email(value):
        return value
    raise ConfigError(
        "share",
        "--with",
        f"{str(text)!r} is neither a role nor an e-mail address",
        "give planners, analysts or an address such as someone@pd.example",
    )


@dataclass(frozen=True)
class User:
    """Who is acting.

    Attributes
    ----------
    email : str
        The verified e-mail address, normalised (:func:`normalise_email`); ``""`` when
        unknown (the local operator, an anonymous visitor).
    role : {"admin", "analyst", "planner"} or None
        None: no role (no access at all).
    name : str
        A name to show.
    """

    email: str
    role: str | None
    name: str = ""

    @property
    def label(self) -> str:
        """The name the audit log and the sidebar show: the e-mail, else the name."""
        return self.email or self.name or "unknown"


@dataclass(frozen=True)
class Ownership:
    """Who owns a run and whom it is shared with.

    Attributes
    ----------
    owner : str or None
        The owner's e-mail, normalised; None for a run without a (readable) owner.
    shared_with : tuple of str
        Role names of :data:`SHARE_GROUPS` and e-mail addresses, normalised, each once.
    """

    owner: str | None = None
    shared_with: tuple[str, ...] = ()

    @classmethod
    def of(cls, manifest: object) -> Ownership:
        """The ownership a manifest (or ``backtest.json``) records; tolerant of any content.

        Parameters
        ----------
        manifest : object
            The parsed JSON object; anything that is not a mapping has no owner.

        Returns
        -------
        Ownership
            An ``owner`` that is not one e-mail address is dropped, and so is every
            ``shared_with`` entry that is neither a role name nor an e-mail address.
        """
        if not isinstance(manifest, Mapping):
            return cls()
        owner = manifest.get("owner")
        owner = normalise_email(owner) if is_email(owner) else None
        shared = manifest.get("shared_with")
        entries = shared if isinstance(shared, list | tuple) else ()
        return cls(owner, _targets(entries))

    def changed(self, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Ownership:
        """A copy shared with ``add`` too and no longer with ``remove`` (entries checked).

        Parameters
        ----------
        add : iterable of str
            Role names or e-mail addresses to share with.
        remove : iterable of str
            Entries to share with no longer (removed before ``add`` is added).

        Returns
        -------
        Ownership

        Raises
        ------
        ConfigError
            An entry is neither a role name nor an e-mail address.
        """
        gone = {share_target(t) for t in remove}
        kept = [t for t in self.shared_with if t not in gone]
        return Ownership(self.owner, _targets([*kept, *(share_target(t) for t in add)]))

    def describe(self) -> str:
        """One line: "owned by alice@pd; shared with planners, bob@pd" (or "private")."""
        owner = f"owned by {self.owner}" if self.owner else "no owner (admins only)"
        shared = ", ".join(self.shared_with) if self.shared_with else "no one"
        return f"{owner}; shared with {shared}"


def _targets(entries: Iterable) -> tuple[str, ...]:
    kept = (normalise_email(e) for e in entries if isinstance(e, str))
    return tuple(dict.fromkeys(e for e in kept if e in SHARE_GROUPS or is_email(e)))


@dataclass(frozen=True)
class Decision:
    """Whether an action is allowed, and why (a reason a person can read).

    Attributes
    ----------
    allowed : bool
    reason : str
    """

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def decide(user: User, ownership: Ownership, action: str) -> Decision:
    """May ``user`` take ``action`` on a run with this ``ownership``?

    Parameters
    ----------
    user : User
    ownership : Ownership
    action : str
        One of :data:`ACTIONS`.

    Returns
    -------
    Decision

    Raises
    ------
    ValueError
        ``action`` is not one of :data:`ACTIONS` (a programming error).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    if user.role == "admin":
        return Decision(True, "admins may do everything")
    if user.role not in ROLES:
        return Decision(False, "you have no role in this dashboard")
    owns = bool(user.email) and user.email == ownership.owner
    if owns:
        if user.role == "analyst":
            return Decision(True, "you own this run")
        return Decision(
            action in _PLANNER_ACTIONS, f"planners may not {action.replace('_', ' ')} runs"
        )
    if action in OWNER_ACTIONS:
        return Decision(False, f"only the run's owner or an admin may {OWNER_ACTIONS[action]}")
    group = next(g for g, role in SHARE_GROUPS.items() if role == user.role)
    shared = (bool(user.email) and user.email in ownership.shared_with) or (
        group in ownership.shared_with
    )
    if not shared:
        if ownership.owner is None:
            return Decision(False, "this run has no owner: only an admin may open it")
        return Decision(False, "this run is not shared with you")
    if user.role == "planner" and action not in _PLANNER_ACTIONS:
        return Decision(False, "planners receive no per-unit crime counts or incidents")
    return Decision(True, "the run is shared with you")


@dataclass(frozen=True)
class RoleRules:
    """How a login becomes a role: the claim read and the names each role lists.

    Attributes
    ----------
    claim : str
        The ID-token claim holding the user's groups (``RTM_ROLE_CLAIM``, default
        ``groups``); a list of names, or one name.
    admins, analysts, planners : tuple of str
        Group names or e-mail addresses (``RTM_ADMINS``, ``RTM_ANALYSTS``,
        ``RTM_PLANNERS``), normalised.
    """

    claim: str = "groups"
    admins: tuple[str, ...] = ()
    analysts: tuple[str, ...] = ()
    planners: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> RoleRules:
        """The rules the operator set in the environment."""
        return cls(
            claim=text_from_env(ROLE_CLAIM, "groups"),
            admins=tuple(normalise_email(n) for n in names_from_env(ADMINS)),
            analysts=tuple(normalise_email(n) for n in names_from_env(ANALYSTS)),
            planners=tuple(normalise_email(n) for n in names_from_env(PLANNERS)),
        )

    def user(self, claims: Mapping) -> User:
        """The user an ID token's claims describe, with their role.

        Parameters
        ----------
        claims : mapping
            The claims (``st.user``): ``email``, ``email_verified``, ``name`` and
            :attr:`claim`.

        Returns
        -------
        User
            With role None when the claims carry no usable e-mail (missing, not one address,
            or ``email_verified`` false) or match no role's list.
        """
        email = claims.get("email")
        verified = claims.get("email_verified", True) not in (False, "false", "False")
        address = normalise_email(email) if is_email(email) and verified else ""
        name = claims.get("name")
        name = name if isinstance(name, str) and name.strip() else address
        if not address:
            return User("", None, name or "")
        groups = claims.get(self.claim)
        groups = [groups] if isinstance(groups, str) else groups
        groups = groups if isinstance(groups, list | tuple) else ()
        names = {normalise_email(g) for g in groups if isinstance(g, str)} | {address}
        names.discard("")
        for role, listed in (
            ("admin", self.admins),
            ("analyst", self.analysts),
            ("planner", self.planners),
        ):
            if names & set(listed):
                return User(address, role, name)
        return User(address, None, name)

    def acting_as(self, email: str) -> User:
        """The user a command acts for, known by e-mail only (the command sees no groups):
        an admin when the address is listed in :attr:`admins`, else an analyst, who may
        then act only on their own runs.

        Parameters
        ----------
        email : str

        Returns
        -------
        User

        Raises
        ------
        ConfigError
            ``email`` is not one e-mail address.
        """
        address = login_email(email, "--as")
        return User(address, "admin" if address in self.admins else "analyst", address)

    def admin_contacts(self) -> list[str]:
        """The admins a user without a role should ask: the e-mail addresses listed, else
        the admin group names."""
        emails = [n for n in self.admins if is_email(n)]
        return emails or list(self.admins)
