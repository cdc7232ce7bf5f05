//! Python values to JSON, for the request readers the CLI uses (the rules stay there: this only carries
//! the value across). Exact `dict`, `list`, `str`, `int`, `float`, `bool` and `None` are read directly
//! (the common case, and the fast one); other mappings and sequences go through `pythonize`.

use diag::codes;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use crate::errors::{At, error};

/// How deep a value may nest (a request is a few levels deep; a self-referencing list would recurse
/// forever).
const MAX_DEPTH: usize = 64;

/// `obj` as JSON; `what` names it in errors (`python::request`).
pub(crate) fn json(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    value(obj, what, 0)
}

fn bad(what: &str, m: impl std::fmt::Display) -> PyErr {
    error(
        codes::PYTHON_REQUEST,
        format!("{what} is not JSON-like: {m}"),
        &At::default(),
    )
}

fn value(obj: &Bound<'_, PyAny>, what: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(bad(what, format!("nested deeper than {MAX_DEPTH} levels")));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast_exact::<PyString>() {
        // A string that is not valid UTF-8 (lone surrogates) is refused, not replaced.
        return s
            .to_cow()
            .map(|s| Value::String(s.into_owned()))
            .map_err(|e| bad(what, e));
    }
    if let Ok(d) = obj.cast_exact::<PyDict>() {
        let mut m = Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| bad(what, format!("a key is not a string: {k}")))?
                .to_cow()
                .map_err(|e| bad(what, e))?
                .into_owned();
            m.insert(key, value(&v, what, depth + 1)?);
        }
        return Ok(Value::Object(m));
    }
    if let Ok(l) = obj.cast_exact::<PyList>() {
        return l.iter().map(|x| value(&x, what, depth + 1)).collect();
    }
    if let Ok(t) = obj.cast_exact::<PyTuple>() {
        return t.iter().map(|x| value(&x, what, depth + 1)).collect();
    }
    // bool before int: Python's bool is an int.
    if let Ok(b) = obj.cast_exact::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast_exact::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(bad(what, "an integer beyond 64 bits"));
    }
    if let Ok(f) = obj.cast_exact::<PyFloat>() {
        return serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| bad(what, "a float that is not finite"));
    }
    pythonize::depythonize(obj).map_err(|e| bad(what, e))
}
