// The Python side of the Pyodide adapter: runs one process's program in the already-loaded interpreter
// and puts the interpreter back the way it found it, so the next process starts clean. One Pyodide
// instance serves every Python process of a host thread (loading takes ~2 s), so the per-run state CPython
// would get from a fresh start is rebuilt here: a new __main__, argv, environ, sys.path, stdio, warning
// filters; and afterwards atexit handlers run, open files are collected (so their bytes reach the box),
// modules the program imported are dropped and the globals of the others (builtins included) restored.
import { PYTHON_LOOP } from './python-loop.js';

/** Python source defining `_wasmbox.snapshot()` and `_wasmbox.run(request_json) -> exit code`. */
export const PYTHON_RUNNER = PYTHON_LOOP + String.raw`
import atexit, builtins, gc, importlib, io, json, os, runpy, sys, types, warnings

_base = {}

_MISSING = object()

def snapshot():
    _base['modules'] = set(sys.modules)
    # Module globals as they were, so a program that rebinds json.dumps or os.getcwd does not change them
    # for the next one (state inside mutable objects is not tracked).
    _base['globals'] = [(m.__dict__, dict(m.__dict__)) for n, m in sys.modules.items() if n not in ('__main__', __name__) and isinstance(getattr(m, '__dict__', None), dict)]
    _base['path'] = list(sys.path)
    _base['main'] = sys.modules.get('__main__')
    _base['filters'] = list(warnings.filters)
    _base['hooks'] = (sys.meta_path[:], sys.path_hooks[:])

def run(request):
    req = json.loads(request)
    _setup(req)
    saved = _enter_asyncio()
    try:
        return _main(req)
    finally:
        _leave_asyncio(saved)
        _teardown()

def _setup(req):
    os.environ.clear()
    os.environ.update(req['env'])
    sys.argv = req['argv']
    sys.orig_argv = req['origArgv']
    sys.executable = req['executable']
    sys.path = _path_head(req) + _base['path'] + _path_tail()
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    sys.warnoptions[:] = req['warnOptions']
    for option in req['warnOptions']:
        try:
            warnings._setoption(option)
        except Exception as e:
            print('Invalid -W option ignored:', e, file=sys.stderr)
    _base['run_stdio'] = [_stream(0, req, 'strict'), _stream(1, req, 'strict'), _stream(2, req, 'backslashreplace')]
    sys.stdin, sys.stdout, sys.stderr = _base['run_stdio']
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = _base['run_stdio']

def _stream(fd, req, errors):
    """A fresh text stream over fd: the last program may have closed or half-read the previous one."""
    raw = io.FileIO(fd, 'rb' if fd == 0 else 'wb', closefd=False)
    unbuffered = fd > 0 and req['unbuffered']
    buffered = raw if unbuffered else io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
    return io.TextIOWrapper(buffered, encoding='utf-8', errors=errors, line_buffering=fd > 0, write_through=unbuffered)

def _main(req):
    main = types.ModuleType('__main__')
    main.__dict__.update(__builtins__=builtins, __cached__=None)
    sys.modules['__main__'] = main
    kind, target = req['kind'], req['target']
    if kind == 'file' and _is_runnable_path(target):
        kind = 'path'
    try:
        if kind == 'module':
            runpy._run_module_as_main(target, alter_argv=True)
            return 0
        if kind == 'path':
            runpy.run_path(target, run_name='__main__')
            return 0
        code = _compile(req, main)
        if code is None:
            return 2
    except SystemExit as e:
        return _exit_code(e)
    except BaseException as e:
        # A program that does not compile gets no traceback, as CPython prints it.
        return _report(e, e.__traceback__ if kind in ('module', 'path') else None)
    try:
        exec(code, main.__dict__)
        return 0
    except SystemExit as e:
        return _exit_code(e)
    except BaseException as e:
        return _report(e, e.__traceback__.tb_next)

def _compile(req, main):
    kind, target = req['kind'], req['target']
    if kind == 'code':
        return compile(target, '<string>', 'exec')
    if kind == 'stdin':
        return compile(sys.stdin.buffer.read(), '<stdin>', 'exec')
    try:
        with io.open_code(target) as f:
            source = f.read()
    except OSError as e:
        print("%s: can't open file %r: [Errno %d] %s" % (req['program'], target, e.errno, e.strerror), file=sys.stderr)
        return None
    if req['skipFirstLine']:
        source = source[source.find(b'\n') + 1:] if b'\n' in source else b''
    main.__file__ = target
    return compile(source, target, 'exec')

def _path_head(req):
    """sys.path[0] as CPython computes it, then PYTHONPATH."""
    kind, target = req['kind'], req['target']
    head = []
    if not req['safePath']:
        if kind == 'file':
            head.append(os.path.abspath(target) if _is_runnable_path(target) else os.path.dirname(os.path.realpath(target)))
        else:
            head.append(os.getcwd() if kind == 'module' else '')
    if not req['ignoreEnvironment']:
        head += [p for p in req['env'].get('PYTHONPATH', '').split(':') if p]
    return head

def _path_tail():
    """The box's own site-packages for this Python version, when it has one."""
    site = '/usr/local/lib/python%d.%d/site-packages' % sys.version_info[:2]
    return [site] if os.path.isdir(site) else []

def _is_runnable_path(path):
    """A directory or zip archive with a __main__.py, which runpy runs."""
    try:
        if os.path.isdir(path):
            return True
        with open(path, 'rb') as f:
            return f.read(4) == b'PK\x03\x04'
    except OSError:
        return False

def _exit_code(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1

def _report(e, tb):
    try:
        sys.excepthook(type(e), e, tb)
    except Exception:
        sys.__excepthook__(type(e), e, tb)
    return 130 if isinstance(e, KeyboardInterrupt) else 1

def _flush():
    for stream in [sys.stdout, sys.stderr] + _base['run_stdio'][1:]:
        try:
            stream.flush()
        except Exception:
            pass

def _teardown():
    try:
        atexit._run_exitfuncs()
    finally:
        atexit._clear()
    _flush()
    main = sys.modules.get('__main__')
    sys.modules['__main__'] = _base['main']
    if main is not None and main is not _base['main']:
        main.__dict__.clear()
    for name in [n for n in sys.modules if n not in _base['modules']]:
        del sys.modules[name]
    for current, saved in _base['globals']:
        for name in [n for n in current if n not in saved]:
            del current[name]
        for name, value in saved.items():
            if current.get(name, _MISSING) is not value:
                current[name] = value
    # Lists changed in place are not covered by restoring globals.
    sys.meta_path[:], sys.path_hooks[:] = _base['hooks']
    warnings.filters[:] = _base['filters']
    warnings._filters_mutated()
    sys.path_importer_cache.clear()
    # Files the program left open are closed here, so what it wrote reaches the box before we return.
    gc.collect()
    _flush()
`;
