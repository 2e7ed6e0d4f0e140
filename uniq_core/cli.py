"""Headless runs: ``python -m uniq_core list`` and ``python -m uniq_core run EXPERIMENT``.

Every ``run`` goes through the results cache, so a machine with a GPU can fill the cache that a later
``make book UNIQ_PROFILE=full`` reads. With ``--scheduler tcp://HOST:PORT`` the run is sent to a Dask
cluster's workers (``distributed.Client(address).get_executor()``).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import json
import math
import os
import pkgutil
import sys
import typing
from typing import Any, Callable, Sequence

import numpy as np

from uniq_core import runtime

EXPERIMENT_PACKAGE = "uniq_core.experiments"


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One ``run(config) -> Result`` function and its Config class, under the name the CLI knows it by."""

    name: str
    run: Callable[..., Any]
    config_type: type

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.run) or inspect.getdoc(self.config_type) or ""
        return doc.split("\n\n")[0].replace("\n", " ")


def experiments() -> dict[str, Experiment]:
    """Every experiment of :mod:`uniq_core.experiments`: each module-level ``run`` or ``run_X`` whose first
    argument is annotated with a Config dataclass. Named ``module`` (``run``, ``run_module``) or
    ``module.X``."""
    package = importlib.import_module(EXPERIMENT_PACKAGE)
    found: dict[str, Experiment] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{EXPERIMENT_PACKAGE}.{info.name}")
        for attribute, function in vars(module).items():
            if not (attribute == "run" or attribute.startswith("run_")) or not inspect.isfunction(function):
                continue
            if function.__module__ != module.__name__:
                continue
            hints = typing.get_type_hints(function)
            parameters = list(inspect.signature(function).parameters)
            config_type = hints.get(parameters[0]) if parameters else None
            if not (isinstance(config_type, type) and dataclasses.is_dataclass(config_type)
                    and hasattr(config_type, "quick")):
                continue
            suffix = attribute[len("run_"):] if attribute.startswith("run_") else ""
            suffix = suffix.removeprefix(f"{info.name}_")
            name = info.name if suffix in ("", info.name, info.name.rstrip("s")) else f"{info.name}.{suffix}"
            found[name] = Experiment(name, function, config_type)
    return dict(sorted(found.items()))


def _parse_value(field: str, text: str, current: Any) -> Any:
    """``text`` as a value of the type of ``current`` (the field's present value)."""
    if isinstance(current, bool):
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"{field}={text!r} is not allowed; expected true or false")
    if isinstance(current, str):
        return text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"{field}={text!r} is not a Python literal; expected a value like {current!r}") from None
    if isinstance(current, tuple) and isinstance(value, list):
        value = tuple(value)
    if isinstance(current, tuple) and not isinstance(value, tuple):
        value = (value,)
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return value


def apply_settings(config: Any, settings: Sequence[str]) -> Any:
    """``config`` with each ``field=value`` of ``settings`` applied (``base.field=value`` reaches a nested
    Config); every change is validated by the Config itself."""
    for setting in settings:
        if "=" not in setting:
            raise ValueError(f"--set {setting!r} is not of the form field=value")
        path, text = setting.split("=", 1)
        config = _replace_path(config, path.strip().split("."), text.strip())
    return config


def _replace_path(config: Any, path: list[str], text: str) -> Any:
    names = [f.name for f in dataclasses.fields(config)]
    field = path[0]
    if field not in names:
        raise ValueError(f"{field!r} is not a field of {type(config).__name__}; fields: {', '.join(names)}")
    current = getattr(config, field)
    if len(path) > 1:
        if not dataclasses.is_dataclass(current):
            raise ValueError(f"{field!r} of {type(config).__name__} has no fields of its own")
        return config.replace(**{field: _replace_path(current, path[1:], text)})
    return config.replace(**{field: _parse_value(field, text, current)})


def _jsonable(value: Any, *, max_size: int = 100_000) -> Any:
    if isinstance(value, np.ndarray):
        if value.size > max_size:
            finite = value[np.isfinite(value)] if value.dtype.kind == "f" else value
            return {"shape": list(value.shape), "mean": _jsonable(float(np.mean(finite))) if finite.size else None}
        return _jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= 8:
            return np.array2string(value, precision=4, separator=", ")
        return f"array{list(value.shape)}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _config_for(experiment: Experiment, profile: str | None) -> Any:
    if profile is not None:
        os.environ["UNIQ_PROFILE"] = profile
    return experiment.config_type.for_profile()


