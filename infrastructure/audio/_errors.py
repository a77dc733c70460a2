"""Turns every failure of PyAV on bad input into the port's ``AudioUnreadable``.

The use cases must never see an av exception: a user sent a broken or foreign file, which
is a permanent, explainable failure, not a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import av

from application.errors import AudioUnreadable


@contextmanager
def unreadable_on_error() -> Iterator[None]:
    """Re-raise anything escaping the block as ``AudioUnreadable`` with a short message."""
    try:
        yield
    except AudioUnreadable:
        raise
    except av.error.EOFError as exc:
        raise AudioUnreadable("the file is cut short or corrupted", transient=False) from exc
    except av.error.FFmpegError as exc:
        reason = exc.strerror or type(exc).__name__
        raise AudioUnreadable(
            f"not a readable audio or video file ({reason})", transient=False
        ) from exc
    except Exception as exc:  # malformed input can trip PyAV in many ways
        raise AudioUnreadable(
            f"not a readable audio or video file ({type(exc).__name__})", transient=False
        ) from exc
