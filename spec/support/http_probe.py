"""Raw-socket probes of the status server for spec/integration/status_spec.lua.

  http_probe.py big PORT N        a request of N header bytes: prints the status line
  http_probe.py hold PORT N S     opens N connections, sends nothing, holds them S
                                  seconds: prints how many the server closed by then
  http_probe.py silent PORT       connects, sends nothing: prints the seconds until
                                  the server closed the connection
"""
import socket
import sys
import time


def status_line(sock):
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode()


def big(port, n):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    req = b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * n + b"\r\n\r\n"
    try:
        s.sendall(req)
    except OSError:
        pass  # the server answered and closed before reading everything
    print(status_line(s))


def hold(port, n, seconds):
    held = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(n)]
    time.sleep(seconds)
    closed = 0
    for s in held:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    print(closed)


def silent(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    t0 = time.monotonic()
    s.recv(1)
    print("%.1f" % (time.monotonic() - t0))


if __name__ == "__main__":
    what, port = sys.argv[1], int(sys.argv[2])
    if what == "big":
        big(port, int(sys.argv[3]))
    elif what == "hold":
        hold(port, int(sys.argv[3]), float(sys.argv[4]))
    else:
        silent(port)
