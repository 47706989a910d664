"""Secure aggregation of the experts with Flower's SecAgg+ (its legacy-strategy workflow).

Each site masks its quantised, sample-weighted experts with pairwise and private masks; the
server only ever unmasks the SUM, so it never sees one site's update in clear. Flower 1.41 runs
SecAgg+ through ``DefaultWorkflow(fit_workflow=SecAggPlusWorkflow(...))`` with a legacy strategy
and legacy ``fitins``/``fitres`` messages; this module adapts our experts-only rules to that path:
parameters travel as a list in the order of ``expert-names`` (sent in the fit config), sampling
is limited to bound nodes, and a round whose replies do not all come from the centers their
nodes are bound to is not aggregated (a secure sum cannot drop one contribution afterwards).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from flwr.app import Array, ArrayRecord, Context, Message, RecordDict
from flwr.serverapp import Grid

from federation.settings import FederationSettings
from federation.strategy import RoundReport, check_binding
from federation.wire import WEIGHT_KEY, check_experts_only

EXPERT_NAMES = "expert-names"  # fit-config key: JSON list naming the legacy parameter list, in order
CENTER = "center"  # fit-result metrics key: the center a site speaks for
SECAGG_CLIPPING_RANGE = 8.0  # experts weights are far inside [-8, 8]; values outside would be clipped
SECAGG_MAX_WEIGHT = 32.0  # most training cases one site may weigh in with (sites fine-tune on a few shots)
SECAGG_QUANTIZATION = 2**24  # levels over the clipping range: ~1e-6 resolution; n * 2**24 stays below 2**32


def payload_bytes(msg: Message) -> int:
    """Bytes of a message's tensors and of the byte strings in its configs (where SecAgg+ puts masked vectors)."""
    if not msg.has_content():
        return 0
    total = sum(r.count_bytes() for r in msg.content.array_records.values())
    for record in msg.content.config_records.values():
        for value in record.values():
            items = value if isinstance(value, list) else [value]
            total += sum(len(v) for v in items if isinstance(v, bytes))
    return total


class CountingGrid:
    """A view of a Grid that adds every message's payload bytes to the report of the running round."""

    def __init__(self, grid: Grid) -> None:
        self._grid = grid
        self.report: RoundReport | None = None

    def send_and_receive(self, messages, *, timeout: float | None = None):  # noqa: ANN001, ANN201
        messages = list(messages)
        replies = list(self._grid.send_and_receive(messages, timeout=timeout))
        if self.report is not None:
            self.report.bytes_to_sites += sum(payload_bytes(m) for m in messages)
            self.report.bytes_to_hub += sum(payload_bytes(m) for m in replies)
        return replies

    def __getattr__(self, name: str) -> object:
        return getattr(self._grid, name)


