# This file is never imported by the project: its text is the one cell of a *batch* job (quizbank.engine
# build_batch_job) and runs inside the sandbox. It runs the cells of a single-variant job once per seed, each
# time in a fresh namespace, as the runner's job process runs one job's cells (runner/zygote/child.py): same
# cell file names (so errors name the same cell and line), same inputs, same exports, converted the same way.
# A seed's outcome never depends on the seeds before it: the process-wide settings a template may change are
# put back before each seed. A seed that runs out of time or memory is marked "rerun": the server runs it as
# a single job of its own, which reports it exactly as it would have been reported alone. Output is not
# captured per seed (the batch job's output limit is the sum of its seeds'): a batch over it is run again
# seed by seed.
import builtins as _qbb_builtins
import json as _qbb_json
import linecache as _qbb_linecache
import signal as _qbb_signal
import sys as _qbb_sys
import time as _qbb_time
import warnings as _qbb_warnings

import numpy as _qbb_np
import torch as _qbb_torch

_qbb_jsonable = _qbb_sys.modules.get("runner_zygote.jsonable") or _qbb_sys.modules.get("runner.zygote.jsonable")


class _QbbSeedTimeout(BaseException):
    pass


def _qbb_alarm(signum, frame):
    raise _QbbSeedTimeout()


_qbb_signal.signal(_qbb_signal.SIGALRM, _qbb_alarm)


def _qbb_no_device_seed(seed):
    return None


# torch.manual_seed also queues a seed for each accelerator that is not there (CUDA, XPU, MTIA), each time
# formatting the whole call stack: measured ~1.5 ms per call, more than most variants' own work. With no such
# device the queued seeds are never used; the CPU generator is seeded exactly as before.
import torch.cuda as _qbb_cuda  # noqa: E402
import torch.mtia as _qbb_mtia  # noqa: E402
import torch.xpu as _qbb_xpu  # noqa: E402

for _qbb_device in (_qbb_cuda, _qbb_xpu, _qbb_mtia):
    if not _qbb_device.is_available():
        _qbb_device.manual_seed_all = _qbb_no_device_seed

_qbb_compiled = []
for _qbb_cell in __batch_cells__:  # noqa: F821 - bound by the runner from the job's inputs
    _qbb_name = "<cell " + _qbb_cell["name"] + ">"
    _qbb_source = _qbb_cell["source"]
    _qbb_linecache.cache[_qbb_name] = (len(_qbb_source), None, _qbb_source.splitlines(True), _qbb_name)
    try:
        _qbb_compiled.append((_qbb_cell["name"], compile(_qbb_source, _qbb_name, "exec"), None))
    except BaseException as _qbb_exc:  # noqa: BLE001 - reported for each seed when its turn comes
        _qbb_compiled.append((_qbb_cell["name"], None, _qbb_exc))


class _QbbJinjaCache:
    """Stands in for the prelude's Jinja environment after the first seed: compiling a stem costs more than
    the rest of a variant, and a compiled template renders exactly as a freshly compiled one. A source that
    does not compile is compiled (and raises) again each time, as alone."""

    def __init__(self):
        self.env = None
        self.templates = {}

    def from_string(self, source):
        template = self.templates.get(source)
        if template is None:
            template = self.templates[source] = self.env.from_string(source)
        return template

    def __getattr__(self, name):
        return getattr(self.env, name)


_qbb_jinja = _QbbJinjaCache()

_qbb_state = {
    "np_print": _qbb_np.get_printoptions(),
    "np_err": _qbb_np.geterr(),
    "torch_print": dict(vars(_qbb_torch._tensor_str.PRINT_OPTS)),
    "dtype": _qbb_torch.get_default_dtype(),
    "grad": _qbb_torch.is_grad_enabled(),
    "threads": _qbb_torch.get_num_threads(),
    "deterministic": _qbb_torch.are_deterministic_algorithms_enabled(),
    "warnings": list(_qbb_warnings.filters),
}


