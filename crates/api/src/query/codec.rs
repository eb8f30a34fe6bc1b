//! The awsQuery request codec: a form body (`Action=CreateUser&UserName=ana&Tags.member.1.Key=k`)
//! decoded into an operation's generated input shape through the shape's serde derive, whose
//! member names are the wire names. The awsQuery rules it follows:
//! - a scalar is one parameter, `Name=value`; numbers and booleans are text, a timestamp is
//!   ISO 8601;
//! - a structure's members are `Name.Member=...`, to any depth;
//! - a list is `Name.member.N=...` (N from 1), an empty list `Name=`;
//! - a map is `Name.entry.N.key=...&Name.entry.N.value=...`.
//!
//! The form is read into a bounded tree by [`super::params`]; what does not fit the shape is
//! refused with IAM's ValidationError, naming the parameter.

use super::params::{Named, Node, form, tree};
use crate::sigv4;
use berth_types::{ApiError, ErrorCode, Timestamp, Validate};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess};
use serde::de::{Deserializer, Visitor};
use std::collections::{BTreeMap, btree_map};
use std::fmt;

/// The awsQuery decoder the generated `Request::decode` calls ([`decode`]).
pub struct Query;

impl berth_types::request::Decoder for Query {
    fn decode<T: DeserializeOwned + Validate>(&self, body: &[u8]) -> Result<T, ApiError> {
        decode(body)
    }
}

/// Decodes a form body into an operation's input shape and checks the model's limits.
pub fn decode<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    #[cfg(test)]
    crate::wire::DECODED.with(|count| count.set(count.get() + 1));
    let root = tree(form(body))?;
    let value = T::deserialize(Value {
        node: &root,
        path: String::new(),
    })
    .map_err(|e| ApiError::new(ErrorCode::ValidationError, e.to_string()))?;
    value.validate("").map_err(|v| {
        ApiError::new(
            ErrorCode::ValidationError,
            format!("1 validation error detected: {v}"),
        )
    })?;
    Ok(value)
}

/// Why a form does not fit a shape, in the words of IAM's ValidationError.
#[derive(Debug)]
struct Error {
    /// The parameter; relative to the structure being read until `located`.
    field: String,
    /// The value, quoted, or `null` when it is missing.
    value: String,
    constraint: String,
    located: bool,
}

impl Error {
    fn new(path: &str, value: Option<&str>, constraint: impl Into<String>) -> Self {
        Self {
            field: path.to_string(),
            value: value.map_or("null".into(), |v| format!("'{v}'")),
            constraint: constraint.into(),
            located: true,
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
        write!(
            f,
            "1 validation error detected: Value {} at '{}' failed to satisfy constraint: {}",
            self.value, self.field, self.constraint
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

    /// The items of `Name.<marker>.N`, in the order of N; none for `Name=`.
    fn items(&self, marker: &str) -> Result<Vec<Named<'de>>, Error> {
        let wanted = format!("a list: {0}.{marker}.1, {0}.{marker}.2, ...", self.path);
        let items = match self.node {
            Node::Text(s) if s.is_empty() => return Ok(vec![]),
            Node::Fields(fields) if fields.len() == 1 => match fields.get(marker) {
                Some(Node::Fields(items)) => items,
                _ => {
                    return Err(Error::new(
                        &self.path,
                        None,
                        format!("Member must be {wanted}"),
                    ));
                }
            },
            _ => {
                return Err(Error::new(
                    &self.path,
                    None,
                    format!("Member must be {wanted}"),
                ));
            }
        };
        let mut numbered = items
            .iter()
            .map(|(n, node)| {
                let path = format!("{}.{marker}.{n}", self.path);
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
        let items = self.items("member")?;
        visitor
            .visit_seq(Items(items.into_iter()))
            .map_err(|e| e.at(&self.path))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let entries = self
            .items("entry")?
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
        })
    }
}

/// A list's items.
struct Items<'de>(std::vec::IntoIter<Named<'de>>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|(path, node)| seed.deserialize(Value { node, path }))
            .transpose()
    }
}

