"""The process a Python environment runs in (started by runner/env_process.py, never imported by the runner).

Run as a script by its file path (`python -I env_child.py FILE CLASS MEMORY_BYTES NETWORK`), so it imports nothing
of GenSandbox and starts in ~15 ms. Before it loads the suite's file it cuts itself off: a new network namespace
(no interfaces but a loopback that is down) or, where the kernel refuses one, Python's sockets made to raise; an
address-space limit; and death with its parent. Then it says hello (the class's methods, or why it could not load)
and answers requests one after another, each a length-prefixed JSON frame on its own copy of stdin/stdout: the
environment's own prints go to stderr, not into the protocol.

Requests: {"op": "reset", "args": {...}} → a fresh instance, reset(); {"op": "call", "name", "arguments"} → the
method's result. Every answer carries the state (snapshot()) after it, so the runner never asks for it separately.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import resource
import struct
import sys

_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000
_PR_SET_PDEATHSIG, _SIGKILL = 1, 9
_HEADER = struct.Struct(">I")


def main(argv: list[str]) -> int:
    path, class_name, memory_bytes, network = argv[1], argv[2], int(argv[3]), argv[4]
    channel_in, channel_out = _take_channel()
    libc = _libc()
    if libc is not None:
        libc.prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)  # the runner gone (even killed): so is this process
    isolation = _isolate_network(libc, network == "namespace")
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cls, problem = _load(path, class_name)
    methods = sorted(n for n in dir(cls) if callable(getattr(cls, n, None))) if cls else []
    _send(channel_out, {"problem": problem} if problem else {"ready": True, "network": isolation,
                                                             "methods": methods})
    if problem:
        return 0
    serve(cls, channel_in, channel_out)
    return 0


def serve(cls: type, channel_in, channel_out) -> None:
    instance = None
    while (request := _receive(channel_in)) is not None:
        try:
            if request["op"] == "reset":
                instance = None
                instance = cls(**request["args"])
                instance.reset()
                answer = {"ok": True}
            else:
                answer = _call(instance, request["name"], request["arguments"])
            answer["state"] = instance.snapshot()
            frame = _encode(answer)
        except MemoryError:
            _send(channel_out, {"fatal": "memory"})
            return  # the instance may be half-changed: this process is done
        except Exception as error:  # noqa: BLE001 - whatever the author's code raised, said to the runner
            what = "could not start" if request["op"] == "reset" else "snapshot() failed"
            _send(channel_out, {"fatal": "error", "detail": f"{what}: {type(error).__name__}: {error}"})
            return
        channel_out.write(frame)
        channel_out.flush()


def _call(instance, name: str, arguments: dict) -> dict:
    """The answer to one tool call: {"ok", "result"} or {"error"} with the words the model reads (as in-process)."""
    method = getattr(instance, name, None)
    if not callable(method):
        return {"error": f"the environment has no tool {name}"}
    try:
        result = method(**arguments)
        if hasattr(result, "__await__"):
            result = _run(result)
        json.dumps(result, default=_jsonable)  # a result that is not JSON is refused here, not in the runner
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - the environment refusing the call: the model sees why
        return {"error": f"{name}: {error}"}
    return {"ok": True, "result": result}


_loop = None


def _run(awaitable):
    """An async tool method, on one event loop kept for the process (asyncio is imported only if needed)."""
    global _loop
    import asyncio

    async def wait():
        return await awaitable

    _loop = _loop or asyncio.new_event_loop()
    return _loop.run_until_complete(wait())


def _load(path: str, class_name: str) -> tuple[type | None, dict | None]:
    name = f"gensandbox_env_{os.getpid()}"
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look modules up by name
        spec.loader.exec_module(module)
    except BaseException as error:  # noqa: BLE001 - a file that fails to import, however it fails
        return None, {"kind": "load", "detail": f"{type(error).__name__}: {error}"}
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        return None, {"kind": "no-class"}
    missing = [method for method in ("reset", "snapshot") if not callable(getattr(cls, method, None))]
    return (None, {"kind": "missing", "methods": missing}) if missing else (cls, None)


def _isolate_network(libc, try_namespace: bool) -> str:
    """"namespace" when the kernel gave this process a network of its own; else sockets raise, and why is said."""
    if not try_namespace:
        reason = "the network namespace was turned off"
    elif libc is None:
        reason = "no C library to call unshare() with"
    elif libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) == 0:
        return "namespace"
    else:
        reason = f"unshare(CLONE_NEWUSER | CLONE_NEWNET) failed: {os.strerror(ctypes.get_errno())}"
    _block_sockets()
    return f"sockets blocked ({reason})"


def _block_sockets() -> None:
    """The fallback: Python's socket constructors raise. Weaker than a namespace: code that starts a program or uses
    a C library's own sockets is not stopped."""
    import _socket
    import socket

    def refuse(*args, **kwargs):
        raise PermissionError("no network in a GenSandbox environment")

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse()

    socket.socket = socket.SocketType = _socket.socket = _socket.SocketType = NoSocket
    for name in ("create_connection", "create_server", "socketpair", "fromfd", "getaddrinfo"):
        setattr(socket, name, refuse)
        if hasattr(_socket, name):
            setattr(_socket, name, refuse)


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _take_channel():
    """The protocol's own copies of stdin and stdout; fd 0 becomes /dev/null and fd 1 stderr, so an environment
    that reads input or prints cannot break a frame."""
    channel_in, channel_out = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    return channel_in, channel_out


def _jsonable(value):
    """What JSON cannot write natively (dates, dataclasses, numpy scalars) as the runner's canonical JSON would."""
    try:
        import orjson

        return orjson.loads(orjson.dumps(value))
    except Exception:  # noqa: BLE001 - not JSON-able at all: json.dumps says so
        raise TypeError(f"{type(value).__name__} is not JSON serializable") from None


def _encode(message: dict) -> bytes:
    data = json.dumps(message, default=_jsonable).encode()  # ASCII: a lone surrogate in a string survives
    return _HEADER.pack(len(data)) + data


def _send(channel_out, message: dict) -> None:
    channel_out.write(_encode(message))
    channel_out.flush()


def _receive(channel_in) -> dict | None:
    header = channel_in.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None  # the runner closed the pipe: done
    return json.loads(channel_in.read(_HEADER.unpack(header)[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
