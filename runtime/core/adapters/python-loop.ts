// A blocking asyncio event loop for box processes. Pyodide runs Python inside its browser-style WebLoop,
// whose run_until_complete needs WebAssembly stack switching (JSPI), which Node 20 lacks; a box process is
// a plain program, so while it runs asyncio.run and new event loops get this loop instead. It waits by
// sleeping until the next timer: a box has no sockets or pipes to wait on.

/** Python source defining `_enter_asyncio()` and `_leave_asyncio(saved)` (prepended to the runner). */
export const PYTHON_LOOP = String.raw`
import asyncio, asyncio.events, asyncio.runners, selectors, time

class _NoIOSelector(selectors.BaseSelector):
    """The box has no sockets or pipes to wait on: waiting is sleeping until the next timer."""
    def register(self, fileobj, events, data=None):
        raise OSError(95, 'the box event loop cannot wait for I/O')
    def unregister(self, fileobj):
        raise KeyError(fileobj)
    def select(self, timeout=None):
        if timeout is None:
            raise RuntimeError('the event loop would wait forever: nothing is scheduled and the box has no I/O to wait for')
        if timeout > 0:
            time.sleep(timeout)
        return []
    def close(self):
        pass
    def get_map(self):
        return {}

class _BoxLoop(asyncio.BaseEventLoop):
    """A blocking event loop, so asyncio.run works without WebAssembly stack switching (JSPI)."""
    def __init__(self):
        super().__init__()
        self._selector = _NoIOSelector()
    def _process_events(self, event_list):
        pass
    def _write_to_self(self):
        pass

class _BoxPolicy(asyncio.events._BaseDefaultEventLoopPolicy):
    _loop_factory = _BoxLoop

def _enter_asyncio():
    # Pyodide runs code inside its browser-style WebLoop, whose run_until_complete needs JSPI; a box
    # process is a plain program, so asyncio.run and new loops get a blocking loop while it runs.
    saved = (asyncio.run, asyncio.events._event_loop_policy, asyncio.events._get_running_loop())
    asyncio.run = asyncio.runners.run
    asyncio.events._event_loop_policy = _BoxPolicy()
    asyncio.events._set_running_loop(None)
    return saved

def _leave_asyncio(saved):
    asyncio.run, asyncio.events._event_loop_policy, running = saved
    asyncio.events._set_running_loop(running)
`;
