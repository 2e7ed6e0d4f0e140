"""Chapter 3: are training trajectories topologically distinct, and are trained networks unique?

Runs: ``n_runs`` replicas of an MLP (replica 0 the reference, the others perturbed at initialisation by
``perturbation``, optionally with their own data order) are trained side by side (:mod:`uniq_core.replicas`).
Each run's trajectory is a point cloud twice over: in weight space (the full parameter vector at every
checkpoint) and in function space (the softmax outputs on a fixed probe set of training inputs at every
checkpoint). Each cloud's time points are split at random into ``n_replicates`` disjoint subsets;
persistence diagrams (H0 and H1) of every subset give distances within a run and between runs, and a
permutation test with runs as its units asks whether replicates of one run are closer to each other than to
replicates of other runs. Every family of tests is decided by one rule: Holm-adjusted p below ``level``.

Symmetry: independently initialised networks are compared before and after aligning their hidden units
(:func:`uniq_core.symmetry.align`), by distance and by the loss and error barriers along the straight line
between them (:func:`uniq_core.barriers.interpolation_curve`); and in function space, by how often they
disagree on test inputs compared with their error rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch
from torch.func import functional_call, vmap

from uniq_core import barriers, data, grammar, models, replicas, runtime, stats, symmetry, topology
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number, check_numbers, check_widths


def _check_training(config) -> None:
    check_choice("dataset", config.dataset, data.DATASETS)
    check_number("n_train", config.n_train, low=64, high=5000, integer=True)
    check_widths("widths", config.widths, high=1024)
    check_number("lr", config.lr, low=0.0, high=10.0, low_inclusive=False)
    check_number("epochs", config.epochs, low=1, high=1000, integer=True)
    check_number("batch_size", config.batch_size, low=1, high=config.n_train, integer=True)
    check_number("seed", config.seed, low=0, integer=True)


def _model(config, dataset: data.Dataset, seed: int) -> torch.nn.Module:
    runtime.seed_everything(seed)
    return models.MLP(dataset.n_features, config.widths, dataset.n_classes, "relu")


def _outputs(model: torch.nn.Module, thetas: np.ndarray, inputs: torch.Tensor) -> torch.Tensor:
    """Logits of each flat parameter vector in ``thetas`` (n × P) on ``inputs``: (n, N, classes)."""
    stacked = torch.as_tensor(thetas, dtype=torch.float32, device=inputs.device)
    with torch.no_grad():
        return vmap(lambda p: functional_call(model, models.unflatten(model, p), (inputs,)))(stacked)


# ------------------------------------------------------------------------------------------ trajectories


def _check_test(config, n_tests: int, runs_field: str = "n_runs") -> None:
    """The permutation test must be able to reach the first Holm threshold level / n_tests."""
    smallest = stats.smallest_permutation_p(config.n_runs, config.n_replicates, config.n_permutations)
    if not smallest < config.level / n_tests:
        raise ValueError(
            f"{runs_field}={config.n_runs}, n_replicates={config.n_replicates}, "
            f"n_permutations={config.n_permutations}: the smallest achievable p-value is {smallest:.3g}, not below "
            f"level/{n_tests} = {config.level / n_tests:.3g} (Holm over {n_tests} tests at level={config.level}); "
            "the test could never reject. Raise n_runs or n_replicates (at least "
            f"{stats.groupings_needed(config.level / n_tests, config.n_replicates)} runs for this n_replicates) "
            "or n_permutations")


@dataclass(frozen=True)
class TopologyConfig(ConfigBase):
    """Perturbed runs trained side by side; persistence of their trajectories in weight and function space.

    Runs are the units of the test: each run's cloud is split into ``n_replicates`` random disjoint subsets
    of its time points, and the run labels of the replicates are permuted (``n_permutations`` draws). The
    smallest achievable p-value must lie below ``level``/2 (Holm over weight and function space)."""

    dataset: str = "digits"
    n_train: int = 1000
    widths: tuple[int, ...] = (32,)
    n_runs: int = 8
    perturbation: float = 1e-2
    independent_order: bool = False
    lr: float = 0.05
    epochs: int = 10
    batch_size: int = 64
    probe_size: int = 64
    max_points: int = 300
    n_replicates: int = 2
    n_permutations: int = 999
    level: float = 0.05
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_training(self)
        check_number("n_runs", self.n_runs, low=3, high=256, integer=True)
        check_number("perturbation", self.perturbation, low=0.0, high=10.0, low_inclusive=False)
        check_choice("independent_order", self.independent_order, (True, False))
        check_number("probe_size", self.probe_size, low=2, high=self.n_train, integer=True)
        check_number("max_points", self.max_points, low=10, high=5000, integer=True)
        check_number("n_replicates", self.n_replicates, low=2, high=16, integer=True)
        check_number("n_permutations", self.n_permutations, low=19, high=100_000, integer=True)
        check_number("level", self.level, low=0.0, high=0.5, low_inclusive=False)
        check_choice("device", self.device, runtime.DEVICES)
        _check_test(self, 2)

    @classmethod
    def quick(cls) -> "TopologyConfig":
        return cls()

    @classmethod
    def full(cls) -> "TopologyConfig":
        return cls(n_train=1347, widths=(64,), n_runs=16, epochs=40, max_points=1000, n_permutations=9999,
                   device="auto")


@dataclass
class TopologyResult(ResultBase):
    """Per space (``weight``: the full parameter vectors at every checkpoint; ``function``: softmax outputs
    on the probe set): ``*_within`` (runs,) mean distance between the replicates of each run;
    ``*_between`` (runs, runs) mean distance between replicates of different runs (diagonal NaN);
    ``*_ratio`` mean between / mean within; ``*_p_value`` of the permutation test and ``*_p_holm`` its
    Holm-adjusted value over the two spaces (runs are distinguishable in a space where it is below
    ``level``); ``*_diagram_h0`` and ``*_diagram_h1`` of run 0's whole trajectory (for the figure) and
    ``*_points`` (runs, T, 2): each run's trajectory in the top-two principal plane of all runs. Distances
    are the sum over H0 and H1 of the 1-Wasserstein distances. ``diverged`` (runs,), ``test_accuracy``
    (runs,), ``disagreement`` (runs, runs): fraction of test inputs on which two runs' predictions differ;
    ``landmark_radius``: the largest covering radius of the subsampled clouds (0 when none was subsampled);
    ``n_parameters``: the dimension of the weight-space cloud. ``output_difference`` (runs,): the largest
    absolute difference of any softmax output on any test input between a run and run 0 (the reference).
    ``*_runs_h0``/``*_runs_h1``: every run's whole-trajectory diagrams, NaN-padded (:func:`run_diagrams`)."""

    weight_within: np.ndarray
    weight_between: np.ndarray
    weight_ratio: float
    weight_p_value: float
    weight_p_holm: float
    weight_diagram_h0: np.ndarray
    weight_diagram_h1: np.ndarray
    weight_points: np.ndarray
    function_within: np.ndarray
    function_between: np.ndarray
    function_ratio: float
    function_p_value: float
    function_p_holm: float
    function_diagram_h0: np.ndarray
    function_diagram_h1: np.ndarray
    function_points: np.ndarray
    diverged: np.ndarray
    test_accuracy: np.ndarray
    disagreement: np.ndarray
    landmark_radius: float
    n_parameters: int
    level: float
    output_difference: np.ndarray | float = float("nan")
    weight_runs_h0: np.ndarray | float = float("nan")
    weight_runs_h1: np.ndarray | float = float("nan")
    function_runs_h0: np.ndarray | float = float("nan")
    function_runs_h1: np.ndarray | float = float("nan")