def _run(experiment: Experiment, config: Any, scheduler: str | None) -> Any:
    """Run in this process, or with ``scheduler`` on a Dask cluster: an experiment with an internal grid
    (a ``run`` taking ``executor=``) spreads its grid over the workers; any other runs on one worker."""
    if scheduler is None:
        return experiment.run(config, progress=True)
    from distributed import Client

    with Client(scheduler) as client:
        executor = client.get_executor()
        if "executor" in inspect.signature(experiment.run).parameters:
            return experiment.run(config, progress=True, executor=executor)
        return executor.submit(experiment.run, config, progress=False).result()


def _device_field(name: str, config: Any) -> str:
    """The field that sets where ``config`` runs: its own ``device``, or its ``base`` Config's for a sweep."""
    fields = {f.name for f in dataclasses.fields(config)}
    if "device" in fields:
        return "device"
    if "base" in fields and "device" in {f.name for f in dataclasses.fields(config.base)}:
        return "base.device"
    raise ValueError(f"{name} has no device field; it runs on the CPU")


def _resolved_device(name: str, config: Any) -> str:
    """Where ``config`` runs ("cpu", "cuda"…), its ``auto`` resolved; "cpu" for experiments without a device
    field. Raises ``ValueError`` for a device this machine lacks."""
    try:
        field = _device_field(name, config)
    except ValueError:
        return "cpu"
    value = config.device if field == "device" else config.base.device
    return str(runtime.device(value))


def _has_tables(experiment: Experiment) -> bool:
    """Whether ``experiment``'s Result type defines ``tables()`` (CSV export)."""
    returned = typing.get_type_hints(experiment.run).get("return")
    return callable(getattr(returned, "tables", None))


