"""docs/ARCHITECTURE.md stays true: every brushwork import points down the layers, front doors stay apart."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "brushwork"
# Top to bottom; a module may import only modules listed before it (or its own package's).
ORDER = [
    "errors",
    "layers",
    "settings",
    "plan",
    "tiles",
    "forecast",
    "budget",
    "bundled",
    "images",
    "clips",
    "flow",
    "color",
    "features",
    "losses",
    "terms",
    "objective",
    "machine",
    "allocator",
    "engine",
    "recipes",
    "video",
    "batch",
    "cluster",
    "report",
    "api",
    "cli",
    "web",
]
FRONT_DOORS = {"api", "cli", "web"}
ALLOWED_CROSSINGS = {("cli.serve", "web")}  # `brushwork serve` starts the studio


def _unit(module: str) -> str:
    unit = module.split(".")[0]
    return "cli" if unit == "__main__" else unit  # `python -m brushwork` is the command line


def _imports(path: Path) -> set[str]:
    """The brushwork modules a file imports (relative imports resolved), as dotted names under brushwork."""
    here = path.relative_to(PACKAGE).with_suffix("").parts
    package = here[:-1] if here[-1] != "__init__" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package)[: len(package) - node.level + 1]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.startswith("brushwork"):
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                found.add(".".join(target))
            elif not node.module:  # from . import x
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("brushwork."))
    return found


def test_imports_point_down_the_layers_and_front_doors_stay_apart():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        if module == "__init__":
            continue  # the package's lazy names
        me = _unit(module)
        for target in _imports(path):
            other = _unit(target)
            if other in ("__init__", "__version__") or other == me:
                continue
            if other not in ORDER:
                problems.append(f"{module} imports {target}, which ARCHITECTURE.md does not place")
            elif me in FRONT_DOORS and other in FRONT_DOORS:
                if (module, other) not in ALLOWED_CROSSINGS:
                    problems.append(f"front door {module} imports front door {target}")
            elif ORDER.index(other) > ORDER.index(me):
                problems.append(f"{module} imports {target}, a layer above it")
    assert problems == []


def test_settings_and_the_command_line_kit_load_without_torch():
    script = "import sys, brushwork.settings, brushwork.plan, brushwork.cli.kit; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", script], check=True)
