"""Train a colorize model from a YAML config: python scripts/train.py --config configs/X.yaml [--set k=v ...]"""
import sys

from colorize.cli import main

if __name__ == "__main__":
    sys.exit(main(["train"] + sys.argv[1:]))
