"""The package's rooms (docs/architecture.md): each imports only rooms below it, nobody uses another room's
underscore names, the package root holds few modules, and the doors load no TensorFlow."""
import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "colorize"
# the order of docs/architecture.md: a room may import rooms of a lower or equal level (equal: only itself)
LEVELS = {"errors": 0, "_version": 0, "_lazy": 0, "_internals": 0, "config": 0, "color": 0, "presets": 0,
          "io": 1, "model": 2, "data": 3, "pipeline": 4, "evaluation": 5, "training": 6, "export": 6, "predict": 6,
          "video": 7, "serve": 7, "cluster": 7, "cli": 8}
BASE = {"errors": 0, "_version": 1, "_lazy": 1, "_internals": 1, "config": 1, "color": 2, "presets": 2}


def _room(module):
    """'colorize.pipeline.hints' -> 'pipeline'; 'colorize' -> None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "colorize" and parts[1] != "__init__" else None


def _imports(path):
    """(imported module, imported names) of every import in a file, relative ones resolved."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base
                                                                                                   else []))
            yield base, [a.name for a in node.names]


def _files():
    return [p for p in PACKAGE.rglob("*.py") if "static" not in p.parts]


def test_each_room_imports_only_rooms_below_it():
    wrong = []
    for path in _files():
        own = _room(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        if own is None:
            continue
        for module, names in _imports(path):
            targets = [module] if module != "colorize" else [f"colorize.{n}" for n in names]
            for target in targets:
                other = _room(target)
                if other is None or other == own or other not in LEVELS:
                    continue
                if LEVELS[other] > LEVELS[own] or (LEVELS[other] == LEVELS[own] and
                                                   BASE.get(other, 9) >= BASE.get(own, 9)):
                    wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_module_uses_another_rooms_underscore_names():
    wrong = []
    for path in [*_files(), *PACKAGE.parent.joinpath("tests").glob("*.py"),
                 *PACKAGE.parent.joinpath("bench").glob("*.py"), *PACKAGE.parent.joinpath("scripts").glob("*.py")]:
        own = _room(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)) \
            if PACKAGE in path.parents else None
        for module, names in _imports(path):
            if not module.startswith("colorize"):
                continue
            private = [n for n in names if n.startswith("_") and n != "__version__"] + \
                [p for p in module.split(".")[1:] if p.startswith("_") and p not in ("_version",)]
            plumbing = module.split(".")[1:2] in (["_internals"], ["_lazy"], ["_version"]) or (
                module == "colorize" and all(n in ("_internals", "_lazy", "_version") for n in names))
            if PACKAGE in path.parents and plumbing:
                continue  # the root's private plumbing, shared by every room inside the package (timm's _registry)
            if private and _room(module) != own and path.name != "test_internals.py":
                wrong.append(f"{path.relative_to(PACKAGE.parent)}: from {module} import {', '.join(names)}")
    assert not wrong, "\n".join(wrong)


def test_the_package_root_holds_at_most_ten_modules_and_the_rest_in_rooms():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 10, modules
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} >= {
        "io", "model", "data", "pipeline", "evaluation", "training", "video", "serve", "cli"}


def test_every_door_lists_names_that_exist_and_loads_no_tensorflow():
    code = ("import sys, importlib\n"
            "rooms = ['io', 'model', 'data', 'pipeline', 'evaluation', 'training', 'predict', 'video', 'serve',\n"
            "         'cli']\n"
            "doors = [importlib.import_module('colorize.' + r) for r in rooms]\n"
            "import colorize.cli\ncolorize.cli.build_parser()\n"
            "assert 'tensorflow' not in sys.modules, 'a door imported TensorFlow'\n"
            "for door in doors:\n"
            "    for name in door.__all__:\n"
            "        getattr(door, name)\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().endswith("ok"), out.stderr[-3000:]


def test_the_distribution_has_a_free_name_a_licence_one_version_and_a_changelog_entry_for_it():
    import pytest
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    import colorize
    root = PACKAGE.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["name"] != "colorize"  # the Python Package Index's `colorize` is another project
    assert project["license"] == "MIT" and (root / "LICENSE").read_text().startswith("MIT License")
    assert project["authors"] and project["urls"] and len(project["classifiers"]) >= 8
    assert project["scripts"] == {"colorize": "colorize.cli:main"}  # the command keeps its name
    assert "version" not in project and project["dynamic"] == ["version"]  # written once, in colorize/_version.py
    dynamic = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["dynamic"]
    assert dynamic["version"] == {"attr": "colorize._version.__version__"}
    changelog = (root / "CHANGELOG.md").read_text()
    released = [line for line in changelog.splitlines() if line.startswith("## [") and "Unreleased" not in line]
    assert released[0].startswith(f"## [{colorize.__version__}]")
    readme = (root / "README.md").read_text()
    assert f"pip install {project['name']}" in readme or f"pip install '{project['name']}" in readme
    for path in [*PACKAGE.rglob("*.py"), root / "README.md"]:  # no message sends a user to the other project
        assert "pip install 'colorize[" not in path.read_text(), path
