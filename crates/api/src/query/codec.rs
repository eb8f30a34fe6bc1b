//! The request codec of the Query protocol family: a form body
//! (`Action=CreateUser&UserName=ana&Tags.member.1.Key=k`) decoded into an operation's generated
//! input shape through the shape's serde derive, whose member names are the wire names. The
//! awsQuery rules it follows:
//! - a scalar is one parameter, `Name=value`; numbers and booleans are text, a timestamp is
//!   ISO 8601;
//! - a structure's members are `Name.Member=...`, to any depth;
//! - a list is `Name.member.N=...` (N from 1), an empty list `Name=`;
//! - a map is `Name.entry.N.key=...&Name.entry.N.value=...`.
//!
//! EC2's dialect ([`Dialect::Ec2`]) differs in lists only: they are flattened, `Name.N=...`,
//! and an empty one is not sent at all (the generated shapes name members as EC2's forms do).
//!
//! The form is read into a bounded tree by [`super::params`]; what does not fit the shape is
//! refused naming the parameter, with IAM's ValidationError or EC2's InvalidParameterValue
//! (MissingParameter for a required member left out).

use super::dialect::Dialect;
use super::params::{Named, Node, form, tree};
use crate::sigv4;
use berth_types::{ApiError, ErrorCode, Timestamp, Validate};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess};
use serde::de::{Deserializer, Visitor};
use std::collections::{BTreeMap, btree_map};
use std::fmt;

/// The awsQuery decoder (IAM, STS) the generated `Request::decode` calls ([`decode`]).
pub struct Query;

impl berth_types::request::Decoder for Query {
    fn decode<T: DeserializeOwned + Validate>(&self, body: &[u8]) -> Result<T, ApiError> {
        decode(body, Dialect::Query)
    }
}

/// The EC2 decoder the generated `Request::decode` calls ([`decode`]).
pub struct Ec2Query;

impl berth_types::request::Decoder for Ec2Query {
    fn decode<T: DeserializeOwned + Validate>(&self, body: &[u8]) -> Result<T, ApiError> {
        decode(body, Dialect::Ec2)
    }
}

/// Decodes a form body of `dialect` into an operation's input shape and checks the model's
/// limits.
pub fn decode<T: DeserializeOwned + Validate>(
    body: &[u8],
    dialect: Dialect,
) -> Result<T, ApiError> {
    #[cfg(test)]
    crate::wire::DECODED.with(|count| count.set(count.get() + 1));
    let root = tree(form(body), dialect.invalid())?;
    let value = T::deserialize(Value {
        node: &root,
        path: String::new(),
        dialect,
    })
    .map_err(|e| e.refusal(dialect))?;
    value.validate("").map_err(|v| match dialect {
        Dialect::Query => ApiError::new(
            ErrorCode::ValidationError,
            format!("1 validation error detected: {v}"),
        ),
        Dialect::Ec2 => ApiError::new(
            ErrorCode::InvalidParameterValue,
            format!(
                "Value for parameter {} is invalid: it {}",
                v.field, v.problem
            ),
        ),
    })?;
    Ok(value)
}

/// Why a form does not fit a shape: in the words of IAM's ValidationError as it is displayed,
/// or as EC2 words it ([`Error::refusal`]).
#[derive(Debug)]
struct Error {
    /// The parameter; relative to the structure being read until `located`.
    field: String,
    /// The value, when there is one.
    value: Option<String>,
    constraint: String,
    located: bool,
    /// Whether the parameter is required and missing.
    missing: bool,
}

impl Error {
    fn new(path: &str, value: Option<&str>, constraint: impl Into<String>) -> Self {
        Self {
            field: path.to_string(),
            value: value.map(str::to_string),
            constraint: constraint.into(),
            located: true,
            missing: false,
        }
    }

    /// The error the client gets in `dialect`.
    fn refusal(self, dialect: Dialect) -> ApiError {
        let field = &self.field;
        match (dialect, &self.value) {
            (Dialect::Query, _) => ApiError::new(ErrorCode::ValidationError, self.to_string()),
            (Dialect::Ec2, _) if self.missing => ApiError::new(
                ErrorCode::MissingParameter,
                format!("The request must contain the parameter {field}"),
            ),
            (Dialect::Ec2, Some(value)) => ApiError::new(
                ErrorCode::InvalidParameterValue,
                format!(
                    "Value ({value}) for parameter {field} is invalid. {}",
                    self.constraint
                ),
            ),
            (Dialect::Ec2, None) => ApiError::new(
                ErrorCode::InvalidParameterValue,
                format!("Parameter {field} is invalid. {}", self.constraint),
            ),
        }
    }

