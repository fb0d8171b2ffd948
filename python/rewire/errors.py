"""The exceptions of rewire: one class per kind of failure, with its fields as attributes."""


class RewireError(Exception):
    """Any failure reported by rewire. ``message`` is the whole text; other attributes depend on
    the kind (``path`` for files)."""

    def __init__(self, message, **fields):
        super().__init__(message)
        self.message = message
        for key, value in fields.items():
            setattr(self, key, value)


class SceneError(RewireError, ValueError):
    """A scene that cannot be read or is refused: ``file``, ``line`` and ``column`` (1-based) of
    the offending text, ``field`` (the field's path, e.g. ``projections[2].to``) and ``reason``.
    A value given to ``Scene.set`` that cannot be a scene value carries the field's path and no
    position."""

    file = None
    line = None
    column = None
    field = None
    reason = None


class UsageError(RewireError, ValueError):
    """Options that do not apply (a duration on a protocol scene, an unknown region or engine)."""


class CheckpointError(RewireError):
    """A checkpoint that cannot be used: ``path``, and why in the message."""


class GpuError(RewireError):
    """No usable GPU adapter, a device that could not be made, or a device lost during a run."""


class TooLargeError(RewireError):
    """A scene larger than the engine can hold: ``needed`` and ``available`` bytes (or slots)."""


class NumericsError(RewireError):
    """The network's state became non-finite; the message names the neuron and the step."""


class StoppedError(RewireError):
    """A run that failed after a checkpoint (a full disk, a lost device): ``checkpoint`` and
    ``step`` say where to continue from once the cause is fixed."""


class Interrupted(RewireError, KeyboardInterrupt):
    """A run stopped by Ctrl-C at its next sample or day, after writing a checkpoint and its
    outputs so far (the message names the checkpoint). A ``KeyboardInterrupt``, so scripts stop
    as they would on Ctrl-C."""
