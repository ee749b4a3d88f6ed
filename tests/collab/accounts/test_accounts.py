"""Account services on the real database: usernames, passwords, tokens, socket re-checks."""

from __future__ import annotations

import importlib
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from collab.accounts.passwords import ComplexityValidator, character_classes
from collab.accounts.services import (
    AccountError,
    TokenNotFoundError,
    TooManyTokensError,
    authenticate_token,
    authenticate_tokens,
    issue_token,
    list_tokens,
    register_user,
    revoke_raw_token,
    revoke_token,
    socket_auth_valid,
    socket_auths_valid,
    user_for_token,
)
from collab.accounts.usernames import UsernameError, canonical_username, username_problem, validate_username
from collab.models import ApiToken

pytestmark = pytest.mark.django_db
User = get_user_model()

PASSWORD = "Correct-horse-9"


@pytest.fixture(autouse=True)
def fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- usernames -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("alice", "alice"),
        ("Alice", "alice"),
        ("\uff21\uff2c\uff29\uff23\uff25", "alice"),  # full-width
        ("  bob  ", "bob"),
        ("Straße", "strasse"),
        ("\ufb01ona", "fiona"),  # the fi ligature
        ("José", "josé"),
        ("Jose\u0301", "josé"),  # decomposed accent composes
        ("मनोज", "मनोज"),  # Devanagari with vowel signs (combining marks)
        ("李小龍", "李小龍"),
        ("a.b_c-9", "a.b_c-9"),
        ("x" * 150, "x" * 150),
    ],
)
def test_allowed_names_and_their_canonical_form(typed: str, stored: str) -> None:
    assert validate_username(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "a b",
        "a/b",
        "../x",
        "a@b",
        "a\u200bb",  # zero-width space
        "a\u200db",  # zero-width joiner
        "a\u202eb",  # right-to-left override
        "a\u2066b",  # left-to-right isolate
        "a\u061cb",  # Arabic letter mark
        "a\x00b",
        "a\tb",
        "\u0301a",  # a combining mark with no letter
        "...",
        "-_-",
        "x" * 151,
        "a:b",
        "emoji\U0001f600",
    ],
)
def test_refused_names(typed: str) -> None:
    with pytest.raises(UsernameError):
        validate_username(typed)


def test_refusals_say_what_is_wrong() -> None:
    assert "spaces" in (username_problem("a b") or "")
    assert "U+200B" in (username_problem("a\u200bb") or "")
    assert "'/'" in (username_problem("a/b") or "")
    assert "150" in (username_problem("x" * 151) or "")


def test_full_width_and_case_variants_of_a_taken_name_are_taken() -> None:
    register_user("alice", PASSWORD)
    for variant in (
        "ALICE",
        "Alice",
        "\uff21\uff2c\uff29\uff23\uff25",
        "\uff41\uff4c\uff49\uff43\uff45",
        " alice",
    ):  # full-width and case
        with pytest.raises(AccountError, match="taken"):
            register_user(variant, PASSWORD)
    assert list(User.objects.filter(username__icontains="alice").values_list("username", flat=True)) == [
        "alice"
    ]


def test_registration_stores_the_canonical_name_and_login_lookups_canonicalise() -> None:
    user = register_user("Zoë", PASSWORD)
    assert user.username == "zoë"
    assert canonical_username("ZOË") == "zoë"
    with pytest.raises(AccountError, match="'/'"):
        register_user("bad/name", PASSWORD)


