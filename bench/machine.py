"""What the bench scripts say of the machine a result came from."""
import os
import platform


def cpu_model():
    """The processor's model name (/proc/cpuinfo), or what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), platform.processor())
    except OSError:
        return platform.processor() or "?"


def cpus():
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0))
