"""Your own network: deep-lyapunov 0.1.2's ``StabilityAnalyzer`` beside :class:`uniq_core.analyze.Analyzer` on
the peer's README example, the same model, loader and optimiser, timed on the machine that runs it.

The peer's example: an MLP with one hidden layer of 128 units on an image data set, five trajectories, a
perturbation of 0.01, ten epochs. Here the data set is scikit-learn's 8 × 8 digits (offline), the optimiser
SGD, batches of 64 in a fixed order; both packages start from the same model. The peer trains its
trajectories one after another by calling the training function once per epoch (one optimiser per copy kept
across those calls); ``Analyzer`` trains its copies stacked. "Training" is ``Analyzer.fit``'s passes over the
loader (without its sharpness and tangent measurements) and the sum of the peer's calls of the training
function; the rest of each total is measurement, of which ``dimension_seconds`` is the effective
dimensionality's. Each package runs ``n_draws`` times, alternating, each time with its own draw of the
perturbations (seeds ``seed``, ``seed`` + 1, …): every time is the median with its range, and every number is
given per draw, so that agreement is judged against the spread between draws.
"""

from __future__ import annotations

import contextlib
import copy
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import torch

from uniq_core import data, grammar, runtime
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number

PACKAGES = ("uniq_core", "deep-lyapunov")


@dataclass(frozen=True)
class PeerConfig(ConfigBase):
    """The peer's README example (``hidden`` units, ``n_copies`` trajectories, ``perturbation``, ``epochs``)
    on ``n_train`` digits with SGD at ``lr`` and batches of ``batch_size``; ``seed`` fixes the model and both
    packages' perturbations."""

    hidden: int = 128
    n_copies: int = 5
    perturbation: float = 0.01
    epochs: int = 10
    lr: float = 0.1
    batch_size: int = 64
    n_train: int = 1500
    seed: int = 0
    n_draws: int = 5
    device: str = "auto"

    def __post_init__(self) -> None:
        check_number("hidden", self.hidden, low=1, high=4096, integer=True)
        check_number("n_copies", self.n_copies, low=2, high=64, integer=True)
        check_number("perturbation", self.perturbation, low=0.0, high=1.0, low_inclusive=False)
        check_number("epochs", self.epochs, low=1, high=1000, integer=True)
        check_number("lr", self.lr, low=0.0, high=10.0, low_inclusive=False)
        check_number("batch_size", self.batch_size, low=1, high=4096, integer=True)
        check_number("n_train", self.n_train, low=16, high=1797, integer=True)
        check_number("seed", self.seed, low=0, integer=True)
        check_number("n_draws", self.n_draws, low=1, high=100, integer=True)
        check_choice("device", self.device, runtime.DEVICES)

    @classmethod
    def quick(cls) -> "PeerConfig":
        """A hidden layer of 32 units: the peer's effective dimensionality diagonalises a covariance as large
        as the parameter count squared, about 80 s at the example's 9,610 parameters on one CPU thread."""
        return cls(hidden=32)

    @classmethod
    def standard(cls) -> "PeerConfig":
        """The peer's example at its own size."""
        return cls()

    @classmethod
    def full(cls) -> "PeerConfig":
        return cls()


