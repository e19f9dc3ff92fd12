/* Engine._apply_config_file(path, format, flagset, env): a GOFF
 * configuration file read and applied by the core (vx_config_file_read /
 * vx_config_file_apply), so Python sets an engine up exactly as C, the
 * command and Node do. Returns the file's refresh settings as _start()'s
 * keyword arguments; the caller starts the engine with them. Every failure
 * is a vexil.ConfigError naming the key path (never a value). */
#include "vexil_ext.h"

static PyObject *refresh_kwargs(const vx_config_file *cf)
{
    vx_refresh_options ro;
    vx_config_file_refresh_options(cf, &ro);
    PyObject *pfile = ro.persistent_file ? PyUnicode_DecodeFSDefault(ro.persistent_file)
                                         : Py_NewRef(Py_None);
    if (!pfile)
        return NULL;
    return Py_BuildValue("{s:d,s:O,s:O,s:N,s:O}", "poll_interval", ro.poll_interval_ms / 1000.0,
                         "jitter", ro.jitter ? Py_True : Py_False, "start_with_error",
                         ro.start_with_error ? Py_True : Py_False, "persistent_file", pfile,
                         "notify_on_start", ro.notify_on_start ? Py_True : Py_False);
}

PyObject *vxpy_engine_apply_config_file(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "format", "flagset", "env", NULL};
    PyObject *path = NULL;
    const char *format = NULL, *flagset = NULL;
    int env = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|zzp:_apply_config_file", kwlist,
                                     PyUnicode_FSConverter, &path, &format, &flagset, &env))
        return NULL;
    vxpy_EngineObject *e = ENGINE(self);
    if (e->closed) {
        Py_DECREF(path);
        return vxpy_raise_status(e->state, VX_ECLOSED, NULL);
    }
    vx_config_file_options o;
    vx_config_file_options_init(&o);
    o.format = format;
    o.flagset = flagset;
    o.flags = env ? 0 : VX_CONFIG_FILE_NO_ENV;
    vx_error err = {0};
    vx_config_file *cf = NULL;
    vx_status rc = vx_config_file_read(PyBytes_AS_STRING(path), &o, &cf, &err);
    Py_DECREF(path);
    if (rc == VX_OK)
        rc = vx_config_file_apply(cf, e->engine, &err);
    PyObject *out = rc == VX_OK ? refresh_kwargs(cf) : vxpy_raise_config(e->state, rc, &err);
    vx_config_file_free(cf);
    return out;
}