def _qbb_restore():
    _qbb_np.set_printoptions(**_qbb_state["np_print"])
    _qbb_np.seterr(**_qbb_state["np_err"])
    for _key, _value in _qbb_state["torch_print"].items():
        setattr(_qbb_torch._tensor_str.PRINT_OPTS, _key, _value)
    _qbb_torch.set_default_dtype(_qbb_state["dtype"])
    _qbb_torch.set_grad_enabled(_qbb_state["grad"])
    if _qbb_torch.get_num_threads() != _qbb_state["threads"]:
        _qbb_torch.set_num_threads(_qbb_state["threads"])
    _qbb_torch.use_deterministic_algorithms(_qbb_state["deterministic"])
    _qbb_warnings.filters[:] = _qbb_state["warnings"]


def _qbb_position(exc):
    """(cell, line) of the innermost frame in a job cell, as the runner reports it."""
    if isinstance(exc, SyntaxError) and (exc.filename or "").startswith("<cell "):
        return exc.filename[6:-1], exc.lineno
    found = (None, None)
    entry = exc.__traceback__
    while entry is not None:
        filename = entry.tb_frame.f_code.co_filename
        if filename.startswith("<cell ") and filename != "<cell batch>":
            found = (filename[6:-1], entry.tb_lineno)
        entry = entry.tb_next
    return found


def _qbb_text(text):
    return _qbb_jsonable.clean_text(text) if _qbb_jsonable else text


def _qbb_convert(value):
    return _qbb_jsonable.to_jsonable(value) if _qbb_jsonable else value


def _qbb_out_of_memory(exc):
    if isinstance(exc, MemoryError):
        return True
    text = str(exc) if isinstance(exc, RuntimeError) else ""
    return "can't allocate memory" in text or "DefaultCPUAllocator" in text


def _qbb_export_error(message):
    return {"type": "ExportFailed", "message": message, "cell": None, "line": None}


def _qbb_run_seed(seed_value):
    namespace = {"__name__": "__main__", "__builtins__": _qbb_builtins}
    namespace.update(__batch_inputs__)  # noqa: F821
    namespace["__seed__"] = seed_value
    try:
        for name, code, compile_error in _qbb_compiled:
            if compile_error is not None:
                raise compile_error
            exec(code, namespace)  # noqa: S102 - inside the sandbox, as the job process would
            if name == "prelude" and "_qb_env" in namespace:
                if _qbb_jinja.env is None:
                    _qbb_jinja.env = namespace["_qb_env"]
                namespace["_qb_env"] = _qbb_jinja
    except _QbbSeedTimeout:
        raise
    except BaseException as exc:  # noqa: BLE001 - one seed's failure is that seed's result
        if _qbb_out_of_memory(exc):
            return {"rerun": "memory"}
        try:
            message = _qbb_text(str(exc))
        except BaseException:  # noqa: BLE001
            message = "<exception message could not be shown>"
        cell, line = _qbb_position(exc)
        return {"error": {"type": type(exc).__name__, "message": message, "cell": cell, "line": line}}
    exports = {}
    for name in __batch_exports__:  # noqa: F821
        if name not in namespace:
            return {"error": _qbb_export_error(f"export {name!r} was not defined by the cells")}
        try:
            exports[name] = _qbb_convert(namespace[name])
            _qbb_json.dumps(exports[name], allow_nan=True)
        except MemoryError:
            return {"error": _qbb_export_error(f"export {name!r} is too large to convert to JSON")}
        except (TypeError, ValueError, RecursionError) as problem:
            return {"error": _qbb_export_error(f"export {name!r} cannot be converted to JSON: {problem}")}
    return {"exports": exports}


__batch__ = []
for _qbb_seed in __batch_seeds__:  # noqa: F821
    _qbb_restore()
    _qbb_started = _qbb_time.monotonic()
    try:
        try:
            _qbb_signal.setitimer(_qbb_signal.ITIMER_REAL, __batch_seed_seconds__)  # noqa: F821
            _qbb_outcome = _qbb_run_seed(_qbb_seed)
        finally:
            _qbb_signal.setitimer(_qbb_signal.ITIMER_REAL, 0)
    except _QbbSeedTimeout:
        _qbb_outcome = {"rerun": "timeout"}
    _qbb_outcome["seed"] = _qbb_seed
    _qbb_outcome["wall_ms"] = (_qbb_time.monotonic() - _qbb_started) * 1000
    __batch__.append(_qbb_outcome)