@dataclass
class PeerResult(ResultBase):
    """Per package (:data:`PACKAGES` order): ``seconds`` in all, ``training_seconds`` and
    ``dimension_seconds`` (the effective dimensionality's share of the measurement), each the median over the
    draws, with ``seconds_range`` and ``training_range`` (package × [smallest, largest]) and
    ``speedup_range``: the smallest and largest of deep-lyapunov's time over uniq_core's within a draw; the
    three numbers (``convergence_ratio``, ``lyapunov``, ``effective_dimensionality``) and the ``behavior``
    label per draw (package × draw), each package's own (uniq_core's by the peer's definitions); uniq_core's
    ``exponent`` per draw (per epoch, its copies' mean) and ``diverged`` copies in all; ``n_parameters`` of
    the model; ``threads``: torch's CPU threads."""

    packages: np.ndarray
    seconds: np.ndarray
    training_seconds: np.ndarray
    dimension_seconds: np.ndarray
    seconds_range: np.ndarray
    training_range: np.ndarray
    speedup_range: np.ndarray
    convergence_ratio: np.ndarray
    lyapunov: np.ndarray
    effective_dimensionality: np.ndarray
    behavior: np.ndarray
    exponent: np.ndarray
    diverged: int
    n_parameters: int
    threads: int

    def table(self) -> str:
        """The two packages side by side, as a Markdown table: times as median (range) over the draws, the
        numbers as their mean over the draws (the Lyapunov number ± its standard deviation between draws)."""
        rows = ["| package | total (s) | training (s) | convergence ratio | Lyapunov (per record) | "
                "effective dimensionality | label |", "|---|---|---|---|---|---|---|"]
        for i, package in enumerate(self.packages):
            total = f"{self.seconds[i]:.2f} ({self.seconds_range[i, 0]:.2f}–{self.seconds_range[i, 1]:.2f})"
            training = (f"{self.training_seconds[i]:.2f} ({self.training_range[i, 0]:.2f}–"
                        f"{self.training_range[i, 1]:.2f})")
            lyapunov = f"{self.lyapunov[i].mean():.3g} ± {self.lyapunov[i].std(ddof=1):.2g}" \
                if self.lyapunov.shape[1] > 1 else f"{self.lyapunov[i, 0]:.3g}"
            labels = ", ".join(sorted(set(str(b) for b in self.behavior[i])))
            rows.append(f"| {package} | {total} | {training} | {self.convergence_ratio[i].mean():.4g} | "
                        f"{lyapunov} | {self.effective_dimensionality[i].mean():.4g} | {labels} |")
        return "\n".join(rows)

    def findings(self, config: PeerConfig) -> dict[str, float | int | str]:
        """The page's glued values: the setting (with its counts in words); each package's median seconds
        and their ratio (deep-lyapunov's over uniq_core's) with the smallest and largest ratio within a draw;
        the largest relative difference, over the draws, of the two numbers read from the path; the Lyapunov
        numbers' means and standard deviations between draws, the difference of the means (deep-lyapunov's
        minus uniq_core's) with its Welch 95% interval, and the word it earns: "differ" where the interval
        excludes zero, else "not distinguishable" with this many draws (never "agree": no margin of
        equivalence is set); and the share of
        the difference in total time that the effective dimensionality accounts for, with its word."""
        draws = self.lyapunov.shape[1]

        def relative(values: np.ndarray) -> float:
            return float(np.max(np.abs(values[1] - values[0]) / np.abs(values[0])))

        difference = float(self.seconds[1] - self.seconds[0])
        share = float(self.dimension_seconds[1] - self.dimension_seconds[0]) / difference if difference > 0 \
            else float("nan")
        means = self.lyapunov.mean(axis=1)
        spreads = self.lyapunov.std(axis=1, ddof=1) if draws > 1 else np.full(2, np.nan)
        gap, low, high = _welch_interval(self.lyapunov[1], self.lyapunov[0])
        if not np.isfinite(low):
            agreement = "cannot be compared from one draw"
        elif low > 0 or high < 0:
            agreement = "differ: the 95% interval of the difference excludes zero"
        else:
            agreement = f"are not distinguishable with {grammar.plural(draws, 'draw')}"
        return {"peer_hidden": config.hidden, "peer_example_hidden": PeerConfig().hidden,
                "peer_copies": config.n_copies, "peer_epochs": config.epochs, "peer_parameters": self.n_parameters,
                "peer_threads": grammar.plural(self.threads, "CPU thread"),
                "peer_draws": grammar.plural(draws, "draw"),
                "peer_ours_seconds": float(self.seconds[0]), "peer_theirs_seconds": float(self.seconds[1]),
                "peer_speedup": float(self.seconds[1] / self.seconds[0]),
                "peer_speedup_low": float(self.speedup_range[0]), "peer_speedup_high": float(self.speedup_range[1]),
                "peer_training_ratio": float(self.training_seconds[1] / self.training_seconds[0]),
                "peer_path_difference": max(relative(self.convergence_ratio), relative(self.effective_dimensionality)),
                "peer_lyapunov_ours": float(means[0]), "peer_lyapunov_ours_sd": float(spreads[0]),
                "peer_lyapunov_theirs": float(means[1]), "peer_lyapunov_theirs_sd": float(spreads[1]),
                "peer_lyapunov_agree": agreement, "peer_lyapunov_gap": gap, "peer_lyapunov_gap_low": low,
                "peer_lyapunov_gap_high": high,
                "peer_dimension_share": share,
                "peer_dimension_word": "most" if share > 0.5 else "part"}


