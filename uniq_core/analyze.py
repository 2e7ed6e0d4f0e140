"""The book's stability probes on a reader's own network: copies trained side by side, then measured.

    from uniq_core.analyze import Analyzer
    analyzer = Analyzer(model, perturbation=1e-2, n_copies=8)
    analyzer.fit(train_loader, torch.nn.functional.cross_entropy, torch.optim.SGD, epochs=10, lr=0.1)
    result = analyzer.report()          # numbers, with intervals
    analyzer.save("stability_report")   # report.html, metrics.json, PNGs

``fit`` trains the original and ``n_copies − 1`` perturbed copies of any module whose forward
:func:`torch.func.functional_call` can run (BatchNorm buffers included): the copies' parameters are stacked,
their losses computed in one ``vmap`` over the reader's batches, and the reader's optimiser applied to the
stacked tensors in one step. For an optimiser that acts element by element (SGD with or without momentum,
Adam, AdamW, RMSprop, Adagrad, Adamax, NAdam, RAdam) that step is the same as K independent optimisers, one
per copy (``tests/test_analyze.py`` compares them, every one of these), up to rounding; where a parameter's
true gradient is zero but its computed one is rounding noise (a bias just before BatchNorm), an adaptive
optimiser scales that noise up to full steps, differently in batched and separate kernels, so such a
parameter's copies drift apart by rounding alone. Any other optimiser is refused with a clear error. The
copies share every minibatch and every random draw of the forward pass (dropout masks): they are one run,
perturbed. A
custom training loop records its copies itself: ``record(copies)`` after each epoch (modules or state
dicts), then ``report()``.

The report gives deep-lyapunov 0.1.2's three numbers and its ``behavior`` label
(:func:`uniq_core.lyapunov.peer_metrics`, its definitions), the per-copy path length and velocity (its
tracker's), and the book's own: the growth exponent of each perturbed copy's distance from the original, per
epoch, with a Student-t interval over the copies (independent perturbations: one unit each), and the
spread of the copies about their centroid relative to the parameters' norm. A copy whose loss or parameters
stop being finite is flagged in ``diverged`` and enters no statistic.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

from uniq_core import grammar, lyapunov, replicas, rules, runtime, stats
from uniq_core.schema import check_choice, check_number

#: Optimisers whose update of each parameter element reads only that element's gradient and state: on
#: stacked copies their step is K independent steps.
ELEMENTWISE = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam")
FORMATS = ("html", "markdown")
#: A copy whose parameters' norm exceeds this many times the original's starting norm is flagged as diverged,
#: as one whose loss or parameters stop being finite is: a run on its way to overflow enters no statistic.
DIVERGED_GROWTH = 1e6
#: Tangent exponents of the training map: how many, over how many steps (:meth:`Analyzer.fit`).
TANGENTS, TANGENT_STEPS = 4, 50
#: Orbit points at which the frozen-curvature rate beside the exponents is evaluated.
BOUND_POINTS = 5


@dataclass
class AnalysisResult:
    """What :meth:`Analyzer.report` measured (see the module docstring). ``epochs`` (C,) the checkpoints;
    ``distance`` (K, C) each copy's distance from the original (copy 0); ``spread`` (C,) the copies' spread
    about their centroid and ``relative_spread`` that over the mean parameter norm; ``exponents`` (K − 1,)
    ln(d(T)/d(0))/T per perturbed copy and ``exponent``, ``exponent_interval`` their mean and 95% interval
    (NaN with fewer than :data:`uniq_core.rules.MIN_UNITS` copies): an average over the whole run, which
    depends on how long it is when the growth slows; ``rate_by_epoch`` (C − 1,) the copies' mean growth of
    ln d per epoch between records, and ``late_exponents``, ``late_exponent``, ``late_interval`` the slope of
    ln d per copy over the second half of the records (from the record at half the run on), with its interval;
    ``finite_size_rate`` the finite-size exponent λ(δ) = ln 2 / ⟨time to double from δ⟩ over the copies
    (:func:`uniq_core.lyapunov.finite_size_exponent`, Aurell et al. 1997) at ``finite_size_thresholds``, doubling
    from the copies' largest starting distance, with ``finite_size_reached`` the copies that doubled from δ
    and ``finite_size_censored`` those that reached δ but not 2δ (where any are, the rate is an upper
    estimate; with one record per epoch its resolution is an epoch);
    ``path_length``, ``velocity_mean``, ``velocity_std`` (K,) per copy; ``diverged`` (K,); ``loss`` (K, C)
    each copy's mean training loss over the epoch before each checkpoint. After :meth:`Analyzer.fit`,
    ``sharpness`` the largest eigenvalue of the original's loss Hessian on the loader's first batch at the
    start and at the end (Lanczos on exact Hessian-vector products), and ``edge_of_stability`` the value
    2(1 + β)/η above which (S)GD with step η and momentum β is unstable on a quadratic (Cohen et al. 2021):
    NaN for adaptive optimisers and for SGD with Nesterov, dampening or weight decay (other thresholds).
    With ``report(null_inputs=x)`` and a plain Sequential of Linear layers and activations
    (:func:`uniq_core.fisher.sequential_layers`), ``fisher_null``: the null dimension of the original's output
    metric on ``x`` after training (read at the spectrum's gap, :func:`uniq_core.fisher.gap_null_dimension`;
    softmax Fisher–Rao for cross-entropy, else the Gauss–Newton metric of the outputs), and
    ``fisher_null_predicted``: the symmetries' count plus what those inputs add
    (:func:`uniq_core.fisher.predicted_null_dimension`, :func:`~uniq_core.fisher.data_null_dimension`), or
    P − N·K (N(K − 1) for softmax) where N inputs see fewer directions than that, with ``fisher_null_basis``
    saying which ("symmetries" or "rank": then the symmetries are not tested); NaN for other models.
    ``tangent_exponents`` (k,), descending, per step: the top finite-time Lyapunov exponents of
    ``tangent_steps`` steps of SGD (heavy ball with momentum) on the loader's first batch from the original's
    initialisation, (1/T) ln σᵢ of the product of their Jacobians (:func:`uniq_core.lyapunov.finite_time_exponents`;
    dropout off, BatchNorm on the batch's statistics), with ``tangent_estimates`` the estimate at each depth of
    the block Krylov method (rising to the exponents; their last change shows convergence); empty, with
    ``tangent_note`` saying why, for adaptive optimisers, in manual mode, or where the orbit blew up.
    ``smallest_curvature``: the smallest eigenvalue of the original's loss Hessian on that batch at the start,
    and ``frozen_rate`` the one-line theory beside the exponents: the per-step rate of the extreme curvatures
    if the Hessian stayed frozen (ln of the spectral radius of the heavy-ball step on them,
    :func:`uniq_core.lyapunov.frozen_rate`: positive beyond the edge of stability or for negative curvature),
    averaged over :data:`BOUND_POINTS` points of the same steps; for plain SGD it estimates
    (1/T) Σₜ ln‖Jₜ‖, an upper bound on the top exponent. ``tangent_seconds``: what the exponents cost;
    ``momentum``: SGD's β (NaN for other optimisers). Every curvature is measured on the same deterministic
    loss as the exponents. ``divergence_growth``: the growth of a copy's parameter norm over the original's start
    beyond which the copy counts as diverged (:data:`DIVERGED_GROWTH`). Distances are measured from copy
    ``reference``: the original, or where it diverged the first healthy copy. ``unit``: what one unit of
    ``epochs`` is ("epoch"; "record" where manual records gave no epochs), and so of every rate."""

    n_copies: int
    n_parameters: int
    perturbation: float
    epochs: np.ndarray
    convergence_ratio: float
    lyapunov: float
    effective_dimensionality: float
    behavior: str
    exponent: float
    exponent_interval: np.ndarray
    exponents: np.ndarray
    distance: np.ndarray
    spread: np.ndarray
    relative_spread: np.ndarray
    path_length: np.ndarray
    velocity_mean: np.ndarray
    velocity_std: np.ndarray
    diverged: np.ndarray
    loss: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    sharpness: np.ndarray = field(default_factory=lambda: np.full(2, np.nan))
    edge_of_stability: float = float("nan")
    fisher_null: float = float("nan")
    fisher_null_predicted: float = float("nan")
    rate_by_epoch: np.ndarray = field(default_factory=lambda: np.zeros(0))
    late_exponents: np.ndarray = field(default_factory=lambda: np.zeros(0))
    late_exponent: float = float("nan")
    late_interval: np.ndarray = field(default_factory=lambda: np.full(2, np.nan))
    finite_size_thresholds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    finite_size_rate: np.ndarray = field(default_factory=lambda: np.zeros(0))
    finite_size_censored: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    finite_size_reached: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    reference: int = 0
    unit: str = "epoch"
    tangent_exponents: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tangent_estimates: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    tangent_steps: int = 0
    tangent_note: str = "not asked for"
    smallest_curvature: float = float("nan")
    frozen_rate: float = float("nan")
    tangent_seconds: float = float("nan")
    fisher_null_basis: str = ""
    momentum: float = float("nan")
    divergence_growth: float = DIVERGED_GROWTH

    def metrics(self) -> dict[str, Any]:
        """Every field as JSON-ready values (NaN as null)."""
        def plain(value):
            if isinstance(value, np.ndarray):
                return [plain(v) for v in value.tolist()] if value.ndim else plain(value.item())
            if isinstance(value, list):
                return [plain(v) for v in value]
            if isinstance(value, float) and not np.isfinite(value):
                return None
            return value
        return {name: plain(value) for name, value in asdict(self).items()}

    def summary(self) -> str:
        """One line per measurement: the peer's numbers with its label, the book's exponents with their
        intervals (over perturbations of one run: another initialisation or data order is another run), the
        spread, and where measured the sharpness, the finite-size exponent and the null dimension."""
        unit = self.unit

        def with_interval(value: float, interval: np.ndarray, values: np.ndarray) -> str:
            count = int(np.isfinite(values).sum())
            if np.isfinite(interval).all():
                return (f"{value:.3g} per {unit}, 95% interval [{interval[0]:.3g}, {interval[1]:.3g}] over "
                        f"{grammar.plural(count, 'perturbed copy')} of this one run (its initialisation and data order)")
            return (f"{value:.3g} per {unit}, no interval: {grammar.plural(count, 'perturbed copy')}, fewer than "
                    f"{rules.MIN_UNITS}")

        diverged = int(self.diverged.sum())
        spaced = len(self.epochs) > 1 and np.allclose(np.diff(self.epochs), 1.0)
        lines = [f"deep-lyapunov's numbers: convergence ratio {self.convergence_ratio:.3g}, Lyapunov "
                 f"{self.lyapunov:.3g} per {unit if spaced else 'record'}, effective dimensionality "
                 f"{self.effective_dimensionality:.3g}; label '{self.behavior}' (the ratio's spread runs over "
                 "principal components too, so it reads the copies' shared path as well as how far apart they are)",
                 f"growth of a perturbation of relative size {self.perturbation:g} over the whole run, "
                 "ln(d(T)/d(0))/T (it can depend on that size: saturation, or kinks of non-smooth activations; "
                 "analyze.perturbation_scan tells): "
                 + with_interval(self.exponent, self.exponent_interval, self.exponents),
                 "over the second half of the run: "
                 + with_interval(self.late_exponent, self.late_interval, self.late_exponents),
                 f"spread relative to the parameters' norm: {self.relative_spread[0]:.3g} at the start, "
                 f"{self.relative_spread[-1]:.3g} at the end; {diverged} of {self.n_copies} copies diverged "
                 f"(non-finite, or parameters {self.divergence_growth:.0e} times the original's starting norm)"
                 + (f"; the original among them, so distances are measured from copy {self.reference}"
                    if self.reference else "")]
        if len(self.tangent_exponents):
            change = float(np.max(np.abs(self.tangent_estimates[-1] - self.tangent_estimates[-2]))) \
                if len(self.tangent_estimates) > 1 else float("nan")
            lines.append(f"top {len(self.tangent_exponents)} finite-time exponents of the first "
                         f"{self.tangent_steps} SGD steps on the first batch, from the initialisation: "
                         + ", ".join(f"{value:.3g}" for value in self.tangent_exponents)
                         + f" per step (changed by at most {change:.1g} at the last of "
                         f"{grammar.plural(len(self.tangent_estimates), 'Krylov step')}; "
                         f"{self.tangent_seconds:.1f} s); frozen-curvature rate along those steps "
                         f"{self.frozen_rate:.3g} per step from {BOUND_POINTS} points"
                         + (", for plain SGD an estimate of an upper bound on the top exponent" if self.momentum == 0 else
                            ", not a bound with momentum")
                         + f" (Hessian eigenvalues {self.smallest_curvature:.3g} to {self.sharpness[0]:.3g} at the start)")
        elif self.tangent_note != "not asked for":
            lines.append(f"finite-time exponents of SGD's step: not measured ({self.tangent_note})")
        if np.isfinite(self.sharpness).any():
            lines.append(f"sharpness (top Hessian eigenvalue, first batch): {self.sharpness[0]:.3g} at the start, "
                         f"{self.sharpness[1]:.3g} at the end; edge of stability 2(1 + β)/η: "
                         + (f"{self.edge_of_stability:.3g}" if np.isfinite(self.edge_of_stability)
                            else "not defined for this optimiser"))
        if len(self.finite_size_rate) >= 2 and np.isfinite(self.finite_size_rate).any():
            lines.append(f"finite-size exponent λ(δ): {self.finite_size_rate[0]:.3g} per {unit} from the copies' "
                         f"largest starting distance ({grammar.plural(int(self.finite_size_reached[0]), 'copy')} "
                         f"doubled), {self.finite_size_rate[-1]:.3g} after "
                         f"{grammar.plural(len(self.finite_size_rate) - 1, 'doubling')} "
                         f"({int(self.finite_size_reached[-1])} doubled, {int(self.finite_size_censored[-1])} did not)")
        if np.isfinite(self.fisher_null):
            lines.append(f"null dimension of the output metric: {self.fisher_null:.0f} measured, "
                         f"{self.fisher_null_predicted:.0f} predicted "
                         + ("by the symmetries and what the inputs cannot see" if self.fisher_null_basis == "symmetries"
                            else "by the rank the inputs allow (too few inputs to test the symmetries)"))
        return "\n".join(lines)


def _interval(values: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean and 95% t-interval of the finite values; the interval NaN with fewer than MIN_UNITS of them."""
    mean, interval = stats.t_interval(values)
    if np.isfinite(values).sum() < rules.MIN_UNITS:
        interval = np.array([np.nan, np.nan])
    return mean, np.asarray(interval, dtype=float)


def _flat(tensors: Iterable[torch.Tensor]) -> np.ndarray:
    return torch.cat([t.detach().reshape(-1).double().cpu() for t in tensors]).numpy()


class Analyzer:
    """The original ``model`` and ``n_copies − 1`` copies perturbed by ``perturbation`` (each tensor W moved
    by a random direction of norm ``perturbation`` × ‖W‖, :func:`uniq_core.replicas.perturb_`, drawn from
    ``seed``), trained together by :meth:`fit` or recorded by :meth:`record`, measured by :meth:`report`."""

    def __init__(self, model: nn.Module, *, perturbation: float = 1e-2, n_copies: int = 8,
                 device: str | torch.device = "auto", seed: int = 0):
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, not {type(model).__name__}")
        if not any(p.requires_grad for p in model.parameters()):
            raise ValueError("model has no trainable parameters: there is nothing whose stability to measure")
        check_number("perturbation", perturbation, low=0.0, high=10.0, low_inclusive=False)
        check_number("n_copies", n_copies, low=2, high=4096, integer=True)
        check_number("seed", seed, low=0, integer=True)
        self.model, self.perturbation, self.n_copies, self.seed = model, float(perturbation), int(n_copies), seed
        self.device = runtime.device(device)
        self.checkpoints: list[np.ndarray] = []  # each (K, P)
        self.epochs: list[float] = []
        self.losses: list[np.ndarray] = []  # each (K,): the mean training loss of the epoch before
        self.diverged = np.zeros(self.n_copies, dtype=bool)
        self.sharpness, self.edge = np.full(2, np.nan), float("nan")
        self.smallest, self.frozen, self.momentum = float("nan"), float("nan"), float("nan")
        self.tangent_estimates, self.tangent_steps, self.tangent_note = np.zeros((0, 0)), 0, "not asked for"
        self.seconds: dict[str, float] = {}  # where fit's time went: training, sharpness, tangents
        self.unit = "epoch"  # what one unit of ``epochs`` is: an epoch of fit, or of the reader's records
        self._scale = float("nan")  # the original's starting parameter norm

    # ------------------------------------------------------------------------------------------ training

    def fit(self, loader: Iterable, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
            optimizer: type = torch.optim.SGD, *, epochs: int = 1, progress: bool = False,
            tangents: int = TANGENTS, tangent_steps: int = TANGENT_STEPS, **optimizer_kwargs: Any) -> "Analyzer":
        """Train every copy for ``epochs`` passes over ``loader`` (batches of (inputs, targets)) with
        ``loss_fn(outputs, targets)`` (a scalar per copy) and ``optimizer(params, **optimizer_kwargs)``,
        recording the copies at the start and after every epoch. For SGD (plain or heavy ball), also the top
        ``tangents`` finite-time Lyapunov exponents of its step on the loader's first batch over
        ``tangent_steps`` steps from the original's initialisation (``tangents=0`` skips them). Their cost is
        about 13 × ``tangent_steps`` batched Hessian-vector products of width ``tangents`` + 6 on that batch,
        plus 10 Lanczos runs for the curvature beside them: on small models often more than the training
        itself (the report gives the seconds). Returns the analyzer."""
        check_number("epochs", epochs, low=1, high=100_000, integer=True)
        check_number("tangents", tangents, low=0, high=4096, integer=True)
        check_number("tangent_steps", tangent_steps, low=1, high=100_000, integer=True)
        if self.checkpoints:
            raise ValueError("this Analyzer has already recorded copies (fit or record): a second fit would start "
                             "again from the untrained model; make a new Analyzer, or fit once with more epochs")
        name = getattr(optimizer, "__name__", type(optimizer).__name__)
        if not (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)):
            raise ValueError(f"optimizer must be a torch.optim.Optimizer class, e.g. torch.optim.SGD; got {name}")
        if optimizer not in tuple(getattr(torch.optim, allowed) for allowed in ELEMENTWISE):
            raise ValueError(f"optimizer={name} does not update each parameter element on its own, so one step on "
                             f"stacked copies would not be K independent steps; allowed: {', '.join(ELEMENTWISE)}")
        K = self.n_copies
        stateless = copy.deepcopy(self.model).to(self.device).train()
        parameters, buffers = replicas._stack(copy.deepcopy(self.model).to(self.device), K, self.perturbation,
                                              self.seed)
        names = [n for n, p in self.model.named_parameters() if p.requires_grad]
        leaves = [parameters[n].requires_grad_() for n in names]
        frozen = {n: t for n, t in parameters.items() if n not in names}
        for tensor in frozen.values():  # only what trains is perturbed, as the peer does
            tensor.copy_(tensor[:1].expand_as(tensor))
        optimiser = optimizer(leaves, **optimizer_kwargs)
        settings = optimiser.defaults
        plain = (optimizer is torch.optim.SGD and not settings.get("nesterov") and not settings.get("dampening")
                 and not settings.get("weight_decay"))  # heavy ball: the map and threshold below are its alone
        lr, momentum = settings.get("lr"), float(settings.get("momentum", 0.0))
        self.unit, self.momentum = "epoch", momentum if plain else float("nan")
        theta = self._flat_original(parameters, names)
        self._scale = float(torch.linalg.vector_norm(theta))

        def loss_of(p, b, inputs, targets):
            return loss_fn(functional_call(stateless, (p, b), (inputs,)), targets)

        # the copies share each minibatch and each random draw (dropout masks): one run, perturbed
        batched = vmap(loss_of, in_dims=(0, 0, None, None), randomness="same")
        first = None
        for batch in loader:
            first = self._unpack(batch)
            break
        if first is None:
            raise ValueError("loader yielded no batches")
        timer = time.perf_counter()
        pure_gradient = self._pure_gradient(names, first, loss_fn)
        start_sharpness = self._curvature(pure_gradient, theta, "largest")
        self.smallest = self._curvature(pure_gradient, theta, "smallest")
        self.seconds["sharpness"] = time.perf_counter() - timer
        if tangents and not (plain and lr):
            self.tangent_note = ("defined here for SGD without weight decay, Nesterov or dampening (plain or heavy "
                                 f"ball) only: {name}'s step is another map")
        elif tangents:
            timer = time.perf_counter()
            self.tangent_estimates, self.tangent_note, self.frozen = self._tangent_exponents(
                pure_gradient, theta, float(lr), momentum, tangents, tangent_steps)
            self.tangent_steps = tangent_steps
            self.seconds["tangents"] = time.perf_counter() - timer
        self._checkpoint(parameters, names, 0.0, np.full(K, np.nan))
        timer = time.perf_counter()
        for epoch in runtime.progress_bar(range(1, epochs + 1), "epochs", progress):
            total, count = torch.zeros(K, dtype=torch.float64), 0
            for batch in loader:
                inputs, targets = self._unpack(batch)
                live = {n: parameters[n] for n in names}
                try:
                    with torch.enable_grad():
                        losses = batched({**live, **frozen}, buffers, inputs, targets)
                except Exception as error:  # a module torch.func cannot run, or a batch the model cannot take
                    raise ValueError(f"the copies could not run on a batch from the loader (inputs "
                                     f"{tuple(inputs.shape)}): {type(error).__name__}: {error}. The model's "
                                     "forward must work with torch.func.functional_call and vmap") from error
                if losses.shape != (K,):
                    raise ValueError(f"loss_fn must return one number per batch; it returned shape "
                                     f"{tuple(losses.shape[1:])} per copy (use a reduction such as 'mean')")
                finite = torch.isfinite(losses.detach())
                grads = torch.autograd.grad(torch.where(finite, losses, torch.zeros_like(losses)).sum(), leaves,
                                            allow_unused=True)
                with torch.no_grad():
                    for leaf, gradient in zip(leaves, grads):  # an unused parameter keeps no gradient, as alone
                        leaf.grad = (None if gradient is None else
                                     torch.where(self._alive(finite, leaf), gradient, torch.zeros_like(gradient)))
                    optimiser.step()
                    self._flag(~finite.cpu().numpy())
                    squares = torch.zeros(K, dtype=torch.float64, device=self.device)
                    for leaf in leaves:  # inf or NaN in any element makes the sum so too
                        squares += leaf.detach().reshape(K, -1).double().pow(2).sum(dim=1)
                    self._flag(~self._healthy(squares.sqrt().cpu().numpy()))
                    dead = torch.as_tensor(self.diverged, device=self.device)
                    for leaf in leaves:  # a diverged copy is NaN from here on: it enters no statistic
                        leaf.masked_fill_(dead.reshape(-1, *([1] * (leaf.dim() - 1))), float("nan"))
                total += torch.where(finite, losses.detach(), torch.nan).double().cpu()
                count += 1
            if count == 0:
                raise ValueError("loader yielded no batches")
            self._checkpoint(parameters, names, epoch, (total / count).numpy())
        self.seconds["training"] = time.perf_counter() - timer
        timer = time.perf_counter()
        self.sharpness = np.array([start_sharpness, self._curvature(
            pure_gradient, self._flat_original(parameters, names), "largest")])
        self.seconds["sharpness"] += time.perf_counter() - timer
        self.edge = 2 * (1 + momentum) / lr if plain and lr else float("nan")
        return self

    def _pure_gradient(self, names: list[str], batch: tuple, loss_fn: Callable) -> Callable:
        """flat θ → ∇L(θ) on ``batch`` in float64, a pure function for :mod:`torch.func`: dropout off and
        BatchNorm normalising by the batch's own statistics (as in training) without updating running ones.
        Every curvature and the tangent map are measured on this one deterministic loss."""
        network = copy.deepcopy(self.model).to(self.device).double().eval()
        for module in network.modules():  # batch statistics, no running ones: a pure function of θ
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.track_running_stats = False
                module.running_mean, module.running_var, module.num_batches_tracked = None, None, None
        trained = dict(network.named_parameters())
        shapes = [trained[n].shape for n in names]
        sizes = [int(np.prod(shape, dtype=np.int64)) for shape in shapes]
        inputs, targets = (t.double() if t.is_floating_point() else t for t in batch)

        def loss_of(flat: torch.Tensor) -> torch.Tensor:
            point = {n: piece.reshape(shape) for n, piece, shape in zip(names, flat.split(sizes), shapes)}
            return loss_fn(functional_call(network, point, (inputs,)), targets)

        return torch.func.grad(loss_of)

    @staticmethod
    def _flat_original(parameters: dict, names: list[str]) -> torch.Tensor:
        return torch.cat([parameters[n][0].detach().double().reshape(-1) for n in names])

    def _curvature(self, gradient: Callable, theta: torch.Tensor, which: str) -> float:
        """The largest (``which="largest"``) or smallest eigenvalue of the loss Hessian at ``theta``
        (:func:`uniq_core.lyapunov.hessian_extremes` on exact Hessian-vector products), or NaN where it
        cannot be computed."""
        if not torch.isfinite(theta).all():
            return float("nan")
        size = theta.numel()

        def product(vector: np.ndarray) -> np.ndarray:
            column = torch.as_tensor(np.ravel(vector), dtype=torch.float64, device=theta.device)[:, None]
            return lyapunov._push_forward(gradient, theta, column)[1][:, 0].cpu().numpy()

        try:
            values = lyapunov.hessian_extremes(product, size, which=which, tolerance=1e-6,
                                               start=np.random.default_rng(self.seed).normal(size=size))[0]
        except Exception:  # a forward torch.func cannot differentiate twice, or Lanczos not converging
            return float("nan")
        return float(values[0])

    def _tangent_exponents(self, gradient: Callable, theta: torch.Tensor, lr: float, momentum: float, k: int,
                           n_steps: int) -> tuple[np.ndarray, str, float]:
        """Finite-time Lyapunov exponents of ``n_steps`` SGD steps (heavy ball) on the pure loss from ``theta``,
        of a perturbation of θ read in θ (:func:`uniq_core.lyapunov.finite_time_exponents`, ``observed``): the
        estimate at each depth of its block Krylov method (depths × k) and "" or why nothing was measured;
        and the frozen-curvature rate (1/m) Σ ln ρ(J(λ)) over the largest and smallest Hessian eigenvalue at
        :data:`BOUND_POINTS` points of the orbit (:func:`uniq_core.lyapunov.frozen_rate`), which for gradient
        descent estimates the upper bound (1/T) Σₜ ln‖Jₜ‖ ≥ the top exponent."""
        size = theta.numel()
        step = lyapunov.step_from_gradient(gradient, lr, momentum, size)
        state = theta if not momentum else torch.cat([theta, torch.zeros_like(theta)])
        try:
            estimates = lyapunov.finite_time_exponents(step, state, n_steps, k, seed=self.seed, observed=size)
        except FloatingPointError as error:
            return np.zeros((0, k)), str(error), float("nan")
        except RuntimeError as error:  # a forward torch.func cannot differentiate twice
            return np.zeros((0, k)), f"{type(error).__name__}: {str(error).splitlines()[0][:160]}", float("nan")
        marks = set(np.linspace(0, n_steps - 1, BOUND_POINTS).round().astype(int).tolist())
        rates = []
        for t in range(n_steps):
            if t in marks:
                point = state[:size]
                extremes = [self._curvature(gradient, point, which) for which in ("smallest", "largest")]
                rates.append(float(np.nanmax(lyapunov.frozen_rate(np.array(extremes), lr, momentum))))
            state = step(state).detach()
        return estimates, "", float(np.mean(rates))

    def _fisher_null(self, flat: np.ndarray, inputs: torch.Tensor, output: str) -> tuple[float, float, str]:
        """(measured, predicted) null dimension of the output metric at parameters ``flat`` (see the Result),
        and what the prediction rests on: "symmetries" where the symmetries' count plus the inputs' blind
        directions binds, "rank" where the inputs see too few directions for the symmetries to be tested."""
        from uniq_core import fisher

        network = copy.deepcopy(self.model).double().cpu().eval()
        try:
            fisher.sequential_layers(network)
        except (ValueError, TypeError):
            return float("nan"), float("nan"), ""
        if not np.isfinite(flat).all():
            return float("nan"), float("nan"), ""
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(torch.as_tensor(flat, dtype=torch.float64), network.parameters())
        probe = inputs.detach().double().cpu().reshape(inputs.shape[0], -1)
        spectrum = fisher.fisher_spectrum(network, probe, output=output)
        measured = fisher.gap_null_dimension(spectrum, floor=fisher.spectrum_floor(network, probe))
        with torch.no_grad():
            classes = network(probe[:1]).shape[-1]
        visible = len(probe) * (classes - 1 if output == "softmax" else classes)  # at most N·K directions seen
        structural = (fisher.predicted_null_dimension(network, output=output)
                      + fisher.data_null_dimension(network, probe, output=output)["total"])
        rank = len(spectrum) - visible
        return float(measured), float(max(structural, rank)), "symmetries" if structural >= rank else "rank"

    def _unpack(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError("each batch from the loader must be (inputs, targets)")
        return batch[0].to(self.device), batch[1].to(self.device)

    def _alive(self, finite: torch.Tensor, leaf: torch.Tensor) -> torch.Tensor:
        alive = finite & ~torch.as_tensor(self.diverged, device=leaf.device)
        return alive.reshape(-1, *([1] * (leaf.dim() - 1)))

    def _flag(self, bad: np.ndarray) -> None:
        self.diverged |= np.asarray(bad, dtype=bool)

    def _healthy(self, norms: np.ndarray) -> np.ndarray:
        """Copies whose parameter norms are finite and within :data:`DIVERGED_GROWTH` × the starting norm."""
        limit = DIVERGED_GROWTH * max(self._scale, 1.0) if np.isfinite(self._scale) else np.inf
        return np.isfinite(norms) & (norms <= limit)

    def _checkpoint(self, parameters: dict[str, torch.Tensor], names: list[str], epoch: float,
                    loss: np.ndarray) -> None:
        trained = replicas._flatten({n: parameters[n] for n in names}, self.n_copies)
        self.checkpoints.append(trained.detach().double().cpu().numpy())
        self.epochs.append(float(epoch))
        self.losses.append(np.asarray(loss, dtype=np.float64))

    # ---------------------------------------------------------------------------------------- manual mode

    def record(self, copies: list, epoch: float | None = None) -> "Analyzer":
        """Record the copies of a custom training loop now (modules, or state dicts with the model's
        parameter names), ``n_copies`` of them, the first the original; ``epoch`` defaults to the count of
        records so far. Call once before training and after every epoch."""
        if len(copies) != self.n_copies:
            raise ValueError(f"record needs the {self.n_copies} copies (n_copies); got {len(copies)}")
        names = [n for n, p in self.model.named_parameters() if p.requires_grad]
        rows = []
        for copy_ in copies:
            state = dict(copy_.named_parameters()) if isinstance(copy_, nn.Module) else dict(copy_)
            missing = [n for n in names if n not in state]
            if missing:
                raise ValueError(f"a recorded copy lacks the model's parameters {missing[:3]}")
            rows.append(_flat(state[n] for n in names))
        flat = np.stack(rows)
        if self.checkpoints and flat.shape != self.checkpoints[0].shape:
            raise ValueError(f"recorded copies have {flat.shape[1]} parameters; earlier ones had "
                             f"{self.checkpoints[0].shape[1]}")
        if not self.checkpoints:
            self._scale = float(np.linalg.norm(flat[0])) if np.isfinite(flat[0]).all() else float("nan")
            self.unit = "epoch" if epoch is not None else "record"
        self._flag(~self._healthy(np.linalg.norm(flat, axis=1)))
        self.checkpoints.append(flat)
        self.epochs.append(float(len(self.epochs) if epoch is None else epoch))
        self.losses.append(np.full(self.n_copies, np.nan))
        return self

    # ------------------------------------------------------------------------------------------- report

    def report(self, *, null_inputs: torch.Tensor | None = None, output: str = "softmax") -> AnalysisResult:
        """The measurements of the recorded copies (at least two records, two healthy copies). With
        ``null_inputs``, the null dimension of the original's final output metric on those inputs (``output``
        "softmax": Fisher–Rao of a classifier's softmax; "logits": Gauss–Newton of the raw outputs), for a
        plain Sequential of Linear layers and activations: its cost grows as (inputs × outputs)³."""
        if len(self.checkpoints) < 2:
            raise ValueError("report needs at least two records: call fit(...), or record(...) before and "
                             "after training")
        healthy = ~self.diverged
        if healthy.sum() < 2:
            raise ValueError(f"{int(self.diverged.sum())} of {self.n_copies} copies diverged: fewer than two "
                             "healthy copies are left to compare")
        reference = int(np.argmax(healthy))  # the original, or where it diverged the first healthy copy
        others = np.arange(self.n_copies) != reference
        trajectories = np.stack(self.checkpoints)  # (C, K, P)
        epochs = np.array(self.epochs)
        duration = float(epochs[-1] - epochs[0])
        kept = trajectories[:, healthy]
        peer = lyapunov.peer_metrics(kept, n_epochs=len(epochs) - 1)
        distance = np.linalg.norm(trajectories - trajectories[:, reference:reference + 1], axis=-1).T  # (K, C)
        with np.errstate(divide="ignore", invalid="ignore"):
            exponents = np.log(distance[others, -1] / distance[others, 0]) / duration
        exponents[self.diverged[others]] = np.nan
        exponent, interval = _interval(exponents)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(distance[others])  # (K − 1, C)
        logs[self.diverged[others]] = np.nan
        rate_by_epoch = np.nanmean(np.diff(logs, axis=1), axis=0) / np.diff(epochs)
        late = epochs >= epochs[0] + duration / 2
        late_exponents = np.array([np.polyfit(epochs[late], row[late], 1)[0]
                                   if late.sum() >= 2 and np.isfinite(row[late]).all() else np.nan for row in logs])
        late_exponent, late_interval = _interval(late_exponents)
        spread = lyapunov.checkpoint_spread(kept)
        norms = np.linalg.norm(kept, axis=-1).mean(axis=1)
        steps = np.linalg.norm(np.diff(trajectories, axis=0), axis=-1)  # (C − 1, K)
        healthy_distance = distance[others][healthy[others]]
        start = float(np.max(healthy_distance[:, 0]))  # every copy starts at or below the first size
        top = float(np.nanmax(healthy_distance))
        thresholds = start * 2.0 ** np.arange(max(0, int(np.floor(np.log2(top / start))) if start > 0 else 0))
        finite = lyapunov.finite_size_exponent(epochs, healthy_distance, thresholds)
        if null_inputs is not None:
            check_choice("output", output, ("softmax", "logits"))
            null = self._fisher_null(trajectories[-1, reference], null_inputs, output)
        else:
            null = (float("nan"), float("nan"), "")
        return AnalysisResult(
            n_copies=self.n_copies, n_parameters=int(trajectories.shape[-1]), perturbation=self.perturbation,
            epochs=epochs, convergence_ratio=peer["convergence_ratio"], lyapunov=peer["lyapunov"],
            effective_dimensionality=peer["effective_dimensionality"],
            behavior="convergent" if peer["convergence_ratio"] < 1.0 else "divergent",
            exponent=exponent, exponent_interval=np.asarray(interval, dtype=float), exponents=exponents,
            distance=distance, spread=spread, relative_spread=spread / norms,
            path_length=steps.sum(axis=0), velocity_mean=steps.mean(axis=0), velocity_std=steps.std(axis=0),
            diverged=self.diverged.copy(), loss=np.stack(self.losses).T, sharpness=self.sharpness.copy(),
            edge_of_stability=self.edge, fisher_null=null[0], fisher_null_predicted=null[1], fisher_null_basis=null[2],
            rate_by_epoch=rate_by_epoch, late_exponents=late_exponents, late_exponent=late_exponent,
            late_interval=np.asarray(late_interval, dtype=float), finite_size_thresholds=thresholds,
            finite_size_rate=finite["rate"], finite_size_censored=finite["censored"],
            finite_size_reached=finite["reached"], reference=reference, unit=self.unit,
            tangent_estimates=self.tangent_estimates.copy(), tangent_steps=self.tangent_steps, tangent_note=self.tangent_note,
            tangent_exponents=(self.tangent_estimates[-1].copy() if len(self.tangent_estimates) else np.zeros(0)),
            smallest_curvature=self.smallest, frozen_rate=self.frozen, divergence_growth=DIVERGED_GROWTH,
            tangent_seconds=self.seconds.get("tangents", float("nan")), momentum=self.momentum)

    # ---------------------------------------------------------------------------------------------- save

    def figures(self, result: AnalysisResult | None = None) -> dict[str, bytes]:
        """The report's two figures as PNG bytes: ``distance`` (each copy's distance from the original and
        the spread, against epochs) and ``trajectories`` (the copies' deviations from their centroid, on the
        deviations' top two principal components). ``IPython.display.Image(data=...)`` shows one in a
        notebook."""
        result = self.report() if result is None else result
        return {"distance": _distance_figure(result), "trajectories": _trajectory_figure(self, result)}

    def save(self, directory: str | Path, format: str = "html", *, result: AnalysisResult | None = None) -> Path:
        """Write ``metrics.json``, ``distance.png``, ``trajectories.png`` and ``report.html`` (figures
        embedded, no network) or ``report.md`` into ``directory``; returns the report's path. ``result``: a
        report already computed (default: :meth:`report` now)."""
        check_choice("format", format, FORMATS)
        result = self.report() if result is None else result
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metrics.json").write_text(json.dumps(result.metrics(), indent=1))
        figures = self.figures(result)
        for name, png in figures.items():
            (folder / f"{name}.png").write_bytes(png)
        lines = result.summary().splitlines()
        if format == "markdown":
            path = folder / "report.md"
            path.write_text("# Training stability\n\n" + "\n".join(f"- {line}" for line in lines) + "\n\n"
                            + "\n\n".join(f"![{name}]({name}.png)" for name in figures) + "\n")
            return path
        images = "".join(f'<p><img alt="{name}" src="data:image/png;base64,{base64.b64encode(png).decode()}" '
                         'style="max-width:100%"></p>' for name, png in figures.items())
        items = "".join(f"<li>{line}</li>" for line in lines)
        path = folder / "report.html"
        path.write_text("<!doctype html><html><head><meta charset='utf-8'><title>Training stability</title>"
                        "</head><body style='font-family:sans-serif;max-width:900px;margin:auto'>"
                        f"<h1>Training stability</h1><ul>{items}</ul>{images}</body></html>")
        return path


def perturbation_scan(model: nn.Module, loader: Iterable, loss_fn: Callable, optimizer: type = torch.optim.SGD, *,
                      sizes: Iterable[float] = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6), n_copies: int = 8, epochs: int = 1,
                      seed: int = 0, device: str | torch.device = "auto", **optimizer_kwargs: Any) -> list[AnalysisResult]:
    """The same fit at each perturbation size in ``sizes`` (no tangent exponents): a growth exponent's
    interval covers the draws of the perturbation's direction at one size, and the exponent changes with the
    size where growth saturates (large sizes) and where the step is not smooth (with ReLU, ∇L jumps when a
    pre-activation crosses zero, by an amount that does not shrink with the perturbation), so that no single
    size may stand for the rest; :func:`scan_table` and :func:`scan_findings` show how much it changes."""
    sizes = list(sizes)
    if not sizes:
        raise ValueError("sizes=() is empty; give at least one perturbation size")
    return [Analyzer(model, perturbation=size, n_copies=n_copies, seed=seed, device=device)
            .fit(loader, loss_fn, optimizer, epochs=epochs, tangents=0, **optimizer_kwargs).report()
            for size in sizes]


