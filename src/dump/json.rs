//! JSON text exactly as the original tool writes it: `JSON.stringify(value, null, 2)` plus a
//! newline. Matching it byte for byte lets a team switch tools without a noisy first commit.

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{Formatter, PrettyFormatter};
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

/// Parses JSON text keeping the key order (serde_json's `preserve_order`).
pub fn parse(text: &str) -> serde_json::Result<Value> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_javascript_stringify() {
        let value = json!({"b": 1, "a": [], "o": {}, "f": 5.0, "g": 0.1, "big": 1e21, "s": "é/\u{1}",
                           "n": null, "arr": [1, {"x": true}]});
        let expected = "{\n  \"b\": 1,\n  \"a\": [],\n  \"o\": {},\n  \"f\": 5,\n  \"g\": 0.1,\n  \"big\": 1e+21,\n  \"s\": \"é/\\u0001\",\n  \"n\": null,\n  \"arr\": [\n    1,\n    {\n      \"x\": true\n    }\n  ]\n}\n";
        assert_eq!(to_dump_string(&value), expected);
    }

    #[test]
    fn empty_array_is_three_bytes() {
        assert_eq!(to_dump_string(&json!([])), "[]\n");
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
