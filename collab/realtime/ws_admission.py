"""Admission of new websockets at a bounded rate, before any work is done for them.

A worker that restarts, or a network blip, makes thousands of clients reconnect
at once. Each costs a token lookup, a membership query and a full-document
answer; taken all at once they queue without bound before authentication. This
layer admits new sockets at COLLAB_ADMIT_PER_SECOND (a token bucket with
bursts of COLLAB_ADMIT_BURST) and while fewer than COLLAB_ADMIT_IN_SETUP
admitted sockets are still being set up (authenticated, authorised, loaded):
the second bound follows what the worker really manages, whatever its load.
The rest are refused before authentication with 4503.

How a refusal is timed matters more than its code: a stock y-websocket client
treats a socket that opened as a success and, when it then closes, reconnects
after 100 ms, whatever the code. Refused at once, 2,000 clients come back
20,000 times a second. So a refused socket is accepted and *held* (nothing is
read from it but discarded, nothing is done for it) for about the time the
worker needs before it has room, spread with jitter, then closed with 4503 and
the reason "busy, retry": the client's immediate reconnect then lands when it
can be admitted. At most COLLAB_ADMIT_MAX_HELD sockets are held; beyond that
one is closed at once with "busy, retry in N s" (for clients that read it).

A socket whose turn comes within COLLAB_ADMIT_QUEUE_SECONDS is not refused: it
waits in line (first come, first served) before its handshake is answered, and is
admitted when a set-up ends or the bucket refills. A refusal costs the client a
reconnect with its own back-off and the worker a second handshake: with refusals
only, 1,000 clients connecting at once took 6-15 s on a worker that sets up 1,000
sockets a second.

"About the time the worker needs" is measured, not assumed: while set-ups are the
bound, the worker admits COLLAB_ADMIT_IN_SETUP sockets per average set-up time
(`SetupPace`), which under a storm on a busy machine is far below
COLLAB_ADMIT_PER_SECOND. Holding for the configured rate instead sent most held
clients back too early, to be refused again: each refusal is a whole websocket
handshake, and they were a third of the worker's event loop in a storm.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from collab.realtime import metrics
from collab.realtime.close_codes import CloseCode

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class AdmissionBucket:
    """A token bucket; `take` answers None (admitted) or how many seconds to wait."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = burst
        self.at = clock()

    def take(self) -> float | None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


class SetupPace:
    """A moving average of how long admitted sockets take to set up (seconds)."""

    def __init__(self, initial: float = 0.05, weight: float = 0.05) -> None:
        self.seconds = initial
        self.weight = weight

    def observe(self, seconds: float) -> None:
        self.seconds += self.weight * (seconds - self.seconds)

    def admissions_per_second(self, in_setup_limit: int) -> float:
        """What `in_setup_limit` concurrent set-ups of the average length let through."""
        return in_setup_limit / max(self.seconds, 1e-3)


# Under the 30 s after which a stock y-websocket client gives up on a silent socket
# (with the jitter of up to +20 % on top).
MAX_HOLD_SECONDS = 20.0


MAX_RETRY_HINT_SECONDS = 60


def retry_hint(wait: float) -> int:
    """Whole seconds to tell a refused client, 1 to a minute, with jitter (no synchronised return).

    The wait comes from the measured pace, which a few slow set-ups can make look very long;
    past a minute a client is better off trying again than believing it."""
    return max(1, math.ceil(min(wait, MAX_RETRY_HINT_SECONDS / 1.5) * random.uniform(1.0, 1.5)))


def hold_seconds(wait: float) -> float:
    """How long to hold a refused socket whose turn comes in `wait` seconds, with jitter.

    A turn beyond MAX_HOLD_SECONDS cannot be waited for: such sockets come back before
    it, spread over the second half of the longest hold instead of all at its end (as
    a wave, refused again but for the few that find room, while set-ups stand idle).
    """
    if wait <= MAX_HOLD_SECONDS:
        return wait * random.uniform(0.8, 1.2)
    return random.uniform(0.5, 1.2) * MAX_HOLD_SECONDS


async def _discard_until_gone(receive: Receive) -> None:
    """Read and drop what a held socket sends (so nothing queues) until it disconnects."""
    while (await receive()).get("type") != "websocket.disconnect":
        pass