SPACES = ("weight", "function")


def _padded(diagrams: list[np.ndarray]) -> np.ndarray:
    """Diagrams of several runs as one (runs, bars, 2) array, NaN-padded to the longest."""
    longest = max((len(diagram) for diagram in diagrams), default=0)
    out = np.full((len(diagrams), max(longest, 1), 2), np.nan)
    for index, diagram in enumerate(diagrams):
        out[index, : len(diagram)] = diagram
    return out


def run_diagrams(result: TopologyResult, space: str) -> list[dict[int, np.ndarray]]:
    """Each healthy run's whole-trajectory persistence diagrams ({0: H0, 1: H1}) in ``space``
    ("weight" or "function")."""
    check_choice("space", space, SPACES)
    stacks = [np.asarray(getattr(result, f"{space}_runs_h{dim}"), dtype=np.float64) for dim in (0, 1)]
    if stacks[0].ndim != 3:
        raise ValueError("this TopologyResult has no per-run diagrams (computed before they were recorded)")
    return [{dim: stack[run][~np.isnan(stack[run, :, 0])] for dim, stack in zip((0, 1), stacks)}
            for run in range(stacks[0].shape[0])]


def compare_runs(a: TopologyResult, b: TopologyResult, space: str, *, n_permutations: int = 999,
                 seed: int = 0, skip_reference: bool = True) -> dict[str, float]:
    """Two-sample test of whole runs (:func:`uniq_core.topology.two_sample_test` on persistence landscapes,
    :func:`uniq_core.topology.landscape_vectors`): do the trajectories of the runs of ``a`` and of ``b``
    differ in shape in ``space``? Run 0, the unperturbed reference that two settings of one seed share, is
    left out unless ``skip_reference`` is False. Returns ``statistic``, ``p_value`` and the groups' sizes."""
    first = run_diagrams(a, space)[int(skip_reference):]
    second = run_diagrams(b, space)[int(skip_reference):]
    vectors = topology.landscape_vectors(first + second)
    statistic, p_value = topology.two_sample_test(vectors[: len(first)], vectors[len(first):],
                                                  n_permutations=n_permutations, seed=seed)
    return {"statistic": statistic, "p_value": p_value, "n_a": len(first), "n_b": len(second)}


def null_splits(result: TopologyResult, space: str, *, n_permutations: int = 999, seed: int = 0,
                max_splits: int = 35) -> np.ndarray:
    """p-values of the two-sample test between two halves of one setting's perturbed runs, which differ only
    by chance (up to ``max_splits`` distinct splits, in a fixed order): under the null their share below a
    level is at most that level on average, the size on real runs. Empty with fewer than four perturbed runs."""
    import itertools

    diagrams = run_diagrams(result, space)[1:]
    n, half = len(diagrams), len(diagrams) // 2
    if half < 2:
        return np.array([])  # fewer than four perturbed runs: no split has two runs on each side
    vectors = topology.landscape_vectors(diagrams)
    splits = [np.array(chosen) for chosen in itertools.combinations(range(n), half) if 0 in chosen or 2 * half != n]
    rng = np.random.default_rng(seed)
    chosen = [splits[i] for i in np.sort(rng.permutation(len(splits))[:max_splits])]
    p_values = []
    for index, first in enumerate(chosen):
        second = np.setdiff1d(np.arange(n), first)
        p_values.append(topology.two_sample_test(vectors[first], vectors[second], n_permutations=n_permutations,
                                                 seed=seed + index)[1])
    return np.array(p_values)


def _distance(a: dict[int, np.ndarray], b: dict[int, np.ndarray]) -> float:
    return sum(topology.diagram_distance(a[dim], b[dim]) for dim in (0, 1))


def grouping_permutation_test(distances: np.ndarray, labels: np.ndarray, *, n_permutations: int,
                              rng: np.random.Generator) -> tuple[float, float]:
    """Between-group minus within-group mean distance, and its permutation p-value over the group labels.

    T(g) = mean_{g_i ≠ g_j} d_ij − mean_{i ≠ j, g_i = g_j} d_ij. Null: the replicates are exchangeable
    across groups (no group effect), so each re-labelling is as likely as the observed one;
    p = (1 + #{T(g*) ≥ T(g)}) / (1 + B) over B uniform re-labellings g* (Phipson & Smyth 2010, Stat. Appl.
    Genet. Mol. Biol. 9, 39), exact in size at any level. Returns (T(g), p).
    """
    distances = np.asarray(distances, dtype=np.float64)
    labels = np.asarray(labels)
    off = ~np.eye(len(labels), dtype=bool)

    def statistic(owner: np.ndarray) -> float:
        same = owner[:, None] == owner[None, :]
        return float(distances[~same].mean() - distances[same & off].mean())

    observed = statistic(labels)
    null = np.array([statistic(rng.permutation(labels)) for _ in range(n_permutations)])
    return observed, float((1 + np.sum(null >= observed - 1e-12 * abs(observed))) / (1 + n_permutations))


def replicates_test(clouds: list[np.ndarray], *, n_replicates: int = 2, max_points: int, n_permutations: int,
                    seed: int) -> dict[str, object]:
    """Diagram distances within and between runs, with runs as the units of a permutation test.

    Each run's cloud (its points in time order) is split at random into ``n_replicates`` disjoint subsets
    of equal size; each subset gives a persistence diagram (H0 and H1), and distances are W1(H0) + W1(H1).
    The test (:func:`grouping_permutation_test`) asks whether replicates of one run are closer to each
    other than to replicates of other runs. Null: the runs' clouds are samples of one distribution, so the
    run of a replicate does not matter. Its smallest p-value is
    :func:`uniq_core.stats.smallest_permutation_p` of (runs, replicates, permutations).
    """
    check_number("n_replicates", n_replicates, low=2, integer=True)
    rng = np.random.default_rng(seed)
    diagrams, radius = [], 0.0
    for cloud in clouds:
        size = len(cloud) // n_replicates
        order = rng.permutation(len(cloud))
        for part in range(n_replicates):
            subset = np.sort(order[part * size:(part + 1) * size])
            diagram, r = topology.persistence_with_radius(cloud[subset], 1, max_points=max_points)
            diagrams.append(diagram)
            radius = max(radius, r)
    count = len(diagrams)
    distances = np.zeros((count, count))
    for i in range(count):
        for j in range(i + 1, count):
            distances[i, j] = distances[j, i] = _distance(diagrams[i], diagrams[j])
    runs = len(clouds)
    labels = np.repeat(np.arange(runs), n_replicates)
    _, p_value = grouping_permutation_test(distances, labels, n_permutations=n_permutations, rng=rng)
    blocks = distances.reshape(runs, n_replicates, runs, n_replicates)
    pairs = ~np.eye(n_replicates, dtype=bool)
    within = np.array([blocks[r, :, r, :][pairs].mean() for r in range(runs)])
    between = blocks.mean(axis=(1, 3))
    np.fill_diagonal(between, np.nan)
    return {"within": within, "between": between, "ratio": float(np.nanmean(between) / within.mean()),
            "p_value": p_value, "radius": radius,
            "smallest_p": stats.smallest_permutation_p(runs, n_replicates, n_permutations)}


