//! Generates Berth's wire types from the official AWS service models.
//!
//! The models in `crates/types/spec/` (botocore's `service-2.json` files) are the source of truth
//! for every field name, enum value and limit. [`generate`] turns one model into a Rust module:
//! - a struct per `structure` shape (serde names exactly as on the wire, required members
//!   non-optional so a missing one is refused at parse time);
//! - an enum per `string` shape with an `enum` list;
//! - a [`Validate`](../berth_types/trait.Validate.html) impl per structure that checks the model's
//!   `min`/`max` limits;
//! - the service's target prefix, an `Operation` enum (named as in `X-Amz-Target`), and a
//!   `Request` enum holding each operation's typed input, decoded once, with
//!   [`Members`](../berth_types/request/trait.Members.html) to read an input's string members by
//!   name (what authorisation looks at).
//!
//! A [`Target`] may name the operations Berth answers ([`IAM_OPERATIONS`]): only they and the
//! shapes they reach are generated. On the Query protocol (IAM, STS) the module also has the
//! XML namespace and each operation's result wrapper, timestamps are
//! `berth_types::Timestamp` (which the XML codec writes in ISO 8601), and only what clients
//! send has non-optional required members.
//!
//! `cargo run -p berth-codegen` rewrites the generated files; a test in this crate fails when they
//! are stale.

mod enums;
mod names;
mod operations;

use enums::gen_enum;
use names::{doc, field_name, type_name};
use operations::gen_operations;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One service model and the file its generated module is written to.
pub struct Target {
    /// Model file, relative to the `types` crate.
    pub model: &'static str,
    /// Generated module, relative to the `types` crate.
    pub output: &'static str,
    /// The operations generated, with the shapes they reach; None for every operation.
    pub operations: Option<&'static [&'static str]>,
}

/// The IAM operations Berth answers: users, their access keys and inline policies. Naming an
/// operation here generates its input, its output and every shape they reach.
pub const IAM_OPERATIONS: &[&str] = &[
    "CreateUser",
    "GetUser",
    "ListUsers",
    "DeleteUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "PutUserPolicy",
    "GetUserPolicy",
    "ListUserPolicies",
    "DeleteUserPolicy",
    "CreateRole",
    "GetRole",
    "ListRoles",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "PutRolePolicy",
    "GetRolePolicy",
    "ListRolePolicies",
    "DeleteRolePolicy",
    "CreatePolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "DeletePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "ListAttachedUserPolicies",
];

/// The STS operations Berth answers.
pub const STS_OPERATIONS: &[&str] = &["GetCallerIdentity", "AssumeRole"];

/// The CloudWatch Logs operations Berth answers: log groups, streams, events, retention, tags.
pub const LOGS_OPERATIONS: &[&str] = &[
    "CreateLogGroup",
    "DeleteLogGroup",
    "DescribeLogGroups",
    "CreateLogStream",
    "DeleteLogStream",
    "DescribeLogStreams",
    "PutLogEvents",
    "GetLogEvents",
    "FilterLogEvents",
    "PutRetentionPolicy",
    "DeleteRetentionPolicy",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// The SSM operations Berth answers: Parameter Store (parameters, their history and tags).
pub const SSM_OPERATIONS: &[&str] = &[
    "PutParameter",
    "GetParameter",
    "GetParameters",
    "GetParametersByPath",
    "GetParameterHistory",
    "DeleteParameter",
    "DeleteParameters",
    "DescribeParameters",
    "AddTagsToResource",
    "ListTagsForResource",
    "RemoveTagsFromResource",
];

/// The Secrets Manager operations Berth answers: secrets, their versions and stages, tags.
pub const SECRETSMANAGER_OPERATIONS: &[&str] = &[
    "CreateSecret",
    "GetSecretValue",
    "PutSecretValue",
    "UpdateSecret",
    "DescribeSecret",
    "ListSecrets",
    "DeleteSecret",
    "RestoreSecret",
    "TagResource",
    "UntagResource",
];

/// The models Berth generates code for.
pub const TARGETS: &[Target] = &[
    Target {
        model: "spec/ecs-service-2.json",
        output: "src/generated/ecs.rs",
        operations: None,
    },
    Target {
        model: "spec/ecr-service-2.json",
        output: "src/generated/ecr.rs",
        operations: None,
    },
    Target {
        model: "spec/iam-service-2.json",
        output: "src/generated/iam.rs",
        operations: Some(IAM_OPERATIONS),
    },
    Target {
        model: "spec/sts-service-2.json",
        output: "src/generated/sts.rs",
        operations: Some(STS_OPERATIONS),
    },
    Target {
        model: "spec/logs-service-2.json",
        output: "src/generated/logs.rs",
        operations: Some(LOGS_OPERATIONS),
    },
    Target {
        model: "spec/ssm-service-2.json",
        output: "src/generated/ssm.rs",
        operations: Some(SSM_OPERATIONS),
    },
    Target {
        model: "spec/secretsmanager-service-2.json",
        output: "src/generated/secretsmanager.rs",
        operations: Some(SECRETSMANAGER_OPERATIONS),
    },
];

/// Problems reading a model.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The model file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The model is not the JSON botocore publishes.
    #[error("{0}")]
    Model(String),
}