def write_tables(tables: dict[str, list[dict[str, Any]]], directory: str | os.PathLike) -> list[str]:
    """Each table (a list of rows with the same keys) as ``directory/NAME.csv``; returns the paths written."""
    import csv

    os.makedirs(directory, exist_ok=True)
    written = []
    for name, rows in tables.items():
        path = os.path.join(directory, f"{name}.csv")
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [])
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    import uniq_core

    parser = argparse.ArgumentParser(prog="python -m uniq_core", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"uniq_core {uniq_core.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="every experiment with its Config fields and defaults")
    listing.add_argument("--profile", choices=runtime.PROFILES, help="defaults of this profile")
    runner = commands.add_parser("run", help="run one experiment through the results cache")
    runner.add_argument("experiment", help="a name from `python -m uniq_core list`")
    runner.add_argument("--profile", choices=runtime.PROFILES,
                        help="start from Config.quick(), Config.standard() or Config.full()")
    runner.add_argument("--device", choices=runtime.DEVICES, help="the Config's device field")
    runner.add_argument("--set", dest="settings", action="append", default=[], metavar="FIELD=VALUE",
                        help="change one Config field (repeatable; base.field=value for a nested Config)")
    runner.add_argument("--json", action="store_true", help="print one JSON line instead of a summary")
    runner.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on a Dask cluster's workers")
    runner.add_argument("--csv", metavar="DIR", help="also write the Result's tables as CSV files into DIR "
                        "(experiments whose Result has tables(), e.g. probes.settings)")
    from uniq_core.analyze import ELEMENTWISE

    analysis = commands.add_parser("analyze", help="the stability probes on your own network (uniq_core.analyze)")
    analysis.add_argument("model", metavar="MODULE:FACTORY", help="a function returning your torch.nn.Module")
    analysis.add_argument("--data", required=True, metavar="MODULE:FACTORY",
                          help="a function returning your training DataLoader of (inputs, targets)")
    analysis.add_argument("--loss", default="cross_entropy", help="a torch.nn.functional loss (default %(default)s)")
    analysis.add_argument("--optimizer", default="SGD", choices=ELEMENTWISE)
    analysis.add_argument("--lr", type=float, default=0.1)
    analysis.add_argument("--momentum", type=float, default=0.0, help="SGD's momentum (default %(default)s)")
    analysis.add_argument("--seed", type=int, default=0, help="seed of the perturbations (default %(default)s)")
    analysis.add_argument("--epochs", type=int, default=10)
    analysis.add_argument("--copies", type=int, default=8, help="the original and COPIES − 1 perturbed copies")
    analysis.add_argument("--perturbation", type=float, default=1e-2)
    analysis.add_argument("--device", choices=runtime.DEVICES, default="auto")
    analysis.add_argument("--out", default="stability_report", metavar="DIR")
    analysis.add_argument("--format", default="html", choices=("html", "markdown"))
    arguments = parser.parse_args(argv)

    if arguments.command == "analyze":
        return _analyze(arguments)
    known = experiments()
    if arguments.command == "list":
        for experiment in known.values():
            config = _config_for(experiment, arguments.profile)
            print(f"{experiment.name}  ({experiment.config_type.__name__}) — {experiment.summary}")
            for field in dataclasses.fields(config):
                print(f"    {field.name} = {getattr(config, field.name)!r}")
        return 0

    if arguments.experiment not in known:
        print(f"error: experiment={arguments.experiment!r} is not known; allowed values: {', '.join(known)}",
              file=sys.stderr)
        return 2
    experiment = known[arguments.experiment]
    try:
        config = _config_for(experiment, arguments.profile)
        settings = list(arguments.settings)
        if arguments.device is not None:
            settings.append(f"{_device_field(experiment.name, config)}={arguments.device}")
        config = apply_settings(config, settings)
        where = _resolved_device(experiment.name, config)  # cuda without a GPU: named now, not mid-run
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if arguments.csv is not None and not _has_tables(experiment):
        print(f"error: csv={arguments.csv!r}: {experiment.name} has no tables; allowed for: "
              f"{', '.join(name for name, e in known.items() if _has_tables(e))}", file=sys.stderr)
        return 2
    try:
        result = _run(experiment, config, arguments.scheduler)
    except ValueError as error:  # bad input found while running (a data set, a weights file, a Config pair)
        print(f"error: {error}", file=sys.stderr)
        return 2
    if arguments.csv is not None:
        for path in write_tables(result.tables(), arguments.csv):
            print(f"wrote {path}", file=sys.stderr)
    fields = result.to_dict()
    if arguments.json:
        print(json.dumps({"experiment": experiment.name, "profile": arguments.profile or runtime.profile(),
                          "device": where, "config": _jsonable(config.to_dict()), "result": _jsonable(fields)}))
    else:
        print(f"{experiment.name}: {config!r}")
        for name, value in fields.items():
            print(f"  {name}: {_describe(value)}")
    return 0


def _load_object(spec: str, what: str):
    """``module:name`` → that attribute, called (a factory); errors name the argument and the form."""
    import importlib

    module_name, _, name = spec.partition(":")
    if not module_name or not name:
        raise ValueError(f"{what}={spec!r} must be MODULE:FACTORY, e.g. mymodels:build")
    try:
        factory = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"{what}={spec!r} could not be found: {error}") from error
    return factory()


def _analyze(arguments) -> int:
    """``python -m uniq_core analyze``: :class:`uniq_core.analyze.Analyzer` fitted and saved, headless."""
    import torch

    from uniq_core.analyze import Analyzer

    sys.path.insert(0, os.getcwd())
    try:
        model = _load_object(arguments.model, "model")
        loader = _load_object(arguments.data, "data")
        loss = getattr(torch.nn.functional, arguments.loss, None)
        if loss is None:
            raise ValueError(f"loss={arguments.loss!r} is not a function of torch.nn.functional, e.g. cross_entropy")
        analyzer = Analyzer(model, perturbation=arguments.perturbation, n_copies=arguments.copies,
                            device=arguments.device, seed=arguments.seed)
        options = {"lr": arguments.lr}
        if arguments.momentum:
            if arguments.optimizer != "SGD":
                raise ValueError(f"--momentum is SGD's; --optimizer {arguments.optimizer} has its own settings")
            options["momentum"] = arguments.momentum
        analyzer.fit(loader, loss, getattr(torch.optim, arguments.optimizer), epochs=arguments.epochs, **options)
        result = analyzer.report()
        path = analyzer.save(arguments.out, format=arguments.format, result=result)
        print(result.summary())
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}", file=sys.stderr)
    return 0
