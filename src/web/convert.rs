//! JS values to engine values and back. Errors become JS `Error`s named `KindlingError` with
//! the engine's `kind` (and, for config errors, `errors: [{ field, kind, message }]`), so a
//! page tests `error.kind`, never the message.

use js_sys::{Float32Array, Object, Reflect};
use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

use crate::error::{Error, ErrorKind};
use crate::error::{FieldError, Problem};
use crate::inspect::Inspection;

pub fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("engine values always serialize")
}

impl From<Error> for JsValue {
    fn from(error: Error) -> JsValue {
        let js = js_sys::Error::new(&error.message);
        js.set_name("KindlingError");
        let kind = to_js(&error.kind);
        let _ = Reflect::set(&js, &"kind".into(), &kind);
        if error.kind == ErrorKind::Config {
            let _ = Reflect::set(&js, &"errors".into(), &to_js(&error.fields));
        }
        js.into()
    }
}

/// An inspection for JS, each `Floats`' values as a Float32Array.
pub fn inspection(inspection: &Inspection) -> JsValue {
    let js = to_js(inspection);
    let floats = [
        ("nextLogits", Some(&inspection.next_logits)),
        ("attention", inspection.attention.as_ref()),
        ("hidden", inspection.hidden.as_ref()),
        ("cell", inspection.cell.as_ref()),
        (
            "gates",
            inspection.gates.as_ref().map(|gates| &gates.floats),
        ),
        ("embedding", Some(&inspection.embedding.points)),
    ];
    for (key, floats) in floats {
        if let (Some(floats), Ok(target)) = (floats, Reflect::get(&js, &key.into())) {
            let values = Float32Array::from(&floats.values[..]);
            let _ = Reflect::set(&target, &"values".into(), &values);
        }
    }
    js
}

/// An options object as JSON (`undefined` and `null` are no options; nested plain objects
/// follow the same rules). Non-finite numbers,
/// which JSON cannot hold, become their text so that validation names them ("must be a
/// finite number (got \"NaN\")"); `undefined` and `null` members are left out.
pub fn options(value: &JsValue) -> Result<Map<String, Value>, Error> {
    let mut map = Map::new();
    if value.is_undefined() || value.is_null() {
        return Ok(map);
    }
    if !value.is_object() {
        return Err(Error::argument(
            "options must be an object, like { text, preset }",
        ));
    }
    for entry in Object::entries(value.unchecked_ref()).iter() {
        let entry: js_sys::Array = entry.unchecked_into();
        let key = entry.get(0).as_string().unwrap_or_default();
        let value = entry.get(1);
        let json = if let Some(n) = value.as_f64() {
            number(n)
        } else if let Some(s) = value.as_string() {
            Value::String(s)
        } else if let Some(b) = value.as_bool() {
            Value::Bool(b)
        } else if value.is_undefined() || value.is_null() {
            continue;
        } else if value.is_object() && !js_sys::Array::is_array(&value) {
            // A map of numbers by name (a budget's `measured`): the same rules one level down.
            Value::Object(options(&value)?)
        } else {
            let message =
                format!("{key} must be a number, a string, true/false or an object of them");
            return Err(FieldError::new(&key, Problem::WrongType, message).into());
        };
        map.insert(key, json);
    }
    Ok(map)
}

/// JS has only doubles; whole ones become JSON integers so they fit integer fields.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or_else(|| Value::String(n.to_string()), Value::Number)
    }
}

/// The message of a JS exception or rejection.
pub fn js_message(value: JsValue) -> String {
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => value.as_string().unwrap_or_else(|| format!("{value:?}")),
    }
}
