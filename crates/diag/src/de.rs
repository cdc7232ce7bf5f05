//! Decoding the spanned JSON tree into typed structs with `serde`: one parse per file, and every mistake
//! the struct's `Deserialize` finds — an unknown field (`#[serde(deny_unknown_fields)]`), a wrong type, a
//! missing field, a value out of range — located at the smallest value or key it concerns.
//!
//! ```
//! #[derive(Debug, serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Config { _name: String, #[serde(default)] _ttl: u32 }
//!
//! let text = "{\"_name\": \"a\",\n \"tll\": 5}";
//! let v = diag::json::read(text, &mut Vec::new()).unwrap();
//! let e = diag::de::from_value::<Config>(&v).unwrap_err();
//! assert!(e.message.contains("unknown field `tll`"));
//! assert_eq!(diag::Source::new("c.json", text).line_col(e.span.unwrap().start), (2, 2));
//! ```

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

use crate::Span;
use crate::json::{Kind, Member, Value};

/// A value that does not have the shape the type needs, with where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// What is wrong (serde's words: "unknown field `x`, expected one of …", "invalid type: …").
    pub message: String,
    /// The value or key it concerns (`None` only when the tree holds no position for it).
    pub span: Option<Span>,
}

impl DecodeError {
    /// The error at `span`, unless it already names a (smaller) place.
    fn at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            message: msg.to_string(),
            span: None,
        }
    }
}

/// Decodes `v` as a `T`.
pub fn from_value<'de, T: serde::Deserialize<'de>>(v: &'de Value) -> Result<T, DecodeError> {
    T::deserialize(ValueDe(v)).map_err(|e| e.at(v.span))
}

/// A deserializer over one spanned value.
#[derive(Clone, Copy)]
struct ValueDe<'a>(&'a Value);

impl<'de> ValueDe<'de> {
    fn number<V: Visitor<'de>>(text: &str, visitor: V) -> Result<V::Value, DecodeError> {
        let integral = !text.contains(['.', 'e', 'E']);
        if integral {
            if let Ok(n) = text.parse::<i64>() {
                return visitor.visit_i64(n);
            }
            if let Ok(n) = text.parse::<u64>() {
                return visitor.visit_u64(n);
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => visitor.visit_f64(f),
            _ => Err(de::Error::custom(format!(
                "the number {text} is out of range"
            ))),
        }
    }
}

impl<'de> Deserializer<'de> for ValueDe<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let span = self.0.span;
        match &self.0.kind {
            Kind::Null => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(*b),
            Kind::Number(n) => Self::number(n, visitor),
            Kind::String(s) => visitor.visit_borrowed_str(s),
            Kind::Array(items) => visitor.visit_seq(Seq {
                items: items.iter(),
            }),
            Kind::Object(members) => visitor.visit_map(Map {
                members: members.iter(),
                value: None,
            }),
        }
        .map_err(|e| e.at(span))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0.kind {
            Kind::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let span = self.0.span;
        match &self.0.kind {
            // A unit variant: its name.
            Kind::String(s) => visitor
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e: DecodeError| e.at(span)),
            // `{"Variant": value}`.
            Kind::Object(members) if members.len() == 1 => match members.first() {
                Some(m) => visitor.visit_enum(Enum(m)).map_err(|e| e.at(span)),
                None => Err(de::Error::custom("an empty object is not a variant")),
            },
            _ => Err(DecodeError {
                message: "expected a variant name (a string) or an object with one member".into(),
                span: Some(span),
            }),
        }
    }

    /// A value nobody reads (an ignored field, an inline document read from its node) is not walked.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct Seq<'a> {
    items: std::slice::Iter<'a, Value>,
}

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = DecodeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        match self.items.next() {
            None => Ok(None),
            Some(v) => seed
                .deserialize(ValueDe(v))
                .map(Some)
                .map_err(|e| e.at(v.span)),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'a> {
    members: std::slice::Iter<'a, Member>,
    value: Option<&'a Value>,
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = DecodeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        match self.members.next() {
            None => Ok(None),
            Some(m) => {
                self.value = Some(&m.value);
                // An unknown field is reported at its key.
                seed.deserialize(Key(m))
                    .map(Some)
                    .map_err(|e| e.at(m.key_span))
            }
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let v = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value without its key"))?;
        seed.deserialize(ValueDe(v)).map_err(|e| e.at(v.span))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}

/// A member's key, as a string.
struct Key<'a>(&'a Member);