/// Path of the `types` crate, where the models and generated files live.
pub fn types_crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../types")
}

/// Generates the Rust module of a target.
pub fn generate_target(target: &Target) -> Result<String, CodegenError> {
    let model_path = types_crate_dir().join(target.model);
    let text = std::fs::read_to_string(&model_path).map_err(|source| CodegenError::Read {
        path: model_path.clone(),
        source,
    })?;
    let model: Value =
        serde_json::from_str(&text).map_err(|e| CodegenError::Model(format!("bad JSON: {e}")))?;
    generate(&model, target.operations)
}

fn obj<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, CodegenError> {
    v.as_object()
        .ok_or_else(|| CodegenError::Model(format!("{what} is not an object")))
}

/// Generates the Rust module for a parsed model: every operation, or only those of `only`.
pub fn generate(model: &Value, only: Option<&[&str]>) -> Result<String, CodegenError> {
    let shapes = obj(&model["shapes"], "shapes")?;
    let metadata = obj(&model["metadata"], "metadata")?;
    let mut operations = obj(&model["operations"], "operations")?.clone();
    // Every operation the model has, generated or not: the others are named so that they are
    // refused as unsupported rather than as unknown.
    let modelled: Vec<String> = operations.keys().cloned().collect();
    if let Some(only) = only {
        if let Some(missing) = only.iter().find(|op| !operations.contains_key(**op)) {
            return Err(CodegenError::Model(format!("no operation {missing}")));
        }
        operations.retain(|name, _| only.contains(&name.as_str()));
    }
    let query = metadata.get("protocol").and_then(Value::as_str) == Some("query");
    let mut gen_ctx = Gen {
        shapes,
        query,
        sent: None,
    };
    let roots = |part: &'static str| {
        operations
            .values()
            .filter_map(move |op| op[part]["shape"].as_str())
    };
    // Every shape of the model, or those the chosen operations reach.
    let generated: BTreeSet<String> = match only {
        None => shapes.keys().cloned().collect(),
        Some(_) => gen_ctx.reached(roots("input").chain(roots("output")))?,
    };
    if query {
        gen_ctx.sent = Some(gen_ctx.reached(roots("input"))?);
    }
    let mut out = String::new();
    out.push_str(
        "// @generated by `cargo run -p berth-codegen` from the official service model. Do not edit.\n",
    );
    out.push_str("#![allow(missing_docs, clippy::all)]\n\n");
    out.push_str("use serde::{Deserialize, Serialize};\n");
    // The limit checks the module uses, named once the module is written.
    out.push_str("use crate::validate::{Validate, Violation@CHECKS};\n\n");
    if let Some(prefix) = metadata.get("targetPrefix").and_then(Value::as_str) {
        let _ = writeln!(
            out,
            "/// The `X-Amz-Target` prefix of this service.\npub const TARGET_PREFIX: &str = {prefix:?};\n"
        );
    }
    // The signing name is the endpoint prefix unless the model says otherwise.
    let signing = metadata
        .get("signingName")
        .or_else(|| metadata.get("endpointPrefix"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "/// The SigV4 signing name of this service.\npub const SIGNING_NAME: &str = {signing:?};\n"
    );
    if query {
        let namespace = metadata
            .get("xmlNamespace")
            .and_then(Value::as_str)
            .ok_or_else(|| CodegenError::Model("a query model without xmlNamespace".into()))?;
        let _ = writeln!(
            out,
            "/// The namespace of this service's XML answers.\npub const XML_NAMESPACE: &str = {namespace:?};\n"
        );
    }
    gen_operations(&mut out, &operations, query)?;
    out.push_str("/// Every operation the model defines, generated or not.\npub const MODELLED_OPERATIONS: &[&str] = &[\n");
    for name in &modelled {
        let _ = writeln!(out, "    {name:?},");
    }
    out.push_str("];\n\n");
    let exceptions: BTreeSet<&String> = shapes
        .iter()
        .filter(|(_, s)| s.get("exception").is_some())
        .map(|(n, _)| n)
        .collect();
    out.push_str("/// Every error shape the model defines.\npub const EXCEPTIONS: &[&str] = &[\n");
    for e in &exceptions {
        let _ = writeln!(out, "    {e:?},");
    }
    out.push_str("];\n\n");

    let inputs: BTreeSet<&str> = operations
        .values()
        .filter_map(|op| op["input"]["shape"].as_str())
        .collect();
    let names: BTreeMap<&String, &Value> = shapes
        .iter()
        .filter(|(name, _)| generated.contains(name.as_str()))
        .collect();
    for (name, shape) in &names {
        if inputs.contains(name.as_str()) {
            gen_ctx.members(&mut out, name, shape)?;
        }
    }
    for (name, shape) in names {
        if shape.get("exception").is_some() {
            continue;
        }
        match shape["type"].as_str() {
            Some("structure") => gen_ctx.structure(&mut out, name, shape)?,
            Some("string") if shape.get("enum").is_some() => gen_enum(&mut out, name, shape),
            _ => {}
        }
    }
    let checks: String = ["check_len", "check_range"]
        .iter()
        .filter(|check| out.contains(&format!("{check}(")))
        .map(|check| format!(", {check}"))
        .collect();
    Ok(out.replacen("@CHECKS", &checks, 1))
}