    /// The error with its parameter named from the form's root, `path` being where it arose.
    fn at(mut self, path: &str) -> Self {
        if !self.located {
            self.field = join(path, &self.field);
            self.located = true;
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self
            .value
            .as_ref()
            .map_or("null".into(), |v| format!("'{v}'"));
        write!(
            f,
            "1 validation error detected: Value {value} at '{}' failed to satisfy constraint: {}",
            self.field, self.constraint
        )
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            located: false,
            ..Self::new("", None, msg.to_string())
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Self {
            located: false,
            missing: true,
            ..Self::new(field, None, "Member must not be null")
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self {
            located: false,
            ..Self::new(
                "",
                Some(variant),
                format!(
                    "Member must satisfy enum value set: [{}]",
                    expected.join(", ")
                ),
            )
        }
    }
}

fn join(path: &str, name: &str) -> String {
    match (path.is_empty(), name.is_empty()) {
        (true, _) => name.to_string(),
        (_, true) => path.to_string(),
        _ => format!("{path}.{name}"),
    }
}

/// One node of the tree, read as whatever the shape wants there.
struct Value<'de> {
    node: &'de Node,
    /// Its parameter name, for messages.
    path: String,
    /// How the form writes lists.
    dialect: Dialect,
}

impl<'de> Value<'de> {
    fn text(&self, wanted: &str) -> Result<&'de str, Error> {
        match self.node {
            Node::Text(s) => Ok(s),
            Node::Fields(_) => Err(Error::new(
                &self.path,
                None,
                format!("Member must be {wanted}"),
            )),
        }
    }

    fn parse<T: std::str::FromStr>(&self, wanted: &str) -> Result<T, Error> {
        let text = self.text(wanted)?;
        text.parse()
            .map_err(|_| Error::new(&self.path, Some(text), format!("Member must be {wanted}")))
    }