def _legacy_strategy(settings: FederationSettings, names: list[str], initial: ArrayRecord,
                     bindings: dict[int, str] | None, grid: CountingGrid, reports: list[RoundReport],
                     on_round: Callable[[RoundReport], None] | None):  # noqa: ANN202
    """A legacy FedAvg that samples bound nodes only, names the experts in its config and reports each round."""
    from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays
    from flwr.server.strategy import FedAvg as LegacyFedAvg

    dtypes = [initial[n].numpy().dtype for n in names]

    class ExpertsSecAgg(LegacyFedAvg):
        def configure_fit(self, server_round, parameters, client_manager):  # noqa: ANN001, ANN202
            pairs = super().configure_fit(server_round, parameters, client_manager)
            if bindings is not None:
                pairs = [(proxy, ins) for proxy, ins in pairs if proxy.node_id in bindings]
            report = RoundReport(round=server_round, sampled=[proxy.node_id for proxy, _ in pairs])
            reports.append(report)
            grid.report = report
            self._started = time.perf_counter()
            return pairs

        def aggregate_fit(self, server_round, results, failures):  # noqa: ANN001, ANN202
            report = reports[-1]
            refused = False
            for proxy, fitres in results:
                center = str(fitres.metrics.get(CENTER, ""))
                try:
                    check_binding(bindings, proxy.node_id, center)
                except ValueError as err:
                    refused = True
                    report.failures.append({"node": str(proxy.node_id), "reason": f"refused: {err}",
                                            **({"center": bindings[proxy.node_id]} if bindings and
                                               proxy.node_id in bindings else {})})
                    continue
                report.sites[center] = {WEIGHT_KEY: float(fitres.num_examples),
                                        **{k: float(v) for k, v in fitres.metrics.items()
                                           if isinstance(v, int | float) and k != CENTER}}
            answered = {proxy.node_id for proxy, _ in results}
            for node in report.sampled:
                if node not in answered:
                    report.failures.append({"node": str(node), "reason": "no reply within the round (SecAgg+ "
                                                                         "recovered its masks)"})
            result = None, {}
            if refused:
                report.failures.append({"node": "-", "reason": "a node spoke for a center it is not bound to: the "
                                                               "secure sum cannot drop it, experts kept"})
            elif len(results) >= settings.min_sites:
                parameters, metrics = super().aggregate_fit(server_round, results, failures)
                if parameters is not None:  # SecAgg+ dequantises to float64: back to the experts' own dtypes
                    arrays = parameters_to_ndarrays(parameters)
                    parameters = ndarrays_to_parameters([a.astype(dtypes[i]) for i, a in enumerate(arrays)])
                result = parameters, metrics
                report.aggregated = parameters is not None
            else:
                report.failures.append({"node": "-", "reason": f"only {len(results)} usable replies, fewer than "
                                                               f"min_sites={settings.min_sites}: experts kept"})
            report.seconds = time.perf_counter() - self._started
            grid.report = None
            if on_round:
                on_round(report)
            return result

    def fit_config(server_round: int) -> dict:
        return {"local-steps": settings.local_steps, "lr": settings.lr, "server-round": server_round,
                EXPERT_NAMES: json.dumps(names)}

    return ExpertsSecAgg(fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=settings.min_sites,
                         min_evaluate_clients=0, min_available_clients=settings.min_sites,
                         initial_parameters=ndarrays_to_parameters([initial[n].numpy() for n in names]),
                         on_fit_config_fn=fit_config)


def run_secagg_rounds(grid: Grid, settings: FederationSettings, initial: ArrayRecord, *,
                      bindings: dict[int, str] | None,
                      on_round: Callable[[RoundReport], None] | None = None) -> tuple[ArrayRecord, list[RoundReport]]:
    """``settings.rounds`` SecAgg+ rounds over the experts; return the final experts and the round reports."""
    import flwr.compat.common.recorddict_compat as compat
    from flwr.common import parameters_to_ndarrays
    from flwr.server import LegacyContext, ServerConfig
    from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
    from flwr.server.workflow.constant import MAIN_PARAMS_RECORD

    names = list(initial.keys())
    check_experts_only(names, where="outgoing server message")
    counting = CountingGrid(grid)
    reports: list[RoundReport] = []
    strategy = _legacy_strategy(settings, names, initial, bindings, counting, reports, on_round)
    context = LegacyContext(context=Context(run_id=0, node_id=0, node_config={}, state=RecordDict(), run_config={}),
                            config=ServerConfig(num_rounds=settings.rounds, round_timeout=settings.round_timeout),
                            strategy=strategy)
    workflow = SecAggPlusWorkflow(num_shares=1.0, reconstruction_threshold=0.5 if settings.min_sites > 2 else 1.0,
                                  max_weight=SECAGG_MAX_WEIGHT, clipping_range=SECAGG_CLIPPING_RANGE,
                                  quantization_range=SECAGG_QUANTIZATION,
                                  timeout=settings.round_timeout)
    DefaultWorkflow(fit_workflow=workflow)(counting, context)
    arrays = parameters_to_ndarrays(compat.arrayrecord_to_parameters(context.state.array_records[MAIN_PARAMS_RECORD],
                                                                     keep_input=True))
    final = ArrayRecord({n: Array(a.astype(initial[n].numpy().dtype)) for n, a in zip(names, arrays, strict=True)})
    return final, reports