def _welch_interval(first: np.ndarray, second: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """mean(first) − mean(second) with its Welch t-interval (unequal variances, Welch–Satterthwaite degrees
    of freedom); NaN ends with fewer than two values on either side."""
    from scipy import stats as distributions

    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    gap = float(first.mean() - second.mean())
    if len(first) < 2 or len(second) < 2:
        return gap, float("nan"), float("nan")
    a, b = first.var(ddof=1) / len(first), second.var(ddof=1) / len(second)
    error = np.sqrt(a + b)
    if error == 0:
        return gap, gap, gap
    freedom = (a + b) ** 2 / (a ** 2 / (len(first) - 1) + b ** 2 / (len(second) - 1))
    half = float(distributions.t.ppf(0.5 + confidence / 2, freedom) * error)
    return gap, gap - half, gap + half


def _workload(config: PeerConfig):
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    digits = data.load("digits", n_train=config.n_train, test_fraction=0.15)
    torch.manual_seed(config.seed)
    model = nn.Sequential(nn.Linear(64, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 10))
    loader = DataLoader(TensorDataset(digits.x_train, digits.y_train), batch_size=config.batch_size, shuffle=False)
    return model, loader


@contextlib.contextmanager
def _time_spent_in(module: Any, name: str) -> Iterator[list[float]]:
    """While the block runs, ``module.name`` is wrapped to add its seconds to the one-element list yielded;
    afterwards the function is restored."""
    measure = getattr(module, name)
    spent = [0.0]

    def timed(*arguments, **options):
        began = time.perf_counter()
        try:
            return measure(*arguments, **options)
        finally:
            spent[0] += time.perf_counter() - began

    setattr(module, name, timed)
    try:
        yield spent
    finally:
        setattr(module, name, measure)


def _ours(config: PeerConfig, model, loader, device: str, seed: int) -> dict:
    from torch.nn import functional as F

    from uniq_core.analyze import Analyzer

    from uniq_core import lyapunov

    started = time.perf_counter()
    analyzer = Analyzer(copy.deepcopy(model), perturbation=config.perturbation, n_copies=config.n_copies,
                        device=device, seed=seed)
    analyzer.fit(loader, F.cross_entropy, torch.optim.SGD, epochs=config.epochs, lr=config.lr, tangents=0)
    with _time_spent_in(lyapunov, "effective_dimensionality") as spent:  # its share of the report
        result = analyzer.report()
    return {"seconds": time.perf_counter() - started, "training_seconds": analyzer.seconds["training"],
            "dimension_seconds": spent[0],
            "convergence_ratio": result.convergence_ratio, "lyapunov": result.lyapunov,
            "effective_dimensionality": result.effective_dimensionality, "behavior": result.behavior,
            "exponent": result.exponent, "diverged": int(result.diverged.sum())}


def training_function(optimizer: type, lr: float, device: str = "cpu") -> tuple[Callable, list[float]]:
    """The training function deep-lyapunov's ``analyze`` calls once per epoch for each trajectory, with
    cross-entropy and ``optimizer(lr=lr)``: one optimiser per copy kept across those calls (so Adam's state
    is not reset every epoch). Returns it and a one-element list that accumulates the seconds spent in it."""
    from torch.nn import functional as F

    optimisers: dict[int, torch.optim.Optimizer] = {}
    spent = [0.0]

    def train(network, data_loader, epochs):
        began = time.perf_counter()
        step = optimisers.setdefault(id(network), optimizer(network.parameters(), lr=lr))
        losses = []
        for _ in range(epochs):
            for inputs, labels in data_loader:
                inputs, labels = inputs.to(device), labels.to(device)
                step.zero_grad()
                loss = F.cross_entropy(network(inputs), labels)
                loss.backward()
                step.step()
                losses.append(loss.item())
        spent[0] += time.perf_counter() - began
        return {"loss": losses}

    return train, spent


def _peer(config: PeerConfig, model, loader, device: str, seed: int) -> dict:
    try:
        from deep_lyapunov import StabilityAnalyzer
    except ImportError as error:
        raise ImportError("this comparison runs deep-lyapunov: pip install 'deep-lyapunov==0.1.2' "
                          "(or uniq-core[peer])") from error
    train, spent = training_function(torch.optim.SGD, config.lr, device)

    import deep_lyapunov.analyzer as peer_analyzer

    started = time.perf_counter()
    analyzer = StabilityAnalyzer(copy.deepcopy(model), perturbation_scale=config.perturbation,
                                 n_trajectories=config.n_copies, device=device, seed=seed, verbose=False)
    with _time_spent_in(peer_analyzer, "compute_effective_dimensionality") as measured:
        results = analyzer.analyze(train, loader, n_epochs=config.epochs)
    return {"seconds": time.perf_counter() - started, "training_seconds": spent[0], "dimension_seconds": measured[0],
            "convergence_ratio": results.convergence_ratio, "lyapunov": results.lyapunov,
            "effective_dimensionality": results.effective_dimensionality, "behavior": results.behavior}


def run(config: PeerConfig, *, progress: bool = True, use_cache: bool = True) -> PeerResult:
    """Both packages on ``config``'s workload, uniq_core first, in this process, each after an untimed run on
    a tiny model (so neither pays for imports and first calls); raises ``ImportError`` with the install line
    where deep-lyapunov is missing."""

    def compute() -> PeerResult:
        device = str(runtime.device(config.device))
        tiny = config.replace(hidden=2, n_copies=2, epochs=1, n_train=64)  # imports and first calls, untimed
        for contender in (_ours, _peer):
            contender(tiny, *_workload(tiny), device, config.seed)
        model, loader = _workload(config)
        runs = [[contender(config, model, loader, device, config.seed + draw) for contender in (_ours, _peer)]
                for draw in runtime.progress_bar(range(config.n_draws), "draws", progress)]

        def per_draw(name, dtype=float):
            return np.array([[run[i][name] for run in runs] for i in range(2)], dtype=dtype)

        def spread(name):
            values = per_draw(name)
            return np.stack([values.min(axis=1), values.max(axis=1)], axis=1)

        seconds = per_draw("seconds")
        ratio = seconds[1] / seconds[0]
        return PeerResult(
            packages=np.array(PACKAGES), seconds=np.median(seconds, axis=1),
            training_seconds=np.median(per_draw("training_seconds"), axis=1),
            dimension_seconds=np.median(per_draw("dimension_seconds"), axis=1), seconds_range=spread("seconds"),
            training_range=spread("training_seconds"), speedup_range=np.array([ratio.min(), ratio.max()]),
            convergence_ratio=per_draw("convergence_ratio"), lyapunov=per_draw("lyapunov"),
            effective_dimensionality=per_draw("effective_dimensionality"), behavior=per_draw("behavior", str),
            exponent=np.array([run[0]["exponent"] for run in runs]),
            diverged=int(sum(run[0]["diverged"] for run in runs)),
            n_parameters=int(sum(p.numel() for p in model.parameters())), threads=torch.get_num_threads())

    return runtime.cached(compute, config, PeerResult, use_cache=use_cache)
