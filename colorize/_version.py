"""The package version, in a module of its own so that nothing below the package root imports the root."""
__version__ = "0.2.0"  # pyproject.toml reads it from here; CHANGELOG.md says what changed