struct Gen<'a> {
    shapes: &'a Map<String, Value>,
    /// Whether the service speaks the Query protocol (form in, XML out).
    query: bool,
    /// On the Query protocol, the shapes clients send (what the inputs reach): only theirs
    /// have non-optional required members. awsQuery clients require none of an answer's
    /// members, and AWS leaves some out (the root's GetUser answer has no UserName or Path).
    /// None: every shape's required members are non-optional.
    sent: Option<BTreeSet<String>>,
}

impl Gen<'_> {
    fn shape(&self, name: &str) -> Result<&Value, CodegenError> {
        self.shapes
            .get(name)
            .ok_or_else(|| CodegenError::Model(format!("unknown shape {name}")))
    }

    /// The Rust type for a member that targets `name`.
    fn rust_type(&self, name: &str) -> Result<String, CodegenError> {
        let shape = self.shape(name)?;
        Ok(match shape["type"].as_str().unwrap_or_default() {
            "structure" if shape.get("document").is_some() => "serde_json::Value".into(),
            "structure" => type_name(name),
            "string" if shape.get("enum").is_some() => type_name(name),
            "string" | "blob" => "String".into(),
            "integer" => "i32".into(),
            "long" => "i64".into(),
            "double" | "float" => "f64".into(),
            "boolean" => "bool".into(),
            // The XML codec knows a timestamp by its type, to write it in ISO 8601.
            "timestamp" if self.query => "crate::Timestamp".into(),
            "timestamp" => "f64".into(),
            "list" => format!("Vec<{}>", self.rust_type(member_shape(&shape["member"])?)?),
            "map" => format!(
                "std::collections::BTreeMap<String, {}>",
                self.rust_type(member_shape(&shape["value"])?)?
            ),
            other => return Err(CodegenError::Model(format!("{name}: type {other}"))),
        })
    }

    /// The shapes that `roots` reach. On the Query protocol, a shape that renames its members
    /// or flattens its lists is refused: the XML and form codecs follow the serde names, which
    /// are the members' own.
    fn reached<'r>(
        &self,
        roots: impl Iterator<Item = &'r str>,
    ) -> Result<BTreeSet<String>, CodegenError> {
        let mut reached = BTreeSet::new();
        let mut todo: Vec<&str> = roots.collect();
        while let Some(name) = todo.pop() {
            if !reached.insert(name.to_string()) {
                continue;
            }
            let shape = self.shape(name)?;
            let members = shape.get("members").and_then(Value::as_object);
            let parts = ["member", "key", "value"].map(|k| shape.get(k));
            let refs = members
                .into_iter()
                .flat_map(|m| m.values())
                .chain(parts.into_iter().flatten());
            for spec in refs {
                if self.query
                    && let Some(rename) = [
                        "locationName",
                        "flattened",
                        "xmlName",
                        "xmlAttribute",
                        "timestampFormat",
                    ]
                    .iter()
                    .find(|k| spec.get(**k).is_some() || shape.get(**k).is_some())
                {
                    return Err(CodegenError::Model(format!(
                        "{name} uses {rename}, which the Query codecs do not follow"
                    )));
                }
                todo.push(member_shape(spec)?);
            }
        }
        Ok(reached)
    }

    /// True when a structure reaches itself without a list or map in between (needs a Box).
    fn is_recursive(&self, from: &str, target: &str, seen: &mut BTreeSet<String>) -> bool {
        if !seen.insert(from.to_string()) {
            return false;
        }
        let Some(members) = self
            .shapes
            .get(from)
            .and_then(|s| s.get("members"))
            .and_then(Value::as_object)
        else {
            return false;
        };
        members.values().any(|m| {
            let to = m["shape"].as_str().unwrap_or_default();
            to == target || self.is_recursive(to, target, seen)
        })
    }

    fn structure(&self, out: &mut String, name: &str, shape: &Value) -> Result<(), CodegenError> {
        if shape.get("document").is_some() {
            return Ok(());
        }
        let required: BTreeSet<&str> = shape
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let empty = Map::new();
        let members = shape
            .get("members")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        doc(out, shape, "");
        out.push_str("#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]\n");
        let rust_name = type_name(name);
        let _ = writeln!(out, "pub struct {rust_name} {{");
        let mut checks = String::new();
        for (member, spec) in members {
            let target = member_shape(spec)?;
            let mut ty = self.rust_type(target)?;
            if ty == rust_name || self.is_recursive(target, name, &mut BTreeSet::new()) {
                ty = format!("Box<{ty}>");
            }
            let field = field_name(member);
            doc(out, spec, "    ");
            let is_required = required.contains(member.as_str())
                && self.sent.as_ref().is_none_or(|sent| sent.contains(name));
            if is_required {
                let _ = writeln!(out, "    #[serde(rename = {member:?})]");
                let _ = writeln!(out, "    pub {field}: {ty},");
            } else {
                let _ = writeln!(
                    out,
                    "    #[serde(rename = {member:?}, default, skip_serializing_if = \"Option::is_none\")]"
                );
                let _ = writeln!(out, "    pub {field}: Option<{ty}>,");
            }
            self.member_checks(&mut checks, member, &field, target, is_required)?;
        }
        out.push_str("}\n\n");
        let _ = writeln!(out, "impl Validate for {rust_name} {{");
        if checks.is_empty() {
            out.push_str("    fn validate(&self, _path: &str) -> Result<(), Violation> {\n        Ok(())\n    }\n}\n\n");
        } else {
            out.push_str("    fn validate(&self, path: &str) -> Result<(), Violation> {\n");
            out.push_str(&checks);
            out.push_str("        Ok(())\n    }\n}\n\n");
        }
        Ok(())
    }

    /// Emits the limit checks of one member, and recursion into nested structures.
    fn member_checks(
        &self,
        out: &mut String,
        member: &str,
        field: &str,
        target: &str,
        required: bool,
    ) -> Result<(), CodegenError> {
        let shape = self.shape(target)?;
        let kind = shape["type"].as_str().unwrap_or_default();
        let min = shape.get("min").and_then(Value::as_f64);
        let max = shape.get("max").and_then(Value::as_f64);
        let nested = match kind {
            "structure" if shape.get("document").is_none() => Some(false),
            "list" => {
                let inner = self.shape(member_shape(&shape["member"])?)?;
                (inner["type"] == "structure" && inner.get("document").is_none()).then_some(true)
            }
            _ => None,
        };
        let bound = |v: Option<f64>| match v {
            Some(x) => format!("Some({x:?})"),
            None => "None".into(),
        };
        let mut body = String::new();
        if min.is_some() || max.is_some() {
            let call = match kind {
                "string" | "list" | "map" => "check_len(v.len()",
                // A blob travels as base64; its limits are on the bytes it decodes to.
                "blob" => {
                    "check_len((v.len() / 4 * 3).saturating_sub(v.bytes().rev().take_while(|b| *b == b'=').count())"
                }
                _ => "check_range(*v as f64",
            };
            let _ = writeln!(
                body,
                "            {call}, {}, {}, &format!(\"{{path}}{member}\"))?;",
                bound(min),
                bound(max)
            );
        }
        match nested {
            Some(false) => {
                let _ = writeln!(
                    body,
                    "            v.validate(&format!(\"{{path}}{member}.\"))?;"
                );
            }
            Some(true) => {
                let _ = writeln!(
                    body,
                    "            for (i, item) in v.iter().enumerate() {{ item.validate(&format!(\"{{path}}{member}[{{i}}].\"))?; }}"
                );
            }
            None => {}
        }
        if body.is_empty() {
            return Ok(());
        }
        if required {
            let _ = writeln!(out, "        {{\n            let v = &self.{field};");
            out.push_str(&body);
            out.push_str("        }\n");
        } else {
            let _ = writeln!(out, "        if let Some(v) = &self.{field} {{");
            out.push_str(&body);
            out.push_str("        }\n");
        }
        Ok(())
    }
}

