"""Run the ServerApp and ClientApps in one process, without Ray: a minimal Flower ``Grid``.

Flower's simulation engine needs Ray (the ``flwr[simulation]`` extra, ~100 MB and worker
processes); this Grid delivers a copy of each message straight to the ClientApp of its node, with that
node's own ``Context`` (node config and persistent state), runs the real mods, and turns a
ClientApp exception into an error reply as a SuperNode does. ``on_message`` sees every
message in both directions, for tests and byte counts.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Iterable
from uuid import uuid4

from flwr.app import Context, Error, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.common.constant import SUPERLINK_NODE_ID
from flwr.serverapp import Grid, ServerApp
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity

CLIENT_APP_ERROR = 602
MessageHook = Callable[[str, Message], None]


class InProcessGrid(Grid):
    """N nodes (given ids, else random ones), each a ClientApp call away; replies are ready once pushed."""

    def __init__(self, client_app: ClientApp, node_configs: list[dict], *, run_id: int,
                 on_message: MessageHook | None = None, node_ids: list[int] | None = None) -> None:
        self._run = Run.create_empty(run_id=run_id)
        self.client_app, self.on_message = client_app, on_message
        ids = node_ids or random.Random(run_id).sample(range(1, 2**31), len(node_configs))
        self.contexts = {nid: Context(run_id=run_id, node_id=nid, node_config=dict(cfg), state=RecordDict(),
                                      run_config={}) for nid, cfg in zip(ids, node_configs, strict=True)}
        self._replies: dict[str, Message] = {}
        self._took: dict[str, float] = {}

    def set_run(self, run: Run) -> None:
        self._run = run

    @property
    def run(self) -> Run:
        return self._run

    def create_message(self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str,
                       ttl: float | None = None) -> Message:
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> Iterable[int]:
        return list(self.contexts)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        ids = []
        for msg in messages:
            msg.metadata.__dict__["_message_id"] = str(uuid4())
            if self.on_message:
                self.on_message("to-site", msg)
            started = time.monotonic()
            reply = self._deliver(msg)
            self._took[msg.metadata.message_id] = time.monotonic() - started
            self._replies[msg.metadata.message_id] = reply
            ids.append(msg.metadata.message_id)
        return ids

    def _deliver(self, msg: Message) -> Message:
        try:
            reply = copy.deepcopy(self.client_app(copy.deepcopy(msg), self.contexts[msg.metadata.dst_node_id]))
        except Exception as err:  # noqa: BLE001 - a failing site becomes an error reply, as under a SuperNode
            reply = Message(Error(code=CLIENT_APP_ERROR, reason=f"{type(err).__name__}: {err}"), reply_to=msg)
        reply.metadata.__dict__["_message_id"] = str(uuid4())
        return reply

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        out = [self._replies.pop(i) for i in message_ids if i in self._replies]
        if self.on_message:
            for reply in out:
                self.on_message("to-hub", reply)
        return out

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        """Deliver every message; a site whose ClientApp took longer than ``timeout`` is late and its reply lost.

        Sites work one after another here, so each one's own time stands for the time it would
        have taken in parallel.
        """
        ids = list(self.push_messages(messages))
        late = {i for i in ids if timeout is not None and self._took.pop(i, 0.0) > timeout}
        for i in late:
            self._replies.pop(i, None)
        return self.pull_messages([i for i in ids if i not in late])


def run_inprocess(server_app: ServerApp | Callable[[Grid, Context], None], client_app: ClientApp,
                  node_configs: list[dict], run_config: dict, *, run_id: int = 1, on_message: MessageHook | None = None,
                  node_ids: list[int] | None = None) -> Context:
    """Run ``server_app`` against one ClientApp node per entry of ``node_configs``; return the server context."""
    grid = InProcessGrid(client_app, node_configs, run_id=run_id, on_message=on_message, node_ids=node_ids)
    context = Context(run_id=run_id, node_id=0, node_config={}, state=RecordDict(), run_config=dict(run_config))
    # Messages take their sender from the process's task identity, as in Flower's own simulation.
    saved = (TaskIdentity._task_id, TaskIdentity._run_id, TaskIdentity._node_id)
    TaskIdentity.task_id, TaskIdentity.run_id, TaskIdentity.node_id = 1, run_id, SUPERLINK_NODE_ID
    try:
        server_app(grid, context)
    finally:
        TaskIdentity._task_id, TaskIdentity._run_id, TaskIdentity._node_id = saved
    return context
