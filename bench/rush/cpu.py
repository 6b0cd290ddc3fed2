"""Where the two cores go during a rush run: the web processes, each worker group, Locust, and the
rest (PostgreSQL, Redis, the kernel), as CPU seconds between readings taken while Locust runs.

A process group is read through psutil (the process, its live children and the children it has
reaped). The machine's busy and stolen time come from /proc/stat, so "the rest" is what the
machine spent beyond the groups read, and steal is the time the hypervisor gave to other
machines (noise a ratio cannot see).
"""

from __future__ import annotations

from dataclasses import dataclass

import psutil

BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq")


def group_seconds(pid: int) -> float:
    """CPU seconds of a process and its descendants, live or reaped, so far."""
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for member in members:
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


@dataclass
class Reading:
    groups: dict[str, float]
    busy: float
    idle: float
    steal: float

    @classmethod
    def now(cls, groups: dict[str, int]) -> Reading:
        machine = psutil.cpu_times()
        return cls(
            groups={name: group_seconds(pid) for name, pid in groups.items()},
            busy=sum(getattr(machine, field, 0.0) for field in BUSY_FIELDS),
            idle=machine.idle + getattr(machine, "iowait", 0.0),
            steal=getattr(machine, "steal", 0.0),
        )


def spent(before: Reading, after: Reading) -> dict[str, float]:
    """CPU seconds per group between the readings, plus "rest", "idle" and "steal"."""
    groups = {name: max(0.0, after.groups.get(name, 0.0) - before.groups.get(name, 0.0)) for name in after.groups}
    busy = after.busy - before.busy
    return {
        **groups,
        "rest": max(0.0, busy - sum(groups.values())),
        "idle": after.idle - before.idle,
        "steal": after.steal - before.steal,
    }


def describe(seconds: dict[str, float]) -> str:
    total = sum(value for name, value in seconds.items() if name != "steal") or 1.0
    return (
        ", ".join(
            f"{name} {value:.0f} s ({100 * value / total:.0f} %)" for name, value in seconds.items() if name != "steal"
        )
        + f"; stolen by the hypervisor {seconds.get('steal', 0.0):.0f} s"
    )


def within(
    readings: list[tuple[float, Reading]], start: float = float("-inf"), end: float = float("inf")
) -> tuple[float, dict[str, float]] | None:
    """CPU seconds between the first reading at or after `start` and the last at or before `end`
    (wall-clock times), with the seconds they span; None if the window holds fewer than two."""
    inside = [(moment, reading) for moment, reading in readings if start <= moment <= end]
    if len(inside) < 2:
        return None
    (first_moment, first), (last_moment, last) = inside[0], inside[-1]
    return last_moment - first_moment, spent(first, last)