/// A map's entries: each one's key and value, with their parameter names.
struct Entries<'de> {
    entries: std::vec::IntoIter<(Named<'de>, Named<'de>)>,
    value: Option<Named<'de>>,
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
        seed.deserialize(Value { node, path }).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (path, node) = self
            .value
            .take()
            .ok_or_else(|| Error::new("", None, "a value without a key"))?;
        seed.deserialize(Value { node, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::Violation;
    use berth_types::iam::{
        CreateUserRequest, ListUsersRequest, StatusType, Tag, UpdateAccessKeyRequest,
    };

    /// The message of the ValidationError a body gets as a `T`.
    fn refusal<T: DeserializeOwned + Validate + fmt::Debug>(body: &str) -> String {
        let e = decode::<T>(body.as_bytes()).expect_err("refused");
        assert_eq!(e.code, ErrorCode::ValidationError, "{e:?}");
        e.message
    }

    #[test]
    fn scalars_nested_structures_and_lists() {
        let body = "Action=CreateUser&Version=2010-05-08&UserName=a%2Bb+c&Path=%2Fteam%2F\
            &Tags.member.2.Key=k2&Tags.member.2.Value=v2&Tags.member.1.Key=k1&Tags.member.1.Value=";
        let input: CreateUserRequest = decode(body.as_bytes()).expect("decodes");
        let tag = |k: &str, v: &str| Tag {
            key: k.into(),
            value: v.into(),
        };
        assert_eq!(
            input,
            CreateUserRequest {
                path: Some("/team/".into()),
                user_name: "a+b c".into(),
                permissions_boundary: None,
                tags: Some(vec![tag("k1", ""), tag("k2", "v2")]),
            }
        );
        let empty: CreateUserRequest = decode(b"UserName=a&Tags=").expect("decodes");
        assert_eq!(empty.tags, Some(vec![]));
        let listed: ListUsersRequest = decode(b"MaxItems=10").expect("decodes");
        assert_eq!(listed.max_items, Some(10));
        let status: UpdateAccessKeyRequest =
            decode(b"AccessKeyId=AKIAAAAAAAAAAAAAAAAA&Status=Inactive").expect("decodes");
        assert_eq!(status.status, StatusType::Inactive);
    }

    #[test]
    fn maps_are_entries_of_keys_and_values() {
        #[derive(Debug, serde::Deserialize)]
        struct Shape {
            #[serde(rename = "Attributes")]
            attributes: BTreeMap<String, bool>,
        }
        impl Validate for Shape {
            fn validate(&self, _path: &str) -> Result<(), Violation> {
                Ok(())
            }
        }
        let body = "Attributes.entry.2.key=b&Attributes.entry.2.value=false\
            &Attributes.entry.1.key=a&Attributes.entry.1.value=true";
        let shape: Shape = decode(body.as_bytes()).expect("decodes");
        assert_eq!(
            shape.attributes,
            [("a".into(), true), ("b".into(), false)].into()
        );
        assert!(refusal::<Shape>("Attributes.entry.1.key=a").contains("'Attributes.entry.1'"));
        assert!(
            refusal::<Shape>("Attributes.entry.1.key=a&Attributes.entry.1.value=yes")
                .contains("Value 'yes' at 'Attributes.entry.1.value'")
        );
    }

    #[test]
    fn what_does_not_fit_is_refused_naming_the_parameter() {
        assert_eq!(
            refusal::<CreateUserRequest>("Action=CreateUser"),
            "1 validation error detected: Value null at 'UserName' failed to satisfy constraint: Member must not be null"
        );
        assert!(
            refusal::<CreateUserRequest>("UserName=a&Tags.member.1.Key=k")
                .contains("Value null at 'Tags.member.1.Value'")
        );
        assert!(refusal::<UpdateAccessKeyRequest>("AccessKeyId=AKIAAAAAAAAAAAAAAAAA&Status=Gone")
            .contains("Value 'Gone' at 'Status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"));
        assert!(refusal::<ListUsersRequest>("MaxItems=ten").contains("Value 'ten' at 'MaxItems'"));
        assert!(refusal::<ListUsersRequest>("MaxItems=5000").contains("MaxItems"));
        assert!(refusal::<CreateUserRequest>("UserName=").contains("UserName"));
        for index in ["0", "01", "x"] {
            let body = format!("UserName=a&Tags.member.{index}.Key=k&Tags.member.{index}.Value=v");
            assert!(
                refusal::<CreateUserRequest>(&body).contains("numbered from 1"),
                "{index}"
            );
        }
        assert!(refusal::<CreateUserRequest>("UserName=a&Tags.item.1.Key=k").contains("a list"));
        assert!(refusal::<CreateUserRequest>("UserName.First=a").contains("'UserName'"));
        assert!(refusal::<CreateUserRequest>("UserName=a&Tags.member.1=k").contains("structure"));
    }

    proptest::proptest! {
        /// Any form, however it mixes the awsQuery forms, is decoded or refused with a
        /// ValidationError; never a panic.
        #[test]
        fn any_form_is_decoded_or_refused(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "UserName", "Tags", "Path", ".member", ".entry", ".1", ".2", ".0", ".Key",
                    ".Value", ".key", ".value", "=", "&", "a", "%2F", "%FF", "+", ".",
                ]),
                0..40,
            )
        ) {
            if let Err(e) = decode::<CreateUserRequest>(parts.concat().as_bytes()) {
                proptest::prop_assert_eq!(e.code, ErrorCode::ValidationError);
            }
        }
    }

    #[test]
    fn times_are_iso_8601() {
        assert_eq!(from_iso8601("2015-08-30T12:36:00Z"), Some(1_440_938_160.0));
        assert_eq!(
            from_iso8601("2015-08-30T12:36:00.250Z"),
            Some(1_440_938_160.0)
        );
        assert_eq!(from_iso8601("yesterday"), None);
    }
}
