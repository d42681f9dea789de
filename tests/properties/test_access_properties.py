"""Invariants of the access rules (Hypothesis): no combination of user, role, manifest content
and action lets anyone but the owner or an admin touch a private run."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from rtm_core.record.access import (
    ACTIONS,
    OWNER_ACTIONS,
    SHARE_GROUPS,
    Ownership,
    User,
    decide,
    normalise_email,
)

EMAILS = ["alice@pd.example", "Alice@PD.example", "bob@pd.example", "\u212aate@pd.example", ""]
ROLE = st.sampled_from(["admin", "analyst", "planner", None, "", "Admin", "owner"])
TEXT = st.one_of(st.sampled_from(EMAILS), st.text(max_size=20))
#: anything JSON may hold where a manifest's owner or shared_with should be
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
SHARED = st.one_of(
    JSON,
    st.lists(
        st.one_of(st.sampled_from([*SHARE_GROUPS, "*", "admins", "everyone"]), TEXT), max_size=4
    ),
)


@st.composite
def users(draw):
    return User(normalise_email(draw(TEXT)), draw(ROLE))


@st.composite
def manifests(draw):
    manifest = {}
    if draw(st.booleans()):
        manifest["owner"] = draw(st.one_of(JSON, TEXT))
    if draw(st.booleans()):
        manifest["shared_with"] = draw(SHARED)
    return manifest


def _shared_with_user(user: User, ownership: Ownership) -> bool:
    groups = {g for g, role in SHARE_GROUPS.items() if role == user.role}
    return bool(user.email and user.email in ownership.shared_with) or bool(
        groups & set(ownership.shared_with)
    )


@settings(max_examples=400, deadline=None)
@given(users(), manifests(), st.sampled_from(ACTIONS))
@example(User("kate@pd.example", "analyst"), {"owner": "\u212aate@pd.example"}, "delete")
@example(User("", "analyst"), {"owner": ""}, "delete")
@example(User("analysts", "analyst"), {"owner": "analysts"}, "open")
@example(User("alice@pd.example", "planner"), {"shared_with": ["analysts"]}, "open")
def test_only_the_owner_or_an_admin_may_change_delete_or_rerun(user, manifest, action):
    ownership = Ownership.of(manifest)
    decision = decide(user, ownership, action)
    is_owner = bool(user.email) and user.email == ownership.owner
    if action in OWNER_ACTIONS and decision:
        assert user.role == "admin" or (is_owner and user.role == "analyst")
    if decision and user.role != "admin":
        assert user.role in ("analyst", "planner")
        assert is_owner or _shared_with_user(user, ownership)  # never an unshared run
    if user.role == "planner":
        assert not decision or action in ("open", "export")


@settings(max_examples=300, deadline=None)
@given(users(), st.one_of(JSON, TEXT), st.sampled_from(ACTIONS))
@example(User("alice@pd.example", "analyst"), " ALICE@pd.example", "delete")
def test_an_owner_value_grants_only_to_that_exact_address(user, owner, action):
    decision = decide(user, Ownership.of({"owner": owner}), action)
    if decision and user.role != "admin":
        assert isinstance(owner, str) and user.email == normalise_email(owner) != ""


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(EMAILS), manifests(), st.sampled_from(ACTIONS))
def test_without_a_role_nothing_is_allowed(email, manifest, action):
    assert not decide(User(normalise_email(email), None), Ownership.of(manifest), action)
