"""The site's Flower ClientApp (``app``), run under a SuperNode that ``site-agent federate`` starts.

Each round: load the local model, put the received experts in, fine-tune on a few local cases
(encoder frozen, the site's own router kept local in the run's context state), and reply with
ONLY the experts tensors, the number of training cases and metrics. ``experts_only_mod`` checks
every incoming and outgoing ArrayRecord; ``dp_clipping_mod`` clips the update when the server
asked for client-side differential privacy.
"""

from __future__ import annotations

import functools
import importlib.util
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from federation.wire import ARRAYS, CONFIG, METRICS, SITE, WEIGHT_KEY, check_experts_only, is_expert
from models.data.dataset import load_dataset
from models.registry import note_encoder
from models.training.finetune import freeze_for_finetuning
from models.training.loop import TrainSettings, run_training
from models.training.samples import Sample, load_samples
from models.training.shots import choose_shots
from models.weights import load_model_dir

if TYPE_CHECKING:  # flwr is imported when the ClientApp is first used, so other commands work without it
    from flwr.app import Context, Message
    from flwr.clientapp import ClientApp
    from flwr.clientapp.typing import ClientAppCallable

LOCAL_STATE = "local-state"  # ArrayRecord in the node's context state: router & co, never sent
FILTER_ERROR = 601  # Error code of a reply the outbound filter refused to send


def experts_only_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Inbound and outbound filter: any non-expert tensor turns the reply into an error, never into data."""
    from flwr.app import Error, Message

    try:
        for record in msg.content.array_records.values():
            check_experts_only(record.keys(), where="incoming server message")
        out = call_next(msg, ctxt)
        if out.has_content():
            for record in out.content.array_records.values():
                check_experts_only(record.keys(), where="outgoing reply")
                if not all(np.isfinite(record[k].numpy()).all() for k in record):
                    raise ValueError("outgoing reply: experts tensors are not all finite")
        return out
    except ValueError as err:
        return Message(Error(code=FILTER_ERROR, reason=str(err)), reply_to=msg)


def dp_clipping_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Flower's ``fixedclipping_mod`` when the server sent a clipping norm (DP on), else a no-op."""
    from flwr.clientapp.mod import fixedclipping_mod
    from flwr.supercore.differential_privacy import KEY_CLIPPING_NORM

    if KEY_CLIPPING_NORM in msg.content.config_records.get(CONFIG, {}):
        return fixedclipping_mod(msg, ctxt, call_next)
    return call_next(msg, ctxt)


def secagg_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Flower's ``secaggplus_mod`` when the server runs SecAgg+ (its stage config is present), else a no-op."""
    from flwr.client.mod import secaggplus_mod
    from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS

    if RECORD_KEY_CONFIGS in msg.content.config_records:
        return secaggplus_mod(msg, ctxt, call_next)
    return call_next(msg, ctxt)


