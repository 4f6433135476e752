#!/usr/bin/env python3
"""Helpers of the watch benches (bench/watch_*.sh): write files into a
watched folder on a schedule, read a process's counters from /proc, ask the
sandbox what it registered and when.

  write DIR N RATE CLOSES [--size B] [--pid PID --samples CSV --every S]
        [--admin URL --timeout S]
      N files f00001.csv ... at RATE a second (0: as fast as it goes), each
      opened, written, closed; CLOSES gets {name: close time} (epoch s).
      With --pid: a row "t,files,attached,rss_kib,fds" in CSV every S
      seconds (attached: registrations the sandbox ran, with --admin), and,
      with --admin, on until all N are registered, then a last row.
  wait-registered ADMIN N TIMEOUT [PREFIX]
      until N attachments whose filename starts with PREFIX are registered.
  latency CLOSES ADMIN
      close -> registration (the sandbox's registeredAtMs) per file:
      prints "n p50 p99 max" in seconds.
  idle PID SECONDS
      context switches (all threads) and CPU over SECONDS: prints
      "wakeups_per_min voluntary nonvoluntary cpu_s threads".
  counts ADMIN
      prints "graphql_requests storage_puts registrations".
  time-v FILE
      from the report of /usr/bin/time -v: prints "wall_s peak_rss_kib exit".
  ready PID TIMEOUT [inotify]
      until PID has written a line to its stderr file (given as $STDERR),
      or, with inotify, holds an inotify fd.
"""
import json
import os
import sys
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def registrations(admin):
    with urllib.request.urlopen(admin + "/registrations", timeout=30) as r:
        return json.load(r)


def registered(admin, prefix):
    return sum(1 for a in registrations(admin) if a["filename"].startswith(prefix))


def attached(admin):
    """Registrations run (counted per alias): cheap to ask every few seconds."""
    with urllib.request.urlopen(admin + "/counters", timeout=30) as r:
        return json.load(r)["graphql"]["fields"].get("createFileAttachment", 0)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def switches(pid):
    """Voluntary and nonvoluntary context switches, summed over threads."""
    vol = nonvol = threads = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        nonvol += int(line.split()[1])
            threads += 1
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return vol, nonvol, threads


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        # The fields after the command name (which may hold spaces).
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / TICK  # utime, stime


def cmd_write(args):
    folder, n, rate, closes_file = args[0], int(args[1]), float(args[2]), args[3]
    opt = dict(zip(args[4::2], args[5::2]))
    size = int(opt.get("--size", 1024))
    pid = int(opt["--pid"]) if "--pid" in opt else None
    every = float(opt.get("--every", 2))
    admin = opt.get("--admin")
    timeout = float(opt.get("--timeout", 600))
    samples = open(opt["--samples"], "w") if pid else None
    if samples:
        samples.write("t,files,attached,rss_kib,fds\n")

    def sample(t, written):
        done = attached(admin) if admin else 0
        samples.write("%.3f,%d,%d,%d,%d\n" % (t, written, done, rss_kib(pid), fds(pid)))
        samples.flush()

    body = bytes((i * 7 + 13) % 256 for i in range(size))
    closes = {}
    start = time.time()
    next_sample = start
    for i in range(n):
        if rate > 0:
            delay = start + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
        name = "f%05d.csv" % (i + 1)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(body[: size - 6] + b"%06d" % i)  # each file's bytes its own
        closes[name] = time.time()
        if samples and closes[name] >= next_sample:
            sample(closes[name], i + 1)
            next_sample += every
    if samples and admin:
        deadline = time.time() + timeout
        while registered(admin, "f") < n:
            if time.time() > deadline:
                sys.exit("bench: not all %d files were registered within %.0f s" % (n, timeout))
            time.sleep(0.2)
            if time.time() >= next_sample:
                sample(time.time(), n)
                next_sample += every
        sample(time.time(), n)
    with open(closes_file, "w") as f:
        json.dump(closes, f)


def cmd_wait_registered(args):
    admin, n, timeout = args[0], int(args[1]), float(args[2])
    prefix = args[3] if len(args) > 3 else ""
    deadline = time.time() + timeout
    while registered(admin, prefix) < n:
        if time.time() > deadline:
            sys.exit("bench: %d attachments named %s* not registered within %.0f s" % (n, prefix, timeout))
        time.sleep(0.05)


def percentile(sorted_values, p):
    """Nearest rank: the smallest value with at least p% at or below it."""
    k = max(0, min(len(sorted_values) - 1, -(-len(sorted_values) * p // 100) - 1))
    return sorted_values[int(k)]


def cmd_latency(args):
    closes = json.load(open(args[0]))
    regs = {}
    for a in registrations(args[1]):
        if a["filename"] in closes:  # the first registration of each file
            regs.setdefault(a["filename"], a["registeredAtMs"] / 1000)
    missing = sorted(set(closes) - set(regs))
    if missing:
        sys.exit("bench: %d files not registered (first: %s)" % (len(missing), missing[0]))
    waits = sorted(regs[name] - closes[name] for name in closes)
    print("%d %.3f %.3f %.3f" % (len(waits), percentile(waits, 50), percentile(waits, 99), waits[-1]))


def cmd_idle(args):
    pid, seconds = int(args[0]), float(args[1])
    v0, n0, _ = switches(pid)
    c0 = cpu_seconds(pid)
    time.sleep(seconds)
    v1, n1, threads = switches(pid)
    c1 = cpu_seconds(pid)
    per_min = (v1 - v0 + n1 - n0) * 60 / seconds
    print("%.1f %d %d %.2f %d" % (per_min, v1 - v0, n1 - n0, c1 - c0, threads))


def cmd_ready(args):
    pid, timeout = int(args[0]), float(args[1])
    inotify = len(args) > 2 and args[2] == "inotify"
    stderr_file = os.environ.get("STDERR", "")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not os.path.exists("/proc/%d" % pid):
            sys.exit("bench: the watcher exited at start")
        if inotify:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    if "inotify" in os.readlink("/proc/%d/fd/%s" % (pid, fd)):
                        return
                except OSError:
                    pass
        elif stderr_file and os.path.getsize(stderr_file) > 0:
            return
        time.sleep(0.05)
    sys.exit("bench: the watcher was not ready within %.0f s" % timeout)


def cmd_counts(args):
    with urllib.request.urlopen(args[0] + "/counters", timeout=30) as r:
        c = json.load(r)
    print(c["graphql"]["requests"], c["storage"]["puts"], len(registrations(args[0])))


def cmd_time_v(args):
    wall = rss = status = None
    for line in open(args[0]):
        key, _, value = line.strip().rpartition(": ")
        if key.startswith("Elapsed (wall clock) time"):
            seconds = 0.0
            for part in value.split(":"):  # h:mm:ss or m:ss.cc
                seconds = seconds * 60 + float(part)
            wall = seconds
        elif key == "Maximum resident set size (kbytes)":
            rss = int(value)
        elif key == "Exit status":
            status = int(value)
    print("%.2f %d %d" % (wall, rss, status))


COMMANDS = {"write": cmd_write, "wait-registered": cmd_wait_registered, "latency": cmd_latency,
            "idle": cmd_idle, "ready": cmd_ready,
            "counts": cmd_counts, "time-v": cmd_time_v}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])
