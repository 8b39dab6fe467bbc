"""template/provider.yaml with the options known at synthesis applied.

``CfnInclude`` could substitute parameter values itself, but it keeps every condition on
them, constant now, and both branches of every ``Fn::If``: linters then warn about the
constant conditions and reject the branch that can no longer be taken (an empty KMS key
ARN, an empty reserved concurrency). So the options are applied here first, generically:
each ``Ref`` to a given parameter becomes its value, every condition that then only
depends on literals is evaluated, each ``Fn::If`` on it becomes the branch taken, and a
resource or output whose condition is false is left out. What is not given (the lists a
stack's certificates add to until synthesis) stays a parameter for ``CfnInclude``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

_NO_VALUE = {"Ref": "AWS::NoValue"}
_DROP = object()
"""A value that disappears (``AWS::NoValue``): from a list, or with its key."""
_KEEP = object()
"""Not a function folded here: its arguments are walked like any other mapping."""


class _Loader(yaml.SafeLoader):
    """CloudFormation YAML: the short forms (``!Ref x``, ``!Sub ...``) read as long forms."""


def _tagged(loader: yaml.SafeLoader, tag: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.MappingNode):
        value: Any = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    name = tag.removeprefix("!")
    if name == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {name if name == "Ref" else f"Fn::{name}": value}


_Loader.add_multi_constructor("!", _tagged)


def load(path: Path) -> dict[str, Any]:
    """A CloudFormation template in YAML (short forms included) or JSON."""
    template: dict[str, Any] = yaml.load(path.read_text(), Loader=_Loader)
    return template


def applied(path: Path, values: Mapping[str, Any]) -> dict[str, Any]:
    """The template at ``path`` with the parameters in ``values`` applied and removed."""
    return apply(load(path), values)


def apply(template: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``template`` with the parameters in ``values`` applied and what is constant folded."""
    evaluate = _Evaluator(values, template.get("Conditions", {}))
    template["Parameters"] = {
        name: spec for name, spec in template.get("Parameters", {}).items() if name not in values
    }
    template["Conditions"] = {
        name: evaluate(body)
        for name, body in template.get("Conditions", {}).items()
        if not isinstance(evaluate.condition(name), bool)
    }
    for section in ("Resources", "Outputs"):
        kept = {}
        for name, body in template.get(section, {}).items():
            condition = evaluate.condition(body.get("Condition"))
            if condition is False:
                continue
            kept[name] = evaluate(body)
            if condition is True:
                kept[name].pop("Condition", None)
        template[section] = kept
    for section in ("Description", "Metadata"):  # the including stack's own
        template.pop(section, None)
    return {key: value for key, value in template.items() if value or key == "Resources"}


def write_applied(path: Path, values: Mapping[str, Any], output: Path) -> dict[str, Any]:
    """The applied template, also written to ``output`` (for ``CfnInclude``)."""
    result = applied(path, values)
    output.write_text(json.dumps(result, indent=1))
    return result


def refs(node: Any) -> set[str]:
    """Every name ``node`` refers to (``Ref``, ``Fn::GetAtt``, ``Condition``)."""
    if isinstance(node, list):
        return set().union(*map(refs, node))
    if not isinstance(node, dict):
        return set()
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key in ("Ref", "Condition") and isinstance(arg, str):
            return {arg}
        if key == "Fn::GetAtt":
            return {arg[0] if isinstance(arg, list) else str(arg).split(".")[0]}
    return set().union(*map(refs, node.values()))


def substituted(node: Any, values: Mapping[str, Any]) -> Any:
    """``node`` with each ``Ref`` to a name in ``values`` replaced by its value."""
    if isinstance(node, list):
        return [substituted(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"} and node["Ref"] in values:
        return values[node["Ref"]]
    return {key: substituted(value, values) for key, value in node.items()}


class _Evaluator:
    """Substitutes the given parameters and folds what becomes literal."""

    def __init__(self, values: Mapping[str, Any], conditions: Mapping[str, Any]) -> None:
        self.values = values
        self.conditions = conditions
        self.known: dict[str, Any] = {}

    def condition(self, name: str | None) -> Any:
        """True or False when the condition is now constant, else its expression."""
        if name is None:
            return True
        if name not in self.known:
            self.known[name] = self(self.conditions[name])
        return self.known[name]

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self(item) for item in node) if v is not _DROP]
        if not isinstance(node, dict):
            return node
        if node == _NO_VALUE:
            return _DROP
        if len(node) == 1:
            ((key, arg),) = node.items()
            folded = self._function(key, arg)
            if folded is not _KEEP:
                return folded
        return {k: v for k, v in ((k, self(v)) for k, v in node.items()) if v is not _DROP}

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Ref" and arg in self.values:
            return self.values[arg]
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::If":
            chosen = self.condition(arg[0])
            if isinstance(chosen, bool):
                return self(arg[1] if chosen else arg[2])
            return {key: [arg[0], *(_NO_VALUE if v is _DROP else v for v in map(self, arg[1:]))]}
        if key in ("Fn::Equals", "Fn::Not", "Fn::Join"):
            args = self(arg)
            if _literal(args):
                return _fold(key, args)
            return {key: args}
        return _KEEP


def _literal(value: Any) -> bool:
    if isinstance(value, list):
        return all(_literal(v) for v in value)
    return isinstance(value, str | int | bool)


def _fold(key: str, args: list[Any]) -> Any:
    if key == "Fn::Equals":
        return str(args[0]) == str(args[1])
    if key == "Fn::Not":
        return not args[0]
    return str(args[0]).join(str(part) for part in args[1])
