"""The access rules (rtm_core.record.access): roles from ID-token claims, ownership read from
a manifest, and who may do what with a run."""

from __future__ import annotations

import pytest

from rtm_core.errors import ConfigError
from rtm_core.record.access import (
    ACTIONS,
    Ownership,
    RoleRules,
    User,
    decide,
    normalise_email,
    share_target,
)

RULES = RoleRules(
    claim="groups",
    admins=("rtm-admins",),
    analysts=("rtm-analysts", "carol@pd.example"),
    planners=("rtm-planners",),
)
ALICE = User("alice@pd.example", "analyst")
BOB = User("bob@pd.example", "analyst")
PAT = User("pat@pd.example", "planner")
ADA = User("ada@pd.example", "admin")
NORA = User("nora@pd.example", None)


def allowed(user, ownership) -> set[str]:
    return {a for a in ACTIONS if decide(user, ownership, a)}


def test_roles_come_from_the_group_claim_or_the_e_mail():
    assert RULES.user({"email": "a@pd.example", "groups": ["rtm-analysts"]}).role == "analyst"
    assert RULES.user({"email": "p@pd.example", "groups": "rtm-planners"}).role == "planner"
    assert RULES.user({"email": "Carol@PD.example"}).role == "analyst"  # listed by address
    assert RULES.user({"email": "x@pd.example", "groups": ["staff"]}).role is None
    both = {"email": "a@pd.example", "groups": ["rtm-planners", "rtm-admins"]}
    assert RULES.user(both).role == "admin"  # the strongest role wins


def test_another_claim_can_hold_the_roles():
    rules = RoleRules(claim="roles", analysts=("rtm-analysts",))
    assert rules.user({"email": "a@pd.example", "roles": ["rtm-analysts"]}).role == "analyst"
    assert rules.user({"email": "a@pd.example", "groups": ["rtm-analysts"]}).role is None


@pytest.mark.parametrize(
    "claims",
    [
        {"groups": ["rtm-admins"]},  # no e-mail
        {"email": "not an address", "groups": ["rtm-admins"]},
        {"email": "a@pd.example", "email_verified": False, "groups": ["rtm-admins"]},
        {"email": ["a@pd.example"], "groups": ["rtm-admins"]},
        {"email": "a@pd.example", "groups": {"rtm-admins": True}},  # not a list of names
    ],
)
def test_no_usable_identity_or_group_claim_gives_no_role(claims):
    assert RULES.user(claims).role is None


def test_roles_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("RTM_ROLE_CLAIM", "roles")
    monkeypatch.setenv("RTM_ADMINS", " Ada@PD.example , ")
    monkeypatch.setenv("RTM_ANALYSTS", "rtm-analysts,rtm-analysts")
    monkeypatch.delenv("RTM_PLANNERS", raising=False)
    rules = RoleRules.from_env()
    assert rules == RoleRules("roles", ("ada@pd.example",), ("rtm-analysts",), ())
    assert rules.admin_contacts() == ["ada@pd.example"]


def test_email_case_is_ignored_for_ascii_letters_only():
    assert normalise_email(" Alice@PD.Example ") == "alice@pd.example"
    kelvin = "\u212aate@pd.example"  # KELVIN SIGN, which Unicode lower-cases to "k"
    assert normalise_email(kelvin) != "kate@pd.example"
    run = Ownership.of({"owner": "kate@pd.example"})
    assert not decide(User(normalise_email(kelvin), "analyst"), run, "open")


def test_the_owner_may_do_everything_and_others_nothing_on_a_private_run():
    run = Ownership.of({"owner": "Alice@pd.example"})
    assert allowed(ALICE, run) == set(ACTIONS)
    assert allowed(BOB, run) == set()
    assert allowed(PAT, run) == set()
    assert allowed(NORA, run) == set()
    assert allowed(ADA, run) == set(ACTIONS)
    assert decide(BOB, run, "open").reason == "this run is not shared with you"


def test_a_run_shared_with_analysts_is_read_only_for_other_analysts():
    run = Ownership.of({"owner": "alice@pd.example", "shared_with": ["analysts"]})
    assert allowed(BOB, run) == {"open", "export", "counts"}
    assert allowed(PAT, run) == set()
    assert decide(BOB, run, "delete").reason == "only the run's owner or an admin may delete it"


def test_planners_get_the_brief_and_its_files_only():
    run = Ownership.of({"owner": "alice@pd.example", "shared_with": ["planners"]})
    assert allowed(PAT, run) == {"open", "export"}
    assert allowed(BOB, run) == set()  # shared with planners is not shared with analysts
    by_name = Ownership.of({"owner": "alice@pd.example", "shared_with": ["PAT@pd.example"]})
    assert allowed(PAT, by_name) == {"open", "export"}
    reason = decide(PAT, run, "counts").reason
    assert reason == "planners receive no per-unit crime counts or incidents"


def test_a_run_without_an_owner_is_for_admins_only():
    run = Ownership.of({"label": "made before owners"})
    assert run == Ownership()
    assert allowed(ALICE, run) == set() and allowed(ADA, run) == set(ACTIONS)
    assert "only an admin" in decide(ALICE, run, "open").reason


@pytest.mark.parametrize(
    "manifest",
    [
        {"owner": "analysts"},
        {"owner": "*"},
        {"owner": ""},
        {"owner": 42},
        {"owner": ["alice@pd.example"]},
        {"owner": {"email": "alice@pd.example"}},
        {"owner": "alice@pd.example bob@pd.example"},
        {"owner": "bob@pd.example", "shared_with": "alice@pd.example"},  # not a list
        {"owner": "bob@pd.example", "shared_with": ["*", "everyone", "admins", 7, None]},
        "not a mapping",
        None,
    ],
)
def test_a_tampered_owner_or_sharing_grants_nothing(manifest):
    run = Ownership.of(manifest)
    assert allowed(ALICE, run) == set() and allowed(PAT, run) == set()
    assert run.shared_with == ()


def test_a_user_without_an_e_mail_owns_nothing():
    nobody = User("", "analyst", "local")
    assert allowed(nobody, Ownership.of({"owner": ""})) == set()
    assert allowed(nobody, Ownership()) == set()


def test_share_targets_are_roles_or_addresses():
    assert share_target(" Planners ") == "planners"
    assert share_target("someone@pd") == "someone@pd"
    with pytest.raises(ConfigError, match=r"'admins' is neither a role nor an e-mail address"):
        share_target("admins")
    run = Ownership("alice@pd.example", ("planners",))
    changed = run.changed(add=["bob@pd.example", "BOB@pd.example"], remove=["planners"])
    assert changed.shared_with == ("bob@pd.example",)
    assert changed.describe() == "owned by alice@pd.example; shared with bob@pd.example"


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown action 'peek'"):
        decide(ADA, Ownership(), "peek")
