"""Message search: PostgreSQL full-text search through the API, and the substring fallback."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from chat import search as chat_search
from chat import services
from chat.models import ChatMessage, ChatReaction, ChatRoom, RoomKind
from tests.documents.test_api import register_and_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client()


def user(name: str) -> Any:
    return get_user_model().objects.get(username=name)


_client_ids = itertools.count()


def post(room: ChatRoom, author: str, *bodies: str) -> list[ChatMessage]:
    return [
        services.post_message(room.pk, user(author).pk, f"c-{next(_client_ids)}", body)[0] for body in bodies
    ]


def get(client: Client, token: str, **params: Any) -> Any:
    """GET /api/chat/search with properly encoded parameters."""
    return client.get("/api/chat/search", params, HTTP_AUTHORIZATION=f"Bearer {token}")


def bodies(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["message"]["body"] for r in response.json()["results"]]


def text_of(segments: Iterable[Mapping[str, Any]]) -> str:
    return "".join(s["text"] for s in segments)


@pytest.fixture
def alice(client: Client) -> str:
    return register_and_token(client, "alice")


@pytest.fixture
def team(alice: str) -> ChatRoom:
    return services.create_room(user("alice").pk, "team", RoomKind.PRIVATE)


def test_ranking_by_frequency_and_length_then_newest(client: Client, alice: str, team: ChatRoom) -> None:
    post(
        team,
        "alice",
        "deploy the staging cluster today",  # once, 4 words
        "deploy the staging cluster deploy",  # twice, 4 words: above the one before
        "deploy tonight after reviewing budget numbers with finance",  # once, long: below
        "deploy",  # once, alone: best of the single mentions
        "nothing to see",
    )
    later = post(team, "alice", "deploy")[0]  # same rank as the other "deploy": newer first

    response = get(client, alice, q="deploy")
    results = response.json()["results"]
    assert bodies(response) == [
        "deploy",
        "deploy",
        "deploy the staging cluster deploy",
        "deploy the staging cluster today",
        "deploy tonight after reviewing budget numbers with finance",
    ]
    assert results[0]["message"]["id"] == later.pk
    ranks = [r["rank"] for r in results]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] == ranks[1] > ranks[2] > ranks[3] > ranks[4]
    first = results[0]
    assert first["room_id"] == team.pk and first["room_name"] == "team"
    assert {"id", "seq", "author", "body", "created_at", "deleted"} <= set(first["message"])
    assert first["message"]["author"] == "alice"


def test_stemming_and_websearch_syntax(client: Client, alice: str, team: ChatRoom) -> None:
    post(
        team,
        "alice",
        "we run the backups nightly",
        "the runner runs every hour",
        "deploy staging after lunch",
        "staging deploy is broken",
        "deploy to production on friday",
        "rollback the database",
    )
    assert set(bodies(get(client, alice, q="running"))) == {
        "we run the backups nightly",
        "the runner runs every hour",  # "runs" stems to run ("runner" does not)
    }
    assert bodies(get(client, alice, q='"deploy staging"')) == ["deploy staging after lunch"]
    assert set(bodies(get(client, alice, q="deploy -friday"))) == {
        "deploy staging after lunch",
        "staging deploy is broken",
    }
    assert set(bodies(get(client, alice, q="production or rollback"))) == {
        "deploy to production on friday",
        "rollback the database",
    }
    assert bodies(get(client, alice, q="the")) == []  # only a stop word: nothing, not an error
    assert bodies(get(client, alice, q='deploy "')) != []  # stray quote: websearch never fails


def test_snippet_segments_mark_the_matches_and_come_from_the_body(
    client: Client, alice: str, team: ChatRoom
) -> None:
    filler = " ".join(f"word{i}" for i in range(60))
    body = f"{filler} Deploying the release went fine. {filler} then we deployed again {filler}"
    post(team, "alice", body)

    [result] = get(client, alice, q="deploy").json()["results"]
    snippet = result["snippet"]
    assert all(set(s) == {"text", "match"} for s in snippet)
    assert [s["text"] for s in snippet if s["match"]] == ["Deploying", "deployed"]
    text = text_of(snippet)
    assert len(text) < len(body)
    fragments = text.split(chat_search.FRAGMENT_DELIMITER)
    assert len(fragments) == 2 and all(fragment in body for fragment in fragments)
    assert not any(ch in text for ch in (chat_search.START, chat_search.STOP, chat_search.LT))


def test_html_and_forged_markers_come_back_as_plain_text(client: Client, alice: str, team: ChatRoom) -> None:
    post(
        team,
        "alice",
        "<script>alert(1)</script> deploy <b>now</b> & <!-- x --> a<b",
        "\x02fake\x03 highlight \x04 deploy",
    )
    results = get(client, alice, q="deploy").json()["results"]
    by_body = {r["message"]["body"]: r["snippet"] for r in results}
    html = by_body["<script>alert(1)</script> deploy <b>now</b> & <!-- x --> a<b"]
    assert text_of(html) == "<script>alert(1)</script> deploy <b>now</b> & <!-- x --> a<b"
    assert [s for s in html if s["match"]] == [{"text": "deploy", "match": True}]
    forged = by_body["\x02fake\x03 highlight \x04 deploy"]
    assert [s["text"] for s in forged if s["match"]] == ["deploy"]  # "fake" is not highlighted
    assert text_of(forged) == "fake highlight  deploy"  # the marker characters are gone


def test_only_readable_rooms_and_live_messages(client: Client, alice: str, team: ChatRoom) -> None:
    bob = register_and_token(client, "bob")
    register_and_token(client, "carol")
    lobby = services.create_room(user("carol").pk, "lobby", RoomKind.PUBLIC)  # bob has not joined
    secret = services.create_room(user("carol").pk, "secret", RoomKind.PRIVATE)
    shared = services.create_room(user("carol").pk, "shared", RoomKind.PRIVATE)
    services.add_member(shared.pk, user("carol").pk, user("bob").pk)
    post(team, "alice", "release notes for the team")
    post(lobby, "carol", "release party in the lobby")
    post(secret, "carol", "release date is secret")
    post(shared, "carol", "release checklist shared")
    gone = post(shared, "carol", "release gone")[0]
    services.delete_message(gone.room_id, gone.pk, user("carol").pk)
    hidden = post(shared, "carol", "release hidden")[0]
    ChatMessage.objects.filter(pk=hidden.pk).update(deleted_at=timezone.now())  # body kept: still excluded

    assert bodies(get(client, bob, q="release")) == ["release checklist shared"]
    assert bodies(get(client, bob, q="release", room=lobby.pk)) == ["release party in the lobby"]
    assert bodies(get(client, bob, q="release", room=shared.pk)) == ["release checklist shared"]
    assert get(client, bob, q="release", room=secret.pk).status_code == 403
    assert get(client, bob, q="release", room=team.pk).status_code == 403
    assert get(client, bob, q="release", room=999_999).status_code == 404
    assert bodies(get(client, alice, q="release")) == ["release notes for the team"]
    assert bodies(get(client, register_and_token(client, "dave"), q="release")) == []


def test_bad_requests(client: Client, alice: str, team: ChatRoom) -> None:
    assert get(client, alice, q="").status_code == 400
    assert get(client, alice, q="   ").status_code == 400
    assert get(client, alice).status_code == 400  # q missing
    assert get(client, alice, q="x" * 201).status_code == 400
    assert get(client, alice, q="x" * 200).status_code == 200
    assert get(client, alice, q="deploy", offset=-1).status_code == 400
    assert get(client, alice, q="deploy", offset=chat_search.MAX_OFFSET + 1).status_code == 400
    assert get(client, alice, q="nul\x00byte").status_code == 200  # control characters are spaces
    assert client.get("/api/chat/search", {"q": "deploy"}).status_code == 401


def test_offset_pages(client: Client, alice: str, team: ChatRoom) -> None:
    post(team, "alice", *(f"standup note {i}" for i in range(5)))
    first = get(client, alice, q="standup", limit=2).json()
    assert len(first["results"]) == 2 and first["has_more"] is True and first["next_offset"] == 2
    rest = get(client, alice, q="standup", limit=2, offset=4).json()
    assert len(rest["results"]) == 1 and rest["has_more"] is False and rest["next_offset"] is None
    pages = [get(client, alice, q="standup", limit=2, offset=o).json()["results"] for o in (0, 2, 4)]
    ids = [r["message"]["id"] for page in pages for r in page]
    assert len(set(ids)) == 5
    assert len(get(client, alice, q="standup", limit=0).json()["results"]) == 1  # limit is clamped
    assert len(get(client, alice, q="standup", limit=500).json()["results"]) == 5


def test_search_is_a_fixed_number_of_queries(
    alice: str, team: ChatRoom, django_assert_max_num_queries: Any
) -> None:
    messages = post(team, "alice", *(f"incident {i}" for i in range(10)))
    for message in messages[:5]:
        ChatReaction.objects.create(message=message, user=user("alice"), emoji="👍")
    rows = chat_search.readable_messages(user("alice"))
    with django_assert_max_num_queries(3):  # messages (+ author, room), reactions, their users
        hits = chat_search.search(rows, "incident", 20)
        assert [h.message.room.name for h in hits] == ["team"] * 10
        assert all(h.message.author is not None for h in hits)
        reactors = [r.user.get_username() for h in hits for r in h.message.reactions.all()]
        assert reactors == ["alice"] * 5


def test_the_gin_index_exists_and_is_used(alice: str, team: ChatRoom) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'chat_message_body_tsv'")
        [(indexdef,)] = cursor.fetchall()
        assert "gin" in indexdef and "body_tsv" in indexdef
        cursor.execute(
            "SELECT generation_expression FROM information_schema.columns "
            "WHERE table_name = 'chat_chatmessage' AND column_name = 'body_tsv'"
        )
        [(expression,)] = cursor.fetchall()
        assert "to_tsvector('english'::regconfig, body)" in expression
        cursor.execute("SET LOCAL enable_seqscan = off")
    post(team, "alice", "deploy", "something else")
    # Over all rooms, nothing but the GIN index can find the rows without a sequential scan.
    plan = chat_search.search_queryset(ChatMessage.objects.all(), "deploy").explain()
    assert "chat_message_body_tsv" in plan


# --- the fallback used on SQLite -------------------------------------------------------------------


def test_split_terms() -> None:
    assert chat_search.split_terms('Deploy "staging box" -friday -"on call" x') == (
        ["Deploy", "staging box", "x"],
        ["friday", "on call"],
    )
    assert chat_search.split_terms('- "" -') == ([], [])


def test_text_snippet_cuts_around_the_first_match() -> None:
    body = "<b>" + "lorem ipsum " * 20 + "the DEPLOY went fine, deploy again " + "dolor " * 50
    snippet = chat_search.text_snippet(body, ["deploy"])
    text = text_of(snippet)
    assert text in body and len(text) == chat_search.SNIPPET_CHARS
    assert text.startswith("ipsum") or text.startswith("lorem")
    assert [s["text"] for s in snippet if s["match"]] == ["DEPLOY", "deploy"]
    short = chat_search.text_snippet("<i>deploy</i>", ["deploy"])
    assert short == [
        {"text": "<i>", "match": False},
        {"text": "deploy", "match": True},
        {"text": "</i>", "match": False},
    ]
    assert chat_search.text_snippet("no match here", ["zzz"]) == [{"text": "no match here", "match": False}]


def test_fallback_search_matches_every_word_newest_first(alice: str, team: ChatRoom) -> None:
    post(
        team,
        "alice",
        "Deploy the staging box",
        "deploy production",
        "staging DEPLOY friday",
        "unrelated",
    )
    deleted = post(team, "alice", "deploy staging deleted")[0]
    ChatMessage.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    rows = chat_search.readable_messages(user("alice"))

    hits = chat_search.fallback_search(rows, "staging deploy", 10)
    assert [h.message.body for h in hits] == ["staging DEPLOY friday", "Deploy the staging box"]
    assert all(h.rank == 0.0 for h in hits)
    assert [s["text"] for s in hits[0].snippet if s["match"]] == ["staging", "DEPLOY"]
    assert [h.message.body for h in chat_search.fallback_search(rows, "deploy -friday", 10)] == [
        "deploy production",
        "Deploy the staging box",
    ]
    assert [h.message.body for h in chat_search.fallback_search(rows, "deploy", 1, offset=1)] == [
        "deploy production"
    ]
    assert chat_search.fallback_search(rows, "-deploy", 10) == []