class WebsocketAdmission:
    def __init__(self, inner: Callable[..., Awaitable[Any]]) -> None:
        self.inner = inner
        self.bucket: AdmissionBucket | None = None
        self.in_setup = 0
        self.held = 0
        self.pace = SetupPace()
        # Sockets waiting for their turn; a granted one has its set-up slot counted already.
        self.line: deque[asyncio.Future[None]] = deque()
        self._grant_timer: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "websocket":
            await self.inner(scope, receive, send)
            return
        if self.bucket is None:
            self.bucket = AdmissionBucket(settings.COLLAB_ADMIT_PER_SECOND, settings.COLLAB_ADMIT_BURST)
        limit = settings.COLLAB_ADMIT_IN_SETUP
        if not self.line and self.in_setup < limit and self.bucket.take() is None:
            self.in_setup += 1
            await self._admit(scope, receive, send)
            return
        rate = min(self.bucket.rate, self.pace.admissions_per_second(limit))
        # Those already waiting or held go first: this one's turn comes after them.
        wait = (len(self.line) + 1) / rate
        if wait <= settings.COLLAB_ADMIT_QUEUE_SECONDS:
            if await self._wait_in_line(settings.COLLAB_ADMIT_QUEUE_SECONDS):
                await self._admit(scope, receive, send)
                return
            wait = (len(self.line) + 1) / rate
        wait += self.held / rate
        metrics.FRAMES_REJECTED.labels("admission").inc()
        await self._refuse(receive, send, wait)

    async def _wait_in_line(self, longest: float) -> bool:
        """Wait (first come, first served) for a set-up slot; True once granted, with it counted."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.line.append(turn)
        metrics.WS_ADMISSION_WAITS.inc()
        self._grant()
        admitted = False
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(turn), longest)
            admitted = turn.done() and not turn.cancelled()
            return admitted
        finally:
            if not turn.done():
                turn.cancel()
                with contextlib.suppress(ValueError):
                    self.line.remove(turn)  # the line's length is the next one's wait
            elif not admitted and not turn.cancelled():
                self._release_slot()  # granted as this task was cancelled: give the slot on

    def _grant(self) -> None:
        """Give free set-up slots to the first in line, as far as the bucket allows."""
        assert self.bucket is not None
        limit = settings.COLLAB_ADMIT_IN_SETUP
        while self.line and self.in_setup < limit:
            if self.line[0].done():
                self.line.popleft()
                continue
            wait = self.bucket.take()
            if wait is not None:
                if self._grant_timer is None:
                    self._grant_timer = asyncio.get_running_loop().call_later(wait, self._granted_later)
                return
            self.in_setup += 1
            self.line.popleft().set_result(None)

    def _granted_later(self) -> None:
        self._grant_timer = None
        self._grant()

    def _release_slot(self) -> None:
        self.in_setup -= 1
        if self.line:
            self._grant()

    async def _refuse(self, receive: Receive, send: Send, wait: float) -> None:
        message = await receive()
        if message.get("type") != "websocket.connect":
            return
        # Accepted first: only an accepted socket can carry a close code to the client.
        await send({"type": "websocket.accept"})
        if self.held >= settings.COLLAB_ADMIT_MAX_HELD:
            reason = f"busy, retry in {retry_hint(wait)} s"
        else:
            reason = "busy, retry"
            self.held += 1
            try:
                hold = hold_seconds(wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_discard_until_gone(receive), timeout=hold)
            finally:
                self.held -= 1
        await send({"type": "websocket.close", "code": CloseCode.BUSY, "reason": reason})

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the application in its set-up slot (counted by the caller) until accepted or closed."""
        settled = False
        admitted_at = time.monotonic()

        def settle() -> None:
            nonlocal settled
            if not settled:
                settled = True
                seconds = time.monotonic() - admitted_at
                self.pace.observe(seconds)
                metrics.WS_SETUP_SECONDS.observe(seconds)
                self._release_slot()

        async def watched_send(message: Message) -> None:
            if message.get("type") in ("websocket.accept", "websocket.close"):
                settle()
            await send(message)

        try:
            await self.inner(scope, receive, watched_send)
        finally:
            settle()
