"""The plugin API as users import it (``from enhancement.registry import
register_enhancement, Enhancement``). The registry itself is
``enhancement.systems.registry``; this module is the same objects under the
name plugins were written against, so both spellings share one registry."""

from enhancement.systems.registry import (
    Enhancement,
    RegistryError,
    describe_options,
    enhancement_options,
    enhancement_sources,
    get_enhancement_class,
    register_enhancement,
)

__all__ = [
    "Enhancement",
    "RegistryError",
    "describe_options",
    "enhancement_options",
    "enhancement_sources",
    "get_enhancement_class",
    "register_enhancement",
]
