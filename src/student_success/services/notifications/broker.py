"""Real-time fan-out of new notifications to the pages connected to any worker.

Every new notification becomes an *event* (a small JSON dict with ``user_id``). :func:`emit` records it
in the transaction that creates the notification:

* on PostgreSQL it also runs ``pg_notify`` in that transaction, so PostgreSQL delivers it to every
  listening worker when (and only when) the transaction commits;
* after the commit, the broker attached to the session's engine publishes it (in-process queues, or
  Redis pub/sub); a rolled-back transaction publishes nothing.

Three brokers share one :class:`Hub` of local subscribers (one asyncio queue per open stream):

* :class:`LocalBroker`: one process (the SQLite default);
* :class:`PostgresBroker`: a ``LISTEN`` thread per worker, fed by ``pg_notify``;
* :class:`RedisBroker`: a pub/sub thread per worker (when ``redis_url`` is set).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import weakref
from typing import Any

from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "student_success_notifications"
POLL_S = 0.25  # how often a listener checks for shut-down between events
QUEUE_SIZE = 100  # a stream this far behind drops events; the page's count catches up on reload
_PENDING = "student_success.notification_events"
_brokers: weakref.WeakKeyDictionary[Engine, Broker] = weakref.WeakKeyDictionary()


class Hub:
    """The streams open in this process: one bounded asyncio queue per connected page."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: dict[int, set[asyncio.Queue[dict[str, Any]]]] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver events on ``loop`` (the server's event loop)."""
        self._loop = loop

    @property
    def connections(self) -> int:
        """Open streams."""
        return sum(len(queues) for queues in self._queues.values())

    def subscribe(self, user_id: int) -> asyncio.Queue[dict[str, Any]]:
        """A queue receiving ``user_id``'s events (call on the event loop)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues.setdefault(user_id, set()).add(queue)
        return queue

    def unsubscribe(self, user_id: int, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop delivering to ``queue``."""
        queues = self._queues.get(user_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[user_id]

    def dispatch(self, payload: dict[str, Any]) -> None:
        """Hand an event to its user's open streams; safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shut-down)
            loop.call_soon_threadsafe(self._deliver, payload)

    def _deliver(self, payload: dict[str, Any]) -> None:
        user_id = payload.get("user_id")
        for queue in list(self._queues.get(user_id, ()) if isinstance(user_id, int) else ()):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(payload)


class Broker:
    """Base broker: the hub, start/stop, and what happens after a commit."""

    name = "base"

    def __init__(self) -> None:
        self.hub = Hub()

    @property
    def listening(self) -> bool:
        """Whether events from other workers can arrive now."""
        return True

    async def start(self) -> None:
        """Bind the hub to the running loop and start listening."""
        self.hub.bind(asyncio.get_running_loop())

    async def stop(self) -> None:
        """Stop listening."""

    def publish(self, payloads: list[dict[str, Any]]) -> None:
        """Publish events whose transaction has just committed."""
        raise NotImplementedError


class LocalBroker(Broker):
    """Events stay in this process."""

    name = "local"

    def publish(self, payloads: list[dict[str, Any]]) -> None:
        """Hand the events straight to this process's streams."""
        for payload in payloads:
            self.hub.dispatch(payload)


class _ListenerThread(Broker):
    """A broker whose events arrive on a background thread that reconnects when its source drops."""

    RETRY_S = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        """Whether the listener is connected."""
        return self._ready.is_set()

    async def start(self) -> None:
        """Start the listener thread."""
        await super().start()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-listener", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stop the listener thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # any connection problem: report, wait, reconnect
                log.warning("%s listener disconnected: %s", self.name, exc)
            self._ready.clear()
            self._stop.wait(self.RETRY_S)

    def _listen(self) -> None:
        raise NotImplementedError

    def _receive(self, raw: str | bytes) -> None:
        try:
            payload = json.loads(raw)
        except ValueError:
            log.warning("%s listener: ignored a malformed event", self.name)
            return
        if isinstance(payload, dict):
            self.hub.dispatch(payload)


class PostgresBroker(_ListenerThread):
    """``LISTEN`` on PostgreSQL; the events were sent with ``pg_notify`` inside each transaction."""

    name = "postgresql"

    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self.conninfo = conninfo

    def publish(self, payloads: list[dict[str, Any]]) -> None:
        """Nothing to do: PostgreSQL delivered the ``pg_notify`` of the committed transaction."""

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self._ready.set()
            while not self._stop.is_set():
                for notify in connection.notifies(timeout=POLL_S):
                    self._receive(notify.payload)


class RedisBroker(_ListenerThread):
    """Redis pub/sub: publish after commit, one subscriber thread per worker."""

    name = "redis"

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def publish(self, payloads: list[dict[str, Any]]) -> None:
        """Publish each event on the channel (a Redis outage loses only the live update)."""
        for payload in payloads:
            try:
                self._client.publish(CHANNEL, json.dumps(payload))
            except Exception as exc:
                log.warning("redis publish failed: %s", exc)

    async def stop(self) -> None:
        """Stop listening and close the connection pool."""
        await super().stop()
        self._client.close()

    def _listen(self) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(CHANNEL)
            self._ready.set()
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=POLL_S)
                if message is not None and message.get("type") == "message":
                    self._receive(message["data"])
        finally:
            pubsub.close()


def make_broker(engine: Engine, *, redis_url: str | None) -> Broker:
    """The broker for a deployment: Redis when configured, else PostgreSQL, else in-process."""
    if redis_url:
        return RedisBroker(redis_url)
    if engine.dialect.name == "postgresql":
        url = engine.url.set(drivername="postgresql")
        return PostgresBroker(url.render_as_string(hide_password=False))
    return LocalBroker()


def attach(engine: Engine, broker: Broker) -> None:
    """Publish the events of transactions committed on ``engine`` through ``broker``."""
    _brokers[engine] = broker


def detach(engine: Engine) -> None:
    """Stop publishing through the broker attached to ``engine``."""
    _brokers.pop(engine, None)


def _engine_of(session: Session) -> Engine | None:
    bind = session.get_bind()
    if isinstance(bind, Connection):
        return bind.engine
    return bind if isinstance(bind, Engine) else None


def emit(session: Session, payload: dict[str, Any]) -> None:
    """Announce ``payload`` to ``payload["user_id"]``'s pages once the session's transaction commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(CHANNEL, json.dumps(payload))))
    session.info.setdefault(_PENDING, []).append(payload)


@event.listens_for(Session, "after_commit")
def _publish_committed(session: Session) -> None:
    payloads = session.info.pop(_PENDING, None)
    if not payloads:
        return
    engine = _engine_of(session)
    broker = _brokers.get(engine) if engine is not None else None
    if broker is not None:
        broker.publish(payloads)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
