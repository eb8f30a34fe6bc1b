//! The awsQuery answer codec: an operation's generated output shape written as the XML that IAM
//! and STS answer with, through the shape's serde derive (its member names are the wire names):
//! `<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata><RequestId>…</RequestId>
//! </ResponseMetadata></OpResponse>`. A structure's members are elements of their names, a
//! list's items `<member>`s, a map's `<entry><key/><value/></entry>`s; timestamps are ISO 8601
//! and text is escaped. Errors are `<ErrorResponse><Error><Type>Sender|Receiver</Type><Code/>
//! <Message/></Error><RequestId/></ErrorResponse>`.
//!
//! EC2's dialect ([`encode_ec2`], [`answer_ec2`], [`error_ec2`]) writes a list's items as
//! `<item>`s, answers `<OpResponse xmlns=…><requestId>…</requestId>…members…</OpResponse>`
//! with no result wrapper (`<return>true</return>` for an operation without output), and
//! refuses with `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>
//! </Response>`.

use super::dialect::Dialect;
use crate::sigv4;
use berth_types::{ApiError, Timestamp};
use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, SerializeSeq, SerializeStruct, Serializer};
use std::fmt;

/// The members of an operation's output: what its `<OpResult>` element holds.
pub fn encode<T: Serialize>(output: &T) -> Result<Vec<u8>, ApiError> {
    encode_as(output, Dialect::Query)
}

/// The members of an EC2 operation's output: what its `<OpResponse>` holds after the request
/// id.
pub fn encode_ec2<T: Serialize>(output: &T) -> Result<Vec<u8>, ApiError> {
    encode_as(output, Dialect::Ec2)
}

fn encode_as<T: Serialize>(output: &T, dialect: Dialect) -> Result<Vec<u8>, ApiError> {
    let mut out = String::new();
    let item = match dialect {
        Dialect::Query => "member",
        Dialect::Ec2 => "item",
    };
    output
        .serialize(Writer {
            out: &mut out,
            timestamp: false,
            item,
        })
        .map_err(|e| ApiError::server(format!("cannot encode the answer: {e}")))?;
    Ok(out.into_bytes())
}

/// The answer to `operation`: its result (`wrapper`, holding the output's `members`) if it has
/// an output, and the request id.
pub fn answer(
    operation: &str,
    wrapper: Option<&str>,
    namespace: &str,
    members: &[u8],
    request_id: &str,
) -> String {
    let members = String::from_utf8_lossy(members);
    let result = wrapper.map_or(String::new(), |w| format!("<{w}>{members}</{w}>"));
    format!(
        "<{operation}Response xmlns=\"{namespace}\">{result}<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{operation}Response>",
        escape(request_id)
    )
}

/// The error answer: `Sender` for the caller's faults, `Receiver` for the server's.
pub fn error(e: &ApiError, server_fault: bool, namespace: &str, request_id: &str) -> String {
    let kind = if server_fault { "Receiver" } else { "Sender" };
    format!(
        "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(e.code.as_str()),
        escape(&e.message),
        escape(request_id)
    )
}

/// The answer to an EC2 `operation`: the request id, then the output's `members` if it has an
/// output (`has_output`), else `<return>true</return>` as EC2 answers (botocore ignores it).
pub fn answer_ec2(
    operation: &str,
    has_output: bool,
    namespace: &str,
    members: &[u8],
    request_id: &str,
) -> String {
    let members = if has_output {
        String::from_utf8_lossy(members)
    } else {
        "<return>true</return>".into()
    };
    format!(
        "<{operation}Response xmlns=\"{namespace}\"><requestId>{}</requestId>{members}</{operation}Response>",
        escape(request_id)
    )
}

/// EC2's error answer: no namespace, no `<Type>`, and `RequestID` where successes have
/// `requestId`.
pub fn error_ec2(e: &ApiError, request_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
        escape(e.code.as_str()),
        escape(&e.message),
        escape(request_id)
    )
}

/// Text as XML character data. Characters XML 1.0 cannot carry at all (control characters but
/// tab and newline) become U+FFFD, so an answer echoing a hostile input still parses; a carriage
/// return is kept as a reference (a parser would turn a bare one into a newline).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A value the XML answers have no form for (a bug in Berth, not in the request).
#[derive(Debug)]
struct Unwritable(String);

impl fmt::Display for Unwritable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unwritable {}

impl ser::Error for Unwritable {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

fn unwritable<T>(what: &str) -> Result<T, Unwritable> {
    Err(Unwritable(format!("{what} has no form in awsQuery XML")))
}

/// Writes a value as the content of its element.
struct Writer<'a> {
    out: &'a mut String,
    /// Whether the value is a [`Timestamp`]'s seconds.
    timestamp: bool,
    /// The element of a list's items (`member`, EC2's `item`).
    item: &'static str,
}