def legacy_bridge_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Turn SecAgg+'s legacy ``fitins`` (an unnamed list of arrays) into our named experts and back again.

    The server names the list in the fit config (``expert-names``), so the experts-only filter and
    ``train`` inside see exactly what they see without SecAgg+.
    """
    import json

    import flwr.compat.common.recorddict_compat as compat
    from flwr.app import Array, ArrayRecord, ConfigRecord, RecordDict
    from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays

    from federation.secagg import CENTER, EXPERT_NAMES

    if "fitins.parameters" not in msg.content.array_records:
        return call_next(msg, ctxt)
    fitins = compat.recorddict_to_fitins(msg.content, keep_input=True)
    names = json.loads(str(fitins.config[EXPERT_NAMES]))
    arrays = parameters_to_ndarrays(fitins.parameters)
    if len(names) != len(arrays):
        raise ValueError(f"the server named {len(names)} experts tensors but sent {len(arrays)}")
    msg.content = RecordDict({ARRAYS: ArrayRecord({n: Array(a) for n, a in zip(names, arrays, strict=True)}),
                              CONFIG: ConfigRecord({k: v for k, v in fitins.config.items() if k != EXPERT_NAMES})})
    out = call_next(msg, ctxt)
    if not out.has_content():
        return out
    experts, metrics = out.content[ARRAYS], out.content[METRICS]
    fitres = FitRes(Status(Code.OK, "ok"), ndarrays_to_parameters([experts[n].numpy() for n in names]),
                    int(metrics[WEIGHT_KEY]), {CENTER: str(out.content[SITE]["center"]),
                                              **{k: float(v) for k, v in metrics.items() if k != WEIGHT_KEY}})
    out.content = compat.fitres_to_recorddict(fitres, keep_input=True)
    return out


@functools.cache
def client_app() -> ClientApp:
    """The ClientApp: ``train`` behind SecAgg+ (when asked), the experts-only filter and the optional DP clipping."""
    from flwr.clientapp import ClientApp

    built = ClientApp(mods=[secagg_mod, legacy_bridge_mod, experts_only_mod, dp_clipping_mod])
    built.train()(train)
    return built


class ProximalAdamW(torch.optim.AdamW):
    """AdamW on ``loss + mu/2 * ||w - w_global||^2`` for the experts (FedProx's local objective)."""

    def __init__(self, params: list[torch.nn.Parameter], anchors: dict[int, torch.Tensor], mu: float,
                 lr: float) -> None:
        super().__init__(params, lr=lr, weight_decay=1e-4)
        self.anchors, self.mu = anchors, mu

    def step(self, closure=None):  # type: ignore[override]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None and id(p) in self.anchors:
                    p.grad.add_(p.detach() - self.anchors[id(p)], alpha=self.mu)
        return super().step(closure)


@functools.lru_cache(maxsize=4)
def _site_samples(data_dir: str, center: str, shots: int, seed: int,
                  model_dir: str) -> tuple[list[Sample], list[Sample]]:
    """The site's few training cases and one validation case, preprocessed once per process."""
    _, spec, _ = load_model_dir(Path(model_dir))
    labelled = [c for c in load_dataset(data_dir).cases if c.label is not None]
    chosen, val, _ = choose_shots(labelled, min(shots, len(labelled)), seed=seed)
    return (load_samples(chosen, spec.contract, center=center),
            load_samples([val], spec.contract, center=center) if val else [])


def train(msg: Message, context: Context) -> Message:
    """One federated round at this site."""
    from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict

    started = time.perf_counter()
    node = context.node_config
    center, model_dir = str(node["center"]), str(node["model-dir"])
    shots, seed = int(node.get("shots", 3)), int(node.get("seed", 0))
    config = msg.content[CONFIG]
    model, spec, _ = load_model_dir(Path(model_dir))
    if center not in model.routers:
        model.add_center(center, init_from=model.routers[0])
    state = model.state_dict()
    if LOCAL_STATE in context.state.array_records:
        state.update(context.state[LOCAL_STATE].to_torch_state_dict())
    incoming = msg.content[ARRAYS].to_torch_state_dict()
    if set(incoming) != {n for n in state if is_expert(n)}:
        raise ValueError("the server's experts do not match this site's model")
    model.load_state_dict({**state, **incoming})
    train_set, val_set = _site_samples(str(node["data-dir"]), center, shots, seed, model_dir)
    freeze_for_finetuning(model, center)
    steps, lr, mu = int(config["local-steps"]), float(config["lr"]), float(config.get("proximal-mu", 0.0))
    params = [p for p in model.parameters() if p.requires_grad]
    anchors = {id(p): p.detach().clone() for n, p in model.named_parameters() if is_expert(n)}
    opt = ProximalAdamW(params, anchors, mu, lr) if mu > 0 else None
    settings = TrainSettings(steps=steps, lr=lr, val_every=steps, seed=seed + int(config.get("server-round", 0)))
    history = run_training(model, note_encoder(spec), train_set, val_set,
                           spec.contract, settings, optimizer=opt)
    after = model.state_dict()
    context.state[LOCAL_STATE] = ArrayRecord({k: v for k, v in after.items() if not is_expert(k)})
    experts = ArrayRecord({k: after[k] for k in msg.content[ARRAYS]})  # same keys, same order
    metrics = MetricRecord({WEIGHT_KEY: len(train_set), "train-loss": float(np.mean(history.losses)),
                            "val-dice": float(history.best_val_dice if history.best_val_dice is not None else -1.0),
                            "seconds": time.perf_counter() - started})
    return Message(RecordDict({ARRAYS: experts, METRICS: metrics, SITE: ConfigRecord({"center": center})}),
                   reply_to=msg)


# ``federation.client_app:app`` is what a SuperNode loads; None where flwr is not installed (other commands work).
app = client_app() if importlib.util.find_spec("flwr") else None
