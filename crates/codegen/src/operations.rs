//! The `Operation` and `Request` enums of a service: every operation Berth generates, by name,
//! and each one's typed input, decoded once.

use crate::CodegenError;
use crate::names::type_name;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Emits the `Operation` and `Request` enums of a service.
///
/// On the Query protocol (`query`) an operation is named by the form's `Action` parameter, and
/// its answer is wrapped in the element the model's `resultWrapper` names; EC2's (`ec2`) has no
/// wrapper, but an operation without output answers `<return>true</return>`.
pub(crate) fn gen_operations(
    out: &mut String,
    operations: &Map<String, Value>,
    query: bool,
    ec2: bool,
) -> Result<(), CodegenError> {
    let ops: BTreeMap<&String, &str> = operations
        .iter()
        .map(|(name, op)| {
            op["input"]["shape"]
                .as_str()
                .map(|input| (name, input))
                .ok_or_else(|| CodegenError::Model(format!("operation {name} has no input")))
        })
        .collect::<Result<_, _>>()?;
    out.push_str("/// One operation of this service.\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\npub enum Operation {\n");
    for op in ops.keys() {
        let _ = writeln!(out, "    {op},");
    }
    out.push_str("}\n\nimpl Operation {\n    /// Every operation, in name order.\n    pub const ALL: &'static [Operation] = &[\n");
    for op in ops.keys() {
        let _ = writeln!(out, "        Operation::{op},");
    }
    let carrier = if query {
        "the `Action` parameter"
    } else {
        "`X-Amz-Target`"
    };
    let _ = write!(
        out,
        "    ];\n\n    /// The operation's name, as {carrier} carries it.\n    pub fn name(self) -> &'static str {{\n        match self {{\n"
    );
    for op in ops.keys() {
        let _ = writeln!(out, "            Operation::{op} => {op:?},");
    }
    out.push_str("        }\n    }\n\n    /// The operation named `name`.\n    pub fn from_name(name: &str) -> Option<Self> {\n        match name {\n");
    for op in ops.keys() {
        let _ = writeln!(out, "            {op:?} => Some(Operation::{op}),");
    }
    out.push_str("            _ => None,\n        }\n    }\n");
    if ec2 {
        outputs(out, operations);
    } else if query {
        result_wrappers(out, operations);
    }
    out.push_str("}\n\n");
    out.push_str("/// A request of this service: its operation and typed input.\n#[derive(Debug, Clone, PartialEq)]\npub enum Request {\n");
    for (op, input) in &ops {
        let _ = writeln!(out, "    {op}({}),", type_name(input));
    }
    out.push_str("}\n\nimpl Request {\n    /// The request's operation.\n    pub fn operation(&self) -> Operation {\n        match self {\n");
    for op in ops.keys() {
        let _ = writeln!(out, "            Request::{op}(_) => Operation::{op},");
    }
    out.push_str("        }\n    }\n\n    /// Decodes `body` as the input of `operation`.\n    pub fn decode<D: crate::request::Decoder>(operation: Operation, body: &[u8], decoder: &D) -> Result<Self, crate::ApiError> {\n        Ok(match operation {\n");
    for op in ops.keys() {
        let _ = writeln!(
            out,
            "            Operation::{op} => Request::{op}(decoder.decode(body)?),"
        );
    }
    out.push_str("        })\n    }\n\n    /// The input's string members, read by name.\n    pub fn members(&self) -> &dyn crate::request::Members {\n        match self {\n");
    for op in ops.keys() {
        let _ = writeln!(out, "            Request::{op}(input) => input,");
    }
    out.push_str("        }\n    }\n}\n\n");
    Ok(())
}

/// `Operation::result_wrapper`: the element of a Query-protocol answer that holds the output's
/// members (`CreateUserResult`), None for an operation without output.
fn result_wrappers(out: &mut String, operations: &Map<String, Value>) {
    out.push_str("\n    /// The element holding the output's members in the answer, if it has an output.\n    pub fn result_wrapper(self) -> Option<&'static str> {\n        match self {\n");
    let ops: BTreeMap<&String, Option<&str>> = operations
        .iter()
        .map(|(name, op)| (name, op["output"]["resultWrapper"].as_str()))
        .collect();
    for (op, wrapper) in ops {
        let _ = writeln!(out, "            Operation::{op} => {wrapper:?},");
    }
    out.push_str("        }\n    }\n");
}

/// `Operation::has_output`: whether an EC2 operation has an output shape (those without answer
/// `<return>true</return>`).
fn outputs(out: &mut String, operations: &Map<String, Value>) {
    out.push_str("\n    /// Whether the operation has an output shape.\n    pub fn has_output(self) -> bool {\n        match self {\n");
    let ops: BTreeMap<&String, bool> = operations
        .iter()
        .map(|(name, op)| (name, op.get("output").is_some()))
        .collect();
    for (op, output) in ops {
        let _ = writeln!(out, "            Operation::{op} => {output},");
    }
    out.push_str("        }\n    }\n");
}
