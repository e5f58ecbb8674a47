"""The errors a user sees, each carrying the exit code the command line ends with.

Every domain error of every step derives from `RepradarError`, so the command line maps
errors to exit codes by catching this one light class, without importing any step.

| exit | class | meaning |
| --- | --- | --- |
| 1 | `RepradarError` | a step cannot start or failed, with the reason |
| 1 | `DiskFull` | no space left on the device; names the path and the space needed |
| 2 | `UsageError` | a wrong option, path or mapping file |
| 3 | `InputRejected` | input rejected by validation; nothing changed |
| 4 | `WarehouseBusy` | another run (or another program) holds the warehouse |
| 5 | (`DeliveryResult.failed`) | some alerts could not be delivered; kept pending |
"""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_BUSY = 4
EXIT_UNDELIVERED = 5


class RepradarError(Exception):
    """A failure with a message for the user; the command exits with `exit_code`."""

    exit_code = EXIT_FAILURE


class UsageError(RepradarError, ValueError):
    """The user asked for something that cannot be done as asked (exit 2)."""

    exit_code = EXIT_USAGE


class InputRejected(RepradarError):
    """Validation rejected the input; nothing was changed (exit 3)."""

    exit_code = EXIT_REJECTED


class WarehouseBusy(RepradarError):
    """Another process holds the warehouse (exit 4)."""

    exit_code = EXIT_BUSY


class DiskFull(RepradarError):
    """No space left on the device for what a step writes; says where and how much it
    needs. Whatever the step had half-written is removed (exit 1)."""