    /// The items of `Name.<marker>.N`, or of `Name.N` without a marker, in the order of N;
    /// none for `Name=`.
    fn items(&self, marker: Option<&str>) -> Result<Vec<Named<'de>>, Error> {
        let prefix = match marker {
            Some(marker) => format!("{}.{marker}", self.path),
            None => self.path.clone(),
        };
        let not_a_list = || {
            let wanted = format!("Member must be a list: {prefix}.1, {prefix}.2, ...");
            Error::new(&self.path, None, wanted)
        };
        let items = match (self.node, marker) {
            (Node::Text(s), _) if s.is_empty() => return Ok(vec![]),
            (Node::Fields(items), None) => items,
            (Node::Fields(fields), Some(marker)) if fields.len() == 1 => match fields.get(marker) {
                Some(Node::Fields(items)) => items,
                _ => return Err(not_a_list()),
            },
            _ => return Err(not_a_list()),
        };
        let mut numbered = items
            .iter()
            .map(|(n, node)| {
                let path = format!("{prefix}.{n}");
                match n.parse::<usize>() {
                    Ok(i) if i > 0 && i.to_string() == *n => Ok((i, path, node)),
                    _ => Err(Error::new(&path, None, "Member must be numbered from 1")),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        numbered.sort_by_key(|(i, ..)| *i);
        Ok(numbered.into_iter().map(|(_, p, n)| (p, n)).collect())
    }
}

/// The epoch seconds of an ISO 8601 time (`2024-05-01T12:00:00Z`, fractions of a second left
/// out), as awsQuery sends timestamps.
fn from_iso8601(text: &str) -> Option<f64> {
    let whole = match text.split_once('.') {
        Some((seconds, fraction))
            if fraction
                .trim_end_matches('Z')
                .bytes()
                .all(|b| b.is_ascii_digit()) =>
        {
            format!("{seconds}Z")
        }
        _ => text.to_string(),
    };
    let compact: String = whole.chars().filter(|c| !matches!(c, '-' | ':')).collect();
    sigv4::parse_amz_date(&compact).map(|t| t as f64)
}

macro_rules! numbers {
    ($($method:ident => $visit:ident($ty:ty, $wanted:literal)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let n = self.parse::<$ty>($wanted)?;
            visitor.$visit(n).map_err(|e: Error| e.at(&self.path))
        }
    )*};
}

impl<'de> Deserializer<'de> for Value<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node {
            Node::Text(s) => visitor.visit_str(s),
            Node::Fields(_) => self.deserialize_struct("", &[], visitor),
        }
    }

    numbers!(
        deserialize_bool => visit_bool(bool, "true or false"),
        deserialize_i8 => visit_i8(i8, "an integer"),
        deserialize_i16 => visit_i16(i16, "an integer"),
        deserialize_i32 => visit_i32(i32, "an integer"),
        deserialize_i64 => visit_i64(i64, "an integer"),
        deserialize_u8 => visit_u8(u8, "a positive integer"),
        deserialize_u16 => visit_u16(u16, "a positive integer"),
        deserialize_u32 => visit_u32(u32, "a positive integer"),
        deserialize_u64 => visit_u64(u64, "a positive integer"),
        deserialize_f32 => visit_f32(f32, "a number"),
        deserialize_f64 => visit_f64(f64, "a number"),
    );

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let text = self.text("a single value")?;
        visitor.visit_str(text).map_err(|e: Error| e.at(&self.path))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // A member that is in the form is set; one that is not is left out by serde.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name != Timestamp::SERDE_NAME {
            return visitor.visit_newtype_struct(self);
        }
        let text = self.text("a time")?;
        let wanted = "Member must be an ISO 8601 time such as 2024-05-01T12:00:00Z";
        let epoch = from_iso8601(text).ok_or_else(|| Error::new(&self.path, Some(text), wanted))?;
        visitor
            .visit_newtype_struct(epoch.into_deserializer())
            .map_err(|e: Error| e.at(&self.path))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // EC2 flattens its lists: `Name.N`, not `Name.member.N`.
        let marker = match self.dialect {
            Dialect::Query => Some("member"),
            Dialect::Ec2 => None,
        };
        let items = self.items(marker)?;
        visitor
            .visit_seq(Items {
                items: items.into_iter(),
                dialect: self.dialect,
            })
            .map_err(|e| e.at(&self.path))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let entries = self
            .items(Some("entry"))?
            .into_iter()
            .map(|(path, node)| {
                let part = |name: &str| match node {
                    Node::Fields(f) => f.get(name).map(|n| (join(&path, name), n)),
                    Node::Text(_) => None,
                };
                match (part("key"), part("value")) {
                    (Some(k), Some(v)) => Ok((k, v)),
                    _ => Err(Error::new(
                        &path,
                        None,
                        "Member must have a key and a value",
                    )),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        visitor
            .visit_map(Entries {
                entries: entries.into_iter(),
                value: None,
                dialect: self.dialect,
            })
            .map_err(|e| e.at(&self.path))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let fields = match self.node {
            Node::Fields(f) => f.iter(),
            Node::Text(s) if s.is_empty() => EMPTY.iter(),
            Node::Text(s) => {
                let wanted = format!("Member must be a structure: {}.<Member>=...", self.path);
                return Err(Error::new(&self.path, Some(s), wanted));
            }
        };
        let access = Fields {
            fields,
            path: &self.path,
            value: None,
            dialect: self.dialect,
        };
        visitor.visit_map(access).map_err(|e| e.at(&self.path))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let text = self.text("one of the listed values")?;
        visitor
            .visit_enum(text.into_deserializer())
            .map_err(|e: Error| e.at(&self.path))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        char bytes byte_buf unit unit_struct tuple tuple_struct identifier
    }
}

/// The fields of an empty structure (`Name=`).
static EMPTY: BTreeMap<String, Node> = BTreeMap::new();

/// A structure's members, as serde's derive reads them.
struct Fields<'de, 'p> {
    fields: btree_map::Iter<'de, String, Node>,
    path: &'p str,
    value: Option<(&'de String, &'de Node)>,
    dialect: Dialect,
}

impl<'de> MapAccess<'de> for Fields<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((name, node)) = self.fields.next() else {
            return Ok(None);
        };
        self.value = Some((name, node));
        seed.deserialize(name.as_str().into_deserializer())
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (name, node) = self
            .value
            .take()
            .ok_or_else(|| Error::new(self.path, None, "a value without a name"))?;
        seed.deserialize(Value {
            node,
            path: join(self.path, name),
            dialect: self.dialect,
        })
    }
}

/// A list's items.
struct Items<'de> {
    items: std::vec::IntoIter<Named<'de>>,
    dialect: Dialect,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let dialect = self.dialect;
        self.items
            .next()
            .map(|(path, node)| {
                seed.deserialize(Value {
                    node,
                    path,
                    dialect,
                })
            })
            .transpose()
    }
}

/// A map's entries: each one's key and value, with their parameter names.
struct Entries<'de> {
    entries: std::vec::IntoIter<(Named<'de>, Named<'de>)>,
    value: Option<Named<'de>>,
    dialect: Dialect,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(((path, node), value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let dialect = self.dialect;
        seed.deserialize(Value {
            node,
            path,
            dialect,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (path, node) = self
            .value
            .take()
            .ok_or_else(|| Error::new("", None, "a value without a key"))?;
        let dialect = self.dialect;
        seed.deserialize(Value {
            node,
            path,
            dialect,
        })
    }
}

#[cfg(test)]
mod tests;