impl Writer<'_> {
    fn text(self, text: &str) -> Result<(), Unwritable> {
        self.out.push_str(&escape(text));
        Ok(())
    }
}

/// Writes each item of a value (a list's, a map's or a structure's) in its element.
struct Items<'a> {
    out: &'a mut String,
    /// The element of a list's items.
    item: &'static str,
}

impl Items<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Unwritable> {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        value.serialize(Writer {
            out: &mut *self.out,
            timestamp: false,
            item: self.item,
        })?;
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        Ok(())
    }
}

macro_rules! numbers {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method(self, v: $ty) -> Result<(), Unwritable> {
            self.out.push_str(&v.to_string());
            Ok(())
        }
    )*};
}

impl<'a> Serializer for Writer<'a> {
    type Ok = ();
    type Error = Unwritable;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Impossible<(), Unwritable>;
    type SerializeTupleStruct = Impossible<(), Unwritable>;
    type SerializeTupleVariant = Impossible<(), Unwritable>;
    type SerializeMap = Items<'a>;
    type SerializeStruct = Items<'a>;
    type SerializeStructVariant = Impossible<(), Unwritable>;

    numbers!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
    );

    fn serialize_f64(self, v: f64) -> Result<(), Unwritable> {
        let text = if self.timestamp {
            sigv4::iso8601(v)
        } else {
            v.to_string()
        };
        self.out.push_str(&text);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Unwritable> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Unwritable> {
        self.text(v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Unwritable> {
        unwritable("a byte string")
    }

    fn serialize_none(self) -> Result<(), Unwritable> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unwritable> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Unwritable> {
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Unwritable> {
        Ok(())
    }

    /// The values of the model's enums.
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Unwritable> {
        self.text(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Unwritable> {
        value.serialize(Writer {
            out: self.out,
            timestamp: name == Timestamp::SERDE_NAME,
            item: self.item,
        })
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Unwritable> {
        unwritable("an enum with data")
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Items<'a>, Unwritable> {
        Ok(Items {
            out: self.out,
            item: self.item,
        })
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Unwritable> {
        unwritable("a tuple")
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Unwritable> {
        unwritable("a tuple")
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Unwritable> {
        unwritable("an enum with data")
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Items<'a>, Unwritable> {
        Ok(Items {
            out: self.out,
            item: self.item,
        })
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Items<'a>, Unwritable> {
        Ok(Items {
            out: self.out,
            item: self.item,
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Unwritable> {
        unwritable("an enum with data")
    }
}

impl SerializeSeq for Items<'_> {
    type Ok = ();
    type Error = Unwritable;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unwritable> {
        self.element(self.item, value)
    }

    fn end(self) -> Result<(), Unwritable> {
        Ok(())
    }
}

impl SerializeMap for Items<'_> {
    type Ok = ();
    type Error = Unwritable;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unwritable> {
        self.out.push_str("<entry>");
        self.element("key", key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unwritable> {
        self.element("value", value)?;
        self.out.push_str("</entry>");
        Ok(())
    }

    fn end(self) -> Result<(), Unwritable> {
        Ok(())
    }
}

impl SerializeStruct for Items<'_> {
    type Ok = ();
    type Error = Unwritable;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Unwritable> {
        self.element(name, value)
    }

    fn end(self) -> Result<(), Unwritable> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::iam::{
        AccessKeyMetadata, GetUserResponse, ListAccessKeysResponse, StatusType, User,
    };
    use std::collections::BTreeMap;

    fn xml<T: Serialize>(value: &T) -> String {
        String::from_utf8(encode(value).expect("encodes")).expect("UTF-8")
    }

    #[test]
    fn structures_nest_and_timestamps_are_iso_8601() {
        let user = GetUserResponse {
            user: Some(User {
                path: Some("/".into()),
                user_name: Some("ana".into()),
                user_id: Some("AIDA1".into()),
                arn: Some("arn:aws:iam::000000000000:user/ana".into()),
                create_date: Some(Timestamp(1_440_938_160.0)),
                ..User::default()
            }),
        };
        assert_eq!(
            xml(&user),
            "<User><Path>/</Path><UserName>ana</UserName><UserId>AIDA1</UserId><Arn>arn:aws:iam::000000000000:user/ana</Arn><CreateDate>2015-08-30T12:36:00Z</CreateDate></User>"
        );
    }

    #[test]
    fn lists_are_members_and_enums_their_values() {
        let keys = ListAccessKeysResponse {
            access_key_metadata: Some(vec![
                AccessKeyMetadata {
                    access_key_id: Some("AKIA1".into()),
                    status: Some(StatusType::Inactive),
                    ..AccessKeyMetadata::default()
                },
                AccessKeyMetadata::default(),
            ]),
            is_truncated: Some(false),
            marker: None,
        };
        assert_eq!(
            xml(&keys),
            "<AccessKeyMetadata><member><AccessKeyId>AKIA1</AccessKeyId><Status>Inactive</Status></member><member></member></AccessKeyMetadata><IsTruncated>false</IsTruncated>"
        );
        let empty = ListAccessKeysResponse {
            access_key_metadata: Some(vec![]),
            ..ListAccessKeysResponse::default()
        };
        assert_eq!(xml(&empty), "<AccessKeyMetadata></AccessKeyMetadata>");
    }

    #[test]
    fn maps_are_entries() {
        #[derive(Serialize)]
        struct Tagged {
            #[serde(rename = "Tags")]
            tags: BTreeMap<String, u32>,
        }
        let tagged = Tagged {
            tags: [("a".to_string(), 1), ("b".to_string(), 2)].into(),
        };
        assert_eq!(
            xml(&tagged),
            "<Tags><entry><key>a</key><value>1</value></entry><entry><key>b</key><value>2</value></entry></Tags>"
        );
    }

    #[test]
    fn text_is_escaped_and_what_xml_cannot_carry_is_replaced() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(
            escape("a\tb\nc\rd\u{1}e\u{FFFF}"),
            "a\tb\nc&#xD;d\u{FFFD}e\u{FFFD}"
        );
        let e = ApiError::new(berth_types::ErrorCode::NoSuchEntity, "no user <x>");
        assert_eq!(
            error(&e, false, "ns", "id&1"),
            "<ErrorResponse xmlns=\"ns\"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>no user &lt;x&gt;</Message></Error><RequestId>id&amp;1</RequestId></ErrorResponse>"
        );
    }

    #[test]
    fn answers_wrap_their_result_when_there_is_one() {
        assert_eq!(
            answer("GetUser", Some("GetUserResult"), "ns", b"<User/>", "r"),
            "<GetUserResponse xmlns=\"ns\"><GetUserResult><User/></GetUserResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetUserResponse>"
        );
        assert_eq!(
            answer("DeleteUser", None, "ns", b"", "r"),
            "<DeleteUserResponse xmlns=\"ns\"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>"
        );
    }

    /// The answer of design section 6 (docs/design/awsvpc.md), members in the model's order;
    /// botocore parses it to the same `Subnets`.
    #[test]
    fn ec2_answers_have_items_a_request_id_and_no_wrapper() {
        use berth_types::ec2::{DescribeSubnetsResult, Subnet, Tag};
        let subnets = DescribeSubnetsResult {
            subnets: Some(vec![Subnet {
                subnet_id: Some("subnet-1".into()),
                cidr_block: Some("172.31.0.0/20".into()),
                available_ip_address_count: Some(4091),
                default_for_az: Some(true),
                tags: Some(vec![Tag {
                    key: Some("Name".into()),
                    value: Some("a".into()),
                }]),
                ..Subnet::default()
            }]),
            next_token: None,
        };
        let members = encode_ec2(&subnets).expect("encodes");
        let namespace = berth_types::ec2::XML_NAMESPACE;
        assert_eq!(namespace, "http://ec2.amazonaws.com/doc/2016-11-15/");
        assert_eq!(
            answer_ec2("DescribeSubnets", true, namespace, &members, "r-1"),
            "<DescribeSubnetsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-1</requestId>\
            <subnetSet><item><tagSet><item><key>Name</key><value>a</value></item></tagSet>\
            <subnetId>subnet-1</subnetId><cidrBlock>172.31.0.0/20</cidrBlock>\
            <availableIpAddressCount>4091</availableIpAddressCount><defaultForAz>true</defaultForAz>\
            </item></subnetSet></DescribeSubnetsResponse>"
        );
        assert_eq!(
            answer_ec2("DeleteVpc", false, namespace, b"", "r-3"),
            "<DeleteVpcResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-3</requestId><return>true</return></DeleteVpcResponse>"
        );
    }

    #[test]
    fn ec2_errors_are_a_response_of_errors() {
        let e = ApiError::new(
            berth_types::ErrorCode::InvalidSubnetIdNotFound,
            "The subnet ID 'subnet-x' does not exist",
        );
        assert_eq!(
            error_ec2(&e, "r-2"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidSubnetID.NotFound</Code>\
            <Message>The subnet ID &apos;subnet-x&apos; does not exist</Message></Error></Errors><RequestID>r-2</RequestID></Response>"
        );
    }
}
