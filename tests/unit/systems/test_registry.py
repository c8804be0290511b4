import pytest

import enhancement
from enhancement.registry import (
    Enhancement,
    RegistryError,
    enhancement_options,
    get_enhancement_class,
    register_enhancement,
)


def test_importing_the_package_registers_builtins():
    assert "passthrough" in enhancement.enhancement_options
    assert issubclass(enhancement_options["passthrough"], Enhancement)


def test_register_and_lookup(clean_registry):
    @register_enhancement("unit_test_system")
    class System:
        def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
            return device_audio[0]

    assert get_enhancement_class("unit_test_system") is System


def test_registering_a_name_twice_names_both_classes(clean_registry):
    @register_enhancement("twice")
    class First:
        def process_session(self, *a, **k): ...

    with pytest.raises(RegistryError, match=r"registered twice.*First.*Second"):

        @register_enhancement("twice")
        class Second:
            def process_session(self, *a, **k): ...

    assert enhancement_options["twice"] is First


def test_class_without_process_session_is_rejected(clean_registry):
    with pytest.raises(RegistryError, match="no process_session"):

        @register_enhancement("broken")
        class Broken:
            pass


def test_unknown_name_lists_the_known_ones_and_where_from():
    with pytest.raises(RegistryError) as err:
        get_enhancement_class("nosuch")
    message = str(err.value)
    assert "unknown enhancement_name 'nosuch'" in message
    assert "passthrough" in message and "builtins.py" in message
    assert "ECHIPLUGINS" in message