impl Gen<'_> {
    /// Emits the `Members` impl of an operation's input: its string members and its lists of
    /// strings, by wire name.
    fn members(&self, out: &mut String, name: &str, shape: &Value) -> Result<(), CodegenError> {
        let required: BTreeSet<&str> = shape
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let (mut texts, mut lists) = (String::new(), String::new());
        let empty = Map::new();
        let members = shape
            .get("members")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (member, spec) in members {
            let target = self.shape(member_shape(spec)?)?;
            let field = field_name(member);
            let optional = !required.contains(member.as_str());
            let is_text = |s: &Value| s["type"] == "string" && s.get("enum").is_none();
            if is_text(target) {
                let read = if optional {
                    format!("self.{field}.as_deref()")
                } else {
                    format!("Some(self.{field}.as_str())")
                };
                let _ = writeln!(texts, "            {member:?} => {read},");
            } else if target["type"] == "list"
                && is_text(self.shape(member_shape(&target["member"])?)?)
            {
                let read = if optional {
                    format!("self.{field}.as_deref()")
                } else {
                    format!("Some(self.{field}.as_slice())")
                };
                let _ = writeln!(lists, "            {member:?} => {read},");
            }
        }
        let _ = writeln!(
            out,
            "impl crate::request::Members for {} {{",
            type_name(name)
        );
        for (method, ty, arms) in [("text", "&str", texts), ("list", "&[String]", lists)] {
            if arms.is_empty() {
                let _ = writeln!(
                    out,
                    "    fn {method}(&self, _member: &str) -> Option<{ty}> {{\n        None\n    }}"
                );
            } else {
                let _ = writeln!(
                    out,
                    "    fn {method}(&self, member: &str) -> Option<{ty}> {{\n        match member {{\n{arms}            _ => None,\n        }}\n    }}"
                );
            }
        }
        out.push_str("}\n\n");
        Ok(())
    }
}

