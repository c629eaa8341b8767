"""``colorize configs``: the training configs shipped in the package, one line each (what it trains, how long on a
CPU), as ``colorize presets`` lists the models. Reads the YAML files' header comments only (no TensorFlow)."""


def add_parser(sub):
    p = sub.add_parser("configs", help="list the shipped training configs (colorize train --config NAME)",
                       description="List the training configs shipped with colorize: what each trains and how long "
                                   "it takes on a CPU. Pass the name to colorize train --config (or a YAML file of "
                                   "your own; colorize configs --show NAME prints one to start from).")
    p.add_argument("--show", metavar="NAME", help="print this config's YAML (to copy and edit)")
    p.set_defaults(func=cmd_configs, tensorflow=False)
    return p


def header(path):
    """(what it trains, how long on a CPU) from a config's leading comment: its first line, and its ``# CPU:``
    line."""
    comment = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        comment.append(line[1:].strip())
    cpu = next((line[len("CPU:"):].strip() for line in comment if line.startswith("CPU:")), "not measured")
    return (comment[0].rstrip(".") if comment else "no description"), cpu


def describe(name, path):
    what, cpu = header(path)
    return f"{name}: {what}; CPU: {cpu}"


def cmd_configs(args):
    from colorize.config import find_config, shipped_configs
    if args.show:
        print(find_config(args.show).read_text(encoding="utf-8"), end="")
        return 0
    for name, path in shipped_configs().items():
        print(describe(name, path))
    return 0
