"""What the benchmarks need to know about the machine they run on: its description,
the CPU time of a process, and how much CPU everything else took meanwhile (the
project's machines are shared: a test run beside a benchmark skews its figures,
so each benchmark prints that share instead of hiding it)."""
import os
import platform

TICK = os.sysconf("SC_CLK_TCK")


def describe() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with open("/proc/meminfo") as fh:
        mem = int(fh.readline().split()[1]) / 1024 / 1024
    load = os.getloadavg()
    return (f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB, Linux {platform.release()}, "
            f"Python {platform.python_version()}; load average {load[0]:.2f} at start")


def process_cpu(pid: int) -> float:
    """utime + stime of a process, seconds (its own threads; not its children)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def busy_cpu() -> float:
    """CPU seconds the whole machine has spent running processes since boot (all
    cores). Interrupt and softirq time is left out: it is not charged to any process,
    and here it is mostly the benchmark's own loopback traffic (RTP, SIP, ESL)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = fields[:8]
    return (user + nice + system + steal) / TICK


def own_cpu() -> float:
    """This process and its waited-for children, seconds."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def others_cores(pids=(), seconds: float = 2.0) -> float:
    """Cores used over `seconds` by processes other than `pids` and this one."""
    import time

    def ours():
        total = own_cpu()
        for pid in pids:
            try:
                total += process_cpu(pid)
            except OSError:
                pass
        return total
    busy0, ours0 = busy_cpu(), ours()
    time.sleep(seconds)
    return max(0.0, busy_cpu() - busy0 - (ours() - ours0)) / seconds


def wait_quiet(pids=(), max_wait: float = 0.0, threshold: float = 0.25) -> float:
    """Wait up to `max_wait` seconds for the other processes to use less than
    `threshold` cores; the last load measured."""
    import time
    deadline = time.monotonic() + max_wait
    while True:
        load = others_cores(pids)
        if load < threshold or time.monotonic() >= deadline:
            return load


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full
    (TcpExt ListenOverflows, whole machine)."""
    with open("/proc/net/netstat") as fh:
        lines = fh.read().splitlines()
    for head, values in zip(lines[::2], lines[1::2]):
        if head.startswith("TcpExt:"):
            table = dict(zip(head.split()[1:], values.split()[1:]))
            return int(table.get("ListenOverflows", 0))
    return 0
