"""Which kind of device asks, from its User-Agent, to put its instructions first.

Only the order of the page's sections depends on it: nothing is hidden, because a
User-Agent can lie, and people set up phones from their desktops.
"""

from __future__ import annotations

from enum import StrEnum


class Device(StrEnum):
    """The platforms whose instructions the page can put first."""

    IOS = "ios"  # iPhone, iPad, iPod touch
    MAC = "mac"
    ANDROID = "android"
    WINDOWS = "windows"
    OTHER = "other"

    @property
    def is_apple(self) -> bool:
        """Whether a configuration profile installs on this device."""
        return self in (Device.IOS, Device.MAC)


def device_of(user_agent: str) -> Device:
    """The platform a User-Agent names (iPadOS Safari says "Macintosh": Apple either way)."""
    if any(word in user_agent for word in ("iPhone", "iPad", "iPod")):
        return Device.IOS
    if "Android" in user_agent:  # before Linux and Windows: Android UAs name both at times
        return Device.ANDROID
    if "Macintosh" in user_agent or "Mac OS X" in user_agent:
        return Device.MAC
    if "Windows" in user_agent:
        return Device.WINDOWS
    return Device.OTHER
