"""ECHI enhancement: the package behind the Snakemake workflow.

Importing it registers the built-in systems (``passthrough``, ``baseline``).
"""

from enhancement import builtins as _builtins  # noqa: F401  (registers built-ins)
from enhancement.systems.registry import Enhancement, enhancement_options, register_enhancement

__all__ = ["Enhancement", "enhancement_options", "register_enhancement"]
