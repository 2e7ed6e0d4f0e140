"""The engine: K perturbed copies of one model trained together, one batched step at a time.

Replica 0 is the unperturbed reference; replicas 1..K-1 start from the reference plus a perturbation of
relative size ``perturbation`` in every parameter tensor. Parameters of all replicas are stacked with
``torch.func.stack_module_state``; one training step evaluates the K losses through
``torch.func.functional_call`` under ``torch.func.vmap`` and takes all K gradients with one reverse pass
of their sum (the replicas share no parameters, so the gradient of the sum with respect to replica k is
replica k's gradient) (mode ``"vmap"``); mode ``"loop"`` computes each replica's ``grad_and_value`` in
turn, the same mathematics replica by replica. Train-mode BatchNorm works in both: running statistics are stacked
buffers updated per replica.

The update is SGD with heavy-ball momentum in PyTorch's convention (Sutskever et al. 2013 form)::

    d = g + weight_decay * θ;   v ← momentum * v + d;   θ ← θ − lr * v

A replica whose loss or gradient is not finite, or whose parameter norm exceeds ``blowup_factor`` times
its initial norm, is flagged as diverged: it stops updating and its records become NaN from that step.

Trajectories are streamed: per recorded step the minibatch loss, the parameter norm, the distance to
the reference replica, the spread of the healthy replicas about their centroid and a fixed random
projection (sketch) of the parameters; memory is O(K·P + K·T·d) instead of O(K·T·P). Full parameter
vectors are kept only at the steps asked for (``checkpoint_every``).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap
from torch.nn import functional as F

from uniq_core import runtime
from uniq_core.data import Dataset
from uniq_core.schema import ResultBase, check_choice, check_number

MODES = ("auto", "vmap", "loop")


# ------------------------------------------------------------------------------------------ primitives


def perturb_(parameters: dict[str, torch.Tensor], scale: float, generator: torch.Generator) -> None:
    """Add, in place, to each tensor ``W`` a random direction of norm ``scale * ||W||``.

    The direction is ``u / ||u||`` with ``u`` standard normal (drawn on the CPU from ``generator``,
    so the perturbation does not depend on the device). Tensors of norm zero are left unchanged.
    """
    for tensor in parameters.values():
        direction = torch.randn(tensor.shape, generator=generator, dtype=torch.float64)
        direction = direction / direction.norm().clamp_min(1e-300)
        tensor.add_((scale * tensor.detach().double().norm().cpu() * direction).to(tensor))


def make_batch_plan(
    n_samples: int, batch_size: int, n_steps: int, *, seed: int, n_orders: int = 1
) -> torch.Tensor:
    """Minibatch indices of shape ``(n_orders, n_steps, batch_size)``.

    Order ``j`` reshuffles the data every epoch with a generator seeded ``seed + 7919 * j`` and cuts
    each permutation into ``n_samples // batch_size`` full batches (an incomplete last batch is dropped).
    """
    check_number("batch_size", batch_size, low=1, high=n_samples, integer=True)
    per_epoch = n_samples // batch_size
    n_epochs = -(-n_steps // per_epoch)
    plans = []
    for order in range(n_orders):
        generator = torch.Generator().manual_seed(seed + 7919 * order)
        epochs = [torch.randperm(n_samples, generator=generator)[: per_epoch * batch_size] for _ in range(n_epochs)]
        plans.append(torch.cat(epochs).reshape(-1, batch_size)[:n_steps])
    return torch.stack(plans)


def steps_for_epochs(n_samples: int, batch_size: int, epochs: float) -> int:
    """Number of optimiser steps in ``epochs`` passes over ``n_samples`` with full batches of ``batch_size``."""
    return max(1, int(round(epochs * (n_samples // batch_size))))


# --------------------------------------------------------------------------------------------- result


@dataclass
class ReplicaRun(ResultBase):
    """Streamed record of K replicas (replica 0 = reference) over T recorded steps.

    Arrays: ``steps`` (T,); ``loss``, ``parameter_norm``, ``distance`` (K, T), where ``distance`` is the
    Euclidean distance in parameter space to replica 0; ``spread`` (T,), the root-mean-square distance
    of the healthy replicas from their centroid; ``sketch`` (K, T, d), a fixed Gaussian random
    projection of the flattened parameters (scaled by 1/sqrt(d)); ``checkpoint_steps`` (C,) and
    ``checkpoints`` (C, K, P), full parameters at every ``checkpoint_every`` steps (C = 0 when off); ``diverged`` (K,) and ``diverged_at``
    (K,, -1 when never); final ``train_loss``, ``train_accuracy``, ``test_accuracy`` (K,), NaN for diverged
    replicas; ``final_parameters`` (K, P), for a diverged replica its last state (possibly non-finite).
    Record entries after a replica diverged are NaN.
    """

    steps: np.ndarray
    loss: np.ndarray
    parameter_norm: np.ndarray
    distance: np.ndarray
    spread: np.ndarray
    sketch: np.ndarray
    checkpoint_steps: np.ndarray
    checkpoints: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    final_parameters: np.ndarray
    mode: str
    wall_time: float

    @property
    def n_replicas(self) -> int:
        return int(self.loss.shape[0])

    @property
    def healthy(self) -> np.ndarray:
        """Boolean mask of replicas that never diverged."""
        return ~self.diverged.astype(bool)


# --------------------------------------------------------------------------------------------- engine


def _stack(model: nn.Module, n_replicas: int, perturbation: float, seed: int):
    generator = torch.Generator().manual_seed(seed)
    copies = []
    for replica in range(n_replicas):
        duplicate = copy.deepcopy(model)
        if replica > 0 and perturbation > 0:
            with torch.no_grad():
                perturb_(dict(duplicate.named_parameters()), perturbation, generator)
        copies.append(duplicate)
    parameters, buffers = stack_module_state(copies)
    parameters = {name: tensor.detach().clone() for name, tensor in parameters.items()}
    buffers = {name: tensor.detach().clone() for name, tensor in buffers.items()}
    return parameters, buffers


def _flatten(parameters: dict[str, torch.Tensor], n_replicas: int) -> torch.Tensor:
    return torch.cat([tensor.reshape(n_replicas, -1) for tensor in parameters.values()], dim=1)


def _evaluate(stateless: nn.Module, parameters, buffers, x, y, chunk: int = 4096):
    """Mean cross-entropy and accuracy of every replica on (x, y), in eval mode."""
    stateless.eval()

    def logits(p, b, inputs):
        return functional_call(stateless, (p, b), (inputs,))

    batched = vmap(logits, in_dims=(0, 0, None))
    losses, correct = [], []
    with torch.no_grad():
        for start in range(0, x.shape[0], chunk):
            out = batched(parameters, buffers, x[start : start + chunk])  # (K, n, C)
            target = y[start : start + chunk].expand(out.shape[0], -1)
            losses.append(F.cross_entropy(out.transpose(1, 2), target, reduction="none").sum(1))
            correct.append((out.argmax(-1) == target).sum(1))
    stateless.train()
    n = x.shape[0]
    return (torch.stack(losses).sum(0) / n), (torch.stack(correct).sum(0).double() / n)


def train_replicas(
    model: nn.Module,
    data: Dataset,
    *,
    n_replicas: int,
    perturbation: float,
    lr: float,
    n_steps: int,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    batch_size: int = 64,
    independent_order: bool = False,
    seed: int = 0,
    record_every: int = 1,
    sketch_dim: int = 16,
    blowup_factor: float = 1e3,
    checkpoint_every: int = 0,
    mode: str = "auto",
    device: str | torch.device | None = None,
    progress: bool = False,
    callback: Callable[[int, dict[str, torch.Tensor]], None] | None = None,
) -> ReplicaRun:
    """Train ``n_replicas`` copies of ``model`` on ``data`` with minibatch SGD (+ momentum), batched.

    Parameters
    ----------
    model : the reference network (copied, never modified); its dtype sets the training dtype.
    data : training and test tensors (moved to ``device``).
    n_replicas : K ≥ 1 copies; copy 0 is the unperturbed reference.
    perturbation : relative size of the initial perturbation of copies 1..K-1 (see :func:`perturb_`).
    lr, momentum, weight_decay : SGD hyper-parameters (PyTorch's convention, see the module docstring).
    n_steps : number of optimiser steps; batches follow :func:`make_batch_plan`.
    independent_order : give each replica its own data order (SGD noise) instead of a shared one.
    record_every : record the streamed quantities every this many steps (step 0 is always recorded).
    sketch_dim : dimension d of the random projection.
    blowup_factor : a replica whose parameter norm exceeds this multiple of its initial norm diverged.
    checkpoint_every : keep full parameter vectors every this many steps (and at steps 0 and n_steps);
        0 keeps none. Memory: K·P floats per checkpoint.
    mode : ``vmap`` (batched), ``loop`` (replica by replica, same arithmetic) or ``auto`` (= vmap).
    callback : called as ``callback(step, parameters)`` after every step with the stacked parameters.
    """
    check_number("n_replicas", n_replicas, low=1, high=4096, integer=True)
    check_number("perturbation", perturbation, low=0.0, high=10.0)
    check_number("lr", lr, low=0.0, high=1e3, low_inclusive=False)
    check_number("n_steps", n_steps, low=1, integer=True)
    check_number("momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
    check_number("weight_decay", weight_decay, low=0.0)
    check_number("record_every", record_every, low=1, integer=True)
    check_number("sketch_dim", sketch_dim, low=1, high=1024, integer=True)
    check_number("blowup_factor", blowup_factor, low=1.0, low_inclusive=False)
    check_number("checkpoint_every", checkpoint_every, low=0, integer=True)
    check_choice("mode", mode, MODES)
    target = runtime.device(device)
    dtype = next(model.parameters()).dtype
    started = time.perf_counter()

    stateless = copy.deepcopy(model).to(device=target).train()
    parameters, buffers = _stack(copy.deepcopy(model).to(target), n_replicas, perturbation, seed)
    names = list(parameters)
    leaves = [parameters[name].requires_grad_() for name in names]
    K = n_replicas

    x_train = data.x_train.to(device=target, dtype=dtype)
    y_train = data.y_train.to(target)
    n_orders = K if independent_order else 1
    plan = make_batch_plan(x_train.shape[0], batch_size, n_steps, seed=seed, n_orders=n_orders).to(target)

    def loss_of(p, b, inputs, labels):
        # cross-entropy as log-softmax + gather: the same arithmetic as F.cross_entropy, without the
        # ignore_index bookkeeping that is costly under vmap
        log_probabilities = torch.log_softmax(functional_call(stateless, (p, b), (inputs,)), dim=-1)
        return -log_probabilities.gather(-1, labels.unsqueeze(-1)).mean()

    gradient = grad_and_value(loss_of)
    data_dim = 0 if independent_order else None
    batched_loss = vmap(loss_of, in_dims=(0, 0, data_dim, data_dim), randomness="different")

    def gradients(inputs, labels):
        if mode in ("auto", "vmap"):
            with torch.enable_grad():
                losses = batched_loss(parameters, buffers, inputs, labels)
                grads = torch.autograd.grad(losses.sum(), leaves)
            return dict(zip(names, grads)), losses.detach()
        results = []
        for k in range(K):
            p = {name: tensor[k].detach() for name, tensor in parameters.items()}
            b = {name: tensor[k] for name, tensor in buffers.items()}
            xs = inputs[k] if independent_order else inputs
            ys = labels[k] if independent_order else labels
            results.append(gradient(p, b, xs, ys))
        grads = {name: torch.stack([g[name] for g, _ in results]) for name in names}
        return grads, torch.stack([value for _, value in results])

    projection = torch.randn(
        sum(t[0].numel() for t in parameters.values()),
        sketch_dim,
        generator=torch.Generator().manual_seed(seed + 104729),
        dtype=torch.float64,
    ).to(device=target, dtype=dtype) / sketch_dim**0.5
    velocity = [torch.zeros_like(parameters[name]) for name in names]
    active = torch.ones(K, dtype=torch.bool, device=target)
    diverged_at = torch.full((K,), -1, dtype=torch.long, device=target)

    def squared_norms() -> torch.Tensor:
        return sum(tensor.reshape(K, -1).pow(2).sum(1) for tensor in parameters.values())  # type: ignore[return-value]

    with torch.no_grad():  # updates and records build no graph; gradients() enables it itself
        initial_norm = squared_norms().sqrt()
        recorded_steps = list(range(0, n_steps + 1, record_every))
        if recorded_steps[-1] != n_steps:
            recorded_steps.append(n_steps)
        T = len(recorded_steps)
        records = {
            "loss": torch.full((K, T), float("nan"), dtype=torch.float64),
            "parameter_norm": torch.full((K, T), float("nan"), dtype=torch.float64),
            "distance": torch.full((K, T), float("nan"), dtype=torch.float64),
            "spread": torch.full((T,), float("nan"), dtype=torch.float64),
            "sketch": torch.full((K, T, sketch_dim), float("nan"), dtype=torch.float64),
        }

        def record(column: int, losses: torch.Tensor) -> None:
            flat = _flatten(parameters, K)
            alive = active.cpu()
            values = {
                "loss": losses.detach().double().cpu(),
                "parameter_norm": flat.norm(dim=1).double().cpu(),
                "distance": (flat - flat[0]).norm(dim=1).double().cpu(),
            }
            if not alive[0]:  # the reference itself diverged: distances to it are undefined
                values["distance"][:] = float("nan")
            for key, value in values.items():
                records[key][alive, column] = value[alive]
            records["sketch"][alive, column] = (flat @ projection).double().cpu()[alive]
            healthy = flat[active]
            if healthy.shape[0] >= 2:
                centred = healthy - healthy.mean(dim=0)
                records["spread"][column] = centred.pow(2).sum(1).mean().sqrt().double().cpu()

        checkpoint_steps: list[int] = []
        checkpoints: list[np.ndarray] = []

        def checkpoint(step: int) -> None:
            if checkpoint_every and (step % checkpoint_every == 0 or step == n_steps):
                checkpoint_steps.append(step)
                checkpoints.append(_flatten(parameters, K).detach().double().cpu().numpy())

        # Step 0: the loss of the starting point on the first batch, without an update.
        first_x = x_train[plan[:, 0]] if independent_order else x_train[plan[0, 0]]
        first_y = y_train[plan[:, 0]] if independent_order else y_train[plan[0, 0]]
        with torch.no_grad():
            saved = {name: tensor.clone() for name, tensor in buffers.items()}
            _, first_loss = gradients(first_x, first_y)
            for name, tensor in saved.items():  # the probe must not move BatchNorm statistics
                buffers[name].copy_(tensor)
        record(0, first_loss)
        checkpoint(0)
        column = 1

        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n_steps, desc=f"training {K} replicas", unit="step", leave=False)
        for step in range(n_steps):
            index = plan[:, step] if independent_order else plan[0, step]
            grads, losses = gradients(x_train[index], y_train[index])
            gradient_list = [grads[name] for name in names]
            if weight_decay:
                torch._foreach_add_(gradient_list, [parameters[name] for name in names], alpha=weight_decay)
            if momentum:
                torch._foreach_mul_(velocity, momentum)
                torch._foreach_add_(velocity, gradient_list)
                update = velocity
            else:
                update = gradient_list
            # No host synchronisation per step: stopped replicas get a zero update (the others the same
            # arithmetic), and a non-finite loss, or a non-finite or blown-up norm after the update (which
            # catches non-finite gradients), stops a replica.
            finite = torch.isfinite(losses)
            stopped = active & ~finite
            active = active & finite
            update = [
                torch.where(active.reshape(K, *([1] * (delta.dim() - 1))), delta, torch.zeros_like(delta))
                for delta in update
            ]
            torch._foreach_add_([parameters[name] for name in names], update, alpha=-lr)
            blown = active & ~(squared_norms().sqrt() <= blowup_factor * initial_norm)
            stopped = stopped | blown
            active = active & ~blown
            diverged_at = torch.where(stopped, step + 1, diverged_at)
            if callback is not None:
                callback(step + 1, parameters)
            checkpoint(step + 1)
            if column < T and recorded_steps[column] == step + 1:
                record(column, losses)
                column += 1
                if bar is not None:
                    bar.set_postfix(loss=f"{float(losses[active].mean()) if active.any() else float('nan'):.3g}")
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()

    train_loss, train_accuracy = _evaluate(stateless, parameters, buffers, x_train, y_train)
    test_loss, test_accuracy = _evaluate(
        stateless, parameters, buffers, data.x_test.to(device=target, dtype=dtype), data.y_test.to(target)
    )
    alive = active.cpu().numpy()

    def final(values: torch.Tensor) -> np.ndarray:
        out = values.double().cpu().numpy().copy()
        out[~alive] = np.nan
        return out

    return ReplicaRun(
        steps=np.asarray(recorded_steps, dtype=np.int64),
        loss=records["loss"].numpy(),
        parameter_norm=records["parameter_norm"].numpy(),
        distance=records["distance"].numpy(),
        spread=records["spread"].numpy(),
        sketch=records["sketch"].numpy(),
        checkpoint_steps=np.asarray(checkpoint_steps, dtype=np.int64),
        checkpoints=np.stack(checkpoints) if checkpoints else np.zeros((0, K, 0)),
        diverged=~alive,
        diverged_at=diverged_at.cpu().numpy(),
        train_loss=final(train_loss),
        train_accuracy=final(train_accuracy),
        test_accuracy=final(test_accuracy),
        final_parameters=_flatten(parameters, K).detach().cpu().numpy(),
        mode="loop" if mode == "loop" else "vmap",
        wall_time=time.perf_counter() - started,
    )
