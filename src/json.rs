//! JSON as the dump holds it. Text exactly as the original tool writes it: `JSON.stringify(value, null, 2)` plus a
//! newline. Matching it byte for byte lets a team switch tools without a noisy first commit.

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{Formatter, PrettyFormatter};
use std::collections::HashMap;
use std::io;

/// Formats like `PrettyFormatter` with a two-space indent, except that floats follow
/// JavaScript's `Number.prototype.toString` (`5.0` prints as `5`, `1e21` as `1e+21`).
struct JsFormatter<'a> {
    pretty: PrettyFormatter<'a>,
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name<W: ?Sized + io::Write>(&mut self, writer: &mut W $(, $arg: $ty)*) -> io::Result<()> {
            self.pretty.$name(writer $(, $arg)*)
        })*
    };
}

impl Formatter for JsFormatter<'_> {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        let mut buffer = ryu_js::Buffer::new();
        writer.write_all(buffer.format(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }

    delegate! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        begin_object_value();
        end_object_value();
    }
}

/// Serialises a value the way the original tool writes dump files (with the trailing newline).
pub fn to_dump_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::with_capacity(256);
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut out,
        JsFormatter {
            pretty: PrettyFormatter::with_indent(b"  "),
        },
    );
    value
        .serialize(&mut serializer)
        .expect("serialising JSON values into memory cannot fail");
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// JSON equality as a person reads it: key order never matters, and numbers compare by value
/// (`5` and `5.0` are the same number).
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x.fract() != 0.0 || y.fract() != 0.0 => x == y,
            _ => x == y || x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, value)| y.get(key).is_some_and(|other| json_equal(value, other)))
        }
        _ => a == b,
    }
}

/// Parses JSON text keeping the key order (serde_json's `preserve_order`). A key that appears
/// twice in one object is an error: which of the two values a reader takes is a guess.
pub fn parse(text: &str) -> serde_json::Result<Value> {
    serde_json::from_str::<Strict>(text).map(|strict| strict.0)
}

/// A JSON value as Directus answered it, held in as little memory as [`parse`] holds a dump's:
/// a key that appears twice keeps its last value, as `JSON.parse` does.
pub fn parse_answer(text: &str) -> serde_json::Result<Value> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde::Deserializer::deserialize_any(&mut deserializer, ANSWER)?;
    deserializer.end()?;
    Ok(value)
}

/// A JSON value held as its compact text: a parsed tree takes seven to nine times the memory
/// of its text (a map entry per key, a heap string per key and per value), and the items and
/// schema entries of a large instance are only worked on a collection at a time. Parsed back
/// when worked on; serialises as the value it holds, in any format. Copies share the text (a
/// plan's creates are the dump's items).
#[derive(Clone, PartialEq, Eq)]
pub struct Compact(std::sync::Arc<str>);

impl Compact {
    pub fn new(value: &Value) -> Compact {
        Compact(value.to_string().into())
    }

    pub fn all(values: Vec<Value>) -> Vec<Compact> {
        values.iter().map(Compact::new).collect()
    }

    /// The value, parsed again.
    pub fn value(&self) -> Value {
        parse_answer(&self.0).expect("compact text is JSON this tool wrote")
    }

    pub fn values(items: &[Compact]) -> Vec<Value> {
        items.iter().map(Compact::value).collect()
    }

    /// One top-level field, without building the rest of the tree.
    pub fn field(&self, name: &str) -> Option<Value> {
        let fields: HashMap<String, &serde_json::value::RawValue> =
            serde_json::from_str(&self.0).ok()?;
        fields
            .get(name)
            .and_then(|raw| parse_answer(raw.get()).ok())
    }

    pub fn text(&self) -> &str {
        &self.0
    }
}

impl From<Value> for Compact {
    fn from(value: Value) -> Compact {
        Compact::new(&value)
    }
}

impl std::fmt::Debug for Compact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Compact {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

/// A list answer of Directus (`{"data": [...], "meta": {...}}`): its items as compact text,
/// each parsed and let go on its own (a collection of thousands is never one parsed tree),
/// and its `meta`. `None` when there is no `data`.
pub fn parse_list(text: &str) -> serde_json::Result<(Option<Vec<Compact>>, Option<Value>)> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let answer = serde::Deserializer::deserialize_map(&mut deserializer, ListAnswer)?;
    deserializer.end()?;
    Ok(answer)
}

struct ListAnswer;

impl<'de> serde::de::Visitor<'de> for ListAnswer {
    type Value = (Option<Vec<Compact>>, Option<Value>);

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with a list of items as its data")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut data, mut meta) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "data" => data = Some(map.next_value_seed(CompactItems)?),
                "meta" => meta = Some(map.next_value_seed(ANSWER)?),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok((data, meta))
    }
}

/// Reads a list of items, each compacted as soon as it is read.
pub struct CompactItems;