def halves_test(clouds: list[np.ndarray], *, max_points: int, n_permutations: int, seed: int) -> dict[str, object]:
    """:func:`replicates_test` with two replicates (random halves) per run."""
    return replicates_test(clouds, n_replicates=2, max_points=max_points, n_permutations=n_permutations, seed=seed)


def holm_decisions(results: list[TopologyResult]) -> tuple[np.ndarray, np.ndarray]:
    """The chapter's one decision rule over several trajectory measurements: Holm-adjusted p-values over
    every (measurement, space) test, shape (len(results), 2) with columns weight and function space, and
    the rejections (adjusted p below each result's ``level``)."""
    raw = np.array([[result.weight_p_value, result.function_p_value] for result in results], dtype=np.float64)
    adjusted = stats.holm_adjusted(raw)
    levels = np.array([[result.level] for result in results])
    return adjusted, np.nan_to_num(adjusted, nan=1.0) < levels


def _plane(clouds: list[np.ndarray]) -> np.ndarray:
    """Each cloud in the top-two principal plane of all clouds pooled (Lanczos: only two directions)."""
    from scipy.sparse.linalg import svds

    pooled = np.concatenate(clouds)
    centre = pooled.mean(axis=0)
    centred = pooled - centre
    if min(centred.shape) <= 3:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        top = vt[:2]
    else:
        _, values, vt = svds(centred, k=2, v0=np.ones(min(centred.shape)), random_state=0)
        top = vt[np.argsort(values)[::-1]]
    return np.stack([(cloud - centre) @ top.T for cloud in clouds])


