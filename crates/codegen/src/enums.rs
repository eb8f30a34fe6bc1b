//! A Rust enum per `string` shape with an `enum` list: its values, their wire names, and parsing.

use crate::names::{doc, type_name, variant_name};
use serde_json::Value;
use std::fmt::Write;

/// Emits the enum of the string shape `name`.
pub(crate) fn gen_enum(out: &mut String, name: &str, shape: &Value) {
    let name = &type_name(name);
    let values: Vec<&str> = shape["enum"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut variants: Vec<String> = Vec::new();
    for v in &values {
        let mut variant = variant_name(v);
        while variants.contains(&variant) {
            variant.push('_');
        }
        variants.push(variant);
    }
    doc(out, shape, "");
    out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]\n");
    let _ = writeln!(out, "pub enum {name} {{");
    for (i, (v, variant)) in values.iter().zip(&variants).enumerate() {
        // The first value is the default only so that structures can derive Default.
        let default = if i == 0 { "#[default]\n    " } else { "" };
        let _ = writeln!(out, "    {default}#[serde(rename = {v:?})]\n    {variant},");
    }
    out.push_str("}\n\n");
    let _ = writeln!(out, "impl {name} {{");
    out.push_str("    /// Every value the model allows, in model order.\n");
    let _ = writeln!(out, "    pub const ALL: &'static [{name}] = &[");
    for variant in &variants {
        let _ = writeln!(out, "        {name}::{variant},");
    }
    out.push_str("    ];\n\n    /// The value as it appears on the wire.\n");
    out.push_str("    pub fn as_str(&self) -> &'static str {\n        match self {\n");
    for (v, variant) in values.iter().zip(&variants) {
        let _ = writeln!(out, "            {name}::{variant} => {v:?},");
    }
    out.push_str("        }\n    }\n\n    /// Parses the wire value.\n");
    out.push_str("    pub fn from_wire(s: &str) -> Option<Self> {\n");
    out.push_str("        Self::ALL.iter().copied().find(|v| v.as_str() == s)\n    }\n}\n\n");
    let _ = writeln!(
        out,
        "impl std::fmt::Display for {name} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        f.write_str(self.as_str())\n    }}\n}}\n"
    );
}