def scan_table(results: list[AnalysisResult]) -> str:
    """A Markdown table of :func:`perturbation_scan`: per size, the whole-run and second-half exponents with
    their 95% intervals (or the count of copies where too few for one)."""
    def cell(value: float, interval: np.ndarray, values: np.ndarray) -> str:
        if np.isfinite(interval).all():
            return f"{value:.3g} [{interval[0]:.3g}, {interval[1]:.3g}]"
        return f"{value:.3g} ({grammar.plural(int(np.isfinite(values).sum()), 'copy')}: no interval)"

    unit = results[0].unit
    rows = [f"| relative size | whole run (per {unit}) | second half (per {unit}) | deep-lyapunov's convergence "
            "ratio | diverged |", "|---|---|---|---|---|"]
    for result in results:
        rows.append(f"| {result.perturbation:g} | {cell(result.exponent, result.exponent_interval, result.exponents)} | "
                    f"{cell(result.late_exponent, result.late_interval, result.late_exponents)} | "
                    f"{result.convergence_ratio:.4g} | {int(result.diverged.sum())} of {result.n_copies} |")
    return "\n".join(rows)


def scan_findings(results: list[AnalysisResult], prefix: str = "scan") -> dict[str, float]:
    """How much a :func:`perturbation_scan` changes: ``<prefix>_exponent_low``/``_high``, the smallest and
    largest whole-run exponent over the sizes, with the sizes where they were measured (``_low_at``,
    ``_high_at``), and ``<prefix>_convergence_low``/``_high``, the range of deep-lyapunov's convergence
    ratio over the sizes; ``<prefix>_separation``: whether the 95% intervals at those two sizes overlap, in
    words ("their intervals do not overlap: no one value describes this run", "their intervals overlap", or
    "too few copies for intervals")."""
    exponents = np.array([r.exponent for r in results])
    ratios = np.array([r.convergence_ratio for r in results])
    low, high = int(np.nanargmin(exponents)), int(np.nanargmax(exponents))
    ends = np.array([results[low].exponent_interval, results[high].exponent_interval])
    if not np.isfinite(ends).all():
        separation = "too few copies for intervals"
    elif ends[0, 1] < ends[1, 0]:
        separation = "their intervals do not overlap: no one value describes this run"
    else:
        separation = "their intervals overlap"
    return {f"{prefix}_separation": separation,
            f"{prefix}_exponent_low": float(exponents[low]), f"{prefix}_exponent_high": float(exponents[high]),
            f"{prefix}_low_at": results[low].perturbation, f"{prefix}_high_at": results[high].perturbation,
            f"{prefix}_convergence_low": float(np.nanmin(ratios)), f"{prefix}_convergence_high": float(np.nanmax(ratios))}


