"""Hidden-unit permutations of MLPs: apply them, and align two networks by weight matching.

Permuting the units of hidden layer l (rows of W_l and b_l, columns of W_{l+1}) leaves the function of an
MLP unchanged, so every network has at least ∏_l n_l! weight vectors computing the same function. Weight
matching (Ainsworth et al. 2023, Git Re-Basin) picks the permutations of network B that maximise
Σ_l ⟨W_l^A, P_l W_l^B P_{l−1}ᵀ⟩ + ⟨b_l^A, P_l b_l^B⟩, one linear assignment problem per layer given its
neighbours, iterated layer by layer until no permutation changes (exact for one hidden layer).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from torch import nn

from uniq_core.models import MLP


def _layers(model: nn.Module, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    if not isinstance(model, MLP):
        raise TypeError(f"hidden-unit permutations are implemented for uniq_core.models.MLP; got {type(model).__name__}")
    theta = np.asarray(theta, dtype=np.float64)
    shapes = [tuple(p.shape) for p in model.parameters()]
    total = sum(int(np.prod(s)) for s in shapes)
    if theta.shape != (total,):
        raise ValueError(f"theta must be a flat vector of {total} parameters for this model; got shape {theta.shape}")
    arrays, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        arrays.append(theta[offset:offset + size].reshape(shape))
        offset += size
    return [(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]


def _flatten(layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    return np.concatenate([array.ravel() for layer in layers for array in layer])


def permute(model: nn.Module, theta: np.ndarray, permutations: list[np.ndarray]) -> np.ndarray:
    """θ with the units of hidden layer l reordered by ``permutations[l]`` (new unit i = old unit p[i])."""
    layers = _layers(model, theta)
    if len(permutations) != len(layers) - 1:
        raise ValueError(f"need one permutation per hidden layer ({len(layers) - 1}); got {len(permutations)}")
    out = [(w.copy(), b.copy()) for w, b in layers]
    for l, perm in enumerate(permutations):
        perm = np.asarray(perm)
        if sorted(perm.tolist()) != list(range(len(layers[l][1]))):
            raise ValueError(f"permutations[{l}] is not a permutation of {len(layers[l][1])} units")
        out[l] = (out[l][0][perm], out[l][1][perm])
        out[l + 1] = (out[l + 1][0][:, perm], out[l + 1][1])
    return _flatten(out)


def random_permutations(model: nn.Module, seed: int = 0) -> list[np.ndarray]:
    """One uniformly random permutation per hidden layer of ``model``."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(width) for width in model.widths]


def align(model: nn.Module, theta_a: np.ndarray, theta_b: np.ndarray, *, max_sweeps: int = 50) -> tuple[np.ndarray, list[np.ndarray]]:
    """Weight matching: permutations of B's hidden units that bring θ_B closest to θ_A.

    Returns (permuted θ_B, permutations). Maximising the inner product above is the same as minimising
    ‖θ_A − π(θ_B)‖, since permutations preserve ‖θ_B‖.
    """
    a, b = _layers(model, theta_a), _layers(model, theta_b)
    widths = [len(bias) for _, bias in a[:-1]]
    perms = [np.arange(n) for n in widths]
    for _ in range(max_sweeps):
        changed = False
        for l in range(len(widths)):
            w_in_b = b[l][0] if l == 0 else b[l][0][:, perms[l - 1]]
            similarity = a[l][0] @ w_in_b.T + np.outer(a[l][1], b[l][1])
            w_out_b = b[l + 1][0] if l + 1 == len(widths) else b[l + 1][0][perms[l + 1]]
            similarity += a[l + 1][0].T @ w_out_b
            _, best = linear_sum_assignment(similarity, maximize=True)
            if not np.array_equal(best, perms[l]):
                perms[l], changed = best, True
        if not changed:
            break
    return permute(model, theta_b, perms), perms