def run_topology(config: TopologyConfig, *, progress: bool = True, use_cache: bool = True) -> TopologyResult:
    """Train the runs, build their trajectory clouds, compare persistence diagrams within and between runs."""

    def compute() -> TopologyResult:
        device = runtime.device(config.device)
        dataset = data.load(config.dataset, n_train=config.n_train, seed=config.seed, device=device)
        model = _model(config, dataset, config.seed).to(device)
        per_epoch = dataset.x_train.shape[0] // config.batch_size
        n_steps = config.epochs * per_epoch
        every = max(1, n_steps // 200)
        record = replicas.train_replicas(
            model, dataset, n_replicas=config.n_runs, perturbation=config.perturbation, lr=config.lr,
            n_steps=n_steps, batch_size=config.batch_size, independent_order=config.independent_order,
            seed=config.seed, record_every=every, sketch_dim=1, checkpoint_every=every,
            device=device, progress=progress,
        )
        healthy = np.flatnonzero(record.healthy)
        smallest = stats.smallest_permutation_p(len(healthy), config.n_replicates, config.n_permutations)
        if len(healthy) < 3 or not smallest < config.level / 2:
            raise ValueError(f"only {len(healthy)} of {config.n_runs} runs trained without diverging, too few "
                             f"for the test to reject at level {config.level}; lower lr or perturbation")
        # weight space: the full parameter vectors at every checkpoint (no projection)
        weight_clouds = [record.checkpoints[:, k] for k in healthy]
        probe = dataset.x_train[: config.probe_size]
        function_clouds = []
        for k in healthy:
            logits = _outputs(model, record.checkpoints[:, k], probe)
            function_clouds.append(torch.softmax(logits, -1).reshape(len(logits), -1).cpu().numpy().astype(np.float64))
        spaces = {}
        for name, clouds in (("weight", weight_clouds), ("function", function_clouds)):
            test = replicates_test(clouds, n_replicates=config.n_replicates, max_points=config.max_points,
                                   n_permutations=config.n_permutations, seed=config.seed)
            wholes = [topology.persistence(cloud, 1, max_points=config.max_points) for cloud in clouds]
            spaces[name] = {**test, "h0": wholes[0][0], "h1": wholes[0][1], "points": _plane(clouds),
                            "runs_h0": _padded([whole[0] for whole in wholes]),
                            "runs_h1": _padded([whole[1] for whole in wholes])}
        adjusted = stats.holm_adjusted(np.array([spaces["weight"]["p_value"], spaces["function"]["p_value"]]))
        final = record.final_parameters[healthy]
        final_outputs = _outputs(model, final, dataset.x_test)
        predictions = final_outputs.argmax(-1).cpu().numpy()
        probabilities = torch.softmax(final_outputs.double(), -1).cpu().numpy()
        output_difference = np.abs(probabilities - probabilities[:1]).max(axis=(1, 2))
        disagreement = (predictions[:, None, :] != predictions[None, :, :]).mean(-1)
        out = {}
        for (name, space), p_holm in zip(spaces.items(), adjusted):
            out.update({f"{name}_within": space["within"], f"{name}_between": space["between"],
                        f"{name}_ratio": space["ratio"], f"{name}_p_value": space["p_value"],
                        f"{name}_p_holm": float(p_holm),
                        f"{name}_diagram_h0": space["h0"], f"{name}_diagram_h1": space["h1"],
                        f"{name}_points": space["points"], f"{name}_runs_h0": space["runs_h0"],
                        f"{name}_runs_h1": space["runs_h1"]})
        return TopologyResult(**out, diverged=record.diverged, test_accuracy=record.test_accuracy[healthy],
                              disagreement=disagreement,
                              output_difference=output_difference,
                              landmark_radius=max(spaces["weight"]["radius"], spaces["function"]["radius"]),
                              n_parameters=int(record.checkpoints.shape[-1]), level=float(config.level))

    return runtime.cached(compute, config, TopologyResult, use_cache=use_cache)


# ---------------------------------------------------------------------------------------------- symmetry


@dataclass(frozen=True)
class SymmetryConfig(ConfigBase):
    """``n_pairs`` pairs of independently initialised MLPs trained alike; compared before and after
    aligning hidden units."""

    dataset: str = "digits"
    n_train: int = 1000
    widths: tuple[int, ...] = (64,)
    lr: float = 0.05
    epochs: int = 20
    batch_size: int = 64
    n_pairs: int = 5
    n_points: int = 21
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_training(self)
        check_number("n_pairs", self.n_pairs, low=1, high=100, integer=True)
        check_number("n_points", self.n_points, low=3, high=201, integer=True)
        check_choice("device", self.device, runtime.DEVICES)

    @classmethod
    def quick(cls) -> "SymmetryConfig":
        return cls()

    @classmethod
    def full(cls) -> "SymmetryConfig":
        return cls(n_train=1347, widths=(256, 256), epochs=60, n_pairs=8, device="auto")


@dataclass
class SymmetryResult(ResultBase):
    """Per pair: relative distance ‖θ_A − θ_B‖/‖θ_A‖ ``distance_before``/``distance_after`` alignment;
    test ``error_barrier_*`` and ``loss_barrier_*``; ``disagreement`` on test inputs and the two networks'
    ``test_error`` (pairs × 2). ``alpha``, ``error_before``, ``error_after`` (pairs × points): the curves.
    Controls per pair: ``distance_random`` and ``loss_barrier_random`` after a uniformly random permutation of
    B's hidden units in place of weight matching (a negative control: any permutation computes the same
    function, so only a matched one should lower the barrier); ``init_distance_before``/``_after``: the two
    networks' initialisations, before and after weight matching (the untrained baseline of how much
    distance matching removes from networks that share nothing but their architecture)."""

    distance_before: np.ndarray
    distance_after: np.ndarray
    error_barrier_before: np.ndarray
    error_barrier_after: np.ndarray
    loss_barrier_before: np.ndarray
    loss_barrier_after: np.ndarray
    disagreement: np.ndarray
    test_error: np.ndarray
    alpha: np.ndarray
    error_before: np.ndarray
    error_after: np.ndarray
    loss_before: np.ndarray
    loss_after: np.ndarray
    distance_random: np.ndarray | float = float("nan")
    loss_barrier_random: np.ndarray | float = float("nan")
    init_distance_before: np.ndarray | float = float("nan")
    init_distance_after: np.ndarray | float = float("nan")


def run_symmetry(config: SymmetryConfig, *, progress: bool = True, use_cache: bool = True) -> SymmetryResult:
    """Train the pairs, align each B to its A, and measure distances, barriers and disagreement."""

    def compute() -> SymmetryResult:
        device = runtime.device(config.device)
        dataset = data.load(config.dataset, n_train=config.n_train, seed=config.seed, device=device)
        n_steps = config.epochs * (dataset.x_train.shape[0] // config.batch_size)
        rows: list[dict[str, object]] = []
        for pair in runtime.progress_bar(range(config.n_pairs), "pairs", progress):
            thetas, initial = [], []
            for member in range(2):
                seed = config.seed + 1000 * pair + member
                network = _model(config, dataset, seed)
                initial.append(models.flat_parameters(network).detach().cpu().numpy().astype(np.float64))
                record = replicas.train_replicas(
                    network.to(device), dataset, n_replicas=1, perturbation=0.0,
                    lr=config.lr, n_steps=n_steps, batch_size=config.batch_size, seed=seed, device=device,
                )
                thetas.append(record.final_parameters[0].astype(np.float64))
            template = _model(config, dataset, config.seed).double()
            aligned, _ = symmetry.align(template, thetas[0], thetas[1])
            shuffled = symmetry.permute(template, thetas[1],
                                        symmetry.random_permutations(template, seed=config.seed + 1000 * pair))
            initial_aligned, _ = symmetry.align(template, initial[0], initial[1])
            x_test, y_test = dataset.x_test.cpu().double(), dataset.y_test.cpu()
            before = barriers.interpolation_curve(template, thetas[0], thetas[1], x_test, y_test, n_points=config.n_points)
            after = barriers.interpolation_curve(template, thetas[0], aligned, x_test, y_test, n_points=config.n_points)
            random = barriers.interpolation_curve(template, thetas[0], shuffled, x_test, y_test, n_points=config.n_points)
            norm, initial_norm = np.linalg.norm(thetas[0]), np.linalg.norm(initial[0])
            predictions = _outputs(template.float(), np.stack(thetas), dataset.x_test.cpu()).argmax(-1).numpy()
            rows.append({
                "distance_random": np.linalg.norm(thetas[0] - shuffled) / norm,
                "loss_barrier_random": random["loss_barrier"],
                "init_distance_before": np.linalg.norm(initial[0] - initial[1]) / initial_norm,
                "init_distance_after": np.linalg.norm(initial[0] - initial_aligned) / initial_norm,
                "distance_before": np.linalg.norm(thetas[0] - thetas[1]) / norm,
                "distance_after": np.linalg.norm(thetas[0] - aligned) / norm,
                "error_barrier_before": before["error_barrier"], "error_barrier_after": after["error_barrier"],
                "loss_barrier_before": before["loss_barrier"], "loss_barrier_after": after["loss_barrier"],
                "disagreement": float((predictions[0] != predictions[1]).mean()),
                "test_error": np.array([before["error"][0], before["error"][-1]]),
                "error_before": before["error"], "error_after": after["error"],
                "loss_before": before["loss"], "loss_after": after["loss"], "alpha": before["alpha"],
            })
        columns = {key: np.array([row[key] for row in rows]) for key in rows[0]}
        columns["alpha"] = columns["alpha"][0]
        return SymmetryResult(**columns)

    return runtime.cached(compute, config, SymmetryResult, use_cache=use_cache)


def barrier_reduction(result: SymmetryResult, confidence: float = 0.95) -> dict[str, object]:
    """What alignment removes, per pair, with Student-t intervals over the pairs.

    ``loss_reduction``: per pair 1 − B_after / B_before of the loss barrier B; ``loss_drop`` and
    ``error_drop``: B_before − B_after of the loss and test-error barriers; ``random_reduction``: 1 −
    B_random / B_before for a random permutation (the negative control); ``init_distance_removed`` and
    ``trained_distance_removed``: the share of the relative distance that matching removes from the
    untrained and from the trained pair; ``disagreement``: the share of test inputs the pair disagrees on.
    Each comes as ``(mean, interval)`` from :func:`uniq_core.stats.t_interval` (NaN interval with a single pair), plus
    the per-pair values under ``*_per_pair``.
    """
    check_number("confidence", confidence, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    before, after = np.asarray(result.loss_barrier_before), np.asarray(result.loss_barrier_after)
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = np.where(before > 0, 1 - after / before, np.nan)
        field = lambda name: np.asarray(getattr(result, name, np.nan), dtype=float)  # noqa: E731 (older Results lack controls)
        random = np.where(before > 0, 1 - field("loss_barrier_random") / before, np.nan)
        init_removed = 1 - field("init_distance_after") / field("init_distance_before")
        trained_removed = 1 - field("distance_after") / field("distance_before")
    out: dict[str, object] = {}
    for name, values in (("loss_reduction", reduction), ("loss_drop", before - after),
                         ("error_drop", np.asarray(result.error_barrier_before) - np.asarray(result.error_barrier_after)),
                         ("random_reduction", random), ("init_distance_removed", init_removed),
                         ("trained_distance_removed", trained_removed),
                         ("disagreement", field("disagreement"))):
        out[name] = stats.t_interval(np.broadcast_to(values, before.shape), confidence)
        out[f"{name}_per_pair"] = values
    return out


# ---------------------------------------------------------------------------------------------- regimes


@dataclass(frozen=True)
class TopologySweepConfig(ConfigBase):
    """:class:`TopologyConfig` over ``perturbations`` × ``widths_grid`` (one hidden layer each).

    One decision rule for the whole grid: Holm over its 2 × settings tests (both spaces at every setting),
    so the base test's smallest p-value must lie below level / (2 × settings). The grid reports tests, not
    diagrams, so its base reduces whole-run clouds (used only for figures) to ``max_points`` landmarks."""

    base: TopologyConfig = TopologyConfig(max_points=100)  # replicates keep every point; whole runs use landmarks
    perturbations: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    widths_grid: tuple[int, ...] = (16, 64)

    def __post_init__(self) -> None:
        if not isinstance(self.base, TopologyConfig):
            raise ValueError(f"base={self.base!r} must be a TopologyConfig")
        check_numbers("perturbations", self.perturbations, low=0.0, high=10.0, low_inclusive=False)
        check_numbers("widths_grid", self.widths_grid, low=1, high=1024, integer=True)
        _check_test(self.base, 2 * len(self.perturbations) * len(self.widths_grid), runs_field="base.n_runs")

    @classmethod
    def quick(cls) -> "TopologySweepConfig":
        return cls()

    @classmethod
    def full(cls) -> "TopologySweepConfig":
        return cls(base=TopologyConfig.full().replace(max_points=500), widths_grid=(16, 64, 256))


@dataclass
class TopologySweepResult(ResultBase):
    """(widths × perturbations) grids: ``weight_ratio``, ``weight_p_value``, ``function_ratio``,
    ``function_p_value``; ``weight_p_holm`` and ``function_p_holm``, Holm-adjusted over every test of the
    grid (runs are distinguishable at a setting and in a space where it is below ``level``); mean test
    ``disagreement`` between runs and ``accuracy_spread`` (standard deviation of the runs' test
    accuracies). Settings where too many runs diverged are NaN and are not counted as tests."""

    perturbations: np.ndarray
    widths: np.ndarray
    weight_ratio: np.ndarray
    weight_p_value: np.ndarray
    function_ratio: np.ndarray
    function_p_value: np.ndarray
    weight_p_holm: np.ndarray
    function_p_holm: np.ndarray
    disagreement: np.ndarray
    accuracy_spread: np.ndarray
    level: float


def _sweep_point(point: TopologyConfig) -> TopologyResult | None:
    """One grid point through :func:`run_topology` (and its cache); ``None`` where too many runs diverged."""
    try:
        return run_topology(point, progress=False)
    except ValueError:
        return None


def run_topology_sweep(config: TopologySweepConfig, *, progress: bool = True, use_cache: bool = True,
                       executor: Any = None) -> TopologySweepResult:
    """Each grid point through :func:`run_topology` (and its cache), on ``executor`` when given
    (:func:`uniq_core.runtime.map_runs`); Holm over the whole grid."""

    def compute() -> TopologySweepResult:
        shape = (len(config.widths_grid), len(config.perturbations))
        grids = {name: np.full(shape, np.nan) for name in ("weight_ratio", "weight_p_value", "function_ratio",
                                                           "function_p_value", "disagreement", "accuracy_spread")}
        points = [(i, j) for i in range(shape[0]) for j in range(shape[1])]
        configs = [config.base.replace(widths=(config.widths_grid[i],), perturbation=config.perturbations[j])
                   for i, j in points]
        results = runtime.map_runs(_sweep_point, configs, executor=executor, description="grid", progress=progress)
        for (i, j), result in zip(points, results):
            if result is None:
                continue  # too many runs diverged at this point: left NaN
            for name in ("weight_ratio", "weight_p_value", "function_ratio", "function_p_value"):
                grids[name][i, j] = getattr(result, name)
            off = ~np.eye(len(result.disagreement), dtype=bool)
            grids["disagreement"][i, j] = result.disagreement[off].mean()
            grids["accuracy_spread"][i, j] = float(np.std(result.test_accuracy, ddof=1))
        adjusted = stats.holm_adjusted(np.stack([grids["weight_p_value"], grids["function_p_value"]]))
        return TopologySweepResult(perturbations=np.array(config.perturbations), widths=np.array(config.widths_grid),
                                   weight_p_holm=adjusted[0], function_p_holm=adjusted[1],
                                   level=float(config.base.level), **grids)

    return runtime.cached(compute, config, TopologySweepResult, use_cache=use_cache)


# ----------------------------------------------------------------------------------- test calibration


@dataclass(frozen=True)
class CalibrationConfig(ConfigBase):
    """Size and power of the chapter's two tests on path-shaped data with a known answer: ``n_sets`` sets of
    independent Gaussian random walks (``n_points`` points in ``dimension`` dimensions). Per set, two groups
    of ``n_runs`` // 2 walks with one step size (they differ only by chance) and a third group whose step
    size is ``step_ratio`` times larger (a planted difference). The replicate test (random halves of each
    walk, runs as groups) is applied to the first two groups' walks; the two-sample test to the first group
    against the second (its size) and against the third (its power). A fourth group's walks share their
    increments with correlation ``shared_correlation`` (each walk's marginal law unchanged), as runs that
    share an initialisation or a data order do; the two-sample test against independent walks then measures
    that dependence. The defaults mirror the chapter's design: seven runs per group."""

    n_sets: int = 40
    n_runs: int = 14
    n_points: int = 60
    dimension: int = 20
    step_ratio: float = 1.3
    shared_correlation: float = 0.99
    n_permutations: int = 199
    level: float = 0.05
    seed: int = 0

    def __post_init__(self) -> None:
        check_number("n_sets", self.n_sets, low=1, high=10_000, integer=True)
        check_number("shared_correlation", self.shared_correlation, low=0.0, high=1.0)
        check_number("n_runs", self.n_runs, low=4, high=256, integer=True)
        check_number("n_points", self.n_points, low=4, high=5000, integer=True)
        check_number("dimension", self.dimension, low=1, high=100_000, integer=True)
        check_number("step_ratio", self.step_ratio, low=0.0, low_inclusive=False)
        check_number("n_permutations", self.n_permutations, low=19, high=100_000, integer=True)
        check_number("level", self.level, low=0.0, high=0.5, low_inclusive=False)

    @classmethod
    def quick(cls) -> "CalibrationConfig":
        return cls()

    @classmethod
    def full(cls) -> "CalibrationConfig":
        return cls(n_sets=200, n_points=200, dimension=100, n_permutations=999)


@dataclass
class CalibrationResult(ResultBase):
    """Per set (``n_sets``,): ``replicate_p`` (the replicate test on walks that differ only by chance),
    ``null_p`` (the two-sample test, groups that differ only by chance), ``planted_p`` (the two-sample test
    against walks with a larger step) and ``shared_p`` (independent walks against walks with shared
    increments, the same marginal law). ``*_rate``: the share of sets rejected at ``level``, with its
    Wilson interval ``*_low``/``*_high`` (sets are independent)."""

    replicate_p: np.ndarray
    null_p: np.ndarray
    planted_p: np.ndarray
    replicate_rate: float
    replicate_low: float
    replicate_high: float
    null_rate: float
    null_low: float
    null_high: float
    planted_rate: float
    planted_low: float
    planted_high: float
    level: float
    shared_p: np.ndarray | float = float("nan")
    shared_rate: float = float("nan")
    shared_low: float = float("nan")
    shared_high: float = float("nan")


def run_calibration(config: CalibrationConfig, *, progress: bool = True, use_cache: bool = True) -> CalibrationResult:
    """The replicate test and the two-sample test on random walks: size where nothing differs, power where
    the step size does."""

    def compute() -> CalibrationResult:
        rng = np.random.default_rng(config.seed)
        half = config.n_runs // 2
        out = {"replicate": [], "null": [], "planted": [], "shared": []}
        rho = config.shared_correlation
        for index in runtime.progress_bar(range(config.n_sets), "sets", progress):
            walks = topology.random_walks(2 * half, config.n_points, config.dimension, rng=rng)
            larger = topology.random_walks(half, config.n_points, config.dimension, step=config.step_ratio, rng=rng)
            common = rng.normal(size=(config.n_points, config.dimension))
            shared = [np.cumsum(np.sqrt(rho) * common + np.sqrt(1 - rho) * rng.normal(size=common.shape), axis=0)
                      for _ in range(half)]
            out["replicate"].append(replicates_test(walks, n_replicates=2, max_points=config.n_points,
                                                    n_permutations=config.n_permutations,
                                                    seed=config.seed + index)["p_value"])
            diagrams = [topology.persistence(walk, 1, max_points=None) for walk in walks + larger + shared]
            null = topology.landscape_vectors(diagrams[: 2 * half])
            planted = topology.landscape_vectors(diagrams[:half] + diagrams[2 * half: 3 * half])
            dependent = topology.landscape_vectors(diagrams[:half] + diagrams[3 * half:])
            out["shared"].append(topology.two_sample_test(dependent[:half], dependent[half:],
                                                          n_permutations=config.n_permutations,
                                                          seed=config.seed + index)[1])
            out["null"].append(topology.two_sample_test(null[:half], null[half:], n_permutations=config.n_permutations,
                                                        seed=config.seed + index)[1])
            out["planted"].append(topology.two_sample_test(planted[:half], planted[half:],
                                                           n_permutations=config.n_permutations,
                                                           seed=config.seed + index)[1])
        fields: dict[str, Any] = {}
        for name, values in out.items():
            values = np.asarray(values, dtype=np.float64)
            rejected = int(np.sum(values < config.level))
            low, high = stats.wilson_interval(rejected, len(values))
            fields.update({f"{name}_p": values, f"{name}_rate": rejected / len(values), f"{name}_low": low,
                           f"{name}_high": high})
        return CalibrationResult(**fields, level=float(config.level))

    return runtime.cached(compute, config, CalibrationResult, use_cache=use_cache)


# ---------------------------------------------------------------------------------------------- findings

#: Alignment removes *most* of the loss barrier when the lower end of the 95% interval of the per-pair
#: reduction 1 − B_after / B_before is above this fraction (and *part* of it when that end is above 0).
MOST_OF_THE_BARRIER = 0.5


def findings(results: Mapping[str, Any], configs: Mapping[str, Any]) -> dict[str, float | int | str]:
    """Every number and computed word chapter 3 glues, by glue name.

    ``results``: ``"circle"`` (:func:`uniq_core.topology.persistence` diagrams of points evenly spaced on the
    unit circle), ``"noisy"`` (diagrams of the noisy circle) and ``"noisy_radius"`` (its landmarks' covering
    radius), ``"topology"`` and ``"independent"`` (:class:`TopologyResult` with one and with independent data
    orders), ``"symmetry"`` (:class:`SymmetryResult`), ``"sweep"`` (:class:`TopologySweepResult`),
    ``"calibration"`` (:class:`CalibrationResult`; its config under ``configs["calibration"]``).
    ``configs``: ``"circle"`` (a dict with ``n_points``, ``noisy_points`` and ``landmarks``), ``"topology"``
    (the :class:`TopologyConfig` of ``results["topology"]``), ``"symmetry"``, ``"sweep"``. Names: ``circle_*``
    and ``noisy_*`` (validation), ``tr_*`` and ``in_*`` (trajectories), ``sy_*`` (symmetry), ``sw_*`` (regimes)
    and ``claim_topology*`` / ``claim_reproducibility*`` (the verdicts, as on the verdict page).
    """
    trajectories, independent = results["topology"], results["independent"]
    adjusted, rejected = holm_decisions([trajectories, independent])
    sweep_said, sweep_significant = _sweep_findings(results["sweep"], configs["sweep"])
    return {
        **_circle_findings(results["circle"], results["noisy"], results["noisy_radius"], configs["circle"]),
        **_trajectory_findings(trajectories, configs["topology"], adjusted, rejected),
        **_independent_findings(independent, adjusted, rejected),
        **_calibration_findings(results["calibration"], configs["calibration"]),
        **_two_sample_findings(trajectories, independent),
        **_symmetry_findings(results["symmetry"], configs["symmetry"]),
        **sweep_said,
        **_verdict_findings(trajectories, independent),
    }


def _verdict_findings(trajectories: TopologyResult, independent: TopologyResult) -> dict[str, float | int | str]:
    """The verdict page's rows for the topology and uniqueness claims, from the same row functions."""
    from uniq_core.experiments import verdicts

    return verdicts.claim_findings(verdicts.row_topology(trajectories),
                                   verdicts.row_reproducibility(trajectories, independent=independent))


def _circle_findings(circle: dict[int, np.ndarray], noisy: dict[int, np.ndarray], noisy_radius: float,
                     sizes: Mapping[str, int]) -> dict[str, float | int | str]:
    """The known answers: the H1 bar of n evenly spaced points on the unit circle, and the noisy circle's loop."""
    n = sizes["n_points"]
    exact_birth, exact_death = 2 * np.sin(np.pi / n), 2 * np.sin(np.pi * np.ceil(n / 3) / n)
    birth, death = float(circle[1][0, 0]), float(circle[1][0, 1])
    lengths = noisy[1][:, 1] - noisy[1][:, 0]  # longest first
    return {
        "circle_n": int(n),
        "noisy_points": f"{sizes['noisy_points']:,}",
        "noisy_landmarks": int(sizes["landmarks"]),
        "circle_birth": birth,
        "circle_death": death,
        "circle_birth_error": float(abs(birth - exact_birth)),
        "circle_death_error": float(abs(death - exact_death)),
        "circle_h1_count": len(circle[1]),
        "noisy_long": float(lengths[0]) if len(lengths) else 0.0,
        "noisy_second": float(lengths[1]) if len(lengths) > 1 else 0.0,
        "noisy_radius": float(noisy_radius),
    }


def _off_diagonal(matrix: np.ndarray) -> np.ndarray:
    """The entries of a square (runs, runs) matrix between two different runs."""
    return matrix[~np.eye(len(matrix), dtype=bool)]


def _distinct(rejected: np.ndarray) -> str:
    """Whether the replicate test rejects for one family after Holm's correction (a test that does not keep
    its size on paths: the word reports the test, not the runs)."""
    return "rejects" if rejected.any() else "does not reject"


def _trajectory_findings(result: TopologyResult, config: TopologyConfig, adjusted: np.ndarray,
                         rejected: np.ndarray) -> dict[str, float | int | str]:
    """The ``tr_*`` names: runs from one data order, their test, diagrams, disagreement and accuracy."""
    runs = int((~result.diverged).sum())
    disagreement = _off_diagonal(result.disagreement)
    accuracy = float(np.mean(result.test_accuracy))
    no_loop = len(result.weight_diagram_h1) == 0 and len(result.function_diagram_h1) == 0
    return {
        "tr_runs": runs,
        "tr_perturbation": float(config.perturbation),
        "tr_parameters": f"{result.n_parameters:,}",
        "tr_checkpoints": int(result.weight_points.shape[1]),
        "tr_replicates": int(config.n_replicates),
        "tr_permutations": f"{config.n_permutations:,}",
        "tr_smallest_p": float(stats.smallest_permutation_p(runs, config.n_replicates, config.n_permutations)),
        "tr_level": float(config.level),
        "tr_tests": int(adjusted.size),
        "tr_weight_p": float(result.weight_p_value),
        "tr_function_p": float(result.function_p_value),
        "tr_weight_holm": float(adjusted[0, 0]),
        "tr_function_holm": float(adjusted[0, 1]),
        "tr_weight_ratio": float(result.weight_ratio),
        "tr_function_ratio": float(result.function_ratio),
        "tr_h1_bars": len(result.weight_diagram_h1),
        "tr_h1_loops": grammar.plural(len(result.weight_diagram_h1), "loop"),
        "tr_h1_function_bars": len(result.function_diagram_h1),
        "tr_disagreement": 100 * float(disagreement.mean()),
        "tr_reference_disagreement": _reference_disagreement_text(result),
        "tr_disagreement_max": 100 * float(disagreement.max()),
        "tr_accuracy": 100 * accuracy,
        "tr_accuracy_spread": 100 * float(np.std(result.test_accuracy, ddof=1)),
        "tr_error": 100 - 100 * accuracy,
        "tr_disagreement_vs_error": "below" if disagreement.mean() < 1 - accuracy else "above",
        "tr_distinct": _distinct(rejected[0]),
        "tr_line": "Its topology is that of a line, whichever run it is." if no_loop
        else "Loops do appear, so the diagram is more than that of a line.",
    }


def _reference_disagreement_text(result: TopologyResult) -> str:
    """The share of test inputs on which each perturbed run disagrees with the reference: the mean and every
    run's value (a share with many exact zeros has no useful symmetric interval)."""
    values = 100 * np.asarray(result.disagreement, dtype=float)[0, 1:]
    if not values.size:
        return "no perturbed run"
    return (f"{np.mean(values):.2f}% of test inputs on average (per run: "
            + ", ".join(f"{value:.2f}%" for value in values) + ")")


def _independent_findings(result: TopologyResult, adjusted: np.ndarray,
                          rejected: np.ndarray) -> dict[str, float | int | str]:
    """The ``in_*`` names: the same test on runs with independent data orders (row 1 of the Holm family)."""
    return {
        "in_weight_p": float(result.weight_p_value),
        "in_function_p": float(result.function_p_value),
        "in_weight_holm": float(adjusted[1, 0]),
        "in_function_holm": float(adjusted[1, 1]),
        "in_weight_ratio": float(result.weight_ratio),
        "in_disagreement": 100 * float(_off_diagonal(result.disagreement).mean()),
        "in_reference_disagreement": _reference_disagreement_text(result),
        "in_accuracy_spread": 100 * float(np.std(result.test_accuracy, ddof=1)),
        "in_distinct": _distinct(rejected[1]),
    }


def two_sample_family(trajectories: TopologyResult, independent: TopologyResult) -> dict[str, np.ndarray]:
    """The chapter's two-sample family: runs sharing one data order against runs with their own orders, in
    weight and in function space (:func:`compare_runs`), Holm-adjusted over the two spaces. Returns ``raw``
    and ``holm`` (2,) p-values and ``rejected`` (2,) at the trajectories' level."""
    raw = np.array([compare_runs(trajectories, independent, space, seed=index)["p_value"]
                    for index, space in enumerate(SPACES)])
    holm = stats.holm_adjusted(raw)
    return {"raw": raw, "holm": holm, "rejected": holm < trajectories.level}


def _percent_interval(rate: float, low: float, high: float) -> str:
    return f"{100 * rate:.0f}% (95% Wilson interval {100 * low:.0f}% to {100 * high:.0f}%)"


def _calibration_findings(result: CalibrationResult, config: CalibrationConfig) -> dict[str, float | int | str]:
    """The ``cal_*`` names: both tests' rejection rates on random walks, with their intervals."""
    return {
        "cal_sets": int(config.n_sets),
        "cal_walks": int(config.n_runs // 2),
        "cal_points": int(config.n_points),
        "cal_dimension": int(config.dimension),
        "cal_ratio": float(config.step_ratio),
        "cal_level": float(result.level),
        "cal_replicate": _percent_interval(result.replicate_rate, result.replicate_low, result.replicate_high),
        "cal_null": _percent_interval(result.null_rate, result.null_low, result.null_high),
        "cal_planted": _percent_interval(result.planted_rate, result.planted_low, result.planted_high),
        "cal_replicate_holds": "keeps" if result.replicate_high <= 2 * result.level else "does not keep",
        "cal_null_holds": "is consistent with" if result.null_low <= result.level <= result.null_high
        else "is below" if result.null_high < result.level else "exceeds",
        "cal_shared": _percent_interval(result.shared_rate, result.shared_low, result.shared_high),
        "cal_correlation": float(config.shared_correlation),
    }


def _two_sample_findings(trajectories: TopologyResult, independent: TopologyResult) -> dict[str, float | int | str]:
    """The ``ts_*`` names: the two-sample family between data orders, and splits of one setting's runs."""
    family = two_sample_family(trajectories, independent)
    splits = {space: null_splits(trajectories, space) for space in SPACES}
    level = float(trajectories.level)
    return {
        "ts_runs": len(run_diagrams(trajectories, "weight")) - 1,
        "ts_weight_p": float(family["raw"][0]),
        "ts_function_p": float(family["raw"][1]),
        "ts_weight_holm": float(family["holm"][0]),
        "ts_function_holm": float(family["holm"][1]),
        "ts_word": "rejects in both spaces" if family["rejected"].all() else "rejects in one space only"
        if family["rejected"].any() else "does not reject",
        "ts_splits": int(len(splits["weight"])),
        "ts_split_weight": int(np.sum(splits["weight"] < level)),
        "ts_split_function": int(np.sum(splits["function"] < level)),
    }


def _falls(interval_low: float) -> str:
    """Whether a barrier falls: the lower end of the 95% interval of its drop is above 0."""
    return "falls" if interval_low > 0 else "does not fall significantly"


def _basin(loss_reduction_low: float) -> str:
    """How much of the loss barrier is a permutation, from the lower end of the reduction's interval."""
    if loss_reduction_low > MOST_OF_THE_BARRIER:
        return "Most of the loss barrier between independently trained networks is a permutation of hidden units"
    if loss_reduction_low > 0:
        return "Part of the loss barrier is a permutation of hidden units"
    return "Alignment removes no significant part of the loss barrier"


def _symmetry_findings(result: SymmetryResult, config: SymmetryConfig) -> dict[str, float | int | str]:
    """The ``sy_*`` names: distances, barriers and disagreement of independent pairs before and after alignment."""
    reduction = barrier_reduction(result)
    loss_centre, loss_interval = reduction["loss_reduction"]
    error_centre, error_interval = reduction["error_drop"]
    return {
        "sy_pairs": int(config.n_pairs),
        "sy_width": int(config.widths[0]),
        "sy_distance_before": float(np.mean(result.distance_before)),
        "sy_distance_after": float(np.mean(result.distance_after)),
        "sy_loss_before": float(np.mean(result.loss_barrier_before)),
        "sy_loss_after": float(np.mean(result.loss_barrier_after)),
        "sy_error_before": 100 * float(np.mean(result.error_barrier_before)),
        "sy_error_after": 100 * float(np.mean(result.error_barrier_after)),
        "sy_disagreement": 100 * float(np.mean(result.disagreement)),
        "sy_test_error": 100 * float(np.mean(result.test_error)),
        "sy_loss_reduction": float(loss_centre),
        "sy_loss_reduction_low": float(loss_interval[0]),
        "sy_loss_reduction_high": float(loss_interval[1]),
        "sy_error_drop": float(100 * error_centre),
        "sy_error_drop_low": 100 * float(error_interval[0]),
        "sy_error_drop_high": 100 * float(error_interval[1]),
        "sy_loss_word": _falls(loss_interval[0]),
        "sy_error_word": _falls(error_interval[0]),
        "sy_basin": _basin(loss_interval[0]),
        **_symmetry_control_findings(reduction),
    }


def _interval_text(centre: float, interval: np.ndarray, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    """"c (95% t-interval over pairs a to b)" with the values multiplied by ``scale``."""
    return (f"{scale * centre:.{digits}f}{unit} (95% t-interval over pairs {scale * interval[0]:.{digits}f}{unit} "
            f"to {scale * interval[1]:.{digits}f}{unit})")


def _symmetry_control_findings(reduction: Mapping[str, Any]) -> dict[str, float | int | str]:
    """The negative control (a random permutation), the untrained baseline, and the disagreement's interval."""
    random_centre, random_interval = reduction["random_reduction"]
    init_centre, init_interval = reduction["init_distance_removed"]
    trained_centre, trained_interval = reduction["trained_distance_removed"]
    loss_centre, loss_interval = reduction["loss_reduction"]
    disagreement_centre, disagreement_interval = reduction["disagreement"]
    return {
        "sy_random_reduction": _interval_text(random_centre, random_interval, 100, 0, "%"),
        "sy_random_word": "leaves the barrier where it was" if random_interval[0] <= 0 <= random_interval[1]
        else "changes the barrier" if np.isfinite(random_interval).all() else "is not resolved",
        "sy_init_removed": _interval_text(init_centre, init_interval, 100, 0, "%"),
        "sy_trained_removed": _interval_text(trained_centre, trained_interval, 100, 0, "%"),
        "sy_matching_compare": "more than" if trained_interval[0] > init_interval[1]
        else "less than" if trained_interval[1] < init_interval[0] else "not distinguishably more than",
        "sy_control_says": "the matching, not any permutation, lowers the barrier"
        if loss_interval[0] > 0 and random_interval[1] < loss_interval[0]
        else "the control does not separate matching from any permutation",
        "sy_disagreement_interval": _interval_text(disagreement_centre, disagreement_interval, 100, 2, "%"),
    }


def _sweep_outcome(result: TopologySweepResult, raw: np.ndarray, columns: np.ndarray) -> dict[str, str]:
    """The ``sw_outcome`` and ``sw_verdict`` sentences: the first rejecting perturbation, or the nearest miss."""
    if len(columns):
        first = f"{result.perturbations[columns[0]]:g}"
        return {"sw_outcome": f"The replicate test rejects from a perturbation of {first}",
                "sw_verdict": f"Across the grid, the replicate test rejects from a perturbation of {first}"}
    space, width, column = np.unravel_index(np.nanargmin(raw), raw.shape)
    uncorrected = int(np.sum(np.nan_to_num(raw, nan=1.0) < result.level))
    return {
        "sw_outcome": f"No setting rejects. The smallest uncorrected p-value, {np.nanmin(raw):.3f}, is in "
                      f"{['weight', 'function'][space]} space at perturbation {result.perturbations[column]:g} and "
                      f"width {int(result.widths[width])}; uncorrected tests would have rejected {uncorrected} of "
                      f"the {int(np.isfinite(raw).sum())}",
        "sw_verdict": f"No setting of the grid, up to a perturbation of {result.perturbations[-1]:g}, makes the "
                      "replicate test reject after the correction",
    }


def _sweep_findings(result: TopologySweepResult,
                    config: TopologySweepConfig) -> tuple[dict[str, float | int | str], bool]:
    """The ``sw_*`` names over the grid (spaces × widths × perturbations), and whether any test of it rejects."""
    raw = np.stack([result.weight_p_value, result.function_p_value])
    holm = np.stack([result.weight_p_holm, result.function_p_holm])
    significant = np.nan_to_num(holm, nan=1.0) < result.level
    columns = np.flatnonzero(significant.any(axis=(0, 1)))
    small = float(np.nanmean(result.disagreement[:, 0]))
    large = float(np.nanmean(result.disagreement[:, -1]))
    base = config.base
    said: dict[str, float | int | str] = {
        "sw_points": int(np.isfinite(raw[0]).sum()),
        "sw_tests": int(np.isfinite(raw).sum()),
        "sw_significant": int(significant.sum()),
        "sw_min_raw": float(np.nanmin(raw)),
        "sw_min_holm": float(np.nanmin(holm)),
        "sw_smallest_p": float(stats.smallest_permutation_p(base.n_runs, base.n_replicates, base.n_permutations)),
        **_sweep_outcome(result, raw, columns),
        "sw_disagreement_small": 100 * small,
        "sw_disagreement_large": 100 * large,
        "sw_disagreement_word": "grows" if large > small else "falls" if large < small else "stays",
        "sw_pert_small": float(result.perturbations[0]),
        "sw_pert_large": float(result.perturbations[-1]),
    }
    return said, bool(significant.any())