def _png(figure) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _distance_figure(result: AnalysisResult) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.6))
    drawn = False
    for k in range(result.n_copies):
        if k != result.reference and not result.diverged[k]:
            axis.semilogy(result.epochs, result.distance[k], color="tab:blue", alpha=0.5, lw=1,
                          label=None if drawn else "each perturbed copy")
            drawn = True
    axis.semilogy(result.epochs, result.spread, color="black", lw=2, label="spread about the centroid")
    origin = "the original" if result.reference == 0 else f"copy {result.reference} (the original diverged)"
    axis.set(xlabel=result.unit, ylabel="distance in parameter space",
             title=f"each copy's distance from {origin}\n(perturbation {result.perturbation:g}: exponent "
                   f"{result.exponent:.3g} per {result.unit})")
    axis.legend(loc="best")
    return _png(figure)


def _trajectory_figure(analyzer: Analyzer, result: AnalysisResult) -> bytes:
    """The copies' deviations from their centroid at each record, on the deviations' top two principal
    components: the shared training path is taken out, so what is left is how the copies move apart."""
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    trajectories = np.stack(analyzer.checkpoints)[:, ~result.diverged]
    count, copies, size = trajectories.shape
    deviations = trajectories - trajectories.mean(axis=1, keepdims=True)
    points = PCA(n_components=min(2, size, count * copies)).fit_transform(deviations.reshape(-1, size))
    points = points.reshape(count, copies, -1)
    figure, axis = plt.subplots(figsize=(5, 4.2))
    for k in range(copies):
        axis.plot(points[:, k, 0], points[:, k, -1], marker=".", lw=1)
        axis.plot(points[-1:, k, 0], points[-1:, k, -1], marker="o", ms=5, color="black")
    axis.set(xlabel="first principal component", ylabel="second principal component",
             title="the copies' deviations from their centroid\n(each line a copy, ● its last record)")
    return _png(figure)
