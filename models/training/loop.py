"""The optimisation loop shared by multicenter training and few-shot fine-tuning.

Dice + cross-entropy (seed 000, eq. 5) plus the MoE load-balancing loss, AdamW, random
patches around foreground and background (MONAI), periodic validation by sliding window,
and the best validation state kept.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from monai.losses import DiceCELoss
from monai.utils import set_determinism
from torch import Tensor

from models.config import PreprocessingContract
from models.data.preprocessing import training_patch_transforms
from models.evaluation.metrics import dice
from models.networks.mome_ro import MomeRoNet
from models.text import prepare_note
from models.training.augment import PatchAugmenter
from models.training.inference import predict_logits, to_mask
from models.training.samples import Sample, plain_tensor


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings; defaults suit CPU-sized configs."""

    steps: int = 200
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 2
    aux_weight: float = 0.01
    val_every: int = 25
    seed: int = 0
    augment: bool = True
    """MONAI spatial + intensity augmentation of every training patch (models/training/augment.py)."""

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "val_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")


@dataclass
class TrainHistory:
    """What happened: per-step loss, validation Dice per check, and the best step."""

    losses: list[float] = field(default_factory=list)
    val_dice: list[tuple[int, float]] = field(default_factory=list)
    best_step: int = 0
    best_val_dice: float | None = None


StepCallback = Callable[[int, float, float | None], None]


def seed_everything(seed: int) -> None:
    set_determinism(seed=seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def embed_notes(
    model: MomeRoNet, encoder, notes: Sequence[str], centers: Sequence[str], device: str = "cpu"
) -> tuple[Tensor | None, Tensor | None]:
    """Embeddings of ``notes`` (one per sample, read as ``centers``) on ``device``, as the model's method sees them."""
    if not model.uses_text:
        return None, None
    prepared = [prepare_note(n, center=c, method=model.method) for n, c in zip(notes, centers, strict=True)]
    text, mask = encoder.encode(prepared)
    return text.to(device), mask.to(device)


def text_for(
    model: MomeRoNet, encoder, samples: Sequence[Sample], device: str = "cpu"
) -> tuple[Tensor | None, Tensor | None]:
    """Note embeddings for a batch on ``device``, as the model's method sees the notes."""
    return embed_notes(model, encoder, [s.note for s in samples], [s.center for s in samples], device)


@torch.no_grad()
def validate(model: MomeRoNet, encoder, samples: Sequence[Sample], contract: PreprocessingContract,
             device: str) -> float:
    """Mean Dice over ``samples`` by sliding-window inference."""
    model.eval()
    scores = []
    for s in samples:
        text, mask = text_for(model, encoder, [s], device)
        logits = predict_logits(model, s.image[None].to(device), text, mask, s.center, contract.patch_size)
        scores.append(dice(to_mask(logits).cpu().numpy(), s.label[0].numpy()))
    return float(np.mean(scores))


def run_training(
    model: MomeRoNet, encoder, train: Sequence[Sample], val: Sequence[Sample], contract: PreprocessingContract,
    settings: TrainSettings, *, params: list[torch.nn.Parameter] | None = None, device: str = "cpu",
    on_step: StepCallback | None = None, optimizer: torch.optim.Optimizer | None = None, start_step: int = 0,
    on_checkpoint: Callable[[int, torch.optim.Optimizer], None] | None = None,
) -> TrainHistory:
    """Train ``params`` (default: all trainable) and restore the best validation state."""
    if not train:
        raise ValueError("no training cases")
    seed_everything(settings.seed + start_step)
    params = [p for p in (params or model.parameters()) if p.requires_grad]
    opt = optimizer or torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True, lambda_dice=1.0, lambda_ce=1.0)
    crop = training_patch_transforms(contract)
    crop.set_random_state(seed=settings.seed + start_step)
    augment = PatchAugmenter(seed=settings.seed + start_step) if settings.augment else None
    rng = random.Random(settings.seed + start_step)
    history = TrainHistory()
    best_state = None
    for step in range(start_step + 1, settings.steps + 1):
        model.train()
        batch = [rng.choice(train) for _ in range(settings.batch_size)]
        patches = [crop({"image": s.image, "label": s.label})[0] for s in batch]
        pairs = [(plain_tensor(p["image"]), plain_tensor(p["label"])) for p in patches]
        if augment is not None:
            pairs = [augment(image, label) for image, label in pairs]
        images = torch.stack([image for image, _ in pairs]).to(device)
        labels = torch.stack([label for _, label in pairs]).to(device)
        text, mask = text_for(model, encoder, batch, device)
        logits, aux = model.forward_with_aux(images, text, mask, [s.center for s in batch])
        loss = loss_fn(logits, labels) + settings.aux_weight * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.losses.append(float(loss.item()))
        val_dice = None
        if val and (step % settings.val_every == 0 or step == settings.steps):
            val_dice = validate(model, encoder, val, contract, device)
            history.val_dice.append((step, val_dice))
            if history.best_val_dice is None or val_dice > history.best_val_dice:
                history.best_val_dice, history.best_step = val_dice, step
                best_state = copy.deepcopy(model.state_dict())
        if on_step:
            on_step(step, history.losses[-1], val_dice)
        if on_checkpoint and step % settings.val_every == 0 and step < settings.steps:
            on_checkpoint(step, opt)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history

