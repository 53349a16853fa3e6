"""The one exception type of attnsim's Python API: bad input, naming the file, field and expected.

It is a ValueError, so `except ValueError` keeps working; the simulators' C++ InputError (text
"<file>: <field>: expected <expected>, got <got>") arrives as this type with its parts split out.
"""
from __future__ import annotations

import re

_FIELD_MESSAGE = re.compile(r"^(?P<file>.*?): (?P<field>[^:\n]*): expected (?P<expected>.*?), "
                            r"got (?P<got>.*)$", re.DOTALL)
_PLAIN_MESSAGE = re.compile(r"^(?P<file>[^:\n]*): (?P<message>.*)$", re.DOTALL)


class InputError(ValueError):
    """Malformed or out-of-range input.

    Attributes: `file` (the file, or the argument, that was wrong), `field` (the array, key or
    parameter), `expected` and `got` (None where the message is not about one field).
    """

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 expected: str | None = None, got: str | None = None):
        super().__init__(message)
        self.file, self.field, self.expected, self.got = file, field, expected, got

    @classmethod
    def make(cls, file: str, field: str, expected: str, got: str) -> "InputError":
        """The message the C++ tools print for the same problem."""
        return cls(f"{file}: {field}: expected {expected}, got {got}", file=file, field=field,
                   expected=expected, got=got)

    @classmethod
    def from_message(cls, text: str, renames: dict[str, str] | None = None) -> "InputError":
        """Splits a C++ InputError message; `renames` replaces names in it (temporary files of
        in-memory inputs, the CLI's option names) with what the Python caller passed."""
        for old, new in (renames or {}).items():
            text = text.replace(old, new)
        match = _FIELD_MESSAGE.match(text)
        if match:
            return cls(text, **match.groupdict())
        match = _PLAIN_MESSAGE.match(text)
        if match:
            return cls(text, file=match["file"])
        return cls(text)


#: The C++ presets loader names the option a CLI user typed; Python callers passed an argument.
CLI_OPTION_NAMES = {"--gpu: ": "gpu argument: ", "--kernel: ": "kernel argument: "}
