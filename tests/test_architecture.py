"""docs/ARCHITECTURE.md stays true: every brushwork import points down the layers, front doors stay apart."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "brushwork"
DOC = ROOT / "docs" / "ARCHITECTURE.md"
ROW = re.compile(r"^\| *([^|`]*?) *\| *`([\w/]+(?:\.py)?)` *\|")
ALLOWED_CROSSINGS = {("cli.serve", "web")}  # `brushwork serve` starts the studio


def _table() -> list[tuple[str, str]]:
    """ARCHITECTURE.md's table, top to bottom: (layer, unit), a unit being a module (``core.errors``) or a package
    whose modules are one unit (``cli``); a blank layer cell continues the layer above."""
    rows: list[tuple[str, str]] = []
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            layer = match.group(1) or rows[-1][0]
            rows.append((layer, match.group(2).removesuffix(".py").removesuffix("/").replace("/", ".")))
    return rows


ORDER = [unit for _, unit in _table()]
FRONT_DOORS = {unit for layer, unit in _table() if layer == "front doors"}


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package's ``__init__`` under the package's name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


UNITLESS = {m for m in _modules() if m not in ORDER and any(unit.startswith(f"{m}.") for unit in ORDER)}
"""Packages whose ``__init__`` only names a layer: their modules are the table's units."""


def _unit(module: str) -> str | None:
    """The table's unit holding ``module``: itself, or the package it is in; None when the table does not place it."""
    if module == "__main__":
        return "cli"  # `python -m brushwork` is the command line
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in ORDER:
            return ".".join(parts[:n])
    return None


def _imports(path: Path, module: str) -> set[str]:
    """The brushwork modules a file imports (relative imports resolved), as dotted names under brushwork."""
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    modules = _modules()
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "brushwork":
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:  # `from brushwork.engine import recipes` imports the module engine.recipes
                name = ".".join([*target, alias.name])
                found.add(name if name in modules else ".".join(target))
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("brushwork."))
    return {name for name in found if name}


def test_the_tree_and_the_table_agree():
    """Every module sits in a unit of ARCHITECTURE.md's table, and every unit of the table is in the tree."""
    modules = _modules()
    unplaced = [m for m in modules if m and _unit(m) is None and m not in UNITLESS]
    missing = [unit for unit in ORDER if unit not in modules]
    assert unplaced == [] and missing == []


def test_imports_point_down_the_layers_and_front_doors_stay_apart():
    problems = []
    for module, path in _modules().items():
        if not module or module in UNITLESS:
            continue  # the package's lazy names; the layers' docstrings
        me = _unit(module)
        for target in _imports(path, module):
            other = _unit(target)
            if target in ("", "__version__") or other == me:
                continue
            if other is None:
                problems.append(f"{module} imports {target}, which ARCHITECTURE.md does not place")
            elif me in FRONT_DOORS and other in FRONT_DOORS:
                if (module, other) not in ALLOWED_CROSSINGS:
                    problems.append(f"front door {module} imports front door {target}")
            elif me is not None and ORDER.index(other) > ORDER.index(me):
                problems.append(f"{module} imports {target}, a layer above it")
    assert problems == []


def test_words_planning_and_the_command_line_kit_load_without_torch():
    """ARCHITECTURE.md's "(no torch)": ``--help``, the studio's form and a plan's shape load at once."""
    light = [m for m in _modules() if m.split(".")[0] in ("core", "planning")] + ["cli.kit"]
    script = f"import sys, {', '.join(f'brushwork.{m}' for m in light)}; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", script], check=True)


def test_a_packages_row_names_each_of_its_modules():
    """A package that is one unit (``web/``) says in its row what each of its modules holds; a command's module
    is named in ``cli.COMMANDS`` instead."""
    from brushwork.cli import COMMANDS

    holds = {
        match.group(2).rstrip("/"): line.split("|")[3]
        for line in DOC.read_text().splitlines()
        if (match := ROW.match(line))
    }
    unnamed = [
        module
        for module in _modules()
        if "." in module
        and (package := module.split(".")[0]) in holds
        and not module.endswith("__init__")
        and f"`{(stem := module.split('.')[-1])}" not in holds[package]
        and not (package == "cli" and stem in COMMANDS)
    ]
    assert unnamed == []


FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND = re.compile(r"'brushwork(?: [a-z]+)?'")
"""A command line's command, as an error would advise running it: ``'brushwork video'``."""
KEYWORD = re.compile(r"\b[a-z_]+=(?:True|False|None)\b")
"""A Python call's keyword, as an error would advise passing it: ``overwrite=True``."""
OTHER_PROGRAMS_FLAGS = {"--head", "--force-reinstall"}  # `ray start --head`, `pip install --force-reinstall`


def _said(path: Path) -> list[str]:
    """A file's string constants that can reach a person: every one but the bare ones (docstrings), which only
    a reader of the code sees."""
    tree = ast.parse(path.read_text())
    bare = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare
    ]


def test_below_the_front_doors_words_name_settings_never_flags():
    """An error or a help text below the front doors names the setting (``overwrite``, ``steps``), never the
    command line's flag or command, nor the API's keyword: each front door words fields its own way."""
    found = []
    for module, path in _modules().items():
        if module and module != "__main__" and _unit(module) not in FRONT_DOORS:
            flags = {f for text in _said(path) for f in FLAG.findall(text)} - OTHER_PROGRAMS_FLAGS
            commands = {c for text in _said(path) for c in COMMAND.findall(text)}
            keywords = {k for text in _said(path) for k in KEYWORD.findall(text)}
            found += [f"{module}: {f}" for f in sorted(flags | commands | keywords)]
    assert found == []


REFERENCE = re.compile(r":(?:mod|func|class|data|meth|attr|exc):`~?(brushwork\.[\w.]+)`")


def _resolves(name: str) -> bool:
    """Whether a dotted name is a module, or a name (or a name's attribute) in one."""
    import importlib

    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if not hasattr(target, attribute):
                annotations = getattr(target, "__annotations__", {})
                if attribute not in annotations and attribute not in getattr(target, "__dataclass_fields__", {}):
                    return False
                return True  # a field of a dataclass, or an attribute set in __init__ and declared
            target = getattr(target, attribute)
        return True
    return False


def test_docstrings_point_at_code_that_exists():
    """A moved module or function leaves no docstring pointing at its old place."""
    stale = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in REFERENCE.findall(path.read_text())
        if not _resolves(name)
    ]
    assert stale == []


def test_tensors_widen_to_float64_only_through_media_images_wide():
    """An Apple GPU (MPS) has no float64: ``.double()`` on its tensor is a TypeError, so one function widens, on
    the CPU there."""
    pattern = re.compile(r"\.double\(\)|torch\.float64")
    found = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and "in (torch.float32, torch.float64)" not in line
    ]
    assert [place.split(":")[0] for place in found] == ["media/images.py"], found  # in wide() itself


def test_the_package_names_each_public_name_once_in_each_of_its_three_lists():
    """``brushwork/__init__.py`` lists its lazy names three times, as tools need them: where each loads from
    (``_HOMES``), what ``import *`` and type checkers export (``__all__``) and what type checkers import."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    assigned = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    homes, exported = assigned["_HOMES"], assigned["__all__"]
    checked = next(node for node in tree.body if isinstance(node, ast.If))  # if TYPE_CHECKING:
    imported = {
        alias.name: node.module.removeprefix("brushwork.")
        for node in checked.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert sorted(exported) == sorted([*homes, "__version__"]) and len(exported) == len(set(exported))
    assert imported == homes


def _exports() -> dict[str, set[str]]:
    """Each brushwork module's ``__all__``, by dotted name, where it has one."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                found[module] = set(ast.literal_eval(node.value))
    return found


def test_what_one_module_takes_from_another_is_in_that_ones_all():
    """``__all__`` says what a module offers the others: a public name imported elsewhere and left out of it is
    a list gone stale."""
    exports = _exports()
    stale = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in exports:
                stale |= {
                    f"{node.module}.{alias.name} (in {path.relative_to(ROOT)})"
                    for alias in node.names
                    if not alias.name.startswith("_") and alias.name not in exports[node.module]
                }
    assert not stale, sorted(stale)
