"""A limit on password guesses for the page's login (Gradio's own has none: 2,000 wrong
passwords in 25 s on one connection, then the right one let in).

After FREE_FAILURES wrong passwords from one client address, each further try waits a delay that
doubles with every failure (1 s, 2 s, 4 s ... up to MAX_DELAY_S); a try during the wait is
refused (HTTP 429, Retry-After) without checking the password, so the right one guessed then is
refused too. Failures are forgotten FORGET_S after the last one, and a successful login clears
them. All addresses together may fail GLOBAL_FAILURES times per FORGET_S before every try waits,
so guessing from many addresses is slowed as well.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from rag.messages import say_both

FREE_FAILURES = 5
MAX_DELAY_S = 900.0
FORGET_S = 900.0
GLOBAL_FAILURES = 100


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0

    def wait(self, now: float, free: int) -> float:
        """Seconds until the next try is checked (0: now)."""
        if now - self.last > FORGET_S:
            self.failures = 0
        if self.failures < free:
            return 0.0
        delay = min(MAX_DELAY_S, 2.0 ** (self.failures - free))
        return max(0.0, self.last + delay - now)


class LoginLimiter:
    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.by_client: dict[str, _Record] = {}
        self.everyone = _Record()

    def _forget_old(self, now: float) -> None:
        # Bounded memory: addresses whose failures are forgotten anyway go.
        if len(self.by_client) > 10_000:
            self.by_client = {k: r for k, r in self.by_client.items() if now - r.last <= FORGET_S}

    def wait(self, client: str) -> float:
        now = self.clock()
        record = self.by_client.get(client, _Record())
        return max(record.wait(now, FREE_FAILURES), self.everyone.wait(now, GLOBAL_FAILURES))

    def failed(self, client: str) -> None:
        now = self.clock()
        self._forget_old(now)
        for record in (self.by_client.setdefault(client, _Record()), self.everyone):
            record.wait(now, 0)  # forgets failures older than FORGET_S
            record.failures, record.last = record.failures + 1, now

    def succeeded(self, client: str) -> None:
        self.by_client.pop(client, None)

    async def guard(self, scope, receive, send, app) -> None:
        """Run Gradio's POST /login unless this client must wait; count its answer."""
        from rag.web.guard import send_json

        client = (scope.get("client") or ("?", 0))[0]
        if (wait := self.wait(client)) > 0:
            seconds = math.ceil(wait)
            return await send_json(send, 429, {"detail": say_both("login_locked", seconds=seconds)},
                                   [(b"retry-after", str(seconds).encode())])
        status = []

        async def watch(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await app(scope, receive, watch)
        if status and status[0] == 200:
            self.succeeded(client)
        elif status and status[0] in (400, 401, 403):
            self.failed(client)