impl<'de> Deserializer<'de> for Key<'de> {
    type Error = DecodeError;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_borrowed_str(&self.0.key)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// `{"Variant": value}`.
struct Enum<'a>(&'a Member);

impl<'de> de::EnumAccess<'de> for Enum<'de> {
    type Error = DecodeError;
    type Variant = ValueDe<'de>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, ValueDe<'de>), DecodeError> {
        let v = seed
            .deserialize(Key(self.0))
            .map_err(|e| e.at(self.0.key_span))?;
        Ok((v, ValueDe(&self.0.value)))
    }
}

impl<'de> de::VariantAccess<'de> for ValueDe<'de> {
    type Error = DecodeError;
    fn unit_variant(self) -> Result<(), DecodeError> {
        match self.0.kind {
            Kind::Null => Ok(()),
            _ => Err(DecodeError {
                message: "this variant takes no value".into(),
                span: Some(self.0.span),
            }),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, DecodeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_any(visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_any(visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        ttl: u32,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        name: String,
        inner: Inner,
        mode: Option<Mode>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    enum Mode {
        Strict,
        Off,
    }

    fn decode(text: &str) -> Result<Outer, (String, (usize, usize))> {
        let v = crate::json::read(text, &mut Vec::new()).unwrap_or_else(|| panic!("{text}"));
        from_value::<Outer>(&v).map_err(|e| {
            let at = crate::Source::new("t", text).line_col(e.span.map_or(0, |s| s.start));
            (e.message, at)
        })
    }

    /// Each mistake at the smallest place it concerns: an unknown key at the key, a wrong type at the
    /// value, a missing field at the object that lacks it, a bad variant at its value.
    #[test]
    fn mistakes_are_located() {
        let ok =
            decode(r#"{"name": "a", "inner": {"ttl": 5, "tags": ["x"]}, "mode": "Off"}"#).unwrap();
        assert_eq!(
            ok.inner,
            Inner {
                ttl: 5,
                tags: vec!["x".into()]
            }
        );
        assert_eq!(ok.mode, Some(Mode::Off));
        let (m, at) =
            decode("{\"name\": \"a\",\n \"inner\": {\"ttl\": 5, \"tll\": 1}}").unwrap_err();
        assert!(m.contains("unknown field `tll`"), "{m}");
        assert_eq!(at, (2, 22));
        let (m, at) = decode("{\"name\": \"a\",\n \"inner\": {\"ttl\": \"five\"}}").unwrap_err();
        assert!(m.contains("invalid type: string \"five\""), "{m}");
        assert_eq!(at, (2, 19));
        let (m, at) = decode("{\"name\": \"a\",\n \"inner\": {\"tags\": []}}").unwrap_err();
        assert!(m.contains("missing field `ttl`"), "{m}");
        assert_eq!(at, (2, 11));
        let (m, at) = decode("{\"name\": \"a\", \"inner\": {\"ttl\": -1}}").unwrap_err();
        assert!(m.contains("invalid value: integer `-1`"), "{m}");
        assert_eq!(at, (1, 32));
        let (m, at) = decode("{\"name\": \"a\", \"inner\": {\"ttl\": 1},\n \"mode\": \"strict\"}")
            .unwrap_err();
        assert!(m.contains("unknown variant `strict`"), "{m}");
        assert_eq!(at, (2, 10));
        let (m, _) = decode("{\"name\": \"a\", \"inner\": {\"ttl\": 1e999}}").unwrap_err();
        assert!(m.contains("out of range"), "{m}");
    }

    /// Any JSON decodes into `serde_json::Value` unchanged (the untyped fallback).
    #[test]
    fn untyped_values_round_trip() {
        let text = r#"{"a": [1, -2, 3.5, 18446744073709551615, true, null, "s"], "b": {"c": {}}}"#;
        let v = crate::json::read(text, &mut Vec::new()).unwrap();
        let got: serde_json::Value = from_value(&v).unwrap();
        let want: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(got, want);
    }
}
