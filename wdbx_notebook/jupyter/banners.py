"""Alert banners: a visible notice in the notebook when an alert rule fires.

``%load_ext wdbx_notebook`` registers :func:`show_alert_banner` as an alert
listener (``wdbx_notebook.alerts.add_alert_listener``): in a kernel it shows
the banner and returns True, so the alert is not also issued as a
``PerformanceWarning`` (one message per event); in scripts and terminals it
returns False and the warning stays. IPython is imported inside the functions.

>>> bundle = alert_banner_bundle({"kind": "crossed", "message": "slow <b>", "operation": "x"})
>>> sorted(bundle)
['text/html', 'text/plain']
"""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = (
    "border-left:6px solid #d9534f;background:#fdf2f2;color:#7a1f1f;padding:6px 10px;"
    "margin:4px 0;font-family:sans-serif;font-size:13px"
)


def alert_banner_bundle(event: dict[str, Any]) -> dict[str, str]:
    """The banner of one alert event as a mimebundle (text/plain always present)."""
    message = str(event.get("message", "performance alert"))
    plain = "".join(ch if ch.isprintable() else " " for ch in message)
    html = (
        f'<div class="wdbx-alert-banner" role="alert" style="{_STYLE}">'
        f"<b>&#9888; Performance alert</b> &mdash; {escape(plain)}</div>"
    )
    return {"text/plain": f"⚠ Performance alert — {plain}", "text/html": html}


def show_alert_banner(event: dict[str, Any]) -> bool:
    """Display the banner in the running Jupyter kernel; False when there is none
    (plain Python, or a terminal IPython, where the warning itself is printed).

    >>> show_alert_banner({"message": "x"})  # no shell running in a doctest
    False
    """
    import sys

    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython
    from IPython.display import display

    shell = get_ipython()
    # Only a kernel has a notebook to show a banner in; a terminal shell already
    # prints the PerformanceWarning itself.
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    display(alert_banner_bundle(event), raw=True)
    return True
