"""Every dotted name ``colorize.x.y`` written in the package's comments and docstrings, the tests, benches,
scripts and docs names something that exists: a module of the package, then names defined in it (its top-level
definitions, the names its lazy door lists, a class's attributes). Read from the source, nothing imported."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "colorize"
DOTTED = re.compile(r"(?<![\w/.\-])colorize(?:\.[A-Za-z_]\w*)+")
NOT_NAMES = {"py", "yaml", "json", "md", "png", "jpg", "txt", "toml", "html", "h5"}  # file names, not modules


def _module_file(parts):
    """['colorize', 'io', 'images'] -> its file, or None if no module of the package has that name."""
    path = ROOT.joinpath(*parts)
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return None


def _defined(tree, package=None):
    """name -> the class node defining it at a module's or class's top level, the module a lazy door takes it from
    (a dotted name), or None (a function or a value)."""
    names = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node if isinstance(node, ast.ClassDef) else None
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        names[name.id] = None
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_NAMES" for t in node.targets) \
                    and isinstance(node.value, ast.Dict):  # a lazy door's names
                names.update({k.value: f"{package}.{v.value}" for k, v in zip(node.value.keys, node.value.values)
                              if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)})
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update({(a.asname or a.name).split(".")[0]: None for a in node.names})
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            names.update(_defined(ast.Module(body=node.body, type_ignores=[]), package))
    return names


def resolves(dotted):
    parts = dotted.split(".")
    while parts[-1] in NOT_NAMES:  # "colorize.serve.static.index.html" is a file name
        return True
    for cut in range(len(parts), 0, -1):
        found = _module_file(parts[:cut])
        if found is not None or (cut > 1 and ROOT.joinpath(*parts[:cut]).is_dir()):
            break
    rest = parts[cut:]
    if found is None:
        return not rest and cut > 1  # a data folder of the package (colorize.configs)
    scope = ast.parse(found.read_text())
    package = ".".join(parts[:cut])
    for i, name in enumerate(rest):
        names = _defined(scope, package if found.name == "__init__.py" else package.rsplit(".", 1)[0])
        if name not in names:
            return False
        if isinstance(names[name], str):  # through a lazy door: where the name comes from
            return resolves(".".join([names[name], *rest[i:]]))
        if names[name] is None:
            return True  # a function's or a value's attributes are not checked
        scope = names[name]
    return True


def _texts():
    for path in [*PACKAGE.rglob("*.py"), *ROOT.joinpath("tests").glob("*.py"), *ROOT.joinpath("bench").glob("*.py"),
                 *ROOT.joinpath("scripts").glob("*.py"), *ROOT.joinpath("docs").glob("*.md"), *ROOT.glob("*.md")]:
        if path.name != Path(__file__).name:
            yield path, path.read_text(encoding="utf-8")


def test_every_dotted_name_in_comments_docstrings_and_docs_exists():
    stale = sorted({f"{path.relative_to(ROOT)}: {name}" for path, text in _texts()
                    for name in DOTTED.findall(text) if not resolves(name)})
    assert not stale, "\n".join(stale)


def test_the_walk_tells_a_stale_name_from_a_live_one():
    assert resolves("colorize.io.images.load_array") and resolves("colorize.Colorizer")
    assert resolves("colorize.pipeline.hints.Hint.to_json") and resolves("colorize.config.HintsConfig")
    assert not resolves("colorize.hints") and not resolves("colorize.serve_requests")
    assert not resolves("colorize.io.images.save_png") and not resolves("colorize.pipeline.hints.Hint.no_such")
