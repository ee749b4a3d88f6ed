"""Full-text search over chat messages.

PostgreSQL: `websearch_to_tsquery('english', q)` against the expression
`to_tsvector('english', body)`, which migration 0003 indexes (GIN), so the two
must stay identical (see BodyVector). Results are ranked with `ts_rank`
(normalised by the log of the body length, so a short message that names the
term outranks a long one), newest first among equal ranks.

Snippets come from `ts_headline` (the whole body when it is short, up to three
fragments of a long one) but are handed out as segments
`[{"text": ..., "match": bool}]`, never as markup: the highlight markers are
control characters the body is stripped of first, so nobody can forge them, and
the text of every segment is shown as text by the client.

Other databases (SQLite, the embedded dev default) get a small fallback: every
word must occur in the body (case-insensitive substring), newest first, with a
snippet cut in Python in the same segment format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypedDict

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVectorField
from django.db import connections
from django.db.models import Case, F, Func, QuerySet, TextField, Value, When
from django.db.models.functions import Length, Replace

from chat.models import ChatMember, ChatMessage, ChatRoom

MAX_QUERY_CHARS = 200
DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_OFFSET = 1000
SEARCH_CONFIG = "english"

# ts_headline markers. The headline input is stripped of them (and of LT, below) first.
START = "\x02"
STOP = "\x03"
# ts_headline drops whatever its parser takes for an HTML tag ("<b>", "<!-- -->"); feeding it
# "<" as this character instead keeps such text, and the segments turn it back into "<".
LT = "\x04"
FRAGMENT_DELIMITER = " … "

# Bodies up to this long come back whole; longer ones as excerpts around the matches.
SNIPPET_CHARS = 280
FALLBACK_LEAD_CHARS = 40


class SearchError(ValueError):
    """The query cannot be searched for (empty or too long)."""


class Segment(TypedDict):
    text: str
    match: bool


@dataclass(frozen=True)
class Hit:
    message: ChatMessage
    rank: float
    snippet: list[Segment]


class BodyVector(Func):
    """`to_tsvector('english'::regconfig, body)`: exactly the expression migration 0003 indexes.

    django's SearchVector wraps the column in COALESCE(), which no longer matches the index.
    """

    template = "to_tsvector('english'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()

    def __init__(self) -> None:
        super().__init__(F("body"))


def clean_query(q: str | None) -> str:
    """The query as searched: control characters turned into spaces, trimmed; 1 to 200 characters."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", q or "").strip()
    if not text:
        raise SearchError("give something to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise SearchError(f"a search is at most {MAX_QUERY_CHARS} characters")
    return text


def readable_messages(user: Any, room: ChatRoom | None = None) -> QuerySet[ChatMessage]:
    """Live messages the search may return: one room the caller may read, or all rooms they belong to.

    The caller checks that `user` may read `room`; without a room, public rooms the user has
    not joined are left out.
    """
    rows = ChatMessage.objects.filter(deleted_at__isnull=True)
    if room is not None:
        return rows.filter(room_id=room.pk)
    return rows.filter(room_id__in=ChatMember.objects.filter(user_id=user.pk).values("room_id"))


def search(rows: QuerySet[ChatMessage], q: str, limit: int, offset: int = 0) -> list[Hit]:
    """Matches for the cleaned query `q` among `rows`, best first: at most `limit` after `offset`."""
    if connections[rows.db].vendor == "postgresql":
        return postgres_search(rows, q, limit, offset)
    return fallback_search(rows, q, limit, offset)


def _with_related(rows: QuerySet[ChatMessage]) -> QuerySet[ChatMessage]:
    return rows.select_related("author", "room").prefetch_related("reactions__user")


def search_queryset(rows: QuerySet[ChatMessage], q: str) -> QuerySet[ChatMessage]:
    """PostgreSQL: `rows` matching `q`, with `rank` and `headline`, best first."""
    query = SearchQuery(q, config=SEARCH_CONFIG, search_type="websearch")
    # The headline's input: no marker characters from the body, and "<" disguised (see LT).
    unmarked = Func(
        F("body"), Value(START + STOP + LT), Value(""), function="translate", output_field=TextField()
    )
    text = Replace(unmarked, Value("<"), Value(LT))
    options: dict[str, Any] = {"config": SEARCH_CONFIG, "start_sel": START, "stop_sel": STOP}
    whole = SearchHeadline(text, query, highlight_all=True, **options)
    excerpt = SearchHeadline(
        text,
        query,
        highlight_all=False,
        max_fragments=3,
        max_words=20,
        min_words=8,
        fragment_delimiter=FRAGMENT_DELIMITER,
        **options,
    )
    return (
        rows.alias(document=BodyVector(), body_length=Length("body"))
        .filter(document=query)
        .annotate(
            rank=SearchRank(BodyVector(), query, normalization=Value(1)),
            # ts_headline excerpts trim short words at both ends, even of a short body: show those whole.
            headline=Case(When(body_length__lte=SNIPPET_CHARS, then=whole), default=excerpt),
        )
        .order_by("-rank", "-created_at", "-id")
    )


def postgres_search(rows: QuerySet[ChatMessage], q: str, limit: int, offset: int = 0) -> list[Hit]:
    page = _with_related(search_queryset(rows, q))[offset : offset + limit]
    return [
        Hit(message=m, rank=float(m.rank), snippet=headline_segments(m.headline))  # type: ignore[attr-defined]
        for m in page
    ]


def headline_segments(headline: str) -> list[Segment]:
    """Split a ts_headline result made with the START/STOP markers into text segments."""
    segments: list[Segment] = []
    match = False
    for piece in re.split(f"([{START}{STOP}])", headline):
        if piece == START:
            match = True
        elif piece == STOP:
            match = False
        else:
            _append(segments, piece.replace(LT, "<"), match)
    return segments


def _append(segments: list[Segment], text: str, match: bool) -> None:
    if not text:
        return
    if segments and segments[-1]["match"] == match:
        segments[-1]["text"] += text
    else:
        segments.append({"text": text, "match": match})


# --- fallback for databases without full-text search ---------------------------------------------

_TERM = re.compile(r'-?"[^"]*"?|\S+')


def split_terms(q: str) -> tuple[list[str], list[str]]:
    """(required, excluded) terms: words or "quoted phrases"; a leading - excludes."""
    required: list[str] = []
    excluded: list[str] = []
    for token in _TERM.findall(q):
        negated = token.startswith("-")
        term = token.lstrip("-").strip('"').strip()
        if term:
            (excluded if negated else required).append(term)
    return required, excluded


def fallback_search(rows: QuerySet[ChatMessage], q: str, limit: int, offset: int = 0) -> list[Hit]:
    """Every required term in the body, no excluded one (case-insensitive substrings), newest first."""
    required, excluded = split_terms(q)
    if not required:
        return []
    for term in required:
        rows = rows.filter(body__icontains=term)
    for term in excluded:
        rows = rows.exclude(body__icontains=term)
    page = _with_related(rows.order_by("-created_at", "-id"))[offset : offset + limit]
    return [Hit(message=m, rank=0.0, snippet=text_snippet(m.body, required)) for m in page]


def text_snippet(body: str, terms: list[str]) -> list[Segment]:
    """`body`, or an excerpt of it around the first term when long, the terms' occurrences marked."""
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) or r"(?!)", re.IGNORECASE
    )
    first = pattern.search(body)
    start = 0
    if len(body) > SNIPPET_CHARS and first is not None and first.start() > FALLBACK_LEAD_CHARS:
        start = first.start() - FALLBACK_LEAD_CHARS
        space = body.find(" ", start, first.start())
        start = space + 1 if space != -1 else start  # begin at a word where there is one
    excerpt = body[start : start + SNIPPET_CHARS]
    segments: list[Segment] = []
    position = 0
    for found in pattern.finditer(excerpt):
        _append(segments, excerpt[position : found.start()], False)
        _append(segments, found.group(), True)
        position = found.end()
    _append(segments, excerpt[position:], False)
    return segments