def test_the_database_refuses_case_duplicates_made_outside_registration() -> None:
    User.objects.create_user("carol", password="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("Carol", password="x")


def load_migration() -> Any:
    return importlib.import_module("collab.migrations.0003_normalise_usernames")


def test_the_data_migration_normalises_replaces_and_deduplicates() -> None:
    with connection.cursor() as cursor:  # names as they could exist before the unique index
        cursor.execute("DROP INDEX collab_username_lower_uniq")
    names = [
        "dave",
        "Dave",
        "\uff24\uff21\uff36\uff25",
        "a/b",
        "a_b",
        "with space",
        "zero\u200bwidth",
        "\u202e",
        "Émile",
        "ok.name",
    ]
    users = [User.objects.create_user(name, password="x") for name in names]
    load_migration().normalise_usernames(apps, None)
    after = {u.pk: u.username for u in User.objects.filter(pk__in=[u.pk for u in users])}
    got = [after[u.pk] for u in users]
    assert got == [
        "dave",
        "dave-2",
        "dave-3",
        "a_b-2",
        "a_b",
        "with_space",
        "zerowidth",
        "user",
        "émile",
        "ok.name",
    ]
    assert all(validate_username(name) == name for name in got)
    with connection.cursor() as cursor:
        cursor.execute("CREATE UNIQUE INDEX collab_username_lower_uniq ON auth_user (LOWER(username))")


def test_the_migration_copy_agrees_with_the_service_rules() -> None:
    migration = load_migration()
    samples = ["alice", "Alice", "a b", "a/b", "मनोज", "\u0301a", "...", "x" * 151, "a\u200bb", "ok-1", "ß"]
    for sample in samples:
        name = canonical_username(sample)
        assert migration.canonical(sample) == name
        assert migration.allowed(name) == (username_problem(name) is None), sample


# --- passwords -------------------------------------------------------------------------


def candidate(username: str, email: str = "") -> Any:
    return User(username=username, email=email)


@pytest.mark.parametrize(
    ("username", "password"),
    [
        # the shapes the rest of the suite and the e2e/bench helpers register with
        ("alice", "pw-alice-9x"),
        ("bob", "pw-bob-9x"),
        ("carol", "pw-carol-9x"),
        ("eve", "pw-eve-9x"),
        ("chatweb_alice", "pw-chatweb_alice-0a1b2c3d"),
        ("chatweb_alice", "pw-chatweb_alice-abcdefab"),
        ("ownerd1234", "pw-ownerd1234-01234567"),
        ("alice7", "pw-alice7-deadbeef"),
        # ours
        ("anyone", PASSWORD),
        ("anyone", "correct horse battery staple"),  # a passphrase: length instead of classes
    ],
)
def test_accepted_passwords(username: str, password: str) -> None:
    validate_password(password, candidate(username))


@pytest.mark.parametrize(
    ("username", "password", "why"),
    [
        ("frank", "frank", "too short"),
        ("franklin99", "franklin99", "username"),
        ("franklin99", "FRANKLIN99", "username"),
        ("mallory", "mallory-01", "similar"),
        ("gina", "abcdefghij", "mix"),  # one class
        ("gina", "abcdefgh12", "mix"),  # two classes
        ("gina", "1234567890123", "mix"),
        ("gina", "password123", "common"),
        ("gina", "Aa1-", "too short"),
    ],
)
def test_refused_passwords(username: str, password: str, why: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_password(password, candidate(username))
    assert any(why in message for message in info.value.messages), info.value.messages


def test_a_password_equal_to_the_username_is_refused_even_without_the_similarity_check() -> None:
    with pytest.raises(ValidationError, match="username"):
        ComplexityValidator().validate("Longusername-1234567", candidate("longusername-1234567"))
    assert character_classes("aA1-") == 4 and character_classes("李小龍abc") == 2


def test_registration_refuses_a_password_like_the_name() -> None:
    with pytest.raises(AccountError, match="similar"):
        register_user("hannah", "Hannah-2024")
    with pytest.raises(AccountError):
        register_user("hannah", "hannah")


# --- tokens ----------------------------------------------------------------------------


def make_user(prefix: str = "tok") -> Any:
    return User.objects.create_user(f"{prefix}{uuid.uuid4().hex[:8]}", password="x")


def test_tokens_are_named_listed_and_revocable() -> None:
    user, other = make_user(), make_user()
    first = issue_token(user, "laptop")
    second = issue_token(user, None, expires_in_days=30)
    auth = authenticate_token(first.raw)
    assert auth is not None and auth.user == user and auth.token_id == first.token.pk
    assert [t.name for t in list_tokens(user)] == ["api", "laptop"]
    assert second.token.expires_at is not None
    assert timedelta(days=29) < second.token.expires_at - timezone.now() <= timedelta(days=30)
    with pytest.raises(TokenNotFoundError):
        revoke_token(other, first.token.pk)
    revoke_token(user, first.token.pk)
    assert authenticate_token(first.raw) is None
    assert not user_for_token(first.raw).is_authenticated
    with pytest.raises(TokenNotFoundError):
        revoke_token(user, first.token.pk)
    assert not revoke_raw_token(other, second.raw)
    assert revoke_raw_token(user, second.raw)
    assert list_tokens(user) == []


def test_many_tokens_authenticate_in_one_query_and_only_the_valid_ones_answer(
    django_assert_max_num_queries: Any,
) -> None:
    active, inactive = make_user(), make_user()
    good = [issue_token(active, f"t{i}") for i in range(3)]
    expired = issue_token(active, "old", expires_in_days=1)
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    of_inactive = issue_token(inactive, "x")
    inactive.is_active = False
    inactive.save()
    ApiToken.objects.filter(user=active).update(last_used_at=None)
    raws = [issued.raw for issued in good] + [expired.raw, of_inactive.raw, "unknown", "", "x" * 201]
    with django_assert_max_num_queries(2):  # one read, one last-used update for all
        found = authenticate_tokens(raws)
    assert set(found) == {issued.raw for issued in good}
    assert all(found[issued.raw].token_id == issued.token.pk for issued in good)
    assert ApiToken.objects.filter(pk__in=[i.token.pk for i in good], last_used_at__isnull=True).count() == 0
    with django_assert_max_num_queries(1):  # used moments ago: no update
        assert set(authenticate_tokens(raws)) == set(found)


def test_token_names_and_lifetimes_are_checked() -> None:
    user = make_user()
    for bad_days in (0, -1, 3651):
        with pytest.raises(AccountError):
            issue_token(user, "x", bad_days)
    for bad_name in ("x" * 101, "tab\there", "nul\x00"):
        with pytest.raises(AccountError):
            issue_token(user, bad_name)
    assert issue_token(user, "  spaced  ").token.name == "spaced"


def test_expired_tokens_do_not_authenticate_and_are_not_listed() -> None:
    user = make_user()
    issued = issue_token(user, "short", expires_in_days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert authenticate_token(issued.raw) is None
    assert list_tokens(user) == []


def test_the_token_cap_prunes_expired_tokens_then_refuses(settings: Any) -> None:
    settings.COLLAB_MAX_TOKENS_PER_USER = 3
    user = make_user()
    issued = [issue_token(user, f"t{i}") for i in range(3)]
    with pytest.raises(TooManyTokensError, match="revoke"):
        issue_token(user, "one too many")
    ApiToken.objects.filter(pk=issued[0].token.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert issue_token(user, "fits again").token.name == "fits again"
    assert not ApiToken.objects.filter(pk=issued[0].token.pk).exists()  # the expired one was pruned
    assert ApiToken.objects.filter(user=user).count() == 3
    # another user has a cap of their own
    assert issue_token(make_user(), "other").token.pk


def test_inactive_users_tokens_do_not_authenticate() -> None:
    user = make_user()
    issued = issue_token(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert authenticate_token(issued.raw) is None


def test_last_used_is_recorded() -> None:
    user = make_user()
    issued = issue_token(user)
    assert issued.token.last_used_at is None
    authenticate_token(issued.raw)
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


# --- socket re-checks ------------------------------------------------------------------


def test_socket_auth_valid_for_a_token_socket() -> None:
    user = make_user()
    issued = issue_token(user)
    token_id = issued.token.pk
    assert socket_auth_valid(user.pk, token_id)
    assert not socket_auth_valid(make_user().pk, token_id)  # someone else's token id
    revoke_token(user, token_id)
    assert not socket_auth_valid(user.pk, token_id)


def test_socket_auth_valid_after_expiry_and_deactivation() -> None:
    user = make_user()
    issued = issue_token(user, expires_in_days=1)
    assert socket_auth_valid(user.pk, issued.token.pk)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not socket_auth_valid(user.pk, issued.token.pk)

    other = make_user()
    live = issue_token(other)
    User.objects.filter(pk=other.pk).update(is_active=False)
    assert not socket_auth_valid(other.pk, live.token.pk)


def test_socket_auth_valid_for_a_session_socket() -> None:
    user = make_user()
    assert socket_auth_valid(user.pk, None)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not socket_auth_valid(user.pk, None)
    deleted = make_user()
    deleted_id = deleted.pk
    deleted.delete()
    assert not socket_auth_valid(deleted_id, None)


def test_socket_auth_valid_is_one_query(django_assert_num_queries: Any) -> None:
    user = make_user()
    token_id = issue_token(user).token.pk
    with django_assert_num_queries(1):
        socket_auth_valid(user.pk, token_id)
    with django_assert_num_queries(1):
        socket_auth_valid(user.pk, None)


def test_socket_auths_valid_checks_many_sockets_in_two_queries(django_assert_num_queries: Any) -> None:
    alice, bob, gone = make_user(), make_user(), make_user()
    alice_token = issue_token(alice).token.pk
    bob_token = issue_token(bob).token.pk
    revoked = issue_token(alice).token.pk
    revoke_token(alice, revoked)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    pairs = [
        (alice.pk, alice_token),
        (alice.pk, None),
        (alice.pk, bob_token),  # someone else's token
        (alice.pk, revoked),
        (bob.pk, bob_token),
        (gone.pk, None),
    ]
    with django_assert_num_queries(2):
        valid = socket_auths_valid(pairs)
    assert valid == {(alice.pk, alice_token), (alice.pk, None), (bob.pk, bob_token)}
    assert valid == {pair for pair in pairs if socket_auth_valid(*pair)}
    assert socket_auths_valid([]) == set()