impl<'de> serde::de::DeserializeSeed<'de> for CompactItems {
    type Value = Vec<Compact>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<Compact>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CompactItems {
    type Value = Vec<Compact>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of items")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Compact>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ANSWER)? {
            items.push(Compact::new(&item));
        }
        Ok(items)
    }
}

/// A JSON value read without accepting duplicate keys.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(Visitor { strict: true })
            .map(Strict)
    }
}

/// Builds `Value`s whose objects have the capacity of their keys, no more: serde_json's own
/// grows each object's table by doubling, which at scale (tens of thousands of small items)
/// holds a third more memory than the items need. `strict`: a key that appears twice is an
/// error.
#[derive(Clone, Copy)]
pub struct Visitor {
    strict: bool,
}

/// Reads a value as Directus answered it (see [`parse_answer`]).
pub const ANSWER: Visitor = Visitor { strict: false };

impl<'de> serde::de::DeserializeSeed<'de> for Visitor {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Visitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self)?;
            entries.push((key, value));
        }
        let mut object = serde_json::Map::with_capacity(entries.len());
        for (key, value) in entries {
            if self.strict && object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key {key:?} appears twice in one object"
                )));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_values_come_back_as_they_were() {
        let item = json!({"b": 1, "a": [5.0, 0.1, {"x": null}], "s": "é\"/", "_syncId": "s1"});
        let compact = Compact::new(&item);
        assert_eq!(compact.value(), item);
        assert_eq!(compact.field("_syncId"), Some(json!("s1")));
        assert_eq!(compact.field("missing"), None);
        // Key order and number kinds survive, so dump files are written as before.
        assert_eq!(to_dump_string(&vec![compact]), to_dump_string(&vec![item]));
    }

    #[test]
    fn list_answers_are_read_item_by_item() {
        let text = r#"{"meta": {"filter_count": 2}, "data": [{"id": 1, "a": 1, "a": 2}, {"id": 2}], "x": [1]}"#;
        let (data, meta) = parse_list(text).unwrap();
        let values = Compact::values(&data.unwrap());
        // A repeated key keeps its last value, as `JSON.parse` does.
        assert_eq!(values, vec![json!({"id": 1, "a": 2}), json!({"id": 2})]);
        assert_eq!(meta, Some(json!({"filter_count": 2})));
        assert_eq!(parse_list(r#"{"meta": {}}"#).unwrap().0, None);
        assert!(parse_list(r#"{"data": {"id": 1}}"#).is_err());
        assert!(parse_list("[1]").is_err());
    }

    #[test]
    fn matches_javascript_stringify() {
        let value = json!({"b": 1, "a": [], "o": {}, "f": 5.0, "g": 0.1, "big": 1e21, "s": "é/\u{1}",
                           "n": null, "arr": [1, {"x": true}]});
        let expected = "{\n  \"b\": 1,\n  \"a\": [],\n  \"o\": {},\n  \"f\": 5,\n  \"g\": 0.1,\n  \"big\": 1e+21,\n  \"s\": \"é/\\u0001\",\n  \"n\": null,\n  \"arr\": [\n    1,\n    {\n      \"x\": true\n    }\n  ]\n}\n";
        assert_eq!(to_dump_string(&value), expected);
    }

    #[test]
    fn order_and_number_spelling_do_not_matter() {
        assert!(json_equal(
            &json!({"a": 1, "b": [1.0]}),
            &json!({"b": [1], "a": 1.0})
        ));
        assert!(!json_equal(&json!({"a": 1}), &json!({"a": "1"})));
        assert!(!json_equal(&json!([]), &json!({})));
        assert!(!json_equal(&json!({"a": null}), &json!({})));
    }

    #[test]
    fn empty_array_is_three_bytes() {
        assert_eq!(to_dump_string(&json!([])), "[]\n");
    }

    #[test]
    fn duplicate_keys_are_errors_and_numbers_keep_their_spelling() {
        let error = parse(r#"[{"a": 1, "b": {"c": 2, "c": 3}}]"#).unwrap_err();
        assert!(error.to_string().contains("\"c\" appears twice"), "{error}");
        let value =
            parse(r#"{"f": 5.0, "i": -3, "big": 18446744073709551615, "n": null}"#).unwrap();
        assert_eq!(
            to_dump_string(&value),
            "{\n  \"f\": 5,\n  \"i\": -3,\n  \"big\": 18446744073709551615,\n  \"n\": null\n}\n"
        );
    }

    #[test]
    fn keeps_key_order_of_the_input() {
        let value = parse(r#"{"z":1,"a":2,"_syncId":"x"}"#).unwrap();
        assert_eq!(
            to_dump_string(&value),
            "{\n  \"z\": 1,\n  \"a\": 2,\n  \"_syncId\": \"x\"\n}\n"
        );
    }
}