fn member_shape(spec: &Value) -> Result<&str, CodegenError> {
    spec["shape"]
        .as_str()
        .ok_or_else(|| CodegenError::Model("member without shape".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use names::variant_name;

    #[test]
    fn names() {
        assert_eq!(field_name("containerInstanceArn"), "container_instance_arn");
        assert_eq!(field_name("bindIP"), "bind_ip");
        assert_eq!(field_name("type"), "r#type");
        assert_eq!(
            field_name("enableECSManagedTags"),
            "enable_ecs_managed_tags"
        );
        assert_eq!(variant_name("DELETE_IN_PROGRESS"), "DeleteInProgress");
        assert_eq!(variant_name("memberOf"), "MemberOf");
        assert_eq!(variant_name("EC2"), "Ec2");
        assert_eq!(type_name("statusType"), "StatusType");
        assert_eq!(type_name("User"), "User");
    }

    /// The committed generated files match what the models generate now.
    #[test]
    fn generated_files_are_fresh() {
        let dir = types_crate_dir();
        for t in TARGETS {
            let fresh = generate_target(t).expect("model parses");
            let committed = std::fs::read_to_string(dir.join(t.output)).unwrap_or_default();
            assert!(
                committed == fresh,
                "{} is stale: run `cargo run -p berth-codegen`",
                t.output
            );
        }
    }
}
