"""Behaviour that differs between the Python versions colorize supports (``requires-python``): run by CI under
the oldest one too. No TensorFlow here, so that a bare interpreter with the web extra runs it."""
import asyncio

import pytest

pytest.importorskip("starlette", reason="colorize serve needs the web extra: pip install -e '.[web]'")
pytest.importorskip("python_multipart", reason="colorize serve needs the web extra: pip install -e '.[web]'")


class _Stalled(Exception):
    """asyncio.TimeoutError as Python 3.10 has it: not the built-in TimeoutError."""


class _Request:
    headers = {}

    def stream(self):
        async def chunks():
            yield b"part"
            await asyncio.sleep(3600)
            yield b"never"
        return chunks()


def test_a_stalled_upload_is_408_whichever_timeout_class_asyncio_raises(monkeypatch):
    from colorize.serve import requests

    async def wait_for(awaitable, timeout):
        if timeout is not None and timeout < 1:
            awaitable.close()
            raise asyncio.TimeoutError
        return await awaitable
    monkeypatch.setattr(asyncio, "wait_for", wait_for)
    with pytest.raises(requests.RequestError) as err:  # the interpreter's own class
        asyncio.run(requests.read_body(_Request(), 10 ** 6, idle_timeout_s=0.5))
    assert err.value.status == 408
    monkeypatch.setattr(asyncio, "TimeoutError", _Stalled)  # 3.10's separate class, on any interpreter
    with pytest.raises(requests.RequestError) as err:
        asyncio.run(requests.read_body(_Request(), 10 ** 6, idle_timeout_s=0.5))
    assert err.value.status == 408 and "the upload stalled" in str(err.value)
